"""Specification statistics from few lots: normal tolerance-interval factors and limits.

k factors: two-sided exact (Krishnamoorthy & Mathew 2009; ISO 16269-6), two-sided Howe (1969)
approximation, one-sided via the noncentral t (NIST/SEMATECH e-Handbook 7.2.6.3). Proposed
limits from lot values: tolerance interval, mean +/- 3 SD, min-max, with a minimum number of
lots below which the outcome is "report results". An Anderson-Darling check goes with them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from generator.analysis.defaults import DEFAULT_MIN_LOTS, check_positive_int
from generator.lazy import LazyModule

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

SOURCE_EXACT = "iso-16269-6"
SOURCE_HOWE = "howe-1969"
SOURCE_ONE_SIDED = "nist-esh-7.2.6.3"
SOURCE_3SD = "biopharm-2006-spec-setting"
SOURCE_RANGE = "observed-range"
SOURCE_AD = "anderson-darling"

# numpy and scipy load on first use: a build whose analysis is cached never imports them.
# The distribution functions come from scipy.special (what scipy.stats calls underneath for
# these distributions: same numbers), which loads in a fraction of scipy.stats' time.
if not TYPE_CHECKING:
    np = LazyModule("numpy")
optimize: Any = LazyModule("scipy.optimize")
special: Any = LazyModule("scipy.special")

DEFAULT_MIN_N_NORMALITY = 8


class Side(StrEnum):
    TWO_SIDED = "two-sided"
    LOWER = "lower"  # NLT attribute
    UPPER = "upper"  # NMT attribute


@dataclass(frozen=True)
class KFactor:
    n: int
    coverage: float
    confidence: float
    side: str
    k: float
    method: str
    source: str


def _check_fraction(name: str, value: float) -> float:
    v = float(value)
    if math.isnan(v) or not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    return v


def _check_n(n: int) -> int:
    return check_positive_int("number of values n", n, minimum=2)


@cache
def _gauss_legendre() -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes and weights on [0, 1], reused for every k computation."""
    x, w = np.polynomial.legendre.leggauss(160)
    return 0.5 * (x + 1.0), 0.5 * w


def _r_of_z(z: FloatArray, coverage: float) -> FloatArray:
    """r solving Phi(z + r) - Phi(z - r) = coverage, elementwise (bisection, to 1e-14)."""
    lo = np.zeros_like(z)
    hi = z + 40.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        val = special.ndtr(z + mid) - special.ndtr(z - mid)
        big = val > coverage
        hi = np.where(big, mid, hi)
        lo = np.where(big, lo, mid)
    return np.asarray(0.5 * (lo + hi), dtype=np.float64)


@lru_cache(maxsize=256)
def _k_two_sided_exact(n: int, coverage: float, confidence: float) -> float:
    nu = n - 1
    # integrand decays like exp(-n z^2 / 2): integrate z over [0, 12 / sqrt(n)]
    zmax = 12.0 / math.sqrt(n)
    gl_x, gl_w = _gauss_legendre()
    z = gl_x * zmax
    w = gl_w * zmax
    r2 = _r_of_z(z, coverage) ** 2
    weight = math.sqrt(2.0 * n / math.pi) * w * np.exp(-0.5 * n * z**2)

    def conf(k: float) -> float:
        return float(np.sum(weight * special.chdtrc(nu, nu * r2 / k**2))) - confidence

    lo = float(special.ndtri(0.5 + coverage / 2.0))  # k with sigma known: confidence < 0.5
    hi = lo * 2.0
    while conf(hi) < 0:
        hi *= 2.0
        if hi > 1e6:
            raise ValueError("tolerance factor did not converge")
    return float(optimize.brentq(conf, lo * 0.5, hi, xtol=1e-12, rtol=1e-12))


def k_two_sided_exact(n: int, coverage: float = 0.99, confidence: float = 0.95) -> KFactor:
    """Exact two-sided normal tolerance factor k2 (numerical integration)."""
    n = _check_n(n)
    p = _check_fraction("coverage", coverage)
    g = _check_fraction("confidence", confidence)
    k = _k_two_sided_exact(n, p, g)
    return KFactor(n, p, g, Side.TWO_SIDED.value, k, "two-sided exact", SOURCE_EXACT)


def k_two_sided_howe(n: int, coverage: float = 0.99, confidence: float = 0.95) -> KFactor:
    """Howe (1969) approximation: z_{(1+P)/2} sqrt(nu (1 + 1/n) / chi2_{1-gamma, nu})."""
    n = _check_n(n)
    p = _check_fraction("coverage", coverage)
    g = _check_fraction("confidence", confidence)
    nu = n - 1
    z = special.ndtri(0.5 + p / 2.0)
    chi2_lower = 2.0 * special.gammaincinv(nu / 2.0, 1.0 - g)  # scipy.stats chi2.ppf
    k = float(z * math.sqrt(nu * (1.0 + 1.0 / n) / chi2_lower))
    return KFactor(n, p, g, Side.TWO_SIDED.value, k, "two-sided Howe", SOURCE_HOWE)


def k_one_sided(n: int, coverage: float = 0.99, confidence: float = 0.95) -> KFactor:
    """One-sided factor k1 = t'_{gamma; nu, z_P sqrt(n)} / sqrt(n) (noncentral t)."""
    n = _check_n(n)
    p = _check_fraction("coverage", coverage)
    g = _check_fraction("confidence", confidence)
    delta = special.ndtri(p) * math.sqrt(n)
    k = float(special.nctdtrit(n - 1, delta, g) / math.sqrt(n))  # scipy.stats nct.ppf
    return KFactor(n, p, g, "one-sided", k, "one-sided noncentral t", SOURCE_ONE_SIDED)


@dataclass(frozen=True)
class KFactorRow:
    n: int
    two_sided_exact: float
    two_sided_howe: float
    one_sided: float


@dataclass(frozen=True)
class KFactorTable:
    coverage: float
    confidence: float
    rows: tuple[KFactorRow, ...]
    source: str = SOURCE_EXACT
    method: str = "normal tolerance factors"


def tolerance_factors(
    ns: Sequence[int], coverage: float = 0.99, confidence: float = 0.95
) -> KFactorTable:
    """Exact, Howe and one-sided factors for several n (one table row per n)."""
    if not ns:
        raise ValueError("at least one n is required")
    rows = tuple(
        KFactorRow(
            n=n,
            two_sided_exact=k_two_sided_exact(n, coverage, confidence).k,
            two_sided_howe=k_two_sided_howe(n, coverage, confidence).k,
            one_sided=k_one_sided(n, coverage, confidence).k,
        )
        for n in ns
    )
    return KFactorTable(coverage=float(coverage), confidence=float(confidence), rows=rows)


# --------------------------------------------------------------------------------------------
# Limits from lot values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposedLimit:
    method: str  # "tolerance-interval", "mean-3sd", "min-max"
    lower: float | None
    upper: float | None
    k: float | None
    source: str


@dataclass(frozen=True)
class NormalityCheck:
    method: str
    n: int
    statistic: float | None
    p_value: float | None
    verdict: str  # "consistent-with-normal", "departs-from-normal", "not-assessed"
    alpha: float
    source: str = SOURCE_AD


@dataclass(frozen=True)
class LimitsProposal:
    n: int
    mean: float
    sd: float | None
    minimum: float
    maximum: float
    side: str
    coverage: float
    confidence: float
    min_lots_for_numeric_limit: int
    outcome: str  # "numeric-limits" or "report-results"
    limits: tuple[ProposedLimit, ...]  # computed even when outcome is report-results (n >= 2)
    normality: NormalityCheck


def anderson_darling(
    values: Sequence[float], *, alpha: float = 0.05, min_n: int = DEFAULT_MIN_N_NORMALITY
) -> NormalityCheck:
    """Anderson-Darling test for normality (parameters estimated) with a plain verdict."""
    x = _check_values(values)
    _check_fraction("alpha", alpha)
    n = x.size
    if n < min_n or float(np.std(x)) == 0.0:
        return NormalityCheck("anderson-darling", n, None, None, "not-assessed", alpha)
    stat, pval = _anderson_darling_normal(x)
    verdict = "departs-from-normal" if pval < alpha else "consistent-with-normal"
    return NormalityCheck("anderson-darling", n, stat, pval, verdict, alpha)


# Stephens' (1974) critical values of A^2 for the normal with both parameters estimated, at
# 15, 10, 5, 2.5 and 1 % (D'Agostino & Stephens 1986, Table 4.7): the table scipy.stats uses.
_AD_NORMAL_CRITICAL = (0.561, 0.631, 0.752, 0.873, 1.035)
_AD_NORMAL_LEVELS = (0.15, 0.10, 0.05, 0.025, 0.01)


def _anderson_darling_normal(x: FloatArray) -> tuple[float, float]:
    """(A^2, p) for normality with mean and SD estimated: scipy.stats.anderson(x, "norm",
    method="interpolate") step for step, without loading scipy.stats. The p-value is
    interpolated in the small-sample-corrected table, clipped to 15 % and 1 % at the ends."""
    y = np.sort(x)
    n = len(y)
    w = (y - np.mean(x, axis=0)) / np.std(x, ddof=1, axis=0)
    logcdf = special.log_ndtr(w)
    logsf = special.log_ndtr(-w)
    i = np.arange(1, n + 1)
    a2 = -n - np.sum((2 * i - 1.0) / n * (logcdf + logsf[::-1]), axis=0)
    critical = np.around(np.array(_AD_NORMAL_CRITICAL) / (1.0 + 0.75 / n + 2.25 / n / n), 3)
    pvalue = np.interp(a2, critical, np.array(_AD_NORMAL_LEVELS))
    return float(a2), float(pvalue)


def _check_values(values: Sequence[float]) -> FloatArray:
    try:
        x = np.asarray([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"lot values must be numbers: {exc}") from None
    if x.size == 0:
        raise ValueError("at least one lot value is required")
    if not np.all(np.isfinite(x)):
        raise ValueError("lot values must be finite numbers")
    return x


def propose_limits(
    values: Sequence[float],
    *,
    side: str = "two-sided",
    coverage: float = 0.99,
    confidence: float = 0.95,
    min_lots_for_numeric_limit: int = DEFAULT_MIN_LOTS,
    alpha_normality: float = 0.05,
) -> LimitsProposal:
    """Candidate acceptance limits from lot values and whether numeric limits are supported."""
    x = _check_values(values)
    try:
        sd_side = Side(side)
    except ValueError:
        raise ValueError(
            f"side must be one of: {', '.join(s.value for s in Side)}; got '{side}'"
        ) from None
    p = _check_fraction("coverage", coverage)
    g = _check_fraction("confidence", confidence)
    min_lots = check_positive_int("min lots for numeric limit", min_lots_for_numeric_limit)
    n = int(x.size)
    mean = float(np.mean(x))
    lo_obs, hi_obs = float(np.min(x)), float(np.max(x))
    limits: list[ProposedLimit] = []
    sd: float | None = None
    if n >= 2:
        sd = float(np.std(x, ddof=1))
        two = sd_side is Side.TWO_SIDED
        kf = k_two_sided_exact(n, p, g) if two else k_one_sided(n, p, g)
        lower = mean - kf.k * sd if sd_side is not Side.UPPER else None
        upper = mean + kf.k * sd if sd_side is not Side.LOWER else None
        limits.append(ProposedLimit("tolerance-interval", lower, upper, kf.k, kf.source))
        limits.append(
            ProposedLimit(
                "mean-3sd",
                mean - 3.0 * sd if sd_side is not Side.UPPER else None,
                mean + 3.0 * sd if sd_side is not Side.LOWER else None,
                3.0,
                SOURCE_3SD,
            )
        )
    limits.append(
        ProposedLimit(
            "min-max",
            lo_obs if sd_side is not Side.UPPER else None,
            hi_obs if sd_side is not Side.LOWER else None,
            None,
            SOURCE_RANGE,
        )
    )
    outcome = "numeric-limits" if n >= max(min_lots, 2) else "report-results"
    return LimitsProposal(
        n=n,
        mean=mean,
        sd=sd,
        minimum=lo_obs,
        maximum=hi_obs,
        side=sd_side.value,
        coverage=p,
        confidence=g,
        min_lots_for_numeric_limit=min_lots,
        outcome=outcome,
        limits=tuple(limits),
        normality=anderson_darling(x.tolist(), alpha=alpha_normality),
    )
