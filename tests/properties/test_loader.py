"""Properties of the safe loader: faithful round trips, positions for every value, and only
`ProblemsError` (never another exception) on arbitrary text, bytes or structures."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator.load import YamlPath, load_yaml, parse_yaml
from generator.models.product import Product
from generator.problems import ProblemsError
from generator.validate import validate
from tests.properties import scaled

SETTINGS = scaled(1.5)

INVISIBLE = "".join(
    chr(c) for c in (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF)
)
"""Format characters the loader refuses (its control characters are category Cc)."""

keys = st.text(
    st.characters(codec="utf-8", categories=["L", "N"], include_characters="_-"),
    min_size=1,
    max_size=12,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters=INVISIBLE),
        max_size=30,
    ),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25,
)
mappings = st.dictionaries(keys, documents, min_size=1, max_size=5)


def dump(data: Any, *, flow: bool = False) -> str:
    buffer = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    yaml.allow_unicode = True
    yaml.width = 4096
    yaml.representer.sort_base_mapping_type_on_output = False  # keep key order
    yaml.dump(data, buffer)
    return buffer.getvalue()


def leaves(data: Any, path: YamlPath = ()) -> list[YamlPath]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in leaves(v, (*path, k))] or [path]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in leaves(v, (*path, i))] or [path]
    return [path]


def same(a: Any, b: Any) -> bool:
    """Equality that treats floats by value (1.0 == 1.0) but keeps int and float apart."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=0) or a == b
    return type(a) is type(b) and a == b


plain_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.text(st.characters(categories=["L", "N"], include_characters=" "), max_size=20),
)
flow_mappings = st.dictionaries(
    keys,
    st.recursive(
        plain_scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)
        ),
        max_leaves=20,
    ),
    min_size=1,
    max_size=5,
)
"""Flow style with plain text only: ruamel's flow emitter writes scalars such as ?0 or 0:0
unquoted, which libyaml then reads differently (an emitter quirk, not the loader's)."""


@SETTINGS
@given(st.one_of(mappings.map(lambda d: (d, False)), flow_mappings.map(lambda d: (d, True))))
def test_dumped_data_loads_back_equal_with_a_position_for_every_leaf(
    case: tuple[dict[str, Any], bool],
) -> None:
    data, flow = case
    text = dump(data, flow=flow)
    doc = parse_yaml(text, display="p.yaml")
    assert same(doc.data, data), text
    lines = text.splitlines()
    for path in leaves(data):
        line, col = doc.value_positions[path]
        assert 1 <= line <= len(lines) and 1 <= col <= len(lines[line - 1]) + 1, (path, text)
        if path and isinstance(path[-1], str):
            assert path in doc.key_positions


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text_loads_or_raises_problems(text: str) -> None:
    try:
        doc = parse_yaml(text, display="p.yaml")
    except ProblemsError as exc:
        assert exc.problems and all(p.location is not None for p in exc.problems)
        return
    try:
        validate(doc, Product)
    except ProblemsError as exc:
        assert exc.problems


yamlish = st.lists(
    st.sampled_from(
        [
            "a",
            "b:",
            " ",
            "  ",
            "- ",
            ":",
            "[",
            "]",
            "{",
            "}",
            ",",
            "&x ",
            "*x",
            "!t ",
            "'",
            '"',
            "#",
            "\n",
            "\t",
            "|",
            ">",
            "---\n",
            "? ",
            "%YAML 1.2\n",
            "1.10",
            "yes",
            "~",
            "\\",
            "@",
        ]
    ),
    max_size=60,
).map("".join)


@SETTINGS
@given(yamlish)
def test_yaml_like_noise_loads_or_raises_problems(text: str) -> None:
    try:
        doc = parse_yaml(text, display="p.yaml")
    except ProblemsError as exc:
        assert exc.problems
        return
    with contextlib.suppress(ProblemsError):
        validate(doc, Product)


@scaled(1.0)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_on_disk_load_or_raise_problems(tmp_path_factory: Any, raw: bytes) -> None:
    path: Path = tmp_path_factory.mktemp("bytes") / "product.yaml"
    path.write_bytes(raw)
    try:
        load_yaml(path, display="product.yaml")
    except ProblemsError as exc:
        assert exc.problems


@SETTINGS
@given(mappings)
def test_arbitrary_structures_validate_or_raise_located_problems(data: dict[str, Any]) -> None:
    doc = parse_yaml(dump(data), display="p.yaml")
    try:
        validate(doc, Product)
    except ProblemsError as exc:
        assert exc.problems
        assert all(p.location is not None and p.location.line >= 1 for p in exc.problems)
