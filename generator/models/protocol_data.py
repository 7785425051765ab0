"""Models of the protocol template's data files: abbreviations and spelling variants."""

from __future__ import annotations

from typing import Annotated, Literal

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


class Place(StrictModel):
    """A place in the protocol a change is listed under that is not a numbered M11 section of
    the registry (the title page, the tailoring register)."""

    number: str
    title: Text


class ValueWords(StrictModel):
    true: str
    false: str
    none: str


class AmendmentWording(StrictModel):
    """templates/protocol/amendment-changes.yaml: how the summary of changes reads and where
    each kind of change is listed (generator/analysis/amendments.py fills the patterns)."""

    patterns: dict[str, Text] = Field(
        description="Description pattern per kind of change; {name} is filled with the value "
        "the change carries."
    )
    values: ValueWords
    item_kinds: dict[str, Text]
    default_item_kind: Text
    objective_levels: dict[Literal["primary", "secondary", "exploratory"], Text]
    item_sections: dict[str, str] = Field(description="Item kind → M11 section number.")
    objective_sections: dict[Literal["primary", "secondary", "exploratory"], str]
    field_sections: dict[Literal["title_page", "overall_design", "product", "indication"], str]
    dose_sections: dict[Literal["dose_levels", "maximum_participants", "scenarios"], str]
    agent_section: str
    rationale_sections: dict[str, str] = Field(
        description="Element id → the section its rationale is printed in."
    )
    table_sections: dict[Literal["escalation", "operating_characteristics", "stopping_rules"], str]
    table_names: dict[Literal["escalation", "operating_characteristics", "stopping_rules"], Text]
    other_places: dict[str, Place]
    register_section: str
    labels: dict[str, dict[str, Text]] = Field(
        default_factory=dict, description="Field labels by group (others read as their name)."
    )
    unlisted_title_page_fields: list[str]
