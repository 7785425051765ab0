"""Shared test helpers: a throwaway product tree per test, and the CLI runner."""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/product.yaml"))

os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
# keep the per-user cache of compiled templates and tables out of the tester's home
os.environ.setdefault("PROTOCMC_CACHE_DIR", tempfile.mkdtemp(prefix="protocmc-test-cache-"))


@pytest.fixture
def minimal_product(tmp_path: Path) -> Path:
    """A copy of the minimal valid product in a temporary folder."""
    target = tmp_path / "product"
    shutil.copytree(FIXTURES / "minimal", target)
    return target / "product.yaml"


@pytest.fixture
def product_with(minimal_product: Path) -> Callable[[str], Path]:
    """The minimal product with YAML appended (a new top-level block)."""

    def make(extra: str) -> Path:
        text = minimal_product.read_text("utf-8") + textwrap.dedent(extra)
        minimal_product.write_text(text, "utf-8")
        return minimal_product

    return make


@pytest.fixture
def cli() -> Callable[..., object]:
    from generator.cli import app

    runner = CliRunner()

    def run(*args: str) -> object:
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run
