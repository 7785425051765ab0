"""The public API: what the CLI, the MkDocs plugin and tests call.

load → validate → resolve → analyse → render → export, one way. Each function raises
`ProblemsError` (all problems of that stage together) when the inputs are wrong.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.framework_loader import check_pin, find_framework, load_framework, load_registry
from generator.load import LoadedDocument, load_yaml
from generator.models.product import Product
from generator.problems import (
    Problem,
    ProblemList,
    ProblemsError,
    Severity,
    relative_display,
)

# Kept importable from here: the CLI, the site and sponsor tests use these names.
from generator.protocol_documents import (
    PROTOCOL_TEMPLATE,
    analyse,
    render_protocol,
    template_context,
)
from generator.render import RenderedDocument
from generator.resolve import ExplainEntry, ResolvedProtocol, resolve_product
from generator.sponsor import sponsor_templates
from generator.text_lint import lint_text_values
from generator.validate import validate

if TYPE_CHECKING:
    from generator.cmc.plots import PlotJob

__all__ = [
    "PROTOCOL_TEMPLATE",
    "CheckReport",
    "analyse",
    "check",
    "explain",
    "load_product",
    "render_protocol",
    "resolve",
    "sponsor_templates",
    "template_context",
]


@dataclass
class CheckReport:
    resolved: ResolvedProtocol | None
    problems: list[Problem] = field(default_factory=list)
    insertion_points: list[str] = field(default_factory=list)
    documents: dict[str, RenderedDocument] = field(default_factory=dict)
    assets: dict[str, bytes] = field(default_factory=dict)
    usdm: bytes | None = None
    """protocol.usdm.json (CDISC USDM v4.0.0), built and checked with the protocol."""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]


def load_product(path: Path) -> tuple[LoadedDocument, Product]:
    """Load and validate a product file (stage: load + validate)."""
    doc = load_yaml(path, display=relative_display(path))
    return doc, validate(doc, Product)


def resolve(path: Path, *, since: str | None = None) -> tuple[ResolvedProtocol, list[Problem]]:
    """Load, validate and resolve a product against its pinned framework.

    An amendment also resolves the version it changes — `since` (a git revision of the
    product's repository or a path to the previous product file), else the amendment's
    `previous_version` — with the framework version that version pinned.
    """
    from generator.history import previous_document, resolve_previous

    doc, product = load_product(path)
    where = doc.location(("framework",))
    folder = find_framework(product.framework, where)
    framework = load_framework(folder)
    problems = check_pin(product.framework, framework, where)
    resolved, found = resolve_product(framework, product, doc, load_registry())
    amendment = product.title_page.amendment
    previous = previous_document(
        path,
        since,
        amendment.previous_version if amendment else None,
        doc.location(("title_page", "amendment", "previous_version")),
    )
    if previous is not None:
        resolved.previous = resolve_previous(previous)
    return resolved, problems + found + lint_text_values(doc)


def check(
    path: Path,
    *,
    release: bool = False,
    assets: tuple[str, ...] = (),
    clean: bool = False,
    since: str | None = None,
    usdm: bool = True,
) -> CheckReport:
    """Everything `protocmc check` reports; never writes.

    Runs every applicable document kind of the registry (generator/documents.py) through the
    same stages: its analysis rules, then — when no input has an error — its rendering and
    the checks of the rendered draft. `assets` names the formats of the files that go beside
    the documents (figures: 'png' for Markdown and Word, 'svg' for the site), which only a
    build or the site writes. `clean=True` gives the documents
    without their review marks (`[...]{.review}`: item ids, provenance, evidence status).
    `usdm=False` leaves out the USDM JSON and its checks (a build that does not write it).
    """
    from generator import documents

    problems = ProblemList()
    resolved, found = resolve(path, since=since)
    problems.extend(found)
    report = CheckReport(resolved=resolved)
    kinds = documents.applicable(resolved)
    if not problems.errors:
        for kind in kinds:
            problems.extend(documents.check(kind, resolved))
    if problems.errors:
        report.problems = problems.items
        return report
    # the figures are drawn in worker processes from here on, while the documents render
    ahead = documents.figures_to_draw(kinds, resolved, release=release, assets=assets)
    with _drawing_ahead(ahead):
        for kind in kinds:
            rendered = documents.render(kind, resolved, release=release, assets=assets)
            report.documents.update(rendered.documents)
            report.assets.update(rendered.assets)
            problems.extend(rendered.problems)
            exported = documents.usdm(kind, resolved, rendered, release=release) if usdm else None
            if exported is not None:
                report.usdm, usdm_problems = exported
                problems.extend(usdm_problems)
    if clean:
        from generator.protocol_documents import clean_document

        report.documents = {name: clean_document(d) for name, d in report.documents.items()}
    protocol = report.documents.get("protocol")
    report.insertion_points = protocol.insertion_points if protocol else []
    report.problems = problems.items
    return report


def _drawing_ahead(jobs: list[PlotJob]) -> contextlib.AbstractContextManager[None]:
    if not jobs:
        return contextlib.nullcontext()  # matplotlib and the plots module stay unimported
    from generator.cmc.plots import drawing_ahead

    return drawing_ahead(jobs)


def explain(path: Path, dotted: str) -> ExplainEntry:
    resolved, problems = resolve(path)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise ProblemsError(errors)
    entry = resolved.explain_index.get(dotted)
    if entry is None:
        from generator.problems import did_you_mean

        hint = did_you_mean(dotted, resolved.explain_index) or (
            "paths look like elements.dlt.parameters.dlt_window_days, "
            "elements.eligibility.items.INC-ANC, title_page.full_title, "
            "dose_escalation.dose_levels.DL2 or objectives.OBJ-P1"
        )
        raise ProblemsError([Problem("PE001", f"no value at '{dotted}'", None, hint)])
    return entry
