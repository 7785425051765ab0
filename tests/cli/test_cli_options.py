"""The command line's habits: `--version` and `-h` everywhere, shell completion, the visible
`schemas` command, -q / -v applied the same way by every command, and no runtime dependency
that protocmc never imports."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from generator import __version__
from tests.conftest import EXAMPLES, FIXTURES, ROOT

Run = Callable[..., Any]


def _command_paths() -> Iterator[list[str]]:
    """Every command and group of the program, as the words that name it."""
    from generator.cli import app

    def walk(command: Any, path: list[str]) -> Iterator[list[str]]:
        yield path
        # as click lists and finds them: `calc` and `framework` load only when named
        names = command.list_commands(None) if hasattr(command, "list_commands") else []
        for name in sorted(names):
            yield from walk(command.get_command(None, name), [*path, name])

    yield from walk(typer.main.get_command(app), [])


PATHS = list(_command_paths())


def test_every_command_is_reached() -> None:
    names = {" ".join(p) for p in PATHS}
    assert {"", "check", "build", "explain", "schemas", "framework changes", "calc boin"} <= names
    assert len(PATHS) > 20


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "protocmc")
def test_version_and_short_help_everywhere(path: list[str], cli: Run) -> None:
    version = cli(*path, "--version")
    assert version.exit_code == 0, version.output
    assert version.stdout == f"protocmc {__version__}\n"
    short = cli(*path, "-h")
    assert short.exit_code == 0, short.output
    assert short.stdout.startswith("Usage: ") and "-h, --help" in short.stdout


def test_shell_completion_is_on(tmp_path: Path) -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "generator", "-h"], capture_output=True, text=True, check=True
    ).stdout
    assert "--install-completion" in help_text and "--show-completion" in help_text
    # the protocol the installed completion script speaks
    env = {
        **os.environ,
        "_PROTOCMC_COMPLETE": "complete_bash",
        "COMP_WORDS": "protocmc framework ch",
        "COMP_CWORD": "2",
    }
    protocmc = shutil.which("protocmc", path=str(Path(sys.executable).parent))
    assert protocmc is not None
    done = subprocess.run([protocmc], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.split() == ["changes"]


def test_schemas_is_listed_with_help_and_build_says_output_folder(cli: Run) -> None:
    listing = cli("-h").stdout
    assert "schemas    Write the JSON Schemas" in listing
    build = cli("build", "-h").stdout
    assert "Output folder." in build and "OUTDIR" not in build


def test_python_docx_is_only_a_test_dependency() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    runtime = [d.split(">")[0].split("=")[0] for d in pyproject["dependencies"]]
    assert "python-docx" not in runtime
    assert any(d.startswith("python-docx") for d in pyproject["optional-dependencies"]["test"])
    for path in (ROOT / "generator").rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            assert not any(n == "docx" or n.startswith("docx.") for n in names), path


# -q / -v ---------------------------------------------------------------------------------------


def test_quiet_check_prints_nothing_when_clean_and_errors_when_not(
    minimal_product: Path, cli: Run
) -> None:
    normal = cli("check", minimal_product)
    assert normal.exit_code == 0 and "OK" in normal.stdout
    assert "PC001" not in normal.stderr  # info-level: shown with -v only
    quiet = cli("-q", "check", minimal_product)
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    verbose = cli("-v", "check", minimal_product)
    assert verbose.exit_code == 0 and "PC001" in verbose.stderr and "OK" in verbose.stdout

    text = minimal_product.read_text("utf-8").replace("  sponsor_name:", "  sponsor_nam:")
    minimal_product.write_text(text, "utf-8")
    broken = cli("-q", "check", minimal_product)
    assert broken.exit_code == 1 and "PV010" in broken.stderr and broken.stdout == ""


def test_quiet_hides_warnings_unless_they_fail(cli: Run) -> None:
    product = ROOT / "examples" / "cd19-cart-lbcl" / "product.yaml"  # CM071 warnings
    normal = cli("check", product)
    assert normal.exit_code == 0 and "CM071" in normal.stderr
    quiet = cli("-q", "check", product)
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""
    strict = cli("-q", "check", "--strict", product)
    assert strict.exit_code == 1 and "CM071" in strict.stderr


def test_quiet_build_writes_silently_normal_build_shows_progress(
    minimal_product: Path, tmp_path: Path, cli: Run
) -> None:
    normal = cli("build", minimal_product, "-o", tmp_path / "a", "--format", "docx")
    assert normal.exit_code == 0
    assert "converting protocol to Word" in normal.stderr and "wrote" in normal.stdout
    quiet = cli("-q", "build", minimal_product, "-o", tmp_path / "b", "--format", "docx")
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert (tmp_path / "b" / "protocol.docx").is_file()


def test_verbose_portfolio_reports_each_product_quiet_only_failures(
    tmp_path: Path, cli: Run
) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    for folder in (good, bad):
        shutil.copytree(FIXTURES / "minimal", folder)
    text = (bad / "product.yaml").read_text("utf-8").replace("phase: Phase 1", "phase: Phase 7")
    (bad / "product.yaml").write_text(text, "utf-8")
    args = ("portfolio", good, bad, "-o", tmp_path / "out", "-j", "1", "--format", "md")
    verbose = cli("-v", *args)
    assert verbose.exit_code == 1
    assert f"{good}: built in" in verbose.stderr and f"{bad}: failed in" in verbose.stderr
    quiet = cli("-q", *args)
    assert quiet.exit_code == 1 and quiet.stdout == ""
    assert f"{bad}: failed" in quiet.stderr and f"{good}:" not in quiet.stderr


def test_quiet_does_not_silence_data_commands(cli: Run) -> None:
    product = EXAMPLES[0] / "product.yaml"
    explained = cli("-q", "explain", product, "title_page.version")
    assert explained.exit_code == 0 and "value:" in explained.stdout
    assert cli("-q", "framework", "list").stdout.strip()


def test_quiet_and_verbose_together_are_a_usage_error(minimal_product: Path, cli: Run) -> None:
    result = cli("-q", "-v", "check", minimal_product)
    assert result.exit_code == 2 and "not both" in result.stderr


def test_quiet_site_prints_nothing(
    minimal_product: Path, tmp_path: Path, cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    quiet = cli("-q", "site", minimal_product, "-o", tmp_path / "site")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == ""
    assert (tmp_path / "site" / "index.html").is_file()
