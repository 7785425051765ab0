"""`protocmc calc` through a throwaway app that mounts calc_app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from generator.cli_calc import calc_app

app = typer.Typer()
app.add_typer(calc_app, name="calc")
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["calc", *args])
    return result.exit_code, result.stdout, result.stderr


def test_boin_csv() -> None:
    code, out, _ = run("boin", "--target", "0.3", "--max-n", "6", "--format", "csv")
    assert code == 0
    assert out.splitlines() == [
        "n,escalate_if_dlts_le,deescalate_if_dlts_ge,eliminate_if_dlts_ge",
        "1,0,1,NA",
        "2,0,1,NA",
        "3,0,2,3",
        "4,0,2,3",
        "5,1,2,4",
        "6,1,3,4",
    ]


def test_boin_json_and_text() -> None:
    code, out, _ = run("boin", "--target", "0.3", "--max-n", "18", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert round(data["summary"]["lambda_e"], 3) == 0.236
    assert data["rows"][11] == {
        "n": 12,
        "escalate_if_dlts_le": 2,
        "deescalate_if_dlts_ge": 5,
        "eliminate_if_dlts_ge": 7,
    }
    code, text, _ = run("boin", "--target", "0.3", "--max-n", "18")
    assert code == 0 and "lambda_e: 0.236" in text and "lambda_d: 0.359" in text


def test_outputs_are_deterministic() -> None:
    for fmt in ("csv", "markdown", "json"):
        first = run(
            "simulate",
            "--design",
            "boin",
            "--rates",
            "0.1,0.25,0.4",
            "--target",
            "0.25",
            "--max-n",
            "18",
            "--trials",
            "500",
            "--format",
            fmt,
        )
        second = run(
            "simulate",
            "--design",
            "boin",
            "--rates",
            "0.1,0.25,0.4",
            "--target",
            "0.25",
            "--max-n",
            "18",
            "--trials",
            "500",
            "--format",
            fmt,
        )
        assert first[0] == 0 and first == second


def test_stopping_markdown() -> None:
    code, out, _ = run(
        "stopping",
        "--theta",
        "0.2",
        "--cutoff",
        "0.9",
        "--max-n",
        "24",
        "--oc-rates",
        "0.2",
        "--format",
        "markdown",
    )
    assert code == 0
    assert "| 24 | 8 |" in out and "| 3 | 2 |" in out
    assert "- p_stop_at_0.2: 0.40" in out


def test_pocock_and_tolerance() -> None:
    code, out, _ = run("pocock", "--p0", "0.2", "--alpha", "0.1", "--max-n", "20", "-f", "csv")
    assert code == 0 and "20,8" in out.splitlines()
    code, out, _ = run(
        "tolerance", "--n", "10", "--coverage", "0.99", "--confidence", "0.95", "-f", "csv"
    )
    assert code == 0
    assert out.splitlines()[1] == "10,4.437,4.445,3.981"


def test_interval_design_tables() -> None:
    code, out, _ = run("i3plus3", "--target", "0.3", "--max-n", "6", "-f", "csv")
    assert code == 0 and out.splitlines()[-1] == "6,0-1,2,3,4+"
    code, out, _ = run("mtpi2", "--target", "0.3", "--max-n", "3", "-f", "json")
    assert code == 0 and json.loads(out)["rows"][2]["eliminate"] == "3"
    code, out, _ = run("three-plus-three", "-f", "csv")
    assert code == 0 and "0.300,0.494" in out
    code, out, _ = run("three-plus-three", "--rules", "--no-deescalation", "-f", "json")
    assert code == 0 and json.loads(out)["summary"]["allow_deescalation"] == "no"


def test_limits_from_csv(tmp_path: Path) -> None:
    f = tmp_path / "lots.csv"
    f.write_text("lot,viability\nA,91.0\nB,88.5\nC,93.2\n", encoding="utf-8")
    code, out, _ = run(
        "limits", "--csv", str(f), "--column", "viability", "--side", "lower", "-f", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["summary"]["outcome"] == "report-results"
    assert data["rows"][0]["upper"] is None


def test_limits_from_arguments() -> None:
    code, out, _ = run("limits", "1.0", "1.2", "0.9,1.1", "-f", "csv")
    assert code == 0 and out.startswith("method,lower,upper,k,source\n")


@pytest.mark.parametrize(
    "args",
    [
        ["boin", "--target", "1.3"],
        ["boin", "--target", "abc"],
        ["boin", "--target", "0.3", "--phi1", "0.5"],
        ["boin", "--target", "0.3", "--max-n", "2.5"],
        ["boin", "--target", "0.3", "--format", "xml"],
        ["stopping", "--theta", "0.2", "--max-n", "0"],
        ["pocock", "--p0", "nan"],
        ["tolerance", "--n", "1"],
        ["simulate", "--design", "crm", "--rates", "0.1"],
        ["simulate", "--design", "boin", "--rates", "0.1,x", "--target", "0.3", "--max-n", "9"],
        ["limits"],
        ["limits", "--csv", "/nonexistent/lots.csv"],
        ["limits", "1", "two"],
        ["i3plus3", "--target", "0.02"],
        ["boin"],
        ["mtpi2", "--max-n", "9"],
        ["simulate", "--rates", "0.1,0.2"],
        ["stopping"],
        ["pocock"],
        ["tolerance"],
        # limits (analysis/defaults.py)
        ["pocock", "--p0", "0.5", "--alpha", "0.025", "--max-n", "10000", "--looks", "5000,10000"],
        ["pocock", "--p0", "0.2", "--max-n", "100000"],
        ["pocock", "--p0", "0.2", "--max-n", "20", "--looks", "10,30"],
        ["stopping", "--theta", "0.2", "--max-n", "1000000"],
        ["boin", "--target", "0.3", "--max-n", "1001"],
        ["boin", "--target", "0.3", "--n-earlystop", "0"],
        ["boin", "--target", "0.3", "--phi1", "0"],
        ["boin", "--target", "0.3", "--phi2", "0.3"],
        ["i3plus3", "--target", "0.3", "--max-n", "5000"],
        [
            "simulate",
            "--design",
            "boin",
            "--rates",
            "0.1,0.2",
            "--target",
            "0.3",
            "--max-n",
            "30",
            "--trials",
            "1000000000",
        ],
        [
            "simulate",
            "--design",
            "boin",
            "--rates",
            ",".join(["0.1"] * 21),
            "--target",
            "0.3",
            "--max-n",
            "30",
        ],
        ["simulate", "--design", "boin", "--rates", "0.1", "--target", "0.3", "--max-n", "100000"],
        ["simulate", "--design", "3+3", "--rates", "0.1,0.2", "--n-earlystop", "9"],
        [
            "simulate",
            "--design",
            "boin",
            "--rates",
            "0.1",
            "--target",
            "0.3",
            "--max-n",
            "9",
            "--n-earlystop",
            "x",
        ],
    ],
)
def test_bad_parameters_exit_2_with_one_line(args: list[str]) -> None:
    result = runner.invoke(app, ["calc", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert result.stdout == ""


def _strict_json(text: str) -> dict[str, object]:
    def refuse(name: str) -> float:
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)  # type: ignore[no-any-return]


def test_pocock_json_is_finite_at_the_max_n_limit() -> None:
    code, out, _ = run(
        "pocock",
        "--p0",
        "0.5",
        "--alpha",
        "0.025",
        "--max-n",
        "1000",
        "--looks",
        "500,1000",
        "-f",
        "json",
    )
    assert code == 0
    data = _strict_json(out)
    summary = data["summary"]
    assert isinstance(summary, dict) and 0 < summary["crossing_probability_at_p0"] <= 0.025


def test_a_non_finite_result_is_refused_with_exit_2() -> None:
    from generator.cli_calc import Output, _run

    def build() -> Output:
        return Output("t", ["n", "p"], [[1, float("nan")]])

    with pytest.raises(typer.Exit) as exc:
        _run(build, "json")
    assert exc.value.exit_code == 2


def test_simulate_n_earlystop_follows_the_boin_package() -> None:
    """BCMA example, expected scenario: BOIN 2.7.2 get.oc selects DL4 in 43.3% of trials
    (tests/analysis/test_boin_reference.py); the old cap rule gave 34.5%."""
    code, out, _ = run(
        "simulate",
        "--design",
        "boin",
        "--rates",
        "0.05,0.10,0.20,0.30,0.45",
        "--target",
        "0.3",
        "--max-n",
        "30",
        "--n-earlystop",
        "9",
        "-f",
        "json",
    )
    assert code == 0
    data = _strict_json(out)
    assert data["summary"]["n_earlystop"] == 9  # type: ignore[index]
    assert 0.40 < data["rows"][3]["p_select_mtd"] < 0.47  # type: ignore[index]


def test_boin_table_runs_to_max_n_with_a_cap() -> None:
    code, out, _ = run(
        "boin", "--target", "0.3", "--max-n", "24", "--n-earlystop", "9", "-f", "csv"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith(",trial_stops_if_staying")
    assert len(lines) == 25 and lines[-1].startswith("24,")
    assert lines[8].endswith(",no") and lines[9].endswith(",yes")  # n = 8, n = 9


def test_three_plus_three_rules_differ_by_variant() -> None:
    code, with_de, _ = run("three-plus-three", "--rules", "-f", "csv")
    code2, without, _ = run("three-plus-three", "--rules", "--no-deescalation", "-f", "csv")
    assert code == code2 == 0
    assert "3,2,3,mtd_exceeded\n" in with_de and "3,2,3,mtd_exceeded_stop\n" in without


def test_limits_reports_the_anderson_darling_p_as_a_bound_when_clipped() -> None:
    code, out, _ = run(
        "limits", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "100", "-f", "json"
    )
    assert code == 0
    assert _strict_json(out)["summary"]["anderson_darling_p"] == "< 0.01"  # type: ignore[index]
    code, out, _ = run("limits", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "-f", "json")
    assert _strict_json(out)["summary"]["anderson_darling_p"] == "> 0.15"  # type: ignore[index]


def test_help_documents_the_limits() -> None:
    result = runner.invoke(app, ["calc", "--help"], terminal_width=200)
    assert "Limits" in result.stdout and "10,000,000" in result.stdout
    result = runner.invoke(app, ["calc", "simulate", "--help"], terminal_width=200)
    assert "10,000,000" in result.stdout and "1,000" in result.stdout
    assert "--n-earlystop" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["pocock", "--p0", "0.5", "--alpha", "0.025", "--max-n", "10000", "--looks", "5000,10000",
         "-f", "json"],
        ["simulate", "--design", "boin", "--rates", "0.1,0.2", "--target", "0.3", "--max-n", "30",
         "--trials", "1000000000"],
    ],
)  # fmt: skip
def test_reported_commands_through_the_installed_cli(args: list[str]) -> None:
    """The two commands of the finding, in a real process: one line, exit 2, no output."""
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "calc", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_equivalence_sample_size_matches_chow_wang_table_iii() -> None:
    # Chow & Wang (2001) Table III as recomputed by PowerTOST (data set ctCW.III): parallel
    # groups, additive, limits +/-0.2, SD 0.20, true difference 0.05, power 0.8 -> 48 in total
    code, out, _ = run(
        "equivalence", "--margin", "0.2", "--sd", "0.2", "--difference", "0.05", "-f", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["rows"] == [
        {"n_per_group": 24, "n_total": 48, "power_exact": data["rows"][0]["power_exact"]}
    ]
    assert 0.8 <= data["rows"][0]["power_exact"] < 0.83


def test_equivalence_power_table_csv_exact_and_simulated() -> None:
    code, out, _ = run(
        "equivalence",
        "--margin",
        "0.2",
        "--sd",
        "0.2",
        "--difference",
        "0.05",
        "--n",
        "23,24",
        "--method",
        "both",
        "--runs",
        "20000",
        "-f",
        "csv",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "n_per_group,n_total,power_exact,power_simulated"
    rows = [line.split(",") for line in lines[1:]]
    assert [r[0] for r in rows] == ["23", "24"]
    assert float(rows[0][2]) < 0.8 <= float(rows[1][2])
    assert all(abs(float(r[3]) - float(r[2])) < 0.02 for r in rows)


@pytest.mark.parametrize(
    "args",
    [
        ["--sd", "1"],
        ["--margin", "x", "--sd", "1"],
        ["--margin", "1", "--sd", "-1"],
        ["--margin", "1", "--sd", "1", "--difference", "1"],
        ["--margin", "1", "--sd", "1", "--alpha", "0.6"],
        ["--margin", "1", "--sd", "1", "--n", "1"],
        ["--margin", "1", "--sd", "1", "--power", "1.2"],
        ["--margin", "1", "--sd", "1", "--method", "bayes"],
        ["--margin", "1", "--sd", "1", "--method", "simulated", "--runs", "5"],
        ["--margin", "0.001", "--sd", "1000"],
    ],
)
def test_equivalence_bad_parameters_exit_2_with_one_line(args: list[str]) -> None:
    code, out, err = run("equivalence", *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")


@pytest.mark.parametrize(
    "args",
    [
        ["limits", "--csv", "/dev/zero"],
        ["shelf-life", "--csv", "/dev/zero", "--lower", "1"],
        ["limits", "--csv", "."],
    ],
    ids=["limits-device", "shelf-life-device", "limits-folder"],
)
def test_csv_calculators_refuse_what_is_not_a_regular_file(args: list[str]) -> None:
    # through the real CLI with a timeout: reading /dev/zero used to never end
    result = subprocess.run(
        [sys.executable, "-m", "generator", "calc", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "not a regular file" in result.stderr and "Traceback" not in result.stderr


def test_csv_calculators_refuse_text_that_is_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "lots.csv"
    bad.write_bytes(b"\xff\xfeviability\n1\n")
    code, out, err = run("limits", "--csv", str(bad))
    assert code == 2 and "is not UTF-8 text" in out + err
