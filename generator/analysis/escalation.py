"""Dose-escalation decision rules: 3+3, BOIN, i3+3 and mTPI-2.

Pure functions returning frozen dataclasses. Every number a protocol table shows comes from
here; templates only format. Formulas and reference values: Storer 1989 (3+3), Liu & Yuan 2015
(BOIN, as implemented by `BOIN::get.boundary`), Liu, Wang & Ji 2020 (i3+3), Guo et al. 2017
(mTPI-2). Decisions are integers of DLT counts so the tables can be printed as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from generator.analysis.defaults import MAX_N, check_positive_int
from generator.lazy import LazyModule

if TYPE_CHECKING:
    import numpy as np
else:  # numpy loads on first use: unpickling a cached analysis needs these classes only
    np = LazyModule("numpy")

__all__ = ["check_positive_int"]  # re-exported: it lived here first

# scipy.special (the regularised incomplete beta) imports in a third of the time of
# scipy.stats, and only on first use: keeps builds fast
special: Any = LazyModule("scipy.special")

# Source keys the templates resolve to bibliography entries.
SOURCE_3PLUS3 = "storer-1989"
SOURCE_BOIN = "liu-yuan-2015-boin"
SOURCE_I3PLUS3 = "liu-2020-i3plus3"
SOURCE_MTPI2 = "guo-2017-mtpi2"

# Float comparisons of y/n with interval edges such as 0.25 (= 0.2 + 0.05) need a tolerance.
_EDGE_TOL = 1e-9


class Action(StrEnum):
    """Decision at the current dose after observing y DLTs in n patients."""

    ESCALATE = "E"
    STAY = "S"
    DEESCALATE = "D"
    ELIMINATE = "DU"  # de-escalate and never return (dose unacceptably toxic)


# --------------------------------------------------------------------------------------------
# Parameter checks (shared with simulation.py and stopping.py)
# --------------------------------------------------------------------------------------------


def check_probability(name: str, value: float, *, open_interval: bool = True) -> float:
    """Return `value` as float if it lies in (0, 1) (or [0, 1]); raise ValueError otherwise."""
    v = float(value)
    if math.isnan(v):
        raise ValueError(f"{name} must be a number, got NaN")
    if open_interval and not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    if not open_interval and not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value}")
    return v


def posterior_prob_above(threshold: float, y: int, n: int, a: float = 1.0, b: float = 1.0) -> float:
    """Pr(p > threshold | y events in n) under a Beta(a, b) prior."""
    return float(special.betaincc(a + y, b + n - y, threshold))


def _min_events_posterior_above(
    threshold: float, n: int, cutoff: float, a: float = 1.0, b: float = 1.0
) -> int | None:
    """Smallest y in 1..n with Pr(p > threshold | y, n) > cutoff, or None.

    From y = 1 as `BOIN::get.boundary` searches: a dose with no DLT is never eliminated (with
    a very low target and few patients the posterior alone could say otherwise).
    """
    ys = np.arange(1, n + 1)
    probs = special.betaincc(a + ys, b + n - ys, threshold)
    hits = np.nonzero(probs > cutoff)[0]
    return int(hits[0]) + 1 if hits.size else None


def check_max_n(max_n: int) -> int:
    """A table's or a simulation's maximum sample size: 1..MAX_N."""
    value = check_positive_int("max N", max_n)
    if value > MAX_N:
        raise ValueError(f"max N must be <= {MAX_N}, got {value}")
    return value


# --------------------------------------------------------------------------------------------
# 3+3
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreePlusThreeRule:
    """One row of the 3+3 decision table: with `dlts` (min..max) in `treated`, take `action`."""

    treated: int
    dlts_min: int
    dlts_max: int
    action: str


@dataclass(frozen=True)
class ThreePlusThreeRules:
    allow_deescalation: bool
    rows: tuple[ThreePlusThreeRule, ...]
    source: str = SOURCE_3PLUS3
    method: str = "3+3"


def three_plus_three_rules(*, allow_deescalation: bool = True) -> ThreePlusThreeRules:
    """The 3+3 decision table as data (action labels are short codes the templates translate).

    Action codes: `escalate`, `expand` (3 more at the same dose), and for >= 2 DLTs
    `mtd_exceeded` (with de-escalation: the next lower dose is expanded to 6 participants if
    it has only 3, and is the MTD once it has 6 with <= 1 DLT) or `mtd_exceeded_stop`
    (escalation only: the trial stops and the next lower dose is the MTD as it stands, 0 of 3
    or <= 1 of 6). Either way the MTD is the highest dose with a DLT rate <= 1/6 below the
    lowest dose with >= 2 DLTs; none if that is the lowest dose.
    """
    exceeded = "mtd_exceeded" if allow_deescalation else "mtd_exceeded_stop"
    rows = (
        ThreePlusThreeRule(3, 0, 0, "escalate"),
        ThreePlusThreeRule(3, 1, 1, "expand"),
        ThreePlusThreeRule(3, 2, 3, exceeded),
        ThreePlusThreeRule(6, 0, 1, "escalate"),
        ThreePlusThreeRule(6, 2, 6, exceeded),
    )
    return ThreePlusThreeRules(allow_deescalation=allow_deescalation, rows=rows)


def three_plus_three_escalation_probability(p: float) -> float:
    """P(escalate from a dose with true DLT rate p) = (1-p)^3 + 3p(1-p)^2 (1-p)^3."""
    p = check_probability("true DLT rate p", p, open_interval=False)
    q = 1.0 - p
    # rounding can put the sum a few ulps above 1 for tiny p
    return min(1.0, q**3 + 3.0 * p * q**2 * q**3)


@dataclass(frozen=True)
class ThreePlusThreeDoseOC:
    dose: int  # 1-based dose level
    true_rate: float
    p_select: float
    mean_patients: float
    mean_dlts: float


@dataclass(frozen=True)
class ThreePlusThreeExactOC:
    """Exact 3+3 operating characteristics (enumeration of all outcome paths)."""

    allow_deescalation: bool
    doses: tuple[ThreePlusThreeDoseOC, ...]
    p_no_dose: float
    mean_patients: float
    mean_dlts: float
    source: str = SOURCE_3PLUS3
    method: str = "3+3 exact"


def three_plus_three_exact_oc(
    true_rates: list[float] | tuple[float, ...],
    *,
    allow_deescalation: bool = True,
    start_dose: int = 1,
) -> ThreePlusThreeExactOC:
    """Exact operating characteristics of the 3+3 design by recursion over cohort outcomes.

    Conventions (shared with `simulation.simulate_trials`): at the highest dose a 0/3 result
    expands the dose to 6; a dose is declared MTD only after 6 patients with <= 1 DLT, except
    in the escalation-only variant where the next lower dose is declared MTD as it stands.
    """
    rates = _check_rates(true_rates)
    k = len(rates)
    start = check_positive_int("start dose", start_dose)
    if start > k:
        raise ValueError(f"start dose must be <= number of doses ({k}), got {start}")
    binom3 = [[math.comb(3, y) * r**y * (1 - r) ** (3 - y) for y in range(4)] for r in rates]

    select = [0.0] * (k + 1)  # index k = no dose
    patients = [0.0] * k
    dlts = [0.0] * k

    def walk(
        prob: float, cur: int, n: tuple[int, ...], y: tuple[int, ...], toxic_from: int
    ) -> None:
        for new in range(4):
            pr = prob * binom3[cur][new]
            if pr == 0.0:
                continue
            n2 = list(n)
            y2 = list(y)
            n2[cur] += 3
            y2[cur] += new
            patients[cur] += pr * 3
            dlts[cur] += pr * new
            outcome = _three_plus_three_step(cur, n2, y2, toxic_from, k, allow_deescalation)
            kind, target, tf = outcome
            if kind == "select":
                select[target] += pr
            else:
                walk(pr, target, tuple(n2), tuple(y2), tf)

    walk(1.0, start - 1, tuple([0] * k), tuple([0] * k), k)
    doses = tuple(
        ThreePlusThreeDoseOC(d + 1, rates[d], select[d], patients[d], dlts[d]) for d in range(k)
    )
    return ThreePlusThreeExactOC(
        allow_deescalation=allow_deescalation,
        doses=doses,
        p_no_dose=select[k],
        mean_patients=sum(patients),
        mean_dlts=sum(dlts),
    )


def _three_plus_three_step(
    cur: int, n: list[int], y: list[int], toxic_from: int, k: int, allow_deescalation: bool
) -> tuple[str, int, int]:
    """Scalar 3+3 transition after a cohort at `cur`: ("select", dose|k, _) or ("treat", dose, tf).

    `toxic_from` is the lowest dose known to exceed the MTD (k when none).
    """
    nc, yc = n[cur], y[cur]
    exceeded = yc >= 2
    if not exceeded:
        if nc == 3 and yc == 1:
            return ("treat", cur, toxic_from)
        # escalate (0/3 or <=1/6)
        if cur + 1 < toxic_from and cur + 1 < k:
            return ("treat", cur + 1, toxic_from)
        if nc >= 6:
            return ("select", cur, toxic_from)
        return ("treat", cur, toxic_from)  # top or below a toxic dose: complete 6 here
    toxic_from = cur
    if cur == 0:
        return ("select", k, toxic_from)
    below = cur - 1
    if not allow_deescalation or n[below] >= 6:
        return ("select", below, toxic_from)
    return ("treat", below, toxic_from)


def _check_rates(true_rates: list[float] | tuple[float, ...]) -> list[float]:
    rates = [check_probability("true DLT rate", r, open_interval=False) for r in true_rates]
    if not rates:
        raise ValueError("at least one dose level (true DLT rate) is required")
    return rates


# --------------------------------------------------------------------------------------------
# BOIN
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoinRow:
    n: int
    escalate_max: int  # escalate if DLTs <= this
    deescalate_min: int | None  # de-escalate if DLTs >= this (None: not reachable at this n)
    eliminate_min: int | None  # eliminate if DLTs >= this (None: elimination not possible)


@dataclass(frozen=True)
class BoinTable:
    target: float
    phi1: float
    phi2: float
    lambda_e: float
    lambda_d: float
    cutoff_eliminate: float
    min_n_eliminate: int
    rows: tuple[BoinRow, ...]
    source: str = SOURCE_BOIN
    method: str = "BOIN"


def _check_target_interval(target: float, phi1: float, phi2: float) -> None:
    """0 < phi1 < target < phi2 < 1: the BOIN boundaries are logs of odds ratios of these."""
    check_probability("target DLT rate", target)
    for name, value in (("phi1", phi1), ("phi2", phi2)):
        if math.isnan(value):
            raise ValueError(f"{name} must be a number, got NaN")
    if not 0.0 < phi1 < target:
        raise ValueError(
            f"phi1 (highest sub-therapeutic DLT rate) must lie strictly between 0 and the "
            f"target {target:g}, got {phi1:g} (as a multiple of the target: {phi1 / target:g}; "
            "the BOIN package default is 0.6)"
        )
    if not target < phi2 < 1.0:
        raise ValueError(
            f"phi2 (lowest overly toxic DLT rate) must lie strictly between the target "
            f"{target:g} and 1, got {phi2:g} (as a multiple of the target: {phi2 / target:g}; "
            "the BOIN package default is 1.4)"
        )


def boin_boundaries(
    target: float, phi1: float | None = None, phi2: float | None = None
) -> tuple[float, float]:
    """(lambda_e, lambda_d) of Liu & Yuan 2015; phi1 = 0.6 target, phi2 = 1.4 target by default."""
    target = check_probability("target DLT rate", target)
    p1 = 0.6 * target if phi1 is None else float(phi1)
    p2 = 1.4 * target if phi2 is None else float(phi2)
    _check_target_interval(target, p1, p2)
    lam_e = math.log((1 - p1) / (1 - target)) / math.log(target * (1 - p1) / (p1 * (1 - target)))
    lam_d = math.log((1 - target) / (1 - p2)) / math.log(p2 * (1 - target) / (target * (1 - p2)))
    return lam_e, lam_d


def boin_table(
    target: float,
    max_n: int = 18,
    *,
    phi1: float | None = None,
    phi2: float | None = None,
    cutoff_eliminate: float = 0.95,
    min_n_eliminate: int = 3,
) -> BoinTable:
    """BOIN decision table for n = 1..max_n, as `BOIN::get.boundary` (2.7.2) computes it.

    Escalate if y <= floor(lambda_e n); de-escalate if y >= ceil(lambda_d n) (lambda_d n + 1
    when lambda_d n is a whole number, as the package does), capped at the elimination count;
    eliminate if n >= min_n_eliminate, y >= 1 and Pr(p > target | y, n) > cutoff under a
    Beta(1, 1) prior. `max_n` should be the largest number of patients one dose can have: with
    a per-dose cap (n_earlystop) that is still the trial's maximum sample size, because a dose
    the trial leaves and comes back to keeps treating patients beyond the cap.
    """
    target = check_probability("target DLT rate", target)
    max_n = check_max_n(max_n)
    check_probability("elimination cutoff", cutoff_eliminate)
    min_n_eliminate = check_positive_int("minimum n for elimination", min_n_eliminate)
    p1 = 0.6 * target if phi1 is None else float(phi1)
    p2 = 1.4 * target if phi2 is None else float(phi2)
    lam_e, lam_d = boin_boundaries(target, p1, p2)
    rows = []
    for n in range(1, max_n + 1):
        esc = math.floor(lam_e * n + _EDGE_TOL)
        exact = round(lam_d * n)
        de: int | None = exact + 1 if abs(exact - lam_d * n) < 1e-12 else math.ceil(lam_d * n)
        elim = (
            _min_events_posterior_above(target, n, cutoff_eliminate)
            if n >= min_n_eliminate
            else None
        )
        if elim is not None and de is not None:
            de = min(de, elim)
        if de is not None and de > n:
            de = None
        rows.append(BoinRow(n=n, escalate_max=esc, deescalate_min=de, eliminate_min=elim))
    return BoinTable(
        target=target,
        phi1=p1,
        phi2=p2,
        lambda_e=lam_e,
        lambda_d=lam_d,
        cutoff_eliminate=cutoff_eliminate,
        min_n_eliminate=min_n_eliminate,
        rows=tuple(rows),
    )


# --------------------------------------------------------------------------------------------
# Interval designs: i3+3 and mTPI-2 — tables of actions per (n, y)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntervalRow:
    """Actions for every y = 0..n at one n, plus compact ranges for printing."""

    n: int
    actions: tuple[Action, ...]  # index = number of DLTs

    def dlts_for(self, action: Action | str) -> tuple[int, ...]:
        return tuple(y for y, a in enumerate(self.actions) if a == action)

    def range_label(self, action: Action | str) -> str:
        """DLT counts taking `action`, compact: "0-2", "3", "5+" ("" when none)."""
        ys = self.dlts_for(action)
        if not ys:
            return ""
        if ys[-1] == self.n and len(ys) > 1 and action == Action.ELIMINATE:
            return f"{ys[0]}+" if ys[0] != ys[-1] else str(ys[0])
        return str(ys[0]) if ys[0] == ys[-1] else f"{ys[0]}-{ys[-1]}"

    @property
    def escalate(self) -> str:
        return self.range_label(Action.ESCALATE)

    @property
    def stay(self) -> str:
        return self.range_label(Action.STAY)

    @property
    def deescalate(self) -> str:
        return self.range_label(Action.DEESCALATE)

    @property
    def eliminate(self) -> str:
        return self.range_label(Action.ELIMINATE)


@dataclass(frozen=True)
class IntervalTable:
    design: str  # "i3+3" or "mTPI-2"
    target: float
    eps1: float
    eps2: float
    cutoff_eliminate: float
    min_n_eliminate: int
    rows: tuple[IntervalRow, ...]
    source: str
    method: str

    def action(self, n: int, y: int) -> Action:
        return self.rows[n - 1].actions[y]


def _check_interval(target: float, eps1: float, eps2: float) -> None:
    check_probability("target DLT rate", target)
    if eps1 < 0 or eps2 < 0:
        raise ValueError("equivalence-interval half-widths must be >= 0")
    if eps1 + eps2 <= 0:
        raise ValueError("equivalence interval must have positive width")
    if target - eps1 <= 0 or target + eps2 >= 1:
        raise ValueError(
            f"equivalence interval [{target - eps1:g}, {target + eps2:g}] must lie inside (0, 1)"
        )


def _with_elimination(
    n: int,
    actions: list[Action],
    target: float,
    cutoff: float,
    min_n: int,
) -> tuple[Action, ...]:
    if n >= min_n:
        elim = _min_events_posterior_above(target, n, cutoff)
        if elim is not None:
            for y in range(elim, n + 1):
                actions[y] = Action.ELIMINATE
    return tuple(actions)


def i3plus3_table(
    target: float,
    max_n: int = 18,
    *,
    eps1: float = 0.05,
    eps2: float = 0.05,
    cutoff_eliminate: float = 0.95,
    min_n_eliminate: int = 3,
) -> IntervalTable:
    """i3+3 decision table (Liu, Wang & Ji 2020) for n = 1..max_n."""
    target = check_probability("target DLT rate", target)
    max_n = check_max_n(max_n)
    _check_interval(target, eps1, eps2)
    check_probability("elimination cutoff", cutoff_eliminate)
    min_n_eliminate = check_positive_int("minimum n for elimination", min_n_eliminate)
    lo, hi = target - eps1, target + eps2
    rows = []
    for n in range(1, max_n + 1):
        acts: list[Action] = []
        for y in range(n + 1):
            rate = y / n
            if rate < lo - _EDGE_TOL:
                acts.append(Action.ESCALATE)
            elif rate <= hi + _EDGE_TOL or (y - 1) / n < lo - _EDGE_TOL:
                acts.append(Action.STAY)
            else:
                acts.append(Action.DEESCALATE)
        rows.append(
            IntervalRow(n, _with_elimination(n, acts, target, cutoff_eliminate, min_n_eliminate))
        )
    return IntervalTable(
        design="i3+3",
        target=target,
        eps1=eps1,
        eps2=eps2,
        cutoff_eliminate=cutoff_eliminate,
        min_n_eliminate=min_n_eliminate,
        rows=tuple(rows),
        source=SOURCE_I3PLUS3,
        method="i3+3",
    )


@lru_cache(maxsize=64)
def _mtpi2_intervals(
    target: float, eps1: float, eps2: float
) -> tuple[tuple[float, float, Action], ...]:
    """Sub-intervals of [0, 1] of width eps1 + eps2 around the EI (end pieces may be shorter)."""
    width = eps1 + eps2
    lo, hi = target - eps1, target + eps2
    parts: list[tuple[float, float, Action]] = [(lo, hi, Action.STAY)]
    edge = lo
    while edge > _EDGE_TOL:
        start = max(0.0, edge - width)
        parts.append((start, edge, Action.ESCALATE))
        edge = start
    edge = hi
    while edge < 1.0 - _EDGE_TOL:
        end = min(1.0, edge + width)
        parts.append((edge, end, Action.DEESCALATE))
        edge = end
    return tuple(parts)


def mtpi2_table(
    target: float,
    max_n: int = 18,
    *,
    eps1: float = 0.05,
    eps2: float = 0.05,
    cutoff_eliminate: float = 0.95,
    min_n_eliminate: int = 3,
) -> IntervalTable:
    """mTPI-2 decision table (Guo et al. 2017) for n = 1..max_n, Beta(1, 1) prior.

    The decision is the region (E, S, D) holding the sub-interval with the highest unit
    probability mass (posterior probability / length). Ties go to the safer action.
    """
    target = check_probability("target DLT rate", target)
    max_n = check_max_n(max_n)
    _check_interval(target, eps1, eps2)
    check_probability("elimination cutoff", cutoff_eliminate)
    min_n_eliminate = check_positive_int("minimum n for elimination", min_n_eliminate)
    parts = _mtpi2_intervals(target, eps1, eps2)
    lows = np.array([p[0] for p in parts])
    highs = np.array([p[1] for p in parts])
    acts_of = [p[2] for p in parts]
    safety_rank = {Action.DEESCALATE: 0, Action.STAY: 1, Action.ESCALATE: 2}
    rows = []
    for n in range(1, max_n + 1):
        ys = np.arange(n + 1)[:, None]
        upm_all = (
            special.betainc(1 + ys, 1 + n - ys, highs[None, :])
            - special.betainc(1 + ys, 1 + n - ys, lows[None, :])
        ) / (highs - lows)[None, :]
        acts: list[Action] = []
        for upm in upm_all:
            best = float(np.max(upm))
            cands = [acts_of[i] for i in range(len(parts)) if upm[i] >= best * (1 - 1e-12)]
            acts.append(min(cands, key=lambda a: safety_rank[a]))
        rows.append(
            IntervalRow(n, _with_elimination(n, acts, target, cutoff_eliminate, min_n_eliminate))
        )
    return IntervalTable(
        design="mTPI-2",
        target=target,
        eps1=eps1,
        eps2=eps2,
        cutoff_eliminate=cutoff_eliminate,
        min_n_eliminate=min_n_eliminate,
        rows=tuple(rows),
        source=SOURCE_MTPI2,
        method="mTPI-2",
    )


def boin_actions(table: BoinTable) -> IntervalTable:
    """The BOIN table expressed per (n, y) action, for simulation and uniform printing."""
    rows = []
    for r in table.rows:
        acts: list[Action] = []
        for y in range(r.n + 1):
            if r.eliminate_min is not None and y >= r.eliminate_min:
                acts.append(Action.ELIMINATE)
            elif y <= r.escalate_max:
                acts.append(Action.ESCALATE)
            elif r.deescalate_min is not None and y >= r.deescalate_min:
                acts.append(Action.DEESCALATE)
            else:
                acts.append(Action.STAY)
        rows.append(IntervalRow(r.n, tuple(acts)))
    return IntervalTable(
        design="BOIN",
        target=table.target,
        eps1=table.target - table.phi1,
        eps2=table.phi2 - table.target,
        cutoff_eliminate=table.cutoff_eliminate,
        min_n_eliminate=table.min_n_eliminate,
        rows=tuple(rows),
        source=SOURCE_BOIN,
        method="BOIN",
    )
