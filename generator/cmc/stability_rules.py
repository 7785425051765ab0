"""Stability rules: the results against the stability specification, claims against the periods
the results support (ICH Q1E), the lots on study against the lot CSV, and the stage gate's
expectations of the stability programme. One function per rule, each returning problems.

- CM124 a result outside the stability acceptance criterion at a time point (warning)
- CM125 a claimed shelf life or in-use period longer than the results support (error)
- CM126 a claimed period without results to support it (warning)
- CM127 a lot on study that is not in the lot CSV (error)
- CM128 the stability expectations of the current stage gate not met (warning)

Claims resting on lots of an earlier process are CM093 (content_rules).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.cmc.loader import LoadedCmc
from generator.cmc.stability import StudyEvaluation
from generator.models.cmc import GATES
from generator.problems import Problem, Severity, did_you_mean

IN_USE_TYPE = "post-thaw-in-use"
SHELF_LIFE_TYPE = "shelf-life"


def fmt_number(value: float | None) -> str:
    """A period or limit to one decimal, without a trailing '.0': 23.397 -> '23.4'."""
    if value is None:
        return "—"
    return f"{value:.1f}".rstrip("0").rstrip(".")


def check_stability(cmc: LoadedCmc, evaluations: dict[str, StudyEvaluation]) -> list[Problem]:
    """Every stability-rule problem of the product."""
    return [
        *_out_of_specification(cmc, evaluations),
        *_claims(cmc, evaluations),
        *_lots_on_study(cmc),
        *_gate_expectations(cmc, evaluations),
    ]


def _out_of_specification(cmc: LoadedCmc, evaluations: dict[str, StudyEvaluation]) -> list[Problem]:
    out: list[Problem] = []
    for study_id, ev in evaluations.items():
        table = cmc.stability.tables[study_id]
        lines = {(r.lot_id, r.time): r.line for r in cmc.stability.rows_of(study_id)}
        for t in ev.tests:
            for o in t.observations:
                if not o.out_of_specification:
                    continue
                below = t.lower_limit is not None and o.value < t.lower_limit
                limit = t.lower_limit if below else t.upper_limit
                out.append(
                    Problem(
                        "CM124",
                        f"{t.title} of lot {o.lot_id} at {o.time:g} {ev.time_unit} in study "
                        f"'{study_id}' is {o.value:g}, outside the stability criterion "
                        f"({fmt_number(limit)})",
                        table.location(lines[(o.lot_id, o.time)], t.test),
                        "investigate the result (out-of-specification on stability); the "
                        "supported period ends before this time point",
                        Severity.WARNING,
                    )
                )
    return out


def _claims(cmc: LoadedCmc, evaluations: dict[str, StudyEvaluation]) -> list[Problem]:
    out: list[Problem] = []
    for i, study in enumerate(cmc.product.stability):
        if study.claim is None:
            continue
        where = cmc.document.location(("stability", i, "claim"))
        claimed = f"{study.claim.period:g} {study.claim.unit}"
        ev = evaluations.get(study.id)
        if ev is None or ev.supported is None:
            out.append(
                Problem(
                    "CM126",
                    f"study '{study.id}' claims {claimed} but has no results that can support it",
                    where,
                    "a claim needs results under 'results:' of a test with a numerical "
                    "stability criterion (usage: [release, stability]), at least 3 of them at "
                    "2 or more time points; or remove the claim until such data exist",
                    Severity.WARNING,
                )
            )
        elif not ev.claim_supported:
            limiting = min(ev.tests, key=lambda t: t.supported)
            why = (
                f"the 95 % confidence bound of {limiting.title} crosses the criterion at "
                f"{fmt_number(limiting.supported)} {ev.time_unit}"
                if limiting.limited_by == "criterion"
                else f"{limiting.title} has data to {limiting.last_time:g} {ev.time_unit} and "
                "the storage allows no extrapolation beyond the data"
            )
            out.append(
                Problem(
                    "CM125",
                    f"study '{study.id}' claims {claimed}, but the results support "
                    f"{fmt_number(ev.supported)} {ev.time_unit}: {why}",
                    where,
                    f"claim at most {fmt_number(ev.supported)} {ev.time_unit}, or add later time "
                    "points and lots",
                )
            )
    return out


def _lots_on_study(cmc: LoadedCmc) -> list[Problem]:
    known = [lot.lot_id for lot in cmc.lots.lots]
    return [
        Problem(
            "CM127",
            f"lot '{lot}' of stability study '{study.id}' is not in {cmc.lots.display}",
            cmc.document.location(("stability", i, "lots", j)),
            did_you_mean(lot, known) or f"add the lot to {cmc.lots.display} or correct the id",
        )
        for i, study in enumerate(cmc.product.stability)
        for j, lot in enumerate(study.lots)
        if lot not in known
    ]


@dataclass(frozen=True)
class GateStability:
    """What the stability results show against one gate's expectation."""

    gate: str
    lots_with_data: int
    lots_current_process: int
    in_use_supported: bool
    lots_met: bool
    process_met: bool
    in_use_met: bool

    @property
    def met(self) -> bool:
        return self.lots_met and self.process_met and self.in_use_met


def stability_readiness(
    cmc: LoadedCmc, evaluations: dict[str, StudyEvaluation]
) -> list[GateStability]:
    """Per gate of the framework's stability expectations, whether the results meet it."""
    evaluation = cmc.framework.stability_evaluation
    if evaluation is None:
        return []
    current = cmc.product.process.versions[-1].id
    version = {lot.lot_id: lot.process_version for lot in cmc.lots.lots}
    shelf = {
        lot
        for s in cmc.product.stability
        if s.study_type == SHELF_LIFE_TYPE and s.id in evaluations
        for lot in evaluations[s.id].lots
    }
    in_use = any(
        s.study_type == IN_USE_TYPE and (evaluations.get(s.id) and evaluations[s.id].supported)
        for s in cmc.product.stability
    )
    n_current = sum(1 for lot in shelf if version.get(lot) == current)
    out = []
    for g in sorted(evaluation.gates, key=lambda e: GATES.index(e.gate)):
        counted = n_current if g.current_process else len(shelf)
        out.append(
            GateStability(
                gate=g.gate,
                lots_with_data=len(shelf),
                lots_current_process=n_current,
                in_use_supported=in_use,
                lots_met=counted >= g.min_lots,
                process_met=not g.current_process or g.min_lots == 0 or n_current > 0,
                in_use_met=not g.in_use or in_use,
            )
        )
    return out


def _gate_expectations(cmc: LoadedCmc, evaluations: dict[str, StudyEvaluation]) -> list[Problem]:
    stage = cmc.product.stage
    status = next((g for g in stability_readiness(cmc, evaluations) if g.gate == stage), None)
    if status is None or status.met:
        return []
    evaluation = cmc.framework.stability_evaluation
    assert evaluation is not None
    expectation = next(g for g in evaluation.gates if g.gate == stage)
    missing = []
    if not status.lots_met or not status.process_met:
        which = "of the current process " if expectation.current_process else ""
        missing.append(
            f"{expectation.min_lots} lot(s) {which}with shelf-life results (have "
            f"{status.lots_current_process if expectation.current_process else status.lots_with_data})"
        )
    if not status.in_use_met:
        missing.append("an in-use (post-thaw) study with results supporting a period")
    return [
        Problem(
            "CM128",
            f"the {stage} gate expects {' and '.join(missing)}",
            cmc.document.location(("stage",)),
            "put lots on stability and add their results under 'results:' of the studies",
            Severity.WARNING,
        )
    ]
