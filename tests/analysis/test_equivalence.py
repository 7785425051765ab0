"""TOST power and sample size against published values, and the TOST / quality-range outcome
math against hand-computed values.

Published values:
- PowerTOST README (github.com/Detlew/PowerTOST, section "Parallel Design"):
  power.TOST(CV = 0.35, n = c(52, 49), design = "parallel") = 0.8011186 (method "exact",
  log scale, theta0 0.95, limits 0.80-1.25, alpha 0.05). On the log scale the margin is
  ln(1.25), the difference ln(0.95) and the SD sqrt(ln(1 + CV^2)).
- Chow & Wang (2001), J Pharmacokinet Pharmacodyn 28(2):155-169, Table III: parallel groups,
  raw (additive) data, limits -0.2 to +0.2, exact; as recomputed and shipped by PowerTOST as the
  data set ctCW.III (data/data_parallel.rda; total sample sizes; n per group is half).
"""

from __future__ import annotations

import math

import pytest

from generator.analysis.equivalence import (
    PowerInputs,
    power_exact,
    power_simulated,
    quality_range,
    sample_size,
    tost,
)


def test_exact_power_matches_powertost_parallel_example() -> None:
    p = PowerInputs(
        margin=math.log(1.25), difference=math.log(0.95), sd=math.sqrt(math.log(1 + 0.35**2))
    )
    assert power_exact(p, 52, 49) == pytest.approx(0.8011186, abs=5e-8)


# (SD, true difference, target power, total n) from ctCW.III, margin 0.2
CHOW_WANG_III = [
    (0.10, 0.00, 0.8, 12),
    (0.20, 0.05, 0.8, 48),
    (0.30, 0.10, 0.8, 224),
    (0.40, 0.15, 0.8, 1586),
    (0.10, 0.00, 0.9, 14),
    (0.16, 0.10, 0.9, 90),
]


@pytest.mark.parametrize(("sd", "difference", "target", "total"), CHOW_WANG_III)
def test_sample_size_matches_chow_wang_table_iii(
    sd: float, difference: float, target: float, total: int
) -> None:
    found = sample_size(PowerInputs(margin=0.2, difference=difference, sd=sd), target)
    assert 2 * found.n_per_group == total
    assert found.power >= target
    one_less = PowerInputs(margin=0.2, difference=difference, sd=sd)
    assert power_exact(one_less, found.n_per_group - 1) < target


def test_simulated_power_agrees_with_exact() -> None:
    p = PowerInputs(margin=0.2, difference=0.05, sd=0.2)
    exact = power_exact(p, 24)
    simulated = power_simulated(p, 24, runs=200_000, seed=7)
    # 4 binomial standard errors of 200,000 runs
    assert abs(simulated - exact) < 4 * math.sqrt(exact * (1 - exact) / 200_000)
    assert power_simulated(p, 24, runs=1000, seed=3) == power_simulated(p, 24, runs=1000, seed=3)


def test_tost_by_hand() -> None:
    # pre 10, 12, 14: mean 12, SD 2; post 13, 15, 17: mean 15, SD 2; pooled SD 2, df 4,
    # SE = 2 * sqrt(2/3) = 1.63299; t(0.95, 4) = 2.131847; CI 3 +/- 3.48134
    r = tost([10, 12, 14], [13, 15, 17], margin=7, alpha=0.05)
    assert r.difference == pytest.approx(3.0)
    assert r.ci_lower == pytest.approx(3 - 2.131847 * 1.632993, abs=1e-5)
    assert r.ci_upper == pytest.approx(3 + 2.131847 * 1.632993, abs=1e-5)
    assert r.confidence == pytest.approx(0.90)
    assert r.equivalent  # 6.48 < 7
    assert not tost([10, 12, 14], [13, 15, 17], margin=6, alpha=0.05).equivalent


def test_quality_range_by_hand() -> None:
    # pre mean 12, SD 2: k = 1.5 gives 9 to 15
    r = quality_range([10, 12, 14], [9.5, 14.9, 15.2], k=1.5)
    assert (r.lower, r.upper) == (pytest.approx(9.0), pytest.approx(15.0))
    assert r.n_within == 2 and not r.within
    assert quality_range([10, 12, 14], [9.5, 14.9], k=1.5).within


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": 0.2, "difference": 0.2, "sd": 0.1}, "inside"),
        ({"margin": -1, "difference": 0, "sd": 0.1}, "margin"),
        ({"margin": 1, "difference": 0, "sd": 0}, "standard deviation"),
        ({"margin": 1, "difference": 0, "sd": 1, "alpha": 0.5}, "alpha"),
    ],
)
def test_bad_inputs_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PowerInputs(**kwargs)


def test_tost_needs_two_values_a_side() -> None:
    with pytest.raises(ValueError, match="two values"):
        tost([1.0], [1.0, 2.0], margin=1, alpha=0.05)
