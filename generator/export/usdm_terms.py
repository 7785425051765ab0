"""The USDM export's data: CDISC terminology and protocmc's design map.

- `schemas/usdm/usdm-ct.json`: the USDM controlled terminology, vendored from CDISC's
  USDM_CT.xlsx by scripts/vendor_usdm.py.
- `templates/usdm/study-design.yaml`: which code each product value maps to, the codes USDM
  takes from other CDISC terminology (with where each was read), the epochs of the design and
  the lymphodepleting agents. Content is data, not code.

Every code the design map names is checked when the map loads: a C-code must be in the USDM
terminology or in the map's own `terminology:` list.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from generator.load import load_yaml
from generator.models.common import StrictModel
from generator.paths import SCHEMAS_DIR, TEMPLATES_DIR
from generator.problems import Problem, ProblemsError, ProtocmcError
from generator.validate import validate

CT_FILE = SCHEMAS_DIR / "usdm" / "usdm-ct.json"
SCHEMA_FILE = SCHEMAS_DIR / "usdm" / "usdm-4.0.0.schema.json"
DESIGN_FILE = TEMPLATES_DIR / "usdm" / "study-design.yaml"


@dataclass(frozen=True)
class Term:
    code: str
    decode: str
    system: str
    version: str
    source: str


class IdentifierScope(StrictModel):
    name: str
    label: str
    type: str


class CellProduct(StrictModel):
    role: str
    designation: str
    frequency: str
    dose_form: str
    type: dict[str, str]


class BackgroundIntervention(StrictModel):
    name: str
    element: str
    dose_parameter: str
    ucum: str
    days_parameter: str
    frequency: str
    role: str
    type: str


class Epoch(StrictModel):
    key: str
    name: str
    type: str
    element: str
    when: str | None = None
    interventions: list[str] = Field(default_factory=list)


class RationaleSections(StrictModel):
    study_version: str
    study_design: str


class DesignMap(StrictModel):
    code_system: str
    code_system_version: str
    extension_url: str
    organisation_scheme: str
    ucum: tuple[str, str]
    terminology: dict[str, tuple[str, str | None, str | None, str]]
    study_type: str
    phase: dict[str, str]
    intervention_model: dict[str, str]
    blinding: dict[str, str]
    planned_sex: dict[str, str]
    titles: dict[str, str]
    criterion_category: dict[str, str]
    objective_level: dict[str, str]
    endpoint_level: dict[str, str]
    document_status: dict[str, str]
    characteristics: dict[str, str]
    document_type: str
    document_language: str
    version_date_type: str
    global_scope: str
    region_scope: str
    amendment_reason: dict[str, str]
    sponsor_role: str
    sponsor_organisation_type: str
    arm_type: str
    arm_data_origin: str
    arm_data_origin_description: str
    age_unit: str
    duration_unit: str
    identifier_scopes: dict[str, IdentifierScope]
    title_page_section: str
    rationale_sections: RationaleSections
    cell_product: CellProduct
    background_interventions: list[BackgroundIntervention]
    epochs: list[Epoch]

    def codes(self) -> list[str]:
        """Every code the map names (for the load-time check)."""
        found = [
            self.study_type,
            self.document_type,
            self.document_language,
            self.version_date_type,
            self.global_scope,
            self.region_scope,
            self.sponsor_role,
            self.sponsor_organisation_type,
            self.arm_type,
            self.arm_data_origin,
            self.age_unit,
            self.duration_unit,
            self.cell_product.role,
            self.cell_product.designation,
            self.cell_product.frequency,
            self.cell_product.dose_form,
        ]
        for table in (
            self.phase,
            self.intervention_model,
            self.blinding,
            self.planned_sex,
            self.titles,
            self.criterion_category,
            self.objective_level,
            self.endpoint_level,
            self.document_status,
            self.characteristics,
            self.amendment_reason,
            self.cell_product.type,
        ):
            found += table.values()
        found += [s.type for s in self.identifier_scopes.values()]
        found += [c for b in self.background_interventions for c in (b.frequency, b.role, b.type)]
        found += [e.type for e in self.epochs]
        return found


class Terminology:
    """Look up a code: USDM terminology first, then the design map's own list."""

    def __init__(self, ct: dict[str, object], design: DesignMap) -> None:
        self.design = design
        self._usdm: dict[str, Term] = {}
        terms = ct.get("terms", [])
        assert isinstance(terms, list)
        for row in terms:
            self._usdm.setdefault(
                row["code"],
                Term(
                    row["code"],
                    row["decode"],
                    design.code_system,
                    design.code_system_version,
                    f"USDM_CT.xlsx {row['entity']}.{row['attribute']} ({row['codelist']})",
                ),
            )
        self._extra = {
            code: Term(
                code,
                decode,
                system or design.code_system,
                version or design.code_system_version,
                source,
            )
            for code, (decode, system, version, source) in design.terminology.items()
        }

    def __contains__(self, code: str) -> bool:
        return code in self._usdm or code in self._extra

    def term(self, code: str) -> Term:
        found = self._usdm.get(code) or self._extra.get(code)
        if found is None:
            raise ProtocmcError(
                f"{DESIGN_FILE.name}: code {code} is in no terminology protocmc ships"
            )
        return found

    def in_usdm_ct(self, code: str) -> bool:
        return code in self._usdm

    def usdm_codes(self) -> dict[str, Term]:
        return dict(self._usdm)


@functools.cache
def terminology(design_file: Path = DESIGN_FILE, ct_file: Path = CT_FILE) -> Terminology:
    """The shipped terminology and design map, checked once per process."""
    doc = load_yaml(design_file)
    design = validate(doc, DesignMap)
    ct = json.loads(ct_file.read_text("utf-8"))
    terms = Terminology(ct, design)
    unknown = sorted({c for c in design.codes() if c not in terms})
    if unknown:
        raise ProblemsError(
            [
                Problem(
                    "PU010",
                    f"code {code} is neither in the USDM terminology nor under 'terminology:'",
                    doc.location(()),
                    "add it under 'terminology:' with its decode and where it was read",
                )
                for code in unknown
            ]
        )
    return terms


@functools.cache
def usdm_schema() -> dict[str, object]:
    schema: dict[str, object] = json.loads(SCHEMA_FILE.read_text("utf-8"))
    return schema
