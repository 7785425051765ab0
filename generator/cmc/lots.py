"""Load the lot-data CSV: one row per lot, one column per test; every problem located row:column.

Locations read `lots.csv:ROW:COL`: the file as displayed, the file line of the row (the header is
line 1) and the 1-based column number.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from generator.load import character_problems, read_text
from generator.models.common import MAX_MAGNITUDE
from generator.problems import MAX_PROBLEMS_KEPT, Location, Problem, ProblemsError, did_you_mean

REQUIRED_COLUMNS: tuple[str, ...] = (
    "lot_id",
    "date",
    "process_version",
    "site",
    "donor_type",
    "use",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("dose_level", "release_date", "infusion_date")
"""Optional lot columns for the batch analyses: the dose level the lot was made for, the date the
lot was released and the date it was infused (dates YYYY-MM-DD; empty when not applicable)."""
LOT_DATE_COLUMNS: tuple[str, ...] = ("release_date", "infusion_date")
METHOD_VERSION_SUFFIX = ".method_version"
"""Optional column `<test>.method_version`: the method version that produced the lot's result
(default: the version in force on the lot date)."""
DONOR_TYPES: tuple[str, ...] = ("patient", "healthy-donor", "allogeneic-donor", "none")
"""'none': a lot made without donor cells, e.g. a vector lot (vector drug substance)."""
USES: tuple[str, ...] = ("clinical", "non-clinical")

MAX_LOTS = 10_000
"""Most lots (data rows) in one lot file."""

MAX_COLUMNS = 200
"""Most columns in one lot file: the required columns plus one per test."""

MAX_CELL_CHARS = 1_000
"""Longest cell: a lot id, a site or a text result."""

MAX_LOT_VALUE = MAX_MAGNITUDE
"""Largest absolute numerical result (1e15): beyond it the statistics overflow or lose all
precision, and no assay reports such a number in its own unit."""

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_PLAIN_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(rf"^{_PLAIN_NUMBER}$")
_CENSORED = re.compile(rf"^<\s*(?P<num>{_PLAIN_NUMBER})$")
"""Numbers as a lab writes them: digits, one decimal point, an optional exponent. No thousands
separators, no underscores (Python's float() would read '7_2.4' as 72.4), no 'nan' or 'inf'."""

_NUMBER_HINT = (
    "write a plain number without units, underscores or thousands separators (e.g. 87.5), "
    "'<0.5' for a result below the reporting limit, or leave the cell empty when not tested"
)


@dataclass(frozen=True)
class Result:
    """One numeric result; `censored` when reported as below a reporting limit ('<0.5')."""

    value: float
    censored: bool = False

    @property
    def display(self) -> str:
        """The result as a Markdown table cell: '87.5', or '&lt; 0.5' when censored.

        The '<' is written as an entity, which pandoc and Python-Markdown (the site) both show
        as '<'. A bare '<' makes pandoc's reader try raw HTML, which turns reading a table of
        many censored results quadratic (minutes at 10,000 lots)."""
        return f"&lt; {self.value:g}" if self.censored else f"{self.value:g}"


@dataclass(frozen=True)
class Lot:
    lot_id: str
    date: str
    process_version: str
    site: str
    donor_type: str
    use: str
    line: int
    results: dict[str, Result] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    method_versions: dict[str, str] = field(default_factory=dict)
    """Method version by test id, where the CSV gives one (`<test>.method_version`)."""
    dose_level: str = ""
    release_date: str = ""
    infusion_date: str = ""

    @property
    def clinical(self) -> bool:
        return self.use == "clinical"

    @property
    def release_day(self) -> str:
        """The date the lot was released (`release_date`), else its manufacture date: the
        criteria in force on it are the ones the lot was tested against."""
        return self.release_date or self.date


@dataclass(frozen=True)
class LotTable:
    path: Path
    display: str
    columns: tuple[str, ...]
    lots: tuple[Lot, ...]

    def column_number(self, name: str) -> int:
        return self.columns.index(name) + 1 if name in self.columns else 0

    def location(self, line: int, column: str) -> Location:
        return Location(self.display, line, self.column_number(column))


def load_lots(
    path: Path,
    *,
    display: str,
    numeric_tests: set[str],
    qualitative_tests: set[str],
    catalogue: Mapping[str, str | None] | None = None,
) -> LotTable:
    """Parse and check the lot CSV; raise `ProblemsError` with every problem found.

    Header and rows are checked in one pass, so a file with a bad column, a repeated lot id and
    a word in a numeric cell reports all three. `catalogue` maps the CMC framework's attribute
    ids to the product's test id for each (None when the product has none), for hints.
    """
    text = read_text(path, display)
    problems: list[Problem] = character_problems(text, display)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ProblemsError(
            [
                Problem(
                    "CL001",
                    "the lot file is empty",
                    Location(display, 1, 1),
                    f"start with a header row: {', '.join(REQUIRED_COLUMNS)}, then the test ids",
                )
            ]
        ) from None
    except csv.Error as exc:
        raise ProblemsError(
            [*problems, Problem("CL010", f"CSV error: {exc}", Location(display, 1, 1), _CSV_HINT)]
        ) from None
    if len(header) > MAX_COLUMNS:
        raise ProblemsError(
            [
                *problems,
                Problem(
                    "CL013",
                    f"the header has {len(header):,} columns; the limit is {MAX_COLUMNS:,}",
                    Location(display, 1, MAX_COLUMNS + 1),
                    "keep one column per test of cmc.yaml 'specifications'",
                ),
            ]
        )
    columns = tuple(h.strip() for h in header)
    index = _check_header(
        columns, display, numeric_tests, qualitative_tests, catalogue or {}, problems
    )

    lots: list[Lot] = []
    first_row: dict[str, int] = {}
    rows = 0
    line = 1
    try:
        for row in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            rows += 1
            if rows > MAX_LOTS:
                problems.append(
                    Problem(
                        "CL011",
                        f"more than {MAX_LOTS:,} lots",
                        Location(display, start, 1),
                        "split the data or exclude old lots",
                    )
                )
                break
            if len(problems) >= MAX_PROBLEMS_KEPT:
                problems.append(
                    Problem(
                        "CL015",
                        f"stopped checking at row {start} after {len(problems):,} problems",
                        Location(display, start, 1),
                        "fix the problems above (often one systematic mistake) and check again",
                    )
                )
                break
            if len(row) != len(columns):
                problems.append(
                    Problem(
                        "CL004",
                        f"row {start} has {len(row)} value(s) but the header has "
                        f"{len(columns)} column(s)",
                        Location(display, start, 1),
                        "check for a missing or extra comma; quote values that contain commas",
                    )
                )
                continue
            lot = _parse_row(row, start, columns, index, numeric_tests, display, problems)
            if lot.lot_id and "lot_id" in index:
                if lot.lot_id in first_row:
                    problems.append(
                        Problem(
                            "CL005",
                            f"duplicate lot id '{lot.lot_id}' in column 'lot_id' (first in row "
                            f"{first_row[lot.lot_id]})",
                            Location(display, start, index["lot_id"] + 1),
                            "each lot appears once; correct the id or remove the repeated row",
                        )
                    )
                    continue
                first_row[lot.lot_id] = start
            lots.append(lot)
    except csv.Error as exc:
        problems.append(
            Problem("CL010", f"CSV error: {exc}", Location(display, reader.line_num, 1), _CSV_HINT)
        )
    if rows == 0 and not any(p.code == "CL010" for p in problems):
        problems.append(
            Problem(
                "CL012",
                "the lot file has no lots: only a header row",
                Location(display, 2, 1),
                "add one row per manufactured lot under the header: lot id, date, process "
                "version, site, donor type, use, then one result per test",
            )
        )
    if problems:
        raise ProblemsError(problems)
    return LotTable(path=path, display=display, columns=columns, lots=tuple(lots))


_CSV_HINT = "save the file as CSV (comma-separated) from the spreadsheet; check unmatched quotes"


def _check_header(
    columns: tuple[str, ...],
    display: str,
    numeric_tests: set[str],
    qualitative_tests: set[str],
    catalogue: Mapping[str, str | None],
    problems: list[Problem],
) -> dict[str, int]:
    """Header problems into `problems`; returns the first column number of each known name."""
    tests = numeric_tests | qualitative_tests
    known = (
        set(REQUIRED_COLUMNS)
        | set(OPTIONAL_COLUMNS)
        | tests
        | {t + METHOD_VERSION_SUFFIX for t in tests}
    )
    index: dict[str, int] = {}
    for col, name in enumerate(columns, start=1):
        if name in index:
            problems.append(
                Problem(
                    "CL003",
                    f"column '{name}' appears twice (first in column {index[name] + 1})",
                    Location(display, 1, col),
                    "keep one column per test",
                )
            )
            continue
        if name not in known:
            problems.append(
                Problem(
                    "CL002",
                    f"unknown attribute column '{name}'",
                    Location(display, 1, col),
                    _unknown_column_hint(name, known, catalogue),
                )
            )
            continue
        index[name] = col - 1
    for name in REQUIRED_COLUMNS:
        if name not in index:
            problems.append(
                Problem(
                    "CL001",
                    f"required column '{name}' is missing",
                    Location(display, 1, 1),
                    f"the header must name: {', '.join(REQUIRED_COLUMNS)}",
                )
            )
    return index


def _unknown_column_hint(name: str, known: set[str], catalogue: Mapping[str, str | None]) -> str:
    if name in catalogue:
        test = catalogue[name]
        if test is not None:
            return (
                f"'{name}' is an attribute of the CMC framework; this product tests it as "
                f"'{test}', so name the column '{test}'"
            )
        return (
            f"'{name}' is an attribute of the CMC framework, but cmc.yaml has no specification "
            f"that tests it: add one under 'specifications:' (with attribute: {name}), or "
            "delete the column"
        )
    close = did_you_mean(name, sorted(known))
    if close:
        return close
    untested = sorted(a for a, test in catalogue.items() if test is None)
    near = difflib.get_close_matches(name.casefold(), untested, n=1, cutoff=0.6)
    if near:
        attribute = near[0]
        return (
            f"the CMC framework has the attribute '{attribute}', which cmc.yaml does not test: "
            f"add a specification with attribute: {attribute} and name the column by its id"
        )
    return "columns are the required lot columns plus the test ids of cmc.yaml 'specifications'"


def _parse_row(
    row: list[str],
    line: int,
    columns: tuple[str, ...],
    index: dict[str, int],
    numeric_tests: set[str],
    display: str,
    problems: list[Problem],
) -> Lot:
    """A lot from one row; every problem of the row goes into `problems`."""

    def cell(name: str) -> str:
        return row[index[name]].strip() if name in index else ""

    def where(name: str) -> Location:
        return Location(display, line, index[name] + 1)

    for name, col in index.items():
        if len(row[col]) > MAX_CELL_CHARS:
            problems.append(
                Problem(
                    "CL014",
                    f"the cell in column '{name}' is {len(row[col]):,} characters long; "
                    f"the limit is {MAX_CELL_CHARS:,}",
                    where(name),
                    "keep cells to an id, a number or a short text result",
                )
            )
    lot_id = cell("lot_id")
    if "lot_id" in index and not lot_id:
        problems.append(
            Problem("CL009", "column 'lot_id' is empty", where("lot_id"), "give every lot an id")
        )
    date = cell("date")
    if "date" in index and not _real_date(date):
        problems.append(
            Problem(
                "CL007",
                f"date '{date}' in column 'date' is not a calendar date written YYYY-MM-DD",
                where("date"),
                "write dates as 2026-03-31",
            )
        )
    for name, allowed in (("donor_type", DONOR_TYPES), ("use", USES)):
        value = cell(name)
        if name in index and value not in allowed:
            hint = did_you_mean(value, allowed) or f"use one of: {', '.join(allowed)}"
            problems.append(
                Problem("CL008", f"'{value}' in column '{name}' is not allowed", where(name), hint)
            )
    for name in LOT_DATE_COLUMNS:
        value = cell(name)
        if value and not _real_date(value):
            problems.append(
                Problem(
                    "CL007",
                    f"date '{value}' in column '{name}' is not a calendar date written YYYY-MM-DD",
                    where(name),
                    "write dates as 2026-03-31, or leave the cell empty",
                )
            )
    for name in ("process_version", "site"):
        if name in index and not cell(name):
            problems.append(
                Problem("CL009", f"column '{name}' is empty", where(name), f"fill in the {name}")
            )
    results: dict[str, Result] = {}
    texts: dict[str, str] = {}
    versions: dict[str, str] = {}
    for name in index:
        if name in REQUIRED_COLUMNS or name in OPTIONAL_COLUMNS:
            continue
        raw = cell(name)
        if not raw:
            continue  # not tested on this lot
        if name.endswith(METHOD_VERSION_SUFFIX):
            versions[name.removesuffix(METHOD_VERSION_SUFFIX)] = raw
        elif name in numeric_tests:
            parsed = result_cell(raw, name, "CL006", where(name))
            if isinstance(parsed, Problem):
                problems.append(parsed)
                continue
            results[name] = parsed
        else:
            texts[name] = raw
    return Lot(
        lot_id=lot_id,
        date=date,
        process_version=cell("process_version"),
        site=cell("site"),
        donor_type=cell("donor_type"),
        use=cell("use"),
        line=line,
        results=results,
        texts=texts,
        method_versions=versions,
        dose_level=cell("dose_level"),
        release_date=cell("release_date"),
        infusion_date=cell("infusion_date"),
    )


def _real_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def result_cell(raw: str, column: str, code: str, where: Location) -> Result | Problem:
    """A test result cell of a lot or stability CSV, or the problem with it (under `code`)."""
    parsed = _number(raw)
    if isinstance(parsed, str):
        return Problem(code, f"'{raw}' in column '{column}' {parsed}", where, _NUMBER_HINT)
    return parsed


def _number(raw: str) -> Result | str:
    """The result, or why the cell is not one (words that follow "'7_2.4' in column 'x'")."""
    censored = _CENSORED.match(raw)
    text = censored.group("num") if censored else raw
    if not _NUMBER.match(text):
        return "is not a number"
    value = float(text)
    if not math.isfinite(value) or abs(value) > MAX_LOT_VALUE:
        return f"is not a plausible result (larger than {MAX_LOT_VALUE:g} in size)"
    return Result(value, censored=censored is not None)
