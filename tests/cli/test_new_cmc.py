"""`protocmc new NAME --cmc`: a starter cmc.yaml and lots.csv that check clean and build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.cmc.api import analyse
from tests.cmc.helpers import resolved


def test_new_with_cmc_writes_inputs_that_check_and_build(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("new", "fresh", "--cmc")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "fresh"
    product = folder / "product.yaml"
    assert "\ncmc: cmc.yaml\n" in product.read_text("utf-8")
    cmc_text = (folder / "cmc.yaml").read_text("utf-8")
    assert cmc_text.startswith("# yaml-language-server: $schema=")
    assert (folder / "lots.csv").read_text("utf-8").startswith("lot_id,date,process_version,")

    checked = cli("check", product)
    assert checked.exit_code == 0, checked.output
    assert "CM0" not in checked.output and "CL0" not in checked.output  # no CMC warnings either

    # nothing is missing at the starter's stage gate (IND)
    loaded = analyse(resolved(folder))
    assert loaded is not None
    ind = next(g for g in loaded[1].readiness if g.gate == "ind")
    assert ind.counts["missing"] == 0, [i for i in ind.items if i.status == "missing"]

    built = cli("build", product, "-o", folder / "build", "--format", "md")
    assert built.exit_code == 0, built.output
    module3 = (folder / "build" / "module3.md").read_text("utf-8")
    assert "# 3.2.P.5.1 Specification" in module3 and "| ENG-01 |" in module3


def test_new_with_cmc_refuses_to_overwrite(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fresh").mkdir()
    (tmp_path / "fresh" / "cmc.yaml").write_text("kept\n", "utf-8")
    assert cli("new", "fresh", "--cmc").exit_code == 2
    assert (tmp_path / "fresh" / "cmc.yaml").read_text("utf-8") == "kept\n"
    assert not (tmp_path / "fresh" / "product.yaml").exists()
