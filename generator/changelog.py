"""CHANGELOG.md as data: each release's version, date, shipped frameworks and framework changes.

The file ships inside the package (generator/_data/CHANGELOG.md in a wheel), so
`protocmc framework changes --since X.Y.Z` reads the notes of the version that is installed.
Its form is fixed (the top of CHANGELOG.md describes it); a line that breaks the form is a
located problem, never a guess.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

from generator.paths import CHANGELOG
from generator.problems import Location, Problem, ProblemsError

Version = tuple[int, int, int]

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_RELEASE = re.compile(r"## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})")
_UNRELEASED = "## [Unreleased]"
_FRAMEWORKS = "Frameworks:"
_PAIR = re.compile(r"([a-z0-9][a-z0-9-]*) (\d+\.\d+\.\d+)")
_CHANGE = re.compile(r"- ([a-z0-9][a-z0-9-]*)(?:/([a-z0-9][a-z0-9-]*))?: (\S.*)")
CHANGES_HEADING = "### Framework changes"


@dataclass(frozen=True)
class FrameworkChange:
    framework: str
    element: str | None
    text: str
    line: int


@dataclass(frozen=True)
class Release:
    version: str
    date: str
    frameworks: dict[str, str]
    changes: tuple[FrameworkChange, ...]
    line: int

    @property
    def key(self) -> Version:
        parsed = parse_version(self.version)
        assert parsed is not None  # the heading pattern only admits X.Y.Z
        return parsed


def parse_version(text: str) -> Version | None:
    """'1.2.3' (or 'v1.2.3') → (1, 2, 3); None for anything else."""
    match = _VERSION.fullmatch(text.strip().removeprefix("v"))
    if match is None:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


@dataclass
class _Draft:
    """A release while its lines are read."""

    version: str
    date: str
    line: int
    frameworks: dict[str, str] = field(default_factory=dict)
    changes: list[FrameworkChange] = field(default_factory=list)


@dataclass
class _Bullet:
    framework: str
    element: str | None
    text: str
    line: int


class _Parser:
    def __init__(self, display: str) -> None:
        self.display = display
        self.problems: list[Problem] = []
        self.releases: list[Release] = []
        self._open: _Draft | None = None
        self._section: str | None = None
        self._bullet: _Bullet | None = None

    def problem(self, code: str, line: int, column: int, message: str, hint: str) -> None:
        where = Location(self.display, line, column)
        self.problems.append(Problem(code, message, where, hint))

    def close_bullet(self) -> None:
        if self._bullet is not None and self._open is not None:
            b = self._bullet
            self._open.changes.append(FrameworkChange(b.framework, b.element, b.text, b.line))
        self._bullet = None

    def close_release(self) -> None:
        self.close_bullet()
        release = self._open
        self._open = None
        if release is None:
            return
        if not release.frameworks:
            self.problem(
                "PN003",
                release.line,
                1,
                f"release {release.version} has no '{_FRAMEWORKS}' line",
                "add a line such as 'Frameworks: cmc-staged 1.0.0, early-phase-cell-therapy "
                "1.0.0' under the release heading",
            )
        for change in release.changes:
            if release.frameworks and change.framework not in release.frameworks:
                self.problem(
                    "PN007",
                    change.line,
                    3,
                    f"framework '{change.framework}' is not in this release's Frameworks line",
                    "name a framework the release ships, or add it to the Frameworks line",
                )
        self.releases.append(
            Release(
                version=release.version,
                date=release.date,
                frameworks=dict(release.frameworks),
                changes=tuple(release.changes),
                line=release.line,
            )
        )

    def feed(self, number: int, raw: str) -> None:
        line = raw.rstrip()
        if line.startswith("## "):
            self.close_release()
            self._section = None
            if line == _UNRELEASED:
                return
            match = _RELEASE.fullmatch(line)
            if match is None:
                self.problem(
                    "PN001",
                    number,
                    1,
                    f"a release heading must read '## [X.Y.Z] - YYYY-MM-DD', not '{line}'",
                    "write the version in square brackets, then ' - ' and the release date",
                )
                return
            version, date = match.groups()
            try:
                dt.date.fromisoformat(date)
            except ValueError:
                self.problem(
                    "PN002", number, line.index(date) + 1, f"no such date: {date}", "YYYY-MM-DD"
                )
            self._open = _Draft(version, date, number)
            return
        if self._open is None:
            return  # the preamble and [Unreleased] are free text
        if line.startswith("### "):
            self.close_bullet()
            self._section = line
            return
        if line.startswith(_FRAMEWORKS) and self._section is None:
            self._frameworks_line(number, line)
            return
        if self._section != CHANGES_HEADING:
            return
        if not line:
            self.close_bullet()
        elif line.startswith("- "):
            self.close_bullet()
            match = _CHANGE.fullmatch(line)
            if match is None:
                self.problem(
                    "PN004",
                    number,
                    3,
                    "a framework change must start with its framework id (and element id), "
                    "then a colon",
                    "write '- early-phase-cell-therapy/dlt: what changed' or "
                    "'- cmc-staged: what changed'",
                )
                return
            framework, element, text = match.groups()
            self._bullet = _Bullet(framework, element, text, number)
        elif line.startswith("  ") and self._bullet is not None:
            self._bullet.text += " " + line.strip()
        else:
            self.problem(
                "PN005",
                number,
                1,
                "only '- ' bullets (and their indented continuation lines) belong under "
                f"'{CHANGES_HEADING}'",
                "start the line with '- ' or indent it by two spaces to continue the bullet",
            )

    def _frameworks_line(self, number: int, line: str) -> None:
        assert self._open is not None
        frameworks = self._open.frameworks
        rest = line[len(_FRAMEWORKS) :]
        column = len(_FRAMEWORKS) + 1
        for item in rest.split(","):
            start = column + len(item) - len(item.lstrip())
            match = _PAIR.fullmatch(item.strip())
            if match is None:
                self.problem(
                    "PN006",
                    number,
                    start,
                    f"'{item.strip()}' is not '<framework id> <X.Y.Z>'",
                    "list the frameworks as 'id version', separated by commas",
                )
            else:
                frameworks[match.group(1)] = match.group(2)
            column += len(item) + 1


def parse_changelog(text: str, display: str = "CHANGELOG.md") -> list[Release]:
    """Every release in the file, newest first; raises ProblemsError on a broken form."""
    parser = _Parser(display)
    for number, raw in enumerate(text.splitlines(), start=1):
        parser.feed(number, raw)
    parser.close_release()
    releases = parser.releases
    for newer, older in itertools.pairwise(releases):
        if older.key >= newer.key:
            parser.problem(
                "PN008",
                older.line,
                5,
                f"release {older.version} comes after {newer.version}",
                "list releases newest first, each version once",
            )
    if parser.problems:
        raise ProblemsError(parser.problems)
    return releases


def shipped_changelog(path: Path | None = None) -> list[Release]:
    """The releases of the CHANGELOG.md that ships with this protocmc."""
    path = path or CHANGELOG
    return parse_changelog(path.read_text("utf-8"), display=path.name)


def releases_since(releases: list[Release], since: Version | None) -> list[Release]:
    """The releases after `since` (all of them when None), newest first."""
    return [r for r in releases if since is None or r.key > since]
