"""Pandoc Markdown → Python-Markdown for the site.

The drafts are written for pandoc (fenced divs, bracketed spans, `Table:` captions). The site
renders them with Python-Markdown, so this module rewrites exactly those constructs:

- `::: {.name}` … `:::`           → `<div class="pandoc-div name" markdown>` … `</div>` (md_in_html)
- `[text]{.name}`                 → `<span class="name">text</span>`
- `Table: caption` paragraph      → `<p class="table-caption" markdown>` (md_in_html)
- headings are demoted by `shift` levels so the page can carry its own title.

It also lists the open insertion points with the section that holds them, so the site can link
to each one: every insertion span gets a stable id `ins-N` (N counts from 1 in document order).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

DIV_OPEN_RE = re.compile(r"^:{3,}\s*\{(?P<attrs>[^}]*)\}\s*$")
DIV_CLOSE_RE = re.compile(r"^:{3,}\s*$")
SPAN_RE = re.compile(r"\[(?P<text>(?:\\.|[^\]\\])*)\]\{\.(?P<cls>[A-Za-z][\w-]*)\}")
CAPTION_RE = re.compile(r"^Table:\s+(?P<caption>.+)$")
HEADING_RE = re.compile(
    r"^(?P<hashes>#{1,6})\s+(?P<text>.*?)(?:\s+\{#(?P<id>[\w.:-]+)[^}]*\})?\s*$"
)
FENCE_RE = re.compile(r"^(```|~~~)")
_UNESCAPE_RE = re.compile(r"\\([\\<>\[\]{}*_`#|])")


@dataclass(frozen=True)
class OpenInsertion:
    """One open insertion point `<...>` and the section it sits in."""

    number: int
    anchor: str
    text: str
    section: str
    section_anchor: str | None


@dataclass(frozen=True)
class SiteMarkdown:
    markdown: str
    insertions: list[OpenInsertion]


def _classes(attrs: str) -> list[str]:
    return [a[1:] for a in attrs.split() if a.startswith(".")]


def _span_text(text: str) -> str:
    """Span content as HTML-safe text that Python-Markdown still formats inline."""
    unescaped = _UNESCAPE_RE.sub(r"\1", text)
    return html.escape(unescaped, quote=False)


def to_site_markdown(markdown: str, *, shift: int = 0) -> SiteMarkdown:
    """Rewrite one pandoc-flavoured draft for the site; see the module docstring."""
    out: list[str] = []
    insertions: list[OpenInsertion] = []
    depth = 0
    in_code = False
    section = ""
    section_anchor: str | None = None
    lines = markdown.splitlines()
    for line in lines:
        if FENCE_RE.match(line):
            in_code = not in_code
            out.append(line)
            continue
        if in_code:
            out.append(line)
            continue
        opened = DIV_OPEN_RE.match(line)
        if opened:
            classes = " ".join(["pandoc-div", *_classes(opened.group("attrs"))])
            out += ["", f'<div class="{classes}" markdown>', ""]
            depth += 1
            continue
        if DIV_CLOSE_RE.match(line) and depth > 0:
            out += ["", "</div>", ""]
            depth -= 1
            continue
        heading = HEADING_RE.match(line)
        if heading:
            section = heading.group("text")
            section_anchor = heading.group("id")
            level = min(6, len(heading.group("hashes")) + shift)
            line = "#" * level + line[len(heading.group("hashes")) :]
        caption = CAPTION_RE.match(line)
        if caption:
            out += ["", f'<p class="table-caption" markdown>{caption.group("caption")}</p>', ""]
            continue

        def span(
            match: re.Match[str],
            section: str = section,
            section_anchor: str | None = section_anchor,
        ) -> str:
            cls = match.group("cls")
            text = _span_text(match.group("text"))
            if cls == "insertion":
                number = len(insertions) + 1
                anchor = f"ins-{number}"
                insertions.append(
                    OpenInsertion(
                        number,
                        anchor,
                        _UNESCAPE_RE.sub(r"\1", match.group("text")),
                        section,
                        section_anchor,
                    )
                )
                return f'<span class="insertion" id="{anchor}">{text}</span>'
            return f'<span class="{cls}">{text}</span>'

        out.append(SPAN_RE.sub(span, line))
    out += ["", "</div>"] * depth
    return SiteMarkdown("\n".join(out).strip() + "\n", insertions)
