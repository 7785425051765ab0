"""The three examples' protocol.usdm.json: valid USDM v4.0.0, consistent with protocol.md.

Each example is built once (`protocmc build --format md,usdm` through the API); the tests read
the files the build wrote, as a consumer would.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from generator import __version__, api
from generator.build import build_product
from generator.export.usdm import UsdmExport
from generator.export.usdm_narrative import narrative_sections, xhtml_text
from generator.export.usdm_validate import validate_usdm
from generator.problems import Location
from generator.resolve import ResolvedProtocol, format_value
from tests.conftest import EXAMPLES, ROOT

SCHEMA = json.loads((ROOT / "schemas" / "usdm" / "usdm-4.0.0.schema.json").read_text("utf-8"))
PHASES = {
    "Early Phase 1": "C54721",
    "Phase 1": "C15600",
    "Phase 1/2": "C15693",
    "Phase 2": "C15601",
}


@dataclass
class Built:
    name: str
    resolved: ResolvedProtocol
    raw: bytes
    data: dict[str, Any]
    markdown: str

    @property
    def version(self) -> dict[str, Any]:
        result: dict[str, Any] = self.data["study"]["versions"][0]
        return result

    @property
    def design(self) -> dict[str, Any]:
        result: dict[str, Any] = self.version["studyDesigns"][0]
        return result

    @property
    def contents(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.data["study"]["documentedBy"][0]["versions"][0][
            "contents"
        ]
        return result


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda p: p.name)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    example: Path = request.param
    out = tmp_path_factory.mktemp(example.name)
    # the USDM file carries the protocol text without review marks: compare with the clean draft
    result = build_product(
        example / "product.yaml", out, formats=("md", "usdm"), force=True, clean=True
    )
    assert out / "protocol.usdm.json" in result.files
    raw = (out / "protocol.usdm.json").read_bytes()
    resolved, _ = api.resolve(example / "product.yaml")
    return Built(
        example.name,
        resolved,
        raw,
        json.loads(raw),
        (out / "protocol.md").read_text("utf-8"),
    )


def md_section(markdown: str, start: str, end: str) -> str:
    """Plain-ish text of protocol.md between two M11 anchors (Markdown escapes removed)."""
    body = markdown.split(f"{{#{start}}}", 1)[1].split(f"{{#{end}}}", 1)[0]
    body = re.sub(r"\\(.)", r"\1", body)
    # numbered citations follow a criterion's text in the draft, not in its USDM item
    body = re.sub(r" \[\d[\d,–\- ]*\]", "", body)
    return normalise(body)


def normalise(text: str) -> str:
    return " ".join(html.unescape(text).split())


def test_validates_against_the_vendored_usdm_4_schema(built: Built) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(built.data)]
    assert errors == []
    assert built.data["usdmVersion"] == "4.0.0"
    assert (built.data["systemName"], built.data["systemVersion"]) == ("protocmc", __version__)


def test_passes_the_referential_checks(built: Built) -> None:
    assert validate_usdm(UsdmExport(data=built.data), fallback=Location("x")) == []
    # and, independently of that module: unique ids, every reference resolves
    ids: list[str] = []
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "id" and "instanceType" in node:
                    ids.append(value)
                elif key.endswith("Id") and isinstance(value, str):
                    refs.append(value)
                elif key.endswith("Ids"):
                    refs.extend(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(built.data)
    assert len(ids) == len(set(ids))
    assert set(refs) <= set(ids)


def test_every_criterion_is_in_section_5_2_or_5_3_of_the_draft(built: Built) -> None:
    inclusion = md_section(built.markdown, "m11-5-2", "m11-5-3")
    exclusion = md_section(built.markdown, "m11-5-3", "m11-5-4")
    items = {i["id"]: i for i in built.version["eligibilityCriterionItems"]}
    criteria = built.design["eligibilityCriteria"]
    expected = [
        i
        for e in built.resolved.elements.values()
        for i in e.items
        if i.kind in ("inclusion", "exclusion")
    ]
    assert sorted(c["identifier"] for c in criteria) == sorted(i.id for i in expected)
    for criterion in criteria:
        text = normalise(xhtml_text(items[criterion["criterionItemId"]]["text"]))
        where = inclusion if criterion["category"]["decode"] == "Inclusion Criteria" else exclusion
        assert text in where, criterion["identifier"]


def test_objectives_and_endpoints_are_in_section_3_of_the_draft(built: Built) -> None:
    section_3 = md_section(built.markdown, "m11-3", "m11-4")
    objectives = built.design["objectives"]
    assert [o["name"] for o in objectives] == [o.id for o in built.resolved.product.objectives]
    for objective in objectives:
        assert normalise(objective["text"]) in section_3
        for endpoint in objective["endpoints"]:
            assert normalise(endpoint["text"]) in section_3


def test_interventions_match_the_draft(built: Built) -> None:
    markdown = normalise(re.sub(r"\\(.)", r"\1", built.markdown))
    cell, *agents = built.version["studyInterventions"]
    assert cell["name"] in markdown
    for level, admin in zip(
        built.resolved.product.dose_escalation.dose_levels, cell["administrations"], strict=True
    ):
        assert admin["dose"]["value"] == level.dose
        assert (level.label or format_value(level.dose)) in markdown
    lower = markdown.lower()
    for agent in agents:
        dose = agent["administrations"][0]["dose"]["value"]
        assert f"{agent['name'].lower()} {format_value(dose)} mg/m²" in lower


def test_narrative_sections_follow_the_m11_registry_and_the_draft(built: Built) -> None:
    registry = built.resolved.registry.by_number()
    anchors = re.findall(r"\{#(m11-[0-9-]+)\}", built.markdown)
    numbered = [c for c in built.contents if c["sectionNumber"] is not None]
    assert ["m11-" + c["sectionNumber"].replace(".", "-") for c in numbered] == anchors
    known = [c for c in numbered if c["sectionNumber"] in registry]
    for content in known:
        section = registry[content["sectionNumber"]]
        assert (content["sectionTitle"], content["name"]) == (section.title, section.key)
    order = [s.number for s in built.resolved.registry.sections]
    assert [c["sectionNumber"] for c in known] == [
        n for n in order if n in {c["sectionNumber"] for c in known}
    ]
    # every registry section the draft has is in the USDM document
    assert {c["sectionNumber"] for c in known} == {
        n for n in registry if f"{{#m11-{n.replace('.', '-')}}}" in built.markdown
    }


def test_product_section_texts_are_in_their_narrative_items(built: Built) -> None:
    items = {i["id"]: i for i in built.version["narrativeContentItems"]}
    by_name = {c["name"]: c for c in built.contents}
    assert built.resolved.product.sections
    # the draft defines an abbreviation at its first use ("large B-cell lymphoma (LBCL)"), also
    # inside a writer's text: fold those definitions back before comparing
    definitions = [
        (a["expandedText"], a["abbreviatedText"]) for a in built.version["abbreviations"]
    ]

    def fold(value: str) -> str:
        for expanded, short in definitions:
            value = re.sub(re.escape(f"{expanded} ({short})"), short, value, flags=re.IGNORECASE)
        # an item id typed by the writer prints as its section and number
        return normalise(re.sub(r" ?\((?:item|Section) [^)]*\)", "", value))

    for key, text in built.resolved.product.sections.items():
        item = items[by_name[key]["contentItemId"]]
        assert fold(text) in fold(xhtml_text(item["text"])), key


def test_round_trip_gives_back_titles_identifiers_phase_criteria_and_sections(built: Built) -> None:
    data = json.loads(built.raw.decode("utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    version = data["study"]["versions"][0]
    design = version["studyDesigns"][0]
    tp = built.resolved.product.title_page

    titles = {t["type"]["decode"]: t["text"] for t in version["titles"]}
    assert titles["Official Study Title"] == normalise(tp.full_title)
    assert titles.get("Brief Study Title") == tp.short_title
    assert titles.get("Study Acronym") == tp.acronym

    orgs = {o["id"]: o["name"] for o in version["organizations"]}
    identifiers = [(i["text"], orgs[i["scopeId"]]) for i in version["studyIdentifiers"]]
    assert identifiers[0] == (tp.sponsor_protocol_id, tp.sponsor_name)
    assert [text for text, _ in identifiers[1:]] == [i.value for i in tp.identifiers]

    assert design["studyPhase"]["standardCode"]["code"] == PHASES[tp.phase]

    items = {i["id"]: i for i in version["eligibilityCriterionItems"]}
    criteria = {
        c["identifier"]: xhtml_text(items[c["criterionItemId"]]["text"])
        for c in design["eligibilityCriteria"]
    }
    resolved_items = {
        i.id: normalise(i.text)
        for e in built.resolved.elements.values()
        for i in e.items
        if i.kind in ("inclusion", "exclusion")
    }
    # the same criteria, each reading as the draft prints it (abbreviations defined at first use)
    assert set(criteria) == set(resolved_items)
    printed = md_section(built.markdown, "m11-5-2", "m11-5-4")
    for identifier, text in criteria.items():
        assert normalise(text) in printed, identifier

    narrative = {i["id"]: xhtml_text(i["text"]) for i in version["narrativeContentItems"]}
    contents = data["study"]["documentedBy"][0]["versions"][0]["contents"]
    texts = {c["sectionNumber"]: narrative.get(c["contentItemId"], "") for c in contents}
    expected = {s.number: s.text for s in narrative_sections(built.markdown)}
    assert texts == expected


def test_the_same_inputs_give_byte_identical_usdm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = ROOT / "examples" / "cd19-cart-lbcl" / "product.yaml"
    outputs = []
    for n, epoch in enumerate(("1767225600", "1893456000")):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        build_product(product, tmp_path / str(n), formats=("usdm",), force=True)
        outputs.append((tmp_path / str(n) / "protocol.usdm.json").read_bytes())
    assert outputs[0] == outputs[1]
