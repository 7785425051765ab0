"""Content checks for the early-phase cell-therapy framework (framework.yaml + elements/*.yaml).

Loads the YAML with plain ruamel.yaml (safe loader) so the tests do not depend on the project loader.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from generator.models.framework import Element, Framework, TextPart
from generator.models.product import Product
from generator.resolve import product_facts
from generator.textfill import condition_names, placeholders

ROOT = Path(__file__).resolve().parents[2]
FW_DIR = ROOT / "frameworks" / "early-phase-cell-therapy"
FW_FILE = FW_DIR / "framework.yaml"
ELEMENT_FILES = sorted((FW_DIR / "elements").glob("*.yaml"))


NEEDS = "needs-verification"


def _load(path: Path):
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def framework() -> Framework:
    return Framework.model_validate(_load(FW_FILE))


@pytest.fixture(scope="module")
def elements() -> dict[str, Element]:
    return {p.stem: Element.model_validate(_load(p)) for p in ELEMENT_FILES}


def _ev(x) -> str:
    return x.evidence.value if hasattr(x.evidence, "value") else str(x.evidence)


def _item(el: Element, item_id: str):
    matches = [i for i in el.starting_point.items if i.id == item_id]
    assert matches, f"{el.id}: item {item_id} missing"
    return matches[0]


def _table(el: Element, table_id: str):
    matches = [t for t in el.starting_point.tables if t.id == table_id]
    assert matches, f"{el.id}: table {table_id} missing"
    return matches[0]


# --------------------------------------------------------------------------- files and structure


def test_framework_validates(framework: Framework) -> None:
    assert framework.id == "early-phase-cell-therapy"
    assert framework.version == "1.0.0"
    ids = [s.id for s in framework.sources]
    assert len(ids) == len(set(ids)), "duplicate source ids in framework.yaml"


@pytest.mark.parametrize("path", ELEMENT_FILES, ids=lambda p: p.name)
def test_element_validates(path: Path) -> None:
    el = Element.model_validate(_load(path))
    assert el.id == path.stem, "element id must match its file name"


@pytest.mark.parametrize("path", [FW_FILE, *ELEMENT_FILES], ids=lambda p: p.name)
def test_yaml_hygiene(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    expected = (
        "# yaml-language-server: $schema=../../schemas/framework.schema.json"
        if path == FW_FILE
        else "# yaml-language-server: $schema=../../../schemas/element.schema.json"
    )
    assert lines[0] == expected
    assert lines[1].startswith("# "), "line 2 must say what the file is"
    # No anchors, aliases or tags anywhere (checked on parser events, not on text).
    for event in YAML(typ="safe").parse(text):
        assert getattr(event, "anchor", None) is None, f"{path.name}: anchor/alias {event}"
        tag = getattr(event, "tag", None)
        assert tag is None, f"{path.name}: explicit tag {tag}"
    # Version strings are quoted.
    if path == FW_FILE:
        assert re.search(r'^version: "\d+\.\d+\.\d+"$', text, re.M)


def test_elements_listed_match_files(framework: Framework) -> None:
    listed = {(FW_DIR / p).resolve() for p in framework.elements}
    on_disk = {p.resolve() for p in ELEMENT_FILES}
    assert len(framework.elements) == len(set(framework.elements)), "element listed twice"
    assert listed - on_disk == set(), f"listed but missing: {listed - on_disk}"
    assert on_disk - listed == set(), f"on disk but not listed: {on_disk - listed}"


def test_expected_elements_present(elements: dict[str, Element]) -> None:
    expected = {
        "preclinical-evidence",
        "prior-knowledge",
        "eligibility",
        "staggering",
        "dose-escalation",
        "dlt",
        "crs-grading",
        "icans-grading",
        "iec-hs",
        "toxicity-management",
        "stopping-rules",
        "cmc-readiness",
        "translational",
        "lymphodepletion",
        "bridging-therapy",
        "monitoring-logistics",
        "long-term-follow-up",
    }
    assert set(elements) == expected


def test_parameter_names_used_by_templates(elements: dict[str, Element]) -> None:
    """Names the templates reference must exist exactly as spelled."""
    el_params = {
        "staggering": {"intra_cohort_stagger_days", "first_n_staggered", "concurrent_cohorts"},
        "dose-escalation": {
            "design",
            "target_dlt_rate",
            "cohort_size",
            "boin_phi1_ratio",
            "boin_phi2_ratio",
            "elimination_cutoff",
            "elimination_min_n",
            "max_participants_per_dose",
            "no_dose_skipping",
        },
        "dlt": {"dlt_window_days", "dlt_window_anchor"},
        "crs-grading": {"fever_c", "low_flow_max_l_min"},
        "toxicity-management": {"tocilizumab_doses_on_site"},
        "stopping-rules": {
            "monitoring_theta",
            "monitoring_cutoff",
            "monitoring_prior_a",
            "monitoring_prior_b",
            "monitoring_from_n",
            "monitored_event",
        },
        "lymphodepletion": {
            "fludarabine_mg_m2_day",
            "cyclophosphamide_mg_m2_day",
            "ld_days",
            "infusion_days_after_ld_min",
            "infusion_days_after_ld_max",
        },
        "bridging-therapy": {"washout_days_before_ld"},
        "monitoring-logistics": {
            "inpatient_days",
            "proximity_days",
            "driving_restriction_days",
            "caregiver_days",
        },
        "long-term-follow-up": {"ltfu_years", "annual_exam_years", "rcl_timepoints_months"},
        "eligibility": {"rescreening_allowed", "max_rescreens"},
    }
    for el_id, names in el_params.items():
        missing = names - set(elements[el_id].starting_point.parameters)
        assert not missing, f"{el_id}: missing parameters {missing}"

    elig = elements["eligibility"]
    item_params = {p for i in elig.starting_point.items for p in i.parameters}
    for name in (
        "age_min",
        "ecog_max",
        "anc_min",
        "platelets_min",
        "alc_min",
        "crcl_min",
        "alt_ast_max_uln",
        "bilirubin_max",
        "lvef_min",
        "spo2_min",
        "allo_hct_min_days",
    ):
        assert name in item_params, f"eligibility: item parameter {name} missing"

    dlt_items = {i.id for i in elements["dlt"].starting_point.items}
    for item_id in (
        "DLT-CRS-G4",
        "DLT-CRS-G3-72H",
        "DLT-ICANS-G3",
        "DLT-G5",
        "DLT-CYTOPENIA",
        "DLT-NONHEME-G3",
        "DLT-INFUSION-REACTION",
        "DLT-IEC-HS",
        "DLT-EVALUABLE",
    ):
        assert item_id in dlt_items


def test_lists_are_strings(elements: dict[str, Element]) -> None:
    p = elements["long-term-follow-up"].starting_point.parameters["rcl_timepoints_months"]
    assert p.value == ["3", "6", "12"]


# --------------------------------------------------------------------------- sources


def _cited_sources(el: Element) -> set[str]:
    cited = set(el.sources)
    sp = el.starting_point
    for p in sp.parameters.values():
        cited.update(p.sources)
    for item in sp.items:
        cited.update(item.sources)
        for p in item.parameters.values():
            cited.update(p.sources)
    for t in sp.tables:
        cited.update(t.sources)
    return cited


def test_every_cited_source_is_declared(framework: Framework, elements: dict[str, Element]) -> None:
    declared = {s.id for s in framework.sources}
    for el in elements.values():
        undeclared = _cited_sources(el) - declared
        assert not undeclared, f"{el.id}: undeclared sources {sorted(undeclared)}"


def test_every_declared_source_is_cited(framework: Framework, elements: dict[str, Element]) -> None:
    cited = set().union(*(_cited_sources(el) for el in elements.values()))
    unused = {s.id for s in framework.sources} - cited
    assert not unused, f"declared but never cited: {sorted(unused)}"


# --------------------------------------------------------------------------- placeholders


def _names(text: str | list[TextPart]) -> set[str]:
    parts = [text] if isinstance(text, str) else [p.text for p in text]
    return {name for part in parts for _, name in placeholders(part)}


FACTS = set(
    product_facts(
        Product.model_validate(_load(ROOT / "examples" / "cd19-cart-lbcl" / "product.yaml"))
    )
)


@pytest.mark.parametrize("path", ELEMENT_FILES, ids=lambda p: p.name)
def test_placeholders_resolve(path: Path) -> None:
    el = Element.model_validate(_load(path))
    sp = el.starting_point
    el_params = set(sp.parameters)
    unknown = _names(sp.text) - el_params
    assert not unknown, f"{el.id}: starting_point.text uses unknown {unknown}"
    if isinstance(sp.text, list):
        for part in sp.text:
            if part.when is not None:
                unknown = set(condition_names(part.when)) - el_params - FACTS
                assert not unknown, f"{el.id}: condition '{part.when}' names unknown {unknown}"
    for item in sp.items:
        unknown = _names(item.text) - el_params - set(item.parameters)
        assert not unknown, f"{el.id}/{item.id}: unknown placeholders {unknown}"
    # Text that is not rendered with parameters must not carry placeholders.
    for field in (el.title, el.summary, el.rationale, *(t.text for t in el.tailoring_triggers)):
        assert not _names(field), f"{el.id}: placeholder outside rendered text: {field[:60]}"
    for t in sp.tables:
        for cell in [t.title, *t.columns, *t.notes, *(c for row in t.rows for c in row)]:
            assert not _names(cell), f"{el.id}/{t.id}: placeholder in table"


@pytest.mark.parametrize("path", ELEMENT_FILES, ids=lambda p: p.name)
def test_no_template_syntax_in_framework_text(path: Path) -> None:
    """Framework text is text, never a template: Jinja delimiters would print as typed."""
    raw = path.read_text("utf-8")
    for delimiter in ("{{", "{%", "{#"):
        assert delimiter not in raw, f"{path.name}: '{delimiter}' in framework text"


def test_placeholder_regex_sanity() -> None:
    assert _names("a {param:x} b {param:y} c {{ z }} {other}") == {"x", "y"}


# --------------------------------------------------------------------------- evidence honesty


def _parts(el: Element):
    sp = el.starting_point
    yield from sp.parameters.values()
    for item in sp.items:
        yield item
        yield from item.parameters.values()
    yield from sp.tables


@pytest.mark.parametrize("path", ELEMENT_FILES, ids=lambda p: p.name)
def test_element_evidence_rolls_up(path: Path) -> None:
    """An element with any needs-verification part is itself needs-verification."""
    el = Element.model_validate(_load(path))
    if any(_ev(part) == NEEDS for part in _parts(el)):
        assert _ev(el) == NEEDS, f"{el.id}: has needs-verification parts but element is {_ev(el)}"


def test_recalled_facts_are_flagged(elements: dict[str, Element]) -> None:
    # IEC-HS (Hines 2023): criteria and grades are recall only.
    iec = elements["iec-hs"]
    assert _ev(iec) == NEEDS
    assert _ev(_table(iec, "iec-hs-grading")) == NEEDS
    for p in iec.starting_point.parameters.values():
        assert _ev(p) == NEEDS
    for item in iec.starting_point.items:
        assert _ev(item) == NEEDS
    assert _ev(_item(elements["dlt"], "DLT-IEC-HS")) == NEEDS

    # Eligibility: myeloma column is recall; ranges that rest on it are flagged.
    elig = elements["eligibility"]
    assert _ev(_table(elig, "eligibility-precedents")) == NEEDS
    assert _ev(_item(elig, "INC-CRCL").parameters["crcl_min"]) == NEEDS
    assert _ev(_item(elig, "INC-PLT").parameters["platelets_min"]) == NEEDS
    assert _ev(_item(elig, "INC-LVEF").parameters["lvef_min"]) == NEEDS
    assert _ev(_item(elig, "EXC-ALLO-HCT")) == NEEDS
    assert _ev(_item(elig, "EXC-ALLO-HCT").parameters["allo_hct_min_days"]) == NEEDS
    assert _ev(_item(elig, "EXC-PRIOR-GENE-THERAPY")) == NEEDS
    assert _ev(_item(elig, "EXC-CNS")) == NEEDS
    # ...while verified ZUMA-1 thresholds stay verified.
    assert _ev(_item(elig, "INC-ANC")) == "verified"
    assert _item(elig, "INC-ANC").parameters["anc_min"].value == 1000
    assert _item(elig, "INC-ALT-AST").parameters["alt_ast_max_uln"].value == 2.5
    assert _item(elig, "INC-CRCL").parameters["crcl_min"].value == 60

    # DLT clauses (section 2.7 of the reference) are recall.
    for item in elements["dlt"].starting_point.items:
        assert _ev(item) == NEEDS, f"dlt/{item.id} should be needs-verification"

    # Recalled management anchors and N-ICAHT.
    tm = elements["toxicity-management"]
    assert _ev(_item(tm, "TM-CORTICOSTEROID-ANCHOR")) == NEEDS
    assert _ev(_table(tm, "n-icaht-grading")) == NEEDS
    assert _ev(_table(tm, "t-icaht-grading")) == "verified"

    # RCL schedule (FDA RCR guidance section IV) is recall; 15-year duration is verified.
    ltfu = elements["long-term-follow-up"]
    assert _ev(ltfu.starting_point.parameters["rcl_timepoints_months"]) == NEEDS
    assert _ev(ltfu.starting_point.parameters["ltfu_years"]) == "verified"
    assert _ev(_item(ltfu, "LTFU-RCL")) == NEEDS

    # Event-based pause rules (section 4.3) are recall.
    sr = elements["stopping-rules"]
    assert _ev(_item(sr, "STOP-G5-RELATED")) == NEEDS
    assert _ev(_item(sr, "PAUSE-G4-CRS-ICANS")) == NEEDS

    # Bridging rules (section 2.5) are recall.
    br = elements["bridging-therapy"]
    assert _ev(br.starting_point.parameters["washout_days_before_ld"]) == NEEDS

    # CAPD item wording is not in the reference.
    assert _ev(_table(elements["icans-grading"], "capd-items")) == NEEDS


def test_fully_sourced_elements_are_verified(elements: dict[str, Element]) -> None:
    crs = elements["crs-grading"]
    assert _ev(crs) == "verified"
    assert all(_ev(p) == "verified" for p in _parts(crs))


# --------------------------------------------------------------------------- published grading


def test_crs_table_matches_astct(elements: dict[str, Element]) -> None:
    crs = elements["crs-grading"]
    t = _table(crs, "astct-crs-grading")
    assert [c.lower() for c in t.columns] == ["grade", "fever", "hypotension", "hypoxia"]
    rows = {r[0]: r for r in t.rows}
    assert set(rows) == {"1", "2", "3", "4", "5"}
    for g in ("1", "2", "3", "4"):
        assert "≥ 38.0 °C" in rows[g][1]
    assert rows["1"][2] == "None" and rows["1"][3] == "None"
    assert "not requiring vasopressors" in rows["2"][2].lower()
    assert "low-flow" in rows["2"][3].lower() and "≤ 6 L/min" in rows["2"][3]
    assert "blow-by" in rows["2"][3].lower()
    assert "one vasopressor" in rows["3"][2].lower() and "vasopressin" in rows["3"][2].lower()
    assert "high-flow" in rows["3"][3].lower() and "> 6 L/min" in rows["3"][3]
    for device in ("facemask", "non-rebreather", "venturi"):
        assert device in rows["3"][3].lower()
    assert "multiple vasopressors" in rows["4"][2].lower()
    assert "excluding vasopressin" in rows["4"][2].lower()
    assert "positive pressure" in rows["4"][3].lower()
    for device in ("cpap", "bipap", "mechanical ventilation"):
        assert device in rows["4"][3].lower()
    assert "death" in rows["5"][1].lower()
    params = crs.starting_point.parameters
    assert params["fever_c"].value == 38.0
    assert params["low_flow_max_l_min"].value == 6
    notes = " ".join(t.notes).lower()
    assert "tocilizumab" in notes and "corticosteroids" in notes
    assert "ctcae" in notes


def test_icans_tables_match_astct(elements: dict[str, Element]) -> None:
    ic = elements["icans-grading"]
    ice = _table(ic, "ice-score")
    assert sum(int(r[2]) for r in ice.rows) == 10
    assert [int(r[2]) for r in ice.rows] == [4, 3, 1, 1, 1]
    adult = {r[0]: r[1:] for r in _table(ic, "astct-icans-adult").rows}
    assert adult["ICE score"][:3] == ["7-9", "3-6", "0-2"]
    assert adult["Depressed level of consciousness"][:3] == [
        "Awakens spontaneously",
        "Awakens to voice",
        "Awakens only to tactile stimulus",
    ]
    assert "> 5 min" in adult["Seizure"][3]
    peds = {r[0]: r[1:] for r in _table(ic, "astct-icans-pediatric").rows}
    assert peds["CAPD score"] == ["1-8", "1-8", "≥ 9", "Unable to perform CAPD"]
    assert ic.starting_point.parameters["pediatric_age_max"].value == 12
    assert ic.starting_point.parameters["capd_positive"].value == 9
    capd = {r[0]: r[1] for r in _table(ic, "capd-scoring").rows}
    assert capd["Total score"] == "0-32" and capd["Positive delirium screen"] == "≥ 9"


# --------------------------------------------------------------------------- computed tables


def _post_exceeds(theta: float, a: int, b: int) -> float:
    """Pr(p > theta) for p ~ Beta(a, b) with integer a, b (= P(Bin(a+b-1, theta) <= a-1))."""
    n = a + b - 1
    return sum(math.comb(n, k) * theta**k * (1 - theta) ** (n - k) for k in range(a))


def test_bayes_stopping_boundaries_recompute(elements: dict[str, Element]) -> None:
    sr = elements["stopping-rules"]
    p = sr.starting_point.parameters
    theta, cut = p["monitoring_theta"].value, p["monitoring_cutoff"].value
    a0, b0 = p["monitoring_prior_a"].value, p["monitoring_prior_b"].value
    for n_str, b_str in _table(sr, "bayes-stopping-boundaries").rows:
        n = int(n_str)
        boundary = next(x for x in range(n + 1) if _post_exceeds(theta, a0 + x, b0 + n - x) > cut)
        assert boundary == int(b_str), f"n={n}: table {b_str}, computed {boundary}"


def test_boin_boundaries_recompute(elements: dict[str, Element]) -> None:
    de = elements["dose-escalation"]
    p = de.starting_point.parameters
    phi = p["target_dlt_rate"].value
    phi1, phi2 = p["boin_phi1_ratio"].value * phi, p["boin_phi2_ratio"].value * phi
    lam_e = math.log((1 - phi1) / (1 - phi)) / math.log(phi * (1 - phi1) / (phi1 * (1 - phi)))
    lam_d = math.log((1 - phi) / (1 - phi2)) / math.log(phi2 * (1 - phi) / (phi * (1 - phi2)))
    cutoff, min_n = p["elimination_cutoff"].value, p["elimination_min_n"].value
    for row in _table(de, "boin-boundaries-target-0.30").rows:
        n = int(row[0])
        elim = None
        if n >= min_n:
            elim = next(
                (y for y in range(n + 1) if _post_exceeds(phi, y + 1, n - y + 1) > cutoff), None
            )
        esc = math.floor(lam_e * n)
        deesc = math.ceil(lam_d * n)
        if elim is not None:
            deesc = min(deesc, elim)
        assert int(row[1]) == esc, f"n={n} escalate"
        assert int(row[2]) == deesc, f"n={n} de-escalate"
        assert row[3] == ("—" if elim is None else str(elim)), f"n={n} eliminate"


def test_three_plus_three_escalation_probability(elements: dict[str, Element]) -> None:
    t = _table(elements["dose-escalation"], "three-plus-three-escalation-probability")
    for p_str, prob in t.rows:
        p = float(p_str)
        expected = (1 - p) ** 3 + 3 * p * (1 - p) ** 2 * (1 - p) ** 3
        assert abs(float(prob) - expected) < 0.0005, p_str
