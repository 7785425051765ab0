--[[
protocmc: block-level constructs of the protocol Markdown.

  ::: {.title-page}   centred Title paragraph + "Title Page Table" of fields, then a page break
  ::: {.amendment-details}  (an amended protocol) its content, then a page break
                      after the last of the two, a `protocmc-toc` marker div (headings.lua puts
                      the TOC there): M11 order is title page, amendment details, contents
  ::: {.page-break}   explicit page break
  ::: {.landscape}    its content in a landscape section (export completes the w:sectPr
                      elements with margins, header and footer from reference.docx)
  ::: {.note}         paragraphs in the "Reviewer Note" style

First, a heading written straight after a list item line (pandoc reads it into the item) is
taken out: the list closes there, as the review site shows it.

Last, outside those divs and outside tables, every paragraph gets a style:

  a list              its loose items (Para) in "Body Text" (pandoc leaves them unstyled;
                      tight items stay "Compact")
  **bold line**       a paragraph that is one bold run (a lead-in such as "At screening")
                      in "Block Label": bold, kept with what follows, not a heading

Runs before headings.lua and tables.lua.
]]

local PAGE_BREAK = '<w:p><w:pPr><w:pStyle w:val="Normal"/><w:spacing w:before="0" w:after="0"/>'
  .. '</w:pPr><w:r><w:br w:type="page"/></w:r></w:p>'

local function section_end(orient)
  return pandoc.RawBlock('openxml',
    '<w:p><w:pPr><w:pStyle w:val="Normal"/><w:spacing w:before="0" w:after="0"/>'
    .. '<w:sectPr><w:pgSz w:orient="' .. orient .. '"/></w:sectPr></w:pPr></w:p>')
end

local function styled(blocks, style)
  return pandoc.Div(blocks, {['custom-style'] = style})
end

-- the docx writer styles Plain blocks in cells "Compact" whatever the enclosing div says
local function as_paras(blocks)
  return blocks:walk{Plain = function(p) return pandoc.Para(p.content) end}
end

local function title_table(tbl)
  tbl.attributes['custom-style'] = 'TitlePageTable'  -- a styleId: used verbatim as w:tblStyle
  local ncols = #tbl.colspecs
  if ncols == 2 then
    tbl.colspecs[1] = {tbl.colspecs[1][1], 0.32}
    tbl.colspecs[2] = {tbl.colspecs[2][1], 0.68}
  end
  local function style_rows(rows)
    for _, row in ipairs(rows) do
      for i, cell in ipairs(row.cells) do
        local style = (i == 1 and ncols > 1) and 'Title Page Label' or 'Title Page Value'
        cell.contents = {styled(as_paras(cell.contents), style)}
      end
    end
  end
  style_rows(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do style_rows(body.body) end
  tbl.classes:insert('protocmc-styled')
  return tbl
end

local function title_page(div)
  local out = pandoc.Blocks{}
  local title_done = false
  for _, block in ipairs(div.content) do
    if block.t == 'Table' then
      out:insert(title_table(block))
    elseif not title_done and (block.t == 'Para' or block.t == 'Plain') then
      out:insert(styled({pandoc.Para(block.content)}, 'Title'))
      title_done = true
    else
      out:insert(block)
    end
  end
  out:insert(pandoc.RawBlock('openxml', PAGE_BREAK))
  return out
end

-- The TOC marker goes after the amendment details when there are any, else after the title
-- page (both top-level divs; the first filter, before the divs are replaced).
local function mark_toc(doc)
  local after = nil
  for i, block in ipairs(doc.blocks) do
    if block.t == 'Div' and (block.classes:includes('title-page')
        or block.classes:includes('amendment-details')) then
      after = i
    end
  end
  if after ~= nil then
    -- after the amendment details the contents start a page themselves (a break paragraph
    -- after a table that fills the page would spill over and leave a blank page)
    local classes = {'protocmc-toc'}
    if doc.blocks[after].classes:includes('amendment-details') then
      classes = {'protocmc-toc', 'page-before'}
    end
    doc.blocks:insert(after + 1, pandoc.Div({}, pandoc.Attr('', classes)))
  end
  return doc
end

function Div(div)
  if div.classes:includes('title-page') then
    return title_page(div)
  elseif div.classes:includes('amendment-details') then
    return div.content  -- the contents after it start on a new page (mark_toc, headings.lua)
  elseif div.classes:includes('page-break') then
    local out = pandoc.Blocks{pandoc.RawBlock('openxml', PAGE_BREAK)}
    out:extend(div.content)
    return out
  elseif div.classes:includes('landscape') then
    local out = pandoc.Blocks{section_end('portrait')}
    -- tables.lua sizes columns for the wider page
    out:extend(div.content:walk{Table = function(tbl)
      tbl.classes:insert('protocmc-landscape')
      return tbl
    end})
    out:insert(section_end('landscape'))
    return out
  elseif div.classes:includes('note') then
    return styled(div.content, 'Reviewer Note')
  end
end

function Span(span)
  if span.classes:includes('insertion') then
    -- pandoc's docx writer would turn `.insertion` into a tracked change
    return pandoc.Span(span.content, {['custom-style'] = 'Insertion Point'})
  elseif span.classes:includes('verify') then
    return pandoc.Span(span.content, {['custom-style'] = 'Needs Verification'})
  end
end

-- A heading written straight after a list item line (no blank line) is read as part of the
-- item; in Word it would be a numbered list paragraph in a heading style. Close the list there.
local function tight(items, except)
  for k, item in ipairs(items) do
    if k ~= except and not (#item == 1 and item[1].t == 'Plain') then return false end
  end
  return true
end

local function hoist_headings(blocks)
  local out = pandoc.Blocks{}
  for _, block in ipairs(blocks) do
    local cut = nil
    if block.t == 'BulletList' or block.t == 'OrderedList' then
      for i, item in ipairs(block.content) do
        for j, inner in ipairs(item) do
          if inner.t == 'Header' then cut = {i, j} break end
        end
        if cut then break end
      end
    end
    if not cut then
      out:insert(block)
    else
      local i, j = cut[1], cut[2]
      local items, tail, later = {}, pandoc.Blocks{}, {}
      for k = 1, i - 1 do items[#items + 1] = block.content[k] end
      local head = pandoc.Blocks{}
      for k, inner in ipairs(block.content[i]) do
        if k < j then head:insert(inner) else tail:insert(inner) end
      end
      if #head > 0 then
        -- the heading made pandoc read a tight list as loose: tight again if the rest is
        if #head == 1 and head[1].t == 'Para' and tight(block.content, i) then
          head[1] = pandoc.Plain(head[1].content)
        end
        items[#items + 1] = head
      end
      for k = i + 1, #block.content do later[#later + 1] = block.content[k] end
      if #items > 0 then
        local first = block:clone()
        first.content = items
        out:insert(first)
      end
      out:extend(hoist_headings(tail))
      if #later > 0 then
        local rest = block:clone()
        rest.content = later
        if rest.t == 'OrderedList' then rest.start = block.start + i end
        out:extend(hoist_headings({rest}))
      end
    end
  end
  return out
end

local function has_heading_in_list(blocks)
  for _, block in ipairs(blocks) do
    if block.t == 'BulletList' or block.t == 'OrderedList' then
      for _, item in ipairs(block.content) do
        for _, inner in ipairs(item) do
          if inner.t == 'Header' then return true end
        end
      end
    end
  end
  return false
end

local function hoist_filter(blocks)
  if has_heading_in_list(blocks) then return hoist_headings(blocks) end
end

local function is_label(para)
  local strong = 0
  for _, el in ipairs(para.content) do
    if el.t == 'Strong' then
      strong = strong + 1
    elseif not (el.t == 'Space' or el.t == 'SoftBreak'
        or (el.t == 'Span' and el.classes:includes('review'))) then
      return false
    end
  end
  return strong == 1
end

-- Top-down, so styled divs (notes, title page) and tables keep their own paragraph styles.
local paragraph_styles = {
  traverse = 'topdown',
  Div = function(div)
    if div.attributes['custom-style'] then return nil, false end
  end,
  Table = function() return nil, false end,
  BulletList = function(list) return styled({list}, 'Body Text'), false end,
  OrderedList = function(list) return styled({list}, 'Body Text'), false end,
  Para = function(para)
    if is_label(para) then return styled({para}, 'Block Label'), false end
  end,
}

return {{Pandoc = mark_toc}, {Blocks = hoist_filter}, {Span = Span}, {Div = Div}, paragraph_styles}
