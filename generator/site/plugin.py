"""The `protocmc` MkDocs plugin: framework and example pages generated at build time.

```yaml
plugins:
  - search
  - tags
  - protocmc:
      products: [examples/*/product.yaml]   # paths or globs, relative to mkdocs.yml
      framework_pages: true                 # one page per framework element, overview, sources
      frameworks: []                        # framework ids; empty = every installed framework
```

Generated pages never touch the docs folder: they are virtual files (`File.generated`). A nav
entry `- protocmc` in mkdocs.yml marks where the generated sections go; without a nav the
plugin builds one (home, generated sections, then the other hand-written pages).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from generator.framework_loader import load_framework, load_registry
from generator.paths import FRAMEWORKS_DIR, TEMPLATES_DIR
from generator.problems import ProblemsError, sorted_problems
from generator.site.convert import to_site_markdown
from generator.site.pages import STYLESHEET, SiteOptions, SitePage, generate_pages, resolve_products

log = logging.getLogger("mkdocs.plugins.protocmc")

NAV_MARKER = "protocmc"
REQUIRED_EXTENSIONS: dict[str, dict[str, Any]] = {
    "attr_list": {},
    "md_in_html": {},
    "tables": {},
    "admonition": {},
    "footnotes": {},
    "def_list": {},
    "toc": {"permalink": True},
    "pymdownx.details": {},
    "pymdownx.superfences": {},
    "pymdownx.tabbed": {"alternate_style": True},
}
"""Markdown extensions the generated pages need; added when mkdocs.yml does not list them."""


class ProtocmcConfig(base.Config):  # type: ignore[no-untyped-call]
    products = c.ListOfItems(c.Type(str), default=[])
    framework_pages = c.Type(bool, default=True)
    frameworks = c.ListOfItems(c.Type(str), default=[])


NavItem = str | dict[str, Any]


def build_nav(pages: list[SitePage]) -> list[NavItem]:
    """Nested MkDocs nav entries for the generated pages, in page order."""
    nav: list[NavItem] = []
    sections: dict[tuple[str, ...], list[NavItem]] = {(): nav}
    for page in pages:
        if page.nav is None:
            continue
        for depth in range(1, len(page.nav) + 1):
            key = page.nav[:depth]
            if key not in sections:
                children: list[NavItem] = []
                sections[key[:-1]].append({key[-1]: children})
                sections[key] = children
        sections[page.nav].append({page.title: page.src_uri})
    return nav


class ProtocmcPlugin(BasePlugin[ProtocmcConfig]):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        self.pages: list[SitePage] = []
        self.products: list[Path] = []

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        base_dir = Path(config.config_file_path or ".").resolve().parent
        self.products = resolve_products([Path(p) for p in self.config.products], base_dir)
        load_framework.cache_clear()
        load_registry.cache_clear()
        options = SiteOptions(
            products=self.products,
            framework_pages=self.config.framework_pages,
            frameworks=list(self.config.frameworks),
            home=not (Path(config.docs_dir) / "index.md").is_file(),
            title=config.site_name,
        )
        try:
            self.pages = generate_pages(options)
        except ProblemsError as exc:
            lines = [
                f"{p.location}: {p.code}: {p.message}" if p.location else f"{p.code}: {p.message}"
                for p in sorted_problems(exc.problems)
            ]
            raise PluginError(
                "protocmc: the site inputs have problems:\n  " + "\n  ".join(lines)
            ) from None
        self._ensure_extensions(config)
        if STYLESHEET not in config.extra_css:
            config.extra_css.append(STYLESHEET)
        config.nav = self._nav(config)
        return config

    @staticmethod
    def _ensure_extensions(config: MkDocsConfig) -> None:
        for name, options in REQUIRED_EXTENSIONS.items():
            if name not in config.markdown_extensions:
                config.markdown_extensions.append(name)
                if options:
                    config.mdx_configs[name] = dict(options)

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
                if existing.generated_by is None and page.src_uri != STYLESHEET:
                    raise PluginError(
                        f"protocmc: '{page.src_uri}' is generated; remove or rename the "
                        "hand-written file of that name in the docs folder"
                    )
                files.remove(existing)
            files.append(File.generated(config, page.src_uri, content=page.content))
        return files

    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        """Pandoc constructs (fenced divs, spans, `Table:` captions) in any page → site Markdown."""
        return to_site_markdown(markdown).markdown

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        log.info("protocmc: generated %d page(s) and asset(s)", len(self.pages))

    def on_serve(
        self, server: LiveReloadServer, /, *, config: MkDocsConfig, builder: Any
    ) -> LiveReloadServer | None:
        server.watch(str(FRAMEWORKS_DIR))
        server.watch(str(TEMPLATES_DIR))
        for product in self.products:
            server.watch(str(product.resolve().parent))
        return server
