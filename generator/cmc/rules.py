"""CMC rules: every violation a located Problem (cmc.yaml file:line:col, or lots.csv:row:col).

Errors are what the current gate cannot go without (safety limits, bridging data, references
that resolve); warnings are risks the readiness report explains (few lots, narrow coverage).
"""

from __future__ import annotations

from generator.cmc.analytics import (
    CmcAnalysis,
    effective_criterion,
    gates_through,
    method_rank,
)
from generator.cmc.loader import LoadedCmc
from generator.models.cmc import GATES, METHOD_STATUS_ORDER, Attribute
from generator.problems import Location, Problem, Severity, did_you_mean

GATE_LABEL = {
    "ind": "IND",
    "pivotal": "pivotal start",
    "bla": "BLA",
    "post-approval": "post-approval",
}


def check_cmc(cmc: LoadedCmc, analysis: CmcAnalysis) -> list[Problem]:
    doc = cmc.document
    product = cmc.product
    framework = cmc.framework
    attributes = {a.id: a for a in framework.attributes}
    methods = {m.id: m for m in product.methods}
    spec_ids = [s.id for s in product.specifications]
    out: list[Problem] = []

    def add(
        code: str, msg: str, where: Location, hint: str = "", sev: Severity = Severity.ERROR
    ) -> None:
        out.append(Problem(code, msg, where, hint, sev))

    # --- references -------------------------------------------------------------------------
    for kind, ids, path in (
        ("specification", spec_ids, "specifications"),
        ("method", [m.id for m in product.methods], "methods"),
        ("process change", [c.id for c in product.process_changes], "process_changes"),
    ):
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if ident in seen:
                add("CM003", f"duplicate {kind} id '{ident}'", doc.location((path, i, "id")))
            seen.add(ident)
    for key in product.not_applicable:
        if key not in attributes:
            add(
                "CM001",
                f"unknown attribute '{key}' in not_applicable",
                doc.location(("not_applicable", key), key=True),
                did_you_mean(key, attributes)
                or "use an attribute id of the CMC framework catalogue",
            )

    for i, spec in enumerate(product.specifications):
        attr = attributes.get(spec.attribute)
        if attr is None:
            add(
                "CM001",
                f"unknown attribute '{spec.attribute}' in specification '{spec.id}'",
                doc.location(("specifications", i, "attribute")),
                did_you_mean(spec.attribute, attributes)
                or "use an attribute id of the CMC framework catalogue",
            )
            continue
        if spec.method not in methods:
            add(
                "CM002",
                f"unknown method '{spec.method}' in specification '{spec.id}'",
                doc.location(("specifications", i, "method")),
                did_you_mean(spec.method, methods) or "define the method under 'methods:'",
            )
        if spec.attribute in product.not_applicable:
            add(
                "CM004",
                f"'{spec.attribute}' is tested by '{spec.id}' but also listed as not applicable",
                doc.location(("not_applicable", spec.attribute), key=True),
                "remove one of the two",
            )
        for gate, crit in spec.stages.items():
            where = doc.location(("specifications", i, "stages", gate, "comparator"))
            exp = attr.expectations[gate]
            if exp.criterion == "limit-required" and crit.comparator == "report-results":
                critical = " (safety-critical)" if attr.safety_critical else ""
                add(
                    "CM010",
                    f"'{spec.id}' is 'report results' at {GATE_LABEL[gate]}, but {attr.title}{critical} "
                    f"needs an acceptance criterion from {GATE_LABEL[_first_limit_gate(attr)]}",
                    where,
                    "set a limit (e.g. "
                    + (
                        attr.example_criteria[0]
                        if attr.example_criteria
                        else "a qualitative criterion"
                    )
                    + "); 'report results' is acceptable only where the framework says so",
                )
            if attr.result_type == "qualitative" and crit.comparator in ("NLT", "NMT", "range"):
                add(
                    "CM011",
                    f"'{spec.id}' has a numerical criterion but {attr.title} is qualitative",
                    where,
                    "use comparator 'text', e.g. text: 'Not detected'",
                    Severity.WARNING,
                )
        # the criterion in force at the current gate
        crit_now, _ = effective_criterion(spec, product.stage)
        exp_now = attr.expectations[product.stage]
        if crit_now is None and exp_now.criterion == "limit-required":
            add(
                "CM012",
                f"'{spec.id}' has no criterion at {GATE_LABEL[product.stage]} (the current stage)",
                doc.location(("specifications", i, "stages"), key=True),
                f"add 'stages: {{{product.stage}: ...}}' with an acceptance criterion",
            )
        # few lots behind a numerical limit at gates up to the current one
        t = analysis.tests.get(spec.id)
        for gate in gates_through(product.stage):
            gate_crit = spec.stages.get(gate)
            mins = attr.expectations[gate].min_lots_for_limit
            if (
                gate_crit is not None
                and gate_crit.is_numeric
                and mins
                and t is not None
                and t.n < mins
            ):
                add(
                    "CM070",
                    f"'{spec.id}' has a numerical limit at {GATE_LABEL[gate]} with data from {t.n} lot(s); "
                    f"the framework expects at least {mins} before a data-derived limit",
                    doc.location(("specifications", i, "stages", gate, "comparator")),
                    "justify the limit from safety, clinical experience or platform data, or use "
                    "'report results' where acceptable",
                    Severity.WARNING,
                )
        if t is not None and t.coverage is not None and t.flag_coverage:
            add(
                "CM071",
                f"clinical lots span {t.coverage.fraction:.0%} of the {t.coverage.basis} range for '{spec.id}' "
                f"({t.coverage.range_lower:.4g} to {t.coverage.range_upper:.4g})",
                doc.location(("specifications", i, "stages"), key=True),
                "regulators approve the range the clinical lots support; justify the wider range or plan "
                "clinical lots across it (see specification-lifecycle)",
                Severity.WARNING,
            )

    # --- safety-critical attributes must be tested ------------------------------------------
    specified = {s.attribute for s in product.specifications}
    for attr in framework.attributes:
        if (
            attr.safety_critical
            and attr.id not in specified
            and attr.id not in product.not_applicable
        ):
            add(
                "CM013",
                f"no specification tests {attr.title}, a safety-critical attribute",
                doc.location(("specifications",), key=True),
                f"add a test with attribute: {attr.id}, or list it under not_applicable with the reason",
            )

    # --- methods: transitions need bridging; status fits the current gate -------------------
    for i, method in enumerate(product.methods):
        for j, version in enumerate(method.history):
            if j > 0 and not (version.bridging_study or "").strip():
                prev = method.history[j - 1]
                add(
                    "CM020",
                    f"method '{method.id}' changes from {prev.technique} (v{prev.version}) to "
                    f"{version.technique} (v{version.version}) without a bridging study",
                    doc.location(("methods", i, "history", j, "version"), key=True),
                    "name the study that tested samples by both methods (bridging_study:) and summarise "
                    "it (bridging_summary:); clinical results by the old method must stay interpretable",
                )
            if j > 0 and version.introduced < method.history[j - 1].introduced:
                add(
                    "CM021",
                    f"method '{method.id}' history is not in date order",
                    doc.location(("methods", i, "history", j, "introduced")),
                    "list versions oldest first",
                )
        users = [
            s for s in product.specifications if s.method == method.id and s.attribute in attributes
        ]
        for spec in users:
            expected = attributes[spec.attribute].expectations[product.stage].method_status
            if method_rank(method.current.status) < method_rank(expected):
                add(
                    "CM022",
                    f"method '{method.id}' is {method.current.status}, but {GATE_LABEL[product.stage]} expects "
                    f"{expected} for {attributes[spec.attribute].title}",
                    doc.location(("methods", i, "history", len(method.history) - 1, "status")),
                    f"qualify the method (statuses in order: {', '.join(METHOD_STATUS_ORDER)})",
                )
                break

    # --- process changes and their comparability plans -------------------------------------
    versions = {v.id for v in product.process.versions}
    approaches = {a.id for a in framework.comparability_approaches}
    for i, change in enumerate(product.process_changes):
        for field_name in ("from_version", "to_version"):
            value = getattr(change, field_name)
            if value not in versions:
                add(
                    "CM030",
                    f"process change '{change.id}': unknown process version '{value}'",
                    doc.location(("process_changes", i, field_name)),
                    did_you_mean(value, versions) or "declare it under process.versions",
                )
        plan = change.comparability
        if plan.approach not in approaches:
            add(
                "CM031",
                f"unknown comparability approach '{plan.approach}'",
                doc.location(("process_changes", i, "comparability", "approach")),
                did_you_mean(plan.approach, approaches)
                or f"use one of: {', '.join(sorted(approaches))}",
            )
        for k, test in enumerate(plan.attributes):
            if test not in spec_ids:
                add(
                    "CM032",
                    f"comparability of '{change.id}' names unknown test '{test}'",
                    doc.location(("process_changes", i, "comparability", "attributes", k)),
                    did_you_mean(test, spec_ids) or "use test ids of 'specifications'",
                )
        if GATES.index(change.before_gate) >= GATES.index("bla"):
            add(
                "CM033",
                f"process change '{change.id}' is made after the pivotal study starts",
                doc.location(("process_changes", i, "before_gate")),
                "the pivotal process is in practice the commercial process; bridge pivotal lots with a "
                "comparability study designed before the change",
                Severity.WARNING,
            )

    # --- framework references in the rest of the file ---------------------------------------
    for group, items, attr_name, path in (
        ("stability study type", product.stability, "study_type", "stability"),
        ("raw-material risk topic", product.materials, "risk_topic", "materials"),
    ):
        known = {
            t.id
            for t in getattr(
                framework, "stability_study_types" if path == "stability" else "raw_material_risk"
            )
        }
        for i, item in enumerate(items):
            value = getattr(item, attr_name)
            if value is not None and value not in known:
                add(
                    "CM040",
                    f"unknown {group} '{value}'",
                    doc.location((path, i, attr_name)),
                    did_you_mean(value, known) or f"use one of: {', '.join(sorted(known))}",
                )
    if product.chain_of_identity is not None:
        known = {t.id for t in framework.chain_of_identity}
        for i, topic in enumerate(product.chain_of_identity.topics):
            if topic not in known:
                add(
                    "CM040",
                    f"unknown chain-of-identity topic '{topic}'",
                    doc.location(("chain_of_identity", "topics", i)),
                    did_you_mean(topic, known) or f"use one of: {', '.join(sorted(known))}",
                )
    keys = cmc.registry.by_key()
    for key in product.sections:
        if key not in keys:
            add(
                "CM050",
                f"unknown Module 3 section key '{key}'",
                doc.location(("sections", key), key=True),
                did_you_mean(key, keys) or "keys look like drug_product.control.justification",
            )

    # --- lot data against the declared process ---------------------------------------------
    lots = cmc.lots
    for lot in lots.lots:
        if lot.process_version not in versions:
            add(
                "CM060",
                f"lot '{lot.lot_id}' names process version '{lot.process_version}', not declared in cmc.yaml",
                lots.location(lot.line, "process_version"),
                did_you_mean(lot.process_version, versions) or "declare it under process.versions",
            )
    lot_ids = {lt.lot_id for lt in lots.lots}
    for i, lot_id in enumerate(product.lots.exclude):
        if lot_id not in lot_ids:
            add(
                "CM061",
                f"excluded lot '{lot_id}' is not in {lots.display}",
                doc.location(("lots", "exclude", i)),
                did_you_mean(lot_id, lot_ids) or "remove it from lots.exclude",
            )
    if product.lots.exclude and not product.lots.exclude_reason:
        add(
            "CM062",
            "lots are excluded from the statistics without a reason",
            doc.location(("lots", "exclude"), key=True),
            "add lots.exclude_reason",
        )
    return out


def _first_limit_gate(attr: Attribute) -> str:
    for gate in GATES:
        if attr.expectations[gate].criterion == "limit-required":
            return gate
    return "bla"
