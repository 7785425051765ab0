"""CMC analytics: proposed limits from lots, clinical coverage, stage-gate readiness and the
specification lifecycle plan. Pure functions of the loaded inputs; no prose (templates word it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generator.analysis.defaults import DEFAULT_MIN_LOTS
from generator.analysis.tolerance import LimitsProposal, propose_limits
from generator.cmc.lots import Lot, LotTable
from generator.models.cmc import (
    GATES,
    METHOD_STATUS_ORDER,
    AnalyticalMethod,
    Attribute,
    BridgingStudy,
    CmcFramework,
    CmcProduct,
    Criterion,
    Gate,
    GateExpectation,
    PhysicalRange,
    Specification,
)

if TYPE_CHECKING:
    from generator.cmc.comparability import ComparabilityOutcome

SIDE_OF = {"NLT": "lower", "NMT": "upper", "range": "two-sided"}


def next_gate(gate: Gate) -> Gate:
    i = GATES.index(gate)
    return GATES[min(i + 1, len(GATES) - 1)]


def gates_through(gate: Gate) -> tuple[Gate, ...]:
    return GATES[: GATES.index(gate) + 1]


def target_gate(stage: Gate) -> Gate:
    """The gate proposals are made for: the next one while developing (IND -> pivotal ->
    BLA), the gate itself from BLA on (`stage: bla` means the commercial specification)."""
    return stage if GATES.index(stage) >= GATES.index("bla") else next_gate(stage)


def criterion_in_force(
    spec: Specification, stage: Gate, date: str
) -> tuple[Criterion | None, Gate | None]:
    """The criterion a lot released on `date` was tested against.

    A criterion with an `effective` date applies from that date; one without applies to every
    lot once its gate has been passed (the gates before `stage`; IND while preparing it)."""
    passed = GATES[: max(1, GATES.index(stage))]
    found: tuple[Criterion | None, Gate | None] = (None, None)
    for gate in GATES:
        crit = spec.stages.get(gate)
        if crit is None:
            continue
        if (crit.effective is not None and crit.effective <= date) or (
            crit.effective is None and gate in passed
        ):
            found = (crit, gate)
    return found


def effective_criterion(spec: Specification, gate: Gate) -> tuple[Criterion | None, Gate | None]:
    """The criterion in force at `gate`: its own, else carried forward from the latest earlier gate."""
    for g in reversed(gates_through(gate)):
        if g in spec.stages:
            return spec.stages[g], g
    return None, None


def method_rank(status: str) -> int:
    return METHOD_STATUS_ORDER.index(status)


# Why a lot's result is not used for limit-setting ("" = used).
USED = ""
NOT_USED = (
    "non-clinical",  # engineering or other non-clinical lot: shown, not used
    "earlier-process",  # a process version not joined to the current one by comparability
    "method-version",  # a method version not bridged as equivalent to the current one
    "other-unit",  # a method version reporting in another unit: never pooled, not plotted
    "out-of-specification",  # failed the criterion in force at release, no investigation
    "investigation",  # failed it, with a documented investigation
)


@dataclass(frozen=True)
class LotPoint:
    lot_id: str
    date: str
    value: float
    censored: bool
    clinical: bool
    process_version: str
    site: str
    method_version: str = ""
    use: str = USED
    shift: float = 0.0
    """Added to the reported result to put it on the current method version's scale."""

    @property
    def used(self) -> bool:
        return self.use == USED


@dataclass(frozen=True)
class OutOfSpecification:
    """A lot result outside the criterion in force when the lot was released."""

    lot_id: str
    line: int
    test: str
    result: str
    criterion: Criterion
    gate: str
    clinical: bool
    investigation: str | None


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
    planning_gate: Gate
    min_lots: int
    points: tuple[LotPoint, ...]
    excluded: tuple[str, ...]
    proposal: LimitsProposal | None
    coverage: Coverage | None
    coverage_relevant: bool = False
    """True when the planning gate expects a data-derived limit of a quality or process
    attribute (never an impurity or safety limit), so narrow coverage matters."""
    basis: str = "lot-data"
    verdict: str = "no-data"
    """'numeric-limits', 'report-results', 'not-enough-data' (the interval leaves the physical
    range), 'insufficient-uncensored-data', 'no-data', 'qualitative', or the basis of a limit
    not proposed from lots ('compendial', 'safety', 'protocol')."""
    limits: tuple[float | None, float | None] = (None, None)
    """The usable proposed limits: the tolerance interval clipped to the physical range."""
    safety_limit: float | None = None
    """K/M endotoxin limit (EU/mL) where cmc.yaml gives its inputs."""
    from_lots: tuple[float | None, float | None] = (None, None)
    """The clipped tolerance interval before it is held at the criterion in force."""
    held: bool = False
    """True when the interval would loosen the criterion in force, which the proposal keeps."""

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
    def n_used(self) -> int:
        """Results behind the proposal: uncensored, clinical, current process and method."""
        return sum(1 for p in self.points if p.used and not p.censored)

    @property
    def n_shifted(self) -> int:
        """Results moved onto the current method's scale by a bridging correction."""
        return sum(1 for p in self.points if p.shift)

    @property
    def n_used_censored(self) -> int:
        return sum(1 for p in self.points if p.used and p.censored)

    @property
    def not_used(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(reason, lot ids) left out of limit-setting, in the order of `NOT_USED`."""
        by_reason = ((r, tuple(p.lot_id for p in self.points if p.use == r)) for r in NOT_USED)
        return tuple((r, ids) for r, ids in by_reason if ids)

    @property
    def outcome(self) -> str:
        return "qualitative" if not self.numeric else self.verdict

    @property
    def interval(self) -> tuple[float | None, float | None]:
        """The usable proposed limits, else (None, None): never an impossible number."""
        return self.limits


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


def version_on(method: AnalyticalMethod, lot: Lot, test: str) -> str:
    """The method version of a lot's result: the CSV's, else the one in force on its date."""
    given = lot.method_versions.get(test)
    if given:
        return given
    in_force = [v.version for v in method.history if v.introduced <= lot.date]
    return in_force[-1] if in_force else method.history[0].version


def poolable_versions(
    method: AnalyticalMethod, studies: list[BridgingStudy], unit: str | None
) -> dict[str, float | None]:
    """Versions whose results pool with the current one, with the shift that brings each onto
    the current scale; None marks a version in another unit (never pooled, never plotted).

    Walking back from the current version, each step needs a bridging study of this method
    concluding 'equivalent' between two versions that report in the same unit."""
    equivalent = {
        (b.from_version, b.to_version): b
        for b in studies
        if b.method == method.id and b.conclusion == "equivalent"
    }
    history = method.history
    pool: dict[str, float | None] = {history[-1].version: 0.0}
    shift = 0.0
    for i in range(len(history) - 1, 0, -1):
        newer, older = history[i], history[i - 1]
        study = equivalent.get((older.version, newer.version))
        if study is None or (older.unit or unit) != (newer.unit or unit):
            break
        if study.correction == "add-mean-difference" and study.mean_difference is not None:
            shift += study.mean_difference  # mean difference is new - old
        pool[older.version] = shift
    current_unit = method.current.unit or unit
    for v in history:
        if (v.unit or unit) != current_unit:
            pool[v.version] = None
    return pool


def commercial_versions(product: CmcProduct) -> set[str]:
    """The current process version and earlier ones joined to it by completed comparability."""
    current = product.process.versions[-1].id
    joined = {current}
    changed = True
    while changed:
        changed = False
        for c in product.process_changes:
            if (
                c.to_version in joined
                and c.from_version not in joined
                and c.comparability.status == "complete"
            ):
                joined.add(c.from_version)
                changed = True
    return joined


def _conforms(result: str, expected: str) -> bool:
    def norm(text: str) -> str:
        return " ".join(text.lower().rstrip(".").split())

    r, e = norm(result), norm(expected)
    return r == e or e.split(" (")[0] == r


def _insertion_point(text: str) -> bool:
    """An unfilled `<...>` of a starter file: open (`check --release` counts it), not a
    criterion a result can fail."""
    stripped = text.strip()
    return stripped.startswith("<") and stripped.endswith(">")


def _outside(value: float, censored: bool, crit: Criterion) -> bool:
    lo, hi = crit.limits
    if censored:  # '<x' fails NLT L when x <= L, and cannot show NMT U when x > U
        return (lo is not None and value <= lo) or (hi is not None and value > hi)
    return (lo is not None and value < lo) or (hi is not None and value > hi)


def out_of_specification(product: CmcProduct, lots: LotTable) -> tuple[OutOfSpecification, ...]:
    """Every lot result outside the criterion in force when the lot was released."""
    records = {(i.lot, i.test): i.id for i in product.investigations}
    excluded = set(product.lots.exclude)
    found: list[OutOfSpecification] = []
    for lot in sorted(lots.lots, key=lambda lt: (lt.date, lt.lot_id)):
        if lot.lot_id in excluded:
            continue
        for spec in product.specifications:
            crit, gate = criterion_in_force(spec, product.stage, lot.release_day)
            if crit is None or gate is None or crit.reports_only:
                continue
            if spec.id in lot.results and crit.is_numeric:
                r = lot.results[spec.id]
                bad, shown = _outside(r.value, r.censored, crit), r.display.replace("&lt;", "<")
            elif (
                spec.id in lot.texts
                and crit.comparator == "text"
                and crit.text
                and not _insertion_point(crit.text)
            ):
                shown = lot.texts[spec.id]
                bad = not _conforms(shown, crit.text)
            else:
                continue
            if bad:
                found.append(
                    OutOfSpecification(
                        lot.lot_id,
                        lot.line,
                        spec.id,
                        shown,
                        crit,
                        gate,
                        lot.clinical,
                        records.get((lot.lot_id, spec.id)),
                    )
                )
    return tuple(found)


def limit_basis(spec: Specification, attribute: Attribute | None) -> str:
    if spec.basis is not None:
        return spec.basis
    return attribute.limit_basis if attribute is not None else "lot-data"


def physical_range(spec: Specification, attribute: Attribute | None) -> PhysicalRange:
    if spec.physical_range is not None:
        return spec.physical_range
    return attribute.physical_range if attribute is not None else PhysicalRange()


def _lot_points(
    spec: Specification,
    product: CmcProduct,
    lots: LotTable,
    oos: tuple[OutOfSpecification, ...],
) -> tuple[tuple[LotPoint, ...], tuple[str, ...]]:
    """Every result of the test as a point marked used or why not, and the excluded lot ids."""
    excluded = set(product.lots.exclude)
    method = next((m for m in product.methods if m.id == spec.method), None)
    pool = poolable_versions(method, product.bridging_studies, spec.unit) if method else {"": 0.0}
    processes = commercial_versions(product)
    failed = {o.lot_id: o for o in oos if o.test == spec.id}
    points: list[LotPoint] = []
    for lot in sorted(lots.lots, key=lambda lt: (lt.date, lt.lot_id)):
        if spec.id not in lot.results or lot.lot_id in excluded:
            continue
        r = lot.results[spec.id]
        version = version_on(method, lot, spec.id) if method else ""
        shift = pool.get(version, 0.0) if version in pool else None
        use = USED
        if version in pool and pool[version] is None:
            use = "other-unit"
        elif lot.lot_id in failed:
            use = "investigation" if failed[lot.lot_id].investigation else "out-of-specification"
        elif version not in pool:
            use = "method-version"
        elif not lot.clinical:
            use = "non-clinical"
        elif lot.process_version not in processes:
            use = "earlier-process"
        value = r.value + (shift or 0.0)
        points.append(
            LotPoint(
                lot.lot_id,
                lot.date,
                value,
                r.censored,
                lot.clinical,
                lot.process_version,
                lot.site,
                version,
                use,
                shift or 0.0,
            )
        )
    skipped = tuple(
        sorted(lt.lot_id for lt in lots.lots if lt.lot_id in excluded and spec.id in lt.results)
    )
    return tuple(points), skipped


def _verdict(
    proposal: LimitsProposal | None,
    side: str,
    bounds: PhysicalRange,
    n_censored: int,
    min_lots: int,
) -> tuple[str, tuple[float | None, float | None]]:
    """The proposal's outcome and its usable limits, clipped to the physical range."""
    if proposal is None:
        return ("insufficient-uncensored-data" if n_censored else "no-data"), (None, None)
    if n_censored and proposal.n < min_lots:
        return "insufficient-uncensored-data", (None, None)
    if proposal.outcome != "numeric-limits":
        return proposal.outcome, (None, None)
    ti = next(lim for lim in proposal.limits if lim.method == "tolerance-interval")
    lo, hi = ti.lower, ti.upper

    def outside(x: float | None) -> bool:
        return x is not None and (
            (bounds.lower is not None and x < bounds.lower)
            or (bounds.upper is not None and x > bounds.upper)
        )

    # a one-sided limit outside what a result can be, or both sides of a range: too few data
    if (side == "lower" and outside(lo)) or (side == "upper" and outside(hi)):
        return "not-enough-data", (None, None)
    if side == "two-sided" and outside(lo) and outside(hi):
        return "not-enough-data", (None, None)
    if lo is not None and bounds.lower is not None:
        lo = max(lo, bounds.lower)
    if hi is not None and bounds.upper is not None:
        hi = min(hi, bounds.upper)
    return "numeric-limits", (lo, hi)


def analyse_test(
    spec: Specification,
    attribute: Attribute | None,
    lots: LotTable,
    product: CmcProduct,
    framework: CmcFramework,
    oos: tuple[OutOfSpecification, ...] = (),
) -> TestAnalysis:
    numeric = attribute is not None and attribute.result_type == "numeric"
    planning = target_gate(product.stage)
    expectation = attribute.expectations.get(planning) if attribute else None
    min_lots = (expectation.min_lots_for_limit if expectation else None) or DEFAULT_MIN_LOTS
    side = _side(spec, attribute, planning)
    basis = limit_basis(spec, attribute)
    points, skipped = _lot_points(spec, product, lots, oos)
    used = [p.value for p in points if p.used and not p.censored]
    n_censored = sum(1 for p in points if p.used and p.censored)
    proposal: LimitsProposal | None = None
    coverage: Coverage | None = None
    verdict = "no-data"
    limits: tuple[float | None, float | None] = (None, None)
    if numeric and used:
        proposal = propose_limits(
            used,
            side=side,
            coverage=framework.analysis.coverage,
            confidence=framework.analysis.confidence,
            min_lots_for_numeric_limit=min_lots,
        )
    from_lots: tuple[float | None, float | None] = (None, None)
    held = False
    if numeric and basis == "lot-data":
        bounds = physical_range(spec, attribute)
        verdict, from_lots = _verdict(proposal, side, bounds, n_censored, min_lots)
        limits, held = _never_looser(from_lots, effective_criterion(spec, product.stage)[0])
    elif numeric:
        verdict = basis
    if numeric and points:
        threshold = framework.analysis.clinical_coverage_threshold
        pooled = tuple(p for p in points if p.use in (USED, "non-clinical"))
        crit, _ = effective_criterion(spec, planning)
        if crit is not None and crit.is_numeric:
            lo, hi = crit.limits
            coverage = coverage_of(pooled, lo, hi, basis="specification", threshold=threshold)
        elif verdict == "numeric-limits":
            coverage = coverage_of(
                pooled, limits[0], limits[1], basis="proposed", threshold=threshold
            )
    explore = (
        basis == "lot-data"
        and attribute is not None
        and not attribute.safety_limit
        and attribute.category != "impurity"
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
        coverage_relevant=explore
        and expectation is not None
        and expectation.criterion == "limit-required"
        and expectation.min_lots_for_limit is not None,
        basis=basis,
        verdict=verdict,
        limits=limits,
        safety_limit=spec.k_over_m.limit if spec.k_over_m is not None else None,
        from_lots=from_lots,
        held=held,
    )


def _never_looser(
    limits: tuple[float | None, float | None], crit: Criterion | None
) -> tuple[tuple[float | None, float | None], bool]:
    """The proposal held at the criterion in force where the lots alone would loosen it."""
    if crit is None or not crit.is_numeric:
        return limits, False
    lo, hi = limits
    c_lo, c_hi = crit.limits
    held = False
    if lo is not None and c_lo is not None and lo < c_lo:
        lo, held = c_lo, True
    if hi is not None and c_hi is not None and hi > c_hi:
        hi, held = c_hi, True
    return (lo, hi), held


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
    n_out_of_specification: int = 0
    needs_verification: bool = False
    """The framework expectation is not yet checked against its source: a note for the
    reviewer, kept apart from the product's own gaps (it never changes the status)."""


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

    @property
    def n_needs_verification(self) -> int:
        return sum(1 for i in self.items if i.needs_verification)

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def counts(self) -> dict[str, int]:
        """Items by status, for templates (which read data, not methods)."""
        return {state: self.count(state) for state in (MET, MISSING, AT_RISK)}


def bridged(method: AnalyticalMethod, j: int, studies: list[BridgingStudy]) -> bool:
    """Whether version `j` (> 0) names a bridging study of this method between version j-1
    and j; a name that is no study ('none', 'TBD') bridges nothing."""
    name = method.history[j].bridging_study
    return any(
        b.id == name
        and b.method == method.id
        and b.from_version == method.history[j - 1].version
        and b.to_version == method.history[j].version
        for b in studies
    )


def _method_ok_through(method: AnalyticalMethod | None, studies: list[BridgingStudy]) -> bool:
    return method is None or all(bridged(method, j, studies) for j in range(1, len(method.history)))


def _test_item(
    gate: Gate,
    stage: Gate,
    spec: Specification,
    attr: Attribute,
    method: AnalyticalMethod | None,
    analysis: TestAnalysis | None,
    studies: list[BridgingStudy],
    failed: int = 0,
) -> ReadinessItem:
    """One test at one gate: a gap is Missing, a risk At risk."""
    exp = attr.expectations[gate]
    crit, crit_gate = effective_criterion(spec, gate)
    status_now = method.current.status if method else None
    n = analysis.n if analysis else 0
    missing: list[str] = []
    risk: list[str] = []
    # a safety limit is never 'report results', whatever the gate allows
    needs_limit = exp.criterion == "limit-required" or attr.safety_limit
    if needs_limit and (crit is None or crit.reports_only):
        missing.append("criterion-missing")
    if status_now is None or method_rank(status_now) < method_rank(exp.method_status):
        missing.append("method-below-expected")
    if not _method_ok_through(method, studies):
        missing.append("method-transition-unbridged")
    if failed and GATES.index(gate) >= GATES.index(stage):
        missing.append("results-out-of-specification")
    numeric_limit = crit is not None and crit.is_numeric
    if numeric_limit and exp.min_lots_for_limit and n < exp.min_lots_for_limit:
        risk.append("few-lots-for-limit")
    if (
        numeric_limit
        and analysis is not None
        and analysis.coverage is not None
        and analysis.coverage.narrow
        and exp.criterion == "limit-required"
        and exp.min_lots_for_limit is not None
    ):
        risk.append("narrow-clinical-coverage")
    return ReadinessItem(
        gate=gate,
        subject=spec.id,
        title=spec.title,
        kind="test",
        status=MISSING if missing else AT_RISK if risk else MET,
        reasons=tuple(missing + risk),
        expectation=exp,
        criterion=crit,
        criterion_gate=crit_gate,
        method_status=status_now,
        n_lots=n,
        n_out_of_specification=failed,
        needs_verification=attr.evidence.value == "needs-verification",
    )


def _change_items(
    product: CmcProduct, gate: Gate, not_comparable: frozenset[str] = frozenset()
) -> list[ReadinessItem]:
    """Process changes made before `gate` or earlier: comparability complete, and (issue 13)
    not concluded 'not comparable' from its results (`not_comparable`: change ids)?"""
    items: list[ReadinessItem] = []
    for change in product.process_changes:
        if GATES.index(change.before_gate) > GATES.index(gate):
            continue
        plan = change.comparability
        reasons: list[str] = []
        if plan.status != "complete":
            reasons.append("comparability-not-complete")
        if change.id in not_comparable:
            reasons.append("not-comparable")
        if GATES.index(change.before_gate) >= GATES.index("bla"):
            reasons.append("change-after-pivotal-start")
        state = MET
        if reasons:
            planned_now = change.before_gate == gate and plan.status == "planned"
            failed = "not-comparable" in reasons
            state = MISSING if planned_now or failed else AT_RISK
        items.append(
            ReadinessItem(gate, change.id, change.title, "process-change", state, tuple(reasons))
        )
    return items


def readiness(
    framework: CmcFramework,
    product: CmcProduct,
    tests: dict[str, TestAnalysis],
    oos: tuple[OutOfSpecification, ...] = (),
    not_comparable: frozenset[str] = frozenset(),
) -> tuple[GateReadiness, ...]:
    """Each gate's items; `oos` counts against the gates from the current one on (clinical
    results out of specification with no documented investigation)."""
    attributes = {a.id: a for a in framework.attributes}
    methods = {m.id: m for m in product.methods}
    specified = {s.attribute for s in product.specifications}
    failed = Counter(o.test for o in oos if o.clinical and not o.investigation)
    result: list[GateReadiness] = []
    for gate in framework.gates:
        items = [
            _test_item(
                gate.id,
                product.stage,
                spec,
                attributes[spec.attribute],
                methods.get(spec.method),
                tests.get(spec.id),
                product.bridging_studies,
                failed[spec.id],
            )
            for spec in product.specifications
            if spec.attribute in attributes
        ]
        items += [
            ReadinessItem(
                gate.id,
                attr.id,
                attr.title,
                "attribute",
                MISSING,
                ("attribute-not-in-specification",),
                attr.expectations[gate.id],
            )
            for attr in framework.attributes
            if attr.id not in specified
            and attr.id not in product.not_applicable
            and attr.applies_to(product.process.uses)
            and attr.expectations[gate.id].criterion == "limit-required"
        ]
        items += _change_items(product, gate.id, not_comparable)
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
    proposal_carried: bool = False
    """A later gate with no criterion of its own carries the target gate's proposal."""


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
            carried = False
            target = analysis.planning_gate if analysis is not None else None
            if (
                analysis is not None
                and target is not None
                and analysis.numeric
                and analysis.basis == "lot-data"
                and target not in spec.stages
                and GATES.index(gate) >= GATES.index(target)
                and not any(
                    g in spec.stages for g in GATES[GATES.index(target) : GATES.index(gate) + 1]
                )
                and attr.expectations[target].criterion == "limit-required"
                and attr.expectations[target].min_lots_for_limit is not None
            ):
                lo, hi = analysis.interval
                outcome = analysis.outcome
                carried = gate != target
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
                    proposal_carried=carried,
                )
            )
        rows.append(LifecycleRow(spec, attr, methods.get(spec.method), tuple(cells)))
    return tuple(rows)


@dataclass(frozen=True)
class CmcAnalysis:
    tests: dict[str, TestAnalysis]
    readiness: tuple[GateReadiness, ...]
    lifecycle: tuple[LifecycleRow, ...]
    out_of_specification: tuple[OutOfSpecification, ...] = ()
    comparability: tuple[ComparabilityOutcome, ...] = ()
    """Each process change's comparability outcome (issue 13), in cmc.yaml order."""


def analyse_cmc(framework: CmcFramework, product: CmcProduct, lots: LotTable) -> CmcAnalysis:
    attributes = {a.id: a for a in framework.attributes}
    oos = out_of_specification(product, lots)
    tests = {
        spec.id: analyse_test(spec, attributes.get(spec.attribute), lots, product, framework, oos)
        for spec in product.specifications
    }
    # comparability.py reads TestAnalysis from this module: imported here, not at the top
    from generator.cmc.comparability import comparability_outcomes

    compared = comparability_outcomes(product, tests)
    failed = frozenset(c.change for c in compared if c.conclusion == "not comparable")
    return CmcAnalysis(
        tests,
        readiness(framework, product, tests, oos, failed),
        lifecycle(framework, product, tests),
        oos,
        compared,
    )
