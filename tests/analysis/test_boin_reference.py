"""BOIN operating characteristics against the BOIN R package's own simulator, `get.oc`.

Reference figures: BOIN 2.7.2 (CRAN, 2021-01-19), functions get.oc, get.boundary and
select.mtd as published in the CRAN mirror github.com/cran/BOIN (commit "version 2.7.2",
R/get.oc.R, R/get.boundary.R, R/select.mtd.R), run under R 4.2.2 by
tests/analysis/reference/boin_get_oc.R with ntrial = 20000 and seed = 6. The first scenario
is the example of the package's get.oc help page (man/get.oc.Rd). No selection percentages
with n.earlystop could be found in the package's documentation, so the package itself was run.

Since 2.6.5 (rule as now since 2.6.8), get.oc stops a trial at the per-dose cap n.earlystop
only when the next cohort would stay at the current dose; protocmc used to stop as soon as the
dose had n.earlystop patients, which selected DL4 of the BCMA example in 34.5% of trials
against the package's 43.3%.

A second check is independent of R: `get_oc_scalar` below is a line-by-line Python
transcription of get.oc and select.mtd (2.7.2), run trial by trial, compared with protocmc's
vectorised simulator for BOIN, i3+3 and mTPI-2 within Monte Carlo error.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from generator.analysis import escalation as esc
from generator.analysis import simulation as sim

TRIALS = 20_000

# name: (target, p.true, ncohort, cohortsize, n.earlystop, startdose,
#        selpercent per dose, percentstop, npatients per dose, totaln)
BOIN_2_7_2 = {
    "manual_example": (
        0.3, [0.05, 0.15, 0.3, 0.45, 0.6], 20, 3, 100, 1,
        [1.14, 22.02, 66.61, 10.06, 0.14], 0.03,
        [4.576, 16.955, 28.168, 9.155, 1.130], 59.983,
    ),
    "manual_example_cap12": (
        0.3, [0.05, 0.15, 0.3, 0.45, 0.6], 20, 3, 12, 1,
        [1.53, 27.03, 55.48, 15.40, 0.55], 0.01,
        [3.996, 8.070, 10.233, 4.995, 0.864], 28.158,
    ),
    "bcma_expected_cap9": (
        0.3, [0.05, 0.10, 0.20, 0.30, 0.45], 10, 3, 9, 1,
        [0.83, 7.12, 30.39, 43.29, 18.37], 0.01,
        [3.651, 4.889, 6.659, 6.249, 3.220], 24.669,
    ),
    "bcma_all_safe_cap9": (
        0.3, [0.02, 0.05, 0.08, 0.12, 0.18], 10, 3, 9, 1,
        [0.05, 0.60, 2.44, 8.55, 88.36], 0.00,
        [3.209, 3.589, 4.061, 4.769, 8.150], 23.778,
    ),
    "toxic_start2_cap9": (
        0.25, [0.15, 0.30, 0.45, 0.60], 8, 3, 9, 2,
        [41.80, 49.59, 7.56, 0.26], 0.80,
        [6.332, 8.604, 3.009, 0.439], 18.383,
    ),
    "cohort1_cap9": (
        0.2, [0.08, 0.2, 0.35, 0.5], 18, 1, 9, 1,
        [23.51, 48.54, 22.45, 3.74], 1.76,
        [4.256, 5.825, 4.081, 1.849], 16.011,
    ),
}  # fmt: skip


def _pct_tolerance(pct: float, n1: int, n2: int) -> float:
    """4.5 standard errors of the difference of two independent percentages (floor 0.3)."""
    p = max(pct / 100.0, 0.002)
    return 100 * 4.5 * math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2)) + 0.3


@pytest.mark.parametrize("name", list(BOIN_2_7_2))
def test_boin_matches_boin_package_get_oc(name: str) -> None:
    target, rates, ncohort, cohort, cap, start, sel, stop, npts, totaln = BOIN_2_7_2[name]
    oc = sim.operating_characteristics(
        "BOIN",
        rates,
        target=target,
        cohort_size=cohort,
        max_n=ncohort * cohort,
        start_dose=start,
        n_trials=TRIALS,
        n_earlystop=None if cap >= ncohort * cohort else cap,
    )
    for dose, want in zip(oc.doses, sel, strict=True):
        assert abs(100 * dose.p_select - want) < _pct_tolerance(want, TRIALS, 20_000), dose
    assert abs(100 * oc.p_no_dose - stop) < _pct_tolerance(stop, TRIALS, 20_000)
    for dose, want in zip(oc.doses, npts, strict=True):
        assert dose.mean_patients == pytest.approx(want, abs=0.25), dose
    assert oc.mean_patients == pytest.approx(totaln, abs=0.3)


def test_bcma_expected_scenario_selects_dl4_as_often_as_the_package() -> None:
    """The figure of the finding: DL4 43.3% in BOIN 2.7.2, 34.5% with the old cap rule."""
    oc = sim.operating_characteristics(
        "BOIN",
        [0.05, 0.10, 0.20, 0.30, 0.45],
        target=0.3,
        max_n=30,
        n_trials=TRIALS,
        n_earlystop=9,
    )
    assert 41.0 < 100 * oc.doses[3].p_select < 45.6


# ---- get.oc / select.mtd (BOIN 2.7.2) transcribed trial by trial --------------------------


def _pava_r(x: list[float], wt: list[float]) -> list[float]:
    """select.mtd's inner `pava`: pool the first violating pair until none is left."""
    x = list(x)
    n = len(x)
    if n <= 1:
        return x
    lvl = list(range(n))
    while True:
        viol = [i for i in range(n - 1) if x[i + 1] - x[i] < 0]
        if not viol:
            return x
        i = viol[0]
        l1, l2 = lvl[i], lvl[i + 1]
        members = [j for j in range(n) if lvl[j] in (l1, l2)]
        v = sum(x[j] * wt[j] for j in members) / sum(wt[j] for j in members)
        for j in members:
            x[j] = v
            lvl[j] = l1


def select_mtd_r(
    target: float, n: list[int], y: list[int], elim_count: Callable[[int], int | None]
) -> int | None:
    """select.mtd (extrasafe = FALSE, boundMTD = FALSE); None: no dose (the package's 99)."""
    k = len(n)
    elimi = [0] * k
    for i in range(k):
        e = elim_count(n[i]) if n[i] >= 3 else None
        if e is not None and y[i] >= e:
            for j in range(i, k):
                elimi[j] = 1
            break
    if elimi[0] == 1 or sum(n[i] for i in range(k) if elimi[i] == 0) == 0:
        return None
    adm = [i for i in range(k) if n[i] != 0 and elimi[i] == 0]
    phat = [(y[i] + 0.05) / (n[i] + 0.1) for i in adm]
    var = [
        (y[i] + 0.05) * (n[i] - y[i] + 0.05) / ((n[i] + 0.1) ** 2 * (n[i] + 0.1 + 1)) for i in adm
    ]
    iso = _pava_r(phat, [1 / v for v in var])
    iso = [v + (j + 1) * 1e-10 for j, v in enumerate(iso)]
    dist = [abs(v - target) for v in iso]
    return adm[dist.index(min(dist))]  # R's sort(..., index.return = TRUE)$ix[1]: first minimum


def get_oc_scalar(
    table: esc.IntervalTable,
    p_true: list[float],
    npts: int,
    cohortsize: int,
    n_earlystop: int,
    startdose: int,
    ntrial: int,
    seed: int,
) -> tuple[list[float], float, list[float]]:
    """get.oc's trial loop for any (n, y) -> action table; returns selection %, % stop, npts.

    BOIN's b.e / b.d / b.elim comparisons are read from the action table (E: y <= b.e,
    D: y >= b.d, DU: y >= b.elim), which `esc.boin_actions` builds from the same boundaries.
    """
    rng = np.random.default_rng(seed)
    k = len(p_true)
    sel = [0] * (k + 1)
    npat = [0.0] * k

    def elim_count(n: int) -> int | None:
        ys = table.rows[n - 1].dlts_for(esc.Action.ELIMINATE)
        return ys[0] if ys else None

    for _ in range(ntrial):
        y, n = [0] * k, [0] * k
        d = startdose - 1
        elimi = [0] * k
        earlystop = False
        while True:
            newcohort = rng.random(cohortsize) < p_true[d]
            if sum(n) + cohortsize >= npts:
                nremain = npts - sum(n)
                y[d] += int(newcohort[:nremain].sum())
                n[d] += nremain
                break
            y[d] += int(newcohort.sum())
            n[d] += cohortsize
            act = table.action(n[d], y[d])
            if act is esc.Action.ELIMINATE:
                for j in range(d, k):
                    elimi[j] = 1
                if d == 0:
                    earlystop = True
                    break
            escalate = act is esc.Action.ESCALATE
            deescalate = act in (esc.Action.DEESCALATE, esc.Action.ELIMINATE)
            if n[d] >= n_earlystop and (
                (not escalate and not deescalate)
                or (d == 0 and deescalate)
                or ((d == k - 1 or elimi[d + 1] == 1) and escalate)
            ):
                break
            if escalate and d != k - 1:
                if elimi[d + 1] == 0:
                    d += 1
            elif deescalate and d != 0:
                d -= 1
        for i in range(k):
            npat[i] += n[i]
        chosen = None if earlystop else select_mtd_r(table.target, n, y, elim_count)
        sel[k if chosen is None else chosen] += 1
    return [100 * s / ntrial for s in sel[:k]], 100 * sel[k] / ntrial, [v / ntrial for v in npat]


def test_scalar_transcription_reproduces_the_package_figures() -> None:
    """The transcription itself agrees with BOIN 2.7.2 (so it can stand in for R below)."""
    target, rates, ncohort, cohort, cap, start, sel, stop, npts, _ = BOIN_2_7_2[
        "bcma_expected_cap9"
    ]
    table = esc.boin_actions(esc.boin_table(target, ncohort * cohort))
    got_sel, got_stop, got_n = get_oc_scalar(
        table, rates, ncohort * cohort, cohort, cap, start, 4000, 1
    )
    for g, w in zip(got_sel, sel, strict=True):
        assert abs(g - w) < _pct_tolerance(w, 4000, 20_000)
    assert abs(got_stop - stop) < _pct_tolerance(stop, 4000, 20_000)
    for g, w in zip(got_n, npts, strict=True):
        assert g == pytest.approx(w, abs=0.35)


@pytest.mark.parametrize(
    ("design", "rates", "max_n", "cohort", "cap", "start"),
    [
        ("BOIN", [0.1, 0.22, 0.35, 0.5], 21, 3, 9, 1),
        ("BOIN", [0.3, 0.45, 0.6], 20, 3, 12, 2),  # partial last cohort, start above dose 1
        ("i3+3", [0.05, 0.12, 0.3, 0.45], 24, 3, 9, 1),
        ("mTPI-2", [0.1, 0.25, 0.4, 0.55], 24, 3, 12, 1),
        ("mTPI-2", [0.05, 0.1, 0.2, 0.3], 18, 2, 6, 1),
    ],
)
def test_vectorised_simulator_matches_scalar_get_oc(
    design: str, rates: list[float], max_n: int, cohort: int, cap: int, start: int
) -> None:
    target = 0.3
    table = sim._design_table(design, target, max_n, 0.05, 0.05, None, None, 0.95, 3)
    ref_sel, ref_stop, ref_n = get_oc_scalar(table, rates, max_n, cohort, cap, start, 3000, 99)
    oc = sim.operating_characteristics(
        design,
        rates,
        target=target,
        cohort_size=cohort,
        max_n=max_n,
        start_dose=start,
        n_trials=20_000,
        n_earlystop=cap,
    )
    for dose, want in zip(oc.doses, ref_sel, strict=True):
        assert abs(100 * dose.p_select - want) < _pct_tolerance(want, 3000, 20_000), dose
    assert abs(100 * oc.p_no_dose - ref_stop) < _pct_tolerance(ref_stop, 3000, 20_000)
    for dose, want in zip(oc.doses, ref_n, strict=True):
        assert dose.mean_patients == pytest.approx(want, abs=0.4), dose
