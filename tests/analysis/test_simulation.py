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


# ---- MTD selection (BOIN::select.mtd) -------------------------------------------------------


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


def _elim_counts(target: float, max_n: int) -> np.ndarray:
    table = esc.boin_actions(esc.boin_table(target, max_n))
    return sim._elimination_counts(table, max_n)


def _select_scalar(n: list[int], y: list[int], elim_count: np.ndarray, target: float) -> int:
    k = len(n)
    lowest = next((d for d in range(k) if n[d] >= 3 and y[d] >= elim_count[n[d]]), k)
    adm = [d for d in range(k) if n[d] > 0 and d < lowest]
    if lowest == 0 or not adm:
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
    target = 0.27
    elim = _elim_counts(target, 12)
    got = sim.select_mtd(n, y, elim, target)
    for i in range(t):
        want = _select_scalar(list(n[i]), list(y[i]), elim, target)
        assert got[i] == want, (n[i], y[i])


# Hand-computed cases, target 0.3 (elimination at n = 3 needs 3 DLTs). Estimates are
# (y + 0.05) / (n + 0.1); "+ i e-10" is select.mtd's tie-break by position.
SELECTION_CASES = [
    # 0/3, 2/3, 1/3: estimates 0.016, 0.661, 0.339 violate monotonicity at doses 2-3; their
    # variances are equal, so PAVA pools them to 0.5 and 0.5. Distances 0.284, 0.2, 0.2: the
    # lower of the pooled doses wins (dose 2). The raw estimates would have picked dose 3.
    ([3, 3, 3], [0, 2, 1], 1),
    # 3/3 at dose 2 eliminates doses 2 and 3 from the data: dose 1 is the only candidate
    ([3, 3, 0], [0, 3, 0], 0),
    # lowest dose eliminated: no dose
    ([3, 0, 0], [3, 0, 0], 3),
    # 0/3, 1/6, 1/6: 0.016, 0.172, 0.172, no violation (equal is allowed); both 1/6 doses are
    # 0.128 below the target and the higher one is closer by 1e-10: dose 3
    ([3, 6, 6], [0, 1, 1], 2),
    # an untreated dose is skipped: dose 3 (0.339) beats dose 1 (0.016)
    ([3, 0, 3], [0, 0, 1], 2),
    # nothing treated: no dose
    ([0, 0, 0], [0, 0, 0], 3),
]


@pytest.mark.parametrize(("n", "y", "expected"), SELECTION_CASES)
def test_isotonic_selection_hand_computed(n: list[int], y: list[int], expected: int) -> None:
    got = sim.select_mtd(np.array([n]), np.array([y]), _elim_counts(0.3, 12), 0.3)
    assert int(got[0]) == expected


def test_cap_lets_a_dose_exceed_n_earlystop_when_the_trial_moves_on() -> None:
    """Traced by hand with BOIN's table (target 0.3, cohorts of 1, cap 2): DL1 0/1 escalate;
    DL2 1/1 de-escalate; DL1 0/2 escalate (cap reached, but the next cohort goes elsewhere);
    DL2 2/2 de-escalate; DL1 0/3 escalate; DL2 3/3 eliminated, back to DL1; DL1 0/4 cannot
    escalate, so the cap stops the trial. 4 + 3 patients; the old rule stopped at 2 + 1."""
    oc = sim.operating_characteristics(
        "boin", [0.0, 1.0], target=0.3, cohort_size=1, max_n=10, n_trials=50, n_earlystop=2
    )
    assert [d.mean_patients for d in oc.doses] == [4.0, 3.0]
    assert [d.p_select for d in oc.doses] == [1.0, 0.0]
    assert oc.p_early_stop == 1.0 and oc.p_stop_toxicity == 0.0


def test_early_stop_includes_a_safety_stop_at_the_last_cohort() -> None:
    """One cohort of 3 at a dose with DLT rate 0.9: 3/3 eliminates the lowest dose at the
    last patient. It used to count as a toxicity stop but not as an early stop."""
    oc = sim.operating_characteristics("boin", [0.9], target=0.3, max_n=3, n_trials=5000)
    assert oc.p_stop_toxicity == pytest.approx(0.729, abs=0.03)
    assert oc.p_early_stop == oc.p_stop_toxicity
    assert oc.p_no_dose == oc.p_stop_toxicity


def test_3plus3_at_max_n_selects_highest_dose_at_or_below_one_in_six() -> None:
    """Max N 6 with every dose DLT-free: DL1 0/3, DL2 0/3, then max N; the MTD definition
    (<= 1/6, 0 of 3 counts) gives DL2 (it used to give no dose: it wanted 6 patients)."""
    oc = sim.operating_characteristics("3+3", [0.0, 0.0, 0.0], max_n=6, n_trials=20)
    assert [d.p_select for d in oc.doses] == [0.0, 1.0, 0.0]
    assert oc.p_early_stop == 0.0


@pytest.mark.parametrize(
    ("design", "kwargs"),
    [
        ("BOIN", {"target": 0.3, "max_n": 30, "n_earlystop": 9}),
        ("mTPI-2", {"target": 0.25, "max_n": 24, "cohort_size": 2}),
        ("3+3", {"allow_deescalation": False}),
    ],
)
def test_results_do_not_depend_on_the_chunk_size(design: str, kwargs: dict[str, object]) -> None:
    rates = [0.05, 0.12, 0.25, 0.4, 0.6]
    whole = sim.operating_characteristics(design, rates, n_trials=3000, **kwargs)  # type: ignore[arg-type]
    chunked = sim.operating_characteristics(
        design,
        rates,
        n_trials=3000,
        chunk_size=37,
        **kwargs,  # type: ignore[arg-type]
    )
    assert whole == chunked


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


def test_boin_n_earlystop_with_one_dose() -> None:
    """One dose: every decision keeps the trial there, so no trial goes past the cap, and a
    dose without DLTs ends every trial exactly at it."""
    oc = sim.operating_characteristics(
        "boin", [0.3], target=0.3, max_n=30, n_trials=500, n_earlystop=9
    )
    assert oc.mean_patients <= 9.0
    safe = sim.operating_characteristics(
        "boin", [0.0], target=0.3, max_n=30, n_trials=50, n_earlystop=9
    )
    assert safe.mean_patients == 9.0 and safe.p_early_stop == 1.0


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
        (("boin", [0.1]), {"target": 0.3, "max_n": 9, "n_trials": 10**7 + 1}, "10,000,000"),
        (("boin", [0.1]), {"target": 0.3, "max_n": 1001}, "<= 1000"),
        (("boin", [0.1] * 21), {"target": 0.3, "max_n": 30}, "at most 20"),
        (("boin", [0.1]), {"target": 0.3, "max_n": 9, "cohort_size": 10}, "cohort size"),
        (("boin", [0.1]), {"target": 0.3, "max_n": 9, "n_earlystop": 0}, "early stop"),
        (("3+3", [0.1]), {"max_n": 2}, ">= 3"),
    ],
)
def test_simulation_rejects_bad_parameters(
    args: tuple[str, list[float]], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sim.operating_characteristics(*args, **kwargs)  # type: ignore[arg-type]
