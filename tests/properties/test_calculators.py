"""Properties of the calculators: monotone boundaries and factors, probabilities in [0, 1]."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.analysis.escalation import (
    boin_boundaries,
    boin_table,
    posterior_prob_above,
    three_plus_three_escalation_probability,
)
from generator.analysis.simulation import operating_characteristics
from generator.analysis.stopping import boundary_oc, stopping_boundaries
from generator.analysis.tolerance import k_one_sided, k_two_sided_exact, k_two_sided_howe
from tests.properties import scaled

FAST = scaled(0.8)
SLOW = scaled(0.25)

targets = st.floats(0.1, 0.4)
rates = st.floats(0.0, 1.0)
fractions = st.floats(0.6, 0.995)
"""Coverage and confidence above 1/2: at exactly 1/2 the one-sided k is 0 for every n."""


@FAST
@given(targets, st.integers(3, 30))
def test_boin_boundaries_are_monotone_in_n(target: float, max_n: int) -> None:
    lam_e, lam_d = boin_boundaries(target)
    assert 0 < lam_e < target < lam_d < 1
    rows = boin_table(target, max_n).rows
    assert [r.n for r in rows] == list(range(1, max_n + 1))
    for a, b in itertools.pairwise(rows):
        assert a.escalate_max <= b.escalate_max <= a.escalate_max + 1
        if a.deescalate_min is not None and b.deescalate_min is not None:
            assert a.deescalate_min <= b.deescalate_min
        if a.eliminate_min is not None and b.eliminate_min is not None:
            assert a.eliminate_min <= b.eliminate_min
    for r in rows:
        assert -1 <= r.escalate_max < r.n or r.escalate_max == r.n
        if r.deescalate_min is not None:
            assert r.escalate_max < r.deescalate_min <= r.n
        if r.eliminate_min is not None and r.deescalate_min is not None:
            assert r.deescalate_min <= r.eliminate_min


@FAST
@given(st.floats(0.05, 0.5), st.sampled_from([0.8, 0.9, 0.95]), st.integers(3, 40))
def test_stopping_boundaries_never_decrease_with_n(theta: float, cutoff: float, max_n: int) -> None:
    boundaries = stopping_boundaries(theta, cutoff, max_n)
    stops = [(r.n, r.stop_at) for r in boundaries.rows if r.stop_at is not None]
    for (n1, s1), (n2, s2) in itertools.pairwise(stops):
        assert s1 <= s2 <= s1 + (n2 - n1)
    for n, s in stops:
        assert 0 <= s <= n
    oc = boundary_oc(boundaries, 0.3)
    assert 0.0 <= oc.p_stop <= 1.0
    assert all(0.0 <= p <= 1.0 for p in oc.p_stop_by_look)
    assert list(oc.p_stop_by_look) == sorted(oc.p_stop_by_look)
    assert boundaries.rows[0].n <= oc.expected_n <= max_n


true_rates = st.one_of(st.just(0.0), st.floats(1e-9, 1.0))
"""Rates below 1e-9 overflow scipy's binomial: see the xfail test below."""


@FAST
@given(st.floats(0.05, 0.5), true_rates, true_rates)
def test_stopping_probability_increases_with_the_true_rate(
    theta: float, p: float, q: float
) -> None:
    boundaries = stopping_boundaries(theta, 0.9, 18)
    low, high = sorted((p, q))
    assert boundary_oc(boundaries, low).p_stop <= boundary_oc(boundaries, high).p_stop + 1e-12


@FAST
@given(rates, st.integers(0, 30), st.integers(0, 30))
def test_probabilities_lie_in_unit_interval(p: float, y: int, extra: int) -> None:
    assert 0.0 <= three_plus_three_escalation_probability(p) <= 1.0
    threshold = min(max(p, 0.01), 0.99)
    prob = posterior_prob_above(threshold, y, y + extra)
    assert 0.0 <= prob <= 1.0


@FAST
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_three_plus_three_escalation_probability_falls_as_toxicity_rises(
    p: float, q: float
) -> None:
    low, high = sorted((p, q))
    assert (
        three_plus_three_escalation_probability(high)
        <= three_plus_three_escalation_probability(low) + 1e-12
    )


@FAST
@given(st.integers(2, 200), fractions, fractions)
def test_howe_and_one_sided_k_fall_with_n(n: int, coverage: float, confidence: float) -> None:
    for factor in (k_two_sided_howe, k_one_sided):
        assert factor(n + 1, coverage, confidence).k < factor(n, coverage, confidence).k


@FAST
@given(st.integers(2, 200), fractions, fractions, fractions)
def test_k_rises_with_coverage_and_confidence(n: int, c1: float, c2: float, g: float) -> None:
    lo, hi = sorted((c1, c2))
    for factor in (k_two_sided_howe, k_one_sided):
        assert factor(n, lo, g).k <= factor(n, hi, g).k + 1e-9
        assert factor(n, g, lo).k <= factor(n, g, hi).k + 1e-9


@SLOW
@given(st.integers(2, 60), fractions, fractions)
def test_exact_two_sided_k_is_monotone_and_above_one_sided(
    n: int, coverage: float, confidence: float
) -> None:
    k = k_two_sided_exact(n, coverage, confidence).k
    assert k_two_sided_exact(n + 1, coverage, confidence).k < k
    assert k_two_sided_exact(n, min(coverage + 0.004, 0.999), confidence).k >= k - 1e-9
    assert k > k_one_sided(n, coverage, confidence).k


def test_boundary_oc_with_a_subnormal_true_rate() -> None:
    oc = boundary_oc(stopping_boundaries(0.5, 0.9, 18), 1.1125369292536007e-308)
    assert 0.0 <= oc.p_stop <= 1e-12


@SLOW
@given(
    st.sampled_from(["3+3", "BOIN", "i3+3", "mTPI-2"]),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5),
    st.integers(3, 30),
    st.one_of(st.none(), st.integers(1, 12)),
)
def test_stopping_probabilities_are_nested(
    design: str, rates: list[float], max_n: int, cap: int | None
) -> None:
    """A safety stop is an early stop and leaves no dose selected, at any max N or cap."""
    oc = operating_characteristics(
        design,
        rates,
        target=0.3,
        max_n=max_n,
        n_trials=200,
        n_earlystop=None if design == "3+3" else cap,
    )
    assert 0.0 <= oc.p_stop_toxicity <= oc.p_early_stop <= 1.0
    assert oc.p_stop_toxicity <= oc.p_no_dose + 1e-12
    assert sum(d.p_select for d in oc.doses) + oc.p_no_dose == pytest.approx(1.0)
    assert oc.mean_patients <= max_n
