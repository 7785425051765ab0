"""Properties of the input guards: strict lot numbers, every CSV problem reported in one run,
invisible and control characters refused exactly where they stand, and justifications that
must say something."""

from __future__ import annotations

import csv
import io
import math
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.cmc.lots import MAX_LOT_VALUE, METHOD_VERSION_SUFFIX, Result, _number, load_lots
from generator.load import FORBIDDEN_CHARACTERS, parse_yaml
from generator.models.common import PLACEHOLDER_WORDS, _check_justification
from generator.problems import ProblemsError
from tests.conftest import ROOT
from tests.properties import scaled

SETTINGS = scaled(0.5)
LOTS = ROOT / "examples" / "cd19-cart-lbcl" / "lots.csv"

forbidden = st.one_of(
    st.integers(0x00, 0x08),
    st.sampled_from([0x0B, 0x0C]),
    st.integers(0x0E, 0x1F),
    st.integers(0x7F, 0x9F),
    st.integers(0x200B, 0x200F),
    st.integers(0x202A, 0x202E),
    st.integers(0x2066, 0x2069),
    st.just(0xFEFF),
).map(chr)


# --------------------------------------------------------------------------- lot numbers


@given(st.floats(-MAX_LOT_VALUE, MAX_LOT_VALUE, allow_nan=False, allow_infinity=False))
def test_every_plain_number_reads_back_exactly(value: float) -> None:
    for text in (repr(value), f"{value:.6e}", f"{value:f}"):
        parsed = _number(text)
        assert isinstance(parsed, Result) and parsed.value == float(text), text
    censored = _number(f"<{abs(value)!r}")
    assert isinstance(censored, Result) and censored.censored


@given(st.text(max_size=20))
def test_a_cell_is_a_number_only_when_written_as_one(text: str) -> None:
    parsed = _number(text)
    if isinstance(parsed, Result):
        assert math.isfinite(parsed.value) and abs(parsed.value) <= MAX_LOT_VALUE
        assert text.isascii() and not any(c in text for c in "_, \t")
        assert not any(w in text.lower() for w in ("nan", "inf"))


@given(
    st.floats(0, 1000, allow_nan=False).map(lambda v: f"{v:.2f}"),
    st.sampled_from(["_", ",", " ", "\u00a0", "'"]),
    st.data(),
)
def test_separators_inside_a_number_are_refused(number: str, sep: str, data: st.DataObject) -> None:
    cut = data.draw(st.integers(1, len(number) - 1))
    assert isinstance(_number(number[:cut] + sep + number[cut:]), str)


@pytest.mark.parametrize(
    "text",
    ["nan", "NaN", "inf", "-inf", "Infinity", "1e16", "-2e300", "1e999", "<1e308", "٣", "７"],
)
def test_words_digits_of_other_scripts_and_huge_values_are_refused(text: str) -> None:
    assert isinstance(_number(text), str)


# --------------------------------------------------------------------------- lot files


@cache
def lot_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(LOTS.read_text("utf-8"))))


@cache
def numeric_columns() -> set[str]:
    header, *rows = lot_rows()
    return {
        name
        for i, name in enumerate(header[6:], start=6)
        # a method-version column ('potency_ifng.method_version') holds version ids, not results
        if not name.endswith(METHOD_VERSION_SUFFIX)
        and all(isinstance(_number(r[i]), Result) for r in rows if r[i])
    }


def load(path: Path) -> list[str]:
    header = lot_rows()[0]
    try:
        load_lots(
            path,
            display="lots.csv",
            numeric_tests=numeric_columns(),
            qualitative_tests=set(header[6:]) - numeric_columns(),
        )
    except ProblemsError as exc:
        return [f"{p.location}: {p.code}" for p in exc.problems]
    return []


bad_numbers = st.sampled_from(["n/a", "7_2.4", "1 000", "nan", "inf", "1e400", "2e20", "７２", "<"])


@SETTINGS
@given(
    st.data(),
    st.booleans(),
    st.booleans(),
)
def test_every_problem_of_a_lot_file_is_reported_in_one_run(
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
    unknown_column: bool,
    repeated_id: bool,
) -> None:
    header, *rows = (list(r) for r in lot_rows())
    numeric = sorted(numeric_columns())
    cells = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(rows) - 1), st.sampled_from(numeric)),
            max_size=6,
            unique=True,
        )
    )
    expected: set[str] = set()
    for row, name in cells:
        rows[row][header.index(name)] = data.draw(bad_numbers)
        expected.add(f"lots.csv:{row + 2}:{header.index(name) + 1}: CL006")
    if repeated_id:
        rows[-1][0] = rows[0][0]
        expected.add(f"lots.csv:{len(rows) + 1}:1: CL005")
    if unknown_column:
        header.append("not_a_test")
        rows = [[*r, "1"] for r in rows]
        expected.add(f"lots.csv:1:{len(header)}: CL002")
    path = tmp_path_factory.mktemp("lots") / "lots.csv"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), "utf-8")
    found = load(path)
    if repeated_id and any(row == len(rows) - 1 for row, _ in cells):
        expected.discard(f"lots.csv:{len(rows) + 1}:1: CL005")  # reported with the row's others
    assert expected <= set(found), (sorted(expected - set(found)), found)
    assert bool(found) == bool(expected)


# --------------------------------------------------------------------------- characters


@SETTINGS
@given(
    st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs"]), min_size=1, max_size=30),
    forbidden,
    st.data(),
)
def test_a_forbidden_character_is_refused_where_it_stands(
    text: str, char: str, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(text)))
    value = "x" + text[:cut] + char + text[cut:]
    with pytest.raises(ProblemsError) as info:
        parse_yaml(f"a: 1\nb: {value}\n", display="f.yaml")
    first = info.value.problems[0]
    assert first.code == "PY012" and first.location is not None
    assert (first.location.line, first.location.column) == (2, 4 + 1 + cut)


@SETTINGS
@given(forbidden, st.integers(0, 15), st.sampled_from(["lot_id", "site", "sterility"]))
def test_a_forbidden_character_in_a_lot_file_is_refused_where_it_stands(
    tmp_path_factory: pytest.TempPathFactory, char: str, row: int, column: str
) -> None:
    header, *rows = (list(r) for r in lot_rows())
    col = header.index(column)
    rows[row][col] = rows[row][col][:2] + char + rows[row][col][2:]
    line = ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    path = tmp_path_factory.mktemp("lots") / "lots.csv"
    path.write_text(line, "utf-8")
    offset = len(",".join(rows[row][:col])) + (1 if col else 0) + 2
    assert f"lots.csv:{row + 2}:{offset + 1}: PY012" in load(path)


def test_the_forbidden_set_is_exactly_the_documented_ranges() -> None:
    refused = {c for c in range(0x3000) if FORBIDDEN_CHARACTERS.match(chr(c))} | (
        {0xFEFF} if FORBIDDEN_CHARACTERS.match("\ufeff") else set()
    )
    documented = (
        set(range(0x00, 0x20)) - {0x09, 0x0A, 0x0D}
        | set(range(0x7F, 0xA0))
        | set(range(0x200B, 0x2010))
        | set(range(0x202A, 0x202F))
        | set(range(0x2066, 0x206A))
        | {0xFEFF}
    )
    assert refused == documented


# --------------------------------------------------------------------------- justifications

words = st.sampled_from(
    ["the", "product", "is", "allogeneic", "window", "longer", "because", "onset", "late", "cells"]
)


@given(st.lists(words, min_size=4, max_size=30))
def test_a_sentence_of_four_or_more_real_words_is_a_justification(chosen: list[str]) -> None:
    text = " ".join(chosen).capitalize() + "."
    assert _check_justification(text) == text


@given(
    st.lists(words, min_size=4, max_size=30), st.sampled_from(sorted(PLACEHOLDER_WORDS)), st.data()
)
def test_a_placeholder_word_anywhere_makes_it_no_justification(
    chosen: list[str], marker: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(chosen)))
    spelt = data.draw(st.sampled_from([marker, marker.upper(), marker.capitalize()]))
    text = " ".join(
        [*chosen[:at], spelt + data.draw(st.sampled_from(["", ":", "."])), *chosen[at:]]
    )
    with pytest.raises(ValueError, match="placeholder"):
        _check_justification(text)


@given(st.lists(words, max_size=3), st.text(st.sampled_from(" \t\n.,-–—…*?!"), max_size=5))
def test_fewer_than_four_words_is_no_justification(chosen: list[str], padding: str) -> None:
    with pytest.raises(ValueError):
        _check_justification(padding + " ".join(chosen) + padding)
