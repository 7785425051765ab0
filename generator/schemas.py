"""JSON Schema (draft-07) export of the YAML models, for editor autocomplete.

`protocmc schemas` writes schemas/*.schema.json; a test fails when they are out of date.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from generator.models.framework import Element, Framework
from generator.models.product import Product
from generator.models.protocol_data import AbbreviationList, AmendmentWording, SpellingList
from generator.models.registry import SectionRegistry
from generator.writes import atomic_write_text

SCHEMAS: dict[str, type[BaseModel]] = {
    "product.schema.json": Product,
    "framework.schema.json": Framework,
    "element.schema.json": Element,
    "m11-registry.schema.json": SectionRegistry,
    "abbreviations.schema.json": AbbreviationList,
    "spelling.schema.json": SpellingList,
    "amendment-wording.schema.json": AmendmentWording,
}


def extra_schemas() -> dict[str, type[BaseModel]]:
    """Schemas contributed by other model modules (the CMC framework)."""
    try:
        from generator.models import cmc
    except ImportError:
        return {}
    return dict(getattr(cmc, "SCHEMAS", {}))


def schema_for(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    return {"$schema": "http://json-schema.org/draft-07/schema#", **schema}


def render_schemas() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, model in {**SCHEMAS, **extra_schemas()}.items():
        out[name] = (
            json.dumps(schema_for(model), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        )
    return out


def write_schemas(folder: Path) -> list[Path]:
    written = []
    for name, text in render_schemas().items():
        target = folder / name
        if not target.exists() or target.read_text("utf-8") != text:
            atomic_write_text(target, text)
        written.append(target)
    return written
