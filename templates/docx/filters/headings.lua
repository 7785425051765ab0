--[[
protocmc: headings for the Word export.

* Numbered headings (level 1-4) carry their M11 number as literal text ("1.1.2 Overall Design").
  Word numbers them from the multilevel list attached to the Heading 1-4 styles of
  reference.docx, so the literal number is removed here -- after checking that it equals the
  number Word will show. Any mismatch (a skipped or repeated number, a number at the wrong
  level) stops the export with one line per heading:
      PROTOCMC-HEADING<TAB>literal<TAB>expected<TAB>heading text
* Headings with the class `unnumbered` become paragraphs in "Heading N Unnumbered" (same look,
  outline level kept for the table of contents, no list number); their identifier stays a
  bookmark.
* The Word table of contents (a TOC field, refreshed by Word on open) replaces a heading whose
  identifier is `table-of-contents` or that has the class `toc`; without such a heading it goes
  after the title page (see blocks.lua, which leaves a `protocmc-toc` marker there).
]]

local MAX_NUMBERED = 4

local function xml_escape(text)
  return (text:gsub('&', '&amp;'):gsub('<', '&lt;'):gsub('>', '&gt;'))
end

-- same structure as pandoc's own --toc (a "Table of Contents" content control), which Word
-- and LibreOffice both recognise as a table of contents; w:dirty asks Word to rebuild it
local PAGE_BREAK = '<w:p><w:pPr><w:pStyle w:val="Normal"/><w:spacing w:before="0" w:after="0"/>'
  .. '</w:pPr><w:r><w:br w:type="page"/></w:r></w:p>'

local function toc_blocks(title_inlines, page_before)
  local title = xml_escape(pandoc.utils.stringify(title_inlines))
  local before = page_before and '<w:pageBreakBefore/>' or ''
  local xml = '<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/>'
    .. '<w:docPartUnique/></w:docPartObj></w:sdtPr><w:sdtContent>'
    .. '<w:p><w:pPr><w:pStyle w:val="TOCHeading"/>' .. before .. '</w:pPr>'
    .. '<w:r><w:t xml:space="preserve">' .. title .. '</w:t></w:r></w:p>'
    .. '<w:p><w:pPr><w:pStyle w:val="TOC1"/></w:pPr>'
    .. '<w:r><w:fldChar w:fldCharType="begin" w:dirty="true"/>'
    .. '<w:instrText xml:space="preserve">TOC \\o &quot;1-3&quot; \\h \\z \\u</w:instrText>'
    .. '<w:fldChar w:fldCharType="separate"/><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    .. '</w:sdtContent></w:sdt>'
    .. '<w:p><w:pPr><w:pStyle w:val="Normal"/><w:spacing w:before="0" w:after="0"/></w:pPr>'
    .. '<w:r><w:br w:type="page"/></w:r></w:p>'
  return pandoc.RawBlock('openxml', xml)
end

local function is_toc_heading(h)
  return h.identifier == 'table-of-contents' or h.classes:includes('toc')
end

local function strip_number(h)
  -- returns the literal number (or nil) and removes it with the following space
  local first = h.content[1]
  if not first or first.t ~= 'Str' then return nil end
  local literal = first.text:match('^(%d+[%.%d]*)$')
  if not literal then return nil end
  local second = h.content[2]
  if not second or (second.t ~= 'Space' and second.t ~= 'SoftBreak') then return nil end
  h.content:remove(1)
  h.content:remove(1)
  return (literal:gsub('%.$', ''))
end

function Pandoc(doc)
  local counters = {0, 0, 0, 0}
  local problems = {}
  local has_toc_heading = false
  local toc_title = doc.meta['toc-title'] or pandoc.Inlines('Table of Contents')

  for _, block in ipairs(doc.blocks) do
    if block.t == 'Header' and is_toc_heading(block) then has_toc_heading = true end
  end

  local function heading(h)
    if is_toc_heading(h) then
      return toc_blocks(h.content)
    end
    if h.classes:includes('unnumbered') then
      local level = math.min(h.level, MAX_NUMBERED)
      local inlines = pandoc.Inlines{}
      if h.identifier ~= '' then
        inlines:insert(pandoc.Span({}, {id = h.identifier}))
      end
      inlines:extend(h.content)
      return pandoc.Div({pandoc.Para(inlines)},
        {['custom-style'] = 'Heading ' .. level .. ' Unnumbered'})
    end
    if h.level > MAX_NUMBERED then return nil end
    counters[h.level] = counters[h.level] + 1
    for i = h.level + 1, MAX_NUMBERED do counters[i] = 0 end
    local parts = {}
    for i = 1, h.level do parts[i] = tostring(counters[i]) end
    local expected = table.concat(parts, '.')
    local literal = strip_number(h)
    if literal and literal ~= expected then
      problems[#problems + 1] = table.concat(
        {'PROTOCMC-HEADING', literal, expected, pandoc.utils.stringify(h.content)}, '\t')
    end
    return h
  end

  local blocks = pandoc.Blocks{}
  for _, block in ipairs(doc.blocks) do
    if block.t == 'Header' then
      blocks:insert(heading(block))
    elseif block.t == 'Div' and block.classes:includes('protocmc-toc') then
      local page_before = block.classes:includes('page-before')
      if not has_toc_heading then
        blocks:insert(toc_blocks(toc_title, page_before))
      elseif page_before then
        blocks:insert(pandoc.RawBlock('openxml', PAGE_BREAK))
      end
    else
      blocks:insert(block)
    end
  end
  if #problems > 0 then
    error('\n' .. table.concat(problems, '\n') .. '\n')
  end
  doc.blocks = blocks
  return doc
end
