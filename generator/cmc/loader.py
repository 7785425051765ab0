"""Load the CMC framework, its Module 3 layout and a product's CMC inputs (cmc.yaml + lot CSV)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from generator.cmc.inputs import FRAMEWORK_FILE, available_cmc_frameworks, cmc_path, display
from generator.cmc.lots import LotTable, load_lots
from generator.cmc.stability_data import StabilityData, load_stability
from generator.framework_loader import shipped_display
from generator.load import LoadedDocument, load_yaml
from generator.models.cmc import Attribute, CmcFramework, CmcProduct, Module3Registry
from generator.paths import FRAMEWORKS_DIR
from generator.problems import Location, Problem, ProblemsError, did_you_mean
from generator.resolve import ResolvedProtocol
from generator.validate import validate


@dataclass(frozen=True)
class LoadedCmcFramework:
    framework: CmcFramework
    document: LoadedDocument
    registry: Module3Registry
    registry_document: LoadedDocument
    folder: Path

    @property
    def files(self) -> list[Path]:
        return [self.document.path.resolve(), self.registry_document.path.resolve()]


@dataclass(frozen=True)
class LoadedCmc:
    """Everything the CMC stage reads for one product."""

    loaded_framework: LoadedCmcFramework
    product: CmcProduct
    document: LoadedDocument
    lots: LotTable
    stability: StabilityData = field(default_factory=StabilityData)  # stability results
    vector_lots: LotTable | None = None  # the vector drug substance's lots (issue 13, part 6)

    @property
    def framework(self) -> CmcFramework:
        return self.loaded_framework.framework

    @property
    def registry(self) -> Module3Registry:
        return self.loaded_framework.registry


@lru_cache(maxsize=8)
def load_cmc_framework(folder: Path) -> LoadedCmcFramework:
    """Load cmc-framework.yaml and the Module 3 layout it names; check its source ids."""
    doc = load_yaml(folder / FRAMEWORK_FILE, display=shipped_display(folder / FRAMEWORK_FILE))
    framework = validate(doc, CmcFramework)
    reg_path = folder / framework.module3_layout
    if not reg_path.resolve().is_relative_to(folder.resolve()):
        raise ProblemsError(
            [
                Problem(
                    "CF002",
                    "module3_layout must lie inside the framework folder",
                    doc.location(("module3_layout",)),
                )
            ]
        )
    reg_doc = load_yaml(reg_path, display=shipped_display(reg_path))
    registry = validate(reg_doc, Module3Registry)
    problems: list[Problem] = []
    known = {s.id for s in framework.sources}

    def check(ids: list[str], where: tuple[str | int, ...], in_doc: LoadedDocument) -> None:
        for i, sid in enumerate(ids):
            if sid not in known:
                problems.append(
                    Problem(
                        "CF001",
                        f"unknown source '{sid}'",
                        in_doc.location((*where, i)),
                        did_you_mean(sid, known) or "add it to 'sources' of cmc-framework.yaml",
                    )
                )

    for i, a in enumerate(framework.attributes):
        check(a.sources, ("attributes", i, "sources"), doc)
    for group in (
        "comparability_approaches",
        "stability_study_types",
        "raw_material_risk",
        "chain_of_identity",
    ):
        for i, t in enumerate(getattr(framework, group)):
            check(t.sources, (group, i, "sources"), doc)
    for i, g in enumerate(framework.gates):
        check(g.sources, ("gates", i, "sources"), doc)
    for i, m in enumerate(framework.method_statuses):
        check(m.sources, ("method_statuses", i, "sources"), doc)
    check(framework.analysis.sources, ("analysis", "sources"), doc)
    for gate, expectation in framework.comparability_expectations.items():
        check(expectation.sources, ("comparability_expectations", gate, "sources"), doc)
    evaluation = framework.stability_evaluation  # stability: Q1E settings and gate expectations
    if evaluation is not None:
        check(evaluation.sources, ("stability_evaluation", "sources"), doc)
        for i, r in enumerate(evaluation.extrapolation):
            check(r.sources, ("stability_evaluation", "extrapolation", i, "sources"), doc)
        for i, e in enumerate(evaluation.gates):
            check(e.sources, ("stability_evaluation", "gates", i, "sources"), doc)
    for i, pc in enumerate(framework.process_controls):
        check(pc.sources, ("process_controls", i, "sources"), doc)
    if framework.potency_assurance is not None:  # potency assurance (issue 13, part 2)
        pa = framework.potency_assurance
        check(pa.sources, ("potency_assurance", "sources"), doc)
        for i, pe in enumerate(pa.expectations):
            check(pe.sources, ("potency_assurance", "expectations", i, "sources"), doc)
    check(registry.sources, ("sources",), reg_doc)
    seen: set[str] = set()
    for i, a in enumerate(framework.attributes):
        if a.id in seen:
            problems.append(
                Problem(
                    "CF003",
                    f"duplicate attribute id '{a.id}'",
                    doc.location(("attributes", i, "id")),
                )
            )
        seen.add(a.id)
    keys: set[str] = set()
    for i, s in enumerate(registry.sections):
        if s.key in keys:
            problems.append(
                Problem(
                    "CF003",
                    f"duplicate section key '{s.key}'",
                    reg_doc.location(("sections", i, "key")),
                )
            )
        keys.add(s.key)
    if problems:
        raise ProblemsError(problems)
    return LoadedCmcFramework(framework, doc, registry, reg_doc, folder)


def load_cmc(resolved: ResolvedProtocol, root: Path = FRAMEWORKS_DIR) -> LoadedCmc | None:
    """Load the product's CMC inputs; None when the product has no `cmc:`."""
    path = cmc_path(resolved)
    if path is None:
        return None
    pdoc = resolved.product_document
    where = pdoc.location(("cmc",))
    base = resolved.product_dir.resolve()
    if not path.resolve().is_relative_to(base):
        raise ProblemsError(
            [
                Problem(
                    "CM100",
                    f"CMC file '{resolved.product.cmc}' lies outside the product's folder",
                    where,
                    "keep cmc.yaml inside the product repository",
                )
            ]
        )
    if not path.exists():
        raise ProblemsError(
            [
                Problem(
                    "CM101",
                    f"CMC file '{resolved.product.cmc}' does not exist",
                    where,
                    "create it (see examples/cd19-cart-lbcl/cmc.yaml) or remove 'cmc:'",
                )
            ]
        )
    doc = load_yaml(path, display=display(path))
    product = validate(doc, CmcProduct)
    name = product.framework.partition("@")[0]
    frameworks = available_cmc_frameworks(root)
    fw_where = doc.location(("framework",))
    if name not in frameworks:
        hint = did_you_mean(name, frameworks) or f"available: {', '.join(sorted(frameworks))}"
        raise ProblemsError([Problem("CM102", f"unknown CMC framework '{name}'", fw_where, hint)])
    loaded_fw = load_cmc_framework(frameworks[name])
    wanted = product.framework.partition("@")[2].split(".")
    have = loaded_fw.framework.version.split(".")
    if have[: len(wanted)] != wanted:
        raise ProblemsError(
            [
                Problem(
                    "CM103",
                    f"cmc.yaml pins {product.framework} but the installed framework is "
                    f"{loaded_fw.framework.id}@{loaded_fw.framework.version}",
                    fw_where,
                    f"pin '{loaded_fw.framework.id}@{have[0]}' after reviewing the framework's changes",
                )
            ]
        )
    lots_path = path.parent / product.lots.file
    lots_where = doc.location(("lots", "file"))
    if not lots_path.resolve().is_relative_to(base):
        raise ProblemsError(
            [
                Problem(
                    "CM104",
                    f"lot file '{product.lots.file}' lies outside the product's folder",
                    lots_where,
                    "keep lot data inside the product repository, e.g. 'lots.csv'",
                )
            ]
        )
    if not lots_path.exists():
        raise ProblemsError(
            [
                Problem(
                    "CM105",
                    f"lot file '{product.lots.file}' does not exist",
                    lots_where,
                    "create the CSV (header: lot_id,date,process_version,site,donor_type,use,<test ids>)",
                )
            ]
        )
    attributes = {a.id: a for a in loaded_fw.framework.attributes}
    numeric = {
        s.id
        for s in product.specifications
        if s.attribute in attributes and attributes[s.attribute].result_type == "numeric"
    }
    qualitative = {s.id for s in product.specifications} - numeric
    tested_as = {s.attribute: s.id for s in product.specifications}
    lots = load_lots(
        lots_path,
        display=display(lots_path),
        numeric_tests=numeric,
        qualitative_tests=qualitative,
        catalogue={a: tested_as.get(a) for a in attributes},
    )
    results_files = {path.parent / s.results for s in product.stability if s.results}
    stability = load_stability(
        product,
        path.parent,
        base,
        lots,
        numeric,
        display={p: display(p) for p in results_files},
        location_of_file={
            s.id: doc.location(("stability", i, "results"))
            for i, s in enumerate(product.stability)
            if s.results
        },
    )
    vector_lots = _load_vector_lots(product, doc, path, base, attributes)
    return LoadedCmc(loaded_fw, product, doc, lots, stability, vector_lots)


def _load_vector_lots(
    product: CmcProduct,
    doc: LoadedDocument,
    path: Path,
    base: Path,
    attributes: dict[str, Attribute],
) -> LotTable | None:
    """The vector's own lot CSV (`vector.lots.file`), checked like the product's."""
    if product.vector is None:
        return None
    vector = product.vector
    vpath = path.parent / vector.lots.file
    where = doc.location(("vector", "lots", "file"))
    if not vpath.resolve().is_relative_to(base) or not vpath.exists():
        outside = not vpath.resolve().is_relative_to(base)
        raise ProblemsError(
            [
                Problem(
                    "CM104" if outside else "CM105",
                    f"vector lot file '{vector.lots.file}' "
                    + ("lies outside the product's folder" if outside else "does not exist"),
                    where,
                    "keep the vector's lot CSV inside the product repository "
                    "(header: lot_id,date,process_version,site,donor_type,use,<vector test ids>)",
                )
            ]
        )
    numeric = {
        s.id
        for s in vector.specifications
        if s.attribute in attributes and attributes[s.attribute].result_type == "numeric"
    }
    return load_lots(
        vpath,
        display=display(vpath),
        numeric_tests=numeric,
        qualitative_tests={s.id for s in vector.specifications} - numeric,
        catalogue={s.attribute: s.id for s in vector.specifications},
    )


def problem_location(
    doc: LoadedDocument, path: tuple[str | int, ...], *, key: bool = False
) -> Location:
    return doc.location(path, key=key)
