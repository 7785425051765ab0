"""A rendered document as plain data (no Jinja, no models): what the build writes, caches and
hands to the Word export. Kept apart from `generator.render` so a build answered from the
cache unpickles it without importing the renderer."""

from __future__ import annotations

from dataclasses import dataclass

from generator.problems import Problem


@dataclass(frozen=True)
class OpenPoint:
    """An open insertion point of a draft: its prompt, the section that holds it and what in
    the product file fills it."""

    text: str
    section: str = ""
    """"4.2.1 Estimand(s)", or "" before the first numbered heading."""
    fill: str = ""
    """The product-file key or field that fills it, e.g. 'sections.trial_schema'."""


@dataclass(frozen=True)
class RenderedDocument:
    name: str
    markdown: str
    insertion_points: list[str]
    open_points: tuple[OpenPoint, ...] = ()
    problems: tuple[Problem, ...] = ()
    """Checks of the draft's text made while rendering it (protocol_documents)."""
    header: tuple[tuple[str, str], ...] = ()
    """Word header fields of this document that differ from the protocol's (DocxMetadata field
    name -> value): Module 3 names itself, not the protocol id and version."""
