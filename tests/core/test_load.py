"""The YAML loader: positions kept, unsafe or malformed input refused with a located problem."""

from __future__ import annotations

import contextlib
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from generator import load
from generator.load import (
    MAX_CHARACTER_PROBLEMS,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_MAPPING_KEYS,
    MAX_SCALAR_CHARS,
    MAX_SEQUENCE_ITEMS,
    load_yaml,
    parse_yaml,
    read_bytes,
)
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


# --------------------------------------------------------------------------- bounded inputs


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "product.yaml"
    os.mkfifo(fifo)
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(load_yaml, fifo, display="product.yaml")
    try:
        with pytest.raises(ProblemsError) as info:
            future.result(timeout=20)
    finally:
        # unblock a reader stuck in open() (the old behaviour) so the test run can end
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pool.shutdown(wait=False)
    (problem,) = info.value.problems
    assert problem.code == "PM003" and "named pipe" in problem.message
    assert problem.hint


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused(tmp_path: Path, device: str) -> None:
    link = tmp_path / "product.yaml"
    link.symlink_to(device)
    with pytest.raises(ProblemsError) as info:
        load_yaml(link, display="product.yaml")
    assert (
        info.value.problems[0].format().startswith("product.yaml: PM003: product.yaml is a device")
    )


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError) as info:
        load_yaml(tmp_path, display="here")
    assert info.value.problems[0].code == "PM002" and "folder" in info.value.problems[0].message


def test_the_size_cap_counts_bytes_read_not_the_size_the_file_system_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status = Path("/proc/self/status")  # a regular file whose reported size is 0
    if not status.is_file() or status.stat().st_size != 0:
        pytest.skip("needs Linux /proc")
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 10)
    with pytest.raises(ProblemsError) as info:
        load.read_text(status, "status")
    assert info.value.problems[0].code == "PY010"
    assert len(read_bytes(status, "status", limit=100_000)) > 10


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\x00", "U+0000"),
        ("\x07", "U+0007"),
        ("\x1b", "U+001B"),
        ("\x7f", "U+007F"),
        ("\x85", "U+0085"),
        ("\x9b", "U+009B"),
        ("\u200b", "ZERO WIDTH SPACE"),
        ("\u200e", "LEFT-TO-RIGHT MARK"),
        ("\u200f", "RIGHT-TO-LEFT MARK"),
        ("\u202a", "LEFT-TO-RIGHT EMBEDDING"),
        ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("\u2066", "LEFT-TO-RIGHT ISOLATE"),
        ("\u2069", "POP DIRECTIONAL ISOLATE"),
        ("\ufeff", "U+FEFF"),
    ],
)
def test_control_and_bidi_characters_are_refused_where_they_stand(char: str, name: str) -> None:
    message = problem_of(f"a: 1\nb: text {char}here\n")
    assert message.startswith("f.yaml:2:9: PY012:") and name in message, message


@pytest.mark.parametrize(
    ("escape", "name"),
    [
        ("\\0", "U+0000"),
        ("\\e", "U+001B"),
        ("\\x1b", "U+001B"),
        ("\\x7f", "U+007F"),
        ("\\N", "U+0085"),
        ("\\u200b", "ZERO WIDTH SPACE"),
        ("\\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("\\u2067", "RIGHT-TO-LEFT ISOLATE"),
        ("\\ufeff", "U+FEFF"),
    ],
)
def test_escaped_control_and_bidi_characters_are_refused_at_the_value(
    escape: str, name: str
) -> None:
    message = problem_of(f'a: 1\nb: "text {escape} here"\n')
    assert message.startswith("f.yaml:2:4: PY012:") and name in message, message
    assert problem_of(f'"k{escape}": 1\n').startswith("f.yaml:1:1: PY012:")


def test_tab_newline_carriage_return_and_ordinary_unicode_are_kept() -> None:
    doc = parse_yaml('a: "x\\ty"\r\nb: >-\n  µ ≥ 10⁶ cells, naïve, β\u00a02\n', display="f")
    assert doc.data == {"a": "x\ty", "b": "µ ≥ 10⁶ cells, naïve, β\u00a02"}


def test_many_forbidden_characters_are_listed_up_to_a_cap_then_counted() -> None:
    text = "a: " + "\u200b" * (MAX_CHARACTER_PROBLEMS + 25) + "\n"
    with pytest.raises(ProblemsError) as info:
        parse_yaml(text, display="f.yaml")
    problems = info.value.problems
    assert len(problems) == MAX_CHARACTER_PROBLEMS + 1
    assert [p.location.column for p in problems if p.location] == list(
        range(4, 4 + MAX_CHARACTER_PROBLEMS + 1)
    )
    assert "(and 24 more after it, not listed)" in problems[-1].message


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("".join(f"k{i}: 1\n" for i in range(MAX_MAPPING_KEYS + 5)), "f.yaml:1001:1", "keys"),
        ("[" + "1," * (MAX_SEQUENCE_ITEMS + 5) + "1]\n", "f.yaml:1:4002", "entries"),
        ("a: " + "x" * (MAX_SCALAR_CHARS + 1) + "\n", "f.yaml:1:4", "characters long"),
    ],
)
def test_blocks_lists_and_values_have_size_limits(text: str, where: str, words: str) -> None:
    message = problem_of(text)
    assert message.startswith(f"{where}: PY010:") and words in message, message


def test_limits_leave_room_for_the_largest_shipped_files() -> None:
    assert MAX_MAPPING_KEYS == 1_000 and MAX_SEQUENCE_ITEMS == 2_000
    assert MAX_SCALAR_CHARS == 20_000 and MAX_FILE_BYTES == 2 * 1024 * 1024


def test_the_readme_lists_every_input_limit_with_its_value() -> None:
    from generator import problems
    from generator.cmc import lots
    from generator.models import common, product

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    rows = {
        match.group(2): match.group(1)
        for match in re.finditer(r"^\| [^|]+ \| ([^|]+) \| `([a-z.]+\.[A-Z_]+)` \|$", readme, re.M)
    }
    modules = {"load": load, "models.common": common, "models.product": product}
    modules |= {"cmc.lots": lots, "problems": problems}
    for where, written in rows.items():
        module, _, name = where.rpartition(".")
        value = getattr(modules[module], name)
        shown = written.split(" ")[0].replace(",", "")
        if shown == "10^15":
            assert value == 1e15, where
        elif shown == "2":  # "2 MiB (2,097,152 bytes)"
            assert value == 2 * 1024 * 1024, where
        else:
            assert value == int(shown), where
    assert len(rows) >= 24
