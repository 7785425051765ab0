"""Release testing, exceptional release and process-control rules (CM130-CM139), and the
process-control readiness per gate. One function per rule, each returning problems.

- CM130 a research-grade material from the gate the framework's `material-grade` names (error),
        or at the gate before it (warning)
- CM131 an open process step without its justification and aseptic controls (error)
- CM132 `process_controls.open_steps` names a step that is unknown or not open (error)
- CM133 no environmental monitoring from the gate the framework names (error)
- CM134 no container closure integrity study from its gate, or one not complete at BLA (error)
- CM135 an exceptional release naming an unknown lot, test or investigation (error)
- CM136 a clinical lot infused with a result out of specification and no exceptional release
        recorded (error; a warning when an investigation is recorded, which may have invalidated
        the result)
- CM137 release testing: `released_on` names an unknown test or one whose result comes after
        release; a safety test read after release with nothing to release on (error)
- CM138 lot dates out of order: released before it was made, infused before it was released
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from generator.cmc.analytics import CmcAnalysis
from generator.cmc.loader import LoadedCmc
from generator.cmc.lots import LOT_DATE_COLUMNS
from generator.models.cmc import GATES, Gate
from generator.models.cmc_release import ProcessControlExpectation
from generator.problems import Problem, Severity, did_you_mean

MET, MISSING, AT_RISK = "met", "missing", "at-risk"


def check_release(cmc: LoadedCmc, analysis: CmcAnalysis) -> list[Problem]:
    """Every release, exceptional-release and process-control problem of the CMC inputs."""
    return [
        *_material_grade(cmc),
        *_open_steps(cmc),
        *_environmental_monitoring(cmc),
        *_container_closure(cmc),
        *_exceptional_release_references(cmc),
        *_infused_out_of_specification(cmc, analysis),
        *_release_testing(cmc),
        *_lot_dates(cmc),
    ]


def _expectation(cmc: LoadedCmc, ident: str) -> ProcessControlExpectation | None:
    return next((e for e in cmc.framework.process_controls if e.id == ident), None)


def _reached(stage: Gate, gate: Gate) -> bool:
    return GATES.index(stage) >= GATES.index(gate)


def _research_grade(grade: str, words: list[str]) -> bool:
    text = " ".join(grade.lower().replace("-", " ").split())
    return any(" ".join(w.lower().replace("-", " ").split()) in text for w in words)


def research_grade_materials(cmc: LoadedCmc) -> list[int]:
    """Indexes of materials whose grade reads as research grade (framework words)."""
    exp = _expectation(cmc, "material-grade")
    if exp is None:
        return []
    return [i for i, m in enumerate(cmc.product.materials) if _research_grade(m.grade, exp.words)]


def _material_grade(cmc: LoadedCmc) -> list[Problem]:
    exp = _expectation(cmc, "material-grade")
    stage = cmc.product.stage
    if exp is None:
        return []
    due = _reached(stage, exp.expected_from)
    coming = not due and GATES.index(exp.expected_from) == GATES.index(stage) + 1
    if not (due or coming):
        return []
    out = []
    for i in research_grade_materials(cmc):
        material = cmc.product.materials[i]
        out.append(
            Problem(
                "CM130",
                f"material '{material.name}' is '{material.grade}', research grade, which the "
                f"framework does not accept from {exp.expected_from}"
                + (" (the current stage)" if exp.expected_from == stage else ""),
                cmc.document.location(("materials", i, "grade")),
                "replace it with a GMP or clinical-grade material, or qualify it (identity, "
                "purity, sterility, endotoxin, adventitious agents, function) and say so in "
                "'grade' and 'controls'",
                Severity.ERROR if due else Severity.WARNING,
            )
        )
    return out


def open_steps_without_controls(cmc: LoadedCmc) -> list[int]:
    """Indexes of open process steps with no entry under process_controls.open_steps."""
    given = cmc.product.process_controls.open_steps if cmc.product.process_controls else {}
    return [
        i
        for i, st in enumerate(cmc.product.process.steps)
        if st.system == "open" and st.id not in given
    ]


def _open_steps(cmc: LoadedCmc) -> list[Problem]:
    exp = _expectation(cmc, "open-processing")
    out: list[Problem] = []
    if exp is not None and _reached(cmc.product.stage, exp.expected_from):
        for i in open_steps_without_controls(cmc):
            step = cmc.product.process.steps[i]
            out.append(
                Problem(
                    "CM131",
                    f"process step '{step.id}' ({step.name}) is open, with no justification "
                    "or aseptic controls",
                    cmc.document.location(("process", "steps", i, "system")),
                    f"add process_controls.open_steps.{step.id} with 'justification' and "
                    "'aseptic_controls', or close the step",
                )
            )
    controls = cmc.product.process_controls
    steps = {st.id: st for st in cmc.product.process.steps}
    for key in controls.open_steps if controls else {}:
        named = steps.get(key)
        if named is None or named.system != "open":
            out.append(
                Problem(
                    "CM132",
                    f"process_controls.open_steps names '{key}', "
                    + ("no process step" if named is None else f"a {named.system} step"),
                    cmc.document.location(("process_controls", "open_steps", key), key=True),
                    did_you_mean(key, list(steps))
                    or "list only steps with system: open under open_steps",
                )
            )
    return out


def _environmental_monitoring(cmc: LoadedCmc) -> list[Problem]:
    exp = _expectation(cmc, "environmental-monitoring")
    controls = cmc.product.process_controls
    if exp is None or not _reached(cmc.product.stage, exp.expected_from):
        return []
    if controls is not None and controls.environmental_monitoring is not None:
        return []
    return [
        Problem(
            "CM133",
            f"cmc.yaml describes no environmental monitoring, expected from {exp.expected_from}",
            cmc.document.location(("process_controls",) if controls else ("process",), key=True),
            "add process_controls.environmental_monitoring with 'program' (areas, grades, "
            "viable and non-viable monitoring, frequency) and 'status'",
        )
    ]


def _container_closure(cmc: LoadedCmc) -> list[Problem]:
    exp = _expectation(cmc, "container-closure-integrity")
    controls = cmc.product.process_controls
    stage = cmc.product.stage
    if exp is None or not _reached(stage, exp.expected_from):
        return []
    cci = controls.container_closure_integrity if controls else None
    if cci is None:
        return [
            Problem(
                "CM134",
                "cmc.yaml gives no container closure integrity study, expected from "
                f"{exp.expected_from}",
                cmc.document.location(
                    ("process_controls",) if controls else ("drug_product", "container_closure"),
                    key=True,
                ),
                "add process_controls.container_closure_integrity (container, method, status)",
            )
        ]
    if _reached(stage, "bla") and cci.status != "complete":
        return [
            Problem(
                "CM134",
                f"the container closure integrity study is {cci.status}; a BLA needs it complete",
                cmc.document.location(
                    ("process_controls", "container_closure_integrity", "status")
                ),
                "complete the study and summarise it under 'summary'",
            )
        ]
    return []


def _exceptional_release_references(cmc: LoadedCmc) -> list[Problem]:
    lot_ids = {lt.lot_id for lt in cmc.lots.lots}
    tests = [s.id for s in cmc.product.specifications]
    investigations = [inv.id for inv in cmc.product.investigations]
    out = []
    for i, er in enumerate(cmc.product.exceptional_releases):
        if er.lot not in lot_ids:
            out.append(
                Problem(
                    "CM135",
                    f"exceptional release '{er.id}' names lot '{er.lot}', not in "
                    f"{cmc.lots.display}",
                    cmc.document.location(("exceptional_releases", i, "lot")),
                    did_you_mean(er.lot, lot_ids) or "use a lot id of the lot CSV",
                )
            )
        for k, test in enumerate(er.tests):
            if test not in tests:
                out.append(
                    Problem(
                        "CM135",
                        f"exceptional release '{er.id}' names unknown test '{test}'",
                        cmc.document.location(("exceptional_releases", i, "tests", k)),
                        did_you_mean(test, tests) or "use test ids of 'specifications'",
                    )
                )
        if er.investigation is not None and er.investigation not in investigations:
            out.append(
                Problem(
                    "CM135",
                    f"exceptional release '{er.id}' names unknown investigation "
                    f"'{er.investigation}'",
                    cmc.document.location(("exceptional_releases", i, "investigation")),
                    did_you_mean(er.investigation, investigations)
                    or "record it under 'investigations:'",
                )
            )
    return out


def _infused_out_of_specification(cmc: LoadedCmc, analysis: CmcAnalysis) -> list[Problem]:
    released = {(er.lot, t) for er in cmc.product.exceptional_releases for t in er.tests}
    lots = {lt.lot_id: lt for lt in cmc.lots.lots}
    out = []
    for o in analysis.out_of_specification:
        lot = lots.get(o.lot_id)
        if lot is None or not o.clinical or not lot.infusion_date:
            continue
        if (o.lot_id, o.test) in released:
            continue
        investigated = f"; investigation {o.investigation} is recorded" if o.investigation else ""
        out.append(
            Problem(
                "CM136",
                f"lot '{o.lot_id}' was infused on {lot.infusion_date} with '{o.test}' out of "
                f"specification ('{o.result}'), and no exceptional release is recorded"
                + investigated,
                cmc.lots.location(lot.line, "infusion_date"),
                "record it under 'exceptional_releases:' (id, lot, tests, reason, approved_by, "
                "physician_notified, regulator_notified, investigation)"
                + (", unless the investigation invalidated the result" if investigated else ""),
                # an investigation may have invalidated the result (a retest met the criterion)
                Severity.WARNING if investigated else Severity.ERROR,
            )
        )
    return out


def _release_testing(cmc: LoadedCmc) -> list[Problem]:
    specs = cmc.product.specifications
    by_id = {s.id: s for s in specs}
    safety = {a.id for a in cmc.framework.attributes if a.safety_limit}
    out = []
    for i, spec in enumerate(specs):
        rt = spec.release_testing
        if rt is None:
            continue
        if rt.released_on is not None:
            other = by_id.get(rt.released_on)
            other_rt = other.release_testing if other else None
            if other is None or (other_rt is not None and not other_rt.result_before_release):
                out.append(
                    Problem(
                        "CM137",
                        f"'{spec.id}' is released on '{rt.released_on}', "
                        + (
                            "which is no test of the specification"
                            if other is None
                            else "whose result is not available before release either"
                        ),
                        cmc.document.location(
                            ("specifications", i, "release_testing", "released_on")
                        ),
                        did_you_mean(rt.released_on, list(by_id))
                        or "name a test whose result is known before release (e.g. the Gram stain)",
                    )
                )
        elif not rt.result_before_release and spec.attribute in safety:
            out.append(
                Problem(
                    "CM137",
                    f"safety test '{spec.id}' is read after release, and no test stands in for "
                    "it at release",
                    cmc.document.location(
                        ("specifications", i, "release_testing", "result_before_release")
                    ),
                    "name under 'released_on' the test the lot is released on (e.g. gram_stain "
                    "for a sterility culture read after infusion)",
                )
            )
    return out


def _lot_dates(cmc: LoadedCmc) -> list[Problem]:
    out = []
    for lot in cmc.lots.lots:
        order = [("date", lot.date), *((c, getattr(lot, c)) for c in LOT_DATE_COLUMNS)]
        given = [(c, d) for c, d in order if d]
        for (before, d1), (after, d2) in itertools.pairwise(given):
            if d2 < d1:
                out.append(
                    Problem(
                        "CM138",
                        f"lot '{lot.lot_id}': {after.replace('_', ' ')} {d2} is before "
                        f"{'manufacture' if before == 'date' else before.replace('_', ' ')} {d1}",
                        cmc.lots.location(lot.line, after),
                        "a lot is made, then released, then infused; correct the dates",
                    )
                )
    return out


# --------------------------------------------------------------------------------------------
# Readiness of the process controls, per gate (templates word the reasons)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ControlItem:
    gate: str
    control: str
    title: str
    status: str
    reasons: tuple[str, ...]
    subjects: tuple[str, ...]
    needs_verification: bool


def process_control_readiness(cmc: LoadedCmc) -> list[ControlItem]:
    """Each framework process-control expectation at each gate: met, missing or at risk."""
    product = cmc.product
    controls = product.process_controls
    research = [product.materials[i].name for i in research_grade_materials(cmc)]
    open_gaps = [product.process.steps[i].id for i in open_steps_without_controls(cmc)]
    gaps: dict[str, tuple[list[str], list[str]]] = {
        "material-grade": (["research-grade-material"] if research else [], research),
        "open-processing": (["open-step-unjustified"] if open_gaps else [], open_gaps),
        "environmental-monitoring": (
            ["no-environmental-monitoring"]
            if controls is None or controls.environmental_monitoring is None
            else [],
            [],
        ),
        "container-closure-integrity": _cci_gaps(cmc),
        "exceptional-release": ([], [er.id for er in product.exceptional_releases]),
    }
    items = []
    for gate in GATES:
        for exp in cmc.framework.process_controls:
            reasons, subjects = gaps.get(exp.id, ([], []))
            expected = _reached(gate, exp.expected_from)
            just_before = GATES.index(exp.expected_from) == GATES.index(gate) + 1
            status = (
                MET if not reasons else MISSING if expected else AT_RISK if just_before else MET
            )
            if exp.id == "container-closure-integrity" and "cci-not-complete" in reasons:
                status = MISSING if _reached(gate, "bla") else MET
            items.append(
                ControlItem(
                    gate,
                    exp.id,
                    exp.title,
                    status,
                    tuple(reasons) if status != MET else (),
                    tuple(subjects),
                    exp.evidence.value == "needs-verification",
                )
            )
    return items


def _cci_gaps(cmc: LoadedCmc) -> tuple[list[str], list[str]]:
    controls = cmc.product.process_controls
    cci = controls.container_closure_integrity if controls else None
    if cci is None:
        return ["no-container-closure-integrity"], []
    if cci.status != "complete":
        return ["cci-not-complete"], []
    return [], []
