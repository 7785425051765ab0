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
        super().__init__("\n".join(p.format() for p in self.problems))


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


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Stable order: by file, line, column, then code — so output diffs are meaningful."""

    def key(p: Problem) -> tuple[str, int, int, str, str]:
        loc = p.location or Location("")
        return (loc.file, loc.line, loc.column, p.code, p.message)

    return sorted(problems, key=key)


_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}


def _normalise(word: str) -> str:
    """Case-folded, with roman numerals as digits ('Phase I' → 'phase 1'), '_' as '-'."""
    tokens = word.casefold().replace("_", "-").split(" ")
    return " ".join(_ROMAN.get(t, t) for t in tokens)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A 'did you mean ...?' hint, or '' when nothing is close."""
    options = list(choices)
    by_norm = {_normalise(c): c for c in options}
    close = difflib.get_close_matches(_normalise(word), list(by_norm), n=1, cutoff=0.6)
    return f"did you mean '{by_norm[close[0]]}'?" if close else ""


def relative_display(path: Path, base: Path | None = None) -> str:
    """A path as users typed it: relative to `base` (default cwd) when inside it."""
    base = base or Path.cwd()
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
