"""Potency assurance: the mechanism-of-action matrix checked against the framework's staged
expectations (rules CM140-CM144) and laid out as plain data for the templates.

- CM140 a matrix reference that does not resolve (method, MoA element, specification), a
  specification judged by another method than the assay's, or a release/stability use
  without a specification (error)
- CM141 the stage rule: from the pivotal gate on, a quantitative MoA-linked release assay of
  the potency attribute with a numerical acceptance criterion in force (error)
- CM142 a MoA element no assay measures, a missing matrix, or no orthogonal assays where the
  gate expects them (warning)
- CM143 an assay's planned lifecycle that goes back (error) or plans a method status below the
  gate's expectation (warning)
- CM144 a potency test of the specification that the matrix does not list (warning)
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.cmc.analytics import effective_criterion, gates_through, method_rank
from generator.cmc.loader import LoadedCmc
from generator.models.cmc import GATES, METHOD_STATUS_ORDER, Gate, Specification
from generator.models.cmc_potency import PotencyAssay, PotencyAssurance, PotencyGateExpectation
from generator.plain import to_plain
from generator.problems import Problem, Severity, did_you_mean


@dataclass(frozen=True)
class RequirementCheck:
    """Whether the product meets one requirement of one gate, and the ids that show why."""

    requirement: str
    met: bool
    subjects: tuple[str, ...] = ()


def _specs(cmc: LoadedCmc) -> dict[str, Specification]:
    return {s.id: s for s in cmc.product.specifications}


def release_assays(cmc: LoadedCmc, gate: Gate) -> list[PotencyAssay]:
    """Quantitative, MoA-linked release assays of potency (their test is of a catalogue
    attribute of category potency) whose test has a numerical criterion at `gate`. A surrogate
    such as CAR expression (an identity attribute) belongs in the matrix but does not count."""
    potency = cmc.product.potency
    if potency is None:
        return []
    specs = _specs(cmc)
    categories = {a.id: a.category for a in cmc.framework.attributes}
    out = []
    for assay in potency.assays:
        spec = specs.get(assay.specification or "")
        if not (assay.quantitative and "release" in assay.use and spec is not None):
            continue
        if categories.get(spec.attribute) != "potency":
            continue
        crit, _ = effective_criterion(spec, gate)
        if crit is not None and crit.is_numeric:
            out.append(assay)
    return out


def status_at(cmc: LoadedCmc, assay: PotencyAssay, gate: Gate) -> str | None:
    """The method status the assay has (gates reached) or plans (its lifecycle) at `gate`."""
    ranks = []
    method = {m.id: m for m in cmc.product.methods}.get(assay.method)
    if method is not None and gate in gates_through(cmc.product.stage):
        ranks.append(method_rank(method.current.status))
    # a status once planned holds at later gates (a method validated for BLA stays validated)
    ranks += [method_rank(assay.lifecycle[g]) for g in gates_through(gate) if g in assay.lifecycle]
    if not ranks:
        return None
    return METHOD_STATUS_ORDER[max(ranks)]


def gate_checks(cmc: LoadedCmc, expectation: PotencyGateExpectation) -> list[RequirementCheck]:
    """Each requirement of the gate, met or not, plus the release assay's method status."""
    potency = cmc.product.potency
    gate = expectation.gate
    out: list[RequirementCheck] = []
    for req in expectation.requires:
        if req == "moa-matrix":
            bare = uncovered_elements(potency) if potency is not None else ()
            out.append(RequirementCheck(req, potency is not None and not bare, bare))
        elif req == "quantitative-release-assay":
            found = tuple(a.specification or a.method for a in release_assays(cmc, gate))
            out.append(RequirementCheck(req, bool(found), found))
        else:
            found = orthogonal_elements(potency) if potency is not None else ()
            out.append(RequirementCheck(req, bool(found), found))
    wanted = method_rank(expectation.method_status)
    if "quantitative-release-assay" in expectation.requires:
        candidates = release_assays(cmc, gate)
    else:
        candidates = [a for a in (potency.assays if potency else []) if "release" in a.use]
    good = tuple(
        a.specification or a.method
        for a in candidates
        if (s := status_at(cmc, a, gate)) is not None and method_rank(s) >= wanted
    )
    out.append(RequirementCheck("method-status", bool(good), good))
    return out


def uncovered_elements(potency: PotencyAssurance) -> tuple[str, ...]:
    covered = {e for a in potency.assays for e in a.elements}
    return tuple(e.id for e in potency.elements if e.id not in covered)


def orthogonal_elements(potency: PotencyAssurance) -> tuple[str, ...]:
    """MoA elements measured by assays of at least two different methods."""
    return tuple(
        e.id
        for e in potency.elements
        if len({a.method for a in potency.assays if e.id in a.elements}) >= 2
    )


# --- rules -----------------------------------------------------------------------------------


def check_potency(cmc: LoadedCmc) -> list[Problem]:
    out: list[Problem] = []
    for rule in (_references, _stage_rule, _coverage, _lifecycle, _unlisted_potency_tests):
        out += rule(cmc)
    return out


def _references(cmc: LoadedCmc) -> list[Problem]:
    potency = cmc.product.potency
    if potency is None:
        return []
    doc = cmc.document
    methods = {m.id for m in cmc.product.methods}
    elements = {e.id for e in potency.elements}
    specs = _specs(cmc)
    out: list[Problem] = []
    for i, assay in enumerate(potency.assays):
        at = ("potency", "assays", i)
        if assay.method not in methods:
            out.append(
                Problem(
                    "CM140",
                    f"potency assay: unknown method '{assay.method}'",
                    doc.location((*at, "method")),
                    did_you_mean(assay.method, methods) or "use a method id of 'methods:'",
                )
            )
        for j, el in enumerate(assay.elements):
            if el not in elements:
                out.append(
                    Problem(
                        "CM140",
                        f"potency assay '{assay.method}': unknown MoA element '{el}'",
                        doc.location((*at, "elements", j)),
                        did_you_mean(el, elements) or "use an id of 'potency: elements:'",
                    )
                )
        out += _assay_specification(cmc, assay, at, specs)
    return out


def _assay_specification(
    cmc: LoadedCmc, assay: PotencyAssay, at: tuple[str | int, ...], specs: dict[str, Specification]
) -> list[Problem]:
    doc = cmc.document
    if assay.specification is None:
        judged = [u for u in assay.use if u in ("release", "stability")]
        if not judged:
            return []
        return [
            Problem(
                "CM140",
                f"potency assay '{assay.method}' is used for {' and '.join(judged)} but names "
                "no specification",
                doc.location((*at, "use")),
                "add 'specification: <test id>' (the test its results are judged against), or "
                "keep the assay for characterisation only",
            )
        ]
    spec = specs.get(assay.specification)
    if spec is None:
        return [
            Problem(
                "CM140",
                f"potency assay '{assay.method}': unknown specification '{assay.specification}'",
                doc.location((*at, "specification")),
                did_you_mean(assay.specification, specs) or "use a test id of 'specifications:'",
            )
        ]
    if spec.method != assay.method:
        return [
            Problem(
                "CM140",
                f"potency assay '{assay.method}' names specification '{spec.id}', which is "
                f"tested by method '{spec.method}'",
                doc.location((*at, "specification")),
                "link the assay to the test its method measures",
            )
        ]
    return []


def _expectation(cmc: LoadedCmc, gate: Gate) -> PotencyGateExpectation | None:
    pa = cmc.framework.potency_assurance
    return pa.at(gate) if pa is not None else None


def _stage_rule(cmc: LoadedCmc) -> list[Problem]:
    stage = cmc.product.stage
    exp = _expectation(cmc, stage)
    if exp is None or "quantitative-release-assay" not in exp.requires:
        return []
    if release_assays(cmc, stage):
        return []
    where = ("potency",) if cmc.product.potency is not None else ("stage",)
    return [
        Problem(
            "CM141",
            f"stage '{stage}' needs a quantitative potency release assay linked to the "
            "mechanism of action, with a numerical acceptance criterion",
            cmc.document.location(where, key=where == ("potency",)),
            f"under 'potency: assays:' mark an assay quantitative: true with use [release] and "
            f"a specification of attribute 'potency' whose criterion at {stage} is NLT, NMT or "
            "a range",
        )
    ]


def _coverage(cmc: LoadedCmc) -> list[Problem]:
    potency = cmc.product.potency
    exp = _expectation(cmc, cmc.product.stage)
    doc = cmc.document
    warn = functools.partial(Problem, severity=Severity.WARNING)
    if potency is None:
        if exp is not None and "moa-matrix" in exp.requires:
            return [
                warn(
                    "CM142",
                    "no mechanism-of-action matrix: cmc.yaml has no 'potency:'",
                    doc.location(("stage",)),
                    "add 'potency:' with the MoA elements and the assays that measure them",
                )
            ]
        return []
    out = []
    index = {e.id: k for k, e in enumerate(potency.elements)}
    for el in uncovered_elements(potency):
        out.append(
            warn(
                "CM142",
                f"MoA element '{el}' is measured by no assay",
                doc.location(("potency", "elements", index[el], "id")),
                "add an assay that measures it, or explain why none can",
            )
        )
    if exp is not None and "orthogonal-assays" in exp.requires and not orthogonal_elements(potency):
        out.append(
            warn(
                "CM142",
                "no MoA element is measured by two orthogonal assays (two methods)",
                doc.location(("potency", "assays"), key=True),
                "add a second assay of another method for the main element of the mechanism",
            )
        )
    return out


def _lifecycle(cmc: LoadedCmc) -> list[Problem]:
    potency = cmc.product.potency
    if potency is None:
        return []
    doc = cmc.document
    out = []
    for i, assay in enumerate(potency.assays):
        planned = [(g, assay.lifecycle[g]) for g in GATES if g in assay.lifecycle]
        for (g0, s0), (g1, s1) in itertools.pairwise(planned):
            if method_rank(s1) < method_rank(s0):
                out.append(
                    Problem(
                        "CM143",
                        f"potency assay '{assay.method}' plans '{s1}' at {g1} after '{s0}' at {g0}",
                        doc.location(("potency", "assays", i, "lifecycle", g1)),
                        "a method's status only moves forward: fit-for-purpose, qualified, "
                        "validated",
                    )
                )
        if "release" not in assay.use:
            continue
        for g, status in planned:
            exp = _expectation(cmc, g)
            if exp is not None and method_rank(status) < method_rank(exp.method_status):
                out.append(
                    Problem(
                        "CM143",
                        f"potency release assay '{assay.method}' plans '{status}' at {g}; the "
                        f"framework expects '{exp.method_status}'",
                        doc.location(("potency", "assays", i, "lifecycle", g)),
                        f"plan the method to be {exp.method_status} by {g}",
                        Severity.WARNING,
                    )
                )
    return out


def _unlisted_potency_tests(cmc: LoadedCmc) -> list[Problem]:
    potency = cmc.product.potency
    if potency is None:
        return []
    attributes = {a.id: a for a in cmc.framework.attributes}
    listed = {a.specification for a in potency.assays}
    return [
        Problem(
            "CM144",
            f"potency test '{spec.id}' is not in the mechanism-of-action matrix",
            cmc.document.location(("specifications", i, "id")),
            "add it to 'potency: assays:' with the MoA elements it measures",
            Severity.WARNING,
        )
        for i, spec in enumerate(cmc.product.specifications)
        if spec.attribute in attributes
        and attributes[spec.attribute].category == "potency"
        and attributes[spec.attribute].substance == "cells"
        and spec.id not in listed
    ]


# --- template data ---------------------------------------------------------------------------


def potency_view(cmc: LoadedCmc, text: Callable[[str], str]) -> dict[str, Any] | None:
    """Plain data for the potency partials; None when the framework has no potency block."""
    pa = cmc.framework.potency_assurance
    if pa is None:
        return None
    plain = functools.partial(to_plain, text=text)
    potency = cmc.product.potency
    gates = [
        {
            "expectation": plain(exp),
            "checks": [plain(c) for c in gate_checks(cmc, exp)],
            "met": all(c.met for c in gate_checks(cmc, exp)),
        }
        for exp in pa.expectations
    ]
    return {
        "framework": plain(pa),
        "gates": gates,
        "matrix": _matrix(cmc, potency, plain) if potency is not None else None,
    }


def _matrix(
    cmc: LoadedCmc, potency: PotencyAssurance, plain: Callable[[Any], Any]
) -> dict[str, Any]:
    methods = {m.id: m for m in cmc.product.methods}
    specs = _specs(cmc)
    elements = {e.id: e for e in potency.elements}
    assays = []
    for assay in potency.assays:
        method = methods.get(assay.method)
        spec = specs.get(assay.specification or "")
        crit = effective_criterion(spec, cmc.product.stage)[0] if spec is not None else None
        assays.append(
            {
                "assay": plain(assay),
                "method": plain(method) if method is not None else None,
                "elements": [plain(elements[e]) for e in assay.elements if e in elements],
                "spec": plain(spec) if spec is not None else None,
                "criterion": plain(crit),
                "lifecycle": {g: status_at(cmc, assay, g) for g in GATES},
            }
        )
    return {
        "potency": plain(potency),
        "assays": assays,
        "characterisation": [a for a in assays if "characterisation" in a["assay"]["use"]],
        "orthogonal": list(orthogonal_elements(potency)),
        "uncovered": list(uncovered_elements(potency)),
    }
