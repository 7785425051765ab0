"""Content checks for the early-phase cell-therapy framework (framework.yaml + elements/*.yaml).

Loads the YAML with plain ruamel.yaml (safe loader) so the tests do not depend on the project loader.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from generator.models.common import SourceKind
from generator.models.framework import Element, Framework, TextPart
from generator.resolve import FACT_NAMES
from generator.textfill import PLACEHOLDER, condition_names, placeholders

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
        "gvhd-grading",
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

    # the analysis computes one boundary table per monitoring rule from these item parameters
    rules = [
        i for i in elements["stopping-rules"].starting_point.items if i.kind == "monitoring-rule"
    ]
    assert [r.id for r in rules] == ["MON-G4-CRS-ICANS"]
    assert set(rules[0].parameters) == {
        "monitoring_theta",
        "monitoring_cutoff",
        "monitoring_prior_a",
        "monitoring_prior_b",
        "monitoring_from_n",
        "monitored_event",
    }

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


def _conditions(text: str | list[TextPart]) -> list[str]:
    return [] if isinstance(text, str) else [p.when for p in text if p.when]


FACTS = set(FACT_NAMES)


@pytest.mark.parametrize("path", ELEMENT_FILES, ids=lambda p: p.name)
def test_placeholders_and_conditions_resolve(path: Path) -> None:
    el = Element.model_validate(_load(path))
    sp = el.starting_point
    el_params = set(sp.parameters)
    for where, text in (("starting_point.text", sp.text), ("rationale", el.rationale)):
        unknown = _names(text) - el_params
        assert not unknown, f"{el.id}: {where} uses unknown {unknown}"
    conditions = [el.when] if el.when else []
    conditions += _conditions(sp.text) + _conditions(el.rationale)
    conditions += [t.when for t in sp.tables if t.when]
    for item in sp.items:
        unknown = _names(item.text) - el_params - set(item.parameters)
        assert not unknown, f"{el.id}/{item.id}: unknown placeholders {unknown}"
        names = el_params | set(item.parameters) | FACTS
        for cond in ([item.when] if item.when else []) + _conditions(item.text):
            unknown = set(condition_names(cond)) - names
            assert not unknown, f"{el.id}/{item.id}: condition '{cond}' names unknown {unknown}"
    for cond in conditions:
        unknown = set(condition_names(cond)) - el_params - FACTS
        assert not unknown, f"{el.id}: condition '{cond}' names unknown {unknown}"
    if el.when:
        # an element applies or not for a product, whatever its parameters
        assert set(condition_names(el.when)) <= FACTS, f"{el.id}: element 'when' names a parameter"
    # Text that is not rendered with parameters must not carry placeholders.
    for field in (el.title, el.summary, *(t.text for t in el.tailoring_triggers), *el.notes):
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

    # Eligibility: ranges that rest on recalled myeloma precedent are flagged.
    elig = elements["eligibility"]
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
    # T-ICAHT is verified against its own source: Rejeski et al., Blood 2025, not the
    # EHA/EBMT 2023 consensus, which grades neutrophils only
    t_icaht = _table(tm, "t-icaht-grading")
    assert _ev(t_icaht) == "verified" and t_icaht.sources == ["rejeski-2025-t-icaht"]
    assert "EHA/EBMT" not in t_icaht.title

    # RCL schedule (FDA RCR guidance section IV) is recall; 15-year duration is verified.
    ltfu = elements["long-term-follow-up"]
    assert _ev(ltfu.starting_point.parameters["rcl_timepoints_months"]) == NEEDS
    assert _ev(ltfu.starting_point.parameters["ltfu_years"]) == "verified"
    assert _ev(_item(ltfu, "LTFU-RCL")) == NEEDS

    # Event-based pause rules (section 4.3) are recall.
    sr = elements["stopping-rules"]
    assert _ev(_item(sr, "STOP-G5-RELATED")) == NEEDS
    assert _ev(_item(sr, "PAUSE-G4-CRS-ICANS")) == NEEDS
    # θ and the cut-off are design choices, not computed values
    rule = _item(sr, "MON-G4-CRS-ICANS")
    for name in ("monitoring_theta", "monitoring_cutoff"):
        assert _ev(rule.parameters[name]) == NEEDS, name
        assert "design choice" in (rule.parameters[name].note or "").lower()

    # The MAGIC overall grade was not read in the original; the staging table was checked.
    gvhd = elements["gvhd-grading"]
    assert _ev(_table(gvhd, "magic-agvhd-overall-grade")) == NEEDS
    assert _ev(_table(gvhd, "magic-agvhd-staging")) == "verified"

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


# --------------------------------------------------------------------------- MAGIC acute GvHD


def test_gvhd_staging_matches_magic(elements: dict[str, Element]) -> None:
    gvhd = elements["gvhd-grading"]
    assert gvhd.when == "product.source == allogeneic"
    rows = {r[0]: r[1:] for r in _table(gvhd, "magic-agvhd-staging").rows}
    assert set(rows) == {"0", "1", "2", "3", "4"}
    skin = [rows[s][0] for s in "01234"]
    assert "< 25%" in skin[1] and "25-50%" in skin[2] and "> 50%" in skin[3]
    assert "bullous" in skin[4] and "> 5% BSA" in skin[4]
    liver = [rows[s][1] for s in "01234"]
    assert liver == ["< 2 mg/dL", "2-3 mg/dL", "3.1-6 mg/dL", "6.1-15 mg/dL", "> 15 mg/dL"]
    upper = [rows[s][2] for s in "01234"]
    assert upper[0].startswith("No or intermittent") and upper[1].startswith("Persistent")
    assert upper[2:] == ["—", "—", "—"]  # upper GI has stages 0 and 1 only
    lower = [rows[s][3] for s in "01234"]
    assert "< 500 mL/day or < 3 episodes/day" in lower[0]
    assert "500-999 mL/day or 3-4 episodes/day" in lower[1]
    assert "10-19.9 mL/kg/day or 4-6 episodes/day" in lower[1]
    assert "1000-1500 mL/day or 5-7 episodes/day" in lower[2]
    assert "> 1500 mL/day or > 7 episodes/day" in lower[3]
    assert "regardless of stool volume" in lower[4]
    grades = {r[0]: r[1] for r in _table(gvhd, "magic-agvhd-overall-grade").rows}
    assert list(grades) == ["0", "I", "II", "III", "IV"]
    assert grades["II"].startswith("Stage 3 rash")


# --------------------------------------------------------------------------- protocol prose


def _protocol_texts(el: Element) -> list[tuple[str, str]]:
    """Every string a protocol may print: starting text, items, tables, rationale."""
    out: list[tuple[str, str]] = []

    def add(where: str, text: str | list[TextPart]) -> None:
        for part in [text] if isinstance(text, str) else [p.text for p in text]:
            out.append((where, part))

    add("starting_point.text", el.starting_point.text)
    add("rationale", el.rationale)
    for item in el.starting_point.items:
        add(f"item {item.id}", item.text)
    for t in el.starting_point.tables:
        for cell in [t.title, *t.columns, *t.notes, *(c for row in t.rows for c in row)]:
            add(f"table {t.id}", cell)
    return out


FORBIDDEN_IN_PROTOCOL = re.compile(
    r"\bframework\b|\belements?\b|parker|issue brief|\bseeds?\b|protocmc|needs[- ]verification"
    r"|\brecalled\b|starting[- ]point|lymphoma-based|tailoring|evidence status"
    r"|\b[a-z]+_[a-z_]+\b",  # product-file keys such as true_dlt_scenarios
    re.IGNORECASE,
)


@pytest.mark.parametrize("path", ELEMENT_FILES, ids=lambda p: p.name)
def test_protocol_text_carries_no_framework_commentary(path: Path) -> None:
    """What a protocol prints reads as a sponsor would sign it; commentary lives in notes."""
    el = Element.model_validate(_load(path))
    for where, text in _protocol_texts(el):
        bare = PLACEHOLDER.sub("", text)
        found = FORBIDDEN_IN_PROTOCOL.search(bare)
        assert not found, f"{el.id} {where}: '{found.group(0)}' in protocol text: {text[:90]}"


def test_commentary_check_catches_what_it_should() -> None:
    for bad in (
        "graded as in element iec-hs",
        "see the Parker issue brief",
        "recalled precedent",
        "marked needs-verification",
        "add dose_escalation.true_dlt_scenarios",
        "replace or add to the lymphoma-based defaults",
    ):
        assert FORBIDDEN_IN_PROTOCOL.search(bad), bad
    assert not FORBIDDEN_IN_PROTOCOL.search("Grade 4 CRS (ASTCT), of any duration.")


def _unit_word(unit: str) -> str:
    word = unit.split("/")[0] if unit.startswith("mg") else unit.split()[0]
    return re.escape(word.rstrip("s"))


@pytest.mark.parametrize("path", ELEMENT_FILES, ids=lambda p: p.name)
def test_rationale_states_parameter_values_only_through_placeholders(path: Path) -> None:
    """A rationale that types a parameter's starting value ("the 28-day window") contradicts a
    tailored value; it must use {param:NAME} or sit in a part conditioned on that parameter."""
    el = Element.model_validate(_load(path))
    parts = [TextPart(text=el.rationale)] if isinstance(el.rationale, str) else list(el.rationale)
    for name, p in el.starting_point.parameters.items():
        if isinstance(p.value, bool) or not isinstance(p.value, int | float) or not p.unit:
            continue
        value = f"{p.value:g}"
        pattern = re.compile(rf"(?<![\d.]){re.escape(value)}(?:[- ]|\s*){_unit_word(p.unit)}")
        for part in parts:
            if part.when and name in condition_names(part.when):
                continue
            found = pattern.search(part.text)
            assert not found, f"{el.id}: rationale types {name} = {value}: '{found.group(0)}'"


# --------------------------------------------------------------------------- sources

ALLOWED_HOSTS = (
    "doi.org",
    "pubmed.ncbi.nlm.nih.gov",
    "pmc.ncbi.nlm.nih.gov",
    "www.fda.gov",
    "www.ema.europa.eu",
    "www.ecfr.gov",
    "ctep.cancer.gov",
    "clinicaltrials.gov",
    "cran.r-project.org",
    "www.ich.org",
)
"""Primary literature, regulators and ICH on their own sites, registries, software archives."""

INTERNAL_NAMES = re.compile(r"\b\d{3}_[0-9a-f]{16}\b|\.txt\b|shared/|seeds?\b|background document")


def _host(url: str) -> str:
    return re.sub(r"^https?://", "", url).split("/")[0].lower()


def test_sources_are_primary(framework: Framework) -> None:
    for s in framework.sources:
        assert s.kind is not None, s.id
        if s.url:
            assert _host(s.url) in ALLOWED_HOSTS, f"{s.id}: {s.url} is not a primary host"
        assert not INTERNAL_NAMES.search(s.citation), f"{s.id}: internal file name in citation"
        if s.kind is SourceKind.ARTICLE:
            assert s.doi or s.pmid or (s.url and "pmc.ncbi" in s.url), s.id
            assert s.title and s.container and s.year, f"{s.id}: structured citation fields"
        if s.kind is SourceKind.REGISTRY:
            assert s.nct and s.nct in (s.url or ""), s.id
    background = {s.id for s in framework.sources if s.kind is SourceKind.BACKGROUND}
    assert {"parker-2026-issue-brief", "cdmo-cmc-roadmap"} <= background


@pytest.mark.parametrize(
    "url",
    [
        "https://www.drugs.com/dosage/carvykti.html",
        "https://www.medilib.ir/uptodate/show/90856",
        "https://docslib.org/doc/5399548/",
        "https://clinicaltrialcompass.org/trial/NCT07488546",
        "https://www.centerwatch.com/articles/26035",
        "https://www.chop.edu/node/138797",
    ],
)
def test_source_host_check_refuses_mirrors(url: str) -> None:
    assert _host(url) not in ALLOWED_HOSTS


def test_internal_name_check_catches_seed_files() -> None:
    assert INTERNAL_NAMES.search("Project background document 000_fe394c8914210cb0.")
    assert not INTERNAL_NAMES.search(
        "Lee DW, et al. Biol Blood Marrow Transplant. 2019;25(4):625-638."
    )
