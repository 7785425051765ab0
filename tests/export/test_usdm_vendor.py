"""The vendored USDM files and the script that derives them from CDISC's release files."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from tests.conftest import ROOT

VENDORED = ROOT / "schemas" / "usdm"
REFERENCE = Path("/work/shared/reference/usdm")


def vendor_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "vendor_usdm", ROOT / "scripts" / "vendor_usdm.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schema_derivation_keeps_reachable_components_and_rewrites_refs() -> None:
    openapi: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"version": "9.9.9"},
        "components": {
            "schemas": {
                "Wrapper-Input": {
                    "type": "object",
                    "properties": {"study": {"$ref": "#/components/schemas/Study-Input"}},
                    "required": ["study"],
                },
                "Study-Input": {"type": "object", "required": ["name"]},
                "Unused-Output": {"type": "string"},
            }
        },
    }
    schema = vendor_script().derive_schema(openapi)
    assert schema["$ref"] == "#/$defs/Wrapper-Input"
    assert sorted(schema["$defs"]) == ["Study-Input", "Wrapper-Input"]
    assert schema["$defs"]["Wrapper-Input"]["properties"]["study"] == {
        "$ref": "#/$defs/Study-Input"
    }
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"study": {"name": "x"}})
    assert not validator.is_valid({"study": {}})


def test_xlsx_is_read_with_the_standard_library(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Terms" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="x"/></Relationships>',
        )
        z.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{main}"><si><t>C94108</t></si><si><t>Study Acronym</t></si></sst>',
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{main}"><sheetData><row r="1">'
            '<c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c>'
            '<c r="D1" t="inlineStr"><is><t>inline</t></is></c></row></sheetData></worksheet>',
        )
    assert vendor_script().read_xlsx(book) == {
        "Terms": [["C94108", None, "Study Acronym", "inline"]]
    }


def test_vendored_schema_is_usdm_4_and_strict_where_cdisc_is() -> None:
    schema = json.loads((VENDORED / "usdm-4.0.0.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    study = {"name": "X", "instanceType": "Study"}
    assert validator.is_valid({"study": study, "usdmVersion": "4.0.0"})
    assert not validator.is_valid({"study": {"instanceType": "Study"}, "usdmVersion": "4.0.0"})
    assert not validator.is_valid(
        {"study": {**study, "instanceType": "StudyVersion"}, "usdmVersion": "4"}
    )
    licence = (VENDORED / "LICENSE").read_text("utf-8")
    assert "MIT License" in licence and "CDISC" in licence


def test_vendored_terminology_has_the_usdm_codelists() -> None:
    terms = json.loads((VENDORED / "usdm-ct.json").read_text("utf-8"))["terms"]
    pairs = {(t["entity"], t["attribute"], t["code"]): t["decode"] for t in terms}
    assert pairs[("StudyTitle", "type", "C207616")] == "Official Study Title"
    assert pairs[("Objective", "level", "C85826")] == "Primary Objective"
    assert pairs[("StudyIntervention", "role", "C41161")] == "Experimental Intervention"
    assert len(terms) == 125


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="CDISC reference files not on this machine")
def test_vendored_files_are_what_the_script_derives_from_cdisc_release() -> None:
    # also validates CDISC's own pilot study against the derived schema (the script's self-check)
    assert vendor_script().main(["--reference", str(REFERENCE), "--check"]) == 0
