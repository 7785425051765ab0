"""CMC content rules: what cmc.yaml says about the process, its methods and its studies must hold
together with the framework and the lot data. One function per rule, each returning problems.

- CM090 an unknown `process.uses` entry (error)
- CM091 a method both compendial and an alternative to a compendial method, or an
        `alternative_basis` without `alternative_to` (error)
- CM092 a stability study naming an undeclared process version (error)
- CM093 shelf-life data from lots of an earlier process than the current one (warning)
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
        elif study.study_type == "shelf-life" and version != current:
            out.append(
                Problem(
                    "CM093",
                    f"shelf-life study '{study.id}' is on lots of process {version}, not of the "
                    f"current process {current}",
                    where,
                    f"put lots of process {current} on stability, or show that {version} data "
                    "apply to it (comparability of the stability-indicating attributes)",
                    Severity.WARNING,
                )
            )
    return out


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
