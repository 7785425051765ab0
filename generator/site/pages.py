"""Site pages generated at build time from the framework YAML and the example products.

Pure: `generate_pages(options)` returns every page (Markdown) and asset (bytes) with its
place in the navigation. The MkDocs plugin turns them into virtual files; nothing generated is
written into the docs folder. All prose lives in `templates/site/*.md.j2`.
"""

from __future__ import annotations

import glob
import importlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

from generator import __version__, api
from generator.framework_loader import LoadedFramework, available_frameworks, load_framework
from generator.models.common import Evidence, ParameterValue
from generator.models.framework import Element, Parameter, TextPart
from generator.paths import TEMPLATES_DIR
from generator.problems import Problem, ProblemsError, Severity
from generator.render import make_site_environment
from generator.resolve import ResolvedProtocol, fill_text, format_value
from generator.site.convert import OpenInsertion, SiteMarkdown, to_site_markdown

STYLESHEET = "assets/protocmc.css"
MATRIX_TITLE = "Attribute \N{MULTIPLICATION SIGN} stage-gate matrix"
CMC_DOCUMENT_TITLES = {
    "module3": "Module 3 (CMC) draft",
    "cmc-readiness": "CMC readiness report",
    "specification-lifecycle": "Specification lifecycle",
}


@dataclass(frozen=True)
class SiteOptions:
    """What to generate; mirrors the plugin's config options."""

    products: list[Path] = field(default_factory=list)
    framework_pages: bool = True
    frameworks: list[str] = field(default_factory=list)
    """Framework ids to publish; empty means every installed protocol framework."""
    home: bool = False
    """Generate the home page (index.md) too: for docs folders without one."""
    title: str = "protocmc"


@dataclass(frozen=True)
class SitePage:
    src_uri: str
    content: str | bytes
    title: str = ""
    nav: tuple[str, ...] | None = None
    """Navigation section path; None keeps the file out of the navigation (assets)."""


@dataclass
class Example:
    slug: str
    title: str
    product_path: Path
    resolved: ResolvedProtocol
    protocol: SiteMarkdown
    documents: dict[str, SiteMarkdown] = field(default_factory=dict)
    assets: dict[str, bytes] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def insertions(self) -> list[tuple[str, OpenInsertion]]:
        found = [("protocol", i) for i in self.protocol.insertions]
        for name, doc in self.documents.items():
            found += [(name, i) for i in doc.insertions]
        return found


def m11_anchor(number: str) -> str:
    return "m11-" + number.replace(".", "-")


def source_anchor(source_id: str) -> str:
    return "src-" + re.sub(r"[^A-Za-z0-9_-]", "-", source_id)


def yaml_str(value: str) -> str:
    """A front-matter string value (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _range(param: Parameter) -> str:
    if param.allowed is not None:
        return " | ".join(format_value(v) for v in param.allowed)
    lo = "" if param.minimum is None else format_value(param.minimum)
    hi = "" if param.maximum is None else format_value(param.maximum)
    if lo and hi:
        return f"{lo} \N{EN DASH} {hi}"
    if lo:
        return f"≥ {lo}"
    if hi:
        return f"≤ {hi}"
    return ""


def _fill_bold(text: str | list[TextPart], *scopes: dict[str, Parameter]) -> str:
    """Framework text with its `{param:NAME}` placeholders shown as bold starting values.

    Later scopes win: an item's own parameters over its element's.
    """
    values: dict[str, ParameterValue] = {}
    for scope in scopes:
        values.update({k: f"**{format_value(p.value)}**" for k, p in scope.items()})
    if isinstance(text, list):  # parts with conditions: show each with its condition
        return " ".join(
            fill_text(part.text, values) + (f" *(when {part.when})*" if part.when else "")
            for part in text
        )
    return fill_text(text, values)


def environment() -> ImmutableSandboxedEnvironment:
    env = make_site_environment()
    env.filters["yaml_str"] = yaml_str
    env.filters["range"] = _range
    env.globals["m11_anchor"] = m11_anchor
    env.globals["source_anchor"] = source_anchor
    env.globals["fill_bold"] = _fill_bold
    env.globals["tool_version"] = __version__
    env.globals["NEEDS_VERIFICATION"] = Evidence.NEEDS_VERIFICATION
    return env


def _render(env: ImmutableSandboxedEnvironment, name: str, **context: Any) -> str:
    text = env.get_template(f"site/{name}").render(context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def resolve_products(patterns: list[Path], base: Path) -> list[Path]:
    """Product files from paths or glob patterns (relative to `base`), sorted, de-duplicated."""
    found: list[Path] = []
    for pattern in patterns:
        full = pattern if pattern.is_absolute() else base / pattern
        matches = (
            sorted(Path(p) for p in glob.glob(str(full))) if glob.has_magic(str(full)) else [full]
        )
        for m in matches:
            path = m / "product.yaml" if m.is_dir() else m
            if path.resolve() not in [f.resolve() for f in found]:
                found.append(path)
    return found


def _optional(module: str) -> Any | None:
    """A module of the CMC stage, or None when this installation has no CMC stage."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _cmc_documents(resolved: ResolvedProtocol) -> tuple[dict[str, str], dict[str, bytes]]:
    """The product's CMC drafts and their figures, when the CMC stage is installed and used.

    Figures are published as SVG where the CMC stage provides one (`figures/x.png` in the
    Markdown becomes `figures/x.svg`); only figures a draft refers to are published.
    """
    cmc = _optional("generator.cmc.api")
    if cmc is None or resolved.product.cmc is None:
        return {}, {}
    outputs = cmc.cmc_outputs(resolved)
    raw_assets: dict[str, bytes] = dict(getattr(outputs, "assets", {}) or {})
    documents: dict[str, str] = {}
    for name, doc in sorted(getattr(outputs, "documents", {}).items()):
        markdown = doc if isinstance(doc, str) else str(doc.markdown)
        documents[str(name)] = IMAGE_RE.sub(lambda m: _prefer_svg(m, raw_assets), markdown)
    used = {m.group("src") for md in documents.values() for m in IMAGE_RE.finditer(md)}
    assets = {name: raw_assets[name] for name in sorted(used) if name in raw_assets}
    return documents, assets


IMAGE_RE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)")


def _prefer_svg(match: re.Match[str], assets: dict[str, bytes]) -> str:
    src = match.group("src")
    svg = re.sub(r"\.png$", ".svg", src)
    return f"![{match.group('alt')}]({svg})" if svg in assets else match.group(0)


def load_example(path: Path) -> Example:
    """Check one product and convert its drafts for the site; input errors raise."""
    report = api.check(path)
    errors = [p for p in report.problems if p.severity is Severity.ERROR]
    if errors or report.resolved is None or "protocol" not in report.documents:
        raise ProblemsError(errors or report.problems)
    resolved = report.resolved
    slug = path.resolve().parent.name
    protocol = to_site_markdown(report.documents["protocol"].markdown, shift=1)
    docs, assets = _cmc_documents(resolved)
    converted = {name: to_site_markdown(md, shift=1) for name, md in docs.items()}
    title = resolved.product.title_page.short_title or resolved.product.product.name
    return Example(slug, title, path, resolved, protocol, converted, assets, report.problems)


def _protocol_frameworks(options: SiteOptions) -> list[LoadedFramework]:
    if not options.framework_pages:
        return []
    installed = available_frameworks()
    loader = _optional("generator.cmc.loader")
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


def _cmc_matrix_pages(env: ImmutableSandboxedEnvironment, wanted: list[str]) -> list[SitePage]:
    """The attribute-by-stage-gate matrix of each installed CMC framework (if any)."""
    loader = _optional("generator.cmc.loader")
    if loader is None:
        return []
    pages: list[SitePage] = []
    for fid, folder in sorted(loader.available_cmc_frameworks().items()):
        if wanted and fid not in wanted:
            continue
        fw = loader.load_cmc_framework(folder).framework
        content = _render(env, "cmc-matrix.md.j2", fw=fw)
        pages.append(SitePage(f"cmc/{fid}/index.md", content, MATRIX_TITLE, ("CMC",)))
    return pages


def generate_pages(options: SiteOptions) -> list[SitePage]:
    """Every generated page and asset, in navigation order."""
    env = environment()
    examples = [load_example(p) for p in options.products]
    frameworks = _protocol_frameworks(options)
    pages: list[SitePage] = []
    css = (TEMPLATES_DIR / "site" / "protocmc.css").read_bytes()
    pages.append(SitePage(STYLESHEET, css))

    for fw in frameworks:
        fid = fw.framework.id
        section = ("Framework",) if len(frameworks) == 1 else ("Frameworks", fw.framework.title)
        elements = [le.element for le in fw.elements.values()]
        usage = _element_usage(fw, examples)
        pages.append(
            SitePage(
                f"framework/{fid}/index.md",
                _render(
                    env,
                    "framework.md.j2",
                    fw=fw.framework,
                    elements=elements,
                    usage=usage,
                    by_section=_by_m11_section(elements),
                ),
                "Overview",
                section,
            )
        )
        for element in elements:
            pages.append(
                SitePage(
                    f"framework/{fid}/{element.id}.md",
                    _render(
                        env,
                        "element.md.j2",
                        fw=fw.framework,
                        element=element,
                        sources={s.id: s for s in fw.framework.sources},
                        usage=usage.get(element.id, []),
                        tags=_element_tags(element),
                    ),
                    element.title,
                    section,
                )
            )
        pages.append(
            SitePage(
                f"framework/{fid}/sources.md",
                _render(env, "sources.md.j2", fw=fw.framework),
                "Sources",
                section,
            )
        )

    if options.framework_pages:
        pages += _cmc_matrix_pages(env, options.frameworks)
    if options.home:
        home = _render(
            env, "home.md.j2", title=options.title, examples=examples, frameworks=frameworks
        )
        pages.insert(0, SitePage("index.md", home, "Home", ()))

    if examples:
        pages.append(
            SitePage(
                "examples/index.md",
                _render(env, "examples.md.j2", examples=examples, titles=CMC_DOCUMENT_TITLES),
                "Examples",
                ("Examples",),
            )
        )
    for ex in examples:
        section = ("Examples", ex.title)
        base = f"examples/{ex.slug}"
        ex_fw = ex.resolved.loaded_framework.framework
        pages.append(
            SitePage(
                f"{base}/index.md",
                _render(
                    env,
                    "example.md.j2",
                    ex=ex,
                    fw=ex_fw,
                    product=ex.resolved.product,
                    documents=_document_list(ex),
                ),
                "Overview",
                section,
            )
        )
        pages.append(
            SitePage(
                f"{base}/protocol.md",
                _render(
                    env,
                    "draft.md.j2",
                    ex=ex,
                    title="Protocol draft",
                    kind="protocol",
                    body=ex.protocol.markdown,
                    tags=["Document: protocol"],
                ),
                "Protocol draft",
                section,
            )
        )
        for name, doc in ex.documents.items():
            title = CMC_DOCUMENT_TITLES.get(name, name)
            pages.append(
                SitePage(
                    f"{base}/{name}.md",
                    _render(
                        env,
                        "draft.md.j2",
                        ex=ex,
                        title=title,
                        kind=name,
                        body=doc.markdown,
                        tags=[f"Document: {name}"],
                    ),
                    title,
                    section,
                )
            )
        for rel, data in ex.assets.items():
            pages.append(SitePage(f"{base}/{rel}", data))
        pages.append(
            SitePage(
                f"{base}/tailoring-register.md",
                _render(
                    env,
                    "register.md.j2",
                    ex=ex,
                    fw=ex_fw,
                    register=ex.resolved.tailoring_register,
                    frameworks_published=[f.framework.id for f in frameworks],
                ),
                "Tailoring register",
                section,
            )
        )
    if examples:
        pages.append(
            SitePage(
                "placeholders.md",
                _render(
                    env,
                    "placeholders.md.j2",
                    examples=examples,
                    titles={"protocol": "Protocol draft", **CMC_DOCUMENT_TITLES},
                ),
                "Open placeholders",
                (),
            )
        )
    pages.append(SitePage("tags.md", _render(env, "tags.md.j2"), "Tags", ()))
    return pages


def _document_list(ex: Example) -> list[tuple[str, str, int]]:
    """(page, title, open insertion points) for each draft of an example."""
    docs = [("protocol.md", "Protocol draft", len(ex.protocol.insertions))]
    docs += [
        (f"{n}.md", CMC_DOCUMENT_TITLES.get(n, n), len(d.insertions))
        for n, d in ex.documents.items()
    ]
    return docs


def _element_tags(element: Element) -> list[str]:
    tags = [f"Component: {element.component}"]
    gates = sorted({i.gate for i in element.starting_point.items if i.gate})
    tags += [f"Gate: {g}" for g in gates]
    sp = element.starting_point
    statuses = [element.evidence, *(i.evidence for i in sp.items)]
    statuses += [p.evidence for p in sp.parameters.values()]
    if Evidence.NEEDS_VERIFICATION in statuses:
        tags.append("Evidence: needs verification")
    return tags


def _by_m11_section(elements: list[Element]) -> list[tuple[str, list[Element]]]:
    sections: dict[str, list[Element]] = {}
    for el in elements:
        for number in el.m11_sections:
            sections.setdefault(number, []).append(el)

    def key(number: str) -> list[int]:
        return [int(p) if p.isdigit() else 0 for p in number.split(".")]

    return [(n, sections[n]) for n in sorted(sections, key=key)]


@dataclass(frozen=True)
class ElementUsage:
    """How one example uses an element: where it appears and how often it is tailored."""

    slug: str
    title: str
    anchors: list[tuple[str, str]]
    tailored: int


def _element_usage(fw: LoadedFramework, examples: list[Example]) -> dict[str, list[ElementUsage]]:
    usage: dict[str, list[ElementUsage]] = {}
    for ex in examples:
        if ex.resolved.loaded_framework.framework.id != fw.framework.id:
            continue
        md = ex.protocol.markdown
        for eid, loaded in fw.elements.items():
            anchors = [
                (n, m11_anchor(n))
                for n in loaded.element.m11_sections
                if f"{{#{m11_anchor(n)}}}" in md
            ]
            tailored = sum(1 for t in ex.resolved.tailoring_register if t.element_id == eid)
            usage.setdefault(eid, []).append(ElementUsage(ex.slug, ex.title, anchors, tailored))
    return usage
