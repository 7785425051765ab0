"""Checks of the rendered protocol text, each located where the words were written.

- PD001 protocol prose that names the framework, its elements or seeds, the tool,
  product-file keys or evidence statuses (review marks and the tailoring register, Section
  12.4, are exempt: they are where such words belong);
- PD002 a heading or an attribute printed as text (`### 9.2.5 …`, `{#m11-…}`, `{.unnumbered}`);
- PD003 an abbreviation with no definition;
- PD004 an item id left in the text (a reference to an item the draft does not print);
- PD005 a citation of a source the framework does not list.

`Locator` finds where a phrase of the draft was typed: the product file first, then the
sponsor's templates, the framework files and the shipped templates; a finding it cannot trace
is reported at the product file with the draft's section number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.load import LoadedDocument, YamlPath
from generator.paths import TEMPLATES_DIR
from generator.problems import Location, Problem, Severity, relative_display
from generator.protocol_passes import (
    HEADING_RE,
    PROTECTED,
    REGISTER_SECTION,
    free_text,
    section_lines,
)

REFERENCES_SECTION = "14"
REGISTER_HEADING = f"{REGISTER_SECTION} Tailoring Register"


@dataclass(frozen=True)
class ProseRule:
    pattern: re.Pattern[str]
    what: str
    """What the words name."""
    clues: tuple[str, ...]
    """Lower-case words one of which every match holds: a text whose lower case has none of
    them is not searched (a cheap test; most rules find nothing in a finished draft)."""


FOLDS_TO_ASCII = "\u0130\u0131\u017f\u212a"
"""The non-ASCII characters that a case-insensitive pattern matches to an ASCII letter (İ ı ſ
and the Kelvin sign): in a text without them, a case-insensitive match of an ASCII word is
that word in the text's lower case (tests/rendering/test_pass_shortcuts.py checks the list)."""


def prose_rules(element_ids: Iterable[str]) -> list[ProseRule]:
    """The rules of PD001."""
    ids = sorted(element_ids, key=len, reverse=True)
    element = r"\belements?\s+(?:" + "|".join(re.escape(i) for i in ids) + r")\b" if ids else None

    def rule(pattern: str, what: str, *clues: str, flags: int = re.IGNORECASE) -> ProseRule:
        return ProseRule(re.compile(pattern, flags), what, clues)

    rules = [
        rule(r"\bprotocmc\b", "the tool", "protocmc"),
        rule(r"\bframeworks?\b", "the framework", "framework"),
        rule(r"\bParker\b|\bissue briefs?\b", "a framework seed", "parker", "issue brief"),
        rule(
            r"\bneeds[- ]verification\b|\brecalled\b",
            "an evidence status",
            "verification",
            "recalled",
        ),
        rule(r"\bproduct[- ]files?\b", "the product file", "product"),
        rule(r"\btailor(?:ing|ed|s)?\b", "the tailoring register", "tailor"),
        rule(
            r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:\.[A-Za-z0-9_-]+)*\b",
            "a product-file key",
            "_",
            flags=0,
        ),
    ]
    if element:
        rules.insert(2, rule(element, "a framework element", "element"))
    return rules


@dataclass(frozen=True)
class DraftFinding:
    line: int
    section: str
    match: str
    context: str
    """The line the match is in, as the draft reads (to trace it to its source)."""
    start: int = -1
    """Where the match starts in `context` (-1: the match is a token to look up alone)."""


def prose_findings(markdown: str, element_ids: Iterable[str]) -> list[tuple[DraftFinding, str]]:
    prose = _prose_lines(markdown)
    # a rule with no match in the whole text has none in a line: most rules find nothing,
    # and one search of the text is much cheaper than one per line
    whole = "\n".join(text for _n, _section, text in prose)
    lowered = None if any(c in whole for c in FOLDS_TO_ASCII) else whole.lower()
    rules = [
        r
        for r in prose_rules(element_ids)
        if (lowered is None or any(c in lowered for c in r.clues)) and r.pattern.search(whole)
    ]
    found: list[tuple[DraftFinding, str]] = []
    for n, section, text in prose if rules else ():
        for r in rules:
            for m in r.pattern.finditer(text):
                found.append((DraftFinding(n, section, m.group(0), text, m.start()), r.what))
    return found


def _prose_lines(markdown: str) -> list[tuple[int, str, str]]:
    """(line number, section, the text a reader sees) of the lines PD001 reads."""
    lines = []
    for n, section, line, _body in section_lines(markdown):
        if section in (REGISTER_SECTION, REFERENCES_SECTION) or line.startswith("```"):
            continue
        if section is not None and section.startswith(REGISTER_SECTION + "."):
            continue
        # the summary of changes names the register's heading: a reference, not prose
        lines.append((n, section or "", free_text(line, PROTECTED).replace(REGISTER_HEADING, "")))
    return lines


_ATTRIBUTE = re.compile(r"(?<![\])])\{[#.][\w:.-]+[^}]*\}")
_HASHES = re.compile(r"(?:^|\s)#{1,6}\s+\S")


def heading_text_findings(markdown: str) -> list[DraftFinding]:
    """A heading marker or a `{#id}`/`{.class}` attribute in a paragraph or list line."""
    found: list[DraftFinding] = []
    for n, section, line, body in section_lines(markdown):
        # both patterns need a "#" or a "{" (a line without either has nothing to find)
        if not body or ("#" not in line and "{" not in line) or HEADING_RE.match(line):
            continue
        text = free_text(line, PROTECTED)
        if "#" not in text and "{" not in text:
            continue  # the "{" was a review mark's
        for m in [*_ATTRIBUTE.finditer(text), *_HASHES.finditer(text)]:
            found.append(DraftFinding(n, section or "", m.group(0).strip(), text, m.start()))
    return found


# --------------------------------------------------------------------------- locating


def _strings(data: Any, path: YamlPath = ()) -> Iterator[tuple[YamlPath, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, (*path, key))
    elif isinstance(data, list):
        for n, value in enumerate(data):
            yield from _strings(value, (*path, n))
    elif isinstance(data, str):
        yield path, data


def _value_location(document: LoadedDocument, path: YamlPath, text: str, offset: int) -> Location:
    base = document.location(path)
    if not base.line:
        return base
    newlines = text.count("\n", 0, offset)
    if newlines == 0:
        return Location(base.file, base.line, base.column + offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return Location(base.file, base.line + newlines, offset - line_start + 1)


def _template_files(roots: Iterable[Path]) -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []
    for root in roots:
        for file in sorted(root.rglob("*.j2")):
            try:
                files.append((relative_display(file), file.read_text("utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
    return files


class Locator:
    """Where a phrase of the draft was written (see module docstring)."""

    def __init__(
        self,
        product: LoadedDocument,
        framework_documents: Iterable[LoadedDocument],
        sponsor_dir: Path | None,
    ) -> None:
        self.product = product
        self.framework_documents = list(framework_documents)
        self.sponsor_files = _template_files([sponsor_dir] if sponsor_dir is not None else [])
        self.template_files = _template_files(
            [TEMPLATES_DIR / "protocol", TEMPLATES_DIR / "partials"]
        )

    @staticmethod
    def _pattern(phrase: str) -> re.Pattern[str]:
        words = phrase.split()
        pattern = re.escape(words[0])
        for word in words[1:]:
            # a citation moved before a full stop leaves " ." where the source has "."
            gap = r"\s*" if not word[0].isalnum() else r"\s+"
            pattern += gap + re.escape(word)
        return re.compile(pattern)

    def find(self, phrases: Iterable[str]) -> tuple[Location, str] | None:
        """(location, origin) of the first phrase found: origin is 'product', 'sponsor',
        'framework' or 'template'."""
        for phrase in phrases:
            if not phrase.strip():
                continue
            pattern = self._pattern(phrase)
            for path, text in _strings(self.product.data):
                m = pattern.search(text)
                if m:
                    return _value_location(self.product, path, text, m.start()), "product"
            for display, text in self.sponsor_files:
                m = pattern.search(text)
                if m:
                    line = text.count("\n", 0, m.start()) + 1
                    return Location(display, line, 1), "sponsor"
            for doc in self.framework_documents:
                for path, text in _strings(doc.data):
                    m = pattern.search(text)
                    if m:
                        return _value_location(doc, path, text, m.start()), "framework"
            for display, text in self.template_files:
                m = pattern.search(text)
                if m:
                    line = text.count("\n", 0, m.start()) + 1
                    return Location(display, line, 1), "template"
        return None


_MARKUP_TOKEN = re.compile(r"^(?:[-*+|]|\d+\.|#+|\*\*)$")


def _phrases(finding: DraftFinding) -> list[str]:
    """The finding's words with shrinking context (eight to one words on either side); the
    bare match only for a single token (an id or abbreviation), since a common word alone
    would point anywhere."""
    if finding.start < 0:
        return [finding.match]
    text = finding.context
    end = finding.start + len(finding.match)
    tokens = [t for t in re.finditer(r"\S+", text) if not _MARKUP_TOKEN.match(t.group(0))]
    inside = [i for i, t in enumerate(tokens) if t.end() > finding.start and t.start() < end]
    if not inside:
        return []
    phrases = []
    # both sides first; then one side only, since the other may be a template's words
    for left, right in ((8, 8), (5, 5), (0, 8), (8, 0), (3, 3), (0, 4), (4, 0), (2, 2), (1, 1)):
        first = max(0, inside[0] - left)
        last = min(len(tokens) - 1, inside[-1] + right)
        phrase = text[tokens[first].start() : tokens[last].end()]
        phrase = re.sub(r"\\(.)", r"\1", phrase).replace("**", "").strip(" \\")
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    return phrases


def located(
    locator: Locator,
    finding: DraftFinding,
    code: str,
    message: str,
    hint: str,
    fallback: Location,
) -> Problem:
    """A problem for a draft finding, at the place its words were written. Words from the
    framework are a warning (the writer cannot change the framework, only tailor around it)."""
    found = locator.find(_phrases(finding))
    where = f" (Section {finding.section})" if finding.section else ""
    if found is None:
        return Problem(code, f"{message}{where}", fallback, hint)
    location, origin = found
    severity = Severity.WARNING if origin == "framework" else Severity.ERROR
    return Problem(code, f"{message}{where}", location, hint, severity)
