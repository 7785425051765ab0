"""Pandoc Markdown → safe HTML for the site, with pandoc itself (pypandoc-binary's pandoc).

The drafts and the framework's prose are written for pandoc (fenced divs, bracketed spans,
`Table:` captions, `^superscripts^`, `\\<escapes\\>`), so pandoc reads them, exactly as it does
for Word. The reader has raw HTML, raw attributes, raw TeX and native `<div>`/`<span>` tags
turned off: a `<script>` typed into a product file is text. `templates/site/filters/site.lua`
drops attributes, keeps links to http(s), mailto, in-page and relative targets only, and
numbers the insertion points.

Conversions are cached (`generator.cache`) by pandoc version, filter and input, and run in
parallel, so a site rebuild with unchanged drafts runs pandoc not at all.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from generator.cache import cached
from generator.paths import TEMPLATES_DIR
from generator.problems import ProtocmcError
from generator.writes import source_date_epoch

SITE_FILTER = TEMPLATES_DIR / "site" / "filters" / "site.lua"
READER = "markdown-raw_html-raw_attribute-raw_tex-native_divs-native_spans"
HEADING_MARK = "<!--protocmc-heading-->"
"""The filter's marker before every top-level heading (raw HTML cannot come from the input)."""
FRAGMENT_SEPARATOR = "PROTOCMCFRAGMENTSEPARATOR"
_SEPARATOR_HTML = f"<p>{FRAGMENT_SEPARATOR}</p>"
_INSERTION_ID = re.compile(r'<span id="ins-\d+" class="insertion">')


def _pandoc() -> str:
    from generator.export.pandoc import pandoc_executable

    return pandoc_executable()


def _command(shift: int) -> list[str]:
    return [
        _pandoc(),
        "--from",
        READER,
        "--to",
        "html5",
        "--wrap=none",
        f"--shift-heading-level-by={shift}",
        "--lua-filter",
        str(SITE_FILTER),
    ]


def _key(shift: int, markdown: str) -> str:
    """Everything the output depends on: pandoc, the filter, the options and the input."""
    digest = hashlib.sha256()
    digest.update(_pandoc().encode())
    digest.update(str(os.path.getmtime(_pandoc())).encode())
    digest.update(SITE_FILTER.read_bytes())
    digest.update(" ".join(_command(shift)[1:]).encode())
    digest.update(markdown.encode())
    return digest.hexdigest()


def _run(markdown: str, shift: int, source: str) -> str:
    env = dict(os.environ)
    env["SOURCE_DATE_EPOCH"] = str(source_date_epoch())
    try:
        result = subprocess.run(
            _command(shift), input=markdown.encode("utf-8"), capture_output=True, env=env
        )
    except OSError as exc:
        raise ProtocmcError(f"could not run pandoc: {exc}") from exc
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace").strip()
        raise ProtocmcError(
            f"pandoc could not convert {source} to HTML (exit code {result.returncode}):\n{stderr}"
        )
    return result.stdout.decode("utf-8")


def to_html(markdown: str, *, shift: int = 0, source: str = "<markdown>") -> str:
    """One document as HTML (cached)."""
    return cached("site-html", _key(shift, markdown), lambda: _run(markdown, shift, source))


def documents_to_html(documents: dict[str, str], *, shift: int = 0) -> dict[str, str]:
    """Several documents, converted in parallel (pandoc runs as separate processes)."""
    names = list(documents)
    workers = max(1, min(len(names), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda n: to_html(documents[n], shift=shift, source=n), names)
        return dict(zip(names, results, strict=True))


def fragments_to_html(fragments: Sequence[str]) -> list[str]:
    """Many short Markdown texts (framework prose, register entries) in one pandoc run.

    The fragments are joined by a separator paragraph that no fragment contains and split
    again afterwards; each result is the fragment's block HTML (`<p>…</p>` for one paragraph).
    """
    if not fragments:
        return []
    for text in fragments:
        if FRAGMENT_SEPARATOR in text:
            raise ProtocmcError(f"text may not contain {FRAGMENT_SEPARATOR}: {text[:60]}")
    joined = f"\n\n{FRAGMENT_SEPARATOR}\n\n".join(f.strip("\n") for f in fragments)
    html = to_html(joined, source="framework and product text")
    html = "\n".join(line for line in html.split("\n") if line != HEADING_MARK)
    parts = html.split(_SEPARATOR_HTML)
    if len(parts) != len(fragments):
        raise ProtocmcError(
            f"pandoc returned {len(parts)} text fragments for {len(fragments)}: a text leaves a "
            "block open (an unclosed ``` fence or ::: div)"
        )
    # insertion points are numbered only in drafts, where the placeholders page links to them
    return [_INSERTION_ID.sub('<span class="insertion">', p.strip()) for p in parts]


def inline_html(block_html: str) -> str:
    """A one-paragraph fragment without its `<p>` (for table cells and headings)."""
    text = block_html.strip()
    if text.startswith("<p>") and text.endswith("</p>") and text.count("<p>") == 1:
        return text[3:-4]
    return text


def pandoc_version() -> str:
    out = subprocess.run([_pandoc(), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.split("\n", 1)[0]
