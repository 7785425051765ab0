"""The sponsor template: `cookiecutter --no-input` gives a working repository, and a repository
made from template version N updates cleanly to N+1 with `cruft update`, keeping sponsor edits.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from generator import __version__, api
from generator.cli_site import serve_command, site_command
from generator.paths import TEMPLATES_DIR

TEMPLATE = TEMPLATES_DIR / "sponsor"
SLUG = "pct-xx-protocol"
NEW_STEP = "      - name: Export the register as CSV\n        run: protocmc build product.yaml -o build --format md\n"
NEW_README_LINE = "Questions about the setup go to the protocmc maintainers.\n"

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _cli() -> typer.Typer:
    """The protocmc app, with `site` and `serve` mounted if cli.py does not mount them yet."""
    from generator.cli import app

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    if "site" not in names:
        app.command("site")(site_command)
    if "serve" not in names:
        app.command("serve")(serve_command)
    return app


def _readme_commands(readme: str) -> list[list[str]]:
    """Every `protocmc ...` line in the README's ```sh blocks, as argument lists."""
    commands: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL):
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("protocmc "):
                commands.append(shlex.split(line)[1:])
    return commands


def _generate(out: Path) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out)))


def test_template_pins_this_protocmc_version() -> None:
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text("utf-8"))
    assert context["protocmc_version"] == __version__


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
    assert (
        (repo / "requirements.txt").read_text("utf-8").strip().endswith(f"protocmc=={__version__}")
    )
    product = (repo / "product.yaml").read_text("utf-8")
    assert product.startswith(
        "# yaml-language-server: $schema=.protocmc/schemas/product.schema.json\n"
    )
    assert "{{" not in product and "cookiecutter" not in product
    workflow = (repo / ".github/workflows/protocmc.yml").read_text("utf-8")
    assert "protocmc check --release product.yaml" in workflow
    assert "protocmc build product.yaml" in workflow
    assert "protocmc site . -o site-build" in workflow
    assert [p.name for p in (repo / "templates" / "protocol").iterdir()] == ["README.md"]


def test_generated_product_passes_check(tmp_path: Path) -> None:
    repo = _generate(tmp_path)
    report = api.check(repo / "product.yaml")
    assert report.errors == []
    assert report.insertion_points, "the starter should show what is left to write"


@pytest.mark.slow
def test_readme_commands_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _generate(tmp_path)
    commands = _readme_commands((repo / "README.md").read_text("utf-8"))
    names = [c[0] for c in commands]
    assert {"check", "explain", "build", "site", "serve", "schemas"} <= set(names)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    runner = CliRunner()
    app = _cli()
    for args in commands:
        if args[0] == "serve":
            continue  # a long-running server: checked by being a registered command below
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
    assert runner.invoke(app, ["serve", "--help"]).exit_code == 0


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


@needs_git
@pytest.mark.slow
def test_cruft_update_from_n_to_n_plus_1_keeps_sponsor_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cruft

    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "t" if "NAME" in var else "t@example.org")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")

    # Template version N, in its own git repository.
    # (laid out like the protocmc repository: the template lives in templates/sponsor/)
    template_repo = tmp_path / "protocmc"
    template = template_repo / "templates" / "sponsor"
    shutil.copytree(TEMPLATE, template)
    _git(template_repo, "init", "-q", "-b", "main")
    _git(template_repo, "add", "-A")
    _git(template_repo, "commit", "-q", "-m", "template N")

    # A sponsor repository created from N.
    projects = tmp_path / "projects"
    projects.mkdir()
    repo = cruft.create(
        str(template_repo), output_dir=projects, no_input=True, directory="templates/sponsor"
    )
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "created from template N")
    commit_n = json.loads((repo / ".cruft.json").read_text("utf-8"))["commit"]

    # Sponsor-only edits: their product, their own page, their own override.
    product = repo / "product.yaml"
    edited = product.read_text("utf-8").replace(
        'short_title: "<Short title>"', 'short_title: "PCT-XX in r/r LBCL"'
    )
    assert edited != product.read_text("utf-8")
    product.write_text(edited, encoding="utf-8")
    (repo / "docs" / "team.md").write_text(
        "# Team\n\nWriters of this protocol.\n", encoding="utf-8"
    )
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "sponsor edits")

    # Template version N+1: a new workflow step and a README line.
    slug_dir = template / "{{cookiecutter.repo_slug}}"
    workflow = slug_dir / ".github" / "workflows" / "protocmc.yml"
    text = workflow.read_text("utf-8")
    anchor = "      - name: Build the review site\n"
    assert anchor in text
    workflow.write_text(text.replace(anchor, NEW_STEP + anchor), encoding="utf-8")
    readme = slug_dir / "README.md"
    readme.write_text(readme.read_text("utf-8") + "\n" + NEW_README_LINE, encoding="utf-8")
    _git(template_repo, "commit", "-q", "-am", "template N+1")
    commit_n1 = _git(template_repo, "rev-parse", "HEAD").strip()
    assert commit_n1 != commit_n

    assert cruft.check(repo) is False
    assert cruft.update(repo, skip_apply_ask=True, strict=False) is True

    # The update applied cleanly ...
    assert list(repo.rglob("*.rej")) == []
    assert list(repo.rglob("*.orig")) == []
    assert NEW_STEP in (repo / ".github" / "workflows" / "protocmc.yml").read_text("utf-8")
    assert (repo / "README.md").read_text("utf-8").endswith(NEW_README_LINE)
    assert json.loads((repo / ".cruft.json").read_text("utf-8"))["commit"] == commit_n1
    assert cruft.check(repo) is True
    # ... and the sponsor's edits survived.
    assert 'short_title: "PCT-XX in r/r LBCL"' in product.read_text("utf-8")
    assert (repo / "docs" / "team.md").is_file()
    status = _git(repo, "status", "--porcelain")
    assert "UU" not in status and "<<<<<<<" not in (repo / "README.md").read_text("utf-8")
    assert api.check(product).errors == []
