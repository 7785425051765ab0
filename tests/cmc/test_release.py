"""Batch analyses per lot (3.2.P.5.4), release testing (3.2.P.5.1), exceptional release and the
K/M endotoxin calculator."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from generator.cli_calc import calc_app
from generator.cmc.api import analyse, cmc_outputs, cmc_problems
from generator.problems import Problem
from tests.cmc.helpers import edit, line_of, resolved

calc = typer.Typer()
calc.add_typer(calc_app, name="calc")


def _module3(folder: Path) -> str:
    return cmc_outputs(resolved(folder)).documents["module3"].markdown


def _section(markdown: str, number: str) -> str:
    start = markdown.index(f" {number} ")
    end = markdown.index("\n#", start)
    return markdown[start:end]


def _row(text: str, first_cell: str) -> list[str]:
    line = next(ln for ln in text.splitlines() if ln.startswith(f"| {first_cell} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def _problems(folder: Path, code: str) -> list[Problem]:
    return [p for p in cmc_problems(resolved(folder)) if p.code == code]


def _set_cell(folder: Path, lot: str, column: str, value: str) -> None:
    path = folder / "lots.csv"
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8"))))
    col = rows[0].index(column)
    for row in rows[1:]:
        if row[0] == lot:
            row[col] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), "utf-8")


# --- batch analyses ---------------------------------------------------------------------------


def test_each_lot_shows_the_criterion_in_force_at_its_release(cd19: Path) -> None:
    text = _section(_module3(cd19), "3.2.P.5.4")
    table = text[: text.index("(3 of 5)")]
    table = table[table.rindex("| Lot | Criteria |") :]
    header = _row(table, "Lot")
    car = header.index("CAR expression (% of viable CD3+)")
    # two criteria rows: the IND criterion (report results), the pivotal one from 2025-10-01
    criteria = [ln for ln in table.splitlines() if ln.startswith("| *Acceptance criterion*")]
    assert len(criteria) == 2
    ind = [c.strip() for c in criteria[0].strip("|").split("|")]
    pivotal = [c.strip() for c in criteria[1].strip("|").split("|")]
    assert ind[1] == "*IND*" and ind[car] == "*Report results*"
    assert pivotal[1] == "*Pivotal from 2025-10-01*"
    assert pivotal[car] == "*NLT 15 % of viable CD3+*"
    # a lot released before 2025-10-01 names the IND criteria, one released after the pivotal
    assert _row(table, "PCT19-007")[1] == "IND"  # released 2025-09-28
    assert _row(table, "PCT19-008")[1] == "Pivotal from 2025-10-01"
    # while 3.2.P.5.1 shows the criterion proposed now
    spec = _section(_module3(cd19), "3.2.P.5.1")
    assert _row(spec, "CAR expression")[2] == "NLT 15 % of viable CD3+"


def test_the_release_date_not_the_manufacture_date_decides_the_criterion(cd19: Path) -> None:
    # PCT19-007 (made 2025-09-16) released after the pivotal criteria took effect
    _set_cell(cd19, "PCT19-007", "release_date", "2025-10-02")
    _set_cell(cd19, "PCT19-007", "infusion_date", "2025-10-06")
    table = _section(_module3(cd19), "3.2.P.5.4")
    assert "| PCT19-007 | Pivotal from 2025-10-01 |" in table


def test_lot_table_shows_dose_dates_and_the_exceptional_release(cd19: Path) -> None:
    text = _section(_module3(cd19), "3.2.P.5.4")
    row = _row(text, "PCT19-002")
    assert row[5:9] == ["DL1", "2025-06-08", "2025-06-12", "**Exceptional release** (ER-01)"]
    assert _row(text, "PCT19-001")[8] == "Met"
    assert _row(text, "ENG-01")[5:8] == ["—", "—", "—"]  # engineering lot: never released
    # the failing result is flagged in the results table
    assert "| PCT19-002 | IND | 88.9 | **72.5** (exceptional release) |" in text
    assert (
        "3.2.P.5.3).\n\n**Exceptional release ER-01, lot PCT19-002** "
        "(Dose (CAR+ viable cells, % of target))." in text
    )
    assert "the treating physician was informed on 2025-06-09" in text
    assert "the regulator on 2025-06-10" in text


def test_an_oos_result_without_exceptional_release_is_flagged_oos(cd19: Path) -> None:
    # drop ER-01 and the infusion date: the lot is out of specification, investigated
    text = (cd19 / "cmc.yaml").read_text("utf-8")
    start, end = text.index("exceptional_releases:\n"), text.index("process_controls:\n")
    (cd19 / "cmc.yaml").write_text(text[:start] + text[end:], "utf-8")
    _set_cell(cd19, "PCT19-002", "infusion_date", "")
    markdown = _section(_module3(cd19), "3.2.P.5.4")
    assert _row(markdown, "PCT19-002")[8] == "Out of specification, investigated"
    assert "| PCT19-002 | IND | 88.9 | **72.5** (OOS, investigated) |" in markdown


def test_earlier_method_versions_are_marked(cd19: Path) -> None:
    text = _section(_module3(cd19), "3.2.P.5.4")
    # viability of the engineering lots was read by trypan blue (v1); AO/PI (v2) is current
    assert "| ENG-01 | IND | 72.4 (v1) |" in text
    assert "| PCT19-001 | IND | 89 |" in text
    assert "(v*n*) was obtained by an earlier version" in text


def test_lot_files_without_the_new_columns_still_load(bcma: Path) -> None:
    assert "release_date" not in (bcma / "lots.csv").read_text("utf-8")
    text = _section(_module3(bcma), "3.2.P.5.4")
    assert _row(text, "ENG-B27-01")[5:8] == ["—", "—", "—"]


def test_bad_release_date_is_reported_with_row_and_column(cd19: Path) -> None:
    _set_cell(cd19, "PCT19-003", "release_date", "2025-06-31")
    found = [p.format() for p in cmc_problems(resolved(cd19)) if p.code == "CL007"]
    header = (cd19 / "lots.csv").read_text("utf-8").splitlines()[0].split(",")
    col = header.index("release_date") + 1
    lines = (cd19 / "lots.csv").read_text("utf-8").splitlines()
    row = next(i for i, x in enumerate(lines, start=1) if x.startswith("PCT19-003,"))
    assert found and found[0].startswith(f"cd19-cart-lbcl/lots.csv:{row}:{col}:")
    assert "'2025-06-31' in column 'release_date'" in found[0]


def test_drug_substance_batch_analyses_cross_refer_or_are_filled(cd19: Path, bcma: Path) -> None:
    assert "its batch analyses are those of the drug product (3.2.P.5.4)" in _section(
        _module3(cd19), "3.2.S.4.4"
    )
    edit(cd19 / "cmc.yaml", "  isolated: false", "  isolated: true")
    assert "batch analyses are those of the drug product" not in _module3(cd19)
    # BCMA tests vector copy number on the drug substance: its own lot table
    ds = _section(_module3(bcma), "3.2.S.4.4")
    assert "Vector copy number (copies/transduced cell)" in ds
    assert "| ENG-B27-02 | IND | 3.1 |" in ds
    assert "Vector copy number" not in _section(_module3(bcma), "3.2.P.5.4")
    assert "may differ from the specification proposed in 3.2.S.4.1." in ds


# --- release testing table --------------------------------------------------------------------


def test_release_testing_table(cd19: Path) -> None:
    text = _section(_module3(cd19), "3.2.P.5.1")
    text = text[text.index("| Test | Sample point |") :]
    assert _row(text, "Sterility")[1:] == [
        "Final product",
        "1 mL of final product per culture bottle (aerobic and anaerobic)",
        "Inoculated at fill; 14-day culture read after infusion",
        "No; released on: Gram stain",
    ]
    assert _row(text, "Replication-competent lentivirus")[1:3] == [
        "Final product",
        "DNA from 1 × 10⁶ final-product cells",
    ]
    assert _row(text, "Mycoplasma")[1] == "In-process"
    assert "Sterility: the result is not available when the lot is released." in text


def test_safety_test_read_after_release_needs_a_test_to_release_on(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        ", result_before_release: false, released_on: gram_stain}",
        ", result_before_release: false}",
    )
    found = _problems(cd19, "CM137")
    assert len(found) == 1 and found[0].is_error
    assert "safety test 'sterility' is read after release" in found[0].message
    assert found[0].location is not None
    assert found[0].location.line == line_of(cmc, "14-day culture read after infusion")


def test_released_on_a_test_read_after_release_fails(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        'timing: "At fill, before cryopreservation", result_before_release: true}',
        'timing: "At fill", result_before_release: false, released_on: endotoxin}',
    )
    found = _problems(cd19, "CM137")
    assert [p.message for p in found] == [
        "'sterility' is released on 'gram_stain', whose result is not available before "
        "release either"
    ]


# --- exceptional release rules ----------------------------------------------------------------


def test_infused_oos_lot_without_exceptional_release_fails(cd19: Path) -> None:
    text = (cd19 / "cmc.yaml").read_text("utf-8")
    start, end = text.index("exceptional_releases:\n"), text.index("process_controls:\n")
    (cd19 / "cmc.yaml").write_text(text[:start] + text[end:], "utf-8")
    found = _problems(cd19, "CM136")
    assert len(found) == 1
    assert (
        "lot 'PCT19-002' was infused on 2025-06-12 with 'dose_recovery' out of spec"
        in found[0].message
    )
    assert not found[0].is_error  # investigation INV-01 may have invalidated the result
    # without the investigation either: an error
    text = (cd19 / "cmc.yaml").read_text("utf-8")
    start, end = text.index("investigations:\n"), text.index("process_controls:\n")
    (cd19 / "cmc.yaml").write_text(text[:start] + text[end:], "utf-8")
    found = _problems(cd19, "CM136")
    assert len(found) == 1 and found[0].is_error
    assert found[0].format().startswith("cd19-cart-lbcl/lots.csv:7:")


def test_exceptional_release_references_are_checked(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "    tests: [dose_recovery]", "    tests: [dose_recovry]")
    edit(cmc, "    investigation: INV-01", "    investigation: INV-02")
    messages = [p.message for p in _problems(cd19, "CM135")]
    assert messages == [
        "exceptional release 'ER-01' names unknown test 'dose_recovry'",
        "exceptional release 'ER-01' names unknown investigation 'INV-02'",
    ]
    assert _problems(cd19, "CM136")  # the failing test is no longer covered


def test_lot_dates_out_of_order_fail(cd19: Path) -> None:
    _set_cell(cd19, "PCT19-004", "infusion_date", "2025-07-19")
    found = _problems(cd19, "CM138")
    assert [p.message for p in found] == [
        "lot 'PCT19-004': infusion date 2025-07-19 is before release date 2025-07-20"
    ]
    assert found[0].is_error


def test_examples_pass_the_release_rules(cd19: Path) -> None:
    codes = {p.code for p in cmc_problems(resolved(cd19)) if p.is_error}
    assert not codes & {f"CM13{i}" for i in range(10)}


# --- calc endotoxin ---------------------------------------------------------------------------


def _calc(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(calc, ["calc", "endotoxin", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("k", "volume", "limit"),
    [
        # USP <85> (K = 5 USP-EU/kg for any route other than intrathecal, 0.2 intrathecal) with a
        # 70 kg adult; worked example of pharmatreasures.com (2020-08-23, "How to calculate
        # endotoxin limits"): a 2 mL IV bolus gives M = 2/70 mL/kg and K/M = 175 EU/mL
        ("5", "2", 175.0),
        # the same dose intrathecally: 0.2 / (2/70) = 7 EU/mL
        ("0.2", "2", 7.0),
        # M = 1.40 mL/kg (98 mL for 70 kg): 350 EU / 98 mL = 3.57 EU/mL (Endotoxin Calculations,
        # scribd 36444222, after the FDA 1987 LAL guideline)
        ("5", "98", 3.5714),
        # the CD19 example: 70 mL given in the hour, K/M = 5 EU/mL
        ("5", "70", 5.0),
    ],
)
def test_calc_endotoxin_matches_worked_values(k: str, volume: str, limit: float) -> None:
    code, out, _ = _calc("--k", k, "--weight", "70", "--dose-volume", volume, "--format", "json")
    assert code == 0
    row = json.loads(out)["rows"][0]
    assert row["limit_eu_per_ml"] == pytest.approx(limit, abs=1e-4)
    assert row["endotoxin_per_dose_eu"] == pytest.approx(float(k) * 70)


def test_calc_endotoxin_is_the_limit_behind_the_specification(cd19: Path) -> None:
    result = analyse(resolved(cd19))
    assert result is not None
    cmc, analysis = result
    km = next(s.k_over_m for s in cmc.product.specifications if s.id == "endotoxin")
    assert km is not None
    code, out, _ = _calc(
        "--k",
        f"{km.k_eu_per_kg}",
        "--weight",
        f"{km.body_weight_kg}",
        "--dose-volume",
        f"{km.dose_volume_ml}",
        "--format",
        "csv",
    )
    assert code == 0
    limit = float(out.splitlines()[1].split(",")[2])
    assert limit == pytest.approx(analysis.tests["endotoxin"].safety_limit)
    # and a written limit above it fails CM015
    edit(
        cd19 / "cmc.yaml",
        "ind: {comparator: NMT, value: 5.0,",
        "ind: {comparator: NMT, value: 6.0,",
    )
    assert [p.code for p in cmc_problems(resolved(cd19)) if p.is_error] == ["CM015"]


def test_calc_endotoxin_formats() -> None:
    code, out, _ = _calc("--dose-volume", "70", "--format", "markdown")
    assert code == 0 and "| m_ml_per_kg | endotoxin_per_dose_eu | limit_eu_per_ml |" in out
    assert "| 1.0000 | 350.0000 | 5.0000 |" in out
    code, out, _ = _calc("--dose-volume", "70")
    assert code == 0 and "Endotoxin limit K/M" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "error: --dose-volume is required"),
        (("--dose-volume", "x"), "error: --dose-volume must be a number, got 'x'"),
        (("--dose-volume", "0"), "error: --dose-volume input should be greater than 0, got 0"),
        (("--dose-volume", "70", "--weight", "-70"), "error: --weight input should be greater"),
        (("--dose-volume", "70", "--k", "nan"), "error: --k must be a finite number, got 'nan'"),
        (("--dose-volume", "70", "--format", "xml"), "error: --format must be one of"),
    ],
)
def test_calc_endotoxin_bad_parameters_exit_2(args: tuple[str, ...], message: str) -> None:
    code, out, err = _calc(*args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith(message)
