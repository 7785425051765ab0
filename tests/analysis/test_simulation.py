"""Simulated operating characteristics: exact 3+3, a scalar reference simulator, PAVA."""

from __future__ import annotations

import math

import numpy as np
import pytest

from generator.analysis import escalation as esc
from generator.analysis import simulation as sim


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-4) / n)


@pytest.mark.parametrize("allow", [True, False])
@pytest.mark.parametrize(
    "rates", [[0.05, 0.12, 0.25, 0.40, 0.55], [0.30, 0.45, 0.60], [0.02, 0.05, 0.08, 0.1]]
)
def test_3plus3_simulation_matches_exact_enumeration(rates: list[float], allow: bool) -> None:
    trials = 40_000
    oc = sim.operating_characteristics("3+3", rates, n_trials=trials, allow_deescalation=allow)
    exact = esc.three_plus_three_exact_oc(rates, allow_deescalation=allow)
    for got, want in zip(oc.doses, exact.doses, strict=True):
        assert abs(got.p_select - want.p_select) < 4.5 * _se(want.p_select, trials)
        assert got.mean_patients == pytest.approx(want.mean_patients, abs=0.06)
        assert got.mean_dlts == pytest.approx(want.mean_dlts, abs=0.04)
    assert abs(oc.p_no_dose - exact.p_no_dose) < 4.5 * _se(exact.p_no_dose, trials)
    assert oc.mean_patients == pytest.approx(exact.mean_patients, abs=0.12)


def test_3plus3_start_dose_and_all_toxic() -> None:
    oc = sim.operating_characteristics("3+3", [0.99, 0.99, 0.99], start_dose=1, n_trials=500)
    assert oc.p_no_dose == pytest.approx(1.0, abs=0.01)
    assert oc.p_stop_toxicity == oc.p_no_dose


# ---- scalar reference implementation of the interval designs (written from the papers) ----


def _pava(values: list[float], weights: list[float]) -> list[float]:
    blocks: list[list[float]] = []  # [value, weight, count]
    for v, w in zip(values, weights, strict=True):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for v, _, c in blocks:
        out += [v] * int(c)
    return out


def _select_scalar(n: list[int], y: list[int], elim: int, target: float) -> int:
    k = len(n)
    adm = [d for d in range(k) if n[d] > 0 and d < elim]
    if not adm:
        return k
    ph = [(y[d] + 0.05) / (n[d] + 0.1) for d in adm]
    var = [(y[d] + 0.05) * (n[d] - y[d] + 0.05) / ((n[d] + 0.1) ** 2 * (n[d] + 1.1)) for d in adm]
    iso = _pava(ph, [1 / v for v in var])
    iso = [v + (i + 1) * 1e-10 for i, v in enumerate(iso)]
    best = min(range(len(adm)), key=lambda i: abs(iso[i] - target))
    return adm[best]


def test_vectorised_isotonic_selection_equals_scalar_pava() -> None:
    rng = np.random.default_rng(7)
    t, k = 3000, 6
    n = rng.integers(0, 12, size=(t, k))
    y = np.minimum(rng.integers(0, 6, size=(t, k)), n)
    elim = rng.integers(1, k + 1, size=t)
    target = 0.27
    got = sim._select_mtd(n, y, elim, target)
    for i in range(t):
        want = _select_scalar(list(n[i]), list(y[i]), int(elim[i]), target)
        assert got[i] == want, (n[i], y[i], elim[i])


def _simulate_scalar(
    table: esc.IntervalTable, rates: list[float], cohort: int, max_n: int, trials: int, seed: int
) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(seed)
    k = len(rates)
    counts = np.zeros(k + 1)
    patients = 0.0
    for _ in range(trials):
        n, y = [0] * k, [0] * k
        d, elim, stopped, total = 0, k, False, 0
        while total < max_n:
            m = min(cohort, max_n - total)
            tox = int(rng.binomial(m, rates[d]))
            n[d] += m
            y[d] += tox
            total += m
            act = table.action(n[d], y[d])
            if act is esc.Action.ELIMINATE:
                elim = min(elim, d)
                if d == 0:
                    stopped = True
                    break
                d -= 1
            elif act is esc.Action.ESCALATE:
                if d + 1 < elim and d + 1 < k:
                    d += 1
            elif act is esc.Action.DEESCALATE and d > 0:
                d -= 1
        counts[k if stopped else _select_scalar(n, y, elim, table.target)] += 1
        patients += total
    return counts / trials, patients / trials


@pytest.mark.parametrize(
    ("design", "table"),
    [
        ("BOIN", esc.boin_actions(esc.boin_table(0.3, 21))),
        ("i3+3", esc.i3plus3_table(0.3, 21)),
        ("mTPI-2", esc.mtpi2_table(0.3, 21)),
    ],
)
def test_interval_design_simulation_matches_scalar_reference(
    design: str, table: esc.IntervalTable
) -> None:
    rates = [0.1, 0.22, 0.35, 0.5]  # scenario not taken from any reference
    ref, ref_n = _simulate_scalar(table, rates, 3, 21, 3000, seed=99)
    oc = sim.operating_characteristics(design, rates, target=0.3, max_n=21, n_trials=20_000)
    got = [d.p_select for d in oc.doses] + [oc.p_no_dose]
    for g, r in zip(got, ref, strict=True):
        se = math.sqrt(_se(r, 3000) ** 2 + _se(r, 20_000) ** 2)
        assert abs(g - r) < 4.5 * se
    assert oc.mean_patients == pytest.approx(ref_n, abs=0.3)


def test_simulation_is_reproducible_and_seeded() -> None:
    args = ("boin", [0.1, 0.25, 0.4])
    a = sim.operating_characteristics(*args, target=0.25, max_n=18, n_trials=2000)
    b = sim.operating_characteristics(*args, target=0.25, max_n=18, n_trials=2000)
    c = sim.operating_characteristics(*args, target=0.25, max_n=18, n_trials=2000, seed=1)
    assert a == b
    assert a != c


def test_boin_stops_when_lowest_dose_too_toxic() -> None:
    oc = sim.operating_characteristics("boin", [0.8, 0.9], target=0.3, max_n=30, n_trials=2000)
    assert oc.p_stop_toxicity > 0.95
    assert oc.p_early_stop >= oc.p_stop_toxicity
    assert oc.p_no_dose == pytest.approx(oc.p_stop_toxicity)


def test_boin_n_earlystop() -> None:
    oc = sim.operating_characteristics(
        "boin", [0.3], target=0.3, max_n=30, n_trials=500, n_earlystop=9
    )
    assert oc.mean_patients <= 9 + 1e-9


def test_simulate_scenarios() -> None:
    res = sim.simulate_scenarios(
        "i3+3", {"a": [0.1, 0.3], "b": [0.3, 0.5]}, target=0.3, max_n=12, n_trials=200
    )
    assert list(res) == ["a", "b"]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("crm", [0.1]), {"target": 0.3, "max_n": 9}, "unknown design"),
        (("boin", [0.1]), {"max_n": 9}, "target"),
        (("boin", [0.1]), {"target": 0.3}, "max N"),
        (("boin", []), {"target": 0.3, "max_n": 9}, "at least one dose"),
        (("boin", [0.1, 1.4]), {"target": 0.3, "max_n": 9}, "between 0 and 1"),
        (("boin", [0.1]), {"target": 0.3, "max_n": 9, "start_dose": 2}, "start dose"),
        (("3+3", [0.1]), {"cohort_size": 2}, "cohorts of 3"),
        (("boin", [0.1]), {"target": 0.3, "max_n": 9, "n_trials": 0}, "simulated trials"),
        (("boin", [0.1]), {"target": 0.3, "max_n": 9, "seed": -1}, "seed"),
    ],
)
def test_simulation_rejects_bad_parameters(
    args: tuple[str, list[float]], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sim.operating_characteristics(*args, **kwargs)  # type: ignore[arg-type]
