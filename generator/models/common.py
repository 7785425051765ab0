"""Shared model pieces: the strict base model, small value types and the input limits they carry.

Every string a model accepts has a length limit, every number is finite (``allow_inf_nan`` is
off for every model) and every list of things with ids has unique ids. The limits below are
listed, with their values, in the README's reliability section.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

MAX_ID_CHARS = 80
"""Longest id (elements, items, sources, dose levels, objectives, tests, lots...)."""

MAX_NAME_CHARS = 300
"""Longest short text: names, short titles, acronyms, labels, units, kinds (the ClinicalTrials.gov
brief-title limit is 300)."""

MAX_TITLE_CHARS = 1_000
"""Longest title (a full protocol title, an element or table title)."""

MAX_TEXT_CHARS = 20_000
"""Longest free text (a protocol section, a description, a rationale, a justification)."""

MAX_MAGNITUDE = 1e15
"""Largest absolute value of any measured or planned number (doses, limits, lot results): above
it, sums and squares in the statistics lose all precision or overflow."""

Identifier = Annotated[
    str,
    StringConstraints(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", min_length=1, max_length=MAX_ID_CHARS
    ),
]
"""Ids of elements, items, sources, dose levels: letters, digits, '-', '_', '.'."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]
"""Free text, up to `MAX_TEXT_CHARS`."""

Title = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE_CHARS)]
"""A title, up to `MAX_TITLE_CHARS`."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_CHARS)]
"""A name, label, unit or other short text, up to `MAX_NAME_CHARS`."""

Quantity = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]
"""A finite number of sane magnitude."""

Probability = Annotated[float, Field(ge=0, le=1)]
"""A rate or probability: from 0 to 1."""


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("finite_number", "Input should be a finite number")
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and abs(value) > MAX_MAGNITUDE
    ):
        raise PydanticCustomError(
            "magnitude", f"{{value}} is larger than {MAX_MAGNITUDE:g} in size", {"value": value}
        )
    return value


ParameterValue = Annotated[bool | int | float | Text | list[Name], BeforeValidator(_finite)]
"""A framework parameter's value: a number, true/false, a word or sentence, or a list of words."""


class StrictModel(BaseModel):
    """Every YAML-facing model: unknown keys are errors (typos must not pass silently), and
    numbers must be finite (YAML's .inf and .nan are refused)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=False,
        populate_by_name=False,
        allow_inf_nan=False,
        # a model's validator is built when first used, not at import: a build whose CMC
        # inputs are cached never builds the ~90 CMC models (0.4 s, issue 17)
        defer_build=True,
    )


T = TypeVar("T")


def unique(what: str, key: Callable[[Any], str] = lambda x: x.id) -> AfterValidator:
    """A list validator: the ids (by `key`) are unique; the error points at the repeated one."""

    def check(items: Sequence[T]) -> Sequence[T]:
        first: dict[str, int] = {}
        for index, item in enumerate(items):
            k = key(item)
            if k in first:
                raise PydanticCustomError(
                    "duplicate_id",
                    "duplicate {what} id '{id}' (entries {first} and {second})",
                    {
                        "what": what,
                        "id": k,
                        "index": index,
                        "first": first[k] + 1,
                        "second": index + 1,
                    },
                )
            first[k] = index
        return items

    return AfterValidator(check)


PLACEHOLDER_WORDS = frozenset({"tbd", "tbc", "tba", "todo", "fixme", "xxx", "lorem"})
"""Words that mark unfinished text wherever they stand in a justification."""

PLACEHOLDER_TEXTS = frozenset(
    {
        "n/a",
        "na",
        "none",
        "null",
        "nil",
        "pending",
        "placeholder",
        "see above",
        "see below",
        "as above",
        "to do",
        "to be determined",
        "to be confirmed",
        "to be added",
        "justification",
    }
)
"""Whole justifications that stand in for one rather than give one (compared case-folded,
without surrounding punctuation)."""

MIN_JUSTIFICATION_WORDS = 4
"""A justification is at least a short sentence: this many words."""

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_PUNCTUATION = " \t\r\n.,;:!?…-–—*_'\"()[]"


def _visible(text: str) -> str:
    """The text without whitespace and invisible (format) characters."""
    return "".join(
        c for c in text if not c.isspace() and unicodedata.category(c) not in ("Cf", "Zs")
    )


def _check_justification(text: str) -> str:
    if not _visible(text):
        raise PydanticCustomError(
            "weak_justification", "the justification has no visible text", {"reason": "empty"}
        )
    words = _WORD.findall(text)
    folded = " ".join(text.casefold().split()).strip(_PUNCTUATION)
    marker = next((w for w in words if w.casefold() in PLACEHOLDER_WORDS), None)
    if not words or folded in PLACEHOLDER_TEXTS or marker is not None:
        raise PydanticCustomError(
            "weak_justification",
            "the justification is a placeholder ('{word}'), not a reason",
            {"word": marker or text.strip()[:40], "reason": "placeholder"},
        )
    if len(words) < MIN_JUSTIFICATION_WORDS:
        raise PydanticCustomError(
            "weak_justification",
            "the justification '{text}' is shorter than a sentence ({n} word(s))",
            {"text": text.strip()[:80], "n": len(words), "reason": "short"},
        )
    return text


Justification = Annotated[Text, AfterValidator(_check_justification)]
"""Why a product departs from a starting point: at least one real sentence."""


class Evidence(StrEnum):
    """Whether a fact was checked against its cited source."""

    VERIFIED = "verified"
    NEEDS_VERIFICATION = "needs-verification"
    COMPUTED = "computed"


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
    title: Title | None = Field(default=None, description="Title of the work.")
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
    url: Title | None = Field(default=None, description="Where the source can be read.")
    evidence: Evidence = Field(
        default=Evidence.VERIFIED,
        description="Whether the citation itself was checked.",
    )
