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


class SourceKind(StrEnum):
    """What a source is; decides how a protocol cites it (`background`: never)."""

    ARTICLE = "article"
    GUIDANCE = "guidance"
    LABEL = "label"
    REGISTRY = "registry"
    STANDARD = "standard"
    SOFTWARE = "software"
    BACKGROUND = "background"


Doi = Annotated[str, StringConstraints(pattern=r"^10\.\d{4,9}/\S+$", max_length=300)]
Pmid = Annotated[str, StringConstraints(pattern=r"^\d{1,9}$")]
Nct = Annotated[str, StringConstraints(pattern=r"^NCT\d{8}$")]
AuthorName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Source(StrictModel):
    id: Identifier = Field(description="Short key cited by elements, e.g. 'lee-2019-astct'.")
    citation: Text = Field(description="Full human-readable citation (used by the site).")
    kind: SourceKind | None = Field(
        default=None,
        description="article, guidance, label, registry, standard, software or background "
        "(framework-only material a protocol never cites).",
    )
    authors: list[AuthorName] = Field(
        default_factory=list, description='Authors as "Family GI", in order; "et al." not needed.'
    )
    title: str | None = Field(default=None, max_length=2000, description="Title of the work.")
    container: str | None = Field(
        default=None, max_length=500, description="Journal, or the publishing body."
    )
    year: int | None = Field(default=None, ge=1900, le=2100)
    volume: str | None = Field(default=None, max_length=50)
    issue: str | None = Field(default=None, max_length=50)
    pages: str | None = Field(default=None, max_length=50)
    doi: Doi | None = None
    pmid: Pmid | None = None
    nct: Nct | None = Field(default=None, description="ClinicalTrials.gov identifier.")
    url: str | None = Field(default=None, description="Where the source can be read.")
    evidence: Evidence = Field(
        default=Evidence.VERIFIED,
        description="Whether the citation itself was checked.",
    )
