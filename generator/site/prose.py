"""Markdown prose (framework text, product justifications) as HTML for the site templates.

Views are built twice: once to collect every text they show (`Prose(collect=True)` returns
empty HTML), then, after one pandoc run over all of them, for real.
"""

from __future__ import annotations

from markupsafe import Markup

from generator.site.pandoc_html import fragments_to_html, inline_html
from generator.site.templating import md_cell, md_html


class Prose:
    def __init__(self) -> None:
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._html: list[str] | None = None

    def _get(self, text: str) -> str:
        key = text.strip()
        if key not in self._index:
            self._index[key] = len(self._order)
            self._order.append(key)
        if self._html is None or self._index[key] >= len(self._html):
            return ""
        return self._html[self._index[key]]

    def convert(self) -> None:
        """Convert every text asked for so far (one pandoc run)."""
        self._html = fragments_to_html(self._order)

    def block(self, text: str | None) -> Markup:
        """Paragraphs, lists, tables: for a line of its own in a Markdown page."""
        if not text or not text.strip():
            return Markup("")
        return md_html(self._get(text))

    def inline(self, text: str | None) -> Markup:
        """One paragraph without its `<p>`, on one line: for table cells and headings."""
        if not text or not text.strip():
            return Markup("")
        return md_cell(Markup(inline_html(self._get(text))))
