"""Which files the CMC documents read, found without loading or validating them: the build's
dependency graph needs this on every build, while the CMC models and analysis are needed only
when one of these files (or the CMC part of the product file) changed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from generator.load import load_yaml
from generator.paths import FRAMEWORKS_DIR
from generator.problems import ProblemsError, relative_display

if TYPE_CHECKING:
    from generator.resolve import ResolvedProtocol

FRAMEWORK_FILE = "cmc-framework.yaml"

display = relative_display


def available_cmc_frameworks(root: Path = FRAMEWORKS_DIR) -> dict[str, Path]:
    return {p.name: p for p in sorted(root.iterdir()) if (p / FRAMEWORK_FILE).is_file()}


def cmc_path(resolved: ResolvedProtocol) -> Path | None:
    rel = resolved.product.cmc
    return None if rel is None else (resolved.product_dir / rel)


def input_files(resolved: ResolvedProtocol, root: Path = FRAMEWORKS_DIR) -> list[Path]:
    """cmc.yaml, the lot CSV and the CMC framework files, without validating them."""
    path = cmc_path(resolved)
    if path is None:
        return []
    files = [path.resolve()]
    if not path.is_file():  # a folder, a FIFO or a device: the CMC loader reports it
        return files
    try:
        doc = load_yaml(path, display=display(path))
    except ProblemsError:
        return files
    data = doc.data if isinstance(doc.data, dict) else {}
    lots = data.get("lots")
    if isinstance(lots, dict) and isinstance(lots.get("file"), str):
        files.append((path.parent / lots["file"]).resolve())
    studies = data.get("stability")
    for study in studies if isinstance(studies, list) else []:  # stability results files
        if isinstance(study, dict) and isinstance(study.get("results"), str):
            results = (path.parent / study["results"]).resolve()
            if results.is_file() and results not in files:
                files.append(results)
    vector = data.get("vector")
    vector_lots = vector.get("lots") if isinstance(vector, dict) else None
    if isinstance(vector_lots, dict) and isinstance(vector_lots.get("file"), str):
        files.append((path.parent / vector_lots["file"]).resolve())
    pin = data.get("framework")
    if isinstance(pin, str):
        folder = available_cmc_frameworks(root).get(pin.partition("@")[0])
        if folder is not None:
            files += sorted(p.resolve() for p in folder.rglob("*.yaml"))
    return files
