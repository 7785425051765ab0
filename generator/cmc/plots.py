"""Plots of lot values against limits: PNG for Markdown and Word, SVG for the site;
byte-reproducible.

Every plot is a `PlotJob`: a module-level function that draws a matplotlib Figure, its
arguments (plain data), the file stem and the formats the caller writes (a Markdown or Word
build writes PNG only; the site asks for SVG too). `draw_all(jobs)` answers each file from
the per-user cache (keyed by the function, its arguments and the format) and draws the
missing ones in worker processes, forked after matplotlib is imported, each figure drawn once
and saved in the formats missing. A new plot is a drawing function and one `PlotJob` per
figure.

Clinical lots are filled blue circles, non-clinical lots hollow orange triangles; the current
specification is a solid red line, the proposed tolerance interval a dashed grey line, and the
span of the clinical lots a light blue band. Labels come from the caller (templates' words).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.cmc.analytics import TestAnalysis

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_RC: dict[str, Any] = {
    "svg.hashsalt": "protocmc",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "path.simplify": False,
}


_PNG: dict[str, Any] = {"compress_level": 3}

MAX_LABELLED_LOTS = 40
"""Lots named on the x axis at most; with more lots every n-th lot is named."""


@dataclass(frozen=True)
class PlotLabels:
    """Every word on a plot, supplied by the caller so no CMC wording lives here."""

    title: str
    y_axis: str
    x_axis: str
    clinical: str
    non_clinical: str
    specification: str
    proposed: str
    clinical_span: str


@dataclass(frozen=True)
class PlotJob:
    """One figure: `draw(*args)` makes it; it is written as `<stem>.<format>` per format."""

    stem: str
    """The path without suffix, e.g. 'figures/viability'."""
    draw: Callable[..., Figure]
    """A module-level function (worker processes receive it by name)."""
    args: tuple[Any, ...]
    formats: tuple[str, ...] = ("png", "svg")

    def key(self, fmt: str) -> str:
        """The cache key of the job's file in format `fmt`."""
        return f"{self.draw.__module__}.{self.draw.__qualname__} {fmt} {self.args!r}"


PLOT_JOBS = 2
"""Figures drawn at once when several are missing from the cache (a 2-core machine)."""


def draw_all(jobs: Sequence[PlotJob]) -> dict[str, bytes]:
    """Every job's files by relative path, in the jobs' order (each job's in its formats'
    order): from the per-user cache where drawn before, the rest drawn (in PLOT_JOBS worker
    processes when there are several), each figure once for the formats it misses."""
    with drawing(jobs) as files:
        return files()


@contextlib.contextmanager
def drawing(jobs: Sequence[PlotJob]) -> Iterator[Callable[[], dict[str, bytes]]]:
    """`draw_all(jobs)` started in the background: the worker processes draw the missing
    figures while the caller goes on (renders its documents); calling the function given
    waits for them and answers what `draw_all` does. Figures being drawn ahead
    (`drawing_ahead`) are taken from there. Leaving the block early (an error) cancels the
    drawings not started."""
    found, todo = _cached(jobs)
    ahead = {n: _AHEAD[_token(job)] for n, job in enumerate(todo) if _token(job) in _AHEAD}
    rest = [job for n, job in enumerate(todo) if n not in ahead]

    def files(drawn: list[Callable[[], dict[str, bytes]]]) -> dict[str, bytes]:
        others = iter(drawn)
        made = [(ahead[n] if n in ahead else next(others))() for n in range(len(todo))]
        _store(todo, made, found)
        return {
            f"{job.stem}.{fmt}": found[f"{job.stem}.{fmt}"] for job in jobs for fmt in job.formats
        }

    with _draw_many(rest) as drawn:
        yield functools.partial(files, drawn)


_AHEAD: dict[str, Callable[[], dict[str, bytes]]] = {}
"""Figures being drawn ahead (`drawing_ahead`), by `_token`."""


@contextlib.contextmanager
def drawing_ahead(jobs: Sequence[PlotJob]) -> Iterator[None]:
    """Start drawing the jobs' figures missing from the cache now, in worker processes, for a
    `drawing` or `draw_all` of the same jobs inside the block (a build draws the CMC figures
    while the protocol renders). Figures not asked for by the end of the block are dropped."""
    _, todo = _cached(jobs)
    with _draw_many(todo) as drawn:
        _AHEAD.update({_token(job): files for job, files in zip(todo, drawn, strict=True)})
        try:
            yield
        finally:
            for job in todo:
                _AHEAD.pop(_token(job), None)


def _token(job: PlotJob) -> str:
    return f"{job.stem} {job.formats} {job.key('')}"


def _cached(jobs: Sequence[PlotJob]) -> tuple[dict[str, bytes], list[PlotJob]]:
    """(files found in the per-user cache, the jobs narrowed to the formats missing)."""
    from generator import cache

    found: dict[str, bytes] = {}
    todo: list[PlotJob] = []
    for job in jobs:
        missing = []
        for fmt in job.formats:
            data = cache.load("plot", job.key(fmt), None)
            if isinstance(data, bytes):
                found[f"{job.stem}.{fmt}"] = data
            else:
                missing.append(fmt)
        if missing:
            todo.append(dataclasses.replace(job, formats=tuple(missing)))
    return found, todo


def _store(
    todo: Sequence[PlotJob], made: Sequence[dict[str, bytes]], found: dict[str, bytes]
) -> None:
    from generator import cache

    for job, files in zip(todo, made, strict=True):
        for fmt in job.formats:
            cache.store("plot", job.key(fmt), files[f"{job.stem}.{fmt}"])
        found.update(files)


@contextlib.contextmanager
def _draw_many(jobs: Sequence[PlotJob]) -> Iterator[list[Callable[[], dict[str, bytes]]]]:
    """Per job, a function answering its files, drawn in PLOT_JOBS forked worker processes
    from the start of the block (in this process when asked for, if there are not several
    to draw)."""
    import multiprocessing

    workers = min(len(jobs), PLOT_JOBS, os.cpu_count() or 1)
    # fork only: the workers inherit matplotlib already imported (the import is the slow part
    # of a first plot); never from a worker process (a portfolio's workers fill the cores)
    if workers < 2 or sys.platform != "linux" or multiprocessing.parent_process() is not None:
        yield [functools.cache(functools.partial(draw, job)) for job in jobs]
        return
    from concurrent.futures import ProcessPoolExecutor

    # what every drawing imports, imported once here rather than once per worker
    import matplotlib.backends.backend_agg
    import matplotlib.figure

    if any("svg" in job.formats for job in jobs):
        import matplotlib.backends.backend_svg  # noqa: F401

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        yield [pool.submit(draw, job).result for job in jobs]
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def draw(job: PlotJob) -> dict[str, bytes]:
    """One job's files: the figure drawn once, saved in each of its formats."""
    # matplotlib loads only when a plot is drawn (cached builds never draw)
    from matplotlib import rc_context

    with rc_context(_RC):  # type: ignore[arg-type]
        fig = job.draw(*job.args)
        out = {}
        for fmt in job.formats:
            buffer = io.BytesIO()
            if fmt == "png":
                # zlib level 3: 40 % less encoding time than the default 6, 2 % larger files
                fig.savefig(buffer, format=fmt, metadata={"Software": None}, pil_kwargs=_PNG)
            else:
                fig.savefig(buffer, format=fmt, metadata={"Date": None})
            out[f"{job.stem}.{fmt}"] = buffer.getvalue()
    return out


def lot_plot(
    analysis: TestAnalysis, labels: PlotLabels, spec_limits: tuple[float | None, float | None]
) -> tuple[bytes, bytes]:
    """(PNG bytes, SVG bytes) for one numeric test."""
    files = draw(PlotJob("plot", lot_figure, (analysis, labels, spec_limits)))
    return files["plot.png"], files["plot.svg"]


def lot_figure(
    analysis: TestAnalysis, labels: PlotLabels, spec_limits: tuple[float | None, float | None]
) -> Figure:
    """Lot values of one numeric test against its limits (drawn under the plots' rc)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4.2), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    # results in another unit (an earlier method version) do not belong on this axis
    points = tuple(p for p in analysis.points if p.use != "other-unit")
    xs = list(range(1, len(points) + 1))
    clin = [(x, p.value) for x, p in zip(xs, points, strict=True) if p.clinical]
    non = [(x, p.value) for x, p in zip(xs, points, strict=True) if not p.clinical]
    if clin:
        lo_c = min(v for _, v in clin)
        hi_c = max(v for _, v in clin)
        ax.axhspan(lo_c, hi_c, color="#cfe3f5", alpha=0.6, zorder=0, label=labels.clinical_span)
    if clin:
        ax.scatter(
            [x for x, _ in clin],
            [v for _, v in clin],
            s=36,
            marker="o",
            color="#1f5fa8",
            edgecolors="#0b2f5a",
            linewidths=0.6,
            zorder=3,
            label=labels.clinical,
        )
    if non:
        ax.scatter(
            [x for x, _ in non],
            [v for _, v in non],
            s=40,
            marker="^",
            facecolors="none",
            edgecolors="#d9730d",
            linewidths=1.3,
            zorder=3,
            label=labels.non_clinical,
        )
    first_spec = True
    for limit in spec_limits:
        if limit is not None:
            ax.axhline(
                limit,
                color="#c0392b",
                linewidth=1.6,
                zorder=2,
                label=labels.specification if first_spec else None,
            )
            first_spec = False
    first_ti = True
    for limit in analysis.interval:
        if limit is not None:
            ax.axhline(
                limit,
                color="#555555",
                linewidth=1.3,
                linestyle=(0, (5, 3)),
                zorder=2,
                label=labels.proposed if first_ti else None,
            )
            first_ti = False
    # one labelled tick per lot costs a text layout per lot and plot (minutes at 10,000
    # lots) and is unreadable beyond a few dozen: label every n-th lot instead
    step = -(-len(points) // MAX_LABELLED_LOTS)
    ticks = xs[::step]
    ax.set_xticks(ticks)
    ax.set_xticklabels([points[x - 1].lot_id for x in ticks], rotation=60, ha="right", fontsize=7)
    ax.set_xlim(0.3, len(points) + 0.7)
    ax.set_xlabel(labels.x_axis)
    ax.set_ylabel(labels.y_axis)
    ax.set_title(labels.title)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6, zorder=1)
    return finish(fig, ax, columns=2, left=0.11, top=0.92, bottom=0.36)


def finish(fig: Figure, ax: Any, *, columns: int, left: float, top: float, bottom: float) -> Figure:
    """The house style every plot ends with: open axes, a margin above and below the data, and
    the legend in `columns` columns under the plot."""
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.margins(y=0.12)
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=columns, frameon=False, fontsize=7.5)
    fig.subplots_adjust(left=left, right=0.98, top=top, bottom=bottom)
    return fig
