"""CMC analytics: proposed limits from lots, clinical coverage, stage-gate readiness and the
specification lifecycle plan. Pure functions of the loaded inputs; no prose (templates word it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.analysis.defaults import DEFAULT_MIN_LOTS
from generator.analysis.tolerance import LimitsProposal, propose_limits
from generator.cmc.lots import Lot, LotTable
from generator.models.cmc import (
    GATES,
    METHOD_STATUS_ORDER,
    AnalyticalMethod,
    Attribute,
    CmcFramework,
    CmcProduct,
    Criterion,
    Gate,
    GateExpectation,
    Specification,
)

SIDE_OF = {"NLT": "lower", "NMT": "upper", "range": "two-sided"}


def next_gate(gate: Gate) -> Gate:
    i = GATES.index(gate)
    return GATES[min(i + 1, len(GATES) - 1)]


def gates_through(gate: Gate) -> tuple[Gate, ...]:
    return GATES[: GATES.index(gate) + 1]


def effective_criterion(spec: Specification, gate: Gate) -> tuple[Criterion | None, Gate | None]:
    """The criterion in force at `gate`: its own, else carried forward from the latest earlier gate."""
    for g in reversed(gates_through(gate)):
        if g in spec.stages:
            return spec.stages[g], g
    return None, None


def method_rank(status: str) -> int:
    return METHOD_STATUS_ORDER.index(status)


@dataclass(frozen=True)
class LotPoint:
    lot_id: str
    date: str
    value: float
    censored: bool
    clinical: bool
    process_version: str
    site: str


@dataclass(frozen=True)
class Coverage:
    """How much of a proposed range the clinical lots span (seed 004: approval follows clinical data)."""

    basis: str  # "proposed" or "specification"
    range_lower: float
    range_upper: float
    clinical_lower: float | None
    clinical_upper: float | None
    fraction: float
    threshold: float
    unsupported: tuple[tuple[float, float], ...]

    @property
    def narrow(self) -> bool:
        return self.fraction < self.threshold


@dataclass(frozen=True)
class TestAnalysis:
    spec: Specification
    attribute: Attribute | None
    numeric: bool
    side: str
    planning_gate: str
    min_lots: int
    points: tuple[LotPoint, ...]
    excluded: tuple[str, ...]
    proposal: LimitsProposal | None
    coverage: Coverage | None
    coverage_relevant: bool = False
    """True when the planning gate expects a data-derived limit, so narrow coverage matters."""

    @property
    def flag_coverage(self) -> bool:
        return self.coverage_relevant and self.coverage is not None and self.coverage.narrow

    @property
    def n_censored(self) -> int:
        return sum(1 for p in self.points if p.censored)

    @property
    def n(self) -> int:
        return len(self.points)

    @property
    def n_clinical(self) -> int:
        return sum(1 for p in self.points if p.clinical)

    @property
    def outcome(self) -> str:
        if not self.numeric:
            return "qualitative"
        if self.proposal is None:
            return "no-data"
        return self.proposal.outcome

    @property
    def interval(self) -> tuple[float | None, float | None]:
        """The proposed tolerance-interval limits (computed for n >= 2), else (None, None)."""
        if self.proposal is None:
            return None, None
        for lim in self.proposal.limits:
            if lim.method == "tolerance-interval":
                return lim.lower, lim.upper
        return None, None


def _side(spec: Specification, attribute: Attribute | None, gate: Gate) -> str:
    for g in (gate, *reversed(GATES)):
        crit, _ = effective_criterion(spec, g)
        if crit is not None and crit.comparator in SIDE_OF:
            return SIDE_OF[crit.comparator]
    if attribute is not None and attribute.direction in SIDE_OF:
        return SIDE_OF[attribute.direction]
    return "two-sided"


def coverage_of(
    points: tuple[LotPoint, ...],
    lower: float | None,
    upper: float | None,
    *,
    basis: str,
    threshold: float,
) -> Coverage | None:
    """Fraction of the range [lower, upper] that clinical lots support (None without clinical lots).

    Two-sided: the clinical span (min to max of clinical lots, clipped to the range) over the
    range. One-sided: the open side is closed at the most extreme lot of all lots (NLT L gives
    [L, max]), and clinical support is measured from that far end towards the limit only, so
    the fraction is (max - clinical min) / (max - L) for NLT and (clinical max - min) / (U - min)
    for NMT. The unsupported parts are the pieces of the range no clinical lot reached.
    """
    if not points or (lower is None and upper is None):
        return None
    values = [p.value for p in points]
    lo = lower if lower is not None else min(values)
    hi = upper if upper is not None else max(values)
    if hi <= lo:
        return None
    clinical = [p.value for p in points if p.clinical]
    if not clinical:
        return None  # nothing to compare yet (e.g. before the first clinical lot)
    c_lo = max(min(clinical), lo) if lower is not None else lo
    c_hi = min(max(clinical), hi) if upper is not None else hi
    span = max(0.0, c_hi - c_lo)
    gaps: list[tuple[float, float]] = []
    if c_lo > lo:
        gaps.append((lo, c_lo))
    if c_hi < hi:
        gaps.append((c_hi, hi))
    return Coverage(
        basis, lo, hi, min(clinical), max(clinical), span / (hi - lo), threshold, tuple(gaps)
    )


def analyse_test(
    spec: Specification,
    attribute: Attribute | None,
    lots: LotTable,
    product: CmcProduct,
    framework: CmcFramework,
) -> TestAnalysis:
    numeric = attribute is not None and attribute.result_type == "numeric"
    planning = next_gate(product.stage)
    expectation = attribute.expectations.get(planning) if attribute else None
    min_lots = (expectation.min_lots_for_limit if expectation else None) or DEFAULT_MIN_LOTS
    side = _side(spec, attribute, planning)
    excluded = set(product.lots.exclude)
    points = tuple(
        _point(lot, spec.id)
        for lot in sorted(lots.lots, key=lambda lt: (lt.date, lt.lot_id))
        if spec.id in lot.results and lot.lot_id not in excluded
    )
    skipped = tuple(
        sorted(lt.lot_id for lt in lots.lots if lt.lot_id in excluded and spec.id in lt.results)
    )
    proposal: LimitsProposal | None = None
    coverage: Coverage | None = None
    if numeric and points:
        proposal = propose_limits(
            [p.value for p in points],
            side=side,
            coverage=framework.analysis.coverage,
            confidence=framework.analysis.confidence,
            min_lots_for_numeric_limit=min_lots,
        )
        threshold = framework.analysis.clinical_coverage_threshold
        ti = next((lim for lim in proposal.limits if lim.method == "tolerance-interval"), None)
        crit, _ = effective_criterion(spec, planning)
        if crit is not None and crit.is_numeric:
            lo, hi = crit.limits
            coverage = coverage_of(points, lo, hi, basis="specification", threshold=threshold)
        elif proposal.outcome == "numeric-limits" and ti is not None:
            coverage = coverage_of(
                points, ti.lower, ti.upper, basis="proposed", threshold=threshold
            )
    return TestAnalysis(
        spec=spec,
        attribute=attribute,
        numeric=numeric,
        side=side,
        planning_gate=planning,
        min_lots=min_lots,
        points=points,
        excluded=skipped,
        proposal=proposal,
        coverage=coverage,
        coverage_relevant=expectation is not None
        and expectation.criterion == "limit-required"
        and expectation.min_lots_for_limit is not None,
    )


def _point(lot: Lot, test: str) -> LotPoint:
    r = lot.results[test]
    return LotPoint(
        lot.lot_id, lot.date, r.value, r.censored, lot.clinical, lot.process_version, lot.site
    )


# --------------------------------------------------------------------------------------------
# Stage-gate readiness
# --------------------------------------------------------------------------------------------

MET, MISSING, AT_RISK = "met", "missing", "at-risk"


@dataclass(frozen=True)
class ReadinessItem:
    """One test (or process change) at one gate. `reasons` are codes the template words."""

    gate: str
    subject: str  # spec id, attribute id or process change id
    title: str
    kind: str  # "test", "attribute", "process-change"
    status: str
    reasons: tuple[str, ...]
    expectation: GateExpectation | None = None
    criterion: Criterion | None = None
    criterion_gate: str | None = None
    method_status: str | None = None
    n_lots: int = 0


@dataclass(frozen=True)
class GateReadiness:
    gate: str
    title: str
    items: tuple[ReadinessItem, ...]

    @property
    def status(self) -> str:
        states = {i.status for i in self.items}
        if MISSING in states:
            return MISSING
        if AT_RISK in states:
            return AT_RISK
        return MET

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def counts(self) -> dict[str, int]:
        """Items by status, for templates (which read data, not methods)."""
        return {state: self.count(state) for state in (MET, MISSING, AT_RISK)}


def _method_ok_through(method: AnalyticalMethod | None) -> bool:
    return method is None or all(v.bridging_study for v in method.history[1:])


def readiness(
    framework: CmcFramework,
    product: CmcProduct,
    tests: dict[str, TestAnalysis],
) -> tuple[GateReadiness, ...]:
    attributes = {a.id: a for a in framework.attributes}
    methods = {m.id: m for m in product.methods}
    specified = {s.attribute for s in product.specifications}
    result: list[GateReadiness] = []
    for gate in framework.gates:
        items: list[ReadinessItem] = []
        for spec in product.specifications:
            attr = attributes.get(spec.attribute)
            if attr is None:
                continue
            exp = attr.expectations[gate.id]
            crit, crit_gate = effective_criterion(spec, gate.id)
            method = methods.get(spec.method)
            status_now = method.current.status if method else None
            analysis = tests.get(spec.id)
            n = analysis.n if analysis else 0
            missing: list[str] = []
            risk: list[str] = []
            if exp.criterion == "limit-required" and (
                crit is None or crit.comparator == "report-results"
            ):
                missing.append("criterion-missing")
            if status_now is None or method_rank(status_now) < method_rank(exp.method_status):
                missing.append("method-below-expected")
            if not _method_ok_through(method):
                missing.append("method-transition-unbridged")
            if (
                crit is not None
                and crit.is_numeric
                and exp.min_lots_for_limit
                and n < exp.min_lots_for_limit
            ):
                risk.append("few-lots-for-limit")
            if (
                crit is not None
                and crit.is_numeric
                and analysis is not None
                and analysis.coverage is not None
                and analysis.coverage.narrow
                and exp.criterion == "limit-required"
                and exp.min_lots_for_limit is not None
            ):
                risk.append("narrow-clinical-coverage")
            if attr.evidence.value == "needs-verification":
                risk.append("expectation-needs-verification")
            status = MISSING if missing else AT_RISK if risk else MET
            items.append(
                ReadinessItem(
                    gate=gate.id,
                    subject=spec.id,
                    title=spec.title,
                    kind="test",
                    status=status,
                    reasons=tuple(missing + risk),
                    expectation=exp,
                    criterion=crit,
                    criterion_gate=crit_gate,
                    method_status=status_now,
                    n_lots=n,
                )
            )
        for attr in framework.attributes:
            if attr.id in specified or attr.id in product.not_applicable:
                continue
            if not attr.applies_to(product.process.uses):
                continue
            exp = attr.expectations[gate.id]
            if exp.criterion == "limit-required":
                items.append(
                    ReadinessItem(
                        gate.id,
                        attr.id,
                        attr.title,
                        "attribute",
                        MISSING,
                        ("attribute-not-in-specification",),
                        exp,
                    )
                )
        for change in product.process_changes:
            if GATES.index(change.before_gate) > GATES.index(gate.id):
                continue
            plan = change.comparability
            reasons: list[str] = []
            if plan.status != "complete":
                reasons.append("comparability-not-complete")
            if GATES.index(change.before_gate) >= GATES.index("bla"):
                reasons.append("change-after-pivotal-start")
            state = MET
            if reasons:
                state = (
                    MISSING
                    if change.before_gate == gate.id and plan.status == "planned"
                    else AT_RISK
                )
            items.append(
                ReadinessItem(
                    gate.id, change.id, change.title, "process-change", state, tuple(reasons)
                )
            )
        result.append(GateReadiness(gate.id, gate.title, tuple(items)))
    return tuple(result)


# --------------------------------------------------------------------------------------------
# Specification lifecycle plan
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifecycleCell:
    gate: str
    criterion: Criterion | None
    given: bool  # written for this gate in cmc.yaml (else carried or planned)
    carried_from: str | None
    expectation: GateExpectation
    method_expected: str
    proposed_lower: float | None = None
    proposed_upper: float | None = None
    proposal_outcome: str | None = None


@dataclass(frozen=True)
class LifecycleRow:
    spec: Specification
    attribute: Attribute | None
    method: AnalyticalMethod | None
    cells: tuple[LifecycleCell, ...] = field(default_factory=tuple)


def lifecycle(
    framework: CmcFramework,
    product: CmcProduct,
    tests: dict[str, TestAnalysis],
) -> tuple[LifecycleRow, ...]:
    attributes = {a.id: a for a in framework.attributes}
    methods = {m.id: m for m in product.methods}
    rows: list[LifecycleRow] = []
    for spec in product.specifications:
        attr = attributes.get(spec.attribute)
        if attr is None:
            continue
        cells: list[LifecycleCell] = []
        analysis = tests.get(spec.id)
        for gate in GATES:
            crit, crit_gate = effective_criterion(spec, gate)
            exp = attr.expectations[gate]
            lo: float | None = None
            hi: float | None = None
            outcome: str | None = None
            if (
                analysis is not None
                and analysis.proposal is not None
                and gate == analysis.planning_gate
                and gate not in spec.stages
                and exp.criterion == "limit-required"
                and exp.min_lots_for_limit is not None
            ):
                lo, hi = analysis.interval
                outcome = analysis.proposal.outcome
            cells.append(
                LifecycleCell(
                    gate=gate,
                    criterion=crit,
                    given=gate in spec.stages,
                    carried_from=crit_gate if crit_gate != gate else None,
                    expectation=exp,
                    method_expected=exp.method_status,
                    proposed_lower=lo,
                    proposed_upper=hi,
                    proposal_outcome=outcome,
                )
            )
        rows.append(LifecycleRow(spec, attr, methods.get(spec.method), tuple(cells)))
    return tuple(rows)


@dataclass(frozen=True)
class CmcAnalysis:
    tests: dict[str, TestAnalysis]
    readiness: tuple[GateReadiness, ...]
    lifecycle: tuple[LifecycleRow, ...]


def analyse_cmc(framework: CmcFramework, product: CmcProduct, lots: LotTable) -> CmcAnalysis:
    attributes = {a.id: a for a in framework.attributes}
    tests = {
        spec.id: analyse_test(spec, attributes.get(spec.attribute), lots, product, framework)
        for spec in product.specifications
    }
    return CmcAnalysis(
        tests, readiness(framework, product, tests), lifecycle(framework, product, tests)
    )
