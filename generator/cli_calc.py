"""`protocmc calc ...`: print the computed design tables.

Thin layer: parse options, call `generator.analysis`, render one table in the chosen format.
Numbers are parsed here (not by click) so a bad value gives one line on stderr and exit 2.
The calculators refuse work beyond fixed limits (analysis/defaults.py: trials, max N, doses)
before starting it, so no command runs for minutes or exhausts memory.
"""

from __future__ import annotations

import csv
import io
import json
import math
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from generator.analysis import defaults
from generator.console import make_console
from generator.lazy import LazyModule

if TYPE_CHECKING:
    from generator.analysis import equivalence, escalation, simulation, stopping, tolerance
else:  # numpy and scipy load only when a calc command runs, keeping `protocmc` start-up fast
    escalation = LazyModule("generator.analysis.escalation")
    simulation = LazyModule("generator.analysis.simulation")
    stopping = LazyModule("generator.analysis.stopping")
    tolerance = LazyModule("generator.analysis.tolerance")
    equivalence = LazyModule("generator.analysis.equivalence")
from generator.problems import UsageError

_LIMITS = (
    f"Limits: max N <= {defaults.MAX_N:,} ({defaults.MAX_N_MONITORING:,} for 'stopping'); "
    f"simulated trials <= {defaults.MAX_TRIALS:,}; "
    f"dose levels <= {defaults.MAX_DOSES}. Beyond them, or with any other bad value, the "
    "command prints one line and exits with code 2."
)

calc_app = typer.Typer(
    help="Computed design tables: dose escalation, stopping rules, tolerance intervals.\n\n"
    + _LIMITS,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

Cell = str | int | float | None
FORMATS = ("text", "csv", "markdown", "json")
T = TypeVar("T")


@dataclass
class Output:
    """One printable result: summary key/values and one table."""

    title: str
    columns: list[str]
    rows: list[list[Cell]]
    summary: list[tuple[str, Cell]] = field(default_factory=list)
    decimals: int = 3


# ------------------------------------------------------------------------------------------
# Parsing helpers: every failure is a UsageError with a one-line message
# ------------------------------------------------------------------------------------------


def _req(name: str, text: str | None) -> str:
    if text is None:
        raise UsageError(f"{name} is required")
    return text


def _float(name: str, text: str | None) -> float:
    text = _req(name, text)
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name} must be a number, got '{text}'") from None
    if not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number, got '{text}'")
    return value


def _opt_float(name: str, text: str | None) -> float | None:
    return None if text is None else _float(name, text)


def _int(name: str, text: str | None) -> int:
    text = _req(name, text)
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, got '{text}'") from None


def _opt_int(name: str, text: str | None) -> int | None:
    return None if text is None else _int(name, text)


def _list(name: str, text: str | None, conv: Callable[[str, str], T]) -> list[T]:
    text = _req(name, text)
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise UsageError(f"{name} needs at least one value")
    return [conv(name, p) for p in parts]


def _format(text: str) -> str:
    fmt = text.strip().lower()
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got '{text}'")
    return fmt


# ------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------


def _cell_text(value: Cell, decimals: int, missing: str) -> str:
    if value is None:
        return missing
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def check_finite(out: Output) -> None:
    """Refuse to print NaN or infinity: they are no answer (and not JSON)."""
    cells = [("summary", k, v) for k, v in out.summary]
    cells += [("row", c, v) for row in out.rows for c, v in zip(out.columns, row, strict=True)]
    for _, name, value in cells:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(
                f"the computation of {name} did not give a finite number ({value}); "
                "the parameters are outside the range the calculator can evaluate"
            )


def render(out: Output, fmt: str) -> str:
    """The output as a string (text format excluded: printed by rich)."""
    if fmt == "json":
        payload = {
            "title": out.title,
            "summary": dict(out.summary),
            "columns": out.columns,
            "rows": [dict(zip(out.columns, row, strict=True)) for row in out.rows],
        }
        return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(out.columns)
        for row in out.rows:
            writer.writerow([_cell_text(c, out.decimals, "NA") for c in row])
        return buf.getvalue()
    # markdown
    lines = [f"**{out.title}**", ""]
    if out.summary:
        lines += [f"- {k}: {_cell_text(v, out.decimals, '—')}" for k, v in out.summary]
        lines.append("")
    lines.append("| " + " | ".join(out.columns) + " |")
    lines.append("|" + "|".join("---" for _ in out.columns) + "|")
    for row in out.rows:
        lines.append("| " + " | ".join(_cell_text(c, out.decimals, "—") for c in row) + " |")
    return "\n".join(lines) + "\n"


def emit(out: Output, fmt: str) -> None:
    if fmt != "text":
        typer.echo(render(out, fmt), nl=False)
        return
    console = make_console()
    console.print(Text(out.title, style="bold"))
    for key, value in out.summary:
        console.print(f"{key}: {_cell_text(value, out.decimals, '—')}")
    table = Table(show_header=True, header_style="bold")
    for col in out.columns:
        table.add_column(col, justify="right")
    for row in out.rows:
        table.add_row(*(_cell_text(c, out.decimals, "—") for c in row))
    console.print(table)


def _run(build: Callable[[], Output], fmt_text: str) -> None:
    """Build and print; map bad input to one line on stderr and exit code 2."""
    try:
        fmt = _format(fmt_text)
        out = build()
        check_finite(out)
    except (ValueError, UsageError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    emit(out, fmt)


FormatOpt = Annotated[
    str, typer.Option("--format", "-f", help="text | csv | markdown | json", metavar="FORMAT")
]


# ------------------------------------------------------------------------------------------
# Dose escalation
# ------------------------------------------------------------------------------------------


MAX_N_TABLE_HELP = (
    f"maximum sample size: the table runs from n = 1 to it (<= {defaults.MAX_N:,}); a dose can "
    "treat up to max N patients even with a per-dose cap"
)
N_EARLYSTOP_HELP = (
    "per-dose cap (BOIN's n.earlystop): once the current dose has this many patients, the trial "
    "stops when the next cohort would stay at that dose"
)


@calc_app.command("boin")
def boin_cmd(
    target: Annotated[
        str | None, typer.Option(help="target DLT rate [required]", metavar="NUMBER")
    ] = None,
    max_n: Annotated[str, typer.Option(help=MAX_N_TABLE_HELP, metavar="INT")] = "18",
    phi1: Annotated[str | None, typer.Option(help="default 0.6 x target", metavar="NUMBER")] = None,
    phi2: Annotated[str | None, typer.Option(help="default 1.4 x target", metavar="NUMBER")] = None,
    cutoff: Annotated[
        str, typer.Option(help="elimination posterior cutoff", metavar="NUMBER")
    ] = "0.95",
    n_earlystop: Annotated[
        str | None, typer.Option("--n-earlystop", help=N_EARLYSTOP_HELP, metavar="INT")
    ] = None,
    fmt: FormatOpt = "text",
) -> None:
    """BOIN escalation / de-escalation / elimination boundaries (Liu & Yuan 2015)."""

    def build() -> Output:
        t = escalation.boin_table(
            _float("--target", target),
            _int("--max-n", max_n),
            phi1=_opt_float("--phi1", phi1),
            phi2=_opt_float("--phi2", phi2),
            cutoff_eliminate=_float("--cutoff", cutoff),
        )
        cap = _opt_int("--n-earlystop", n_earlystop)
        if cap is not None:
            escalation.check_positive_int("--n-earlystop", cap)
        columns = ["n", "escalate_if_dlts_le", "deescalate_if_dlts_ge", "eliminate_if_dlts_ge"]
        rows: list[list[Cell]] = [
            [r.n, r.escalate_max, r.deescalate_min, r.eliminate_min] for r in t.rows
        ]
        summary: list[tuple[str, Cell]] = [
            ("target", t.target),
            ("phi1", t.phi1),
            ("phi2", t.phi2),
            ("lambda_e", t.lambda_e),
            ("lambda_d", t.lambda_d),
        ]
        if cap is not None:
            summary.append(("n_earlystop", cap))
            columns.append("trial_stops_if_staying")
            for row, r in zip(rows, t.rows, strict=True):
                row.append("yes" if r.n >= cap else "no")
        return Output(
            title=f"BOIN boundaries, target {t.target:g}",
            summary=summary,
            columns=columns,
            rows=rows,
        )

    _run(build, fmt)


@calc_app.command("three-plus-three")
def three_plus_three_cmd(
    rates: Annotated[
        str, typer.Option(help="true DLT rates, comma-separated", metavar="LIST")
    ] = "0.05,0.10,0.20,0.25,0.30,0.40,0.50,0.60",
    rules: Annotated[bool, typer.Option("--rules", help="print the decision table")] = False,
    deescalation: Annotated[
        bool, typer.Option("--deescalation/--no-deescalation", help="3+3 variant (with --rules)")
    ] = True,
    fmt: FormatOpt = "text",
) -> None:
    """3+3: probability of escalating from a dose, or the decision table (--rules)."""

    def build() -> Output:
        if rules:
            r = escalation.three_plus_three_rules(allow_deescalation=deescalation)
            # mtd_exceeded: de-escalate (expand the lower dose to 6, then it is the MTD);
            # mtd_exceeded_stop: stop, the lower dose is the MTD as it stands
            return Output(
                title="3+3 decision rules",
                summary=[("allow_deescalation", "yes" if r.allow_deescalation else "no")],
                columns=["treated", "dlts_min", "dlts_max", "action"],
                rows=[[x.treated, x.dlts_min, x.dlts_max, x.action] for x in r.rows],
            )
        ps = _list("--rates", rates, _float)
        return Output(
            title="3+3 probability of escalation",
            columns=["true_dlt_rate", "p_escalate"],
            rows=[[p, escalation.three_plus_three_escalation_probability(p)] for p in ps],
        )

    _run(build, fmt)


calc_app.command("3+3", hidden=True)(three_plus_three_cmd)


def _interval_output(t: escalation.IntervalTable) -> Output:
    acts = [
        escalation.Action.ESCALATE,
        escalation.Action.STAY,
        escalation.Action.DEESCALATE,
        escalation.Action.ELIMINATE,
    ]
    rows: list[list[Cell]] = []
    for r in t.rows:
        rows.append([r.n, *[(r.range_label(a) or None) for a in acts]])
    return Output(
        title=f"{t.design} decisions by number of DLTs, target {t.target:g}",
        summary=[
            ("target", t.target),
            ("equivalence_interval", f"[{t.target - t.eps1:g}, {t.target + t.eps2:g}]"),
            ("elimination_cutoff", t.cutoff_eliminate),
        ],
        columns=["n", "escalate", "stay", "deescalate", "eliminate"],
        rows=rows,
    )


def _interval_cmd(
    maker: Callable[..., escalation.IntervalTable],
    target: str | None,
    max_n: str,
    eps1: str,
    eps2: str,
    cutoff: str,
    fmt: str,
) -> None:
    def build() -> Output:
        return _interval_output(
            maker(
                _float("--target", target),
                _int("--max-n", max_n),
                eps1=_float("--eps1", eps1),
                eps2=_float("--eps2", eps2),
                cutoff_eliminate=_float("--cutoff", cutoff),
            )
        )

    _run(build, fmt)


TargetOpt = Annotated[str | None, typer.Option(help="target DLT rate [required]", metavar="NUMBER")]
MaxNOpt = Annotated[str, typer.Option(help=MAX_N_TABLE_HELP, metavar="INT")]
Eps1Opt = Annotated[str, typer.Option(help="EI lower half-width", metavar="NUMBER")]
Eps2Opt = Annotated[str, typer.Option(help="EI upper half-width", metavar="NUMBER")]
CutoffOpt = Annotated[str, typer.Option(help="elimination posterior cutoff", metavar="NUMBER")]


@calc_app.command("i3plus3")
def i3plus3_cmd(
    target: TargetOpt = None,
    max_n: MaxNOpt = "18",
    eps1: Eps1Opt = "0.05",
    eps2: Eps2Opt = "0.05",
    cutoff: CutoffOpt = "0.95",
    fmt: FormatOpt = "text",
) -> None:
    """i3+3 decision table (Liu, Wang & Ji 2020)."""
    _interval_cmd(escalation.i3plus3_table, target, max_n, eps1, eps2, cutoff, fmt)


@calc_app.command("mtpi2")
def mtpi2_cmd(
    target: TargetOpt = None,
    max_n: MaxNOpt = "18",
    eps1: Eps1Opt = "0.05",
    eps2: Eps2Opt = "0.05",
    cutoff: CutoffOpt = "0.95",
    fmt: FormatOpt = "text",
) -> None:
    """mTPI-2 decision table (Guo et al. 2017)."""
    _interval_cmd(escalation.mtpi2_table, target, max_n, eps1, eps2, cutoff, fmt)


@calc_app.command("simulate")
def simulate_cmd(
    design: Annotated[
        str | None, typer.Option(help="3+3 | boin | i3+3 | mtpi2 [required]", metavar="DESIGN")
    ] = None,
    rates: Annotated[
        str | None,
        typer.Option(
            help=f"true DLT rate per dose, comma-separated (<= {defaults.MAX_DOSES} doses) "
            "[required]",
            metavar="LIST",
        ),
    ] = None,
    target: Annotated[str | None, typer.Option(help="target DLT rate", metavar="NUMBER")] = None,
    cohort_size: Annotated[str, typer.Option(metavar="INT")] = "3",
    max_n: Annotated[
        str | None,
        typer.Option(help=f"maximum sample size (<= {defaults.MAX_N:,})", metavar="INT"),
    ] = None,
    start_dose: Annotated[str, typer.Option(help="1-based", metavar="INT")] = "1",
    trials: Annotated[
        str, typer.Option(help=f"simulated trials (<= {defaults.MAX_TRIALS:,})", metavar="INT")
    ] = str(defaults.DEFAULT_TRIALS),
    seed: Annotated[str, typer.Option(metavar="INT")] = str(defaults.DEFAULT_SEED),
    n_earlystop: Annotated[
        str | None,
        typer.Option("--n-earlystop", help=N_EARLYSTOP_HELP + " (not 3+3)", metavar="INT"),
    ] = None,
    deescalation: Annotated[
        bool, typer.Option("--deescalation/--no-deescalation", help="3+3 variant")
    ] = True,
    fmt: FormatOpt = "text",
) -> None:
    """Operating characteristics of a design under one scenario, by simulation.

    The figures depend only on the seed and the number of trials (each trial has its own
    random-number stream), so a run is reproducible exactly.
    """

    def build() -> Output:
        name = simulation.normalise_design(_req("--design", design))
        cap = _opt_int("--n-earlystop", n_earlystop)
        if cap is not None and name == "3+3":
            raise UsageError("--n-earlystop applies to BOIN, i3+3 and mTPI-2, not 3+3")
        oc = simulation.operating_characteristics(
            name,
            _list("--rates", rates, _float),
            target=_opt_float("--target", target),
            cohort_size=_int("--cohort-size", cohort_size),
            max_n=_opt_int("--max-n", max_n),
            start_dose=_int("--start-dose", start_dose),
            n_trials=_int("--trials", trials),
            seed=_int("--seed", seed),
            allow_deescalation=deescalation,
            n_earlystop=cap,
        )
        return Output(
            title=f"{oc.design} operating characteristics ({oc.n_trials} simulated trials)",
            summary=[
                ("design", oc.design),
                ("max_n", oc.max_n),
                ("n_earlystop", oc.n_earlystop),
                ("seed", oc.seed),
                ("p_no_dose_selected", oc.p_no_dose),
                ("p_early_stop", oc.p_early_stop),
                ("p_stop_toxicity", oc.p_stop_toxicity),
                ("mean_patients", oc.mean_patients),
                ("mean_dlts", oc.mean_dlts),
            ],
            columns=["dose", "true_dlt_rate", "p_select_mtd", "mean_patients", "mean_dlts"],
            rows=[
                [d.dose, d.true_rate, d.p_select, d.mean_patients, d.mean_dlts] for d in oc.doses
            ],
        )

    _run(build, fmt)


# ------------------------------------------------------------------------------------------
# Stopping rules
# ------------------------------------------------------------------------------------------


def _boundary_output(b: stopping.StoppingBoundaries, title: str, oc_rates: str | None) -> Output:
    summary: list[tuple[str, Cell]] = []
    if oc_rates:
        for rate in _list("--oc-rates", oc_rates, _float):
            oc = stopping.boundary_oc(b, rate)
            summary.append((f"p_stop_at_{rate:g}", oc.p_stop))
            summary.append((f"expected_n_at_{rate:g}", oc.expected_n))
    return Output(
        title=title,
        summary=summary,
        columns=["n", "stop_if_events_ge"],
        rows=[[r.n, r.stop_at] for r in b.rows],
    )


OcRatesOpt = Annotated[
    str | None,
    typer.Option(
        help="true rates for exact P(stop) and expected N, comma-separated", metavar="LIST"
    ),
]


@calc_app.command("stopping")
def stopping_cmd(
    theta: Annotated[
        str | None, typer.Option(help="unacceptable event rate [required]", metavar="NUMBER")
    ] = None,
    cutoff: Annotated[
        str, typer.Option(help="posterior probability cutoff", metavar="NUMBER")
    ] = "0.9",
    max_n: Annotated[
        str,
        typer.Option(help=f"maximum sample size (<= {defaults.MAX_N_MONITORING:,})", metavar="INT"),
    ] = "24",
    monitor_from: Annotated[str, typer.Option(help="first n monitored", metavar="INT")] = "3",
    prior_a: Annotated[str, typer.Option(metavar="NUMBER")] = "1",
    prior_b: Annotated[str, typer.Option(metavar="NUMBER")] = "1",
    oc_rates: OcRatesOpt = None,
    fmt: FormatOpt = "text",
) -> None:
    """Bayesian beta-binomial monitoring: events that stop, per number of patients."""

    def build() -> Output:
        b = stopping.stopping_boundaries(
            _float("--theta", theta),
            _float("--cutoff", cutoff),
            _int("--max-n", max_n),
            monitor_from_n=_int("--monitor-from", monitor_from),
            prior_a=_float("--prior-a", prior_a),
            prior_b=_float("--prior-b", prior_b),
        )
        out = _boundary_output(b, f"Stop if Pr(p > {b.theta:g} | data) > {b.cutoff:g}", oc_rates)
        out.summary[:0] = [("theta", b.theta), ("cutoff", b.cutoff)]
        return out

    _run(build, fmt)


@calc_app.command("pocock")
def pocock_cmd(
    p0: Annotated[
        str | None, typer.Option(help="acceptable event rate [required]", metavar="NUMBER")
    ] = None,
    alpha: Annotated[
        str, typer.Option(help="overall crossing probability at p0", metavar="NUMBER")
    ] = "0.1",
    max_n: Annotated[
        str, typer.Option(help=f"maximum sample size (<= {defaults.MAX_N:,})", metavar="INT")
    ] = "20",
    looks: Annotated[
        str | None,
        typer.Option(
            help="patients at each look, comma-separated, increasing, each <= max N "
            "(default: every patient)",
            metavar="LIST",
        ),
    ] = None,
    oc_rates: OcRatesOpt = None,
    fmt: FormatOpt = "text",
) -> None:
    """Pocock-type repeated-significance toxicity boundary."""

    def build() -> Output:
        b = stopping.pocock_boundaries(
            _float("--p0", p0),
            _float("--alpha", alpha),
            _int("--max-n", max_n),
            looks=None if looks is None else _list("--looks", looks, _int),
        )
        out = _boundary_output(b, f"Pocock-type boundary, p0 {b.p0:g}", oc_rates)
        out.summary[:0] = [
            ("p0", b.p0),
            ("alpha", b.alpha),
            ("nominal_level", b.nominal_level),
            ("crossing_probability_at_p0", b.crossing_probability),
        ]
        out.decimals = 4
        return out

    _run(build, fmt)


# ------------------------------------------------------------------------------------------
# Specification statistics
# ------------------------------------------------------------------------------------------


@calc_app.command("tolerance")
def tolerance_cmd(
    n: Annotated[
        str | None,
        typer.Option(help="number of lots; comma-separated for several [required]", metavar="LIST"),
    ] = None,
    coverage: Annotated[str, typer.Option(help="proportion covered, P", metavar="NUMBER")] = "0.99",
    confidence: Annotated[str, typer.Option(help="confidence, gamma", metavar="NUMBER")] = "0.95",
    fmt: FormatOpt = "text",
) -> None:
    """Normal tolerance-interval factors k (two-sided exact, Howe, one-sided)."""

    def build() -> Output:
        t = tolerance.tolerance_factors(
            _list("--n", n, _int),
            _float("--coverage", coverage),
            _float("--confidence", confidence),
        )
        return Output(
            title=f"Tolerance factors, {t.coverage:g} coverage, {t.confidence:g} confidence",
            summary=[("coverage", t.coverage), ("confidence", t.confidence)],
            columns=["n", "k_two_sided_exact", "k_two_sided_howe", "k_one_sided"],
            rows=[[r.n, r.two_sided_exact, r.two_sided_howe, r.one_sided] for r in t.rows],
            decimals=3,
        )

    _run(build, fmt)


AD_P_TABLE_RANGE = (0.01, 0.15)
"""SciPy interpolates the Anderson-Darling p-value in its table of significance levels 1%-15%
and clips it to that range (scipy.stats.anderson, method="interpolate")."""


def _ad_p_value(p: float | None) -> Cell:
    """The interpolated p-value, or the bound it was clipped to, as "< 0.01" / "> 0.15"."""
    if p is None:
        return None
    lo, hi = AD_P_TABLE_RANGE
    if p <= lo:
        return f"< {lo:g}"
    if p >= hi:
        return f"> {hi:g}"
    return p


MAX_CSV_BYTES = 50_000_000
"""Largest CSV a calculator reads (a lot file of 10,000 lots is well under 10 MB)."""


def _read_csv_text(path: Path) -> str:
    """A CSV's text; a FIFO, device or folder is refused before it is opened (reading
    /dev/zero would never end), and so is a file too large to be a lot or stability table."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"cannot read {path}: not a regular file")
        if info.st_size > MAX_CSV_BYTES:
            raise UsageError(f"{path} is larger than {MAX_CSV_BYTES:,} bytes")
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None


def _read_csv_column(path: Path, column: str | None) -> list[float]:
    text = _read_csv_text(path)
    reader = csv.DictReader(io.StringIO(text))
    fields = reader.fieldnames or []
    if not fields:
        raise UsageError(f"{path} has no header row")
    name = column if column is not None else fields[0]
    if name not in fields:
        raise UsageError(f"{path} has no column '{name}' (columns: {', '.join(fields)})")
    values: list[float] = []
    for line, row in enumerate(reader, start=2):
        cell = (row.get(name) or "").strip()
        if cell:
            values.append(_float(f"{path}:{line} column '{name}'", cell))
    return values


@calc_app.command("limits")
def limits_cmd(
    values: Annotated[
        list[str] | None, typer.Argument(help="lot values (or use --csv)", metavar="VALUES")
    ] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="CSV file of lot values")] = None,
    column: Annotated[
        str | None, typer.Option(help="CSV column (default: first)", metavar="NAME")
    ] = None,
    side: Annotated[
        str, typer.Option(help="two-sided | lower | upper", metavar="SIDE")
    ] = "two-sided",
    coverage: Annotated[str, typer.Option(help="proportion covered, P", metavar="NUMBER")] = "0.99",
    confidence: Annotated[str, typer.Option(help="confidence, gamma", metavar="NUMBER")] = "0.95",
    min_lots: Annotated[
        str, typer.Option(help="fewer lots than this: report results", metavar="INT")
    ] = str(defaults.DEFAULT_MIN_LOTS),
    fmt: FormatOpt = "text",
) -> None:
    """Candidate acceptance limits from lot values, with a normality check."""

    def build() -> Output:
        if csv_path is not None and values:
            raise UsageError("give lot values either on the command line or with --csv")
        if csv_path is not None:
            data = _read_csv_column(csv_path, column)
        elif values:
            data = [v for text in values for v in _list("VALUES", text, _float)]
        else:
            raise UsageError("no lot values: pass them as arguments or with --csv FILE")
        p = tolerance.propose_limits(
            data,
            side=side,
            coverage=_float("--coverage", coverage),
            confidence=_float("--confidence", confidence),
            min_lots_for_numeric_limit=_int("--min-lots", min_lots),
        )
        nc = p.normality
        return Output(
            title=f"Candidate limits from {p.n} lots ({p.side})",
            summary=[
                ("n", p.n),
                ("mean", p.mean),
                ("sd", p.sd),
                ("min", p.minimum),
                ("max", p.maximum),
                ("outcome", p.outcome),
                ("normality", nc.verdict),
                ("anderson_darling_statistic", nc.statistic),
                ("anderson_darling_p", _ad_p_value(nc.p_value)),
            ],
            columns=["method", "lower", "upper", "k", "source"],
            rows=[[lim.method, lim.lower, lim.upper, lim.k, lim.source] for lim in p.limits],
            decimals=4,
        )

    _run(build, fmt)


def parse_float_list(text: str) -> Sequence[float]:
    """Comma-separated numbers (helper shared with the main CLI if it wants it)."""
    return _list("values", text, _float)


# ------------------------------------------------------------------------------------------
# Comparability: power and sample size of a two-sample TOST (issue 13)
# ------------------------------------------------------------------------------------------

EQUIVALENCE_METHODS = ("exact", "simulated", "both")


def _equivalence_rows(
    p: equivalence.PowerInputs, sizes: list[int], method: str, runs: int, seed: int
) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for n in sizes:
        row: list[Cell] = [n, 2 * n]
        if method in ("exact", "both"):
            row.append(equivalence.power_exact(p, n))
        if method in ("simulated", "both"):
            row.append(equivalence.power_simulated(p, n, runs=runs, seed=seed))
        rows.append(row)
    return rows


@calc_app.command("equivalence")
def equivalence_cmd(
    margin: Annotated[
        str | None,
        typer.Option(help="equivalence margin (+/-), in the unit of the result [required]"),
    ] = None,
    sd: Annotated[
        str | None, typer.Option(help="standard deviation of one lot's result [required]")
    ] = None,
    difference: Annotated[
        str, typer.Option(help="true difference of means (post - pre) assumed")
    ] = "0",
    alpha: Annotated[str, typer.Option(help="level of each one-sided test")] = "0.05",
    n: Annotated[
        str | None,
        typer.Option(help="lots per group; comma-separated for several (else: sample size)"),
    ] = None,
    power: Annotated[str, typer.Option(help="target power for the sample size")] = "0.8",
    method: Annotated[str, typer.Option(help="exact | simulated | both")] = "exact",
    runs: Annotated[str, typer.Option(help="simulated studies (method simulated)")] = "100000",
    seed: Annotated[str, typer.Option(help="random seed (method simulated)")] = "1",
    fmt: FormatOpt = "text",
) -> None:
    """Power and sample size of two one-sided tests (TOST) on a difference of means: two
    groups of equal size, pooled SD; exact (Owen's Q by integration) or simulated."""

    def build() -> Output:
        how = method.strip().lower()
        if how not in EQUIVALENCE_METHODS:
            raise UsageError(f"--method must be one of {', '.join(EQUIVALENCE_METHODS)}")
        p = equivalence.PowerInputs(
            margin=_float("--margin", margin),
            difference=_float("--difference", difference),
            sd=_float("--sd", sd),
            alpha=_float("--alpha", alpha),
        )
        n_runs, n_seed = _int("--runs", runs), _int("--seed", seed)
        summary: list[tuple[str, Cell]] = [
            ("margin", p.margin),
            ("difference", p.difference),
            ("sd", p.sd),
            ("alpha", p.alpha),
        ]
        if n is not None:
            sizes = _list("--n", n, _int)
            title = "Power of the two one-sided tests (TOST)"
        else:
            found = equivalence.sample_size(p, _float("--power", power))
            sizes = [found.n_per_group]
            summary.append(("target_power", found.target))
            title = f"Sample size for {found.target:g} power, two one-sided tests (TOST)"
        columns = ["n_per_group", "n_total"]
        columns += ["power_exact"] if how in ("exact", "both") else []
        columns += ["power_simulated"] if how in ("simulated", "both") else []
        if how != "exact":
            summary += [("runs", n_runs), ("seed", n_seed)]
        return Output(
            title=title,
            summary=summary,
            columns=columns,
            rows=_equivalence_rows(p, sizes, how, n_runs, n_seed),
            decimals=4,
        )

    _run(build, fmt)


# ------------------------------------------------------------------------------------------
# calc shelf-life (stability: ICH Q1E)
# ------------------------------------------------------------------------------------------

MAX_STABILITY_ROWS = 10_000
"""Most results `calc shelf-life` reads (as many as lots in a lot file)."""


def _read_stability_csv(
    path: Path, columns: tuple[str, str, str]
) -> tuple[list[str], list[float], list[float]]:
    """(lots, times, values) from three columns; rows with an empty value are skipped."""
    text = _read_csv_text(path)
    reader = csv.DictReader(io.StringIO(text))
    fields = reader.fieldnames or []
    for name in columns:
        if name not in fields:
            raise UsageError(f"{path} has no column '{name}' (columns: {', '.join(fields)})")
    lot_col, time_col, value_col = columns
    lots: list[str] = []
    times: list[float] = []
    values: list[float] = []
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_STABILITY_ROWS:
            raise UsageError(f"{path} has more than {MAX_STABILITY_ROWS:,} rows")
        value = (row.get(value_col) or "").strip()
        if not value:
            continue
        lots.append((row.get(lot_col) or "").strip())
        times.append(_float(f"{path}:{line} column '{time_col}'", row.get(time_col)))
        values.append(_float(f"{path}:{line} column '{value_col}'", value))
    return lots, times, values


@calc_app.command("shelf-life")
def shelf_life_cmd(
    csv_path: Annotated[Path, typer.Option("--csv", help="CSV of stability results")],
    lot: Annotated[str, typer.Option(help="lot (batch) column", metavar="NAME")] = "lot_id",
    time: Annotated[str, typer.Option(help="time column", metavar="NAME")] = "time_point",
    value: Annotated[str, typer.Option(help="result column", metavar="NAME")] = "value",
    lower: Annotated[
        str | None, typer.Option(help="lower acceptance limit (NLT)", metavar="NUMBER")
    ] = None,
    upper: Annotated[
        str | None, typer.Option(help="upper acceptance limit (NMT)", metavar="NUMBER")
    ] = None,
    confidence: Annotated[
        str, typer.Option(help="confidence of the bound of the mean", metavar="NUMBER")
    ] = "0.95",
    pool_alpha: Annotated[
        str, typer.Option(help="significance level of the poolability tests", metavar="NUMBER")
    ] = "0.25",
    fmt: FormatOpt = "text",
) -> None:
    """Shelf life per ICH Q1E: regression on time, batches pooled when the tests allow, the
    time where the confidence bound of the mean crosses the limit (no extrapolation applied:
    compare 'longest_time_point')."""
    from generator.cmc import stability

    def build() -> Output:
        lo, hi = _opt_float("--lower", lower), _opt_float("--upper", upper)
        if lo is None and hi is None:
            raise UsageError("give the acceptance limit: --lower, --upper or both")
        if lo is not None and hi is not None and lo >= hi:
            raise UsageError("--lower must be below --upper")
        conf, alpha = _float("--confidence", confidence), _float("--pool-alpha", pool_alpha)
        for name, p in (("--confidence", conf), ("--pool-alpha", alpha)):
            if not 0 < p < 1:
                raise UsageError(f"{name} must lie between 0 and 1, got {p:g}")
        lots, times, values = _read_stability_csv(csv_path, (lot, time, value))
        if any(t < 0 for t in times):
            raise UsageError("time points must be 0 or more")
        fit = stability.fit_shelf_life(
            lots, times, values, lower=lo, upper=hi, confidence=conf, alpha_pool=alpha, horizon=0
        )
        if fit is None:
            raise UsageError("need at least 3 results at 2 or more time points")
        return Output(
            title=f"Shelf life per ICH Q1E from {len(values)} results of {len(set(lots))} lot(s)",
            summary=[
                ("model", fit.model),
                ("p_equal_slopes", fit.p_slopes),
                ("p_equal_intercepts", fit.p_intercepts),
                ("shelf_life", fit.crossing),
                ("longest_time_point", max(times)),
            ],
            columns=["lot", "intercept", "slope", "shelf_life"],
            rows=[[ln.lot_id, ln.intercept, ln.slope, ln.crossing] for ln in fit.lines],
            decimals=4,
        )

    _run(build, fmt)


# ------------------------------------------------------------------------------------------
# Endotoxin limit (issue 13.5): the K/M computation behind a specification's `k_over_m`
# ------------------------------------------------------------------------------------------


@calc_app.command("endotoxin")
def endotoxin_cmd(
    k: Annotated[
        str,
        typer.Option(
            "--k", help="K, EU/kg (USP <85>: 5 for IV, 0.2 intrathecal)", metavar="NUMBER"
        ),
    ] = "5",
    weight: Annotated[str, typer.Option(help="body weight, kg", metavar="NUMBER")] = "70",
    dose_volume: Annotated[
        str | None,
        typer.Option(help="largest volume given in one hour, mL [required]", metavar="NUMBER"),
    ] = None,
    fmt: FormatOpt = "text",
) -> None:
    """Endotoxin limit K/M in EU/mL: K x body weight / dose volume (cmc.yaml `k_over_m`)."""

    def build() -> Output:
        from pydantic import ValidationError

        from generator.models.cmc import EndotoxinDose

        values = {
            "k_eu_per_kg": _float("--k", k),
            "body_weight_kg": _float("--weight", weight),
            "dose_volume_ml": _float("--dose-volume", dose_volume),
        }
        try:
            dose = EndotoxinDose(**values)
        except ValidationError as exc:
            names = {"k_eu_per_kg": "--k", "body_weight_kg": "--weight"}
            err = exc.errors()[0]
            name = names.get(str(err["loc"][0]), "--dose-volume")
            raise UsageError(
                f"{name} {err['msg'].lower()}, got {values[str(err['loc'][0])]:g}"
            ) from None
        return Output(
            title="Endotoxin limit K/M",
            summary=[
                ("k_eu_per_kg", dose.k_eu_per_kg),
                ("body_weight_kg", dose.body_weight_kg),
                ("dose_volume_ml", dose.dose_volume_ml),
            ],
            columns=["m_ml_per_kg", "endotoxin_per_dose_eu", "limit_eu_per_ml"],
            rows=[
                [
                    dose.dose_volume_ml / dose.body_weight_kg,
                    dose.k_eu_per_kg * dose.body_weight_kg,
                    dose.limit,
                ]
            ],
            decimals=4,
        )

    _run(build, fmt)
