"""Resolve: framework + product overrides → one resolved model with provenance.

Every value keeps where it came from (framework element and version, or product file:line),
and every departure from a structural starting point becomes a `TailoringEntry` in the
tailoring register — which must carry a justification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from generator import textfill
from generator.framework_loader import LoadedElement, LoadedFramework
from generator.load import LoadedDocument
from generator.models.common import Evidence, ParameterValue, Source
from generator.models.framework import (
    Element,
    GradingTable,
    Item,
    Parameter,
    TailoringTrigger,
    TextPart,
)
from generator.models.product import ElementOverride, ItemOverride, Product
from generator.models.registry import SectionRegistry
from generator.problems import Location, Problem, ProblemList, Severity, did_you_mean


@dataclass(frozen=True)
class Provenance:
    """Where a resolved value came from."""

    origin: Literal["framework", "product"]
    label: str
    location: Location | None = None

    def __str__(self) -> str:
        return f"{self.label} ({self.location})" if self.location else self.label


@dataclass
class ResolvedParameter:
    name: str
    label: str
    unit: str | None
    value: ParameterValue
    starting_value: ParameterValue
    minimum: float | None
    maximum: float | None
    allowed: list[ParameterValue] | None
    evidence: Evidence
    sources: list[str]
    provenance: Provenance
    starting_provenance: Provenance
    note: str | None = None
    outside_range: bool = False
    """The product set a value outside the framework range, with a justification."""

    @property
    def tailored(self) -> bool:
        return self.value != self.starting_value

    @property
    def needs_verification(self) -> bool:
        return self.evidence is Evidence.NEEDS_VERIFICATION and not self.tailored


ItemStatus = Literal["framework", "modified", "replaced", "added"]


@dataclass
class ResolvedItem:
    id: str
    text: str
    kind: str | None
    gate: str | None
    parameters: dict[str, ResolvedParameter]
    evidence: Evidence
    sources: list[str]
    provenance: Provenance
    status: ItemStatus = "framework"
    note: str | None = None
    """Reviewer note (site and review marks only, never protocol prose)."""
    like: str | None = None
    """For an item added `like:` a framework item: that item's id."""

    @property
    def needs_verification(self) -> bool:
        return self.evidence is Evidence.NEEDS_VERIFICATION and self.status == "framework"


@dataclass
class ResolvedElement:
    id: str
    title: str
    component: str
    m11_sections: list[str]
    summary: str
    text: str
    parameters: dict[str, ResolvedParameter]
    items: list[ResolvedItem]
    removed_items: list[ResolvedItem]
    tables: list[GradingTable]
    tailoring_triggers: list[TailoringTrigger]
    rationale: str
    sources: list[str]
    evidence: Evidence
    provenance: Provenance
    tailored: bool = False
    applies: bool = True
    """False when the element's `when:` condition does not hold for this product: templates
    skip it (its items and tables are then empty)."""
    notes: list[str] = field(default_factory=list)
    """Reviewer commentary (site and review marks only, never protocol prose)."""
    omitted: list[str] = field(default_factory=list)
    """Ids of framework items and tables left out because their `when:` does not hold."""

    @property
    def p(self) -> dict[str, ParameterValue]:
        """Parameter values by name — what templates read most."""
        return {name: param.value for name, param in self.parameters.items()}

    def items_of(self, kind: str | None = None, gate: str | None = None) -> list[ResolvedItem]:
        return [
            i
            for i in self.items
            if (kind is None or i.kind == kind) and (gate is None or i.gate == gate)
        ]

    @property
    def needs_verification(self) -> bool:
        return self.evidence is Evidence.NEEDS_VERIFICATION


@dataclass(frozen=True)
class TailoringEntry:
    """One row of the tailoring register: a departure from a starting point."""

    element_id: str
    element_title: str
    subject: str
    starting_point: str
    product_value: str
    justification: str
    trigger_id: str | None
    trigger_text: str | None
    location: Location | None
    outside_range: bool = False
    """The product value lies outside the framework range (allowed with a justification)."""
    framework_range: str | None = None
    """The framework range as it reads, e.g. '45 to 60 mL/min' (parameters only)."""
    rationale_needs_rewrite: bool = False
    """The element's rationale argued for the starting value in words the tailored value no
    longer supports: the protocol's rationale for this element needs the product's argument."""


@dataclass(frozen=True)
class ExplainEntry:
    path: str
    value: Any
    provenance: Provenance
    starting_value: Any = None
    starting_provenance: Provenance | None = None
    note: str = ""


@dataclass
class ResolvedProtocol:
    loaded_framework: LoadedFramework
    product: Product
    product_document: LoadedDocument
    registry: SectionRegistry
    elements: dict[str, ResolvedElement]
    tailoring_register: list[TailoringEntry]
    sources: dict[str, Source]
    explain_index: dict[str, ExplainEntry] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    """The product facts `when:` conditions were evaluated against."""
    previous: ResolvedProtocol | None = None
    """The version this amendment changes (`--since` or the amendment's previous_version)."""

    @property
    def product_dir(self) -> Path:
        return self.product_document.path.parent


def format_value(value: Any) -> str:
    """How a parameter value reads in prose: 28, 0.3, 38.0 → '38', lists joined."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 10_000 else f"{value:g}"
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def fill_text(
    text: str | list[TextPart],
    values: dict[str, ParameterValue],
    facts: dict[str, Any] | None = None,
) -> str:
    """Framework or product text with its `{param:NAME}` placeholders filled and, for text
    given as parts, only the parts whose `when:` condition holds (generator/textfill.py).

    Text is never compiled as a template: `{{ 7*7 }}` in a value prints as typed.
    """
    if isinstance(text, str):
        return textfill.fill(text, values, format_value)
    names: dict[str, Any] = {**(facts or {}), **values}
    kept = []
    for n, part in enumerate(text):
        try:
            if part.when is None or textfill.evaluate(part.when, names):
                kept.append(textfill.fill(part.text, values, format_value).strip())
        except textfill.TextError as exc:
            raise textfill.TextError(exc.message, exc.hint, exc.offset, part=n) from None
    return " ".join(k for k in kept if k)


MONITORING_RULE = "monitoring-rule"
"""Item kind of a continuous toxicity-monitoring rule (stopping-rules element): each such
item carries its own event, θ, cut-off, prior and start, and the analysis computes one
boundary table per rule."""

FACT_NAMES = (
    "product.source",
    "product.modality",
    "product.target_antigen",
    "product.donor_type",
    "product.gene_edited",
    "population.min_age",
    "population.max_age",
    "population.paediatric",
    "population.adult_only",
    "indication.disease_group",
    "design.name",
    "design.population_type",
    "trial.phase",
    "dose.levels_below_start",
    "lymphodepletion.added_agents",
    "lymphodepletion.anti_cd52",
)
"""Every product fact a `when:` condition may test (see `product_facts`)."""

COVERED_FACTS = {
    "product.modality": ("product", "modality"),
    "indication.disease_group": ("indication", "disease_group"),
    "product.donor_type": ("product", "donor_type"),
}
"""Facts whose every value should have framework text written for it: `check` warns (PR060)
when the product's value is tested by no `when:` condition anywhere in the framework."""


def product_facts(product: Product, framework: LoadedFramework | None = None) -> dict[str, Any]:
    """Product facts that `when:` conditions in framework text may test.

    Unknown facts are None (or False for the yes/no ones): text written for a population or
    disease group is then left out, and text that applies unless the trial is adult-only is
    kept (`not population.adult_only`).
    """
    design = product.overall_design
    min_age, max_age = design.age_min_years, design.age_max_years
    ids = [level.id for level in product.dose_escalation.dose_levels]
    start = product.dose_escalation.starting_level
    agents = product.lymphodepletion_agents
    return {
        "product.source": product.product.source,
        "product.modality": product.product.modality,
        "product.target_antigen": product.product.target_antigen,
        "product.donor_type": product.product.donor_type,
        "product.gene_edited": bool(product.product.gene_editing),
        "population.min_age": min_age,
        "population.max_age": max_age,
        "population.paediatric": min_age is not None and min_age < 18,
        "population.adult_only": min_age is not None and min_age >= 18,
        "indication.disease_group": product.indication.disease_group,
        "design.name": _design_name(product, framework),
        "design.population_type": design.population_type,
        "trial.phase": product.title_page.phase,
        "dose.levels_below_start": ids.index(start) if start in ids else 0,
        "lymphodepletion.added_agents": len(agents),
        "lymphodepletion.anti_cd52": any(a.agent_class == "anti-CD52 antibody" for a in agents),
    }


def _design_name(product: Product, framework: LoadedFramework | None) -> str:
    """The escalation design the protocol uses: the product's choice when it is allowed."""
    if framework is None or "dose-escalation" not in framework.elements:
        return "3+3"
    spec = framework.elements["dose-escalation"].element.starting_point.parameters.get("design")
    if spec is None:
        return "3+3"
    override = product.tailoring.get("dose-escalation")
    wanted = override.parameters.get("design") if override else None
    if wanted is not None and (spec.allowed is None or wanted in spec.allowed):
        return str(wanted)
    return str(spec.value)


def resolve_product(
    framework: LoadedFramework,
    product: Product,
    document: LoadedDocument,
    registry: SectionRegistry,
) -> tuple[ResolvedProtocol, list[Problem]]:
    """Merge the product's overrides onto the framework; return the model and all problems."""
    problems = ProblemList()
    pin = framework.pin
    elements: dict[str, ResolvedElement] = {}
    register: list[TailoringEntry] = []
    explain: dict[str, ExplainEntry] = {}

    explain.update(_product_explain_entries(document))

    for element_id in product.tailoring:
        if element_id not in framework.elements:
            problems.add(
                Problem(
                    "PR001",
                    f"tailoring names unknown framework element '{element_id}'",
                    document.location(("tailoring", element_id), key=True),
                    did_you_mean(element_id, framework.elements)
                    or f"elements: {', '.join(framework.elements)}",
                )
            )

    facts = product_facts(product, framework)
    for element_id, loaded in framework.elements.items():
        override = product.tailoring.get(element_id)
        resolved, entries, found = _resolve_element(loaded, override, pin, document, explain, facts)
        elements[element_id] = resolved
        register.extend(entries)
        problems.extend(found)

    for key in product.sections:
        if key not in registry.by_key():
            problems.add(
                Problem(
                    "PR020",
                    f"'{key}' is not an M11 section key",
                    document.location(("sections", key), key=True),
                    did_you_mean(key, registry.by_key())
                    or "section keys are listed in templates/protocol/m11-sections.yaml",
                )
            )

    problems.extend(_check_dose_levels(product, document))
    entries, found = _lymphodepletion_agents(product, framework, document)
    register.extend(entries)
    problems.extend(found)
    problems.extend(_check_fact_parameters(framework, elements, product, document, facts))
    problems.extend(_check_monitoring_rules(elements, product, document))
    problems.extend(_check_coverage(framework, product, document))
    problems.extend(_check_escalation_design(elements, product, document))
    sources = {s.id: s for s in framework.framework.sources}
    protocol = ResolvedProtocol(
        loaded_framework=framework,
        product=product,
        product_document=document,
        registry=registry,
        elements=elements,
        tailoring_register=register,
        sources=sources,
        explain_index=explain,
        facts=facts,
    )
    return protocol, problems.items


def explain_path(data: Any, path: tuple[str | int, ...]) -> str:
    """A product-file path as `explain` takes it: list entries that have an id by their id
    (`dose_escalation.dose_levels.DL2`, `objectives.OBJ-P1.endpoint`), others by position."""
    parts: list[str] = []
    node = data
    for part in path:
        if isinstance(part, int) and isinstance(node, list):
            entry = node[part]
            has_id = isinstance(entry, dict) and isinstance(entry.get("id"), str | int)
            parts.append(str(entry["id"]) if has_id else str(part))
        else:
            parts.append(str(part))
        node = node[part]
    return ".".join(parts)


def _product_explain_entries(document: LoadedDocument) -> dict[str, ExplainEntry]:
    """Every value of the product file outside `tailoring:`, lists and mappings included."""
    entries: dict[str, ExplainEntry] = {}
    for path, (line, col) in document.value_positions.items():
        if not path or path[0] == "tailoring":
            continue
        try:
            value = _get(document.data, path)
        except (KeyError, IndexError, TypeError):
            continue
        dotted = explain_path(document.data, path)
        entries.setdefault(
            dotted,
            ExplainEntry(
                dotted,
                value,
                Provenance("product", document.display, Location(document.display, line, col)),
                note="product-specific: the framework has no starting point for it",
            ),
        )
    return entries


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _check_dose_levels(product: Product, document: LoadedDocument) -> list[Problem]:
    out: list[Problem] = []
    seen: set[str] = set()
    levels = product.dose_escalation.dose_levels
    for i, level in enumerate(levels):
        if level.id in seen:
            out.append(
                Problem(
                    "PR030",
                    f"duplicate dose-level id '{level.id}'",
                    document.location(("dose_escalation", "dose_levels", i, "id")),
                    "give every dose level its own id",
                )
            )
        seen.add(level.id)
    if product.dose_escalation.starting_level not in seen:
        out.append(
            Problem(
                "PR031",
                f"starting_level '{product.dose_escalation.starting_level}' is not a dose level id",
                document.location(("dose_escalation", "starting_level")),
                did_you_mean(product.dose_escalation.starting_level, seen)
                or f"dose level ids: {', '.join(level.id for level in levels)}",
            )
        )
    doses = [level.dose for level in levels]
    if doses != sorted(doses):
        out.append(
            Problem(
                "PR032",
                "dose levels must be listed in increasing dose",
                document.location(("dose_escalation", "dose_levels")),
                "order the dose levels from lowest to highest",
            )
        )
    return out


def _range_words(spec: Parameter) -> str | None:
    if spec.minimum is None and spec.maximum is None:
        return None
    lo = format_value(spec.minimum) if spec.minimum is not None else "-∞"
    hi = format_value(spec.maximum) if spec.maximum is not None else "∞"
    unit = f" {spec.unit}" if spec.unit else ""
    return f"{lo} to {hi}{unit}"


def _check_escalation_design(
    elements: dict[str, ResolvedElement], product: Product, document: LoadedDocument
) -> list[Problem]:
    """The escalation and monitoring parameters fit the design and the trial's size, so the
    computed tables exist (3+3 has cohorts of 3; a cohort fits in the escalation; the
    Bayesian monitoring starts within the trial's maximum)."""
    out: list[Problem] = []
    escalation = elements.get("dose-escalation")
    design = escalation.parameters.get("design") if escalation else None
    cohort = escalation.parameters.get("cohort_size") if escalation else None
    if design is not None and cohort is not None and design.value == "3+3" and cohort.value != 3:
        written = cohort if cohort.provenance.origin == "product" else design
        out.append(
            Problem(
                "PR033",
                "the 3+3 design treats cohorts of 3 participants, but cohort_size is "
                f"{format_value(cohort.value)}",
                written.provenance.location or document.location(("tailoring",)),
                "set cohort_size to 3, or choose a design that allows other cohort sizes "
                "(BOIN, i3+3 or mTPI-2)",
            )
        )
    limit = product.dose_escalation.maximum_participants
    if cohort is not None and isinstance(cohort.value, int | float) and limit < cohort.value:
        out.append(
            Problem(
                "PR034",
                f"dose_escalation.maximum_participants ({limit}) is smaller than one cohort "
                f"({format_value(cohort.value)} participants)",
                document.location(("dose_escalation", "maximum_participants")),
                "allow at least one full cohort, usually several, in the escalation",
            )
        )
    stopping = elements.get("stopping-rules")
    starts = [
        item.parameters["monitoring_from_n"]
        for item in (stopping.items if stopping else [])
        if "monitoring_from_n" in item.parameters
    ]
    if stopping is not None and "monitoring_from_n" in stopping.parameters:
        starts.append(stopping.parameters["monitoring_from_n"])
    trial = product.overall_design.maximum_participants
    numeric = [s for s in starts if isinstance(s.value, int | float)]
    start = max(numeric, key=lambda s: s.value) if numeric else None
    if start is not None and isinstance(start.value, int | float) and trial < start.value:
        out.append(
            Problem(
                "PR035",
                f"overall_design.maximum_participants ({trial}) is below the number of "
                f"participants at which safety monitoring starts ({format_value(start.value)})",
                document.location(("overall_design", "maximum_participants")),
                "enrol at least as many participants as the monitoring rule needs, or lower "
                "monitoring_from_n under tailoring.stopping-rules",
            )
        )
    return out


def _param_problem(
    name: str, spec: Parameter, value: ParameterValue, where: Location, *, justified: bool
) -> tuple[Problem | None, bool]:
    """Type and range check of an overriding value against the framework's parameter.

    Returns the problem (None when the value can be used) and whether the value lies outside
    the framework range — allowed when the departure carries a justification, unless the
    range is a hard limit.
    """
    start = spec.value
    kind = _kind(start)
    if _kind(value) != kind:
        return (
            Problem(
                "PR004",
                f"parameter '{name}' must be {_kind_words(kind)}, got {value!r}",
                where,
                f"the starting point is {format_value(start)}",
            ),
            False,
        )
    if spec.allowed is not None and value not in spec.allowed:
        return (
            Problem(
                "PR003",
                f"parameter '{name}' = {format_value(value)} is not an allowed value",
                where,
                f"allowed: {', '.join(format_value(a) for a in spec.allowed)}",
            ),
            False,
        )
    if kind == "number" and isinstance(value, int | float):
        lo, hi = spec.minimum, spec.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            message = (
                f"parameter '{name}' = {format_value(value)} is outside the framework range "
                f"{_range_words(spec)}"
            )
            if spec.hard_limits:
                return (
                    Problem(
                        "PR003",
                        message,
                        where,
                        "this range is a hard limit (the design's mathematics cannot take a "
                        "value outside it); a justification does not lift it",
                    ),
                    False,
                )
            if not justified:
                return (
                    Problem(
                        "PR003",
                        message,
                        where,
                        "choose a value within the range, or add 'justification:' saying why "
                        "this product needs a value outside it (the register then records it "
                        "as outside the framework range)",
                    ),
                    False,
                )
            return None, True
    return None, False


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    return "text"


def _kind_words(kind: str) -> str:
    return {"bool": "true or false", "number": "a number", "list": "a list", "text": "text"}[kind]


def _resolve_params(
    specs: dict[str, Parameter],
    overrides: dict[str, ParameterValue],
    fw_prov: Provenance,
    document: LoadedDocument,
    base_path: tuple[str | int, ...],
    problems: list[Problem],
    fw_document: LoadedDocument | None = None,
    fw_path: tuple[str | int, ...] = (),
    *,
    justified: bool = False,
) -> dict[str, ResolvedParameter]:
    resolved: dict[str, ResolvedParameter] = {}
    for name, spec in specs.items():
        value: ParameterValue = spec.value
        if fw_document is not None:
            fw_prov = Provenance(
                "framework", fw_prov.label, fw_document.location((*fw_path, name, "value"))
            )
        prov = fw_prov
        outside = False
        if name in overrides:
            where = document.location((*base_path, name))
            problem, outside = _param_problem(
                name, spec, overrides[name], where, justified=justified
            )
            if problem:
                problems.append(problem)
            else:
                value = overrides[name]
                prov = Provenance("product", document.display, where)
        resolved[name] = ResolvedParameter(
            name=name,
            label=spec.label,
            unit=spec.unit,
            value=value,
            starting_value=spec.value,
            minimum=spec.minimum,
            maximum=spec.maximum,
            allowed=spec.allowed,
            evidence=spec.evidence,
            sources=list(spec.sources),
            provenance=prov,
            starting_provenance=fw_prov,
            note=spec.note,
            outside_range=outside,
        )
    for name in overrides:
        if name not in specs:
            problems.append(
                Problem(
                    "PR002",
                    f"unknown parameter '{name}'",
                    document.location((*base_path, name), key=True),
                    did_you_mean(name, specs) or f"parameters here: {', '.join(specs) or 'none'}",
                )
            )
    return resolved


def applicable_parts(
    text: str | list[TextPart], names: dict[str, Any]
) -> list[TextPart] | list[str]:
    """The parts of a text that apply under `names` (a plain text is one part)."""
    if isinstance(text, str):
        return [text]
    return [p for p in text if p.when is None or textfill.evaluate(p.when, names)]


def referenced_parameters(text: str | list[TextPart], names: dict[str, Any]) -> list[str]:
    """`{param:NAME}` names used by the parts of a text that apply, in order, once each."""
    out: list[str] = []
    for part in applicable_parts(text, names):
        body = part if isinstance(part, str) else part.text
        for kind, name in textfill.placeholders(body):
            if kind == "param" and name not in out:
                out.append(name)
    return out


class _ElementContext:
    """What the merge steps of one element share: its files, values, facts and findings."""

    def __init__(
        self,
        loaded: LoadedElement,
        override: ElementOverride | None,
        pin: str,
        document: LoadedDocument,
        facts: dict[str, Any],
    ) -> None:
        self.loaded = loaded
        self.element: Element = loaded.element
        self.override = override
        self.ov = override or ElementOverride()
        self.document = document
        self.facts = facts
        self.fw_prov = Provenance(
            "framework", f"{pin} › {self.element.id}", Location(loaded.document.display, 1, 1)
        )
        self.base: tuple[str | int, ...] = ("tailoring", self.element.id)
        self.triggers = {t.id: t for t in self.element.tailoring_triggers}
        self.problems: list[Problem] = []
        self.entries: list[TailoringEntry] = []
        self.needs_rewrite: set[str] = set()
        self.values: dict[str, ParameterValue] = {}

    def names(self, values: dict[str, ParameterValue] | None = None) -> dict[str, Any]:
        return {**self.facts, **(self.values if values is None else values)}

    def fill(
        self,
        text: str | list[TextPart],
        vals: dict[str, ParameterValue],
        where: Location,
        doc: LoadedDocument | None = None,
        path: tuple[str | int, ...] = (),
    ) -> str:
        try:
            return fill_text(text, vals, self.names(vals))
        except textfill.TextError as exc:
            if exc.part is not None and doc is not None:
                where = doc.location((*path, exc.part))
            self.add_text_problem(exc, where)
            return text if isinstance(text, str) else " ".join(p.text for p in text)

    def holds(self, condition: str | None, names: dict[str, Any], where: Location) -> bool:
        """Whether a `when:` condition holds; a broken condition is a problem (and holds)."""
        if condition is None:
            return True
        try:
            return textfill.evaluate(condition, names)
        except textfill.TextError as exc:
            self.add_text_problem(exc, where)
            return True

    def add_text_problem(self, exc: textfill.TextError, where: Location) -> None:
        problem = Problem(
            "PR040",
            f"text placeholder or condition error: {exc.message}",
            where,
            exc.hint
            or "placeholders name a parameter of this element or item, e.g. "
            "{param:dlt_window_days}",
        )
        if problem not in self.problems:  # starting and tailored text fill the same source
            self.problems.append(problem)

    def trigger_of(self, item_ov: ItemOverride | None) -> tuple[str | None, str | None]:
        tid = (item_ov.trigger if item_ov and item_ov.trigger else None) or self.ov.trigger
        if tid is None:
            return None, None
        return tid, self.triggers[tid].text if tid in self.triggers else None

    def justification_of(self, item_ov: ItemOverride | None) -> str:
        return ((item_ov.justification if item_ov else None) or self.ov.justification or "").strip()

    def record(
        self,
        subject: str,
        start: str,
        new: str,
        where: Location,
        item_ov: ItemOverride | None = None,
        param: ResolvedParameter | None = None,
        spec: Parameter | None = None,
        outside_range: bool = False,
    ) -> None:
        justification = self.justification_of(item_ov)
        tid, ttext = self.trigger_of(item_ov)
        eid = self.element.id
        if not justification:
            self.problems.append(
                Problem(
                    "PR010",
                    f"'{eid}': {subject} departs from the framework starting point "
                    "without a justification",
                    where,
                    f"add 'justification:' under tailoring.{eid} (or under the item) "
                    "saying why this product needs it"
                    + (
                        f"; tailoring triggers: {', '.join(self.triggers)}" if self.triggers else ""
                    ),
                )
            )
        self.entries.append(
            TailoringEntry(
                element_id=eid,
                element_title=self.element.title,
                subject=subject,
                starting_point=start,
                product_value=new,
                justification=justification,
                trigger_id=tid,
                trigger_text=ttext,
                location=where,
                outside_range=outside_range or (param.outside_range if param else False),
                framework_range=_range_words(spec) if spec else None,
                rationale_needs_rewrite=param is not None and param.name in self.needs_rewrite,
            )
        )


def _resolve_element(
    loaded: LoadedElement,
    override: ElementOverride | None,
    pin: str,
    document: LoadedDocument,
    explain: dict[str, ExplainEntry],
    facts: dict[str, Any],
) -> tuple[ResolvedElement, list[TailoringEntry], list[Problem]]:
    """One element: parameters, text, rationale, items and tables merged in that order, each
    step reporting into the shared context; then the register entries the merge recorded."""
    ctx = _ElementContext(loaded, override, pin, document, facts)
    element, ov, fw_doc = ctx.element, ctx.ov, loaded.document

    params = _resolve_params(
        element.starting_point.parameters,
        ov.parameters,
        ctx.fw_prov,
        document,
        (*ctx.base, "parameters"),
        ctx.problems,
        fw_doc,
        ("starting_point", "parameters"),
        justified=bool(ctx.justification_of(None)),
    )
    ctx.values = {n: p.value for n, p in params.items()}
    starting_values = {n: p.starting_value for n, p in params.items()}
    applies = ctx.holds(element.when, ctx.names(), fw_doc.location(("when",)))

    # the rationale: filled with the values the protocol uses; a part that argued for a
    # starting value and no longer applies means the argument must be rewritten
    rationale = ctx.fill(
        element.rationale, ctx.values, fw_doc.location(("rationale",)), fw_doc, ("rationale",)
    )
    ctx.needs_rewrite = _withdrawn_arguments(ctx, params, starting_values)

    text, starting_text, text_prov = _element_text(ctx, starting_values)
    _check_triggers(ctx)
    _record_element_departures(ctx, params, text, starting_text, text_prov, explain)

    items, removed, omitted = _ItemMerge(ctx).run()
    tables = _applicable_tables(ctx, omitted)
    _explain_items(explain, element.id, items, removed, omitted, ctx.fw_prov)
    _check_idle_justification(ctx)
    entries = ctx.entries
    if not applies:
        _check_not_applicable(ctx)
        entries, items, removed, tables = [], [], [], []

    resolved = ResolvedElement(
        id=element.id,
        title=element.title,
        component=element.component,
        m11_sections=list(element.m11_sections),
        summary=element.summary,
        text=text,
        parameters=params,
        items=items,
        removed_items=removed,
        tables=tables,
        tailoring_triggers=list(element.tailoring_triggers),
        rationale=rationale,
        sources=list(element.sources),
        evidence=element.evidence,
        provenance=ctx.fw_prov,
        tailored=bool(entries),
        applies=applies,
        notes=list(element.notes),
        omitted=omitted,
    )
    return resolved, entries, ctx.problems


def _element_text(
    ctx: _ElementContext, starting_values: dict[str, ParameterValue]
) -> tuple[str, str, Provenance]:
    """The element's text as the protocol prints it, its starting-point text, and where the
    printed text comes from (a product's replacement must keep the framework's parameters)."""
    element, ov, document, fw_doc = ctx.element, ctx.ov, ctx.document, ctx.loaded.document
    text_path = ("starting_point", "text")
    element_where = fw_doc.location(text_path)
    starting_text = ctx.fill(
        element.starting_point.text, starting_values, element_where, fw_doc, text_path
    )
    if ov.text is None:
        text = ctx.fill(element.starting_point.text, ctx.values, element_where, fw_doc, text_path)
        return text, starting_text, ctx.fw_prov
    where = document.location((*ctx.base, "text"))
    text = ctx.fill(ov.text, ctx.values, where)
    _require_references(
        ctx, element.starting_point.text, ov.text, ctx.names(), where, "starting-point text"
    )
    return text, starting_text, Provenance("product", document.display, where)


def _check_triggers(ctx: _ElementContext) -> None:
    """Every trigger a tailoring names is one of the element's tailoring triggers."""
    ov, base = ctx.ov, ctx.base
    for trig_path, tid in [((*base, "trigger"), ov.trigger)] + [
        ((*base, "items", i, "trigger"), io.trigger) for i, io in enumerate(ov.items)
    ]:
        if tid is not None and tid not in ctx.triggers:
            ctx.problems.append(
                Problem(
                    "PR011",
                    f"'{tid}' is not a tailoring trigger of element '{ctx.element.id}'",
                    ctx.document.location(trig_path),
                    did_you_mean(tid, ctx.triggers) or f"triggers: {', '.join(ctx.triggers)}",
                )
            )


def _record_element_departures(
    ctx: _ElementContext,
    params: dict[str, ResolvedParameter],
    text: str,
    starting_text: str,
    text_prov: Provenance,
    explain: dict[str, ExplainEntry],
) -> None:
    """Register entries for a replaced text and each tailored parameter; explain entries."""
    element, document = ctx.element, ctx.document
    if ctx.ov.text is not None and text != starting_text:
        ctx.record(
            "starting-point text",
            starting_text,
            text,
            text_prov.location or Location(document.display),
        )
    for name, param in params.items():
        if param.tailored:
            unit = f" {param.unit}" if param.unit else ""
            ctx.record(
                f"{param.label} ({name})",
                f"{format_value(param.starting_value)}{unit}",
                f"{format_value(param.value)}{unit}",
                param.provenance.location or Location(document.display),
                param=param,
                spec=element.starting_point.parameters[name],
            )
        explain[f"elements.{element.id}.parameters.{name}"] = ExplainEntry(
            f"elements.{element.id}.parameters.{name}",
            param.value,
            param.provenance,
            param.starting_value,
            ctx.fw_prov,
            note=param.label + (" (outside the framework range)" if param.outside_range else ""),
        )
    explain[f"elements.{element.id}.text"] = ExplainEntry(
        f"elements.{element.id}.text", text, text_prov, starting_text, ctx.fw_prov
    )


def _applicable_tables(ctx: _ElementContext, omitted: list[str]) -> list[GradingTable]:
    """The element's tables whose `when:` holds; the others are listed as omitted."""
    tables: list[GradingTable] = []
    for n, table in enumerate(ctx.element.starting_point.tables):
        where = ctx.loaded.document.location(("starting_point", "tables", n, "when"))
        if ctx.holds(table.when, ctx.names(), where):
            tables.append(table)
        else:
            omitted.append(table.id)
    return tables


def _check_idle_justification(ctx: _ElementContext) -> None:
    """A justification that changes nothing is a mistake (a typo in what it meant to change)."""
    ov = ctx.ov
    if (
        ctx.override is not None
        and not ctx.entries
        and not ctx.problems
        and (ov.justification or ov.trigger)
    ):
        ctx.problems.append(
            Problem(
                "PR012",
                f"tailoring.{ctx.element.id} has a justification but changes nothing",
                ctx.document.location(ctx.base, key=True),
                "remove the entry, or add the parameters/items it is meant to change",
            )
        )


def _check_not_applicable(ctx: _ElementContext) -> None:
    """Tailoring an element that does not apply to the product has no effect: say so."""
    if ctx.override is not None:
        ctx.problems.append(
            Problem(
                "PR062",
                f"element '{ctx.element.id}' does not apply to this product "
                f"(when: {ctx.element.when}); its tailoring has no effect",
                ctx.document.location(ctx.base, key=True),
                "remove the tailoring entry, or check the product facts it depends on",
                Severity.WARNING,
            )
        )


def _withdrawn_arguments(
    ctx: _ElementContext,
    params: dict[str, ResolvedParameter],
    starting_values: dict[str, ParameterValue],
) -> set[str]:
    """Tailored parameters whose starting value the rationale argued for in fixed words: a
    rationale part conditioned on the parameter held at the starting values and no longer holds,
    and no part conditioned on it takes its place (the framework has no argument for the new
    value, so the protocol's rationale needs the product's)."""
    rationale = ctx.element.rationale
    if isinstance(rationale, str):
        return set()
    try:
        before = {id(p) for p in applicable_parts(rationale, ctx.names(starting_values))}
        after = {id(p) for p in applicable_parts(rationale, ctx.names())}
    except textfill.TextError:
        return set()  # reported when the rationale was filled

    def named(parts: list[TextPart]) -> set[str]:
        out: set[str] = set()
        for part in parts:
            for name in textfill.condition_names(part.when or ""):
                if name in params and params[name].tailored:
                    out.add(name)
        return out

    withdrawn = named([p for p in rationale if p.when and id(p) in before and id(p) not in after])
    replaced = named([p for p in rationale if p.when and id(p) in after and id(p) not in before])
    return withdrawn - replaced


def _require_references(
    ctx: _ElementContext,
    framework_text: str | list[TextPart],
    replacement: str,
    names: dict[str, Any],
    where: Location,
    what: str,
    known: set[str] | None = None,
) -> None:
    """A replacement text must keep every parameter the framework text states, as
    {param:NAME}: otherwise the protocol could say 40 while the parameter (and `explain`)
    says 60."""
    try:
        needed = referenced_parameters(framework_text, names)
    except textfill.TextError:
        return  # reported when the framework text was filled
    if known is not None:
        needed = [n for n in needed if n in known]
    used = {name for kind, name in textfill.placeholders(replacement) if kind == "param"}
    missing = [n for n in needed if n not in used]
    if missing:
        listed = ", ".join("{param:" + n + "}" for n in missing)
        ctx.problems.append(
            Problem(
                "PR042",
                f"'{ctx.element.id}': the replaced {what} drops {listed}, which the framework "
                "text states",
                where,
                f"write {listed} where the value belongs and set the value under 'parameters:' "
                "(with a justification) instead of typing it; if the criterion no longer has "
                "this threshold, remove the item and add a new one",
            )
        )


def _explain_items(
    explain: dict[str, ExplainEntry],
    element_id: str,
    items: list[ResolvedItem],
    removed: list[ResolvedItem],
    omitted: list[str],
    fw_prov: Provenance,
) -> None:
    for item, note in [(i, f"status: {i.status}") for i in items] + [
        (i, "removed by the product: not in the protocol") for i in removed
    ]:
        path = f"elements.{element_id}.items.{item.id}"
        explain[path] = ExplainEntry(path, item.text, item.provenance, None, fw_prov, note=note)
        for pname, p in item.parameters.items():
            ppath = f"{path}.parameters.{pname}"
            explain[ppath] = ExplainEntry(
                ppath,
                p.value,
                p.provenance,
                p.starting_value,
                fw_prov,
                note=p.label
                + (" (outside the framework range)" if p.outside_range else "")
                + ("; the item is removed: not in the protocol" if item in removed else ""),
            )
    for oid in omitted:
        path = f"elements.{element_id}.items.{oid}"
        explain.setdefault(
            path,
            ExplainEntry(
                path,
                None,
                fw_prov,
                None,
                fw_prov,
                note="does not apply to this product (its 'when:' condition does not hold)",
            ),
        )


Span = tuple[str | int, ...]


class _ItemMerge:
    """The items of one element: framework items (kept, modified, replaced or removed by the
    product, or omitted when their `when:` does not hold), then items the product adds — new
    ones with their own text, or `like:` a framework item with its own parameter values."""

    def __init__(self, ctx: _ElementContext) -> None:
        self.ctx = ctx
        self.fw_doc = ctx.loaded.document
        items = ctx.element.starting_point.items
        self.by_id: dict[str, Item] = {i.id: i for i in items}
        self.index_of = {i.id: n for n, i in enumerate(items)}
        self.overrides = self._collect_overrides()
        self.resolved: list[ResolvedItem] = []
        self.removed: list[ResolvedItem] = []
        self.omitted: list[str] = []

    def run(self) -> tuple[list[ResolvedItem], list[ResolvedItem], list[str]]:
        for n_fw, item in enumerate(self.ctx.element.starting_point.items):
            self._merge_framework_item(item, n_fw)
        for item_id, (n, item_ov) in self.overrides.items():
            if item_ov.like is not None:
                self._add_like(item_id, n, item_ov)
            elif item_id not in self.by_id:
                self._add_new(item_id, n, item_ov)
        return self.resolved, self.removed, self.omitted

    # -- steps ---------------------------------------------------------------------------

    def _collect_overrides(self) -> dict[str, tuple[int, ItemOverride]]:
        ctx = self.ctx
        overrides: dict[str, tuple[int, ItemOverride]] = {}
        for n, item_ov in enumerate(ctx.ov.items):
            if item_ov.id in overrides:
                ctx.problems.append(
                    Problem(
                        "PR021",
                        f"item '{item_ov.id}' is overridden twice in tailoring.{ctx.element.id}",
                        ctx.document.location((*ctx.base, "items", n, "id")),
                        "merge the two entries into one",
                    )
                )
                continue
            overrides[item_ov.id] = (n, item_ov)
        return overrides

    def _merge_framework_item(self, item: Item, n_fw: int) -> None:
        ctx = self.ctx
        pair = self.overrides.get(item.id)
        fw_ov = pair[1] if pair else None
        ipath: Span = (*ctx.base, "items", pair[0]) if pair else ctx.base
        if not self._applies(item, n_fw):
            self.omitted.append(item.id)
            if pair:
                self._warn_not_applicable(
                    item,
                    ipath,
                    "the override has no effect",
                    "remove the override; to state something else, add a new item",
                )
            return
        built = self._build(item, n_fw, fw_ov if not (fw_ov and fw_ov.like) else None, ipath)
        if fw_ov and fw_ov.remove and not fw_ov.like:
            if item.protected:
                ctx.problems.append(
                    _protected_problem(ctx.element, item, "removed", ctx.document, ipath)
                )
            where = ctx.document.location(ipath)
            ctx.record(f"item {item.id} (removed)", built.text, "removed", where, fw_ov)
            self.removed.append(built)
            return
        self.resolved.append(built)

    def _add_like(self, item_id: str, n: int, item_ov: ItemOverride) -> None:
        ctx, document, base = self.ctx, self.ctx.document, self.ctx.base
        problem: tuple[str, Span, str] | None = None
        model = self.by_id.get(item_ov.like or "")
        if item_id in self.by_id:
            problem = (
                f"item '{item_id}' already exists in '{ctx.element.id}'; 'like:' adds a new "
                "item and needs a new id",
                (*base, "items", n, "id"),
                "give the new item its own id",
            )
        elif model is None:
            problem = (
                f"'like: {item_ov.like}' names no item of '{ctx.element.id}'",
                (*base, "items", n, "like"),
                did_you_mean(item_ov.like or "", self.by_id)
                or f"item ids: {', '.join(self.by_id)}",
            )
        elif item_ov.remove:
            problem = (
                f"item '{item_id}' is added 'like:' another and removed at once",
                (*base, "items", n, "remove"),
                "drop 'remove: true' or 'like:'",
            )
        if problem is not None or model is None:
            if problem is not None:
                message, path, hint = problem
                ctx.problems.append(Problem("PR009", message, document.location(path), hint))
            return
        if not self._applies(model, self.index_of[model.id]):
            self._warn_not_applicable(
                model,
                (*base, "items", n),
                "an item like it would not either",
                "add a new item with its own 'text:' instead",
            )
            return
        added = self._build(model, self.index_of[model.id], item_ov, (*base, "items", n), item_id)
        _insert_by_kind(self.resolved, added)

    def _add_new(self, item_id: str, n: int, item_ov: ItemOverride) -> None:
        ctx, document, base = self.ctx, self.ctx.document, self.ctx.base
        where = document.location((*base, "items", n))
        element_id = ctx.element.id
        if item_ov.remove:
            ctx.problems.append(
                Problem(
                    "PR006",
                    f"cannot remove item '{item_id}': element '{element_id}' has no such item",
                    where,
                    did_you_mean(item_id, self.by_id)
                    or f"item ids: {', '.join(self.by_id) or 'none'}",
                )
            )
            return
        if item_ov.text is None:
            ctx.problems.append(
                Problem(
                    "PR005",
                    f"item '{item_id}' is not in element '{element_id}'; a new item needs 'text:'",
                    where,
                    did_you_mean(item_id, self.by_id)
                    or "add 'text:' to add the item, or fix the id",
                )
            )
            return
        if item_ov.parameters:
            ctx.problems.append(
                Problem(
                    "PR007",
                    f"new item '{item_id}' cannot set parameters; write the value in its text",
                    document.location((*base, "items", n, "parameters"), key=True),
                    "parameters are the framework's tunable thresholds; added items carry plain "
                    "text (or use 'like:' to add an item shaped like a framework item)",
                )
            )
        text = ctx.fill(item_ov.text, ctx.values, document.location((*base, "items", n, "text")))
        ctx.record(f"item {item_id} (added)", "—", text, where, item_ov)
        _insert_by_kind(
            self.resolved,
            ResolvedItem(
                id=item_id,
                text=text,
                kind=item_ov.kind,
                gate=item_ov.gate,
                parameters={},
                evidence=Evidence.VERIFIED,
                sources=[],
                provenance=Provenance("product", document.display, where),
                status="added",
            ),
        )

    # -- one item --------------------------------------------------------------------------

    def _applies(self, item: Item, n_fw: int) -> bool:
        ctx = self.ctx
        names = ctx.names({**ctx.values, **{k: p.value for k, p in item.parameters.items()}})
        where = self.fw_doc.location(("starting_point", "items", n_fw, "when"))
        return ctx.holds(item.when, names, where)

    def _warn_not_applicable(self, item: Item, path: Span, effect: str, hint: str) -> None:
        self.ctx.problems.append(
            Problem(
                "PR061",
                f"item '{item.id}' of '{self.ctx.element.id}' does not apply to this product "
                f"(when: {item.when}); {effect}",
                self.ctx.document.location(path),
                hint,
                Severity.WARNING,
            )
        )

    def _build(
        self,
        item: Item,
        n_fw: int,
        item_ov: ItemOverride | None,
        ipath: Span,
        new_id: str | None = None,
    ) -> ResolvedItem:
        """A framework item as the product has it (or a new item `like:` it, `new_id`)."""
        ctx = self.ctx
        params = _resolve_params(
            item.parameters,
            item_ov.parameters if item_ov else {},
            ctx.fw_prov,
            ctx.document,
            (*ipath, "parameters"),
            ctx.problems,
            self.fw_doc,
            ("starting_point", "items", n_fw, "parameters"),
            justified=bool(ctx.justification_of(item_ov)),
        )
        if (
            item.protected
            and item_ov
            and new_id is None
            and (item_ov.text is not None or item_ov.kind or item_ov.gate)
        ):
            ctx.problems.append(
                _protected_problem(ctx.element, item, "replaced", ctx.document, ipath)
            )
        text, status, prov = self._text_and_status(item, n_fw, item_ov, ipath, new_id, params)
        kind = item_ov.kind if item_ov and item_ov.kind else item.kind
        gate = item_ov.gate if item_ov and item_ov.gate else item.gate
        if new_id is None and item_ov and (kind != item.kind or gate != item.gate):
            ctx.record(
                f"item {item.id} (kind/gate)",
                f"{item.kind or '-'} / {item.gate or '-'}",
                f"{kind or '-'} / {gate or '-'}",
                ctx.document.location(ipath),
                item_ov,
            )
            status = "replaced" if status == "replaced" else "modified"
        return ResolvedItem(
            id=new_id or item.id,
            text=text,
            kind=kind,
            gate=gate,
            parameters=params,
            evidence=item.evidence,
            sources=list(item.sources),
            provenance=prov,
            status=status,
            note=item.note,
            like=item.id if new_id else None,
        )

    def _text_and_status(
        self,
        item: Item,
        n_fw: int,
        item_ov: ItemOverride | None,
        ipath: Span,
        new_id: str | None,
        params: dict[str, ResolvedParameter],
    ) -> tuple[str, ItemStatus, Provenance]:
        """The item's printed text, its status and provenance, recording each departure."""
        ctx, document = self.ctx, self.ctx.document
        merged = {**ctx.values, **{k: p.value for k, p in params.items()}}
        starting = {**ctx.values, **{k: p.starting_value for k, p in params.items()}}
        fw_path = ("starting_point", "items", n_fw, "text")
        fw_where = self.fw_doc.location(fw_path)
        start_text = ctx.fill(item.text, starting, fw_where, self.fw_doc, fw_path)
        text = ctx.fill(item.text, merged, fw_where, self.fw_doc, fw_path)
        known = set(params) | set(ctx.values)
        replacement = item_ov.text if item_ov else None
        if new_id is not None:  # added like a framework item
            where = document.location(ipath)
            if replacement is not None:
                twhere = document.location((*ipath, "text"))
                text = ctx.fill(replacement, merged, twhere)
                _require_references(
                    ctx,
                    item.text,
                    replacement,
                    ctx.names(merged),
                    twhere,
                    f"text of item {new_id}",
                    known,
                )
            ctx.record(f"item {new_id} (added, like {item.id})", "—", text, where, item_ov)
            return text, "added", Provenance("product", document.display, where)
        if replacement is not None:
            where = document.location((*ipath, "text"))
            text = ctx.fill(replacement, merged, where)
            _require_references(
                ctx,
                item.text,
                replacement,
                ctx.names(merged),
                where,
                f"text of item {item.id}",
                known,
            )
            ctx.record(
                f"item {item.id} (replaced)",
                start_text,
                text,
                where,
                item_ov,
                outside_range=any(p.outside_range for p in params.values()),
            )
            return text, "replaced", Provenance("product", document.display, where)
        if not any(p.tailored for p in params.values()):
            return text, "framework", ctx.fw_prov
        for pname, p in params.items():
            if p.tailored:
                unit = f" {p.unit}" if p.unit else ""
                ctx.record(
                    f"item {item.id}: {p.label}",
                    f"{format_value(p.starting_value)}{unit}",
                    f"{format_value(p.value)}{unit}",
                    p.provenance.location or document.location(ipath),
                    item_ov,
                    param=p,
                    spec=item.parameters[pname],
                )
        return text, "modified", Provenance("product", document.display, document.location(ipath))


def _insert_by_kind(items: list[ResolvedItem], new: ResolvedItem) -> None:
    """An added item joins its kind's group (after the last item of the same kind)."""
    position = len(items)
    if new.kind is not None:
        same = [n for n, r in enumerate(items) if r.kind == new.kind]
        position = same[-1] + 1 if same else position
    items.insert(position, new)


# --------------------------------------------------------------------------- product-wide checks


def _lymphodepletion_agents(
    product: Product, framework: LoadedFramework, document: LoadedDocument
) -> tuple[list[TailoringEntry], list[Problem]]:
    """Each agent added to the lymphodepleting regimen is a departure with a justification."""
    entries: list[TailoringEntry] = []
    problems: list[Problem] = []
    loaded = framework.elements.get("lymphodepletion")
    if loaded is None:
        return entries, problems
    element = loaded.element
    triggers = {t.id: t for t in element.tailoring_triggers}
    for n, agent in enumerate(product.lymphodepletion_agents):
        path = ("lymphodepletion_agents", n)
        where = document.location(path)
        justification = (agent.justification or "").strip()
        if not justification:
            problems.append(
                Problem(
                    "PR010",
                    f"lymphodepleting agent '{agent.id}' departs from the framework regimen "
                    "without a justification",
                    where,
                    "add 'justification:' to the agent saying why this product needs it; "
                    f"tailoring triggers of lymphodepletion: {', '.join(triggers)}",
                )
            )
        if agent.trigger is not None and agent.trigger not in triggers:
            problems.append(
                Problem(
                    "PR011",
                    f"'{agent.trigger}' is not a tailoring trigger of element 'lymphodepletion'",
                    document.location((*path, "trigger")),
                    did_you_mean(agent.trigger, triggers) or f"triggers: {', '.join(triggers)}",
                )
            )
        trigger = triggers.get(agent.trigger) if agent.trigger else None
        entries.append(
            TailoringEntry(
                element_id=element.id,
                element_title=element.title,
                subject=f"added lymphodepleting agent {agent.id}",
                starting_point="—",
                product_value=f"{agent.name} ({agent.agent_class}), {agent.dose}, {agent.schedule}",
                justification=justification,
                trigger_id=agent.trigger,
                trigger_text=trigger.text if trigger else None,
                location=where,
            )
        )
    return entries, problems


def _check_fact_parameters(
    framework: LoadedFramework,
    elements: dict[str, ResolvedElement],
    product: Product,
    document: LoadedDocument,
    facts: dict[str, Any],
) -> list[Problem]:
    """A parameter declared `equals_fact:` must state the same number as the product file
    (e.g. the minimum age of the eligibility criterion and overall_design.age_min_years)."""
    out: list[Problem] = []
    for element_id, loaded in framework.elements.items():
        resolved = elements[element_id]
        if not resolved.applies:
            continue
        scopes: list[tuple[str | None, dict[str, Parameter], dict[str, ResolvedParameter]]] = [
            (None, loaded.element.starting_point.parameters, resolved.parameters)
        ]
        by_id = {i.id: i for i in resolved.items}
        for item in loaded.element.starting_point.items:
            if item.id in by_id:
                scopes.append((item.id, item.parameters, by_id[item.id].parameters))
        for item_id, specs, values in scopes:
            for name, spec in specs.items():
                fact = spec.equals_fact
                if fact is None or facts.get(fact) is None or name not in values:
                    continue
                if values[name].value != facts[fact]:
                    field_path = _FACT_FIELDS.get(fact, ())
                    where = (
                        document.location(field_path) if field_path else Location(document.display)
                    )
                    scope = f"item {item_id} " if item_id else ""
                    setting = (
                        f"tailoring.{element_id}.items (id: {item_id}) parameters: "
                        if item_id
                        else f"tailoring.{element_id}.parameters: "
                    )
                    out.append(
                        Problem(
                            "PR063",
                            f"'{element_id}' {scope}{name} is {format_value(values[name].value)} "
                            f"but {'.'.join(str(p) for p in field_path) or fact} is "
                            f"{format_value(facts[fact])}",
                            where,
                            f"make them agree: set {setting}{{{name}: {format_value(facts[fact])}}}"
                            " with a justification, or correct the product file",
                        )
                    )
    return out


_FACT_FIELDS: dict[str, tuple[str | int, ...]] = {
    "population.min_age": ("overall_design", "age_min_years"),
    "population.max_age": ("overall_design", "age_max_years"),
}


def _check_monitoring_rules(
    elements: dict[str, ResolvedElement], product: Product, document: LoadedDocument
) -> list[Problem]:
    """The stopping-rules element must keep at least one continuous monitoring rule."""
    stop = elements.get("stopping-rules")
    if stop is None or not stop.applies:
        return []
    if stop.items_of(kind=MONITORING_RULE) or not stop.removed_items:
        return []
    if not any(i.kind == MONITORING_RULE for i in stop.removed_items):
        return []
    return [
        Problem(
            "PR041",
            "every continuous toxicity-monitoring rule of 'stopping-rules' is removed",
            document.location(("tailoring", "stopping-rules", "items")),
            "keep the framework's rule, or add one with 'like:' (each rule has its own event, "
            "θ, cut-off and start)",
        )
    ]


def _framework_conditions(framework: LoadedFramework) -> list[str]:
    out: list[str] = []
    for loaded in framework.elements.values():
        el = loaded.element
        texts: list[str | list[TextPart]] = [el.rationale, el.starting_point.text]
        conds = [el.when]
        for item in el.starting_point.items:
            conds.append(item.when)
            texts.append(item.text)
        conds += [t.when for t in el.starting_point.tables]
        for text in texts:
            if not isinstance(text, str):
                conds += [p.when for p in text]
        out += [c for c in conds if c]
    return out


def _check_coverage(
    framework: LoadedFramework, product: Product, document: LoadedDocument
) -> list[Problem]:
    """Warn when the product's modality, disease group or donor type has no framework text
    written for it: the protocol then carries only the generic text."""
    tested: dict[str, set[str]] = {fact: set() for fact in COVERED_FACTS}
    for condition in _framework_conditions(framework):
        try:
            pairs = textfill.condition_values(condition)
        except textfill.TextError:
            continue
        for name, value in pairs:
            if name in tested:
                tested[name].add(str(value))
    out: list[Problem] = []
    for fact, path in COVERED_FACTS.items():
        value = _get(product.model_dump(), path)
        if value is None or str(value) in tested[fact]:
            continue
        covered = ", ".join(sorted(tested[fact])) or "none"
        out.append(
            Problem(
                "PR060",
                f"no framework text is written for {fact} '{value}'; the protocol carries only "
                "the generic text for it",
                document.location(path),
                f"review the eligibility, safety and follow-up text and tailor what does not "
                f"fit this product; framework text exists for: {covered}",
                Severity.WARNING,
            )
        )
    return out


def _protected_problem(
    element: Element,
    item: Item,
    what: str,
    document: LoadedDocument,
    path: tuple[str | int, ...],
) -> Problem:
    """A protected item is a safety provision: no justification lets a product drop it."""
    key = "remove" if what == "removed" else "text"
    return Problem(
        "PR008",
        f"item '{item.id}' of element '{element.id}' is protected and cannot be {what}",
        document.location((*path, key), key=True),
        "keep the framework's item (its parameters may change within range); add a new item "
        "for anything the product needs on top; a protected item changes only in the framework",
    )
