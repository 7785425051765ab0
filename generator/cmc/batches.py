"""Batch analyses for Module 3 (3.2.S.4.4 / 3.2.P.5.4): lot-by-lot tables, or, past
`BATCH_TABLE_MAX_LOTS`, a summary per process version and use plus the clinical lots of the
current process.

A product with thousands of lots would otherwise print thousands of table rows: a document no
reviewer reads, and a Word build that took minutes and gigabytes (benchmarks/many_lots.py).
Everything here is plain data for the templates; the wording lives in templates/module3/.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.cmc.analytics import (
    criterion_in_force,
    effective_criterion,
    out_of_specification,
    version_on,
)
from generator.cmc.lots import Lot, LotTable
from generator.models.cmc import (
    GATES,
    AnalyticalMethod,
    CmcProduct,
    Criterion,
    Gate,
    Specification,
)
from generator.render import md_literal

BATCH_TABLE_MAX_LOTS = 60
"""Most lots listed one by one in a batch-analysis table. Above it, Module 3 shows a summary
per process version and use (n, minimum, median, maximum, results outside the criterion) and
lists only the most recent clinical lots of the current process, at most this many."""

BATCH_COLUMNS = 4
"""Tests per batch-analysis table (Word pages are narrow)."""


@dataclass(frozen=True)
class BatchAnalyses:
    """What the batch-analysis section of one material shows."""

    summarised: bool
    listed_lots: int  # lots in the lot-by-lot tables
    current_process: str
    tables: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    lots: list[dict[str, Any]] = field(default_factory=list)
    """One row per listed lot: dose level, release and infusion dates, outcome."""
    cross_reference: bool = False
    """The drug substance is not isolated: its batch analyses are the drug product's."""
    earlier_versions: bool = False
    """Some listed result was obtained by an earlier version of its method."""


def batch_analyses(
    product: CmcProduct,
    table: LotTable,
    material: str,
    plain: Callable[[Any], Any],
    lot_data: Callable[[Any], Any],
    fmt: Callable[[float | None], str],
) -> BatchAnalyses:
    """The batch analyses of `material`: every lot up to the threshold, a summary beyond."""
    if material == "drug_substance" and not product.drug_substance.isolated:
        return BatchAnalyses(False, 0, "", [], [], cross_reference=True)
    tested = [
        s
        for s in product.specifications
        if s.material == material
        and any(s.id in lt.results or s.id in lt.texts for lt in table.lots)
    ]
    lots = sorted(table.lots, key=lambda lt: (lt.date, lt.lot_id))
    # the newest declared process that has clinical lots (a planned version has none yet)
    clinical_versions = {lt.process_version for lt in lots if lt.clinical}
    versions = [v.id for v in product.process.versions]
    current = next((v for v in reversed(versions) if v in clinical_versions), versions[-1])
    summarised = len(lots) > BATCH_TABLE_MAX_LOTS
    if summarised:
        lots = [lt for lt in lots if lt.clinical and lt.process_version == current]
        lots = lots[-BATCH_TABLE_MAX_LOTS:]
    flags = _flags(product, table)
    tables = _lot_tables(product, tested, lots, flags, plain, lot_data) if tested else []
    return BatchAnalyses(
        summarised=summarised,
        listed_lots=len(lots),
        current_process=current,
        tables=tables,
        summary=_summary(product, tested, table.lots, plain, fmt) if summarised else [],
        lots=_lot_rows(product, lots, tested, flags, lot_data) if tested else [],
        earlier_versions=any(c["version"] for t in tables for r in t["rows"] for c in r["cells"]),
    )


def _flags(product: CmcProduct, table: LotTable) -> dict[tuple[str, str], str]:
    """(lot id, test id) -> 'oos', 'investigated' or 'exceptional-release' where not a pass."""
    flags: dict[tuple[str, str], str] = {}
    for o in out_of_specification(product, table):
        flags[(o.lot_id, o.test)] = "investigated" if o.investigation else "oos"
    for er in product.exceptional_releases:
        for test in er.tests:
            flags[(er.lot, test)] = "exceptional-release"
    return flags


def _lot_rows(
    product: CmcProduct,
    lots: Sequence[Lot],
    tested: list[Specification],
    flags: dict[tuple[str, str], str],
    lot_data: Callable[[Any], Any],
) -> list[dict[str, Any]]:
    """Per lot: its dates, dose level and outcome (the worst flag of its results)."""
    rank = ("pass", "investigated", "oos", "exceptional-release")
    released = {er.lot: er.id for er in product.exceptional_releases}
    rows = []
    for lot in lots:
        found = [flags.get((lot.lot_id, s.id), "pass") for s in tested]
        rows.append(
            {
                "lot": lot_data(lot),
                "outcome": max(found, key=rank.index) if found else "pass",
                "tests": [s.id for s, f in zip(tested, found, strict=True) if f != "pass"],
                "exceptional": released.get(lot.lot_id),
            }
        )
    return rows


def _in_force(
    spec: Specification, product: CmcProduct, lot: Lot
) -> tuple[Criterion | None, Gate | None]:
    return criterion_in_force(spec, product.stage, lot.release_day)


def _criteria_key(
    chunk: list[Specification], product: CmcProduct, lot: Lot
) -> tuple[Gate | None, ...]:
    return tuple(_in_force(s, product, lot)[1] for s in chunk)


def _lot_tables(
    product: CmcProduct,
    tested: list[Specification],
    lots: Sequence[Lot],
    flags: dict[tuple[str, str], str],
    plain: Callable[[Any], Any],
    lot_data: Callable[[Any], Any],
) -> list[dict[str, Any]]:
    """Tables of BATCH_COLUMNS tests: one row per set of criteria in force (a specification
    version, labelled by its latest gate and start date), then one row per lot naming it."""
    methods = {m.id: m for m in product.methods}
    tables = []
    for start in range(0, len(tested), BATCH_COLUMNS):
        chunk = tested[start : start + BATCH_COLUMNS]
        keys: list[tuple[Gate | None, ...]] = []
        rows = []
        for lot in lots:
            key = _criteria_key(chunk, product, lot)
            if key not in keys:
                keys.append(key)
            rows.append(
                {
                    "lot": lot_data(lot),
                    "criteria": keys.index(key),
                    "cells": [_cell(lot, s, methods.get(s.method), flags) for s in chunk],
                }
            )
        if rows:
            tables.append(
                {
                    "tests": plain(chunk),
                    # numerical columns align right, text results left
                    "numeric": [any(s.id in lot.results for lot in lots) for s in chunk],
                    "criteria": [_criteria_row(chunk, key, plain) for key in keys],
                    "rows": rows,
                }
            )
    return tables


def _criteria_row(
    chunk: list[Specification], key: tuple[Gate | None, ...], plain: Callable[[Any], Any]
) -> dict[str, Any]:
    """The criteria of one specification version: its latest gate, the date it took effect."""
    crits = [s.stages[g] if g is not None else None for s, g in zip(chunk, key, strict=True)]
    gates = [g for g in key if g is not None]
    starts = [c.effective for c in crits if c is not None and c.effective is not None]
    return {
        "gate": max(gates, key=GATES.index) if gates else None,
        "start": max(starts) if starts else None,
        "cells": [plain(c) for c in crits],
    }


def _cell(
    lot: Lot,
    spec: Specification,
    method: AnalyticalMethod | None,
    flags: dict[tuple[str, str], str],
) -> dict[str, str]:
    """A result with its flag, and its method version when not the current one."""
    if spec.id in lot.results:
        text = lot.results[spec.id].display
    else:
        text = md_literal(lot.texts.get(spec.id, "—"))
    tested = spec.id in lot.results or spec.id in lot.texts
    version = version_on(method, lot, spec.id) if method is not None and tested else ""
    return {
        "text": text,
        "flag": flags.get((lot.lot_id, spec.id), ""),
        "version": md_literal(version)
        if method is not None and version and version != method.current.version
        else "",
    }


def _summary(
    product: CmcProduct,
    tested: list[Specification],
    lots: Sequence[Lot],
    plain: Callable[[Any], Any],
    fmt: Callable[[float | None], str],
) -> list[dict[str, Any]]:
    """One block per test: a row per (process version, use) group that has results."""
    order = {v.id: i for i, v in enumerate(product.process.versions)}
    groups: dict[tuple[str, str], list[Lot]] = {}
    for lot in lots:
        groups.setdefault((lot.process_version, lot.use), []).append(lot)
    keys = sorted(groups, key=lambda k: (order.get(k[0], len(order)), k[0], k[1]))
    out = []
    for spec in tested:
        crit, _ = effective_criterion(spec, product.stage)
        lower, upper = crit.limits if crit is not None else (None, None)
        rows = []
        for process_version, use in keys:
            row = _group_row(groups[(process_version, use)], spec.id, lower, upper, fmt)
            if row is not None:
                rows.append({"process_version": md_literal(process_version), "use": use, **row})
        if rows:
            out.append(
                {"spec": plain(spec), "numeric": any(r["numeric"] for r in rows), "rows": rows}
            )
    return out


def _group_row(
    lots: list[Lot], test: str, lower: float | None, upper: float | None, fmt: Callable[..., str]
) -> dict[str, Any] | None:
    results = [lt.results[test] for lt in lots if test in lt.results]
    texts = [lt.texts[test] for lt in lots if test in lt.texts]
    if not results and not texts:
        return None
    if not results:
        counts: dict[str, int] = {}
        for t in texts:
            counts[t] = counts.get(t, 0) + 1
        return {
            "numeric": False,
            "n": len(texts),
            "n_censored": 0,
            "results": [{"text": md_literal(t), "n": c} for t, c in sorted(counts.items())],
        }
    # a '<x' result sorts before an uncensored x, and an order statistic that is one prints '< x'
    ordered = sorted(results, key=lambda r: (r.value, not r.censored))
    middle = ordered[(len(ordered) - 1) // 2 : len(ordered) // 2 + 1]
    median = statistics.median(r.value for r in middle)
    outside = sum(
        1
        for r in results
        # a '<x' result lies below x: outside an NLT limit only when x is at or under it
        if (lower is not None and (r.value <= lower if r.censored else r.value < lower))
        or (upper is not None and not r.censored and r.value > upper)
    )
    return {
        "numeric": True,
        "n": len(results),
        "n_censored": sum(1 for r in results if r.censored),
        "minimum": _bound(ordered[0].value, ordered[0].censored, fmt),
        "median": _bound(median, any(r.censored for r in middle), fmt),
        "maximum": _bound(ordered[-1].value, ordered[-1].censored, fmt),
        "outside": outside,
        "has_limit": lower is not None or upper is not None,
    }


def _bound(value: float, censored: bool, fmt: Callable[..., str]) -> str:
    """An order statistic as a table cell: '&lt; 0.5' when it is a censored result (see
    `Result.display` for why the entity)."""
    return f"&lt; {fmt(value)}" if censored else fmt(value)
