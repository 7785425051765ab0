"""`protocmc portfolio`: build many products in parallel (mounted by generator.cli)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from generator import cli_output
from generator.cli_output import OutputFormat, Verbosity
from generator.console import make_console
from generator.problems import ProtocmcError

err = make_console(stderr=True)
out = cli_output.status_console()


class PortfolioFormat(StrEnum):
    md = "md"
    docx = "docx"
    all = "all"


def portfolio_command(
    products: Annotated[
        list[Path], typer.Argument(help="Product files or folders (each holding product.yaml).")
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Output folder; one subfolder per product.")
    ] = Path("build"),
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: one per core).")
    ] = 0,
    format: Annotated[
        PortfolioFormat, typer.Option("--format", help="md, docx or all.")
    ] = PortfolioFormat.all,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild products whose inputs are unchanged.")
    ] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
    output_format: Annotated[
        OutputFormat,
        cli_output.format_option(
            "--output-format",
            help="text, or json: every product's outcome, as one JSON document on stdout.",
        ),
    ] = OutputFormat.text,
) -> None:
    """Build every product into OUTPUT/<product folder>/, in parallel; unchanged ones are skipped."""
    from generator.portfolio import build_portfolio

    formats = ("md", "docx") if format is PortfolioFormat.all else (format.value,)
    try:
        result = build_portfolio(
            products,
            output,
            jobs=jobs,
            formats=formats,
            progress=progress and cli_output.verbosity() is not Verbosity.QUIET,
            force=force,
            console=err,
        )
    except ProtocmcError as exc:
        if cli_output.json_requested():
            cli_output.emit(cli_output.error_data(exc))
        else:
            err.print(f"error: {exc}", markup=False)
        raise typer.Exit(exc.exit_code) from None
    failed = result.by_status("failed")
    # 2 when a product was refused (e.g. its output would overwrite an input), else 1
    code = max((o.exit_code for o in failed), default=0)
    if cli_output.json_requested():
        cli_output.emit(cli_output.portfolio_data(output, result, code))
        raise typer.Exit(code)
    if cli_output.verbosity() is Verbosity.VERBOSE:
        for outcome in result.outcomes:
            err.print(
                f"{outcome.product}: {outcome.status} in {outcome.seconds:.1f} s "
                f"({len(outcome.files)} file(s) in {outcome.outdir})",
                markup=False,
            )
    for outcome in failed:
        err.print(f"{outcome.product}: failed", markup=False)
        for line in outcome.problems:
            err.print(f"  {line}", markup=False)
    built, skipped = result.by_status("built"), result.by_status("skipped")
    out.print(
        f"{len(built)} built, {len(skipped)} up to date, {len(failed)} failed "
        f"in {result.seconds:.1f} s with {result.jobs} worker(s).",
        markup=False,
    )
    if failed:
        raise typer.Exit(code)
