"""The F and t distribution functions of the Q1E stability evaluation (generator/cmc/stability.py)
come from scipy.special, not scipy.stats (a second to import on a cold build): they must give
scipy.stats' numbers bit for bit, inside and at the edges of the support."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from generator.cmc.stability import _f_sf, _t_ppf


@pytest.mark.parametrize("dfn", [1, 2, 3, 5])
@pytest.mark.parametrize("dfd", [1, 4, 9, 30, 200])
@pytest.mark.parametrize(
    "f", [-1e-16, -2.0, 0.0, 1e-300, 1e-9, 0.05, 0.7, 1.0, 3.3, 17.0, 1e4, 1e300, math.inf]
)
def test_f_survival_is_scipy_stats(f: float, dfn: int, dfd: int) -> None:
    assert _f_sf(f, dfn, dfd) == float(stats.f.sf(f, dfn, dfd))


def test_f_survival_of_nan_is_nan() -> None:
    assert math.isnan(_f_sf(math.nan, 2, 9)) and math.isnan(float(stats.f.sf(math.nan, 2, 9)))


@pytest.mark.parametrize("df", [1, 2, 3.5, 7, 30, 1e3])
@pytest.mark.parametrize("q", [1e-12, 0.025, 0.05, 0.5, 0.9, 0.95, 0.975, 0.995, 1 - 1e-12])
def test_t_quantile_is_scipy_stats(q: float, df: float) -> None:
    assert _t_ppf(q, df) == float(stats.t.ppf(q, df))
