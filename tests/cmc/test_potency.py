"""Potency assurance: the mechanism-of-action matrix (cmc.yaml `potency:`), its rules
CM140-CM144 and where Module 3 and the readiness report show it (generator/cmc/potency.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.cmc.api import cmc_problems, render_cmc
from generator.problems import Problem, Severity
from tests.cmc.helpers import edit, line_of, resolved


def _problems(folder: Path, code: str) -> list[Problem]:
    return [p for p in cmc_problems(resolved(folder)) if p.code == code]


def _documents(folder: Path) -> dict[str, str]:
    docs = render_cmc(resolved(folder), assets=()).documents
    return {name: d.markdown for name, d in docs.items()}


def _section(markdown: str, number: str) -> str:
    match = re.search(rf"^#+ {re.escape(number)} .*?$(.*?)(?=^#)", markdown, re.M | re.S)
    assert match, number
    return match.group(1)


def _column(path: Path, line: int, needle: str) -> int:
    return path.read_text("utf-8").splitlines()[line - 1].index(needle) + 1


@pytest.mark.parametrize("example", ["cd19", "bcma", "allo"])
def test_examples_have_a_clean_matrix(example: str, request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue(example)
    found = [p for p in cmc_problems(resolved(folder)) if p.code.startswith("CM14")]
    assert [p for p in found if p.code in {"CM140", "CM141", "CM142", "CM143", "CM144"}] == []


def test_matrix_reference_errors_are_located(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "      elements: [killing]", "      elements: [kiling]")
    edit(cmc, "      specification: potency_ifng", "      specification: potency_ifnx")
    edit(cmc, "    - method: M-CYTOX", "    - method: M-CYTOXX")
    found = {p.message: p for p in _problems(cd19, "CM140")}
    assert len(found) == 3, found
    element = found["potency assay 'M-CYTOXX': unknown MoA element 'kiling'"]
    line = line_of(cmc, "elements: [kiling]")
    assert (element.location.line, element.location.column) == (
        line,
        _column(cmc, line, "kiling"),
    )
    assert "did you mean 'killing'?" in element.format()
    spec = found["potency assay 'M-POT': unknown specification 'potency_ifnx'"]
    assert spec.location.line == line_of(cmc, "specification: potency_ifnx")
    assert "did you mean 'potency_ifng'?" in spec.format()
    method = found["potency assay: unknown method 'M-CYTOXX'"]
    assert method.location.file.endswith("cmc.yaml")
    assert method.location.line == line_of(cmc, "- method: M-CYTOXX")
    assert all(p.severity is Severity.ERROR for p in found.values())


def test_release_use_needs_a_specification_tested_by_the_same_method(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "      use: [characterisation]\n", "      use: [characterisation, release]\n")
    found = _problems(cd19, "CM140")
    assert len(found) == 1 and "used for release but names no specification" in found[0].message
    # the 'use' line of the M-CYTOX assay: method, measures, elements, use
    assert found[0].location.line == line_of(cmc, "- method: M-CYTOX") + 3
    edit(cmc, "      specification: car_expression", "      specification: potency_ifng")
    mismatch = [p for p in _problems(cd19, "CM140") if "tested by method 'M-POT'" in p.message]
    assert len(mismatch) == 1


def test_pivotal_stage_needs_a_quantitative_release_assay(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    assert _problems(cd19, "CM141") == []  # IFN-γ release, NLT 250 pg/mL at pivotal
    # the pivotal IFN-γ criterion becomes 'report results'; CAR expression keeps NLT 15 %, but
    # it is an identity attribute, a surrogate that does not count as the potency assay
    edit(
        cmc,
        "      pivotal: {comparator: NLT, value: 250}",
        "      pivotal: {comparator: report-results}",
    )
    found = _problems(cd19, "CM141")
    assert len(found) == 1 and found[0].severity is Severity.ERROR
    assert "stage 'pivotal' needs a quantitative potency release assay" in found[0].message
    assert found[0].location.line == line_of(cmc, "potency:")
    # the same product at IND passes: report results is acceptable there
    edit(cmc, "stage: pivotal", "stage: ind")
    assert _problems(cd19, "CM141") == []


def test_pivotal_rule_without_a_matrix_points_at_the_stage(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    text = cmc.read_text("utf-8")
    start, end = text.index("\npotency:\n"), text.index("\nsections:\n")
    cmc.write_text(text[:start] + text[end:], "utf-8")
    found = _problems(cd19, "CM141")
    assert len(found) == 1 and found[0].location.line == line_of(cmc, "stage: pivotal")
    assert [p.severity for p in _problems(cd19, "CM142")] == [Severity.WARNING]


def test_element_without_assay_and_unlisted_potency_test_are_warnings(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "    - {id: killing, title: Killing of CD19+ target cells}",
        "    - {id: killing, title: Killing of CD19+ target cells}\n"
        "    - {id: persistence, title: Expansion and persistence}",
    )
    edit(cmc, "      specification: potency_ifng\n", "")
    edit(
        cmc,
        "      use: [characterisation, release]\n      quantitative: true\n      lifecycle: {ind",
        "      use: [characterisation]\n      quantitative: true\n      lifecycle: {ind",
    )
    bare = _problems(cd19, "CM142")
    assert [p.message for p in bare] == ["MoA element 'persistence' is measured by no assay"]
    assert bare[0].location.line == line_of(cmc, "id: persistence")
    unlisted = _problems(cd19, "CM144")
    assert len(unlisted) == 1 and "'potency_ifng'" in unlisted[0].message
    assert unlisted[0].location.line == line_of(cmc, "- id: potency_ifng")


def test_lifecycle_never_goes_back_and_meets_the_framework(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "lifecycle: {ind: fit-for-purpose, pivotal: qualified, bla: validated}",
        "lifecycle: {ind: qualified, pivotal: fit-for-purpose, bla: qualified}",
    )
    found = _problems(cd19, "CM143")
    errors = [p for p in found if p.severity is Severity.ERROR]
    warnings = [p for p in found if p.severity is Severity.WARNING]
    assert [p.message for p in errors] == [
        "potency assay 'M-POT' plans 'fit-for-purpose' at pivotal after 'qualified' at ind"
    ]
    # below the framework: qualified expected at pivotal, validated at BLA
    assert {p.message.split(" plans ")[1].split(";")[0] for p in warnings} == {
        "'fit-for-purpose' at pivotal",
        "'qualified' at bla",
    }


def test_matrix_renders_in_module3_and_readiness(cd19: Path) -> None:
    docs = _documents(cd19)
    p56 = _section(docs["module3"], "3.2.P.5.6")
    assert "Table: Mechanism of action and the assays that measure it" in p56
    row = next(line for line in p56.splitlines() if "IFN-γ released" in line)
    assert "NLT 250 pg/mL" in row and "characterisation, release" in row
    assert "Elements measured by orthogonal assays" in p56
    assert "Recognition of CD19 by the CAR" in p56.split("orthogonal assays")[1]
    s43 = _section(docs["module3"], "3.2.S.4.3")
    lifecycle = next(line for line in s43.splitlines() if line.startswith("| Potency |"))
    # current status at the gates reached (pivotal), the plan after; carried to post-approval
    assert lifecycle.split("|")[3:7] == [
        " qualified ",
        " qualified ",
        " validated (planned) ",
        " validated (planned) ",
    ]
    s31 = _section(docs["module3"], "3.2.S.3.1")
    assert "Cytotoxicity (characterisation)" in s31 and "Specific lysis of CD19+ Raji" in s31
    readiness = docs["cmc-readiness"].split("# Potency assurance", 1)[1]
    pivotal = next(
        row for row in readiness.splitlines() if row.startswith("| Pivotal study start (current)")
    )
    assert "| Met |" in pivotal and "(Potency (IFN-γ release))" in pivotal
    assert pivotal.endswith("| needs verification |")


def test_readiness_shows_the_missing_pivotal_assay(bcma: Path) -> None:
    cmc = bcma / "cmc.yaml"
    # BCMA at IND: neither release assay has a pivotal numerical criterion yet
    readiness = _documents(bcma)["cmc-readiness"].split("# Potency assurance", 1)[1]
    pivotal = next(
        row for row in readiness.splitlines() if row.startswith("| Pivotal study start |")
    )
    assert "**Missing**" in pivotal
    assert "quantitative potency release assay with a numerical criterion: **missing**" in pivotal
    edit(
        cmc,
        'unit: "% specific lysis", usage: [release, stability], stages: {ind: {comparator: report-results}}}',
        'unit: "% specific lysis", usage: [release, stability], stages: {ind: {comparator: report-results}, '
        "pivotal: {comparator: NLT, value: 30}}}",
    )
    readiness = _documents(bcma)["cmc-readiness"].split("# Potency assurance", 1)[1]
    pivotal = next(
        row for row in readiness.splitlines() if row.startswith("| Pivotal study start |")
    )
    assert "numerical criterion: met (Potency (cytotoxicity))" in pivotal


def test_framework_potency_expectations_cite_known_sources() -> None:
    from generator.cmc.loader import load_cmc_framework
    from generator.paths import FRAMEWORKS_DIR

    fw = load_cmc_framework(FRAMEWORKS_DIR / "cmc-staged").framework
    assert fw.potency_assurance is not None
    gates = [e.gate for e in fw.potency_assurance.expectations]
    assert gates == ["ind", "pivotal", "bla", "post-approval"]
    pivotal = fw.potency_assurance.at("pivotal")
    assert pivotal is not None and "quantitative-release-assay" in pivotal.requires
    assert pivotal.evidence == "needs-verification"  # recalled, not read in the draft's text


def test_matrix_shape_errors_are_reported_together_and_located(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "      use: [characterisation]\n", "      use: [characterisaton]\n")
    edit(
        cmc,
        "lifecycle: {pivotal: fit-for-purpose, bla: qualified}",
        "lifecycle: {pivotal: fit-for-purpose, licence: qualified}",
    )
    found = [p for p in cmc_problems(resolved(cd19)) if p.is_error]
    assert len(found) == 2, [p.format() for p in found]
    use, gate = sorted(found, key=lambda p: p.location.line)
    line = line_of(cmc, "use: [characterisaton]")
    assert (use.location.line, use.location.column) == (line, _column(cmc, line, "characterisaton"))
    assert "did you mean 'characterisation'?" in use.format()
    line = line_of(cmc, "licence: qualified")
    # a bad key of a mapping is reported at its entry's value
    column = _column(cmc, line, "licence: qualified") + len("licence: ")
    assert (gate.location.line, gate.location.column) == (line, column)
    assert "'ind', 'pivotal', 'bla' or 'post-approval'" in gate.message
