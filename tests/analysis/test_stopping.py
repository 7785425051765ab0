"""Stopping boundaries and exact operating characteristics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from generator.analysis import stopping as st

# clinical-frameworks.md section 4.1
COLS = [3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 18, 20, 24]
BAYES = {
    (0.20, 0.90): ([2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 6, 7, 8], [0.10, 0.40, 0.75, 0.94]),
    (0.20, 0.95): ([2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 7, 7, 8], [0.04, 0.24, 0.60, 0.88]),
    (0.25, 0.90): ([2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8, 9], [0.10, 0.36, 0.70, 0.92]),
    (0.25, 0.95): ([3, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8, 9, 10], [0.04, 0.22, 0.54, 0.84]),
    (0.30, 0.90): ([2, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8, 9, 10], [0.15, 0.40, 0.72, 0.92]),
    (0.30, 0.95): ([3, 3, 4, 4, 5, 5, 5, 6, 7, 8, 9, 10, 11], [0.05, 0.21, 0.53, 0.83]),
    (0.33, 0.90): ([3, 3, 3, 4, 4, 5, 5, 6, 6, 8, 9, 10, 11], [0.12, 0.35, 0.67, 0.90]),
    (0.33, 0.95): ([3, 3, 4, 4, 5, 5, 6, 6, 7, 8, 10, 11, 12], [0.06, 0.23, 0.52, 0.82]),
}


@pytest.mark.parametrize(("theta", "cutoff"), sorted(BAYES))
def test_bayesian_boundaries_and_oc_match_reference(theta: float, cutoff: float) -> None:
    b = st.stopping_boundaries(theta, cutoff, 24, monitor_from_n=3)
    table = dict(b.boundary_array())
    bounds, p_stop = BAYES[(theta, cutoff)]
    assert [table[n] for n in COLS] == bounds
    for shift, want in zip((-0.1, 0.0, 0.1, 0.2), p_stop, strict=True):
        assert st.boundary_oc(b, theta + shift).p_stop == pytest.approx(want, abs=0.0051)


def test_monitoring_from_n1_single_event_stops() -> None:
    b = st.stopping_boundaries(0.2, 0.9, 5, monitor_from_n=1)
    assert b.rows[0].n == 1 and b.rows[0].stop_at == 1


# clinical-frameworks.md section 4.2
POCOCK = [
    (
        0.20,
        20,
        0.040,
        {3: 3, 4: 3, 5: 4, 7: 4, 8: 5, 10: 5, 11: 6, 13: 6, 14: 7, 17: 7, 18: 8, 20: 8},
        (0.087, 0.34, 0.68),
    ),
    (
        0.20,
        30,
        0.038,
        {
            3: 3,
            4: 3,
            5: 4,
            7: 4,
            8: 5,
            10: 5,
            11: 6,
            13: 6,
            14: 7,
            16: 7,
            17: 8,
            20: 8,
            21: 9,
            24: 9,
            25: 10,
            27: 10,
            28: 11,
            30: 11,
        },
        (0.099, 0.43, 0.81),
    ),
    (
        0.30,
        24,
        0.039,
        {
            3: 3,
            4: 4,
            5: 4,
            6: 5,
            7: 5,
            8: 6,
            9: 6,
            10: 7,
            11: 7,
            12: 8,
            14: 8,
            15: 9,
            16: 9,
            17: 10,
            19: 10,
            20: 11,
            21: 11,
            22: 12,
            24: 12,
        },
        (0.099, 0.34, 0.68),
    ),
    (0.10, 20, 0.052, {2: 2, 3: 2, 4: 3, 8: 3, 9: 4, 14: 4, 15: 5, 20: 5}, (0.091, 0.46, 0.81)),
]


@pytest.mark.parametrize(("p0", "max_n", "a_star", "bounds", "p_stop"), POCOCK)
def test_pocock_matches_reference(
    p0: float, max_n: int, a_star: float, bounds: dict[int, int], p_stop: tuple[float, ...]
) -> None:
    b = st.pocock_boundaries(p0, 0.10, max_n)
    table = dict(b.boundary_array())
    for n, want in bounds.items():
        assert table[n] == want, n
    assert b.crossing_probability is not None and b.crossing_probability <= 0.10
    assert b.nominal_level is not None and b.nominal_level_upper is not None
    # the reference quotes the supremum of the nominal levels that give this boundary
    assert round(b.nominal_level_upper, 3) == a_star
    for shift, p_want in zip((0.0, 0.1, 0.2), p_stop, strict=True):
        assert st.boundary_oc(b, p0 + shift).p_stop == pytest.approx(p_want, abs=0.0051)


def test_pocock_is_the_largest_boundary_within_alpha() -> None:
    b = st.pocock_boundaries(0.15, 0.05, 25, looks=[5, 10, 15, 20, 25])
    assert b.crossing_probability is not None and b.crossing_probability <= 0.05
    assert b.nominal_level_upper is not None
    looks = [5, 10, 15, 20, 25]
    looser = st._pocock_boundary(looks, st._tails(looks, 0.15), b.nominal_level_upper)
    assert st.boundary_oc(looser, 0.15, max_n=25).p_stop > 0.05


def _brute_force(bounds: list[tuple[int, int | None]], p: float, max_n: int) -> tuple[float, float]:
    """Enumerate every event sequence of length max_n."""
    looks = dict(bounds)
    stop_p = 0.0
    exp_n = 0.0
    for seq in itertools.product((0, 1), repeat=max_n):
        prob = float(np.prod([p if s else 1 - p for s in seq]))
        events = 0
        end = max_n
        for i, s in enumerate(seq, start=1):
            events += s
            b = looks.get(i)
            if b is not None and events >= b:
                end = i
                stop_p += prob
                break
        exp_n += prob * end
    return stop_p, exp_n


def test_exact_oc_equals_brute_force_enumeration() -> None:
    b = st.stopping_boundaries(0.15, 0.8, 12, monitor_from_n=2)  # not in the reference
    for p in (0.1, 0.27):
        oc = st.boundary_oc(b, p)
        stop_p, exp_n = _brute_force(b.boundary_array(), p, 12)
        assert oc.p_stop == pytest.approx(stop_p, abs=1e-12)
        assert oc.expected_n == pytest.approx(exp_n, abs=1e-10)


def test_exact_oc_agrees_with_monte_carlo() -> None:
    b = st.pocock_boundaries(0.12, 0.1, 40, looks=[4, 8, 12, 16, 20, 25, 30, 35, 40])
    p = 0.22
    rng = np.random.default_rng(5)
    events = np.cumsum(rng.random((200_000, 40)) < p, axis=1)
    stopped = np.zeros(events.shape[0], dtype=bool)
    end = np.full(events.shape[0], 40)
    for n, bound in b.boundary_array():
        if bound is None:
            continue
        hit = ~stopped & (events[:, n - 1] >= bound)
        end[hit] = n
        stopped |= hit
    oc = st.boundary_oc(b, p)
    assert oc.p_stop == pytest.approx(stopped.mean(), abs=0.005)
    assert oc.expected_n == pytest.approx(end.mean(), abs=0.1)
    assert oc.p_stop_by_look[-1] == pytest.approx(oc.p_stop)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: st.stopping_boundaries(0.0, 0.9, 24), "theta"),
        (lambda: st.stopping_boundaries(0.2, 1.0, 24), "cutoff"),
        (lambda: st.stopping_boundaries(0.2, 0.9, 0), "max N"),
        (lambda: st.stopping_boundaries(0.2, 0.9, 10, monitor_from_n=11), "monitor-from"),
        (lambda: st.stopping_boundaries(0.2, 0.9, 10, prior_a=0), "prior"),
        (lambda: st.pocock_boundaries(1.0, 0.1, 20), "p0"),
        (lambda: st.pocock_boundaries(0.2, 0.0, 20), "alpha"),
        (lambda: st.pocock_boundaries(0.2, 0.1, 20, looks=[5, 3]), "increasing"),
        (lambda: st.pocock_boundaries(0.2, 0.1, 20, looks=[5, 30]), "max N"),
        (lambda: st.boundary_oc([(3, 2)], -0.1), "between 0 and 1"),
    ],
)
def test_stopping_rejects_bad_parameters(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(("n", "p"), [(5000, 0.5), (10_000, 0.01), (2000, 0.0), (2000, 1.0)])
def test_binomial_pmf_is_finite_and_exact_for_large_n(n: int, p: float) -> None:
    """comb(n, k) p^k (1-p)^(n-k) overflows to inf * 0 = NaN from n of about 1030 (the NaN
    that `calc pocock --max-n 10000` printed); the log-space pmf matches scipy.stats."""
    from scipy import stats

    pmf = st._binom_pmf(n, p)
    assert np.isfinite(pmf).all()
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(pmf, stats.binom.pmf(np.arange(n + 1), n, p), rtol=1e-9, atol=1e-300)


def test_bayesian_monitoring_up_to_the_largest_trial_a_product_may_declare() -> None:
    """overall_design.maximum_participants may be 10,000; bisection keeps this to seconds
    and gives the boundary a full search gives."""
    b = st.stopping_boundaries(0.3, 0.9, 10_000, monitor_from_n=9_990)
    for row in b.rows:
        xs = np.arange(row.n + 1)
        post = st.special.betaincc(1 + xs, 1 + row.n - xs, 0.3)
        assert row.stop_at == int(np.nonzero(post > 0.9)[0][0])
    assert 0.0 < st.boundary_oc(b, 0.31).p_stop <= 1.0


def test_pocock_at_the_max_n_limit_is_finite() -> None:
    b = st.pocock_boundaries(0.5, 0.025, 1000, looks=[500, 1000])
    assert b.crossing_probability is not None and 0.0 < b.crossing_probability <= 0.025
    assert all(r.stop_at is not None for r in b.rows)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: st.pocock_boundaries(0.2, 0.1, 1001), "<= 1000"),
        (lambda: st.stopping_boundaries(0.2, 0.9, 10_001), "<= 10000"),
        (lambda: st.pocock_boundaries(0.2, 0.1, 20, looks=[10, 30]), "last look"),
    ],
)
def test_stopping_limits(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_a_boundary_of_zero_events_stops_every_trial() -> None:
    oc = st.boundary_oc([(2, None), (3, 0), (5, 1)], 0.2)
    assert oc.p_stop == 1.0 and oc.expected_n == 3.0
    assert oc.p_stop_by_look == (0.0, 1.0, 1.0)
