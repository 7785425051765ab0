"""Portfolio builds: one bad product does not stop or damage the others; unchanged ones skip."""

from __future__ import annotations

import shutil
from pathlib import Path

from generator.portfolio import build_portfolio
from tests.conftest import FIXTURES


def _products(root: Path, count: int) -> list[Path]:
    folders = []
    for i in range(count):
        folder = root / f"p{i}"
        shutil.copytree(FIXTURES / "minimal", folder)
        product = folder / "product.yaml"
        product.write_text(
            product.read_text("utf-8").replace("TEST-101", f"TEST-1{i:02d}"), "utf-8"
        )
        folders.append(folder)
    return folders


def test_bad_product_is_reported_and_the_others_build(tmp_path: Path) -> None:
    products = _products(tmp_path / "in", 4)
    bad = products[1] / "product.yaml"
    bad.write_text(bad.read_text("utf-8") + "oops: [\n", "utf-8")
    out = tmp_path / "out"

    result = build_portfolio(products, out, jobs=2, formats=("md",), progress=False)

    assert [o.status for o in result.outcomes] == ["built", "failed", "built", "built"]
    failed = result.outcomes[1]
    assert any("PY001" in line and "p1/product.yaml:48:1" in line for line in failed.problems)
    assert not (out / "p1").exists()
    for name in ("p0", "p2", "p3"):
        text = (out / name / "protocol.md").read_text("utf-8")
        assert f"TEST-1{name[1:].zfill(2)}" in text

    again = build_portfolio(products, out, jobs=2, formats=("md",), progress=False)
    assert [o.status for o in again.outcomes] == ["skipped", "failed", "skipped", "skipped"]
    assert not again.ok
