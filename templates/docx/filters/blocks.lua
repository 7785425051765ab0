--[[
protocmc: block-level constructs of the protocol Markdown.

  ::: {.title-page}   centred Title paragraph + "Title Page Table" of fields, then a page break
                      and a `protocmc-toc` marker div (headings.lua puts the TOC there)
  ::: {.page-break}   explicit page break
  ::: {.landscape}    its content in a landscape section (export completes the w:sectPr
                      elements with margins, header and footer from reference.docx)
  ::: {.note}         paragraphs in the "Reviewer Note" style

Runs before headings.lua and tables.lua.
]]

local PAGE_BREAK = '<w:p><w:pPr><w:spacing w:before="0" w:after="0"/></w:pPr>'
  .. '<w:r><w:br w:type="page"/></w:r></w:p>'

local function section_end(orient)
  return pandoc.RawBlock('openxml',
    '<w:p><w:pPr><w:spacing w:before="0" w:after="0"/><w:sectPr><w:pgSz w:orient="'
    .. orient .. '"/></w:sectPr></w:pPr></w:p>')
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
  out:insert(pandoc.Div({}, {class = 'protocmc-toc'}))
  return out
end

function Div(div)
  if div.classes:includes('title-page') then
    return title_page(div)
  elseif div.classes:includes('page-break') then
    local out = pandoc.Blocks{pandoc.RawBlock('openxml', PAGE_BREAK)}
    out:extend(div.content)
    return out
  elseif div.classes:includes('landscape') then
    local out = pandoc.Blocks{section_end('portrait')}
    out:extend(div.content)
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

return {{Span = Span}, {Div = Div}}
