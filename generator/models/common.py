"""Shared model pieces: the strict base model and small value types."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", min_length=1, max_length=80),
]
"""Ids of elements, items, sources, dose levels: letters, digits, '-', '_', '.'."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class StrictModel(BaseModel):
    """Every YAML-facing model: unknown keys are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=False)


class Evidence(StrEnum):
    """Whether a fact was checked against its cited source."""

    VERIFIED = "verified"
    NEEDS_VERIFICATION = "needs-verification"
    COMPUTED = "computed"


ParameterValue = bool | int | float | str | list[str]


class Source(StrictModel):
    id: Identifier = Field(description="Short key cited by elements, e.g. 'lee-2019-astct'.")
    citation: Text = Field(description="Full bibliographic citation.")
    url: str | None = Field(default=None, description="Where the source can be read.")
    evidence: Evidence = Field(
        default=Evidence.VERIFIED,
        description="Whether the citation itself was checked.",
    )
