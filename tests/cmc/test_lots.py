"""The lot CSV loader: every problem of the file in one run, each with file, row and column name."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cmc.lots import REQUIRED_COLUMNS, load_lots
from generator.problems import ProblemsError

HEADER = [*REQUIRED_COLUMNS, "viability", "sterility"]


def _write(tmp_path: Path, rows: list[str], extra_column: str = "") -> Path:
    header = ",".join(HEADER + ([extra_column] if extra_column else []))
    path = tmp_path / "lots.csv"
    path.write_text("\n".join([header, *rows]) + "\n", "utf-8")
    return path


def _row(lot: str, viability: str, extra: bool) -> str:
    return f"{lot},2026-01-0{1 + len(lot) % 8},P1,Site A,patient,clinical,{viability},No growth" + (
        ",x" if extra else ""
    )


def _load(path: Path, catalogue: dict[str, str | None] | None = None) -> list[str]:
    with pytest.raises(ProblemsError) as info:
        load_lots(
            path,
            display="lots.csv",
            numeric_tests={"viability"},
            qualitative_tests={"sterility"},
            catalogue=catalogue,
        )
    return [p.format() for p in info.value.problems]


def test_header_and_row_problems_are_reported_together(tmp_path: Path) -> None:
    # rows 2..13: a repeated lot id at row 9, 'n/a' at row 12, and an unknown column
    rows = [_row(f"L{i:02d}", "85.0", True) for i in range(2, 14)]
    rows[9 - 2] = _row("L03", "85.0", True)
    rows[12 - 2] = _row("L12", "n/a", True)
    found = _load(_write(tmp_path, rows, extra_column="bogus"))
    assert len(found) == 3, found
    unknown, duplicate, not_a_number = sorted(found, key=lambda f: int(f.split(":")[1]))
    assert unknown.startswith(f"lots.csv:1:{len(HEADER) + 1}:") and "column 'bogus'" in unknown
    assert duplicate.startswith("lots.csv:9:1:") and "column 'lot_id'" in duplicate
    assert "first in row 3" in duplicate
    assert not_a_number.startswith(f"lots.csv:12:{HEADER.index('viability') + 1}:")
    assert "'n/a' in column 'viability'" in not_a_number


def test_every_row_problem_names_its_column(tmp_path: Path) -> None:
    path = tmp_path / "lots.csv"
    path.write_text(",".join(HEADER) + "\n" + ",2026-13-01,,,donor,trial,85,No growth\n", "utf-8")
    found = _load(path)
    assert len(found) == 6, found
    for name in ("lot_id", "date", "process_version", "site", "donor_type", "use"):
        assert any(f"column '{name}'" in f for f in found), (name, found)


def test_a_framework_attribute_the_product_lacks_is_not_a_typo(tmp_path: Path) -> None:
    rows = [_row("L01", "85.0", True)]
    catalogue: dict[str, str | None] = {"viability": "viability", "residual_vector": None}
    (exact,) = _load(_write(tmp_path, rows, extra_column="residual_vector"), catalogue)
    assert "did you mean" not in exact
    assert "'residual_vector' is an attribute of the CMC framework" in exact
    assert "add one under 'specifications:' (with attribute: residual_vector)" in exact
    (near,) = _load(_write(tmp_path, rows, extra_column="residual_vectors"), catalogue)
    assert "did you mean" not in near
    assert "the CMC framework has the attribute 'residual_vector'" in near


def test_empty_cells_are_untested_and_censored_results_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "lots.csv"
    path.write_text(
        "\n".join(
            [
                ",".join(HEADER),
                "L01,2026-01-05,P1,Site A,patient,clinical,,No growth",
                "L02,2026-01-06,P1,Site A,healthy-donor,non-clinical,<0.5,",
            ]
        )
        + "\n",
        "utf-8",
    )
    table = load_lots(
        path, display="lots.csv", numeric_tests={"viability"}, qualitative_tests={"sterility"}
    )
    first, second = table.lots
    assert "viability" not in first.results and first.texts == {"sterility": "No growth"}
    assert first.clinical and not second.clinical
    assert second.results["viability"].censored and second.results["viability"].value == 0.5
    assert "sterility" not in second.texts
