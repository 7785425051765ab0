"""Validate loaded YAML against the pydantic models and turn every error into a located Problem."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from generator.load import LoadedDocument, YamlPath
from generator.problems import Problem, ProblemsError, did_you_mean

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
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        path = _yaml_path(err["loc"], doc.data)
        kind = err["type"]
        dotted = ".".join(str(p) for p in path) or "(top level)"
        if kind == "extra_forbidden":
            key = str(path[-1]) if path else ""
            known = _known_fields(model, path[:-1], doc.data)
            hint = did_you_mean(key, known) or (
                f"allowed keys here: {', '.join(sorted(known))}" if known else "remove this key"
            )
            problems.append(
                Problem(
                    "PV010",
                    f"unknown key '{key}' in {_parent(path)}",
                    doc.location(path, key=True),
                    hint,
                )
            )
            continue
        if kind == "missing":
            problems.append(
                Problem(
                    "PV011",
                    f"required key '{path[-1]}' is missing from {_parent(path)}",
                    doc.location(path[:-1], key=True),
                    f"add '{path[-1]}:' with a value",
                )
            )
            continue
        written = doc.source_text.get(path)
        msg = err["msg"].removeprefix("Value error, ")
        hint = ""
        if kind == "string_type" and written is not None and _NUMBER_LIKE.match(written):
            hint = f'you wrote {written}, which YAML reads as a number; put quotes around it: "{written}"'
        elif kind == "string_type" and written in ("true", "false", "yes", "no", "null", "~"):
            hint = f'put quotes around it: "{written}"'
        elif kind == "literal_error":
            hint = "use one of the listed values, spelt exactly"
            if written is not None:
                expected = err.get("ctx", {}).get("expected", "")
                options = re.findall(r"'([^']*)'", str(expected))
                suggestion = did_you_mean(written, options)
                hint = suggestion or hint
        elif kind == "string_pattern_mismatch":
            hint = _pattern_hint(str(err.get("ctx", {}).get("pattern", "")))
        elif kind in ("int_parsing", "float_parsing", "int_type", "float_type"):
            hint = "write a plain number without units or quotes"
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            hint = "change the value to lie within the allowed range"
        elif kind == "too_short":
            hint = "add at least one entry"
        elif kind == "string_type" and _get_value(doc.data, path) is None:
            hint = "write a value after the colon, or remove the key if it is optional"
        elif kind in ("value_error", "assertion_error"):
            hint = "change the values so that the rule in the message holds"
        if not hint:
            hint = "see the product file reference in the README or `protocmc new` for an example"
        problems.append(Problem("PV020", f"{dotted}: {msg}", doc.location(path), hint))
    return problems


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


def _yaml_path(loc: tuple[int | str, ...], data: Any) -> YamlPath:
    """Map pydantic's loc (which may include union/model tags) onto the YAML data's path."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and isinstance(part, str) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            path.append(part)
            node = node[part]  # type: ignore[index]
        elif isinstance(node, dict) and isinstance(part, str):
            # a missing or extra key: keep it as the last element
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
