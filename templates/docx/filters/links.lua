--[[
protocmc: links and images in Word output.

Text in a product file is the sponsor's, not ours. A link may point only at an in-document
anchor (#...) or an http(s) or mailto address; any other target (javascript:, file:, data:,
a path on this machine) keeps its text and loses the link. The only images a draft carries are
the figures protocmc draws (figures/NAME.png); any other image reference would make pandoc
read a file or fetch a URL into the .docx, so it is replaced by its description.
]]

local SAFE_SCHEMES = {http = true, https = true, mailto = true}

function Link(el)
  local target = el.target
  if target:sub(1, 1) == '#' then
    return nil
  end
  local scheme = target:match('^([%a][%w+.-]*):')
  if scheme and SAFE_SCHEMES[scheme:lower()] then
    return nil
  end
  return el.content
end

function Image(el)
  if el.src:match('^figures/[%w_.-]+%.png$') then
    return nil
  end
  return el.caption
end
