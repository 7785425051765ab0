"""Results against specifications, method versions and bridging, limit basis, stage logic.

Each test edits a copy of an example into the case a CMC reviewer raised (issue 12): an OOS
clinical lot, an unbridged or 'none'-bridged method change, censored endotoxin, two lots, a
BLA-stage program."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cmc.api import analyse, cmc_outputs, cmc_problems, render_cmc
from generator.problems import Problem, Severity
from tests.cmc.helpers import edit, line_of, resolved, without_stability_lots


def problems(folder: Path, code: str) -> list[Problem]:
    return [p for p in cmc_problems(resolved(folder)) if p.code == code]


def set_cells(lots: Path, lot_id: str, **cells: str) -> int:
    """Write `cells` (column -> text) into the row of `lot_id`; returns the row's line."""
    lines = lots.read_text("utf-8").splitlines()
    header = lines[0].split(",")
    for number, line in enumerate(lines):
        row = line.split(",")
        if row[0] == lot_id:
            for column, text in cells.items():
                row[header.index(column)] = text
            lines[number] = ",".join(row)
            lots.write_text("\n".join(lines) + "\n", "utf-8")
            return number + 1
    raise AssertionError(lot_id)


def column(lots: Path, name: str) -> int:
    return lots.read_text("utf-8").splitlines()[0].split(",").index(name) + 1


# --- out of specification ----------------------------------------------------------------------


def test_oos_clinical_lot_fails_with_row_and_column(cd19: Path) -> None:
    lots = cd19 / "lots.csv"
    row = set_cells(
        lots, "PCT19-006", sterility="Growth (S. epidermidis)", viability="61", vcn="12"
    )
    found = {p.location.column: p for p in problems(cd19, "CM063") if p.location}
    assert sorted(found) == sorted(column(lots, c) for c in ("sterility", "viability", "vcn"))
    for p in found.values():
        assert p.is_error and p.location is not None and p.location.line == row
        assert p.location.file == "cd19-cart-lbcl/lots.csv"
        assert "lot 'PCT19-006' is out of specification" in p.message
    sterility = found[column(lots, "sterility")].message
    assert "'Growth (S. epidermidis)' against 'No growth' (IND criterion in force" in sterility
    assert "'61' against NLT 70" in found[column(lots, "viability")].message


def test_oos_lot_never_loosens_the_proposal(cd19: Path) -> None:
    before = analyse(resolved(cd19))
    assert before is not None
    lower_before = before[1].tests["viability"].interval[0]
    set_cells(cd19 / "lots.csv", "PCT19-006", viability="61")
    edit(
        cd19 / "cmc.yaml",
        "investigations:\n",
        "investigations:\n"
        "  - id: OOS-25-014\n"
        "    lot: PCT19-006\n"
        "    test: viability\n"
        "    root_cause: Thaw water bath above 40 °C during release testing of the retain.\n"
        "    disposition: Retest on a second retain met the specification; lot released.\n",
    )
    # with a documented investigation: a warning, and the lot is left out of limit-setting
    found = [p.severity for p in problems(cd19, "CM064") if "'PCT19-006'" in p.message]
    assert found == [Severity.WARNING]
    assert problems(cd19, "CM063") == []
    after = analyse(resolved(cd19))
    assert after is not None
    t = after[1].tests["viability"]
    assert dict(t.not_used)["investigation"] == ("PCT19-006",)
    assert t.interval[0] is not None and lower_before is not None
    assert t.interval[0] >= lower_before - 1.0  # 61 % did not drag the limit down
    module3 = cmc_outputs(resolved(cd19)).documents["module3"].markdown
    assert "Out-of-specification result of lot PCT19-006, investigated under OOS-25-014" in module3


def test_investigation_of_unknown_lot_fails(cd19: Path) -> None:
    edit(
        cd19 / "cmc.yaml",
        "investigations:\n",
        "investigations:\n"
        "  - {id: OOS-1, lot: PCT19-066, test: viability, root_cause: x, disposition: y}\n",
    )
    found = problems(cd19, "CM066")
    assert len(found) == 1 and "did you mean 'PCT19-006'?" in found[0].hint


# --- method versions and bridging --------------------------------------------------------------


@pytest.mark.parametrize("name", ["none", "TBD"])
def test_bridging_study_that_is_no_study_fails(cd19: Path, name: str) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "        bridging_study: BR-VIA-01\n", f"        bridging_study: {name}\n")
    found = problems(cd19, "CM020")
    assert len(found) == 1 and found[0].is_error
    assert found[0].location is not None
    assert found[0].location.line == line_of(cmc, "technique: AO/PI automated image cytometry") - 1
    assert f"'{name}' is no study of this transition" in found[0].message


def test_not_equivalent_bridging_keeps_old_results_apart(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "    conclusion: equivalent\n", "    conclusion: not-equivalent\n")
    # the only error: without the trypan-blue engineering lots the P1 viability quality range
    # rests on 3 clinical lots (88.6 to 89.0), which the P2 lots leave: not comparable (CM115)
    assert [p.code for p in cmc_problems(resolved(cd19)) if p.is_error] == ["CM115"]
    result = analyse(resolved(cd19))
    assert result is not None
    t = result[1].tests["viability"]
    # the four engineering lots were read by trypan blue (v1): shown, not pooled
    assert dict(t.not_used)["method-version"] == ("ENG-01", "ENG-02", "ENG-03", "ENG-04")
    assert {p.method_version for p in t.points if p.use == "method-version"} == {"1"}
    warning = problems(cd19, "CM027")
    assert len(warning) == 1 and "'viability': 4 result(s) by method version(s) v1" in (
        warning[0].message
    )


def test_equivalent_across_units_fails(cd19: Path) -> None:
    # BR-POT-02 bridges % specific lysis to pg/mL: 'equivalent' would pool the two
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "    conclusion: not-equivalent\n", "    conclusion: equivalent\n")
    found = problems(cd19, "CM024")
    assert len(found) == 1 and "results in different units never pool" in found[0].message
    assert "(% specific lysis) and v2 (pg/mL)" in found[0].message


def test_equivalence_conclusion_must_follow_the_numbers(cd19: Path) -> None:
    edit(cd19 / "cmc.yaml", "    margin: 5\n", "    margin: 2.5\n")
    found = problems(cd19, "CM025")
    assert len(found) == 1 and "outside the margin of ±2.5" in found[0].message


def test_results_retested_by_the_current_version_pool(cd19: Path) -> None:
    """The CSV's method-version column overrides the date: the P1 potency results were
    retested by IFN-γ release (v2), though made before v2 was introduced."""
    result = analyse(resolved(cd19))
    assert result is not None
    t = result[1].tests["potency_ifng"]
    assert {p.method_version for p in t.points} == {"2"}
    assert t.n_used == 12
    lots = cd19 / "lots.csv"
    set_cells(lots, "PCT19-001", **{"potency_ifng.method_version": "1"})
    result = analyse(resolved(cd19))
    assert result is not None
    t = result[1].tests["potency_ifng"]
    assert dict(t.not_used)["other-unit"] == ("PCT19-001",) and t.n_used == 11
    set_cells(lots, "PCT19-001", **{"potency_ifng.method_version": "3"})
    found = problems(cd19, "CM026")
    assert len(found) == 1 and found[0].location is not None
    assert found[0].location.column == column(lots, "potency_ifng.method_version")


# --- limit basis, censored results, impossible limits ------------------------------------------


def test_endotoxin_is_a_safety_limit_by_k_over_m(cd19: Path) -> None:
    result = analyse(resolved(cd19))
    assert result is not None
    t = result[1].tests["endotoxin"]
    assert t.basis == "safety" and t.outcome == "safety" and t.interval == (None, None)
    assert t.safety_limit == pytest.approx(5.0)  # 5 EU/kg x 70 kg / 70 mL
    edit(
        cd19 / "cmc.yaml", "ind: {comparator: NMT, value: 5.0,", "ind: {comparator: NMT, value: 6,"
    )
    found = problems(cd19, "CM015")
    assert len(found) == 1 and "above K/M = 5" in found[0].message


def test_censored_endotoxin_is_not_substituted(cd19: Path) -> None:
    # forced onto lot data, 8 of 12 clinical results are '<0.50': no number is proposed
    edit(cd19 / "cmc.yaml", "    k_over_m:", "    basis: lot-data\n    k_over_m:")
    result = analyse(resolved(cd19))
    assert result is not None
    t = result[1].tests["endotoxin"]
    assert (t.n_used, t.n_used_censored) == (4, 8)
    assert t.outcome == "insufficient-uncensored-data" and t.interval == (None, None)
    assert t.proposal is not None and t.proposal.minimum == pytest.approx(0.68)  # no 0.5s
    docs = cmc_outputs(resolved(cd19)).documents
    assert "insufficient uncensored data for a data-derived limit" in docs["module3"].markdown
    assert "insufficient uncensored data" in docs["specification-lifecycle"].markdown


def test_dose_is_never_a_tolerance_interval(cd19: Path) -> None:
    result = analyse(resolved(cd19))
    assert result is not None
    t = result[1].tests["dose_recovery"]
    assert t.basis == "protocol" and t.outcome == "protocol" and t.interval == (None, None)


def _clinical_lots(folder: Path, values: list[str], test: str) -> None:
    lots = folder / "lots.csv"
    lines = lots.read_text("utf-8").splitlines()
    header = lines[0].split(",")
    rows = [lines[0]]
    for i, value in enumerate(values):
        row = lines[1].split(",")
        row[0] = f"B27-{i:03d}"
        row[header.index("use")] = "clinical"
        row[header.index("donor_type")] = "patient"
        row[header.index("process_version")] = "P2"
        row[header.index(test)] = value
        rows.append(",".join(row))
    lots.write_text("\n".join(rows) + "\n", "utf-8")
    without_stability_lots(folder)


def test_two_lots_give_no_number(bcma: Path) -> None:
    _clinical_lots(bcma, ["12.0", "61.0"], "car_expression")
    result = analyse(resolved(bcma))
    assert result is not None
    t = result[1].tests["car_expression"]
    assert t.n_used == 2 and t.outcome == "report-results" and t.interval == (None, None)
    lifecycle = cmc_outputs(resolved(bcma)).documents["specification-lifecycle"].markdown
    row = next(
        line for line in lifecycle.splitlines() if line.startswith("| CAR expression | lot-data")
    )
    assert "| — |" in row and "-" not in row.split("|")[6]  # no tolerance interval printed


def test_interval_beyond_the_physical_range_is_not_enough_data(bcma: Path) -> None:
    # ten lots spread over 8 % to 90 %: NLT would fall below 0 % — not a limit
    values = ["8", "90", "15", "85", "20", "80", "30", "70", "40", "60"]
    _clinical_lots(bcma, values, "car_expression")
    result = analyse(resolved(bcma))
    assert result is not None
    t = result[1].tests["car_expression"]
    assert t.proposal is not None and t.proposal.outcome == "numeric-limits"
    raw_lower = next(x for x in t.proposal.limits if x.method == "tolerance-interval").lower
    assert raw_lower is not None and raw_lower < 0
    assert t.outcome == "not-enough-data" and t.interval == (None, None)


# --- stage logic, safety limits, coverage, readiness -------------------------------------------


def test_bla_stage_proposes_the_commercial_specification(cd19: Path) -> None:
    edit(cd19 / "cmc.yaml", "stage: pivotal", "stage: bla")
    result = analyse(resolved(cd19))
    assert result is not None
    t = result[1].tests["car_expression"]
    # BLA thresholds (10 lots), not post-approval's 30
    assert t.planning_gate == "bla" and t.min_lots == 10 and t.outcome == "numeric-limits"
    row = next(r for r in result[1].lifecycle if r.spec.id == "residual_il2")
    bla, post = row.cells[2], row.cells[3]
    assert bla.proposal_outcome == "numeric-limits" and not bla.proposal_carried
    # post-approval carries the BLA proposal, not the IND criterion
    assert post.proposal_carried and post.proposed_upper == bla.proposed_upper
    # (BLA readiness has errors here, so `build` would stop; the documents still say which
    # gate and threshold the proposals are for)
    bla_title = next(g.title for g in result[0].framework.gates if g.id == "bla")
    lifecycle = render_cmc(resolved(cd19), assets=()).documents["specification-lifecycle"]
    assert f"Proposed limits are for {bla_title}, with that gate's lot threshold" in (
        lifecycle.markdown
    )
    assert "| Residual IL-2 | lot-data | 12 (19) | 10 |" in lifecycle.markdown


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "      ind: {comparator: text, text: No growth}",
            "      ind: {comparator: text, text: Report results.}",
        ),
        (
            "    stages:\n      ind: {comparator: NMT, value: 5}\n",
            "    stages:\n      ind: {comparator: report-results}\n",
        ),
    ],
    ids=["sterility-free-text", "vcn-where-framework-allows"],
)
def test_safety_limit_is_never_report_results(cd19: Path, old: str, new: str) -> None:
    edit(cd19 / "cmc.yaml", old, new)
    found = [p for p in problems(cd19, "CM010") if p.is_error]
    assert len(found) == 1 and "'report results' at IND" in found[0].message


def test_coverage_only_for_attributes_whose_range_lots_explore(cd19: Path) -> None:
    result = analyse(resolved(cd19))
    assert result is not None
    tests = result[1].tests
    assert tests["viability"].coverage_relevant
    for test in ("residual_cd19", "residual_beads", "vcn", "endotoxin"):
        assert not tests[test].coverage_relevant, test
    assert not any("'residual_cd19'" in p.message for p in problems(cd19, "CM071"))


def test_missing_readiness_at_the_current_gate_fails(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "      status: complete\n", "      status: planned\n")
    found = problems(cd19, "CM080")
    assert len(found) == 1 and found[0].is_error
    assert "'PC-01'" in found[0].message and found[0].location is not None
    assert found[0].location.line == line_of(cmc, "      status: planned")


def test_missing_dose_test_at_ind_fails(bcma: Path) -> None:
    cmc = bcma / "cmc.yaml"
    text = cmc.read_text("utf-8").splitlines()
    cmc.write_text("\n".join(x for x in text if "id: dose_recovery" not in x) + "\n", "utf-8")
    lots = bcma / "lots.csv"
    rows = [r.split(",") for r in lots.read_text("utf-8").splitlines()]
    i = rows[0].index("dose_recovery")
    lots.write_text("\n".join(",".join(r[:i] + r[i + 1 :]) for r in rows) + "\n", "utf-8")
    found = problems(bcma, "CM080")
    assert len(found) == 1 and "'dose_cell_count'" in found[0].message and found[0].is_error


def test_proposal_never_loosens_the_criterion_in_force(cd19: Path) -> None:
    result = analyse(resolved(cd19))
    assert result is not None
    t = result[1].tests["potency_ifng"]
    # 12 clinical lots give NLT 246 pg/mL; the pivotal criterion NLT 250 stays
    assert t.from_lots[0] is not None and t.from_lots[0] < 250
    assert t.held and t.interval == (250, None)


def test_readiness_agrees_that_a_safety_limit_needs_a_criterion(cd19: Path) -> None:
    edit(
        cd19 / "cmc.yaml",
        "      ind: {comparator: text, text: No growth}",
        "      ind: {comparator: text, text: report results}",
    )
    result = analyse(resolved(cd19))
    assert result is not None
    ind = next(g for g in result[1].readiness if g.gate == "ind")
    sterility = next(i for i in ind.items if i.subject == "sterility")
    assert sterility.status == "missing" and sterility.reasons == ("criterion-missing",)


def test_two_lots_print_no_mean_3sd_either(bcma: Path) -> None:
    # 12 % and 61 %: mean - 3 SD would be NLT -67 %
    _clinical_lots(bcma, ["12.0", "61.0"], "car_expression")
    lifecycle = cmc_outputs(resolved(bcma)).documents["specification-lifecycle"].markdown
    row = next(x for x in lifecycle.splitlines() if x.startswith("| CAR expression | lot-data"))
    assert row.split("|")[7].strip() == "—" and "-67" not in lifecycle


def test_criterion_in_force_follows_its_effective_date(cd19: Path) -> None:
    edit(
        cd19 / "cmc.yaml",
        "      pivotal: {comparator: NLT, value: 250}",
        '      pivotal: {comparator: NLT, value: 250, effective: "2025-11-01"}',
    )
    lots = cd19 / "lots.csv"
    set_cells(lots, "PCT19-008", potency_ifng="200")  # 2025-10-07: IND 'report results'
    set_cells(lots, "PCT19-010", potency_ifng="200")  # 2025-11-25: pivotal NLT 250
    found = problems(cd19, "CM063")
    assert len(found) == 1 and "lot 'PCT19-010'" in found[0].message
    assert "against NLT 250 (pivotal start criterion in force at release)" in found[0].message


def test_non_clinical_oos_is_a_warning(cd19: Path) -> None:
    set_cells(cd19 / "lots.csv", "ENG-03", viability="61")
    assert problems(cd19, "CM063") == []
    found = problems(cd19, "CM065")
    assert len(found) == 1 and found[0].severity is Severity.WARNING


def test_bridged_results_are_shown_on_the_current_scale(cd19: Path) -> None:
    result = analyse(resolved(cd19))
    assert result is not None
    t = result[1].tests["viability"]
    eng1 = next(p for p in t.points if p.lot_id == "ENG-01")
    assert eng1.method_version == "1" and eng1.shift == pytest.approx(-2.1)
    assert eng1.value == pytest.approx(72.4 - 2.1) and t.n_shifted == 4
    module3 = cmc_outputs(resolved(cd19)).documents["module3"].markdown
    assert "4 result(s) by an earlier method version are shown on the current version's scale" in (
        module3
    )


def test_censored_result_above_an_upper_limit_is_not_a_pass(cd19: Path) -> None:
    # '<8' cannot show NMT 5 EU/mL; '<0.50' does
    set_cells(cd19 / "lots.csv", "PCT19-007", endotoxin="<8")
    found = problems(cd19, "CM063")
    assert len(found) == 1 and "'< 8' against NMT 5" in found[0].message


def test_readiness_is_not_met_with_an_uninvestigated_oos_result(cd19: Path) -> None:
    set_cells(cd19 / "lots.csv", "PCT19-006", sterility="Growth (S. epidermidis)")
    result = analyse(resolved(cd19))
    assert result is not None
    gates = {g.gate: g for g in result[1].readiness}
    pivotal = next(i for i in gates["pivotal"].items if i.subject == "sterility")
    assert pivotal.status == "missing" and pivotal.reasons == ("results-out-of-specification",)
    assert pivotal.n_out_of_specification == 1
    # reported once, by the row and column of the result (CM063), not again as CM080
    assert problems(cd19, "CM080") == []
    readiness = render_cmc(resolved(cd19), assets=()).documents["cmc-readiness"].markdown
    assert "1 clinical result(s) out of specification without a documented investigation" in (
        readiness
    )


def test_bridging_study_without_a_conclusion_fails(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    line = line_of(cmc, "    correction: add-mean-difference")
    edit(cmc, "    conclusion: equivalent\n", "")
    found = [p for p in cmc_problems(resolved(cd19)) if p.is_error]
    assert len(found) == 1 and "conclusion" in found[0].message, found
    assert found[0].location is not None and found[0].location.file.endswith("cmc.yaml")
    assert abs(found[0].location.line - line) <= 20
