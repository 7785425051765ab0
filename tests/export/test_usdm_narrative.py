"""USDM narrative: the rendered protocol cut into XHTML sections at its M11 anchors."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from generator.export.usdm_narrative import (
    XHTML_NS,
    markdown_fragments,
    narrative_sections,
    xhtml_text,
)

PROTOCOL = """\
::: {.title-page}
A Trial of TEST-1
:::

# 1 PROTOCOL SUMMARY {#m11-1}

## 1.1 Protocol Synopsis {#m11-1-1}

Synopsis text with *emphasis* and a \\<placeholder\\>.

#### An unnumbered sub-heading

More synopsis text.

## 1.2 Trial Schema {#m11-1-2}

Schema text.

::: {.landscape}
## 1.3 Schedule of Activities {#m11-1-3}

| Visit | Day |
|---|---|
| Screening | -28 |
:::

# 2 INTRODUCTION {#m11-2}

Last text.
"""


def test_sections_split_at_every_m11_anchor_in_document_order() -> None:
    sections = narrative_sections(PROTOCOL)
    assert [(s.anchor, s.number, s.title, s.level) for s in sections] == [
        (None, None, "", 0),
        ("m11-1", "1", "PROTOCOL SUMMARY", 1),
        ("m11-1-1", "1.1", "Protocol Synopsis", 2),
        ("m11-1-2", "1.2", "Trial Schema", 2),
        ("m11-1-3", "1.3", "Schedule of Activities", 2),
        ("m11-2", "2", "INTRODUCTION", 1),
    ]


def test_a_section_holds_its_own_text_not_its_subsections() -> None:
    sections = {s.anchor: s for s in narrative_sections(PROTOCOL)}
    assert sections["m11-1"].empty
    synopsis = sections["m11-1-1"]
    assert "Synopsis text with emphasis and a <placeholder>." in synopsis.text
    # a heading without an M11 anchor stays inside its section
    assert "An unnumbered sub-heading" in synopsis.text
    assert "More synopsis text." in synopsis.text
    assert "Schema text" not in synopsis.text
    assert sections["m11-2"].text == "Last text."


def test_the_title_page_is_the_text_before_section_1() -> None:
    first = narrative_sections(PROTOCOL)[0]
    assert first.anchor is None and first.text == "A Trial of TEST-1"


def test_a_layout_wrapper_around_a_heading_does_not_hide_the_section() -> None:
    # pandoc turns `::: {.landscape}` + an anchored heading into <section id=...>
    soa = {s.anchor: s for s in narrative_sections(PROTOCOL)}["m11-1-3"]
    assert soa.title == "Schedule of Activities"
    assert "Screening" in soa.text and "-28" in soa.text
    assert "<table>" in soa.xhtml


def test_fragments_are_well_formed_xhtml_divs() -> None:
    for section in narrative_sections(PROTOCOL):
        root = ET.fromstring(section.xhtml)
        assert root.tag == f"{{{XHTML_NS}}}div"
        assert xhtml_text(section.xhtml) == section.text
    synopsis = {s.anchor: s for s in narrative_sections(PROTOCOL)}["m11-1-1"]
    assert "<em>emphasis</em>" in synopsis.xhtml
    assert "&lt;placeholder&gt;" in synopsis.xhtml


def test_markdown_fragments_keep_order_and_treat_html_as_text() -> None:
    texts = ["Age ≥ 18 years & *adult*.", "<script>alert(1)</script> stays text", "Third."]
    out = markdown_fragments(texts)
    assert len(out) == 3
    assert [xhtml_text(x) for x in out] == [
        "Age ≥ 18 years & adult.",
        "<script>alert(1)</script> stays text",
        "Third.",
    ]
    assert "<script>" not in out[1]
    assert "<em>adult</em>" in out[0]
    assert markdown_fragments([]) == []
