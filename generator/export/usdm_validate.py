"""Checks on the USDM document: the vendored v4.0.0 JSON Schema, and the rules it cannot say.

- PU001 the document does not validate against schemas/usdm/usdm-4.0.0.schema.json
- PU002 two objects share an id
- PU003 a reference (`...Id`, `...Ids`) names no object in the document
- PU004 a reference names an object of the wrong class (a `scopeId` that is not an Organization)
- PU005 a narrative or criterion text is not well-formed XHTML
- PU006 (warning) an M11 anchor in the Markdown did not become a heading: no USDM section

Each problem points at the product (or framework) value the faulty USDM object was built from,
found through the export's `sources` (USDM object id -> location): the object itself, or the
nearest enclosing object that has a source.

`usdm_notes` reports, as warnings and notes located at the product field, where the product
says more than the USDM document can hold.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from generator.export.usdm import UsdmExport, parse_age_range
from generator.export.usdm_narrative import ANCHOR, XHTML_NS
from generator.export.usdm_terms import usdm_schema
from generator.problems import Location, Problem, Severity
from generator.resolve import ResolvedProtocol

Path = tuple[str | int, ...]

TARGETS: dict[str, frozenset[str]] = {
    "scopeId": frozenset({"Organization"}),
    "organizationIds": frozenset({"Organization"}),
    "criterionItemId": frozenset({"EligibilityCriterionItem"}),
    "criterionIds": frozenset({"EligibilityCriterion"}),
    "contentItemId": frozenset({"NarrativeContentItem"}),
    "armId": frozenset({"StudyArm"}),
    "epochId": frozenset({"StudyEpoch"}),
    "elementIds": frozenset({"StudyElement"}),
    "studyInterventionIds": frozenset({"StudyIntervention"}),
    "interventionIds": frozenset({"StudyIntervention"}),
    "analysisPopulationId": frozenset({"AnalysisPopulation"}),
    "variableOfInterestId": frozenset({"Endpoint"}),
    "documentVersionIds": frozenset({"StudyDefinitionDocumentVersion"}),
    "administrableProductId": frozenset({"AdministrableProduct"}),
    "subsetOfIds": frozenset({"StudyDesignPopulation", "StudyCohort", "AnalysisPopulation"}),
    "populationIds": frozenset({"StudyDesignPopulation", "StudyCohort"}),
}
"""What each reference attribute may point at. `previousId`, `nextId` and `childIds` point at
an object of the referring object's own class."""
SAME_CLASS = frozenset({"previousId", "nextId", "childIds"})
XHTML_TEXT = frozenset({"NarrativeContentItem", "EligibilityCriterionItem"})
_MD_ANCHOR = re.compile(r"\{#(m11-\d+(?:-\d+)*)\}\s*$")


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    # The vendored schema is checked against the metaschema by tests/export/test_usdm_vendor.py,
    # not on every build: that check walked the whole metaschema and cost ~1 s a build.
    schema = usdm_schema()
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def validate_usdm(
    export: UsdmExport, *, fallback: Location, markdown: str | None = None
) -> list[Problem]:
    """Every PU001-PU006 problem of `export`, located at its source."""
    data = export.data
    locate = _Locator(data, export.sources, fallback)
    problems: list[Problem] = []
    for error in sorted(
        _validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
    ):
        deepest = _deepest(error)
        path = tuple(deepest.absolute_path)
        problems.append(
            Problem(
                "PU001",
                f"USDM {_pointer(path)}: {_short(deepest.message)}",
                locate(path),
                "the USDM v4.0.0 schema (schemas/usdm/usdm-4.0.0.schema.json) rejects this "
                "value; correct the product value at this location",
            )
        )
    objects = list(_objects(data))
    by_id: dict[str, str] = {}
    for path, obj in objects:
        oid = obj["id"]
        if oid in by_id:
            problems.append(
                Problem(
                    "PU002",
                    f"USDM id '{oid}' is used by more than one object ({_pointer(path)})",
                    locate(path),
                    "ids in a USDM document must be unique; rename one of the keys that "
                    "produce it (objective, criterion or dose-level ids)",
                )
            )
        by_id.setdefault(oid, obj.get("instanceType", ""))
    for path, obj in objects:
        cls = str(obj.get("instanceType", ""))
        for key, value in obj.items():
            if key == "id" or not (key.endswith("Id") or key.endswith("Ids")):
                continue
            targets = value if isinstance(value, list) else [value]
            allowed = frozenset({cls}) if key in SAME_CLASS else TARGETS.get(key)
            for target in targets:
                if target is None:
                    continue
                found = by_id.get(target) if isinstance(target, str) else None
                if found is None:
                    problems.append(
                        Problem(
                            "PU003",
                            f"USDM {cls} '{obj['id']}' {key} names '{target}', which is not in "
                            "the document",
                            locate(path),
                            "a reference must name the id of an object in the same document",
                        )
                    )
                elif allowed is not None and found not in allowed:
                    problems.append(
                        Problem(
                            "PU004",
                            f"USDM {cls} '{obj['id']}' {key} names a {found} ('{target}'); "
                            f"expected {' or '.join(sorted(allowed))}",
                            locate(path),
                            "the reference points at the wrong kind of object",
                        )
                    )
        if cls in XHTML_TEXT and isinstance(obj.get("text"), str):
            reason = xhtml_problem(obj["text"])
            if reason:
                problems.append(
                    Problem(
                        "PU005",
                        f"USDM {cls} '{obj['id']}' text is not well-formed XHTML: {reason}",
                        locate(path),
                        "USDM narrative and criterion text is XHTML; check the text for "
                        "characters XML does not allow",
                    )
                )
    if markdown is not None:
        problems += _lost_headings(markdown, export, fallback)
    return problems


def xhtml_problem(text: str) -> str | None:
    """Why `text` is not an XHTML fragment `<div xmlns=...>` (None when it is)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return str(exc)
    if root.tag != f"{{{XHTML_NS}}}div":
        return f"the root element is <{root.tag}>, not an XHTML <div>"
    return None


def usdm_notes(resolved: ResolvedProtocol) -> list[Problem]:
    """Where the product says more than the USDM document holds (located at the field)."""
    doc = resolved.product_document
    od = resolved.product.overall_design
    notes = []
    if od.number_of_arms != 1:
        notes.append(
            Problem(
                "PU007",
                f"the USDM export models a single-arm dose escalation, but number_of_arms is "
                f"{od.number_of_arms}",
                doc.location(("overall_design", "number_of_arms")),
                "protocol.usdm.json has one arm; describe further arms in the protocol text",
                Severity.WARNING,
            )
        )
    low, _ = parse_age_range(od.age_range)
    if low is None:
        notes.append(
            Problem(
                "PU008",
                f"age range '{od.age_range}' has no form the USDM export can read; "
                "protocol.usdm.json keeps it as text only",
                doc.location(("overall_design", "age_range")),
                "write it as '18 years and older' or '18 to 75 years'",
                Severity.INFO,
            )
        )
    return notes


# --------------------------------------------------------------------------- helpers


class _Locator:
    """USDM path -> location of the nearest enclosing object that has a source."""

    def __init__(self, data: Any, sources: dict[str, Location], fallback: Location) -> None:
        self.data = data
        self.sources = sources
        self.fallback = fallback

    def __call__(self, path: Path) -> Location:
        node = self.data
        best = self.fallback
        chain = [node]
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
            chain.append(node)
        for node in chain:
            if isinstance(node, dict) and node.get("id") in self.sources:
                best = self.sources[node["id"]]
        return best


def _objects(node: Any, path: Path = ()) -> Iterator[tuple[Path, dict[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("id"), str) and "instanceType" in node:
            yield path, node
        for key, value in node.items():
            yield from _objects(value, (*path, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _objects(value, (*path, n))


def _deepest(error: ValidationError) -> ValidationError:
    """For `anyOf` failures, the most telling branch error: one not about a class's
    `instanceType` constant (that only says the other branch did not apply), deepest first."""
    if not error.context:
        return error
    candidates = [_deepest(sub) for sub in error.context]
    return max(candidates, key=lambda e: (e.validator != "const", len(e.absolute_path)))


def _pointer(path: Path) -> str:
    return "/" + "/".join(str(p) for p in path)


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _lost_headings(markdown: str, export: UsdmExport, fallback: Location) -> list[Problem]:
    found = {s.anchor for s in export.sections}
    problems = []
    in_fence = False
    for lineno, line in enumerate(markdown.splitlines(), start=1):
        if line.startswith("```"):
            in_fence = not in_fence
        m = _MD_ANCHOR.search(line) if not in_fence and line.startswith("#") else None
        if m and ANCHOR.match(m.group(1)) and m.group(1) not in found:
            problems.append(
                Problem(
                    "PU006",
                    f"'{line.strip()}' (protocol.md line {lineno}) is not a heading in the "
                    "rendered document, so it has no USDM section",
                    fallback,
                    "a Markdown heading needs a blank line before it (Word loses it too); "
                    "end the template block just above it with an empty line",
                    Severity.WARNING,
                )
            )
    return problems


def check_usdm(
    resolved: ResolvedProtocol, markdown: str, printed: dict[str, str] | None = None
) -> tuple[bytes, list[Problem]]:
    """Build protocol.usdm.json for a rendered protocol and check it: (bytes, problems).
    `markdown` is the clean draft, `printed` the criteria as it prints them."""
    from generator.export.usdm import export_usdm

    export = export_usdm(resolved, markdown, printed)
    fallback = Location(resolved.product_document.display)
    problems = validate_usdm(export, fallback=fallback, markdown=markdown)
    return export.text, problems + usdm_notes(resolved)
