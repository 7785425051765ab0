"""The protocol document kind: its analysis (design tables), template context, rendering
and the checks that read the rendered draft (M11 headings, open insertion points).

Registered in `generator.documents`; `check`, `build` and the site reach it only through the
registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import __version__
from generator.analysis.m11_lint import lint_m11
from generator.plain import to_plain
from generator.problems import Location, Problem, ProblemsError, Severity, relative_display
from generator.render import (
    RenderedDocument,
    insertion,
    make_environment,
    md_escape,
    render_template,
)
from generator.resolve import ResolvedProtocol
from generator.sandbox import template_helper
from generator.sponsor import sponsor_templates

if TYPE_CHECKING:
    from generator.analysis.protocol_tables import ProtocolAnalysis

PROTOCOL_TEMPLATE = "protocol/protocol.md.j2"


PRIVATE_FIELDS = frozenset({"provenance", "starting_provenance", "location"})
"""Resolver bookkeeping that templates do not print (file positions depend on where the
command runs; outputs must not)."""


def template_context(resolved: ResolvedProtocol, analysis: ProtocolAnalysis) -> dict[str, Any]:
    """Plain data for the protocol templates (see README, "Sponsor template overrides")."""

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

    try:
        return cached(
            "protocol-analysis", analysis_key(resolved), lambda: protocol_analysis(resolved)
        )
    except (ValueError, OverflowError) as exc:
        # the calculators refuse parameters their mathematics cannot take; say which, where
        doc = resolved.product_document
        where = (
            doc.location(("tailoring", "dose-escalation"), key=True)
            if "dose-escalation" in resolved.product.tailoring
            else doc.location(("dose_escalation",), key=True)
        )
        raise ProblemsError(
            [
                Problem(
                    "PA001",
                    f"the dose-escalation tables cannot be computed: {exc}",
                    where,
                    "change the design parameters or the dose levels named in the message",
                )
            ]
        ) from None


def render_protocol(resolved: ResolvedProtocol, analysis: ProtocolAnalysis) -> RenderedDocument:
    sponsor = sponsor_templates(resolved)
    env = make_environment(sponsor)
    return render_template(
        env, PROTOCOL_TEMPLATE, template_context(resolved, analysis), sponsor_dir=sponsor
    )


def draft_problems(
    resolved: ResolvedProtocol, document: RenderedDocument, *, release: bool
) -> list[Problem]:
    """Checks of the rendered protocol: M11 headings, insertion points, unverified values."""
    problems: list[Problem] = []
    sponsor = sponsor_templates(resolved)
    for finding in lint_m11(document.markdown, resolved.registry):
        problems.append(
            Problem(
                finding.code,
                finding.message,
                _lint_location(finding.heading_text, sponsor, resolved),
                finding.hint,
            )
        )
    if document.insertion_points:
        severity = Severity.ERROR if release else Severity.INFO
        problems.append(
            Problem(
                "PC001",
                f"{len(document.insertion_points)} insertion point(s) <...> still open in the protocol",
                Location(resolved.product_document.display),
                "fill them through 'sections:' in the product file; `protocmc check --release` "
                "fails while any remain",
                severity,
            )
        )
    if release:
        for element in resolved.elements.values():
            for param in element.parameters.values():
                if param.needs_verification:
                    problems.append(
                        Problem(
                            "PC002",
                            f"'{element.id}.{param.name}' uses a starting-point value marked "
                            "needs-verification",
                            Location(resolved.product_document.display),
                            "verify it against its source before the protocol is final",
                            Severity.WARNING,
                        )
                    )
    return problems


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
