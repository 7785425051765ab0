"""Whatever `check` accepts must be usable: a product that passes validation and resolve without
errors never makes the analysis stage raise (a traceback instead of a located problem)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.analysis import protocol_tables
from generator.analysis.protocol_tables import protocol_analysis
from generator.problems import ProblemsError
from tests.properties import scaled
from tests.properties.test_merge import base_product, resolve

SETTINGS = scaled(0.3)

designs = st.sampled_from(["3+3", "BOIN", "i3+3", "mTPI-2"])


@st.composite
def escalation_products(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(top-level replacements, tailoring) spanning the design choices and sample sizes."""
    levels = draw(st.integers(1, 6))
    dose_levels = [{"id": f"DL{i}", "dose": 10.0 ** (6 + i)} for i in range(levels)]
    rate = st.floats(0, 1, allow_nan=False)
    scenarios = draw(
        st.dictionaries(
            st.sampled_from(["expected", "safe", "toxic"]),
            st.lists(rate, min_size=levels, max_size=levels),
            max_size=2,
        )
    )
    maximum = draw(st.integers(1, 200))
    target = draw(st.integers(1, maximum))
    overall = {**base_product()["overall_design"], "target_participants": target}
    overall["maximum_participants"] = maximum
    escalation = {
        "starting_level": f"DL{draw(st.integers(0, levels - 1))}",
        "maximum_participants": draw(st.integers(1, 120)),
        "dose_levels": dose_levels,
        "true_dlt_scenarios": scenarios,
    }
    parameters: dict[str, Any] = {
        "design": draw(designs),
        "cohort_size": draw(st.integers(1, 6)),
        "target_dlt_rate": draw(st.floats(0.16, 0.35)),
        "elimination_min_n": draw(st.integers(3, 6)),
        "boin_phi1_ratio": draw(st.floats(0, 1)),
        "boin_phi2_ratio": draw(st.floats(1, 2)),
    }
    stopping = {
        "monitoring_from_n": draw(st.integers(3, 6)),
        "monitoring_theta": draw(st.floats(0.05, 0.33)),
    }
    reason = "The product's escalation plan needs these values."
    tailoring = {
        "dose-escalation": {"parameters": parameters, "justification": reason},
        "stopping-rules": {"parameters": stopping, "justification": reason},
    }
    return {"overall_design": overall, "dose_escalation": escalation}, tailoring


@SETTINGS
@given(escalation_products())
def test_an_accepted_product_never_makes_the_analysis_raise(
    case: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    top, tailoring = case
    try:
        resolved, problems = resolve(tailoring, top)
    except ProblemsError as exc:  # refused at validation: located, so fine
        assert all(p.location is not None for p in exc.problems)
        return
    if any(p.is_error for p in problems):
        assert all(p.location is not None for p in problems)
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(protocol_tables, "OC_TRIALS", 20)  # the rules, not the precision, matter
        protocol_analysis(resolved)
