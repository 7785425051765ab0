"""Numbered citations (Vancouver, AMA style) for the protocol draft.

Templates write pandoc citation markers `[@source-id]` after the text a source supports. This
pass numbers the cited sources in order of first citation, replaces each marker with its
number ("[3]", "[1,2]", "[4–6]") and fills the References section (M11 Section 14) with the
cited sources only, in citation order. Both the numbers and the entries come from one
`pandoc --citeproc` call with the vendored CSL style (templates/protocol/
american-medical-association-brackets.csl, CC BY-SA 3.0, see CSL-NOTICE.md there) over a CSL-JSON
bibliography made from the framework's structured `Source` fields; a source without them
prints its `citation` text. The call is cached (generator/cache.py), so the Markdown, the
Word file and the site all carry the same numbers.

Sources of kind `background` (framework-only material) are never cited.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.paths import TEMPLATES_DIR
from generator.problems import ProtocmcError
from generator.protocol_passes import CITATION_RE, marker
from generator.render import md_escape

CSL_FILE = TEMPLATES_DIR / "protocol" / "american-medical-association-brackets.csl"
REFERENCES_MARK = marker("references")

CSL_TYPES = {
    "article": "article-journal",
    "guidance": "report",
    "label": "document",
    "registry": "webpage",
    "standard": "standard",
    "software": "software",
}
"""`Source.kind` → CSL item type."""

_INITIALS = re.compile(r"^[A-Z]{1,4}$")


def is_background(source: Any) -> bool:
    return getattr(source, "kind", None) == "background"


def _name(author: str) -> dict[str, str]:
    """ "Lee DW" → family Lee, given D. W.; an organisation stays literal."""
    parts = author.split()
    if len(parts) >= 2 and _INITIALS.match(parts[-1]):
        return {"family": " ".join(parts[:-1]), "given": " ".join(f"{c}." for c in parts[-1])}
    return {"literal": author}


def csl_item(source: Any) -> dict[str, Any] | None:
    """The CSL-JSON item of a source with structured fields; None for one with only its
    `citation` text."""
    title = getattr(source, "title", None)
    if not title:
        return None
    kind = getattr(source, "kind", None) or "article"
    item: dict[str, Any] = {
        "id": source.id,
        "type": CSL_TYPES.get(kind, "document"),
        "title": title,
    }
    authors = [
        a for a in (getattr(source, "authors", None) or []) if a.strip().rstrip(".") != "et al"
    ]
    if authors:
        item["author"] = [_name(a) for a in authors]
    container = getattr(source, "container", None)
    if container:
        item["container-title" if kind in ("article", "registry") else "publisher"] = container
    year = getattr(source, "year", None)
    if year:
        item["issued"] = {"date-parts": [[int(year)]]}
    for field_name, csl_name in (
        ("volume", "volume"),
        ("issue", "issue"),
        ("pages", "page"),
        ("doi", "DOI"),
        ("pmid", "PMID"),
        ("url", "URL"),
        ("nct", "number"),
    ):
        value = getattr(source, field_name, None)
        if value:
            item[csl_name] = str(value)
    nct = getattr(source, "nct", None)
    if nct and "URL" not in item:
        item["URL"] = f"https://clinicaltrials.gov/study/{nct}"
    return item


def _fallback_text(source: Any) -> str:
    text = " ".join(str(source.citation).split())
    url = getattr(source, "url", None)
    return md_escape(text) + (f" <{url}>" if url else "")


@dataclass(frozen=True)
class Formatted:
    citations: tuple[str, ...]
    """In-text citation per group, as Markdown."""
    entries: tuple[tuple[str, str], ...]
    """(source id, entry Markdown) in number order."""


def _pandoc() -> str:
    from generator.export.pandoc import pandoc_executable

    return pandoc_executable()


def _run_citeproc(groups: list[tuple[str, ...]], items: list[dict[str, Any]]) -> Formatted:
    source = "".join(f"G{i} [{'; '.join('@' + s for s in g)}]\n\n" for i, g in enumerate(groups))
    source += "::: {#refs}\n:::\n"
    with tempfile.TemporaryDirectory(prefix="protocmc-citeproc-") as tmp:
        bibliography = Path(tmp) / "sources.json"
        bibliography.write_text(json.dumps(items, ensure_ascii=False), "utf-8")
        cmd = [
            _pandoc(),
            "--from",
            "markdown",
            "--to",
            "markdown-citations-smart",
            "--wrap=none",
            "--citeproc",
            "--csl",
            str(CSL_FILE),
            "--bibliography",
            str(bibliography),
        ]
        try:
            result = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True)
        except OSError as exc:
            raise ProtocmcError(f"could not run pandoc for the references: {exc}") from exc
    if result.returncode != 0:
        raise ProtocmcError(
            "pandoc could not format the references:\n" + result.stderr.decode("utf-8", "replace")
        )
    return _parse(result.stdout.decode("utf-8"), len(groups))


_GROUP_LINE = re.compile(r"^G(?P<n>\d+) (?P<text>.*)$")
_ENTRY_OPEN = re.compile(r"^:::+ \{#ref-(?P<id>\S+) \.csl-entry\}")
_LEFT = re.compile(
    r"^\[(?P<num>\d+)\. \]\{\.csl-left-margin\}\[(?P<text>.*)\]\{\.csl-right-inline\}$"
)


def _parse(output: str, n_groups: int) -> Formatted:
    citations = [""] * n_groups
    entries: list[tuple[str, str]] = []
    lines = output.split("\n")
    for i, line in enumerate(lines):
        g = _GROUP_LINE.match(line)
        if g:
            citations[int(g.group("n"))] = g.group("text").strip()
            continue
        e = _ENTRY_OPEN.match(line)
        if e and i + 1 < len(lines):
            body = lines[i + 1].strip()
            m = _LEFT.match(body)
            entries.append((e.group("id"), m.group("text") if m else body))
    return Formatted(tuple(citations), tuple(entries))


def format_citations(groups: list[tuple[str, ...]], items: list[dict[str, Any]]) -> Formatted:
    """One citeproc run for the whole draft, cached on its inputs."""
    from generator.cache import cached

    key = json.dumps(
        {
            "csl": hashlib.sha256(CSL_FILE.read_bytes()).hexdigest(),
            "pandoc": _pandoc(),
            "groups": groups,
            "items": items,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return cached("citeproc", key, lambda: _run_citeproc(groups, items))


@dataclass
class CitationReport:
    cited: list[str] = field(default_factory=list)
    """Source ids in number order."""
    unknown: list[tuple[int, str]] = field(default_factory=list)
    """(line, id) of citation markers naming no source."""


def _ids(body: str) -> list[str]:
    return [part.strip().lstrip("@") for part in body.split(";") if part.strip()]


_CITE_IN_SENTENCE = re.compile(
    r"(?:\.(?<=[\w)]\.)[ \t]*\[|[ \t]+\[|\[)"
    r"(?P<body>@[A-Za-z0-9][\w.:-]*(?:\s*;\s*@[A-Za-z0-9][\w.:-]*)*)\]"
)
"""A citation marker with the space before it, and the full stop it may follow (a full stop
after a word or ")"). Each alternative starts with a character, so the regex engine skips
ahead to the next ".", space, tab or "[" (a third of the time of the pass otherwise)."""


def number_citations(markdown: str, sources: Mapping[str, Any]) -> tuple[str, CitationReport]:
    """Markers → numbers; the References marker → the numbered list (see module docstring)."""
    report = CitationReport()
    groups: list[tuple[str, ...]] = []
    order: list[str] = []

    def citable(body: str) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(s for s in _ids(body) if s in sources and not is_background(sources[s]))
        )

    for n, line in enumerate(markdown.split("\n"), start=1):
        if "[@" not in line:
            continue  # no marker (they all start so)
        for m in CITATION_RE.finditer(line):
            report.unknown.extend((n, s) for s in _ids(m.group("body")) if s not in sources)
            group = citable(m.group("body"))
            if group and group not in groups:
                groups.append(group)
            order.extend(s for s in group if s not in order)
    formatted = Formatted((), ())
    if order:
        items = [
            csl_item(sources[sid]) or {"id": sid, "type": "document", "title": sid} for sid in order
        ]
        formatted = format_citations(groups, items)
        got = [sid for sid, _text in formatted.entries]
        if got != order:
            raise ProtocmcError(
                f"citeproc numbered the references {got}, expected {order} (a bug in protocmc)"
            )
    text_of = dict(zip(groups, formatted.citations, strict=True))

    def replace(m: re.Match[str]) -> str:
        if any(s not in sources for s in _ids(m.group("body"))):
            return m.group(0)  # left as typed; `check` reports it
        stop = "." if m.group(0).startswith(".") else ""
        text = text_of.get(citable(m.group("body")), "")
        # a citation goes before the full stop of the sentence it supports
        return f" {text}{stop}" if text else stop

    out = _CITE_IN_SENTENCE.sub(replace, markdown)
    report.cited = order
    entries = dict(formatted.entries)
    listing = "\n".join(
        f"{n}. "
        + (entries[sid] if csl_item(sources[sid]) is not None else _fallback_text(sources[sid]))
        for n, sid in enumerate(order, start=1)
    )
    out = out.replace(REFERENCES_MARK, listing or "No references are cited in this protocol.")
    return out, report
