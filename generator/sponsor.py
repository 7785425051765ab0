"""The product's sponsor template folder: where it is, and that it stays inside the product."""

from __future__ import annotations

from pathlib import Path

from generator.problems import Problem, ProblemsError
from generator.resolve import ResolvedProtocol


def sponsor_templates(resolved: ResolvedProtocol) -> Path | None:
    """The product's template-override folder, which must stay inside the product's folder."""
    rel = resolved.product.templates
    if rel is None:
        return None
    doc = resolved.product_document
    root = resolved.product_dir.resolve()
    target = (root / rel).resolve()
    where = doc.location(("templates",))
    if not target.is_relative_to(root):
        raise ProblemsError(
            [
                Problem(
                    "PP001",
                    f"templates folder '{rel}' lies outside the product's folder",
                    where,
                    "keep template overrides inside the product repository, e.g. 'templates'",
                )
            ]
        )
    if not target.is_dir():
        raise ProblemsError(
            [
                Problem(
                    "PP002",
                    f"templates folder '{rel}' does not exist",
                    where,
                    "create it or remove 'templates:'",
                )
            ]
        )
    return target
