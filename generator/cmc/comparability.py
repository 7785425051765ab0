"""Comparability outcomes: each compared attribute's result from the lots of the study, and the
study's conclusion derived from them. Pure functions; templates word the outcomes.

Outcome of an attribute: 'pass' or 'fail' (equivalence, quality range), 'descriptive', or
'insufficient-data' (fewer lots with comparable results than the approach needs). Conclusion:
'not yet concluded' while the study is not complete, names no lots, leaves a formally compared
attribute without enough data, or compares none formally; else 'not comparable' when any
formally compared attribute fails and 'comparable' when all pass.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from generator.analysis.equivalence import Summary, quality_range, summary, tost
from generator.cmc.analytics import TestAnalysis, physical_range
from generator.models.cmc import CmcProduct, PhysicalRange, ProcessChange
from generator.models.cmc_comparability import ComparabilityConclusion, ComparedAttribute

# results on the current method's scale: pooled versions only (never another unit or an
# unbridged version)
_COMPARABLE_USES = frozenset(
    {"", "non-clinical", "earlier-process", "out-of-specification", "investigation"}
)


@dataclass(frozen=True)
class AttributeOutcome:
    compared: ComparedAttribute
    numeric: bool
    pre_values: tuple[tuple[str, float], ...]
    post_values: tuple[tuple[str, float], ...]
    pre: Summary | None
    post: Summary | None
    outcome: str
    difference: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    confidence: float | None = None
    range_lower: float | None = None
    range_upper: float | None = None
    n_within: int | None = None


@dataclass(frozen=True)
class ComparabilityOutcome:
    change: str
    from_version: str
    to_version: str
    pre_lots: tuple[str, ...]
    post_lots: tuple[str, ...]
    attributes: tuple[AttributeOutcome, ...]
    conclusion: ComparabilityConclusion
    reason: str
    """Why the conclusion is what it is: 'all-pass', 'failed', 'not-complete', 'no-lots',
    'insufficient-data' or 'descriptive-only'."""


def _values(analysis: TestAnalysis | None, lots: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    if analysis is None or not analysis.numeric:
        return ()
    by_lot = {p.lot_id: p.value for p in analysis.points if p.use in _COMPARABLE_USES}
    return tuple((lot, by_lot[lot]) for lot in lots if lot in by_lot)


def attribute_outcome(
    compared: ComparedAttribute,
    analysis: TestAnalysis | None,
    pre_lots: tuple[str, ...],
    post_lots: tuple[str, ...],
) -> AttributeOutcome:
    numeric = analysis is not None and analysis.numeric
    pre_v, post_v = _values(analysis, pre_lots), _values(analysis, post_lots)
    pre = summary([v for _, v in pre_v]) if pre_v else None
    post = summary([v for _, v in post_v]) if post_v else None
    base = AttributeOutcome(compared, numeric, pre_v, post_v, pre, post, "descriptive")
    pre_x, post_x = [v for _, v in pre_v], [v for _, v in post_v]
    if compared.acceptance == "equivalence" and compared.margin is not None:
        if len(pre_x) < 2 or len(post_x) < 2:
            return replace(base, outcome="insufficient-data")
        e = tost(pre_x, post_x, compared.margin, compared.alpha)
        return replace(
            base,
            outcome="pass" if e.equivalent else "fail",
            difference=e.difference,
            ci_lower=e.ci_lower,
            ci_upper=e.ci_upper,
            confidence=e.confidence,
        )
    if compared.acceptance == "quality-range" and compared.k is not None:
        if len(pre_x) < 2 or not post_x:
            return replace(base, outcome="insufficient-data")
        q = quality_range(pre_x, post_x, compared.k)
        # the range is shown as the values a result can take (no negative copy numbers)
        bounds = physical_range(analysis.spec, analysis.attribute) if analysis else PhysicalRange()
        lower = q.lower if bounds.lower is None else max(q.lower, bounds.lower)
        upper = q.upper if bounds.upper is None else min(q.upper, bounds.upper)
        return replace(
            base,
            outcome="pass" if q.within else "fail",
            difference=post.mean - pre.mean if pre and post else None,
            range_lower=lower,
            range_upper=upper,
            n_within=q.n_within,
        )
    return base


def change_outcome(change: ProcessChange, tests: dict[str, TestAnalysis]) -> ComparabilityOutcome:
    plan = change.comparability
    pre = tuple(plan.lots_pre_change) if isinstance(plan.lots_pre_change, list) else ()
    post = tuple(plan.lots_post_change) if isinstance(plan.lots_post_change, list) else ()
    outcomes = tuple(attribute_outcome(a, tests.get(a.test), pre, post) for a in plan.compared)
    formal = [o for o in outcomes if o.compared.acceptance != "descriptive"]
    conclusion: ComparabilityConclusion = "not yet concluded"
    if plan.status != "complete":
        reason = "not-complete"
    elif not pre or not post:
        reason = "no-lots"
    elif any(o.outcome == "fail" for o in formal):
        conclusion, reason = "not comparable", "failed"
    elif any(o.outcome == "insufficient-data" for o in formal):
        reason = "insufficient-data"
    elif not formal:
        reason = "descriptive-only"
    else:
        conclusion, reason = "comparable", "all-pass"
    return ComparabilityOutcome(
        change.id, change.from_version, change.to_version, pre, post, outcomes, conclusion, reason
    )


def comparability_outcomes(
    product: CmcProduct, tests: dict[str, TestAnalysis]
) -> tuple[ComparabilityOutcome, ...]:
    return tuple(change_outcome(c, tests) for c in product.process_changes)
