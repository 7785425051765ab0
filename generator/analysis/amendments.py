"""The change set of a protocol amendment: what differs between two resolved versions.

A pure function of the previous and the current resolved protocol (and their computed tables):
a typed list of changes, each placed in an M11 section and described with a wording pattern
of templates/protocol/amendment-changes.yaml. No sentence is written here; the patterns are
filled with the values the change carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from generator.models.product import ChangeRationale
from generator.models.protocol_data import AmendmentWording
from generator.paths import TEMPLATES_DIR
from generator.plain import to_plain
from generator.problems import Problem, Severity
from generator.resolve import ResolvedElement, ResolvedItem, ResolvedParameter, format_value

if TYPE_CHECKING:
    from generator.analysis.protocol_tables import ProtocolAnalysis
    from generator.resolve import ResolvedProtocol

WORDING_FILE = TEMPLATES_DIR / "protocol" / "amendment-changes.yaml"
_FIELD = re.compile(r"\{(?P<name>[a-z_]+)\}")


@dataclass(frozen=True)
class Change:
    """One row of the summary of changes."""

    kind: str
    """The wording pattern (a key of `patterns:` in amendment-changes.yaml)."""
    number: str
    """M11 section number ('' for the title page)."""
    title: str
    about: tuple[str, ...]
    """What the writer's rationale may be keyed by, most specific first."""
    description: str
    values: tuple[tuple[str, str], ...] = ()

    @property
    def section(self) -> str:
        return f"{self.number} {self.title}".strip()


@lru_cache(maxsize=1)
def load_wording() -> AmendmentWording:
    """The shipped wording patterns (read once)."""
    from generator.load import load_yaml
    from generator.validate import validate

    doc = load_yaml(WORDING_FILE, display="templates/protocol/amendment-changes.yaml")
    return validate(doc, AmendmentWording)


class _Collector:
    """Builds changes: places them and fills their wording pattern."""

    def __init__(self, current: ResolvedProtocol, wording: AmendmentWording) -> None:
        self.wording = wording
        self.by_number = {s.number: s for s in current.registry.sections}
        self.changes: list[Change] = []

    def text(self, value: Any) -> str:
        plain = to_plain(value)
        if plain is None:
            return self.wording.values.none
        if isinstance(plain, bool):
            return self.wording.values.true if plain else self.wording.values.false
        if isinstance(plain, dict):
            return " ".join(self.text(v) for v in plain.values())
        if isinstance(plain, list) and plain and not isinstance(plain[0], str | int | float):
            return "; ".join(self.text(v) for v in plain)
        return " ".join(str(format_value(plain)).split())

    def add(self, pattern_key: str, place: str, about: tuple[str, ...], **values: Any) -> None:
        other = self.wording.other_places
        if place in other:
            number, title = other[place].number, other[place].title
        else:
            section = self.by_number[place]
            number, title = section.number, section.title
        filled = {k: self.text(v) if not isinstance(v, str) else v for k, v in values.items()}
        pattern = self.wording.patterns[pattern_key]
        description = _FIELD.sub(lambda m: filled[m.group("name")], pattern)
        self.changes.append(
            Change(pattern_key, number, title, about, description, tuple(sorted(filled.items())))
        )


def _number_key(change: Change) -> tuple[int, ...]:
    return tuple(int(p) for p in change.number.split(".")) if change.number else ()


def compute_changes(
    previous: ResolvedProtocol,
    current: ResolvedProtocol,
    previous_analysis: ProtocolAnalysis | None = None,
    current_analysis: ProtocolAnalysis | None = None,
    wording: AmendmentWording | None = None,
) -> list[Change]:
    """Every change from `previous` to `current`, in section order (stable within a section)."""
    c = _Collector(current, wording or load_wording())
    _field_changes(c, previous, current)
    _dose_changes(c, previous, current)
    _objective_changes(c, previous, current)
    for element_id, now in current.elements.items():
        before = previous.elements.get(element_id)
        if before is not None:
            _element_changes(c, before, now)
    _agent_changes(c, previous, current)
    _section_text_changes(c, previous, current)
    _register_changes(c, previous, current)
    if previous_analysis is not None and current_analysis is not None:
        _table_changes(c, previous_analysis, current_analysis)
    return sorted(c.changes, key=_number_key)


def _field_changes(c: _Collector, previous: ResolvedProtocol, current: ResolvedProtocol) -> None:
    skip = set(c.wording.unlisted_title_page_fields)
    for group, place in c.wording.field_sections.items():
        before = getattr(previous.product, group)
        now = getattr(current.product, group)
        labels = c.wording.labels.get(group, {})
        for name in type(now).model_fields:
            if group == "title_page" and name in skip:
                continue
            old, new = getattr(before, name), getattr(now, name)
            if old != new:
                label = labels.get(name, name.replace("_", " ").capitalize())
                about = (name, group)  # the field itself, or its whole group
                c.add(f"{group}_field_changed", place, about, label=label, old=old, new=new)


def _dose_changes(c: _Collector, previous: ResolvedProtocol, current: ResolvedProtocol) -> None:
    before, now = previous.product.dose_escalation, current.product.dose_escalation
    places = c.wording.dose_sections
    unit = current.product.product.dose_unit
    old_levels = {d.id: d for d in before.dose_levels}
    new_levels = {d.id: d for d in now.dose_levels}
    for level_id, level in new_levels.items():
        dose = level.label or format_value(level.dose)
        if level_id not in old_levels:
            c.add(
                "dose_level_added",
                places["dose_levels"],
                (level_id,),
                id=level_id,
                dose=dose,
                unit=unit,
            )
        elif old_levels[level_id].dose != level.dose:
            old = old_levels[level_id].label or format_value(old_levels[level_id].dose)
            c.add(
                "dose_level_changed",
                places["dose_levels"],
                (level_id,),
                id=level_id,
                old=old,
                new=dose,
                unit=unit,
            )
    for level_id, level in old_levels.items():
        if level_id not in new_levels:
            dose = level.label or format_value(level.dose)
            unit_before = previous.product.product.dose_unit
            c.add(
                "dose_level_removed",
                places["dose_levels"],
                (level_id,),
                id=level_id,
                dose=dose,
                unit=unit_before,
            )
    # (field, wording key, section place): a changed value is one row of the summary
    for field, wording, place in (
        ("starting_level", "starting_level_changed", places["dose_levels"]),
        ("maximum_participants", "escalation_maximum_changed", places["maximum_participants"]),
    ):
        old_value, new_value = getattr(before, field), getattr(now, field)
        if old_value != new_value:
            c.add(wording, place, (field,), old=old_value, new=new_value)
    if before.true_dlt_scenarios != now.true_dlt_scenarios:
        c.add("scenarios_changed", places["scenarios"], ("true_dlt_scenarios",))


def _objective_changes(
    c: _Collector, previous: ResolvedProtocol, current: ResolvedProtocol
) -> None:
    levels = c.wording.objective_levels
    places = c.wording.objective_sections
    old = {o.id: o for o in previous.product.objectives}
    new = {o.id: o for o in current.product.objectives}
    for oid, objective in new.items():
        place, level = places[objective.level], levels[objective.level]
        if oid not in old:
            c.add("objective_added", place, (oid,), level=level, text=objective.objective)
            continue
        for name in ("objective", "endpoint"):
            if getattr(old[oid], name) != getattr(objective, name):
                field = c.wording.labels.get("objectives", {}).get(name, name)
                c.add(
                    "objective_changed",
                    place,
                    (oid,),
                    level=level,
                    field=field,
                    text=getattr(objective, name),
                )
    for oid, objective in old.items():
        if oid not in new:
            place, level = places[objective.level], levels[objective.level]
            c.add("objective_removed", place, (oid,), level=level, text=objective.objective)


def _unit_spacing(text: str) -> str:
    """'50,000/µL', not '50,000 /µL' (a unit that starts with a slash takes no space)."""
    return text.replace(" /", "/")


def _parameter_rows(
    before: Mapping[str, ResolvedParameter], now: Mapping[str, ResolvedParameter]
) -> Iterator[tuple[str, str, str]]:
    """(label, old, new) of every parameter whose value changed, units included."""
    for name, param in now.items():
        if name in before and before[name].value != param.value:
            unit = _unit_spacing(f" {param.unit}") if param.unit else ""
            yield (
                param.label,
                format_value(before[name].value) + unit,
                format_value(param.value) + unit,
            )


def _element_changes(c: _Collector, before: ResolvedElement, now: ResolvedElement) -> None:
    place = now.m11_sections[0]
    about = (now.id,)
    if before.applies != now.applies:
        kind = "element_now_applies" if now.applies else "element_no_longer_applies"
        c.add(kind, place, about, title=now.title)
        return
    for label, old, new in _parameter_rows(before.parameters, now.parameters):
        c.add("parameter_changed", place, about, label=label, old=old, new=new)
    if before.text != now.text and not any(
        True for _ in _parameter_rows(before.parameters, now.parameters)
    ):
        c.add("element_text_changed", place, about, title=now.title)
    rationale_place = c.wording.rationale_sections.get(now.id)
    if rationale_place and before.rationale != now.rationale:
        c.add("element_rationale_changed", rationale_place, about, title=now.title)
    old_items = {i.id: i for i in before.items}
    new_items = {i.id: i for i in now.items}
    for item_id, item in new_items.items():
        item_place = c.wording.item_sections.get(item.kind or "", place)
        where = (item_id, now.id)
        kind = _item_kind(c, item)
        if item_id not in old_items:
            c.add("item_added", item_place, where, kind=kind, text=item.text.strip())
            continue
        rows = list(_parameter_rows(old_items[item_id].parameters, item.parameters))
        for label, old, new in rows:
            c.add(
                "item_parameter_changed",
                item_place,
                where,
                kind=kind,
                label=label,
                old=old,
                new=new,
            )
        if not rows and old_items[item_id].text != item.text:
            c.add("item_text_changed", item_place, where, kind=kind, text=item.text.strip())
    for item_id, item in old_items.items():
        if item_id not in new_items:
            item_place = c.wording.item_sections.get(item.kind or "", place)
            c.add(
                "item_removed",
                item_place,
                (item_id, now.id),
                kind=_item_kind(c, item),
                text=item.text.strip(),
            )


def _item_kind(c: _Collector, item: ResolvedItem) -> str:
    return str(c.wording.item_kinds.get(item.kind or "", c.wording.default_item_kind))


def _agent_changes(c: _Collector, previous: ResolvedProtocol, current: ResolvedProtocol) -> None:
    place = c.wording.agent_section
    old = {a.id: a for a in previous.product.lymphodepletion_agents}
    new = {a.id: a for a in current.product.lymphodepletion_agents}
    for aid, agent in new.items():
        values = {"name": agent.name, "dose": agent.dose, "schedule": agent.schedule}
        if aid not in old:
            c.add("agent_added", place, (aid, "lymphodepletion"), **values)
        elif (old[aid].dose, old[aid].schedule) != (agent.dose, agent.schedule):
            c.add("agent_changed", place, (aid, "lymphodepletion"), **values)
    for aid, agent in old.items():
        if aid not in new:
            c.add("agent_removed", place, (aid, "lymphodepletion"), name=agent.name)


def _section_text_changes(
    c: _Collector, previous: ResolvedProtocol, current: ResolvedProtocol
) -> None:
    registry = current.registry.by_key()
    old, new = previous.product.sections, current.product.sections
    for key in registry:
        if key not in old and key not in new:
            continue
        if key not in old:
            kind = "section_text_added"
        elif key not in new:
            kind = "section_text_removed"
        elif old[key] != new[key]:
            kind = "section_text_changed"
        else:
            continue
        c.add(kind, registry[key].number, (key,))


def _register_changes(c: _Collector, previous: ResolvedProtocol, current: ResolvedProtocol) -> None:
    place = c.wording.register_section
    old = {(e.element_id, e.subject): e for e in previous.tailoring_register}
    new = {(e.element_id, e.subject): e for e in current.tailoring_register}
    for key, entry in new.items():
        values = {"value": _unit_spacing(entry.product_value), "element": entry.element_title}
        if key not in old:
            c.add("register_entry_added", place, (entry.element_id,), **values)
        elif (old[key].product_value, old[key].justification) != (
            entry.product_value,
            entry.justification,
        ):
            c.add("register_entry_changed", place, (entry.element_id,), **values)
    for key, entry in old.items():
        if key not in new:
            values = {"value": _unit_spacing(entry.product_value), "element": entry.element_title}
            c.add("register_entry_removed", place, (entry.element_id,), **values)


def _table_changes(c: _Collector, before: ProtocolAnalysis, now: ProtocolAnalysis) -> None:
    for name, place in c.wording.table_sections.items():
        if to_plain(getattr(before, name)) != to_plain(getattr(now, name)):
            table = c.wording.table_names[name]
            c.add("table_recomputed", place, (name,), table=table)


def title_page_problems(resolved: ResolvedProtocol) -> list[Problem]:
    """M11: an amended protocol carries its Amendment Details; the original carries none."""
    tp = resolved.product.title_page
    doc = resolved.product_document
    if not tp.original_protocol and tp.amendment is None:
        return [
            Problem(
                "PR070",
                "original_protocol is false but the title page has no amendment details",
                doc.location(("title_page", "original_protocol")),
                "add title_page.amendment with identifier, scope, substantial, primary_reason "
                "and rationale (the overall rationale of the amendment)",
            )
        ]
    if tp.original_protocol and tp.amendment is not None:
        return [
            Problem(
                "PR071",
                "the title page has amendment details but original_protocol is true",
                doc.location(("title_page", "original_protocol")),
                "set original_protocol: false for an amended protocol, or remove amendment",
            )
        ]
    if tp.amendment is not None and resolved.previous is None:
        return [
            Problem(
                "PR074",
                "the summary of changes needs the previous version of this product file",
                doc.location(("title_page", "amendment"), key=True),
                "give title_page.amendment.previous_version (a path relative to this file), or "
                "build with --since REVISION",
                Severity.WARNING,
            )
        ]
    if tp.original_protocol and resolved.product.changes:
        return [
            Problem(
                "PR073",
                "changes: lists rationales but this is the original protocol",
                doc.location(("changes",), key=True),
                "remove changes: (they belong to an amendment)",
                Severity.WARNING,
            )
        ]
    return []


def rationale_for(resolved: ResolvedProtocol, change: Change) -> ChangeRationale | None:
    """The writer's rationale for a change: the entry of `changes:` keyed by what changed,
    the most specific key first."""
    by_key = {entry.about: entry for entry in resolved.product.changes}
    for key in (*change.about, _section_key(resolved, change)):
        if key in by_key:
            return by_key[key]
    return None


def _section_key(resolved: ResolvedProtocol, change: Change) -> str:
    section = resolved.registry.by_number().get(change.number)
    return section.key if section else change.about[-1]


def rationale_problems(resolved: ResolvedProtocol, changes: list[Change]) -> list[Problem]:
    """A substantial amendment gives a rationale for every change; every rationale names a
    change that exists."""
    amendment = resolved.product.title_page.amendment
    if amendment is None:
        return []
    doc = resolved.product_document
    problems: list[Problem] = []
    where = (
        doc.location(("changes",), key=True)
        if resolved.product.changes
        else doc.location(("title_page", "amendment", "substantial"))
    )
    for change in changes:
        if rationale_for(resolved, change) is None:
            problems.append(
                Problem(
                    "PR072",
                    f"{change.section}: '{change.description}' has no rationale",
                    where,
                    f"add to changes: '- about: {change.about[0]}' with a rationale: (keys "
                    f"that match: {', '.join(dict.fromkeys([*change.about, _section_key(resolved, change)]))})",
                    Severity.ERROR if amendment.substantial else Severity.WARNING,
                )
            )
    used = {key for change in changes for key in (*change.about, _section_key(resolved, change))}
    for n, entry in enumerate(resolved.product.changes):
        if entry.about not in used:
            problems.append(
                Problem(
                    "PR073",
                    f"changes: '{entry.about}' names nothing that changed since the previous "
                    "version",
                    doc.location(("changes", n, "about")),
                    "remove the entry, or key it by the section, element, item, dose level or "
                    "objective that changed",
                    Severity.WARNING,
                )
            )
    return problems
