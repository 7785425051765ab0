"""The public API: what the CLI, the MkDocs plugin and tests call.

load → validate → resolve → analyse → render → export, one way. Each function raises
`ProblemsError` (all problems of that stage together) when the inputs are wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import __version__
from generator.analysis.m11_lint import lint_m11
from generator.framework_loader import check_pin, find_framework, load_framework, load_registry
from generator.load import LoadedDocument, load_yaml
from generator.models.product import Product
from generator.problems import (
    Location,
    Problem,
    ProblemList,
    ProblemsError,
    Severity,
    relative_display,
)
from generator.render import RenderedDocument, make_environment, render_template
from generator.resolve import ExplainEntry, ResolvedProtocol, resolve_product
from generator.text_lint import lint_text_values
from generator.validate import validate

if TYPE_CHECKING:
    from generator.analysis.protocol_tables import ProtocolAnalysis

PROTOCOL_TEMPLATE = "protocol/protocol.md.j2"


@dataclass
class CheckReport:
    resolved: ResolvedProtocol | None
    problems: list[Problem] = field(default_factory=list)
    insertion_points: list[str] = field(default_factory=list)
    documents: dict[str, RenderedDocument] = field(default_factory=dict)
    usdm: bytes | None = None
    """protocol.usdm.json (CDISC USDM v4.0.0), built and checked with the protocol."""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]


def load_product(path: Path) -> tuple[LoadedDocument, Product]:
    """Load and validate a product file (stage: load + validate)."""
    doc = load_yaml(path, display=relative_display(path))
    return doc, validate(doc, Product)


def resolve(path: Path) -> tuple[ResolvedProtocol, list[Problem]]:
    """Load, validate and resolve a product against its pinned framework."""
    doc, product = load_product(path)
    where = doc.location(("framework",))
    folder = find_framework(product.framework, where)
    framework = load_framework(folder)
    problems = check_pin(product.framework, framework, where)
    resolved, found = resolve_product(framework, product, doc, load_registry())
    return resolved, problems + found + lint_text_values(doc)


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


PRIVATE_FIELDS = frozenset({"provenance", "starting_provenance", "location"})
"""Resolver bookkeeping that templates do not print (file positions depend on where the
command runs; outputs must not)."""


def template_context(resolved: ResolvedProtocol, analysis: ProtocolAnalysis) -> dict[str, Any]:
    """Plain data for the protocol templates (see README, "Sponsor template overrides")."""
    from generator.plain import to_plain
    from generator.render import insertion, md_escape
    from generator.sandbox import template_helper

    product = resolved.product
    registry = resolved.registry.by_key()
    # every text value is escaped for pandoc Markdown once, here: `<...>` typed in YAML
    # prints as typed and never becomes raw HTML in any output
    section_text = {key: md_escape(text) for key, text in product.sections.items()}

    @template_helper
    def heading(key: str) -> str:
        s = registry[key]
        anchor = "m11-" + s.number.replace(".", "-")
        return f"{'#' * s.level} {s.number} {s.title} {{#{anchor}}}"

    @template_helper
    def prose(key: str, prompt: str) -> str:
        text = section_text.get(key)
        return text.strip() if text else insertion(prompt)

    def plain(value: Any) -> Any:
        return to_plain(value, skip=PRIVATE_FIELDS, text=md_escape)

    return {
        "tp": plain(product.title_page),
        "design": plain(product.overall_design),
        "product": plain(product.product),
        "indication": plain(product.indication),
        "objectives": plain(product.objectives),
        "dose": plain(product.dose_escalation),
        "e": plain(resolved.elements),
        "register": plain(resolved.tailoring_register),
        "sources": plain(resolved.sources),
        "framework": plain(resolved.loaded_framework.framework),
        "sections": {
            key: {"key": key, "number": s.number, "title": s.title, "level": s.level}
            for key, s in registry.items()
        },
        "section_text": section_text,
        "heading": heading,
        "prose": prose,
        "analysis": plain(analysis),
        "tool_version": __version__,
    }


def analyse(resolved: ResolvedProtocol) -> ProtocolAnalysis:
    """Computed tables for the templates (dose escalation, stopping boundaries)."""
    from generator.analysis.protocol_tables import analysis_key, protocol_analysis
    from generator.cache import cached

    return cached("protocol-analysis", analysis_key(resolved), lambda: protocol_analysis(resolved))


def render_protocol(resolved: ResolvedProtocol, analysis: ProtocolAnalysis) -> RenderedDocument:
    sponsor = sponsor_templates(resolved)
    env = make_environment(sponsor)
    return render_template(
        env, PROTOCOL_TEMPLATE, template_context(resolved, analysis), sponsor_dir=sponsor
    )


def check(path: Path, *, release: bool = False) -> CheckReport:
    """Everything `protocmc check` reports; never writes."""
    problems = ProblemList()
    resolved, found = resolve(path)
    problems.extend(found)
    if resolved.product.cmc is not None and not problems.errors:
        from generator.cmc.api import cmc_problems

        problems.extend(cmc_problems(resolved))
    report = CheckReport(resolved=resolved)
    if problems.errors:
        report.problems = problems.items
        return report
    analysis = analyse(resolved)
    document = render_protocol(resolved, analysis)
    report.documents["protocol"] = document
    report.insertion_points = document.insertion_points
    sponsor = sponsor_templates(resolved)
    for finding in lint_m11(document.markdown, resolved.registry):
        problems.add(
            Problem(
                finding.code,
                finding.message,
                _lint_location(finding.heading_text, sponsor, resolved),
                finding.hint,
            )
        )
    from generator.export.usdm_validate import check_usdm

    report.usdm, found = check_usdm(resolved, document.markdown)
    problems.extend(found)
    if document.insertion_points:
        severity = Severity.ERROR if release else Severity.INFO
        problems.add(
            Problem(
                "PC001",
                f"{len(document.insertion_points)} insertion point(s) <...> still open in the protocol",
                Location(resolved.product_document.display),
                "fill them through 'sections:' in the product file; `protocmc check --release` "
                "fails while any remain",
                severity,
            )
        )
    for p in resolved.elements.values():
        for param in p.parameters.values():
            if param.needs_verification and release:
                problems.add(
                    Problem(
                        "PC002",
                        f"'{p.id}.{param.name}' uses a starting-point value marked needs-verification",
                        Location(resolved.product_document.display),
                        "verify it against its source before the protocol is final",
                        Severity.WARNING,
                    )
                )
    report.problems = problems.items
    return report


def _lint_location(heading_text: str, sponsor: Path | None, resolved: ResolvedProtocol) -> Location:
    """Point a heading finding at the sponsor template line that holds it, when there is one."""
    if sponsor is not None:
        for file in sorted(sponsor.rglob("*.j2")):
            for lineno, line in enumerate(file.read_text("utf-8").splitlines(), start=1):
                if heading_text and heading_text in line:
                    return Location(relative_display(file), lineno, line.index(heading_text) + 1)
        files = sorted(sponsor.rglob("*.j2"))
        if files:
            return Location(relative_display(files[0]), 1, 1)
    return Location(resolved.product_document.display)


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
            "elements.eligibility.items.INC-ANC or title_page.full_title"
        )
        raise ProblemsError([Problem("PE001", f"no value at '{dotted}'", None, hint)])
    return entry
