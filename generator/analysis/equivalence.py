"""Comparability statistics: two one-sided tests (TOST) on a mean difference, quality ranges,
and the power and sample size of a two-sample TOST.

TOST (Schuirmann 1987): the post- minus pre-change mean difference is equivalent within
+/- margin at level alpha when the 100(1 - 2 alpha) % two-sided confidence interval of the
difference (pooled-variance t, df = n1 + n2 - 2) lies inside (-margin, +margin).

Exact power: with d ~ N(delta, sigma_d^2), sigma_d = sd * sqrt(1/n1 + 1/n2), and the pooled
variance s^2 ~ sd^2 chi2(df) / df independent of d, both tests reject when
-margin + t s_d < d < margin - t s_d; integrating that normal probability over the chi-square
law of the variance is the Owen's-Q formula PowerTOST calls method "exact" (Phillips 1990).
The simulated power draws (d, s^2) from the same two laws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.lazy import LazyModule

if TYPE_CHECKING:
    import numpy as np

# numpy and scipy load on first use (see generator/analysis/tolerance.py)
if not TYPE_CHECKING:
    np = LazyModule("numpy")
special: Any = LazyModule("scipy.special")
integrate: Any = LazyModule("scipy.integrate")

MAX_N_PER_GROUP = 100_000
"""Largest sample size per group searched for: beyond it the design is not a study."""


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    sd: float | None


@dataclass(frozen=True)
class EquivalenceResult:
    pre: Summary
    post: Summary
    difference: float
    """Post-change mean minus pre-change mean."""
    ci_lower: float
    ci_upper: float
    confidence: float
    margin: float
    alpha: float
    equivalent: bool


@dataclass(frozen=True)
class QualityRangeResult:
    pre: Summary
    post: Summary
    k: float
    lower: float
    upper: float
    n_within: int
    within: bool


def summary(values: Sequence[float]) -> Summary:
    n = len(values)
    mean = math.fsum(values) / n if n else math.nan
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n >= 2 else None
    return Summary(n, mean, sd)


def _check(name: str, value: float, *, low: float = 0.0, high: float = math.inf) -> float:
    v = float(value)
    if not math.isfinite(v) or not low < v < high:
        bounds = f"between {low:g} and {high:g}" if math.isfinite(high) else f"above {low:g}"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return v


def tost(
    pre: Sequence[float], post: Sequence[float], margin: float, alpha: float
) -> EquivalenceResult:
    """TOST of post - pre within +/- margin; needs at least two values on each side."""
    margin = _check("margin", margin)
    alpha = _check("alpha", alpha, high=0.5)
    a, b = summary(pre), summary(post)
    if a.sd is None or b.sd is None:
        raise ValueError("TOST needs at least two values before and after the change")
    df = a.n + b.n - 2
    pooled = math.sqrt(((a.n - 1) * a.sd**2 + (b.n - 1) * b.sd**2) / df)
    se = pooled * math.sqrt(1 / a.n + 1 / b.n)
    t = float(special.stdtrit(df, 1 - alpha))
    diff = b.mean - a.mean
    lo, hi = diff - t * se, diff + t * se
    return EquivalenceResult(
        a, b, diff, lo, hi, 1 - 2 * alpha, margin, alpha, -margin < lo and hi < margin
    )


def quality_range(pre: Sequence[float], post: Sequence[float], k: float) -> QualityRangeResult:
    """Post-change values within the pre-change mean +/- k SD (two or more pre-change values)."""
    k = _check("k", k)
    a, b = summary(pre), summary(post)
    if a.sd is None or not b.n:
        raise ValueError("a quality range needs two pre-change values and one post-change value")
    lower, upper = a.mean - k * a.sd, a.mean + k * a.sd
    n_within = sum(1 for v in post if lower <= v <= upper)
    return QualityRangeResult(a, b, k, lower, upper, n_within, n_within == b.n)


# --------------------------------------------------------------------------------------------
# Power and sample size of a two-sample TOST
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PowerInputs:
    margin: float
    difference: float
    sd: float
    alpha: float = 0.05

    def __post_init__(self) -> None:
        _check("margin", self.margin)
        _check("standard deviation", self.sd)
        _check("alpha", self.alpha, high=0.5)
        if not math.isfinite(self.difference) or abs(self.difference) >= self.margin:
            raise ValueError(
                f"the true difference must lie inside +/- margin ({self.margin:g}), "
                f"got {self.difference:g}"
            )


def _n_ok(n1: int, n2: int) -> None:
    for n in (n1, n2):
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_N_PER_GROUP:
            raise ValueError(f"group sizes must be whole numbers from 2 to {MAX_N_PER_GROUP:,}")


def power_exact(p: PowerInputs, n1: int, n2: int | None = None) -> float:
    """Exact power of the two-sample TOST with group sizes n1 and n2 (default n2 = n1)."""
    n2 = n1 if n2 is None else n2
    _n_ok(n1, n2)
    df = n1 + n2 - 2
    sigma_d = p.sd * math.sqrt(1 / n1 + 1 / n2)
    t = float(special.stdtrit(df, 1 - p.alpha))
    upper = (p.margin - p.difference) / sigma_d
    lower = (-p.margin - p.difference) / sigma_d
    # the acceptance interval closes where t * s_d reaches the margin: v beyond it adds nothing
    v_max = df * (p.margin / (t * sigma_d)) ** 2
    log_norm = (df / 2) * math.log(2) + float(special.gammaln(df / 2))

    def integrand(v: float) -> float:
        c = t * math.sqrt(v / df)
        width = float(special.ndtr(upper - c) - special.ndtr(lower + c))
        if width <= 0 or v <= 0:
            return 0.0
        return width * math.exp((df / 2 - 1) * math.log(v) - v / 2 - log_norm)

    # the chi-square mass lies within a few dozen SDs of df: integrate there, so quad sees
    # the peak at any df
    spread = 40.0 * math.sqrt(2.0 * df)
    a, b = max(0.0, df - spread), min(v_max, df + spread + 40.0)
    if b <= a:
        return 0.0
    points = [float(df)] if a < df < b else None
    value, _ = integrate.quad(integrand, a, b, points=points, epsabs=1e-13, epsrel=1e-11, limit=200)
    return min(1.0, max(0.0, float(value)))


def power_simulated(
    p: PowerInputs, n1: int, n2: int | None = None, *, runs: int = 100_000, seed: int = 1
) -> float:
    """Power of the two-sample TOST by simulating the mean difference and pooled variance."""
    n2 = n1 if n2 is None else n2
    _n_ok(n1, n2)
    if isinstance(runs, bool) or not isinstance(runs, int) or not 100 <= runs <= 10_000_000:
        raise ValueError("runs must be a whole number from 100 to 10,000,000")
    df = n1 + n2 - 2
    sigma_d = p.sd * math.sqrt(1 / n1 + 1 / n2)
    t = float(special.stdtrit(df, 1 - p.alpha))
    rng = np.random.default_rng(seed)
    d = rng.normal(p.difference, sigma_d, runs)
    s_d = sigma_d * np.sqrt(rng.chisquare(df, runs) / df)
    accept = (d - t * s_d > -p.margin) & (d + t * s_d < p.margin)
    return float(np.count_nonzero(accept)) / runs


@dataclass(frozen=True)
class SampleSize:
    n_per_group: int
    power: float
    target: float


def sample_size(p: PowerInputs, target: float = 0.8) -> SampleSize:
    """Smallest equal group size whose exact TOST power reaches `target`."""
    target = _check("target power", target, high=1.0)
    if power_exact(p, MAX_N_PER_GROUP) < target:
        raise ValueError(f"more than {MAX_N_PER_GROUP:,} per group would be needed")
    lo, hi = 1, 2
    while power_exact(p, hi) < target:  # power rises with n: double, then bisect
        lo, hi = hi, min(hi * 2, MAX_N_PER_GROUP)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mid >= 2 and power_exact(p, mid) >= target:
            hi = mid
        else:
            lo = mid
    return SampleSize(hi, power_exact(p, hi), target)
