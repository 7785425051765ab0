"""Checks on the Markdown that writers type into YAML text values.

Text values become Markdown in the drafts. A few constructs would change the document's
structure or reach outside it, so `check` refuses them where they are typed:

- PR050 a link to anything but an http(s) or mailto address or an in-document anchor
  (`javascript:`, `file:`, `data:`, a path on this machine);
- PR051 an image: pandoc would read the file or fetch the URL into the Word file;
- PR052 a heading line (`## ...`): headings come from the M11 template, never from text;
- PR053 a fenced-div line (`:::`): it would open or close the draft's own layout blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from generator.load import LoadedDocument, YamlPath
from generator.problems import Location, Problem

SAFE_SCHEMES = ("http", "https", "mailto")

_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\(\s*<?(?P<target>[^)\s>]*)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(?P<target>\S+?)>?(?:\s|$)", re.M)
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s|$)", re.M)
_FENCE_DIV = re.compile(r"^\s{0,3}:{3,}", re.M)


def _strings(data: Any, path: YamlPath = ()) -> Iterator[tuple[YamlPath, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, (*path, key))
    elif isinstance(data, list):
        for n, value in enumerate(data):
            yield from _strings(value, (*path, n))
    elif isinstance(data, str):
        yield path, data


def _target_ok(target: str) -> bool:
    if target.startswith("#"):
        return True
    m = _SCHEME.match(target)
    return m is not None and m.group("scheme").lower() in SAFE_SCHEMES


def _location(document: LoadedDocument, path: YamlPath, text: str, offset: int) -> Location:
    base = document.location(path)
    if not base.line:
        return base
    newlines = text.count("\n", 0, offset)
    if newlines == 0:
        return Location(base.file, base.line, base.column + offset)
    # block scalars start on the line after the key; the rest is an estimate of the line
    line_start = text.rfind("\n", 0, offset) + 1
    return Location(base.file, base.line + newlines, offset - line_start + 1)


def lint_text_values(document: LoadedDocument) -> list[Problem]:
    """Every text value of a YAML document, checked for the constructs listed above."""
    problems: list[Problem] = []
    for path, text in _strings(document.data):
        if not any(c in text for c in "[#:"):
            continue
        for m in _LINK.finditer(text):
            target = m.group("target")
            where = _location(document, path, text, m.start())
            if m.group("bang"):
                problems.append(
                    Problem(
                        "PR051",
                        f"image '{m.group(0)[:60]}' in text",
                        where,
                        "drafts carry only the figures protocmc draws; describe the figure in "
                        "words or add it to the Word draft by hand",
                    )
                )
            elif not _target_ok(target):
                problems.append(
                    Problem(
                        "PR050",
                        f"link to '{target[:80]}' in text",
                        where,
                        "links may point only to http(s) or mailto addresses or to a section "
                        "anchor (#m11-...)",
                    )
                )
        for m in _REFERENCE.finditer(text):
            if not _target_ok(m.group("target")):
                problems.append(
                    Problem(
                        "PR050",
                        f"link definition to '{m.group('target')[:80]}' in text",
                        _location(document, path, text, m.start()),
                        "links may point only to http(s) or mailto addresses or to a section "
                        "anchor (#m11-...)",
                    )
                )
        for m in _HEADING.finditer(text):
            problems.append(
                Problem(
                    "PR052",
                    "a heading line in text",
                    _location(document, path, text, m.start()),
                    "headings come from the M11 template; write the text without '#' (use "
                    "**bold** for a run-in title), or override the section's template block",
                )
            )
        for m in _FENCE_DIV.finditer(text):
            problems.append(
                Problem(
                    "PR053",
                    "a ':::' line in text",
                    _location(document, path, text, m.start()),
                    "':::' opens or closes the draft's layout blocks; remove it",
                )
            )
    return problems
