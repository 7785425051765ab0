"""Word layout: styles on every paragraph, fonts, paper per locale, tables that read well."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree

from generator.export.docx import (
    REFERENCE_DOCX,
    SPACE_AFTER_TABLE,
    DocxMetadata,
    convert_docx,
)
from generator.export.layout import A4, LETTER, MARGIN, paper_for_locale
from generator.problems import ProtocmcError

FIXTURES = Path(__file__).parent / "fixtures"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
NS = {"w": W_NS}


def meta(locale: str | None = None) -> DocxMetadata:
    return DocxMetadata(
        title="T", document_id="PCM-1", version="1", status="DRAFT", date="d", locale=locale
    )


def convert(markdown: str, locale: str | None = None) -> bytes:
    data, _warnings = convert_docx(markdown, metadata=meta(locale), resource_path=FIXTURES)
    return data


def part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return etree.fromstring(zf.read(name))


def styles_of(paragraphs: list[etree._Element]) -> list[str | None]:
    out = []
    for p in paragraphs:
        style = p.find("w:pPr/w:pStyle", NS)
        out.append(None if style is None else style.get(f"{W}val"))
    return out


def grid(table: etree._Element) -> list[int]:
    return [int(c.get(f"{W}w")) for c in table.findall("w:tblGrid/w:gridCol", NS)]


# --------------------------------------------------------------------------- styles and fonts


def test_normal_is_the_default_paragraph_style_and_fonts_are_arial() -> None:
    document = docx.Document(str(REFERENCE_DOCX))
    assert document.styles.default(docx.enum.style.WD_STYLE_TYPE.PARAGRAPH).name == "Normal"
    with zipfile.ZipFile(REFERENCE_DOCX) as zf:
        styles = zf.read("word/styles.xml").decode()
        fonts = zf.read("word/fontTable.xml").decode()
        theme = zf.read("word/theme/theme1.xml").decode()
    defaults = re.search(r"<w:docDefaults>.*?</w:docDefaults>", styles, re.DOTALL)
    assert defaults is not None and 'w:ascii="Arial"' in defaults.group(0)
    assert "Liberation" not in styles + fonts + theme
    assert re.search(r'<w:font [^>]*w:name="Arial"', fonts)
    latin = re.findall(r'<a:latin typeface="([^"]*)"', theme)
    assert latin == ["Arial", "Arial"]  # heading and body theme fonts


MIXED = """\
Intro paragraph.

- tight one
- tight two

1. loose one

   more of one

2. loose two

**At screening**

| A | B |
|---|---|
| x |   |

| C | D |
|---|---|
| y | z |

::: {.page-break}
:::

Last paragraph.
"""


def test_every_paragraph_and_cell_has_a_style() -> None:
    body = part(convert(MIXED), "word/document.xml")
    paragraphs = body.findall(".//w:p", NS)
    assert None not in styles_of(paragraphs)
    # python-docx, as a Word importer would read it
    document = docx.Document(io.BytesIO(convert(MIXED)))
    assert all(p.style is not None for p in document.paragraphs)
    cells = [p for t in document.tables for r in t.rows for c in r.cells for p in c.paragraphs]
    heading, text = ["Table Heading"] * 2, ["Table Text"] * 2
    assert [p.style.name for p in cells if p.style] == heading + text + heading + text


def test_loose_list_items_are_body_text_and_bold_lines_are_block_labels() -> None:
    document = docx.Document(io.BytesIO(convert(MIXED)))
    by_text = {p.text: p.style.name for p in document.paragraphs if p.style}
    assert by_text["tight one"] == "Compact"
    assert by_text["loose one"] == by_text["more of one"] == "Body Text"
    assert by_text["At screening"] == "Block Label"
    block_label = next(s for s in document.styles if s.name == "Block Label")
    assert block_label.paragraph_format.keep_with_next
    assert not any(p.style.name.startswith("Heading") for p in document.paragraphs if p.style)


def test_adjacent_tables_are_kept_apart_by_a_styled_paragraph() -> None:
    body = part(convert(MIXED), "word/document.xml")
    tables = body.findall("w:body/w:tbl", NS)
    assert len(tables) == 2
    separator = tables[0].getnext()
    assert separator.tag == f"{W}p" and styles_of([separator]) == ["BodyText"]
    assert separator.getnext() is tables[1]


def test_a_heading_straight_after_a_paragraph_or_list_line_is_a_heading() -> None:
    markdown = "# 1 ONE\n\nText line.\n## 1.1 Glued\n\n- item\n# Appendix {.unnumbered}\n\nEnd.\n"
    document = docx.Document(io.BytesIO(convert(markdown)))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style]
    assert ("Heading 2", "Glued") in headings
    assert ("Heading 1 Unnumbered", "Appendix") in headings
    assert ("Compact", "item") in headings  # the list stays tight
    assert not any("#" in text for _style, text in headings)


# --------------------------------------------------------------------------- paper and locale


@pytest.mark.parametrize(
    ("locale", "paper", "language"),
    [(None, LETTER, "en-GB"), ("en-US", LETTER, "en-US"), ("en-GB", A4, "en-GB")],
)
def test_locale_sets_paper_in_portrait_and_landscape_sections(
    locale: str | None, paper: object, language: str
) -> None:
    assert paper_for_locale(locale) is paper
    markdown = "# 1 ONE\n\nText.\n\n::: {.landscape}\n| A | B |\n|---|---|\n| x | y |\n:::\n"
    data = convert(markdown, locale)
    body = part(data, "word/document.xml")
    sizes = [
        (int(s.get(f"{W}w")), int(s.get(f"{W}h")), s.get(f"{W}orient"))
        for s in body.iter(f"{W}pgSz")
    ]
    width, height = paper_for_locale(locale).width, paper_for_locale(locale).height
    assert sizes == [(width, height, None), (height, width, "landscape"), (width, height, None)]
    styles = part(data, "word/styles.xml")
    lang = styles.find("w:docDefaults/w:rPrDefault/w:rPr/w:lang", NS)
    assert lang is not None and lang.get(f"{W}val") == language
    # the TOC's right-aligned page numbers sit at the text block's right edge
    toc1 = styles.find("w:style[@w:styleId='TOC1']", NS)
    tabs = [int(t.get(f"{W}pos")) for t in toc1.iter(f"{W}tab") if t.get(f"{W}val") == "right"]
    assert tabs == [width - 2 * MARGIN]
    header_grid = [int(c.get(f"{W}w")) for c in part(data, "word/header1.xml").iter(f"{W}gridCol")]
    assert sum(header_grid) == pytest.approx(width - 2 * MARGIN, abs=1)


def test_an_unknown_locale_is_an_error() -> None:
    with pytest.raises(ProtocmcError, match="locale 'english'"):
        meta("english")


# --------------------------------------------------------------------------- tables

WIDE = """\
| Item | Expected | Lots | Why |
|---|---|---:|---|
| Replication-competent lentivirus | Acceptance criterion required; method qualified | 16 | the framework expectation is marked needs-verification |
| Viability | Report results acceptable; data-derived limit from 3 lots; method fit-for-purpose | 16 | — |
| PCT19-001 | Acceptance criterion required | 4 | clinical lots cover only part of the range (see the specification lifecycle plan) |

Table: Readiness
Notes to the table:

Body text after the notes.
"""


def test_tables_fill_the_text_width_of_their_section() -> None:
    markdown = WIDE + "\n::: {.landscape}\n" + WIDE + ":::\n"
    for locale in ("en-US", "en-GB"):
        paper = paper_for_locale(locale)
        tables = part(convert(markdown, locale), "word/document.xml").findall(".//w:tbl", NS)
        assert [sum(grid(t)) for t in tables] == [
            paper.width - 2 * MARGIN,
            paper.height - 2 * MARGIN,
        ]


def test_column_widths_follow_the_content_not_the_separator_dashes() -> None:
    dashes = WIDE.replace("|---|---|---:|---|", "|--------------------|-|-:|-|")
    first = part(convert(WIDE), "word/document.xml").find(".//w:tbl", NS)
    second = part(convert(dashes), "word/document.xml").find(".//w:tbl", NS)
    widths = grid(first)
    assert widths == grid(second)
    item, expected, lots, why = widths
    assert lots < item < expected  # a number column stays narrow
    # no column is narrower than its longest unbreakable word (9 pt Arial, 0.18 twips/unit):
    # "PCT19-001" (a lot number never breaks at its hyphen) needs ~920 twips with margins
    assert item > 920 and lots > 400
    assert why > lots


def test_rows_do_not_split_and_header_rows_repeat() -> None:
    table = part(convert(WIDE), "word/document.xml").find(".//w:tbl", NS)
    rows = table.findall("w:tr", NS)
    assert all(r.find("w:trPr/w:cantSplit", NS) is not None for r in rows)
    assert rows[0].find("w:trPr/w:tblHeader", NS) is not None


def test_a_row_too_tall_for_half_a_page_may_split() -> None:
    long_text = " ".join(["word"] * 2500)
    markdown = f"| A | B |\n|---|---|\n| short | short |\n| tall | {long_text} |\n"
    rows = part(convert(markdown), "word/document.xml").findall(".//w:tr", NS)
    can_split = [r.find("w:trPr/w:cantSplit", NS) is None for r in rows]
    assert can_split == [False, False, True]


def test_caption_line_break_moves_the_notes_after_the_table_with_space() -> None:
    body = part(convert(WIDE), "word/document.xml").find("w:body", NS)
    caption, table, notes, after = list(body)[:4]
    assert "".join(caption.itertext()).endswith("Readiness")
    assert table.tag == f"{W}tbl"
    assert "".join(notes.itertext()) == "Notes to the table:"
    spacing = notes.find("w:pPr/w:spacing", NS)
    assert spacing is not None and spacing.get(f"{W}before") == str(SPACE_AFTER_TABLE)
    assert "".join(after.itertext()) == "Body text after the notes."


def test_headings_and_captions_after_a_table_keep_their_own_spacing() -> None:
    markdown = "| A |\n|---|\n| x |\n\n# 1 ONE\n\n| B |\n|---|\n| y |\n\nTable: Second\n"
    body = part(convert(markdown), "word/document.xml").find("w:body", NS)
    for table in body.findall("w:tbl", NS):
        following = table.getnext()
        assert following.find("w:pPr/w:spacing", NS) is None


def test_a_tight_list_is_followed_by_paragraph_spacing() -> None:
    body = part(convert("- one\n- two\n\nAfter the list.\n"), "word/document.xml")
    after = [p for p in body.iter(f"{W}p") if "".join(p.itertext()) == "After the list."]
    spacing = after[0].find("w:pPr/w:spacing", NS)
    assert spacing is not None and int(spacing.get(f"{W}before")) > 0


def test_glyph_widths_in_tables_lua_match_liberation_sans() -> None:
    """tables.lua measures text with Arial's advance widths; Liberation Sans (what
    LibreOffice substitutes) is metric-compatible, so the two must agree."""
    font_dir = Path("/usr/share/fonts/truetype/liberation")
    if not (font_dir / "LiberationSans-Regular.ttf").exists():
        pytest.skip("fonts-liberation not installed")
    from PIL import ImageFont

    lua = (Path(REFERENCE_DOCX).parent / "filters" / "tables.lua").read_text("utf-8")
    for name, font_file in (
        ("ASCII_REGULAR", "LiberationSans-Regular.ttf"),
        ("ASCII_BOLD", "LiberationSans-Bold.ttf"),
    ):
        table = re.search(rf"local {name} = \{{(.*?)\}}", lua, re.DOTALL)
        assert table is not None
        widths = [int(w) for w in re.findall(r"\d+", table.group(1))]
        font = ImageFont.truetype(str(font_dir / font_file), 1000)
        assert widths == [round(font.getlength(chr(c))) for c in range(32, 127)], name


def test_a_captioned_table_after_a_table_gets_no_empty_paragraph() -> None:
    markdown = "| A |\n|---|\n| x |\n\nTable: First\n\n| B |\n|---|\n| y |\n\nTable: Second\n"
    body = part(convert(markdown), "word/document.xml").find("w:body", NS)
    kinds = [
        "table" if el.tag == f"{W}tbl" else "".join(el.itertext()).replace("\xa0", " ") or "EMPTY"
        for el in body
        if el.tag in (f"{W}tbl", f"{W}p")
    ]
    assert kinds == ["Table 1: First", "table", "Table 2: Second", "table"]


def test_with_more_columns_than_the_page_holds_headings_give_way_first() -> None:
    header = "| " + " | ".join(["Date"] + ["Concentration"] * 8) + " |"
    row = "| 2025-01-14 | " + " | ".join(["12"] * 8) + " |"
    markdown = f"{header}\n|{'---|' * 9}\n{row}\n"
    widths = grid(part(convert(markdown), "word/document.xml").find(".//w:tbl", NS))
    date = widths[0]
    # "2025-01-14" at 9 pt Arial: 8 digits of 556 and 2 hyphens of 333 thousandths of an em,
    # 920 twips, plus 170 of cell margins: kept whole while the headings wrap
    assert date >= 920 + 170
    assert all(date > w for w in widths[1:])
    assert sum(widths) == 12240 - 2 * MARGIN


def test_bold_cell_text_is_measured_in_bold() -> None:
    """A status column of "**Missing**" must fit the bold word, not the regular one."""
    rows = "\n".join(f"| {'text ' * 30} | **Missing** |" for _ in range(3))
    plain = f"| A | B |\n|---|---|\n{rows.replace('**', '')}\n"
    bold = f"| A | B |\n|---|---|\n{rows}\n"
    width_plain = grid(part(convert(plain), "word/document.xml").find(".//w:tbl", NS))[1]
    width_bold = grid(part(convert(bold), "word/document.xml").find(".//w:tbl", NS))[1]
    # "Missing" is 3389 thousandths of an em in Arial, 3723 in Arial Bold: 60 twips at 9 pt
    assert width_bold - width_plain >= 55
