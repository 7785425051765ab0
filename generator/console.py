"""Terminal output: plain text always (no rich markup, no emoji codes, no highlighting).

Messages carry user data (keys, lot ids, method names); `[/red]` or `:100:` in them must print
as typed, so every console is built here with markup and emoji off. Colour is applied to our
own words only, through `rich.text.Text` styles.

A `Console` here makes its rich console on first need: a line of plain printable text on a
stream that shows no colour is written as it is, which is what rich would write, without
importing rich (40 ms of every command, issue 17).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from generator.problems import Problem, more_problems_line, shown_problems

if TYPE_CHECKING:
    import rich.console
    from rich.text import Text

_COLOUR_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")
"""Environment variables that make rich colour or lay out output that is not a terminal."""


class Console:
    """rich's Console, made when first needed (see the module's docstring)."""

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr
        self.quiet = False
        self._rich: rich.console.Console | None = None

    @property
    def rich(self) -> rich.console.Console:
        if self._rich is None:
            from rich.console import Console as RichConsole

            self._rich = RichConsole(
                stderr=self.stderr, markup=False, emoji=False, highlight=False, soft_wrap=True
            )
        self._rich.quiet = self.quiet
        return self._rich

    def plain_stream(self) -> Any | None:
        """The stream to write plain text to directly, or None when rich must write it."""
        if self._rich is not None or any(name in os.environ for name in _COLOUR_ENV):
            return None
        stream = sys.stderr if self.stderr else sys.stdout
        try:
            return None if stream.isatty() else stream
        except (AttributeError, ValueError):
            return None

    def print(self, *objects: Any, **kwargs: Any) -> None:
        text = objects[0] if len(objects) == 1 else None
        if isinstance(text, str) and set(kwargs) <= {"markup"} and text.isprintable():
            stream = self.plain_stream()
            if stream is not None:
                if not self.quiet:
                    stream.write(text + "\n")
                return
        self.rich.print(*objects, **kwargs)


_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def make_console(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr)


def problem_text(p: Problem) -> Text:
    """`file:line:col: CODE: message` with only the code coloured; user text stays literal."""
    from rich.text import Text

    text = Text()
    if p.location:
        text.append(f"{p.location}: ")
    text.append(p.code, style=_STYLE[p.severity.value])
    text.append(f": {p.message}")
    return text


def print_problems(console: Console, problems: list[Problem]) -> None:
    """Print the problems in order, at most `MAX_PROBLEMS_SHOWN` of them, then a count of the rest."""
    shown, hidden = shown_problems(problems)
    plain = console.plain_stream() is not None  # no colour: the lines as plain text
    for p in shown:
        line = f"{p.location}: {p.code}: {p.message}" if p.location else f"{p.code}: {p.message}"
        console.print(line if plain else problem_text(p))
        if p.hint:
            console.print(f"    hint: {p.hint}")
    if hidden:
        console.print(more_problems_line(hidden))
