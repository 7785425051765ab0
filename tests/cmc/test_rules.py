"""CMC rules: each violation fails with a message naming the file and line (or CSV row/column)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cmc.api import cmc_input_files, cmc_problems
from generator.problems import Severity
from tests.cmc.helpers import copy_example, edit, line_of, resolved


def errors(folder: Path) -> list[str]:
    return [p.format() for p in cmc_problems(resolved(folder)) if p.severity is Severity.ERROR]


@pytest.mark.parametrize("name", ["cd19-cart-lbcl", "bcma-cart-rrmm", "allo-car-nk-solid-tumour"])
def test_examples_have_no_cmc_errors(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = copy_example(name, tmp_path)
    assert errors(folder) == []


def test_sterility_report_results_at_ind_fails(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "      ind: {comparator: text, text: No growth}",
        "      ind: {comparator: report-results}",
    )
    found = errors(cd19)
    line = line_of(cmc, "ind: {comparator: report-results}")  # sterility is the first test
    assert len(found) == 1, found
    assert found[0].startswith(f"cd19-cart-lbcl/cmc.yaml:{line}:")
    assert "CM010" in found[0]
    assert "'sterility' is 'report results' at IND" in found[0]
    assert "safety-critical" in found[0]


def test_missing_safety_test_fails(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "  adventitious_viruses: Tested on the vector lot and cell banks (3.2.S.2.3), not on each patient lot.\n",
        "",
    )
    found = errors(cd19)
    assert len(found) == 1 and "CM013" in found[0] and "Adventitious viruses" in found[0]
    assert found[0].startswith(f"cd19-cart-lbcl/cmc.yaml:{line_of(cmc, 'specifications:')}:")


def test_method_transition_without_bridging_fails(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "        bridging_study: BR-VIA-01\n", "")
    found = errors(cd19)
    assert len(found) == 1, found
    # located at the version that changes technique (its 'version' key)
    line = line_of(cmc, "technique: AO/PI automated image cytometry") - 1
    assert found[0].startswith(f"cd19-cart-lbcl/cmc.yaml:{line}:")
    assert "CM020" in found[0] and "without a bridging study" in found[0]
    assert "M-VIA" in found[0]


def test_unknown_attribute_and_method_have_hints(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "    attribute: viability\n", "    attribute: viabilty\n")
    found = errors(cd19)
    assert any("CM001" in f and "did you mean 'viability'?" in f for f in found), found


def test_csv_non_numeric_value_fails_with_row_and_column(cd19: Path) -> None:
    lots = cd19 / "lots.csv"
    lines = lots.read_text("utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[5].split(",")
    col = header.index("viability")
    row[col] = "89,5%".replace(",", ".")
    lines[5] = ",".join(row)
    lots.write_text("\n".join(lines) + "\n", "utf-8")
    found = errors(cd19)
    assert found == [found[0]] and found[0].startswith(
        f"cd19-cart-lbcl/lots.csv:6:{col + 1}: CL006: '89.5%' in column 'viability' is not a number"
    )


def test_csv_unknown_attribute_column_fails(cd19: Path) -> None:
    lots = cd19 / "lots.csv"
    edit(lots, ",viability,", ",viabilty,")
    found = errors(cd19)
    header = lots.read_text("utf-8").splitlines()[0].split(",")
    assert len(found) == 1
    assert found[0].startswith(f"cd19-cart-lbcl/lots.csv:1:{header.index('viabilty') + 1}: CL002")
    assert "did you mean 'viability'?" in found[0]


def test_csv_duplicate_lot_id_fails(cd19: Path) -> None:
    lots = cd19 / "lots.csv"
    edit(lots, "PCT19-002,", "PCT19-001,")
    found = errors(cd19)
    assert len(found) == 1
    line = 7  # header, 4 engineering lots, PCT19-001, then the repeated id
    assert found[0].startswith(
        f"cd19-cart-lbcl/lots.csv:{line}:1: CL005: duplicate lot id 'PCT19-001'"
    )


def test_csv_missing_required_column_fails(cd19: Path) -> None:
    lots = cd19 / "lots.csv"
    text = lots.read_text("utf-8").replace("lot_id,date,", "lot_id,when,", 1)
    lots.write_text(text, "utf-8")
    found = errors(cd19)
    assert any("CL001: required column 'date' is missing" in f for f in found), found


def test_undeclared_process_version_in_csv(cd19: Path) -> None:
    lots = cd19 / "lots.csv"
    edit(lots, "2025-01-14,P1,", "2025-01-14,P9,")
    found = errors(cd19)
    header = lots.read_text("utf-8").splitlines()[0].split(",")
    assert any(
        f.startswith(f"cd19-cart-lbcl/lots.csv:2:{header.index('process_version') + 1}: CM060")
        for f in found
    ), found
    # ENG-01 is also a pre-change lot of the comparability study, which expects P1
    assert any("CM111" in f and "'ENG-01'" in f for f in found), found


def test_yaml_problems_are_located(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "stage: pivotal", "stage: pivtal")
    found = errors(cd19)
    assert found[0].startswith(f"cd19-cart-lbcl/cmc.yaml:{line_of(cmc, 'stage: pivtal')}:8: PV020")


def test_numeric_limit_from_too_few_lots_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = copy_example("bcma-cart-rrmm", tmp_path)
    warnings = [p for p in cmc_problems(resolved(folder)) if p.code == "CM070"]
    assert [w.message.split(";")[0] for w in warnings] == [
        "'vcn' has a numerical limit at IND with data from 2 lot(s)"
    ]


def test_product_without_cmc_has_no_problems(cd19: Path) -> None:
    edit(cd19 / "product.yaml", "cmc: cmc.yaml\n", "")
    r = resolved(cd19)
    assert cmc_problems(r) == []
    assert cmc_input_files(r) == []


def test_input_files(cd19: Path) -> None:
    names = [p.name for p in cmc_input_files(resolved(cd19))]
    assert names == [
        "cmc.yaml",
        "lots.csv",
        "stability.csv",
        "cmc-framework.yaml",
        "module3-m4q-r1.yaml",
    ]
