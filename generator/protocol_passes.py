"""Passes over the rendered protocol Markdown, between the templates and the outputs.

The templates lay out the content; these passes do what needs the whole draft at once:

- `place_section_texts`: every writer text of the product file's `sections:` at its M11
  place — where the template asked for it (`prose(key)`), else after the section's own text,
  or instead of it (`replace: true`);
- `resolve_item_references`: item ids typed in text ("INC-ANC, INC-PLT") become the numbers
  the reader sees ("inclusion criteria 3 and 4");
- `drop_self_references`: "(Section 4.4)" inside Section 4.4 goes;
- `apply_spelling`: one spelling (en-GB or en-US) throughout, from templates/protocol/spelling.yaml;
- `define_abbreviations`: each abbreviation defined at first use and listed in the glossary,
  from templates/protocol/abbreviations.yaml and the product's own `abbreviations:`;
- `strip_review_marks`: the clean draft (`--clean`) without `[...]{.review}` marks.

Citations have their own module (generator/citations.py). The templates leave private markers
(`marker()`) where a pass must act; none survives into an output.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.paths import TEMPLATES_DIR

MARK_OPEN = "\ue000"
MARK_CLOSE = "\ue001"
MARK_RE = re.compile(f"{MARK_OPEN}(?P<kind>[a-z]+)(?::(?P<value>[^{MARK_CLOSE}]*))?{MARK_CLOSE}")
"""Private-use characters: no template text, framework text or writer text produces them."""


def marker(kind: str, value: str = "") -> str:
    return f"{MARK_OPEN}{kind}:{value}{MARK_CLOSE}" if value else f"{MARK_OPEN}{kind}{MARK_CLOSE}"


def remove_markers(text: str) -> str:
    return MARK_RE.sub("", text)


ANCHOR_RE = re.compile(r"\{#m11-(?P<number>\d+(?:-\d+)*)\}")
HEADING_RE = re.compile(r"^#{1,6}\s")
DIV_FENCE_RE = re.compile(r"^:{3,}")
DIV_OPEN_RE = re.compile(r"^:{3,}\s*\{")
LIST_ITEM_RE = re.compile(r"^(?P<number>\d+)\.\s")
REVIEW_RE = re.compile(r"[ \t]?(?<!\\)\[(?:\\.|[^\[\]\\\n])*\]\{\.review\}")
INSERTION_RE = re.compile(r"\[\\<(?P<text>.*?)\\>\]\{\.insertion\}")
CITATION_RE = re.compile(r"\[(?P<body>@[A-Za-z0-9][\w.:-]*(?:\s*;\s*@[A-Za-z0-9][\w.:-]*)*)\]")

_PROTECT_ALWAYS = (
    # review marks; "[" first (the look-behind after it) lets every alternative start with a
    # literal, so the regex engine skips ahead to the next possible start character
    r"\[(?<!\\\[)(?:\\.|[^\[\]\\\n])*\]\{\.review\}",
    MARK_RE.pattern,  # pass markers
    r"\[@[^\]\n]*\]",  # citation markers
    r"\\\[\d[\d,–-]*\\\]",  # numbered citations
    r"`[^`\n]*`",  # inline code
    r"<https?://[^>\s]*>",  # autolinks
    r"\]\([^)\n]*\)",  # link targets
    r"https?://[^\s)>\]]+",  # bare addresses
)
_INSERTION = r"\[\\<.*?\\>\]\{\.insertion\}"
PROTECTED = re.compile("|".join(_PROTECT_ALWAYS))
PROTECTED_WITH_PROMPTS = re.compile("|".join((*_PROTECT_ALWAYS, _INSERTION)))


def map_free_text(
    line: str, change: Callable[[str], str], protected: re.Pattern[str] = PROTECTED
) -> str:
    """`change` applied to the parts of `line` outside review marks, markers, citations,
    code and addresses (and, with PROTECTED_WITH_PROMPTS, insertion prompts)."""
    out: list[str] = []
    pos = 0
    for m in protected.finditer(line):
        out.append(change(line[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(change(line[pos:]))
    return "".join(out)


def free_text(line: str, protected: re.Pattern[str] = PROTECTED) -> str:
    """The parts of `line` a reader sees as prose, protected parts replaced by a space."""
    return protected.sub(" ", line)


def alternation(words: Iterable[str]) -> str:
    """A regex group matching any of `words`, the longer first where several fit (as
    `(?:w1|w2|…)` sorted longest first does), written as a trie: shared beginnings are matched
    once, so the pattern compiles and scans several times faster (~340 spellings, ~120 ids)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[_END] = {}
    return "(?:" + _trie_pattern(trie) + ")"


_END = ""
"""The trie key that marks the end of a word (no character is the empty string)."""


def _trie_pattern(node: dict[str, Any]) -> str:
    # a longer word first, the word ending here last: what longest-first ordering does
    branches = [re.escape(char) + _trie_pattern(child) for char, child in node.items() if char]
    if _END in node:
        branches.append("")
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"


# --------------------------------------------------------------------------- document model


@dataclass
class Chunk:
    """One heading and the lines up to the next heading (its own text, not its subsections)."""

    heading: str | None
    """The heading line; None for the part before the first heading (the title page)."""
    number: str | None
    """The M11 number of the heading ("4.3"), from its {#m11-4-3} anchor."""
    lines: list[str] = field(default_factory=list)


def split_chunks(markdown: str) -> list[Chunk]:
    chunks = [Chunk(None, None)]
    in_code = False
    for line in markdown.split("\n"):
        if line.startswith(("```", "~~~")):
            in_code = not in_code
        if not in_code and HEADING_RE.match(line):
            anchor = ANCHOR_RE.search(line)
            number = anchor.group("number").replace("-", ".") if anchor else None
            chunks.append(Chunk(line, number))
            continue
        chunks[-1].lines.append(line)
    return chunks


def join_chunks(chunks: Iterable[Chunk]) -> str:
    out: list[str] = []
    for chunk in chunks:
        if chunk.heading is not None:
            out.append(chunk.heading)
        out.extend(chunk.lines)
    return "\n".join(out)


def section_lines(markdown: str) -> Iterator[tuple[int, str | None, str, bool]]:
    """(1-based line number, M11 section number, line, is-body-text) for every line; body text
    excludes headings, fenced code, div fences, table rows and captions."""
    number: str | None = None
    in_code = False
    for n, line in enumerate(markdown.split("\n"), start=1):
        if line.startswith(("```", "~~~")):
            in_code = not in_code
            yield n, number, line, False
            continue
        if in_code:
            yield n, number, line, False
            continue
        if HEADING_RE.match(line):
            anchor = ANCHOR_RE.search(line)
            number = anchor.group("number").replace("-", ".") if anchor else number
            yield n, number, line, False
            continue
        body = not (DIV_FENCE_RE.match(line) or line.startswith("|") or line.startswith("Table: "))
        yield n, number, line, body


# --------------------------------------------------------------------------- section texts


@dataclass(frozen=True)
class SectionText:
    key: str
    number: str
    text: str
    """Markdown, escaped."""
    replace: bool


def _insert_point(lines: list[str]) -> int:
    """Where appended text goes in a chunk: before trailing blank lines and the openers of
    layout blocks that belong to the next heading."""
    end = len(lines)
    while end > 0 and (not lines[end - 1].strip() or DIV_OPEN_RE.match(lines[end - 1])):
        end -= 1
    return end


def place_section_texts(markdown: str, texts: Iterable[SectionText]) -> tuple[str, list[str]]:
    """Every writer text at its M11 place; returns the Markdown and the keys that could not
    be placed (their section has no heading in the draft)."""
    chunks = split_chunks(markdown)
    by_number = {c.number: c for c in chunks if c.number is not None}
    missing: list[str] = []
    for st in texts:
        token = marker("text", st.key)
        chunk = by_number.get(st.number)
        if st.replace and chunk is not None:
            # layout fences stay, so the blocks around the section stay balanced
            fences = [line for line in chunk.lines if DIV_FENCE_RE.match(line)]
            cut = len(fences) - _trailing_openers(chunk.lines)
            chunk.lines = ["", *fences[:cut], "", st.text, "", *fences[cut:], ""]
            for other in chunks:
                other.lines = [line.replace(token, "") for line in other.lines]
            continue
        placed = False
        for other in chunks:
            for i, line in enumerate(other.lines):
                if token in line:
                    other.lines[i] = line.replace(token, st.text if not placed else "")
                    placed = True
        if placed:
            continue
        if chunk is None:
            missing.append(st.key)
            continue
        if st.text.strip() in "\n".join(chunk.lines):
            continue  # a template printed it already
        at = _insert_point(chunk.lines)
        chunk.lines[at:at] = ["", st.text, ""]
    return join_chunks(chunks), missing


def _trailing_openers(lines: list[str]) -> int:
    count = 0
    for line in reversed(lines):
        if not line.strip():
            continue
        if DIV_OPEN_RE.match(line):
            count += 1
            continue
        break
    return count


# --------------------------------------------------------------------------- item references


@dataclass(frozen=True)
class ItemPlace:
    id: str
    number: int
    section: str
    kind: str | None


CRITERIA_KINDS = ("inclusion", "exclusion")


def item_places(markdown: str) -> dict[str, ItemPlace]:
    """Where each item marked with `marker("item", id)` sits: list number and section."""
    places: dict[str, ItemPlace] = {}
    for _n, section, line, _body in section_lines(markdown):
        m = LIST_ITEM_RE.match(line)
        if not m:
            continue
        for mark in MARK_RE.finditer(line):
            if mark.group("kind") == "item" and mark.group("value"):
                value = mark.group("value")
                item_id, _, kind = value.partition("|")
                places.setdefault(
                    item_id, ItemPlace(item_id, int(m.group("number")), section or "", kind or None)
                )
    return places


def _numbers(values: list[int]) -> str:
    """[3, 4, 5, 7] → "3 to 5 and 7"."""
    values = sorted(set(values))
    runs: list[str] = []
    start = prev = values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        if start == prev:
            runs.append(str(start))
        elif prev == start + 1:
            runs += [str(start), str(prev)]
        else:
            runs.append(f"{start} to {prev}")
        if v is not None:
            start = prev = v
    return _join(runs)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _label(places: list[ItemPlace]) -> str:
    groups: dict[tuple[str | None, str], list[int]] = {}
    for p in places:
        key = (p.kind, p.section) if p.kind in CRITERIA_KINDS else (None, p.section)
        groups.setdefault(key, []).append(p.number)
    labels = []
    for (kind, section), numbers in groups.items():
        many = len(set(numbers)) > 1
        if kind in CRITERIA_KINDS:
            word = "criteria" if many else "criterion"
            labels.append(f"{kind} {word} {_numbers(numbers)}")
        else:
            labels.append(f"Section {section}, item{'s' if many else ''} {_numbers(numbers)}")
    return _join(labels)


def resolve_item_references(
    markdown: str, places: dict[str, ItemPlace], known_ids: Iterable[str]
) -> str:
    """Item ids in text → "inclusion criteria 3 and 4" / "Section 6.9.1, item 5"."""
    lines = markdown.split("\n")
    # most ids appear only in their items' markers: leave those out of the (slow to compile)
    # pattern, and every line without one of the others alone
    prose = "\n".join(free_text(line, PROTECTED_WITH_PROMPTS) for line in lines)
    ids = _ids_in(prose, set(known_ids) & set(places))
    if not ids:
        return markdown
    one = alternation(ids)
    pattern = re.compile(
        r"(?<![\w-])(?:(?:inclusion|exclusion)\s+)?(?:(?:criterion|criteria|items?)\s+)?"
        rf"(?P<ids>{one}(?:(?:,\s*|\s+and\s+|\s+or\s+|,\s+and\s+){one})*)(?![\w-])"
    )
    id_re = re.compile(rf"(?<![\w-]){one}(?![\w-])")
    some_id = re.compile(one)  # anywhere in the line: a superset of what `pattern` finds

    def replace(m: re.Match[str]) -> str:
        found = [places[i] for i in id_re.findall(m.group("ids"))]
        return _label(found)

    out = []
    for line in lines:
        out.append(
            line
            if HEADING_RE.match(line) or not some_id.search(line)
            else map_free_text(
                line, lambda part: pattern.sub(replace, part), PROTECTED_WITH_PROMPTS
            )
        )
    return "\n".join(out)


def _ids_in(text: str, ids: Iterable[str]) -> list[str]:
    """The `ids` that occur in `text` (anywhere, as part of a word too)."""
    return sorted(i for i in ids if i in text)


def unresolved_ids(markdown: str, known_ids: Iterable[str]) -> list[tuple[int, str]]:
    """(line, id) of item ids still in the text a reader sees (outside review marks and the
    tailoring register, whose entries name removed items by id)."""
    prose = [
        (n, free_text(line, PROTECTED_WITH_PROMPTS))
        for n, section, line, body in section_lines(markdown)
        if section != REGISTER_SECTION and (body or line.startswith("|"))
    ]
    # a finished draft names few ids, if any: look for those alone, in the lines holding one
    ids = _ids_in("\n".join(text for _n, text in prose), set(known_ids))
    if not ids:
        return []
    some_id = re.compile(alternation(ids))
    pattern = re.compile(rf"(?<![\w-]){alternation(ids)}(?![\w-])")
    return [
        (n, m.group(0)) for n, text in prose if some_id.search(text) for m in pattern.finditer(text)
    ]


REGISTER_SECTION = "12.4"
"""The tailoring register: the one section that speaks about the framework."""


# --------------------------------------------------------------------------- self references


def drop_self_references(markdown: str) -> str:
    """ "(Section 4.4)" inside Section 4.4 goes; "in Section 4.4" there reads "in this section"."""
    chunks = split_chunks(markdown)
    for chunk in chunks:
        if chunk.number is None:
            continue
        # both patterns contain these words: a line without them has nothing to change
        words = f"Section {chunk.number}"
        hits = [i for i, line in enumerate(chunk.lines) if words in line]
        if not hits:
            continue
        num = re.escape(chunk.number)
        paren = re.compile(rf"\s?\(Section {num}\)(?![.\d]*\d)")
        bare = re.compile(rf"\bSection {num}(?!\.?\d)")

        def change(part: str, paren: re.Pattern[str] = paren, bare: re.Pattern[str] = bare) -> str:
            return bare.sub("this section", paren.sub("", part))

        for i in hits:
            chunk.lines[i] = map_free_text(chunk.lines[i], change)
    return join_chunks(chunks)


# --------------------------------------------------------------------------- spelling


@functools.cache
def _spelling_pairs(
    path: Path = TEMPLATES_DIR / "protocol" / "spelling.yaml",
) -> tuple[tuple[str, str], ...]:
    """The (en-GB, en-US) pairs; parsing and validating the list took 0.1-0.3 s of every
    protocol render, so the pairs are cached per user by the file's bytes."""
    import hashlib

    from generator.cache import cached

    text = path.read_text("utf-8")
    key = f"{path.name} {hashlib.sha256(text.encode()).hexdigest()}"
    return cached("spelling-pairs", key, functools.partial(_parse_spelling, text))


def _parse_spelling(text: str) -> tuple[tuple[str, str], ...]:
    from ruamel.yaml import YAML

    from generator.models.protocol_data import SpellingList

    data = SpellingList.model_validate(YAML(typ="safe").load(text))
    return tuple((p.en_gb, p.en_us) for p in data.words)


def _case_variants(word: str) -> Iterator[str]:
    yield word
    yield word[:1].upper() + word[1:]
    yield word.upper()


def _recase(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


@functools.cache
def _spelling_re(locale: str) -> tuple[re.Pattern[str], dict[str, str]]:
    pairs = _spelling_pairs()
    table: dict[str, str] = {}
    for gb, us in pairs:
        src, dst = (gb, us) if locale == "en-US" else (us, gb)
        for variant in _case_variants(src):
            table[variant] = _recase(variant, dst)
    words = sorted(table, key=len, reverse=True)
    return re.compile(r"\b(" + alternation(words) + r")\b"), table


_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|^\s*(?:[-*+]|\d+\.)\s+|\*\*|\()\s*$")


def apply_spelling(markdown: str, locale: str) -> str:
    """Every word with an en-GB/en-US variant in the locale's spelling. Headings keep the M11
    titles as the registry spells them, and a capitalised word inside a sentence is taken
    for part of a name ("Cornell Assessment of Pediatric Delirium") and kept as it is."""
    pattern, table = _spelling_re(locale)
    if not table:
        return markdown

    def change(part: str) -> str:
        def one(m: re.Match[str]) -> str:
            word = m.group(0)
            if word[:1].isupper() and not _SENTENCE_START.search(part[: m.start()]):
                return word
            return table[word]

        return pattern.sub(one, part)

    out = []
    in_code = False
    for line in markdown.split("\n"):
        if line.startswith(("```", "~~~")):
            in_code = not in_code
        out.append(line if in_code or HEADING_RE.match(line) else map_free_text(line, change))
    return "\n".join(out)


# --------------------------------------------------------------------------- review marks


def strip_review_marks(markdown: str) -> str:
    """The clean draft: no `[...]{.review}` marks (and no space left before them)."""
    return REVIEW_RE.sub("", markdown)


def review_span(parts: Iterable[Any]) -> str:
    """A review mark for the non-empty `parts`, joined with "; " (text already escaped for
    Markdown stays as it is; brackets and angle brackets are escaped once)."""
    text = "; ".join(str(p).strip() for p in parts if p is not None and str(p).strip())
    if not text:
        return ""
    text = " ".join(text.split())
    text = re.sub(r"(?<!\\)([\[\]<>])", r"\\\1", text)
    return f" [{text}]{{.review}}"
