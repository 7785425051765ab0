"""The registry of document kinds: what each reads, checks, renders and writes.

`check`, `build`, `site` and `portfolio` run the same stages over this registry: for every
kind that applies to a product, its analysis rules (`check`), then its rendering (`render`),
which also runs the checks that need the rendered draft. Adding a document kind is adding one
entry here, not a new pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from generator.problems import Problem
from generator.render import RenderedDocument
from generator.resolve import ResolvedProtocol

if TYPE_CHECKING:
    from generator.cmc.plots import PlotJob


@dataclass
class Rendered:
    documents: dict[str, RenderedDocument] = field(default_factory=dict)
    assets: dict[str, bytes] = field(default_factory=dict)
    """Files written beside the documents (figures), keyed by relative path."""
    problems: list[Problem] = field(default_factory=list)


class DocumentKind(Protocol):
    name: str
    documents: tuple[str, ...]
    """Names of the documents it renders (output file stems)."""
    product_keys: tuple[str, ...] | None
    """The top-level keys of the product file its documents read; None: the whole file, the
    protocol framework and the previous version (an amendment's summary of changes)."""

    def applies(self, resolved: ResolvedProtocol) -> bool: ...

    def input_files(self, resolved: ResolvedProtocol) -> list[Path]:
        """Files it reads beyond the product file, the protocol framework and the templates."""
        ...

    def check(self, resolved: ResolvedProtocol) -> list[Problem]:
        """Its analysis rules over the resolved inputs."""
        ...

    def render(
        self, resolved: ResolvedProtocol, *, release: bool, assets: tuple[str, ...]
    ) -> Rendered:
        """Its documents (and the files beside them in the formats `assets` names) plus the
        draft checks."""
        ...

    def figure_jobs(self, resolved: ResolvedProtocol, assets: tuple[str, ...]) -> list[PlotJob]:
        """The figures `render` draws with these `assets` (inputs without errors)."""
        ...


class ProtocolKind:
    """The ICH M11 protocol draft."""

    name: str = "protocol"
    documents: tuple[str, ...] = ("protocol",)
    product_keys: tuple[str, ...] | None = None

    def applies(self, resolved: ResolvedProtocol) -> bool:
        return True

    def input_files(self, resolved: ResolvedProtocol) -> list[Path]:
        return []

    def figure_jobs(self, resolved: ResolvedProtocol, assets: tuple[str, ...]) -> list[PlotJob]:
        return []

    def check(self, resolved: ResolvedProtocol) -> list[Problem]:
        from generator.analysis.amendments import rationale_problems, title_page_problems
        from generator.protocol_documents import amendment_changes

        problems = title_page_problems(resolved)
        changes = amendment_changes(resolved)
        if changes is not None:
            problems.extend(rationale_problems(resolved, changes))
        return problems

    def render(
        self, resolved: ResolvedProtocol, *, release: bool, assets: tuple[str, ...]
    ) -> Rendered:
        from generator.protocol_documents import analyse, draft_problems, render_protocol

        document = render_protocol(resolved, analyse(resolved))
        return Rendered(
            documents={"protocol": document},
            problems=draft_problems(resolved, document, release=release),
        )

    def usdm(
        self, resolved: ResolvedProtocol, rendered: Rendered
    ) -> tuple[bytes, list[Problem]] | None:
        """protocol.usdm.json (CDISC USDM v4.0.0) of the rendered protocol, and its checks."""
        from generator.export.usdm import printed_criteria
        from generator.export.usdm_validate import check_usdm
        from generator.protocol_documents import clean_document

        document = rendered.documents["protocol"]
        # the machine-readable protocol carries the protocol text only, never review marks
        return check_usdm(
            resolved, clean_document(document).markdown, printed_criteria(document.markdown)
        )


class CmcKind:
    """Module 3 (ICH M4Q) and the two CMC planning documents, from cmc.yaml and lot data."""

    name: str = "cmc"
    documents: tuple[str, ...] = ("module3", "cmc-readiness", "specification-lifecycle")
    # the CMC templates show the product and title page; `cmc:` and `templates:` name files
    product_keys: tuple[str, ...] | None = ("product", "title_page", "cmc", "templates")

    def applies(self, resolved: ResolvedProtocol) -> bool:
        return resolved.product.cmc is not None

    def input_files(self, resolved: ResolvedProtocol) -> list[Path]:
        from generator.cmc.inputs import input_files

        return input_files(resolved)

    def check(self, resolved: ResolvedProtocol) -> list[Problem]:
        from generator.cmc.api import cmc_problems

        return cmc_problems(resolved)

    def render(
        self, resolved: ResolvedProtocol, *, release: bool, assets: tuple[str, ...]
    ) -> Rendered:
        from generator.cmc.api import render_cmc

        outputs = render_cmc(resolved, assets=assets)
        return Rendered(documents=dict(outputs.documents), assets=dict(outputs.assets))

    def figure_jobs(self, resolved: ResolvedProtocol, assets: tuple[str, ...]) -> list[PlotJob]:
        from generator.cmc.api import figure_jobs

        return figure_jobs(resolved, assets)


REGISTRY: tuple[DocumentKind, ...] = (ProtocolKind(), CmcKind())


def applicable(resolved: ResolvedProtocol) -> list[DocumentKind]:
    """The document kinds a product builds, in output order."""
    return [kind for kind in REGISTRY if kind.applies(resolved)]


def check(kind: DocumentKind, resolved: ResolvedProtocol) -> list[Problem]:
    """`kind.check`, answered from the per-user cache when nothing the kind reads changed (the
    same inputs as `render`): a protocol-only edit neither loads nor checks the CMC files."""
    from generator import cache

    key = _render_key(kind, resolved, release=False, assets=())
    found = cache.load(f"checked-{kind.name}", key) if key is not None else None
    if isinstance(found, list):
        return found
    problems = kind.check(resolved)
    # a problem located in the product file names a line that an edit elsewhere in the file
    # moves; a kind that reads only some keys of the file is checked again then
    product = resolved.product_document.display
    moves = kind.product_keys is not None and any(
        p.location is not None and p.location.file == product for p in problems
    )
    if key is not None and not moves:
        cache.store(f"checked-{kind.name}", key, problems)
    return problems


def render(
    kind: DocumentKind, resolved: ResolvedProtocol, *, release: bool, assets: tuple[str, ...]
) -> Rendered:
    """`kind.render`, answered from the per-user cache when nothing the kind reads changed:
    the edges of the dependency graph document kind -> inputs are the parts of the product
    file it reads (`product_keys`: the whole file, the protocol framework's files and the
    previous version for the protocol; product, title page and file names for the CMC
    documents), the sponsor's templates and the kind's own `input_files` (cmc.yaml, the lot
    CSV and the CMC framework for the CMC documents); protocmc's code, templates and shipped
    frameworks are in every key (`code_digest`). So a change to cmc.yaml or the lots
    re-renders the CMC documents and not the protocol, and a protocol-only change to the
    product file re-renders the protocol and not the CMC documents."""
    from generator.cache import cached

    key = _render_key(kind, resolved, release=release, assets=assets)
    if key is None:
        return kind.render(resolved, release=release, assets=assets)
    return cached(
        f"rendered-{kind.name}", key, lambda: kind.render(resolved, release=release, assets=assets)
    )


def usdm(
    kind: DocumentKind, resolved: ResolvedProtocol, rendered: Rendered, *, release: bool
) -> tuple[bytes, list[Problem]] | None:
    """The USDM JSON a kind exports from its rendered documents (the protocol's), with its
    checks; None for a kind that exports none. Cached like `render`, by the same inputs: a
    build that writes no USDM (Markdown or Word only) never makes it."""
    from generator.cache import cached

    export = getattr(kind, "usdm", None)
    if export is None:
        return None
    key = _render_key(kind, resolved, release=release, assets=())
    if key is None:
        return export(resolved, rendered)  # type: ignore[no-any-return]
    return cached("usdm", key, lambda: export(resolved, rendered))  # type: ignore[no-any-return]


def figures_to_draw(
    kinds: list[DocumentKind], resolved: ResolvedProtocol, *, release: bool, assets: tuple[str, ...]
) -> list[PlotJob]:
    """The figures the kinds' renderings will draw, for drawing them ahead (while the other
    kinds render): those of every kind whose rendering is not in the per-user cache."""
    from generator import cache

    jobs: list[PlotJob] = []
    if not assets:
        return jobs
    for kind in kinds:
        key = _render_key(kind, resolved, release=release, assets=assets)
        if key is None or not cache.has(f"rendered-{kind.name}", key):
            jobs += kind.figure_jobs(resolved, assets)
    return jobs


def _render_key(
    kind: DocumentKind, resolved: ResolvedProtocol, *, release: bool, assets: tuple[str, ...]
) -> str | None:
    """Everything `kind.render` reads, as a hash; None when it cannot be listed."""
    import hashlib
    import os

    from generator.export.pandoc import pandoc_signature
    from generator.problems import ProblemsError, ProtocmcError
    from generator.sponsor import sponsor_templates

    try:
        sponsor = sponsor_templates(resolved)
        signature = pandoc_signature()  # citeproc and the USDM narrative run pandoc
    except (ProblemsError, ProtocmcError):
        return None  # the render reports it
    doc = resolved.product_document
    files = []
    if kind.product_keys is None:
        files += [doc.path, *sorted(resolved.loaded_framework.folder.rglob("*.yaml"))]
    if sponsor is not None:
        files += sorted(p for p in sponsor.rglob("*") if p.is_file())
    files += kind.input_files(resolved)
    digest = hashlib.sha256()
    head = (
        f"{kind.name} release={release} assets={assets} display={doc.display} "
        f"cwd={os.getcwd()} epoch={os.environ.get('SOURCE_DATE_EPOCH')} pandoc={signature}\n"
    )
    digest.update(head.encode())
    if kind.product_keys is not None:
        # the parts of the product file the kind reads: an edit elsewhere (a protocol
        # section, the design) does not render its documents again
        data = doc.data if isinstance(doc.data, dict) else {}
        part = {key: data.get(key) for key in kind.product_keys}
        digest.update(f"product {_json(part)}\0".encode())
    elif resolved.previous is not None:
        # an amendment's drafts read the previous version too (summary of changes), which may
        # come from a git revision rather than a file: its parsed content is part of the key
        previous = resolved.previous.product_document
        digest.update(f"previous {previous.display}\0{_json(previous.data)}\0".encode())
    for path in files:
        digest.update(f"{path.resolve()}\0".encode())
        if not path.is_file():  # a FIFO would block the read; the kind's loader reports it
            return None
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            return None
    return digest.hexdigest()


def _json(data: object) -> str:
    import json

    return json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
