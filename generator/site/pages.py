"""Site pages generated from the framework YAML and the product files.

`generate_pages(options)` returns every page (Markdown) and asset (bytes) with its place in
the navigation. The MkDocs plugin serves them as virtual files; `generator.site.export` writes
them into a plain docs folder that any MkDocs-compatible builder can build without the plugin.
All prose lives in `templates/site/*.j2`, which receive plain data (`generator.site.views`).

Navigation: the sponsor's own products come first, each under its own title, then the
framework, the CMC matrix, the worked examples (if any), open placeholders and tags.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

from generator.framework_loader import (
    LoadedFramework,
    available_frameworks,
    load_framework,
    load_registry,
)
from generator.paths import TEMPLATES_DIR
from generator.problems import Problem, ProblemsError
from generator.site import views
from generator.site.options import (
    SCRIPT,
    SEARCH_SHIM,
    STYLESHEET,
    SiteInputs,
    SiteOptions,
    SitePage,
    resolve_products,
)
from generator.site.products import (
    SiteProduct,
    convert_docx_downloads,
    convert_drafts,
    load_product,
    unique_slugs,
    used_assets,
)
from generator.site.prose import Prose
from generator.site.templating import render, site_environment

__all__ = [
    "SCRIPT",
    "SEARCH_SHIM",
    "STYLESHEET",
    "GeneratedSite",
    "SiteOptions",
    "SitePage",
    "generate_pages",
    "generate_site",
    "resolve_products",
]

VENDOR_FILES = {
    SEARCH_SHIM: TEMPLATES_DIR / "site" / "vendor" / "iframe-worker" / "shim.js",
    "assets/vendor/iframe-worker/LICENSE": TEMPLATES_DIR
    / "site"
    / "vendor"
    / "iframe-worker"
    / "LICENSE",
}
REGISTER_ANCHOR = "m11-12-4"
"""The protocol template's Tailoring Register section (block `tailoring_register`)."""
MATRIX_TITLE = "Attribute \N{MULTIPLICATION SIGN} stage-gate matrix"
DRAFT_TITLES = {
    "protocol": "Protocol draft",
    "module3": "Module 3 (CMC) draft",
    "cmc-readiness": "CMC readiness report",
    "specification-lifecycle": "Specification lifecycle",
}


def _optional_cmc_loader() -> Any | None:
    from generator.site.products import _optional

    return _optional("generator.cmc.loader")


def _protocol_frameworks(options: SiteOptions) -> list[LoadedFramework]:
    if not options.framework_pages:
        return []
    installed = available_frameworks()
    loader = _optional_cmc_loader()
    cmc_ids = set(loader.available_cmc_frameworks()) if loader is not None else set()
    wanted = options.frameworks or sorted(installed)
    loaded: list[LoadedFramework] = []
    for fid in wanted:
        if fid in cmc_ids and fid not in installed:
            continue
        if fid not in installed:
            raise ProblemsError(
                [
                    Problem(
                        "PS001",
                        f"unknown framework '{fid}' in the site options",
                        None,
                        f"available: {', '.join(sorted(set(installed) | cmc_ids))}",
                    )
                ]
            )
        if not _is_protocol_framework(installed[fid]):
            continue
        loaded.append(load_framework(installed[fid]))
    return loaded


def _is_protocol_framework(folder: Path) -> bool:
    """A protocol framework lists element files (other framework kinds have their own pages)."""
    text = (folder / "framework.yaml").read_text("utf-8")
    return re.search(r"^elements:", text, re.MULTILINE) is not None


def _cmc_frameworks(options: SiteOptions) -> list[Any]:
    loader = _optional_cmc_loader()
    if loader is None or not options.framework_pages:
        return []
    return [
        loader.load_cmc_framework(folder).framework
        for fid, folder in sorted(loader.available_cmc_frameworks().items())
        if not options.frameworks or fid in options.frameworks
    ]


# --------------------------------------------------------------------------- views


@dataclass
class _Site:
    options: SiteOptions
    frameworks: list[LoadedFramework]
    cmc: list[Any]
    products: list[SiteProduct]

    @property
    def own(self) -> list[SiteProduct]:
        return [p for p in self.products if p.role == "product"]

    @property
    def examples(self) -> list[SiteProduct]:
        return [p for p in self.products if p.role == "example"]

    def published(self, framework_id: str) -> bool:
        return framework_id in {f.framework.id for f in self.frameworks}


def _draft_title(kind: str) -> str:
    return DRAFT_TITLES.get(kind, kind.replace("-", " ").capitalize())


def _product_view(site: _Site, p: SiteProduct, prose: Prose, root: str) -> dict[str, Any]:
    """A product as the templates see it. `root` leads from a product page to the site root."""
    resolved = p.resolved
    product = resolved.product
    fw = resolved.loaded_framework
    element_link = (
        f"{root}framework/{fw.framework.id}/" if site.published(fw.framework.id) else None
    )
    register = views.register_view(resolved.tailoring_register, prose, element_link)
    drafts = []
    for kind, d in p.drafts.items():
        open_points = d.html.insertions({REGISTER_ANCHOR: ""}) if d.html else []
        drafts.append(
            {
                "kind": kind,
                "title": _draft_title(kind),
                "page": f"{kind}.md",
                "docx": f"{kind}.docx" if d.docx is not None else None,
                "open": len(open_points),
                "insertions": [
                    {
                        "number": i.number,
                        "anchor": i.anchor,
                        "text": i.text,
                        "section": i.section or "Title page",
                        "section_anchor": i.section_anchor,
                    }
                    for i in open_points
                ],
            }
        )
    tp = product.title_page
    return {
        "role": p.role,
        "slug": p.slug,
        "base": p.base,
        "title": p.title,
        "full_title": tp.full_title,
        "sponsor_protocol_id": tp.sponsor_protocol_id,
        "version": tp.version,
        "version_date": tp.version_date,
        "status": tp.status,
        "product_name": product.product.name,
        "modality": product.product.modality,
        "source": product.product.source,
        "indication": product.indication.disease,
        "framework": {
            **views.framework_info(fw),
            "pin": product.framework,
            "published": site.published(fw.framework.id),
        },
        "drafts": drafts,
        "open": sum(d["open"] for d in drafts),
        "register": register,
        "amendment": (
            {"previous_version": resolved.previous.product.title_page.version}
            if resolved.previous is not None
            else None
        ),
        "amendments": len(p.resolved.product.prior_amendments)
        + (product.title_page.amendment is not None),
        "file": p.path.name,
        "folder": p.path.resolve().parent.name,
    }


def _usage(site: _Site, fw: LoadedFramework) -> dict[str, list[dict[str, Any]]]:
    usage: dict[str, list[dict[str, Any]]] = {}
    for p in site.products:
        if p.resolved.loaded_framework.framework.id != fw.framework.id:
            continue
        protocol = p.drafts["protocol"].html
        anchors = {s.anchor for s in protocol.sections} if protocol else set()
        for eid, loaded in fw.elements.items():
            usage.setdefault(eid, []).append(
                {
                    "title": p.title,
                    "base": p.base,
                    "role": p.role,
                    "anchors": [
                        {"number": n, "anchor": views.m11_anchor(n)}
                        for n in loaded.element.m11_sections
                        if views.m11_anchor(n) in anchors
                    ],
                    "tailored": sum(
                        1 for t in p.resolved.tailoring_register if t.element_id == eid
                    ),
                }
            )
    return usage


# --------------------------------------------------------------------------- pages

Env = ImmutableSandboxedEnvironment | None
"""The site's template environment; None while only collecting the texts the views show."""


def _render(env: Env, name: str, context: dict[str, Any]) -> str:
    return "" if env is None else render(env, name, context)


def _framework_pages(env: Env, site: _Site, prose: Prose) -> list[SitePage]:
    pages: list[SitePage] = []
    for fw in site.frameworks:
        fid = fw.framework.id
        section = (
            ("Framework",) if len(site.frameworks) == 1 else ("Frameworks", fw.framework.title)
        )
        usage = _usage(site, fw)
        overview = views.framework_overview(fw, prose)
        pages.append(
            SitePage(
                f"framework/{fid}/index.md",
                _render(env, "framework.md.j2", {"fw": overview}),
                "Overview",
                section,
            )
        )
        for loaded in fw.elements.values():
            element = loaded.element
            view = views.element_view(fw, element, prose, usage.get(element.id, []))
            pages.append(
                SitePage(
                    f"framework/{fid}/{element.id}.md",
                    _render(env, "element.md.j2", {"fw": overview, "element": view}),
                    element.title,
                    section,
                )
            )
        pages.append(
            SitePage(
                f"framework/{fid}/sources.md",
                _render(env, "sources.md.j2", {"fw": views.sources_view(fw, prose)}),
                "Sources",
                section,
            )
        )
    for cmc in site.cmc:
        pages.append(
            SitePage(
                f"cmc/{cmc.id}/index.md",
                _render(env, "cmc-matrix.md.j2", {"fw": views.cmc_matrix_view(cmc, prose)}),
                MATRIX_TITLE,
                ("CMC",),
            )
        )
    return pages


def _product_pages(env: Env, site: _Site, p: SiteProduct, prose: Prose) -> list[SitePage]:
    view = _product_view(site, p, prose, "../../")
    section = (p.title,) if p.role == "product" else ("Examples", p.title)
    base = p.base
    pages = [
        SitePage(
            f"{base}/index.md",
            _render(env, "product.md.j2", {"p": view}),
            "Overview",
            section,
        )
    ]
    register_md = _render(env, "register-entries.md.j2", {"p": view, "in_protocol": True})
    for d in view["drafts"]:
        draft = p.drafts[d["kind"]]
        assert draft.html is not None
        replace = {REGISTER_ANCHOR: register_md} if d["kind"] == "protocol" else {}
        pages.append(
            SitePage(
                f"{base}/{d['page']}",
                _render(
                    env,
                    "draft.md.j2",
                    {
                        "p": view,
                        "draft": d,
                        "body": draft.html.markdown(replace) if env is not None else "",
                    },
                ),
                d["title"],
                section,
            )
        )
        if draft.docx is not None:
            pages.append(SitePage(f"{base}/{d['docx']}", draft.docx))
    pages.append(
        SitePage(
            f"{base}/tailoring-register.md",
            _render(env, "register.md.j2", {"p": view}),
            "Tailoring register",
            section,
        )
    )
    amendments = _amendments(p)
    if amendments:
        pages.append(
            SitePage(
                f"{base}/amendments.md",
                _render(env, "amendments.md.j2", {"p": view, "amendments": amendments}),
                "Amendments",
                section,
            )
        )
    for rel, data in used_assets(p).items():
        pages.append(SitePage(f"{base}/{rel}", data))
    return pages


def _amendments(p: SiteProduct) -> list[dict[str, Any]]:
    """The product's amendments, newest first: the current one (its summary of changes
    computed from the previous version), then those recorded in `prior_amendments`."""
    from generator.protocol_documents import amendment_view

    product = p.resolved.product
    tp = product.title_page
    found: list[dict[str, Any]] = []
    current = amendment_view(p.resolved, text=str)  # the site template escapes for HTML
    if current is not None:
        found.append(
            {
                **current,
                "version": tp.version,
                "version_date": tp.version_date,
                "rows": current["summary"],
                "current": True,
            }
        )
    for prior in reversed(product.prior_amendments):
        view = prior.model_dump()
        rows = [{**row, "about": None} for row in view.pop("changes")]
        found.append({**view, "rows": rows, "current": False})
    return found


def _static_assets() -> list[SitePage]:
    pages = [
        SitePage(STYLESHEET, (TEMPLATES_DIR / "site" / "protocmc.css").read_bytes()),
        SitePage(SCRIPT, (TEMPLATES_DIR / "site" / "protocmc.js").read_bytes()),
    ]
    pages += [SitePage(uri, path.read_bytes()) for uri, path in VENDOR_FILES.items()]
    return pages


def _all_pages(env: Env, site: _Site, prose: Prose) -> list[SitePage]:
    options = site.options
    pages: list[SitePage] = []
    product_views = [_product_view(site, p, prose, "") for p in site.products]
    own_views = [v for v in product_views if v["role"] == "product"]
    example_views = [v for v in product_views if v["role"] == "example"]
    frameworks = [views.framework_info(fw) for fw in site.frameworks]
    cmc = [{"id": c.id, "title": c.title, "version": c.version} for c in site.cmc]
    if options.home:
        home = _render(
            env,
            "home.md.j2",
            {
                "title": options.title,
                "products": own_views,
                "examples": example_views,
                "frameworks": frameworks,
                "cmc": cmc,
                "matrix_title": MATRIX_TITLE,
            },
        )
        pages.append(SitePage("index.md", home, "Home", ()))
    for p in site.own:
        pages += _product_pages(env, site, p, prose)
    pages += _framework_pages(env, site, prose)
    if site.examples:
        pages.append(
            SitePage(
                "examples/index.md",
                _render(env, "examples.md.j2", {"examples": example_views}),
                "Examples",
                ("Examples",),
            )
        )
    for p in site.examples:
        pages += _product_pages(env, site, p, prose)
    if site.products:
        pages.append(
            SitePage(
                "placeholders.md",
                _render(env, "placeholders.md.j2", {"products": product_views}),
                "Open placeholders",
                (),
            )
        )
    pages.append(SitePage("tags.md", _render(env, "tags.md.j2", {}), "Tags", ()))
    return pages


@dataclass(frozen=True)
class GeneratedSite:
    pages: list[SitePage]
    """Every generated page and asset, in navigation order."""
    inputs: SiteInputs
    """The files the pages were made from, besides protocmc's own code, templates and
    frameworks (`generator.site.page_cache` checks them before reusing the pages)."""


def generate_site(options: SiteOptions) -> GeneratedSite:
    """Every generated page and asset, and the files they come from."""
    load_framework.cache_clear()  # a framework edited while `protocmc serve` runs
    load_registry.cache_clear()
    env = site_environment()
    products = [load_product(p, "product") for p in options.products]
    products += [load_product(p, "example") for p in options.examples]
    unique_slugs(products)
    # pandoc to Word and to HTML at the same time (each a pool of pandoc processes)
    with ThreadPoolExecutor(max_workers=1) as beside:
        downloads = beside.submit(convert_docx_downloads, products) if options.downloads else None
        convert_drafts(products)
        if downloads is not None:
            downloads.result()
    site = _Site(options, _protocol_frameworks(options), _cmc_frameworks(options), products)
    prose = Prose()
    _all_pages(None, site, prose)  # builds the views only: collects every text they show
    prose.convert()  # one pandoc run for all of them
    pages = _static_assets() + _all_pages(env, site, prose)
    inputs = SiteInputs(
        files=[f for p in products for f in p.inputs.files],
        folders=[f for p in products for f in p.inputs.folders],
    )
    return GeneratedSite(pages, inputs)


def generate_pages(options: SiteOptions) -> list[SitePage]:
    """Every generated page and asset, in navigation order (never from the cache)."""
    return generate_site(options).pages
