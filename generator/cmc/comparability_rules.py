"""Comparability rules CM110-CM119: the study's lots, attributes and conclusion, and post-change
lots dosed without a 'comparable' conclusion at a gate that needs one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from generator.problems import Severity, did_you_mean

if TYPE_CHECKING:
    from generator.cmc.comparability import ComparabilityOutcome
    from generator.cmc.rules import Rules
    from generator.models.cmc import ProcessChange


def comparability_studies(r: Rules) -> None:
    """CM110-CM117, change by change."""
    for i, (change, outcome) in enumerate(
        zip(r.product.process_changes, r.analysis.comparability, strict=True)
    ):
        _study_lots(r, i, change)
        _study_attributes(r, i, change, outcome)
        _typed_conclusion(r, i, change, outcome)


def _study_lots(r: Rules, i: int, change: ProcessChange) -> None:
    lots = {lt.lot_id: lt for lt in r.cmc.lots.lots}
    plan = change.comparability
    seen: dict[str, str] = {}
    for side, version in (
        ("lots_pre_change", change.from_version),
        ("lots_post_change", change.to_version),
    ):
        ids = getattr(plan, side)
        if not isinstance(ids, list):
            continue
        for k, lot_id in enumerate(ids):
            where = r.doc.location(("process_changes", i, "comparability", side, k))
            lot = lots.get(lot_id)
            if lot_id in seen:
                r.add(
                    "CM112",
                    f"comparability of '{change.id}' lists lot '{lot_id}' twice",
                    where,
                    f"it is already under {seen[lot_id]}; list each lot once",
                )
            seen.setdefault(lot_id, side)
            if lot is None:
                r.add(
                    "CM110",
                    f"comparability of '{change.id}' names lot '{lot_id}', not in "
                    f"{r.cmc.lots.display}",
                    where,
                    did_you_mean(lot_id, lots) or "use a lot id of the lot CSV",
                )
            elif lot.process_version != version:
                r.add(
                    "CM111",
                    f"comparability of '{change.id}': lot '{lot_id}' under {side} was made by "
                    f"process {lot.process_version}, not {version}",
                    where,
                    f"{r.cmc.lots.display} row {lot.line} gives process_version "
                    f"{lot.process_version}; list {version} lots under {side}",
                )
    if plan.status == "complete" and not (
        isinstance(plan.lots_pre_change, list) and isinstance(plan.lots_post_change, list)
    ):
        r.add(
            "CM116",
            f"comparability of '{change.id}' is complete but does not name its lots",
            r.doc.location(("process_changes", i, "comparability", "lots_pre_change")),
            "list the lot ids compared under lots_pre_change and lots_post_change, so the "
            "outcome is computed from their results",
            Severity.WARNING,
        )


def _study_attributes(
    r: Rules, i: int, change: ProcessChange, outcome: ComparabilityOutcome
) -> None:
    plan = change.comparability
    seen: set[str] = set()
    for k, result in enumerate(outcome.attributes):
        compared = result.compared
        at = ("process_changes", i, "comparability", "attributes", k)
        if compared.test in seen:
            r.add(
                "CM117",
                f"comparability of '{change.id}' compares '{compared.test}' twice",
                r.doc.location(at),
                "list each test once",
            )
        seen.add(compared.test)
        if compared.test not in r.spec_ids or compared.acceptance == "descriptive":
            continue  # unknown tests: CM032
        if not result.numeric:
            r.add(
                "CM113",
                f"comparability of '{change.id}': '{compared.test}' has qualitative results, "
                f"which acceptance '{compared.acceptance}' cannot compare",
                r.doc.location((*at, "acceptance")),
                "use acceptance: descriptive for a qualitative test",
            )
        elif result.outcome == "insufficient-data" and plan.status == "complete":
            r.add(
                "CM118",
                f"comparability of '{change.id}': too few results of '{compared.test}' for "
                f"'{compared.acceptance}' ({len(result.pre_values)} before, "
                f"{len(result.post_values)} after the change)",
                r.doc.location(at if isinstance(plan.attributes[k], str) else (*at, "test")),
                "equivalence needs two results on each side, a quality range two before and "
                "one after; lots without a result on the current method scale do not count",
                Severity.WARNING,
            )


def _typed_conclusion(
    r: Rules, i: int, change: ProcessChange, outcome: ComparabilityOutcome
) -> None:
    typed = change.comparability.conclusion
    if typed is not None and typed != outcome.conclusion:
        r.add(
            "CM114",
            f"comparability of '{change.id}' states '{typed}' but its results give "
            f"'{outcome.conclusion}' ({outcome.reason.replace('-', ' ')})",
            r.doc.location(("process_changes", i, "comparability", "conclusion")),
            "the conclusion is computed from the lots: remove 'conclusion', or correct the "
            "study (lots, margins, ranges, status)",
        )


def dosed_without_comparable_conclusion(r: Rules) -> None:
    """CM115: post-change lots used clinically while the current gate expects a 'comparable'
    conclusion and the study does not reach one."""
    stage = r.product.stage
    expectation = r.framework.comparability_expectations.get(stage)
    if expectation is None or not expectation.conclusion_required:
        return
    for i, (change, outcome) in enumerate(
        zip(r.product.process_changes, r.analysis.comparability, strict=True)
    ):
        dosed = [
            lt.lot_id
            for lt in r.cmc.lots.lots
            if lt.clinical and lt.process_version == change.to_version
        ]
        if not dosed or outcome.conclusion == "comparable":
            continue
        shown = ", ".join(dosed[:3]) + (f" and {len(dosed) - 3} more" if len(dosed) > 3 else "")
        r.add(
            "CM115",
            f"process change '{change.id}': post-change lots were dosed ({shown}) but the "
            f"comparability conclusion is '{outcome.conclusion}' "
            f"({outcome.reason.replace('-', ' ')}); the current stage expects 'comparable'",
            r.doc.location(("process_changes", i, "comparability"), key=True),
            _DOSED_HINT.get(outcome.reason, _DOSED_HINT["not-complete"]),
        )


_DOSED_HINT = {
    "failed": "the results do not show the products comparable: assess the impact on the "
    "clinical data of the post-change lots and review the study (lots, margins, ranges)",
    "not-complete": "complete the study with the lots compared, attributes tiered and margins "
    "or ranges set, so its results give 'comparable'",
}
