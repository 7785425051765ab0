"""Models of a framework: versioned structural starting points with their tailoring rules."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from generator.models.common import (
    MAX_TEXT_CHARS,
    Evidence,
    Identifier,
    Name,
    ParameterValue,
    Quantity,
    Source,
    SourceKind,
    StrictModel,
    Text,
    Title,
    unique,
)

SemVer = Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
Cell = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]
"""A table cell: may be empty."""

Component = Literal[
    "preclinical-evidence",
    "prior-knowledge",
    "eligibility",
    "staggering",
    "dose-escalation",
    "safety-monitoring",
    "cmc-readiness",
    "translational",
    "treatment",
    "follow-up",
]
"""The protocol components of Table 1 of the Parker issue brief, plus treatment logistics and
long-term follow-up, which the brief lists among the elements a protocol must carry."""

Gate = Literal["screening", "apheresis", "lymphodepletion", "infusion"]


class Parameter(StrictModel):
    """A number or choice inside a starting point that a product may change within range."""

    value: ParameterValue = Field(description="The starting-point value.")
    label: Title = Field(description="What the parameter is, in a medical writer's words.")
    unit: Name | None = Field(default=None, description="Unit shown after the value.")
    minimum: Quantity | None = Field(default=None, description="Lowest value the framework allows.")
    maximum: Quantity | None = Field(
        default=None, description="Highest value the framework allows."
    )
    allowed: list[ParameterValue] | None = Field(
        default=None, description="The only values the framework allows (a pick list)."
    )
    equals_fact: str | None = Field(
        default=None,
        description="A product fact this value must equal when the product gives it, e.g. "
        "'population.min_age' for the minimum age criterion (check reports a mismatch).",
    )
    hard_limits: bool = Field(
        default=False,
        description="The range is a hard limit (the mathematics or the calculators cannot take "
        "a value outside it); a justification does not lift it.",
    )
    evidence: Evidence = Evidence.VERIFIED
    sources: list[Identifier] = Field(default_factory=list)
    note: Text | None = Field(
        default=None,
        description="Reviewer note: precedents behind the value and range. Never printed in "
        "protocol prose.",
    )

    @model_validator(mode="after")
    def _range_holds_value(self) -> Parameter:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is above maximum {self.maximum}")
        v = self.value
        if isinstance(v, int | float) and not isinstance(v, bool):
            if self.minimum is not None and v < self.minimum:
                raise ValueError(f"value {v} is below minimum {self.minimum}")
            if self.maximum is not None and v > self.maximum:
                raise ValueError(f"value {v} is above maximum {self.maximum}")
        if self.allowed is not None and v not in self.allowed:
            raise ValueError(f"value {v!r} is not one of the allowed values {self.allowed}")
        return self


class TextPart(StrictModel):
    """One part of a starting-point text, kept only when its condition holds."""

    text: Text = Field(description="The part as it reads; may use {param:NAME} placeholders.")
    when: str | None = Field(
        default=None,
        max_length=500,
        description="Condition under which the part applies, e.g. 'design != 3+3', "
        "'concurrent_cohorts', 'product.source == allogeneic'.",
    )


ElementText = Text | list[TextPart]
"""Plain text, or parts joined with a space, each with an optional `when:` condition."""

Condition = Annotated[str, StringConstraints(min_length=1, max_length=500)]
"""A `when:` condition (generator/textfill.py): names are the element's parameters and the
product facts (generator/resolve.py, `product_facts`)."""

ReviewNote = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class Item(StrictModel):
    """One entry of a starting point's list (criterion, DLT rule, stopping rule, sample...)."""

    id: Identifier
    text: ElementText = Field(
        description="The item as it reads in the protocol: text with {param:NAME} placeholders, "
        "or parts with optional 'when:' conditions."
    )
    when: Condition | None = Field(
        default=None,
        description="The item applies only when this condition holds, e.g. "
        "'product.source == autologous'.",
    )
    note: ReviewNote | None = Field(
        default=None,
        description="Reviewer note on the item (precedent, what is unverified); never printed "
        "in protocol prose.",
    )
    kind: Name | None = Field(
        default=None, description="e.g. inclusion / exclusion, pause / stop, blood / tissue."
    )
    gate: Gate | None = Field(
        default=None, description="Eligibility gate at which the criterion is checked."
    )
    parameters: dict[Identifier, Parameter] = Field(default_factory=dict)
    evidence: Evidence = Evidence.VERIFIED
    sources: list[Identifier] = Field(default_factory=list)
    protected: bool = Field(
        default=False,
        description="A safety provision every protocol keeps (e.g. grade 5 events as DLTs): a "
        "product may change its parameters within range but may not remove or replace it, "
        "whatever the justification.",
    )


class GradingTable(StrictModel):
    """A table carried as data (grading scales, schedules), rendered as-is."""

    id: Identifier
    title: Title
    columns: list[Title]
    rows: list[list[Cell]]
    notes: list[Text] = Field(
        default_factory=list, description="Footnotes printed with the table in the protocol."
    )
    when: Condition | None = Field(
        default=None, description="The table applies only when this condition holds."
    )
    note: ReviewNote | None = Field(
        default=None,
        description="Reviewer note on the table (provenance, what is unverified); never "
        "printed in protocol prose.",
    )
    evidence: Evidence = Evidence.VERIFIED
    sources: list[Identifier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rows_match_columns(self) -> GradingTable:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"row {i + 1} has {len(row)} cells but the table has {len(self.columns)} columns"
                )
        return self


class StartingPoint(StrictModel):
    """The structural starting point shared across programs."""

    text: ElementText = Field(
        description="The default protocol text: plain text with {param:NAME} placeholders, or a "
        "list of parts with optional 'when:' conditions."
    )
    parameters: dict[Identifier, Parameter] = Field(default_factory=dict)
    items: Annotated[list[Item], unique("item")] = Field(default_factory=list)
    tables: Annotated[list[GradingTable], unique("table")] = Field(default_factory=list)


class TailoringTrigger(StrictModel):
    """A situation where departing from the starting point may be appropriate."""

    id: Identifier
    text: Text


class Element(StrictModel):
    """One framework element: a protocol component's starting point and how it may be tailored."""

    id: Identifier
    title: Title
    component: Component
    when: Condition | None = Field(
        default=None,
        description="The whole element applies only when this condition holds (product facts "
        "only), e.g. 'product.source == allogeneic'.",
    )
    m11_sections: list[Name] = Field(
        description="M11 section numbers where the element is rendered, primary first."
    )
    summary: Text = Field(description="One or two sentences for the site and the register.")
    starting_point: StartingPoint
    tailoring_triggers: Annotated[list[TailoringTrigger], unique("tailoring trigger")] = Field(
        min_length=1
    )
    rationale: ElementText = Field(
        description="Protocol-grade rationale, written against the resolved values: "
        "{param:NAME} for any number the engine knows; parts with 'when:' conditions where an "
        "argument holds only for some values or products. Never names the framework, its "
        "elements, seeds or evidence statuses."
    )
    notes: list[ReviewNote] = Field(
        default_factory=list,
        description="Reviewer commentary (precedent, what is recalled or unverified, why the "
        "range is what it is). Site and review marks only, never protocol prose.",
    )
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence


class Framework(StrictModel):
    """framework.yaml: identity, version, source list and the element files in order."""

    id: Identifier
    version: SemVer = Field(description='Semantic version in quotes, e.g. "1.0.0".')
    title: Title
    summary: Text
    sources: Annotated[list[Source], unique("source")]
    elements: list[Name] = Field(description="Element files, relative to framework.yaml, in order.")

    @model_validator(mode="after")
    def _sources_are_citable(self) -> Framework:
        # a protocol cites these: each needs a kind, and what it is needs an identifier
        for s in self.sources:
            if s.kind is None:
                raise ValueError(f"source '{s.id}' needs a kind (article, guidance, ...)")
            if s.kind is SourceKind.ARTICLE and not (s.doi or s.pmid or s.url):
                raise ValueError(f"source '{s.id}' is an article and needs a doi, pmid or url")
            if s.kind is SourceKind.REGISTRY and not s.nct:
                raise ValueError(f"source '{s.id}' is a registry record and needs an nct")
        return self
