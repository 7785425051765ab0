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

function Table(tbl)
  if tbl.classes:includes('protocmc-styled') then
    tbl.classes = tbl.classes:filter(function(c) return c ~= 'protocmc-styled' end)
    return tbl
  end
  tbl.attributes['custom-style'] = 'ProtocolTable'  -- a styleId: used verbatim as w:tblStyle
  style_cells(tbl.head.rows, 'Table Heading')
  for _, body in ipairs(tbl.bodies) do
    style_cells(body.head, 'Table Heading')
    style_cells(body.body, 'Table Text')
  end
  style_cells(tbl.foot.rows, 'Table Text')
  return tbl
end
