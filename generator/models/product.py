"""Models of a sponsor's product file: product-specific content and tailoring of the framework."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from generator.models.common import Identifier, ParameterValue, StrictModel, Text

FrameworkPin = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*@\d+(\.\d+){0,2}$")]


def _real_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a calendar date (YYYY-MM-DD)") from None
    return value


IsoDate = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_real_date)
]


class RegistryIdentifier(StrictModel):
    type: Literal["EU CT", "FDA IND", "IDE", "jRCT", "NCT", "NMPA IND", "WHO/UTN", "Other"]
    value: Text


class TitlePage(StrictModel):
    """M11 title page: structured fields, in M11 order."""

    full_title: Text
    short_title: str | None = None
    acronym: str | None = None
    sponsor_protocol_id: Text
    original_protocol: bool = True
    version: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*$")] = Field(
        description='Protocol version in quotes, e.g. "1.0".'
    )
    version_date: IsoDate = Field(description="Version date as YYYY-MM-DD.")
    phase: Literal["Early Phase 1", "Phase 1", "Phase 1/2", "Phase 2"]
    sponsor_name: Text
    sponsor_address: Text
    identifiers: list[RegistryIdentifier] = Field(default_factory=list)
    investigational_products: list[Text] = Field(min_length=1)
    sponsor_signatory: str | None = None
    medical_expert: str | None = None
    status: Literal["DRAFT", "FINAL"] = "DRAFT"


class OverallDesign(StrictModel):
    """M11 §1.1.2 Overall Design: structured pick-list fields."""

    population_type: Literal["Patients", "Healthy participants"] = "Patients"
    intervention_model: Literal[
        "Single Group", "Parallel", "Sequential", "Crossover", "Factorial"
    ] = "Sequential"
    control_type: Literal["None", "Placebo", "Active", "Dose comparison", "Historical"] = "None"
    age_range: Text
    site_distribution: Literal["Single-site", "Multi-site"] = "Multi-site"
    geographic_scope: Text
    intervention_assignment_method: Text
    master_protocol: bool = False
    stratification: bool = False
    drug_device_combination: bool = False
    adaptive_design: bool = False
    number_of_arms: int = Field(ge=1, le=50)
    blind_schema: Literal["Open Label", "Single Blind", "Double Blind"] = "Open Label"
    blinded_roles: list[Text] = Field(default_factory=list)
    target_participants: int = Field(ge=1, le=10_000)
    maximum_participants: int = Field(ge=1, le=10_000)
    trial_duration: Text
    intervention_duration: Text
    participation_duration: Text
    committees: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _target_within_maximum(self) -> OverallDesign:
        if self.target_participants > self.maximum_participants:
            raise ValueError("target_participants is larger than maximum_participants")
        return self


class ProductDescription(StrictModel):
    name: Text = Field(description="Name or code of the investigational product.")
    modality: Literal["CAR-T", "CAR-NK", "TCR-T", "TIL", "Other"]
    source: Literal["autologous", "allogeneic"]
    target_antigen: Text
    vector: Text
    description: Text
    dose_unit: Text = Field(description="e.g. 'CAR+ viable T cells' or 'CAR+ viable T cells/kg'.")


class Indication(StrictModel):
    disease: Text
    short_name: Text
    population: Text = Field(description="Who the trial enrols, one paragraph.")


class Objective(StrictModel):
    id: Identifier
    level: Literal["primary", "secondary", "exploratory"]
    objective: Text
    endpoint: Text
    population: str | None = None
    population_summary: str | None = Field(
        default=None, description="Population-level summary (estimand attribute)."
    )
    intercurrent_events: str | None = None


class DoseLevel(StrictModel):
    id: Identifier
    dose: float = Field(gt=0)
    label: str | None = Field(default=None, description="How the dose reads, e.g. '50 × 10⁶'.")


class DoseEscalation(StrictModel):
    dose_levels: list[DoseLevel] = Field(min_length=1)
    starting_level: Identifier
    maximum_participants: int = Field(ge=1, le=500)
    true_dlt_scenarios: dict[Identifier, list[float]] = Field(
        default_factory=dict,
        description="Assumed true DLT rates per dose level, for operating characteristics.",
    )


class ItemOverride(StrictModel):
    """Add, replace or remove one item of an element's starting point, by id."""

    id: Identifier
    text: str | None = None
    kind: str | None = None
    gate: Literal["screening", "apheresis", "lymphodepletion", "infusion"] | None = None
    parameters: dict[Identifier, ParameterValue] = Field(default_factory=dict)
    remove: bool = False
    justification: str | None = None
    trigger: Identifier | None = None


class ElementOverride(StrictModel):
    """A product's departure from one framework element, with its justification."""

    text: str | None = Field(default=None, description="Replaces the starting-point text.")
    parameters: dict[Identifier, ParameterValue] = Field(default_factory=dict)
    items: list[ItemOverride] = Field(default_factory=list)
    justification: str | None = Field(
        default=None, description="Why the product departs from the starting point."
    )
    trigger: Identifier | None = Field(
        default=None, description="The element's tailoring trigger that applies, by id."
    )


class SectionText(StrictModel):
    """Writer text for one M11 section, in the long form (the short form is the text alone)."""

    text: Text = Field(description="The section text, in the writer's words (Markdown).")
    replace: bool = Field(
        default=False,
        description="true: the text replaces what the template writes in the section; false "
        "(default): it follows that text.",
    )


Abbreviation = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9αβγδκζ+/.\-]*$", max_length=40)
]


class Product(StrictModel):
    """A sponsor's product file."""

    framework: FrameworkPin = Field(
        description="Framework and major version, e.g. 'early-phase-cell-therapy@1'."
    )
    title_page: TitlePage
    overall_design: OverallDesign
    product: ProductDescription
    indication: Indication
    objectives: list[Objective] = Field(min_length=1)
    dose_escalation: DoseEscalation
    tailoring: dict[Identifier, ElementOverride] = Field(default_factory=dict)
    sections: dict[Identifier, Text | SectionText] = Field(
        default_factory=dict,
        description="Writer text for M11 sections, keyed by the section's key (see the "
        "registry): the text alone (it follows the template's text of the section), or "
        "{text: ..., replace: true} to replace the template's text.",
    )
    locale: Literal["en-GB", "en-US"] = Field(
        default="en-GB",
        description="Spelling of the drafts (and the paper size of the Word files): en-GB "
        "(British, A4) or en-US (American, US Letter).",
    )
    abbreviations: dict[Abbreviation, Text] = Field(
        default_factory=dict,
        description="Abbreviations the product's text uses beyond the shipped list, with their "
        "definitions, e.g. 'LBCL: large B-cell lymphoma'. Each is defined at first use and "
        "listed in the glossary.",
    )
    cmc: str | None = Field(
        default=None,
        description="CMC inputs file for Module 3 (process, methods, specifications, lot data), "
        "relative to this file.",
    )
    templates: str | None = Field(
        default=None, description="Folder of sponsor template overrides, relative to this file."
    )
