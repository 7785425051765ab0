"""CMC content rules: what cmc.yaml says about the process, its methods and its studies must hold
together with the framework and the lot data. One function per rule, each returning problems.

- CM090 an unknown `process.uses` entry (error)
- CM091 a method both compendial and an alternative to a compendial method, or an
        `alternative_basis` without `alternative_to` (error)
- CM092 a stability study naming an undeclared process version (error)
- CM093 shelf-life data, or any claimed shelf life or in-use period, from lots of an earlier
        process than the current one (warning); the process comes from `process_version` or,
        without it, from the lots on study
- CM094 a release test with no result on any of the clinical lots (warning), once there are
        at least `RELEASE_RESULTS_AFTER_CLINICAL_LOTS` of them
"""

from __future__ import annotations

from generator.cmc.loader import LoadedCmc
from generator.problems import Problem, Severity, did_you_mean

RELEASE_RESULTS_AFTER_CLINICAL_LOTS = 3
"""Clinical lots after which a release test without any result is reported: every released lot
should carry a result for every release test."""


def check_content(cmc: LoadedCmc) -> list[Problem]:
    """Every content-rule problem of the product's CMC inputs."""
    return [
        *_process_uses(cmc),
        *_alternative_methods(cmc),
        *_stability_process_versions(cmc),
        *_release_tests_without_results(cmc),
    ]


def _process_uses(cmc: LoadedCmc) -> list[Problem]:
    known = [u.id for u in cmc.framework.process_uses]
    return [
        Problem(
            "CM090",
            f"unknown process use '{use}'",
            cmc.document.location(("process", "uses", i)),
            did_you_mean(use, known) or f"use one of: {', '.join(known)}",
        )
        for i, use in enumerate(cmc.product.process.uses)
        if use not in known
    ]


def _alternative_methods(cmc: LoadedCmc) -> list[Problem]:
    out: list[Problem] = []
    for i, method in enumerate(cmc.product.methods):
        if method.compendial and method.alternative_to:
            out.append(
                Problem(
                    "CM091",
                    f"method '{method.id}' is both compendial ({method.compendial}) and an "
                    f"alternative to {method.alternative_to}",
                    cmc.document.location(("methods", i, "compendial")),
                    "an automated or rapid method validated in place of a compendial one is not "
                    "compendial: keep 'alternative_to' (and 'alternative_basis') and remove "
                    "'compendial'",
                )
            )
        if method.alternative_basis and not method.alternative_to:
            out.append(
                Problem(
                    "CM091",
                    f"method '{method.id}' gives alternative_basis but not the compendial "
                    "method it replaces",
                    cmc.document.location(("methods", i, "alternative_basis")),
                    "add alternative_to (e.g. 'USP <71>') or remove alternative_basis",
                )
            )
    return out


def _stability_process_versions(cmc: LoadedCmc) -> list[Problem]:
    versions = [v.id for v in cmc.product.process.versions]
    current = versions[-1]
    out: list[Problem] = []
    for i, study in enumerate(cmc.product.stability):
        version = study.process_version
        if version is None:
            out += _claim_from_earlier_lots(cmc, i, current)
            continue
        where = cmc.document.location(("stability", i, "process_version"))
        if version not in versions:
            out.append(
                Problem(
                    "CM092",
                    f"stability study '{study.id}' names process version '{version}', not "
                    "declared in cmc.yaml",
                    where,
                    did_you_mean(version, versions) or "declare it under process.versions",
                )
            )
        elif (study.study_type == "shelf-life" or study.claim) and version != current:
            claim = f"claims {study.claim.period:g} {study.claim.unit} and " if study.claim else ""
            out.append(
                Problem(
                    "CM093",
                    f"{_study_kind(study.study_type)} study '{study.id}' {claim}is on lots of "
                    f"process {version}, not of the current process {current}",
                    where,
                    f"put lots of process {current} on stability, or show that {version} data "
                    "apply to it (comparability of the stability-indicating attributes)",
                    Severity.WARNING,
                )
            )
    return out


def _study_kind(study_type: str) -> str:
    return "shelf-life" if study_type == "shelf-life" else f"{study_type} stability"


def _claim_from_earlier_lots(cmc: LoadedCmc, i: int, current: str) -> list[Problem]:
    """CM093 for a study without `process_version`: the process of its lots (cmc.yaml `lots:`
    and the lots in its results) decides whether a claim rests on the current process."""
    study = cmc.product.stability[i]
    if study.study_type != "shelf-life" and study.claim is None:
        return []
    version = {lot.lot_id: lot.process_version for lot in cmc.lots.lots}
    on_study = [*study.lots, *(r.lot_id for r in cmc.stability.rows_of(study.id))]
    earlier = sorted({version[lot] for lot in on_study if lot in version} - {current})
    if not earlier:
        return []
    claim = f"claims {study.claim.period:g} {study.claim.unit} and " if study.claim else ""
    return [
        Problem(
            "CM093",
            f"{_study_kind(study.study_type)} study '{study.id}' {claim}is on lots of process "
            f"{', '.join(earlier)}, not of the current process {current}",
            cmc.document.location(("stability", i, "lots" if study.lots else "id")),
            f"put lots of process {current} on stability, or show that {', '.join(earlier)} "
            "data apply to it (comparability of the stability-indicating attributes)",
            Severity.WARNING,
        )
    ]


def _release_tests_without_results(cmc: LoadedCmc) -> list[Problem]:
    clinical = [lot for lot in cmc.lots.lots if lot.clinical]
    if len(clinical) < RELEASE_RESULTS_AFTER_CLINICAL_LOTS:
        return []
    out: list[Problem] = []
    for i, spec in enumerate(cmc.product.specifications):
        if "release" not in spec.usage:
            continue
        if any(spec.id in lot.results or spec.id in lot.texts for lot in clinical):
            continue
        column = (
            f"column '{spec.id}' is empty"
            if spec.id in cmc.lots.columns
            else f"{cmc.lots.display} has no column '{spec.id}'"
        )
        out.append(
            Problem(
                "CM094",
                f"release test '{spec.id}' has no result on any of the {len(clinical)} clinical "
                f"lots ({column})",
                cmc.document.location(("specifications", i, "id")),
                f"add the results to {cmc.lots.display}, or say why the lots were released "
                "without this test",
                Severity.WARNING,
            )
        )
    return out
