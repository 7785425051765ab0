"""Shelf life from stability results, after ICH Q1E: a linear regression of each attribute on
time, batches pooled when the poolability tests allow (Q1E Appendix B), and the time where the
one-sided confidence bound of the mean crosses the acceptance criterion. The supported period
never goes beyond what the framework's extrapolation rule for the storage allows (frozen
storage: no extrapolation beyond the longest time point with data).

Models, as Q1E Appendix B and LeBlond et al. (2011) name them: 'common' (common intercept and
slope: lots pooled), 'common-slope' (separate intercepts, common slope), 'separate' (each lot
on its own; the shortest lot decides), 'single' (one lot). The poolability F tests compare the
reduced model with the full separate-lines model, over the full model's residual mean square.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.cmc.analytics import effective_criterion
from generator.cmc.stability_data import StabilityData, StabilityRow
from generator.models.cmc import CmcProduct, Gate, Specification, StabilityStudy
from generator.models.cmc_stability import ExtrapolationRule, StabilityEvaluation

if TYPE_CHECKING:
    import numpy as np
# numpy and scipy load only when results are evaluated: a cached build imports neither


def _f_sf(f: float, dfn: int, dfd: int) -> float:
    """P(F > f) of the F distribution: scipy.stats.f.sf's own function (scipy.special.fdtrc),
    called directly because scipy.stats takes a second to import on a cold build."""
    from scipy import special

    if math.isnan(f) or f == math.inf:
        return f if math.isnan(f) else 0.0
    # scipy.stats answers 1 left of the support
    return float(special.fdtrc(dfn, dfd, f)) if f > 0 else 1.0


def _t_ppf(q: float, df: float) -> float:
    """The q-quantile of Student's t: scipy.stats.t.ppf's own function (scipy.special.stdtrit)."""
    from scipy import special

    return float(special.stdtrit(df, q))


SEARCH_FACTOR = 20.0
"""The crossing is searched up to this multiple of the longest time point."""

CURVE_POINTS = 61

MONTHS_IN: dict[str, float] = {
    "months": 1.0,
    "weeks": 365.25 / 12 / 7,
    "days": 365.25 / 12,
    "hours": 365.25 / 12 * 24,
    "minutes": 365.25 / 12 * 24 * 60,
}
"""Units of each time unit in one month (for the months-based extrapolation limit)."""


@dataclass(frozen=True)
class Observation:
    lot_id: str
    time: float
    value: float
    censored: bool = False
    out_of_specification: bool = False


@dataclass(frozen=True)
class LotLine:
    lot_id: str
    intercept: float
    slope: float
    crossing: float | None


@dataclass(frozen=True)
class Curve:
    """The fitted mean and its confidence bound(s) over time, for one lot or all lots."""

    lot_id: str | None
    times: tuple[float, ...]
    mean: tuple[float, ...]
    lower: tuple[float, ...] | None
    upper: tuple[float, ...] | None


@dataclass(frozen=True)
class Fit:
    """The Q1E evaluation of one attribute in one study."""

    model: str
    p_slopes: float | None
    p_intercepts: float | None
    lines: tuple[LotLine, ...]
    crossing: float | None
    curves: tuple[Curve, ...]


@dataclass(frozen=True)
class TestEvaluation:
    test: str
    title: str
    unit: str | None
    comparator: str
    lower_limit: float | None
    upper_limit: float | None
    observations: tuple[Observation, ...]
    fit: Fit | None
    last_time: float
    extrapolation_limit: float
    supported: float
    limited_by: str
    """'criterion' (the bound crosses it first) or 'data' (the longest time point/extrapolation)."""


@dataclass(frozen=True)
class StudyEvaluation:
    study: str
    time_unit: str
    lots: tuple[str, ...]
    time_points: tuple[float, ...]
    tests: tuple[TestEvaluation, ...]
    supported: float | None
    claim: float | None
    claim_supported: bool | None
    out_of_specification: tuple[tuple[str, float, str], ...]
    """(lot, time point, test) of every numeric result outside the stability criterion."""


def evaluate_stability(
    product: CmcProduct, data: StabilityData, evaluation: StabilityEvaluation | None
) -> dict[str, StudyEvaluation]:
    """The evaluation of every study with results, by study id."""
    if evaluation is None:
        return {}
    specs = {s.id: s for s in product.specifications if "stability" in s.usage}
    out: dict[str, StudyEvaluation] = {}
    for study in product.stability:
        rows = data.rows_of(study.id)
        if rows:
            out[study.id] = _study(study, rows, specs, product.stage, evaluation)
    return out


def _study(
    study: StabilityStudy,
    rows: Sequence[StabilityRow],
    specs: dict[str, Specification],
    stage: Gate,
    evaluation: StabilityEvaluation,
) -> StudyEvaluation:
    unit = rows[0].unit
    rule = next(r for r in evaluation.extrapolation if r.storage == study.storage)
    tests: list[TestEvaluation] = []
    for spec in specs.values():
        if not any(spec.id in r.results for r in rows):
            continue
        tests.append(_test(spec, rows, stage, unit, rule, evaluation))
    evaluated = [t for t in tests if t.fit is not None or t.limited_by == "criterion"]
    supported = min((t.supported for t in evaluated), default=None)
    claim = study.claim.period if study.claim and study.claim.unit == unit else None
    if study.claim and claim is None:
        claim = study.claim.period * MONTHS_IN[unit] / MONTHS_IN[study.claim.unit]
    oos = tuple(
        (o.lot_id, o.time, t.test) for t in tests for o in t.observations if o.out_of_specification
    )
    return StudyEvaluation(
        study=study.id,
        time_unit=unit,
        lots=tuple(dict.fromkeys(r.lot_id for r in rows)),
        time_points=tuple(sorted({r.time for r in rows})),
        tests=tuple(tests),
        supported=supported,
        claim=claim,
        claim_supported=None if claim is None or supported is None else claim <= supported + 1e-9,
        out_of_specification=oos,
    )


def _test(
    spec: Specification,
    rows: Sequence[StabilityRow],
    stage: Gate,
    unit: str,
    rule: ExtrapolationRule,
    evaluation: StabilityEvaluation,
) -> TestEvaluation:
    criterion, _ = effective_criterion(spec, stage)
    lower, upper = criterion.limits if criterion is not None else (None, None)
    observations = tuple(
        Observation(
            r.lot_id,
            r.time,
            r.results[spec.id].value,
            r.results[spec.id].censored,
            (lower is not None and r.results[spec.id].value < lower)
            or (upper is not None and r.results[spec.id].value > upper),
        )
        for r in rows
        if spec.id in r.results
    )
    last = max(o.time for o in observations)
    cap = extrapolation_limit(last, rule, unit)
    fit = None
    if lower is not None or upper is not None:
        usable = [o for o in observations if not o.censored]
        fit = fit_shelf_life(
            [o.lot_id for o in usable],
            [o.time for o in usable],
            [o.value for o in usable],
            lower=lower,
            upper=upper,
            confidence=evaluation.confidence,
            alpha_pool=evaluation.poolability_alpha,
            horizon=max(cap, last) * 1.15,
        )
    crossing = fit.crossing if fit is not None else None
    supported = cap if crossing is None else min(crossing, cap)
    return TestEvaluation(
        test=spec.id,
        title=spec.title,
        unit=spec.unit,
        comparator=criterion.comparator if criterion is not None else "report-results",
        lower_limit=lower,
        upper_limit=upper,
        observations=observations,
        fit=fit,
        last_time=last,
        extrapolation_limit=cap,
        supported=supported,
        limited_by="criterion" if crossing is not None and crossing < cap else "data",
    )


def extrapolation_limit(last: float, rule: ExtrapolationRule, unit: str) -> float:
    """The longest period the data may support: factor x X, and at most X plus the extension
    (given in months, converted to the study's unit)."""
    return min(last * rule.factor, last + rule.max_extension_months * MONTHS_IN[unit])


# --------------------------------------------------------------------------------------------
# Regression (Q1E Appendix B)
# --------------------------------------------------------------------------------------------


def _design(lots: Sequence[str], times: np.ndarray, model: str) -> np.ndarray:
    import numpy as np

    names = list(dict.fromkeys(lots))
    dummies = np.array([[1.0 if lot == n else 0.0 for n in names] for lot in lots])
    if model == "common":
        return np.column_stack([np.ones(len(times)), times])
    if model == "common-slope":
        return np.column_stack([dummies, times])
    return np.column_stack([dummies, dummies * times[:, None]])


def _sse(x: np.ndarray, y: np.ndarray) -> float:
    import numpy as np

    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    return float(resid @ resid)


def choose_model(
    lots: Sequence[str], times: Sequence[float], values: Sequence[float], alpha: float
) -> tuple[str, float | None, float | None]:
    """(model, p of equal slopes, p of equal intercepts) by the Q1E Appendix B tests."""
    import numpy as np

    names = list(dict.fromkeys(lots))
    k, n = len(names), len(values)
    if k == 1:
        return "single", None, None
    t = np.asarray(times, dtype=float)
    y = np.asarray(values, dtype=float)
    df_full = n - 2 * k
    if df_full <= 0:
        return "separate", None, None
    sse_full = _sse(_design(lots, t, "separate"), y)
    mse = sse_full / df_full
    if mse <= 0:
        return "separate", None, None
    sse_cs = _sse(_design(lots, t, "common-slope"), y)
    f_slopes = (sse_cs - sse_full) / (k - 1) / mse
    p_slopes = _f_sf(f_slopes, k - 1, df_full)
    if p_slopes < alpha:
        return "separate", p_slopes, None
    sse_common = _sse(_design(lots, t, "common"), y)
    f_int = (sse_common - sse_cs) / (k - 1) / mse
    p_int = _f_sf(f_int, k - 1, df_full)
    return ("common-slope" if p_int < alpha else "common"), p_slopes, p_int


def fit_shelf_life(
    lots: Sequence[str],
    times: Sequence[float],
    values: Sequence[float],
    *,
    lower: float | None,
    upper: float | None,
    confidence: float,
    alpha_pool: float,
    horizon: float,
) -> Fit | None:
    """The earliest time the confidence bound of the mean crosses a limit (None when it does
    not within `SEARCH_FACTOR` x the longest time point). One-sided bounds for one limit,
    two-sided (each side at (1 + confidence) / 2) for a range, as Q1E section 2.2 describes."""
    import numpy as np

    if len(values) < 3 or len(set(times)) < 2:
        return None
    model, p_slopes, p_int = choose_model(lots, times, values, alpha_pool)
    level = confidence if lower is None or upper is None else (1 + confidence) / 2
    names = list(dict.fromkeys(lots))
    if model in ("separate", "single"):
        groups = [[i for i, lot in enumerate(lots) if lot == n] for n in names]
        parts = [
            _line_fit([names[j]] * len(g), [times[i] for i in g], [values[i] for i in g], "common")
            for j, g in enumerate(groups)
        ]
    else:
        parts = [_line_fit(lots, times, values, model)]
    last = max(times)
    lines: list[LotLine] = []
    curves: list[Curve] = []
    grid = np.linspace(0.0, max(horizon, last), CURVE_POINTS)
    for part in parts:
        for lot in part.lots:
            # the pooled line is every lot's line: one crossing, one curve
            pooled = model == "common"
            if not (pooled and curves):
                cross = part.crossing(lot, level, lower, upper, last * SEARCH_FACTOR)
                label = None if pooled else lot
                curves.append(part.curve(label, lot, grid, level, lower, upper))
            intercept, slope = part.line(lot)
            lines.append(LotLine(lot, intercept, slope, cross))
    crossings = [ln.crossing for ln in lines if ln.crossing is not None]
    return Fit(
        model=model,
        p_slopes=p_slopes,
        p_intercepts=p_int,
        lines=tuple(lines),
        crossing=min(crossings) if crossings else None,
        curves=tuple(curves),
    )


@dataclass(frozen=True)
class _LineFit:
    lots: tuple[str, ...]
    model: str
    beta: np.ndarray
    cov_unscaled: np.ndarray
    mse: float
    df: int

    def _row(self, lot: str, t: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.model == "common":
            return np.column_stack([np.ones(len(t)), t])
        dummies = np.array([[1.0 if lot == n else 0.0 for n in self.lots]] * len(t))
        return np.column_stack([dummies, t])

    def line(self, lot: str) -> tuple[float, float]:
        import numpy as np

        x = self._row(lot, np.array([0.0, 1.0]))
        y0, y1 = x @ self.beta
        return float(y0), float(y1 - y0)

    def bounds(
        self, lot: str, t: np.ndarray, level: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import numpy as np

        x = self._row(lot, t)
        mean = x @ self.beta
        se = np.sqrt(self.mse * np.einsum("ij,jk,ik->i", x, self.cov_unscaled, x))
        q = _t_ppf(level, self.df)
        return mean, mean - q * se, mean + q * se

    def crossing(
        self, lot: str, level: float, lower: float | None, upper: float | None, search: float
    ) -> float | None:
        """Earliest t >= 0 where the bound leaves [lower, upper], refined by bisection."""
        import numpy as np

        def outside(t: np.ndarray) -> np.ndarray:
            _, lo, hi = self.bounds(lot, t, level)
            bad = np.zeros(len(t), dtype=bool)
            if lower is not None:
                bad |= lo < lower
            if upper is not None:
                bad |= hi > upper
            return bad

        grid = np.linspace(0.0, search, 4001)
        bad = outside(grid)
        if not bad.any():
            return None
        i = int(np.argmax(bad))
        if i == 0:
            return 0.0
        a, b = float(grid[i - 1]), float(grid[i])
        for _ in range(60):
            mid = (a + b) / 2
            if outside(np.array([mid]))[0]:
                b = mid
            else:
                a = mid
        return (a + b) / 2

    def curve(
        self,
        label: str | None,
        lot: str,
        grid: np.ndarray,
        level: float,
        lower: float | None,
        upper: float | None,
    ) -> Curve:
        mean, lo, hi = self.bounds(lot, grid, level)
        return Curve(
            lot_id=label,
            times=tuple(round(float(v), 6) for v in grid),
            mean=tuple(round(float(v), 6) for v in mean),
            lower=tuple(round(float(v), 6) for v in lo) if lower is not None else None,
            upper=tuple(round(float(v), 6) for v in hi) if upper is not None else None,
        )


def _line_fit(
    lots: Sequence[str], times: Sequence[float], values: Sequence[float], model: str
) -> _LineFit:
    import numpy as np

    t = np.asarray(times, dtype=float)
    y = np.asarray(values, dtype=float)
    x = _design(lots, t, model)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    df = len(y) - x.shape[1]
    resid = y - x @ beta
    mse = float(resid @ resid) / df if df > 0 else math.nan
    return _LineFit(
        tuple(dict.fromkeys(lots)), model, beta, np.linalg.pinv(x.T @ x), mse, max(df, 1)
    )
