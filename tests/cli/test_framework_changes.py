"""`protocmc framework changes`: CHANGELOG.md read as data, with located problems when its form
is broken, and the releases after --since printed newest first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import changelog
from generator.changelog import parse_changelog, parse_version, releases_since
from generator.problems import ProblemsError

Run = Callable[..., Any]

THREE_RELEASES = """\
# Changelog

Free text, and a list that is not parsed:

- a bullet in the preamble

## [Unreleased]

- anything at all

## [1.2.0] - 2027-03-01

Frameworks: cmc-staged 1.1.0, early-phase-cell-therapy 1.2.0

### Framework changes

- early-phase-cell-therapy/dlt: The DLT window starting point is 28 days for every
  product; the range stays 21 to 42.
- cmc-staged: Potency expectations at the pivotal gate.

### Fixed

- Not a framework change, not parsed.

## [1.1.0] - 2027-02-01

Frameworks: cmc-staged 1.0.0, early-phase-cell-therapy 1.1.0

### Framework changes

- early-phase-cell-therapy/eligibility: Adds a hepatitis B exclusion.

## [1.0.1] - 2027-01-15

Frameworks: cmc-staged 1.0.0, early-phase-cell-therapy 1.0.0

### Framework changes

### Fixed

- A crash.
"""


def test_parses_releases_frameworks_and_changes() -> None:
    releases = parse_changelog(THREE_RELEASES)
    assert [r.version for r in releases] == ["1.2.0", "1.1.0", "1.0.1"]
    newest = releases[0]
    assert newest.date == "2027-03-01"
    assert newest.frameworks == {"cmc-staged": "1.1.0", "early-phase-cell-therapy": "1.2.0"}
    dlt, potency = newest.changes
    assert (dlt.framework, dlt.element) == ("early-phase-cell-therapy", "dlt")
    assert dlt.text == (
        "The DLT window starting point is 28 days for every product; the range stays 21 to 42."
    )
    assert dlt.line == 17
    assert (potency.framework, potency.element) == ("cmc-staged", None)
    assert releases[2].changes == ()


@pytest.mark.parametrize(
    ("since", "expected"),
    [(None, ["1.2.0", "1.1.0", "1.0.1"]), ((1, 0, 1), ["1.2.0", "1.1.0"]), ((1, 2, 0), [])],
)
def test_releases_since_are_the_later_ones(
    since: tuple[int, int, int] | None, expected: list[str]
) -> None:
    releases = parse_changelog(THREE_RELEASES)
    assert [r.version for r in releases_since(releases, since)] == expected


def test_versions_parse_with_or_without_v() -> None:
    assert parse_version("1.2.3") == (1, 2, 3)
    assert parse_version("v10.0.1") == (10, 0, 1)
    assert parse_version("1.2") is None and parse_version("soon") is None


BROKEN = {
    "heading": ("## 1.3.0 (2027-04-01)", "PN001", (1, 1)),
    "date": ("## [1.3.0] - 2027-02-30\nFrameworks: cmc-staged 1.0.0", "PN002", (1, 14)),
    "no frameworks line": ("## [1.3.0] - 2027-04-01\n", "PN003", (1, 1)),
    "bullet without id": (
        "## [1.3.0] - 2027-04-01\nFrameworks: cmc-staged 1.0.0\n### Framework changes\n"
        "- Changed the DLT window.",
        "PN004",
        (4, 3),
    ),
    "loose text": (
        "## [1.3.0] - 2027-04-01\nFrameworks: cmc-staged 1.0.0\n### Framework changes\n"
        "Changed the DLT window.",
        "PN005",
        (4, 1),
    ),
    "frameworks item": (
        "## [1.3.0] - 2027-04-01\nFrameworks: cmc-staged, x 1.0.0",
        "PN006",
        (2, 13),
    ),
    "unknown framework": (
        "## [1.3.0] - 2027-04-01\nFrameworks: cmc-staged 1.0.0\n### Framework changes\n"
        "- early-phase-cell-therapy/dlt: x",
        "PN007",
        (4, 3),
    ),
    "order": (
        "## [1.0.0] - 2027-01-01\nFrameworks: cmc-staged 1.0.0\n"
        "## [1.1.0] - 2027-02-01\nFrameworks: cmc-staged 1.0.0",
        "PN008",
        (3, 5),
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_form_is_a_located_problem(case: str) -> None:
    text, code, (line, column) = BROKEN[case]
    with pytest.raises(ProblemsError) as caught:
        parse_changelog(text, display="CHANGELOG.md")
    [problem] = caught.value.problems
    assert problem.code == code
    assert problem.location is not None
    assert (problem.location.file, problem.location.line, problem.location.column) == (
        "CHANGELOG.md",
        line,
        column,
    )
    assert problem.hint


@pytest.fixture
def changelog_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "CHANGELOG.md"
    path.write_text(THREE_RELEASES, "utf-8")
    monkeypatch.setattr(changelog, "CHANGELOG", path)
    return path


def test_cli_prints_the_changes_since_a_version(changelog_file: Path, cli: Run) -> None:
    result = cli("framework", "changes", "--since", "1.0.1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "1.2.0 (2027-03-01): cmc-staged 1.1.0, early-phase-cell-therapy 1.2.0",
        "  early-phase-cell-therapy/dlt: The DLT window starting point is 28 days for every "
        "product; the range stays 21 to 42.",
        "  cmc-staged: Potency expectations at the pivotal gate.",
        "1.1.0 (2027-02-01): cmc-staged 1.0.0, early-phase-cell-therapy 1.1.0",
        "  early-phase-cell-therapy/eligibility: Adds a hepatitis B exclusion.",
    ]
    everything = cli("framework", "changes")
    assert "1.0.1 (2027-01-15)" in everything.stdout and "no framework changes" in everything.stdout


def test_cli_reports_a_broken_changelog_at_its_line(changelog_file: Path, cli: Run) -> None:
    changelog_file.write_text(
        THREE_RELEASES.replace("## [1.1.0] - 2027-02-01", "## 1.1.0"), "utf-8"
    )
    result = cli("framework", "changes")
    assert result.exit_code == 1
    assert "CHANGELOG.md:25:1: PN001" in result.stderr and "hint:" in result.stderr


def test_cli_since_must_be_a_version(cli: Run) -> None:
    result = cli("framework", "changes", "--since", "last-year")
    assert result.exit_code == 2
    assert "--since takes a version such as 1.0.0" in result.stderr


def test_cli_lists_the_shipped_frameworks(cli: Run) -> None:
    result = cli("framework", "list")
    assert result.exit_code == 0
    ids = [line.split(" ")[0] for line in result.stdout.splitlines()]
    assert ids == ["cmc-staged", "early-phase-cell-therapy"]
