"""Load stability results CSVs: one row per study, lot and time point, one column per stability
test (like the lot CSV); every problem located `file:ROW:COL`, all problems of a file together.

Codes: CM120 a results file that is missing or outside the product folder, CM121 a header
problem, CM122 a cell problem, CM123 a row naming a study or lot that does not fit cmc.yaml
and the lot CSV (unknown study, lot not on the study, lot of another process version).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from generator.cmc.lots import (
    _CSV_HINT,
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_LOTS,
    LotTable,
    Result,
    _number,
    result_cell,
)
from generator.load import character_problems, read_text
from generator.models.cmc import CmcProduct, StabilityStudy
from generator.models.cmc_stability import TIME_UNITS
from generator.problems import Location, Problem, ProblemsError, did_you_mean

REQUIRED_COLUMNS: tuple[str, ...] = ("study", "lot_id", "time_point", "time_unit")


@dataclass(frozen=True)
class StabilityRow:
    study: str
    lot_id: str
    time: float
    unit: str
    line: int
    results: dict[str, Result] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StabilityTable:
    """The rows of one results file (all the studies that name it)."""

    display: str
    columns: tuple[str, ...]
    rows: tuple[StabilityRow, ...]

    def location(self, line: int, column: str) -> Location:
        col = self.columns.index(column) + 1 if column in self.columns else 0
        return Location(self.display, line, col)


@dataclass(frozen=True)
class StabilityData:
    """Results by study id, with the table each came from (for locations)."""

    tables: dict[str, StabilityTable] = field(default_factory=dict)

    def rows_of(self, study: str) -> tuple[StabilityRow, ...]:
        table = self.tables.get(study)
        return tuple(r for r in table.rows if r.study == study) if table else ()


def load_stability(
    product: CmcProduct,
    folder: Path,
    base: Path,
    lots: LotTable,
    numeric_tests: set[str],
    display: Mapping[Path, str] | None = None,
    location_of_file: Mapping[str, Location] | None = None,
) -> StabilityData:
    """Every results file the studies name, checked against cmc.yaml and the lot CSV; raises
    `ProblemsError` with the problems of all files."""
    problems: list[Problem] = []
    tables: dict[str, StabilityTable] = {}
    by_file: dict[str, list[StabilityStudy]] = {}
    for study in product.stability:
        if study.results:
            by_file.setdefault(study.results, []).append(study)
    stability_tests = {s.id for s in product.specifications if "stability" in s.usage}
    release_only = {s.id for s in product.specifications} - stability_tests
    for name, studies in by_file.items():
        path = folder / name
        where = (location_of_file or {}).get(studies[0].id)
        if not path.resolve().is_relative_to(base) or not path.is_file():
            outside = not path.resolve().is_relative_to(base)
            problems.append(
                Problem(
                    "CM120",
                    f"stability results file '{name}' "
                    + ("lies outside the product's folder" if outside else "does not exist"),
                    where,
                    "keep the results inside the product repository, e.g. 'stability.csv' "
                    f"with the header {', '.join(REQUIRED_COLUMNS)}, then the stability test ids",
                )
            )
            continue
        shown = (display or {}).get(path, name)
        table, file_problems = _load_file(path, shown, stability_tests, release_only, numeric_tests)
        file_problems += _reference_problems(
            table, studies, lots, {v.id for v in product.process.versions}
        )
        problems += file_problems
        for study in studies:
            tables[study.id] = table
    if problems:
        raise ProblemsError(problems)
    return StabilityData(tables)


def _load_file(
    path: Path,
    display: str,
    stability_tests: set[str],
    release_only: set[str],
    numeric_tests: set[str],
) -> tuple[StabilityTable, list[Problem]]:
    """The rows that parse, and the problems of the file (header, rows, cells)."""
    text = read_text(path, display)
    problems: list[Problem] = character_problems(text, display)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        header = []
    except csv.Error as exc:
        problems.append(Problem("CM121", f"CSV error: {exc}", Location(display, 1, 1), _CSV_HINT))
        return StabilityTable(display, (), ()), problems
    columns = tuple(h.strip() for h in header[: MAX_COLUMNS + 1])
    index = _check_header(columns, display, stability_tests, release_only, problems)
    rows: list[StabilityRow] = []
    seen: dict[tuple[str, str, float], int] = {}
    line = 1
    try:
        for row in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) >= MAX_LOTS:
                problems.append(
                    Problem("CM122", f"more than {MAX_LOTS:,} rows", Location(display, start, 1))
                )
                break
            if len(row) != len(columns):
                problems.append(
                    Problem(
                        "CM122",
                        f"row {start} has {len(row)} value(s) but the header has "
                        f"{len(columns)} column(s)",
                        Location(display, start, 1),
                        "check for a missing or extra comma; quote values that contain commas",
                    )
                )
                continue
            parsed = _parse_row(row, start, index, numeric_tests, display, problems)
            if parsed is None:
                continue
            key = (parsed.study, parsed.lot_id, parsed.time)
            if key in seen:
                problems.append(
                    Problem(
                        "CM122",
                        f"lot '{parsed.lot_id}' of study '{parsed.study}' has time point "
                        f"{parsed.time:g} twice (first in row {seen[key]})",
                        Location(display, start, index["time_point"] + 1),
                        "one row per study, lot and time point",
                    )
                )
                continue
            seen[key] = start
            rows.append(parsed)
    except csv.Error as exc:
        problems.append(
            Problem("CM121", f"CSV error: {exc}", Location(display, reader.line_num, 1), _CSV_HINT)
        )
    return StabilityTable(display, columns, tuple(rows)), problems


def _check_header(
    columns: tuple[str, ...],
    display: str,
    stability_tests: set[str],
    release_only: set[str],
    problems: list[Problem],
) -> dict[str, int]:
    index: dict[str, int] = {}
    known = sorted(set(REQUIRED_COLUMNS) | stability_tests)
    for col, name in enumerate(columns, start=1):
        where = Location(display, 1, col)
        if name in index:
            problems.append(Problem("CM121", f"column '{name}' appears twice", where))
        elif name in release_only:
            problems.append(
                Problem(
                    "CM121",
                    f"column '{name}' is a release test, not a stability test",
                    where,
                    f"add 'stability' to the usage of specification '{name}' in cmc.yaml "
                    "(usage: [release, stability]) so its criteria apply on stability",
                )
            )
        elif name not in REQUIRED_COLUMNS and name not in stability_tests:
            problems.append(
                Problem(
                    "CM121",
                    f"unknown column '{name}'",
                    where,
                    did_you_mean(name, known)
                    or "columns are study, lot_id, time_point, time_unit and the ids of "
                    "specifications with usage 'stability'",
                )
            )
        else:
            index[name] = col - 1
    if len(columns) > MAX_COLUMNS:
        problems.append(
            Problem("CM121", f"more than {MAX_COLUMNS} columns", Location(display, 1, 1))
        )
    for name in REQUIRED_COLUMNS:
        if name not in index:
            problems.append(
                Problem(
                    "CM121",
                    f"required column '{name}' is missing",
                    Location(display, 1, 1),
                    f"the header must start: {', '.join(REQUIRED_COLUMNS)}",
                )
            )
    return index


def _parse_row(
    row: list[str],
    line: int,
    index: dict[str, int],
    numeric_tests: set[str],
    display: str,
    problems: list[Problem],
) -> StabilityRow | None:
    """One row, or None when a required cell is unusable (its problem is recorded)."""
    before = len(problems)

    def cell(name: str) -> str:
        return row[index[name]].strip() if name in index else ""

    def where(name: str) -> Location:
        return Location(display, line, index[name] + 1 if name in index else 1)

    for name in index:
        if len(row[index[name]]) > MAX_CELL_CHARS:
            problems.append(
                Problem("CM122", f"the cell in column '{name}' is too long", where(name))
            )
    # a required column the header lacks is reported once, by the header check
    for name in ("study", "lot_id"):
        if name in index and not cell(name):
            problems.append(Problem("CM122", f"column '{name}' is empty", where(name)))
    time = _number(cell("time_point"))
    if "time_point" in index and (isinstance(time, str) or time.censored or time.value < 0):
        problems.append(
            Problem(
                "CM122",
                f"time point '{cell('time_point')}' in column 'time_point' is not a number of "
                "0 or more",
                where("time_point"),
                "write the time since the start of the study as a plain number, e.g. 6",
            )
        )
    unit = cell("time_unit")
    if "time_unit" in index and unit not in TIME_UNITS:
        problems.append(
            Problem(
                "CM122",
                f"'{unit}' in column 'time_unit' is not a time unit",
                where("time_unit"),
                did_you_mean(unit, TIME_UNITS) or f"use one of: {', '.join(TIME_UNITS)}",
            )
        )
    results: dict[str, Result] = {}
    texts: dict[str, str] = {}
    for name in index:
        raw = cell(name)
        if name in REQUIRED_COLUMNS or not raw:
            continue
        if name in numeric_tests:
            parsed = result_cell(raw, name, "CM122", where(name))
            if isinstance(parsed, Problem):
                problems.append(parsed)
                continue
            results[name] = parsed
        else:
            texts[name] = raw
    if len(problems) > before or isinstance(time, str):
        return None
    if any(name not in index for name in REQUIRED_COLUMNS):
        return None
    return StabilityRow(cell("study"), cell("lot_id"), time.value, unit, line, results, texts)


def _reference_problems(
    table: StabilityTable, studies: list[StabilityStudy], lots: LotTable, declared: set[str]
) -> list[Problem]:
    """Rows that name a study not using this file, a lot not on the study or not in the lot
    CSV, a lot of another process than the study's, or a second time unit within a study."""
    by_id = {s.id: s for s in studies}
    lot_versions = {lot.lot_id: lot.process_version for lot in lots.lots}
    units: dict[str, str] = {}
    out: list[Problem] = []
    for r in table.rows:
        study = by_id.get(r.study)
        if study is None:
            out.append(
                Problem(
                    "CM123",
                    f"study '{r.study}' does not name this file under 'results:' in cmc.yaml",
                    table.location(r.line, "study"),
                    did_you_mean(r.study, sorted(by_id))
                    or f"add 'results: {table.display.rsplit('/', 1)[-1]}' to the study in "
                    "cmc.yaml, or correct the study id",
                )
            )
            continue
        where = table.location(r.line, "lot_id")
        if r.lot_id not in lot_versions:
            out.append(
                Problem(
                    "CM123",
                    f"lot '{r.lot_id}' is not in {lots.display}",
                    where,
                    did_you_mean(r.lot_id, sorted(lot_versions))
                    or f"add the lot to {lots.display} or correct the id",
                )
            )
        elif study.lots and r.lot_id not in study.lots:
            out.append(
                Problem(
                    "CM123",
                    f"lot '{r.lot_id}' is not on study '{study.id}' (lots: "
                    f"{', '.join(study.lots)})",
                    where,
                    "add it to the study's 'lots:' in cmc.yaml or correct the id",
                )
            )
        elif (
            study.process_version in declared  # an undeclared version is CM092
            and lot_versions[r.lot_id] != study.process_version
        ):
            out.append(
                Problem(
                    "CM123",
                    f"lot '{r.lot_id}' is of process {lot_versions[r.lot_id]}, but study "
                    f"'{study.id}' is on process {study.process_version}",
                    where,
                    "put the lot on a study of its own process version, or correct "
                    "'process_version' of the study",
                )
            )
        first = units.setdefault(r.study, r.unit)
        if r.unit != first:
            out.append(
                Problem(
                    "CM122",
                    f"study '{r.study}' mixes time units ('{first}' and '{r.unit}')",
                    table.location(r.line, "time_unit"),
                    "give every time point of a study in the same unit",
                )
            )
    return out
