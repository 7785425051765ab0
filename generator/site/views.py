"""Plain data for the site templates: dicts, lists, strings, numbers and `Markup` (pandoc HTML).

Templates never see a model object, a path or a method: what a page shows is decided here,
how it is laid out in `templates/site/`. Prose goes through `Prose` (pandoc); every other
string is plain text that the site environment escapes.
"""

from __future__ import annotations

import re
from typing import Any

from generator.framework_loader import LoadedFramework
from generator.models.common import Evidence, ParameterValue
from generator.models.framework import Element, Parameter, TextPart
from generator.resolve import TailoringEntry, fill_text, format_value
from generator.site.prose import Prose

NEEDS = Evidence.NEEDS_VERIFICATION


def m11_anchor(number: str) -> str:
    return "m11-" + number.replace(".", "-")


def source_anchor(source_id: str) -> str:
    return "src-" + re.sub(r"[^A-Za-z0-9_-]", "-", source_id)


def _evidence(value: Evidence) -> dict[str, Any]:
    return {"needs_verification": value is NEEDS, "label": value.value}


def _web_url(url: str | None) -> str | None:
    """Only http(s) addresses become links."""
    return url if url and re.match(r"^https?://", url.strip(), re.I) else None


def _range(param: Parameter) -> str:
    if param.allowed is not None:
        return ", ".join(format_value(v) for v in param.allowed)
    lo = "" if param.minimum is None else format_value(param.minimum)
    hi = "" if param.maximum is None else format_value(param.maximum)
    if lo and hi:
        return f"{lo} \N{EN DASH} {hi}"
    if lo:
        return f"≥ {lo}"
    if hi:
        return f"≤ {hi}"
    return ""


def _fill_bold(text: str | list[TextPart], *scopes: dict[str, Parameter]) -> str:
    """Framework text with its `{param:NAME}` placeholders shown as bold starting values;
    text given as parts shows every part, each with its condition."""
    values: dict[str, ParameterValue] = {}
    for scope in scopes:
        values.update({k: f"**{format_value(p.value)}**" for k, p in scope.items()})
    if isinstance(text, list):
        return " ".join(
            fill_text(part.text, values) + (f" *(when {part.when})*" if part.when else "")
            for part in text
        )
    return fill_text(text, values)


def _short(markdown_text: str, limit: int = 60) -> str:
    """A summary cell's plain-text gist of a value (the block below shows it in full)."""
    text = " ".join(re.sub(r"[*_`\\]|\{[^}]*\}", "", markdown_text).split())
    text = re.sub(r"\[([^\]]*)\]", r"\1", text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _sources(ids: list[str]) -> list[dict[str, str]]:
    return [{"id": s, "anchor": source_anchor(s)} for s in ids]


# --------------------------------------------------------------------------- framework


def framework_info(fw: LoadedFramework) -> dict[str, Any]:
    f = fw.framework
    return {"id": f.id, "title": f.title, "version": f.version}


def element_view(
    fw: LoadedFramework,
    element: Element,
    prose: Prose,
    usage: list[dict[str, Any]],
) -> dict[str, Any]:
    sp = element.starting_point
    sources = {s.id: s for s in fw.framework.sources}
    items_by_kind: dict[str, list[Any]] = {}
    for item in sp.items:
        items_by_kind.setdefault(item.kind or "", []).append(item)
    return {
        "id": element.id,
        "title": element.title,
        "component": element.component,
        "m11_sections": list(element.m11_sections),
        "evidence": _evidence(element.evidence),
        "summary": prose.block(element.summary),
        "when": element.when,
        "starting_text": prose.block(_fill_bold(sp.text, sp.parameters)),
        "parameters": [
            {
                "name": name,
                "label": p.label,
                "value": format_value(p.value) + (f" {p.unit}" if p.unit else ""),
                "range": _range(p)
                + (
                    f" {p.unit}"
                    if p.unit and (p.minimum is not None or p.maximum is not None)
                    else ""
                ),
                "evidence": _evidence(p.evidence),
                "sources": _sources(p.sources),
                "note": prose.block(p.note) if p.note else None,
            }
            for name, p in sp.parameters.items()
        ],
        "item_groups": [
            {
                "kind": kind,
                "has_gate": any(i.gate for i in items),
                "items": [
                    {
                        "id": i.id,
                        "text": prose.inline(_fill_bold(i.text, sp.parameters, i.parameters)),
                        "gate": i.gate or "",
                        "when": i.when,
                        "note": prose.inline(i.note) if i.note else None,
                        "evidence": _evidence(i.evidence),
                        "sources": _sources(i.sources),
                    }
                    for i in items
                ],
            }
            for kind, items in items_by_kind.items()
        ],
        "tables": [
            {
                "id": t.id,
                "title": t.title,
                "evidence": _evidence(t.evidence),
                "columns": list(t.columns),
                "rows": [[prose.inline(c) for c in row] for row in t.rows],
                "notes": [prose.inline(n) for n in t.notes],
                "note": prose.inline(t.note) if t.note else None,
                "when": t.when,
                "sources": _sources(t.sources),
            }
            for t in sp.tables
        ],
        "triggers": [
            {"id": t.id, "text": prose.inline(t.text)} for t in element.tailoring_triggers
        ],
        "rationale": prose.block(_fill_bold(element.rationale, sp.parameters)),
        "notes": [prose.block(n) for n in element.notes],
        "sources": [
            {
                "id": s,
                "anchor": source_anchor(s),
                "citation": prose.inline(sources[s].citation) if s in sources else "",
                "needs_verification": s in sources and sources[s].evidence is NEEDS,
            }
            for s in element.sources
        ],
        "usage": usage,
        "tags": element_tags(element),
    }


def element_tags(element: Element) -> list[str]:
    tags = [f"Component: {element.component}"]
    gates = sorted({i.gate for i in element.starting_point.items if i.gate})
    tags += [f"Gate: {g}" for g in gates]
    sp = element.starting_point
    statuses = [element.evidence, *(i.evidence for i in sp.items)]
    statuses += [p.evidence for p in sp.parameters.values()]
    if NEEDS in statuses:
        tags.append("Evidence: needs verification")
    return tags


def framework_overview(fw: LoadedFramework, prose: Prose) -> dict[str, Any]:
    elements = [le.element for le in fw.elements.values()]
    sections: dict[str, list[Element]] = {}
    for el in elements:
        for number in el.m11_sections:
            sections.setdefault(number, []).append(el)

    def key(number: str) -> list[int]:
        return [int(p) if p.isdigit() else 0 for p in number.split(".")]

    return {
        **framework_info(fw),
        "summary": prose.block(fw.framework.summary),
        "elements": [
            {
                "id": el.id,
                "title": el.title,
                "component": el.component,
                "m11_sections": ", ".join(el.m11_sections),
                "evidence": _evidence(el.evidence),
            }
            for el in elements
        ],
        "by_section": [
            {
                "number": n,
                "anchor": m11_anchor(n),
                "elements": [{"id": e.id, "title": e.title} for e in sections[n]],
            }
            for n in sorted(sections, key=key)
        ],
    }


def sources_view(fw: LoadedFramework, prose: Prose) -> dict[str, Any]:
    return {
        **framework_info(fw),
        "sources": [
            {
                "id": s.id,
                "anchor": source_anchor(s.id),
                "citation": prose.block(s.citation),
                "url": _web_url(s.url),
                "needs_verification": s.evidence is NEEDS,
            }
            for s in fw.framework.sources
        ],
    }


def cmc_matrix_view(fw: Any, prose: Prose) -> dict[str, Any]:
    """The attribute × stage-gate matrix of a CMC framework (`CmcFramework`)."""
    gates = [
        {
            "id": g.id,
            "title": g.title,
            "description": prose.block(g.description),
            "needs_verification": g.evidence is NEEDS,
        }
        for g in fw.gates
    ]
    attributes = []
    for a in fw.attributes:
        cells = []
        notes = []
        for g in fw.gates:
            e = a.expectations[g.id]
            cells.append(
                {
                    "limit": e.criterion == "limit-required",
                    "min_lots": e.min_lots_for_limit,
                    "method_status": e.method_status,
                }
            )
            if e.note:
                notes.append({"gate": g.title, "text": prose.inline(e.note)})
        kind = a.result_type
        if a.direction not in (a.result_type, "qualitative"):
            kind = f"{a.result_type}, {a.direction}"
        attributes.append(
            {
                "id": a.id,
                "title": a.title,
                "category": a.category,
                "safety_critical": a.safety_critical,
                "kind": kind,
                "needs_verification": a.evidence is NEEDS,
                "cells": cells,
                "rationale": prose.block(a.rationale),
                "typical_methods": [prose.inline(m) for m in a.typical_methods],
                "example_criteria": [prose.inline(c) for c in a.example_criteria],
                "notes": notes,
                "sources": _sources(a.sources),
            }
        )
    return {
        "id": fw.id,
        "title": fw.title,
        "version": fw.version,
        "summary": prose.block(fw.summary),
        "gates": gates,
        "method_statuses": [
            {"id": m.id, "title": m.title, "text": prose.inline(m.text)} for m in fw.method_statuses
        ],
        "attributes": attributes,
        "sources": [
            {
                "id": s.id,
                "anchor": source_anchor(s.id),
                "citation": prose.block(s.citation),
                "url": _web_url(s.url),
                "needs_verification": s.evidence is NEEDS,
            }
            for s in fw.sources
        ],
    }


# --------------------------------------------------------------------------- products


def register_view(
    register: list[TailoringEntry], prose: Prose, element_link: str | None
) -> list[dict[str, Any]]:
    """The tailoring register: one entry per departure. `element_link` is a path prefix to
    the framework's element pages (None when the framework is not published)."""
    return [
        {
            "number": n,
            "anchor": f"departure-{n}",
            "element_title": t.element_title,
            "element_page": f"{element_link}{t.element_id}.md" if element_link else None,
            "subject": prose.inline(t.subject),
            "starting_point": prose.inline(t.starting_point),
            "change": f"{_short(t.starting_point)} → {_short(t.product_value)}",
            "product_value": prose.inline(t.product_value),
            "justification": prose.block(t.justification),
            "trigger": prose.inline(t.trigger_text) if t.trigger_text else None,
        }
        for n, t in enumerate(register, start=1)
    ]
