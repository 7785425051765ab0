--[[
protocmc: review marks become Word comments.

A review mark is a span with the class `review`, placed right after the text it concerns:

    The hold lasts 72 hours [needs verification: recalled common practice]{.review}.

In Word the span's text becomes a comment (author "protocmc", dated from SOURCE_DATE_EPOCH so
the file stays reproducible) anchored on the text before it, back to the start of its sentence
(or to the previous review mark, a line break or the start of the paragraph). The mark itself
leaves no text behind, and neither does the space before it: "Delete all comments" in Word
gives the clean document. A mark with nothing before it is a comment on that point.

Runs last, so the other filters see headings, tables and labels as written.
]]

local AUTHOR = 'protocmc'
local epoch = tonumber(os.getenv('SOURCE_DATE_EPOCH') or '') or 0
local DATE = os.date('!%Y-%m-%dT%H:%M:%SZ', epoch)
local SENTENCE_END = {['.'] = true, ['!'] = true, ['?'] = true}

local next_id = 0

local function is_review(el)
  return el.t == 'Span' and el.classes:includes('review')
end

local function is_space(el)
  return el.t == 'Space' or el.t == 'SoftBreak'
end

-- first index of the text a review mark at `mark` concerns, not before `from`
local function anchor_start(inlines, from, mark)
  local i = mark - 1
  while i >= from do
    local el = inlines[i]
    if el.t == 'LineBreak' then break end
    if is_space(el) and i > from then
      local before = inlines[i - 1]
      if before.t == 'Str' and SENTENCE_END[before.text:sub(-1)] then break end
    end
    i = i - 1
  end
  local start = i + 1
  while start < mark and is_space(inlines[start]) do start = start + 1 end
  return start
end

local function comment(inlines)
  local out = pandoc.Inlines{}
  local from = 1
  local mark = 1
  while mark <= #inlines do
    if is_review(inlines[mark]) then
      local start = anchor_start(inlines, from, mark)
      local stop = mark - 1
      while stop >= start and is_space(inlines[stop]) do stop = stop - 1 end
      for i = from, start - 1 do out:insert(inlines[i]) end
      local id = tostring(next_id)
      next_id = next_id + 1
      -- an ordered attribute list: a Lua table's key order changes from run to run
      out:insert(pandoc.Span(inlines[mark].content,
        pandoc.Attr(id, {'comment-start'}, {{'author', AUTHOR}, {'date', DATE}})))
      for i = start, stop do out:insert(inlines[i]) end
      out:insert(pandoc.Span({}, pandoc.Attr(id, {'comment-end'})))
      from = mark + 1
      -- a mark that opens a paragraph or line takes the space after it along
      local opens = #out == 2 or (start > stop and out[#out - 2].t == 'LineBreak')
      if opens and inlines[from] and is_space(inlines[from]) then from = from + 1 end
      mark = from
    else
      mark = mark + 1
    end
  end
  if from == 1 then return nil end
  for i = from, #inlines do out:insert(inlines[i]) end
  return out
end

-- Comment ids in document order (the Inlines pass numbers inner lists first).
local renumbered = {}
local count = 0

local function renumber(span)
  if span.classes:includes('comment-start') then
    renumbered[span.identifier] = tostring(count)
    count = count + 1
    span.identifier = renumbered[span.identifier]
    return span
  elseif span.classes:includes('comment-end') then
    span.identifier = renumbered[span.identifier]
    return span
  end
end

-- Most drafts carry no marks (a --clean build none at all): the first pass only looks at spans;
-- every inline list is visited only when there is a mark.
local found = false

local function detect(span)
  if span.classes:includes('review') then found = true end
end

local function apply(doc)
  if not found then return nil end
  return doc:walk{Inlines = comment}:walk{Span = renumber}
end

return {{Span = detect}, {Pandoc = apply}}
