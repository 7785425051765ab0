"""Build `templates/docx/reference.docx`, the style source for every Word export.

Starts from pandoc's own default reference document (so every style pandoc emits exists) and
edits its XML parts with lxml:

- page: US Letter portrait, 2.5 cm margins, header and footer 1.25 cm from the edge;
- fonts: Arial everywhere (every Word installation has it; LibreOffice on Linux renders it with the
  metric-compatible Liberation Sans from fonts-liberation, so line and page breaks match), 11 pt
  body, 9 pt table text; the theme fonts are Arial too, so a style a writer adds in Word matches;
- Normal is the default paragraph style (`w:default="1"`): a paragraph without a style reads as
  Normal in Word and python-docx;
- Heading 1-4 carry a multilevel list (1, 1.1, 1.1.1, 1.1.1.1), so Word and LibreOffice number
  the headings; "Heading N Unnumbered" styles share the look without the number;
- Word's comment styles (annotation text and reference) for review comments;
- protocol-specific styles: Insertion Point, Needs Verification (character), Reviewer Note,
  Table Text, Table Heading, Title Page Label/Value, Block Label (a bold lead-in line such as
  "At screening" that stays with what follows; not a heading) (paragraph), Protocol Table and
  Title Page Table (table);
- a header (document id, status, version, date) and a footer ("Page X of Y") made of fields whose
  shown values are placeholder tokens that `generator.export.docx` replaces per document;
- `w:updateFields` in settings.xml, so Word refreshes the table of contents when it opens.

The output is deterministic (fixed zip timestamps, fixed member order): re-running the script
gives a byte-identical file. Run from the repository root:

    python scripts/make_reference_docx.py [--pandoc PATH] [--out templates/docx/reference.docx]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import zipfile
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from generator.export.layout import (  # noqa: E402
    HEADER_FOOTER_DISTANCE,
    HEADING_NUM_ID,
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    PLACEHOLDERS,
    TEXT_WIDTH,
)

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NSMAP_DECL = f'xmlns:w="{W_NS}" xmlns:r="{R_NS}"'
W = f"{{{W_NS}}}"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)

BODY_FONT = "Arial"
ACCENT = "1F3864"  # dark navy for headings and table header text
HEADER_FILL = "D9E2F3"  # light blue-grey for table header rows
RULE = "7F7F7F"  # table borders

HEADER_RID = "rIdProtocmcHeader"
FOOTER_RID = "rIdProtocmcFooter"


def _fonts(font: str = BODY_FONT) -> str:
    return f'<w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}"/>'


def _style(
    kind: str,
    style_id: str,
    name: str,
    *,
    based_on: str | None = None,
    next_style: str | None = None,
    ppr: str = "",
    rpr: str = "",
    extra: str = "",
    custom: bool = True,
    default: bool = False,
    ui_priority: int | None = None,
) -> str:
    parts = [
        f'<w:style {NSMAP_DECL} w:type="{kind}"'
        + (' w:default="1"' if default else "")
        + (' w:customStyle="1"' if custom else "")
        + f' w:styleId="{style_id}">',
        f'<w:name w:val="{name}"/>',
    ]
    if based_on:
        parts.append(f'<w:basedOn w:val="{based_on}"/>')
    if next_style:
        parts.append(f'<w:next w:val="{next_style}"/>')
    if ui_priority is not None:
        parts.append(f'<w:uiPriority w:val="{ui_priority}"/>')
    parts.append("<w:qFormat/>")
    if ppr:
        parts.append(f"<w:pPr>{ppr}</w:pPr>")
    if rpr:
        parts.append(f"<w:rPr>{rpr}</w:rPr>")
    parts.append(extra)
    parts.append("</w:style>")
    return "".join(parts)


def _size(half_points: int) -> str:
    return f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'


HEADING_LOOK = {
    # level: (size in half-points, space before, space after, extra run properties)
    1: (28, 360, 120, "<w:b/><w:bCs/><w:caps/>"),
    2: (24, 240, 120, "<w:b/><w:bCs/>"),
    3: (22, 200, 80, "<w:b/><w:bCs/>"),
    4: (22, 160, 60, "<w:b/><w:bCs/><w:i/><w:iCs/>"),
}
# left indent = hanging indent = room for the number at each level (twips)
HEADING_INDENT = {1: 567, 2: 737, 3: 907, 4: 1077}


def heading_styles() -> list[str]:
    out = []
    for level, (size, before, after, extra) in HEADING_LOOK.items():
        ind = HEADING_INDENT[level]
        common_ppr = (
            f'<w:keepNext/><w:keepLines/><w:spacing w:before="{before}" w:after="{after}"/>'
        )
        rpr = _fonts() + extra + f'<w:color w:val="{ACCENT}"/>' + _size(size)
        out.append(
            _style(
                "paragraph",
                f"Heading{level}",
                f"heading {level}",
                based_on="Normal",
                next_style="BodyText",
                custom=False,
                ui_priority=9,
                ppr=common_ppr
                + f'<w:numPr><w:ilvl w:val="{level - 1}"/>'
                + f'<w:numId w:val="{HEADING_NUM_ID}"/></w:numPr>'
                + f'<w:ind w:left="{ind}" w:hanging="{ind}"/>'
                + f'<w:outlineLvl w:val="{level - 1}"/>',
                rpr=rpr,
            )
        )
        out.append(
            _style(
                "paragraph",
                f"Heading{level}Unnumbered",
                f"Heading {level} Unnumbered",
                based_on=f"Heading{level}",
                next_style="BodyText",
                ppr='<w:numPr><w:ilvl w:val="0"/><w:numId w:val="0"/></w:numPr>'
                '<w:ind w:left="0" w:firstLine="0"/>'
                f'<w:outlineLvl w:val="{level - 1}"/>',
            )
        )
    return out


def heading_numbering() -> tuple[str, str]:
    lvls = []
    for level in range(9):
        if level < 4:
            text = ".".join(f"%{i + 1}" for i in range(level + 1))
            ind = HEADING_INDENT[level + 1]
            lvls.append(
                f'<w:lvl w:ilvl="{level}"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
                f'<w:pStyle w:val="Heading{level + 1}"/>'
                f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
                f'<w:pPr><w:ind w:left="{ind}" w:hanging="{ind}"/></w:pPr></w:lvl>'
            )
        else:
            lvls.append(
                f'<w:lvl w:ilvl="{level}"><w:start w:val="1"/><w:numFmt w:val="none"/>'
                '<w:lvlText w:val=""/><w:lvlJc w:val="left"/></w:lvl>'
            )
    abstract = (
        f'<w:abstractNum {NSMAP_DECL} w:abstractNumId="{HEADING_NUM_ID}">'
        '<w:nsid w:val="5052434D"/><w:multiLevelType w:val="multilevel"/>'
        '<w:tmpl w:val="5052434D"/><w:name w:val="Protocol Headings"/>'
        + "".join(lvls)
        + "</w:abstractNum>"
    )
    num = (
        f'<w:num {NSMAP_DECL} w:numId="{HEADING_NUM_ID}">'
        f'<w:abstractNumId w:val="{HEADING_NUM_ID}"/></w:num>'
    )
    return abstract, num


def _borders(tag: str, val: str = "single", sz: int = 4, color: str = RULE) -> str:
    sides = ("top", "left", "bottom", "right", "insideH", "insideV")
    inner = "".join(
        f'<w:{s} w:val="{val}" w:sz="{sz}" w:space="0" w:color="{color}"/>' for s in sides
    )
    return f"<w:{tag}>{inner}</w:{tag}>"


def _cell_margins() -> str:
    return (
        '<w:tblCellMar><w:top w:w="29" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>'
        '<w:bottom w:w="29" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar>'
    )


def table_styles() -> list[str]:
    protocol = _style(
        "table",
        "ProtocolTable",
        "Protocol Table",
        based_on="TableNormal",
        ui_priority=59,
        ppr='<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>',
        rpr=_size(18),
        extra=(
            '<w:tblPr><w:tblInd w:w="0" w:type="dxa"/>'
            + _borders("tblBorders")
            + _cell_margins()
            + "</w:tblPr>"
            '<w:tblStylePr w:type="firstRow"><w:pPr><w:keepNext/></w:pPr>'
            f'<w:rPr><w:b/><w:bCs/><w:color w:val="{ACCENT}"/></w:rPr>'
            "<w:trPr><w:tblHeader/></w:trPr>"
            f'<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{HEADER_FILL}"/>'
            '<w:vAlign w:val="bottom"/></w:tcPr></w:tblStylePr>'
        ),
    )
    title_page = _style(
        "table",
        "TitlePageTable",
        "Title Page Table",
        based_on="TableNormal",
        ui_priority=59,
        ppr='<w:spacing w:before="0" w:after="0"/>',
        rpr=_size(20),
        extra=(
            '<w:tblPr><w:jc w:val="center"/>'
            + _borders("tblBorders", color="A6A6A6")
            + '<w:tblCellMar><w:top w:w="57" w:type="dxa"/><w:left w:w="113" w:type="dxa"/>'
            '<w:bottom w:w="57" w:type="dxa"/><w:right w:w="113" w:type="dxa"/></w:tblCellMar>'
            "</w:tblPr>"
            '<w:tblStylePr w:type="firstCol"><w:rPr><w:b/><w:bCs/></w:rPr>'
            '<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="F2F2F2"/></w:tcPr>'
            "</w:tblStylePr>"
        ),
    )
    return [protocol, title_page]


def paragraph_styles() -> list[str]:
    tight = '<w:spacing w:before="20" w:after="20" w:line="240" w:lineRule="auto"/>'
    right_tab = f'<w:tab w:val="right" w:leader="dot" w:pos="{TEXT_WIDTH}"/>'
    styles = [
        _style(
            "paragraph",
            "Normal",
            "Normal",
            custom=False,
            default=True,
            ppr='<w:spacing w:after="120" w:line="264" w:lineRule="auto"/>',
        ),
        _style(
            "paragraph",
            "BodyText",
            "Body Text",
            based_on="Normal",
            custom=False,
            ppr='<w:spacing w:before="0" w:after="120"/>',
        ),
        _style(
            "paragraph",
            "Compact",
            "Compact",
            based_on="BodyText",
            ppr='<w:spacing w:before="0" w:after="40"/>',
        ),
        _style(
            "paragraph",
            "Title",
            "Title",
            based_on="Normal",
            next_style="BodyText",
            custom=False,
            ppr='<w:spacing w:before="1800" w:after="600" w:line="240" w:lineRule="auto"/>'
            '<w:jc w:val="center"/>',
            rpr=_fonts() + f'<w:b/><w:bCs/><w:color w:val="{ACCENT}"/>' + _size(40),
        ),
        _style(
            "paragraph",
            "TitlePageLabel",
            "Title Page Label",
            based_on="Normal",
            ppr=tight,
            rpr="<w:b/><w:bCs/>" + _size(20),
        ),
        _style(
            "paragraph",
            "TitlePageValue",
            "Title Page Value",
            based_on="Normal",
            ppr=tight,
            rpr=_size(20),
        ),
        _style(
            "paragraph",
            "TableText",
            "Table Text",
            based_on="Normal",
            ppr=tight,
            rpr=_size(18),
        ),
        _style(
            "paragraph",
            "TableHeading",
            "Table Heading",
            based_on="TableText",
            ppr="<w:keepNext/>",
            rpr=f'<w:b/><w:bCs/><w:color w:val="{ACCENT}"/>',
        ),
        _style(
            "paragraph",
            "Caption",
            "caption",
            based_on="Normal",
            next_style="BodyText",
            custom=False,
            ui_priority=35,
            ppr='<w:keepNext/><w:spacing w:before="240" w:after="80"/>',
            rpr=f'<w:b/><w:bCs/><w:color w:val="{ACCENT}"/>' + _size(20),
        ),
        _style(
            "paragraph",
            "TableCaption",
            "Table Caption",
            based_on="Caption",
            ppr="<w:keepNext/>",
        ),
        _style(
            "paragraph",
            "ImageCaption",
            "Image Caption",
            based_on="Caption",
            ppr='<w:keepNext w:val="0"/><w:spacing w:before="80" w:after="240"/>',
        ),
        _style(
            "paragraph",
            "CaptionedFigure",
            "Captioned Figure",
            based_on="Normal",
            ppr='<w:keepNext/><w:spacing w:before="240" w:after="0"/><w:jc w:val="center"/>',
        ),
        _style(
            "paragraph",
            "Figure",
            "Figure",
            based_on="Normal",
            ppr='<w:jc w:val="center"/>',
        ),
        _style(
            "paragraph",
            "BlockLabel",
            "Block Label",
            based_on="BodyText",
            next_style="BodyText",
            ppr='<w:keepNext/><w:spacing w:before="160" w:after="60"/>',
            rpr="<w:b/><w:bCs/>",
        ),
        _style(
            "paragraph",
            "ReviewerNote",
            "Reviewer Note",
            based_on="Normal",
            ppr='<w:pBdr><w:left w:val="single" w:sz="24" w:space="6" w:color="C55A11"/></w:pBdr>'
            '<w:shd w:val="clear" w:color="auto" w:fill="FBE5D6"/>'
            '<w:spacing w:before="60" w:after="120"/><w:ind w:left="170" w:right="113"/>',
            rpr='<w:i/><w:iCs/><w:color w:val="833C0B"/>' + _size(20),
        ),
        _style(
            "paragraph",
            "TOCHeading",
            "TOC Heading",
            based_on="Normal",
            next_style="BodyText",
            custom=False,
            ui_priority=39,
            ppr='<w:keepNext/><w:spacing w:before="0" w:after="240"/><w:outlineLvl w:val="9"/>',
            rpr=f'<w:b/><w:bCs/><w:caps/><w:color w:val="{ACCENT}"/>' + _size(28),
        ),
        _style(
            "paragraph",
            "TOC1",
            "toc 1",
            based_on="Normal",
            next_style="Normal",
            custom=False,
            ui_priority=39,
            ppr=f'<w:tabs><w:tab w:val="left" w:pos="567"/>{right_tab}</w:tabs>'
            '<w:spacing w:before="120" w:after="20"/>'
            '<w:ind w:left="567" w:right="567" w:hanging="567"/>',
            rpr="<w:b/><w:bCs/>" + _size(20),
        ),
        _style(
            "paragraph",
            "TOC2",
            "toc 2",
            based_on="Normal",
            next_style="Normal",
            custom=False,
            ui_priority=39,
            ppr=f'<w:tabs><w:tab w:val="left" w:pos="1078"/>{right_tab}</w:tabs>'
            '<w:spacing w:before="0" w:after="20"/>'
            '<w:ind w:left="1078" w:right="567" w:hanging="794"/>',
            rpr=_size(20),
        ),
        _style(
            "paragraph",
            "TOC3",
            "toc 3",
            based_on="Normal",
            next_style="Normal",
            custom=False,
            ui_priority=39,
            ppr=f'<w:tabs><w:tab w:val="left" w:pos="1531"/>{right_tab}</w:tabs>'
            '<w:spacing w:before="0" w:after="20"/>'
            '<w:ind w:left="1531" w:right="567" w:hanging="964"/>',
            rpr=_size(20),
        ),
        _style(
            "paragraph",
            "CommentText",
            "annotation text",
            based_on="Normal",
            custom=False,
            ui_priority=99,
            ppr='<w:spacing w:before="0" w:after="60" w:line="240" w:lineRule="auto"/>',
            rpr=_size(18),
        ),
        _style(
            "paragraph",
            "Header",
            "header",
            based_on="Normal",
            custom=False,
            ppr=f'<w:tabs><w:tab w:val="center" w:pos="{TEXT_WIDTH // 2}"/>'
            f'<w:tab w:val="right" w:pos="{TEXT_WIDTH}"/></w:tabs>'
            '<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>',
            rpr='<w:color w:val="404040"/>' + _size(16),
        ),
        _style(
            "paragraph",
            "Footer",
            "footer",
            based_on="Header",
            custom=False,
        ),
    ]
    return styles


def character_styles() -> list[str]:
    return [
        _style(
            "character",
            "InsertionPoint",
            "Insertion Point",
            based_on="DefaultParagraphFont",
            rpr='<w:i/><w:iCs/><w:color w:val="0070C0"/>',
        ),
        _style(
            "character",
            "NeedsVerification",
            "Needs Verification",
            based_on="DefaultParagraphFont",
            rpr='<w:color w:val="7F6000"/><w:shd w:val="clear" w:color="auto" w:fill="FFE699"/>',
        ),
        _style(
            "character",
            "CommentReference",
            "annotation reference",
            based_on="DefaultParagraphFont",
            custom=False,
            ui_priority=99,
            rpr=_size(16),
        ),
        _style(
            "character",
            "Hyperlink",
            "Hyperlink",
            based_on="DefaultParagraphFont",
            custom=False,
            rpr='<w:color w:val="0563C1"/>',
        ),
    ]


def _field(instr: str, shown: str, rpr: str = "") -> str:
    run_pr = f"<w:rPr>{rpr}</w:rPr>" if rpr else ""
    return (
        f'<w:r>{run_pr}<w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r>{run_pr}<w:instrText xml:space="preserve"> {instr} </w:instrText></w:r>'
        f'<w:r>{run_pr}<w:fldChar w:fldCharType="separate"/></w:r>'
        f'<w:r>{run_pr}<w:t xml:space="preserve">{shown}</w:t></w:r>'
        f'<w:r>{run_pr}<w:fldChar w:fldCharType="end"/></w:r>'
    )


def _text(text: str, rpr: str = "") -> str:
    run_pr = f"<w:rPr>{rpr}</w:rPr>" if rpr else ""
    return f'<w:r>{run_pr}<w:t xml:space="preserve">{text}</w:t></w:r>'


def _tab() -> str:
    return "<w:r><w:tab/></w:r>"


def _prop(name: str) -> str:
    return _field(f"DOCPROPERTY {name} \\* MERGEFORMAT", PLACEHOLDERS[name])


def _header_cell(content: str, align: str) -> str:
    return (
        '<w:tc><w:tcPr><w:tcW w:w="2500" w:type="pct"/></w:tcPr>'
        f'<w:p><w:pPr><w:pStyle w:val="Header"/><w:jc w:val="{align}"/></w:pPr>{content}</w:p>'
        "</w:tc>"
    )


def header_xml() -> str:
    """Two-row, full-width borderless table: a percentage width follows landscape sections."""
    bold = "<w:b/><w:bCs/>"
    rows = [
        (
            _field("DOCPROPERTY document_id \\* MERGEFORMAT", PLACEHOLDERS["document_id"], bold),
            _field("DOCPROPERTY status \\* MERGEFORMAT", PLACEHOLDERS["status"], bold),
        ),
        (_text("Version ") + _prop("version"), _prop("version_date")),
    ]
    table = (
        '<w:tbl><w:tblPr><w:tblW w:w="5000" w:type="pct"/>'
        '<w:tblBorders><w:bottom w:val="single" w:sz="4" w:space="0" '
        f'w:color="{RULE}"/></w:tblBorders>'
        '<w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:left w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/>'
        '</w:tblCellMar><w:tblLook w:val="0000"/></w:tblPr>'
        f'<w:tblGrid><w:gridCol w:w="{TEXT_WIDTH // 2}"/><w:gridCol w:w="{TEXT_WIDTH // 2}"/>'
        "</w:tblGrid>"
        + "".join(
            f"<w:tr>{_header_cell(left, 'left')}{_header_cell(right, 'right')}</w:tr>"
            for left, right in rows
        )
        + "</w:tbl>"
    )
    spacer = '<w:p><w:pPr><w:pStyle w:val="Header"/></w:pPr></w:p>'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<w:hdr {NSMAP_DECL}>{table}{spacer}</w:hdr>"
    )


def footer_xml() -> str:
    para = (
        '<w:p><w:pPr><w:pStyle w:val="Footer"/>'
        f'<w:pBdr><w:top w:val="single" w:sz="4" w:space="4" w:color="{RULE}"/></w:pBdr>'
        '<w:jc w:val="center"/></w:pPr>'
        + _text("Page ")
        + _field("PAGE \\* Arabic \\* MERGEFORMAT", "1")
        + _text(" of ")
        + _field("NUMPAGES \\* Arabic \\* MERGEFORMAT", "1")
        + "</w:p>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<w:ftr {NSMAP_DECL}>{para}</w:ftr>"
    )


def section_properties() -> str:
    return (
        f"<w:sectPr {NSMAP_DECL}>"
        f'<w:headerReference w:type="default" r:id="{HEADER_RID}"/>'
        f'<w:footerReference w:type="default" r:id="{FOOTER_RID}"/>'
        '<w:footnotePr><w:numRestart w:val="eachSect"/></w:footnotePr>'
        f'<w:pgSz w:w="{PAGE_WIDTH}" w:h="{PAGE_HEIGHT}"/>'
        f'<w:pgMar w:top="{MARGIN}" w:right="{MARGIN}" w:bottom="{MARGIN}" w:left="{MARGIN}"'
        f' w:header="{HEADER_FOOTER_DISTANCE}" w:footer="{HEADER_FOOTER_DISTANCE}" w:gutter="0"/>'
        "</w:sectPr>"
    )


def _replace_styles(root: etree._Element, new_styles: list[str]) -> None:
    by_id = {el.get(f"{W}styleId"): el for el in root.findall(f"{W}style")}
    for xml in new_styles:
        new = etree.fromstring(xml)
        style_id = new.get(f"{W}styleId")
        old = by_id.get(style_id)
        if old is not None:
            old.addprevious(new)
            root.remove(old)
        else:
            root.append(new)


def edit_styles(data: bytes) -> bytes:
    root = etree.fromstring(data)
    defaults = root.find(f"{W}docDefaults")
    assert defaults is not None
    defaults.getparent().replace(
        defaults,
        etree.fromstring(
            f"<w:docDefaults {NSMAP_DECL}><w:rPrDefault><w:rPr>{_fonts()}{_size(22)}"
            '<w:lang w:val="en-GB" w:eastAsia="en-US" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>'
            '<w:pPrDefault><w:pPr><w:spacing w:after="120"/></w:pPr></w:pPrDefault>'
            "</w:docDefaults>"
        ),
    )
    _replace_styles(
        root,
        heading_styles() + paragraph_styles() + character_styles() + table_styles(),
    )
    # theme-font references in pandoc's styles would override the body font
    for rfonts in root.iter(f"{W}rFonts"):
        for attr in list(rfonts.attrib):
            if attr.endswith("Theme") or attr.endswith("theme"):
                del rfonts.attrib[attr]
        if not rfonts.attrib:
            rfonts.getparent().remove(rfonts)
    # remove theme colours so explicit colours win in every renderer
    for color in root.iter(f"{W}color"):
        for attr in ("themeColor", "themeShade", "themeTint"):
            color.attrib.pop(f"{W}{attr}", None)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


ARIAL_FONT = (
    f'<w:font {NSMAP_DECL} w:name="Arial"><w:panose1 w:val="020B0604020202020204"/>'
    '<w:charset w:val="00"/><w:family w:val="swiss"/><w:pitch w:val="variable"/>'
    '<w:sig w:usb0="E0002EFF" w:usb1="C000785B" w:usb2="00000009" w:usb3="00000000" '
    'w:csb0="000001FF" w:csb1="00000000"/></w:font>'
)


def edit_font_table(data: bytes) -> bytes:
    """Arial first in the font table (with its panose, so Word substitutes sensibly)."""
    root = etree.fromstring(data)
    for font in root.findall(f"{W}font"):
        if font.get(f"{W}name") == BODY_FONT:
            root.remove(font)
    root.insert(0, etree.fromstring(ARIAL_FONT))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def edit_theme(data: bytes) -> bytes:
    """Theme heading and body fonts -> Arial ("+Body" in Word's font list is then Arial)."""
    root = etree.fromstring(data)
    a = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
    for group in ("majorFont", "minorFont"):
        for latin in root.iter(f"{a}{group}"):
            element = latin.find(f"{a}latin")
            if element is not None:
                element.set("typeface", BODY_FONT)
                element.set("panose", "020B0604020202020204")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def edit_numbering(data: bytes) -> bytes:
    root = etree.fromstring(data)
    abstract, num = heading_numbering()
    first_num = root.find(f"{W}num")
    abstract_el = etree.fromstring(abstract)
    if first_num is not None:
        first_num.addprevious(abstract_el)
    else:
        root.append(abstract_el)
    root.append(etree.fromstring(num))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def edit_document(data: bytes) -> bytes:
    root = etree.fromstring(data)
    body = root.find(f"{W}body")
    assert body is not None
    for child in list(body):
        body.remove(child)
    sample = (
        f'<w:p {NSMAP_DECL}><w:pPr><w:pStyle w:val="BodyText"/></w:pPr>'
        "<w:r><w:t>Reference document for protocmc Word export: only its styles, numbering, "
        "page setup, header and footer are used.</w:t></w:r></w:p>"
    )
    body.append(etree.fromstring(sample))
    body.append(etree.fromstring(section_properties()))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def edit_settings(data: bytes) -> bytes:
    root = etree.fromstring(data)
    zoom = root.find(f"{W}zoom")
    update = etree.fromstring(f'<w:updateFields {NSMAP_DECL} w:val="true"/>')
    if zoom is not None:
        zoom.addnext(update)
    else:
        root.insert(0, update)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def edit_rels(data: bytes) -> bytes:
    text = data.decode("utf-8")
    base = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    extra = (
        f'<Relationship Id="{HEADER_RID}" Type="{base}/header" Target="header1.xml"/>'
        f'<Relationship Id="{FOOTER_RID}" Type="{base}/footer" Target="footer1.xml"/>'
    )
    return text.replace("</Relationships>", extra + "</Relationships>").encode("utf-8")


def edit_content_types(data: bytes) -> bytes:
    text = data.decode("utf-8")
    ct = "application/vnd.openxmlformats-officedocument.wordprocessingml"
    extra = (
        f'<Override PartName="/word/header1.xml" ContentType="{ct}.header+xml"/>'
        f'<Override PartName="/word/footer1.xml" ContentType="{ct}.footer+xml"/>'
    )
    return text.replace("</Types>", extra + "</Types>").encode("utf-8")


def edit_core(data: bytes) -> bytes:
    text = data.decode("utf-8")
    return (
        text.replace("<dc:title>Title</dc:title>", "<dc:title></dc:title>")
        .replace("<dc:creator>Author</dc:creator>", "<dc:creator></dc:creator>")
        .encode("utf-8")
    )


EDITS = {
    "word/styles.xml": edit_styles,
    "word/numbering.xml": edit_numbering,
    "word/fontTable.xml": edit_font_table,
    "word/theme/theme1.xml": edit_theme,
    "word/document.xml": edit_document,
    "word/settings.xml": edit_settings,
    "word/_rels/document.xml.rels": edit_rels,
    "[Content_Types].xml": edit_content_types,
    "docProps/core.xml": edit_core,
}


def default_reference(pandoc: str) -> bytes:
    return subprocess.run(
        [pandoc, "--print-default-data-file", "reference.docx"],
        check=True,
        capture_output=True,
    ).stdout


def build(pandoc: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(default_reference(pandoc)))
    members: list[tuple[str, bytes]] = []
    for name in source.namelist():
        data = source.read(name)
        edit = EDITS.get(name)
        members.append((name, edit(data) if edit else data))
    members.append(("word/header1.xml", header_xml().encode("utf-8")))
    members.append(("word/footer1.xml", footer_xml().encode("utf-8")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pandoc", default=None, help="pandoc executable (default: pypandoc's)")
    parser.add_argument("--out", type=Path, default=REPO / "templates" / "docx" / "reference.docx")
    args = parser.parse_args(argv)
    pandoc = args.pandoc
    if pandoc is None:
        import pypandoc

        pandoc = pypandoc.get_pandoc_path()
    data = build(pandoc)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".docx.tmp")
    tmp.write_bytes(data)
    tmp.replace(args.out)
    print(f"wrote {args.out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
