"""Escalation tables against published values and against direct computation."""

from __future__ import annotations

import itertools
import math

import pytest
from scipy import integrate, optimize, stats

from generator.analysis import escalation as esc
from generator.analysis.escalation import Action

# clinical-frameworks.md section 3.2 (BOIN::get.boundary, n = 1..18)
BOIN_REFERENCE = {
    0.20: (
        [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2],
        [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5],
        [None, None, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 7, 7],
    ),
    0.25: (
        [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3],
        [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6],
        [None, None, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 7, 8, 8],
    ),
    0.30: (
        [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4],
        [1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7],
        [None, None, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 7, 8, 8, 8, 9, 9],
    ),
}

LAMBDAS = {
    0.20: (0.157, 0.238),
    0.25: (0.197, 0.298),
    0.30: (0.236, 0.359),
    0.33: (0.260, 0.395),
    0.35: (0.276, 0.419),
}


@pytest.mark.parametrize("target", sorted(BOIN_REFERENCE))
def test_boin_table_matches_published(target: float) -> None:
    table = esc.boin_table(target, 18)
    e, d, x = BOIN_REFERENCE[target]
    assert [r.escalate_max for r in table.rows] == e
    assert [r.deescalate_min for r in table.rows] == d
    assert [r.eliminate_min for r in table.rows] == x


@pytest.mark.parametrize("target", sorted(LAMBDAS))
def test_boin_lambdas_match_published(target: float) -> None:
    lam_e, lam_d = esc.boin_boundaries(target)
    assert lam_e == pytest.approx(LAMBDAS[target][0], abs=6e-4)
    assert lam_d == pytest.approx(LAMBDAS[target][1], abs=6e-4)


def test_boin_target_030_published_lambdas_to_three_places() -> None:
    lam_e, lam_d = esc.boin_boundaries(0.3)
    assert math.floor(lam_e * 1000) / 1000 == 0.236
    assert math.floor(lam_d * 1000) / 1000 == 0.358  # 0.3585..., printed 0.358 or 0.359


@pytest.mark.parametrize(("target", "phi1", "phi2"), [(0.17, 0.10, 0.26), (0.4, 0.3, 0.5)])
def test_boin_boundaries_solve_likelihood_ratio_equations(
    target: float, phi1: float, phi2: float
) -> None:
    """lambda_e is where the binomial likelihoods under phi1 and phi are equal (per patient)."""

    def log_lr(p_hat: float, a: float, b: float) -> float:
        return p_hat * math.log(a / b) + (1 - p_hat) * math.log((1 - a) / (1 - b))

    lam_e_direct = optimize.brentq(lambda q: log_lr(q, target, phi1), 1e-9, 1 - 1e-9)
    lam_d_direct = optimize.brentq(lambda q: log_lr(q, phi2, target), 1e-9, 1 - 1e-9)
    lam_e, lam_d = esc.boin_boundaries(target, phi1, phi2)
    assert lam_e == pytest.approx(lam_e_direct, abs=1e-10)
    assert lam_d == pytest.approx(lam_d_direct, abs=1e-10)
    # the count table follows from the boundaries by direct comparison of y / n
    table = esc.boin_table(target, 30, phi1=phi1, phi2=phi2)
    for row in table.rows:
        assert row.escalate_max == max(y for y in range(row.n + 1) if y / row.n <= lam_e_direct)


def test_boin_elimination_matches_direct_posterior_integration() -> None:
    target = 0.27  # not in the reference
    table = esc.boin_table(target, 15)
    for row in table.rows[2:]:
        n = row.n

        def tail(y: int, n: int = n) -> float:
            dens = stats.beta(y + 1, n - y + 1).pdf
            return float(integrate.quad(dens, target, 1)[0])

        expected = next((y for y in range(n + 1) if tail(y) > 0.95), None)
        assert row.eliminate_min == expected
    assert table.rows[0].eliminate_min is None and table.rows[1].eliminate_min is None


def test_boin_deescalation_when_lambda_d_n_is_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """BOIN::get.boundary (2.7.2) de-escalates at lambda_d n + 1 when lambda_d n is whole."""
    monkeypatch.setattr(esc, "boin_boundaries", lambda *a: (0.2, 0.5))
    rows = esc.boin_table(0.3, 4, cutoff_eliminate=0.999).rows
    assert [r.deescalate_min for r in rows] == [1, 2, 2, 3]  # n = 2: 1.0 -> 2; n = 4: 2.0 -> 3


def test_no_dose_is_eliminated_without_a_dlt() -> None:
    """With a 1% target, Pr(p > 0.01 | 0 of 3) = 0.99^4 = 0.961 > 0.95; BOIN's elimination
    count starts at one DLT, and so does protocmc's (it used to eliminate at 0 of 3)."""
    for maker in (esc.boin_table, esc.i3plus3_table):
        kwargs = {} if maker is esc.boin_table else {"eps1": 0.005, "eps2": 0.005}
        table = maker(0.01, 6, **kwargs)  # type: ignore[operator]
        for row in table.rows[2:]:
            elim = getattr(row, "eliminate_min", None)
            if elim is None:
                dlts = row.dlts_for(esc.Action.ELIMINATE)
                elim = dlts[0] if dlts else None
            assert elim == 1


def test_boin_deescalation_capped_at_elimination() -> None:
    table = esc.boin_table(0.3, 18, cutoff_eliminate=0.5)
    for row in table.rows:
        if row.eliminate_min is not None and row.deescalate_min is not None:
            assert row.deescalate_min <= row.eliminate_min


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": 0.0}, "target"),
        ({"target": 1.2}, "target"),
        ({"target": 0.3, "phi1": 0.3}, "phi1"),
        ({"target": 0.3, "phi2": 0.25}, "phi2"),
        # framework ratios 0 and 1 (phi1) and 1 (phi2): logs of 0 or division by log 1 = 0
        ({"target": 0.3, "phi1": 0.0}, "phi1 .* strictly between 0 and the target"),
        ({"target": 0.3, "phi1": 0.3 * 1.0}, "phi1 .* multiple of the target: 1"),
        ({"target": 0.3, "phi2": 0.3 * 1.0}, "phi2 .* strictly between the target"),
        ({"target": 0.3, "phi2": 1.0}, "phi2"),
        ({"target": 0.3, "phi1": float("nan")}, "phi1"),
        ({"target": 0.3, "max_n": 1001}, "<= 1000"),
        ({"target": 0.3, "max_n": 0}, "max N"),
        ({"target": 0.3, "cutoff_eliminate": 1.0}, "cutoff"),
        ({"target": float("nan")}, "target"),
    ],
)
def test_boin_rejects_bad_parameters(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        esc.boin_table(**kwargs)  # type: ignore[arg-type]


# clinical-frameworks.md section 3.1
THREE_PLUS_THREE = {
    0.05: 0.973,
    0.10: 0.906,
    0.20: 0.709,
    0.25: 0.600,
    0.30: 0.494,
    0.40: 0.309,
    0.50: 0.172,
    0.60: 0.082,
}


@pytest.mark.parametrize(("p", "expected"), sorted(THREE_PLUS_THREE.items()))
def test_three_plus_three_escalation_probability(p: float, expected: float) -> None:
    assert esc.three_plus_three_escalation_probability(p) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize("p", [0.0, 0.13, 0.42, 1.0])
@pytest.mark.parametrize("allow", [True, False])
def test_three_plus_three_exact_oc_agrees_with_formula(p: float, allow: bool) -> None:
    # dose 2 never toxic: it is selected exactly when the trial escalates from dose 1
    oc = esc.three_plus_three_exact_oc([p, 0.0], allow_deescalation=allow)
    assert oc.doses[1].p_select == pytest.approx(esc.three_plus_three_escalation_probability(p))
    total = sum(d.p_select for d in oc.doses) + oc.p_no_dose
    assert total == pytest.approx(1.0)


def test_three_plus_three_rules_table() -> None:
    rules = esc.three_plus_three_rules()
    assert [(r.treated, r.dlts_min, r.dlts_max, r.action) for r in rules.rows] == [
        (3, 0, 0, "escalate"),
        (3, 1, 1, "expand"),
        (3, 2, 3, "mtd_exceeded"),
        (6, 0, 1, "escalate"),
        (6, 2, 6, "mtd_exceeded"),
    ]


def test_three_plus_three_rules_differ_without_deescalation() -> None:
    """Escalation only: >= 2 DLTs stops the trial with the lower dose as MTD as it stands."""
    rules = esc.three_plus_three_rules(allow_deescalation=False)
    actions = [(r.treated, r.dlts_min, r.action) for r in rules.rows]
    assert (3, 2, "mtd_exceeded_stop") in actions and (6, 2, "mtd_exceeded_stop") in actions
    assert rules.rows != esc.three_plus_three_rules(allow_deescalation=True).rows


def test_three_plus_three_rejects_bad_rate() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        esc.three_plus_three_escalation_probability(1.5)


def _compact(table: esc.IntervalTable, n: int) -> dict[str, str]:
    row = table.rows[n - 1]
    return {a.value: row.range_label(a) for a in Action if row.range_label(a)}


# clinical-frameworks.md section 3.3
I3PLUS3_REFERENCE = {
    0.30: {
        3: "0E 1S 2D 3DU",
        6: "0-1E 2S 3D 4+DU",
        9: "0-2E 3S 4D 5+DU",
        12: "0-2E 3-4S 5-6D 7+DU",
    },
    0.25: {
        3: "0E 1S 2D 3DU",
        6: "0-1E 2S 3D 4+DU",
        9: "0-1E 2S 3-4D 5+DU",
        12: "0-2E 3S 4-5D 6+DU",
    },
    0.20: {3: "0E 1S 2+DU", 6: "0E 1S 2D 3+DU", 9: "0-1E 2S 3D 4+DU", 12: "0-1E 2-3S 4D 5+DU"},
}


def _parse(spec: str) -> dict[str, str]:
    out = {}
    for part in spec.split():
        label = part.rstrip("EDSU")
        code = part[len(label) :]
        out[code] = label
    return out


@pytest.mark.parametrize("target", sorted(I3PLUS3_REFERENCE))
def test_i3plus3_matches_reference(target: float) -> None:
    table = esc.i3plus3_table(target, 12)
    for n, spec in I3PLUS3_REFERENCE[target].items():
        got = _compact(table, n)
        # a single-value DU range at y = n is printed as "n" (reference writes "3DU")
        assert got == _parse(spec), (n, got)


def test_i3plus3_rule_by_definition() -> None:
    """Random targets not in the reference: every cell follows the published rule."""
    for target, e1, e2 in [(0.22, 0.04, 0.06), (0.33, 0.05, 0.03)]:
        table = esc.i3plus3_table(target, 20, eps1=e1, eps2=e2)
        lo, hi = target - e1, target + e2
        for row in table.rows:
            n = row.n
            for y, act in enumerate(row.actions):
                post = stats.beta.sf(target, 1 + y, 1 + n - y)
                if n >= 3 and post > 0.95:
                    assert act is Action.ELIMINATE
                elif y / n < lo:
                    assert act is Action.ESCALATE
                elif y / n <= hi or (y - 1) / n < lo:
                    assert act is Action.STAY
                else:
                    assert act is Action.DEESCALATE


def test_mtpi2_target_030() -> None:
    table = esc.mtpi2_table(0.3, 12)
    assert _compact(table, 3) == {"E": "0", "S": "1", "D": "2", "DU": "3"}
    assert _compact(table, 6) == {"E": "0-1", "S": "2", "D": "3", "DU": "4+"}


def test_mtpi2_decision_is_region_of_highest_unit_probability_mass() -> None:
    target, eps = 0.22, 0.05  # not in the reference; brute force over a fine grid
    table = esc.mtpi2_table(target, 15, eps1=eps, eps2=eps)
    edges = [0.0, 0.07, 0.17, 0.27, 0.37, 0.47, 0.57, 0.67, 0.77, 0.87, 0.97, 1.0]
    for row in table.rows:
        n = row.n
        for y, act in enumerate(row.actions):
            if act is Action.ELIMINATE:
                continue
            dist = stats.beta(1 + y, 1 + n - y)
            upm = [(dist.cdf(b) - dist.cdf(a)) / (b - a) for a, b in itertools.pairwise(edges)]
            best = max(range(len(upm)), key=lambda i: upm[i])
            mid = (edges[best] + edges[best + 1]) / 2
            expected = (
                Action.ESCALATE if mid < 0.17 else Action.STAY if mid < 0.27 else Action.DEESCALATE
            )
            assert act is expected, (n, y)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": 0.03, "eps1": 0.05}, "inside"),
        ({"target": 0.3, "eps1": -0.1}, ">= 0"),
        ({"target": 0.3, "eps1": 0.0, "eps2": 0.0}, "positive width"),
        ({"target": 0.3, "max_n": -2}, "max N"),
    ],
)
@pytest.mark.parametrize("maker", [esc.i3plus3_table, esc.mtpi2_table])
def test_interval_designs_reject_bad_parameters(
    maker: object, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        maker(**kwargs)  # type: ignore[operator]
