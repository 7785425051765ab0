"""Validation: every problem reported at once, located, with a hint a medical writer can act on."""

from __future__ import annotations

import pytest

from generator.load import parse_yaml
from generator.models.product import Product
from generator.problems import ProblemsError
from generator.validate import validate
from tests.conftest import FIXTURES

BASE = (FIXTURES / "minimal" / "product.yaml").read_text("utf-8")


def problems(text: str) -> list[str]:
    doc = parse_yaml(text, display="p.yaml")
    with pytest.raises(ProblemsError) as info:
        validate(doc, Product)
    return [p.format() for p in info.value.problems]


def test_minimal_product_is_valid() -> None:
    product = validate(parse_yaml(BASE, display="p.yaml"), Product)
    assert product.title_page.version == "1.0"


def test_misspelt_key_gets_did_you_mean_at_the_key() -> None:
    found = problems(BASE.replace("  full_title:", "  ful_title:"))
    joined = "\n".join(found)
    assert "p.yaml:5:3: PV010: unknown key 'ful_title' in 'title_page'" in joined
    assert "did you mean 'full_title'?" in joined
    # and the real key is then missing: reported too, in the same run
    assert "PV011: required key 'full_title' is missing" in joined


def test_unquoted_version_gets_put_quotes_hint() -> None:
    found = problems(BASE.replace('version: "1.0"', "version: 1.10"))
    assert len(found) == 1
    assert found[0].startswith("p.yaml:7:12: PV020: title_page.version:")
    assert 'put quotes around it: "1.10"' in found[0]


def test_wrong_type_and_literal_choice_are_all_reported_together() -> None:
    text = BASE.replace("number_of_arms: 1", "number_of_arms: one").replace(
        "phase: Phase 1", "phase: Phase I"
    )
    found = problems(text)
    assert len(found) == 2
    assert any("overall_design.number_of_arms" in f and "plain number" in f for f in found)
    assert any("title_page.phase" in f and "did you mean 'Phase 1'?" in f for f in found)


def test_framework_pin_pattern_hint() -> None:
    found = problems(BASE.replace("early-phase-cell-therapy@1", "early-phase-cell-therapy"))
    assert "NAME@MAJOR" in found[0]


def test_unknown_top_level_key_lists_allowed_keys_when_nothing_is_close() -> None:
    found = problems(BASE + "zzzzzz: 1\n")
    assert "allowed keys here:" in found[0] and "tailoring" in found[0]
