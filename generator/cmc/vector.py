"""The vector drug substance (cmc.yaml `vector:`): rules CM145-CM149 and its template data.

- CM145 a vector reference that does not resolve: a test's attribute or method, a
  not-applicable attribute, a vector lot's process version (error)
- CM146 a vector attribute the current gate expects a limit for with no test or no criterion
  (error); one that may be 'report results' and is not tested (warning)
- CM147 a vector lot result outside the criterion in force when the lot was released (error)
- CM148 a vector block for a process whose `uses` does not name viral-vector (warning)
- CM149 allogeneic-donor lots for a process whose `uses` does not name allogeneic-donor, so
  donor eligibility and HLA typing are not expected of it (warning)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from generator.cmc.analytics import effective_criterion, out_of_specification
from generator.cmc.batches import batch_analyses
from generator.cmc.loader import LoadedCmc
from generator.cmc.lots import LotTable
from generator.models.cmc import Attribute, CmcProduct
from generator.models.cmc_vector import VectorSubstance
from generator.plain import to_plain
from generator.problems import Problem, Severity, did_you_mean

VECTOR = "vector"


def vector_attributes(cmc: LoadedCmc) -> list[Attribute]:
    """Catalogue attributes of a vector drug substance that apply to this process."""
    uses = cmc.product.process.uses
    return [a for a in cmc.framework.attributes if a.applies_to(uses, VECTOR)]


def as_product(product: CmcProduct, vector: VectorSubstance) -> CmcProduct:
    """The product seen through its vector: the vector's specifications, lots and process
    versions, so the lot analyses written for the cell product apply unchanged."""
    return product.model_copy(
        update={
            "specifications": list(vector.specifications),
            "lots": vector.lots,
            "investigations": [],
            "process": product.process.model_copy(update={"versions": vector.process.versions}),
        }
    )


def check_vector(cmc: LoadedCmc) -> list[Problem]:
    out = _allogeneic_uses(cmc)
    vector = cmc.product.vector
    if vector is None or cmc.vector_lots is None:
        return out
    for rule in (_references, _expected_tests, _results, _vector_use):
        out += rule(cmc, vector, cmc.vector_lots)
    return out


def _references(cmc: LoadedCmc, vector: VectorSubstance, lots: LotTable) -> list[Problem]:
    doc = cmc.document
    attributes = {a.id for a in cmc.framework.attributes}
    methods = {m.id for m in cmc.product.methods}
    out = []
    for i, spec in enumerate(vector.specifications):
        at = ("vector", "specifications", i)
        if spec.attribute not in attributes:
            out.append(
                Problem(
                    "CM145",
                    f"vector test '{spec.id}': unknown attribute '{spec.attribute}'",
                    doc.location((*at, "attribute")),
                    did_you_mean(spec.attribute, attributes)
                    or "use an attribute id of the CMC framework catalogue",
                )
            )
        if spec.method not in methods:
            out.append(
                Problem(
                    "CM145",
                    f"vector test '{spec.id}': unknown method '{spec.method}'",
                    doc.location((*at, "method")),
                    did_you_mean(spec.method, methods) or "add the method under 'methods:'",
                )
            )
    for key in vector.not_applicable:
        if key not in attributes:
            out.append(
                Problem(
                    "CM145",
                    f"unknown attribute '{key}' in vector not_applicable",
                    doc.location(("vector", "not_applicable", key), key=True),
                    did_you_mean(key, attributes) or "use an attribute id of the catalogue",
                )
            )
    versions = {v.id for v in vector.process.versions}
    for lot in lots.lots:
        if lot.process_version not in versions:
            out.append(
                Problem(
                    "CM145",
                    f"vector lot '{lot.lot_id}': unknown process version '{lot.process_version}'",
                    lots.location(lot.line, "process_version"),
                    did_you_mean(lot.process_version, versions)
                    or "use an id of 'vector: process: versions:'",
                )
            )
    return out


def _expected_tests(cmc: LoadedCmc, vector: VectorSubstance, lots: LotTable) -> list[Problem]:
    stage = cmc.product.stage
    doc = cmc.document
    tested = {s.attribute: (i, s) for i, s in enumerate(vector.specifications)}
    out = []
    for attr in vector_attributes(cmc):
        exp = attr.expectations[stage]
        required = exp.criterion == "limit-required"
        if attr.id in vector.not_applicable:
            continue
        if attr.id not in tested:
            out.append(
                Problem(
                    "CM146",
                    f"no vector test for {attr.title} ('{attr.id}')",
                    doc.location(("vector", "specifications"), key=True),
                    "add a vector specification for it, or list it under 'vector: "
                    "not_applicable:' with the reason",
                    Severity.ERROR if required else Severity.WARNING,
                )
            )
            continue
        i, spec = tested[attr.id]
        crit, _ = effective_criterion(spec, stage)
        if required and (crit is None or crit.reports_only):
            out.append(
                Problem(
                    "CM146",
                    f"vector test '{spec.id}' needs an acceptance criterion at {stage} "
                    f"({attr.title})",
                    doc.location(("vector", "specifications", i, "stages")),
                    "give a limit (NLT, NMT, range or text) at this gate",
                )
            )
    return out


def _results(cmc: LoadedCmc, vector: VectorSubstance, lots: LotTable) -> list[Problem]:
    return [
        Problem(
            "CM147",
            f"vector lot '{o.lot_id}': {o.test} {o.result} is outside its criterion",
            lots.location(o.line, o.test),
            "investigate the result; a vector lot outside its specification is not used",
        )
        for o in out_of_specification(as_product(cmc.product, vector), lots)
    ]


def _vector_use(cmc: LoadedCmc, vector: VectorSubstance, lots: LotTable) -> list[Problem]:
    if "viral-vector" in cmc.product.process.uses:
        return []
    return [
        Problem(
            "CM148",
            "cmc.yaml describes a vector drug substance but process.uses does not name "
            "'viral-vector'",
            cmc.document.location(("vector",), key=True),
            "add viral-vector to process.uses",
            Severity.WARNING,
        )
    ]


def _allogeneic_uses(cmc: LoadedCmc) -> list[Problem]:
    if "allogeneic-donor" in cmc.product.process.uses:
        return []
    lot = next((lt for lt in cmc.lots.lots if lt.donor_type == "allogeneic-donor"), None)
    if lot is None:
        return []
    return [
        Problem(
            "CM149",
            f"lot '{lot.lot_id}' is from an allogeneic donor but process.uses does not name "
            "'allogeneic-donor'",
            cmc.lots.location(lot.line, "donor_type"),
            "add allogeneic-donor to process.uses in cmc.yaml (donor eligibility and HLA "
            "typing then apply)",
            Severity.WARNING,
        )
    ]


def vector_view(
    cmc: LoadedCmc,
    text: Callable[[str], str],
    lot_data: Callable[[Any], Any],
    fmt: Callable[[float | None], str],
) -> dict[str, Any] | None:
    """Plain data for the vector's 3.2.S block; None without `vector:`."""
    vector = cmc.product.vector
    if vector is None or cmc.vector_lots is None:
        return None
    plain = functools.partial(to_plain, text=text)
    attributes = {a.id: a for a in cmc.framework.attributes}
    methods = {m.id: m for m in cmc.product.methods}
    stage = cmc.product.stage
    specs = [
        {
            "spec": plain(s),
            "attribute": plain(attributes.get(s.attribute)),
            "method": plain(methods.get(s.method)),
            "criterion": plain(effective_criterion(s, stage)[0]),
        }
        for s in vector.specifications
    ]
    product = as_product(cmc.product, vector)
    batches = batch_analyses(product, cmc.vector_lots, VECTOR, plain, lot_data, fmt)
    method_ids = list(dict.fromkeys(s.method for s in vector.specifications))
    return {
        "vector": plain(vector),
        "specs": specs,
        "methods": [plain(methods[m]) for m in method_ids if m in methods],
        "batches": to_plain(batches),
        "n_lots": len(cmc.vector_lots.lots),
        "lots_file": vector.lots.file,
        "not_applicable": {
            k: {"title": text(attributes[k].title), "reason": text(v)}
            for k, v in vector.not_applicable.items()
            if k in attributes
        },
    }
