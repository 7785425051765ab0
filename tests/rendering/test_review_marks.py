"""Review marks carry what a reviewer needs and an investigator does not; `--clean` drops
them (contract item 7)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import docx

from generator import api
from generator.build import build_product
from tests.conftest import EXAMPLES

CD19 = next(p for p in EXAMPLES if p.name == "cd19-cart-lbcl") / "product.yaml"
ITEM_ID = re.compile(r"\b(?:INC|EXC|DLT|ESC|STOP|PAUSE|LD|INF|TM|TR|CMC|BR|LTFU)-[A-Z0-9-]+\b")


def test_item_ids_provenance_and_evidence_status_are_review_marks_only() -> None:
    markdown = api.check(CD19).documents["protocol"].markdown
    marks = re.findall(r"\[((?:\\.|[^\[\]\\\n])*)\]\{\.review\}", markdown)
    assert any(m.startswith("INC-ANC; early-phase-cell-therapy 1.0.0 › eligibility") for m in marks)
    assert any("needs verification" in m for m in marks)
    # the product's own departures say where in the product file they are, relative to it
    assert any(re.search(r"product\.yaml:\d+", m) for m in marks)
    assert not any("examples/" in m for m in marks)
    prose = re.sub(r"\[(?:\\.|[^\[\]\\\n])*\]\{\.review\}", "", markdown)
    assert not ITEM_ID.search(prose.split("## 12.4 Tailoring Register")[0])
    assert "needs verification" not in prose.lower()


def test_clean_draft_has_no_review_marks_highlights_or_ids(tmp_path: Path) -> None:
    build_product(CD19, tmp_path, formats=("md", "docx"), clean=True)
    markdown = (tmp_path / "protocol.md").read_text("utf-8")
    assert "{.review}" not in markdown and "{.verify}" not in markdown
    body = markdown.split("## 12.4 Tailoring Register")[0]
    assert not ITEM_ID.search(body)
    xml = docx.Document(str(tmp_path / "protocol.docx")).element.xml
    assert "needs verification" not in xml.lower()
    assert "INC-ANC" not in xml


def test_clean_and_marked_builds_are_different_outputs(tmp_path: Path) -> None:
    marked, clean = tmp_path / "marked", tmp_path / "clean"
    build_product(CD19, marked, formats=("md",))
    build_product(CD19, clean, formats=("md",), clean=True)
    a = (marked / "protocol.md").read_text("utf-8")
    b = (clean / "protocol.md").read_text("utf-8")
    assert "{.review}" in a and "{.review}" not in b
    # a clean build into a folder that holds a marked one rebuilds (the stamp knows the mode)
    result = build_product(CD19, marked, formats=("md",), clean=True)
    assert not result.skipped
    assert "{.review}" not in (marked / "protocol.md").read_text("utf-8")


def test_check_clean_flag(cli: Callable[..., object], minimal_product: Path) -> None:
    result = cli("check", minimal_product, "--clean")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]


def test_review_mark_content_cannot_break_out_of_its_span(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        tailoring:
          dlt:
            items:
              - id: DLT-ODD
                kind: dlt
                text: "An item with ] brackets [ and <angles>."
            justification: Testing escapes in review marks.
        """
    )
    markdown = api.check(path).documents["protocol"].markdown
    line = next(ln for ln in markdown.splitlines() if "An item with" in ln)
    assert line.endswith("{.review}")
    assert "[DLT-ODD; added for this product; product.yaml:" in line
