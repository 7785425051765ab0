"""The YAML loader: positions kept, unsafe or malformed input refused with a located problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.load import MAX_DEPTH, MAX_FILE_BYTES, load_yaml, parse_yaml
from generator.problems import ProblemsError


def problem_of(text: str) -> str:
    with pytest.raises(ProblemsError) as info:
        parse_yaml(text, display="f.yaml")
    assert len(info.value.problems) == 1
    return info.value.problems[0].format()


def test_positions_of_keys_and_values_are_one_based() -> None:
    doc = parse_yaml("a: 1\nb:\n  - x: '1.10'\n    y: 2\n", display="f.yaml")
    assert doc.data == {"a": 1, "b": [{"x": "1.10", "y": 2}]}
    assert doc.value_positions[("a",)] == (1, 4)
    assert doc.key_positions[("b", 0, "y")] == (4, 5)
    assert str(doc.location(("b", 0, "y"))) == "f.yaml:4:8"
    # a path that does not exist falls back to its nearest ancestor
    assert str(doc.location(("b", 0, "zzz"))) == "f.yaml:3:5"


def test_yaml_12_scalars_no_norway_problem_and_dates_stay_text() -> None:
    doc = parse_yaml("a: no\nb: true\nc: 1.10\nd: 2026-01-01\ne: ~\nf: 0x10\n", display="f")
    assert doc.data == {"a": "no", "b": True, "c": 1.1, "d": "2026-01-01", "e": None, "f": 16}
    assert doc.source_text[("c",)] == "1.10"


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("a: &x 1\nb: *x\n", "PY003", "f.yaml:1:4"),
        ("a: !!python/object:os.system x\n", "PY002", "f.yaml:1:4"),
        ("a: !custom x\n", "PY002", "f.yaml:1:4"),
        ("a: 1\nb: 2\na: 3\n", "PY004", "f.yaml:3:1"),
        ("a: [1, 2\n", "PY001", "f.yaml:2:1"),
        ("a: b: c\n", "PY001", "f.yaml:1:5"),
        ("a: 1\n---\nb: 2\n", "PY006", "f.yaml:2:1"),
        ("", "PY008", "f.yaml:1:1"),
        ("a:\n\t- b\n", "PY001", "f.yaml:2:1"),
    ],
)
def test_refused_inputs_are_located(text: str, code: str, where: str) -> None:
    message = problem_of(text)
    assert message.startswith(f"{where}: {code}:"), message
    assert "hint:" in message


def test_billion_laughs_is_refused_before_expansion() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    assert "PY003" in problem_of(bomb)


def test_absurd_nesting_is_refused_without_recursion_error() -> None:
    deep = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    assert f"deeper than {MAX_DEPTH}" in problem_of(deep)
    block = "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n"
    assert "PY007" in problem_of(block)


def test_non_utf8_is_located_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes("a: 1\nb: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ProblemsError) as info:
        load_yaml(path, display="p.yaml")
    assert info.value.problems[0].format().startswith("p.yaml:2:7: PY011:")


def test_oversized_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ProblemsError) as info:
        load_yaml(path, display="big.yaml")
    assert info.value.problems[0].code == "PY010"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError) as info:
        load_yaml(tmp_path / "nope.yaml", display="nope.yaml")
    assert info.value.problems[0].code == "PM001"
