"""Portfolio builds get the output-folder protections of `protocmc build`, per product."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.paths import FRAMEWORKS_DIR
from tests.conftest import FIXTURES
from tests.outputs.helpers import assert_consistent, one_error_line, snapshot

Run = Callable[..., Any]


def _products(root: Path, *names: str) -> list[Path]:
    folders = []
    for i, name in enumerate(names):
        folder = root / name
        shutil.copytree(FIXTURES / "minimal", folder)
        product = folder / "product.yaml"
        text = product.read_text("utf-8").replace("TEST-101", f"TEST-1{i:02d}")
        product.write_text(text, "utf-8")
        folders.append(folder)
    return folders


def _portfolio(cli: Run, products: list[Path], out: Path) -> Any:
    return cli("portfolio", *products, "-o", out, "--format", "md", "--jobs", "2", "--no-progress")


def test_two_products_with_one_output_folder_are_refused(tmp_path: Path, cli: Run) -> None:
    products = _products(tmp_path / "a", "p") + _products(tmp_path / "b", "p")
    out = tmp_path / "out"

    result = _portfolio(cli, products, out)

    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert "would both build into" in line and str(out / "p") in line
    assert not out.exists()


def test_portfolio_output_that_is_a_file_is_a_usage_error(tmp_path: Path, cli: Run) -> None:
    products = _products(tmp_path / "in", "p0", "p1")
    out = tmp_path / "out"
    out.write_text("keep me", "utf-8")

    result = _portfolio(cli, products, out)

    assert result.exit_code == 2, result.output
    assert one_error_line(result.stderr).endswith("is a file; give a folder")
    assert out.read_text("utf-8") == "keep me"


def test_portfolio_into_the_shipped_frameworks_is_refused(tmp_path: Path, cli: Run) -> None:
    products = _products(tmp_path / "in", "p0")
    out = FRAMEWORKS_DIR / f"test-output-{uuid.uuid4().hex[:8]}"
    try:
        result = _portfolio(cli, products, out)
        assert result.exit_code == 2, result.output
        assert "give a folder outside it" in one_error_line(result.stderr)
        assert not out.exists()
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_portfolio_keeps_the_writers_files_and_refuses_only_that_product(
    tmp_path: Path, cli: Run
) -> None:
    products = _products(tmp_path / "in", "p0", "p1")
    out = tmp_path / "out"
    for name in ("p0", "p1"):
        (out / name).mkdir(parents=True)
        (out / name / ".notes.tmp").write_text("mine", "utf-8")
    (out / "p1" / "protocol.md").write_text("my own protocol.md", "utf-8")

    result = _portfolio(cli, products, out)

    assert result.exit_code == 2, result.output
    assert "p1: failed" in result.stderr and "was not written by protocmc" in result.stderr
    assert snapshot(out / "p1") == {".notes.tmp": b"mine", "protocol.md": b"my own protocol.md"}
    assert (out / "p0" / ".notes.tmp").read_text("utf-8") == "mine"
    assert "TEST-100" in (out / "p0" / "protocol.md").read_text("utf-8")
    assert_consistent(out / "p0", mine=[".notes.tmp"])
