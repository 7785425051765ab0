"""The Word drafts of the real examples, read back as a Word importer would (python-docx) and as
raw document.xml: every paragraph styled, headings only in heading styles, no Markdown left in
the text, every M11 heading a heading; plus header text, numbering and tables."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.document import Document
from lxml import etree

from generator import api
from generator.build import build_product
from generator.framework_loader import load_registry
from tests.conftest import EXAMPLES

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
NS = {"w": W_NS}

HEADING_STYLE = re.compile(r"^Heading [1-9]( Unnumbered)?$")
TITLE_STYLES = {"Title", "Subtitle", "TOC Heading"}
LEFTOVER_MARKUP = re.compile(r"\{#|\{\.|:::|(?:^|\s)#{1,6}\s+\S|\]\{|\]\(")
"""Markdown pandoc did not read: attributes, fenced divs, heading markers, spans, links."""
NUMBERED_LOOK = re.compile(r"^\d+(?:\.\d+)*\.?\s+[A-Z]")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each example built once (Markdown and Word) into its own folder."""
    out = {}
    for example in EXAMPLES:
        folder = tmp_path_factory.mktemp(example.name)
        build_product(example / "product.yaml", folder, formats=("md", "docx"))
        out[example.name] = folder
    return out


@pytest.fixture(scope="module")
def drafts(built: dict[str, Path]) -> list[Path]:
    paths = sorted(p for folder in built.values() for p in folder.glob("*.docx"))
    assert {p.stem for p in paths} >= {"protocol", "module3", "cmc-readiness"}
    return paths


def _paragraphs(document: Document) -> list[tuple[str, docx.text.paragraph.Paragraph]]:
    """(where, paragraph) for the body and every table cell."""
    out = [("body", p) for p in document.paragraphs]
    for t, table in enumerate(document.tables):
        for row in table.rows:
            for cell in row.cells:
                out += [(f"table {t + 1}", p) for p in cell.paragraphs]
    return out


def _is_list_item(paragraph: docx.text.paragraph.Paragraph) -> bool:
    return paragraph._p.find("w:pPr/w:numPr", NS) is not None


def test_every_paragraph_has_a_style_and_no_markdown_is_left(drafts: list[Path]) -> None:
    problems = []
    for path in drafts:
        with zipfile.ZipFile(path) as zf:
            body = etree.fromstring(zf.read("word/document.xml"))
        unstyled = [p for p in body.iter(f"{W}p") if p.find("w:pPr/w:pStyle", NS) is None]
        if unstyled:
            text = "".join(unstyled[0].itertext())[:60]
            problems.append(f"{path.name}: {len(unstyled)} paragraph(s) without w:pStyle: {text!r}")
        document = docx.Document(str(path))
        for where, paragraph in _paragraphs(document):
            if paragraph.style is None:
                problems.append(f"{path.name} {where}: no style: {paragraph.text[:60]!r}")
            leftover = LEFTOVER_MARKUP.search(paragraph.text)
            if leftover:
                at = leftover.start()
                excerpt = paragraph.text[max(at - 40, 0) : at + 40]
                problems.append(f"{path.name} {where}: Markdown in the text: {excerpt!r}")
    assert problems == []


def test_headings_are_only_in_heading_styles(drafts: list[Path]) -> None:
    """No paragraph outside a heading style looks like a heading: a numbered title line, an
    all-capitals title line, or a short line entirely in bold (that is a "Block Label")."""
    problems = []
    for path in drafts:
        document = docx.Document(str(path))
        for paragraph in document.paragraphs:
            style = paragraph.style.name if paragraph.style is not None else ""
            text = paragraph.text.strip()
            if not text or HEADING_STYLE.match(style) or style in TITLE_STYLES:
                continue
            if _is_list_item(paragraph) or style.startswith(("toc", "TOC")):
                continue
            runs = [r for r in paragraph.runs if r.text.strip()]
            short = len(text) < 100 and not text.endswith((".", ":", ";"))
            looks = (
                (NUMBERED_LOOK.match(text) and short)
                or (text.isupper() and len(text.split()) >= 2 and short)
                or (runs and all(r.bold for r in runs) and style != "Block Label")
            )
            if looks:
                problems.append(f"{path.name}: {style!r} looks like a heading: {text[:60]!r}")
    assert problems == []


def test_every_m11_heading_is_a_heading_paragraph(built: dict[str, Path]) -> None:
    registry = load_registry()
    problems = []
    for name, folder in built.items():
        markdown = (folder / "protocol.md").read_text("utf-8")
        written = {
            number: (len(hashes), title)
            for hashes, number, title in re.findall(
                r"^(#{1,3}) (\d+(?:\.\d+)*) (.+?)(?: \{[^}]*\})?$", markdown, re.MULTILINE
            )
        }
        document = docx.Document(str(folder / "protocol.docx"))
        headings = {
            (int(p.style.name.split()[1]), p.text.strip())
            for p in document.paragraphs
            if p.style is not None and HEADING_STYLE.match(p.style.name)
        }
        checked = 0
        for section in registry.sections:
            if section.level > 3 or section.number not in written:
                continue
            level, title = written[section.number]
            checked += 1
            if (level, title) not in headings:
                problems.append(f"{name}: {section.number} {title!r} is not a Heading {level}")
        assert checked > 60, f"{name}: only {checked} M11 headings found in protocol.md"
    assert problems == []


# --------------------------------------------------------------------------- one example


@pytest.fixture(scope="module")
def bcma(built: dict[str, Path]) -> tuple[Path, api.ResolvedProtocol]:
    example = next(p for p in EXAMPLES if p.name == "bcma-cart-rrmm")
    resolved, _ = api.resolve(example / "product.yaml")
    return built[example.name] / "protocol.docx", resolved


def test_header_footer_carry_protocol_id_version_and_status(
    bcma: tuple[Path, api.ResolvedProtocol],
) -> None:
    path, resolved = bcma
    document = docx.Document(str(path))
    tp = resolved.product.title_page
    header = " ".join(p.text for s in document.sections for p in s.header.paragraphs)
    header += " ".join(
        c.text for s in document.sections for t in s.header.tables for r in t.rows for c in r.cells
    )
    assert tp.sponsor_protocol_id in header
    assert tp.version in header
    assert "DRAFT" in header


def test_headings_use_numbered_heading_styles_without_literal_numbers(
    bcma: tuple[Path, api.ResolvedProtocol],
) -> None:
    document = docx.Document(str(bcma[0]))
    headings = [
        p for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")
    ]
    level1 = [p.text for p in headings if p.style.name == "Heading 1"]
    assert level1[:3] == [
        "PROTOCOL SUMMARY",
        "INTRODUCTION",
        "TRIAL OBJECTIVES AND ASSOCIATED ESTIMANDS",
    ]
    assert len(level1) == 14
    assert not any(re.match(r"^\d+(\.\d+)* ", p.text) for p in headings)


def test_tables_are_styled_with_repeating_header_rows_and_captions(
    bcma: tuple[Path, api.ResolvedProtocol],
) -> None:
    path, resolved = bcma
    document = docx.Document(str(path))
    body_tables = document.tables[1:]  # the first is the title-page field table
    assert len(body_tables) > 20
    for table in body_tables:
        assert table.rows[0]._tr.xpath("./w:trPr/w:tblHeader"), "header rows must repeat"
        assert all(r._tr.xpath("./w:trPr/w:cantSplit") for r in table.rows[:3])
    assert "SEQ Table" in document.element.xml
    # the BOIN decision table computed from the product's parameters is in the document
    texts = [c.text for t in body_tables for r in t.rows for c in r.cells]
    assert "Escalate if DLTs ≤" in texts
    # every departure's justification is in the draft, whatever the register's layout
    words = " ".join(re.findall(r"\w+", " ".join(p.text for _w, p in _paragraphs(document))))
    for entry in resolved.tailoring_register:
        start = " ".join(re.findall(r"\w+", entry.justification)[:8])
        assert start in words, entry.element_id
    # the register opens with a one-line-per-departure summary table
    register_rows = len(resolved.tailoring_register)
    header = ["#", "Element", "What changes", "This protocol"]
    register = next(t for t in body_tables if [c.text for c in t.rows[0].cells] == header)
    assert len(register.rows) == register_rows + 1


def test_insertion_points_use_their_character_style(
    bcma: tuple[Path, api.ResolvedProtocol],
) -> None:
    document = docx.Document(str(bcma[0]))
    runs = [r for p in document.paragraphs for r in p.runs]
    styles = {r.style.name for r in runs if r.style is not None}
    assert "Insertion Point" in styles
