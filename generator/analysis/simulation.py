"""Operating characteristics of dose-escalation designs by vectorised simulation.

All simulated trials of a scenario advance together, cohort by cohort, as numpy arrays; the
decision at the current dose is a table lookup on (patients, DLTs) for BOIN, i3+3 and mTPI-2,
and a few array rules for 3+3. Results are reproducible for a given seed.

MTD selection for the interval designs follows `BOIN::select.mtd`: doses tried and not
eliminated, estimates (y + 0.05) / (n + 0.1) smoothed by weighted isotonic regression, the
dose whose estimate is closest to the target (ties: lower dose when above the target).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from generator.analysis.defaults import DEFAULT_SEED, DEFAULT_TRIALS
from generator.analysis.escalation import (
    SOURCE_3PLUS3,
    Action,
    IntervalTable,
    _check_rates,
    boin_actions,
    boin_table,
    check_positive_int,
    check_probability,
    i3plus3_table,
    mtpi2_table,
)

DESIGNS = ("3+3", "BOIN", "i3+3", "mTPI-2")
_ALIASES = {
    "3+3": "3+3",
    "3plus3": "3+3",
    "three-plus-three": "3+3",
    "boin": "BOIN",
    "i3+3": "i3+3",
    "i3plus3": "i3+3",
    "mtpi2": "mTPI-2",
    "mtpi-2": "mTPI-2",
}

_E, _S, _D, _DU = 0, 1, 2, 3
_CODE = {Action.ESCALATE: _E, Action.STAY: _S, Action.DEESCALATE: _D, Action.ELIMINATE: _DU}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DoseOC:
    dose: int  # 1-based dose level
    true_rate: float
    p_select: float
    mean_patients: float
    mean_dlts: float


@dataclass(frozen=True)
class OperatingCharacteristics:
    design: str
    true_rates: tuple[float, ...]
    target: float | None
    cohort_size: int
    max_n: int
    start_dose: int
    n_trials: int
    seed: int
    doses: tuple[DoseOC, ...]
    p_no_dose: float  # no dose selected as MTD
    p_early_stop: float  # trial ended before max N (any reason)
    p_stop_toxicity: float  # lowest dose eliminated / too toxic
    mean_patients: float
    mean_dlts: float
    source: str
    method: str = "simulation"


def normalise_design(design: str) -> str:
    key = design.strip().lower()
    if key not in _ALIASES:
        raise ValueError(f"unknown design '{design}'; choose one of: {', '.join(DESIGNS)}")
    return _ALIASES[key]


def operating_characteristics(
    design: str,
    true_rates: Sequence[float],
    *,
    target: float | None = None,
    cohort_size: int = 3,
    max_n: int | None = None,
    start_dose: int = 1,
    n_trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    allow_deescalation: bool = True,
    eps1: float = 0.05,
    eps2: float = 0.05,
    phi1: float | None = None,
    phi2: float | None = None,
    cutoff_eliminate: float = 0.95,
    n_earlystop: int | None = None,
) -> OperatingCharacteristics:
    """Simulate `n_trials` trials of one design under one scenario of true DLT rates.

    `target` is required for BOIN, i3+3 and mTPI-2. `max_n` defaults to 6 x doses for 3+3
    (never binding) and is required for the other designs. For 3+3 the cohort size is 3.
    """
    name = normalise_design(design)
    rates = np.array(_check_rates(list(true_rates)), dtype=np.float64)
    k = rates.size
    start = check_positive_int("start dose", start_dose)
    if start > k:
        raise ValueError(f"start dose must be <= number of doses ({k}), got {start}")
    n_trials = check_positive_int("number of simulated trials", n_trials)
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng(int(seed))

    if name == "3+3":
        if cohort_size != 3:
            raise ValueError(f"3+3 uses cohorts of 3, got cohort size {cohort_size}")
        cap = 6 * k if max_n is None else check_positive_int("max N", max_n, minimum=3)
        res = _simulate_3plus3(rates, start - 1, cap, n_trials, allow_deescalation, rng)
        source = SOURCE_3PLUS3
        tgt = None if target is None else check_probability("target DLT rate", target)
    else:
        if target is None:
            raise ValueError(f"{name} needs a target DLT rate")
        tgt = check_probability("target DLT rate", target)
        if max_n is None:
            raise ValueError(f"{name} needs a maximum sample size (max N)")
        cap = check_positive_int("max N", max_n)
        cs = check_positive_int("cohort size", cohort_size)
        if n_earlystop is not None:
            check_positive_int("n early stop", n_earlystop)
        table = _design_table(name, tgt, cap, eps1, eps2, phi1, phi2, cutoff_eliminate)
        res = _simulate_interval(table, rates, start - 1, cs, cap, n_trials, n_earlystop, rng)
        source = table.source
    n, y, selected, stopped_tox, total = res
    sel_counts = np.bincount(selected, minlength=k + 1).astype(np.float64) / n_trials
    mean_n = n.mean(axis=0)
    mean_y = y.mean(axis=0)
    doses = tuple(
        DoseOC(
            dose=d + 1,
            true_rate=float(rates[d]),
            p_select=float(sel_counts[d]),
            mean_patients=float(mean_n[d]),
            mean_dlts=float(mean_y[d]),
        )
        for d in range(k)
    )
    return OperatingCharacteristics(
        design=name,
        true_rates=tuple(float(r) for r in rates),
        target=tgt,
        cohort_size=3 if name == "3+3" else int(cohort_size),
        max_n=cap,
        start_dose=start,
        n_trials=n_trials,
        seed=int(seed),
        doses=doses,
        p_no_dose=float(sel_counts[k]),
        p_early_stop=float(np.mean(total < cap)),
        p_stop_toxicity=float(np.mean(stopped_tox)),
        mean_patients=float(n.sum(axis=1).mean()),
        mean_dlts=float(y.sum(axis=1).mean()),
        source=source,
    )


def simulate_scenarios(
    design: str, scenarios: Mapping[str, Sequence[float]], **kwargs: object
) -> dict[str, OperatingCharacteristics]:
    """`operating_characteristics` for each named scenario (same seed for each)."""
    if not scenarios:
        raise ValueError("at least one scenario is required")
    return {
        name: operating_characteristics(design, rates, **kwargs)  # type: ignore[arg-type]
        for name, rates in scenarios.items()
    }


def _design_table(
    name: str,
    target: float,
    max_n: int,
    eps1: float,
    eps2: float,
    phi1: float | None,
    phi2: float | None,
    cutoff: float,
) -> IntervalTable:
    if name == "BOIN":
        return boin_actions(
            boin_table(target, max_n, phi1=phi1, phi2=phi2, cutoff_eliminate=cutoff)
        )
    if name == "i3+3":
        return i3plus3_table(target, max_n, eps1=eps1, eps2=eps2, cutoff_eliminate=cutoff)
    return mtpi2_table(target, max_n, eps1=eps1, eps2=eps2, cutoff_eliminate=cutoff)


def _action_matrix(table: IntervalTable, max_n: int) -> IntArray:
    """codes[n, y] for n = 0..max_n (row 0 unused)."""
    codes = np.full((max_n + 1, max_n + 1), _S, dtype=np.int64)
    for row in table.rows:
        for yy, act in enumerate(row.actions):
            codes[row.n, yy] = _CODE[act]
    return codes


def _simulate_interval(
    table: IntervalTable,
    rates: FloatArray,
    start: int,
    cohort_size: int,
    max_n: int,
    n_trials: int,
    n_earlystop: int | None,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray, IntArray, BoolArray, IntArray]:
    k = rates.size
    codes = _action_matrix(table, max_n)
    n = np.zeros((n_trials, k), dtype=np.int64)
    y = np.zeros((n_trials, k), dtype=np.int64)
    cur = np.full(n_trials, start, dtype=np.int64)
    elim = np.full(n_trials, k, dtype=np.int64)  # lowest eliminated dose (k: none)
    active = np.ones(n_trials, dtype=np.bool_)
    stopped_tox = np.zeros(n_trials, dtype=np.bool_)
    total = np.zeros(n_trials, dtype=np.int64)
    enrolled = 0
    while enrolled < max_n:
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        m = min(cohort_size, max_n - enrolled)
        enrolled += m
        d = cur[idx]
        tox = rng.binomial(m, rates[d])
        n[idx, d] += m
        y[idx, d] += tox
        total[idx] += m
        nd = n[idx, d]
        act = codes[nd, y[idx, d]]

        du = act == _DU
        elim[idx] = np.where(du, np.minimum(elim[idx], d), elim[idx])
        stop_now = du & (d == 0)
        up = (act == _E) & (d + 1 < elim[idx]) & (d + 1 < k)
        down = ((act == _D) | du) & (d > 0)
        new = d + up.astype(np.int64) - down.astype(np.int64)
        cur[idx] = new
        stopped_tox[idx] = stop_now
        if n_earlystop is not None:
            stop_now = stop_now | (nd >= n_earlystop)
        active[idx[stop_now]] = False

    selected = _select_mtd(n, y, elim, table.target)
    selected[stopped_tox] = k
    return n, y, selected, stopped_tox, total


def _select_mtd(n: IntArray, y: IntArray, elim: IntArray, target: float) -> IntArray:
    """BOIN-style selection, vectorised: isotonic regression by the max-min formula."""
    t, k = n.shape
    dose_idx = np.arange(k)
    admissible = (n > 0) & (dose_idx[None, :] < elim[:, None])
    nf = n.astype(np.float64)
    yf = y.astype(np.float64)
    phat = (yf + 0.05) / (nf + 0.1)
    var = (yf + 0.05) * (nf - yf + 0.05) / ((nf + 0.1) ** 2 * (nf + 0.1 + 1.0))
    w = np.where(admissible, 1.0 / var, 0.0)
    cw = np.concatenate([np.zeros((t, 1)), np.cumsum(w, axis=1)], axis=1)
    cwx = np.concatenate([np.zeros((t, 1)), np.cumsum(w * phat, axis=1)], axis=1)
    # avg[:, j, l] = weighted mean over doses j..l (NaN when no admissible dose inside)
    num = cwx[:, None, 1:] - cwx[:, :-1, None]
    den = cw[:, None, 1:] - cw[:, :-1, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = num / den
    jj, ll = np.meshgrid(dose_idx, dose_idx, indexing="ij")
    iso = np.empty((t, k))
    for i in range(k):
        valid = (jj <= i) & (ll >= i)
        block = np.where(valid[None, :, :] & ~np.isnan(avg), avg, np.inf)
        inner = block.min(axis=2)  # min over l >= i
        inner = np.where(np.isinf(inner), -np.inf, inner)
        iso[:, i] = inner.max(axis=1)  # max over j <= i
    iso = iso + (dose_idx + 1)[None, :] * 1e-10
    dist = np.where(admissible, np.abs(iso - target), np.inf)
    chosen: IntArray = np.argmin(dist, axis=1).astype(np.int64)
    none = ~admissible.any(axis=1)
    chosen[none] = k
    return chosen


def _simulate_3plus3(
    rates: FloatArray,
    start: int,
    max_n: int,
    n_trials: int,
    allow_deescalation: bool,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray, IntArray, BoolArray, IntArray]:
    k = rates.size
    n = np.zeros((n_trials, k), dtype=np.int64)
    y = np.zeros((n_trials, k), dtype=np.int64)
    cur = np.full(n_trials, start, dtype=np.int64)
    toxic_from = np.full(n_trials, k, dtype=np.int64)
    selected = np.full(n_trials, -1, dtype=np.int64)
    total = np.zeros(n_trials, dtype=np.int64)
    enrolled = 0
    while enrolled + 3 <= max_n:
        idx = np.nonzero(selected < 0)[0]
        if idx.size == 0:
            break
        enrolled += 3
        d = cur[idx]
        tox = rng.binomial(3, rates[d])
        n[idx, d] += 3
        y[idx, d] += tox
        total[idx] += 3
        nc = n[idx, d]
        yc = y[idx, d]
        tf = toxic_from[idx]
        sel = selected[idx]
        nxt = d.copy()

        exceeded = yc >= 2
        ok = ~exceeded
        expand = ok & (nc == 3) & (yc == 1)
        esc = ok & ~expand
        can_up = esc & (d + 1 < tf) & (d + 1 < k)
        nxt[can_up] = d[can_up] + 1
        settle = esc & ~can_up & (nc >= 6)
        sel[settle] = d[settle]

        tf = np.where(exceeded, d, tf)
        at_bottom = exceeded & (d == 0)
        sel[at_bottom] = k
        below = exceeded & (d > 0)
        nb = n[idx, np.maximum(d - 1, 0)]
        declare = below & ((not allow_deescalation) | (nb >= 6))
        sel[declare] = d[declare] - 1
        go_down = below & ~declare
        nxt[go_down] = d[go_down] - 1

        cur[idx] = nxt
        toxic_from[idx] = tf
        selected[idx] = sel

    stopped_tox = selected == k
    # Trials still open at max N: highest dose below the toxic one with >= 6 pts and <= 1 DLT.
    open_ = np.nonzero(selected < 0)[0]
    if open_.size:
        dose_idx = np.arange(k)
        qualifies = (
            (n[open_] >= 6) & (y[open_] <= 1) & (dose_idx[None, :] < toxic_from[open_, None])
        )
        best = np.where(qualifies, dose_idx[None, :], -1).max(axis=1)
        selected[open_] = np.where(best >= 0, best, k)
    return n, y, selected, stopped_tox, total
