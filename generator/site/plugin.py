"""The `protocmc` MkDocs plugin: framework and product pages generated at build time.

```yaml
plugins:
  - search
  - tags
  - protocmc:
      products: [product.yaml]              # the sponsor's own products: their drafts lead
      examples: [examples/*/product.yaml]   # worked examples, under "Examples"
      framework_pages: true                 # one page per framework element, overview, sources
      frameworks: []                        # framework ids; empty = every installed framework
      downloads: true                       # each draft as a Word file beside its page
```

Paths and globs are relative to mkdocs.yml. Generated pages are virtual files
(`File.generated`); `protocmc site --docs DIR` writes the same pages into a plain docs folder
instead (`generator.site.export`). A nav entry `- protocmc` in mkdocs.yml marks where the
generated sections go; without a nav the plugin builds one.

The plugin also makes the site readable from disk (file://): page links end in .html
(`use_directory_urls: false`), and search runs through a vendored copy of the iframe-worker
shim (templates/site/vendor/) with its index inlined into search/search_index.js.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import jinja2
from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files

from generator import cache
from generator.paths import FRAMEWORKS_DIR, TEMPLATES_DIR
from generator.problems import ProblemsError, sorted_problems
from generator.site import config as site_config
from generator.site.options import (
    SCRIPT,
    SEARCH_SHIM,
    STYLESHEET,
    SiteOptions,
    SitePage,
    resolve_products,
)
from generator.site.page_cache import site_pages

log = logging.getLogger("mkdocs.plugins.protocmc")

NAV_MARKER = "protocmc"


def _extensions() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for ext in site_config.MARKDOWN_EXTENSIONS:
        if isinstance(ext, str):
            out[ext] = {}
        else:
            out.update({k: dict(v) for k, v in ext.items()})
    return out


REQUIRED_EXTENSIONS = _extensions()
"""Markdown extensions the generated pages need; added when mkdocs.yml does not list them."""


class ProtocmcConfig(base.Config):  # type: ignore[no-untyped-call]
    products = c.ListOfItems(c.Type(str), default=[])
    examples = c.ListOfItems(c.Type(str), default=[])
    framework_pages = c.Type(bool, default=True)
    frameworks = c.ListOfItems(c.Type(str), default=[])
    downloads = c.Type(bool, default=True)


NavItem = str | dict[str, Any]


def build_nav(pages: list[SitePage]) -> list[NavItem]:
    """Nested MkDocs nav entries for the generated pages, in page order.

    Titles are HTML-escaped: themes print nav titles as they are.
    """
    nav: list[NavItem] = []
    sections: dict[tuple[str, ...], list[NavItem]] = {(): nav}
    for page in pages:
        if page.nav is None:
            continue
        for depth in range(1, len(page.nav) + 1):
            key = page.nav[:depth]
            if key not in sections:
                children: list[NavItem] = []
                sections[key[:-1]].append({html.escape(key[-1], quote=False): children})
                sections[key] = children
        sections[page.nav].append({html.escape(page.title, quote=False): page.src_uri})
    return nav


def site_options(plugin_config: ProtocmcConfig, config: MkDocsConfig) -> SiteOptions:
    base_dir = Path(config.config_file_path or ".").resolve().parent
    return SiteOptions(
        products=resolve_products([Path(p) for p in plugin_config.products], base_dir),
        examples=resolve_products([Path(p) for p in plugin_config.examples], base_dir),
        framework_pages=plugin_config.framework_pages,
        frameworks=list(plugin_config.frameworks),
        home=not (Path(config.docs_dir) / "index.md").is_file(),
        title=html.unescape(config.site_name),
        downloads=plugin_config.downloads,
    )


def apply_site_settings(config: MkDocsConfig) -> None:
    """What generated pages need from mkdocs.yml, added where it is missing."""
    for name, options in REQUIRED_EXTENSIONS.items():
        if name not in config.markdown_extensions:
            config.markdown_extensions.append(name)
            if options:
                config.mdx_configs[name] = dict(options)
    if STYLESHEET not in config.extra_css:
        config.extra_css.append(STYLESHEET)
    if SCRIPT not in [str(s) for s in config.extra_javascript]:
        config.extra_javascript.append(SCRIPT)
    # Readable from disk: links to page.html, and search without a web worker from file://.
    config.use_directory_urls = False
    polyfills = [p for p in config.extra.get("polyfills", []) if "iframe-worker" not in str(p)]
    config.extra["polyfills"] = [*polyfills, SEARCH_SHIM]
    theme = config.theme
    if theme.name == "material" and not theme.get("palette"):
        theme["palette"] = [dict(p) for p in site_config.PALETTE]


def inline_search_index(site_dir: str) -> None:
    """search/search_index.js for file:// (Material loads it instead of the JSON there)."""
    index = Path(site_dir) / "search" / "search_index.json"
    if index.is_file():
        data = index.read_text("utf-8")
        (index.parent / "search_index.js").write_text(f"var __index = {data}", encoding="utf-8")


class ProtocmcPlugin(BasePlugin[ProtocmcConfig]):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        self.pages: list[SitePage] = []
        self.watched: list[Path] = []

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        options = site_options(self.config, config)
        self.watched = [*options.products, *options.examples]
        # `protocmc serve` rebuilds in one process: a template or framework edited since the
        # last build is a new code digest, so no cached page or draft is reused
        cache.code_digest.cache_clear()
        try:
            self.pages = site_pages(options)
        except ProblemsError as exc:
            lines = [
                f"{p.location}: {p.code}: {p.message}" if p.location else f"{p.code}: {p.message}"
                for p in sorted_problems(exc.problems)
            ]
            raise PluginError(
                "protocmc: the site inputs have problems:\n  " + "\n  ".join(lines)
            ) from None
        apply_site_settings(config)
        config.nav = self._nav(config)
        return config

    def _nav(self, config: MkDocsConfig) -> list[NavItem]:
        generated = build_nav(self.pages)
        nav: list[NavItem] | None = config.nav
        if nav is None:
            docs = Path(config.docs_dir)
            home: list[NavItem] = ["index.md"] if (docs / "index.md").is_file() else []
            others: list[NavItem] = [
                p.relative_to(docs).as_posix()
                for p in sorted(docs.rglob("*.md"))
                if p.relative_to(docs).as_posix() != "index.md"
            ]
            return [*home, *generated, *others]
        out: list[NavItem] = []
        for item in nav:
            if item == NAV_MARKER:
                out += generated
            else:
                out.append(item)
        return out

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        for page in self.pages:
            existing = files.get_file_from_path(page.src_uri)
            if existing is not None:
                if existing.generated_by is None:
                    raise PluginError(
                        f"protocmc: '{page.src_uri}' is generated; remove or rename the "
                        "hand-written file of that name in the docs folder"
                    )
                files.remove(existing)
            files.append(File.generated(config, page.src_uri, content=page.content))
        return files

    def on_env(
        self, env: jinja2.Environment, /, *, config: MkDocsConfig, files: Files
    ) -> jinja2.Environment | None:
        """The theme's templates compile once per user, not on every build (~45 templates,
        a tenth of a small site's build): Jinja's own bytecode cache, checked against each
        template's source, in the per-user cache folder."""
        folder = cache.jinja_bytecode_dir()
        if folder is not None and env.bytecode_cache is None:
            env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(folder))
        return env

    @event_priority(-100)  # after the search plugin has written its index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        inline_search_index(config.site_dir)
        log.info("protocmc: generated %d page(s) and asset(s)", len(self.pages))

    def on_serve(
        self, server: LiveReloadServer, /, *, config: MkDocsConfig, builder: Any
    ) -> LiveReloadServer | None:
        server.watch(str(FRAMEWORKS_DIR))
        server.watch(str(TEMPLATES_DIR))
        for product in self.watched:
            server.watch(str(product.resolve().parent))
        return server
