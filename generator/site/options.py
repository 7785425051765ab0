"""What a site publishes (`SiteOptions`) and what it is made of (`SitePage`): plain data.

Kept apart from the page generation (`generator.site.pages`, which imports the models, the
renderer and the CMC stage) so that the MkDocs plugin and the page cache
(`generator.site.page_cache`) load without them: a site whose inputs did not change is
answered from the cache, and its pages unpickle from this module alone.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

STYLESHEET = "assets/protocmc.css"
SCRIPT = "assets/protocmc.js"
SEARCH_SHIM = "assets/vendor/iframe-worker/shim.js"


@dataclass(frozen=True)
class SiteOptions:
    """What to generate; mirrors the plugin's config options."""

    products: list[Path] = field(default_factory=list)
    """The sponsor's own product files: their drafts lead the site."""
    examples: list[Path] = field(default_factory=list)
    """Worked examples shown beside the framework."""
    framework_pages: bool = True
    frameworks: list[str] = field(default_factory=list)
    """Framework ids to publish; empty means every installed protocol framework."""
    home: bool = False
    """Generate the home page (index.md) too: for docs folders without one."""
    title: str = "protocmc"
    downloads: bool = True
    """Publish each draft as a Word file beside its page."""


@dataclass(frozen=True)
class SitePage:
    src_uri: str
    content: str | bytes
    title: str = ""
    nav: tuple[str, ...] | None = None
    """Navigation section path; None keeps the file out of the navigation (assets)."""


@dataclass(frozen=True)
class SiteInputs:
    """The files a site's pages come from, besides protocmc's own code, templates and
    frameworks (which every cache key names through `generator.cache.code_digest`)."""

    files: list[Path] = field(default_factory=list)
    """Product files and every file their build reads (cmc.yaml, CSVs, sponsor templates)."""
    folders: list[Path] = field(default_factory=list)
    """Folders searched for files (a sponsor's templates): a file added there is a change."""


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
