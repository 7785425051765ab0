"""USDM mapping, one test per mapping: product field -> USDM class and code.

These call `build_usdm` (pure: no pandoc) with narrative sections made here, so each test
reads the mapping it checks and nothing else.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import api
from generator.export.usdm import build_usdm, criterion_items, parse_age_range
from generator.export.usdm_narrative import NarrativeSection
from generator.export.usdm_terms import CT_FILE, DESIGN_FILE, terminology
from generator.problems import ProblemsError
from generator.resolve import ResolvedProtocol
from tests.conftest import ROOT

CD19 = ROOT / "examples" / "cd19-cart-lbcl" / "product.yaml"
ALLO = ROOT / "examples" / "allo-car-nk-solid-tumour" / "product.yaml"
XHTML = '<div xmlns="http://www.w3.org/1999/xhtml"><p>{}</p></div>'
JSON = dict[str, Any]


def section(number: str | None, title: str, text: str = "") -> NarrativeSection:
    anchor = None if number is None else "m11-" + number.replace(".", "-")
    level = 0 if number is None else number.count(".") + 1
    return NarrativeSection(anchor, number, title, level, XHTML.format(text), text)


SECTIONS = [
    section(None, "", "Title page text"),
    section("1", "PROTOCOL SUMMARY"),
    section("1.1", "Protocol Synopsis", "Synopsis."),
    section("1.1.1", "Primary and Secondary Objectives and Estimands", "Objectives table."),
    section("2", "INTRODUCTION"),
    section("2.1", "Purpose of Trial", "Why this trial is done."),
    section("4.2.2", "Intervention Model", "Why sequential."),
]


def resolve(path: Path) -> ResolvedProtocol:
    resolved, problems = api.resolve(path)
    assert not [p for p in problems if p.is_error]
    return resolved


def usdm(resolved: ResolvedProtocol, sections: list[NarrativeSection] | None = None) -> JSON:
    xhtml = {i.id: XHTML.format(i.text) for i in criterion_items(resolved)}
    return build_usdm(resolved, SECTIONS if sections is None else sections, xhtml).data


def version(data: JSON) -> JSON:
    result: JSON = data["study"]["versions"][0]
    return result


def design(data: JSON) -> JSON:
    result: JSON = version(data)["studyDesigns"][0]
    return result


def with_product(resolved: ResolvedProtocol, change: Callable[[Any], None]) -> ResolvedProtocol:
    product = resolved.product.model_copy(deep=True)
    change(product)
    return dataclasses.replace(resolved, product=product)


def codes(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], JSON]]:
    """Every Code in the document with the chain of (class, attribute) names above it."""
    if isinstance(node, dict):
        if node.get("instanceType") == "Code":
            yield path, node
            return
        cls = node.get("instanceType", "")
        for key, value in node.items():
            yield from codes(value, (*path, f"{cls}.{key}"))
    elif isinstance(node, list):
        for value in node:
            yield from codes(value, path)


@pytest.fixture(scope="module")
def cd19() -> ResolvedProtocol:
    return resolve(CD19)


def test_wrapper_names_usdm_4_and_protocmc(cd19: ResolvedProtocol) -> None:
    from generator import __version__

    data = usdm(cd19)
    assert data["usdmVersion"] == "4.0.0"
    assert data["systemName"] == "protocmc"
    assert data["systemVersion"] == __version__


def test_titles_carry_the_usdm_title_type_codes(cd19: ResolvedProtocol) -> None:
    tp = cd19.product.title_page
    titles = {
        t["type"]["code"]: (t["type"]["decode"], t["text"]) for t in version(usdm(cd19))["titles"]
    }
    assert titles == {
        "C207616": ("Official Study Title", " ".join(tp.full_title.split())),
        "C207615": ("Brief Study Title", tp.short_title),
        "C94108": ("Study Acronym", tp.acronym),
    }


def test_identifiers_are_scoped_to_the_organisation_that_assigns_them(
    cd19: ResolvedProtocol,
) -> None:
    from generator.models.product import RegistryIdentifier

    def add(product: Any) -> None:
        product.title_page.identifiers += [
            RegistryIdentifier(type="NCT", value="NCT00000000"),
            RegistryIdentifier(type="EU CT", value="2026-500000-00-00"),
        ]

    v = version(usdm(with_product(cd19, add)))
    orgs = {o["id"]: o for o in v["organizations"]}
    scoped = {i["text"]: orgs[i["scopeId"]] for i in v["studyIdentifiers"]}
    sponsor = scoped["PCT19-101"]
    assert sponsor["name"] == "Example Cell Therapeutics, Inc."
    assert sponsor["legalAddress"]["text"] == "100 Example Way, Cambridge, MA 02139, USA"
    assert (scoped["000000 (example)"]["name"], scoped["000000 (example)"]["type"]["code"]) == (
        "FDA",
        "C188863",
    )
    assert (scoped["NCT00000000"]["name"], scoped["NCT00000000"]["type"]["decode"]) == (
        "CT-GOV",
        "Clinical Study Registry",
    )
    assert scoped["2026-500000-00-00"]["name"] == "EMA"
    sponsor_role = v["roles"][0]
    assert sponsor_role["code"]["code"] == "C70793"
    assert sponsor_role["organizationIds"] == [sponsor["id"]]


@pytest.mark.parametrize(
    ("phase", "code"),
    [
        ("Early Phase 1", "C54721"),
        ("Phase 1", "C15600"),
        ("Phase 1/2", "C15693"),
        ("Phase 2", "C15601"),
    ],
)
def test_phase_is_an_sdtm_trial_phase_code(cd19: ResolvedProtocol, phase: str, code: str) -> None:
    def set_phase(product: Any) -> None:
        product.title_page.phase = phase

    data = usdm(with_product(cd19, set_phase))
    assert design(data)["studyPhase"]["standardCode"]["code"] == code
    assert design(data)["studyType"]["code"] == "C98388"


@pytest.mark.parametrize(
    ("model", "blinding", "codes_expected"),
    [
        ("Sequential", "Open Label", ("C142568", "C49659")),
        ("Single Group", "Single Blind", ("C82640", "C28233")),
        ("Parallel", "Double Blind", ("C82639", "C15228")),
    ],
)
def test_intervention_model_and_blinding(
    cd19: ResolvedProtocol, model: str, blinding: str, codes_expected: tuple[str, str]
) -> None:
    def change(product: Any) -> None:
        product.overall_design.intervention_model = model
        product.overall_design.blind_schema = blinding

    d = design(usdm(with_product(cd19, change)))
    assert (d["model"]["code"], d["blindingSchema"]["standardCode"]["code"]) == codes_expected


def test_site_distribution_and_design_indicators_are_characteristics(
    cd19: ResolvedProtocol,
) -> None:
    assert [c["code"] for c in design(usdm(cd19))["characteristics"]] == ["C217005"]

    def change(product: Any) -> None:
        product.overall_design.site_distribution = "Single-site"
        product.overall_design.adaptive_design = True
        product.overall_design.stratification = True

    changed = design(usdm(with_product(cd19, change)))["characteristics"]
    assert [c["decode"] for c in changed] == ["Single-Centre", "Adaptive", "Stratification"]


def test_population_enrolment_is_a_range_and_sex_is_coded(cd19: ResolvedProtocol) -> None:
    pop = design(usdm(cd19))["population"]
    enrolment = pop["plannedEnrollmentNumber"]
    # the CD19 example's version 2.0: 21 planned, at most 30 (overall_design)
    assert (enrolment["minValue"]["value"], enrolment["maxValue"]["value"]) == (21, 30)
    assert [c["decode"] for c in pop["plannedSex"]] == ["Both"]
    assert pop["includesHealthySubjects"] is False
    assert pop["description"].startswith("Adults with large B-cell lymphoma")
    allo = design(usdm(resolve(ALLO)))["population"]
    assert [(c["code"], c["decode"]) for c in allo["plannedSex"]] == [("C16576", "Female")]


def test_open_age_range_keeps_its_minimum_and_a_closed_one_is_a_range(
    cd19: ResolvedProtocol,
) -> None:
    pop = design(usdm(cd19))["population"]
    assert "plannedAge" not in pop
    ext = {e["url"].rsplit(":", 1)[1]: e for e in pop["extensionAttributes"]}
    assert ext["population-age"]["valueString"] == "18 years and older"
    minimum = ext["planned-minimum-age"]["valueQuantity"]
    assert (minimum["value"], minimum["unit"]["standardCode"]["decode"]) == (18, "Year")

    def closed(product: Any) -> None:
        product.overall_design.age_range = "12 to 75 years"

    age = design(usdm(with_product(cd19, closed)))["population"]["plannedAge"]
    assert (age["minValue"]["value"], age["maxValue"]["value"]) == (12, 75)
    assert age["minValue"]["unit"]["standardCode"]["code"] == "C29848"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18 years and older", (18, None)),
        ("≥ 18 years", (18, None)),
        ("18 to 75 years", (18, 75)),
        ("12–17 years", (12, 17)),
        ("adults", (None, None)),
    ],
)
def test_parse_age_range(text: str, expected: tuple[int | None, int | None]) -> None:
    assert parse_age_range(text) == expected


def test_healthy_participants_set_includes_healthy_subjects(cd19: ResolvedProtocol) -> None:
    def healthy(product: Any) -> None:
        product.overall_design.population_type = "Healthy participants"

    assert design(usdm(with_product(cd19, healthy)))["population"]["includesHealthySubjects"]


def test_objectives_have_level_codes_and_their_endpoints(cd19: ResolvedProtocol) -> None:
    objectives = design(usdm(cd19))["objectives"]
    got = [
        (o["name"], o["level"]["code"], o["text"], o["endpoints"][0]["level"]["code"])
        for o in objectives
    ]
    product = cd19.product.objectives
    assert [g[0] for g in got] == [o.id for o in product]
    assert [g[1] for g in got] == ["C85826", "C85827", "C85827", "C163559"]
    assert [g[3] for g in got] == ["C94496", "C139173", "C139173", "C170559"]
    assert [g[2] for g in got] == [" ".join(o.objective.split()) for o in product]
    assert objectives[0]["endpoints"][0]["text"] == " ".join(product[0].endpoint.split())


def test_estimands_only_where_the_product_gives_a_population_summary(
    cd19: ResolvedProtocol,
) -> None:
    d = design(usdm(cd19))
    assert [e["name"] for e in d["estimands"]] == ["OBJ-P1"]
    estimand = d["estimands"][0]
    endpoint = d["objectives"][0]["endpoints"][0]
    assert estimand["variableOfInterestId"] == endpoint["id"]
    assert estimand["interventionIds"] == [version(usdm(cd19))["studyInterventions"][0]["id"]]
    assert estimand["populationSummary"].startswith("Proportion of DLT-evaluable")
    (event,) = estimand["intercurrentEvents"]
    assert event["text"].startswith("Death from disease progression")
    (population,) = d["analysisPopulations"]
    assert estimand["analysisPopulationId"] == population["id"]
    assert population["subsetOfIds"] == [d["population"]["id"]]
    allo = design(usdm(resolve(ALLO)))
    assert [e["name"] for e in allo["estimands"]] == ["OBJ-P1", "OBJ-S1", "OBJ-S2"]
    assert [len(e["intercurrentEvents"]) for e in allo["estimands"]] == [1, 1, 0]


def test_epochs_follow_the_product_source(cd19: ResolvedProtocol) -> None:
    autologous = [e["name"] for e in design(usdm(cd19))["epochs"]]
    assert autologous == [
        "screening",
        "apheresis",
        "lymphodepletion",
        "infusion",
        "dlt",
        "follow-up",
    ]
    allogeneic = [e["name"] for e in design(usdm(resolve(ALLO)))["epochs"]]
    assert allogeneic == ["screening", "lymphodepletion", "infusion", "dlt", "follow-up"]


def test_one_arm_one_element_per_epoch_linked_in_order(cd19: ResolvedProtocol) -> None:
    d = design(usdm(cd19))
    (arm,) = d["arms"]
    assert arm["name"] == "PCT-19" and arm["type"]["code"] == "C174266"
    epochs = d["epochs"]
    assert [e["previousId"] for e in epochs] == [None] + [e["id"] for e in epochs[:-1]]
    assert [e["nextId"] for e in epochs] == [e["id"] for e in epochs[1:]] + [None]
    assert [(c["armId"], c["epochId"]) for c in d["studyCells"]] == [
        (arm["id"], e["id"]) for e in epochs
    ]
    elements = {e["id"]: e for e in d["elements"]}
    assert [elements[c["elementIds"][0]]["name"] for c in d["studyCells"]] == [
        e["name"] for e in epochs
    ]
    dlt = next(e for e in d["elements"] if e["name"] == "dlt")
    assert "28 days" in dlt["description"]
    infusion = next(e for e in d["elements"] if e["name"] == "infusion")
    assert infusion["studyInterventionIds"] == [version(usdm(cd19))["studyInterventions"][0]["id"]]
    assert [c["code"] for c in (e["type"] for e in epochs)] == [
        "C202487",
        "C101526",
        "C101526",
        "C101526",
        "C101526",
        "C202578",
    ]


def test_cell_product_dose_levels_and_units(cd19: ResolvedProtocol) -> None:
    v = version(usdm(cd19))
    cell = v["studyInterventions"][0]
    assert (cell["name"], cell["role"]["code"], cell["type"]["code"]) == (
        "PCT-19",
        "C41161",
        "C15238",
    )
    doses = [(a["name"], a["dose"]["value"]) for a in cell["administrations"]]
    assert doses == [(d.id, d.dose) for d in cd19.product.dose_escalation.dose_levels]
    unit = cell["administrations"][0]["dose"]["unit"]["standardCode"]
    assert (unit["code"], unit["codeSystem"], unit["decode"]) == (
        "{cells}",
        "http://unitsofmeasure.org",
        "CAR+ viable T cells (flat dose)",
    )
    starting = [
        a["name"]
        for a in cell["administrations"]
        if any(e["url"].endswith(":starting-dose-level") for e in a.get("extensionAttributes", []))
    ]
    assert starting == ["DL1"]
    (product,) = v["administrableProducts"]
    assert all(a["administrableProductId"] == product["id"] for a in cell["administrations"])
    assert product["productDesignation"]["decode"] == "IMP"

    def per_kg(p: Any) -> None:
        p.product.dose_unit = "CAR+ viable T cells/kg"

    kg = version(usdm(with_product(cd19, per_kg)))["studyInterventions"][0]
    assert kg["administrations"][0]["dose"]["unit"]["standardCode"]["code"] == "{cells}/kg"


def test_lymphodepleting_agents_follow_the_resolved_parameters(
    product_with: Callable[[str], Path],
) -> None:
    product = product_with(
        """
        tailoring:
          lymphodepletion:
            parameters:
              fludarabine_mg_m2_day: 25
            justification: Reduced fludarabine for this population.
        """
    )
    v = version(usdm(resolve(product)))
    agents = {i["name"]: i for i in v["studyInterventions"][1:]}
    assert sorted(agents) == ["Cyclophosphamide", "Fludarabine"]
    flu = agents["Fludarabine"]["administrations"][0]
    assert flu["dose"]["value"] == 25
    assert flu["dose"]["unit"]["standardCode"]["code"] == "mg/m2/d"
    assert flu["duration"]["quantity"]["value"] == 3
    assert flu["frequency"]["standardCode"]["decode"] == "Daily"
    assert agents["Cyclophosphamide"]["administrations"][0]["dose"]["value"] == 300
    assert agents["Fludarabine"]["role"]["decode"] == "Background Treatment"


def test_every_criterion_of_every_gate_with_category_and_stable_identifier(
    cd19: ResolvedProtocol,
) -> None:
    data = usdm(cd19)
    d, v = design(data), version(data)
    items = {i["id"]: i for i in v["eligibilityCriterionItems"]}
    expected = [
        (i.id, i.kind, i.gate)
        for e in cd19.elements.values()
        for i in e.items
        if i.kind in ("inclusion", "exclusion")
    ]
    got = []
    for c in d["eligibilityCriteria"]:
        gate = next(x["valueString"] for x in c["extensionAttributes"] if x["url"].endswith("gate"))
        kind = {"C25532": "inclusion", "C25370": "exclusion"}[c["category"]["code"]]
        got.append((c["identifier"], kind, gate))
        assert items[c["criterionItemId"]]["name"] == c["identifier"]
    assert sorted(got) == sorted(expected)
    assert {g for _, _, g in got} == {"screening", "apheresis", "lymphodepletion", "infusion"}
    kinds = [k for _, k, _ in got]
    assert kinds == sorted(kinds, key=["inclusion", "exclusion"].index)
    assert d["population"]["criterionIds"] == [c["id"] for c in d["eligibilityCriteria"]]


def test_tailoring_register_is_carried_as_extension_attributes() -> None:
    resolved = resolve(ALLO)
    v = version(usdm(resolved))
    entries = [e for e in v["extensionAttributes"] if e["url"].endswith(":tailoring-entry")]
    assert (
        len(entries) == len(resolved.tailoring_register) == 25
    )  # the allogeneic example after its autologous-text overrides went away
    first = {
        a["url"].rsplit(":", 1)[1]: a["valueString"]
        for a in entries[0]["valueExtensionClass"]["extensionAttributes"]
    }
    entry = resolved.tailoring_register[0]
    assert first["element"] == entry.element_id
    assert first["justification"] == " ".join(entry.justification.split())
    framework = [e for e in v["extensionAttributes"] if e["url"].endswith(":framework")]
    assert framework[0]["valueString"] == "early-phase-cell-therapy@1.0.0"


def test_every_code_is_from_the_usdm_terminology_or_the_declared_list(
    cd19: ResolvedProtocol,
) -> None:
    terms = terminology()
    ct = json.loads(CT_FILE.read_text("utf-8"))["terms"]
    codelists: dict[tuple[str, str], set[str]] = {}
    for row in ct:
        codelists.setdefault((row["entity"], row["attribute"]), set()).add(row["code"])
    entity = {"InterventionalStudyDesign": "StudyDesign"}
    checked = 0
    for data in (usdm(cd19), usdm(resolve(ALLO))):
        for path, code in codes(data):
            if code["codeSystem"] != "http://www.cdisc.org":
                assert code["codeSystem"] in {"http://unitsofmeasure.org", "ISO"}, path
                continue
            term = terms.term(code["code"])
            assert (code["decode"], code["codeSystemVersion"]) == (term.decode, term.version)
            cls, attribute = path[-1].split(".")
            expected = codelists.get((entity.get(cls, cls), attribute))
            if expected is not None:
                assert code["code"] in expected, (path, code["code"])
                checked += 1
    assert checked > 20


def test_narrative_contents_nest_by_section_number(cd19: ResolvedProtocol) -> None:
    data = usdm(cd19)
    contents = data["study"]["documentedBy"][0]["versions"][0]["contents"]
    by_number = {c["sectionNumber"]: c for c in contents}
    assert [c["sectionNumber"] for c in contents] == [
        None,
        "1",
        "1.1",
        "1.1.1",
        "2",
        "2.1",
        "4.2.2",
    ]
    assert by_number["1"]["childIds"] == [by_number["1.1"]["id"]]
    assert by_number["1.1"]["childIds"] == [by_number["1.1.1"]["id"]]
    assert by_number["2"]["childIds"] == [by_number["2.1"]["id"]]
    assert by_number["1"]["contentItemId"] is None  # no text of its own
    title_page = by_number[None]
    assert (title_page["sectionTitle"], title_page["displaySectionNumber"]) == ("Title Page", False)
    assert [c["nextId"] for c in contents[:-1]] == [c["id"] for c in contents[1:]]
    items = {i["id"]: i for i in version(data)["narrativeContentItems"]}
    assert items[by_number["2.1"]["contentItemId"]]["name"] == "purpose_of_trial"
    assert by_number["2.1"]["name"] == "purpose_of_trial"


def test_rationales_come_from_the_rendered_sections(cd19: ResolvedProtocol) -> None:
    data = usdm(cd19)
    assert version(data)["rationale"] == "Why this trial is done."
    assert design(data)["rationale"] == "Why sequential."


def test_abbreviations_come_from_the_glossary_table(cd19: ResolvedProtocol) -> None:
    table = (
        "<table><thead><tr><th>Abbreviation</th><th>Definition</th></tr></thead><tbody>"
        "<tr><td>CRS</td><td>cytokine release syndrome</td></tr>"
        "<tr><td>DLT</td><td>dose-limiting toxicity</td></tr></tbody></table>"
    )
    glossary = NarrativeSection(
        "m11-13",
        "13",
        "APPENDIX: GLOSSARY OF TERMS AND ABBREVIATIONS",
        1,
        f'<div xmlns="http://www.w3.org/1999/xhtml">{table}</div>',
        "CRS cytokine release syndrome",
    )
    abbreviations = version(usdm(cd19, [*SECTIONS, glossary]))["abbreviations"]
    assert [(a["abbreviatedText"], a["expandedText"]) for a in abbreviations] == [
        ("CRS", "cytokine release syndrome"),
        ("DLT", "dose-limiting toxicity"),
    ]


def test_the_same_inputs_give_the_same_document_with_unique_ids(cd19: ResolvedProtocol) -> None:
    first = json.dumps(usdm(cd19))
    assert json.dumps(usdm(cd19)) == first
    ids = [m for m in _ids(json.loads(first))]
    assert len(ids) == len(set(ids))


def _ids(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "instanceType" in node and isinstance(node.get("id"), str):
            yield node["id"]
        for value in node.values():
            yield from _ids(value)
    elif isinstance(node, list):
        for value in node:
            yield from _ids(value)


def test_every_code_the_design_map_names_must_be_known(tmp_path: Path) -> None:
    terms = terminology()
    assert terms.term("C207616").source.startswith("USDM_CT.xlsx StudyTitle.type")
    broken = tmp_path / "study-design.yaml"
    broken.write_text(
        DESIGN_FILE.read_text("utf-8").replace("study_type: C98388", "study_type: C0")
    )
    with pytest.raises(ProblemsError) as caught:
        terminology.__wrapped__(broken, CT_FILE)
    assert [p.code for p in caught.value.problems] == ["PU010"]
    assert "C0" in caught.value.problems[0].message
