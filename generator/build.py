"""`protocmc build`: check, render every document in memory, then replace the outputs at once.

Nothing is written unless every check passes. An unchanged product (same input files, same
protocmc version, same formats) is not rebuilt: a record in the output folder (the stamp)
holds a hash of everything the build read and wrote. How the output folder is replaced, and
what a build refuses to overwrite, is in `generator.outfolder`.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from generator import outfolder
from generator.cache import code_digest
from generator.outfolder import STAMP
from generator.paths import FRAMEWORKS_DIR, TEMPLATES_DIR
from generator.problems import Problem, ProblemsError, Severity

if TYPE_CHECKING:
    from generator.render import RenderedDocument
    from generator.resolve import ResolvedProtocol

__all__ = ["STAMP", "BuildResult", "build_product", "fingerprint", "input_files"]


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
        from generator import documents

        for kind in documents.applicable(resolved):
            files += kind.input_files(resolved)
    files += sorted(
        p
        for p in TEMPLATES_DIR.rglob("*")
        if p.is_file() and not {"sponsor", "site"} & set(p.relative_to(TEMPLATES_DIR).parts)
    )
    return files


def fingerprint(files: Iterable[Path], formats: tuple[str, ...], *, clean: bool = False) -> str:
    digest = hashlib.sha256()
    variant = " clean" if clean else ""
    # code_digest: a build by edited protocmc code is a different build, same version or not
    digest.update(f"protocmc {code_digest()} {','.join(formats)}{variant}\n".encode())
    for path in files:
        digest.update(str(path).encode())
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()


def _unchanged_since_stamp(
    outdir: Path, product_path: Path, formats: tuple[str, ...], clean: bool = False
) -> list[Path] | None:
    """The outputs on disk, when the record says they come from exactly the current inputs."""
    record = outfolder.read_record(outdir)
    if record is None or not record.complete or not record.inputs:
        return None
    inputs = [Path(p) for p in record.inputs]
    if inputs[0] != product_path.resolve():
        return None
    return outfolder.verified_outputs(outdir, record, fingerprint(inputs, formats, clean=clean))


def shipped_folders() -> dict[Path, str]:
    """Folders no build may write into: they hold protocmc's own inputs."""
    return {
        FRAMEWORKS_DIR: "protocmc's shipped frameworks folder",
        TEMPLATES_DIR: "protocmc's shipped templates folder",
    }


def build_product(
    product_path: Path,
    outdir: Path,
    *,
    formats: tuple[str, ...] = ("md", "docx", "usdm"),
    force: bool = False,
    progress: Progress | None = None,
    clean: bool = False,
) -> BuildResult:
    """Check, render everything in memory, then replace the outputs in `outdir` as one step.

    `clean` writes the drafts without review marks (item ids, provenance, evidence status).

    Raises `ProblemsError` (inputs) or `UsageError` (an output folder it may not write into;
    see `generator.outfolder` for what it refuses and why).
    """
    outfolder.check_folder(outdir, shipped_folders())
    if not force:
        # The record lists every file the last build read; if none changed (the product file
        # among them) and every output still has the hash it was written with, nothing needs
        # parsing at all.
        existing = _unchanged_since_stamp(outdir, product_path, formats, clean)
        if existing is not None:
            return BuildResult(files=existing, skipped=True)
    from generator import api

    report = api.check(product_path, assets=True, clean=clean)
    if report.errors:
        raise ProblemsError(report.problems)
    resolved = report.resolved
    assert resolved is not None
    read = input_files(product_path, resolved)
    sponsor = api.sponsor_templates(resolved)
    if sponsor is not None:
        outfolder.check_folder(
            outdir, {**shipped_folders(), sponsor: "the product's templates folder"}
        )
    stamp_value = fingerprint(read, formats, clean=clean)

    documents = dict(report.documents)
    assets = dict(report.assets)
    planned = _planned_names(documents, assets, formats, usdm=report.usdm is not None)
    # refuse before the slow Word conversion; checked again under the folder lock
    outfolder.check_targets(outdir, planned, outfolder.read_record(outdir), read)

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
        for name, (data, warnings) in _convert_to_word(resolved, documents, assets, progress):
            outputs[f"{name}.docx"] = data
            notes.extend(warnings)
    assert list(outputs) == planned

    def waiting(message: str) -> None:
        if progress is not None:
            progress.print(message, markup=False)

    written = outfolder.replace_outputs(
        outdir,
        outputs,
        fingerprint=stamp_value,
        inputs=read,
        timeout=outfolder.lock_timeout(),
        on_wait=waiting,
    )
    return BuildResult(files=sorted(written), notes=notes)


DOCX_JOBS = 2
"""pandoc conversions run at once: two took 0.55x the time of one after another (issue 17);
pandoc itself is single-threaded, and the post-processing is short."""


def _convert_to_word(
    resolved: ResolvedProtocol,
    documents: Mapping[str, RenderedDocument],
    assets: Mapping[str, bytes],
    progress: Progress | None,
) -> list[tuple[str, tuple[bytes, list[Problem]]]]:
    """(name, (.docx bytes, pandoc's warnings)) of every document, in the documents' order."""
    from concurrent.futures import ThreadPoolExecutor

    from generator.export.docx import DocxMetadata, convert_docx

    tp = resolved.product.title_page
    metadata = DocxMetadata(
        title=tp.full_title,
        document_id=tp.sponsor_protocol_id,
        version=tp.version,
        status=tp.status,
        date=tp.version_date,
        **_locale_field(resolved.product.locale),
    )
    # pandoc reads figures from disk: a private folder of this build in the system temp
    # folder, where no other build's clean-up can reach it
    with tempfile.TemporaryDirectory(prefix="protocmc-figures-") as tmp:
        for rel, data in assets.items():
            target = Path(tmp) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

        def convert(name: str, markdown: str) -> tuple[bytes, list[Problem]]:
            return convert_docx(
                markdown, metadata=metadata, resource_path=Path(tmp), source=f"{name}.md"
            )

        with ThreadPoolExecutor(max_workers=DOCX_JOBS) as pool:
            futures = []
            for name, doc in documents.items():
                if progress is not None:
                    progress.print(f"converting {name} to Word…", markup=False)
                futures.append((name, pool.submit(convert, name, doc.markdown)))
            return [(name, future.result()) for name, future in futures]


def _locale_field(locale: str) -> dict[str, str]:
    """The product's locale for the Word export (paper size, proofing language), where the
    export takes it (`DocxMetadata.locale`)."""
    import dataclasses

    from generator.export.docx import DocxMetadata

    names = {f.name for f in dataclasses.fields(DocxMetadata)}
    return {"locale": locale} if "locale" in names else {}


def _planned_names(
    documents: Mapping[str, object],
    assets: Mapping[str, bytes],
    formats: tuple[str, ...],
    *,
    usdm: bool = False,
) -> list[str]:
    """The output names a build writes, in the order it produces them."""
    from generator.export.usdm import FILE_NAME

    names: list[str] = []
    if "md" in formats:
        names += [f"{name}.md" for name in documents]
        names += list(assets)
    if "usdm" in formats and usdm:
        names.append(FILE_NAME)
    if "docx" in formats:
        names += [f"{name}.docx" for name in documents]
    return names
