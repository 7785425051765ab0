"""The digital protocol: a CDISC USDM v4.0.0 document built from the resolved product.

    export = export_usdm(resolved, protocol_markdown)   # runs pandoc for the narrative
    export.data      # the USDM document (dict), `Wrapper` at the top
    export.text      # its JSON bytes, byte-identical for the same inputs
    export.sources   # USDM object id -> where in the product (or framework) it came from

`build_usdm` is the pure part: resolved product + the protocol's narrative sections (already
XHTML) + the criteria's XHTML -> dict. Every value comes from the resolved model or the rendered
draft; codes and the design's epochs come from `templates/usdm/study-design.yaml`, labels and
prose never from this module. The README ("Digital protocol") has the mapping table.

Ids are stable: `ClassName_key` where the product has a key (objective, criterion and dose-level
ids, M11 anchors), otherwise `ClassName_n` in a fixed build order. Nothing depends on the clock.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from generator import __version__, textfill
from generator.export.usdm_narrative import (
    NarrativeSection,
    markdown_fragments,
    narrative_sections,
)
from generator.export.usdm_terms import Terminology, terminology
from generator.models.product import ItemOverride, Objective
from generator.problems import Location
from generator.resolve import ResolvedItem, ResolvedProtocol, product_facts

USDM_VERSION = "4.0.0"
SYSTEM_NAME = "protocmc"
FILE_NAME = "protocol.usdm.json"
CRITERION_KINDS = ("inclusion", "exclusion")
GATES: tuple[str, ...] = tuple(
    g for g in get_args(ItemOverride.model_fields["gate"].annotation) if isinstance(g, str)
)
"""Eligibility gates in protocol order (screening, apheresis, lymphodepletion, infusion)."""

_AGE = (
    (re.compile(r"^(\d+(?:\.\d+)?) years? (?:and|or) (?:older|over|above)$", re.I), False),
    (re.compile(r"^(?:≥|>=|at least)\s*(\d+(?:\.\d+)?) years?(?: of age)?$", re.I), False),
    (re.compile(r"^(\d+(?:\.\d+)?)\s*(?:to|-|–)\s*(\d+(?:\.\d+)?) years?$", re.I), True),
)
JSON = dict[str, Any]


@dataclass
class UsdmExport:
    data: JSON
    sources: dict[str, Location] = field(default_factory=dict)
    sections: list[NarrativeSection] = field(default_factory=list)

    @property
    def text(self) -> bytes:
        return usdm_bytes(self.data)


def usdm_bytes(data: JSON) -> bytes:
    """The file's bytes: UTF-8 JSON, two-space indent, keys in model order, final newline."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def criterion_items(resolved: ResolvedProtocol) -> list[ResolvedItem]:
    """Every inclusion and exclusion criterion, all gates, in protocol order: inclusion
    before exclusion, then by gate, then as resolved (criteria with no gate last)."""
    order = {g: n for n, g in enumerate(GATES)}
    found = [
        (CRITERION_KINDS.index(i.kind), order.get(i.gate or "", len(order)), n, i)
        for element in resolved.elements.values()
        for n, i in enumerate(element.items)
        if i.kind in CRITERION_KINDS
    ]
    return [i for *_, i in sorted(found, key=lambda t: t[:3])]


_NUMBERED = re.compile(r"^\s*\d+\.\s+(?P<rest>.*)$")
_CITATION_NUMBERS = re.compile(r"\s*\\\[\d[\d,–\- ]*\\\]")


def printed_criteria(marked_markdown: str) -> dict[str, str]:
    """Each criterion's text as the draft prints it (abbreviations defined, numbers for ids),
    found through the review mark that names its id; citation numbers left out."""
    from generator.protocol_passes import REVIEW_RE

    out: dict[str, str] = {}
    for line in marked_markdown.splitlines():
        m = _NUMBERED.match(line)
        if m is None:
            continue
        marks = list(REVIEW_RE.finditer(m.group("rest")))
        if not marks:
            continue
        first = marks[0].group(0).strip()[1:].split(";", 1)[0].split("]", 1)[0].strip()
        text = REVIEW_RE.sub("", m.group("rest"))
        out.setdefault(first, _CITATION_NUMBERS.sub("", text).strip())
    return out


def export_usdm(
    resolved: ResolvedProtocol, markdown: str, printed: dict[str, str] | None = None
) -> UsdmExport:
    """Build the USDM document for a rendered protocol (two pandoc runs for the XHTML, at
    the same time: each is a process start and a wait, a quarter second on a cold build).

    `markdown` is the clean draft; `printed` maps criterion ids to the text the draft prints
    (`printed_criteria`), so USDM carries what the protocol says; without it, the resolved
    item text."""
    from concurrent.futures import ThreadPoolExecutor

    from generator.render import md_escape

    criteria = criterion_items(resolved)
    texts = [(printed or {}).get(i.id) or md_escape(i.text) for i in criteria]
    with ThreadPoolExecutor(max_workers=1) as pool:
        fragments = pool.submit(markdown_fragments, texts)
        sections = narrative_sections(markdown)
        xhtml = fragments.result()
    return build_usdm(resolved, sections, dict(zip((i.id for i in criteria), xhtml, strict=True)))


# --------------------------------------------------------------------------- builder


class _Ids:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.used: set[str] = set()

    def new(self, cls: str, key: str | None = None) -> str:
        if key is None:
            self.counts[cls] += 1
            candidate = f"{cls}_{self.counts[cls]}"
        else:
            candidate = f"{cls}_{re.sub(r'[^A-Za-z0-9_.-]+', '-', key)}"
        unique, n = candidate, 1
        while unique in self.used:
            n += 1
            unique = f"{candidate}_{n}"
        self.used.add(unique)
        return unique


class _Builder:
    def __init__(self, resolved: ResolvedProtocol, terms: Terminology) -> None:
        self.resolved = resolved
        self.product = resolved.product
        self.terms = terms
        self.design = terms.design
        self.doc = resolved.product_document
        self.ids = _Ids()
        self.sources: dict[str, Location] = {}

    # ---- small objects

    def at(self, obj: JSON, where: Location | tuple[str | int, ...] | None) -> JSON:
        """Remember where `obj` came from (a product path or a location)."""
        if isinstance(where, tuple):
            where = self.doc.location(where)
        if where is not None:
            self.sources[obj["id"]] = where
        return obj

    def code(self, code: str) -> JSON:
        term = self.terms.term(code)
        return {
            "id": self.ids.new("Code"),
            "code": term.code,
            "codeSystem": term.system,
            "codeSystemVersion": term.version,
            "decode": term.decode,
            "instanceType": "Code",
        }

    def alias(self, code: str) -> JSON:
        return {
            "id": self.ids.new("AliasCode"),
            "standardCode": self.code(code),
            "instanceType": "AliasCode",
        }

    def ucum(self, unit: str, decode: str) -> JSON:
        system, version = self.design.ucum
        return {
            "id": self.ids.new("AliasCode"),
            "standardCode": {
                "id": self.ids.new("Code"),
                "code": unit,
                "codeSystem": system,
                "codeSystemVersion": version,
                "decode": decode,
                "instanceType": "Code",
            },
            "instanceType": "AliasCode",
        }

    def quantity(self, value: float, unit: JSON | None) -> JSON:
        q: JSON = {"id": self.ids.new("Quantity"), "value": value}
        if unit is not None:
            q["unit"] = unit
        q["instanceType"] = "Quantity"
        return q

    def range(self, low: float, high: float, unit: str | None = None) -> JSON:
        return {
            "id": self.ids.new("Range"),
            "minValue": self.quantity(low, self.alias(unit) if unit else None),
            "maxValue": self.quantity(high, self.alias(unit) if unit else None),
            "isApproximate": False,
            "instanceType": "Range",
        }

    def extension(self, name: str, **value: Any) -> JSON:
        ext: JSON = {"id": self.ids.new("ExtensionAttribute"), "url": self.url(name)}
        ext.update(value)
        ext["instanceType"] = "ExtensionAttribute"
        return ext

    def url(self, name: str) -> str:
        return f"{self.design.extension_url}:{name}"

    # ---- the document

    def build(self, sections: Sequence[NarrativeSection], criteria_xhtml: dict[str, str]) -> JSON:
        tp = self.product.title_page
        sponsor = self.sponsor()
        organisations = [sponsor]
        identifiers = [
            self.at(
                {
                    "id": self.ids.new("StudyIdentifier", "sponsor"),
                    "text": tp.sponsor_protocol_id,
                    "scopeId": sponsor["id"],
                    "instanceType": "StudyIdentifier",
                },
                ("title_page", "sponsor_protocol_id"),
            )
        ]
        for n, ident in enumerate(tp.identifiers):
            scope = self.design.identifier_scopes[ident.type]
            org = next((o for o in organisations if o["name"] == scope.name), None)
            if org is None:
                org = self.organisation(scope.name, scope.label, scope.type, None)
                organisations.append(org)
            identifiers.append(
                self.at(
                    {
                        "id": self.ids.new("StudyIdentifier"),
                        "text": ident.value,
                        "scopeId": org["id"],
                        "instanceType": "StudyIdentifier",
                    },
                    ("title_page", "identifiers", n),
                )
            )
        registries = sorted(organisations[1:], key=lambda o: str(o["name"]))
        interventions, products = self.interventions(sponsor["id"])
        criteria, criterion_items = self.criteria(criteria_xhtml)
        contents, items = self.narrative(sections)
        document_version = self.document_version(contents)
        by_anchor = {s.anchor: s for s in sections}
        design = self.study_design(interventions, criteria, by_anchor)
        version: JSON = {
            "id": self.ids.new("StudyVersion"),
            "extensionAttributes": self.version_extensions(),
            "versionIdentifier": tp.version,
            "rationale": self.section_text(by_anchor, self.design.rationale_sections.study_version),
            "documentVersionIds": [document_version["id"]],
            "studyIdentifiers": identifiers,
            "studyDesigns": [design],
            "titles": self.titles(),
            "eligibilityCriterionItems": criterion_items,
            "narrativeContentItems": items,
            "abbreviations": self.abbreviations(by_anchor),
            "roles": [self.sponsor_role(sponsor["id"])],
            "organizations": [sponsor, *registries],
            "studyInterventions": interventions,
            "administrableProducts": products,
            "instanceType": "StudyVersion",
        }
        self.at(version, ("title_page", "version"))
        protocol_document = self.document(document_version)
        amendments = self.amendments(protocol_document["id"])
        if amendments:
            version["amendments"] = amendments
        study = {
            "id": str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"{self.url('study')}:{tp.sponsor_protocol_id}")
            ),
            "name": tp.sponsor_protocol_id,
            "label": tp.acronym or tp.short_title or tp.sponsor_protocol_id,
            "versions": [version],
            "documentedBy": [protocol_document],
            "instanceType": "Study",
        }
        self.at(study, ("title_page", "sponsor_protocol_id"))
        return {
            "study": study,
            "usdmVersion": USDM_VERSION,
            "systemName": SYSTEM_NAME,
            "systemVersion": __version__,
        }

    # ---- organisations, titles, roles

    def organisation(self, name: str, label: str, type_code: str, address: str | None) -> JSON:
        org: JSON = {
            "id": self.ids.new("Organization", name),
            "name": name,
            "label": label,
            "type": self.code(type_code),
            "identifierScheme": self.design.organisation_scheme,
            "identifier": name,
        }
        if address is not None:
            org["legalAddress"] = {
                "id": self.ids.new("Address"),
                "text": address,
                "instanceType": "Address",
            }
        org["instanceType"] = "Organization"
        return org

    def sponsor(self) -> JSON:
        tp = self.product.title_page
        org = self.organisation(
            tp.sponsor_name,
            tp.sponsor_name,
            self.design.sponsor_organisation_type,
            tp.sponsor_address,
        )
        return self.at(org, ("title_page", "sponsor_name"))

    def sponsor_role(self, sponsor_id: str) -> JSON:
        return self.at(
            {
                "id": self.ids.new("StudyRole", "sponsor"),
                "name": "sponsor",
                "code": self.code(self.design.sponsor_role),
                "organizationIds": [sponsor_id],
                "instanceType": "StudyRole",
            },
            ("title_page", "sponsor_name"),
        )

    def titles(self) -> list[JSON]:
        tp = self.product.title_page
        values = {"full_title": tp.full_title, "short_title": tp.short_title, "acronym": tp.acronym}
        out = []
        for field_name, code in self.design.titles.items():
            text = values.get(field_name)
            if text:
                out.append(
                    self.at(
                        {
                            "id": self.ids.new("StudyTitle", field_name),
                            "text": " ".join(text.split()),
                            "type": self.code(code),
                            "instanceType": "StudyTitle",
                        },
                        ("title_page", field_name),
                    )
                )
        return out

    # ---- interventions

    def interventions(self, sponsor_id: str) -> tuple[list[JSON], list[JSON]]:
        p = self.product.product
        cell = self.design.cell_product
        dose = self.product.dose_escalation
        product_id = self.ids.new("AdministrableProduct", "investigational")
        administrations = []
        for n, level in enumerate(dose.dose_levels):
            admin: JSON = {
                "id": self.ids.new("Administration", level.id),
                "name": level.id,
                "label": f"{level.label} {p.dose_unit}" if level.label else level.id,
            }
            if level.id == dose.starting_level:
                admin["extensionAttributes"] = [
                    self.extension("starting-dose-level", valueBoolean=True)
                ]
            admin.update(
                {
                    "duration": self.duration(self.product.overall_design.intervention_duration),
                    "dose": self.quantity(
                        level.dose, self.ucum(_cell_unit(p.dose_unit), p.dose_unit)
                    ),
                    "frequency": self.alias(cell.frequency),
                    "administrableProductId": product_id,
                    "instanceType": "Administration",
                }
            )
            administrations.append(self.at(admin, ("dose_escalation", "dose_levels", n, "dose")))
        investigational = self.at(
            {
                "id": self.ids.new("StudyIntervention", "investigational"),
                "name": p.name,
                "label": p.name,
                "description": " ".join(p.description.split()),
                "role": self.code(cell.role),
                "type": self.code(cell.type[p.modality]),
                "administrations": administrations,
                "instanceType": "StudyIntervention",
            },
            ("product", "name"),
        )
        administrable = self.at(
            {
                "id": product_id,
                "name": p.name,
                "label": p.name,
                "description": " ".join(p.description.split()),
                "administrableDoseForm": self.alias(cell.dose_form),
                "productDesignation": self.code(cell.designation),
                "identifiers": [
                    {
                        "id": self.ids.new("AdministrableProductIdentifier"),
                        "text": p.name,
                        "scopeId": sponsor_id,
                        "instanceType": "AdministrableProductIdentifier",
                    }
                ],
                "instanceType": "AdministrableProduct",
            },
            ("product", "name"),
        )
        out = [investigational]
        for agent in self.design.background_interventions:
            element = self.resolved.elements[agent.element]
            dose_param = element.parameters[agent.dose_parameter]
            days = element.parameters[agent.days_parameter]
            duration = {
                "id": self.ids.new("Duration"),
                "quantity": self.quantity(
                    _number(days.value), self.alias(self.design.duration_unit)
                ),
                "durationWillVary": False,
                "instanceType": "Duration",
            }
            admin = self.at(
                {
                    "id": self.ids.new("Administration", agent.name),
                    "name": agent.name,
                    "duration": duration,
                    "dose": self.quantity(
                        _number(dose_param.value),
                        self.ucum(agent.ucum, dose_param.unit or agent.ucum),
                    ),
                    "frequency": self.alias(agent.frequency),
                    "instanceType": "Administration",
                },
                dose_param.provenance.location,
            )
            out.append(
                self.at(
                    {
                        "id": self.ids.new("StudyIntervention", agent.name),
                        "name": agent.name,
                        "label": agent.name,
                        "role": self.code(agent.role),
                        "type": self.code(agent.type),
                        "administrations": [admin],
                        "instanceType": "StudyIntervention",
                    },
                    dose_param.provenance.location,
                )
            )
        return out, [administrable]

    def duration(self, text: str) -> JSON:
        return {
            "id": self.ids.new("Duration"),
            "text": " ".join(text.split()),
            "durationWillVary": False,
            "instanceType": "Duration",
        }

    # ---- eligibility

    def criteria(self, xhtml: dict[str, str]) -> tuple[list[JSON], list[JSON]]:
        criteria: list[JSON] = []
        items: list[JSON] = []
        previous: dict[str, JSON] = {}
        for item in criterion_items(self.resolved):
            assert item.kind is not None
            where = self.item_location(item)
            entry = self.at(
                {
                    "id": self.ids.new("EligibilityCriterionItem", item.id),
                    "name": item.id,
                    "text": xhtml[item.id],
                    "instanceType": "EligibilityCriterionItem",
                },
                where,
            )
            criterion: JSON = {
                "id": self.ids.new("EligibilityCriterion", item.id),
                "extensionAttributes": (
                    [self.extension("criterion-gate", valueString=item.gate)] if item.gate else []
                ),
                "name": item.id,
                "label": item.id,
                "category": self.code(self.design.criterion_category[item.kind]),
                "identifier": item.id,
                "criterionItemId": entry["id"],
                "previousId": None,
                "nextId": None,
                "instanceType": "EligibilityCriterion",
            }
            before = previous.get(item.kind)
            if before is not None:
                before["nextId"] = criterion["id"]
                criterion["previousId"] = before["id"]
            previous[item.kind] = criterion
            criteria.append(self.at(criterion, where))
            items.append(entry)
        return criteria, items

    def item_location(self, item: ResolvedItem) -> Location | None:
        """A framework item's own lines in its element file (provenance names only the file)."""
        if item.provenance.origin == "framework":
            for loaded in self.resolved.loaded_framework.elements.values():
                ids = [i.id for i in loaded.element.starting_point.items]
                if item.id in ids and loaded.document.display == (
                    item.provenance.location.file if item.provenance.location else None
                ):
                    return loaded.document.location(
                        ("starting_point", "items", ids.index(item.id), "text")
                    )
        return item.provenance.location

    # ---- study design

    def study_design(
        self,
        interventions: list[JSON],
        criteria: list[JSON],
        by_anchor: dict[str | None, NarrativeSection],
    ) -> JSON:
        tp = self.product.title_page
        od = self.product.overall_design
        design_id = self.ids.new("InterventionalStudyDesign")
        characteristics = [self.code(self.design.characteristics[od.site_distribution])]
        if od.adaptive_design:
            characteristics.append(self.code(self.design.characteristics["adaptive_design"]))
        if od.stratification:
            characteristics.append(self.code(self.design.characteristics["stratification"]))
        population = self.population([c["id"] for c in criteria])
        arm, epochs, elements, cells = self.arms_and_epochs(interventions)
        objectives, estimands, analysis_populations = self.objectives(
            population["id"], interventions[0]["id"]
        )
        design = {
            "id": design_id,
            "name": tp.sponsor_protocol_id,
            "label": tp.short_title or tp.sponsor_protocol_id,
            "studyType": self.code(self.design.study_type),
            "studyPhase": self.at(self.alias(self.design.phase[tp.phase]), ("title_page", "phase")),
            "characteristics": characteristics,
            "arms": [arm],
            "studyCells": cells,
            "rationale": self.section_text(by_anchor, self.design.rationale_sections.study_design),
            "epochs": epochs,
            "elements": elements,
            "estimands": estimands,
            "studyInterventionIds": [i["id"] for i in interventions],
            "objectives": objectives,
            "population": population,
            "eligibilityCriteria": criteria,
            "analysisPopulations": analysis_populations,
            "model": self.at(
                self.code(self.design.intervention_model[od.intervention_model]),
                ("overall_design", "intervention_model"),
            ),
            "blindingSchema": self.at(
                self.alias(self.design.blinding[od.blind_schema]),
                ("overall_design", "blind_schema"),
            ),
            "instanceType": "InterventionalStudyDesign",
        }
        return self.at(design, ("overall_design",))

    def population(self, criterion_ids: list[str]) -> JSON:
        od = self.product.overall_design
        pop: JSON = {
            "id": self.ids.new("StudyDesignPopulation"),
            "extensionAttributes": [
                self.at(
                    self.extension("population-age", valueString=od.age_range),
                    ("overall_design", "age_range"),
                )
            ],
            "name": self.product.indication.short_name,
            "label": self.product.indication.disease,
            "description": " ".join(self.product.indication.population.split()),
            "includesHealthySubjects": od.population_type == "Healthy participants",
            "plannedEnrollmentNumber": self.at(
                self.range(od.target_participants, od.maximum_participants),
                ("overall_design", "target_participants"),
            ),
            "plannedSex": [
                self.at(
                    self.code(self.design.planned_sex[od.planned_sex]),
                    ("overall_design", "planned_sex"),
                )
            ],
            "criterionIds": criterion_ids,
        }
        low, high = parse_age_range(od.age_range)
        if low is not None and high is not None:
            pop["plannedAge"] = self.at(
                self.range(low, high, self.design.age_unit), ("overall_design", "age_range")
            )
        elif low is not None:
            # USDM's Range needs both ends; an open-ended age range keeps its minimum here.
            pop["extensionAttributes"].append(
                self.extension(
                    "planned-minimum-age",
                    valueQuantity=self.quantity(low, self.alias(self.design.age_unit)),
                )
            )
        pop["instanceType"] = "StudyDesignPopulation"
        return self.at(pop, ("indication", "population"))

    def arms_and_epochs(
        self, interventions: list[JSON]
    ) -> tuple[JSON, list[JSON], list[JSON], list[JSON]]:
        p = self.product.product
        arm = self.at(
            {
                "id": self.ids.new("StudyArm"),
                "name": p.name,
                "label": p.name,
                "type": self.code(self.design.arm_type),
                "dataOriginDescription": self.design.arm_data_origin_description,
                "dataOriginType": self.code(self.design.arm_data_origin),
                "instanceType": "StudyArm",
            },
            ("overall_design", "number_of_arms"),
        )
        by_name = {i["name"]: i["id"] for i in interventions}
        by_name["cell_product"] = interventions[0]["id"]
        facts = product_facts(self.product)
        values = {
            f"{eid.replace('-', '_')}.{name}": param.value
            for eid, element in self.resolved.elements.items()
            for name, param in element.parameters.items()
        }
        from generator.resolve import format_value

        epochs: list[JSON] = []
        elements: list[JSON] = []
        cells: list[JSON] = []
        for spec in self.design.epochs:
            if spec.when and not textfill.evaluate(spec.when, facts):
                continue
            epoch: JSON = {
                "id": self.ids.new("StudyEpoch", spec.key),
                "name": spec.key,
                "label": spec.name,
                "type": self.code(spec.type),
                "previousId": epochs[-1]["id"] if epochs else None,
                "nextId": None,
                "instanceType": "StudyEpoch",
            }
            if epochs:
                epochs[-1]["nextId"] = epoch["id"]
            element = {
                "id": self.ids.new("StudyElement", spec.key),
                "name": spec.key,
                "label": spec.name,
                "description": textfill.fill(spec.element, values, format_value),
                "studyInterventionIds": [by_name[n] for n in spec.interventions],
                "instanceType": "StudyElement",
            }
            cells.append(
                {
                    "id": self.ids.new("StudyCell", spec.key),
                    "armId": arm["id"],
                    "epochId": epoch["id"],
                    "elementIds": [element["id"]],
                    "instanceType": "StudyCell",
                }
            )
            epochs.append(epoch)
            elements.append(element)
        return arm, epochs, elements, cells

    def objectives(
        self, population_id: str, intervention_id: str
    ) -> tuple[list[JSON], list[JSON], list[JSON]]:
        objectives: list[JSON] = []
        estimands: list[JSON] = []
        populations: dict[str, JSON] = {}
        for n, o in enumerate(self.product.objectives):
            endpoint = self.at(
                {
                    "id": self.ids.new("Endpoint", o.id),
                    "name": o.id,
                    "text": " ".join(o.endpoint.split()),
                    "purpose": "",
                    "level": self.code(self.design.endpoint_level[o.level]),
                    "instanceType": "Endpoint",
                },
                ("objectives", n, "endpoint"),
            )
            objectives.append(
                self.at(
                    {
                        "id": self.ids.new("Objective", o.id),
                        "name": o.id,
                        "label": o.id,
                        "text": " ".join(o.objective.split()),
                        "level": self.code(self.design.objective_level[o.level]),
                        "endpoints": [endpoint],
                        "instanceType": "Objective",
                    },
                    ("objectives", n, "objective"),
                )
            )
            if o.population_summary:
                estimands.append(
                    self.estimand(n, o, endpoint["id"], population_id, intervention_id, populations)
                )
        return objectives, estimands, list(populations.values())

    def estimand(
        self,
        n: int,
        o: Objective,
        endpoint_id: str,
        population_id: str,
        intervention_id: str,
        populations: dict[str, JSON],
    ) -> JSON:
        text = " ".join((o.population or self.product.indication.population).split())
        analysis = populations.get(text)
        if analysis is None:
            analysis = self.at(
                {
                    "id": self.ids.new("AnalysisPopulation"),
                    "name": f"AP{len(populations) + 1}",
                    "text": text,
                    "subsetOfIds": [population_id],
                    "instanceType": "AnalysisPopulation",
                },
                ("objectives", n, "population") if o.population else ("indication", "population"),
            )
            populations[text] = analysis
        events = []
        if o.intercurrent_events:
            # The product states event and strategy in one sentence; both attributes carry it.
            statement = " ".join(o.intercurrent_events.split())
            events.append(
                self.at(
                    {
                        "id": self.ids.new("IntercurrentEvent", o.id),
                        "name": o.id,
                        "text": statement,
                        "strategy": statement,
                        "instanceType": "IntercurrentEvent",
                    },
                    ("objectives", n, "intercurrent_events"),
                )
            )
        assert o.population_summary is not None
        return self.at(
            {
                "id": self.ids.new("Estimand", o.id),
                "name": o.id,
                "populationSummary": " ".join(o.population_summary.split()),
                "analysisPopulationId": analysis["id"],
                "interventionIds": [intervention_id],
                "variableOfInterestId": endpoint_id,
                "intercurrentEvents": events,
                "instanceType": "Estimand",
            },
            ("objectives", n, "population_summary"),
        )

    # ---- narrative

    def narrative(self, sections: Sequence[NarrativeSection]) -> tuple[list[JSON], list[JSON]]:
        by_number = self.resolved.registry.by_number()
        contents: list[JSON] = []
        items: list[JSON] = []
        numbered: dict[str, JSON] = {}
        for section in sections:
            known = by_number.get(section.number or "")
            name = known.key if known else (section.anchor or "title_page")
            where: Location | tuple[str, str] = (
                ("sections", known.key)
                if known and known.key in self.product.sections
                else Location(self.doc.display)
            )
            item_id = None
            if not section.empty:
                item = self.at(
                    {
                        "id": self.ids.new("NarrativeContentItem", name),
                        "name": name,
                        "text": section.xhtml,
                        "instanceType": "NarrativeContentItem",
                    },
                    where,
                )
                items.append(item)
                item_id = item["id"]
            numbered_section = section.number is not None
            content: JSON = {
                "id": self.ids.new("NarrativeContent", name),
                "name": name,
                "sectionNumber": section.number,
                "sectionTitle": section.title
                if numbered_section
                else self.design.title_page_section,
                "displaySectionNumber": numbered_section,
                "displaySectionTitle": numbered_section,
                "childIds": [],
                "previousId": contents[-1]["id"] if contents else None,
                "nextId": None,
                "contentItemId": item_id,
                "instanceType": "NarrativeContent",
            }
            if contents:
                contents[-1]["nextId"] = content["id"]
            if section.number is not None:
                parent = (
                    numbered.get(section.number.rsplit(".", 1)[0])
                    if "." in section.number
                    else None
                )
                if parent is not None:
                    parent["childIds"].append(content["id"])
                numbered[section.number] = content
            contents.append(self.at(content, where))
        return contents, items

    def section_text(self, by_anchor: dict[str | None, NarrativeSection], key: str) -> str:
        section = self.resolved.registry.by_key()[key]
        found = by_anchor.get("m11-" + section.number.replace(".", "-"))
        return found.text if found is not None else ""

    def abbreviations(self, by_anchor: dict[str | None, NarrativeSection]) -> list[JSON]:
        """Two-column tables of the glossary appendix (M11 13): abbreviation, definition."""
        registry = self.resolved.registry.by_key()
        glossary = registry.get("glossary")
        if glossary is None:
            return []
        section = by_anchor.get("m11-" + glossary.number.replace(".", "-"))
        if section is None:
            return []
        out = []
        for short, expanded in _two_column_rows(section.xhtml):
            out.append(
                {
                    "id": self.ids.new("Abbreviation", short),
                    "abbreviatedText": short,
                    "expandedText": expanded,
                    "instanceType": "Abbreviation",
                }
            )
        return out

    def document_version(self, contents: list[JSON]) -> JSON:
        tp = self.product.title_page
        date = self.at(
            {
                "id": self.ids.new("GovernanceDate", "version-date"),
                "name": "version_date",
                "type": self.code(self.design.version_date_type),
                "dateValue": tp.version_date,
                "geographicScopes": [
                    {
                        "id": self.ids.new("GeographicScope"),
                        "type": self.code(self.design.global_scope),
                        "instanceType": "GeographicScope",
                    }
                ],
                "instanceType": "GovernanceDate",
            },
            ("title_page", "version_date"),
        )
        return self.at(
            {
                "id": self.ids.new("StudyDefinitionDocumentVersion"),
                "version": tp.version,
                "status": self.at(
                    self.code(self.design.document_status[tp.status]), ("title_page", "status")
                ),
                "dateValues": [date],
                "contents": contents,
                "instanceType": "StudyDefinitionDocumentVersion",
            },
            ("title_page", "version"),
        )

    def amendments(self, document_id: str) -> list[JSON]:
        """The amendment this version makes (M11 Amendment Details), with its reasons, scope
        and the computed summary of changes (one StudyChange per row)."""
        from generator.analysis.amendments import rationale_for
        from generator.protocol_documents import amendment_changes

        amendment = self.product.title_page.amendment
        if amendment is None:
            return []
        path: tuple[str | int, ...] = ("title_page", "amendment")
        changes = []
        for change in amendment_changes(self.resolved) or []:
            entry = rationale_for(self.resolved, change)
            changes.append(
                {
                    "id": self.ids.new("StudyChange"),
                    "name": change.section,
                    "summary": change.description,
                    "rationale": entry.rationale if entry else "",
                    "changedSections": [
                        {
                            "id": self.ids.new("DocumentContentReference"),
                            "sectionNumber": change.number,
                            "sectionTitle": change.title,
                            "appliesToId": document_id,
                            "instanceType": "DocumentContentReference",
                        }
                    ],
                    "instanceType": "StudyChange",
                }
            )
        if amendment.scope == "Global":
            scopes = [self.geographic_scope(self.design.global_scope)]
        else:
            scopes = [self.geographic_scope(self.design.region_scope) for _ in amendment.regions]
        return [
            self.at(
                {
                    "id": self.ids.new("StudyAmendment"),
                    "name": amendment.identifier,
                    "number": amendment.identifier,
                    "summary": amendment.rationale,
                    "primaryReason": self.amendment_reason(amendment.primary_reason, path),
                    "secondaryReasons": [
                        self.amendment_reason(r, path) for r in amendment.secondary_reasons
                    ],
                    "changes": changes,
                    "geographicScopes": scopes,
                    "instanceType": "StudyAmendment",
                },
                path,
            )
        ]

    def amendment_reason(self, reason: str, path: tuple[str | int, ...]) -> JSON:
        amendment = self.product.title_page.amendment
        other = amendment.other_reason if amendment is not None and reason == "Other" else None
        return {
            "id": self.ids.new("StudyAmendmentReason"),
            "code": self.code(self.design.amendment_reason[reason]),
            "otherReason": other,
            "instanceType": "StudyAmendmentReason",
        }

    def geographic_scope(self, code: str) -> JSON:
        return {
            "id": self.ids.new("GeographicScope"),
            "type": self.code(code),
            "instanceType": "GeographicScope",
        }

    def document(self, version: JSON) -> JSON:
        tp = self.product.title_page
        return self.at(
            {
                "id": self.ids.new("StudyDefinitionDocument", "protocol"),
                "name": f"{tp.sponsor_protocol_id}",
                "label": tp.short_title or tp.sponsor_protocol_id,
                "language": self.code(self.design.document_language),
                "type": self.code(self.design.document_type),
                "templateName": self.resolved.registry.template,
                "versions": [version],
                "instanceType": "StudyDefinitionDocument",
            },
            ("title_page",),
        )

    # ---- protocmc's own facts, as extension attributes

    def version_extensions(self) -> list[JSON]:
        fw = self.resolved.loaded_framework.framework
        out = [self.extension("framework", valueString=f"{fw.id}@{fw.version}")]
        for entry in self.resolved.tailoring_register:
            fields = {
                "element": entry.element_id,
                "element-title": entry.element_title,
                "subject": entry.subject,
                "starting-point": entry.starting_point,
                "product-value": entry.product_value,
                "justification": entry.justification,
                "trigger": entry.trigger_id,
                "trigger-text": entry.trigger_text,
            }
            inner = [
                self.extension(f"tailoring-entry:{name}", valueString=" ".join(value.split()))
                for name, value in fields.items()
                if value
            ]
            ext = self.extension(
                "tailoring-entry",
                valueExtensionClass={
                    "id": self.ids.new("ExtensionClass"),
                    "url": self.url("tailoring-entry"),
                    "extensionAttributes": inner,
                    "instanceType": "ExtensionClass",
                },
            )
            out.append(self.at(ext, entry.location))
        return out


def build_usdm(
    resolved: ResolvedProtocol,
    sections: Sequence[NarrativeSection],
    criteria_xhtml: dict[str, str],
    terms: Terminology | None = None,
) -> UsdmExport:
    """The USDM document for `resolved` (pure: no files, no pandoc, no clock)."""
    builder = _Builder(resolved, terms or terminology())
    data = builder.build(sections, criteria_xhtml)
    return UsdmExport(data=data, sources=builder.sources, sections=list(sections))


# --------------------------------------------------------------------------- helpers


def parse_age_range(text: str) -> tuple[float | None, float | None]:
    """'18 years and older' -> (18, None); '18 to 75 years' -> (18, 75); else (None, None)."""
    cleaned = " ".join(text.split())
    for pattern, closed in _AGE:
        m = pattern.match(cleaned)
        if m:
            low = _int_or_float(m.group(1))
            return low, (_int_or_float(m.group(2)) if closed else None)
    return None, None


def _int_or_float(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return value


def _cell_unit(dose_unit: str) -> str:
    """UCUM for a cell dose: `{cells}`, per kilogram of body weight when the unit says so."""
    return "{cells}/kg" if re.search(r"/\s*kg\b", dose_unit) else "{cells}"


def _two_column_rows(xhtml: str) -> Iterable[tuple[str, str]]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xhtml)
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    for table in root.iter(f"{{{ns['h']}}}table"):
        for row in table.iter(f"{{{ns['h']}}}tr"):
            cells = row.findall("h:td", ns)
            if len(cells) == 2:
                short, expanded = (" ".join("".join(c.itertext()).split()) for c in cells)
                if short and expanded:
                    yield short, expanded
