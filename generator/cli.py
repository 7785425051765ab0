"""The `protocmc` command line: parse arguments, call the API, map problems to exit codes.

Exit codes: 0 clean, 1 problems in the inputs, 2 usage error, 3 internal error (a bug; no
traceback unless PROTOCMC_DEBUG=1).
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from generator import __version__
from generator.cli_calc import calc_app
from generator.cli_portfolio import portfolio_command
from generator.cli_site import serve_command, site_command
from generator.console import make_console, print_problems
from generator.problems import Problem, ProblemsError, ProtocmcError, Severity

app = typer.Typer(
    name="protocmc",
    help="Generate early-phase cell-therapy protocol (ICH M11) and CMC Module 3 drafts from YAML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
err = make_console(stderr=True)
out = make_console()


class Format(StrEnum):
    md = "md"
    docx = "docx"
    usdm = "usdm"
    all = "all"


def _print_problems(problems: list[Problem]) -> None:
    print_problems(err, problems)


def _fail(exc: ProtocmcError) -> NoReturn:
    if isinstance(exc, ProblemsError):
        _print_problems(exc.problems)
        n = len([p for p in exc.problems if p.severity is Severity.ERROR]) or len(exc.problems)
        err.print(f"{n} problem(s); nothing was written.", markup=False)
    else:
        err.print(f"error: {exc}", markup=False)
    raise typer.Exit(exc.exit_code)


def _product_path(path: Path) -> Path:
    if path.is_dir():
        candidate = path / "product.yaml"
        if candidate.is_file():
            return candidate
    if not path.exists():
        err.print(f"error: no such file: {path}", markup=False)
        raise typer.Exit(2)
    return path


@app.command()
def check(
    product: Annotated[Path, typer.Argument(help="The product file (or its folder).")],
    release: Annotated[
        bool, typer.Option("--release", help="Fail while insertion points <...> remain.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    clean: Annotated[
        bool,
        typer.Option("--clean", help="Check the clean draft (without review marks)."),
    ] = False,
) -> None:
    """Validate a product file and everything it builds; write nothing."""
    from generator import api

    path = _product_path(product)
    try:
        report = api.check(path, release=release, clean=clean)
    except ProtocmcError as exc:
        _fail(exc)
    _print_problems(report.problems)
    failing = [
        p
        for p in report.problems
        if p.severity is Severity.ERROR or (strict and p.severity is Severity.WARNING)
    ]
    if failing:
        err.print(f"{len(failing)} problem(s) in {path}.", markup=False)
        raise typer.Exit(1)
    n_reg = len(report.resolved.tailoring_register) if report.resolved else 0
    out.print(
        f"{path}: OK — {n_reg} tailoring entr{'y' if n_reg == 1 else 'ies'}, "
        f"{len(report.insertion_points)} insertion point(s) open.",
        markup=False,
    )


@app.command()
def build(
    product: Annotated[Path, typer.Argument(help="The product file (or its folder).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output folder.")] = Path("build"),
    format: Annotated[
        Format, typer.Option("--format", help="md, docx, usdm (protocol.usdm.json) or all.")
    ] = Format.all,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even when the inputs are unchanged.")
    ] = False,
    clean: Annotated[
        bool,
        typer.Option(
            "--clean",
            help="Leave out the review marks (item ids, where each clause comes from, "
            "'needs verification'): a draft to hand on.",
        ),
    ] = False,
) -> None:
    """Build the protocol draft (Markdown, Word and USDM JSON) into OUTDIR."""
    from generator import build as build_mod

    path = _product_path(product)
    try:
        result = build_mod.build_product(
            path, output, formats=_formats(format), force=force, progress=err, clean=clean
        )
    except ProtocmcError as exc:
        _fail(exc)
    except OSError as exc:  # e.g. an unreadable output folder: one line, not a traceback
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    for p in result.notes:
        _print_problems([p])
    verb = "up to date" if result.skipped else "wrote"
    for f in result.files:
        out.print(f"{verb} {f}", markup=False)


def _formats(fmt: Format) -> tuple[str, ...]:
    return ("md", "docx", "usdm") if fmt is Format.all else (fmt.value,)


@app.command()
def explain(
    product: Annotated[Path, typer.Argument(help="The product file (or its folder).")],
    path: Annotated[
        str, typer.Argument(help="Dotted path, e.g. elements.dlt.parameters.dlt_window_days")
    ],
) -> None:
    """Show a value, where it came from, and the framework's starting point."""
    from generator import api
    from generator.resolve import format_value

    try:
        entry = api.explain(_product_path(product), path)
    except ProtocmcError as exc:
        _fail(exc)
    out.print(f"{entry.path}", markup=False)
    if isinstance(entry.value, dict | list):
        out.print("  value:", markup=False)
        for line in _value_lines(entry.value):
            out.print(f"    {line}", markup=False)
    else:
        out.print(
            f"  value:          {format_value(entry.value) if not isinstance(entry.value, str) else entry.value.strip()}",
            markup=False,
        )
    out.print(f"  comes from:     {entry.provenance}", markup=False)
    if entry.starting_provenance is not None:
        start = entry.starting_value
        shown = (
            "—"
            if start is None
            else (start.strip() if isinstance(start, str) else format_value(start))
        )
        out.print(f"  starting point: {shown}", markup=False)
        out.print(f"  framework:      {entry.starting_provenance}", markup=False)
    if entry.note:
        out.print(f"  note:           {entry.note}", markup=False)


def _value_lines(value: object, indent: str = "") -> list[str]:
    """A mapping or list from the product file, one `key: value` (or `- value`) a line."""
    from generator.resolve import format_value

    def scalar(v: object) -> str:
        return " ".join(v.split()) if isinstance(v, str) else format_value(v)

    lines: list[str] = []
    if isinstance(value, dict):
        for key, v in value.items():
            if isinstance(v, list) and not any(isinstance(i, dict | list) for i in v):
                lines.append(f"{indent}{key}: {', '.join(scalar(i) for i in v)}")
            elif isinstance(v, dict | list) and v:
                lines.append(f"{indent}{key}:")
                lines += _value_lines(v, indent + "  ")
            else:
                lines.append(f"{indent}{key}: {scalar(v)}")
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, dict | list) and v:
                sub = _value_lines(v, indent + "  ")
                lines.append(f"{indent}- {sub[0].strip()}")
                lines += sub[1:]
            else:
                lines.append(f"{indent}- {scalar(v)}")
    return lines


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Folder to create, holding product.yaml.")],
) -> None:
    """Create a commented starter product file in NAME/product.yaml."""
    from generator import starter

    try:
        created = starter.new_product(Path(name))
    except ProtocmcError as exc:
        _fail(exc)
    out.print(f"created {created}", markup=False)
    out.print(f"next: edit it, then run `protocmc check {created}`", markup=False)


@app.command()
def version() -> None:
    """Print the protocmc, framework and pandoc versions."""
    import subprocess

    from generator.export.docx import pandoc_executable, parse_pandoc_version
    from generator.framework_loader import available_frameworks, load_framework

    out.print(f"protocmc {__version__}", markup=False)
    for folder in available_frameworks().values():
        out.print(f"framework {load_framework(folder).pin}", markup=False)
    try:
        first = subprocess.run(
            [pandoc_executable(), "--version"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
        out.print(f"pandoc {'.'.join(map(str, parse_pandoc_version(first)))}", markup=False)
    except (ProtocmcError, OSError, subprocess.CalledProcessError) as exc:
        err.print(f"pandoc: not available ({exc})", markup=False)


app.add_typer(calc_app, name="calc")
app.command("site")(site_command)
app.command("serve")(serve_command)
app.command("portfolio")(portfolio_command)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; previous outputs were left as they were", markup=False)
        sys.exit(130)
    except (MemoryError, RecursionError) as exc:
        err.print(
            f"error: the inputs are too large to process ({type(exc).__name__}); "
            "nothing was written",
            markup=False,
        )
        sys.exit(1)
    except Exception as exc:  # a bug of ours: say so plainly, keep the traceback opt-in
        if os.environ.get("PROTOCMC_DEBUG") == "1":
            raise
        err.print(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in "
            "protocmc; please report it with the command you ran (PROTOCMC_DEBUG=1 shows the "
            "traceback).",
            markup=False,
        )
        sys.exit(3)


@app.command(hidden=True)
def schemas(
    folder: Annotated[Path, typer.Option("--out", help="Where to write the schemas.")] = Path(
        "schemas"
    ),
) -> None:
    """Write the JSON Schemas (draft-07) of the YAML files, for editor autocomplete."""
    from generator.schemas import write_schemas

    for path in write_schemas(folder):
        out.print(f"wrote {path}", markup=False)


if __name__ == "__main__":
    main()
