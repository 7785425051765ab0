"""The `protocmc` command line: parse arguments, call the API, map problems to exit codes.

Exit codes: 0 clean, 1 problems in the inputs, 2 usage error, 3 internal error (a bug; no
traceback unless PROTOCMC_DEBUG=1).
"""

from __future__ import annotations

import importlib
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from generator import __version__, cli_output
from generator.cli_output import OutputFormat, Verbosity
from generator.cli_portfolio import portfolio_command
from generator.cli_site import serve_command, site_command
from generator.console import make_console, print_problems
from generator.problems import Problem, ProblemsError, ProtocmcError, Severity, UsageError


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"protocmc {__version__}")
        raise typer.Exit()


def _share_option(option: Any, command: Any) -> None:
    """Give `command` and every command below it the program's `option` (like `-h`)."""
    if not any(option.name == p.name for p in command.params):
        command.params.append(option)
    for sub in getattr(command, "commands", {}).values():
        _share_option(option, sub)


SUBGROUPS = {
    "calc": ("generator.cli_calc", "calc_app"),
    "framework": ("generator.cli_framework", "framework_app"),
}
"""Command groups imported when named (or listed in help): `calc` alone cost 60 ms of every
build's start-up (issue 17)."""


class ProtocmcGroup(TyperGroup):
    """The program: its `--version` option also works after any command name; the `SUBGROUPS`
    load on first use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version_option = next(p for p in self.params if p.name == "version")
        for sub in self.commands.values():
            _share_option(self.version_option, sub)

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in SUBGROUPS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in SUBGROUPS and cmd_name not in self.commands:
            module, attribute = SUBGROUPS[cmd_name]
            group = typer.main.get_group(getattr(importlib.import_module(module), attribute))
            group.name = cmd_name
            _share_option(self.version_option, group)
            self.add_command(group, cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="protocmc",
    help="Generate early-phase cell-therapy protocol (ICH M11) and CMC Module 3 drafts from YAML.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=ProtocmcGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)
err = make_console(stderr=True)
out = cli_output.status_console()

# Commands whose stdout is a status (`wrote ...`, `OK`), silenced by -q; the others print data.
STATUS_COMMANDS = frozenset({"check", "build", "new", "site", "serve", "portfolio", "schemas"})
FORMAT_OPTION = cli_output.format_option(
    "--format", "--output-format", help="text, or json: one JSON document on stdout."
)
REPORT_OPTION = cli_output.format_option(
    "--output-format", help="text, or json: what was written, as one JSON document on stdout."
)
SINCE_OPTION = typer.Option(
    "--since",
    help="The previous version to compare with: a git revision of the product's repository "
    "(read with git show, no checkout) or a path to the previous product file. Default: the "
    "amendment's previous_version.",
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    quiet: Annotated[
        bool,
        typer.Option("-q", "--quiet", help="Print only errors (give it before the command name)."),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "-v", "--verbose", help="Also print progress details and info-level problems."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            expose_value=False,
            help="Print the protocmc version and exit.",
        ),
    ] = False,
) -> None:
    if quiet and verbose:
        raise typer.BadParameter("give -q or -v, not both", param_hint="-q/-v")
    level = Verbosity.QUIET if quiet else Verbosity.VERBOSE if verbose else Verbosity.NORMAL
    cli_output.start(level, status_command=ctx.invoked_subcommand in STATUS_COMMANDS)


class Format(StrEnum):
    md = "md"
    docx = "docx"
    usdm = "usdm"
    all = "all"


def _print_problems(problems: list[Problem], *, strict: bool = False) -> None:
    """The problems this verbosity shows, on stderr (nothing in JSON mode: they are in it)."""
    if not cli_output.json_requested():
        print_problems(err, cli_output.visible(problems, strict=strict))


def _fail(exc: ProtocmcError) -> NoReturn:
    if cli_output.json_requested():
        cli_output.emit(cli_output.error_data(exc))
        raise typer.Exit(exc.exit_code)
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
        _fail(UsageError(f"no such file: {path}"))
    return path


@app.command()
def check(
    product: Annotated[Path, typer.Argument(help="The product file (or its folder).")],
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
    release: Annotated[
        bool, typer.Option("--release", help="Fail while insertion points <...> remain.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    clean: Annotated[
        bool,
        typer.Option("--clean", help="Check the clean draft (without review marks)."),
    ] = False,
    since: Annotated[str | None, SINCE_OPTION] = None,
) -> None:
    """Validate a product file and everything it builds; write nothing."""
    from generator import api

    path = _product_path(product)
    try:
        report = api.check(path, release=release, clean=clean, since=since)
    except ProtocmcError as exc:
        _fail(exc)
    _print_problems(report.problems, strict=strict)
    failing = [
        p
        for p in report.problems
        if p.severity is Severity.ERROR or (strict and p.severity is Severity.WARNING)
    ]
    if cli_output.json_requested():
        code = 1 if failing else 0
        cli_output.emit(
            cli_output.check_data(path, report, release=release, strict=strict, exit_code=code)
        )
        raise typer.Exit(code)
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
    output_format: Annotated[OutputFormat, REPORT_OPTION] = OutputFormat.text,
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
    since: Annotated[str | None, SINCE_OPTION] = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            "-w",
            help="Stay running and rebuild on every saved change to the product's folder, the "
            "frameworks or the templates (Ctrl-C stops).",
        ),
    ] = False,
) -> None:
    """Build the protocol draft (Markdown, Word and USDM JSON) into the output folder."""
    path = _product_path(product)
    formats = _formats(format)
    if not watch:
        _build_once(path, output, formats, force=force, clean=clean, since=since)
        return
    if cli_output.json_requested():
        _fail(UsageError("--watch prints as it builds; leave out --output-format json"))
    from generator.watch import watch as watch_builds

    def one(first: bool) -> int:
        return _exit_code(
            lambda: _build_once(
                path, output, formats, force=force and first, clean=clean, since=since
            )
        )

    code = watch_builds(
        path,
        output,
        build=one,
        argv=[a for a in sys.argv[1:] if a not in ("--watch", "-w")],
        say=lambda text: err.print(text, markup=False),
    )
    raise typer.Exit(code)


def _build_once(
    path: Path,
    output: Path,
    formats: tuple[str, ...],
    *,
    force: bool,
    clean: bool,
    since: str | None,
) -> None:
    """One build and its report (raises typer.Exit with the exit code when it fails)."""
    from generator import build as build_mod

    try:
        result = build_mod.build_product(
            path,
            output,
            formats=formats,
            force=force,
            progress=cli_output.progress_console(err),
            clean=clean,
            since=since,
        )
    except ProtocmcError as exc:
        _fail(exc)
    except OSError as exc:  # e.g. an unreadable output folder: one line, not a traceback
        _fail(UsageError(str(exc)))
    if cli_output.json_requested():
        cli_output.emit(cli_output.build_data(path, output, result))
        return
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
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Show a value, where it came from, and the framework's starting point."""
    from generator import api
    from generator.resolve import format_value

    try:
        entry = api.explain(_product_path(product), path)
    except ProtocmcError as exc:
        _fail(exc)
    if cli_output.json_requested():
        cli_output.emit(cli_output.explain_data(entry))
        return
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
    cmc: Annotated[
        bool,
        typer.Option("--cmc", help="Also write a starter cmc.yaml and lots.csv (Module 3)."),
    ] = False,
) -> None:
    """Create a commented starter product file in NAME/product.yaml (and CMC inputs)."""
    from generator import starter

    try:
        created = starter.new_product(Path(name), cmc=cmc)
    except ProtocmcError as exc:
        _fail(exc)
    out.print(f"created {created}", markup=False)
    out.print(f"next: edit it, then run `protocmc check {created}`", markup=False)


@app.command()
def version() -> None:
    """Print the protocmc, framework and pandoc versions."""
    import subprocess

    from generator.export.pandoc import pandoc_executable, parse_pandoc_version
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


@app.command()
def schemas(
    folder: Annotated[Path, typer.Option("--out", help="Folder to write the schemas into.")] = Path(
        "schemas"
    ),
) -> None:
    """Write the JSON Schemas (draft-07) of the product, CMC and framework YAML files, for
    editor autocomplete and inline help (e.g. VS Code with the YAML extension)."""
    from generator.schemas import write_schemas

    for path in write_schemas(folder):
        out.print(f"wrote {path}", markup=False)


app.command("site")(site_command)
app.command("serve")(serve_command)
app.command("portfolio")(portfolio_command)


# numpy's BLAS would start a thread per core for arrays of a few hundred values (lot tables,
# tolerance integrals): on 2 cores that cost more CPU than it saved (issue 17: warm CPU time
# 0.64 s -> 0.40 s). Defaults only, for the command line's own process and its workers; set
# before anything imports numpy; a user's own setting wins.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


GC_THRESHOLD = (10_000, 10, 10)
"""A command lives seconds and allocates millions of objects: the collector's default (look
for cycles every 700 new objects, the whole heap every ~100 such looks) took ~75 ms of a
one-line edit's rebuild, this ~25 ms (issue 17). Cycles are still collected, so memory stays
bounded; forked workers and rebuilds inherit it."""


def main() -> None:
    import gc

    gc.set_threshold(*GC_THRESHOLD)
    for name in BLAS_THREADS:
        os.environ.setdefault(name, "1")
    # pydantic looks for plugins in every installed package's metadata when it builds the
    # first validator (30 ms a build); protocmc uses none. A user's own setting wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    sys.exit(_exit_code(app))


def _exit_code(action: Any) -> int:
    """Run `action()`: its exit code, with interrupts, exhausted memory and our own bugs
    reported in one line (no traceback unless PROTOCMC_DEBUG=1)."""
    try:
        action()
    except typer.Exit as exc:
        return int(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; previous outputs were left as they were", markup=False)
        return 130
    except (MemoryError, RecursionError) as exc:
        err.print(
            f"error: the inputs are too large to process ({type(exc).__name__}); "
            "nothing was written",
            markup=False,
        )
        return 1
    except Exception as exc:  # a bug of ours: say so plainly, keep the traceback opt-in
        if os.environ.get("PROTOCMC_DEBUG") == "1":
            raise
        err.print(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in "
            "protocmc; please report it with the command you ran (PROTOCMC_DEBUG=1 shows the "
            "traceback).",
            markup=False,
        )
        return 3
    return 0


def run() -> NoReturn:
    """The `protocmc` command: `main`, then leave without the interpreter's teardown (freeing
    every module and object cost 10-15 % of a cached build's CPU time, issue 17). Every
    output is already written and renamed into place (atomic writes); only the standard
    streams are flushed here. Under coverage measurement (which writes its data at exit) the
    normal exit is kept."""
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if not isinstance(code, int) or "coverage" in sys.modules:
        sys.exit(code)  # type: ignore[arg-type]
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let the normal exit report it
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":
    run()
