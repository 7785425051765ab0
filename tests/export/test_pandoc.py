"""Finding pandoc (generator/export/pandoc.py): PYPANDOC_PANDOC first, then the pandoc that
pypandoc-binary ships, found without importing pypandoc."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.export import pandoc
from generator.problems import ProtocmcError


def test_the_bundled_pandoc_is_found_without_importing_pypandoc() -> None:
    probe = (
        "import sys\n"
        "from generator.export.pandoc import pandoc_executable\n"
        "print(pandoc_executable())\n"
        "print('pypandoc' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYPANDOC_PANDOC"}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert Path(out[0]).parts[-3:] == ("pypandoc", "files", "pandoc")
    assert out[1] == "False"


def test_the_bundled_pandoc_wins_over_one_on_path(tmp_path: Path) -> None:
    other = tmp_path / "pandoc"
    other.write_text("#!/bin/sh\necho 'pandoc 9.9'\n", "utf-8")
    other.chmod(0o755)
    probe = "from generator.export.pandoc import pandoc_executable\nprint(pandoc_executable())\n"
    env = {k: v for k, v in os.environ.items() if k != "PYPANDOC_PANDOC"}
    env["PATH"] = f"{tmp_path}{os.pathsep}{env.get('PATH', '')}"
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert Path(out).parts[-3:] == ("pypandoc", "files", "pandoc")


def test_pypandoc_pandoc_names_the_pandoc_to_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "my-pandoc"
    chosen.symlink_to(pandoc.pandoc_executable())
    pandoc.pandoc_executable.cache_clear()
    monkeypatch.setenv("PYPANDOC_PANDOC", str(chosen))
    try:
        assert pandoc.pandoc_executable() == str(chosen)
        monkeypatch.setenv("PYPANDOC_PANDOC", str(tmp_path / "missing"))
        pandoc.pandoc_executable.cache_clear()
        with pytest.raises(ProtocmcError, match="pandoc was not found"):
            pandoc.pandoc_executable()
    finally:
        pandoc.pandoc_executable.cache_clear()


def test_parse_pandoc_version() -> None:
    assert pandoc.parse_pandoc_version("pandoc 3.9.0.2") == (3, 9, 0, 2)
    assert pandoc.parse_pandoc_version("pandoc 2.17.1.1") < pandoc.MIN_PANDOC
    assert pandoc.parse_pandoc_version("nonsense") == (0,)
