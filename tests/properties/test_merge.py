"""Properties of resolve (framework + product overrides → resolved model + tailoring register)."""

from __future__ import annotations

import io
import math
from functools import cache
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator.framework_loader import (
    LoadedFramework,
    find_framework,
    load_framework,
    load_registry,
)
from generator.load import parse_yaml
from generator.models.framework import Parameter
from generator.models.product import Product
from generator.models.registry import SectionRegistry
from generator.problems import Location, Problem
from generator.resolve import ResolvedProtocol, resolve_product
from generator.validate import validate
from tests.conftest import FIXTURES
from tests.properties import scaled

SETTINGS = scaled(0.4)


@cache
def framework() -> LoadedFramework:
    return load_framework(find_framework("early-phase-cell-therapy@1", Location("test")))


@cache
def registry() -> SectionRegistry:
    return load_registry()


@cache
def base_product() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(
        (FIXTURES / "minimal" / "product.yaml").read_text("utf-8")
    )
    return data


def resolve(
    tailoring: dict[str, Any], top: dict[str, Any] | None = None
) -> tuple[ResolvedProtocol, list[Problem]]:
    data = {**base_product(), **(top or {})}
    if tailoring:
        data["tailoring"] = tailoring
    buffer = io.StringIO()
    YAML(typ="safe").dump(data, buffer)
    doc = parse_yaml(buffer.getvalue(), display="product.yaml")
    product = validate(doc, Product)
    return resolve_product(framework(), product, doc, registry())


@cache
def untailored() -> ResolvedProtocol:
    """The base product resolved without tailoring: which elements and items apply to it."""
    return resolve({})[0]


def numeric_parameters() -> list[tuple[str, str, Parameter]]:
    """(element, name, spec) of every numeric, free-range parameter with both bounds, in the
    elements that apply to the base product (tailoring another element is only a warning)."""
    out = []
    for element_id, loaded in framework().elements.items():
        if not untailored().elements[element_id].applies:
            continue
        for name, spec in loaded.element.starting_point.parameters.items():
            if (element_id, name) == ("dose-escalation", "cohort_size"):
                continue  # tied to the design (3+3 needs 3: PR033), not a free range
            numeric = isinstance(spec.value, int | float) and not isinstance(spec.value, bool)
            if (
                numeric
                and spec.allowed is None
                and spec.minimum is not None
                and spec.maximum is not None
            ):
                out.append((element_id, name, spec))
    return out


@st.composite
def in_range_overrides(draw: st.DrawFn) -> dict[str, Any]:
    """Tailoring of 1-4 numeric parameters to values inside the framework's range."""
    choices = draw(
        st.lists(
            st.sampled_from(numeric_parameters()), min_size=1, max_size=4, unique_by=lambda t: t[:2]
        )
    )
    tailoring: dict[str, Any] = {}
    for element_id, name, spec in choices:
        assert spec.minimum is not None and spec.maximum is not None
        if isinstance(spec.value, int):
            value: float = draw(st.integers(math.ceil(spec.minimum), math.floor(spec.maximum)))
        else:
            value = draw(st.floats(spec.minimum, spec.maximum, allow_nan=False))
        entry = tailoring.setdefault(element_id, {"parameters": {}})
        entry["parameters"][name] = value
        entry["justification"] = "Product-specific evidence supports this value."
    return tailoring


@SETTINGS
@given(in_range_overrides())
def test_resolving_twice_gives_the_same_register(tailoring: dict[str, Any]) -> None:
    first, problems_1 = resolve(tailoring)
    second, problems_2 = resolve(tailoring)
    assert first.tailoring_register == second.tailoring_register
    assert problems_1 == problems_2


@SETTINGS
@given(in_range_overrides())
def test_register_lists_exactly_the_changed_parameters(tailoring: dict[str, Any]) -> None:
    resolved, problems = resolve(tailoring)
    errors = [p for p in problems if p.is_error]
    changed = {
        (element_id, name)
        for element_id, entry in tailoring.items()
        for name, value in entry["parameters"].items()
        if value != resolved.elements[element_id].parameters[name].starting_value
    }
    if not changed:
        # a justification that changes nothing is itself a problem (PR012)
        assert {p.code for p in errors} == {"PR012"}
        return
    assert not [p for p in errors if p.code != "PR012"], errors
    in_register = {
        (e.element_id, name)
        for e in resolved.tailoring_register
        for (el, name) in changed
        if e.element_id == el and f"({name})" in e.subject
    }
    assert in_register == changed
    assert len([e for e in resolved.tailoring_register if e.subject.endswith(")")]) >= len(changed)


@SETTINGS
@given(st.sampled_from(numeric_parameters()))
def test_override_equal_to_the_starting_value_is_not_a_departure(
    choice: tuple[str, str, Parameter],
) -> None:
    element_id, name, spec = choice
    resolved, problems = resolve({element_id: {"parameters": {name: spec.value}}})
    assert problems == []
    assert resolved.tailoring_register == []
    assert resolved.elements[element_id].parameters[name].provenance.origin == "product"
    assert not resolved.elements[element_id].parameters[name].tailored


@SETTINGS
@given(in_range_overrides())
def test_untouched_values_keep_framework_provenance(tailoring: dict[str, Any]) -> None:
    resolved, _ = resolve(tailoring)
    for element_id, element in resolved.elements.items():
        touched = tailoring.get(element_id, {}).get("parameters", {})
        for name, param in element.parameters.items():
            if name not in touched:
                assert param.provenance.origin == "framework", (element_id, name)
                assert param.value == param.starting_value
        for item in element.items:
            assert item.provenance.origin == "framework" and item.status == "framework"


def elements_with_items() -> list[str]:
    return [e for e, element in untailored().elements.items() if element.items]


def removable_items(element_id: str) -> list[str]:
    protected = {
        i.id for i in framework().elements[element_id].element.starting_point.items if i.protected
    }
    return [
        i.id
        for i in untailored().elements[element_id].items
        if i.id not in protected and i.kind != "monitoring-rule"
    ]


@st.composite
def removals(draw: st.DrawFn) -> tuple[str, list[str]]:
    element_id = draw(st.sampled_from([e for e in elements_with_items() if removable_items(e)]))
    # the last continuous monitoring rule cannot go (PR041), nor a protected item (PR008)
    ids = removable_items(element_id)
    return element_id, draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))


@cache
def protected_items() -> list[tuple[str, str]]:
    return [
        (element_id, item.id)
        for element_id, loaded in framework().elements.items()
        for item in loaded.element.starting_point.items
        if item.protected
    ]


justifications = st.lists(
    st.sampled_from(["The", "product", "is", "allogeneic", "and", "different", "safer", "so"]),
    min_size=4,
    max_size=12,
).map(lambda words: " ".join(words).capitalize() + ".")


@SETTINGS
@given(
    st.sampled_from(protected_items()),
    st.sampled_from(["remove", "replace", "kind"]),
    justifications,
)
def test_a_protected_item_cannot_be_removed_or_replaced_whatever_the_justification(
    target: tuple[str, str], how: str, justification: str
) -> None:
    element_id, item_id = target
    change: dict[str, Any] = {
        "remove": {"remove": True},
        "replace": {"text": "A weaker rule."},
        "kind": {"kind": "note"},
    }[how]
    tailoring = {element_id: {"items": [{"id": item_id, **change}], "justification": justification}}
    _, problems = resolve(tailoring)
    protected = [p for p in problems if p.code == "PR008"]
    assert len(protected) == 1 and protected[0].is_error, problems
    assert item_id in protected[0].message
    assert protected[0].location is not None and protected[0].location.line > 1


def test_the_framework_protects_grade_5_events() -> None:
    assert ("dlt", "DLT-G5") in protected_items()
    assert ("stopping-rules", "STOP-G5-RELATED") in protected_items()
    assert len(protected_items()) <= 6  # a handful: protection is for safety provisions only


@SETTINGS
@given(removals())
def test_remove_by_id_removes_exactly_those_items_and_keeps_order(
    removal: tuple[str, list[str]],
) -> None:
    element_id, ids = removal
    tailoring = {
        element_id: {
            "items": [{"id": i, "remove": True} for i in ids],
            "justification": "Not applicable to this product.",
        }
    }
    resolved, problems = resolve(tailoring)
    assert [p for p in problems if p.is_error] == []
    before = [i.id for i in untailored().elements[element_id].items]
    element = resolved.elements[element_id]
    assert [i.id for i in element.items] == [i for i in before if i not in ids]
    assert sorted(i.id for i in element.removed_items) == sorted(ids)
    removed_entries = [e for e in resolved.tailoring_register if "(removed)" in e.subject]
    assert len(removed_entries) == len(ids)
    for other_id, other in resolved.elements.items():
        if other_id != element_id:
            assert other.removed_items == []
