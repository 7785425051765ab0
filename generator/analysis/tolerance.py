"""Specification statistics from few lots: normal tolerance-interval factors and limits.

k factors: two-sided exact (Krishnamoorthy & Mathew 2009; ISO 16269-6), two-sided Howe (1969)
approximation, one-sided via the noncentral t (NIST/SEMATECH e-Handbook 7.2.6.3). Proposed
limits from lot values: tolerance interval, mean +/- 3 SD, min-max, with a minimum number of
lots below which the outcome is "report results". An Anderson-Darling check goes with them.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from generator.analysis.defaults import DEFAULT_MIN_LOTS
from generator.analysis.escalation import check_positive_int
from generator.lazy import LazyModule

SOURCE_EXACT = "iso-16269-6"
SOURCE_HOWE = "howe-1969"
SOURCE_ONE_SIDED = "nist-esh-7.2.6.3"
SOURCE_3SD = "biopharm-2006-spec-setting"
SOURCE_RANGE = "observed-range"
SOURCE_AD = "anderson-darling"

# scipy loads on first use: keeps cached builds fast
optimize: Any = LazyModule("scipy.optimize")
special: Any = LazyModule("scipy.special")
stats: Any = LazyModule("scipy.stats")

DEFAULT_MIN_N_NORMALITY = 8

FloatArray = npt.NDArray[np.float64]


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


# Gauss-Legendre nodes on [0, 1], reused for every k computation.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(160)
_GL_X = 0.5 * (_GL_X + 1.0)
_GL_W = 0.5 * _GL_W


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
    z = _GL_X * zmax
    w = _GL_W * zmax
    r2 = _r_of_z(z, coverage) ** 2
    weight = math.sqrt(2.0 * n / math.pi) * w * np.exp(-0.5 * n * z**2)

    def conf(k: float) -> float:
        return float(np.sum(weight * stats.chi2.sf(nu * r2 / k**2, nu))) - confidence

    lo = float(stats.norm.ppf(0.5 + coverage / 2.0))  # k with sigma known: confidence < 0.5
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
    z = stats.norm.ppf(0.5 + p / 2.0)
    k = float(z * math.sqrt(nu * (1.0 + 1.0 / n) / stats.chi2.ppf(1.0 - g, nu)))
    return KFactor(n, p, g, Side.TWO_SIDED.value, k, "two-sided Howe", SOURCE_HOWE)


def k_one_sided(n: int, coverage: float = 0.99, confidence: float = 0.95) -> KFactor:
    """One-sided factor k1 = t'_{gamma; nu, z_P sqrt(n)} / sqrt(n) (noncentral t)."""
    n = _check_n(n)
    p = _check_fraction("coverage", coverage)
    g = _check_fraction("confidence", confidence)
    delta = stats.norm.ppf(p) * math.sqrt(n)
    k = float(stats.nct.ppf(g, n - 1, delta) / math.sqrt(n))
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
    if "method" in inspect.signature(stats.anderson).parameters:
        res = stats.anderson(x, dist="norm", method="interpolate")
        stat, pval = float(res.statistic), float(res.pvalue)
        departs = pval < alpha
    else:  # SciPy < 1.17: compare with the tabulated critical value
        res = stats.anderson(x, dist="norm")
        levels = [float(v) / 100.0 for v in res.significance_level]
        crit = dict(zip(levels, (float(c) for c in res.critical_values), strict=True))
        nearest = min(crit, key=lambda lv: abs(lv - alpha))
        stat, pval = float(res.statistic), None
        departs = stat > crit[nearest]
    verdict = "departs-from-normal" if departs else "consistent-with-normal"
    return NormalityCheck("anderson-darling", n, stat, pval, verdict, alpha)


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
