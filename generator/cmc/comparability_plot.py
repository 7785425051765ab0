"""Pre- vs post-change plot of one compared attribute: PNG for Word, SVG for the site.

Lots before the change on the left, after it on the right (clinical lots filled circles,
non-clinical hollow triangles, as on the lot plots), each group's mean as a short bar. An
equivalence attribute shows the pre-change mean +/- margin as a grey band and the confidence
interval of the mean difference, placed on the pre-change mean, as an error bar on the right;
a quality range shows the range as a green band. Labels come from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.cmc.plots import PlotJob, draw, finish

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class ComparabilityPlotLabels:
    title: str
    y_axis: str
    pre: str
    post: str
    clinical: str
    non_clinical: str
    mean: str
    band: str
    interval: str


@dataclass(frozen=True)
class ComparabilityPlotData:
    pre: tuple[tuple[float, bool], ...]
    """(value, clinical) of each pre-change lot."""
    post: tuple[tuple[float, bool], ...]
    band: tuple[float, float] | None
    interval: tuple[float, float] | None
    """Confidence interval of the mean difference placed on the pre-change mean."""


def _spread(n: int) -> list[float]:
    """Evenly spread x offsets of n points in a group (deterministic, no jitter)."""
    return [0.0] if n == 1 else [-0.18 + 0.36 * i / (n - 1) for i in range(n)]


def comparability_figure(data: ComparabilityPlotData, labels: ComparabilityPlotLabels) -> Figure:
    """The figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 3.8), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if data.band is not None:
        ax.axhspan(*data.band, color="#d8ecd3", alpha=0.8, zorder=0, label=labels.band)
    shown: set[str] = set()
    for x0, group in ((0.0, data.pre), (1.0, data.post)):
        for dx, (value, clinical) in zip(_spread(len(group)), group, strict=True):
            name = labels.clinical if clinical else labels.non_clinical
            style: dict[str, Any] = (
                {"marker": "o", "color": "#1f5fa8", "edgecolors": "#0b2f5a", "linewidths": 0.6}
                if clinical
                else {
                    "marker": "^",
                    "facecolors": "none",
                    "edgecolors": "#d9730d",
                    "linewidths": 1.3,
                }
            )
            ax.scatter(
                [x0 + dx],
                [value],
                s=36,
                zorder=3,
                label=None if name in shown else name,
                **style,
            )
            shown.add(name)
        if group:
            mean = sum(v for v, _ in group) / len(group)
            ax.hlines(
                mean,
                x0 - 0.28,
                x0 + 0.28,
                color="#222222",
                linewidth=2.0,
                zorder=4,
                label="_nolegend_" if x0 else labels.mean,
            )
    if data.interval is not None:
        lo, hi = data.interval
        ax.errorbar(
            [1.38],
            [(lo + hi) / 2],
            yerr=[[(hi - lo) / 2], [(hi - lo) / 2]],
            fmt="none",
            ecolor="#c0392b",
            elinewidth=1.8,
            capsize=5,
            zorder=4,
            label=labels.interval,
        )
    ax.set_xticks([0.0, 1.0])
    ax.set_xticklabels([labels.pre, labels.post])
    ax.set_xlim(-0.55, 1.6)
    ax.set_ylabel(labels.y_axis)
    ax.set_title(labels.title)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6, zorder=1)
    return finish(fig, ax, columns=2, left=0.13, top=0.91, bottom=0.26)


def comparability_plot(
    data: ComparabilityPlotData, labels: ComparabilityPlotLabels
) -> tuple[bytes, bytes]:
    """(PNG bytes, SVG bytes), drawn in this process."""
    files = draw(
        PlotJob(
            "plot",
            comparability_figure,
            (
                data,
                labels,
            ),
        )
    )
    return files["plot.png"], files["plot.svg"]
