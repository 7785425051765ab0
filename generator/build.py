"""`protocmc build`: check, render every document in memory, then replace the outputs at once.

Nothing is written unless every check passes. An unchanged product (same input files, same
protocmc version, same formats) is not rebuilt: a record in the output folder (the stamp)
holds a hash of everything the build read and wrote. How the output folder is replaced, and
what a build refuses to overwrite, is in `generator.outfolder`.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from generator import outfolder
from generator.cache import code_digest
from generator.outfolder import STAMP
from generator.paths import FRAMEWORKS_DIR, TEMPLATES_DIR
from generator.plan import Plan
from generator.plan import plan as make_or_load_plan
from generator.problems import Problem

if TYPE_CHECKING:
    from generator.resolve import ResolvedProtocol

USDM_FILE = "protocol.usdm.json"
"""`generator.export.usdm.FILE_NAME`, named here so a build from the plan cache need not
import the USDM export."""
FIGURES = ("png",)
"""The figure format a build writes beside the Markdown and embeds in Word."""
REDLINE_FILE = "protocol-redline.docx"
"""The protocol with tracked changes against the previous version (amendments only)."""

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
        previous = resolved.previous
        if previous is not None and previous.product_document.path.resolve() not in files:
            files.append(previous.product_document.path.resolve())
    files += sorted(
        p
        for p in TEMPLATES_DIR.rglob("*")
        if p.is_file() and not {"sponsor", "site"} & set(p.relative_to(TEMPLATES_DIR).parts)
    )
    return files


def fingerprint(
    files: Iterable[Path],
    formats: tuple[str, ...],
    *,
    clean: bool = False,
    since: str | None = None,
) -> str:
    digest = hashlib.sha256()
    # code_digest: a build by edited protocmc code is a different build, same version or not;
    # a build compared with another version (--since) is not the default build
    variant = (" clean" if clean else "") + (f" since {since}" if since is not None else "")
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
    since: str | None = None,
) -> BuildResult:
    """Check, render everything in memory, then replace the outputs in `outdir` as one step.

    `clean` writes the drafts without review marks (item ids, provenance, evidence status).

    Raises `ProblemsError` (inputs) or `UsageError` (an output folder it may not write into;
    see `generator.outfolder` for what it refuses and why).
    """
    outfolder.check_folder(outdir, shipped_folders())
    if not force and since is None:
        # The record lists every file the last build read; if none changed (the product file
        # among them) and every output still has the hash it was written with, nothing needs
        # parsing at all.
        existing = _unchanged_since_stamp(outdir, product_path, formats, clean)
        if existing is not None:
            return BuildResult(files=existing, skipped=True)
    # the plan's cache entry is stored after the outputs: the writer waits for those only
    later: list[Callable[[], None]] = []
    plan = make_or_load_plan(
        product_path,
        clean=clean,
        since=since,
        word="docx" in formats,
        usdm="usdm" in formats,
        figures=FIGURES,
        later=later,
    )
    try:
        return _write(plan, outdir, formats, progress=progress, clean=clean, since=since)
    finally:
        for step in later:
            step()


def _write(
    plan: Plan,
    outdir: Path,
    formats: tuple[str, ...],
    *,
    progress: Progress | None,
    clean: bool,
    since: str | None,
) -> BuildResult:
    """The plan's outputs in the requested formats, converted and written as one set."""
    read = plan.read
    if plan.sponsor is not None:
        outfolder.check_folder(
            outdir, {**shipped_folders(), plan.sponsor: "the product's templates folder"}
        )
    stamp_value = fingerprint(read, formats, clean=clean, since=since)

    documents = plan.documents
    assets = plan.figure_files(FIGURES)
    planned = _planned_names(
        documents,
        assets,
        formats,
        usdm=plan.usdm is not None,
        redline=plan.has_previous and "protocol" in documents,
    )
    # refuse before the slow Word conversion; checked again under the folder lock
    outfolder.check_targets(outdir, planned, outfolder.read_record(outdir), read)

    # Everything is produced in memory first, so a failure writes nothing at all.
    outputs: dict[str, bytes] = {}
    notes = list(plan.notes)
    if "md" in formats:
        for name, doc in documents.items():
            outputs[f"{name}.md"] = doc.markdown.encode("utf-8")
        outputs.update(assets)
    if "usdm" in formats and plan.usdm is not None:
        outputs[USDM_FILE] = plan.usdm
    if "docx" in formats:
        for name, (data, warnings) in _convert_to_word(plan, progress):
            outputs[name] = data
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
    plan: Plan, progress: Progress | None
) -> list[tuple[str, tuple[bytes, list[Problem]]]]:
    """(file name, (.docx bytes, pandoc's warnings)) of every document, in the documents'
    order, then the redline when the product has a previous version. Each conversion is
    cached per user by everything it reads (the Markdown, the Word metadata, the figures,
    SOURCE_DATE_EPOCH and the pandoc in use), so a change re-converts only the documents
    whose Markdown changed. The conversions left to do (the documents, and the redline's two
    drafts as two jobs) run DOCX_JOBS at a time, the longest Markdown first, so no core
    waits at the end for one long conversion started last."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from generator import cache
    from generator.export.docx import DocxMetadata, convert_docx

    figures = plan.figure_files(FIGURES)
    common = _conversion_inputs(figures)
    missing = object()
    # pandoc reads figures from disk: a private folder of this build in the system temp
    # folder, where no other build's clean-up can reach it
    with tempfile.TemporaryDirectory(prefix="protocmc-figures-") as tmp:
        for rel, data in figures.items():
            target = Path(tmp) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

        # (source name in pandoc's warnings, Markdown, metadata)
        jobs: list[tuple[str, str, DocxMetadata]] = []
        if progress is not None:  # every document, converted now or answered from the cache
            for name in plan.documents:
                progress.print(f"converting {name} to Word…", markup=False)
        found: dict[str, object] = {}
        keys: dict[str, str] = {}
        for name, doc in plan.documents.items():
            # a CMC document names itself in its page header
            metadata = DocxMetadata(**{**plan.word, **dict(doc.header)})
            keys[name] = f"{common}\0{name}\0{metadata!r}\0{doc.markdown}"
            found[name] = cache.load("docx", keys[name], missing)
            if found[name] is missing:
                jobs.append((f"{name}.md", doc.markdown, metadata))
        redline_key = None
        if plan.has_previous:
            assert plan.redline is not None
            redline_key = f"{common}\0{sorted(plan.word.items())!r}\0{plan.redline!r}"
            found[REDLINE_FILE] = cache.load("docx-redline", redline_key, missing)
            if found[REDLINE_FILE] is missing:
                metadata = DocxMetadata(**plan.word)
                before, now = plan.redline
                jobs += [
                    ("previous protocol.md", before, metadata),
                    ("protocol.md", now, metadata),
                ]

        def convert(job: tuple[str, str, DocxMetadata]) -> tuple[bytes, list[Problem]]:
            source, markdown, metadata = job
            return convert_docx(markdown, metadata=metadata, resource_path=Path(tmp), source=source)

        with ThreadPoolExecutor(max_workers=DOCX_JOBS) as pool:
            done: dict[int, Future[tuple[bytes, list[Problem]]]] = {}
            for index in sorted(range(len(jobs)), key=lambda i: -len(jobs[i][1])):
                done[index] = pool.submit(convert, jobs[index])
            results = [done[i].result() for i in range(len(jobs))]

    converted = iter(results)
    out: list[tuple[str, tuple[bytes, list[Problem]]]] = []
    for name in plan.documents:
        if found[name] is missing:
            found[name] = next(converted)
            cache.store("docx", keys[name], found[name])
        out.append((f"{name}.docx", found[name]))  # type: ignore[arg-type]
    if redline_key is not None:
        if progress is not None:
            progress.print("comparing with the previous version…", markup=False)
        if found[REDLINE_FILE] is missing:
            (old_docx, _), (new_docx, _) = next(converted), next(converted)
            found[REDLINE_FILE] = _compare(old_docx, new_docx, plan.word)
            cache.store("docx-redline", redline_key, found[REDLINE_FILE])
        out.append((REDLINE_FILE, (found[REDLINE_FILE], [])))  # type: ignore[arg-type]
    return out


def _conversion_inputs(assets: Mapping[str, bytes]) -> str:
    """What every Word conversion of a build reads besides its Markdown and metadata."""
    import os

    from generator.export.pandoc import pandoc_signature

    digest = hashlib.sha256()
    for rel, data in sorted(assets.items()):
        digest.update(f"{rel}\0".encode())
        digest.update(hashlib.sha256(data).digest())
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return f"figures={digest.hexdigest()} epoch={epoch} pandoc={pandoc_signature()}"


def _planned_names(
    documents: Mapping[str, object],
    assets: Mapping[str, bytes],
    formats: tuple[str, ...],
    *,
    usdm: bool = False,
    redline: bool = False,
) -> list[str]:
    """The output names a build writes, in the order it produces them."""
    names: list[str] = []
    if "md" in formats:
        names += [f"{name}.md" for name in documents]
        names += list(assets)
    if "usdm" in formats and usdm:
        names.append(USDM_FILE)
    if "docx" in formats:
        names += [f"{name}.docx" for name in documents]
        if redline:
            names.append(REDLINE_FILE)
    return names


def _compare(old_docx: bytes, new_docx: bytes, word: dict[str, str]) -> bytes:
    """protocol-redline.docx: the current protocol with tracked revisions against the
    previous version, from the Word conversions of both clean drafts (`generator.plan`)."""
    from generator.export.redline import redline_docx

    return redline_docx(old_docx, new_docx, date=word["date"])
