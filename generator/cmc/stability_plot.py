"""Stability plots: results against time per lot, the acceptance criterion, the regression line
and its one-sided confidence bound; PNG for Word, SVG for the site, byte-reproducible. Labels
come from the caller (templates' words), like `generator.cmc.plots`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.cmc.plots import PlotJob, draw, finish
from generator.cmc.stability import TestEvaluation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_COLOURS = ("#1f5fa8", "#d9730d", "#2e8b57", "#8e44ad", "#7f6000", "#c2185b")
_MARKERS = ("o", "s", "^", "D", "v", "P")


@dataclass(frozen=True)
class StabilityPlotLabels:
    title: str
    y_axis: str
    x_axis: str
    lot: str
    """'Lot {lot}'."""
    regression: str
    bound: str
    criterion: str
    supported: str


def stability_figure(t: TestEvaluation, labels: StabilityPlotLabels) -> Figure:
    """The figure of one attribute of one study."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    lots = list(dict.fromkeys(o.lot_id for o in t.observations))
    style = {lot: (_COLOURS[i % 6], _MARKERS[i % 6]) for i, lot in enumerate(lots)}
    fig = Figure(figsize=(6.5, 4.0), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for lot in lots:
        colour, marker = style[lot]
        points = [o for o in t.observations if o.lot_id == lot]
        ax.scatter(
            [o.time for o in points],
            [o.value for o in points],
            s=30,
            marker=marker,
            color=colour,
            zorder=3,
            label=labels.lot.format(lot=lot),
        )
    first = True
    for curve in t.fit.curves if t.fit else ():
        colour = style[curve.lot_id][0] if curve.lot_id in style else "#333333"
        ax.plot(
            curve.times,
            curve.mean,
            color=colour,
            linewidth=1.2,
            zorder=2,
            label=labels.regression if first else None,
        )
        for bound in (curve.lower, curve.upper):
            if bound is not None:
                ax.plot(
                    curve.times,
                    bound,
                    color=colour,
                    linewidth=1.0,
                    linestyle=(0, (4, 2)),
                    zorder=2,
                    label=labels.bound if first else None,
                )
                first = False
        first = False
    for n, limit in enumerate(x for x in (t.lower_limit, t.upper_limit) if x is not None):
        ax.axhline(
            limit,
            color="#c0392b",
            linewidth=1.6,
            zorder=2.5,  # above the grid lines (zorder 1.5)
            label=labels.criterion if n == 0 else None,
        )
    ax.axvline(
        t.supported,
        color="#555555",
        linewidth=1.0,
        linestyle=":",
        zorder=1,
        label=labels.supported,
    )
    ax.set_xlabel(labels.x_axis)
    ax.set_ylabel(labels.y_axis)
    ax.set_title(labels.title)
    ax.set_xlim(left=0)
    ax.grid(color="#dddddd", linewidth=0.6, zorder=0)
    return finish(fig, ax, columns=3, left=0.11, top=0.92, bottom=0.30)


def stability_plot(t: TestEvaluation, labels: StabilityPlotLabels) -> tuple[bytes, bytes]:
    """(PNG bytes, SVG bytes), drawn in this process."""
    files = draw(
        PlotJob(
            "plot",
            stability_figure,
            (
                t,
                labels,
            ),
        )
    )
    return files["plot.png"], files["plot.svg"]
