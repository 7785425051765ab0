"""Fixtures of the sponsor-loop tests; the helpers they use are in helpers.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator import __version__
from tests.sponsor.helpers import BIN, ROOT, Sandbox, TemplateRepo


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_AUTHOR_NAME": "Sponsor Writer",
        "GIT_AUTHOR_EMAIL": "writer@example.org",
        "GIT_COMMITTER_NAME": "Sponsor Writer",
        "GIT_COMMITTER_EMAIL": "writer@example.org",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "NO_MKDOCS_2_WARNING": "1",
    }
    for name in ("VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)
    return Sandbox(tmp_path, env)


@pytest.fixture
def template_repo(sandbox: Sandbox) -> TemplateRepo:
    repo = TemplateRepo(sandbox, sandbox.root / "protocmc")
    assert repo.version == __version__
    return repo


@pytest.fixture(scope="session")
def protocmc_wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A wheel of this checkout, built offline (hatchling from the test environment)."""
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    wheels = list(out.glob("protocmc-*.whl"))
    assert [w.name for w in wheels] == [f"protocmc-{__version__}-py3-none-any.whl"]
    yield wheels[0]
