"""The sponsor template as rendered: `cookiecutter --no-input` gives a working repository whose
names, YAML, install line and CI workflow hold for any answers a sponsor may give.
(The create → release → update loop is in test_loop.py.)
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from generator import __version__, api
from tests.sponsor.helpers import TEMPLATE, sh_lines

SLUG = "pct-xx-protocol"
HOSTILE = {
    "product_name": "PCT: 19/B",
    "sponsor_name": 'O\'Brien "Cell" Labs: #1 & Zürich',
}


def _generate(out: Path, **answers: str) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out), extra_context=answers)
    )


def _yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text("utf-8"))


def test_template_pins_this_protocmc_version() -> None:
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text("utf-8"))
    assert context["_protocmc_version"] == __version__
    # the version is private: cruft re-reads it from each template release, so updates move it
    assert "protocmc_version" not in context


def test_generated_repository_has_the_promised_files(tmp_path: Path) -> None:
    repo = _generate(tmp_path)
    assert repo.name == SLUG
    for rel in (
        "product.yaml",
        "requirements.txt",
        "mkdocs.yml",
        "README.md",
        ".pre-commit-config.yaml",
        ".github/workflows/protocmc.yml",
        "templates/protocol/README.md",
        "docs/index.md",
    ):
        assert (repo / rel).is_file(), rel
    product = (repo / "product.yaml").read_text("utf-8")
    assert product.startswith(
        "# yaml-language-server: $schema=.protocmc/schemas/product.schema.json\n"
    )
    for path in repo.rglob("*"):
        if path.is_file():
            text = path.read_text("utf-8")
            assert "cookiecutter." not in text, path
            if "templates" not in path.relative_to(repo).parts:  # Jinja examples live there
                assert "{{" not in text and "{%" not in text, path
    assert [p.name for p in (repo / "templates" / "protocol").iterdir()] == ["README.md"]


def test_install_line_defaults_to_the_released_package(tmp_path: Path) -> None:
    repo = _generate(tmp_path)
    lines = [
        line
        for line in (repo / "requirements.txt").read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert lines == [f"protocmc=={__version__}"]


@pytest.mark.parametrize(
    "requirement",
    [
        "protocmc @ git+https://git.example.org/protocmc.git@v{version}",
        "/wheels/protocmc-{version}-py3-none-any.whl",
        "protocmc @ file:///src/protocmc",
    ],
)
def test_install_line_comes_from_the_protocmc_requirement_answer(
    tmp_path: Path, requirement: str
) -> None:
    repo = _generate(tmp_path, protocmc_requirement=requirement)
    last = (repo / "requirements.txt").read_text("utf-8").splitlines()[-1]
    assert last == requirement.replace("{version}", __version__)


def test_names_with_quotes_colons_and_slashes_stay_valid(tmp_path: Path) -> None:
    repo = _generate(tmp_path, **HOSTILE)
    # cookiecutter's slugify: one folder, no nesting from the '/'
    assert repo.name == "pct-19-b-protocol"
    assert [p.name for p in tmp_path.iterdir()] == ["pct-19-b-protocol"]
    product = _yaml(repo / "product.yaml")
    assert product["title_page"]["sponsor_name"] == HOSTILE["sponsor_name"]
    assert product["title_page"]["investigational_products"] == [HOSTILE["product_name"]]
    assert product["product"]["name"] == HOSTILE["product_name"]
    assert product["framework"] == "early-phase-cell-therapy@1"
    assert _yaml(repo / "mkdocs.yml")["site_name"] == f"{HOSTILE['product_name']} protocol drafts"
    report = api.check(repo / "product.yaml")
    assert report.errors == []
    assert report.resolved is not None
    assert report.resolved.product.title_page.sponsor_name == HOSTILE["sponsor_name"]


def test_workflow_uses_the_python_version_answer_caches_pip_and_reads_only(
    tmp_path: Path,
) -> None:
    repo = _generate(tmp_path, python_version="3.12")
    workflow = _yaml(repo / ".github" / "workflows" / "protocmc.yml")
    assert workflow["permissions"] == {"contents": "read"}
    setups = [
        step["with"]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("actions/setup-python")
    ]
    assert len(setups) == 2
    assert all(s["python-version"] == "3.12" for s in setups)
    drafts = workflow["jobs"]["drafts"]["steps"]
    assert setups[0]["cache"] == "pip"
    assert setups[0]["cache-dependency-path"] == "requirements.txt"
    runs = [str(step.get("run", "")) for step in drafts]
    assert "pip install -r requirements.txt pre-commit" in runs
    assert "pre-commit run --all-files --show-diff-on-failure" in runs
    assert "protocmc check --release product.yaml" in runs
    assert "protocmc build product.yaml -o build" in runs
    assert "protocmc site . -o site-build" in runs
    template = workflow["jobs"]["template"]["steps"]
    assert any("cruft check --checkout" in str(step.get("run", "")) for step in template)
    every_step = drafts + template
    assert not any("continue-on-error" in step for step in every_step)


def test_pre_commit_refuses_rej_files_and_conflict_markers(tmp_path: Path) -> None:
    repo = _generate(tmp_path)
    hooks = {
        h["id"]: h for r in _yaml(repo / ".pre-commit-config.yaml")["repos"] for h in r["hooks"]
    }
    assert hooks["no-rej-files"]["language"] == "fail"
    assert hooks["no-rej-files"]["files"] == r"\.rej$"
    assert hooks["no-merge-markers"]["language"] == "pygrep"
    assert hooks["protocmc-check"]["entry"] == "protocmc check product.yaml"


def test_generated_product_passes_check(tmp_path: Path) -> None:
    repo = _generate(tmp_path)
    report = api.check(repo / "product.yaml")
    assert report.errors == []
    assert report.insertion_points, "the starter should show what is left to write"


@pytest.mark.slow
def test_readme_commands_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `protocmc ...` line of the generated README runs (variables as the README says)."""
    from generator.cli import app

    repo = _generate(tmp_path)
    readme = (repo / "README.md").read_text("utf-8")
    monkeypatch.setenv("OLD", __version__)
    commands = [
        [os.path.expandvars(word) for word in shlex.split(line)][1:]
        for line in sh_lines(readme, "protocmc")
    ]
    names = [c[0] for c in commands]
    assert {"check", "explain", "build", "site", "serve", "schemas", "framework"} <= set(names)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    runner = CliRunner()
    for args in commands:
        if args[0] == "serve":
            continue  # a long-running server: tests/cli/test_serve_errors.py drives it
        result = runner.invoke(app, args)
        if "--release" in args:
            assert result.exit_code == 1, "the starter still has open insertion points"
            continue
        assert result.exit_code == 0, f"protocmc {' '.join(args)}:\n{result.output}"
    assert (repo / "build" / "protocol.md").is_file()
    assert (repo / "build" / "protocol.docx").is_file()
    assert (repo / "site-build" / "index.html").is_file()
    assert (repo / "site-build" / "products" / "pct-xx-protocol" / "protocol.html").is_file()
    assert (repo / ".protocmc" / "schemas" / "product.schema.json").is_file()
