"""Markdown -> Word (.docx) through pandoc, the shipped reference.docx and Lua filters.

    export_docx(markdown, out, metadata=DocxMetadata(...), resource_path=folder_with_images)

Pipeline: pandoc (`-t docx+native_numbering`, `templates/docx/reference.docx`, the Lua filters
in `templates/docx/filters/`) writes the .docx to memory; a millisecond post-processing pass on
the zip then

- puts the document id, version, status, date and title into the header fields and
  docProps/custom.xml (same values a DOCPROPERTY field update in Word gives) and the title into
  docProps/core.xml;
- sets the paper (US Letter or A4, from the locale) and completes the section breaks the
  landscape filter leaves (page size and margins from the final section, the same header and
  footer, so page numbering and headers continue); with a locale, the proofing language too;
- lays out tables for the page they are on: columns scaled to the section's text width (pandoc
  assumes a 5.5-inch text block), rows kept whole across page breaks (`w:cantSplit`) unless a
  row is too tall to move to the next page, and space between a table and the text after it.

The result is written atomically (temporary file in the target folder, then `os.replace`) and is
reproducible: pandoc takes every timestamp from SOURCE_DATE_EPOCH (defaulted to
`generator.writes.DEFAULT_EPOCH`), and the zip is rewritten in pandoc's member order with pandoc's
timestamps.

`pandoc_floor` runs the same pandoc conversion bare (no post-processing, no atomic write): the
baseline for the benchmark (`python benchmarks/run.py`).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.export.layout import (
    MARGIN,
    PLACEHOLDERS,
    REFERENCE_PAPER,
    Paper,
    paper_for_locale,
    parse_locale,
)
from generator.export.pandoc import pandoc_executable
from generator.paths import TEMPLATES_DIR
from generator.problems import Location, Problem, ProblemsError, ProtocmcError, Severity
from generator.writes import atomic_write_bytes, source_date_epoch

DOCX_DIR = TEMPLATES_DIR / "docx"
REFERENCE_DOCX = DOCX_DIR / "reference.docx"
FILTERS_DIR = DOCX_DIR / "filters"
SHIPPED_FILTERS = ("links.lua", "blocks.lua", "headings.lua", "tables.lua", "review.lua")
"""Run in this order: links.lua first (nothing else may see an unsafe link); blocks.lua marks
where the TOC goes, headings.lua puts it there; review.lua last, so the others see the text as
written."""

INPUT_FORMAT = "markdown-raw_html-raw_attribute-raw_tex-blank_before_header"
"""Raw HTML, raw OOXML (```{=openxml}```) and TeX in the Markdown are read as text: values
from YAML must never become Word XML. Only the shipped Lua filters write raw OOXML.
A `#` line is a heading even straight after a paragraph line, as on the review site
(Python-Markdown); `protocmc check` refuses such lines in product text."""
OUTPUT_FORMAT = "docx+native_numbering"


def escape(text: str) -> str:
    """Text as XML character data (xml.sax.saxutils.escape imports urllib: 80 ms a build)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class DocxMetadata:
    """Per-document values for the header, footer and document properties.

    Shown verbatim: `date` is already formatted (for example "22 November 2026").
    `locale` (`en-US`, `en-GB`) sets the paper -- US Letter for US English, A4 for British
    English -- and the proofing language; `None` keeps reference.docx (US Letter, en-GB).
    """

    title: str
    document_id: str
    version: str
    status: str
    date: str
    locale: str | None = None

    def __post_init__(self) -> None:
        if self.locale is not None:
            try:
                parse_locale(self.locale)
            except ValueError as exc:
                raise ProtocmcError(str(exc)) from exc

    @property
    def paper(self) -> Paper:
        return paper_for_locale(self.locale)

    def properties(self) -> dict[str, str]:
        """Custom document property name -> value (names match the reference.docx fields)."""
        return {
            "document_id": self.document_id,
            "version": self.version,
            "status": self.status,
            "version_date": self.date,
            "document_title": self.title,
        }


# --------------------------------------------------------------------------- pandoc


def shipped_filters() -> list[Path]:
    return [FILTERS_DIR / name for name in SHIPPED_FILTERS]


def pandoc_command(
    *,
    resource_path: Path,
    extra_filters: Sequence[Path] = (),
    output: str = "-",
    paper: Paper = REFERENCE_PAPER,
) -> list[str]:
    """The pandoc command line: Markdown on stdin, .docx to `output` ("-" = stdout).

    tables.lua sizes columns for `paper`'s text block (portrait width; the portrait height is
    the width of a landscape page's text block).
    """
    cmd = [
        pandoc_executable(),
        "--from",
        INPUT_FORMAT,
        "--to",
        OUTPUT_FORMAT,
        "--reference-doc",
        str(REFERENCE_DOCX),
        "--resource-path",
        str(resource_path),
        "--variable",
        f"protocmc-text-width={paper.text_width}",
        "--variable",
        f"protocmc-text-height={paper.text_height}",
        "--output",
        output,
    ]
    for lua in [*shipped_filters(), *extra_filters]:
        cmd += ["--lua-filter", str(lua)]
    return cmd


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["SOURCE_DATE_EPOCH"] = str(source_date_epoch())
    return env


def _run_pandoc(cmd: list[str], markdown: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            cmd, input=markdown.encode("utf-8"), capture_output=True, env=_environment()
        )
    except OSError as exc:
        raise ProtocmcError(f"could not run pandoc: {exc}") from exc


_HEADING_PROBLEM = re.compile(r"^PROTOCMC-HEADING\t([^\t]*)\t([^\t]*)\t(.*)$", re.MULTILINE)
_WARNING = re.compile(r"^\[WARNING\] (.*)$", re.MULTILINE)


def _failure(returncode: int, stderr: str, source: str) -> ProtocmcError:
    headings = _HEADING_PROBLEM.findall(stderr)
    if headings:
        return ProblemsError(
            [
                Problem(
                    code="docx-heading-number",
                    message=(f"heading '{literal} {text}' would be numbered {expected} in Word"),
                    location=Location(source),
                    hint=(
                        "Word numbers headings from the heading styles, so the literal numbers "
                        "must run 1, 1.1, 1.1.1 ... without gaps or repeats; give headings "
                        "that must not be numbered the class {.unnumbered}"
                    ),
                )
                for literal, expected, text in headings
            ]
        )
    return ProtocmcError(f"pandoc failed (exit code {returncode}):\n{stderr.strip()}")


def _warnings(stderr: str, source: str) -> list[Problem]:
    return [
        Problem(
            code="docx-pandoc-warning",
            message=message.strip(),
            location=Location(source),
            severity=Severity.WARNING,
        )
        for message in _WARNING.findall(stderr)
    ]


def pandoc_floor(
    markdown: str,
    out: Path,
    *,
    resource_path: Path,
    extra_filters: Sequence[Path] = (),
    paper: Paper = REFERENCE_PAPER,
) -> None:
    """Bare pandoc with the same reference.docx and filters: the benchmark baseline."""
    cmd = pandoc_command(
        resource_path=resource_path, extra_filters=extra_filters, output=str(out), paper=paper
    )
    result = _run_pandoc(cmd, markdown)
    if result.returncode != 0:
        raise _failure(result.returncode, result.stderr.decode("utf-8", "replace"), str(out))


# --------------------------------------------------------------------------- post-processing

_FINAL_SECTPR = re.compile(r"<w:sectPr>((?:(?!<w:sectPr>).)*?)</w:sectPr>\s*</w:body>", re.DOTALL)
_SECTION_MARKER = re.compile(r'<w:sectPr><w:pgSz w:orient="(portrait|landscape)"/></w:sectPr>')
_PGSZ = re.compile(r"<w:pgSz\b[^>]*/>")
_PGSZ_WIDTH = re.compile(r'<w:pgSz\b[^>]*?\sw:w="(\d+)"')
_PGMAR_SIDE = re.compile(r'w:(left|right)="(\d+)"')


def _complete_sections(document: str, paper: Paper) -> str:
    """Give the final section the paper's size; turn the landscape filter's section-break
    markers into full w:sectPr copies of the final one (same margins, header and footer)."""
    final = _FINAL_SECTPR.search(document)
    if final is None:
        return document
    inner = final.group(1)
    portrait = f'<w:pgSz w:w="{paper.width}" w:h="{paper.height}"/>'
    body = _PGSZ.sub(portrait, inner, count=1) if _PGSZ.search(inner) else portrait + inner
    document = (
        document[: final.start(1)] + body + document[final.end(1) :] if body != inner else document
    )
    if "<w:pgSz w:orient=" not in document:
        return document

    def replace(match: re.Match[str]) -> str:
        if match.group(1) == "portrait":
            return f"<w:sectPr>{body}</w:sectPr>"
        landscape = f'<w:pgSz w:w="{paper.height}" w:h="{paper.width}" w:orient="landscape"/>'
        return f"<w:sectPr>{_PGSZ.sub(landscape, body, count=1)}</w:sectPr>"

    return _SECTION_MARKER.sub(replace, document)


# --- tables: geometry for the page they are on

CHAR_TWIPS = 92
"""Average advance of a character of 9 pt Arial in running text (~0.51 em), for row heights."""
LINE_TWIPS = 207  # one line of 9 pt text, single spacing
CELL_PARAGRAPH_TWIPS = 40  # "Table Text" spacing before + after
CELL_MARGINS_TWIPS = 170  # "Protocol Table" left + right cell margins
SPACE_AFTER_TABLE = 200
"""Space (twips) above the first paragraph after a table, unless its style has its own."""
SPACE_AFTER_LIST = 80
"""Space above the paragraph after a tight list: with "Compact"'s 40 after the last item, the
gap between body paragraphs (120)."""
_SPACED_STYLES = ("Heading", "Title", "TOC", "Caption", "TableCaption", "CaptionedFigure")

_TABLE_TAG = re.compile(r"<w:tbl>|</w:tbl>")
_TABLE_END = re.compile(r"</w:tbl>")
_LIST_END = re.compile(
    r'<w:pStyle w:val="Compact"\s*/><w:numPr>(?:(?!</w:p>).)*</w:p>(?=\s*<w:p><w:pPr><w:pStyle '
    r'w:val="(?!Compact"))',
    re.DOTALL,
)
_SECTPR_END = re.compile(r"</w:sectPr>")
_GRID = re.compile(r"<w:tblGrid>(.*?)</w:tblGrid>", re.DOTALL)
_GRID_COL = re.compile(r'<w:gridCol w:w="(\d+)"\s*/>')
_ROW = re.compile(r"<w:tr>(.*?)</w:tr>", re.DOTALL)
_CELL = re.compile(r"<w:tc>(.*?)</w:tc>", re.DOTALL)
_SPAN = re.compile(r'<w:gridSpan w:val="(\d+)"')
_PARAGRAPH = re.compile(r"<w:p\b[^>]*?(?:/>|>(.*?)</w:p>)", re.DOTALL)
_TEXT = re.compile(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>")
_NEXT_PARAGRAPH = re.compile(
    r'\s*<w:p><w:pPr><w:pStyle w:val="([^"]+)"\s*/>(.*?)</w:pPr>', re.DOTALL
)
_SPACING_GOES_BEFORE = re.compile(
    r"<w:(?:ind|contextualSpacing|mirrorIndents|suppressOverlap|jc|textDirection|"
    r"textAlignment|textboxTightWrap|outlineLvl|divId|cnfStyle|rPr|sectPr|pPrChange)\b"
)


def _section_text_widths(document: str) -> list[tuple[int, int]]:
    """(end offset of each w:sectPr, text width of that section), in document order."""
    out = []
    start = 0
    for end in _SECTPR_END.finditer(document):
        opening = document.rfind("<w:sectPr", start, end.start())
        part = document[opening : end.start()]
        size = _PGSZ_WIDTH.search(part)
        width = int(size.group(1)) if size else 0
        sides = dict(_PGMAR_SIDE.findall(part))
        margins = int(sides.get("left", MARGIN)) + int(sides.get("right", MARGIN))
        out.append((end.end(), width - margins))
        start = end.end()
    return out


def _row_height(row: str, columns: list[int]) -> int:
    """Estimated height (twips) of a table row: its tallest cell, text wrapped at the width."""
    tallest = 0
    col = 0
    for cell in _CELL.finditer(row):
        span_match = _SPAN.search(cell.group(1))
        span = int(span_match.group(1)) if span_match else 1
        width = max(sum(columns[col : col + span]) - CELL_MARGINS_TWIPS, CHAR_TWIPS)
        col += span
        chars_per_line = max(width // CHAR_TWIPS, 1)
        height = 0
        for para in _PARAGRAPH.finditer(cell.group(1)):
            chars = sum(len(t) for t in _TEXT.findall(para.group(1) or ""))
            lines = max(-(-chars // chars_per_line), 1)
            height += lines * LINE_TWIPS + CELL_PARAGRAPH_TWIPS
        tallest = max(tallest, height)
    return tallest


def _layout_table(table: str, text_width: int, row_limit: int) -> str:
    """Scale the grid to `text_width`; rows that fit on a page must not split."""
    grid = _GRID.search(table)
    if grid is None:
        return table
    widths = [int(w) for w in _GRID_COL.findall(grid.group(1))]
    total = sum(widths)
    if total <= 0 or text_width <= 0:
        return table
    scaled = [w * text_width // total for w in widths]
    scaled[-1] += text_width - sum(scaled)  # rounding: the columns fill the width exactly
    new_grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in scaled)
    table = table[: grid.start(1)] + new_grid + table[grid.end(1) :]
    if table.count("<w:tbl>") > 1:
        return table  # a nested table: rows are not ours to estimate

    def row(match: re.Match[str]) -> str:
        content = match.group(1)
        if _row_height(content, scaled) > row_limit:
            return match.group(0)  # taller than half a page: Word would clip it if kept whole
        if content.startswith("<w:trPr>"):
            return "<w:tr><w:trPr><w:cantSplit/>" + content[len("<w:trPr>") :] + "</w:tr>"
        return "<w:tr><w:trPr><w:cantSplit/></w:trPr>" + content + "</w:tr>"

    return _ROW.sub(row, table)


def _spacing_at(document: str, position: int, twips: int) -> tuple[int, str] | None:
    """Where and what to insert for space above the paragraph starting at `position`; None when
    its style brings its own (headings, captions) or it has direct spacing already."""
    match = _NEXT_PARAGRAPH.match(document, position)
    if match is None or match.group(1).startswith(_SPACED_STYLES):
        return None
    rest = match.group(2)
    if "<w:spacing " in rest:
        return None
    before = _SPACING_GOES_BEFORE.search(rest)
    at = match.start(2) + (before.start() if before else len(rest))
    return at, f'<w:spacing w:before="{twips}"/>'


def _space_blocks(document: str) -> str:
    """Space between a table, or a tight list, and the paragraph after it."""
    inserts = [
        _spacing_at(document, m.end(), SPACE_AFTER_TABLE) for m in _TABLE_END.finditer(document)
    ]
    inserts += [
        _spacing_at(document, m.end(), SPACE_AFTER_LIST) for m in _LIST_END.finditer(document)
    ]
    out: list[str] = []
    copied = 0
    for at, text in sorted({i for i in inserts if i is not None}):
        out.append(document[copied:at])
        out.append(text)
        copied = at
    out.append(document[copied:])
    return "".join(out)


def _layout_tables(document: str, paper: Paper) -> str:
    """Apply `_layout_table` to every top-level table, with its section's text width."""
    if "<w:tbl>" not in document:
        return document
    sections = _section_text_widths(document)
    row_limit = paper.text_width // 2  # half the text height of a landscape page
    out: list[str] = []
    copied = 0
    depth = 0
    start = 0
    section = 0
    for tag in _TABLE_TAG.finditer(document):
        if tag.group(0) == "<w:tbl>":
            if depth == 0:
                start = tag.start()
            depth += 1
            continue
        depth -= 1
        if depth:
            continue
        while section < len(sections) - 1 and sections[section][0] < tag.end():
            section += 1
        width = sections[section][1] if sections else paper.text_width
        out.append(document[copied:start])
        out.append(_layout_table(document[start : tag.end()], width, row_limit))
        copied = tag.end()
    out.append(document[copied:])
    return "".join(out)


def _finish_document(document: str, paper: Paper) -> str:
    return _space_blocks(_layout_tables(_complete_sections(document, paper), paper))


_LANG = re.compile(
    r'(<w:rPrDefault>(?:(?!</w:rPrDefault>).)*?<w:lang\b[^>]*?\sw:val=")[^"]*(")', re.DOTALL
)


def _finish_styles(styles: str, metadata: DocxMetadata) -> str:
    """Proofing language from the locale; tab stops of TOC and header at the text width."""
    if metadata.locale is not None:
        styles = _LANG.sub(lambda m: m.group(1) + str(metadata.locale) + m.group(2), styles, 1)
    return _move_tabs(styles, metadata.paper)


def _move_tabs(part: str, paper: Paper) -> str:
    """Tab stops and grid widths laid out for the reference paper, moved to `paper`'s."""
    old, new = REFERENCE_PAPER.text_width, paper.text_width
    if old == new:
        return part
    for before, after in ((old, new), (old // 2, new // 2)):
        part = part.replace(f'w:pos="{before}"', f'w:pos="{after}"')
        part = part.replace(f'<w:gridCol w:w="{before}"/>', f'<w:gridCol w:w="{after}"/>')
    return part


def _custom_properties(metadata: DocxMetadata) -> str:
    fmtid = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
    props = "".join(
        f'<property fmtid="{fmtid}" pid="{pid}" name="{name}">'
        f"<vt:lpwstr>{escape(value)}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(sorted(metadata.properties().items()), start=2)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'docPropsVTypes">{props}</Properties>'
    )


_CORE_TITLE = re.compile(r"<dc:title>.*?</dc:title>|<dc:title\s*/>", re.DOTALL)


def _set_title(core: str, title: str) -> str:
    element = f"<dc:title>{escape(title)}</dc:title>"
    return _CORE_TITLE.sub(lambda _m: element, core, count=1)


def _fill_placeholders(part: str, metadata: DocxMetadata) -> str:
    for name, value in metadata.properties().items():
        part = part.replace(PLACEHOLDERS[name], escape(value))
    return part


def finish_docx(data: bytes, metadata: DocxMetadata) -> bytes:
    """Post-process pandoc's .docx bytes (see module docstring); same member order and dates."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            name = info.filename
            content = source.read(info)
            if name.startswith(("word/header", "word/footer")) and name.endswith(".xml"):
                part = _fill_placeholders(content.decode("utf-8"), metadata)
                content = _move_tabs(part, metadata.paper).encode("utf-8")
            elif name == "word/document.xml":
                content = _finish_document(content.decode("utf-8"), metadata.paper).encode("utf-8")
            elif name == "word/styles.xml":
                content = _finish_styles(content.decode("utf-8"), metadata).encode("utf-8")
            elif name == "docProps/custom.xml":
                content = _custom_properties(metadata).encode("utf-8")
            elif name == "docProps/core.xml":
                content = _set_title(content.decode("utf-8"), metadata.title).encode("utf-8")
            copy = zipfile.ZipInfo(name, date_time=info.date_time)
            copy.compress_type = zipfile.ZIP_DEFLATED
            copy.external_attr = info.external_attr
            copy.create_system = 3
            # pictures are compressed already: the fastest deflate level costs little size
            level = 1 if name.startswith("word/media/") else None
            target.writestr(copy, content, compresslevel=level)
    return out.getvalue()


# --------------------------------------------------------------------------- public API


def write_atomically(out: Path, data: bytes) -> None:
    """Write `data` to a temporary file next to `out`, then rename it over `out`."""
    atomic_write_bytes(out, data)


def convert_docx(
    markdown: str,
    *,
    metadata: DocxMetadata,
    resource_path: Path,
    extra_filters: Sequence[Path] = (),
    source: str = "<markdown>",
) -> tuple[bytes, list[Problem]]:
    """Convert Markdown to .docx bytes in memory; return them with pandoc's warnings.

    Raises `ProblemsError` for heading numbers Word would show differently and
    `ProtocmcError` when pandoc fails. Nothing is written.
    """
    command = pandoc_command(
        resource_path=resource_path, extra_filters=extra_filters, paper=metadata.paper
    )
    result = _run_pandoc(command, markdown)
    stderr = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        raise _failure(result.returncode, stderr, source)
    return finish_docx(result.stdout, metadata), _warnings(stderr, source)


def export_docx(
    markdown: str,
    out: Path,
    *,
    metadata: DocxMetadata,
    resource_path: Path,
    extra_filters: Sequence[Path] = (),
    source: str = "<markdown>",
) -> list[Problem]:
    """Convert protocol Markdown to `out` (.docx); return pandoc's warnings as problems.

    `resource_path` is where relative image paths are looked up. `extra_filters` are Lua
    filters run after the shipped ones (trusted code: the caller gates them). `source` names
    the Markdown in problem locations. On any failure `out` is left untouched.
    """
    data, warnings = convert_docx(
        markdown,
        metadata=metadata,
        resource_path=resource_path,
        extra_filters=extra_filters,
        source=source,
    )
    write_atomically(out, data)
    return warnings


# --------------------------------------------------------------------------- rendering helper

_RENDER_SCRIPT = Path(__file__).with_name("lo_render.py")
_PDF_WITH_COMMENTS = (
    'pdf:writer_pdf_Export:{"ExportNotes":{"type":"boolean","value":"true"},'
    '"ExportNotesInMargin":{"type":"boolean","value":"true"}}'
)
"""PDF export options as JSON (LibreOffice 7.4+): comments as annotations, in the margin too
where the version supports it (7.5+)."""


def libreoffice_executable() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(
    docx: Path, outdir: Path, *, update_indexes: bool = True, comments_in_margin: bool = False
) -> Path:
    """Render `docx` to PDF with headless LibreOffice (an optional dependency).

    With `update_indexes` (and python3-uno available) the table of contents and fields are
    refreshed first, as Word does on open; `comments_in_margin` prints Word comments beside the
    page (LibreOffice 7.5 and later). Should that fail -- libreoffice-writer-nogui lacks the
    comment window's UI file and crashes on a document with comments -- the plain
    `--convert-to pdf` is used (fields as saved, comments as PDF annotations).
    Raises `ProtocmcError` when LibreOffice is not installed or cannot render the file.
    """
    office = libreoffice_executable()
    if office is None:
        raise ProtocmcError("LibreOffice is not installed (needed only to render previews)")
    outdir.mkdir(parents=True, exist_ok=True)
    pdf = outdir / (docx.stem + ".pdf")
    system_python = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    use_uno = (update_indexes or comments_in_margin) and system_python and _RENDER_SCRIPT.exists()
    output = ""
    for uno in [True, False] if use_uno else [False]:
        # LibreOffice works on a copy in a scratch folder: its lock file (left behind when it
        # crashes) and its profile never touch the caller's folders
        with tempfile.TemporaryDirectory(prefix="protocmc-lo-") as scratch:
            work = Path(scratch)
            source = work / "in" / docx.name
            source.parent.mkdir()
            shutil.copyfile(docx, source)
            made = work / (docx.stem + ".pdf")
            profile = work / "profile"
            if uno:
                cmd = [str(system_python), str(_RENDER_SCRIPT), office, str(source), str(made)]
                cmd += [str(profile)] + (["--comments-in-margin"] if comments_in_margin else [])
            else:
                cmd = [office, f"-env:UserInstallation={profile.as_uri()}", "--headless"]
                cmd += ["--convert-to", _PDF_WITH_COMMENTS if comments_in_margin else "pdf"]
                cmd += ["--outdir", str(work), str(source)]
            env = dict(os.environ, HOME=str(work))
            result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
            output = f"{result.stdout}{result.stderr}".strip()
            if result.returncode == 0 and made.exists():
                shutil.move(made, pdf)
                return pdf
    raise ProtocmcError(f"LibreOffice could not render {docx}:\n{output}".strip())


def docx_to_png(
    docx: Path, outdir: Path, *, dpi: int = 60, comments_in_margin: bool = False
) -> list[Path]:
    """Render every page of `docx` to `outdir/<stem>-<n>.png` (LibreOffice, then pdftoppm)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise ProtocmcError("pdftoppm (poppler-utils) is not installed")
    pdf = docx_to_pdf(docx, outdir, comments_in_margin=comments_in_margin)
    prefix = outdir / docx.stem
    subprocess.run([pdftoppm, "-png", "-r", str(dpi), str(pdf), str(prefix)], check=True)
    return sorted(outdir.glob(f"{docx.stem}-*.png"))
