"""`protocmc calc` through a throwaway app that mounts calc_app."""

from __future__ import annotations

import json
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
