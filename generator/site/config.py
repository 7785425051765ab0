"""The MkDocs settings a protocmc site needs, in one place.

Used three ways: the plugin adds what a sponsor's mkdocs.yml leaves out, `protocmc site` on a
lone product file writes a whole mkdocs.yml, and `generator.site.export` writes a plain
mkdocs.yml (no protocmc plugin) beside the generated docs folder.
"""

from __future__ import annotations

import html
from typing import Any

MARKDOWN_EXTENSIONS: list[Any] = [
    "attr_list",
    "md_in_html",
    "tables",
    "admonition",
    "def_list",
    {"toc": {"permalink": True}},
    "pymdownx.details",
    "pymdownx.superfences",
    {"pymdownx.tabbed": {"alternate_style": True}},
]
"""Markdown extensions the generated pages use."""

PALETTE: list[dict[str, Any]] = [
    {
        "media": "(prefers-color-scheme: light)",
        "scheme": "default",
        "primary": "indigo",
        "accent": "indigo",
        "toggle": {"icon": "material/brightness-4", "name": "Switch to dark mode"},
    },
    {
        "media": "(prefers-color-scheme: dark)",
        "scheme": "slate",
        "primary": "indigo",
        "accent": "light blue",
        "toggle": {"icon": "material/brightness-7", "name": "Switch to light mode"},
    },
]
"""Light and dark schemes; the first visit follows the operating system, the toggle switches."""

FEATURES = [
    "navigation.sections",
    "navigation.indexes",
    "navigation.top",
    "navigation.footer",
    "search.suggest",
    "search.highlight",
    "toc.follow",
]

VALIDATION: dict[str, Any] = {
    "nav": {"omitted_files": "warn", "not_found": "warn", "absolute_links": "warn"},
    "links": {
        "not_found": "warn",
        "anchors": "warn",
        "absolute_links": "warn",
        "unrecognized_links": "warn",
    },
}


def site_name(text: str) -> str:
    """A site name as the theme prints it (unescaped): HTML-escaped here."""
    return html.escape(" ".join(text.split()), quote=False)


def theme() -> dict[str, Any]:
    return {
        "name": "material",
        "font": False,  # no web fonts: the site works offline
        "language": "en",
        "features": list(FEATURES),
        "palette": [dict(p) for p in PALETTE],
    }


def product_site_config(name: str, docs_dir: str, product: str) -> dict[str, Any]:
    """mkdocs.yml for `protocmc site product.yaml`: that product's drafts, with the plugin."""
    return {
        "site_name": site_name(name),
        "docs_dir": docs_dir,
        "use_directory_urls": False,
        "theme": theme(),
        "plugins": ["search", "tags", {"protocmc": {"products": [product]}}],
        "markdown_extensions": list(MARKDOWN_EXTENSIONS),
        "validation": VALIDATION,
    }
