"""Numbered citations: in order of first citation, only the cited sources listed, formatted
by pandoc's citeproc with the vendored AMA (Vancouver) style; the Markdown and the Word file
carry the same numbers."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import docx

from generator import api
from generator.build import build_product
from generator.citations import REFERENCES_MARK, csl_item, number_citations
from tests.conftest import EXAMPLES


def _source(sid: str, **fields: object) -> SimpleNamespace:
    return SimpleNamespace(
        **{"id": sid, "citation": f"Citation text of {sid}.", "url": None, **fields}
    )


SOURCES = {
    "lee": _source(
        "lee",
        kind="article",
        authors=["Lee DW", "Santomasso BD", "Locke FL"],
        title="ASTCT consensus grading for cytokine release syndrome",
        container="Biol Blood Marrow Transplant",
        year=2019,
        volume="25",
        issue="4",
        pages="625-638",
        doi="10.1016/j.bbmt.2018.12.758",
    ),
    "fda": _source(
        "fda",
        kind="guidance",
        authors=["U.S. Food and Drug Administration"],
        title="Considerations for the development of CAR T cell products",
        container="U.S. Food and Drug Administration",
        year=2024,
        url="https://www.fda.gov/x",
    ),
    "brief": _source("brief", kind="background", title="Issue brief"),
    "old": _source("old"),  # no structured fields yet: its citation text is printed
    "unused": _source("unused", kind="article", title="Never cited"),
}


def test_numbers_follow_first_citation_and_only_cited_sources_are_listed() -> None:
    markdown = (
        "First claim [@fda]. Second claim [@lee; @fda]; a background one [@brief].\n\n"
        "Third [@old] and again [@lee].\n\n# 14 References {#m11-14}\n\n" + REFERENCES_MARK + "\n"
    )
    out, report = number_citations(markdown, SOURCES)
    assert report.cited == ["fda", "lee", "old"]
    assert "First claim \\[1\\]. Second claim \\[1,2\\]; a background one." in out
    assert "Third \\[3\\] and again \\[2\\]." in out
    refs = out.split("# 14 References {#m11-14}")[1].strip().splitlines()
    assert refs[0].startswith("1. U.S. Food and Drug Administration. *Considerations")
    assert refs[1].startswith("2. Lee DW, Santomasso BD, Locke FL. ASTCT consensus grading")
    assert "*Biol Blood Marrow Transplant*. 2019;25(4):625-638." in refs[1]
    assert refs[2] == "3. Citation text of old."
    assert len(refs) == 3 and "Never cited" not in out and "Issue brief" not in out


def test_runs_of_numbers_collapse() -> None:
    sources = {f"s{i}": _source(f"s{i}", kind="article", title=f"T{i}") for i in range(5)}
    text = " ".join(f"[@s{i}]" for i in range(4)) + " all [@s0; @s1; @s2; @s3].\n" + REFERENCES_MARK
    out, _ = number_citations(text, sources)
    assert "all \\[1–4\\]." in out


def test_csl_items_from_structured_fields() -> None:
    item = csl_item(SOURCES["lee"])
    assert item is not None
    assert item["type"] == "article-journal"
    assert item["author"][0] == {"family": "Lee", "given": "D. W."}
    assert item["container-title"] == "Biol Blood Marrow Transplant"
    assert csl_item(SOURCES["old"]) is None
    fda = csl_item(SOURCES["fda"])
    assert fda is not None and fda["author"] == [{"literal": "U.S. Food and Drug Administration"}]
    assert fda["publisher"] == "U.S. Food and Drug Administration"


def test_the_word_file_has_the_same_reference_list(tmp_path: Path) -> None:
    example = next(p for p in EXAMPLES if p.name == "cd19-cart-lbcl")
    build_product(example / "product.yaml", tmp_path, formats=("md", "docx"))
    markdown = (tmp_path / "protocol.md").read_text("utf-8")
    listed = re.findall(r"^(\d+)\. ", markdown.split("# 14 APPENDIX: REFERENCES")[1], re.M)
    cited = {int(n) for group in re.findall(r"\\\[([\d,–]+)\\\]", markdown) for n in _expand(group)}
    assert [int(n) for n in listed] == list(range(1, len(listed) + 1))
    assert cited == set(range(1, len(listed) + 1))  # every listed work is cited, and only those
    text = "\n".join(p.text for p in docx.Document(str(tmp_path / "protocol.docx")).paragraphs)
    first_citation = re.search(r"\\\[[\d,–]+\\\]", markdown)
    assert first_citation is not None
    assert first_citation.group(0).replace("\\", "") in text


def _expand(group: str) -> list[int]:
    out: list[int] = []
    for part in group.split(","):
        a, _, b = part.partition("–")
        out += list(range(int(a), int(b or a) + 1))
    return out


def test_examples_list_the_same_references_each_time() -> None:
    example = next(p for p in EXAMPLES if p.name == "bcma-cart-rrmm") / "product.yaml"
    assert api.check(example).documents["protocol"].markdown == (
        api.check(example).documents["protocol"].markdown
    )
