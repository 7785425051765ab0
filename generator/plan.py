"""A build before its export (the plan): every document, figure and note a build writes or
converts, as plain data, cached per user by the content of every file the build read.

A build whose inputs did not change since the plan was made (a `--force` rebuild, a second
output folder, a Word build after a Markdown one) unpickles the plan instead of loading,
validating, resolving and rendering: it imports neither the models nor the renderer. The key
names the product file, the variant (`clean`), the working folder (problems name files
relative to it), SOURCE_DATE_EPOCH and the pandoc in use (citeproc and the USDM narrative run
it); the entry holds a fingerprint of every file read, checked on each use, and through the
cache's `code_digest` protocmc's own code, templates and frameworks. A build against another
version (`--since`, possibly a git revision) is never planned from the cache.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator import cache
from generator.problems import Problem, ProblemsError, Severity
from generator.rendered import RenderedDocument

if TYPE_CHECKING:
    from generator.api import CheckReport
    from generator.resolve import ResolvedProtocol

KIND = "build-plan"


@dataclass
class Plan:
    read: list[Path]
    """Every file the build read (the stamp's inputs), in a stable order."""
    documents: dict[str, RenderedDocument]
    assets: dict[str, bytes]
    usdm: bytes | None
    notes: list[Problem]
    """The checks' warnings and notes (a plan exists only when nothing was an error)."""
    word: dict[str, str]
    """Word metadata shared by every document (DocxMetadata fields)."""
    sponsor: Path | None = None
    """The product's templates folder, which no build may write into."""
    has_previous: bool = False
    """An amendment: the build also writes the redline against the previous version."""
    redline: tuple[str, str] | None = None
    """(previous, current) clean protocol Markdown for the redline; made for a Word build."""
    also_read: list[Path] = field(default_factory=list)
    """Files the plan depends on beyond `read` (the previous version's framework)."""
    folders: list[Path] = field(default_factory=list)
    """Folders whose files it read (frameworks, sponsor templates)."""
    figures: tuple[str, ...] = ("png",)
    """The formats its figures were drawn in ('png' for Markdown and Word, 'svg' the site)."""

    def figure_files(self, formats: tuple[str, ...]) -> dict[str, bytes]:
        """Its files beside the documents in these formats (a plan the site made also holds
        SVG figures, which a build does not write)."""
        return {
            name: data for name, data in self.assets.items() if name.rpartition(".")[2] in formats
        }


def plan(
    product_path: Path,
    *,
    clean: bool,
    since: str | None,
    word: bool,
    usdm: bool = True,
    figures: tuple[str, ...] = ("png",),
    later: list[Callable[[], None]] | None = None,
) -> Plan:
    """The build's plan: from the cache when no file it read changed, else made (and stored).
    `word` asks for the redline sources too, `usdm` for the USDM JSON, `figures` for the
    figures in these formats (a cached plan made without them is made again). With `later`,
    storing a plan made is appended to it for the caller to run (a build writes its outputs
    first: the writer waits for them, not for the cache). Raises `ProblemsError` when the
    inputs have errors."""
    key = _key(product_path, clean) if since is None and cache.cache_dir() else None
    if key is not None:
        entry = cache.load(KIND, key)
        if isinstance(entry, tuple) and len(entry) == 2:
            stamp, found = entry
            if (
                isinstance(found, Plan)
                and (found.redline is not None or not word or not found.has_previous)
                and (found.usdm is not None or not usdm or "protocol" not in found.documents)
                and (set(figures) <= set(found.figures) or not found.assets)
                and _stamp(found, clean) == stamp
            ):
                return found
    from generator import api

    report = api.check(product_path, assets=figures, clean=clean, since=since, usdm=usdm)
    if report.errors:
        raise ProblemsError(report.problems)
    made = _from_report(product_path, report, word=word, figures=figures)
    if key is not None:
        # stamped now: an input changed from here on must not pass for the one read
        entry = (_stamp(made, clean), made)
        store = functools.partial(cache.store, KIND, key, entry)
        if later is None:
            store()
        else:
            later.append(store)
    return made


def _stamp(plan: Plan, clean: bool) -> str:
    """A hash of every file the plan read and of the file names in the folders it searched
    (frameworks, sponsor templates): a file added there, e.g. a new template override, is
    a change too."""
    import hashlib

    from generator.build import fingerprint

    names = hashlib.sha256()
    for folder in plan.folders:
        names.update(f"{folder}\0".encode())
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                names.update(f"{path.relative_to(folder)}\0".encode())
    files = fingerprint([*plan.read, *plan.also_read], (), clean=clean)
    return f"{files} {names.hexdigest()}"


def _key(product_path: Path, clean: bool) -> str | None:
    from generator.export.pandoc import pandoc_signature
    from generator.problems import ProtocmcError

    try:
        signature = pandoc_signature()
    except ProtocmcError:
        return None  # the build reports it
    return (
        f"{product_path.resolve()}\0clean={clean}\0cwd={os.getcwd()}\0"
        f"epoch={os.environ.get('SOURCE_DATE_EPOCH')}\0pandoc={signature}"
    )


def _from_report(
    product_path: Path, report: CheckReport, *, word: bool, figures: tuple[str, ...]
) -> Plan:
    """The plan of a check without errors (everything rendered in memory): what a build
    writes, and what it read."""
    from generator import api
    from generator.build import input_files

    resolved = report.resolved
    assert resolved is not None
    previous = resolved.previous
    has_previous = previous is not None and "protocol" in report.documents
    also_read = []
    sponsor = api.sponsor_templates(resolved)
    folders = [resolved.loaded_framework.folder, *([sponsor] if sponsor is not None else [])]
    if previous is not None:
        also_read = sorted(previous.loaded_framework.folder.rglob("*.yaml"))
        folders.append(previous.loaded_framework.folder)
    return Plan(
        read=input_files(product_path, resolved),
        documents=dict(report.documents),
        assets=dict(report.assets),
        usdm=report.usdm,
        notes=[p for p in report.problems if p.severity is not Severity.ERROR],
        word=word_metadata(resolved),
        sponsor=sponsor,
        has_previous=has_previous,
        redline=_redline_sources(resolved, report.documents["protocol"])
        if word and has_previous
        else None,
        also_read=also_read,
        folders=folders,
        figures=figures,
    )


def word_metadata(resolved: ResolvedProtocol) -> dict[str, str]:
    """The protocol's Word metadata (a CMC document overrides its own header fields)."""
    import dataclasses

    from generator.export.docx import DocxMetadata

    tp = resolved.product.title_page
    base = {
        "title": tp.full_title,
        "document_id": tp.sponsor_protocol_id,
        "version": tp.version,
        "status": tp.status,
        "date": tp.version_date,
    }
    # the product's locale (paper size, proofing language), where the export takes it
    if "locale" in {f.name for f in dataclasses.fields(DocxMetadata)}:
        base["locale"] = resolved.product.locale
    return base


def _redline_sources(resolved: ResolvedProtocol, current: RenderedDocument) -> tuple[str, str]:
    """The clean drafts (no review marks) of the previous and the current protocol: the
    redline is for the people who approve the amendment, and review comments would not line
    up between files."""
    from generator.cache import cached
    from generator.protocol_documents import clean_document

    previous = resolved.previous
    assert previous is not None
    key = _previous_key(previous)
    before = (
        _render_clean(previous)
        if key is None
        else cached("previous-clean", key, lambda: _render_clean(previous))
    )
    return before, clean_document(current).markdown


def _render_clean(previous: ResolvedProtocol) -> str:
    from generator.protocol_documents import analyse, render_protocol

    return render_protocol(previous, analyse(previous), clean=True).markdown


def _previous_key(previous: ResolvedProtocol) -> str | None:
    """Everything the previous version's draft reads (it changes far less often than the
    current version: an edit of the amendment does not render the previous version again)."""
    import hashlib
    import json

    from generator.export.pandoc import pandoc_signature
    from generator.problems import ProtocmcError
    from generator.sponsor import sponsor_templates

    try:
        sponsor = sponsor_templates(previous)
        signature = pandoc_signature()  # citeproc runs pandoc
    except (ProblemsError, ProtocmcError):
        return None
    doc = previous.product_document
    files = sorted(previous.loaded_framework.folder.rglob("*.yaml"))
    if sponsor is not None:
        files += sorted(p for p in sponsor.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    data = json.dumps(doc.data, sort_keys=True, default=str, ensure_ascii=False)
    digest.update(
        f"{doc.display}\0{data}\0{previous.product_dir.resolve()}\0cwd={os.getcwd()}\0"
        f"epoch={os.environ.get('SOURCE_DATE_EPOCH')}\0pandoc={signature}\n".encode()
    )
    for path in files:
        digest.update(f"{path.resolve()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
