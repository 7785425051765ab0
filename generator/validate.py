"""Validate loaded YAML against the pydantic models and turn every error into a located Problem."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from generator.load import LoadedDocument, YamlPath
from generator.problems import (
    MAX_PROBLEMS_SHOWN,
    Problem,
    ProblemsError,
    did_you_mean,
    order_key,
)

M = TypeVar("M", bound=BaseModel)

_NUMBER_LIKE = re.compile(r"^[+-]?(\d[\d_]*)?\.?\d+([eE][+-]?\d+)?$")


def validate(doc: LoadedDocument, model: type[M]) -> M:
    """Validate `doc.data` as `model`; raise `ProblemsError` listing every problem, located."""
    if not isinstance(doc.data, dict):
        raise ProblemsError(
            [
                Problem(
                    "PV001",
                    "the file must be a mapping of keys to values",
                    doc.location(()),
                    "start from `protocmc new NAME` to see the expected layout",
                )
            ]
        )
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise ProblemsError(problems_from_validation(exc, doc, model)) from None


def problems_from_validation(
    exc: ValidationError, doc: LoadedDocument, model: type[BaseModel]
) -> list[Problem]:
    """One located problem per error, in print order.

    Hints that need a search (did you mean ...?) are worked out only for the problems that
    will be printed (`MAX_PROBLEMS_SHOWN`): a file of 24,000 unknown keys must not spend
    seconds on suggestions nobody sees.
    """
    located = _merge_union_branches(
        [(_error_path(err, doc.data), err) for err in exc.errors(include_url=False)]
    )
    quick = [(_problem(path, err, doc, model, detailed=False), path, err) for path, err in located]
    quick.sort(key=lambda entry: order_key(entry[0]))
    return [
        _problem(path, err, doc, model, detailed=True) if n < MAX_PROBLEMS_SHOWN else problem
        for n, (problem, path, err) in enumerate(quick)
    ]


def _error_path(err: Any, data: Any) -> YamlPath:
    """The YAML path of an error; errors raised for a list or model name the entry at fault."""
    path = _yaml_path(err["loc"], data, keep_missing=err["type"] == "missing")
    ctx = err.get("ctx") or {}
    if err["type"] == "duplicate_id" and isinstance(ctx.get("index"), int):
        node = _get_value(data, path)
        if isinstance(node, list) and ctx["index"] < len(node):
            entry = node[ctx["index"]]
            return (*path, ctx["index"], *(("id",) if isinstance(entry, dict) else ()))
    if isinstance(ctx.get("at"), tuple):
        return (*path, *ctx["at"])
    return path


def _merge_union_branches(located: list[tuple[YamlPath, Any]]) -> list[tuple[YamlPath, Any]]:
    """A value that fits no branch of a union (number, text or list...) gets one problem, not one
    per branch."""
    merged: list[tuple[YamlPath, Any]] = []
    by_path: dict[YamlPath, int] = {}
    for path, err in located:
        is_branch = len(err["loc"]) > len(path) and err["type"] not in (
            "missing",
            "extra_forbidden",
        )
        if is_branch and path in by_path:
            first = merged[by_path[path]][1]
            wanted = _expected(err["msg"])
            if wanted and wanted not in first["msg"]:
                first["msg"] = f"{first['msg']}, or {wanted}"
            first["type"] = "union"
            continue
        if is_branch:
            by_path[path] = len(merged)
            err = dict(err)  # its message grows with the other branches' expectations
        merged.append((path, err))
    return merged


def _expected(msg: str) -> str:
    return msg.removeprefix("Input should be ").removeprefix("Value error, ")


_SIMPLE_HINTS = {
    "finite_number": "write an ordinary number; .inf and .nan are not values a protocol can use",
    "magnitude": "write the value in its usual unit; numbers this large are not physical",
    "union": "see the product file reference in the README or `protocmc new` for an example",
    "rates_per_level": "give one true DLT rate (from 0 to 1) for each dose level, lowest dose first",
    "string_too_long": "shorten the text; long passages belong under 'sections:'",
    "too_long": "shorten the list to the limit in the message",
    "too_short": "add at least one entry",
    "int_parsing": "write a plain number without units or quotes",
    "float_parsing": "write a plain number without units or quotes",
    "int_type": "write a plain number without units or quotes",
    "float_type": "write a plain number without units or quotes",
    "greater_than_equal": "change the value to lie within the allowed range",
    "less_than_equal": "change the value to lie within the allowed range",
    "greater_than": "change the value to lie within the allowed range",
    "less_than": "change the value to lie within the allowed range",
    "value_error": "change the values so that the rule in the message holds",
    "assertion_error": "change the values so that the rule in the message holds",
}


def _problem(
    path: YamlPath, err: Any, doc: LoadedDocument, model: type[BaseModel], *, detailed: bool
) -> Problem:
    kind = err["type"]
    dotted = ".".join(str(p) for p in path) or "(top level)"
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else ""
        hint = "remove this key or correct its spelling"
        if detailed:
            known = _known_fields(model, path[:-1], doc.data)
            hint = did_you_mean(key, known) or (
                f"allowed keys here: {', '.join(sorted(known))}" if known else "remove this key"
            )
        return Problem(
            "PV010",
            f"unknown key '{key}' in {_parent(path)}",
            doc.location(path, key=True),
            hint,
        )
    if kind == "missing":
        return Problem(
            "PV011",
            f"required key '{path[-1]}' is missing from {_parent(path)}",
            doc.location(path[:-1], key=True),
            f"add '{path[-1]}:' with a value",
        )
    if kind == "duplicate_id":
        what = str((err.get("ctx") or {}).get("what", "entry"))
        return Problem(
            "PV012",
            f"{dotted}: {err['msg']}",
            doc.location(path),
            f"give every {what} its own id, or merge the two entries",
        )
    if kind == "weak_justification":
        return Problem(
            "PV013",
            f"{dotted}: {err['msg']}",
            doc.location(path),
            "write at least one full sentence saying why this product needs the change, e.g. "
            "'The allogeneic product can cause graft-versus-host disease after Day 28.'",
        )
    written = doc.source_text.get(path)
    msg = err["msg"].removeprefix("Value error, ")
    hint = _SIMPLE_HINTS.get(kind, "")
    if kind == "string_type" and written is not None and _NUMBER_LIKE.match(written):
        hint = (
            f'you wrote {written}, which YAML reads as a number; put quotes around it: "{written}"'
        )
    elif kind == "string_type" and written in ("true", "false", "yes", "no", "null", "~"):
        hint = f'put quotes around it: "{written}"'
    elif kind == "literal_error":
        hint = "use one of the listed values, spelt exactly"
        if written is not None and detailed:
            expected = err.get("ctx", {}).get("expected", "")
            options = re.findall(r"'([^']*)'", str(expected))
            suggestion = did_you_mean(written, options)
            hint = suggestion or hint
    elif kind == "string_pattern_mismatch":
        hint = _pattern_hint(str(err.get("ctx", {}).get("pattern", "")))
    elif kind == "string_type" and _get_value(doc.data, path) is None:
        hint = "write a value after the colon, or remove the key if it is optional"
    if not hint:
        hint = "see the product file reference in the README or `protocmc new` for an example"
    return Problem("PV020", f"{dotted}: {msg}", doc.location(path), hint)


def _parent(path: YamlPath) -> str:
    parent = ".".join(str(p) for p in path[:-1])
    return f"'{parent}'" if parent else "the top level"


def _pattern_hint(pattern: str) -> str:
    if "@" in pattern:
        return "write the framework as NAME@MAJOR, e.g. early-phase-cell-therapy@1"
    if r"\d{4}-\d{2}-\d{2}" in pattern:
        return 'write the date as "YYYY-MM-DD" in quotes'
    if r"^\d+(\.\d+)*$" in pattern:
        return 'write the version as digits and dots in quotes, e.g. "1.0"'
    if "A-Za-z0-9" in pattern:
        return "ids use letters, digits, '-', '_' and '.', starting with a letter or digit"
    return f"the value must match {pattern}"


def _yaml_path(loc: tuple[int | str, ...], data: Any, *, keep_missing: bool = True) -> YamlPath:
    """Map pydantic's loc (which may include union/model tags) onto the YAML data's path.

    A name that is not in the data is kept only for a missing key (`keep_missing`): for any
    other error it is a union branch tag ('bool', 'list[str]') of a value that is a mapping."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and isinstance(part, str) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            path.append(part)
            node = node[part]  # type: ignore[index]
        elif isinstance(node, dict) and isinstance(part, str) and keep_missing:
            # a missing key: keep it as the last element
            path.append(part)
            node = None
        # else: a union branch tag such as 'list[str]' or 'function-after[...]'; skip it
    return tuple(path)


def _known_fields(model: type[BaseModel], parent: YamlPath, data: Any) -> list[str]:
    """Field names of the model that sits at `parent`, walking nested models."""
    current: Any = model
    for part in parent:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            # a dict keyed by ids (e.g. tailoring.<element>): the value model is in the args
            current = _dict_value_model(current)
            if current is None:
                return []
            continue
        current = _inner_model(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _dict_value_model(current: Any) -> Any:
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _get_value(data: Any, path: YamlPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
