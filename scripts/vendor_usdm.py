"""Regenerate the vendored CDISC USDM v4.0.0 files in schemas/usdm/ from CDISC's release files.

    python scripts/vendor_usdm.py [--reference DIR] [--check]

DIR holds CDISC's DDF-RA v4.0.0 deliverables (default /work/shared/reference/usdm):
USDM_API.json, USDM_CT.xlsx, LICENSE and, optionally, CDISC_Pilot_Study.json.

What it writes (schemas/usdm/):

- usdm-4.0.0.schema.json: a JSON Schema (draft 2020-12) derived from the OpenAPI 3.1 document
  USDM_API.json. OpenAPI 3.1 component schemas are JSON Schema 2020-12, so the derivation is
  mechanical: the root is `Wrapper-Input` (the request body CDISC's API accepts for a whole
  study); every component schema reachable from it is copied unchanged into `$defs`, and each
  `#/components/schemas/NAME` reference becomes `#/$defs/NAME`. Nothing is added, dropped or
  loosened. When CDISC_Pilot_Study.json is present the script validates it against the result
  as a self-check (CDISC's own example must pass).
- usdm-ct.json: the USDM controlled terminology, every row of the "DDF valid value sets" sheet
  of USDM_CT.xlsx (entity, attribute, codelist C-code, extensibility, concept C-code, preferred
  term, definition). The .xlsx is read here, offline, with the standard library (an .xlsx is
  a zip of XML), so protocmc needs no spreadsheet package at run time.
- LICENSE: CDISC's MIT licence, which must travel with these copies.
- provenance.json: the SHA-256 of each source file, so a reviewer can tell which release the
  vendored files came from.

`--check` regenerates in memory and exits 1 when the committed files differ.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "schemas" / "usdm"
DEFAULT_REFERENCE = Path("/work/shared/reference/usdm")
ROOT_SCHEMA = "Wrapper-Input"
SCHEMA_ID = "https://protocmc.invalid/schemas/usdm/usdm-4.0.0.schema.json"
"""`.invalid` (RFC 2606): an identifier for `$ref` resolution only; nothing is fetched."""

_XLSX = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
CT_SHEET = "DDF valid value sets"
CT_HEADER = (
    "Project",
    "Entity",
    "Attribute",
    "Codelist C-code",
    "Codelist Extensibility (Yes/No)",
    "Concept C-code",
    "Preferred Term (CDISC Submission Value)",
    "Synonym(s)",
    "CDISC Definition",
)


# --------------------------------------------------------------------------- schema


def derive_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a USDM document: `Wrapper-Input` and everything it references."""
    components: dict[str, Any] = openapi["components"]["schemas"]
    reachable: list[str] = []
    pending = [ROOT_SCHEMA]
    while pending:
        name = pending.pop()
        if name in reachable:
            continue
        reachable.append(name)
        text = json.dumps(components[name])
        pending.extend(re.findall(r'"#/components/schemas/([^"]+)"', text))
    defs = {name: _rewrite_refs(copy.deepcopy(components[name])) for name in sorted(reachable)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"CDISC USDM {openapi['info']['version']} study definition document",
        "description": (
            "Derived from CDISC DDF-RA USDM_API.json (OpenAPI "
            f"{openapi['openapi']}, API version {openapi['info']['version']}): "
            f"components.schemas reachable from {ROOT_SCHEMA}, unchanged, under $defs. "
            "Regenerate with scripts/vendor_usdm.py."
        ),
        "$ref": f"#/$defs/{ROOT_SCHEMA}",
        "$defs": defs,
    }


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = value.replace("#/components/schemas/", "#/$defs/")
            else:
                out[key] = _rewrite_refs(value)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


# --------------------------------------------------------------------------- terminology


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    assert letters is not None, ref
    n = 0
    for ch in letters.group():
        n = n * 26 + ord(ch) - 64
    return n - 1


def read_xlsx(path: Path) -> dict[str, list[list[str | None]]]:
    """Every sheet of an .xlsx as rows of cell strings (shared and inline strings resolved)."""
    with zipfile.ZipFile(path) as z:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", _XLSX):
                shared.append("".join(t.text or "" for t in si.iter(f"{{{_XLSX['m']}}}t")))
        workbook = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        sheets: dict[str, list[list[str | None]]] = {}
        sheets_node = workbook.find("m:sheets", _XLSX)
        assert sheets_node is not None
        for sheet in sheets_node:
            target = targets[sheet.get(f"{{{_XLSX['r']}}}id")].lstrip("/")
            target = target if target.startswith("xl/") else f"xl/{target}"
            rows: list[list[str | None]] = []
            for row in ET.fromstring(z.read(target)).iter(f"{{{_XLSX['m']}}}row"):
                cells: dict[int, str | None] = {}
                for cell in row.findall("m:c", _XLSX):
                    value = cell.find("m:v", _XLSX)
                    kind = cell.get("t")
                    text: str | None
                    if kind == "s" and value is not None and value.text is not None:
                        text = shared[int(value.text)]
                    elif kind == "inlineStr":
                        text = "".join(t.text or "" for t in cell.iter(f"{{{_XLSX['m']}}}t"))
                    else:
                        text = value.text if value is not None else None
                    cells[_column(cell.get("r", "A1"))] = text
                if cells:
                    rows.append([cells.get(i) for i in range(max(cells) + 1)])
            sheets[sheet.get("name", "")] = rows
    return sheets


def derive_terminology(xlsx: Path) -> dict[str, Any]:
    rows = read_xlsx(xlsx)[CT_SHEET]
    header_at = next(
        i for i, r in enumerate(rows) if tuple((c or "").strip() for c in r[:3]) == CT_HEADER[:3]
    )
    header = tuple((c or "").strip() for c in rows[header_at][: len(CT_HEADER)])
    if header != CT_HEADER:
        raise SystemExit(f"{xlsx}: unexpected columns in '{CT_SHEET}': {header}")
    terms = []
    for row in rows[header_at + 1 :]:
        cells = [(c or "").strip() for c in row[: len(CT_HEADER)]]
        cells += [""] * (len(CT_HEADER) - len(cells))
        if not cells[5]:
            continue
        terms.append(
            {
                "entity": cells[1],
                "attribute": cells[2],
                "codelist": cells[3],
                "extensible": cells[4] == "Yes",
                "code": cells[5],
                "decode": cells[6],
                "definition": cells[8],
            }
        )
    return {
        "source": f"CDISC DDF-RA v4.0.0, Deliverables/CT/USDM_CT.xlsx, sheet '{CT_SHEET}'",
        "codeSystem": "http://www.cdisc.org",
        "terms": terms,
    }


# --------------------------------------------------------------------------- main


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render(reference: Path) -> dict[str, str]:
    api_path = reference / "USDM_API.json"
    ct_path = reference / "USDM_CT.xlsx"
    licence = reference / "LICENSE"
    openapi = json.loads(api_path.read_text("utf-8"))
    schema = derive_schema(openapi)
    pilot = reference / "CDISC_Pilot_Study.json"
    if pilot.is_file():
        import jsonschema

        errors = list(
            jsonschema.Draft202012Validator(schema).iter_errors(
                json.loads(pilot.read_text("utf-8"))
            )
        )
        if errors:
            raise SystemExit(
                f"self-check failed: {pilot.name} does not validate: {errors[0].message}"
            )
    provenance = {
        name: hashlib.sha256((reference / name).read_bytes()).hexdigest()
        for name in ("USDM_API.json", "USDM_CT.xlsx", "LICENSE")
    }
    return {
        "usdm-4.0.0.schema.json": _dump(schema),
        "usdm-ct.json": _dump(derive_terminology(ct_path)),
        "LICENSE": licence.read_text("utf-8"),
        "provenance.json": _dump(
            {
                "release": "CDISC DDF-RA v4.0.0 (tag v4.0.0, 'Final v4.0 for Publication')",
                "sha256": provenance,
                "generator": "scripts/vendor_usdm.py",
            }
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--check", action="store_true", help="fail when the files are stale")
    args = parser.parse_args(argv)
    files = render(args.reference)
    stale = [
        n
        for n, text in files.items()
        if not (OUT / n).is_file() or (OUT / n).read_text("utf-8") != text
    ]
    if args.check:
        for name in stale:
            print(f"stale: schemas/usdm/{name}", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (OUT / name).write_text(text, "utf-8")
        print(f"wrote schemas/usdm/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
