"""Helpers for CMC tests: copy an example into a temporary folder, edit it, resolve it."""

from __future__ import annotations

import shutil
from pathlib import Path

from generator.api import resolve
from generator.resolve import ResolvedProtocol

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def copy_example(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(EXAMPLES / name, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def resolved(folder: Path) -> ResolvedProtocol:
    result, problems = resolve(folder / "product.yaml")
    assert not [p for p in problems if p.is_error], problems
    return result


def without_stability_lots(folder: Path) -> None:
    """Drop the stability studies' `lots:` and `results:` from cmc.yaml: for tests that replace
    the example's lots, whose stability results name the lots replaced."""
    cmc = folder / "cmc.yaml"
    lines = cmc.read_text("utf-8").splitlines(keepends=True)
    kept = [x for x in lines if not x.startswith(("    lots: [", "    results: "))]
    cmc.write_text("".join(kept), "utf-8")


def without_exceptional_release(folder: Path) -> None:
    """The CD19 example with lot PCT19-002 meeting its dose criterion and no investigation or
    exceptional release recorded: for tests that copy its rows under new lot ids."""
    lots = folder / "lots.csv"
    edit(
        lots,
        "CAR transgene detected,Conforms,88.9,72.5,",
        "CAR transgene detected,Conforms,88.9,100.1,",
    )
    cmc = folder / "cmc.yaml"
    text = cmc.read_text("utf-8")
    start, end = text.index("investigations:\n"), text.index("process_controls:\n")
    cmc.write_text(text[:start] + text[end:], "utf-8")
