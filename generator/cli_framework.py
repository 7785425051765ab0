"""`protocmc framework`: the frameworks this protocmc ships, and what changed in them.

Mounted by generator/cli.py: app.add_typer(framework_app, name="framework").
"""

from __future__ import annotations

from typing import Annotated

import typer

from generator import __version__, cli_output
from generator.cli_output import OutputFormat
from generator.console import make_console, print_problems
from generator.problems import ProblemsError, ProtocmcError

framework_app = typer.Typer(
    help="The frameworks this protocmc ships, and what changed in them from release to release.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
err = make_console(stderr=True)
out = make_console()

FORMAT_OPTION = cli_output.format_option(
    "--format", "--output-format", help="text, or json: one JSON document on stdout."
)


def _fail(exc: ProtocmcError) -> None:
    if cli_output.json_requested():
        cli_output.emit(cli_output.error_data(exc))
    elif isinstance(exc, ProblemsError):
        print_problems(err, exc.problems)
    else:
        err.print(f"error: {exc}", markup=False)
    raise typer.Exit(exc.exit_code)


@framework_app.command("changes")
def changes_command(
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="X.Y.Z",
            help="Only the releases after this protocmc version (the one you move from).",
        ),
    ] = None,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """List the framework changes of every protocmc release after --since (from CHANGELOG.md),
    newest first: what a sponsor reviews when moving to this version."""
    from generator.changelog import parse_version, releases_since, shipped_changelog
    from generator.problems import UsageError

    since_key = None
    try:
        if since is not None:
            since_key = parse_version(since)
            if since_key is None:
                raise UsageError(f"--since takes a version such as 1.0.0, not '{since}'")
        releases = releases_since(shipped_changelog(), since_key)
    except ProtocmcError as exc:
        _fail(exc)
        return
    if cli_output.json_requested():
        cli_output.emit(cli_output.changes_data(since, releases))
        return
    if not releases:
        after = f" after {since}" if since else ""
        out.print(f"no protocmc release{after} (this is protocmc {__version__})", markup=False)
        return
    for release in releases:
        shipped = ", ".join(f"{fid} {ver}" for fid, ver in sorted(release.frameworks.items()))
        out.print(f"{release.version} ({release.date}): {shipped}", markup=False)
        if not release.changes:
            out.print("  no framework changes", markup=False)
        for change in release.changes:
            where = change.framework + (f"/{change.element}" if change.element else "")
            out.print(f"  {where}: {change.text}", markup=False)


@framework_app.command("list")
def list_command(
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """List the frameworks this protocmc ships: id, version, title and the pin a product uses."""
    from generator.cmc.inputs import available_cmc_frameworks
    from generator.cmc.loader import load_cmc_framework
    from generator.framework_loader import available_frameworks, load_framework

    rows: list[dict[str, str]] = []
    try:
        for folder in available_frameworks().values():
            fw = load_framework(folder).framework
            rows.append({"id": fw.id, "version": fw.version, "title": fw.title, "kind": "protocol"})
        for folder in available_cmc_frameworks().values():
            cmc = load_cmc_framework(folder).framework
            rows.append({"id": cmc.id, "version": cmc.version, "title": cmc.title, "kind": "cmc"})
    except ProtocmcError as exc:
        _fail(exc)
        return
    rows.sort(key=lambda r: r["id"])
    for row in rows:
        row["pin"] = f"{row['id']}@{row['version'].split('.')[0]}"
    if cli_output.json_requested():
        data = cli_output.envelope(0)
        data["frameworks"] = rows
        cli_output.emit(data)
        return
    for row in rows:
        out.print(f"{row['id']} {row['version']} ({row['kind']}): {row['title']}", markup=False)
