-- protocmc site filter: pandoc Markdown -> HTML that is safe to publish.
--
-- The reader already has raw HTML, raw attributes and raw TeX turned off, so anything a
-- product file types as <script> is text. This filter closes what is left:
--   * links keep only http(s), mailto, in-page (#...) and relative targets; any other scheme
--     (javascript:, data:, vbscript:, file:, ...) becomes plain text with class "unsafe-link";
--   * images keep only relative sources (the site works offline); others become their alt text;
--   * attributes (`{onclick=... style=...}`) are dropped: only ids and classes survive;
--   * every insertion point [<...>]{.insertion} gets a stable id ins-1, ins-2, ... in document
--     order, so the open-placeholders page can link to it;
--   * each top-level heading is preceded by a marker comment, so the site can give MkDocs
--     real Markdown headings (its table of contents) and keep the rest as HTML.

local HEADING_MARK = "<!--protocmc-heading-->"

-- The scheme of a URL as a browser would read it (control characters and spaces removed,
-- lower case), or nil for relative and in-page targets.
local function scheme(url)
  local squeezed = url:gsub("[%c%s]", "")
  local s = squeezed:match("^([%a][%w+.%-]*):")
  if s then
    return s:lower()
  end
  return nil
end

local function safe_link(url)
  local s = scheme(url)
  return s == nil or s == "http" or s == "https" or s == "mailto"
end

local function safe_image(url)
  return scheme(url) == nil and not url:match("^%s*//")
end

local function clean(el)
  el.attributes = {}
  return el
end

local insertion_count = 0

local function span(el)
  clean(el)
  if el.classes:includes("insertion") then
    insertion_count = insertion_count + 1
    el.identifier = "ins-" .. insertion_count
  end
  return el
end

local function link(el)
  clean(el)
  if safe_link(el.target) then
    return el
  end
  return pandoc.Span(el.content, pandoc.Attr("", { "unsafe-link" }))
end

local function image(el)
  clean(el)
  if safe_image(el.src) then
    return el
  end
  return pandoc.Span(el.caption, pandoc.Attr("", { "unsafe-image" }))
end

local function clean_cells(rows)
  for _, row in ipairs(rows) do
    row.attr = pandoc.Attr(row.identifier, row.classes)
    for _, cell in ipairs(row.cells) do
      cell.attr = pandoc.Attr(cell.identifier, cell.classes)
    end
  end
end

local function table_(el)
  clean(el)
  clean_cells(el.head.rows)
  for _, body in ipairs(el.bodies) do
    clean_cells(body.head)
    clean_cells(body.body)
  end
  clean_cells(el.foot.rows)
  return el
end

local function holds_heading(div)
  for _, block in ipairs(div.content) do
    if block.t == "Header" or (block.t == "Div" and holds_heading(block)) then
      return true
    end
  end
  return false
end

-- Top-level blocks; a div that holds a heading (such as the Word draft's landscape sections)
-- is opened up, so its headings stay in the page's table of contents.
local function flatten(blocks, out)
  for _, block in ipairs(blocks) do
    if block.t == "Div" and holds_heading(block) then
      flatten(block.content, out)
    else
      if block.t == "Header" then
        out:insert(pandoc.RawBlock("html", HEADING_MARK))
      end
      out:insert(block)
    end
  end
  return out
end

local function mark_headings(doc)
  doc.blocks = flatten(doc.blocks, pandoc.Blocks({}))
  return doc
end

-- Documents are walked in order (topdown) so insertion ids follow the reading order.
return {
  {
    traverse = "topdown",
    Span = span,
    Link = link,
    Image = image,
    Div = clean,
    Header = clean,
    Code = clean,
    CodeBlock = clean,
    Figure = clean,
    Table = table_,
  },
  { Pandoc = mark_headings },
}
