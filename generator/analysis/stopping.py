"""Toxicity stopping rules: Bayesian beta-binomial monitoring and Pocock-type boundaries.

A boundary is, for each look (number of evaluable patients), the smallest event count that
stops the trial. Operating characteristics are exact: the distribution of the event count
among trials still running is carried from look to look (dynamic programming), no simulation.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.analysis.defaults import MAX_N_MONITORING, check_positive_int
from generator.analysis.escalation import check_max_n, check_probability
from generator.lazy import LazyModule

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = LazyModule("numpy")  # loaded on first use: cached builds never import it

stats: Any = LazyModule("scipy.stats")  # Pocock tails only (calc CLI); loaded on first use
special: Any = LazyModule("scipy.special")


def _binom_pmf(n: int, p: float) -> npt.NDArray[np.float64]:
    """Binomial probabilities of 0..n events, computed in log space (scipy.special only: much
    faster to import than scipy.stats). comb(n, k) p^k (1-p)^(n-k) directly overflows to
    inf * 0 = NaN from n of about 1030; the logarithms stay finite (xlogy/xlog1py give 0 for
    0 log 0, so p = 0 and p = 1 are exact)."""
    k = np.arange(n + 1, dtype=np.float64)
    log_pmf = (
        special.gammaln(n + 1.0)
        - special.gammaln(k + 1.0)
        - special.gammaln(n - k + 1.0)
        + special.xlogy(k, p)
        + special.xlog1py(n - k, -p)
    )
    pmf = np.exp(log_pmf - log_pmf.max())
    return np.asarray(pmf / pmf.sum(), dtype=np.float64)  # sums to 1: keeps P and E[N] in range


SOURCE_BAYES = "thall-simon-estey-1995"
SOURCE_POCOCK = "ivanova-qaqish-schell-2005"


@dataclass(frozen=True)
class BoundaryRow:
    n: int  # evaluable patients at this look
    stop_at: int | None  # stop if events >= stop_at (None: cannot stop at this look)


@dataclass(frozen=True)
class StoppingBoundaries:
    method: str  # "bayesian-beta-binomial" or "pocock"
    rows: tuple[BoundaryRow, ...]
    max_n: int
    source: str
    # Bayesian rule
    theta: float | None = None
    cutoff: float | None = None
    prior_a: float | None = None
    prior_b: float | None = None
    monitor_from_n: int | None = None
    # Pocock rule
    p0: float | None = None
    alpha: float | None = None
    nominal_level: float | None = None  # a*: largest per-look tail probability P(X_n >= b_n | p0)
    nominal_level_upper: float | None = None  # any a* in [nominal_level, this) gives this boundary
    crossing_probability: float | None = None  # overall P(stop | p0)

    def boundary_array(self) -> list[tuple[int, int | None]]:
        return [(r.n, r.stop_at) for r in self.rows]


@dataclass(frozen=True)
class StoppingOC:
    true_rate: float
    p_stop: float  # probability of crossing a boundary at any look
    expected_n: float  # expected number of patients when the trial ends (stop or max N)
    p_stop_by_look: tuple[float, ...]  # cumulative, aligned with boundary rows


def stopping_boundaries(
    theta: float,
    cutoff: float = 0.9,
    max_n: int = 24,
    *,
    monitor_from_n: int = 3,
    prior_a: float = 1.0,
    prior_b: float = 1.0,
) -> StoppingBoundaries:
    """Bayesian rule: stop at n when Pr(p > theta | x, n) > cutoff, prior Beta(a, b).

    One row per n from `monitor_from_n` to `max_n` (<= defaults.MAX_N_MONITORING).
    """
    theta = check_probability("theta (unacceptable event rate)", theta)
    cutoff = check_probability("posterior cutoff", cutoff)
    max_n = check_positive_int("max N", max_n)
    if max_n > MAX_N_MONITORING:
        raise ValueError(f"max N must be <= {MAX_N_MONITORING}, got {max_n}")
    monitor_from_n = check_positive_int("monitor-from n", monitor_from_n)
    if monitor_from_n > max_n:
        raise ValueError(f"monitor-from n ({monitor_from_n}) must be <= max N ({max_n})")
    if not (prior_a > 0 and prior_b > 0):
        raise ValueError(f"prior Beta(a, b) needs a > 0 and b > 0, got a={prior_a}, b={prior_b}")
    ns = np.arange(monitor_from_n, max_n + 1)
    # Pr(p > theta | x, n) rises with x: bisect every n at once for the first x above the
    # cutoff (n + 1: none) instead of evaluating all x (quadratic in max N)
    lo, hi = np.zeros_like(ns), ns + 1
    while (open_ := lo < hi).any():
        mid = (lo + hi) // 2
        x = np.minimum(mid, ns)
        above = special.betaincc(prior_a + x, prior_b + ns - x, theta) > cutoff
        hi = np.where(open_ & above, mid, hi)
        lo = np.where(open_ & ~above, mid + 1, lo)
    rows = [
        BoundaryRow(n=int(n), stop_at=int(b) if b <= n else None)
        for n, b in zip(ns, lo, strict=True)
    ]
    return StoppingBoundaries(
        method="bayesian-beta-binomial",
        rows=tuple(rows),
        max_n=max_n,
        source=SOURCE_BAYES,
        theta=theta,
        cutoff=cutoff,
        prior_a=float(prior_a),
        prior_b=float(prior_b),
        monitor_from_n=monitor_from_n,
    )


def _check_looks(looks: Sequence[int] | None, max_n: int) -> list[int]:
    if looks is None:
        return list(range(1, max_n + 1))
    out = [check_positive_int("look (number of patients)", int(v)) for v in looks]
    if not out:
        raise ValueError("at least one look is required")
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise ValueError("looks must be strictly increasing")
    if out[-1] > max_n:
        raise ValueError(f"last look ({out[-1]}) must be <= max N ({max_n})")
    return out


def boundary_oc(
    boundaries: StoppingBoundaries | Sequence[tuple[int, int | None]],
    true_rate: float,
    *,
    max_n: int | None = None,
) -> StoppingOC:
    """Exact P(stop) and expected N for a boundary at a true event rate.

    Between looks the event count grows binomially; at each look the mass at or above the
    boundary stops. Expected N counts a stopped trial at its stopping look and a completed
    trial at max N.
    """
    p = check_probability("true event rate", true_rate, open_interval=False)
    if p < 1e-300:
        p = 0.0  # scipy's binomial overflows on subnormal rates; P(stop) is 0 to any precision
    if isinstance(boundaries, StoppingBoundaries):
        pairs = boundaries.boundary_array()
        cap = boundaries.max_n if max_n is None else max_n
    else:
        pairs = list(boundaries)
        if not pairs:
            raise ValueError("boundary has no looks")
        cap = pairs[-1][0] if max_n is None else max_n
    check_positive_int("max N", cap)
    if cap > MAX_N_MONITORING:
        raise ValueError(f"max N must be <= {MAX_N_MONITORING}, got {cap}")
    # distribution of events among running trials (unnormalised mass), kept only as long as
    # it can be non-zero (events <= patients, and below the last boundary): linear per look
    dist = np.ones(1)
    increments: dict[int, npt.NDArray[np.float64]] = {}
    n_prev = 0
    stopped = 0.0
    expected = 0.0
    by_look = []
    for n, stop_at in pairs:
        if n < n_prev or n > cap:
            raise ValueError("looks must be increasing and <= max N")
        step = n - n_prev
        if step:
            if step not in increments:
                increments[step] = _binom_pmf(step, p)
            dist = np.convolve(dist, increments[step])
        n_prev = n
        if stop_at is not None:
            mass = float(dist[stop_at:].sum())
            dist = dist[:stop_at] if stop_at > 0 else np.zeros(1)  # 0: every trial stopped
            stopped += mass
            expected += mass * n
        by_look.append(stopped)
    expected += (1.0 - stopped) * cap
    expected = min(expected, float(cap))  # rounding can leave it a few ulps above max N
    return StoppingOC(
        true_rate=p, p_stop=stopped, expected_n=expected, p_stop_by_look=tuple(by_look)
    )


def _tails(looks: Sequence[int], p0: float) -> list[npt.NDArray[np.float64]]:
    """P(X_n >= r | p0) for r = 0..n at each look (non-increasing in r)."""
    return [np.asarray(stats.binom.sf(np.arange(n + 1) - 1, n, p0), dtype=float) for n in looks]


def _pocock_boundary(
    looks: Sequence[int], tails: Sequence[npt.NDArray[np.float64]], level: float
) -> list[tuple[int, int | None]]:
    """b_n = smallest r with P(X_n >= r | p0) <= level (None when even r = n exceeds it)."""
    out: list[tuple[int, int | None]] = []
    for n, tail in zip(looks, tails, strict=True):
        r = int(np.count_nonzero(tail > level))  # tails are non-increasing: first r at or below
        out.append((n, r if r <= n else None))
    return out


def pocock_boundaries(
    p0: float,
    alpha: float = 0.1,
    max_n: int = 20,
    *,
    looks: Sequence[int] | None = None,
) -> StoppingBoundaries:
    """Pocock-type boundary: one nominal level a* at every look, tuned so that the overall
    probability of crossing under the acceptable rate p0 is at most alpha (the largest such
    boundary). Looks default to every patient, 1..max_n (max_n <= defaults.MAX_N).
    """
    p0 = check_probability("acceptable event rate p0", p0)
    alpha = check_probability("alpha", alpha)
    max_n = check_max_n(max_n)
    look_list = _check_looks(looks, max_n)
    tails = _tails(look_list, p0)
    # The boundary changes only at the tail probabilities P(X_n >= r | p0): search those.
    every = np.concatenate([t[1:] for t in tails])
    cands = np.unique(every[(every > 0.0) & (every <= alpha)]).tolist()
    best_level = 0.0
    best: list[tuple[int, int | None]] = _pocock_boundary(look_list, tails, 0.0)
    best_cross = boundary_oc(best, p0, max_n=max_n).p_stop
    lo, hi = 0, len(cands) - 1
    while lo <= hi:  # crossing probability is non-decreasing in the level
        mid = (lo + hi) // 2
        bnd = _pocock_boundary(look_list, tails, cands[mid])
        cross = boundary_oc(bnd, p0, max_n=max_n).p_stop
        if cross <= alpha:
            best_level, best, best_cross = cands[mid], bnd, cross
            lo = mid + 1
        else:
            hi = mid - 1
    above = [c for c in cands if c > best_level]
    upper = above[0] if above else alpha
    return StoppingBoundaries(
        method="pocock",
        rows=tuple(BoundaryRow(n=n, stop_at=b) for n, b in best),
        max_n=max_n,
        source=SOURCE_POCOCK,
        p0=p0,
        alpha=alpha,
        nominal_level=best_level,
        nominal_level_upper=upper,
        crossing_probability=best_cross,
    )


def boundary_oc_table(
    boundaries: StoppingBoundaries, true_rates: Sequence[float]
) -> tuple[StoppingOC, ...]:
    """`boundary_oc` at several true rates, for a protocol table."""
    if not true_rates:
        raise ValueError("at least one true rate is required")
    return tuple(boundary_oc(boundaries, r) for r in true_rates)
