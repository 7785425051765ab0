"""Plot jobs (generator/cmc/plots.py `draw_all`): each figure is answered from the per-user
cache by its drawing function and arguments; the missing ones are drawn in worker processes,
with the same bytes as drawn in this process."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from generator.cmc import plots
from generator.cmc.plots import PlotJob, draw, draw_all, drawing, drawing_ahead


def _figure(marks: str, n: int) -> Any:
    """A small figure; leaves a mark (process id, figure number) each time it is drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    (Path(marks) / f"{os.getpid()}-{n}").touch()
    fig = Figure(figsize=(2, 1.5), dpi=50)
    FigureCanvasAgg(fig)
    fig.add_subplot(1, 1, 1).plot([0, 1, 2], [n, 2 * n, n])
    return fig


@pytest.fixture
def marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PROTOCMC_NO_CACHE", raising=False)
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder


def _drawn(marks: Path) -> list[tuple[int, int]]:
    return sorted(tuple(int(x) for x in p.name.split("-")) for p in marks.iterdir())  # type: ignore[misc]


def test_missing_figures_are_drawn_in_workers_then_come_from_the_cache(marks: Path) -> None:
    jobs = [PlotJob(f"figures/f{n}", _figure, (str(marks), n)) for n in range(4)]
    files = draw_all(jobs)
    assert list(files) == [f"figures/f{n}.{fmt}" for n in range(4) for fmt in ("png", "svg")]
    drawn = _drawn(marks)
    assert sorted(n for _, n in drawn) == [0, 1, 2, 3]  # each figure drawn once
    if plots.PLOT_JOBS > 1 and (os.cpu_count() or 1) > 1:
        assert os.getpid() not in {pid for pid, _ in drawn}  # by worker processes
    for mark in marks.iterdir():
        mark.unlink()
    # the workers' bytes are this process's bytes
    assert {k: v for job in jobs for k, v in draw(job).items()} == files
    for mark in marks.iterdir():
        mark.unlink()
    assert draw_all(jobs) == files
    assert _drawn(marks) == []  # nothing drawn again


def test_a_figure_with_other_arguments_is_drawn_again(marks: Path) -> None:
    draw_all([PlotJob("figures/a", _figure, (str(marks), 1))])
    draw_all([PlotJob("figures/a", _figure, (str(marks), 2))])
    assert sorted(n for _, n in _drawn(marks)) == [1, 2]


def test_only_the_formats_asked_for_are_drawn_and_a_new_format_reuses_the_cached_ones(
    marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved: list[str] = []
    real_draw = plots.draw

    def spy(job: PlotJob) -> dict[str, bytes]:
        saved.extend(job.formats)
        return real_draw(job)

    monkeypatch.setattr(plots, "draw", spy)
    monkeypatch.setattr(plots, "PLOT_JOBS", 1)  # the spy sees every drawing in this process
    png_only = PlotJob("figures/a", _figure, (str(marks), 1), formats=("png",))
    assert list(draw_all([png_only])) == ["figures/a.png"]  # a Markdown or Word build
    assert saved == ["png"]
    both = PlotJob("figures/a", _figure, (str(marks), 1), formats=("png", "svg"))
    files = draw_all([both])  # the site: only the SVG is drawn, the PNG is the cached one
    assert list(files) == ["figures/a.png", "figures/a.svg"]
    assert saved == ["png", "svg"]
    assert files == real_draw(both)


def test_a_markdown_build_writes_png_figures_and_the_site_gets_svg_too(tmp_path: Path) -> None:
    from generator import api
    from generator.build import build_product

    product = Path(__file__).parents[2] / "examples" / "cd19-cart-lbcl" / "product.yaml"
    result = build_product(product, tmp_path / "out", formats=("md",), force=True)
    figures = sorted(Path(f).name for f in result.files if "figures" in str(f))
    assert figures and all(name.endswith(".png") for name in figures)
    site = api.check(product, assets=("png", "svg")).assets
    assert {f"figures/{name}" for name in figures} < set(site)
    assert {name.replace(".png", ".svg") for name in figures} <= {Path(n).name for n in site}


def test_a_build_from_a_plan_the_site_made_writes_no_svg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.build import build_product
    from generator.plan import plan

    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path / "cache"))
    product = Path(__file__).parents[2] / "examples" / "cd19-cart-lbcl" / "product.yaml"
    made = plan(product, clean=False, since=None, word=False, usdm=False, figures=("png", "svg"))
    assert any(name.endswith(".svg") for name in made.assets)
    result = build_product(product, tmp_path / "out", formats=("md",), force=True)
    names = [Path(f).name for f in result.files]
    assert any(n.endswith(".png") for n in names) and not any(n.endswith(".svg") for n in names)
    # the site's plan answered the build: the same PNG bytes
    assert (tmp_path / "out" / "figures" / "viability.png").read_bytes() == made.assets[
        "figures/viability.png"
    ]


@pytest.mark.skipif(plots.PLOT_JOBS < 2 or (os.cpu_count() or 1) < 2, reason="one core")
def test_figures_are_drawn_while_the_caller_goes_on(marks: Path) -> None:
    jobs = [PlotJob(f"figures/f{n}", _figure, (str(marks), n), formats=("png",)) for n in range(3)]
    with drawing(jobs) as files:
        # the workers draw before anyone asks for the files (render_cmc renders meanwhile)
        for _ in range(600):
            if len(_drawn(marks)) == 3:
                break
            time.sleep(0.1)
        assert sorted(n for _, n in _drawn(marks)) == [0, 1, 2]
        drawn = files()
    assert drawn == {k: v for job in jobs for k, v in draw(job).items()}


def test_an_error_while_drawing_in_the_background_leaves_no_worker(marks: Path) -> None:
    import multiprocessing

    jobs = [PlotJob(f"figures/f{n}", _figure, (str(marks), n), formats=("png",)) for n in range(3)]
    with pytest.raises(RuntimeError, match="template failed"), drawing(jobs):
        raise RuntimeError("template failed")
    assert multiprocessing.active_children() == []


def test_figures_drawn_ahead_are_not_drawn_again(marks: Path) -> None:
    jobs = [PlotJob(f"figures/f{n}", _figure, (str(marks), n), formats=("png",)) for n in range(3)]
    with drawing_ahead(jobs):
        files = draw_all(jobs)  # (a build: the protocol renders between these two)
    assert sorted(n for _, n in _drawn(marks)) == [0, 1, 2]  # each drawn once, ahead
    assert files == {k: v for job in jobs for k, v in draw(job).items()}
    assert plots._AHEAD == {}


def test_a_build_draws_its_figures_ahead_of_the_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator import api

    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path / "cache"))
    ahead: list[list[str]] = []
    real = plots.drawing_ahead

    def spy(jobs: list[PlotJob]) -> Any:
        ahead.append([f"{job.stem}.{fmt}" for job in jobs for fmt in job.formats])
        return real(jobs)

    monkeypatch.setattr(plots, "drawing_ahead", spy)
    product = Path(__file__).parents[2] / "examples" / "cd19-cart-lbcl" / "product.yaml"
    report = api.check(product, assets=("png",))
    figures = sorted(name for name in report.assets if name.startswith("figures/"))
    assert len(ahead) == 1 and sorted(ahead[0]) == figures
    api.check(product, assets=("png",))  # rendered from the cache: nothing to draw ahead
    assert len(ahead) == 1
