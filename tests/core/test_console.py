"""Terminal output (generator/console.py): where no colour is shown, lines are written without
importing rich, and they are exactly what rich would have written; user text prints as typed."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from rich.console import Console as RichConsole

from generator.console import make_console, print_problems, problem_text
from generator.problems import Location, Problem, Severity, shown_problems

PROBLEMS = [
    Problem(
        "PV001", "unknown key '[/red]' and :100: as typed", Location("p.yaml", 3, 5), "hint [b]"
    ),
    Problem("CM071", "span 26% … of 'viability'", Location("cmc.yaml"), None, Severity.WARNING),
    Problem("PE002", "a tab\there and a bell \x07 in user data", None, "hint\twith tab"),
]


def _rich_lines(problems: list[Problem]) -> str:
    buffer = io.StringIO()
    rich = RichConsole(
        file=buffer, markup=False, emoji=False, highlight=False, soft_wrap=True, color_system=None
    )
    for p in problems:
        rich.print(problem_text(p))
        if p.hint:
            rich.print(f"    hint: {p.hint}")
    return buffer.getvalue()


def test_plain_lines_are_what_rich_would_write(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    print_problems(make_console(stderr=True), PROBLEMS)
    assert capsys.readouterr().err == _rich_lines(shown_problems(PROBLEMS)[0])


def test_quiet_console_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    console = make_console()
    console.quiet = True
    console.print("wrote out/protocol.md")
    print_problems(console, PROBLEMS)
    assert capsys.readouterr().out == ""


def test_forced_colour_still_colours_only_the_code() -> None:
    probe = (
        "from generator.console import make_console, print_problems\n"
        "from generator.problems import Problem, Location\n"
        "print_problems(make_console(), [Problem('PV001', '[red]x', Location('p.yaml', 1, 1))])\n"
    )
    env = {**os.environ, "FORCE_COLOR": "1", "NO_COLOR": ""}
    env.pop("NO_COLOR")
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert "\x1b[" in out and out.startswith("p.yaml:1:1: \x1b[") and "[red]x" in out
