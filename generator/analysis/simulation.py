"""Operating characteristics of dose-escalation designs by vectorised simulation.

Trials run in chunks (`defaults.SIM_CHUNK`); inside a chunk all trials advance together,
cohort by cohort, as numpy arrays. The decision at the current dose is a table lookup on
(patients, DLTs) for BOIN, i3+3 and mTPI-2 and a few array rules for 3+3. A patient's DLT is
a uniform draw below the true rate, the uniform coming from a counter-based generator keyed
by the seed and counted by (trial, cohort) (analysis/philox.py): the figures depend only on
the seed and the number of trials, not on the chunk size, and scenarios share their random
numbers (common random numbers, so differences between scenarios are not noise).

Interval designs (BOIN, i3+3, mTPI-2) follow `BOIN::get.oc` (BOIN 2.7.2):
- after each cohort: eliminate the current dose and all higher ones when the elimination
  count is reached (stop the trial, no dose selected, if that is the lowest dose); escalate
  (unless at the top dose or the next dose is eliminated), de-escalate (unless at the lowest
  dose) or stay;
- per-dose cap `n_earlystop`: once the current dose has treated at least n_earlystop
  patients, the trial stops when the next cohort would go to that same dose (a stay decision,
  an escalation that is impossible, or a de-escalation from the lowest dose). A dose can
  therefore treat more than n_earlystop patients when the trial moves away and comes back;
- MTD as `BOIN::select.mtd`: doses eliminated by the data (n >= min n and the elimination
  count reached, with all higher doses) and untreated doses are excluded; the estimates
  (y + 0.05) / (n + 0.1) are smoothed by weighted isotonic regression (pool-adjacent-violators,
  weights 1 / variance), 1e-10 x dose index is added, and the dose whose estimate is closest to
  the target is selected (ties: the lowest dose). No dose if the lowest dose is eliminated.

3+3 (Storer 1989): cohorts of 3; the MTD is the highest dose with a DLT rate <= 1/6 (0 of 3
or <= 1 of 6) below the lowest dose with >= 2 DLTs; see `escalation.three_plus_three_rules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.analysis.defaults import (
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    MAX_DOSES,
    MAX_TRIALS,
    SIM_CHUNK,
    check_positive_int,
)
from generator.analysis.escalation import (
    SOURCE_3PLUS3,
    Action,
    IntervalTable,
    _check_rates,
    boin_actions,
    boin_table,
    check_max_n,
    check_probability,
    i3plus3_table,
    mtpi2_table,
)
from generator.lazy import LazyModule

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

# Why a trial ended
_RAN_TO_MAX_N, _STOP_TOXICITY, _STOP_CAP, _STOP_RULE = 0, 1, 2, 3

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from generator.analysis import philox

    IntArray = npt.NDArray[np.int64]
    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]
else:
    # numpy loads on first use: unpickling cached operating characteristics needs only the
    # classes of this module
    np = LazyModule("numpy")
    philox = LazyModule("generator.analysis.philox")


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
    # The trial ended by a stopping rule instead of by enrolling max N: the safety stop (lowest
    # dose too toxic), the per-dose cap (n_earlystop), or for 3+3 the end of its algorithm.
    # A safety stop counts even at the last cohort, so p_early_stop >= p_stop_toxicity.
    p_early_stop: float
    p_stop_toxicity: float  # safety stop: lowest dose eliminated / exceeded the MTD
    mean_patients: float
    mean_dlts: float
    source: str
    method: str = "simulation"
    n_earlystop: int | None = None  # per-dose cap of the interval designs (None: no cap)


def normalise_design(design: str) -> str:
    key = design.strip().lower()
    if key not in _ALIASES:
        raise ValueError(f"unknown design '{design}'; choose one of: {', '.join(DESIGNS)}")
    return _ALIASES[key]


@dataclass
class _Totals:
    """Integer sums over all chunks: exact, so chunking cannot change the result."""

    k: int
    selected: IntArray
    patients: IntArray
    dlts: IntArray
    early: int = 0
    toxicity: int = 0

    @classmethod
    def empty(cls, k: int) -> _Totals:
        z = np.zeros(k, dtype=np.int64)
        return cls(k, np.zeros(k + 1, dtype=np.int64), z.copy(), z.copy())

    def add(self, n: IntArray, y: IntArray, selected: IntArray, reason: IntArray) -> None:
        self.selected += np.bincount(selected, minlength=self.k + 1)
        self.patients += n.sum(axis=0, dtype=np.int64)
        self.dlts += y.sum(axis=0, dtype=np.int64)
        self.early += int(np.count_nonzero(reason != _RAN_TO_MAX_N))
        self.toxicity += int(np.count_nonzero(reason == _STOP_TOXICITY))


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
    min_n_eliminate: int = 3,
    n_earlystop: int | None = None,
    chunk_size: int = SIM_CHUNK,
) -> OperatingCharacteristics:
    """Simulate `n_trials` trials of one design under one scenario of true DLT rates.

    `target` is required for BOIN, i3+3 and mTPI-2. `max_n` defaults to 6 x doses for 3+3
    (never binding) and is required for the other designs. For 3+3 the cohort size is 3.
    `n_earlystop` is the per-dose cap of the interval designs (see the module docstring).
    Limits: n_trials <= MAX_TRIALS, max_n <= MAX_N, doses <= MAX_DOSES (defaults.py).
    """
    name = normalise_design(design)
    rates = np.array(_check_rates(list(true_rates)), dtype=np.float64)
    k = rates.size
    if k > MAX_DOSES:
        raise ValueError(f"at most {MAX_DOSES} dose levels can be simulated, got {k}")
    start = check_positive_int("start dose", start_dose)
    if start > k:
        raise ValueError(f"start dose must be <= number of doses ({k}), got {start}")
    n_trials = check_positive_int("number of simulated trials", n_trials)
    if n_trials > MAX_TRIALS:
        raise ValueError(f"number of simulated trials must be <= {MAX_TRIALS:,}, got {n_trials:,}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    chunk = check_positive_int("chunk size", chunk_size)
    key = philox.key_from_seed(int(seed))
    totals = _Totals.empty(k)
    cap_stop: int | None = None

    if name == "3+3":
        if cohort_size != 3:
            raise ValueError(f"3+3 uses cohorts of 3, got cohort size {cohort_size}")
        cap = 6 * k if max_n is None else check_max_n(max_n)
        if cap < 3:
            raise ValueError(f"max N must be >= 3 for 3+3 (one cohort), got {cap}")
        source = SOURCE_3PLUS3
        tgt = None if target is None else check_probability("target DLT rate", target)
        for first in range(0, n_trials, chunk):
            ids = np.arange(first, min(first + chunk, n_trials), dtype=np.int64)
            totals.add(*_simulate_3plus3(rates, start - 1, cap, ids, allow_deescalation, key))
    else:
        if target is None:
            raise ValueError(f"{name} needs a target DLT rate")
        tgt = check_probability("target DLT rate", target)
        if max_n is None:
            raise ValueError(f"{name} needs a maximum sample size (max N)")
        cap = check_max_n(max_n)
        cs = check_positive_int("cohort size", cohort_size)
        if cs > cap:
            raise ValueError(f"cohort size ({cs}) must be <= max N ({cap})")
        if n_earlystop is not None:
            cap_stop = check_positive_int("n early stop (per-dose cap)", n_earlystop)
        table = _design_table(
            name, tgt, cap, eps1, eps2, phi1, phi2, cutoff_eliminate, min_n_eliminate
        )
        codes = _action_matrix(table, cap)
        elim_count = _elimination_counts(table, cap)
        for first in range(0, n_trials, chunk):
            ids = np.arange(first, min(first + chunk, n_trials), dtype=np.int64)
            n, y, reason = _simulate_interval(codes, rates, start - 1, cs, cap, ids, cap_stop, key)
            selected = select_mtd(n, y, elim_count, tgt, min_n_eliminate)
            totals.add(n, y, selected, reason)
        source = table.source

    doses = tuple(
        DoseOC(
            dose=d + 1,
            true_rate=float(rates[d]),
            p_select=float(totals.selected[d]) / n_trials,
            mean_patients=float(totals.patients[d]) / n_trials,
            mean_dlts=float(totals.dlts[d]) / n_trials,
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
        p_no_dose=float(totals.selected[k]) / n_trials,
        p_early_stop=totals.early / n_trials,
        p_stop_toxicity=totals.toxicity / n_trials,
        mean_patients=float(totals.patients.sum()) / n_trials,
        mean_dlts=float(totals.dlts.sum()) / n_trials,
        source=source,
        n_earlystop=cap_stop,
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
    min_n: int,
) -> IntervalTable:
    if name == "BOIN":
        return boin_actions(
            boin_table(
                target, max_n, phi1=phi1, phi2=phi2, cutoff_eliminate=cutoff, min_n_eliminate=min_n
            )
        )
    make = i3plus3_table if name == "i3+3" else mtpi2_table
    return make(target, max_n, eps1=eps1, eps2=eps2, cutoff_eliminate=cutoff, min_n_eliminate=min_n)


def _action_matrix(table: IntervalTable, max_n: int) -> npt.NDArray[np.int8]:
    """codes[n, y] for n = 0..max_n (row 0 unused)."""
    codes = np.full((max_n + 1, max_n + 1), _S, dtype=np.int8)
    for row in table.rows:
        codes[row.n, : len(row.actions)] = [_CODE[a] for a in row.actions]
    return codes


def _elimination_counts(table: IntervalTable, max_n: int) -> IntArray:
    """elim[n] = fewest DLTs in n patients that eliminate a dose (max_n + 1: never)."""
    out = np.full(max_n + 1, max_n + 1, dtype=np.int64)
    for row in table.rows:
        ys = row.dlts_for(Action.ELIMINATE)
        if ys:
            out[row.n] = ys[0]
    return out


def _dlts(key: tuple[int, int], ids: IntArray, step: int, m: int, rates: FloatArray) -> IntArray:
    """DLTs among m patients of each trial's current cohort (rates: true rate per trial)."""
    u = philox.uniforms(key, ids, step, m)
    return np.asarray(np.count_nonzero(u < rates[:, None], axis=1), dtype=np.int64)


def _simulate_interval(
    codes: npt.NDArray[np.int8],
    rates: FloatArray,
    start: int,
    cohort_size: int,
    max_n: int,
    ids: IntArray,
    n_earlystop: int | None,
    key: tuple[int, int],
) -> tuple[IntArray, IntArray, IntArray]:
    """One chunk of trials: patients and DLTs per dose, and why each trial ended."""
    t, k = ids.size, rates.size
    n = np.zeros((t, k), dtype=np.int64)
    y = np.zeros((t, k), dtype=np.int64)
    cur = np.full(t, start, dtype=np.int64)
    elim = np.full(t, k, dtype=np.int64)  # lowest eliminated dose (k: none)
    reason = np.full(t, _RAN_TO_MAX_N, dtype=np.int64)
    idx = np.arange(t)
    n_flat, y_flat = n.reshape(-1), y.reshape(-1)  # views: 1-d indexing is faster
    enrolled, step = 0, 0
    while enrolled < max_n and idx.size:
        m = min(cohort_size, max_n - enrolled)
        enrolled += m
        d = cur[idx]
        cell = idx * k + d
        tox = _dlts(key, ids[idx], step, m, rates[d])
        step += 1
        n_flat[cell] += m
        y_flat[cell] += tox
        nd = n_flat[cell]
        act = codes[nd, y_flat[cell]]

        du = act == _DU
        el = np.where(du, np.minimum(elim[idx], d), elim[idx])
        elim[idx] = el
        safety = du & (d == 0)
        up = (act == _E) & (d + 1 < el) & (d + 1 < k)
        down = ((act == _D) | du) & (d > 0)
        nxt = d + up - down
        cur[idx] = nxt
        reason[idx[safety]] = _STOP_TOXICITY
        stop = safety
        if n_earlystop is not None and enrolled < max_n:
            # BOIN >= 2.6.8: the cap ends the trial only when the next cohort would stay here
            capped = (nd >= n_earlystop) & (nxt == d) & ~safety
            reason[idx[capped]] = _STOP_CAP
            stop = stop | capped
        idx = idx[~stop]
    return n, y, reason


def select_mtd(
    n: IntArray, y: IntArray, elim_count: IntArray, target: float, min_n_eliminate: int = 3
) -> IntArray:
    """MTD index per trial as `BOIN::select.mtd` chooses it (k: no dose), vectorised.

    `elim_count[n]` is the fewest DLTs among n patients that eliminate a dose. A dose with
    n >= min_n_eliminate reaching it is eliminated with every higher dose; no dose is selected
    when the lowest dose is eliminated or no dose left was treated. Among the treated doses
    left, the isotonic (pool-adjacent-violators) estimates of (y + 0.05) / (n + 0.1), weighted
    by 1 / variance, plus 1e-10 x position, are compared with the target; the closest wins
    (first on ties). The max-min formula of isotonic regression, over positions, replaces the
    sequential pooling and gives the same estimates.
    """
    t, k = n.shape
    dose_idx = np.arange(k)
    hit = (n >= min_n_eliminate) & (y >= elim_count[n])
    lowest_elim = np.where(hit.any(axis=1), np.argmax(hit, axis=1), k)
    admissible = (n > 0) & (dose_idx[None, :] < lowest_elim[:, None])
    nf = n.astype(np.float64)
    yf = y.astype(np.float64)
    phat = (yf + 0.05) / (nf + 0.1)
    var = (yf + 0.05) * (nf - yf + 0.05) / ((nf + 0.1) ** 2 * (nf + 0.1 + 1.0))
    w = np.where(admissible, 1.0 / var, 0.0)
    cw = np.concatenate([np.zeros((t, 1)), np.cumsum(w, axis=1)], axis=1)
    cwx = np.concatenate([np.zeros((t, 1)), np.cumsum(w * phat, axis=1)], axis=1)
    # iso[i] = max over j <= i of min over l >= i of the weighted mean of doses j..l; a block
    # with no admissible dose has weight 0 and is skipped (+inf in the min)
    iso = np.full((t, k), -np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(k):
            inner = np.full(t, np.inf)
            block_min = np.empty((t, k))
            for ll in range(k - 1, j - 1, -1):
                den = cw[:, ll + 1] - cw[:, j]
                avg = np.where(den > 0, (cwx[:, ll + 1] - cwx[:, j]) / den, np.inf)
                inner = np.minimum(inner, avg)
                block_min[:, ll] = inner  # min over l >= ll
            iso[:, j:] = np.maximum(iso[:, j:], block_min[:, j:])
    # select.mtd adds 1e-10 x (position among the admissible doses)
    position = np.cumsum(admissible, axis=1)
    iso = iso + position * 1e-10
    dist = np.where(admissible, np.abs(iso - target), np.inf)
    chosen: IntArray = np.argmin(dist, axis=1).astype(np.int64)
    chosen[~admissible.any(axis=1) | (lowest_elim == 0)] = k
    return chosen


def _simulate_3plus3(
    rates: FloatArray,
    start: int,
    max_n: int,
    ids: IntArray,
    allow_deescalation: bool,
    key: tuple[int, int],
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """One chunk of 3+3 trials: patients, DLTs, selected dose (k: none), why each ended."""
    t, k = ids.size, rates.size
    n = np.zeros((t, k), dtype=np.int64)
    y = np.zeros((t, k), dtype=np.int64)
    cur = np.full(t, start, dtype=np.int64)
    toxic_from = np.full(t, k, dtype=np.int64)
    selected = np.full(t, -1, dtype=np.int64)
    reason = np.full(t, _RAN_TO_MAX_N, dtype=np.int64)
    enrolled, step = 0, 0
    while enrolled + 3 <= max_n:
        idx = np.nonzero(selected < 0)[0]
        if idx.size == 0:
            break
        enrolled += 3
        d = cur[idx]
        tox = _dlts(key, ids[idx], step, 3, rates[d])
        step += 1
        n[idx, d] += 3
        y[idx, d] += tox
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
        reason[idx[at_bottom]] = _STOP_TOXICITY
        reason[idx[(sel >= 0) & ~at_bottom]] = _STOP_RULE

    # Trials still open at max N: the MTD definition applied to the data so far, i.e. the
    # highest dose below the lowest dose with >= 2 DLTs whose DLT rate is <= 1/6 (0/3, <= 1/6)
    open_ = np.nonzero(selected < 0)[0]
    if open_.size:
        dose_idx = np.arange(k)
        no, yo = n[open_], y[open_]
        qualifies = (no > 0) & (6 * yo <= no) & (dose_idx[None, :] < toxic_from[open_, None])
        best = np.where(qualifies, dose_idx[None, :], -1).max(axis=1)
        selected[open_] = np.where(best >= 0, best, k)
    return n, y, selected, reason
