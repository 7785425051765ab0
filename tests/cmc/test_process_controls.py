"""Process controls: material grade, open steps, environmental monitoring and container closure
integrity (CM130-CM134), their readiness per gate, and their text in Module 3."""

from __future__ import annotations

from pathlib import Path

from generator.cmc.api import cmc_problems, render_cmc
from generator.problems import Problem, Severity
from tests.cmc.helpers import edit, line_of, resolved


def _problems(folder: Path, code: str) -> list[Problem]:
    return [p for p in cmc_problems(resolved(folder)) if p.code == code]


def _doc(folder: Path, name: str) -> str:
    """The document as rendered, also when `check` reports errors (readiness shows them)."""
    return render_cmc(resolved(folder), assets=()).documents[name].markdown


def _drop_block(path: Path, start: str, end: str) -> None:
    text = path.read_text("utf-8")
    i = text.index(start)
    j = text.index(end, i)
    path.write_text(text[:i] + text[j:], "utf-8")


def _readiness_row(markdown: str, control: str) -> list[str]:
    line = next(ln for ln in markdown.splitlines() if ln.startswith(f"| {control} |"))
    return [c.strip() for c in line.strip("|").split("|")]


# --- material grade ---------------------------------------------------------------------------


def test_research_grade_material_fails_at_pivotal(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    assert _problems(cd19, "CM130") == []
    edit(cmc, "grade: GMP grade (donor-tested)", "grade: Research use only (RUO)")
    found = _problems(cd19, "CM130")
    assert len(found) == 1 and found[0].is_error
    assert "material 'Human AB serum' is 'Research use only (RUO)', research grade" in (
        found[0].message
    )
    assert "(the current stage)" in found[0].message
    assert found[0].location is not None
    assert found[0].location.line == line_of(cmc, "Research use only (RUO)")
    row = _readiness_row(_doc(cd19, "cmc-readiness"), "Grade of raw and ancillary materials")
    assert row[2] == "*At risk*: research-grade material(s): Human AB serum"  # IND
    assert row[3].startswith("**Missing**")  # pivotal


def test_research_grade_is_a_warning_the_gate_before(bcma: Path) -> None:
    found = _problems(bcma, "CM130")
    assert len(found) == 1 and found[0].severity is Severity.WARNING
    assert "Transduction enhancer (poloxamer)" in found[0].message
    edit(bcma / "cmc.yaml", "grade: Research grade with CoA", "grade: GMP")
    assert _problems(bcma, "CM130") == []


# --- open steps -------------------------------------------------------------------------------


def test_open_step_without_controls_fails(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    _drop_block(cmc, "  open_steps:\n", "\nbridging_studies:")
    found = _problems(cd19, "CM131")
    assert len(found) == 1 and found[0].is_error
    assert "process step 'S6' (Formulation and cryopreservation) is open" in found[0].message
    assert found[0].location is not None
    assert found[0].location.line == line_of(cmc, "      system: open")
    row = _readiness_row(_doc(cd19, "cmc-readiness"), "Open processing steps")
    assert row[2].startswith("**Missing**: open step(s) without justification")


def test_open_steps_must_name_open_steps(cd19: Path) -> None:
    edit(cd19 / "cmc.yaml", "  open_steps:\n    S6:\n", "  open_steps:\n    S5:\n")
    messages = [p.message for p in _problems(cd19, "CM132")]
    assert messages == ["process_controls.open_steps names 'S5', a closed step"]
    assert len(_problems(cd19, "CM131")) == 1  # and S6 now has none


# --- environmental monitoring and container closure integrity ---------------------------------


def test_missing_environmental_monitoring_fails(allo: Path) -> None:
    assert _problems(allo, "CM133") == []
    _drop_block(
        allo / "cmc.yaml", "  environmental_monitoring:\n", "  container_closure_integrity:\n"
    )
    found = _problems(allo, "CM133")
    assert len(found) == 1 and found[0].is_error
    assert "no environmental monitoring, expected from ind" in found[0].message


def test_container_closure_integrity_from_pivotal_and_complete_at_bla(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    assert _problems(cd19, "CM134") == []
    edit(cmc, "stage: pivotal", "stage: bla")
    found = _problems(cd19, "CM134")
    assert [p.message for p in found] == [
        "the container closure integrity study is ongoing; a BLA needs it complete"
    ]
    edit(cmc, "stage: bla", "stage: pivotal")
    _drop_block(cmc, "  container_closure_integrity:\n", "  open_steps:\n")
    found = _problems(cd19, "CM134")
    assert len(found) == 1 and "no container closure integrity study" in found[0].message


def test_allo_at_ind_needs_no_complete_cci_yet(allo: Path) -> None:
    assert _problems(allo, "CM134") == []
    row = _readiness_row(_doc(allo, "cmc-readiness"), "Container closure integrity")
    assert row[2:4] == ["Met", "Met"]
    assert row[4] == "**Missing**: the container closure integrity study is not complete"


# --- Module 3 text ----------------------------------------------------------------------------


def test_module3_microbiological_attributes_and_facilities(cd19: Path) -> None:
    markdown = _doc(cd19, "module3")
    micro = markdown[markdown.index(" 3.2.P.2.5 ") : markdown.index(" 3.2.P.2.6 ")]
    assert "**Environmental monitoring.** Non-viable particles continuously" in micro
    assert "**Container closure integrity.** CryoMACS 250 EVA bag with overwrap:" in micro
    assert "(study ongoing)" in micro
    assert "| S6: Formulation and cryopreservation | Cryomedium is added" in micro
    facilities = markdown[markdown.index(" 3.2.A.1 ") : markdown.index(" 3.2.A.2 ")]
    assert "ISO 7 (Grade B) rooms with ISO 5 (Grade A) biosafety cabinets" in facilities
    assert "insertion" not in facilities


def test_readiness_cites_sources_and_marks_unverified(cd19: Path) -> None:
    markdown = _doc(cd19, "cmc-readiness")
    em = _readiness_row(markdown, "Environmental monitoring")
    assert em[1] == "IND filing" and em[-1] == "—"
    line = next(
        ln for ln in markdown.splitlines() if ln.startswith("- **Environmental monitoring**")
    )
    assert "Sources: 21 CFR 1271.195 Environmental control and monitoring" in line
    cci = _readiness_row(markdown, "Container closure integrity")
    assert cci[-1] == "needs verification"
    assert "Exceptional releases recorded: ER-01" in markdown
