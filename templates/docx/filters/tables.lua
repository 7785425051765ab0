--[[
protocmc: tables in the Word export.

* Every table (except the title-page table, already styled by blocks.lua) gets the "Protocol
  Table" table style; header cells get the "Table Heading" paragraph style and body cells
  "Table Text" (9 pt), so the look does not depend on a renderer applying table-style fonts.
  An empty cell still holds one "Table Text" paragraph. Header rows repeat on each page (pandoc
  writes w:tblHeader); export keeps rows from splitting across pages and scales the columns to
  the page's text width.
* Column widths come from the content, never from the Markdown: pandoc sizes pipe tables from
  the dash counts of the separator row (only when a line is longer than --columns), which our
  templates do not use as a layout instruction. Each column gets at least its longest word and
  at most its longest line; in between, widths go where they make the table shortest (see
  `distribute`).
* A table caption is one line: text after a line break in the caption ("Notes to the table:"
  written without a blank line before it) becomes a paragraph after the table.
* Two tables in a row, the second without a caption, are kept apart by an empty body
  paragraph (Word would merge them).
]]

-- the docx writer styles Plain blocks in cells "Compact" whatever the enclosing div says
local function as_paras(blocks)
  return blocks:walk{Plain = function(p) return pandoc.Para(p.content) end}
end

local function styled_cell(contents, style)
  local blocks
  if #contents == 1 and contents[1].t == 'Plain' then
    blocks = pandoc.Blocks{pandoc.Para(contents[1].content)}  -- nearly every cell: no walk
  else
    blocks = as_paras(pandoc.Blocks(contents))
  end
  if #blocks == 0 then
    -- pandoc writes a bare <w:p/> for an empty cell; an empty Str keeps the paragraph styled
    blocks = pandoc.Blocks{pandoc.Para{pandoc.Str('')}}
  end
  return {pandoc.Div(blocks, {['custom-style'] = style})}
end

local function style_cells(rows, style)
  for _, row in ipairs(rows) do
    for _, cell in ipairs(row.cells) do
      cell.contents = styled_cell(cell.contents, style)
    end
  end
end

-- ------------------------------------------------------------------ column widths

-- Advance widths of Arial (and of Liberation Sans, metric-compatible with it) in 1/1000 em,
-- regular and bold, for U+0020..U+007E and the other characters our drafts use; anything else
-- counts as a digit (556). Widths below are in these units at the 9 pt of "Table Text".
local ASCII_REGULAR = {
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556,
  556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722,
  722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722,
  667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556,
  556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500,
  500, 334, 260, 334, 584}
local ASCII_BOLD = {
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556,
  556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722,
  722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722,
  667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611,
  611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556,
  500, 389, 280, 389, 584}
local OTHER = {  -- code point -> {regular, bold}
  [0xB0] = {400, 400}, [0xB1] = {549, 549}, [0xB2] = {333, 333}, [0xB3] = {333, 333},
  [0xB5] = {576, 576}, [0xB7] = {278, 278}, [0xD7] = {584, 584}, [0xE9] = {556, 556},
  [0x3B1] = {578, 615}, [0x3B2] = {575, 610}, [0x3B3] = {500, 556}, [0x3B4] = {557, 606},
  [0x3B5] = {446, 475}, [0x3B6] = {441, 460}, [0x3B8] = {556, 541}, [0x3BA] = {500, 558},
  [0x3BB] = {500, 556}, [0x3BC] = {576, 612}, [0x3C0] = {690, 766}, [0x3C3] = {617, 684},
  [0x3C6] = {648, 715}, [0x394] = {668, 719}, [0x2013] = {556, 556}, [0x2014] = {1000, 1000},
  [0x2018] = {222, 278}, [0x2019] = {222, 278}, [0x201C] = {333, 500}, [0x201D] = {333, 500},
  [0x2022] = {350, 350}, [0x2026] = {1000, 1000}, [0x2070] = {365, 365}, [0xB9] = {333, 333},
  [0x2074] = {365, 365}, [0x2075] = {365, 365}, [0x2076] = {365, 365}, [0x2077] = {365, 365},
  [0x2078] = {365, 365}, [0x2079] = {365, 365}, [0x207B] = {365, 365}, [0x2080] = {365, 365},
  [0x2081] = {365, 365}, [0x2082] = {365, 365}, [0x2083] = {365, 365}, [0x2192] = {1000, 1000},
  [0x2212] = {584, 584}, [0x2264] = {549, 549}, [0x2265] = {549, 549}, [0xA7] = {556, 556},
  [0x20AC] = {556, 556}, [0xA3] = {556, 556}, [0xAE] = {737, 737}, [0xA9] = {737, 737},
  [0x2122] = {1000, 1000},
}
local DEFAULT_ADVANCE = 556
local SLACK = 1.04          -- renderers kern and round differently: keep words clear of the edge
local TWIPS_PER_UNIT = 0.18 -- 9 pt = 180 twips per em
local CELL_MARGINS = 944    -- "Protocol Table" cell margins, left + right (170 twips)
local LONGEST_WORD_CAP = 14000 -- a longer token (a URL) may break rather than widen its column

local function advance(code, bold)
  if code >= 32 and code <= 126 then
    return (bold and ASCII_BOLD or ASCII_REGULAR)[code - 31]
  end
  local widths = OTHER[code]
  if widths then return widths[bold and 2 or 1] end
  return DEFAULT_ADVANCE
end

local measured = {[false] = {}, [true] = {}}  -- the same texts recur in many cells

local function text_width(text, bold)
  local width = measured[bold][text]
  if width then return width end
  width = 0
  for _, code in utf8.codes(text) do width = width + advance(code, bold) end
  width = width * SLACK
  measured[bold][text] = width
  return width
end

-- Text block widths in these units, portrait and landscape (export passes the paper's as
-- writer variables; the defaults are US Letter with 2.5 cm margins).
local function line_widths()
  local vars = PANDOC_WRITER_OPTIONS and PANDOC_WRITER_OPTIONS.variables or {}
  local portrait = tonumber(tostring(vars['protocmc-text-width'] or '')) or 9406
  local landscape = tonumber(tostring(vars['protocmc-text-height'] or '')) or 13006
  return {portrait = portrait / TWIPS_PER_UNIT, landscape = landscape / TWIPS_PER_UNIT}
end
local LINE_WIDTH = line_widths()

local has_review_marks = false  -- set by the first pass

local function text_of(cell)
  if not has_review_marks then return pandoc.utils.stringify(cell.contents) end
  -- a review mark becomes a comment, not cell text
  return pandoc.utils.stringify(pandoc.Blocks(cell.contents):walk{Span = function(span)
    if span.classes:includes('review') then return {} end
  end})
end

-- a body cell whose text is set in bold ("**Missing**") is measured in bold
local function is_bold(cell)
  local first = cell.contents[1]
  if not first or (first.t ~= 'Plain' and first.t ~= 'Para') then return false end
  for _, el in ipairs(first.content) do
    if el.t == 'Strong' then return true end
  end
  return false
end

-- Word may break a word after a hyphen; we allow for it between two real words only
-- ("fit-for-purpose", "Replication-competent"), never in a lot number, a code or a date
-- ("PCT19-001", "PNK-DEV-01", "2025-01-14") or before a short part ("IFN-γ")
local function is_word_part(part)
  return (utf8.len(part) or #part) >= 3 and part:find('%l') and not part:find('[%d%p]')
end

-- the widest stretch of `word` Word cannot break
local function longest_unbreakable(word, bold)
  if not word:find('-', 1, true) then return text_width(word, bold) end
  local parts = {}
  for part in word:gmatch('[^-]+') do parts[#parts + 1] = part end
  if #parts == 0 then return text_width(word, bold) end
  local longest, run = 0, ''
  for i, part in ipairs(parts) do
    local following = parts[i + 1]
    run = run .. part .. (following and '-' or '')
    if not following or (is_word_part(part) and is_word_part(following)) then
      longest = math.max(longest, text_width(run, bold))
      run = ''
    end
  end
  return longest
end

-- (widest unbreakable stretch, width of the whole text on one line)
local function measure(text, bold)
  local longest_word = 0
  for word in text:gmatch('%S+') do
    longest_word = math.max(longest_word, longest_unbreakable(word, bold))
  end
  return math.min(longest_word, LONGEST_WORD_CAP), text_width(text, bold)
end

--[[ Column widths. Each column gets at least its longest word (min); the room left is
handed out in small steps, each to the column where it shortens the table most, a row being as
tall as its tallest cell (text length / column width lines). A column stops growing at its
longest line (max). Room nobody needs (every cell on one line) is shared in proportion to max.
With more columns than the page holds, the words of the body keep their width and the
headings (a word such as "(copies/transduced") give way first.
]]
local STEPS = 120

local function distribute(min_body, min_head, max, lengths, available)
  local n = #min_body
  local min, widths, sum_min, sum_max, sum_body = {}, {}, 0, 0, 0
  for i = 1, n do
    min[i] = math.max(min_body[i], min_head[i])
    widths[i] = min[i]
    sum_min = sum_min + min[i]
    sum_max = sum_max + max[i]
    sum_body = sum_body + min_body[i]
  end
  if sum_max <= available then
    for i = 1, n do widths[i] = max[i] end
    return widths
  end
  if sum_min >= available then
    if sum_body >= available then return min_body end
    local share = (available - sum_body) / (sum_min - sum_body)
    for i = 1, n do widths[i] = min_body[i] + (min[i] - min_body[i]) * share end
    return widths
  end
  local room = available - sum_min
  local step = room / STEPS
  while room > 1e-9 do
    local gain = {}
    for j = 1, n do gain[j] = 0 end
    for _, row in ipairs(lengths) do
      -- the tallest cell of the row, and the height the row has without it
      local top, top_col, second = 1, nil, 1
      for j = 1, n do
        local lines = math.max(1, (row[j] or 0) / widths[j])
        if lines > top then
          second, top, top_col = top, lines, j
        elseif lines > second then
          second = lines
        end
      end
      if top_col and widths[top_col] < max[top_col] then
        local wider = math.max(1, row[top_col] / (widths[top_col] + step))
        gain[top_col] = gain[top_col] + top - math.max(wider, second)
      end
    end
    local best, best_gain = nil, 0
    for j = 1, n do
      if gain[j] > best_gain then best, best_gain = j, gain[j] end
    end
    if not best then break end
    local add = math.min(step, room, max[best] - widths[best])
    widths[best] = widths[best] + add
    room = room - add
  end
  if room > 1e-9 then
    local spare = 0
    for j = 1, n do spare = spare + max[j] end
    for j = 1, n do widths[j] = widths[j] + room * max[j] / spare end
  end
  return widths
end

local function content_widths(tbl, line_width)
  local ncols = #tbl.colspecs
  local min_body, min_head, max, lengths = {}, {}, {}, {}
  for i = 1, ncols do min_body[i], min_head[i], max[i] = 1, 1, 1 end
  -- header rows set the bounds but not the shape: a wrapped heading costs one line once
  local function visit(rows, header)
    for _, row in ipairs(rows) do
      local col, row_lengths = 1, {}
      for _, cell in ipairs(row.cells) do
        if cell.col_span == 1 and col <= ncols then
          local word, length = measure(text_of(cell), header or is_bold(cell))
          local min = header and min_head or min_body
          min[col] = math.max(min[col], word)
          max[col] = math.max(max[col], length)
          row_lengths[col] = length
        end
        col = col + cell.col_span
      end
      if not header then lengths[#lengths + 1] = row_lengths end
    end
  end
  visit(tbl.head.rows, true)
  for _, body in ipairs(tbl.bodies) do
    visit(body.head, true)
    visit(body.body, false)
  end
  visit(tbl.foot.rows, false)

  local widths = distribute(min_body, min_head, max, lengths, line_width - CELL_MARGINS * ncols)
  local total = 0
  for i = 1, ncols do
    widths[i] = widths[i] + CELL_MARGINS
    total = total + widths[i]
  end
  for i = 1, ncols do
    tbl.colspecs[i] = {tbl.colspecs[i][1], widths[i] / total}
  end
end

-- ------------------------------------------------------------------ captions

local function split_caption(tbl)
  local long = tbl.caption.long
  if #long ~= 1 or (long[1].t ~= 'Plain' and long[1].t ~= 'Para') then return nil end
  local inlines = long[1].content
  for i, el in ipairs(inlines) do
    if el.t == 'SoftBreak' or el.t == 'LineBreak' then
      local first, rest = pandoc.Inlines{}, pandoc.Inlines{}
      for j = 1, i - 1 do first:insert(inlines[j]) end
      for j = i + 1, #inlines do rest:insert(inlines[j]) end
      tbl.caption.long = {pandoc.Plain(first)}
      if #rest == 0 then return nil end
      return pandoc.Para(rest)
    end
  end
  return nil
end

-- ------------------------------------------------------------------ filter

local function format_table(tbl)
  if tbl.classes:includes('protocmc-styled') then
    tbl.classes = tbl.classes:filter(function(c) return c ~= 'protocmc-styled' end)
    return tbl, nil
  end
  local orientation = 'portrait'
  if tbl.classes:includes('protocmc-landscape') then
    orientation = 'landscape'
    tbl.classes = tbl.classes:filter(function(c) return c ~= 'protocmc-landscape' end)
  end
  local after = split_caption(tbl)
  content_widths(tbl, LINE_WIDTH[orientation])
  tbl.attributes['custom-style'] = 'ProtocolTable'  -- a styleId: used verbatim as w:tblStyle
  style_cells(tbl.head.rows, 'Table Heading')
  for _, body in ipairs(tbl.bodies) do
    style_cells(body.head, 'Table Heading')
    style_cells(body.body, 'Table Text')
  end
  style_cells(tbl.foot.rows, 'Table Text')
  return tbl, after
end

local function separator()
  return pandoc.Div({pandoc.Para{pandoc.Str('')}}, {['custom-style'] = 'Body Text'})
end

function Blocks(blocks)
  local out = pandoc.Blocks{}
  local changed = false
  for _, block in ipairs(blocks) do
    if block.t == 'Table' then
      if #out > 0 and out[#out].t == 'Table' then
        -- pandoc writes a bare <w:p/> between two tables; a caption paragraph already keeps
        -- them apart, so an empty raw block (no output) stops that
        out:insert(#block.caption.long == 0 and separator() or pandoc.RawBlock('openxml', ''))
      end
      local tbl, after = format_table(block)
      out:insert(tbl)
      if after then out:insert(after) end
      changed = true
    else
      out:insert(block)
    end
  end
  if changed then return out end
  return nil
end

return {
  {Span = function(span)
    if span.classes:includes('review') then has_review_marks = true end
  end},
  {Blocks = Blocks},
}
