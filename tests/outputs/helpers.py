"""Helpers for the output-folder tests: example copies, snapshots and the record check."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES

PROTOCMC = str(Path(sys.executable).with_name("protocmc"))
STAMP = ".protocmc-build.json"
WORK = ".protocmc-work"
CMC_EXAMPLE = next(e for e in EXAMPLES if e.name == "cd19-cart-lbcl")


def copy_example(target: Path, example: Path = CMC_EXAMPLE) -> Path:
    """A copy of an example product folder; returns its product.yaml."""
    shutil.copytree(example, target)
    return target / "product.yaml"


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "SOURCE_DATE_EPOCH": "1767225600", "NO_COLOR": "1", **extra}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` except protocmc's bookkeeping, by '/'-path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != STAMP and WORK not in p.relative_to(folder).parts
    }


def record(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / STAMP).read_text("utf-8"))
    return data


def assert_consistent(folder: Path, mine: Iterable[str] = ()) -> dict[str, Any]:
    """The record is complete and names exactly the files on disk (but the writer's own
    files `mine`), each with its hash; no staging folder is left."""
    data = record(folder)
    assert data.get("state") == "complete", data.get("state")
    on_disk = {
        name: hashlib.sha256(content).hexdigest()
        for name, content in snapshot(folder).items()
        if name not in set(mine)
    }
    assert on_disk == data["outputs"]
    stages = [p.name for p in (folder / WORK).iterdir() if p.name != "lock"]
    assert stages == [], stages
    return data


def docx_media(path: Path) -> list[str]:
    """The images embedded in a Word file."""
    with zipfile.ZipFile(path) as docx:
        return sorted(n for n in docx.namelist() if n.startswith("word/media/"))


def one_error_line(stderr: str) -> str:
    """The usage error: exactly one line, `error: ...`, no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]
