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


def product_facts(product: Product) -> dict[str, Any]:
    """Product facts that `when:` conditions in framework text may test."""
    return {
        "product.source": product.product.source,
        "product.modality": product.product.modality,
        "product.target_antigen": product.product.target_antigen,
        "trial.phase": product.title_page.phase,
        "design.population_type": product.overall_design.population_type,
    }


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

    facts = product_facts(product)
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
    facts: dict[str, Any],
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

    def checked_fill(
        text: str | list[TextPart],
        vals: dict[str, ParameterValue],
        where: Location,
        doc: LoadedDocument | None = None,
        path: tuple[str | int, ...] = (),
    ) -> str:
        try:
            return fill_text(text, vals, facts)
        except textfill.TextError as exc:
            if exc.part is not None and doc is not None:
                where = doc.location((*path, exc.part))
            problem = Problem(
                "PR040",
                f"text placeholder or condition error: {exc.message}",
                where,
                exc.hint
                or "placeholders name a parameter of this element or item, e.g. "
                "{param:dlt_window_days}",
            )
            if problem not in problems:  # starting and tailored text fill the same source
                problems.append(problem)
            return text if isinstance(text, str) else " ".join(p.text for p in text)

    element_where = loaded.document.location(("starting_point", "text"))
    text_path = ("starting_point", "text")
    starting_text = checked_fill(
        element.starting_point.text, starting_values, element_where, loaded.document, text_path
    )
    text = starting_text
    text_prov = fw_prov
    if ov.text is not None:
        where = document.location((*base, "text"))
        text = checked_fill(ov.text, values, where)
        text_prov = Provenance("product", document.display, where)
    else:
        text = checked_fill(
            element.starting_point.text, values, element_where, loaded.document, text_path
        )

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
