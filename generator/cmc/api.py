"""The CMC document kinds (module3, cmc-readiness, specification-lifecycle), registered in
`generator.documents`: their inputs, rules, template context and rendering.

- `cmc_problems(resolved)`: every CMC rule violation, located; [] when the product has no `cmc:`.
- `cmc_outputs(resolved)`: the rendered `module3`, `cmc-readiness` and `specification-lifecycle`
  documents plus figure assets (`figures/<test>.png` for Markdown and Word, `figures/<test>.svg`
  for the site).
- `cmc_input_files(resolved)`: every file the CMC stage reads, for the build fingerprint.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.cache import cached
from generator.cmc.analytics import (
    CmcAnalysis,
    analyse_cmc,
    effective_criterion,
)
from generator.cmc.batches import BATCH_TABLE_MAX_LOTS, batch_analyses
from generator.cmc.comparability_view import comparability_figures, comparability_view
from generator.cmc.content_rules import check_content
from generator.cmc.inputs import input_files
from generator.cmc.loader import LoadedCmc, load_cmc
from generator.cmc.plots import PlotJob, PlotLabels, drawing, lot_figure
from generator.cmc.potency import check_potency, potency_view
from generator.cmc.release_rules import check_release, process_control_readiness
from generator.cmc.rules import check_cmc
from generator.cmc.stability import StudyEvaluation, evaluate_stability
from generator.cmc.stability_plot import StabilityPlotLabels, stability_figure
from generator.cmc.stability_rules import check_stability, stability_readiness
from generator.cmc.vector import check_vector, vector_view
from generator.load import load_yaml
from generator.models.cmc import GATES, METHOD_STATUS_ORDER, CmcProduct
from generator.paths import TEMPLATES_DIR
from generator.plain import to_plain
from generator.problems import Problem, ProblemsError, sorted_problems
from generator.render import (
    RenderedDocument,
    insertion,
    make_environment,
    md_escape,
    md_literal,
    render_template,
)
from generator.resolve import ResolvedProtocol
from generator.sandbox import template_helper
from generator.sponsor import sponsor_templates
from generator.text_lint import lint_text_values

TEMPLATES = {
    "module3": "module3/module3.md.j2",
    "cmc-readiness": "cmc/cmc-readiness.md.j2",
    "specification-lifecycle": "cmc/specification-lifecycle.md.j2",
}
PLOT_LABELS_FILE = TEMPLATES_DIR / "cmc" / "plot-labels.yaml"


@dataclass
class CmcOutputs:
    documents: dict[str, RenderedDocument] = field(default_factory=dict)
    assets: dict[str, bytes] = field(default_factory=dict)


def cmc_problems(resolved: ResolvedProtocol) -> list[Problem]:
    """All CMC rule violations for the product, located; empty when it has no `cmc:`."""
    try:
        cmc = load_cmc(resolved)
    except ProblemsError as exc:
        return sorted_problems(exc.problems)
    if cmc is None:
        return []
    analysis = _analysis(resolved, cmc)
    return sorted_problems(
        [
            *check_cmc(cmc, analysis),
            *check_content(cmc),
            *check_stability(cmc, _stability(resolved, cmc)),
            *check_release(cmc, analysis),
            *check_potency(cmc),  # potency assurance (issue 13, part 2)
            *check_vector(cmc),  # vector drug substance, editing, allogeneic (part 6)
            *lint_text_values(cmc.document),
        ]
    )


def cmc_input_files(resolved: ResolvedProtocol) -> list[Path]:
    """cmc.yaml, the lot CSV and the CMC framework files (empty without `cmc:`)."""
    return input_files(resolved)


def cmc_outputs(resolved: ResolvedProtocol) -> CmcOutputs:
    """Render the CMC documents and figures; raises `ProblemsError` when the inputs have errors."""
    errors = [p for p in cmc_problems(resolved) if p.is_error]
    if errors:
        raise ProblemsError(sorted_problems(errors))
    return render_cmc(resolved, assets=("png", "svg"))


def render_cmc(resolved: ResolvedProtocol, *, assets: tuple[str, ...]) -> CmcOutputs:
    """The CMC documents and their figures in the formats `assets` names ('png' for Markdown
    and Word, 'svg' for the site; none for a check) of a product whose CMC inputs passed
    `cmc_problems`; empty without `cmc:`."""
    cmc = load_cmc(resolved)
    if cmc is None:
        return CmcOutputs()
    analysis = _analysis(resolved, cmc)
    outputs = CmcOutputs()
    jobs: list[PlotJob] | None = [] if assets else None  # figures are drawn only by a build
    figures = _figures(cmc, analysis, jobs)
    stability = _stability(resolved, cmc)
    sponsor = sponsor_templates(resolved)
    env = make_environment(sponsor)
    context = cmc_context(resolved, cmc, analysis, figures)
    context |= _stability_context(cmc, stability, jobs)
    jobs = [dataclasses.replace(job, formats=assets) for job in jobs or ()]
    # cached per figure; the missing ones drawn in worker processes while the documents render
    with drawing(jobs) as figure_files:
        for name, template in TEMPLATES.items():
            document = render_template(env, template, context, sponsor_dir=sponsor)
            outputs.documents[name] = dataclasses.replace(
                document, header=_header(document.markdown, cmc.product)
            )
        outputs.assets.update(figure_files())
    return outputs


def figure_jobs(resolved: ResolvedProtocol, assets: tuple[str, ...]) -> list[PlotJob]:
    """The figures `render_cmc(resolved, assets=assets)` draws, for drawing them ahead."""
    cmc = load_cmc(resolved) if assets else None
    if cmc is None:
        return []
    jobs: list[PlotJob] = []
    _figures(cmc, _analysis(resolved, cmc), jobs)
    _stability_figures(cmc, _stability(resolved, cmc), jobs)
    return [dataclasses.replace(job, formats=assets) for job in jobs]


def _header(markdown: str, product: CmcProduct) -> tuple[tuple[str, str], ...]:
    """Word header fields of a CMC document: its own title (the template's front matter) and
    the version of cmc.yaml, never the protocol's id and version."""
    front = markdown.split("\n---\n", 1)[0] if markdown.startswith("---\n") else ""
    title = next(
        (
            json.loads(line[len("title: ") :])
            for line in front.splitlines()
            if line.startswith("title: ")
        ),
        product.drug_product.name,
    )
    return (
        ("title", title),
        ("document_id", title),
        ("version", product.version or "—"),
        ("date", product.version_date or "—"),
    )


def analyse(resolved: ResolvedProtocol) -> tuple[LoadedCmc, CmcAnalysis] | None:
    """Loaded inputs and analysis (for tests and the site); None without `cmc:`."""
    cmc = load_cmc(resolved)
    if cmc is None:
        return None
    return cmc, _analysis(resolved, cmc)


def _figures(cmc: LoadedCmc, analysis: CmcAnalysis, jobs: list[PlotJob] | None) -> dict[str, str]:
    """Figure paths by test id; their drawings (PNG for Word, SVG for the site) are added to
    `jobs` only when it is given — `check` needs the names, only a build needs the pictures."""
    words = load_yaml(PLOT_LABELS_FILE).data
    stage_title = {g.id: g.title for g in cmc.framework.gates}[cmc.product.stage]
    figures: dict[str, str] = {}
    for spec in cmc.product.specifications:
        t = analysis.tests[spec.id]
        if not t.numeric or all(p.use == "other-unit" for p in t.points):
            continue
        crit, _ = effective_criterion(spec, cmc.product.stage)
        limits = crit.limits if crit is not None else (None, None)
        unit = f" ({spec.unit})" if spec.unit else ""
        labels = PlotLabels(
            title=spec.title,
            y_axis=f"{spec.title}{unit}",
            x_axis=str(words["x_axis"]),
            clinical=str(words["clinical"]),
            non_clinical=str(words["non_clinical"]),
            specification=f"{words['specification']} ({stage_title})",
            proposed=str(words["proposed"]).format(
                confidence=round(cmc.framework.analysis.confidence * 100),
                coverage=round(cmc.framework.analysis.coverage * 100),
            ),
            clinical_span=str(words["clinical_span"]),
        )
        if jobs is not None:
            jobs.append(PlotJob(f"figures/{spec.id}", lot_figure, (t, labels, limits)))
        figures[spec.id] = f"figures/{spec.id}.png"
    figures.update(comparability_figures(cmc, analysis, jobs))  # issue 13
    return figures


def _stability_figures(
    cmc: LoadedCmc, stability: dict[str, StudyEvaluation], jobs: list[PlotJob] | None
) -> dict[str, dict[str, str]]:
    """Stability figure paths by study and test id; drawings added to `jobs` like `_figures`."""
    words = load_yaml(PLOT_LABELS_FILE).data["stability"]
    evaluation = cmc.framework.stability_evaluation
    confidence = round((evaluation.confidence if evaluation else 0.95) * 100)
    figures: dict[str, dict[str, str]] = {}
    for study_id, ev in stability.items():
        for t in ev.tests:
            if t.fit is None:
                continue
            unit = f" ({t.unit})" if t.unit else ""
            two_sided = t.lower_limit is not None and t.upper_limit is not None
            labels = StabilityPlotLabels(
                title=f"{t.title}: {study_id}",
                y_axis=f"{t.title}{unit}",
                x_axis=str(words["x_axis"]).format(unit=ev.time_unit),
                lot=str(words["lot"]),
                regression=str(words["regression"]),
                bound=str(words["bound_two_sided" if two_sided else "bound"]).format(
                    confidence=confidence
                ),
                criterion=str(words["criterion"]),
                supported=str(words["supported"]),
            )
            name = f"figures/stability-{study_id}-{t.test}"
            if jobs is not None:
                jobs.append(PlotJob(name, stability_figure, (t, labels)))
            figures.setdefault(study_id, {})[t.test] = f"{name}.png"
    return figures


def _stability_context(
    cmc: LoadedCmc, stability: dict[str, StudyEvaluation], jobs: list[PlotJob] | None
) -> dict[str, Any]:
    """Stability results, their Q1E evaluation, figures and gate readiness for the templates."""
    plain = functools.partial(to_plain, text=md_escape)
    evaluation = cmc.framework.stability_evaluation
    specs = [sp for sp in cmc.product.specifications if "stability" in sp.usage]
    version = {lot.lot_id: lot.process_version for lot in cmc.lots.lots}
    tables: dict[str, dict[str, Any]] = {}
    for study_id in stability:
        rows = sorted(cmc.stability.rows_of(study_id), key=lambda r: (r.lot_id, r.time))
        tested = {k for r in rows for k in (*r.results, *r.texts)}
        tables[study_id] = {
            "columns": [
                {
                    "id": sp.id,
                    "title": md_escape(sp.title),
                    "unit": md_escape(sp.unit) if sp.unit else None,
                    "criterion": plain(effective_criterion(sp, cmc.product.stage)[0]),
                    "numeric": any(sp.id in r.results for r in rows),
                }
                for sp in specs
                if sp.id in tested
            ],
            "rows": [
                {
                    "lot_id": md_literal(r.lot_id),
                    "time": r.time,
                    "results": {k: v.display for k, v in r.results.items()},
                    "texts": {k: md_literal(v) for k, v in r.texts.items()},
                }
                for r in rows
            ],
        }
    return {
        "stability": plain(stability),
        "stability_tables": tables,
        "stability_figures": _stability_figures(cmc, stability, jobs),
        "stability_evaluation": plain(evaluation),
        "stability_readiness": plain(stability_readiness(cmc, stability)),
        "stability_processes": {
            study_id: list(dict.fromkeys(version[lot] for lot in ev.lots if lot in version))
            for study_id, ev in stability.items()
        },
    }


def _stability(resolved: ResolvedProtocol, cmc: LoadedCmc) -> dict[str, StudyEvaluation]:
    """`evaluate_stability`, cached on disk like `_analysis` (it loads scipy)."""
    digest = hashlib.sha256()
    for path in input_files(resolved):
        digest.update(str(path).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(cmc.product.stage.encode())
    return cached(
        "cmc-stability",
        digest.hexdigest(),
        functools.partial(
            evaluate_stability, cmc.product, cmc.stability, cmc.framework.stability_evaluation
        ),
    )


def fmt(value: float | None, digits: int = 3) -> str:
    """A number to `digits` significant figures, without exponent: 61.234 -> '61.2'."""
    if value is None:
        return "—"
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def pct(value: float) -> str:
    return f"{round(value * 100)} %"


def _product_relative(path: Path, product_dir: Path) -> str:
    """A path as the product repository names it: outputs never depend on the working folder."""
    try:
        return path.resolve().relative_to(product_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def cmc_context(
    resolved: ResolvedProtocol, cmc: LoadedCmc, analysis: CmcAnalysis, figures: dict[str, str]
) -> dict[str, Any]:
    """Plain data for the CMC templates (module3, cmc-readiness, specification-lifecycle).

    Every text value is escaped for pandoc Markdown (`md_escape`), once, here."""
    plain = functools.partial(to_plain, text=md_escape)
    product = cmc.product
    framework = cmc.framework
    tests = plain(analysis.tests)
    product_dir = resolved.product_dir
    return {
        "cmc": plain(product),
        "framework": plain(framework),
        "registry": plain(cmc.registry),
        "m3": _module3_sections(cmc),
        "heading": _heading_helper(cmc),
        "section_text": {k: md_escape(v) for k, v in product.sections.items()},
        "insertion": insertion,
        "gates": plain(framework.gates),
        "gate_ids": list(GATES),
        "stage_index": GATES.index(product.stage),
        "method_rank": {status: n for n, status in enumerate(METHOD_STATUS_ORDER)},
        "gate_title": {g.id: md_escape(g.title) for g in framework.gates},
        "stage": product.stage,
        "attributes": {a.id: plain(a) for a in framework.attributes},
        "methods": {m.id: plain(m) for m in product.methods},
        "method_statuses": {m.id: plain(m) for m in framework.method_statuses},
        "sources": {s.id: plain(s) for s in framework.sources},
        "topics": _topics(cmc),
        **_material_helpers(cmc, tests, figures),
        "lots": _lot_counts(cmc),
        "analysis": plain(analysis),
        "tests": tests,
        "readiness": plain(analysis.readiness),
        "lifecycle": plain(analysis.lifecycle),
        "figures": figures,
        "fmt": template_helper(fmt),
        "pct": template_helper(pct),
        "product": plain(resolved.product.product),
        "tp": plain(resolved.product.title_page),
        "cmc_file": _product_relative(cmc.document.path, product_dir),
        "lots_file": _product_relative(cmc.lots.path, product_dir),
        "analysis_settings": plain(framework.analysis),
        "batch_table_max_lots": BATCH_TABLE_MAX_LOTS,
        "comparability": comparability_view(cmc, analysis, figures),  # issue 13
        "comparability_expectations": {
            g: plain(e) for g, e in framework.comparability_expectations.items()
        },
        "process_control_readiness": plain(process_control_readiness(cmc)),
        # potency assurance (issue 13, part 2) and the vector drug substance (part 6)
        "potency": potency_view(cmc, md_escape),
        "vector": vector_view(cmc, md_escape, functools.partial(to_plain, text=md_literal), fmt),
    }


def _module3_sections(cmc: LoadedCmc) -> list[dict[str, Any]]:
    keys = [s.key for s in cmc.registry.sections]
    return [
        {
            "key": s.key,
            "number": s.number,
            "title": s.title,
            "level": s.level,
            "has_children": any(o.startswith(s.key + ".") for o in keys),
        }
        for s in cmc.registry.sections
    ]


def _heading_helper(cmc: LoadedCmc) -> Any:
    by_key = cmc.registry.by_key()

    @template_helper
    def heading(key: str, suffix: str = "") -> str:
        s = by_key[key]
        title = s.title.upper() if s.level == 1 else s.title
        anchor = "m3-" + s.number.replace(".", "-").lower()
        extra = f" {suffix}" if suffix else ""
        return f"{'#' * s.level} {s.number} {title}{extra} {{#{anchor} .unnumbered}}"

    return heading


def _topics(cmc: LoadedCmc) -> dict[str, dict[str, Any]]:
    plain = functools.partial(to_plain, text=md_escape)
    framework = cmc.framework
    return {
        "comparability": {t.id: plain(t) for t in framework.comparability_approaches},
        "stability": {t.id: plain(t) for t in framework.stability_study_types},
        "raw_material": {t.id: plain(t) for t in framework.raw_material_risk},
        "chain_of_identity": {t.id: plain(t) for t in framework.chain_of_identity},
    }


def _lot_counts(cmc: LoadedCmc) -> dict[str, Any]:
    """How many lots the file holds: the templates count, the batch tables list."""
    lots = cmc.lots.lots
    return {
        "columns": list(cmc.lots.columns),
        "n": len(lots),
        "n_clinical": sum(1 for lot in lots if lot.clinical),
    }


def _spec_rows(
    cmc: LoadedCmc, material: str, tests: dict[str, Any], figures: dict[str, str]
) -> list[dict[str, Any]]:
    """One row per test of `material`: the test, its attribute, method, criterion in force,
    analysis, figure and qualitative results."""
    plain = functools.partial(to_plain, text=md_escape)
    product = cmc.product
    attributes = {a.id: a for a in cmc.framework.attributes}
    methods = {m.id: m for m in product.methods}
    out = []
    for spec in product.specifications:
        if spec.material != material:
            continue
        crit, crit_gate = effective_criterion(spec, product.stage)
        texts = [lt.texts[spec.id] for lt in cmc.lots.lots if spec.id in lt.texts]
        attribute = attributes.get(spec.attribute)
        method = methods.get(spec.method)
        out.append(
            {
                "spec": plain(spec),
                "attribute": plain(attribute) if attribute is not None else None,
                "method": plain(method) if method is not None else None,
                "criterion": plain(crit),
                "criterion_gate": crit_gate,
                "analysis": tests[spec.id],
                "figure": figures.get(spec.id),
                "n_text": len(texts),
                "text_results": sorted({md_literal(t) for t in texts}),
            }
        )
    return out


def _material_helpers(
    cmc: LoadedCmc, tests: dict[str, Any], figures: dict[str, str]
) -> dict[str, Any]:
    """`specs_for(material)` and `batch_analyses(material)` for the templates, computed once."""
    plain = functools.partial(to_plain, text=md_escape)
    # lot data is data, not prose: nothing in a CSV cell may become Markdown markup
    lot_data = functools.partial(to_plain, text=md_literal)
    materials = ("drug_substance", "drug_product")
    spec_rows = {m: _spec_rows(cmc, m, tests, figures) for m in materials}
    batches: dict[str, dict[str, Any]] = {
        m: to_plain(batch_analyses(cmc.product, cmc.lots, m, plain, lot_data, fmt))
        for m in materials
    }

    @template_helper
    def specs_for(material: str) -> list[dict[str, Any]]:
        return spec_rows[material]

    @template_helper
    def batch_analyses_of(material: str) -> dict[str, Any]:
        return batches[material]

    return {"specs_for": specs_for, "batch_analyses": batch_analyses_of}


def _analysis(resolved: ResolvedProtocol, cmc: LoadedCmc) -> CmcAnalysis:
    """`analyse_cmc`, cached on disk by the bytes of every CMC input (scipy is slow to load)."""
    digest = hashlib.sha256()
    for path in input_files(resolved):
        digest.update(str(path).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return cached(
        "cmc-analysis",
        digest.hexdigest(),
        functools.partial(analyse_cmc, cmc.framework, cmc.product, cmc.lots),
    )
