"""`protocmc site` and `protocmc serve`, mounted by generator/cli.py:

from generator.cli_site import serve_command, site_command
app.command("site")(site_command)
app.command("serve")(serve_command)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from generator.problems import ProblemsError, ProtocmcError

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def _fail(exc: ProtocmcError) -> None:
    if isinstance(exc, ProblemsError):
        for p in exc.problems:
            where = f"{p.location}: " if p.location else ""
            err.print(f"{where}{p.code}: {p.message}", markup=False)
    else:
        err.print(f"error: {exc}", markup=False)
    raise typer.Exit(exc.exit_code)


def site_command(
    target: Annotated[
        Path, typer.Argument(help="A product file, or a repository folder with mkdocs.yml.")
    ] = Path("."),
    output: Annotated[Path, typer.Option("-o", "--output", help="Output folder.")] = Path(
        "site-build"
    ),
    strict: Annotated[
        bool, typer.Option("--strict/--no-strict", help="Fail on any MkDocs warning.")
    ] = True,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show MkDocs' progress.")
    ] = False,
) -> None:
    """Build the review site: framework pages, drafts, tailoring register, open placeholders."""
    from generator.site.commands import build_site

    try:
        built = build_site(target, output, strict=strict, verbose=verbose)
    except ProtocmcError as exc:
        _fail(exc)
        return
    out.print(f"wrote the site to {built}/ (open {built}/index.html)", markup=False)


def serve_command(
    target: Annotated[
        Path, typer.Argument(help="A product file, or a repository folder with mkdocs.yml.")
    ] = Path("."),
    dev_addr: Annotated[
        str, typer.Option("-a", "--dev-addr", help="Address and port to serve on.")
    ] = "127.0.0.1:8000",
) -> None:
    """Preview the site while writing; it rebuilds on every saved change."""
    from generator.site.commands import serve_site

    try:
        serve_site(target, dev_addr=dev_addr)
    except ProtocmcError as exc:
        _fail(exc)
