"""Resolve: framework + product overrides → one resolved model with provenance.

Every value keeps where it came from (framework element and version, or product file:line),
and every departure from a structural starting point becomes a `TailoringEntry` in the
tailoring register — which must carry a justification.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jinja2 import StrictUndefined, Template, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from generator.framework_loader import LoadedElement, LoadedFramework
from generator.load import LoadedDocument
from generator.models.common import Evidence, ParameterValue, Source
from generator.models.framework import Element, GradingTable, Item, Parameter, TailoringTrigger
from generator.models.product import ElementOverride, ItemOverride, Product
from generator.models.registry import SectionRegistry
from generator.problems import Location, Problem, ProblemList, did_you_mean


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

    @property
    def tailored(self) -> bool:
        return self.value != self.starting_value

    @property
    def needs_verification(self) -> bool:
        return self.evidence is Evidence.NEEDS_VERIFICATION and not self.tailored


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
    status: Literal["framework", "modified", "replaced", "added"] = "framework"

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


def _finalize(value: Any) -> Any:
    return value if isinstance(value, str) else format_value(value)


_TEXT_ENV = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, finalize=_finalize
)


def fill_text(text: str, values: dict[str, ParameterValue]) -> str:
    """Substitute `{{ parameter }}` placeholders in framework text.

    Values stay typed inside the text (so `{% if concurrent_cohorts %}` works) and are
    formatted only where printed.
    """
    if "{" not in text:
        return text
    if "{%" not in text and "{#" not in text:
        names = _PLACEHOLDER.findall(text)
        if len(names) == text.count("{{"):  # only plain {{ name }}: no need to compile
            missing = [n for n in names if n not in values]
            if missing:
                raise UndefinedError(f"'{missing[0]}' is undefined")
            return _PLACEHOLDER.sub(lambda m: str(_finalize(values[m.group(1)])), text)
    return _compiled(text).render(values)


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@functools.lru_cache(maxsize=1024)
def _compiled(text: str) -> Template:
    return _TEXT_ENV.from_string(text)


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

    for path, (line, col) in document.value_positions.items():
        if path and all(isinstance(p, str) for p in path) and path[0] != "tailoring":
            value = _get(document.data, path)
            if not isinstance(value, dict | list):
                dotted = ".".join(str(p) for p in path)
                explain[dotted] = ExplainEntry(
                    dotted,
                    value,
                    Provenance("product", document.display, Location(document.display, line, col)),
                    note="product-specific: the framework has no starting point for it",
                )

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

    for element_id, loaded in framework.elements.items():
        override = product.tailoring.get(element_id)
        resolved, entries, found = _resolve_element(loaded, override, pin, document, explain)
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
    )
    return protocol, problems.items


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
    start = stopping.parameters.get("monitoring_from_n") if stopping else None
    trial = product.overall_design.maximum_participants
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
    name: str, spec: Parameter, value: ParameterValue, where: Location
) -> Problem | None:
    """Type and range check of an overriding value against the framework's parameter."""
    start = spec.value
    kind = _kind(start)
    if _kind(value) != kind and not (kind == "number" and _kind(value) == "number"):
        return Problem(
            "PR004",
            f"parameter '{name}' must be {_kind_words(kind)}, got {value!r}",
            where,
            f"the starting point is {format_value(start)}",
        )
    if spec.allowed is not None and value not in spec.allowed:
        return Problem(
            "PR003",
            f"parameter '{name}' = {format_value(value)} is not an allowed value",
            where,
            f"allowed: {', '.join(format_value(a) for a in spec.allowed)}",
        )
    if kind == "number" and isinstance(value, int | float):
        lo, hi = spec.minimum, spec.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"{format_value(lo) if lo is not None else '-∞'} to {format_value(hi) if hi is not None else '∞'}"
            unit = f" {spec.unit}" if spec.unit else ""
            return Problem(
                "PR003",
                f"parameter '{name}' = {format_value(value)} is outside the framework range {rng}{unit}",
                where,
                "choose a value within the range; a value outside it needs a framework change, "
                "not a product override",
            )
    return None


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
) -> dict[str, ResolvedParameter]:
    resolved: dict[str, ResolvedParameter] = {}
    for name, spec in specs.items():
        value: ParameterValue = spec.value
        if fw_document is not None:
            fw_prov = Provenance(
                "framework", fw_prov.label, fw_document.location((*fw_path, name, "value"))
            )
        prov = fw_prov
        if name in overrides:
            where = document.location((*base_path, name))
            problem = _param_problem(name, spec, overrides[name], where)
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


def _resolve_element(
    loaded: LoadedElement,
    override: ElementOverride | None,
    pin: str,
    document: LoadedDocument,
    explain: dict[str, ExplainEntry],
) -> tuple[ResolvedElement, list[TailoringEntry], list[Problem]]:
    element: Element = loaded.element
    fw_prov = Provenance(
        "framework", f"{pin} › {element.id}", Location(loaded.document.display, 1, 1)
    )
    problems: list[Problem] = []
    entries: list[TailoringEntry] = []
    ov = override or ElementOverride()
    base = ("tailoring", element.id)
    triggers = {t.id: t for t in element.tailoring_triggers}

    params = _resolve_params(
        element.starting_point.parameters,
        ov.parameters,
        fw_prov,
        document,
        (*base, "parameters"),
        problems,
        loaded.document,
        ("starting_point", "parameters"),
    )
    values = {n: p.value for n, p in params.items()}
    starting_values = {n: p.starting_value for n, p in params.items()}

    def checked_fill(text: str, vals: dict[str, ParameterValue], where: Location) -> str:
        try:
            return fill_text(text, vals)
        except TemplateError as exc:
            problems.append(
                Problem(
                    "PR040",
                    f"text placeholder error: {exc.message or exc}",
                    where,
                    "placeholders must name a parameter of this element or item, e.g. {{ dlt_window_days }}",
                )
            )
            return text

    element_where = loaded.document.location(("starting_point", "text"))
    starting_text = checked_fill(element.starting_point.text, starting_values, element_where)
    text = starting_text
    text_prov = fw_prov
    if ov.text is not None:
        where = document.location((*base, "text"))
        text = checked_fill(ov.text, values, where)
        text_prov = Provenance("product", document.display, where)
    else:
        text = checked_fill(element.starting_point.text, values, element_where)

    def trigger_of(item_ov: ItemOverride | None) -> tuple[str | None, str | None]:
        tid = (item_ov.trigger if item_ov and item_ov.trigger else None) or ov.trigger
        if tid is None:
            return None, None
        return tid, triggers[tid].text if tid in triggers else None

    def justification_of(item_ov: ItemOverride | None) -> str:
        return ((item_ov.justification if item_ov else None) or ov.justification or "").strip()

    def record(
        subject: str,
        start: str,
        new: str,
        where: Location,
        item_ov: ItemOverride | None = None,
    ) -> None:
        justification = justification_of(item_ov)
        tid, ttext = trigger_of(item_ov)
        if not justification:
            problems.append(
                Problem(
                    "PR010",
                    f"'{element.id}': {subject} departs from the framework starting point "
                    "without a justification",
                    where,
                    f"add 'justification:' under tailoring.{element.id} (or under the item) "
                    "saying why this product needs it"
                    + (f"; tailoring triggers: {', '.join(triggers)}" if triggers else ""),
                )
            )
        entries.append(
            TailoringEntry(
                element_id=element.id,
                element_title=element.title,
                subject=subject,
                starting_point=start,
                product_value=new,
                justification=justification,
                trigger_id=tid,
                trigger_text=ttext,
                location=where,
            )
        )

    for trig_path, tid in [((*base, "trigger"), ov.trigger)] + [
        ((*base, "items", i, "trigger"), io.trigger) for i, io in enumerate(ov.items)
    ]:
        if tid is not None and tid not in triggers:
            problems.append(
                Problem(
                    "PR011",
                    f"'{tid}' is not a tailoring trigger of element '{element.id}'",
                    document.location(trig_path),
                    did_you_mean(tid, triggers) or f"triggers: {', '.join(triggers)}",
                )
            )

    if ov.text is not None and text != starting_text:
        record(
            "starting-point text",
            starting_text,
            text,
            text_prov.location or Location(document.display),
        )
    for name, param in params.items():
        if param.tailored:
            unit = f" {param.unit}" if param.unit else ""
            record(
                f"{param.label} ({name})",
                f"{format_value(param.starting_value)}{unit}",
                f"{format_value(param.value)}{unit}",
                param.provenance.location or Location(document.display),
            )
        explain[f"elements.{element.id}.parameters.{name}"] = ExplainEntry(
            f"elements.{element.id}.parameters.{name}",
            param.value,
            param.provenance,
            param.starting_value,
            fw_prov,
            note=param.label,
        )
    explain[f"elements.{element.id}.text"] = ExplainEntry(
        f"elements.{element.id}.text", text, text_prov, starting_text, fw_prov
    )

    items, removed = _resolve_items(
        element, ov, values, fw_prov, document, base, problems, record, checked_fill, loaded
    )
    for item in items:
        explain[f"elements.{element.id}.items.{item.id}"] = ExplainEntry(
            f"elements.{element.id}.items.{item.id}",
            item.text,
            item.provenance,
            None,
            fw_prov,
            note=f"status: {item.status}",
        )
        for pname, p in item.parameters.items():
            explain[f"elements.{element.id}.items.{item.id}.parameters.{pname}"] = ExplainEntry(
                f"elements.{element.id}.items.{item.id}.parameters.{pname}",
                p.value,
                p.provenance,
                p.starting_value,
                fw_prov,
                note=p.label,
            )

    if override is not None and not entries and not problems and (ov.justification or ov.trigger):
        problems.append(
            Problem(
                "PR012",
                f"tailoring.{element.id} has a justification but changes nothing",
                document.location(base, key=True),
                "remove the entry, or add the parameters/items it is meant to change",
            )
        )

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
        tables=list(element.starting_point.tables),
        tailoring_triggers=list(element.tailoring_triggers),
        rationale=element.rationale,
        sources=list(element.sources),
        evidence=element.evidence,
        provenance=fw_prov,
        tailored=bool(entries),
    )
    return resolved, entries, problems


def _resolve_items(
    element: Element,
    ov: ElementOverride,
    values: dict[str, ParameterValue],
    fw_prov: Provenance,
    document: LoadedDocument,
    base: tuple[str | int, ...],
    problems: list[Problem],
    record: Any,
    checked_fill: Any,
    loaded: LoadedElement,
) -> tuple[list[ResolvedItem], list[ResolvedItem]]:
    by_id: dict[str, Item] = {i.id: i for i in element.starting_point.items}
    overrides: dict[str, tuple[int, ItemOverride]] = {}
    for n, item_ov in enumerate(ov.items):
        if item_ov.id in overrides:
            problems.append(
                Problem(
                    "PR021",
                    f"item '{item_ov.id}' is overridden twice in tailoring.{element.id}",
                    document.location((*base, "items", n, "id")),
                    "merge the two entries into one",
                )
            )
            continue
        overrides[item_ov.id] = (n, item_ov)

    resolved: list[ResolvedItem] = []
    removed: list[ResolvedItem] = []

    def build(item: Item, n_fw: int) -> ResolvedItem:
        ov_pair = overrides.get(item.id)
        item_ov = ov_pair[1] if ov_pair else None
        ipath = (*base, "items", ov_pair[0]) if ov_pair else base
        params = _resolve_params(
            item.parameters,
            item_ov.parameters if item_ov else {},
            fw_prov,
            document,
            (*ipath, "parameters"),
            problems,
            loaded.document,
            ("starting_point", "items", n_fw, "parameters"),
        )
        merged = {**values, **{k: p.value for k, p in params.items()}}
        starting_merged = {**values, **{k: p.starting_value for k, p in params.items()}}
        fw_where = loaded.document.location(("starting_point", "items", n_fw, "text"))
        start_text = checked_fill(item.text, starting_merged, fw_where)
        status: Literal["framework", "modified", "replaced", "added"] = "framework"
        prov = fw_prov
        text = checked_fill(item.text, merged, fw_where)
        if (
            item.protected
            and item_ov
            and (item_ov.text is not None or item_ov.kind or item_ov.gate)
        ):
            problems.append(_protected_problem(element, item, "replaced", document, ipath))
        if item_ov and item_ov.text is not None:
            where = document.location((*ipath, "text"))
            text = checked_fill(item_ov.text, merged, where)
            status, prov = "replaced", Provenance("product", document.display, where)
            record(f"item {item.id} (replaced)", start_text, text, where, item_ov)
        elif any(p.tailored for p in params.values()):
            status = "modified"
            prov = Provenance("product", document.display, document.location(ipath))
            for p in params.values():
                if p.tailored:
                    unit = f" {p.unit}" if p.unit else ""
                    record(
                        f"item {item.id}: {p.label}",
                        f"{format_value(p.starting_value)}{unit}",
                        f"{format_value(p.value)}{unit}",
                        p.provenance.location or document.location(ipath),
                        item_ov,
                    )
        if item_ov and (item_ov.kind or item_ov.gate):
            kind_gate_changed = (item_ov.kind or item.kind) != item.kind or (
                item_ov.gate or item.gate
            ) != item.gate
            if kind_gate_changed:
                record(
                    f"item {item.id} (kind/gate)",
                    f"{item.kind or '-'} / {item.gate or '-'}",
                    f"{item_ov.kind or item.kind or '-'} / {item_ov.gate or item.gate or '-'}",
                    document.location(ipath),
                    item_ov,
                )
                status = "replaced" if status == "replaced" else "modified"
        return ResolvedItem(
            id=item.id,
            text=text,
            kind=(item_ov.kind if item_ov and item_ov.kind else item.kind),
            gate=(item_ov.gate if item_ov and item_ov.gate else item.gate),
            parameters=params,
            evidence=item.evidence,
            sources=list(item.sources),
            provenance=prov,
            status=status,
        )

    for n_fw, item in enumerate(element.starting_point.items):
        built = build(item, n_fw)
        pair = overrides.get(item.id)
        if pair and pair[1].remove:
            where = document.location((*base, "items", pair[0]))
            if item.protected:
                problems.append(
                    _protected_problem(
                        element, item, "removed", document, (*base, "items", pair[0])
                    )
                )
            record(f"item {item.id} (removed)", built.text, "removed", where, pair[1])
            removed.append(built)
            continue
        resolved.append(built)

    for item_id, (n, item_ov) in overrides.items():
        if item_id in by_id:
            continue
        where = document.location((*base, "items", n))
        if item_ov.remove:
            problems.append(
                Problem(
                    "PR006",
                    f"cannot remove item '{item_id}': element '{element.id}' has no such item",
                    where,
                    did_you_mean(item_id, by_id) or f"item ids: {', '.join(by_id) or 'none'}",
                )
            )
            continue
        if item_ov.text is None:
            problems.append(
                Problem(
                    "PR005",
                    f"item '{item_id}' is not in element '{element.id}'; a new item needs 'text:'",
                    where,
                    did_you_mean(item_id, by_id) or "add 'text:' to add the item, or fix the id",
                )
            )
            continue
        if item_ov.parameters:
            problems.append(
                Problem(
                    "PR007",
                    f"new item '{item_id}' cannot set parameters; write the value in its text",
                    document.location((*base, "items", n, "parameters"), key=True),
                    "parameters are the framework's tunable thresholds; added items carry plain text",
                )
            )
        text = checked_fill(item_ov.text, values, document.location((*base, "items", n, "text")))
        prov = Provenance("product", document.display, where)
        record(f"item {item_id} (added)", "—", text, where, item_ov)
        # an added item joins its kind's group (after the last item of the same kind)
        position = len(resolved)
        if item_ov.kind is not None:
            same = [n for n, r in enumerate(resolved) if r.kind == item_ov.kind]
            position = same[-1] + 1 if same else position
        resolved.insert(
            position,
            ResolvedItem(
                id=item_id,
                text=text,
                kind=item_ov.kind,
                gate=item_ov.gate,
                parameters={},
                evidence=Evidence.VERIFIED,
                sources=[],
                provenance=prov,
                status="added",
            ),
        )
    return resolved, removed


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
