"""Analyse: the computed tables a protocol renders, from the resolved parameters.

Numbers only; the templates (templates/protocol/design-tables.md.j2) name the method, cite its
source and hold every sentence. One set of parameters feeds every section, so a change of
target rate or maximum N updates sections 4.1, 4.2.5, 4.3, 10.9 and 10.11 together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.analysis.escalation import (
    BoinTable,
    IntervalTable,
    ThreePlusThreeRules,
    boin_table,
    i3plus3_table,
    mtpi2_table,
    three_plus_three_escalation_probability,
    three_plus_three_rules,
)
from generator.analysis.simulation import OperatingCharacteristics, operating_characteristics
from generator.analysis.stopping import (
    StoppingBoundaries,
    StoppingOC,
    boundary_oc_table,
    stopping_boundaries,
)
from generator.resolve import MONITORING_RULE, ResolvedItem, ResolvedProtocol

OC_TRIALS = 10_000
"""Simulated trials per scenario for operating characteristics in the protocol."""

ESCALATION_PROBABILITY_RATES = (0.05, 0.10, 0.20, 0.30, 0.40, 0.50, 0.60)
"""True DLT rates at which the 3+3 escalation probability is tabulated."""

STOPPING_OC_RATES = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50)

ANALYSIS_REVISION = 3
"""Part of the cache key: raise it when a change of code changes the numbers (2: BOIN's
n.earlystop rule of BOIN 2.6.8+, select.mtd elimination, counter-based random numbers;
3: one boundary table per monitoring rule)."""


@dataclass(frozen=True)
class EscalationAnalysis:
    design: str
    target: float
    cohort_size: int
    max_per_dose: int
    boin: BoinTable | None = None
    interval: IntervalTable | None = None
    three_plus_three: ThreePlusThreeRules | None = None
    escalation_probabilities: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class ScenarioOC:
    name: str
    oc: OperatingCharacteristics
    dose_ids: tuple[str, ...]


@dataclass(frozen=True)
class StoppingAnalysis:
    """One continuous toxicity-monitoring rule: its boundaries and operating characteristics."""

    boundaries: StoppingBoundaries
    oc: tuple[StoppingOC, ...]
    monitored_event: str
    rule_id: str = ""
    """The id of the stopping-rules item that defines the rule (e.g. MON-G4-CRS-ICANS)."""


@dataclass(frozen=True)
class ProtocolAnalysis:
    escalation: EscalationAnalysis
    stopping: StoppingAnalysis
    """The first monitoring rule (kept for templates written for one rule)."""
    operating_characteristics: tuple[ScenarioOC, ...] = field(default_factory=tuple)
    n_trials: int = OC_TRIALS
    stopping_rules: tuple[StoppingAnalysis, ...] = ()
    """Every monitoring rule, in the protocol's order: one boundary table each."""


def _num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def analysis_key(resolved: ResolvedProtocol) -> str:
    """Everything `protocol_analysis` reads, as text: the key of its on-disk cache."""
    product = resolved.product
    return repr(
        (
            ANALYSIS_REVISION,
            sorted(resolved.elements["dose-escalation"].p.items()),
            [(rule.id, sorted(_rule_values(rule).items())) for rule in _rules(resolved)],
            product.dose_escalation.model_dump(mode="json"),
            product.overall_design.maximum_participants,
            OC_TRIALS,
            ESCALATION_PROBABILITY_RATES,
            STOPPING_OC_RATES,
        )
    )


def protocol_analysis(resolved: ResolvedProtocol) -> ProtocolAnalysis:
    esc = resolved.elements["dose-escalation"].p
    design = str(esc["design"])
    target = _num(esc["target_dlt_rate"])
    cohort = int(_num(esc["cohort_size"]))
    per_dose = int(_num(esc["max_participants_per_dose"]))
    phi1 = target * _num(esc["boin_phi1_ratio"])
    phi2 = target * _num(esc["boin_phi2_ratio"])
    cutoff = _num(esc["elimination_cutoff"])
    min_n = int(_num(esc["elimination_min_n"]))
    product = resolved.product
    max_n = product.dose_escalation.maximum_participants
    # The decision table runs to the trial's maximum sample size: with BOIN's per-dose cap a
    # dose the trial leaves and returns to can treat more than the cap (BOIN::get.oc >= 2.6.8
    # uses the full table too), so a shorter table would leave decisions undefined.
    table_n = max(max_n, cohort * 3)

    escalation: EscalationAnalysis
    if design == "BOIN":
        escalation = EscalationAnalysis(
            design,
            target,
            cohort,
            per_dose,
            boin=boin_table(
                target,
                table_n,
                phi1=phi1,
                phi2=phi2,
                cutoff_eliminate=cutoff,
                min_n_eliminate=min_n,
            ),
        )
    elif design in ("i3+3", "mTPI-2"):
        make = i3plus3_table if design == "i3+3" else mtpi2_table
        escalation = EscalationAnalysis(
            design,
            target,
            cohort,
            per_dose,
            interval=make(target, table_n, cutoff_eliminate=cutoff, min_n_eliminate=min_n),
        )
    else:
        escalation = EscalationAnalysis(
            design,
            target,
            cohort,
            per_dose,
            three_plus_three=three_plus_three_rules(allow_deescalation=True),
            escalation_probabilities=tuple(
                (p, three_plus_three_escalation_probability(p))
                for p in ESCALATION_PROBABILITY_RATES
            ),
        )

    levels = [level.id for level in product.dose_escalation.dose_levels]
    start = levels.index(product.dose_escalation.starting_level) + 1
    scenarios: list[ScenarioOC] = []
    for name, rates in product.dose_escalation.true_dlt_scenarios.items():
        oc = operating_characteristics(
            design,
            rates,
            target=target,
            cohort_size=cohort,
            max_n=max_n,
            start_dose=start,
            n_trials=OC_TRIALS,
            phi1=phi1,
            phi2=phi2,
            cutoff_eliminate=cutoff,
            min_n_eliminate=min_n,
            # interval designs: BOIN's n.earlystop rule (stop once the current dose has this
            # many participants and the next cohort would stay there); 3+3 caps itself at 6
            n_earlystop=per_dose if design != "3+3" else None,
        )
        scenarios.append(ScenarioOC(name, oc, tuple(levels)))

    rules = tuple(
        _stopping_rule(rule, product.overall_design.maximum_participants)
        for rule in _rules(resolved)
    )
    if not rules:
        raise ValueError("the stopping rules have no continuous toxicity-monitoring rule")
    return ProtocolAnalysis(escalation, rules[0], tuple(scenarios), stopping_rules=rules)


def _rules(resolved: ResolvedProtocol) -> list[ResolvedItem]:
    """The monitoring rules the protocol carries, in order (framework and product-added)."""
    return resolved.elements["stopping-rules"].items_of(kind=MONITORING_RULE)


def _rule_values(rule: ResolvedItem) -> dict[str, Any]:
    return {name: p.value for name, p in rule.parameters.items()}


def _stopping_rule(rule: ResolvedItem, max_n: int) -> StoppingAnalysis:
    stop = _rule_values(rule)
    boundaries = stopping_boundaries(
        _num(stop["monitoring_theta"]),
        _num(stop["monitoring_cutoff"]),
        max_n,
        monitor_from_n=int(_num(stop["monitoring_from_n"])),
        prior_a=_num(stop["monitoring_prior_a"]),
        prior_b=_num(stop["monitoring_prior_b"]),
    )
    return StoppingAnalysis(
        boundaries=boundaries,
        oc=tuple(boundary_oc_table(boundaries, list(STOPPING_OC_RATES))),
        monitored_event=str(stop.get("monitored_event", "")),
        rule_id=rule.id,
    )
