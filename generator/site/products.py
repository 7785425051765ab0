"""The products a site publishes: checked, their drafts converted to HTML and to Word.

A site publishes two kinds of product file: the sponsor's own products (`products:`), whose
drafts the site is for, and worked examples (`examples:`), shown beside a framework.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from generator import api
from generator.cache import cached
from generator.problems import Problem, ProblemsError, Severity
from generator.rendered import RenderedDocument
from generator.resolve import ResolvedProtocol
from generator.site.draft import SiteDraft
from generator.site.options import SiteInputs
from generator.site.pandoc_html import documents_to_html

Role = Literal["product", "example"]

DRAFT_ORDER = ("protocol", "module3", "cmc-readiness", "specification-lifecycle")
"""Drafts in reading order; others follow alphabetically."""


@dataclass
class Draft:
    kind: str
    markdown: str
    html: SiteDraft | None = None
    docx: bytes | None = None
    header: tuple[tuple[str, str], ...] = ()
    """Word header fields that differ from the protocol's (a CMC document names itself)."""


@dataclass
class SiteProduct:
    role: Role
    slug: str
    path: Path
    resolved: ResolvedProtocol
    drafts: dict[str, Draft]
    assets: dict[str, bytes] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    inputs: SiteInputs = field(default_factory=SiteInputs)
    """Every file the product's drafts were made from (for the page cache)."""
    word: dict[str, str] = field(default_factory=dict)
    """The build's Word metadata of the drafts (`generator.plan.word_metadata`)."""

    @property
    def base(self) -> str:
        return f"{'products' if self.role == 'product' else 'examples'}/{self.slug}"

    @property
    def title(self) -> str:
        """The product's own name: its short title, else the product name."""
        tp = self.resolved.product.title_page
        return (tp.short_title or "").strip() or self.resolved.product.product.name


def _optional(module: str) -> Any | None:
    """A module of the CMC stage, or None when this installation has no CMC stage."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _cmc_documents(
    documents: dict[str, RenderedDocument],
) -> tuple[dict[str, str], dict[str, tuple[tuple[str, str], ...]]]:
    """The product's CMC drafts (Markdown) and their Word header fields."""
    cmc = {name: doc for name, doc in documents.items() if name != "protocol"}
    return {name: doc.markdown for name, doc in cmc.items()}, {
        name: tuple(doc.header) for name, doc in cmc.items()
    }


def _slug(path: Path) -> str:
    name = path.resolve().parent.name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return slug or "product"


SITE_FIGURES = ("png", "svg")
"""The site shows SVG figures; its Word downloads embed the PNGs, as the build's do."""


def load_product(path: Path, role: Role) -> SiteProduct:
    """Check one product file and render its drafts; input errors raise `ProblemsError`.

    The drafts and figures are those of `protocmc build` (`generator.plan`): answered from
    its cached plan when no file the build reads changed, and stored there when made, so a
    build after the site (or the site after a build) does not check and render again.
    """
    from generator.plan import plan

    try:
        made = plan(
            path, clean=False, since=None, word=False, usdm=False, figures=SITE_FIGURES
        )  # no USDM on a site
    except ProblemsError as exc:
        errors = [p for p in exc.problems if p.severity is Severity.ERROR]
        raise ProblemsError(errors or exc.problems) from None
    resolved, _problems = api.resolve(path)  # the views read the product and its framework
    markdown = {"protocol": made.documents["protocol"].markdown}
    cmc_docs, headers = _cmc_documents(made.documents)
    markdown.update(cmc_docs)
    order = {k: i for i, k in enumerate(DRAFT_ORDER)}
    kinds = sorted(markdown, key=lambda k: (order.get(k, len(order)), k))
    drafts = {k: Draft(k, markdown[k], header=headers.get(k, ())) for k in kinds}
    inputs = SiteInputs([*made.read, *made.also_read], list(made.folders))
    return SiteProduct(
        role, _slug(path), path, resolved, drafts, dict(made.assets), made.notes, inputs, made.word
    )


def unique_slugs(products: list[SiteProduct]) -> None:
    """Two product folders of the same name get -2, -3 ... (in the order given)."""
    seen: dict[str, int] = {}
    for product in products:
        key = product.base
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            product.slug = f"{product.slug}-{seen[key]}"


_PNG_IMG = re.compile(r'(<img src=")([^"]+)\.png(")')


def convert_drafts(products: list[SiteProduct]) -> None:
    """Every draft of every product to HTML, in one parallel batch (cached)."""
    jobs = {f"{p.base}/{kind}.md": d.markdown for p in products for kind, d in p.drafts.items()}
    html = documents_to_html(jobs, shift=1)
    for product in products:
        for kind, draft in product.drafts.items():
            text = html[f"{product.base}/{kind}.md"]
            text = _PNG_IMG.sub(functools.partial(_prefer_svg, assets=product.assets), text)
            draft.html = SiteDraft.from_html(text)


def _prefer_svg(match: re.Match[str], assets: dict[str, bytes]) -> str:
    """Figures: the site shows the SVG where the CMC stage made one."""
    svg = f"{match.group(2)}.svg"
    return f"{match.group(1)}{svg}{match.group(3)}" if svg in assets else match.group(0)


def used_assets(product: SiteProduct) -> dict[str, bytes]:
    """The figures the site pages of a product refer to."""
    used: set[str] = set()
    for draft in product.drafts.values():
        if draft.html is None:
            continue
        page = draft.html.preamble_html + "".join(s.body_html for s in draft.html.sections)
        used |= set(re.findall(r'<img src="([^"]+)"', page))
    return {name: data for name, data in sorted(product.assets.items()) if name in used}


# --------------------------------------------------------------------------- Word downloads


def _docx_code_key() -> str:
    """Hash of what the Word output depends on besides the input: code, reference.docx, filters."""
    from generator.export import docx
    from generator.export.pandoc import pandoc_executable

    digest = hashlib.sha256()
    digest.update(Path(inspect.getfile(docx)).read_bytes())
    digest.update(docx.REFERENCE_DOCX.read_bytes())
    for lua in docx.shipped_filters():
        digest.update(lua.read_bytes())
    digest.update(pandoc_executable().encode())
    return digest.hexdigest()


def _docx(product: SiteProduct, draft: Draft, code_key: str) -> bytes:
    from generator.export.docx import DocxMetadata, convert_docx

    # the build's Word metadata (with the product's locale: its paper size), so the download
    # is the file `protocmc build` writes
    metadata = DocxMetadata(**{**product.word, **dict(draft.header)})
    digest = hashlib.sha256()
    digest.update(code_key.encode())
    digest.update(repr(metadata).encode())
    digest.update(draft.markdown.encode())
    for name, data in sorted(product.assets.items()):
        digest.update(name.encode())
        digest.update(hashlib.sha256(data).digest())
    digest.update(os.environ.get("SOURCE_DATE_EPOCH", "").encode())

    def convert() -> bytes:
        with tempfile.TemporaryDirectory(prefix="protocmc-site-docx-") as tmp:
            for rel, data in product.assets.items():
                target = Path(tmp) / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            data, _warnings = convert_docx(
                draft.markdown,
                metadata=metadata,
                resource_path=Path(tmp),
                source=f"{product.slug}/{draft.kind}.md",
            )
            return data

    return cached("site-docx", digest.hexdigest(), convert)


def convert_docx_downloads(products: list[SiteProduct]) -> None:
    """The Word file of every draft, converted in parallel (cached)."""
    jobs = [(p, d) for p in products for d in p.drafts.values()]
    if not jobs:
        return
    code_key = _docx_code_key()
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda job: _docx(job[0], job[1], code_key), jobs))
    for (_product, draft), data in zip(jobs, results, strict=True):
        draft.docx = data
