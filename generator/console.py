"""Terminal output: plain text always (no rich markup, no emoji codes, no highlighting).

Messages carry user data (keys, lot ids, method names); `[/red]` or `:100:` in them must print
as typed, so every console is built here with markup and emoji off. Colour is applied to our
own words only, through `rich.text.Text` styles.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from generator.problems import Problem, more_problems_line, shown_problems

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def make_console(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=True)


def problem_text(p: Problem) -> Text:
    """`file:line:col: CODE: message` with only the code coloured; user text stays literal."""
    text = Text()
    if p.location:
        text.append(f"{p.location}: ")
    text.append(p.code, style=_STYLE[p.severity.value])
    text.append(f": {p.message}")
    return text


def print_problems(console: Console, problems: list[Problem]) -> None:
    """Print the problems in order, at most `MAX_PROBLEMS_SHOWN` of them, then a count of the rest."""
    shown, hidden = shown_problems(problems)
    for p in shown:
        console.print(problem_text(p))
        if p.hint:
            console.print(Text(f"    hint: {p.hint}"))
    if hidden:
        console.print(Text(more_problems_line(hidden)))
