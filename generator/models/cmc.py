"""Models of the staged CMC framework, the Module 3 section registry and a product's CMC inputs.

The framework (`frameworks/cmc-staged/`) holds the stage gates, the attribute catalogue with
per-gate expectations, and the topics Module 3 cites (comparability, stability, raw-material
risk, chain of identity). The product's `cmc.yaml` holds its process, methods with their
history, staged specifications (test -> stage -> acceptance criterion, after the FDA PQ/CMC
data standard), the lot-data CSV and its process changes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from generator.models.cmc_comparability import (
    ComparabilityConclusion,
    ComparabilityExpectation,
    ComparedAttribute,
)
from generator.models.cmc_release import (
    ExceptionalRelease,
    ProcessControlExpectation,
    ProcessControls,
    ReleaseTesting,
)
from generator.models.cmc_stability import StabilityClaim, StabilityEvaluation, Storage
from generator.models.common import (
    Evidence,
    Identifier,
    Name,
    Quantity,
    Source,
    StrictModel,
    Text,
    Title,
    unique,
)

SemVer = Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
CmcFrameworkPin = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*@\d+(\.\d+){0,2}$")]
SectionKey = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", max_length=120)
]

Gate = Literal["ind", "pivotal", "bla", "post-approval"]
GATES: tuple[Gate, ...] = ("ind", "pivotal", "bla", "post-approval")
"""Stage gates in order: IND filing, pivotal study start, pre-commercial/BLA, post-approval."""

MethodStatus = Literal["fit-for-purpose", "qualified", "validated"]
METHOD_STATUS_ORDER: tuple[str, ...] = ("fit-for-purpose", "qualified", "validated")

CriterionExpectation = Literal["limit-required", "report-results-acceptable"]
Comparator = Literal["NLT", "NMT", "range", "text", "report-results"]
LimitBasis = Literal["lot-data", "compendial", "safety", "protocol"]
"""Where a limit comes from: 'lot-data' (a tolerance interval on clinical lots of the current
process), 'compendial' (the pharmacopoeia), 'safety' (a fixed limit; K/M for endotoxin),
'protocol' (the dose the clinical protocol gives). Only 'lot-data' limits are proposed from lots."""

REPORT_RESULTS_WORDS: frozenset[str] = frozenset(
    {
        "report results",
        "report result",
        "report",
        "results reported",
        "report values",
        "record results",
        "for information",
        "for information only",
        "information only",
        "rr",
    }
)
"""Free-text criteria that mean 'report results' (compared lower-cased, punctuation dropped)."""


def means_report_results(text: str | None) -> bool:
    words = " ".join("".join(ch if ch.isalnum() else " " for ch in (text or "")).lower().split())
    return words in REPORT_RESULTS_WORDS


class PhysicalRange(StrictModel):
    """The values a result can take at all, e.g. 0 to 100 for a percentage of cells."""

    lower: float | None = 0.0
    upper: float | None = None


# --------------------------------------------------------------------------------------------
# Framework
# --------------------------------------------------------------------------------------------


class StageGate(StrictModel):
    id: Gate
    title: Title
    description: Text
    sources: list[Identifier] = Field(default_factory=list)
    evidence: Evidence = Evidence.VERIFIED


class GateExpectation(StrictModel):
    """What one gate expects of one attribute."""

    criterion: CriterionExpectation = Field(
        description="'limit-required': an acceptance criterion (numerical or qualitative) is "
        "expected; 'report-results-acceptable': 'report results' can be defended."
    )
    min_lots_for_limit: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Lots with data needed before a data-derived numerical limit is credible.",
    )
    method_status: MethodStatus = Field(description="Status the test method should have reached.")
    note: Text | None = None


class Attribute(StrictModel):
    """One quality attribute of the catalogue, with its staged expectations."""

    id: Identifier
    title: Title
    category: Literal["safety", "identity", "purity", "impurity", "potency", "quantity", "general"]
    safety_critical: bool
    result_type: Literal["numeric", "qualitative"]
    direction: Literal["NLT", "NMT", "range", "qualitative"] = Field(
        description="Which side a numerical limit usually takes (sets one- or two-sided intervals)."
    )
    typical_methods: list[Text] = Field(default_factory=list)
    example_criteria: list[Text] = Field(default_factory=list)
    limit_basis: LimitBasis = Field(
        default="lot-data",
        description="Usual basis of the limit; a specification may declare its own 'basis'.",
    )
    physical_range: PhysicalRange = Field(
        default_factory=PhysicalRange,
        description="Values a result can take (proposals are clipped to it); default: >= 0.",
    )
    expectations: dict[Gate, GateExpectation]
    rationale: Text
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence = Evidence.VERIFIED
    adventitious_agent: bool = Field(
        default=False,
        description="A test for adventitious agents or replication-competent virus: listed in "
        "Module 3's adventitious-agents appendix (3.2.A.2).",
    )
    applies_if_process_uses: list[Identifier] = Field(
        default_factory=list,
        description="The attribute applies only to a process that uses one of these (framework "
        "'process_uses' ids, e.g. activation-beads); empty: it applies to every product.",
    )

    # vector as a second drug substance (issue 13, part 6)
    substance: Literal["cells", "vector"] = Field(
        default="cells",
        description="'vector': an attribute of the viral vector drug substance (its own "
        "3.2.S block and specification), not of the cell product.",
    )

    def applies_to(self, uses: list[str], substance: str = "cells") -> bool:
        """Whether the attribute applies to a process that uses `uses` (process.uses), for
        the cell product or (`substance='vector'`) the vector."""
        return self.substance == substance and (
            not self.applies_if_process_uses or any(u in uses for u in self.applies_if_process_uses)
        )

    @property
    def safety_limit(self) -> bool:
        """A limit set for patient safety: never 'report results', never explored by lots."""
        return self.safety_critical or self.category == "safety"

    @model_validator(mode="after")
    def _every_gate(self) -> Attribute:
        missing = [g for g in GATES if g not in self.expectations]
        if missing:
            raise ValueError(f"expectations are missing for gate(s): {', '.join(missing)}")
        return self


class Topic(StrictModel):
    """A framework entry that Module 3 and the readiness report cite: prose plus sources."""

    id: Identifier
    title: Title
    text: Text
    applies_when: Text | None = None
    gates: list[Gate] = Field(default_factory=list)
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence = Evidence.VERIFIED


class ProcessUse(StrictModel):
    """Something a process may use (activation beads, feeder cells, gene editing) that makes
    attributes of the catalogue apply."""

    id: Identifier
    title: Title


class MethodStatusEntry(StrictModel):
    id: MethodStatus
    title: Title
    text: Text
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence = Evidence.VERIFIED


class AnalysisSettings(StrictModel):
    coverage: float = Field(default=0.99, gt=0, lt=1, description="Tolerance-interval coverage.")
    confidence: float = Field(
        default=0.95, gt=0, lt=1, description="Tolerance-interval confidence."
    )
    clinical_coverage_threshold: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Below this fraction of a proposed range spanned by clinical lots, say so.",
    )
    sources: list[Identifier] = Field(default_factory=list)


class CmcFramework(StrictModel):
    """frameworks/cmc-staged/cmc-framework.yaml."""

    id: Identifier
    version: SemVer
    title: Title
    summary: Text
    module3_layout: Name = Field(description="Section registry file of the Module 3 layout.")
    sources: list[Source] = Field(min_length=1)
    gates: list[StageGate] = Field(min_length=4, max_length=4)
    method_statuses: list[MethodStatusEntry] = Field(min_length=3, max_length=3)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    attributes: list[Attribute] = Field(min_length=1)
    comparability_approaches: list[Topic] = Field(min_length=1)
    stability_study_types: list[Topic] = Field(min_length=1)
    raw_material_risk: list[Topic] = Field(min_length=1)
    chain_of_identity: list[Topic] = Field(min_length=1)
    process_uses: list[ProcessUse] = Field(default_factory=list)
    # comparability (issue 13): what each gate expects of post-change lots used clinically
    comparability_expectations: dict[Gate, ComparabilityExpectation] = Field(default_factory=dict)
    # stability results and shelf life (ICH Q1E): evaluation settings and gate expectations
    stability_evaluation: StabilityEvaluation | None = None
    # process controls (issue 13.7): material grade, open steps, environmental monitoring, CCI
    process_controls: list[ProcessControlExpectation] = Field(default_factory=list)
    # potency assurance: staged expectations of the potency strategy (issue 13, part 2)
    potency_assurance: PotencyFramework | None = None

    @model_validator(mode="after")
    def _gates_in_order(self) -> CmcFramework:
        if tuple(g.id for g in self.gates) != GATES:
            raise ValueError(f"gates must be listed in the order {', '.join(GATES)}")
        return self


class Module3Section(StrictModel):
    key: SectionKey = Field(description="Concept key, e.g. 'drug_product.control.specification'.")
    number: Annotated[str, StringConstraints(pattern=r"^3(\.[0-9A-Z]+)*$")]
    title: Title
    level: int = Field(ge=1, le=6)
    evidence: Evidence = Evidence.VERIFIED


class Module3Registry(StrictModel):
    """A Module 3 layout: concept keys mapped to numbers and titles (M4Q(R1) today)."""

    layout: Identifier
    title: Title
    sources: list[Identifier] = Field(default_factory=list)
    sections: list[Module3Section] = Field(min_length=1)

    def by_key(self) -> dict[str, Module3Section]:
        return {s.key: s for s in self.sections}


# --------------------------------------------------------------------------------------------
# Product CMC inputs
# --------------------------------------------------------------------------------------------


class Manufacturer(StrictModel):
    name: Name
    role: Title
    address: Title | None = None


class ProcessStep(StrictModel):
    id: Identifier
    name: Name
    description: Text
    system: Literal["closed", "functionally closed", "open"] = "closed"
    in_process_controls: list[Text] = Field(default_factory=list)
    material: Literal["drug_substance", "drug_product"] = Field(
        default="drug_substance",
        description="Whether the step makes the drug substance (3.2.S.2.2) or the drug product "
        "from it (3.2.P.3.3: formulation, fill, freezing).",
    )


class ProcessVersion(StrictModel):
    id: Identifier = Field(description="Process version as the lot CSV writes it, e.g. 'P1'.")
    description: Text
    introduced: IsoDate | None = None


class Process(StrictModel):
    description: Text
    versions: Annotated[list[ProcessVersion], unique("process version")] = Field(min_length=1)
    manufacturers: list[Manufacturer] = Field(min_length=1)
    steps: Annotated[list[ProcessStep], unique("process step")] = Field(min_length=1)
    batch_formula: Text | None = None
    uses: list[Identifier] = Field(
        default_factory=list,
        description="What the process uses, by the framework's 'process_uses' ids (e.g. "
        "activation-beads, feeder-cells, gene-editing): attributes that only apply to such a "
        "process follow from it.",
    )


class Material(StrictModel):
    name: Name
    supplier: Name
    grade: Name
    origin: Literal["human", "animal", "recombinant", "synthetic", "cell-derived", "other"]
    risk: Literal["low", "medium", "high"]
    used_in: Text
    risk_topic: Identifier | None = Field(
        default=None, description="Framework raw-material-risk entry that applies, by id."
    )
    controls: Text | None = None


class MethodVersion(StrictModel):
    """One version of an analytical method; every version after the first is a transition.

    A lot result carries the method version that produced it: the lot CSV column
    `<test>.method_version` when given, else the version in force on the lot date (the latest
    version introduced on or before it). Results of different versions pool into one set of
    statistics only when a bridging study concluded 'equivalent' joins them, and never when
    their units differ."""

    version: Identifier
    technique: Text
    status: MethodStatus
    introduced: IsoDate
    unit: Name | None = Field(
        default=None,
        description="Reporting unit of this version when it differs from the test's unit "
        "(e.g. '% lysis' before 'pg/mL'); results in different units never pool.",
    )
    bridging_study: Identifier | None = Field(
        default=None,
        description="Id of the study under 'bridging_studies:' that bridges the previous "
        "version to this one (required for every version after the first).",
    )
    bridging_summary: Text | None = None


class BridgingStudy(StrictModel):
    """A study that tested the same samples by two versions of a method (structured data)."""

    id: Identifier
    method: Identifier = Field(description="Analytical method, by id.")
    from_version: Identifier
    to_version: Identifier
    design: Text = Field(description="Samples, lots and replicates tested by both versions.")
    samples: int = Field(ge=1, le=100_000, description="Samples tested by both versions.")
    acceptance_criterion: Text = Field(description="Equivalence criterion set before the study.")
    margin: float | None = Field(
        default=None,
        gt=0,
        description="Equivalence margin in the test unit: the confidence interval of the mean "
        "difference must lie within plus or minus this.",
    )
    mean_difference: float | None = Field(
        default=None, description="Mean of (new version - old version), in the test unit."
    )
    ci_lower: float | None = Field(default=None, description="Lower 95 % confidence bound.")
    ci_upper: float | None = Field(default=None, description="Upper 95 % confidence bound.")
    results: Text | None = Field(
        default=None, description="The results in words, e.g. for a method with several tests."
    )
    conclusion: Literal["equivalent", "not-equivalent"] = Field(
        description="'equivalent' lets results of both versions pool; 'not-equivalent' keeps "
        "them apart (older results are shown, not used for limits)."
    )
    correction: Literal["none", "add-mean-difference"] = Field(
        default="none",
        description="'add-mean-difference': results of the old version are shifted by the "
        "mean difference before pooling (a documented bias; for a method with one test).",
    )
    report: Title | None = None


class Investigation(StrictModel):
    """A documented investigation of an out-of-specification result of one lot and test."""

    id: Identifier
    lot: Name = Field(description="Lot id as in the lot CSV.")
    test: Identifier = Field(description="Test id of the specification.")
    root_cause: Text
    disposition: Text = Field(description="What was done with the lot, e.g. 'Not released'.")
    capa: Text | None = None


class AnalyticalMethod(StrictModel):
    id: Identifier
    title: Title
    compendial: Name | None = Field(default=None, description="e.g. 'USP <71>' when compendial.")
    alternative_to: Name | None = Field(
        default=None,
        description="The compendial method this alternative (rapid or automated) method replaces, "
        "e.g. 'USP <71>'; it is validated in its place, not compendial itself.",
    )
    alternative_basis: Name | None = Field(
        default=None,
        description="The provision the alternative method is validated under, e.g. "
        "'21 CFR 610.12(b)(2)'.",
    )
    history: Annotated[list[MethodVersion], unique("method version", lambda v: v.version)] = Field(
        min_length=1
    )

    @property
    def current(self) -> MethodVersion:
        return self.history[-1]


class Criterion(StrictModel):
    """An acceptance criterion at one stage (PQ/CMC: Test -> Stage -> Acceptance criterion)."""

    comparator: Comparator
    value: Quantity | None = Field(default=None, description="The limit for NLT and NMT.")
    lower: Quantity | None = None
    upper: Quantity | None = None
    text: Title | None = Field(default=None, description="Text criterion, e.g. 'No growth'.")
    justification: Text | None = None
    effective: IsoDate | None = Field(
        default=None,
        description="Date lots were first released against this criterion. Without it, the "
        "criteria of the gates already passed apply to every lot.",
    )

    @model_validator(mode="after")
    def _shape(self) -> Criterion:
        c = self.comparator
        if c in ("NLT", "NMT") and self.value is None:
            raise ValueError(f"{c} needs 'value'")
        if c == "range" and (self.lower is None or self.upper is None):
            raise ValueError("range needs 'lower' and 'upper'")
        if (
            c == "range"
            and self.lower is not None
            and self.upper is not None
            and self.lower >= self.upper
        ):
            raise ValueError("range needs 'lower' below 'upper'")
        if c == "text" and not self.text:
            raise ValueError("text needs 'text'")
        if c not in ("NLT", "NMT") and self.value is not None:
            raise ValueError(f"'value' belongs to NLT and NMT, not {c}")
        return self

    @property
    def is_numeric(self) -> bool:
        return self.comparator in ("NLT", "NMT", "range")

    @property
    def reports_only(self) -> bool:
        """'report results', however written (also as free text)."""
        return self.comparator == "report-results" or (
            self.comparator == "text" and means_report_results(self.text)
        )

    @property
    def limits(self) -> tuple[float | None, float | None]:
        if self.comparator == "NLT":
            return self.value, None
        if self.comparator == "NMT":
            return None, self.value
        if self.comparator == "range":
            return self.lower, self.upper
        return None, None


def _release_only() -> list[Literal["release", "stability"]]:
    return ["release"]


class EndotoxinDose(StrictModel):
    """K/M endotoxin limit per mL of product: K x body weight / maximum dose volume."""

    k_eu_per_kg: float = Field(gt=0, le=1000, description="K, e.g. 5 EU/kg (intravenous).")
    body_weight_kg: float = Field(gt=0, le=500)
    dose_volume_ml: float = Field(gt=0, le=10_000, description="Largest volume given per hour.")

    @property
    def limit(self) -> float:
        return self.k_eu_per_kg * self.body_weight_kg / self.dose_volume_ml


class Specification(StrictModel):
    """One test of the specification with its criterion at each stage gate."""

    id: Identifier = Field(description="Test id; also the lot CSV column of its results.")
    title: Title
    attribute: Identifier = Field(description="Attribute of the framework catalogue, by id.")
    method: Identifier = Field(description="Analytical method, by id.")
    material: Literal["drug_substance", "drug_product"] = "drug_product"
    unit: Name | None = None
    usage: list[Literal["release", "stability"]] = Field(default_factory=_release_only)
    basis: LimitBasis | None = Field(
        default=None,
        description="Where the limit comes from; default: the framework attribute's limit_basis.",
    )
    physical_range: PhysicalRange | None = Field(
        default=None, description="Values a result can take; default: the attribute's."
    )
    k_over_m: EndotoxinDose | None = Field(
        default=None, description="For endotoxin: the inputs of the K/M limit."
    )
    stages: dict[Gate, Criterion] = Field(min_length=1)
    # release testing table (issue 13.5): sample point, sample size, timing, result before release
    release_testing: ReleaseTesting | None = None


class LotData(StrictModel):
    file: Name = Field(description="Lot CSV, relative to cmc.yaml.")
    exclude: list[Name] = Field(
        default_factory=list, description="Lot ids left out of the statistics (with a reason)."
    )
    exclude_reason: Text | None = None


class ComparabilityPlan(StrictModel):
    approach: Identifier = Field(description="Framework comparability approach, by id.")
    design: Text
    lots_pre_change: int | list[Name] = Field(
        description="Pre-change lots: their lot ids in the lot CSV (the study compares their "
        "results), or only how many while they are not yet chosen."
    )
    lots_post_change: int | list[Name] = Field(
        description="Post-change lots: lot ids in the lot CSV, or how many are planned."
    )
    attributes: list[Identifier | ComparedAttribute] = Field(
        min_length=1,
        description="Attributes compared: test ids, or each with its risk tier and acceptance "
        "approach (test, tier, acceptance, margin/alpha or k).",
    )
    status: Literal["planned", "ongoing", "complete"]
    report: Title | None = None
    conclusion: ComparabilityConclusion | None = Field(
        default=None,
        description="Optional: the conclusion is derived from the lots; one written here must "
        "agree with it.",
    )
    summary: Text | None = Field(default=None, description="The study's results in words.")

    @property
    def compared(self) -> list[ComparedAttribute]:
        """Every attribute with its tier and acceptance (a bare test id is descriptive, tier 3)."""
        return [
            a
            if isinstance(a, ComparedAttribute)
            else ComparedAttribute(test=a, tier=3, acceptance="descriptive")
            for a in self.attributes
        ]

    @property
    def tests(self) -> list[str]:
        return [a.test for a in self.compared]


class ProcessChange(StrictModel):
    id: Identifier
    title: Title
    description: Text
    from_version: Identifier
    to_version: Identifier
    before_gate: Gate = Field(description="The gate the change is made before.")
    risk: Literal["low", "medium", "high"]
    comparability: ComparabilityPlan


class StabilityStudy(StrictModel):
    id: Identifier
    study_type: Identifier = Field(description="Framework stability study type, by id.")
    material: Literal["drug_substance", "drug_product"] = "drug_product"
    condition: Text
    duration: Text
    status: Literal["planned", "ongoing", "complete"]
    summary: Text | None = None
    process_version: Identifier | None = Field(
        default=None,
        description="Process version of the lots on study (process.versions id); shelf-life "
        "data from an earlier process must be bridged to the current one.",
    )
    # stability results and shelf life: lots, container, results file, storage and claim
    lots: list[Name] = Field(
        default_factory=list, description="Lot ids on study, as in the lot CSV."
    )
    container: Text | None = None
    results: Name | None = Field(
        default=None,
        description="Stability results CSV, relative to cmc.yaml (header: study, lot_id, "
        "time_point, time_unit, then one column per stability test id); rows of this study.",
    )
    storage: Storage = Field(
        default="frozen",
        description="Storage category for the evaluation (sets how far a shelf life may go "
        "beyond the data): frozen, refrigerated, room-temperature or in-use.",
    )
    claim: StabilityClaim | None = Field(
        default=None,
        description="Proposed shelf life (or in-use period) the results must support.",
    )
    commitment: Text | None = Field(
        default=None, description="Post-approval stability protocol and commitment for the study."
    )


class ChainOfIdentity(StrictModel):
    description: Text
    topics: list[Identifier] = Field(default_factory=list)


class Substance(StrictModel):
    name: Title
    manufacturer: Title
    description: Text
    # batch analyses (issue 13.4): 3.2.S.4.4 cross-refers to 3.2.P.5.4 when not isolated
    isolated: bool = Field(
        default=True,
        description="False when the drug substance is not isolated (formulated straight into the "
        "drug product): its batch analyses are those of the drug product.",
    )


class Component(StrictModel):
    component: Name
    function: Name
    amount: Text


class DrugProduct(StrictModel):
    name: Title
    dosage_form: Title
    composition: list[Component] = Field(min_length=1)
    container_closure: Text


# Feature modules import Gate, MethodStatus and Specification from above (see __init__.py).
from generator.models.cmc_potency import PotencyAssurance, PotencyFramework  # noqa: E402
from generator.models.cmc_vector import VectorSubstance  # noqa: E402

CmcFramework.model_rebuild()


class CmcProduct(StrictModel):
    """A product's CMC inputs file (cmc.yaml)."""

    framework: CmcFrameworkPin = Field(description="CMC framework and major, e.g. 'cmc-staged@1'.")
    stage: Gate = Field(description="The gate the program is preparing for now.")
    version: Name | None = Field(
        default=None, description="Version of the CMC documents (Word page header)."
    )
    version_date: IsoDate | None = Field(
        default=None, description="Date of that version (Word page header)."
    )
    drug_substance: Substance
    drug_product: DrugProduct
    process: Process
    materials: list[Material] = Field(default_factory=list)
    methods: list[AnalyticalMethod] = Field(min_length=1)
    specifications: list[Specification] = Field(min_length=1)
    not_applicable: dict[Identifier, Text] = Field(
        default_factory=dict,
        description="Catalogue attributes that do not apply to this product, with the reason.",
    )
    lots: LotData
    bridging_studies: Annotated[list[BridgingStudy], unique("bridging study")] = Field(
        default_factory=list
    )
    investigations: Annotated[list[Investigation], unique("investigation")] = Field(
        default_factory=list,
        description="Out-of-specification investigations: the lot's result is then a warning, "
        "and the lot is left out of limit-setting for that test.",
    )
    process_changes: list[ProcessChange] = Field(default_factory=list)
    stability: Annotated[list[StabilityStudy], unique("stability study")] = Field(
        default_factory=list
    )
    chain_of_identity: ChainOfIdentity | None = None
    # batch analyses and process controls (issue 13.4, 13.7)
    exceptional_releases: Annotated[list[ExceptionalRelease], unique("exceptional release")] = (
        Field(default_factory=list)
    )
    process_controls: ProcessControls | None = None
    sections: dict[SectionKey, Text] = Field(
        default_factory=dict,
        description="Free text for Module 3 sections, keyed by concept key (see the registry).",
    )
    # potency assurance: the mechanism-of-action matrix (issue 13, part 2)
    potency: PotencyAssurance | None = None
    # vector as a second drug substance: its own 3.2.S block (issue 13, part 6)
    vector: VectorSubstance | None = None


SCHEMAS: dict[str, type[BaseModel]] = {
    "cmc-framework.schema.json": CmcFramework,
    "cmc-product.schema.json": CmcProduct,
    "cmc-module3-registry.schema.json": Module3Registry,
}
