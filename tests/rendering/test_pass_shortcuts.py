"""The shortcuts the passes over the draft take for speed (issue 17) change nothing: a line
skipped by a cheap pre-check is one the pass would have left as it was, and a joined or
trie-shaped pattern finds what the plain one finds."""

from __future__ import annotations

import re
import sys

from hypothesis import given
from hypothesis import strategies as st

from generator.abbreviations import AbbreviationData, _uses, data_for, shipped_data
from generator.citations import _CITE_IN_SENTENCE
from generator.draft_lint import FOLDS_TO_ASCII, heading_text_findings, prose_findings
from generator.protocol_passes import (
    PROTECTED,
    ItemPlace,
    alternation,
    drop_self_references,
    free_text,
    marker,
    resolve_item_references,
    unresolved_ids,
)

_WORDS = st.lists(st.text(alphabet="ab-c", min_size=1, max_size=5), min_size=1, max_size=12)


@given(words=_WORDS, text=st.text(alphabet="ab-c x", max_size=40))
def test_the_trie_alternation_matches_as_the_longest_first_one(words: list[str], text: str) -> None:
    flat = "(?:" + "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) + ")"
    for around in ("{}", r"(?<![\w-]){}(?![\w-])", r"\b({})\b", r"{}(?:,\s*{})*x"):
        plain = re.compile(around.replace("{}", flat))
        trie = re.compile(around.replace("{}", alternation(words)))
        assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_self_references_go_outside_protected_spans_only() -> None:
    markdown = (
        "## 4.4 A {#m11-4-4}\n\nSee Section 4.4 [as in Section 4.4]{.review}.\n\n"
        "## 4.5 B {#m11-4-5}\n\nNo mention here (Section 4.4).\n"
    )
    out = drop_self_references(markdown)
    assert "See this section [as in Section 4.4]{.review}." in out
    assert "No mention here (Section 4.4)." in out


def _places() -> dict[str, ItemPlace]:
    return {"INC-ANC": ItemPlace("INC-ANC", 3, "5.2", "inclusion")}


def test_an_id_in_a_marker_or_review_mark_stays_and_one_in_prose_is_resolved() -> None:
    markdown = (
        f"3. Neutrophils.{marker('item', 'INC-ANC|inclusion')} [INC-ANC]{{.review}}\n"
        "Repeat INC-ANC at rescreening.\n"
        # the pre-check reads the raw line: an id glued to an address is still prose
        "Repeat INC-ANChttps://example.org/x\n"
    )
    out = resolve_item_references(markdown, _places(), ["INC-ANC", "INC-PLT"]).split("\n")
    assert out[0] == f"3. Neutrophils.{marker('item', 'INC-ANC|inclusion')} [INC-ANC]{{.review}}"
    assert out[1] == "Repeat inclusion criterion 3 at rescreening."
    assert out[2] == "Repeat inclusion criterion 3https://example.org/x"


def test_an_id_only_in_markers_leaves_the_draft_as_it_is() -> None:
    markdown = f"3. Neutrophils.{marker('item', 'INC-ANC|inclusion')}\nNo id here.\n"
    assert resolve_item_references(markdown, _places(), ["INC-ANC"]) == markdown


def test_unresolved_ids_are_found_in_prose_not_in_review_marks() -> None:
    markdown = (
        "## 5.2 Inclusion {#m11-5-2}\n\nKept [INC-ALC]{.review}.\nCriterion INC-ALC applies.\n"
    )
    assert unresolved_ids(markdown, ["INC-ALC", "INC-ANC"]) == [(4, "INC-ALC")]
    assert unresolved_ids(markdown.replace("Criterion INC-ALC", "It"), ["INC-ALC"]) == []


def test_a_review_mark_after_a_backslash_is_not_protected() -> None:
    assert free_text("a [x]{.review} b", PROTECTED) == "a   b"
    assert free_text(r"a \[x]{.review} b", PROTECTED) == r"a \[x]{.review} b"


def _prose(text: str) -> list[str]:
    return [f.match for f, _what in prose_findings(f"# 1 A {{#m11-1}}\n\n{text}\n", ["dlt"])]


def test_every_prose_rule_still_finds_its_words() -> None:
    text = (
        "Made by Protocmc from the FRAMEWORK, see element dlt; Parker; an issue brief; "
        "it needs-verification, recalled; the product file; Tailored; set dose_escalation.x."
    )
    assert _prose(text) == [
        "Protocmc",
        "FRAMEWORK",
        "element dlt",
        "Parker",
        "issue brief",
        "needs-verification",
        "recalled",
        "product file",
        "Tailored",
        "dose_escalation.x",
    ]


def test_a_word_spelt_with_a_letter_that_folds_to_ascii_is_still_found() -> None:
    # "taılored" (dotless i) matches case-insensitively but its lower case has no "tailor"
    assert _prose("The ta\u0131lored dose.") == ["ta\u0131lored"]


def test_the_letters_that_fold_to_ascii_are_all_listed() -> None:
    ascii_letter = re.compile("[a-z]", re.IGNORECASE)
    folding = {
        chr(c) for c in range(128, sys.maxunicode + 1) if ascii_letter.fullmatch(chr(c)) is not None
    }
    assert folding == set(FOLDS_TO_ASCII)


def test_heading_text_is_found_only_in_lines_with_a_hash_or_brace() -> None:
    markdown = "# 1 A {#m11-1}\n\nText {#m11-9} here.\n\nPlain text.\n\nA ### 9.2 heading.\n"
    assert [f.match for f in heading_text_findings(markdown)] == ["{#m11-9}", "### 9"]


def test_a_repeated_token_is_looked_up_once_and_found_at_each_place() -> None:
    data = data_for({}, [])
    uses, unknown = _uses("CRS then CRS and QXZ, QXZ", data)
    assert [(u.abbr, u.start, u.end) for u in uses] == [("CRS", 0, 3), ("CRS", 9, 12)]
    assert unknown == [(17, "QXZ"), (22, "QXZ")]


def test_name_patterns_that_cannot_be_joined_are_tried_one_by_one() -> None:
    base = shipped_data()
    for patterns in (
        (re.compile(r"(ZZ)\d"), re.compile(r"(Q)\1X")),  # a back-reference (to group 1)
        (re.compile(r"qqx", re.IGNORECASE), re.compile(r"ZZ\d")),  # a flag
    ):
        data = AbbreviationData(base.known, base.names, patterns)
        assert data.is_name("QQX") and data.is_name("ZZ1") and not data.is_name("QX")


def test_a_lower_case_word_is_looked_up_when_an_abbreviation_is_in_lower_case() -> None:
    uses, _unknown = _uses("the mab dose", data_for({"mab": "monoclonal antibody"}, []))
    assert [(u.abbr, u.start) for u in uses] == [("mab", 4)]


_CITE_AS_WRITTEN = re.compile(
    r"(?P<stop>(?<=[\w)])\.)?[ \t]*\[(?P<body>@[A-Za-z0-9][\w.:-]*(?:\s*;\s*@[A-Za-z0-9][\w.:-]*)*)\]"
)


@given(text=st.text(alphabet=". \t[]@a)x;\n1", max_size=30))
def test_the_citation_pattern_finds_what_the_one_with_an_optional_stop_finds(text: str) -> None:
    def before(m: re.Match[str]) -> str:
        return f"<{m.group('stop') or ''}|{m.group('body')}>"

    def after(m: re.Match[str]) -> str:
        return f"<{'.' if m.group(0).startswith('.') else ''}|{m.group('body')}>"

    assert _CITE_IN_SENTENCE.sub(after, text) == _CITE_AS_WRITTEN.sub(before, text)
