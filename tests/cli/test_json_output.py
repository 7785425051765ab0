"""`--format json` / `--output-format json`: one document on stdout with the shape the README
documents (section "Machine-readable output"), for success and for failure, per command."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator import __version__
from tests.conftest import EXAMPLES, FIXTURES, ROOT

Run = Callable[..., Any]

ENVELOPE = {
    "format_version",
    "protocmc_version",
    "command",
    "exit_code",
    "ok",
    "error",
    "counts",
    "problems",
}
PROBLEM = {"code", "severity", "file", "line", "column", "message", "hint"}


def document(result: Any, command: str, exit_code: int) -> dict[str, Any]:
    """The JSON on stdout, with the envelope checked; nothing else on stdout or stderr."""
    assert result.exit_code == exit_code, result.output
    data = json.loads(result.stdout)
    assert set(data) >= ENVELOPE
    assert data["ok"] is (exit_code == 0)
    assert data["format_version"] == 1
    assert data["protocmc_version"] == __version__
    assert data["command"] == command
    assert data["exit_code"] == exit_code
    for p in data["problems"]:
        assert set(p) == PROBLEM
    by_severity = {s: sum(p["severity"] == s for p in data["problems"]) for s in data["counts"]}
    assert data["counts"] == by_severity and set(by_severity) == {"error", "warning", "info"}
    return data


def test_check_json_reports_insertion_points_and_counts(minimal_product: Path, cli: Run) -> None:
    data = document(cli("check", minimal_product, "--format", "json"), "check", 0)
    assert data["ok"] is True and data["error"] is None
    assert data["product"] == str(minimal_product)
    assert (data["release"], data["strict"]) == (False, False)
    assert data["tailoring_entries"] == 0
    points = data["insertion_points"]
    assert points["count"] == len(points["items"]) > 0
    assert all(isinstance(item, str) and item for item in points["items"])
    # the info problem that counts them is in the document even at normal verbosity
    info = [p for p in data["problems"] if p["code"] == "PC001"]
    assert len(info) == 1 and info[0]["severity"] == "info"
    assert info[0]["file"].endswith("product.yaml")


def test_check_json_problem_is_located_with_hint(minimal_product: Path, cli: Run) -> None:
    text = minimal_product.read_text("utf-8").replace("  sponsor_name:", "  sponsor_nam:")
    minimal_product.write_text(text, "utf-8")
    result = cli("check", minimal_product, "--output-format", "json")
    data = document(result, "check", 1)
    assert result.stderr == ""
    [problem] = [p for p in data["problems"] if p["code"] == "PV010"]
    assert problem["severity"] == "error"
    assert problem["file"].endswith("product.yaml")
    assert (problem["line"], problem["column"]) == (10, 3)
    assert problem["hint"] and "sponsor_name" in problem["hint"]
    assert data["counts"]["error"] >= 1


def test_check_json_strict_fails_on_warnings(cli: Run) -> None:
    product = EXAMPLES[0] / "product.yaml"  # CD19: its CMC data carries CM071 warnings
    relaxed = document(cli("check", product, "--format", "json"), "check", 0)
    assert relaxed["counts"]["warning"] > 0
    strict = document(cli("check", product, "--strict", "--format", "json"), "check", 1)
    assert strict["ok"] is False and strict["strict"] is True


def test_check_json_missing_file_is_a_usage_error(tmp_path: Path, cli: Run) -> None:
    missing = tmp_path / "nope.yaml"
    data = document(cli("check", missing, "--format", "json"), "check", 2)
    assert data["error"] == f"no such file: {missing}"
    assert data["problems"] == []


def test_explain_json_value_origin_and_starting_point(cli: Run) -> None:
    path = "elements.dlt.parameters.dlt_window_days"
    plain = ROOT / "examples" / "cd19-cart-lbcl" / "product.yaml"
    data = document(cli("explain", plain, path, "--format", "json"), "explain", 0)
    assert data["path"] == path
    assert data["value"] == 28
    assert data["comes_from"]["origin"] == "framework"
    assert data["comes_from"]["file"].endswith("elements/dlt.yaml")
    assert isinstance(data["comes_from"]["line"], int)
    start = data["starting_point"]
    assert start["value"] == 28 and start["comes_from"]["origin"] == "framework"

    tailored = ROOT / "examples" / "allo-car-nk-solid-tumour" / "product.yaml"
    data = document(cli("explain", tailored, path, "--format", "json"), "explain", 0)
    assert data["value"] == 42 and data["starting_point"]["value"] == 28
    assert data["comes_from"]["origin"] == "product"
    assert data["comes_from"]["file"].endswith("allo-car-nk-solid-tumour/product.yaml")
    assert data["comes_from"]["line"] > 1 and data["comes_from"]["column"] > 1

    product = EXAMPLES[0] / "product.yaml"

    own = document(
        cli("explain", product, "title_page.full_title", "--format", "json"), "explain", 0
    )
    assert own["comes_from"]["origin"] == "product"
    assert own["comes_from"]["file"].endswith("product.yaml")
    assert own["starting_point"] is None
    assert isinstance(own["value"], str) and own["note"]


def test_explain_json_unknown_path(cli: Run) -> None:
    product = EXAMPLES[0] / "product.yaml"
    result = cli("explain", product, "elements.dlt.parameters.dlt_window_day", "--format", "json")
    data = document(result, "explain", 1)
    [problem] = data["problems"]
    assert problem["code"] == "PE001" and "did you mean" in problem["hint"]
    assert "value" not in data


def test_build_json_lists_written_then_skipped_files(
    minimal_product: Path, tmp_path: Path, cli: Run
) -> None:
    out = tmp_path / "out"
    args = ("build", minimal_product, "-o", out, "--format", "md", "--output-format", "json")
    first = document(cli(*args), "build", 0)
    assert first["written"] == [str(out / "protocol.md")]
    assert first["skipped"] == []
    assert (first["product"], first["output"]) == (str(minimal_product), str(out))
    assert all(p["severity"] != "error" for p in first["problems"])  # the build's notes
    again = document(cli(*args), "build", 0)
    assert again["written"] == [] and again["skipped"] == [str(out / "protocol.md")]


def test_build_json_failures(minimal_product: Path, tmp_path: Path, cli: Run) -> None:
    out = tmp_path / "out"
    broken = minimal_product.read_text("utf-8").replace("number_of_arms: 1", "number_of_arms: [1]")
    minimal_product.write_text(broken, "utf-8")
    data = document(cli("build", minimal_product, "-o", out, "--output-format", "json"), "build", 1)
    assert [p["code"] for p in data["problems"] if p["severity"] == "error"] == ["PV020"]
    assert "written" not in data and not out.exists()

    shutil.copy(FIXTURES / "minimal" / "product.yaml", minimal_product)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder", "utf-8")
    refused = document(
        cli("build", minimal_product, "-o", a_file, "--output-format", "json"), "build", 2
    )
    assert refused["error"] and refused["problems"] == []


def _two_products(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "alpha", tmp_path / "beta"
    for folder in (a, b):
        shutil.copytree(FIXTURES / "minimal", folder)
    return a, b


def test_portfolio_json_every_product(tmp_path: Path, cli: Run) -> None:
    a, b = _two_products(tmp_path)
    out = tmp_path / "out"
    args = ("portfolio", a, b, "-o", out, "-j", "1", "--format", "md", "--no-progress")
    data = document(cli(*args, "--output-format", "json"), "portfolio", 0)
    assert data["summary"] == {"built": 2, "skipped": 0, "failed": 0}
    assert data["output"] == str(out) and data["jobs"] == 1
    assert [p["product"] for p in data["products"]] == [str(a), str(b)]
    for entry, name in zip(data["products"], ("alpha", "beta"), strict=True):
        assert entry["status"] == "built" and entry["exit_code"] == 0 and entry["error"] is None
        assert entry["output"] == str(out / name)
        assert entry["files"] == [str(out / name / "protocol.md")]

    text = (b / "product.yaml").read_text("utf-8").replace("phase: Phase 1", "phase: Phase 7")
    (b / "product.yaml").write_text(text, "utf-8")
    data = document(cli(*args, "--output-format", "json"), "portfolio", 1)
    assert data["summary"] == {"built": 0, "skipped": 1, "failed": 1}
    failed = data["products"][1]
    assert failed["status"] == "failed" and failed["exit_code"] == 1
    assert failed["counts"]["error"] >= 1
    assert all(p["file"].endswith("beta/product.yaml") for p in failed["problems"])
    assert data["problems"] == failed["problems"]


def test_portfolio_json_refused_before_building(tmp_path: Path, cli: Run) -> None:
    a, _ = _two_products(tmp_path)
    missing = tmp_path / "missing"
    data = document(
        cli("portfolio", a, missing, "-o", tmp_path / "out", "--output-format", "json"),
        "portfolio",
        2,
    )
    assert "no such product file" in data["error"]


def test_framework_changes_json(cli: Run) -> None:
    data = document(
        cli("framework", "changes", "--since", "0.9.0", "--format", "json"),
        "framework changes",
        0,
    )
    assert data["since"] == "0.9.0"
    newest = data["releases"][0]
    assert newest["version"] == __version__
    assert set(newest["frameworks"]) == {"cmc-staged", "early-phase-cell-therapy"}
    assert all(set(c) == {"framework", "element", "text"} for c in newest["changes"])
    none = document(
        cli("framework", "changes", "--since", __version__, "--format", "json"),
        "framework changes",
        0,
    )
    assert none["releases"] == []
    bad = document(
        cli("framework", "changes", "--since", "soon", "--format", "json"),
        "framework changes",
        2,
    )
    assert "--since takes a version" in bad["error"]
