"""Models of the protocol template's data files: abbreviations and spelling variants."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from generator.models.common import StrictModel, Text

Word = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z-]*$", max_length=60)]


class Term(StrictModel):
    """An abbreviation's definition with an irregular plural."""

    term: Text
    plural: Text | None = Field(default=None, description="Default: the term with 's' added.")


class AbbreviationList(StrictModel):
    """templates/protocol/abbreviations.yaml: what the drafts define and list in the glossary."""

    abbreviations: dict[str, Text | Term] = Field(
        description="Abbreviation → definition (British spelling; the locale converts it)."
    )
    names: list[str] = Field(
        default_factory=list,
        description="Words that look like abbreviations but are names (trials, genes).",
    )
    patterns: list[str] = Field(
        default_factory=list,
        description="Regular expressions for such names, matched against the whole word.",
    )


class SpellingPair(StrictModel):
    en_gb: Word = Field(alias="en-GB")
    en_us: Word = Field(alias="en-US")


class SpellingList(StrictModel):
    """templates/protocol/spelling.yaml: words spelled differently in British and American
    English."""

    words: list[SpellingPair]
