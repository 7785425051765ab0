"""Word export: styles, numbering, tables, captions, header/footer, reproducibility, atomicity."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import docx
import pytest

from generator.export.docx import (
    REFERENCE_DOCX,
    DocxMetadata,
    docx_to_png,
    export_docx,
)
from generator.export.layout import HEADING_NUM_ID, PLACEHOLDERS
from generator.problems import ProblemsError, ProtocmcError

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "m11_sample.md"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
META = DocxMetadata(
    title="PCM-19 in R/R LBCL",
    document_id="PCM-19-101",
    version="0.3",
    status="DRAFT",
    date="22 November 2026",
)
HEADING = re.compile(r"^(#{1,4}) (\d+(?:\.\d+)*) (.+)$", re.MULTILINE)


def _export(markdown: str, out: Path) -> Path:
    export_docx(markdown, out, metadata=META, resource_path=FIXTURES)
    return out


@pytest.fixture(scope="module")
def sample_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _export(SAMPLE.read_text("utf-8"), tmp_path_factory.mktemp("docx") / "m11.docx")


def _part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name).decode("utf-8")


def test_reference_has_numbered_heading_and_protocol_styles() -> None:
    document = docx.Document(str(REFERENCE_DOCX))
    styles = {s.name: s for s in document.styles}
    for level in range(1, 5):
        ppr = styles[f"Heading {level}"].element.pPr
        num = ppr.find(f"{W}numPr")
        assert num is not None
        assert num.find(f"{W}numId").get(f"{W}val") == str(HEADING_NUM_ID)
        assert num.find(f"{W}ilvl").get(f"{W}val") == str(level - 1)
        unnumbered = styles[f"Heading {level} Unnumbered"].element.pPr.find(f"{W}numPr")
        assert unnumbered.find(f"{W}numId").get(f"{W}val") == "0"
    for name in ("Protocol Table", "Title Page Table"):
        assert styles[name].type == 3  # WD_STYLE_TYPE.TABLE
    for name in ("Insertion Point", "Needs Verification"):
        assert styles[name].type == 2  # WD_STYLE_TYPE.CHARACTER
    for name in ("Caption", "Table Caption", "Image Caption", "Reviewer Note", "Table Text"):
        assert styles[name].type == 1  # WD_STYLE_TYPE.PARAGRAPH
    section = document.sections[0]
    assert (section.page_width, section.page_height) == (12240 * 635, 15840 * 635)  # Letter
    assert section.left_margin is not None and round(section.left_margin.cm, 2) == 2.5


def test_reference_numbering_levels_read_1_1_1_1() -> None:
    numbering = _part(REFERENCE_DOCX, "word/numbering.xml")
    for text in ("%1", "%1.%2", "%1.%2.%3", "%1.%2.%3.%4"):
        assert f'w:lvlText w:val="{text}"' in numbering


def test_headings_lose_literal_numbers_but_keep_order(sample_docx: Path) -> None:
    document = docx.Document(str(sample_docx))
    literal = [(len(h), num, text) for h, num, text in HEADING.findall(SAMPLE.read_text("utf-8"))]
    rendered = [
        (int(p.style.name.split()[1]), p.text)
        for p in document.paragraphs
        if p.style is not None and re.fullmatch(r"Heading [1-4]", p.style.name)
    ]
    assert rendered == [(level, text) for level, _num, text in literal]
    assert len([r for r in rendered if r[0] == 1]) == 14
    assert not any(re.match(r"\d", text) for _level, text in rendered)
    names = [
        p.style.name for p in document.paragraphs if p.text == "Tailoring Register" and p.style
    ]
    assert names == ["Heading 1 Unnumbered"]


def test_heading_number_mismatch_is_reported(tmp_path: Path) -> None:
    markdown = "# 1 ONE\n\n## 1.1 First\n\n## 1.3 Third\n\n# 3 THREE\n"
    with pytest.raises(ProblemsError) as caught:
        _export(markdown, tmp_path / "bad.docx")
    messages = [p.message for p in caught.value.problems]
    assert messages == [
        "heading '1.3 Third' would be numbered 1.2 in Word",
        "heading '3 THREE' would be numbered 2 in Word",
    ]
    assert not (tmp_path / "bad.docx").exists()


def test_tables_use_protocol_style_and_repeat_header(sample_docx: Path) -> None:
    document = docx.Document(str(sample_docx))
    styles = [t.style.name if t.style else None for t in document.tables]
    assert styles[0] == "Title Page Table"
    assert set(styles[1:]) == {"Protocol Table"}
    for table in document.tables[1:]:
        first_row = table.rows[0]._tr
        assert first_row.find(f"{W}trPr/{W}tblHeader") is not None
        assert table.rows[0].cells[0].paragraphs[0].style.name == "Table Heading"
        assert table.rows[1].cells[0].paragraphs[0].style.name == "Table Text"


def test_captions_are_numbered_by_seq_fields(sample_docx: Path) -> None:
    xml = _part(sample_docx, "word/document.xml")
    assert xml.count('w:instr="SEQ Table') == 8
    assert xml.count('w:instr="SEQ Figure') == 1
    document = docx.Document(str(sample_docx))
    captions = [p.text for p in document.paragraphs if p.style and p.style.name == "Table Caption"]
    # python-docx does not read fldSimple results: the number sits in the SEQ field
    assert captions[0].startswith("Table") and captions[0].endswith(": Objectives and endpoints")
    assert re.search(r'SEQ Table \\\* ARABIC "><w:r><w:t>1</w:t>', xml)


def test_spans_notes_and_title_page(sample_docx: Path) -> None:
    xml = _part(sample_docx, "word/document.xml")
    assert 'w:rStyle w:val="InsertionPoint"' in xml
    assert 'w:rStyle w:val="NeedsVerification"' in xml
    assert "<w:ins " not in xml  # .insertion must not become a tracked change
    assert 'w:pStyle w:val="ReviewerNote"' in xml
    assert 'w:pStyle w:val="Title"' in xml
    assert xml.count('<w:br w:type="page"/>') == 3  # after title page, after TOC, explicit
    assert 'docPartGallery w:val="Table of Contents"' in xml
    assert "TOC \\o &quot;1-3&quot;" in xml
    assert xml.count('<w:pgSz w:w="15840" w:h="12240" w:orient="landscape"/>') == 1
    assert xml.count("rIdProtocmcHeader") == 3  # every section has the header
    assert 'w:updateFields w:val="true"' in _part(sample_docx, "word/settings.xml")


def test_toc_goes_after_title_page_without_toc_heading(tmp_path: Path) -> None:
    markdown = "::: {.title-page}\nA title\n\n| F | V |\n|---|---|\n| a | b |\n:::\n\n# 1 ONE\n"
    xml = _part(_export(markdown, tmp_path / "t.docx"), "word/document.xml")
    assert (
        xml.index('w:pStyle w:val="Title"')
        < xml.index("Table of Contents")
        < xml.index('w:pStyle w:val="Heading1"')
    )


def test_amendment_details_come_between_title_page_and_toc(tmp_path: Path) -> None:
    """M11 order: title page, Amendment Details (its own page), table of contents."""
    markdown = (
        "::: {.title-page}\nA title\n\n| F | V |\n|---|---|\n| a | b |\n:::\n\n"
        "::: {.amendment-details}\n**Amendment Details**\n\nWhy we amend.\n:::\n\n# 1 ONE\n"
    )
    xml = _part(_export(markdown, tmp_path / "t.docx"), "word/document.xml")
    title = xml.index('w:pStyle w:val="Title"')
    details = xml.index("Why we amend.")
    toc = xml.index("Table of Contents")
    assert title < details < toc < xml.index('w:pStyle w:val="Heading1"')
    assert xml.count('w:docPartGallery w:val="Table of Contents"') == 1
    # the contents start their own page: no break paragraph after the details, which spills
    # onto a blank page when the details' last table fills the page
    assert '<w:br w:type="page"/>' not in xml[details:toc]
    heading = xml.index('w:val="TOCHeading"')
    assert "<w:pageBreakBefore/>" in xml[heading : xml.index("</w:pPr>", heading)]


def test_header_and_footer_hold_metadata(sample_docx: Path) -> None:
    document = docx.Document(str(sample_docx))
    header = document.sections[0].header
    text = " ".join(c.text for t in header.tables for row in t.rows for c in row.cells)
    for value in ("PCM-19-101", "DRAFT", "0.3", "22 November 2026"):
        assert value in text
    footer_xml = _part(sample_docx, "word/footer1.xml")
    assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml
    for part in ("word/header1.xml", "word/footer1.xml", "docProps/custom.xml"):
        assert "[[protocmc:" not in _part(sample_docx, part)
    props = _part(sample_docx, "docProps/custom.xml")
    assert 'name="document_id"><vt:lpwstr>PCM-19-101<' in props
    assert document.core_properties.title == "PCM-19 in R/R LBCL"
    assert set(PLACEHOLDERS) == set(META.properties())


def test_metadata_is_xml_escaped(tmp_path: Path) -> None:
    meta = DocxMetadata(title="A & B", document_id="X<1>", version="1", status="D", date="d")
    out = tmp_path / "e.docx"
    export_docx("# 1 ONE\n", out, metadata=meta, resource_path=FIXTURES)
    document = docx.Document(str(out))  # parses: the XML is well formed
    assert document.core_properties.title == "A & B"
    assert "X&lt;1&gt;" in _part(out, "word/header1.xml")


def test_output_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    markdown = SAMPLE.read_text("utf-8")
    first = _export(markdown, tmp_path / "a.docx").read_bytes()
    second = _export(markdown, tmp_path / "b.docx").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.docx") as zf:
        assert "2026-01-01T00:00:00Z" in zf.read("docProps/core.xml").decode()


def test_failed_export_keeps_previous_file(tmp_path: Path) -> None:
    out = tmp_path / "keep.docx"
    out.write_bytes(b"previous")
    bad = tmp_path / "bad.lua"
    bad.write_text("function Pandoc(doc) error('boom') end\n")
    with pytest.raises(ProtocmcError, match="boom"):
        export_docx("# 1 ONE\n", out, metadata=META, resource_path=FIXTURES, extra_filters=[bad])
    assert out.read_bytes() == b"previous"
    assert {p.name for p in tmp_path.iterdir()} == {"keep.docx", "bad.lua"}  # no temp file left


def test_missing_image_is_a_warning(tmp_path: Path) -> None:
    problems = export_docx(
        "# 1 ONE\n\n![A figure](figures/missing.png)\n",
        tmp_path / "w.docx",
        metadata=META,
        resource_path=tmp_path,
    )
    assert problems and "missing.png" in problems[0].message


@pytest.mark.docx
@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="LibreOffice/poppler not installed",
)
def test_rendered_heading_numbers_equal_literal_numbers(sample_docx: Path, tmp_path: Path) -> None:
    import subprocess

    pngs = docx_to_png(sample_docx, tmp_path)
    assert pngs
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "m11.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = [(num, title) for _h, num, title in HEADING.findall(SAMPLE.read_text("utf-8"))]
    # body headings (after the TOC): number, spaces, title at the start of a line
    body = text[text.index("Page 3 of") :]
    found = []
    for num, title in expected:
        match = re.search(rf"^\s*{re.escape(num)}\s+{re.escape(title[:25])}", body, re.MULTILINE)
        found.append((num, bool(match)))
    assert all(ok for _num, ok in found), [n for n, ok in found if not ok]
    assert "PCM-19-101" in text and "DRAFT" in text and "Page 1 of" in text
