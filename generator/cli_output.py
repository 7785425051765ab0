"""How the command line reports: `--format json` documents, and the -q / -v verbosity.

Every JSON document (format_version 1; README "Machine-readable output") is one object on
stdout with the same envelope, whatever the command and whether it succeeded:

    format_version, protocmc_version, command, exit_code, ok (exit_code == 0),
    error      a one-line error without a location (usage, output folder), else null
    counts     {"error": n, "warning": n, "info": n} over `problems`
    problems   [{code, severity, file, line, column, message, hint}]; file/line/column null
               when unknown

plus the command's own keys (below, in the `*_data` functions). Keys are only ever added.
Nothing but the document goes to stdout; progress lines stay on stderr.

Verbosity (`protocmc -q ...`, `protocmc -v ...`): quiet prints only errors (problems that fail
the command, and error lines); normal adds warnings, the result lines (`wrote ...`, `OK`) and
the progress of slow steps; verbose adds info-level problems and details (MkDocs' log, one line
per portfolio product).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from collections.abc import Iterable, Sequence
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from generator import __version__
from generator.console import Console, make_console
from generator.problems import (
    Location,
    Problem,
    ProblemsError,
    ProtocmcError,
    Severity,
    sorted_problems,
)

if TYPE_CHECKING:
    from generator.api import CheckReport
    from generator.build import BuildResult
    from generator.changelog import Release
    from generator.portfolio import PortfolioResult
    from generator.resolve import ExplainEntry, Provenance

FORMAT_VERSION = 1


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class Verbosity(IntEnum):
    QUIET = 0
    NORMAL = 1
    VERBOSE = 2


@dataclasses.dataclass
class _Invocation:
    """What this run of the program was asked for: set by the program's own options (the
    root callback) and by each command's format option, once per run."""

    verbosity: Verbosity = Verbosity.NORMAL
    format: OutputFormat = OutputFormat.text
    command: str = ""


_run = _Invocation()

# Result-line consoles (stdout) of the commands whose output is a status, not data: `-q`
# silences them. `explain`, `calc`, `version` and `framework` print the data asked for.
_status_consoles: list[Console] = []


def status_console() -> Console:
    console = make_console()
    _status_consoles.append(console)
    return console


def start(level: Verbosity, *, status_command: bool) -> None:
    """A new run of the program (the root callback): its verbosity, text until told otherwise."""
    _run.verbosity = level
    _run.format = OutputFormat.text
    _run.command = ""
    for console in _status_consoles:
        console.quiet = status_command and level is Verbosity.QUIET


def remember_format(ctx: typer.Context, value: OutputFormat) -> OutputFormat:
    """Callback of every command's format option: JSON mode, and the command's name."""
    _run.format = value
    names: list[str] = []
    node: Any = ctx  # typer.Context, then the plain contexts of its parents
    while node is not None and node.parent is not None:
        names.append(node.info_name or "")
        node = node.parent
    _run.command = " ".join(reversed(names))
    return value


def format_option(*names: str, help: str) -> Any:
    return typer.Option(*names, help=help, callback=remember_format)


def verbosity() -> Verbosity:
    return _run.verbosity


def progress_console(console: Console) -> Console | None:
    """`console` for progress lines, or None under -q."""
    return None if verbosity() is Verbosity.QUIET else console


def visible(problems: Iterable[Problem], *, strict: bool = False) -> list[Problem]:
    """The problems to print at this verbosity (errors always; with `strict`, warnings too)."""
    level = verbosity()
    shown: set[Severity] = {Severity.ERROR}
    if level >= Verbosity.NORMAL or strict:
        shown.add(Severity.WARNING)
    if level >= Verbosity.VERBOSE:
        shown.add(Severity.INFO)
    return [p for p in problems if p.severity in shown]


def json_requested() -> bool:
    return _run.format is OutputFormat.json


def emit(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


# ---------------------------------------------------------------------------------------------
# The envelope and its parts


def _where(loc: Location | None) -> dict[str, Any]:
    """file, line, column; null where unknown (a column counts from 1 once a line is known)."""
    if loc is None:
        return {"file": None, "line": None, "column": None}
    if not loc.line:
        return {"file": loc.file, "line": None, "column": None}
    return {"file": loc.file, "line": loc.line, "column": loc.column or 1}


def problem_data(p: Problem) -> dict[str, Any]:
    return {
        "code": p.code,
        "severity": p.severity.value,
        **_where(p.location),
        "message": p.message,
        "hint": p.hint or None,
    }


def counts(problems: Iterable[Problem]) -> dict[str, int]:
    tally = {s.value: 0 for s in Severity}
    for p in problems:
        tally[p.severity.value] += 1
    return tally


def envelope(
    exit_code: int,
    problems: Sequence[Problem] = (),
    *,
    error: str | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    ordered = sorted_problems(problems)
    return {
        "format_version": FORMAT_VERSION,
        "protocmc_version": __version__,
        "command": command if command is not None else _run.command,
        "exit_code": exit_code,
        "ok": exit_code == 0,
        "error": error,
        "counts": counts(ordered),
        "problems": [problem_data(p) for p in ordered],
    }


def error_data(exc: ProtocmcError) -> dict[str, Any]:
    """The document of a command that stopped on an error."""
    if isinstance(exc, ProblemsError):
        return envelope(exc.exit_code, exc.problems)
    return envelope(exc.exit_code, error=str(exc))


def usage_error_data(message: str) -> dict[str, Any]:
    return envelope(2, error=message)


def jsonable(value: Any) -> Any:
    """A value from a product or framework as JSON data (dates as ISO text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Path):
        return str(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic model
        return jsonable(dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    return str(value)


def provenance_data(prov: Provenance) -> dict[str, Any]:
    return {"origin": prov.origin, "label": prov.label, **_where(prov.location)}


# ---------------------------------------------------------------------------------------------
# One function per command


def check_data(
    product: Path, report: CheckReport, *, release: bool, strict: bool, exit_code: int
) -> dict[str, Any]:
    """check: product, release, strict, tailoring_entries, insertion_points{count, items}."""
    data = envelope(exit_code, report.problems)
    n_reg = len(report.resolved.tailoring_register) if report.resolved else 0
    data.update(
        {
            "product": str(product),
            "release": release,
            "strict": strict,
            "tailoring_entries": n_reg,
            "insertion_points": {
                "count": len(report.insertion_points),
                "items": list(report.insertion_points),
            },
        }
    )
    return data


def explain_data(entry: ExplainEntry) -> dict[str, Any]:
    """explain: path, value, comes_from, starting_point{value, comes_from} or null, note."""
    data = envelope(0)
    starting = None
    if entry.starting_provenance is not None:
        starting = {
            "value": jsonable(entry.starting_value),
            "comes_from": provenance_data(entry.starting_provenance),
        }
    data.update(
        {
            "path": entry.path,
            "value": jsonable(entry.value),
            "comes_from": provenance_data(entry.provenance),
            "starting_point": starting,
            "note": entry.note or None,
        }
    )
    return data


def build_data(product: Path, output: Path, result: BuildResult) -> dict[str, Any]:
    """build: product, output, written (files replaced), skipped (files already up to date).

    The build's notes (warnings and info from the checks and the Word conversion) are its
    `problems`.
    """
    data = envelope(0, result.notes)
    files = [str(f) for f in result.files]
    data.update(
        {
            "product": str(product),
            "output": str(output),
            "written": [] if result.skipped else files,
            "skipped": files if result.skipped else [],
        }
    )
    return data


def portfolio_data(output: Path, result: PortfolioResult, exit_code: int) -> dict[str, Any]:
    """portfolio: output, jobs, seconds, summary{built, skipped, failed}, products[...].

    Each product: product, output, status (built | skipped | failed), seconds, files,
    exit_code, error, problems (structured), counts. The envelope's problems are every
    product's problems together.
    """
    products: list[dict[str, Any]] = []
    everything: list[Problem] = []
    for o in result.outcomes:
        details = list(o.details)
        everything += details
        # a failure without located problems (an output folder refused, a bug) is one line
        error = None if details or not o.problems else "; ".join(o.problems)
        products.append(
            {
                "product": str(o.product),
                "output": str(o.outdir),
                "status": o.status,
                "seconds": round(o.seconds, 3),
                "files": [str(f) for f in o.files],
                "exit_code": o.exit_code,
                "error": error,
                "counts": counts(details),
                "problems": [problem_data(p) for p in sorted_problems(details)],
            }
        )
    data = envelope(exit_code, everything)
    data.update(
        {
            "output": str(output),
            "jobs": result.jobs,
            "seconds": round(result.seconds, 3),
            "summary": {
                status: len(result.by_status(status)) for status in ("built", "skipped", "failed")
            },
            "products": products,
        }
    )
    return data


def changes_data(since: str | None, releases: Sequence[Release]) -> dict[str, Any]:
    """framework changes: since, releases[{version, date, frameworks{id: version},
    changes[{framework, element, text}]}], newest first."""
    data = envelope(0)
    data.update(
        {
            "since": since,
            "releases": [
                {
                    "version": r.version,
                    "date": r.date,
                    "frameworks": dict(sorted(r.frameworks.items())),
                    "changes": [
                        {"framework": c.framework, "element": c.element, "text": c.text}
                        for c in r.changes
                    ],
                }
                for r in releases
            ],
        }
    )
    return data
