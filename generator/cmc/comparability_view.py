"""Comparability for the templates: plain data per process change (the study, each attribute's
outcome, its figure) and the pre- vs post-change figures. No wording: templates and
templates/cmc/comparability-plot-labels.yaml hold it."""

from __future__ import annotations

from typing import Any

from generator.cmc.analytics import CmcAnalysis
from generator.cmc.comparability import AttributeOutcome, ComparabilityOutcome
from generator.cmc.comparability_plot import (
    ComparabilityPlotData,
    ComparabilityPlotLabels,
    comparability_figure,
)
from generator.cmc.loader import LoadedCmc
from generator.cmc.plots import PlotJob
from generator.load import load_yaml
from generator.paths import TEMPLATES_DIR
from generator.render import md_escape, md_literal

PLOT_LABELS_FILE = TEMPLATES_DIR / "cmc" / "comparability-plot-labels.yaml"


def figure_name(change: str, test: str) -> str:
    return f"figures/comparability-{change}-{test}"


def _plot_data(cmc: LoadedCmc, o: AttributeOutcome) -> ComparabilityPlotData:
    clinical = {lt.lot_id: lt.clinical for lt in cmc.lots.lots}
    c = o.compared
    band: tuple[float, float] | None = None
    interval: tuple[float, float] | None = None
    if o.range_lower is not None and o.range_upper is not None:
        band = (o.range_lower, o.range_upper)
    if c.margin is not None and o.pre is not None:
        band = (o.pre.mean - c.margin, o.pre.mean + c.margin)
        if o.ci_lower is not None and o.ci_upper is not None:
            interval = (o.pre.mean + o.ci_lower, o.pre.mean + o.ci_upper)
    return ComparabilityPlotData(
        tuple((v, clinical.get(lot, False)) for lot, v in o.pre_values),
        tuple((v, clinical.get(lot, False)) for lot, v in o.post_values),
        band,
        interval,
    )


def _labels(
    cmc: LoadedCmc, change: ComparabilityOutcome, o: AttributeOutcome
) -> ComparabilityPlotLabels:
    words = load_yaml(PLOT_LABELS_FILE).data
    spec = next(s for s in cmc.product.specifications if s.id == o.compared.test)
    unit = f" ({spec.unit})" if spec.unit else ""
    band = ""  # descriptive: no band on the plot
    if o.compared.margin is not None:
        band = str(words["equivalence_band"])
    elif o.compared.k is not None:
        band = str(words["quality_range"]).format(k=f"{o.compared.k:g}")
    return ComparabilityPlotLabels(
        title=spec.title,
        y_axis=f"{spec.title}{unit}",
        pre=str(words["pre"]).format(version=change.from_version),
        post=str(words["post"]).format(version=change.to_version),
        clinical=str(words["clinical"]),
        non_clinical=str(words["non_clinical"]),
        mean=str(words["mean"]),
        band=band,
        interval=str(words["interval"]).format(confidence=round((o.confidence or 0.9) * 100)),
    )


def comparability_figures(
    cmc: LoadedCmc, analysis: CmcAnalysis, jobs: list[PlotJob] | None
) -> dict[str, str]:
    """Figure paths by '<change>/<test>' for each numeric compared attribute with data on both
    sides; each figure's drawing is added to `jobs` only when it is given (a build)."""
    figures: dict[str, str] = {}
    for change in analysis.comparability:
        for o in change.attributes:
            if not o.numeric or not o.pre_values or not o.post_values:
                continue
            name = figure_name(change.change, o.compared.test)
            if jobs is not None:
                data, labels = _plot_data(cmc, o), _labels(cmc, change, o)
                jobs.append(PlotJob(name, comparability_figure, (data, labels)))
            figures[f"{change.change}/{o.compared.test}"] = f"{name}.png"
    return figures


def _attribute_row(
    cmc: LoadedCmc, change: str, o: AttributeOutcome, figures: dict[str, str]
) -> dict[str, Any]:
    specs = {s.id: s for s in cmc.product.specifications}
    spec = specs.get(o.compared.test)
    c = o.compared
    return {
        "test": c.test,
        "title": md_escape(spec.title) if spec else c.test,
        "unit": md_escape(spec.unit) if spec and spec.unit else "",
        "tier": c.tier,
        "acceptance": c.acceptance,
        "margin": c.margin,
        "alpha": c.alpha,
        "k": c.k,
        "justification": md_escape(c.justification) if c.justification else None,
        "numeric": o.numeric,
        "pre_n": o.pre.n if o.pre else 0,
        "pre_mean": o.pre.mean if o.pre else None,
        "pre_sd": o.pre.sd if o.pre else None,
        "post_n": o.post.n if o.post else 0,
        "post_mean": o.post.mean if o.post else None,
        "post_sd": o.post.sd if o.post else None,
        "difference": o.difference,
        "ci_lower": o.ci_lower,
        "ci_upper": o.ci_upper,
        "confidence": o.confidence,
        "range_lower": o.range_lower,
        "range_upper": o.range_upper,
        "n_within": o.n_within,
        "outcome": o.outcome,
        "figure": figures.get(f"{change}/{c.test}"),
    }


def comparability_view(
    cmc: LoadedCmc, analysis: CmcAnalysis, figures: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Per process change id: its study as plain data for the templates."""
    view: dict[str, dict[str, Any]] = {}
    for change, o in zip(cmc.product.process_changes, analysis.comparability, strict=True):
        plan = change.comparability
        dosed = [
            lt.lot_id
            for lt in cmc.lots.lots
            if lt.clinical and lt.process_version == change.to_version
        ]
        view[change.id] = {
            "conclusion": o.conclusion,
            "reason": o.reason,
            # lot ids are data: never Markdown markup
            "pre_lots": [md_literal(lot) for lot in o.pre_lots],
            "post_lots": [md_literal(lot) for lot in o.post_lots],
            "n_pre": len(o.pre_lots) if o.pre_lots else plan.lots_pre_change,
            "n_post": len(o.post_lots) if o.post_lots else plan.lots_post_change,
            "tests": plan.tests,
            "n_dosed_post_change": len(dosed),
            "tiered": any(not isinstance(a, str) for a in plan.attributes),
            "attributes": [_attribute_row(cmc, change.id, a, figures) for a in o.attributes],
        }
    return view
