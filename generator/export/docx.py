"""Markdown -> Word (.docx) through pandoc, the shipped reference.docx and Lua filters.

    export_docx(markdown, out, metadata=DocxMetadata(...), resource_path=folder_with_images)

Pipeline: pandoc (`-t docx+native_numbering`, `templates/docx/reference.docx`, the Lua filters
in `templates/docx/filters/`) writes the .docx to memory; a millisecond post-processing pass on
the zip then

- puts the document id, version, status, date and title into the header fields and
  docProps/custom.xml (same values a DOCPROPERTY field update in Word gives) and the title into
  docProps/core.xml;
- completes the section breaks the landscape filter leaves (page size and margins from the final
  section, the same header and footer, so page numbering and headers continue).

The result is written atomically (temporary file in the target folder, then `os.replace`) and is
reproducible: pandoc takes every timestamp from SOURCE_DATE_EPOCH (defaulted to
`generator.writes.DEFAULT_EPOCH`), and the zip is rewritten in pandoc's member order with pandoc's
timestamps.

`pandoc_floor` runs the same pandoc conversion bare (no post-processing, no atomic write): the
baseline for the benchmark (`python benchmarks/run.py`).
"""

from __future__ import annotations

import functools
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
from xml.sax.saxutils import escape

from generator.export.layout import PLACEHOLDERS
from generator.paths import TEMPLATES_DIR
from generator.problems import Location, Problem, ProblemsError, ProtocmcError, Severity
from generator.writes import atomic_write_bytes, source_date_epoch

MIN_PANDOC = (3, 1)
DOCX_DIR = TEMPLATES_DIR / "docx"
REFERENCE_DOCX = DOCX_DIR / "reference.docx"
FILTERS_DIR = DOCX_DIR / "filters"
SHIPPED_FILTERS = ("links.lua", "blocks.lua", "headings.lua", "tables.lua")
"""Run in this order: blocks.lua marks where the TOC goes, headings.lua puts it there."""

INPUT_FORMAT = "markdown-raw_html-raw_attribute-raw_tex"
"""Raw HTML, raw OOXML (```{=openxml}```) and TeX in the Markdown are read as text: values
from YAML must never become Word XML. Only the shipped Lua filters write raw OOXML."""
OUTPUT_FORMAT = "docx+native_numbering"


@dataclass(frozen=True)
class DocxMetadata:
    """Per-document values for the header, footer and document properties.

    Shown verbatim: `date` is already formatted (for example "22 November 2026").
    """

    title: str
    document_id: str
    version: str
    status: str
    date: str

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


@functools.cache
def pandoc_executable() -> str:
    """The pandoc that pypandoc-binary ships (or PYPANDOC_PANDOC), checked once to be >= 3.1."""
    try:
        import pypandoc

        path = str(pypandoc.get_pandoc_path())
    except (ImportError, OSError) as exc:
        raise ProtocmcError(
            f"pandoc was not found ({exc}); install the 'pypandoc-binary' package"
        ) from exc
    try:
        first_line = subprocess.run(
            [path, "--version"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError) as exc:
        raise ProtocmcError(f"could not run pandoc at {path}: {exc}") from exc
    version = parse_pandoc_version(first_line)
    if version < MIN_PANDOC:
        found = ".".join(map(str, version))
        needed = ".".join(map(str, MIN_PANDOC))
        raise ProtocmcError(
            f"pandoc {found} at {path} is too old: the Word export needs pandoc >= {needed} "
            "(install the 'pypandoc-binary' package, or point PYPANDOC_PANDOC at a newer pandoc)"
        )
    return path


def parse_pandoc_version(first_line: str) -> tuple[int, ...]:
    """`pandoc 3.9.0.2` -> (3, 9, 0, 2); (0,) when the line has no version."""
    match = re.search(r"(\d+(?:\.\d+)*)", first_line)
    return tuple(int(p) for p in match.group(1).split(".")) if match else (0,)


def shipped_filters() -> list[Path]:
    return [FILTERS_DIR / name for name in SHIPPED_FILTERS]


def pandoc_command(
    *, resource_path: Path, extra_filters: Sequence[Path] = (), output: str = "-"
) -> list[str]:
    """The pandoc command line: Markdown on stdin, .docx to `output` ("-" = stdout)."""
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
    markdown: str, out: Path, *, resource_path: Path, extra_filters: Sequence[Path] = ()
) -> None:
    """Bare pandoc with the same reference.docx and filters: the benchmark baseline."""
    cmd = pandoc_command(resource_path=resource_path, extra_filters=extra_filters, output=str(out))
    result = _run_pandoc(cmd, markdown)
    if result.returncode != 0:
        raise _failure(result.returncode, result.stderr.decode("utf-8", "replace"), str(out))


# --------------------------------------------------------------------------- post-processing

_FINAL_SECTPR = re.compile(r"<w:sectPr>((?:(?!<w:sectPr>).)*?)</w:sectPr>\s*</w:body>", re.DOTALL)
_SECTION_MARKER = re.compile(r'<w:sectPr><w:pgSz w:orient="(portrait|landscape)"/></w:sectPr>')
_PGSZ = re.compile(r"<w:pgSz\b[^>]*/>")
_DIMENSION = re.compile(r'w:([wh])="(\d+)"')


def _complete_sections(document: str) -> str:
    """Turn the filter's section-break markers into full w:sectPr copies of the final one."""
    if "<w:pgSz w:orient=" not in document:
        return document
    final = _FINAL_SECTPR.search(document)
    if final is None:
        return document
    inner = final.group(1)
    size = _PGSZ.search(inner)
    dims = dict(_DIMENSION.findall(size.group(0))) if size else {}
    width, height = sorted((int(dims.get("w", 0)), int(dims.get("h", 0))))

    def replace(match: re.Match[str]) -> str:
        if match.group(1) == "landscape":
            pgsz = f'<w:pgSz w:w="{height}" w:h="{width}" w:orient="landscape"/>'
        else:
            pgsz = f'<w:pgSz w:w="{width}" w:h="{height}"/>'
        body = _PGSZ.sub(pgsz, inner) if size else pgsz + inner
        return f"<w:sectPr>{body}</w:sectPr>"

    return _SECTION_MARKER.sub(replace, document)


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
                content = _fill_placeholders(content.decode("utf-8"), metadata).encode("utf-8")
            elif name == "word/document.xml":
                content = _complete_sections(content.decode("utf-8")).encode("utf-8")
            elif name == "docProps/custom.xml":
                content = _custom_properties(metadata).encode("utf-8")
            elif name == "docProps/core.xml":
                content = _set_title(content.decode("utf-8"), metadata.title).encode("utf-8")
            copy = zipfile.ZipInfo(name, date_time=info.date_time)
            copy.compress_type = zipfile.ZIP_DEFLATED
            copy.external_attr = info.external_attr
            copy.create_system = 3
            target.writestr(copy, content)
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
    result = _run_pandoc(
        pandoc_command(resource_path=resource_path, extra_filters=extra_filters), markdown
    )
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


def libreoffice_executable() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: Path, outdir: Path, *, update_indexes: bool = True) -> Path:
    """Render `docx` to PDF with headless LibreOffice (an optional dependency).

    With `update_indexes` (and python3-uno available) the table of contents and fields are
    refreshed first, as Word does on open; otherwise the plain `--convert-to pdf` is used.
    Raises `ProtocmcError` when LibreOffice is not installed.
    """
    office = libreoffice_executable()
    if office is None:
        raise ProtocmcError("LibreOffice is not installed (needed only to render previews)")
    outdir.mkdir(parents=True, exist_ok=True)
    pdf = outdir / (docx.stem + ".pdf")
    system_python = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    with tempfile.TemporaryDirectory(prefix="protocmc-lo-") as profile:
        env = dict(os.environ, HOME=profile)
        if update_indexes and system_python and _RENDER_SCRIPT.exists():
            cmd = [system_python, str(_RENDER_SCRIPT), office, str(docx), str(pdf), profile]
        else:
            cmd = [
                office,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(outdir),
                str(docx),
            ]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    if result.returncode != 0 or not pdf.exists():
        raise ProtocmcError(
            f"LibreOffice could not render {docx}:\n{result.stdout}{result.stderr}".strip()
        )
    return pdf


def docx_to_png(docx: Path, outdir: Path, *, dpi: int = 60) -> list[Path]:
    """Render every page of `docx` to `outdir/<stem>-<n>.png` (LibreOffice, then pdftoppm)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise ProtocmcError("pdftoppm (poppler-utils) is not installed")
    pdf = docx_to_pdf(docx, outdir)
    prefix = outdir / docx.stem
    subprocess.run([pdftoppm, "-png", "-r", str(dpi), str(pdf), str(prefix)], check=True)
    return sorted(outdir.glob(f"{docx.stem}-*.png"))
