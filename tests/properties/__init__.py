"""Hypothesis profiles: `ci` (default, fast, derandomised so a CI run is reproducible) and
`deep` (a long, randomised fuzz run before a release).

HYPOTHESIS_PROFILE=deep python -m pytest tests/properties
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def scaled(fraction: float) -> settings:
    """The active profile with `fraction` of its examples (for the slower properties)."""
    return settings(max_examples=max(10, int(settings().max_examples * fraction)))
