"""Plain data for templates: models and analysis results as dicts, lists, strings and numbers.

Templates run in a sandbox that reads only plain data (generator/sandbox.py). `to_plain` turns
pydantic models and dataclasses into dicts of their fields *and* their computed properties
(so `criterion.is_numeric` or `element.needs_verification` still read naturally), enums into
their values and tuples into lists. Anything else — a `Path`, a function, an open file — is a
programming error: it must never reach a template.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from enum import Enum
from typing import Any

from pydantic import BaseModel

Plain = dict[str, Any] | list[Any] | str | int | float | bool | None


@functools.cache
def _properties(cls: Any) -> tuple[str, ...]:
    names = []
    for klass in reversed(cls.__mro__):
        for name, member in vars(klass).items():
            if isinstance(member, property | functools.cached_property) and not name.startswith(
                "_"
            ):
                names.append(name)
    return tuple(dict.fromkeys(names))


def to_plain(
    value: Any,
    *,
    skip: frozenset[str] = frozenset(),
    text: Callable[[str], str] | None = None,
) -> Any:
    """`value` as plain data; `skip` names fields (at any depth) left out; `text`, when
    given, is applied to every string value (not to keys), e.g. to escape it for the output."""
    if isinstance(value, str):
        return text(value) if text is not None else value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return to_plain(value.value, text=text)
    if isinstance(value, dict):
        return {str(k): to_plain(v, skip=skip, text=text) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [to_plain(v, skip=skip, text=text) for v in items]
    if isinstance(value, BaseModel):
        names: tuple[str, ...] = tuple(type(value).model_fields)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = tuple(f.name for f in dataclasses.fields(value))
    else:
        raise TypeError(f"{type(value).__name__} is not plain data and cannot reach a template")
    out: dict[str, Any] = {}
    cls: type = type(value)
    for name in (*names, *_properties(cls)):
        if name in skip or name in out:
            continue
        out[name] = to_plain(getattr(value, name), skip=skip, text=text)
    return out
