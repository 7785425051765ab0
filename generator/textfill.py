"""Text from YAML is text: the small placeholder language of framework and product text.

Framework and product text is never compiled as a template. It may name values with
placeholders, and framework text may carry parts that apply only under a condition:

    text: The DLT window lasts {param:dlt_window_days} days.

    text:
      - text: Participants are staggered.
      - text: Concurrent enrolment into more than one cohort is permitted.
        when: concurrent_cohorts
      - text: The target DLT rate is {param:target_dlt_rate}.
        when: design != 3+3

Placeholders are `{param:NAME}` (a parameter of the element or item); `{param:NAME|times}`
reads "once", "twice", "3 times" and `{param:NAME|plural:participant}` reads "1 participant",
"3 participants" (`plural:criterion/criteria` for an irregular plural), so no text prints
"time(s)". Anything else in braces, `{{ 7*7 }}` included, is printed as typed. Conditions (`when:`) are `NAME`, `not NAME`,
`NAME OP VALUE` with OP one of == != < <= > >= (or `NAME in [A, B]`), joined by `and` / `or`
(`and` binds tighter). NAME is a parameter or a product fact such as `product.source`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PLACEHOLDER = re.compile(
    r"\{(?P<kind>[a-z]+):(?P<name>[A-Za-z_][A-Za-z0-9_.]*)"
    r"(?:\|(?P<format>[a-z]+)(?::(?P<arg>[^{}|]+))?)?\}"
)
KINDS = ("param",)


@dataclass(frozen=True)
class TextError(Exception):
    """A placeholder or condition that cannot be used; `offset` is into the text."""

    message: str
    hint: str = ""
    offset: int = 0
    part: int | None = None
    """Which part of a text given as parts (None for plain text)."""

    def __str__(self) -> str:
        return self.message


def placeholders(text: str) -> list[tuple[str, str]]:
    """The `(kind, name)` of every placeholder in `text`, in order."""
    return [(m.group("kind"), m.group("name")) for m in PLACEHOLDER.finditer(text)]


def fill(text: str, values: Mapping[str, Any], fmt: Callable[[Any], str]) -> str:
    """Replace `{param:NAME}` with the formatted value; raise `TextError` for unknown names."""
    if "{" not in text:
        return text

    def replace(m: re.Match[str]) -> str:
        kind, name = m.group("kind"), m.group("name")
        if kind not in KINDS:
            raise TextError(
                f"unknown placeholder kind '{kind}' in {m.group(0)}",
                "placeholders look like {param:dlt_window_days}",
                m.start(),
            )
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise TextError(
                f"{m.group(0)} names no parameter here",
                f"parameters here: {known}",
                m.start(),
            )
        return _formatted(values[name], m.group("format"), m.group("arg"), fmt, m)

    return PLACEHOLDER.sub(replace, text)


def _formatted(
    value: Any, how: str | None, arg: str | None, fmt: Callable[[Any], str], m: re.Match[str]
) -> str:
    if how is None:
        return fmt(value)
    if how == "times":
        return {1: "once", 2: "twice"}.get(value, f"{fmt(value)} times")
    if how == "plural" and arg:
        singular, _, many = arg.partition("/")
        word = singular if value == 1 else (many or singular + "s")
        return f"{fmt(value)} {word}"
    raise TextError(
        f"unknown format in {m.group(0)}",
        "formats are |times and |plural:WORD (or |plural:WORD/PLURAL)",
        m.start(),
    )


# --------------------------------------------------------------------------- conditions

_TOKEN = re.compile(
    r"\s*(?:(?P<op>==|!=|<=|>=|<|>)|(?P<list>\[[^\]]*\])|(?P<quoted>\"[^\"]*\"|'[^']*')"
    r"|(?P<word>[^\s=!<>\[\]\"']+))"
)


def _tokens(condition: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(condition):
        if condition[pos:].strip() == "":
            break
        m = _TOKEN.match(condition, pos)
        if m is None or m.end() == pos:
            raise TextError(
                f"cannot read the condition near '{condition[pos:].strip()}'",
                "conditions look like: design != 3+3 and concurrent_cohorts",
                pos,
            )
        kind = m.lastgroup or "word"
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


def _literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    low = text.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    try:
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return text


def _compare(left: Any, op: str, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        if op not in ("==", "!="):
            raise TextError(f"'{op}' cannot compare yes/no values")
        equal = bool(left) == bool(right) if isinstance(right, bool) else str(left) == str(right)
        return equal if op == "==" else not equal
    numeric = isinstance(left, int | float) and isinstance(right, int | float)
    if left is None and op not in ("==", "!="):
        return False  # a fact the product does not give (e.g. no upper age): no order holds
    if op in ("==", "!="):
        equal = left == right if numeric else str(left) == str(right)
        return equal if op == "==" else not equal
    if not numeric:
        raise TextError(f"'{op}' compares numbers; got {left!r} and {right!r}")
    a, b = float(left), float(right)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def evaluate(condition: str, names: Mapping[str, Any]) -> bool:
    """Evaluate a `when:` condition against parameter values and product facts."""
    tokens = _tokens(condition)
    if not tokens:
        raise TextError("the condition is empty", "write e.g. 'when: concurrent_cohorts'")
    # split on `or`, then on `and`
    any_true = False
    clause: list[tuple[str, str, int]] = []
    clauses: list[list[tuple[str, str, int]]] = []
    for tok in tokens:
        if tok[0] == "word" and tok[1] == "or":
            clauses.append(clause)
            clause = []
        else:
            clause.append(tok)
    clauses.append(clause)
    for clause_tokens in clauses:
        terms: list[list[tuple[str, str, int]]] = [[]]
        for tok in clause_tokens:
            if tok[0] == "word" and tok[1] == "and":
                terms.append([])
            else:
                terms[-1].append(tok)
        if all(_term(t, names, condition) for t in terms):
            any_true = True
    return any_true


def _term(tokens: Sequence[tuple[str, str, int]], names: Mapping[str, Any], condition: str) -> bool:
    if not tokens:
        raise TextError(
            f"'and' or 'or' without a test on both sides in '{condition}'",
            "conditions look like: design != 3+3 and concurrent_cohorts",
        )
    negate = False
    toks = list(tokens)
    if toks[0] == ("word", "not", toks[0][2]):
        negate = True
        toks = toks[1:]
    if not toks or toks[0][0] != "word":
        raise TextError(f"a condition must start with a name: '{condition}'")
    name = toks[0][1]
    if name not in names:
        known = ", ".join(sorted(names))
        raise TextError(
            f"the condition names '{name}', which is neither a parameter nor a product fact",
            f"names available here: {known}",
            toks[0][2],
        )
    value = names[name]
    rest = toks[1:]
    if not rest:
        result = bool(value)
    elif len(rest) == 2 and rest[0][0] == "op":
        result = _compare(value, rest[0][1], _literal(rest[1][1]))
    elif len(rest) == 2 and rest[0] == ("word", "in", rest[0][2]) and rest[1][0] == "list":
        options = [_literal(x) for x in rest[1][1][1:-1].split(",") if x.strip()]
        result = any(_compare(value, "==", o) for o in options)
    else:
        raise TextError(
            f"cannot read the condition '{condition}'",
            "write NAME, not NAME, NAME == VALUE, NAME != VALUE, NAME < NUMBER or NAME in [A, B]",
        )
    return not result if negate else result


def condition_names(condition: str) -> list[str]:
    """The names a condition reads (for checks that run without values)."""
    keywords = {"and", "or", "not", "in"}
    out: list[str] = []
    expect_name = True
    for kind, text, _ in _tokens(condition):
        if kind == "word" and text in keywords:
            expect_name = text != "in"
            continue
        if kind == "word" and expect_name:
            out.append(text)
            expect_name = False
        elif kind in ("op", "list"):
            expect_name = False
    return out


def condition_values(condition: str) -> list[tuple[str, Any]]:
    """`(NAME, VALUE)` for every equality test (`==`, `!=`, `in [...]`) in a condition: which
    values of a product fact some text is written for (check warns about the others)."""
    out: list[tuple[str, Any]] = []
    tokens = _tokens(condition)
    for i, (kind, text, _) in enumerate(tokens):
        if kind != "word" or i + 2 >= len(tokens):
            continue
        nxt, val = tokens[i + 1], tokens[i + 2]
        if nxt[0] == "op" and nxt[1] in ("==", "!=") and val[0] in ("word", "quoted"):
            out.append((text, _literal(val[1])))
        elif nxt == ("word", "in", nxt[2]) and val[0] == "list":
            out.extend((text, _literal(x)) for x in val[1][1:-1].split(",") if x.strip())
    return out
