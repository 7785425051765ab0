"""Build many products at once: one worker process per core, one output folder per product.

Each product builds into `OUTDIR/<product folder name>/` through the same `build_product` as
`protocmc build`, so every guarantee holds per product: nothing is written for a product with
problems, each output folder is locked and replaced as one transaction, nothing that is an
input or was not written by protocmc is overwritten, and an unchanged product is skipped
through its build record. Two products may not share an output folder. A product that fails
does not stop the others; its problems are collected in the result.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from generator.console import Console, make_console
from generator.problems import Problem, ProblemsError, ProtocmcError, UsageError

Status = Literal["built", "skipped", "failed"]


@dataclass(frozen=True)
class ProductOutcome:
    """What happened to one product of the portfolio."""

    product: Path
    outdir: Path
    status: Status
    seconds: float
    files: tuple[Path, ...] = ()
    problems: tuple[str, ...] = ()
    """Formatted problems (`file:line:col: CODE: message`) when the product failed."""
    exit_code: int = 0
    """What `protocmc build` would exit with for this product (1 inputs, 2 usage)."""
    details: tuple[Problem, ...] = ()
    """The same problems as data (and a built product's notes), for `--output-format json`."""


@dataclass
class PortfolioResult:
    outcomes: list[ProductOutcome] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1

    def by_status(self, status: Status) -> list[ProductOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        return not self.by_status("failed")


def product_file(path: Path) -> Path:
    """`path` itself, or `path/product.yaml` when it is a product folder."""
    return path / "product.yaml" if path.is_dir() else path


def output_folder(product: Path, outdir: Path) -> Path:
    return outdir / product_file(product).parent.resolve().name


def _build_one(
    product: Path, outdir: Path, formats: tuple[str, ...], force: bool
) -> ProductOutcome:
    """Build one product (runs in a worker process); never raises for bad inputs."""
    from generator.build import build_product

    start = time.perf_counter()
    path = product_file(product)
    try:
        result = build_product(path, outdir, formats=formats, force=force)
    except ProblemsError as exc:
        problems = tuple(p.format() for p in exc.problems)
        return ProductOutcome(
            product,
            outdir,
            "failed",
            time.perf_counter() - start,
            (),
            problems,
            exc.exit_code,
            tuple(exc.problems),
        )
    except ProtocmcError as exc:
        return ProductOutcome(
            product,
            outdir,
            "failed",
            time.perf_counter() - start,
            (),
            (f"error: {exc}",),
            exc.exit_code,
        )
    except Exception as exc:  # one product's bug must not stop the portfolio
        message = f"internal error: {type(exc).__name__}: {exc}"
        return ProductOutcome(
            product, outdir, "failed", time.perf_counter() - start, (), (message,), 1
        )
    status: Status = "skipped" if result.skipped else "built"
    return ProductOutcome(
        product,
        outdir,
        status,
        time.perf_counter() - start,
        tuple(result.files),
        (),
        details=tuple(result.notes),
    )


PLAN_MODULES = ("generator.build", "generator.plan", "generator.export.docx")
"""Every module a build answered from its cached plan imports (tests/core/test_startup.py
checks the list is complete)."""


def _warm_up() -> None:
    """Import what a build from a cached plan needs (and compute what every build shares)
    before the workers fork, so no worker pays for it. The rest of the pipeline (models,
    renderer, analysis: about 0.5 s) is imported by a worker only when one of its products
    changed: a portfolio whose products are all unchanged took 0.53 s of the parent's CPU
    time importing it, against 0.15 s for building all ten products (issue 17); when
    products changed, the workers import it side by side, which takes no longer than the
    parent importing it alone."""
    import importlib

    from generator.cache import code_digest

    for name in PLAN_MODULES:
        importlib.import_module(name)
    code_digest()
    from generator.export.pandoc import pandoc_executable

    with contextlib.suppress(ProtocmcError):  # each product reports a missing pandoc itself
        pandoc_executable()
    import gc

    gc.freeze()  # the workers' collectors leave what they inherit alone (and its pages shared)


def build_portfolio(
    products: Sequence[Path],
    outdir: Path,
    *,
    jobs: int = 0,
    formats: tuple[str, ...] = ("md", "docx"),
    progress: bool = True,
    force: bool = False,
    console: Console | None = None,
) -> PortfolioResult:
    """Build every product into `outdir/<product folder name>/` with `jobs` worker processes.

    `jobs=0` uses every core. Raises `UsageError` before building anything when two products
    would share an output folder, a product path does not exist, or `outdir` is a file or lies
    inside protocmc's shipped frameworks or templates.
    """
    from generator.build import shipped_folders
    from generator.outfolder import check_folder

    jobs = jobs or os.cpu_count() or 1
    check_folder(outdir, shipped_folders())
    targets: dict[Path, Path] = {}
    claimed: dict[Path, Path] = {}
    for product in products:
        if not product_file(product).exists():
            raise UsageError(f"no such product file: {product_file(product)}")
        target = output_folder(product, outdir)
        other = claimed.get(target.resolve())
        if other is not None:
            raise UsageError(
                f"'{product}' and '{other}' would both build into '{target}'; "
                "give each product its own folder name"
            )
        claimed[target.resolve()] = product
        targets[product] = target

    _warm_up()

    start = time.perf_counter()
    result = PortfolioResult(jobs=jobs)
    console = console or make_console(stderr=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        # Submit everything (workers fork now) before the progress bar starts its thread.
        futures: dict[Future[ProductOutcome], Path] = {
            pool.submit(_build_one, product, target, formats, force): product
            for product, target in targets.items()
        }
        bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[last]}"),
            console=console.rich,
            disable=not progress,
            transient=False,
        )
        with bar:
            task = bar.add_task("building", total=len(futures), last="")
            for future in as_completed(futures):
                outcome = future.result()
                result.outcomes.append(outcome)
                bar.update(task, advance=1, last=f"{outcome.status} {outcome.outdir.name}")
    order = {product: i for i, product in enumerate(targets)}
    result.outcomes.sort(key=lambda o: order[o.product])
    result.seconds = time.perf_counter() - start
    return result
