"""The protocol's computed tables: parameter ranges the maths can take, tables to max N."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from generator import api
from generator.analysis import escalation as esc
from generator.analysis.protocol_tables import protocol_analysis
from generator.paths import FRAMEWORKS_DIR
from tests.conftest import ROOT

DOSE_ESCALATION = FRAMEWORKS_DIR / "early-phase-cell-therapy" / "elements" / "dose-escalation.yaml"


def _parameter_range(name: str) -> tuple[float, float]:
    element = YAML(typ="safe").load(DOSE_ESCALATION.read_text(encoding="utf-8"))
    spec = element["starting_point"]["parameters"][name]
    return float(spec["minimum"]), float(spec["maximum"])


def test_every_boin_ratio_the_framework_allows_can_be_computed() -> None:
    """`check` accepts any value inside the ranges, so the calculators must take the ends
    (ratios 0 and 1 for phi1 and 1 for phi2 used to crash `check` with a traceback)."""
    targets = _parameter_range("target_dlt_rate")
    r1 = _parameter_range("boin_phi1_ratio")
    r2 = _parameter_range("boin_phi2_ratio")
    for target, ratio1, ratio2 in itertools.product(targets, r1, r2):
        table = esc.boin_table(target, 30, phi1=ratio1 * target, phi2=ratio2 * target)
        assert 0 < table.lambda_e < target < table.lambda_d < 1


@pytest.mark.parametrize(("phi1_ratio", "phi2_ratio"), [(0.0, 1.4), (1.0, 1.4), (0.6, 1.0)])
def test_ratios_the_maths_cannot_take_raise_a_clear_value_error(
    phi1_ratio: float, phi2_ratio: float
) -> None:
    with pytest.raises(ValueError, match="strictly between") as exc:
        esc.boin_table(0.3, 30, phi1=phi1_ratio * 0.3, phi2=phi2_ratio * 0.3)
    assert "multiple of the target" in str(exc.value)


def test_boin_decision_table_runs_to_max_n_whatever_the_cap() -> None:
    """BCMA example: max N 30, per-dose cap 9; the table used to stop at n = 9."""
    resolved, problems = api.resolve(Path(ROOT / "examples" / "bcma-cart-rrmm" / "product.yaml"))
    assert not [p for p in problems if p.severity.value == "error"]
    analysis = protocol_analysis(resolved)
    x = analysis.escalation
    assert x.design == "BOIN" and x.max_per_dose == 9 and x.boin is not None
    assert [r.n for r in x.boin.rows] == list(range(1, 31))
    for scenario in analysis.operating_characteristics:
        assert scenario.oc.n_earlystop == 9
        assert scenario.oc.p_early_stop >= scenario.oc.p_stop_toxicity
    expected = next(s for s in analysis.operating_characteristics if s.name == "expected")
    assert 0.40 < expected.oc.doses[3].p_select < 0.47  # BOIN 2.7.2 get.oc: 43.3%
