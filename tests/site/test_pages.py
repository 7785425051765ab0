"""Page generation and the pandoc → site Markdown conversion, without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.site.convert import to_site_markdown
from generator.site.pages import SiteOptions, generate_pages, resolve_products
from generator.site.plugin import build_nav

REPO = Path(__file__).resolve().parents[2]


def test_fenced_divs_become_md_in_html_divs() -> None:
    md = "::: {.title-page}\nTitle\n\n| a |\n|---|\n| 1 |\n:::\n\nafter\n"
    out = to_site_markdown(md).markdown
    assert '<div class="pandoc-div title-page" markdown>' in out
    assert out.count("</div>") == 1
    assert ":::" not in out


def test_insertion_and_verify_spans_become_html_with_stable_ids() -> None:
    md = "## 5.2 Exclusion {#m11-5-2}\n\nSee [\\<Country list\\>]{.insertion} and [needs verification]{.verify}.\n"
    site = to_site_markdown(md)
    assert '<span class="insertion" id="ins-1">&lt;Country list&gt;</span>' in site.markdown
    assert '<span class="verify">needs verification</span>' in site.markdown
    [ins] = site.insertions
    assert (ins.text, ins.section, ins.section_anchor) == (
        "<Country list>",
        "5.2 Exclusion",
        "m11-5-2",
    )


def test_table_captions_and_heading_shift() -> None:
    out = to_site_markdown(
        "# 1 SUMMARY {#m11-1}\n\n| a |\n|---|\n| 1 |\n\nTable: Objectives\n", shift=1
    )
    assert "## 1 SUMMARY {#m11-1}" in out.markdown
    assert '<p class="table-caption" markdown>Objectives</p>' in out.markdown
    assert "Table:" not in out.markdown


def test_code_blocks_are_left_alone() -> None:
    md = "```\n::: {.x}\n[a]{.b}\n```\n"
    assert to_site_markdown(md).markdown == md


def test_framework_pages_without_products() -> None:
    pages = generate_pages(SiteOptions(products=[], framework_pages=True))
    uris = {p.src_uri for p in pages}
    assert "framework/early-phase-cell-therapy/index.md" in uris
    assert "framework/early-phase-cell-therapy/dose-escalation.md" in uris
    assert "placeholders.md" not in uris
    page = next(p for p in pages if p.src_uri.endswith("/dose-escalation.md"))
    assert isinstance(page.content, str)
    assert "BOIN" in page.content
    assert '"Component: dose-escalation"' in page.content
    assert "## Parameters and ranges" in page.content


def test_generation_is_deterministic() -> None:
    products = resolve_products([Path("examples/*/product.yaml")], REPO)
    assert len(products) >= 1
    first = generate_pages(SiteOptions(products=products))
    second = generate_pages(SiteOptions(products=products))
    assert [(p.src_uri, p.content) for p in first] == [(p.src_uri, p.content) for p in second]


def test_nav_nests_sections_in_page_order() -> None:
    pages = generate_pages(
        SiteOptions(products=resolve_products([Path("examples/cd19-cart-lbcl")], REPO))
    )
    nav = build_nav(pages)
    titles = [next(iter(item)) for item in nav if isinstance(item, dict)]
    assert titles[0] == "Framework"
    assert "Examples" in titles and titles[-1] == "Tags"


def test_unknown_framework_option_is_reported() -> None:
    from generator.problems import ProblemsError

    with pytest.raises(ProblemsError) as info:
        generate_pages(SiteOptions(frameworks=["no-such-framework"]))
    assert info.value.problems[0].code == "PS001"


@pytest.mark.slow
def test_lone_product_site_builds(tmp_path: Path) -> None:
    from generator.site.commands import build_site

    out = build_site(REPO / "examples" / "cd19-cart-lbcl" / "product.yaml", tmp_path / "out")
    assert (out / "index.html").is_file()
    assert (out / "examples" / "cd19-cart-lbcl" / "protocol" / "index.html").is_file()
    assert (out / "framework" / "early-phase-cell-therapy" / "dlt" / "index.html").is_file()
