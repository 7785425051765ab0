"""Abbreviations of a rendered draft: defined at first use, listed in the glossary, and
every abbreviation-like word accounted for.

The definitions are data: templates/protocol/abbreviations.yaml (what the templates and the
framework text use) plus the product file's `abbreviations:` (what the writer's text adds).
A word counts as an abbreviation when at least two of its letters, and at least half of
them, are capitals (CRS, SpO2, qPCR, IgG); `names:` and `patterns:` in the data list such
words that are names, not abbreviations (trial names, gene and antigen names).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.paths import TEMPLATES_DIR
from generator.protocol_passes import (
    HEADING_RE,
    PROTECTED_WITH_PROMPTS,
    map_free_text,
    marker,
    section_lines,
)

ABBREVIATIONS_FILE = TEMPLATES_DIR / "protocol" / "abbreviations.yaml"
GLOSSARY_MARK = marker("glossary")

_TOKEN = re.compile(r"(?<![\w\\])[A-Za-z0-9α-ωΑ-Ω]+(?:-[A-Za-z0-9α-ωΑ-Ω]+)*")
_ROMAN = re.compile(r"^[IVX]+$")
_TRAILING_DIGITS = re.compile(r"\d+[a-z]?$")


@dataclass(frozen=True)
class Abbreviation:
    abbr: str
    term: str
    plural: str

    def term_for(self, plural: bool) -> str:
        return self.plural if plural else self.term


@dataclass(frozen=True)
class AbbreviationData:
    known: dict[str, Abbreviation]
    names: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]
    _seen: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)
    """is_name's answers so far: a protocol has ~16,000 tokens and few distinct ones."""
    _token_uses: dict[str, _TokenUses] = field(default_factory=dict, compare=False, repr=False)
    """`_uses`'s answer per distinct token, for the same reason (`_token_uses`)."""

    @functools.cached_property
    def capitalised(self) -> bool:
        """Every known abbreviation has a capital letter: then a word in lower case is none."""
        return all(any(c.isupper() for c in abbr) for abbr in self.known)

    def is_name(self, word: str) -> bool:
        seen = self._seen.get(word)
        if seen is None:
            seen = word in self.names or _is_named_by(self.patterns, word)
            self._seen[word] = seen
        return seen


def _is_named_by(patterns: tuple[re.Pattern[str], ...], word: str) -> bool:
    one = _one_pattern(patterns)
    if one is not None:
        return one.fullmatch(word) is not None
    return any(p.fullmatch(word) for p in patterns)


_BACKREFERENCE = re.compile(r"\\\d|\(\?P=")


@functools.cache
def _one_pattern(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """The `patterns` as one alternation (one call per word instead of one per pattern); None
    when they cannot be joined (flags, back-references)."""
    if any(p.flags != re.UNICODE or _BACKREFERENCE.search(p.pattern) for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns))
    except re.error:
        return None  # e.g. a global flag such as (?i) inside one of them


def _entry(abbr: str, value: Any) -> Abbreviation:
    if isinstance(value, dict):
        term = str(value["term"])
        plural = str(value.get("plural") or term + "s")
    else:
        term, plural = str(value), str(value) + "s"
    return Abbreviation(abbr, term, plural)


@functools.cache
def shipped_data(path: Path = ABBREVIATIONS_FILE) -> AbbreviationData:
    from generator.load import load_yaml
    from generator.models.protocol_data import AbbreviationList

    # parsed through the per-user cache of parsed YAML (ruamel took 60 ms a build)
    data = AbbreviationList.model_validate(load_yaml(path).data)
    known = {
        k: _entry(k, v if isinstance(v, str) else {"term": v.term, "plural": v.plural})
        for k, v in data.abbreviations.items()
    }
    return AbbreviationData(
        known, frozenset(data.names), tuple(re.compile(p) for p in data.patterns)
    )


def data_for(product_abbreviations: dict[str, str], names: Iterable[str]) -> AbbreviationData:
    """The shipped data with the product's own abbreviations and names (product name, ids)."""
    base = shipped_data()
    known = dict(base.known)
    for abbr, term in product_abbreviations.items():
        known[abbr] = _entry(abbr, term)
    return AbbreviationData(known, base.names | frozenset(names), base.patterns)


def looks_like_abbreviation(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    upper = sum(1 for c in letters if c.isupper())
    return upper >= 2 and upper * 2 >= len(letters) and not _ROMAN.match(word)


@dataclass(frozen=True)
class Use:
    abbr: str
    start: int
    end: int
    plural: bool
    standalone: bool


_TokenUses = tuple[tuple[Use, ...], tuple[tuple[int, str], ...]]
"""A token's known abbreviations and unknown abbreviation-like words, offsets within it."""

_NONE: _TokenUses = ((), ())


def _uses(text: str, data: AbbreviationData) -> tuple[list[Use], list[tuple[int, str]]]:
    """Known abbreviations in `text` and the unknown abbreviation-like words (offset, word)."""
    uses: list[Use] = []
    unknown: list[tuple[int, str]] = []
    memo = data._token_uses
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        found = memo.get(token)
        if found is None:
            found = memo[token] = _token_uses(token, data)
        if found is _NONE:
            continue
        at = m.start()
        uses += [Use(u.abbr, u.start + at, u.end + at, u.plural, u.standalone) for u in found[0]]
        unknown += [(offset + at, word) for offset, word in found[1]]
    return uses, unknown


def _token_uses(token: str, data: AbbreviationData) -> _TokenUses:
    """What `_uses` finds in one token (hyphenated parts looked up longest first)."""
    if token.islower() and data.capitalised:
        return _NONE  # no capital: neither a known abbreviation nor one that looks like it
    if data.is_name(token):
        return _NONE
    uses: list[Use] = []
    unknown: list[tuple[int, str]] = []
    parts = token.split("-")
    offsets = []
    pos = 0
    for part in parts:
        offsets.append(pos)
        pos += len(part) + 1
    i = 0
    while i < len(parts):
        j = i + 1
        for j in range(len(parts), i, -1):
            word = "-".join(parts[i:j])
            start = offsets[i]
            end = start + len(word)
            whole = i == 0 and j == len(parts)
            if word in data.known:
                uses.append(Use(word, start, end, False, whole))
                break
            singular = word[:-1]
            if word.endswith("s") and singular in data.known and looks_like_abbreviation(singular):
                uses.append(Use(singular, start, end, True, whole))
                break
            if data.is_name(word):
                break
            if j == i + 1:
                stem = _TRAILING_DIGITS.sub("", word)
                if stem != word and stem in data.known:
                    uses.append(Use(stem, start, start + len(stem), False, False))
                elif looks_like_abbreviation(word):
                    unknown.append((start, word))
        i = j
    return (tuple(uses), tuple(unknown)) if uses or unknown else _NONE


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[-–*_]", " ", text).lower().split())


_PAREN_ABBREVIATIONS = re.compile(r"^[\w+-]+(?:\s*[/,]\s*[\w+-]+)*$")


def _defined_here(line: str, use: Use) -> bool:
    """ "... (CRS)" or "... (RCR/RCL)": the text defines the abbreviation itself, in its own
    words, in parentheses that hold only abbreviations."""
    open_at = line.rfind("(", 0, use.start)
    close_at = line.find(")", use.end)
    if (
        open_at < 0
        or close_at < 0
        or ")" in line[open_at : use.start]
        or "(" in line[use.end : close_at]
    ):
        return False
    return bool(_PAREN_ABBREVIATIONS.match(line[open_at + 1 : close_at].strip()))


def _can_expand(line: str, use: Use) -> bool:
    """A definition reads well only before a space or punctuation ("CAR+" or "RCR/RCL" would
    split a word)."""
    after = line[use.end : use.end + 1]
    return after == "" or after.isspace() or after in ".,;:)"


_ARTICLE = re.compile(r"\b(an?)(\s+)$", re.IGNORECASE)


def _article(word: str) -> str:
    """ "a" or "an" before `word` (by its first letter; good enough for defined terms)."""
    first = word[:1].lower()
    vowel = first in "aeio" or (first == "u" and not word.lower().startswith(("uni", "us", "ur")))
    return "an" if vowel else "a"


def _inside_bold(line: str, offset: int) -> bool:
    return line.count("**", 0, offset) % 2 == 1


def _sentence_start(line: str, offset: int) -> bool:
    before = re.sub(r"[*_\s]+$", "", line[:offset])
    return not before or before.endswith((".", "!", "?", ":"))


@dataclass
class AbbreviationReport:
    used: dict[str, Abbreviation] = field(default_factory=dict)
    unknown: list[tuple[int, str]] = field(default_factory=list)
    """(line, word) of abbreviation-like words with no definition."""


SKIP_SECTIONS = ("13", "14")
"""The glossary and the references: listed, not prose."""


def define_abbreviations(markdown: str, data: AbbreviationData) -> tuple[str, AbbreviationReport]:
    """Each known abbreviation defined at its first use in body text (not in tables, captions
    or headings, and not in a bold run-in title); the glossary marker filled."""
    report = AbbreviationReport()
    defined: set[str] = set()
    out: list[str] = []
    for n, section, line, body in section_lines(markdown):
        in_scope = section is not None and section.split(".")[0] not in SKIP_SECTIONS
        if not in_scope or HEADING_RE.match(line):
            out.append(line)
            continue
        if not (body or line.startswith("|") or line.startswith("Table: ")):
            out.append(line)
            continue

        def change(part: str, body: bool = body, n: int = n) -> str:
            uses, unknown = _uses(part, data)
            report.unknown.extend((n, word) for _o, word in unknown)
            pieces: list[str] = []
            pos = 0
            for use in uses:
                report.used.setdefault(use.abbr, data.known[use.abbr])
                if not body or use.abbr in defined or not use.standalone:
                    continue
                if _inside_bold(part, use.start):
                    continue
                if _defined_here(part, use):
                    defined.add(use.abbr)
                    continue
                if not _can_expand(part, use):
                    continue
                defined.add(use.abbr)
                entry = data.known[use.abbr]
                term = entry.term_for(use.plural)
                if _sentence_start(part, use.start):
                    term = term[:1].upper() + term[1:]
                before = part[pos : use.start]
                article = _ARTICLE.search(before)
                if article and not use.plural:
                    fixed = _article(term)
                    if article.group(1)[0].isupper():
                        fixed = fixed.capitalize()
                    before = before[: article.start()] + fixed + article.group(2)
                pieces.append(before)
                pieces.append(f"{term} ({part[use.start : use.end]})")
                pos = use.end
            pieces.append(part[pos:])
            return "".join(pieces)

        out.append(map_free_text(line, change, PROTECTED_WITH_PROMPTS))
    return "\n".join(out), report


def glossary_table(used: dict[str, Abbreviation]) -> str:
    rows = sorted(used.values(), key=lambda a: (a.abbr.casefold(), a.abbr))
    if not rows:
        return "No abbreviations are used in this protocol."
    lines = ["| Abbreviation | Definition |", "|---|---|"]
    lines += ["| " + a.abbr + " | " + a.term.replace("|", "\\|") + " |" for a in rows]
    return "\n".join([*lines, "", "Table: Abbreviations"])


def fill_glossary(markdown: str, used: dict[str, Abbreviation]) -> str:
    return markdown.replace(GLOSSARY_MARK, glossary_table(used))
