"""The Word draft of a real example: styles, tables, header text and numbering, via python-docx."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest

from generator import api
from generator.build import build_product
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, api.ResolvedProtocol]:
    example = next(p for p in EXAMPLES if p.name == "bcma-cart-rrmm")
    out = tmp_path_factory.mktemp("docx")
    build_product(example / "product.yaml", out, formats=("md", "docx"))
    resolved, _ = api.resolve(example / "product.yaml")
    return out / "protocol.docx", resolved


def test_header_footer_carry_protocol_id_version_and_status(
    built: tuple[Path, api.ResolvedProtocol],
) -> None:
    path, resolved = built
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
    built: tuple[Path, api.ResolvedProtocol],
) -> None:
    document = docx.Document(str(built[0]))
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
    built: tuple[Path, api.ResolvedProtocol],
) -> None:
    path, resolved = built
    document = docx.Document(str(path))
    body_tables = document.tables[1:]  # the first is the title-page field table
    assert len(body_tables) > 20
    for table in body_tables:
        first_row = table.rows[0]._tr
        assert first_row.xpath("./w:trPr/w:tblHeader"), "header row must repeat across pages"
    xml = document.element.xml
    assert "SEQ Table" in xml
    # the BOIN decision table computed from the product's parameters is in the document
    texts = [c.text for t in body_tables for r in t.rows for c in r.cells]
    assert "Escalate if DLTs ≤" in texts
    assert "TAILORING REGISTER" not in texts
    register_rows = len(resolved.tailoring_register)
    header = ["#", "Element", "What changes", "This protocol"]
    register = next(t for t in body_tables if [c.text for c in t.rows[0].cells] == header)
    assert len(register.rows) == register_rows + 1


def test_insertion_points_use_their_character_style(
    built: tuple[Path, api.ResolvedProtocol],
) -> None:
    document = docx.Document(str(built[0]))
    runs = [r for p in document.paragraphs for r in p.runs]
    styles = {r.style.name for r in runs if r.style is not None}
    assert "Insertion Point" in styles
