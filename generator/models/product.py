"""Models of a sponsor's product file: product-specific content and tailoring of the framework."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from generator.models.common import (
    MAX_MAGNITUDE,
    Identifier,
    Justification,
    Name,
    ParameterValue,
    Probability,
    StrictModel,
    Text,
    Title,
    unique,
)

MAX_OBJECTIVES = 100
"""Most objectives (with their endpoints) one protocol lists."""

MAX_DOSE_LEVELS = 20
"""Most dose levels of one escalation."""

MAX_DLT_SCENARIOS = 10
"""Most true-DLT-rate scenarios; each one is simulated 10,000 times for the drafts."""

MAX_SHORT_LIST = 50
"""Most entries of a short list on the title page or in the overall design."""

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
    value: Name


AmendmentReason = Literal[
    "Change In Standard Of Care",
    "Change In Strategy",
    "IMP Addition",
    "Inconsistency And/Or Error In The Protocol",
    "Investigator/Site Feedback",
    "IRB/IEC Feedback",
    "Manufacturing Change",
    "New Data Available (Other Than Safety Data)",
    "New Regulatory Guidance",
    "New Safety Information Available",
    "Protocol Design Error",
    "Recruitment Difficulty",
    "Regulatory Agency Request To Amend",
    "Other",
    "Not Applicable",
]
"""M11 / USDM amendment reason terms (CDISC codelist C207415, schemas/usdm/usdm-ct.json)."""


class AmendmentSummaryRow(StrictModel):
    """One row of a prior amendment's summary of changes, as it was approved."""

    section: Name = Field(description="Section number and title, e.g. '5.2 Inclusion Criteria'.")
    description: Text
    rationale: Text
    substantial: bool = True


class Amendment(StrictModel):
    """M11 Amendment Details of one protocol amendment."""

    identifier: Name = Field(description="Amendment identifier, e.g. 'Amendment 1'.")
    scope: Literal["Global", "Not Global"] = Field(
        description="Global (every region) or Not Global (list the regions)."
    )
    regions: list[Name] = Field(
        default_factory=list,
        max_length=MAX_SHORT_LIST,
        description="Countries or regions the amendment applies to (Not Global only).",
    )
    substantial: bool = Field(
        description="Whether the amendment is substantial (substantially affects participant "
        "safety or rights, or the reliability or robustness of the trial data)."
    )
    primary_reason: AmendmentReason
    secondary_reasons: list[AmendmentReason] = Field(default_factory=list, max_length=14)
    other_reason: Text | None = Field(
        default=None, description="What 'Other' means, when a reason is 'Other'."
    )
    rationale: Text = Field(description="Overall rationale for the amendment.")
    previous_version: Name | None = Field(
        default=None,
        description="The previous version's product file, relative to this file: the summary "
        "of changes and the redline compare against it (`build --since` overrides it).",
    )

    @model_validator(mode="after")
    def _regions_match_scope(self) -> Amendment:
        if self.scope == "Not Global" and not self.regions:
            raise ValueError("a Not Global amendment lists its regions")
        if self.scope == "Global" and self.regions:
            raise ValueError("a Global amendment lists no regions; remove regions")
        reasons = [self.primary_reason, *self.secondary_reasons]
        if "Other" in reasons and self.other_reason is None:
            raise ValueError("a reason is 'Other': say what it is in other_reason")
        return self


class PriorAmendment(StrictModel):
    """An earlier amendment, kept in the product file for M11 §12.3."""

    identifier: Name
    version: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*$")]
    version_date: IsoDate
    scope: Literal["Global", "Not Global"]
    regions: list[Name] = Field(default_factory=list, max_length=MAX_SHORT_LIST)
    substantial: bool
    primary_reason: AmendmentReason
    secondary_reasons: list[AmendmentReason] = Field(default_factory=list, max_length=14)
    rationale: Text
    changes: list[AmendmentSummaryRow] = Field(default_factory=list, max_length=500)


class ChangeRationale(StrictModel):
    """The writer's rationale for a change the summary of changes lists."""

    about: Identifier = Field(
        description="What changed: an M11 section key, a framework element id, an item id, a "
        "dose level id, an objective id, or a title-page or overall-design field (or the "
        "whole group: title_page, overall_design, product, indication)."
    )
    rationale: Text = Field(description="Brief rationale, as it reads in the summary table.")
    substantial: bool | None = Field(
        default=None,
        description="Whether this change is substantial (default: as the amendment).",
    )


class TitlePage(StrictModel):
    """M11 title page: structured fields, in M11 order."""

    full_title: Title
    short_title: Name | None = None
    acronym: Name | None = None
    sponsor_protocol_id: Name
    original_protocol: bool = True
    version: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*$")] = Field(
        description='Protocol version in quotes, e.g. "1.0".'
    )
    version_date: IsoDate = Field(description="Version date as YYYY-MM-DD.")
    phase: Literal["Early Phase 1", "Phase 1", "Phase 1/2", "Phase 2"]
    sponsor_name: Name
    sponsor_address: Title
    identifiers: list[RegistryIdentifier] = Field(default_factory=list, max_length=MAX_SHORT_LIST)
    investigational_products: list[Title] = Field(min_length=1, max_length=MAX_SHORT_LIST)
    sponsor_signatory: Name | None = None
    medical_expert: Name | None = None
    status: Literal["DRAFT", "FINAL"] = "DRAFT"
    amendment: Amendment | None = Field(
        default=None,
        description="M11 Amendment Details: required when original_protocol is false.",
    )


class OverallDesign(StrictModel):
    """M11 §1.1.2 Overall Design: structured pick-list fields."""

    population_type: Literal["Patients", "Healthy participants"] = "Patients"
    intervention_model: Literal[
        "Single Group", "Parallel", "Sequential", "Crossover", "Factorial"
    ] = "Sequential"
    control_type: Literal["None", "Placebo", "Active", "Dose comparison", "Historical"] = "None"
    age_range: Name
    planned_sex: Literal["Both", "Female", "Male"] = Field(
        default="Both", description="Sex of the participants the trial plans to enrol."
    )
    age_min_years: int | None = Field(
        default=None,
        ge=0,
        le=120,
        description="Youngest age enrolled, in years (a number: decides which paediatric text "
        "and tables the protocol carries). Must equal the eligibility age criterion.",
    )
    age_max_years: int | None = Field(
        default=None,
        ge=0,
        le=120,
        description="Oldest age enrolled, in years; leave out when there is no upper limit.",
    )
    site_distribution: Literal["Single-site", "Multi-site"] = "Multi-site"
    geographic_scope: Text
    intervention_assignment_method: Text
    master_protocol: bool = False
    stratification: bool = False
    drug_device_combination: bool = False
    adaptive_design: bool = False
    number_of_arms: int = Field(ge=1, le=50)
    blind_schema: Literal["Open Label", "Single Blind", "Double Blind"] = "Open Label"
    blinded_roles: list[Name] = Field(default_factory=list, max_length=MAX_SHORT_LIST)
    target_participants: int = Field(ge=1, le=10_000)
    maximum_participants: int = Field(ge=1, le=10_000)
    trial_duration: Text
    intervention_duration: Text
    participation_duration: Text
    committees: list[Title] = Field(default_factory=list, max_length=MAX_SHORT_LIST)

    @model_validator(mode="after")
    def _target_within_maximum(self) -> OverallDesign:
        if self.target_participants > self.maximum_participants:
            raise ValueError("target_participants is larger than maximum_participants")
        if (
            self.age_min_years is not None
            and self.age_max_years is not None
            and self.age_min_years > self.age_max_years
        ):
            raise ValueError("age_min_years is larger than age_max_years")
        return self


DonorType = Literal["healthy-donor", "cord-blood", "iPSC", "other"]


class GeneEdit(StrictModel):
    """One genome edit made during manufacture (for example, a TRAC or CD52 knockout)."""

    target: Text = Field(description="Gene or locus edited, e.g. 'TRAC', 'CD52', 'B2M'.")
    technology: Literal[
        "CRISPR-Cas9", "CRISPR-Cas12", "TALEN", "ZFN", "base editing", "prime editing", "other"
    ]
    purpose: str | None = Field(
        default=None, max_length=2000, description="Why the edit is made, one sentence."
    )


class ProductDescription(StrictModel):
    name: Name = Field(description="Name or code of the investigational product.")
    modality: Literal["CAR-T", "CAR-NK", "TCR-T", "TIL", "Other"]
    source: Literal["autologous", "allogeneic"]
    donor_type: DonorType | None = Field(
        default=None,
        description="Allogeneic products only: healthy-donor (peripheral blood), cord-blood, "
        "iPSC (induced pluripotent stem cell line) or other.",
    )
    target_antigen: Name
    vector: Title
    description: Text
    dose_unit: Name = Field(description="e.g. 'CAR+ viable T cells' or 'CAR+ viable T cells/kg'.")
    gene_editing: list[GeneEdit] = Field(
        default_factory=list, description="Genome edits made during manufacture, if any."
    )

    @model_validator(mode="after")
    def _donor_type_matches_source(self) -> ProductDescription:
        if self.source == "allogeneic" and self.donor_type is None:
            raise ValueError(
                "an allogeneic product needs donor_type (healthy-donor, cord-blood, iPSC or other)"
            )
        if self.source == "autologous" and self.donor_type is not None:
            raise ValueError("donor_type applies to allogeneic products only; remove it")
        return self


class LymphodepletionAgent(StrictModel):
    """An agent added to the framework's fludarabine and cyclophosphamide regimen."""

    id: Identifier
    name: Name = Field(description="Agent, e.g. 'alemtuzumab'.")
    agent_class: Literal["anti-CD52 antibody", "chemotherapy", "other"] = Field(
        description="What kind of agent it is (decides related text, e.g. CD52 washouts)."
    )
    dose: Text = Field(description="Dose as it reads in the protocol, e.g. '13 mg/day IV'.")
    schedule: Text = Field(description="Days relative to infusion, e.g. 'Days -5 to -3'.")
    justification: Justification | None = Field(
        default=None, description="Why the product needs the agent (enters the register)."
    )
    trigger: Identifier | None = Field(
        default=None, description="Tailoring trigger of element lymphodepletion, by id."
    )


DiseaseGroup = Literal[
    "lymphoma",
    "myeloma",
    "leukaemia-ALL",
    "leukaemia-AML",
    "leukaemia-CLL",
    "solid-tumour",
    "other",
]


class Indication(StrictModel):
    disease: Title
    short_name: Name
    disease_group: DiseaseGroup | None = Field(
        default=None,
        description="lymphoma, myeloma, leukaemia-ALL, leukaemia-AML, leukaemia-CLL, "
        "solid-tumour or other: decides which disease-specific precedent the protocol cites.",
    )
    population: Text = Field(description="Who the trial enrols, one paragraph.")


class Objective(StrictModel):
    id: Identifier
    level: Literal["primary", "secondary", "exploratory"]
    objective: Text
    endpoint: Text
    population: Text | None = None
    population_summary: Text | None = Field(
        default=None, description="Population-level summary (estimand attribute)."
    )
    intercurrent_events: Text | None = None


class DoseLevel(StrictModel):
    id: Identifier
    dose: float = Field(gt=0, le=MAX_MAGNITUDE)
    label: Name | None = Field(default=None, description="How the dose reads, e.g. '50 × 10⁶'.")


class DoseEscalation(StrictModel):
    dose_levels: list[DoseLevel] = Field(min_length=1, max_length=MAX_DOSE_LEVELS)
    starting_level: Identifier
    maximum_participants: int = Field(ge=1, le=500)
    true_dlt_scenarios: dict[Identifier, list[Probability]] = Field(
        default_factory=dict,
        max_length=MAX_DLT_SCENARIOS,
        description="Assumed true DLT rates per dose level (one per level, each from 0 to 1), "
        "for operating characteristics.",
    )

    @model_validator(mode="after")
    def _one_rate_per_dose_level(self) -> DoseEscalation:
        levels = len(self.dose_levels)
        for name, rates in self.true_dlt_scenarios.items():
            if len(rates) != levels:
                raise PydanticCustomError(
                    "rates_per_level",
                    "scenario '{name}' gives {n} rate(s) for {levels} dose level(s)",
                    {
                        "name": name,
                        "n": len(rates),
                        "levels": levels,
                        "at": ("true_dlt_scenarios", name),
                    },
                )
        return self


class ItemOverride(StrictModel):
    """Add, replace or remove one item of an element's starting point, by id."""

    id: Identifier
    like: Identifier | None = Field(
        default=None,
        description="Add a new item shaped like this framework item (its text, parameters and "
        "ranges), with its own parameter values; e.g. a second monitoring rule.",
    )
    text: Text | None = None
    kind: Name | None = None
    gate: Literal["screening", "apheresis", "lymphodepletion", "infusion"] | None = None
    parameters: dict[Identifier, ParameterValue] = Field(default_factory=dict)
    remove: bool = False
    justification: Justification | None = None
    trigger: Identifier | None = None


class ElementOverride(StrictModel):
    """A product's departure from one framework element, with its justification."""

    text: Text | None = Field(default=None, description="Replaces the starting-point text.")
    parameters: dict[Identifier, ParameterValue] = Field(default_factory=dict)
    items: list[ItemOverride] = Field(default_factory=list)
    justification: Justification | None = Field(
        default=None,
        description="Why the product departs from the starting point: at least one sentence.",
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
    objectives: Annotated[
        list[Objective], Field(min_length=1, max_length=MAX_OBJECTIVES), unique("objective")
    ]
    dose_escalation: DoseEscalation
    lymphodepletion_agents: list[LymphodepletionAgent] = Field(
        default_factory=list,
        description="Agents added to the lymphodepleting regimen (each a departure from the "
        "framework, with a justification).",
    )
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
    cmc: Name | None = Field(
        default=None,
        description="CMC inputs file for Module 3 (process, methods, specifications, lot data), "
        "relative to this file.",
    )
    templates: Name | None = Field(
        default=None, description="Folder of sponsor template overrides, relative to this file."
    )
    changes: list[ChangeRationale] = Field(
        default_factory=list,
        max_length=500,
        description="The writer's rationale for each change of this amendment, keyed by what "
        "changed (section key, element id, item id, dose level id or objective id).",
    )
    prior_amendments: list[PriorAmendment] = Field(
        default_factory=list,
        max_length=100,
        description="Earlier amendments, oldest first (M11 Section 12.3).",
    )
