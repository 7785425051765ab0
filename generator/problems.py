"""One problem type that every pipeline stage reports through.

A `Problem` is data: the CLI prints it like a compiler diagnostic and picks the exit code.
Stages collect as many problems as they can and raise `ProblemsError` once, at the end.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

MAX_PROBLEMS_SHOWN = 200
"""Problems printed at most; the rest are counted in one line ('… and N more problem(s)')."""

MAX_PROBLEMS_KEPT = 5_000
"""A stage that can find problems without end (rows of a lot file) stops looking after this."""


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Location:
    """Where a value sits: file, 1-based line and column (0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """A located diagnostic: `file:line:col: CODE: message` plus a hint on how to fix it."""

    code: str
    message: str
    location: Location | None = None
    hint: str = ""
    severity: Severity = Severity.ERROR

    def format(self) -> str:
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.code}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class ProtocmcError(Exception):
    """Base of every error the CLI maps to an exit code."""

    exit_code = 1


class ProblemsError(ProtocmcError):
    """Raised by a stage when its inputs have problems; carries all of them."""

    exit_code = 1

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        shown, hidden = shown_problems(self.problems)
        lines = [p.format() for p in shown] + ([more_problems_line(hidden)] if hidden else [])
        super().__init__("\n".join(lines))


class UsageError(ProtocmcError):
    """Bad command-line usage (wrong option value, missing file argument)."""

    exit_code = 2


@dataclass
class ProblemList:
    """Accumulates problems across a stage; `raise_if_errors` ends the stage."""

    items: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.items.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.is_error]

    def raise_if_errors(self, *, strict: bool = False) -> None:
        bad = self.items if strict else self.errors
        if any(p.severity is not Severity.INFO for p in bad):
            raise ProblemsError(sorted_problems(self.items))


def shown_problems(problems: Iterable[Problem]) -> tuple[list[Problem], int]:
    """The problems to print, in order, and how many more there are beyond the cap."""
    ordered = sorted_problems(problems)
    return ordered[:MAX_PROBLEMS_SHOWN], max(0, len(ordered) - MAX_PROBLEMS_SHOWN)


def more_problems_line(hidden: int) -> str:
    return f"… and {hidden:,} more problem(s)"


def order_key(p: Problem) -> tuple[str, int, int, str, str]:
    """Problems print by file, line, column, then code."""
    loc = p.location or Location("")
    return (loc.file, loc.line, loc.column, p.code, p.message)


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Stable order: by file, line, column, then code — so output diffs are meaningful."""
    return sorted(problems, key=order_key)


_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}


def _normalise(word: str) -> str:
    """Case-folded, with roman numerals as digits ('Phase I' → 'phase 1'), '_' as '-'."""
    tokens = word.casefold().replace("_", "-").split(" ")
    return " ".join(_ROMAN.get(t, t) for t in tokens)


MAX_SUGGESTION_CHOICES = 200
"""Candidates a 'did you mean' hint compares against at most: beyond that (say, 10,000 lot ids)
only those of about the same length and first letter are compared, and none when still too many,
so hints never turn a long list of problems into minutes of string matching."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A 'did you mean ...?' hint, or '' when nothing is close."""
    options = list(choices)
    target = _normalise(word)
    if len(options) > MAX_SUGGESTION_CHOICES:
        options = [
            c for c in options if abs(len(c) - len(word)) <= 2 and c[:1].casefold() == target[:1]
        ]
        if len(options) > MAX_SUGGESTION_CHOICES:
            return ""
    by_norm = {_normalise(c): c for c in options}
    close = difflib.get_close_matches(target, list(by_norm), n=1, cutoff=0.6)
    return f"did you mean '{by_norm[close[0]]}'?" if close else ""


def relative_display(path: Path, base: Path | None = None) -> str:
    """A path as users typed it: relative to `base` (default cwd) when inside it."""
    base = base or Path.cwd()
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
