"""Load the lot-data CSV: one row per lot, one column per test; every problem located row:column.

Locations read `lots.csv:ROW:COL`: the file as displayed, the file line of the row (the header is
line 1) and the 1-based column number.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from generator.load import read_text
from generator.problems import Location, Problem, ProblemsError, did_you_mean

REQUIRED_COLUMNS: tuple[str, ...] = (
    "lot_id",
    "date",
    "process_version",
    "site",
    "donor_type",
    "use",
)
DONOR_TYPES: tuple[str, ...] = ("patient", "healthy-donor", "allogeneic-donor")
USES: tuple[str, ...] = ("clinical", "non-clinical")
MAX_LOTS = 10_000

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CENSORED = re.compile(r"^<\s*(?P<num>[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$")


@dataclass(frozen=True)
class Result:
    """One numeric result; `censored` when reported as below a reporting limit ('<0.5')."""

    value: float
    censored: bool = False

    @property
    def display(self) -> str:
        return f"< {self.value:g}" if self.censored else f"{self.value:g}"


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

    @property
    def clinical(self) -> bool:
        return self.use == "clinical"


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
) -> LotTable:
    """Parse and check the lot CSV; raise `ProblemsError` with every problem found."""
    text = read_text(path, display)
    problems: list[Problem] = []
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
                    "start with a header row",
                )
            ]
        ) from None
    except csv.Error as exc:
        raise ProblemsError(
            [Problem("CL010", f"CSV error: {exc}", Location(display, 1, 1))]
        ) from None
    columns = tuple(h.strip() for h in header)
    known = set(REQUIRED_COLUMNS) | numeric_tests | qualitative_tests
    seen: set[str] = set()
    for col, name in enumerate(columns, start=1):
        if name in seen:
            problems.append(
                Problem(
                    "CL003",
                    f"column '{name}' appears twice",
                    Location(display, 1, col),
                    "keep one column per test",
                )
            )
        seen.add(name)
        if name not in known:
            hint = did_you_mean(name, sorted(known)) or (
                "columns are the required lot columns plus the test ids of cmc.yaml 'specifications'"
            )
            problems.append(
                Problem(
                    "CL002", f"unknown attribute column '{name}'", Location(display, 1, col), hint
                )
            )
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.append(
                Problem(
                    "CL001",
                    f"required column '{name}' is missing",
                    Location(display, 1, 1),
                    f"the header must name: {', '.join(REQUIRED_COLUMNS)}",
                )
            )
    if problems:
        raise ProblemsError(problems)

    index = {name: i for i, name in enumerate(columns)}
    lots: list[Lot] = []
    first_row: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(lots) >= MAX_LOTS:
                problems.append(
                    Problem(
                        "CL011",
                        f"more than {MAX_LOTS:,} lots",
                        Location(display, line, 1),
                        "split the data or exclude old lots",
                    )
                )
                break
            if len(row) != len(columns):
                problems.append(
                    Problem(
                        "CL004",
                        f"row has {len(row)} value(s) but the header has {len(columns)} column(s)",
                        Location(display, line, 1),
                        "check for a missing or extra comma; quote values that contain commas",
                    )
                )
                continue
            lot = _parse_row(row, line, columns, index, numeric_tests, display, problems)
            if lot is None:
                continue
            if lot.lot_id in first_row:
                problems.append(
                    Problem(
                        "CL005",
                        f"duplicate lot id '{lot.lot_id}' (first on line {first_row[lot.lot_id]})",
                        Location(display, line, index["lot_id"] + 1),
                        "each lot appears once; correct the id or remove the repeated row",
                    )
                )
                continue
            first_row[lot.lot_id] = line
            lots.append(lot)
    except csv.Error as exc:
        problems.append(
            Problem("CL010", f"CSV error: {exc}", Location(display, reader.line_num, 1))
        )
    if problems:
        raise ProblemsError(problems)
    return LotTable(path=path, display=display, columns=columns, lots=tuple(lots))


def _parse_row(
    row: list[str],
    line: int,
    columns: tuple[str, ...],
    index: dict[str, int],
    numeric_tests: set[str],
    display: str,
    problems: list[Problem],
) -> Lot | None:
    def cell(name: str) -> str:
        return row[index[name]].strip()

    def where(name: str) -> Location:
        return Location(display, line, index[name] + 1)

    before = len(problems)
    lot_id = cell("lot_id")
    if not lot_id:
        problems.append(
            Problem("CL009", "lot id is empty", where("lot_id"), "give every lot an id")
        )
    date = cell("date")
    if not _DATE.match(date):
        problems.append(
            Problem(
                "CL007",
                f"date '{date}' is not YYYY-MM-DD",
                where("date"),
                "write dates as 2026-03-31",
            )
        )
    for name, allowed in (("donor_type", DONOR_TYPES), ("use", USES)):
        value = cell(name)
        if value not in allowed:
            hint = did_you_mean(value, allowed) or f"use one of: {', '.join(allowed)}"
            problems.append(Problem("CL008", f"{name} '{value}' is not allowed", where(name), hint))
    for name in ("process_version", "site"):
        if not cell(name):
            problems.append(
                Problem("CL009", f"{name} is empty", where(name), f"fill in the {name}")
            )
    results: dict[str, Result] = {}
    texts: dict[str, str] = {}
    for name in columns:
        if name in REQUIRED_COLUMNS:
            continue
        raw = cell(name)
        if not raw:
            continue  # not tested on this lot
        if name in numeric_tests:
            parsed = _number(raw)
            if parsed is None:
                problems.append(
                    Problem(
                        "CL006",
                        f"'{raw}' in column '{name}' is not a number",
                        where(name),
                        "write a plain number without units (e.g. 87.5), '<0.5' for a result "
                        "below the reporting limit, or leave the cell empty when not tested",
                    )
                )
                continue
            results[name] = parsed
        else:
            texts[name] = raw
    if len(problems) > before:
        return None
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
    )


def _number(raw: str) -> Result | None:
    censored = _CENSORED.match(raw)
    text = censored.group("num") if censored else raw
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return Result(value, censored=censored is not None)
