--[[
protocmc: every table (except the title-page table, already styled by blocks.lua) gets the
"Protocol Table" table style; header cells get the "Table Heading" paragraph style and body cells
"Table Text" (9 pt), so the look does not depend on a renderer applying table-style fonts.
Header rows repeat on each page (pandoc writes w:tblHeader).
]]

-- the docx writer styles Plain blocks in cells "Compact" whatever the enclosing div says
local function as_paras(blocks)
  return blocks:walk{Plain = function(p) return pandoc.Para(p.content) end}
end

local function style_cells(rows, style)
  for _, row in ipairs(rows) do
    for _, cell in ipairs(row.cells) do
      cell.contents = {pandoc.Div(as_paras(cell.contents), {['custom-style'] = style})}
    end
  end
end

-- Column widths: when the Markdown gives none (or only equal ones, as `|---|---|` does),
-- weight each column by its longest word and its longest cell text (capped), so narrow
-- "X" columns stay narrow and the descriptive first column gets room.
local function cell_text_lengths(cell)
  local text = pandoc.utils.stringify(pandoc.Blocks(cell.contents))
  local longest_word = 0
  for word in text:gmatch('%S+') do
    longest_word = math.max(longest_word, utf8.len(word) or #word)
  end
  return utf8.len(text) or #text, longest_word
end

local function set_widths(tbl)
  local ncols = #tbl.colspecs
  if ncols < 2 then return end
  local first = tbl.colspecs[1][2]
  for _, spec in ipairs(tbl.colspecs) do
    local w = spec[2]
    if not (w == nil or w == 0 or (first ~= nil and math.abs(w - first) < 1e-6)) then
      return  -- the author chose widths
    end
  end
  local weights = {}
  for i = 1, ncols do weights[i] = 5 end
  local function visit(rows)
    for _, row in ipairs(rows) do
      local col = 1
      for _, cell in ipairs(row.cells) do
        if cell.col_span == 1 and col <= ncols then
          local len, word = cell_text_lengths(cell)
          weights[col] = math.max(weights[col], word * 1.7 + 3, math.min(len, 24))
        end
        col = col + cell.col_span
      end
    end
  end
  visit(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do visit(body.body) end
  local total = 0
  for i = 1, ncols do total = total + weights[i] end
  for i = 1, ncols do
    tbl.colspecs[i] = {tbl.colspecs[i][1], weights[i] / total}
  end
end

function Table(tbl)
  if tbl.classes:includes('protocmc-styled') then
    tbl.classes = tbl.classes:filter(function(c) return c ~= 'protocmc-styled' end)
    return tbl
  end
  set_widths(tbl)
  tbl.attributes['custom-style'] = 'ProtocolTable'  -- a styleId: used verbatim as w:tblStyle
  style_cells(tbl.head.rows, 'Table Heading')
  for _, body in ipairs(tbl.bodies) do
    style_cells(body.head, 'Table Heading')
    style_cells(body.body, 'Table Text')
  end
  style_cells(tbl.foot.rows, 'Table Text')
  return tbl
end
