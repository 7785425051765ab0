"""Stability results and shelf life (generator/cmc/stability*.py): the ICH Q1E estimate against
published values, the no-extrapolation rule, claims, the results CSV and the current process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from generator.cli_calc import calc_app
from generator.cmc.api import analyse, cmc_problems, render_cmc
from generator.cmc.loader import load_cmc
from generator.cmc.stability import evaluate_stability, fit_shelf_life
from generator.problems import ProblemsError, Severity
from tests.cmc.helpers import edit, line_of, resolved

# Potency (% of label claim) of six batches, months 0 to 24, from LeBlond D, Griffith D,
# Aubuchon K. "Linear Regression 102: Stability Shelf Life Estimation Using Analysis of
# Covariance", J Valid Technol 2011;17(3):47-68, Tables IV, VI and VIII, as distributed in the
# R package expirest (data set exp1, github.com/piusdahinden/expirest).
MONTHS = {
    "b2": (0, 1, 3, 3, 6, 6, 12, 12, 24, 24),
    "b3": (0, 3, 3, 6, 6, 12, 12, 24, 24),
    "b4": (0, 3, 6, 6, 12, 12, 24, 24),
    "b5": (0, 1, 2, 3, 3, 6, 6, 12, 12, 24, 24),
    "b7": (0, 1, 3, 3, 6, 6, 12, 12, 24, 24),
    "b8": (0, 3, 6, 12, 12),
}
POTENCY = {
    "b2": (101.0, 101.3, 99.8, 99.2, 99.5, 97.8, 97.4, 97.2, 96.9, 96.0),
    "b3": (104.8, 103.0, 101.2, 100.8, 99.2, 98.6, 97.2, 97.6, 98.0),
    "b4": (104.0, 103.2, 102.8, 103.3, 102.4, 101.2, 99.1, 99.5),
    "b5": (102.0, 101.4, 100.8, 100.2, 99.7, 98.8, 98.5, 98.0, 97.1, 96.6, 96.1),
    "b7": (101.3, 101.5, 100.2, 99.8, 99.0, 98.5, 98.5, 97.4, 96.6, 96.4),
    "b8": (101.6, 100.0, 99.0, 97.8, 97.0),
}


def _leblond(batches: tuple[str, ...]) -> tuple[list[str], list[float], list[float]]:
    lots = [b for b in batches for _ in MONTHS[b]]
    months = [float(m) for b in batches for m in MONTHS[b]]
    values = [v for b in batches for v in POTENCY[b]]
    return lots, months, values


@pytest.mark.parametrize(
    ("batches", "model", "shelf_life"),
    [
        # expirest tests/testthat/test-expirest_osle.R, "results match LeBlond 2011": the
        # common-intercept/common-slope case (LeBlond Table V, Figure 4: 26 months) ...
        (("b2", "b5", "b7"), "common", 25.9957631369),
        # ... the different-intercept/common-slope case (Table VII: 23.4 months) ...
        (("b3", "b4", "b5"), "common-slope", 23.3972651235),
        # ... and separate lines, worst batch b8: 15.844877978 months in SAS JMP 12.0.1 as the
        # expirest test records it (LeBlond report 15.6 with the pooled mean square error).
        (("b4", "b5", "b8"), "separate", 15.844877978),
    ],
)
def test_q1e_shelf_life_matches_leblond_2011(
    batches: tuple[str, ...], model: str, shelf_life: float
) -> None:
    lots, months, values = _leblond(batches)
    fit = fit_shelf_life(
        lots,
        months,
        values,
        lower=95.0,
        upper=None,
        confidence=0.95,
        alpha_pool=0.25,
        horizon=30,
    )
    assert fit is not None
    assert fit.model == model
    assert fit.crossing == pytest.approx(shelf_life, abs=2e-5)


def test_q1e_common_line_matches_leblond_2011() -> None:
    # expirest: intercept 100.566878981 and slope -0.192993630573 of the pooled line (b2, b5, b7)
    lots, months, values = _leblond(("b2", "b5", "b7"))
    fit = fit_shelf_life(
        lots, months, values, lower=95.0, upper=None, confidence=0.95, alpha_pool=0.25, horizon=30
    )
    assert fit is not None and len(fit.lines) == 3 and len(fit.curves) == 1
    assert len({(ln.intercept, ln.slope, ln.crossing) for ln in fit.lines}) == 1  # one line
    assert fit.lines[0].intercept == pytest.approx(100.566878981, abs=1e-8)
    assert fit.lines[0].slope == pytest.approx(-0.192993630573, abs=1e-10)
    assert fit.p_slopes is not None and fit.p_slopes > 0.25
    assert fit.p_intercepts is not None and fit.p_intercepts > 0.25


def test_a_range_uses_two_sided_bounds() -> None:
    # Q1E: two-sided 95 % limits for a range, i.e. each side at 97.5 %: the lower bound then
    # crosses 95 earlier than the one-sided 95 % bound does
    lots, months, values = _leblond(("b2", "b5", "b7"))
    common = {"confidence": 0.95, "alpha_pool": 0.25, "horizon": 30.0}
    one_sided = fit_shelf_life(lots, months, values, lower=95.0, upper=None, **common)
    two_sided = fit_shelf_life(lots, months, values, lower=95.0, upper=120.0, **common)
    at_975 = fit_shelf_life(
        lots, months, values, lower=95.0, upper=None, confidence=0.975, alpha_pool=0.25, horizon=30
    )
    assert one_sided and two_sided and at_975
    assert one_sided.crossing and two_sided.crossing and at_975.crossing
    assert two_sided.crossing < one_sided.crossing
    assert two_sided.crossing == pytest.approx(at_975.crossing, abs=1e-9)
    assert two_sided.curves[0].upper is not None and one_sided.curves[0].upper is None


def test_frozen_storage_allows_no_extrapolation(cd19: Path) -> None:
    loaded = analyse(resolved(cd19))
    assert loaded is not None
    cmc, _ = loaded
    evaluations = evaluate_stability(cmc.product, cmc.stability, cmc.framework.stability_evaluation)
    viability = next(t for t in evaluations["ST-01"].tests if t.test == "viability")
    # the confidence bound stays above NLT 70 % for years, but the data end at 12 months
    assert viability.fit is not None and viability.fit.crossing is not None
    assert viability.fit.crossing > 24
    assert viability.last_time == 12 and viability.supported == 12
    assert viability.limited_by == "data"
    assert evaluations["ST-01"].supported == 12 and evaluations["ST-01"].claim_supported


def test_claim_beyond_the_data_is_an_error(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "claim: {period: 12, unit: months}", "claim: {period: 18, unit: months}")
    found = [p for p in cmc_problems(resolved(cd19)) if p.code == "CM125"]
    assert len(found) == 1 and found[0].severity is Severity.ERROR
    line = line_of(cmc, "claim: {period: 18")
    assert found[0].format().startswith(f"cd19-cart-lbcl/cmc.yaml:{line}:")
    assert "claims 18 months, but the results support 12 months" in found[0].message
    assert "no extrapolation" in found[0].message


def test_claim_beyond_the_crossing_is_an_error(cd19: Path) -> None:
    # in-use: viability falls by about 1.2 points an hour; with NLT 85 % the bound of lot
    # ENG-03 (78 % at thaw) is below the criterion from the start
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "      pivotal: {comparator: NLT, value: 70}",
        "      pivotal: {comparator: NLT, value: 85}",
    )
    problems = cmc_problems(resolved(cd19))
    claims = [p for p in problems if p.code == "CM125"]
    assert any("'ST-02' claims 2 hours" in p.message and "crosses" in p.message for p in claims)
    oos = [p for p in problems if p.code == "CM124"]
    assert oos and all(p.severity is Severity.WARNING for p in oos)
    table = (cd19 / "stability.csv").read_text("utf-8").splitlines()
    row = next(n for n, r in enumerate(table, start=1) if r.startswith("ST-01,ENG-03,0,"))
    assert any(p.format().startswith(f"cd19-cart-lbcl/stability.csv:{row}:5:") for p in oos)


def test_claim_without_results_is_a_warning(cd19: Path) -> None:
    edit(
        cd19 / "cmc.yaml",
        "    results: stability.csv\n    claim: {period: 2",
        "    claim: {period: 2",
    )
    path = cd19 / "stability.csv"
    rows = path.read_text("utf-8").splitlines(keepends=True)
    path.write_text("".join(r for r in rows if not r.startswith("ST-02,")), "utf-8")
    found = [p for p in cmc_problems(resolved(cd19)) if p.code == "CM126"]
    assert len(found) == 1 and "'ST-02' claims 2 hours" in found[0].message
    assert "no results that can support it" in found[0].message
    assert found[0].severity is Severity.WARNING


def test_results_csv_problems_are_located_and_reported_together(cd19: Path) -> None:
    path = cd19 / "stability.csv"
    rows = path.read_text("utf-8").splitlines()
    rows = [rows[0] + ",endotoxin"] + [r + "," for r in rows[1:]]
    rows[2] = rows[2].replace("93.1", "93,1x")  # a value with a comma: one cell too many
    rows[3] = rows[3].replace("92.2", "9 2.2")  # not a number
    rows[4] = rows[4].replace(",months,", ",moths,")  # not a unit
    rows[5] = rows[5].replace("ENG-02", "ENG-99")  # not in lots.csv
    rows[6] = rows[6].replace("ENG-02", "PCT19-004")  # a P2 lot on a P1 study
    path.write_text("\n".join(rows) + "\n", "utf-8")
    with pytest.raises(ProblemsError) as caught:
        load_cmc(resolved(cd19))
    found = [p.format() for p in caught.value.problems]
    where = "cd19-cart-lbcl/stability.csv"
    expected = [
        f"{where}:1:8: CM121: column 'endotoxin' is a release test, not a stability test",
        f"{where}:3:1: CM122: row 3 has",
        f"{where}:4:5: CM122: '9 2.2' in column 'viability' is not a number",
        f"{where}:5:4: CM122: 'moths' in column 'time_unit' is not a time unit",
        f"{where}:6:2: CM123: lot 'ENG-99' is not in",
        f"{where}:7:2: CM123: lot 'PCT19-004' is not on study 'ST-01'",
    ]
    for text in expected:
        assert any(f.startswith(text) for f in found), (text, found)


def test_lot_of_another_process_than_the_study(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "    lots: [ENG-02, ENG-03, ENG-04]\n    container: CryoMACS 250 EVA bag with",
        "    lots: [ENG-02, ENG-03, ENG-04, PCT19-004]\n    container: CryoMACS 250 EVA bag with",
    )
    path = cd19 / "stability.csv"
    path.write_text(path.read_text("utf-8") + "ST-01,PCT19-004,0,months,90.1,1200,\n", "utf-8")
    with pytest.raises(ProblemsError) as caught:
        load_cmc(resolved(cd19))
    [problem] = caught.value.problems
    assert problem.code == "CM123"
    assert "'PCT19-004' is of process P2, but study 'ST-01' is on process P1" in problem.message
    assert problem.location is not None and problem.location.column == 2


def test_unknown_lot_on_study_and_missing_results_file(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "    lots: [ENG-02, ENG-03, ENG-04]\n    container: CryoMACS 250 EVA bag (thawed",
        "    lots: [ENG-02, ENG-03, ENG-04, ENG-40]\n    container: CryoMACS 250 EVA bag (thawed",
    )
    found = [p for p in cmc_problems(resolved(cd19)) if p.code == "CM127"]
    assert len(found) == 1 and "'ENG-40'" in found[0].message and "ENG-04" in found[0].hint
    edit(
        cmc,
        "    results: stability.csv\n    claim: {period: 12",
        "    results: stability-st01.csv\n    claim: {period: 12",
    )
    found = [p for p in cmc_problems(resolved(cd19)) if p.code == "CM120"]
    assert len(found) == 1 and "'stability-st01.csv' does not exist" in found[0].message
    assert found[0].location is not None
    assert found[0].location.line == line_of(cmc, "results: stability-st01.csv")


def test_claims_from_an_earlier_process_are_flagged_from_the_lots(cd19: Path) -> None:
    # ST-02 names no process version: its lots (P1) decide, and the current process is P2
    found = [p for p in cmc_problems(resolved(cd19)) if p.code == "CM093"]
    in_use = [p for p in found if "'ST-02'" in p.message]
    assert len(in_use) == 1 and "claims 2 hours and is on lots of process P1" in in_use[0].message


def test_claims_on_the_current_process_are_not_flagged(tmp_path: Path) -> None:
    from tests.cmc.helpers import copy_example

    allo = copy_example("allo-car-nk-solid-tumour", tmp_path)
    codes = {p.code for p in cmc_problems(resolved(allo))}
    assert not codes & {"CM093", "CM124", "CM125", "CM126", "CM128"}


def test_gate_expectation_is_checked_at_the_current_stage(cd19: Path) -> None:
    found = [p for p in cmc_problems(resolved(cd19)) if p.code == "CM128"]
    assert len(found) == 1 and found[0].severity is Severity.WARNING
    assert "pivotal gate expects 1 lot(s) of the current process" in found[0].message


def test_module3_stability_sections(cd19: Path) -> None:
    outputs = render_cmc(resolved(cd19), assets=("png", "svg"))
    markdown = outputs.documents["module3"].markdown
    summary = markdown.split("3.2.P.8.1", 1)[1].split("3.2.P.8.2", 1)[0]
    assert "A shelf life of 12 months is proposed." in summary
    assert "An in-use period of 2 hours is proposed." in summary
    assert (
        "| Shelf life | 12 months | ≤ −150 °C, vapour phase of liquid nitrogen | ST-01 |" in summary
    )
    assert "not of the current process P2" in summary  # a review mark
    commitment = markdown.split("3.2.P.8.2", 1)[1].split("3.2.P.8.3", 1)[0]
    assert "Three lots of process P2 are placed on the same protocol" in commitment
    data = markdown.split("3.2.P.8.3", 1)[1].split("3.2.A", 1)[0]
    assert "| ENG-03 | 12 | No growth | 76.5 | 874 |" in data
    assert "| Viability | NLT 70 % | common slope, separate intercepts" in data
    assert "](figures/stability-ST-01-viability.png)" in data
    assert outputs.assets["figures/stability-ST-01-viability.png"].startswith(b"\x89PNG")
    readiness = outputs.documents["cmc-readiness"].markdown
    assert "# Stability" in readiness and "| Pivotal study start (current) |" in readiness


def _leblond_csv(folder: Path, batches: tuple[str, ...]) -> Path:
    lots, months, values = _leblond(batches)
    path = folder / "potency.csv"
    rows = [
        "batch,month,potency",
        *(f"{b},{m:g},{v}" for b, m, v in zip(lots, months, values, strict=True)),
    ]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    return path


def _calc(*args: str) -> tuple[int, str, str]:
    app = typer.Typer()
    app.add_typer(calc_app, name="calc")
    result = CliRunner().invoke(app, ["calc", "shelf-life", *args])
    return result.exit_code, result.stdout, result.stderr


def test_calc_shelf_life_matches_leblond_2011(tmp_path: Path) -> None:
    path = _leblond_csv(tmp_path, ("b3", "b4", "b5"))
    columns = ["--lot", "batch", "--time", "month", "--value", "potency"]
    code, out, _ = _calc("--csv", str(path), *columns, "--lower", "95", "-f", "json")
    assert code == 0
    summary = json.loads(out)["summary"]
    assert summary["model"] == "common-slope"
    assert summary["shelf_life"] == pytest.approx(23.3972651235, abs=2e-5)  # expirest, above
    assert summary["longest_time_point"] == 24


@pytest.mark.parametrize(
    "args",
    [
        [],  # no limit
        ["--lower", "95", "--upper", "90"],
        ["--lower", "95", "--confidence", "1.5"],
        ["--lower", "ninety-five"],
        ["--lower", "95", "--value", "assay"],
    ],
)
def test_calc_shelf_life_bad_parameters_exit_2(tmp_path: Path, args: list[str]) -> None:
    path = _leblond_csv(tmp_path, ("b2",))
    columns = ["--lot", "batch", "--time", "month", "--value", "potency"]
    code, out, err = _calc("--csv", str(path), *columns, *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
