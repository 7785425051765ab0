"""The protocol's narrative as USDM wants it: one XHTML fragment per M11 section.

The rendered protocol Markdown is converted to HTML by pandoc once (raw HTML, raw attributes
and TeX in the Markdown are read as text, as for Word), parsed as XML, and split at the M11
heading anchors (`{#m11-5-2}` becomes `<h2 id="m11-5-2">`). A section's text is what follows
its heading up to the next anchored heading, whatever its level; the heading itself becomes
the USDM section number and title. Layout wrappers (a landscape `:::` block around a section)
are dissolved so their headings split like any other. Whatever precedes section 1 (the title
page) is a section of its own with no number.

Short texts that USDM also wants as XHTML (eligibility criteria) go through the same pandoc
conversion, one call for all of them.

Fragments are XHTML the way CDISC's examples write narrative text: wrapped in
`<div xmlns="http://www.w3.org/1999/xhtml">`.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from generator.problems import ProtocmcError

INPUT_FORMAT = "markdown-raw_html-raw_attribute-raw_tex-auto_identifiers-smart"
"""As for Word (generator/export/docx.py): YAML text never becomes markup. Headings keep only
the identifiers the template gives them (the M11 anchors). No typographic quotes or dashes:
exchanged text stays the text the product and framework files hold."""

XHTML_NS = "http://www.w3.org/1999/xhtml"
ANCHOR = re.compile(r"^m11-\d+(?:-\d+)*$")
HEADING = re.compile(r"^(?P<number>\d+(?:\.\d+)*)\.?\s+(?P<title>.+?)\s*$", re.DOTALL)
_HEADING_TAGS = {f"h{n}" for n in range(1, 7)}
_FRAGMENT = "usdm-fragment"


@dataclass(frozen=True)
class NarrativeSection:
    """One section of the rendered protocol."""

    anchor: str | None
    """The M11 anchor (`m11-5-2`); None for the text before section 1."""
    number: str | None
    title: str
    level: int
    xhtml: str
    """The section's own text (not its subsections'), as an XHTML fragment."""
    text: str
    """The same text as plain text (paragraphs separated by blank lines)."""

    @property
    def empty(self) -> bool:
        return not self.text.strip()


def pandoc_html(markdown: str) -> str:
    """Markdown -> HTML body through the pandoc that pypandoc-binary ships; cached on disk
    by the Markdown and the pandoc binary (a process start per call, every build)."""
    from generator.cache import cached
    from generator.export.pandoc import pandoc_executable, pandoc_signature

    path = pandoc_executable()
    key = f"{pandoc_signature()}\n{markdown}"
    return cached("usdm-html", key, lambda: _run_pandoc_html(path, markdown))


def _run_pandoc_html(path: str, markdown: str) -> str:
    from generator.export.docx import _environment

    cmd = [path, "--from", INPUT_FORMAT, "--to", "html", "--wrap=none"]
    try:
        result = subprocess.run(
            cmd, input=markdown.encode("utf-8"), capture_output=True, env=_environment()
        )
    except OSError as exc:
        raise ProtocmcError(f"could not run pandoc: {exc}") from exc
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace").strip()
        raise ProtocmcError(f"pandoc failed (exit code {result.returncode}):\n{stderr}")
    return result.stdout.decode("utf-8")


def parse_body(html: str) -> ET.Element:
    """pandoc's HTML body as an XML tree (pandoc writes well-formed markup)."""
    try:
        return ET.fromstring(f"<body>{html}</body>")
    except ET.ParseError as exc:
        raise ProtocmcError(f"pandoc's HTML is not well-formed XML: {exc}") from exc


def split_sections(body: ET.Element) -> list[NarrativeSection]:
    """Cut the document at every heading that carries an M11 anchor."""
    sections: list[NarrativeSection] = []
    anchor: str | None = None
    number: str | None = None
    title = ""
    level = 0
    lead = (body.text or "").strip()
    blocks: list[ET.Element] = []

    def close() -> None:
        sections.append(
            NarrativeSection(anchor, number, title, level, fragment(blocks, lead), text_of(blocks))
        )

    for block in _flatten(list(body)):
        if _is_anchored_heading(block):
            if anchor is not None or blocks:
                close()
            anchor = block.get("id")
            number, title = _number_and_title(_inner_text(block))
            level = int(block.tag[1])
            blocks, lead = [], ""
        else:
            blocks.append(block)
    if anchor is not None or blocks:
        close()
    return sections


def fragment(blocks: Sequence[ET.Element], lead: str = "") -> str:
    """Blocks as one XHTML fragment: `<div xmlns="http://www.w3.org/1999/xhtml">...</div>`."""
    parts = [ET.tostring(b, encoding="unicode", short_empty_elements=True) for b in blocks]
    inner = (_escape(lead) if lead else "") + "".join(parts).strip()
    return f'<div xmlns="{XHTML_NS}">{inner}</div>'


def text_of(blocks: Sequence[ET.Element]) -> str:
    """Plain text of blocks: each block's text with whitespace collapsed, blank-line separated."""
    paragraphs = [" ".join(_inner_text(b).split()) for b in blocks]
    return "\n\n".join(p for p in paragraphs if p)


def xhtml_text(xhtml: str) -> str:
    """Plain text of an XHTML fragment made by `fragment` (what a reader of the USDM sees)."""
    root = ET.fromstring(xhtml)
    return text_of(list(root)) or " ".join("".join(root.itertext()).split())


def markdown_fragments(texts: Sequence[str]) -> list[str]:
    """Short Markdown texts -> XHTML fragments, with one pandoc run for all of them.

    Each text goes into a fenced div of its own; text lint (generator/text_lint.py) refuses
    ':::' lines in YAML text, so a text cannot close its div early.
    """
    if not texts:
        return []
    source = "".join(
        f"::: {{#{_FRAGMENT}-{n} .{_FRAGMENT}}}\n{text.strip()}\n:::\n\n"
        for n, text in enumerate(texts)
    )
    found = {
        div.get("id"): div
        for div in parse_body(pandoc_html(source)).iter("div")
        if (div.get("id") or "").startswith(f"{_FRAGMENT}-")
    }
    out = []
    for n in range(len(texts)):
        div = found.get(f"{_FRAGMENT}-{n}")
        if div is None:
            raise ProtocmcError(f"pandoc dropped text fragment {n} ({texts[n][:40]!r})")
        out.append(fragment(list(div), (div.text or "").strip()))
    return out


def narrative_sections(markdown: str) -> list[NarrativeSection]:
    """The rendered protocol's sections in document order (one pandoc run)."""
    return split_sections(parse_body(pandoc_html(markdown)))


# --------------------------------------------------------------------------- helpers


def _is_anchored_heading(element: ET.Element) -> bool:
    return element.tag in _HEADING_TAGS and bool(ANCHOR.match(element.get("id") or ""))


def _holds_anchored_heading(element: ET.Element) -> bool:
    return any(_is_anchored_heading(e) for e in element.iter() if e is not element)


def _flatten(blocks: list[ET.Element]) -> list[ET.Element]:
    """Dissolve wrappers (a landscape div, a section) that hold M11 headings."""
    out: list[ET.Element] = []
    for block in blocks:
        if block.tag in {"div", "section"}:
            _lift_anchor(block)
        if block.tag in {"div", "section"} and _holds_anchored_heading(block):
            out.extend(_flatten(list(block)))
        else:
            out.append(block)
    return out


def _lift_anchor(wrapper: ET.Element) -> None:
    """pandoc turns `::: {.landscape}` + `## 12.4 ... {#m11-12-4}` into
    `<section id="m11-12-4" class="landscape"><h2>`: give the anchor back to the heading."""
    anchor = wrapper.get("id") or ""
    children = list(wrapper)
    heading = children[0] if children and children[0].tag in _HEADING_TAGS else None
    if ANCHOR.match(anchor) and heading is not None and not heading.get("id"):
        heading.set("id", anchor)
        del wrapper.attrib["id"]


def _inner_text(element: ET.Element) -> str:
    return "".join(element.itertext())


def _number_and_title(heading: str) -> tuple[str | None, str]:
    text = " ".join(heading.split())
    m = HEADING.match(text)
    return (m["number"], m["title"]) if m else (None, text)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
