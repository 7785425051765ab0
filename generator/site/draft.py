"""A draft's pandoc HTML as a site page body, and the open insertion points it holds.

Pandoc writes the HTML (`generator.site.pandoc_html`). MkDocs builds its table of contents from
Markdown headings only, so each top-level heading (the filter marks them) becomes a Markdown
heading carrying pandoc's id, and everything between two headings stays one raw HTML block,
which Markdown passes through untouched.

The open insertion points are read from that HTML with an HTML parser: each one with its
number, anchor (`ins-N`, set by the filter), text and the heading it sits under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from generator.site.pandoc_html import HEADING_MARK
from generator.site.templating import md_protect

_HEADING = re.compile(r"^<h(?P<level>[1-6])(?P<attrs>[^>]*)>(?P<inner>.*)</h(?P=level)>$", re.S)
_ID = re.compile(r'\bid="(?P<id>[^"]*)"')
_CLASS = re.compile(r'\bclass="(?P<cls>[^"]*)"')
_SAFE_ID = re.compile(r"^[A-Za-z][\w.:-]*$")
_SAFE_CLASS = re.compile(r"^[A-Za-z][\w-]*$")


@dataclass(frozen=True)
class OpenInsertion:
    """One open insertion point `<...>` and the section it sits in."""

    number: int
    anchor: str
    text: str
    section: str
    section_anchor: str | None


@dataclass(frozen=True)
class DraftSection:
    """A top-level heading (inner HTML) and the HTML up to the next one."""

    level: int
    anchor: str | None
    classes: tuple[str, ...]
    heading_html: str
    body_html: str


@dataclass
class SiteDraft:
    preamble_html: str
    sections: list[DraftSection] = field(default_factory=list)
    _insertions: dict[tuple[str, ...], list[OpenInsertion]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def from_html(cls, html: str) -> SiteDraft:
        chunks = html.split(HEADING_MARK)
        draft = cls(chunks[0].strip())
        for chunk in chunks[1:]:
            heading, _, body = chunk.strip().partition("\n")
            match = _HEADING.match(heading.strip())
            if match is None:  # cannot happen with the site filter; keep the HTML as it is
                draft.sections.append(DraftSection(0, None, (), "", chunk.strip()))
                continue
            attrs = match.group("attrs")
            anchor = _ID.search(attrs)
            classes = _CLASS.search(attrs)
            draft.sections.append(
                DraftSection(
                    level=int(match.group("level")),
                    anchor=anchor.group("id") if anchor else None,
                    classes=tuple(classes.group("cls").split()) if classes else (),
                    heading_html=match.group("inner"),
                    body_html=body.strip(),
                )
            )
        return draft

    def kept(self, replace: dict[str, str]) -> list[tuple[DraftSection, str | None]]:
        """Sections in order, each with its replacement Markdown (or None); the subsections
        of a replaced section are dropped with its body."""
        out: list[tuple[DraftSection, str | None]] = []
        dropping_below: int | None = None
        for section in self.sections:
            if dropping_below is not None and section.level > dropping_below:
                continue
            dropping_below = None
            replacement = replace.get(section.anchor or "")
            if replacement is not None:
                dropping_below = section.level
            out.append((section, replacement))
        return out

    def markdown(self, replace: dict[str, str] | None = None) -> str:
        """The page body: Markdown headings, raw HTML blocks between them.

        `replace` maps a heading's anchor to Markdown that stands for its body (and its
        subsections) on the site.
        """
        parts: list[str] = []
        if self.preamble_html:
            parts.append(_html_block(self.preamble_html))
        for section, replacement in self.kept(replace or {}):
            if section.level == 0:
                parts.append(_html_block(section.body_html))
                continue
            parts.append(_markdown_heading(section))
            if replacement is not None:
                parts.append(replacement.strip())
            elif section.body_html:
                parts.append(_html_block(section.body_html))
        return "\n\n".join(parts) + "\n"

    def insertions(self, replace: dict[str, str] | None = None) -> list[OpenInsertion]:
        """The open insertion points outside the replaced sections (parsed once per set)."""
        key = tuple(sorted(replace or {}))
        if key not in self._insertions:
            self._insertions[key] = self._parse_insertions(replace or {})
        return list(self._insertions[key])

    def _parse_insertions(self, replace: dict[str, str]) -> list[OpenInsertion]:
        parser = _InsertionParser()
        parser.feed(self.preamble_html)
        for section, replacement in self.kept(replace):
            if section.level:
                parser.heading(section.heading_html, section.anchor)
                # an insertion point in a heading is listed under that heading
                parser.feed(f"<span hidden>{section.heading_html}</span>")
            if replacement is None:
                parser.feed(section.body_html)
        parser.close()
        return parser.found


def _html_block(html: str) -> str:
    """Raw HTML that Markdown passes through: one block-level element, blank lines around."""
    return f'<div class="pandoc">\n{md_protect(html)}\n</div>'


def _markdown_heading(section: DraftSection) -> str:
    attrs: list[str] = []
    if section.anchor and _SAFE_ID.match(section.anchor):
        attrs.append(f"#{section.anchor}")
    attrs += [f".{c}" for c in section.classes if _SAFE_CLASS.match(c)]
    text = md_protect(" ".join(section.heading_html.split()), line_start=False)
    suffix = f" {{: {' '.join(attrs)} }}" if attrs else ""
    return f"{'#' * section.level} {text}{suffix}"


class _InsertionParser(HTMLParser):
    """Insertion spans in document order, and the heading each one follows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[OpenInsertion] = []
        self.section = ""
        self.section_anchor: str | None = None
        self._heading: list[str] | None = None
        self._heading_id: str | None = None
        self._insertion: tuple[str, list[str]] | None = None
        self._depth = 0

    def heading(self, inner_html: str, anchor: str | None) -> None:
        text = _TextParser.text_of(inner_html)
        self.section, self.section_anchor = text, anchor

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if re.fullmatch(r"h[1-6]", tag):
            self._heading, self._heading_id = [], values.get("id") or None
        if tag == "span":
            if self._insertion is not None:
                self._depth += 1
            elif "insertion" in values.get("class", "").split() and values.get("id"):
                self._insertion, self._depth = (values["id"], []), 1

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.section = " ".join("".join(self._heading).split())
            self.section_anchor = self._heading_id
            self._heading = None
        if tag == "span" and self._insertion is not None:
            self._depth -= 1
            if self._depth == 0:
                anchor, text = self._insertion
                number = len(self.found) + 1
                self.found.append(
                    OpenInsertion(
                        number,
                        anchor,
                        " ".join("".join(text).split()),
                        self.section,
                        self.section_anchor,
                    )
                )
                self._insertion = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)
        if self._insertion is not None:
            self._insertion[1].append(data)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @classmethod
    def text_of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        parser.close()
        return " ".join("".join(parser.parts).split())
