"""Helpers for the sponsor-loop tests (fixtures in conftest.py): a sandboxed environment for git, cruft, cookiecutter and
pre-commit run as a sponsor runs them (subprocesses, no network), a throwaway git repository
laid out like protocmc's that releases template versions as tags, and a wheel of this checkout.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "sponsor"
SLUG_DIR = "{{cookiecutter.repo_slug}}"
BIN = Path(sys.executable).parent


def sh_lines(markdown: str, first_word: str) -> list[str]:
    """Every line of the ```sh blocks of a README that starts with `first_word`."""
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", markdown, flags=re.DOTALL):
        for line in block.splitlines():
            line = line.strip()
            if line.split(" ", 1)[0] == first_word:
                lines.append(line)
    return lines


def bump_patch(version: str) -> str:
    major, minor, patch = version.split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


@dataclass
class Sandbox:
    """Environment of a sponsor's computer: own HOME, git identity, this env's tools on PATH."""

    root: Path
    env: dict[str, str]

    def run(
        self, args: list[str] | str, cwd: Path, *, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command (a list, or a shell line through bash -eo pipefail as GitHub does)."""
        argv = (
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", args]
            if isinstance(args, str)
            else args
        )
        return subprocess.run(
            argv,
            cwd=cwd,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=600,
        )

    def ok(self, args: list[str] | str, cwd: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
        done = self.run(args, cwd, **kw)
        assert done.returncode == 0, f"{args}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        return done

    def git(self, cwd: Path, *args: str) -> str:
        return self.ok(["git", *args], cwd).stdout.strip()

    def commit_all(self, repo: Path, message: str) -> None:
        self.git(repo, "add", "-A")
        self.git(repo, "commit", "-q", "-m", message)


class TemplateRepo:
    """A git repository laid out like protocmc's (the template in templates/sponsor/) that
    releases versions as `vX.Y.Z` tags, as the README's release procedure does."""

    def __init__(self, sandbox: Sandbox, path: Path) -> None:
        self.sandbox = sandbox
        self.path = path
        self.template = path / "templates" / "sponsor"
        shutil.copytree(TEMPLATE, self.template)
        sandbox.git(path, "init", "-q", "-b", "main")
        self.version = json.loads(self.context_file.read_text("utf-8"))["_protocmc_version"]
        sandbox.commit_all(path, f"protocmc {self.version}")
        self.tag(self.version)

    @property
    def context_file(self) -> Path:
        return self.template / "cookiecutter.json"

    def tag(self, version: str) -> None:
        self.sandbox.git(self.path, "tag", f"v{version}")

    def commit_of(self, version: str) -> str:
        return self.sandbox.git(self.path, "rev-parse", f"v{version}^{{commit}}")

    def edit(self, rel: str, old: str, new: str) -> None:
        """Replace `old` (which must be there once) in a file of the sponsor template."""
        path = self.template / SLUG_DIR / rel
        text = path.read_text("utf-8")
        assert text.count(old) == 1, f"{old!r} not once in {rel}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def release(self, version: str) -> None:
        """Set the template's protocmc version, commit, tag vX.Y.Z."""
        context = json.loads(self.context_file.read_text("utf-8"))
        context["_protocmc_version"] = version
        self.context_file.write_text(
            json.dumps(context, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        self.sandbox.commit_all(self.path, f"protocmc {version}")
        self.tag(version)
        self.version = version


def workflow_step(repo: Path, job: str, name_start: str) -> str:
    """The `run:` script of a step of the sponsor repository's CI workflow."""
    workflow = YAML(typ="safe").load((repo / ".github" / "workflows" / "protocmc.yml").read_text())
    for step in workflow["jobs"][job]["steps"]:
        if str(step.get("name", "")).startswith(name_start):
            return str(step["run"])
    raise AssertionError(f"no step '{name_start}...' in job {job}")


def readme_line(readme: Path, first_word: str, contains: str) -> str:
    """The one command line of a README's ```sh blocks that starts so and contains that."""
    found = [line for line in sh_lines(readme.read_text("utf-8"), first_word) if contains in line]
    assert len(found) == 1, f"expected one '{first_word} ...{contains}...' line, found {found}"
    return found[0]


def readme_command(readme: Path, first_word: str, contains: str) -> list[str]:
    """That line split as a shell would (variables kept as written)."""
    return shlex.split(readme_line(readme, first_word, contains))
