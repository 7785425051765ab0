"""The protocol document kind: its analysis (design tables), template context, rendering
and the checks that read the rendered draft (M11 headings, open insertion points, prose).

Registered in `generator.documents`; `check`, `build` and the site reach it only through the
registry. Rendering is: the templates (plain data in, Markdown out), then the passes over the
whole draft (generator/protocol_passes.py: the writer's section texts, item references,
abbreviations, spelling; generator/citations.py: numbered references), then the checks of
the result (generator/draft_lint.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import __version__
from generator.abbreviations import data_for, define_abbreviations, fill_glossary
from generator.analysis.m11_lint import lint_m11
from generator.citations import REFERENCES_MARK, is_background, number_citations
from generator.draft_lint import (
    DraftFinding,
    Locator,
    heading_text_findings,
    located,
    prose_findings,
)
from generator.load import YamlPath
from generator.models.product import SectionText as ProductSectionText
from generator.plain import to_plain
from generator.problems import Location, Problem, ProblemsError, Severity, relative_display
from generator.protocol_passes import (
    INSERTION_RE,
    SectionText,
    apply_spelling,
    drop_self_references,
    item_places,
    marker,
    place_section_texts,
    remove_markers,
    resolve_item_references,
    review_span,
    section_lines,
    strip_review_marks,
    unresolved_ids,
)
from generator.render import (
    OpenPoint,
    RenderedDocument,
    make_environment,
    md_escape,
    render_template,
    tidy,
)
from generator.resolve import Provenance, ResolvedElement, ResolvedProtocol
from generator.sandbox import template_helper
from generator.sponsor import sponsor_templates

if TYPE_CHECKING:
    from generator.analysis.amendments import Change
    from generator.analysis.protocol_tables import ProtocolAnalysis

PROTOCOL_TEMPLATE = "protocol/protocol.md.j2"


PRIVATE_FIELDS = frozenset({"provenance", "starting_provenance", "location"})
"""Resolver bookkeeping that templates do not print (file positions depend on where the
command runs; outputs must not). Provenance reaches templates as `where`, relative to the
product file."""

_TYPED_POINT = re.compile(r"\\<(?P<text>[A-Za-z][^<>\n]*?)\\>")
"""`<Sponsor name>` typed in a YAML value (after md_escape): an M11 insertion point."""


def product_text(text: str) -> str:
    """A text value for the draft: escaped for pandoc Markdown (`<script>` prints as typed,
    never as HTML), and `<...>` typed by the writer kept as an open insertion point."""
    escaped = md_escape(text)
    return _TYPED_POINT.sub(lambda m: f"[\\<{m.group('text')}\\>]{{.insertion}}", escaped)


@dataclass
class _Recorder:
    """What the template helpers saw while rendering: who fills each insertion point."""

    fills: dict[str, list[str]] = field(default_factory=dict)

    def fill(self, text: str, key: str) -> None:
        keys = self.fills.setdefault(text, [])
        if key and key not in keys:
            keys.append(key)


def _where(provenance: Provenance) -> str:
    """Where a clause comes from, the same wherever the command runs: `product.yaml:212`
    (the product file's name and line) or `early-phase-cell-therapy 1.0.0 › dlt`."""
    loc = provenance.location
    if provenance.origin == "product" and loc is not None:
        name = Path(loc.file).name
        return f"{name}:{loc.line}" if loc.line else name
    return provenance.label.replace("@", " ")


def _element_view(el: ResolvedElement, resolved: ResolvedProtocol, plain: Any) -> dict[str, Any]:
    view: dict[str, Any] = plain(el)
    loaded = resolved.loaded_framework.elements.get(el.id)
    fw = loaded.element if loaded is not None else None
    view["applies"] = bool(getattr(el, "applies", True))
    notes = getattr(el, "notes", None) or (getattr(fw, "notes", None) if fw else None) or []
    view["notes"] = [md_escape(n if isinstance(n, str) else str(n)) for n in notes]
    text_entry = resolved.explain_index.get(f"elements.{el.id}.text")
    text_provenance = text_entry.provenance if text_entry else el.provenance
    where = _where(text_provenance)
    if text_provenance.origin == "product":
        where += ", replacing the text of " + _where(el.provenance)
    view["where"] = md_escape(where)
    # the writer's own text is theirs to verify, not the framework's evidence status
    view["needs_verification"] = el.needs_verification and text_provenance.origin != "product"
    for name, param in el.parameters.items():
        view["parameters"][name]["where"] = md_escape(_where(param.provenance))
    fw_items = {i.id: i for i in fw.starting_point.items} if fw else {}
    for item_view, item in zip(view["items"], el.items, strict=True):
        note = getattr(item, "note", None) or getattr(fw_items.get(item.id), "note", None)
        item_view["note"] = md_escape(note) if note else None
        item_view["where"] = md_escape(_where(item.provenance))
    return view


def _dotted(data: Any, path: YamlPath) -> str:
    """A YAML path as `explain` takes it: list entries with an id by their id."""
    parts: list[str] = []
    node = data
    for part in path:
        if isinstance(part, int) and isinstance(node, list):
            entry = node[part]
            parts.append(
                str(entry["id"]) if isinstance(entry, dict) and "id" in entry else str(part)
            )
        else:
            parts.append(str(part))
        node = node[part]
    return ".".join(parts)


def _typed_points(data: Any, path: YamlPath = ()) -> Iterator[tuple[str, str]]:
    """(prompt, product key) of every `<...>` typed in the product file."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _typed_points(value, (*path, key))
    elif isinstance(data, list):
        for n, value in enumerate(data):
            yield from _typed_points(value, (*path, n))
    elif isinstance(data, str):
        for m in _TYPED_POINT.finditer(md_escape(data)):
            yield m.group("text"), ".".join(str(p) for p in path)


def _protocol_context(
    resolved: ResolvedProtocol, analysis: ProtocolAnalysis
) -> tuple[dict[str, Any], _Recorder]:
    product = resolved.product
    registry = resolved.registry.by_key()
    recorder = _Recorder()
    doc = resolved.product_document
    for prompt, path_text in _typed_points(doc.data):
        recorder.fill(prompt, _product_key(doc.data, path_text))
    section_text = {
        key: product_text(value if isinstance(value, str) else value.text)
        for key, value in product.sections.items()
    }

    @template_helper
    def heading(key: str) -> str:
        s = registry[key]
        anchor = "m11-" + s.number.replace(".", "-")
        return f"{'#' * s.level} {s.number} {s.title} {{#{anchor}}}"

    @template_helper
    def insertion(text: str, fill: str = "") -> str:
        """An M11 insertion point `<...>`; `fill` names what in the product file fills it."""
        # a prompt built from a value that is itself still open reads as one prompt
        text = (
            INSERTION_RE.sub(lambda m: m.group("text"), text).replace("\\<", "").replace("\\>", "")
        )
        recorder.fill(text, fill)
        return f"[\\<{text}\\>]{{.insertion}}"

    @template_helper
    def prose(key: str, prompt: str | None = None) -> str:
        """Where the writer's text for section `key` goes; an insertion point until there is
        one (generator/protocol_passes.py places the text)."""
        if key in section_text:
            return marker("text", key)
        return str(insertion(prompt or registry[key].title, "sections." + key))

    @template_helper
    def cite(ids: Any) -> str:
        """Citation markers for the sources a clause rests on (never background sources)."""
        if isinstance(ids, str):
            ids = [ids]
        keep = [
            i for i in ids if i not in resolved.sources or not is_background(resolved.sources[i])
        ]
        return f" [{'; '.join('@' + i for i in keep)}]" if keep else ""

    @template_helper
    def background(ids: Any) -> list[str]:
        """The background (framework-only) sources among `ids`: for review marks only."""
        return [i for i in ids if i in resolved.sources and is_background(resolved.sources[i])]

    @template_helper
    def review(*parts: Any) -> str:
        """A review mark `[...]{.review}` (a Word comment; omitted by `--clean`)."""
        return review_span(parts)

    @template_helper
    def item_mark(item_id: str, kind: str | None = None) -> str:
        """Marks a list line as item `item_id`, so references to it read as its number."""
        return marker("item", f"{item_id}|{kind or ''}")

    def plain(value: Any) -> Any:
        return to_plain(value, skip=PRIVATE_FIELDS, text=product_text)

    levels: dict[str, int] = {}
    objectives = []
    for objective, view in zip(product.objectives, plain(product.objectives), strict=True):
        levels[objective.level] = levels.get(objective.level, 0) + 1
        view["number"] = levels[objective.level]
        objectives.append(view)

    register = []
    first_justification: dict[str, int] = {}
    first_trigger: dict[str, int] = {}
    for n, (entry, view) in enumerate(
        zip(resolved.tailoring_register, plain(resolved.tailoring_register), strict=True),
        start=1,
    ):
        view["outside_range"] = bool(getattr(entry, "outside_range", False))
        framework_range = getattr(entry, "framework_range", None)
        view["framework_range"] = md_escape(framework_range) if framework_range else None
        # a justification or trigger given before is referred to, not repeated
        view["justification_as_for"] = first_justification.setdefault(entry.justification, n)
        view["trigger_as_for"] = (
            first_trigger.setdefault(entry.trigger_text, n) if entry.trigger_text else n
        )
        register.append(view)

    context = {
        "tp": plain(product.title_page),
        "design": plain(product.overall_design),
        "product": plain(product.product),
        "indication": plain(product.indication),
        "objectives": objectives,
        "dose": plain(product.dose_escalation),
        "ld_agents": plain(product.lymphodepletion_agents),
        "e": {eid: _element_view(el, resolved, plain) for eid, el in resolved.elements.items()},
        "register": register,
        "sources": plain(resolved.sources),
        "framework": plain(resolved.loaded_framework.framework),
        "sections": {
            key: {"key": key, "number": s.number, "title": s.title, "level": s.level}
            for key, s in registry.items()
        },
        "section_text": section_text,
        "locale": product.locale,
        "heading": heading,
        "prose": prose,
        "insertion": insertion,
        "cite": cite,
        "background": background,
        "review": review,
        "item_mark": item_mark,
        "glossary_mark": marker("glossary"),
        "references_mark": REFERENCES_MARK,
        "analysis": plain(analysis),
        "tool_version": __version__,
        "amendment": amendment_view(resolved, analysis),
        "prior_amendments": plain(product.prior_amendments),
    }
    return context, recorder


def amendment_changes(
    resolved: ResolvedProtocol, analysis: ProtocolAnalysis | None = None
) -> list[Change] | None:
    """The change set since the previous version; None when there is no previous version."""
    from generator.analysis.amendments import compute_changes

    if resolved.previous is None:
        return None
    return compute_changes(
        resolved.previous,
        resolved,
        analyse(resolved.previous),
        analysis if analysis is not None else analyse(resolved),
    )


def amendment_view(
    resolved: ResolvedProtocol,
    analysis: ProtocolAnalysis | None = None,
    *,
    text: Callable[[str], str] = product_text,
) -> dict[str, Any] | None:
    """Amendment Details for the template: the title-page fields, and the summary of changes
    computed from the previous version (None when it is not known). The writer's text goes
    through `text`: escaped for the draft's Markdown by default; the site passes it through
    unchanged and escapes it for HTML itself."""
    from generator.analysis.amendments import rationale_for

    amendment = resolved.product.title_page.amendment
    if amendment is None:
        return None
    view: dict[str, Any] = to_plain(amendment, text=text)
    changes = amendment_changes(resolved, analysis)
    view["summary"] = None
    if changes is not None:
        rows = []
        for change in changes:
            entry = rationale_for(resolved, change)
            substantial = amendment.substantial
            if entry is not None and entry.substantial is not None:
                substantial = entry.substantial
            rows.append(
                {
                    "number": change.number,
                    "title": change.title,
                    "section": change.section,
                    "description": change.description,
                    "rationale": text(entry.rationale) if entry else None,
                    "substantial": substantial,
                    "about": change.about[0],
                }
            )
        view["summary"] = rows
    previous = resolved.previous
    view["previous_version"] = previous.product.title_page.version if previous else None
    return view


def _product_key(data: Any, dotted: str) -> str:
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    return _dotted(data, tuple(parts))


def template_context(resolved: ResolvedProtocol, analysis: ProtocolAnalysis) -> dict[str, Any]:
    """Plain data for the protocol templates (see README, "Sponsor template overrides")."""
    return _protocol_context(resolved, analysis)[0]


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


def render_protocol(
    resolved: ResolvedProtocol, analysis: ProtocolAnalysis, *, clean: bool = False
) -> RenderedDocument:
    """The protocol draft: templates, then the passes over the whole draft; its checks ride
    along in `RenderedDocument.problems`. `clean` leaves out the review marks."""
    sponsor = sponsor_templates(resolved)
    env = make_environment(sponsor)
    context, recorder = _protocol_context(resolved, analysis)
    raw = render_template(env, PROTOCOL_TEMPLATE, context, sponsor_dir=sponsor)
    markdown, problems = _finish(raw.markdown, resolved, sponsor)
    points = _open_points(markdown, resolved, recorder)
    if clean:
        markdown = tidy(strip_review_marks(markdown))
    return RenderedDocument(
        raw.name,
        markdown,
        [p.text for p in points],
        tuple(points),
        tuple(problems),
    )


def _section_texts(resolved: ResolvedProtocol) -> list[SectionText]:
    registry = resolved.registry.by_key()
    out = []
    for key, value in resolved.product.sections.items():
        if key not in registry:
            continue  # PR020
        text, replace = (
            (value.text, value.replace) if isinstance(value, ProductSectionText) else (value, False)
        )
        out.append(SectionText(key, registry[key].number, product_text(text).strip(), replace))
    return out


def _item_ids(resolved: ResolvedProtocol) -> set[str]:
    ids: set[str] = set()
    for loaded in resolved.loaded_framework.elements.values():
        ids.update(i.id for i in loaded.element.starting_point.items)
    for el in resolved.elements.values():
        ids.update(i.id for i in el.items)
    return ids


def _abbreviation_names(resolved: ResolvedProtocol) -> set[str]:
    """Product words that look like abbreviations but are names or ids."""
    p = resolved.product
    names = {p.product.name, p.title_page.sponsor_protocol_id, p.product.target_antigen}
    if p.title_page.acronym:
        names.add(p.title_page.acronym)
    names.update(p.title_page.investigational_products)
    names.add(p.title_page.sponsor_name)
    names.update(d.id for d in p.dose_escalation.dose_levels)
    names.update(o.id for o in p.objectives)
    # a name such as "PCT: 19/B" is also each of its words ("PCT", "19/B")
    words = {w.strip(".,;:()") for n in names if n for w in re.split(r"[\s:;,()]+", n)}
    return {n for n in names | words if n}


def _finish(
    markdown: str, resolved: ResolvedProtocol, sponsor: Path | None
) -> tuple[str, list[Problem]]:
    """The passes over the rendered draft, then the checks of the result."""
    problems: list[Problem] = []
    doc = resolved.product_document
    markdown, missing = place_section_texts(markdown, _section_texts(resolved))
    registry = resolved.registry.by_key()
    for key in missing:
        s = registry[key]
        problems.append(
            Problem(
                "PR054",
                f"the text for section {s.number} {s.title} ('{key}') does not appear in the "
                "protocol: the draft has no heading for it",
                doc.location(("sections", key), key=True),
                f"a template override of block '{key}' removes its heading; keep "
                f'{{{{ heading("{key}") }}}} in the block, or move the text to another section',
            )
        )
    known_ids = _item_ids(resolved)
    markdown = resolve_item_references(markdown, item_places(markdown), known_ids)
    markdown = drop_self_references(markdown)
    data = data_for(dict(resolved.product.abbreviations), _abbreviation_names(resolved) | known_ids)
    markdown, abbreviations = define_abbreviations(markdown, data)
    markdown = fill_glossary(markdown, abbreviations.used)
    markdown = apply_spelling(markdown, resolved.product.locale)
    markdown, citations = number_citations(markdown, resolved.sources)
    markdown = tidy(remove_markers(markdown))

    locator = Locator(
        doc,
        [e.document for e in resolved.loaded_framework.elements.values()]
        + [resolved.loaded_framework.document],
        sponsor,
    )
    fallback = Location(doc.display)
    for finding, what in prose_findings(markdown, resolved.elements):
        problems.append(
            located(
                locator,
                finding,
                "PD001",
                f"protocol text names {what}: '{finding.match}'",
                "protocol prose speaks to investigators: say what the trial does; reviewer "
                "notes belong in review marks (the framework's notes) or in the tailoring "
                "register",
                fallback,
            )
        )
    for finding in heading_text_findings(markdown):
        problems.append(
            located(
                locator,
                finding,
                "PD002",
                f"'{finding.match}' is printed as text",
                "a heading needs a blank line before it and '#' at the start of its line; "
                "attributes such as {#id} or {.class} belong on a heading or span",
                fallback,
            )
        )
    seen: set[str] = set()
    for line_no, word in abbreviations.unknown:
        if word in seen:
            continue
        seen.add(word)
        problem = located(
            locator,
            DraftFinding(line_no, _section_of(markdown, line_no), word, word),
            "PD003",
            f"abbreviation '{word}' is not defined",
            f"add it with its definition under 'abbreviations:' in the product file (e.g. "
            f"'{word}: <definition>'); it is then defined at first use and listed in the "
            "glossary",
            fallback,
        )
        problems.append(problem)
    for line_no, item_id in unresolved_ids(markdown, known_ids):
        problems.append(
            located(
                locator,
                DraftFinding(line_no, _section_of(markdown, line_no), item_id, item_id),
                "PD004",
                f"the text refers to item '{item_id}', which this protocol does not print",
                "refer to a criterion or item the protocol keeps, or reword the sentence "
                "(item ids never reach the reader)",
                fallback,
            )
        )
    for line_no, source_id in citations.unknown:
        problems.append(
            located(
                locator,
                DraftFinding(
                    line_no, _section_of(markdown, line_no), "@" + source_id, "@" + source_id
                ),
                "PD005",
                f"citation '[@{source_id}]' names no source of the framework",
                "cite a source by its id in the framework's source list",
                fallback,
            )
        )
    return markdown, problems


def _section_of(markdown: str, line_no: int) -> str:
    for n, section, _line, _body in section_lines(markdown):
        if n == line_no:
            return section or ""
    return ""


def _open_points(markdown: str, resolved: ResolvedProtocol, recorder: _Recorder) -> list[OpenPoint]:
    titles = {s.number: f"{s.number} {s.title}" for s in resolved.registry.sections}
    points: list[OpenPoint] = []
    for _n, section, line, _body in section_lines(markdown):
        for m in INSERTION_RE.finditer(line):
            text = m.group("text").replace("\\", "")
            fills = recorder.fills.get(text) or recorder.fills.get(m.group("text")) or []
            points.append(
                OpenPoint(text, titles.get(section or "", section or ""), " or ".join(fills))
            )
    return points


def draft_problems(
    resolved: ResolvedProtocol, document: RenderedDocument, *, release: bool
) -> list[Problem]:
    """Checks of the rendered protocol: M11 headings, insertion points, unverified values,
    and the checks of the draft's text made while rendering."""
    problems: list[Problem] = list(document.problems)
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
    problems += insertion_problems(resolved, document, release=release)
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


def insertion_problems(
    resolved: ResolvedProtocol, document: RenderedDocument, *, release: bool
) -> list[Problem]:
    """Open insertion points: one line with the count while drafting; with `--release`, each
    point with its section and what in the product file fills it."""
    doc = resolved.product_document
    points = document.open_points or tuple(OpenPoint(t) for t in document.insertion_points)
    if not points:
        return []
    if not release:
        return [
            Problem(
                "PC001",
                f"{len(points)} insertion point(s) <...> still open in the protocol",
                Location(doc.display),
                "`protocmc check --release` lists each with the product-file key that fills "
                "it, and fails while any remain",
                Severity.INFO,
            )
        ]
    out = []
    for point in points:
        where = f"Section {point.section}: " if point.section else ""
        first_fill = point.fill.split(" or ")[0] if point.fill else ""
        location = _fill_location(doc, first_fill) if first_fill else Location(doc.display)
        hint = (
            f"fill it with '{point.fill}' in the product file"
            if point.fill
            else "replace the <...> with the text"
        )
        out.append(Problem("PC001", f"{where}open insertion point <{point.text}>", location, hint))
    return out


def _fill_location(doc: Any, dotted: str) -> Location:
    """The product-file line of a dotted key, when the file has it (list entries by id)."""
    path: list[str | int] = []
    node = doc.data
    for part in dotted.split("."):
        if isinstance(node, list):
            match = next(
                (i for i, e in enumerate(node) if isinstance(e, dict) and str(e.get("id")) == part),
                None,
            )
            if match is None and part.isdigit() and int(part) < len(node):
                match = int(part)
            if match is None:
                break
            path.append(match)
            node = node[match]
        elif isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        else:
            break
    return doc.location(tuple(path)) if path else Location(doc.display)


def clean_document(document: RenderedDocument) -> RenderedDocument:
    """The document without review marks (`--clean`)."""
    return dc_replace(document, markdown=tidy(strip_review_marks(document.markdown)))


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
