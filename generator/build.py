"""`protocmc build`: check, render every document in memory, then write them atomically.

Nothing is written unless every check passes. An unchanged product (same input files, same
protocmc version, same formats) is not rebuilt: a stamp in the output folder records a hash
of everything the build read and wrote.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from generator import __version__
from generator.paths import TEMPLATES_DIR
from generator.problems import Problem, ProblemsError, Severity
from generator.writes import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    from generator.render import RenderedDocument
    from generator.resolve import ResolvedProtocol

STAMP = ".protocmc-build.json"


class Progress(Protocol):
    def print(self, *objects: Any, **kwargs: Any) -> None: ...


@dataclass
class BuildResult:
    files: list[Path] = field(default_factory=list)
    skipped: bool = False
    notes: list[Problem] = field(default_factory=list)


def input_files(product_path: Path, resolved: ResolvedProtocol | None = None) -> list[Path]:
    """Every file a build reads, in a stable order."""
    from generator import api

    files = [product_path.resolve()]
    if resolved is not None:
        folder = resolved.loaded_framework.folder
        files += sorted(folder.rglob("*.yaml"))
        sponsor = api.sponsor_templates(resolved)
        if sponsor is not None:
            files += sorted(p for p in sponsor.rglob("*") if p.is_file())
        files += _extra_inputs(resolved)
    files += sorted(
        p
        for p in TEMPLATES_DIR.rglob("*")
        if p.is_file() and not {"sponsor", "site"} & set(p.relative_to(TEMPLATES_DIR).parts)
    )
    return files


def _extra_inputs(resolved: ResolvedProtocol) -> list[Path]:
    """Files the CMC stage reads (cmc.yaml, lot CSVs, the CMC framework)."""
    if resolved.product.cmc is None:
        return []
    from generator.cmc.api import cmc_input_files

    return list(cmc_input_files(resolved))


def fingerprint(files: Iterable[Path], formats: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    digest.update(f"protocmc {__version__} {','.join(formats)}\n".encode())
    for path in files:
        digest.update(str(path).encode())
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()


def _up_to_date(outdir: Path, stamp_value: str) -> list[Path] | None:
    stamp = outdir / STAMP
    try:
        data = json.loads(stamp.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("fingerprint") != stamp_value:
        return None
    outputs: dict[str, str] = data.get("outputs", {})
    files: list[Path] = []
    for name, digest in outputs.items():
        target = outdir / name
        try:
            if hashlib.sha256(target.read_bytes()).hexdigest() != digest:
                return None
        except OSError:
            return None
        files.append(target)
    return files


def _unchanged_since_stamp(
    outdir: Path, product_path: Path, formats: tuple[str, ...]
) -> list[Path] | None:
    try:
        data = json.loads((outdir / STAMP).read_text("utf-8"))
        inputs = [Path(p) for p in data["inputs"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not inputs or inputs[0] != product_path.resolve():
        return None
    return _up_to_date(outdir, fingerprint(inputs, formats))


def build_product(
    product_path: Path,
    outdir: Path,
    *,
    formats: tuple[str, ...] = ("md", "docx", "usdm"),
    force: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    if not force:
        # The stamp lists every file the last build read; if none changed (the product file
        # among them), nothing needs parsing at all.
        existing = _unchanged_since_stamp(outdir, product_path, formats)
        if existing is not None:
            return BuildResult(files=existing, skipped=True)
    from generator import api

    report = api.check(product_path)
    if report.errors:
        raise ProblemsError(report.problems)
    resolved = report.resolved
    assert resolved is not None
    read = input_files(product_path, resolved)
    stamp_value = fingerprint(read, formats)

    documents = dict(report.documents)
    extra_docs, assets = _extra_outputs(resolved)
    documents.update(extra_docs)

    # Everything is produced in memory first, so a failure writes nothing at all.
    outputs: dict[str, bytes] = {}
    notes = [p for p in report.problems if p.severity is not Severity.ERROR]
    if "md" in formats:
        for name, doc in documents.items():
            outputs[f"{name}.md"] = doc.markdown.encode("utf-8")
        outputs.update(assets)
    if "usdm" in formats and report.usdm is not None:
        from generator.export.usdm import FILE_NAME

        outputs[FILE_NAME] = report.usdm
    if "docx" in formats:
        from generator.export.docx import DocxMetadata, convert_docx

        tp = resolved.product.title_page
        outdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".protocmc-scratch-", dir=outdir) as tmp:
            # pandoc reads figures from disk; give it the in-memory assets in a scratch folder
            for rel, data in assets.items():
                target = Path(tmp) / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            for name, doc in documents.items():
                if progress is not None:
                    progress.print(f"converting {name} to Word…", markup=False)
                data, warnings = convert_docx(
                    doc.markdown,
                    metadata=DocxMetadata(
                        title=tp.full_title,
                        document_id=tp.sponsor_protocol_id,
                        version=tp.version,
                        status=tp.status,
                        date=tp.version_date,
                    ),
                    resource_path=Path(tmp),
                    source=f"{name}.md",
                )
                outputs[f"{name}.docx"] = data
                notes.extend(warnings)

    _remove_leftovers(outdir)
    written: list[Path] = []
    for rel, data in outputs.items():
        target = outdir / rel
        atomic_write_bytes(target, data)
        written.append(target)
    stamp = {
        "fingerprint": stamp_value,
        "inputs": [str(p) for p in read],
        "outputs": {rel: hashlib.sha256(data).hexdigest() for rel, data in sorted(outputs.items())},
    }
    atomic_write_text(outdir / STAMP, json.dumps(stamp, indent=2, sort_keys=True) + "\n")
    return BuildResult(files=sorted(written), notes=notes)


def _extra_outputs(
    resolved: ResolvedProtocol,
) -> tuple[dict[str, RenderedDocument], dict[str, bytes]]:
    """CMC documents and their figures, when the product has CMC inputs."""
    if resolved.product.cmc is None:
        return {}, {}
    from generator.cmc.api import cmc_outputs

    result = cmc_outputs(resolved)
    return dict(result.documents), dict(result.assets)


def _remove_leftovers(outdir: Path) -> None:
    """Delete temporary files and scratch folders a killed build may have left behind."""
    if not outdir.is_dir():
        return
    for leftover in outdir.rglob(".*.tmp"):
        leftover.unlink(missing_ok=True)
    for scratch in outdir.glob(".protocmc-scratch-*"):
        shutil.rmtree(scratch, ignore_errors=True)
