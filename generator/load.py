"""Load YAML into plain Python data that remembers where every key and value came from.

We build the tree ourselves from ruamel.yaml's *event* stream rather than its composer:
the event parser is iterative, so absurd nesting is caught before Python's recursion limit,
and tags, anchors and aliases are refused before any value is built (no billion laughs,
nothing constructed from a tag, nothing executed). Plain scalars are typed with ruamel's
YAML 1.2 resolver; dates stay text so the models decide what they mean.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver

try:  # the optional C extension (ruamel.yaml[libyaml])
    from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - exercised only without the extension
    CParser = None

from generator.problems import Location, Problem, ProblemsError

MAX_FILE_BYTES = 2 * 1024 * 1024
"""Product and framework files are hand-written; anything bigger is a mistake or an attack.
Enforced by reading at most this many bytes plus one, so a file whose size is misreported or
that grows while read stops too."""

MAX_DEPTH = 40
"""Deepest nesting of mappings and sequences a hand-written file plausibly needs, with room."""

MAX_NODES = 50_000
"""Most keys plus values one YAML file may hold."""

MAX_MAPPING_KEYS = 1_000
"""Most keys in one mapping (the largest shipped mapping has 16)."""

MAX_SEQUENCE_ITEMS = 2_000
"""Most entries in one list (the largest shipped list, the M11 heading registry, has 131)."""

MAX_SCALAR_CHARS = 20_000
"""Longest single value (or key) in any YAML file: room for a long protocol section."""

MAX_CHARACTER_PROBLEMS = 50
"""Invisible or control characters reported one by one per file; the rest are counted."""

YamlPath = tuple[str | int, ...]

_MAYBE_TYPED = frozenset("0123456789+-.~nNtTfF")
"""First characters of every YAML 1.2 int, float, bool, null or timestamp."""

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


@dataclass
class LoadedDocument:
    """A YAML file's data plus the 1-based position of every key and value, by path."""

    path: Path
    display: str
    data: Any
    value_positions: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    source_text: dict[YamlPath, str] = field(default_factory=dict)
    """The scalar as written, for hints such as 'you wrote 1.10, which YAML reads as 1.1'."""

    def location(self, path: YamlPath, *, key: bool = False) -> Location:
        """Best location for `path`: the key or value itself, else its nearest ancestor."""
        table = self.key_positions if key else self.value_positions
        probe = tuple(path)
        while True:
            pos = table.get(probe) or self.value_positions.get(probe)
            if pos:
                return Location(self.display, pos[0], pos[1])
            if not probe:
                return Location(self.display, 1, 1)
            probe = probe[:-1]


def _problem(
    display: str, code: str, message: str, hint: str, line: int = 1, col: int = 1
) -> Problem:
    return Problem(code=code, message=message, location=Location(display, line, col), hint=hint)


def _fail_read(display: str, code: str, message: str, hint: str = "") -> ProblemsError:
    return ProblemsError([Problem(code, message, Location(display), hint)])


_NOT_REGULAR_HINT = "name an ordinary file saved on disk (not a pipe, device or socket)"


def _kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: Path, display: str, *, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or raise a located problem.

    The file is opened without blocking (a FIFO would otherwise wait for a writer forever),
    checked to be a regular file on the open descriptor (no race with a swap after a check),
    and read up to `limit + 1` bytes (default `MAX_FILE_BYTES`): the size the file system
    reports is never trusted (files under /proc report 0; a file may grow while it is read).
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _fail_read(display, "PM001", f"file not found: {display}", "check the path") from None
    except OSError as exc:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            raise _fail_read(
                display, "PM003", f"{display} is {_kind_of(mode)}, not a file", _NOT_REGULAR_HINT
            ) from None
        raise _fail_read(
            display, "PM002", f"cannot read {display}: {exc.strerror}", "check the permissions"
        ) from None
    try:
        info = os.fstat(fd)
        mode, size = info.st_mode, info.st_size
        if stat.S_ISDIR(mode):
            raise _fail_read(
                display, "PM002", f"{display} is a folder, not a file", "name the file inside it"
            )
        if not stat.S_ISREG(mode):
            raise _fail_read(
                display, "PM003", f"{display} is {_kind_of(mode)}, not a file", _NOT_REGULAR_HINT
            )
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise _fail_read(display, "PM002", f"cannot read {display}: {exc.strerror}") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > limit:
        raise ProblemsError(
            [
                _problem(
                    display,
                    "PY010",
                    f"the file is larger than the limit of {limit:,} bytes"
                    if size <= limit
                    else f"the file is {size:,} bytes; the limit is {limit:,}",
                    "split the file or remove pasted data; lot data belongs in a CSV file",
                )
            ]
        )
    return raw


def read_text(path: Path, display: str) -> str:
    """Read a UTF-8 text file within the size cap, or raise a located problem."""
    raw = read_bytes(path, display)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ProblemsError(
            [
                _problem(
                    display,
                    "PY011",
                    f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x} cannot be decoded)",
                    "save the file as UTF-8 (in Word or Excel: 'Save As' → 'UTF-8')",
                    line,
                    col,
                )
            ]
        ) from None
    return text.removeprefix("\ufeff")


FORBIDDEN_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
"""Characters refused in every input file: C0 controls except tab, newline and carriage return;
DEL; C1 controls; zero-width and direction marks (U+200B to U+200F); bidirectional embeddings,
overrides and isolates (U+202A to U+202E, U+2066 to U+2069), which make text display in another
order than it is stored; and a byte-order mark anywhere but the start of the file."""


def describe_character(char: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE' or 'U+001B (a control character)'."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X} (a control character)"


_CHARACTER_HINT = (
    "delete the invisible character (often pasted from a PDF, Word or a web page) and save as "
    "plain UTF-8 text; direction overrides and zero-width characters make text read differently "
    "from how it is stored"
)


def character_problems(text: str, display: str, *, what: str = "the file") -> list[Problem]:
    """Located problems for every forbidden character in `text` (the first few one by one)."""
    problems: list[Problem] = []
    matches = FORBIDDEN_CHARACTERS.finditer(text)
    for n, match in enumerate(matches):
        if n == MAX_CHARACTER_PROBLEMS:
            more = 1 + sum(1 for _ in matches)
            problems.append(_character_problem(text, display, match.start(), what, more))
            break
        problems.append(_character_problem(text, display, match.start(), what, 0))
    return problems


def _character_problem(text: str, display: str, pos: int, what: str, more: int) -> Problem:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    message = f"{what} contains an invisible or control character, {describe_character(text[pos])}"
    if more > 1:
        message += f" (and {more - 1:,} more after it, not listed)"
    return _problem(display, "PY012", message, _CHARACTER_HINT, line, col)


def load_yaml(path: Path, *, display: str | None = None) -> LoadedDocument:
    """Load one YAML file safely; raise `ProblemsError` with located problems on failure."""
    display = display or str(path)
    text = read_text(path, display)
    return parse_yaml(text, display=display, path=path)


_PARSED: dict[str, bytes] = {}
"""Parsed documents of this process (pickled: every caller gets its own copy to change)."""


def parse_yaml(text: str, *, display: str, path: Path | None = None) -> LoadedDocument:
    """`text` as a LoadedDocument. A text parsed before (same name, same bytes) comes from the
    per-user cache: ruamel took ~0.55 s for the framework's files on every run, unpickling
    their parse ~0.03 s. Problems are raised, never cached."""
    found = character_problems(text, display)
    if found:
        raise ProblemsError(found)
    from generator.cache import cached

    key = f"{display}\0{path}\0{text}"
    blob = _PARSED.get(key)
    if blob is None:
        blob = cached("yaml", key, lambda: pickle.dumps(_parse(text, display, path), protocol=5))
        _PARSED[key] = blob
    return pickle.loads(blob)  # type: ignore[no-any-return]


def _parse(text: str, display: str, path: Path | None) -> LoadedDocument:
    doc = LoadedDocument(path=path or Path(display), display=display, data=None)
    try:
        doc.data = _build(text, doc)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = (exc.problem or exc.context or "invalid YAML").strip()
        raise ProblemsError(
            [
                _problem(
                    display, "PY001", f"YAML syntax error: {what}", _syntax_hint(what), line, col
                )
            ]
        ) from None
    except ReaderError as exc:
        # a control character or NUL byte: ruamel gives only a character offset
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        raise ProblemsError(
            [
                _problem(
                    display,
                    "PY012",
                    f"the file contains a control character (U+{_codepoint(exc.character):04X}) "
                    "that YAML does not allow",
                    "delete the invisible character (often pasted from a PDF or Word); save as plain UTF-8 text",
                    line,
                    col,
                )
            ]
        ) from None
    except YAMLError as exc:
        raise ProblemsError([_problem(display, "PY001", f"YAML syntax error: {exc}", "")]) from None
    return doc


def _codepoint(character: object) -> int:
    if isinstance(character, int):
        return character
    return ord(str(character)[:1] or "\0")


def _syntax_hint(what: str) -> str:
    if "tab" in what:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in what:
        return "put quotes around text that contains ': ' or start the value on a new line with '|'"
    if "could not find expected ':'" in what or "expected <block end>" in what:
        return "check the indentation of this line and the one above; list items start with '- '"
    return "check quotes, colons and indentation near this position"


class _Frame:
    __slots__ = ("container", "path", "pending_key", "pending_key_pos")

    def __init__(self, container: dict[str, Any] | list[Any], path: YamlPath) -> None:
        self.container = container
        self.path = path
        self.pending_key: str | None = None
        self.pending_key_pos: tuple[int, int] | None = None


def _events(text: str) -> Iterator[Any]:
    """Parse events, from libyaml when ruamel.yaml's C extension is installed (25x faster)."""
    if CParser is None:
        yield from YAML(typ="safe", pure=True).parse(io.StringIO(text))
        return
    parser = CParser(text)
    try:
        while True:
            event = parser.get_event()
            yield event
            if isinstance(event, StreamEndEvent):
                return
    finally:
        parser.dispose()


def _build(text: str, doc: LoadedDocument) -> Any:
    resolver = VersionedResolver(version=(1, 2))
    display = doc.display
    stack: list[_Frame] = []
    root: Any = None
    have_root = False
    documents = 0
    nodes = 0

    def fail(code: str, message: str, hint: str, mark: Any) -> ProblemsError:
        return ProblemsError(
            [_problem(display, code, message, hint, mark.line + 1, mark.column + 1)]
        )

    def attach(value: Any, mark: Any, raw: str | None) -> YamlPath | None:
        nonlocal root, have_root
        pos = (mark.line + 1, mark.column + 1)
        if not stack:
            root, have_root = value, True
            doc.value_positions[()] = pos
            return ()
        top = stack[-1]
        if isinstance(top.container, list):
            if len(top.container) >= MAX_SEQUENCE_ITEMS:
                raise fail(
                    "PY010",
                    f"the list holds more than {MAX_SEQUENCE_ITEMS:,} entries",
                    "shorten the list; lot data belongs in a CSV file",
                    mark,
                )
            p = (*top.path, len(top.container))
            top.container.append(value)
        elif top.pending_key is None:
            if len(top.container) >= MAX_MAPPING_KEYS:
                raise fail(
                    "PY010",
                    f"the block holds more than {MAX_MAPPING_KEYS:,} keys",
                    "no protocmc block needs this many keys; check for pasted or generated data",
                    mark,
                )
            # A mapping key: must be a plain string (or number / bool written as text).
            if isinstance(value, dict | list):
                raise fail(
                    "PY005", "a key must be a simple word", "use a plain word as the key", mark
                )
            key = raw if raw is not None else str(value)
            if key in top.container:
                raise fail(
                    "PY004",
                    f"duplicate key '{key}'",
                    "each key may appear once in a block; merge the two entries",
                    mark,
                )
            top.pending_key, top.pending_key_pos = key, pos
            return None
        else:
            key = top.pending_key
            p = (*top.path, key)
            top.container[key] = value
            doc.key_positions[p] = top.pending_key_pos or pos
            top.pending_key = None
        doc.value_positions[p] = pos
        if raw is not None:
            doc.source_text[p] = raw
        return p

    for event in _events(text):
        if isinstance(event, DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise fail(
                    "PY006",
                    "the file holds more than one YAML document ('---' separator)",
                    "keep one document per file; remove the extra '---'",
                    event.start_mark,
                )
            continue
        if isinstance(event, AliasEvent):
            raise fail(
                "PY003",
                f"aliases are not allowed (*{event.anchor})",
                "write the value out in full; protocmc refuses anchors and aliases",
                event.start_mark,
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise fail(
                "PY003",
                f"anchors are not allowed (&{anchor})",
                "write the value out in full; protocmc refuses anchors and aliases",
                event.start_mark,
            )
        tag = getattr(event, "tag", None)
        if tag is not None and not (
            isinstance(event, ScalarEvent) and tag == "tag:yaml.org,2002:str"
        ):
            raise fail(
                "PY002",
                f"YAML tags are not allowed ({tag})",
                "remove the '!' tag; write plain values",
                event.start_mark,
            )
        if isinstance(event, ScalarEvent | CollectionStartEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise fail(
                    "PY010",
                    f"the file holds more than {MAX_NODES:,} values",
                    "split the file; lot data belongs in a CSV file",
                    event.start_mark,
                )
        if isinstance(event, ScalarEvent):
            if len(event.value) > MAX_SCALAR_CHARS:
                raise fail(
                    "PY010",
                    f"the value is {len(event.value):,} characters long; the limit is "
                    f"{MAX_SCALAR_CHARS:,}",
                    "shorten the text; no protocol section needs more",
                    event.start_mark,
                )
            bad = FORBIDDEN_CHARACTERS.search(event.value)
            if bad:  # written as an escape such as "\\x1b" or "\\u202e" in a quoted value
                raise fail(
                    "PY012",
                    "the value contains an invisible or control character, "
                    f"{describe_character(bad.group())}",
                    _CHARACTER_HINT,
                    event.start_mark,
                )
            value = _scalar(event, resolver)
            attach(value, event.start_mark, event.value)
        elif isinstance(event, MappingStartEvent | SequenceStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise fail(
                    "PY007",
                    f"nesting is deeper than {MAX_DEPTH} levels",
                    "flatten the structure; no protocmc file needs this depth",
                    event.start_mark,
                )
            container: dict[str, Any] | list[Any] = (
                {} if isinstance(event, MappingStartEvent) else []
            )
            path = attach(container, event.start_mark, None)
            assert path is not None
            stack.append(_Frame(container, path))
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            stack.pop()
    if not have_root:
        raise ProblemsError(
            [_problem(display, "PY008", "the file is empty", "start from `protocmc new NAME`")]
        )
    return root


def _scalar(event: ScalarEvent, resolver: VersionedResolver) -> Any:
    value: str = event.value
    if event.tag is not None or not event.implicit[0]:
        return value  # quoted or explicitly !!str: text
    if value and value[0] not in _MAYBE_TYPED:
        return value  # cannot be a number, bool, null or date: skip the (slow) resolver
    tag = resolver.resolve(ScalarNode, value, (True, False))
    try:
        if tag == _INT:
            clean = value.replace("_", "")
            if clean.lower().startswith(("0x", "-0x", "+0x")):
                return int(clean, 16)
            if clean.lower().startswith(("0o", "-0o", "+0o")):
                return int(clean.replace("o", "").replace("O", ""), 8)
            return int(clean)
        if tag == _FLOAT:
            low = value.lower().replace("_", "")
            if low in (".nan",):
                return math.nan
            if low in (".inf", "+.inf"):
                return math.inf
            if low == "-.inf":
                return -math.inf
            return float(low)
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == _NULL:
            return None
    except ValueError:
        return value
    return value
