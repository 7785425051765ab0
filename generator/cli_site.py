"""`protocmc site` and `protocmc serve`, mounted by generator/cli.py:

from generator.cli_site import serve_command, site_command
app.command("site")(site_command)
app.command("serve")(serve_command)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from generator import cli_output
from generator.cli_output import Verbosity
from generator.console import make_console, print_problems
from generator.problems import ProblemsError, ProtocmcError

err = make_console(stderr=True)
out = cli_output.status_console()


def _fail(exc: ProtocmcError) -> None:
    if isinstance(exc, ProblemsError):
        print_problems(err, exc.problems)
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
    docs: Annotated[
        Path | None,
        typer.Option(
            "--docs",
            help="Instead of building, write the site as plain MkDocs sources (DOCS/mkdocs.yml "
            "and DOCS/docs/) that build without the protocmc plugin.",
        ),
    ] = None,
) -> None:
    """Build the review site: drafts with Word downloads, tailoring register, framework pages,
    open placeholders. Open OUTPUT/index.html straight from disk, or publish the folder."""
    from generator.site.commands import build_site, export_site_docs

    try:
        if docs is not None:
            written = export_site_docs(target, docs)
            out.print(
                f"wrote the site sources to {written}/ "
                f"(build them with: mkdocs build -f {written}/mkdocs.yml)",
                markup=False,
            )
            return
        verbose = verbose or cli_output.verbosity() is Verbosity.VERBOSE
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
    """Preview the site while writing; it rebuilds on every saved change. While the inputs
    have problems, the browser shows them (file, line, hint) instead of the site."""
    from generator.site.commands import serve_site

    try:
        serve_site(target, dev_addr=dev_addr)
    except ProtocmcError as exc:
        _fail(exc)
