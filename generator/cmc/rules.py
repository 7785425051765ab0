"""CMC rules: every violation a located Problem (cmc.yaml file:line:col, or lots.csv:row:col).

Errors are what the current gate cannot go without (safety limits, bridging data, results within
specification, references that resolve); warnings are risks the readiness report explains (few
lots, narrow coverage). One function per rule; `check_cmc` runs them in order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from generator.cmc.analytics import (
    MISSING,
    CmcAnalysis,
    bridged,
    effective_criterion,
    gates_through,
    method_rank,
)
from generator.cmc.comparability_rules import (
    comparability_studies,
    dosed_without_comparable_conclusion,
)
from generator.cmc.loader import LoadedCmc
from generator.cmc.lots import METHOD_VERSION_SUFFIX
from generator.models.cmc import (
    GATES,
    METHOD_STATUS_ORDER,
    AnalyticalMethod,
    Attribute,
    BridgingStudy,
    Criterion,
    Specification,
)
from generator.problems import Location, Problem, Severity, did_you_mean

GATE_LABEL = {
    "ind": "IND",
    "pivotal": "pivotal start",
    "bla": "BLA",
    "post-approval": "post-approval",
}


@dataclass
class Rules:
    """What every rule reads, and the problems they report."""

    cmc: LoadedCmc
    analysis: CmcAnalysis
    out: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.doc = self.cmc.document
        self.product = self.cmc.product
        self.framework = self.cmc.framework
        self.attributes = {a.id: a for a in self.framework.attributes}
        self.methods = {m.id: m for m in self.product.methods}
        self.spec_ids = [s.id for s in self.product.specifications]

    def add(
        self,
        code: str,
        msg: str,
        where: Location,
        hint: str = "",
        sev: Severity = Severity.ERROR,
    ) -> None:
        self.out.append(Problem(code, msg, where, hint, sev))

    def specs(self) -> list[tuple[int, Specification, Attribute]]:
        """Specifications whose attribute is in the catalogue, with their index."""
        return [
            (i, s, self.attributes[s.attribute])
            for i, s in enumerate(self.product.specifications)
            if s.attribute in self.attributes
        ]

    def reported(self, code: str, subject: str) -> bool:
        return any(p.code == code and f"'{subject}'" in p.message for p in self.out)


def check_cmc(cmc: LoadedCmc, analysis: CmcAnalysis) -> list[Problem]:
    rules = Rules(cmc, analysis)
    for rule in RULES:
        rule(rules)
    return rules.out


# --- references ------------------------------------------------------------------------------


def duplicate_ids(r: Rules) -> None:
    for kind, ids, path in (
        ("specification", r.spec_ids, "specifications"),
        ("method", [m.id for m in r.product.methods], "methods"),
        ("process change", [c.id for c in r.product.process_changes], "process_changes"),
    ):
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if ident in seen:
                add_at = r.doc.location((path, i, "id"))
                r.add("CM003", f"duplicate {kind} id '{ident}'", add_at)
            seen.add(ident)


def unknown_attributes(r: Rules) -> None:
    for key in r.product.not_applicable:
        if key not in r.attributes:
            r.add(
                "CM001",
                f"unknown attribute '{key}' in not_applicable",
                r.doc.location(("not_applicable", key), key=True),
                did_you_mean(key, r.attributes)
                or "use an attribute id of the CMC framework catalogue",
            )
    for i, spec in enumerate(r.product.specifications):
        if spec.attribute not in r.attributes:
            r.add(
                "CM001",
                f"unknown attribute '{spec.attribute}' in specification '{spec.id}'",
                r.doc.location(("specifications", i, "attribute")),
                did_you_mean(spec.attribute, r.attributes)
                or "use an attribute id of the CMC framework catalogue",
            )


def specification_references(r: Rules) -> None:
    for i, spec, _ in r.specs():
        if spec.method not in r.methods:
            r.add(
                "CM002",
                f"unknown method '{spec.method}' in specification '{spec.id}'",
                r.doc.location(("specifications", i, "method")),
                did_you_mean(spec.method, r.methods) or "define the method under 'methods:'",
            )
        if spec.attribute in r.product.not_applicable:
            r.add(
                "CM004",
                f"'{spec.attribute}' is tested by '{spec.id}' but also listed as not applicable",
                r.doc.location(("not_applicable", spec.attribute), key=True),
                "remove one of the two",
            )


# --- criteria --------------------------------------------------------------------------------


def criteria_by_gate(r: Rules) -> None:
    """A limit where the framework requires one; never 'report results' for a safety limit."""
    for i, spec, attr in r.specs():
        for gate, crit in spec.stages.items():
            where = r.doc.location(("specifications", i, "stages", gate, "comparator"))
            required = attr.expectations[gate].criterion == "limit-required"
            if crit.reports_only and (required or attr.safety_limit):
                critical = (
                    " (safety-critical)"
                    if attr.safety_critical
                    else " (a safety limit)"
                    if attr.safety_limit
                    else ""
                )
                r.add(
                    "CM010",
                    f"'{spec.id}' is 'report results' at {GATE_LABEL[gate]}, but "
                    f"{attr.title}{critical} needs an acceptance criterion"
                    + ("" if attr.safety_limit else f" from {GATE_LABEL[_first_limit_gate(attr)]}"),
                    where,
                    "set a limit (e.g. "
                    + (
                        attr.example_criteria[0]
                        if attr.example_criteria
                        else "a qualitative criterion"
                    )
                    + "); 'report results' is acceptable only where the framework says so, and "
                    "never for a safety limit",
                )
            if attr.result_type == "qualitative" and crit.comparator in ("NLT", "NMT", "range"):
                r.add(
                    "CM011",
                    f"'{spec.id}' has a numerical criterion but {attr.title} is qualitative",
                    where,
                    "use comparator 'text', e.g. text: 'Not detected'",
                    Severity.WARNING,
                )


def criterion_at_current_stage(r: Rules) -> None:
    stage = r.product.stage
    for i, spec, attr in r.specs():
        crit_now, _ = effective_criterion(spec, stage)
        if crit_now is None and attr.expectations[stage].criterion == "limit-required":
            r.add(
                "CM012",
                f"'{spec.id}' has no criterion at {GATE_LABEL[stage]} (the current stage)",
                r.doc.location(("specifications", i, "stages"), key=True),
                f"add 'stages: {{{stage}: ...}}' with an acceptance criterion",
            )


def endotoxin_k_over_m(r: Rules) -> None:
    """A written endotoxin limit may not exceed K/M from the dose inputs given."""
    for i, spec, _ in r.specs():
        if spec.k_over_m is None:
            continue
        km = spec.k_over_m.limit
        for gate, crit in spec.stages.items():
            hi = crit.limits[1]
            if hi is not None and hi > km * (1 + 1e-9):
                r.add(
                    "CM015",
                    f"'{spec.id}' allows NMT {hi:g} at {GATE_LABEL[gate]}, above K/M = {km:.3g} "
                    f"(K {spec.k_over_m.k_eu_per_kg:g} EU/kg x {spec.k_over_m.body_weight_kg:g} kg "
                    f"/ {spec.k_over_m.dose_volume_ml:g} mL)",
                    r.doc.location(("specifications", i, "stages", gate, "value")),
                    f"set the limit at or below {km:.3g}, or correct k_over_m",
                )


def few_lots_behind_limits(r: Rules) -> None:
    for i, spec, attr in r.specs():
        t = r.analysis.tests.get(spec.id)
        for gate in gates_through(r.product.stage):
            gate_crit = spec.stages.get(gate)
            mins = attr.expectations[gate].min_lots_for_limit
            if gate_crit is None or not gate_crit.is_numeric or not mins or t is None:
                continue
            if t.n < mins:
                r.add(
                    "CM070",
                    f"'{spec.id}' has a numerical limit at {GATE_LABEL[gate]} with data from "
                    f"{t.n} lot(s); the framework expects at least {mins} before a data-derived "
                    "limit",
                    r.doc.location(("specifications", i, "stages", gate, "comparator")),
                    "justify the limit from safety, clinical experience or platform data, or use "
                    "'report results' where acceptable",
                    Severity.WARNING,
                )


def narrow_clinical_coverage(r: Rules) -> None:
    """Only for quality and process attributes whose range lots should explore."""
    for i, spec, _ in r.specs():
        t = r.analysis.tests.get(spec.id)
        if t is None or t.coverage is None or not t.flag_coverage:
            continue
        r.add(
            "CM071",
            f"clinical lots span {t.coverage.fraction:.0%} of the {t.coverage.basis} range for "
            f"'{spec.id}' ({t.coverage.range_lower:.4g} to {t.coverage.range_upper:.4g})",
            r.doc.location(("specifications", i, "stages"), key=True),
            "regulators approve the range the clinical lots support; justify the wider range "
            "from development data, or set the limit at the clinical experience (see "
            "specification-lifecycle)",
            Severity.WARNING,
        )


def safety_attributes_tested(r: Rules) -> None:
    specified = {s.attribute for s in r.product.specifications}
    for attr in r.framework.attributes:
        if (
            attr.safety_critical
            and attr.applies_to(r.product.process.uses)
            and attr.id not in specified
            and attr.id not in r.product.not_applicable
        ):
            r.add(
                "CM013",
                f"no specification tests {attr.title}, a safety-critical attribute",
                r.doc.location(("specifications",), key=True),
                f"add a test with attribute: {attr.id}, or list it under not_applicable with "
                "the reason",
            )


# --- methods and bridging studies ------------------------------------------------------------


def method_transitions(r: Rules) -> None:
    """Every version after the first names a bridging study of that transition."""
    studies = {b.id: b for b in r.product.bridging_studies}
    for i, method in enumerate(r.product.methods):
        for j, version in enumerate(method.history):
            if j > 0 and not bridged(method, j, r.product.bridging_studies):
                prev = method.history[j - 1]
                named = (version.bridging_study or "").strip()
                why = (
                    "without a bridging study"
                    if not named
                    else f"without a bridging study ('{named}' is no study of this transition "
                    "under 'bridging_studies:')"
                )
                r.add(
                    "CM020",
                    f"method '{method.id}' changes from {prev.technique} (v{prev.version}) to "
                    f"{version.technique} (v{version.version}) {why}",
                    r.doc.location(("methods", i, "history", j, "version"), key=True),
                    "record the study that tested samples by both versions under "
                    "'bridging_studies:' (design, acceptance criterion, results, conclusion) and "
                    "name its id here"
                    + (
                        f" (known: {', '.join(sorted(studies))})"
                        if studies and named not in studies
                        else ""
                    ),
                )
            if j > 0 and version.introduced < method.history[j - 1].introduced:
                r.add(
                    "CM021",
                    f"method '{method.id}' history is not in date order",
                    r.doc.location(("methods", i, "history", j, "introduced")),
                    "list versions oldest first",
                )


def method_status_at_stage(r: Rules) -> None:
    stage = r.product.stage
    for i, method in enumerate(r.product.methods):
        for _, spec, attr in r.specs():
            if spec.method != method.id:
                continue
            expected = attr.expectations[stage].method_status
            if method_rank(method.current.status) < method_rank(expected):
                r.add(
                    "CM022",
                    f"method '{method.id}' is {method.current.status}, but {GATE_LABEL[stage]} "
                    f"expects {expected} for {attr.title}",
                    r.doc.location(("methods", i, "history", len(method.history) - 1, "status")),
                    f"qualify the method (statuses in order: {', '.join(METHOD_STATUS_ORDER)})",
                )
                break


def bridging_studies(r: Rules) -> None:
    """Each study names a real transition, and its conclusion follows from its numbers."""
    for i, study in enumerate(r.product.bridging_studies):
        method = r.methods.get(study.method)
        if method is None:
            r.add(
                "CM023",
                f"bridging study '{study.id}' names unknown method '{study.method}'",
                r.doc.location(("bridging_studies", i, "method")),
                did_you_mean(study.method, r.methods) or "use a method id of 'methods:'",
            )
            continue
        versions = [v.version for v in method.history]
        pairs = list(itertools.pairwise(versions))
        if (study.from_version, study.to_version) not in pairs:
            r.add(
                "CM023",
                f"bridging study '{study.id}' bridges v{study.from_version} to "
                f"v{study.to_version}, which is no transition in the history of '{method.id}'",
                r.doc.location(("bridging_studies", i, "from_version")),
                f"transitions of '{method.id}': "
                + (", ".join(f"{a} -> {b}" for a, b in pairs) or "none (one version)"),
            )
            continue
        _bridging_numbers(r, i, study, method)


def _bridging_numbers(r: Rules, i: int, study: BridgingStudy, method: AnalyticalMethod) -> None:
    units = {v.version: v.unit for v in method.history}
    spec_units = {s.unit for s in r.product.specifications if s.method == method.id}
    unit = next(iter(spec_units)) if len(spec_units) == 1 else None
    old, new = units[study.from_version] or unit, units[study.to_version] or unit
    where = r.doc.location(("bridging_studies", i, "conclusion"))
    if study.conclusion == "equivalent" and old != new:
        r.add(
            "CM024",
            f"bridging study '{study.id}' concludes 'equivalent' between v{study.from_version} "
            f"({old}) and v{study.to_version} ({new}); results in different units never pool",
            where,
            "conclude 'not-equivalent' (results of the old version are then shown, not used "
            "for limits), or retest retained samples by the new version",
        )
        return
    if study.conclusion != "equivalent" or study.margin is None:
        return
    bounds = [b for b in (study.ci_lower, study.ci_upper, study.mean_difference) if b is not None]
    if not bounds:
        r.add(
            "CM025",
            f"bridging study '{study.id}' concludes 'equivalent' with a margin but no results",
            where,
            "give mean_difference and its 95 % confidence bounds (ci_lower, ci_upper)",
        )
    elif any(abs(b) > study.margin for b in bounds):
        r.add(
            "CM025",
            f"bridging study '{study.id}' concludes 'equivalent', but its results "
            f"({', '.join(f'{b:g}' for b in bounds)}) fall outside the margin of "
            f"±{study.margin:g}",
            where,
            "the conclusion must follow the acceptance criterion set before the study: "
            "'not-equivalent', or a justified correction",
        )


def lot_method_versions(r: Rules) -> None:
    """A method version written in the lot CSV is one of the method's history."""
    lots = r.cmc.lots
    for lot in lots.lots:
        for test, version in lot.method_versions.items():
            spec = next((s for s in r.product.specifications if s.id == test), None)
            method = r.methods.get(spec.method) if spec else None
            if method is None:
                continue
            known = [v.version for v in method.history]
            if version not in known:
                r.add(
                    "CM026",
                    f"lot '{lot.lot_id}': method version '{version}' of '{test}' is not in the "
                    f"history of method '{method.id}'",
                    lots.location(lot.line, test + METHOD_VERSION_SUFFIX),
                    f"use one of: {', '.join(known)}",
                )


def unpooled_method_versions(r: Rules) -> None:
    """Say which results stay out of the statistics because their method version differs."""
    for i, spec, _ in r.specs():
        t = r.analysis.tests.get(spec.id)
        method = r.methods.get(spec.method)
        if t is None or method is None:
            continue
        apart = [p for p in t.points if p.use in ("method-version", "other-unit")]
        if apart:
            versions = sorted({p.method_version for p in apart})
            r.add(
                "CM027",
                f"'{spec.id}': {len(apart)} result(s) by method version(s) "
                f"{', '.join('v' + v for v in versions)} are not pooled with "
                f"v{method.current.version} (no 'equivalent' bridging study, or another unit)",
                r.doc.location(("specifications", i, "method")),
                "they are shown but not used for limits; retest retained samples by the current "
                "version (lot CSV column '" + spec.id + METHOD_VERSION_SUFFIX + "') if needed",
                Severity.WARNING,
            )


# --- results against the specification -------------------------------------------------------


def results_within_specification(r: Rules) -> None:
    """Every result against the criterion in force when its lot was released."""
    lots = r.cmc.lots
    for o in r.analysis.out_of_specification:
        title = next(s.title for s in r.product.specifications if s.id == o.test)
        shown = _criterion_words(o.criterion)
        msg = (
            f"lot '{o.lot_id}' is out of specification for '{o.test}' ({title}): "
            f"'{o.result}' against {shown} ({GATE_LABEL[o.gate]} criterion in force at release)"
        )
        where = lots.location(o.line, o.test)
        if o.investigation:
            r.add(
                "CM064",
                msg + f"; investigation {o.investigation} is recorded",
                where,
                "the lot is left out of limit-setting for this test",
                Severity.WARNING,
            )
        elif o.clinical:
            r.add(
                "CM063",
                msg,
                where,
                "record the investigation under 'investigations:' in cmc.yaml (id, lot, test, "
                "root_cause, disposition), or correct the result",
            )
        else:
            r.add(
                "CM065",
                msg + " (non-clinical lot)",
                where,
                "non-clinical lots are not used for limits; record an investigation if the "
                "failure matters for the process",
                Severity.WARNING,
            )


def investigation_references(r: Rules) -> None:
    lot_ids = {lt.lot_id for lt in r.cmc.lots.lots}
    for i, inv in enumerate(r.product.investigations):
        if inv.lot not in lot_ids:
            r.add(
                "CM066",
                f"investigation '{inv.id}' names lot '{inv.lot}', not in {r.cmc.lots.display}",
                r.doc.location(("investigations", i, "lot")),
                did_you_mean(inv.lot, lot_ids) or "use a lot id of the lot CSV",
            )
        if inv.test not in r.spec_ids:
            r.add(
                "CM066",
                f"investigation '{inv.id}' names unknown test '{inv.test}'",
                r.doc.location(("investigations", i, "test")),
                did_you_mean(inv.test, r.spec_ids) or "use a test id of 'specifications'",
            )


# --- process changes, framework references, lot data ----------------------------------------


def process_changes(r: Rules) -> None:
    versions = {v.id for v in r.product.process.versions}
    approaches = {a.id for a in r.framework.comparability_approaches}
    for i, change in enumerate(r.product.process_changes):
        for field_name in ("from_version", "to_version"):
            value = getattr(change, field_name)
            if value not in versions:
                r.add(
                    "CM030",
                    f"process change '{change.id}': unknown process version '{value}'",
                    r.doc.location(("process_changes", i, field_name)),
                    did_you_mean(value, versions) or "declare it under process.versions",
                )
        plan = change.comparability
        if plan.approach not in approaches:
            r.add(
                "CM031",
                f"unknown comparability approach '{plan.approach}'",
                r.doc.location(("process_changes", i, "comparability", "approach")),
                did_you_mean(plan.approach, approaches)
                or f"use one of: {', '.join(sorted(approaches))}",
            )
        for k, test in enumerate(plan.tests):
            if test not in r.spec_ids:
                at = ("process_changes", i, "comparability", "attributes", k)
                r.add(
                    "CM032",
                    f"comparability of '{change.id}' names unknown test '{test}'",
                    r.doc.location(at if isinstance(plan.attributes[k], str) else (*at, "test")),
                    did_you_mean(test, r.spec_ids) or "use test ids of 'specifications'",
                )
        if GATES.index(change.before_gate) >= GATES.index("bla"):
            r.add(
                "CM033",
                f"process change '{change.id}' is made after the pivotal study starts",
                r.doc.location(("process_changes", i, "before_gate")),
                "the pivotal process is in practice the commercial process; bridge pivotal lots "
                "with a comparability study designed before the change",
                Severity.WARNING,
            )


def framework_topics(r: Rules) -> None:
    for group, items, attr_name, topics in (
        (
            "stability study type",
            r.product.stability,
            "study_type",
            r.framework.stability_study_types,
        ),
        (
            "raw-material risk topic",
            r.product.materials,
            "risk_topic",
            r.framework.raw_material_risk,
        ),
    ):
        known = {t.id for t in topics}
        path = "stability" if group.startswith("stability") else "materials"
        for i, item in enumerate(items):
            value = getattr(item, attr_name)
            if value is not None and value not in known:
                r.add(
                    "CM040",
                    f"unknown {group} '{value}'",
                    r.doc.location((path, i, attr_name)),
                    did_you_mean(value, known) or f"use one of: {', '.join(sorted(known))}",
                )
    if r.product.chain_of_identity is not None:
        known = {t.id for t in r.framework.chain_of_identity}
        for i, topic in enumerate(r.product.chain_of_identity.topics):
            if topic not in known:
                r.add(
                    "CM040",
                    f"unknown chain-of-identity topic '{topic}'",
                    r.doc.location(("chain_of_identity", "topics", i)),
                    did_you_mean(topic, known) or f"use one of: {', '.join(sorted(known))}",
                )


def section_keys(r: Rules) -> None:
    keys = r.cmc.registry.by_key()
    for key in r.product.sections:
        if key not in keys:
            r.add(
                "CM050",
                f"unknown Module 3 section key '{key}'",
                r.doc.location(("sections", key), key=True),
                did_you_mean(key, keys) or "keys look like drug_product.control.justification",
            )


def lot_data(r: Rules) -> None:
    lots = r.cmc.lots
    versions = {v.id for v in r.product.process.versions}
    for lot in lots.lots:
        if lot.process_version not in versions:
            r.add(
                "CM060",
                f"lot '{lot.lot_id}' names process version '{lot.process_version}', not "
                "declared in cmc.yaml",
                lots.location(lot.line, "process_version"),
                did_you_mean(lot.process_version, versions) or "declare it under process.versions",
            )
    lot_ids = {lt.lot_id for lt in lots.lots}
    for i, lot_id in enumerate(r.product.lots.exclude):
        if lot_id not in lot_ids:
            r.add(
                "CM061",
                f"excluded lot '{lot_id}' is not in {lots.display}",
                r.doc.location(("lots", "exclude", i)),
                did_you_mean(lot_id, lot_ids) or "remove it from lots.exclude",
            )
    if r.product.lots.exclude and not r.product.lots.exclude_reason:
        r.add(
            "CM062",
            "lots are excluded from the statistics without a reason",
            r.doc.location(("lots", "exclude"), key=True),
            "add lots.exclude_reason",
        )


# --- readiness at the current gate -----------------------------------------------------------


def readiness_at_current_gate(r: Rules) -> None:
    """`check` fails where readiness says Missing at the current gate and no rule above said
    why already."""
    stage = r.product.stage
    gate = next(g for g in r.analysis.readiness if g.gate == stage)
    for item in gate.items:
        if item.status != MISSING:
            continue
        for reason in item.reasons:
            where, hint = _readiness_location(r, item.kind, item.subject, reason)
            if where is None:
                continue
            r.add(
                "CM080",
                f"readiness at {GATE_LABEL[stage]} (the current stage) is Missing for "
                f"'{item.subject}' ({item.title}): {reason.replace('-', ' ')}",
                where,
                hint,
            )


def _readiness_location(
    r: Rules, kind: str, subject: str, reason: str
) -> tuple[Location | None, str]:
    """Where a Missing readiness item is fixed, or None when another rule reported it."""
    if kind == "process-change":
        i = next(k for k, c in enumerate(r.product.process_changes) if c.id == subject)
        if reason == "not-comparable":
            if r.reported("CM115", subject):
                return None, ""  # CM115 says it, with the dosed lots
            return r.doc.location(("process_changes", i, "comparability"), key=True), (
                "review the study (lots, margins, ranges) or the change itself before the gate"
            )
        return r.doc.location(("process_changes", i, "comparability", "status")), (
            "complete the comparability study before the gate (status: complete, with report "
            "and conclusion), or move the change after it"
        )
    if kind == "attribute":
        if r.attributes[subject].safety_critical:
            return None, ""  # CM013
        return r.doc.location(("specifications",), key=True), (
            f"add a test with attribute: {subject}, or list it under not_applicable with the reason"
        )
    if reason == "criterion-missing" and not (
        r.reported("CM010", subject) or r.reported("CM012", subject)
    ):
        i = r.spec_ids.index(subject)
        return r.doc.location(("specifications", i, "stages"), key=True), (
            f"write the {GATE_LABEL[r.product.stage]} acceptance criterion under 'stages:'"
        )
    return None, ""  # method status (CM022) and bridging (CM020) are reported above


def _criterion_words(crit: Criterion) -> str:
    if crit.comparator == "text":
        return f"'{crit.text}'"
    if crit.comparator == "range":
        return f"{crit.lower:g} to {crit.upper:g}"
    return f"{crit.comparator} {crit.value:g}"


def _first_limit_gate(attr: Attribute) -> str:
    for gate in GATES:
        if attr.expectations[gate].criterion == "limit-required":
            return gate
    return "bla"


RULES: tuple[Callable[[Rules], None], ...] = (
    duplicate_ids,
    unknown_attributes,
    specification_references,
    criteria_by_gate,
    criterion_at_current_stage,
    endotoxin_k_over_m,
    few_lots_behind_limits,
    narrow_clinical_coverage,
    safety_attributes_tested,
    method_transitions,
    method_status_at_stage,
    bridging_studies,
    lot_method_versions,
    unpooled_method_versions,
    results_within_specification,
    investigation_references,
    process_changes,
    comparability_studies,  # issue 13: CM110-CM118
    dosed_without_comparable_conclusion,  # issue 13: CM115
    framework_topics,
    section_keys,
    lot_data,
    readiness_at_current_gate,
)
