"""JSON Schemas: up to date with the models, draft-07, and every shipped YAML points at one."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from generator.load import load_yaml
from generator.schemas import render_schemas
from tests.conftest import EXAMPLES, ROOT

SHIPPED_YAML = sorted(
    p
    for folder in ("frameworks", "examples", "templates/protocol")
    for p in (ROOT / folder).rglob("*.yaml")
)


def test_committed_schemas_match_the_models() -> None:
    for name, text in render_schemas().items():
        committed = ROOT / "schemas" / name
        assert committed.exists(), f"run `protocmc schemas --out schemas` to add {name}"
        assert committed.read_text("utf-8") == text, (
            f"{name} is stale: run `protocmc schemas --out schemas`"
        )


@pytest.mark.parametrize("path", SHIPPED_YAML, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_yaml_has_a_schema_modeline_that_resolves(path: Path) -> None:
    first = path.read_text("utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix), f"{path} line 1 must be the schema modeline"
    target = (path.parent / first.removeprefix(prefix)).resolve()
    assert target.is_file(), f"{path}: modeline points at missing {target}"
    schema = json.loads(target.read_text("utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    data = load_yaml(path).data
    jsonschema.Draft7Validator(schema).validate(data)


def test_exported_schema_catches_a_typo_like_the_validator() -> None:
    schema = json.loads((ROOT / "schemas" / "product.schema.json").read_text("utf-8"))
    data = load_yaml(EXAMPLES[0] / "product.yaml").data
    data["title_page"]["ful_title"] = data["title_page"].pop("full_title")
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(data))
    assert errors
