"""Page generation, pandoc conversion and escaping, without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import Markup

from generator.site.draft import SiteDraft
from generator.site.pages import SiteOptions, generate_pages, resolve_products
from generator.site.pandoc_html import fragments_to_html, to_html
from generator.site.plugin import build_nav
from generator.site.templating import md_protect, md_text, site_environment

REPO = Path(__file__).resolve().parents[2]


def _draft(markdown: str) -> SiteDraft:
    return SiteDraft.from_html(to_html(markdown, shift=1))


# --------------------------------------------------------------------------- pandoc → HTML


def test_raw_html_in_markdown_is_text() -> None:
    html = to_html("a <script>alert(1)</script> <div>x</div> <img src=x onerror=alert(2)>\n")
    assert "<script" not in html and "<img" not in html and "<div" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_links_keep_only_safe_schemes() -> None:
    html = to_html(
        "[a](javascript:alert(1)) [b](JaVaScRiPt:x) [c](data:text/html,x) [d](vbscript:x) "
        "[e](https://example.org) [f](mailto:a@example.org) [g](#sec) [h](other.md) "
        "<javascript:alert(2)> ![i](http://tracker.example/p.png) ![j](figures/x.svg)\n"
    )
    assert "javascript:" not in html.split(">javascript:alert(2)<")[0].replace(
        '<span class="unsafe-link">javascript:alert(2)</span>', ""
    )
    assert 'href="javascript' not in html.lower() and 'href="data' not in html
    assert 'href="vbscript' not in html
    for kept in ("https://example.org", "mailto:a@example.org", "#sec", "other.md"):
        assert f'href="{kept}"' in html
    assert '<img src="figures/x.svg"' in html and "tracker.example" not in html
    assert html.count('class="unsafe-link"') == 5


def test_attributes_are_dropped() -> None:
    html = to_html("[x]{onclick=alert(1) style=color:red .insertion}\n\n# H {onmouseover=y}\n")
    assert "onclick" not in html and "style=" not in html and "onmouseover" not in html
    assert '<span id="ins-1" class="insertion">x</span>' in html


def test_pandoc_escapes_and_superscripts_render() -> None:
    html = to_html("not \\< 92%, USP \\<85\\>, 10^8^ cells\n")
    assert "\\&lt;" not in html and "\\<" not in html
    assert "not &lt; 92%, USP &lt;85&gt;, 10<sup>8</sup> cells" in html


def test_fragments_convert_in_one_batch_and_split_back() -> None:
    texts = ["one *em*", "two\n\n- a\n- b", "three [\\<x\\>]{.insertion}"]
    html = fragments_to_html(texts)
    assert html[0] == "<p>one <em>em</em></p>"
    assert "<li>a</li>" in html[1] and "<p>two</p>" in html[1]
    assert html[2] == '<p>three <span class="insertion">&lt;x&gt;</span></p>'


# --------------------------------------------------------------------------- drafts


def test_draft_headings_become_markdown_headings_with_pandoc_ids() -> None:
    md = _draft("# 1 SUMMARY {#m11-1}\n\ntext *a_b*\n\n## 1.1 Sub {#m11-1-1}\n\nmore\n").markdown()
    assert "## 1 SUMMARY {: #m11-1 }" in md
    assert "### 1.1 Sub {: #m11-1-1 }" in md
    assert '<div class="pandoc">\n<p>text <em>a&#95;b</em></p>\n</div>' in md


def test_headings_inside_landscape_divs_stay_headings() -> None:
    md = _draft("::: {.landscape}\n## 12.4 Register {#m11-12-4}\n\n| a |\n|---|\n| 1 |\n:::\n")
    assert "### 12.4 Register {: #m11-12-4 }" in md.markdown()


def test_insertion_points_are_listed_with_their_sections() -> None:
    draft = _draft(
        "::: {.title-page}\n[\\<Short title\\>]{.insertion}\n:::\n\n"
        "## 5.2 Exclusion {#m11-5-2}\n\nSee [\\<Country list\\>]{.insertion} and "
        "[needs verification]{.verify}.\n"
    )
    first, second = draft.insertions()
    assert (first.anchor, first.text, first.section) == ("ins-1", "<Short title>", "")
    assert (second.number, second.anchor, second.text) == (2, "ins-2", "<Country list>")
    assert (second.section, second.section_anchor) == ("5.2 Exclusion", "m11-5-2")
    assert '<span id="ins-2" class="insertion">&lt;Country list&gt;</span>' in draft.markdown()


def test_replaced_section_drops_its_body_and_subsections() -> None:
    draft = _draft(
        "# 12 A {#m11-12}\n\n## 12.4 R {#m11-12-4}\n\nold [\\<x\\>]{.insertion}\n\n"
        "### 12.4.1 Sub {#s}\n\nold too\n\n## 12.5 Next {#m11-12-5}\n\nkept\n"
    )
    md = draft.markdown({"m11-12-4": "NEW BODY"})
    assert "NEW BODY" in md and "old" not in md and "12.4.1" not in md and "kept" in md
    assert draft.insertions({"m11-12-4": ""}) == []


# --------------------------------------------------------------------------- escaping


def test_values_are_literal_text_in_markdown() -> None:
    out = md_text("<script>x</script> *a* [l](javascript:y) | 1. # _b_\nnext")
    assert "<script" not in out and "|" not in out and "\n" not in out
    assert "[" not in out and "*" not in out and "_" not in out
    import markdown

    html = markdown.markdown(f"| a |\n|---|\n| {out} |\n", extensions=["tables"])
    assert html.count("<td>") == 1 and "<a " not in html and "<em>" not in html
    assert "&lt;script&gt;" in html


def test_list_and_heading_markers_at_line_start_are_neutralised() -> None:
    import markdown

    for value in ("# heading", "- item", "1. item", "> quote", "=== tab"):
        html = markdown.markdown(str(md_text(value)))
        assert html.startswith("<p>"), (value, html)


def test_markdown_protection_keeps_tags_and_entities() -> None:
    assert md_protect('<a href="x_y">a_b</a> &lt;') == '<a href="x_y">a&#95;b</a> &lt;'


def test_site_templates_autoescape_and_get_plain_text() -> None:
    env = site_environment()
    out = env.from_string("# {{ t }}\n\n{{ h }}").render(t="<Short title>", h=Markup("<p>kept</p>"))
    assert out == "# &lt;Short title&gt;\n\n<p>kept</p>"


# --------------------------------------------------------------------------- pages


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


def test_item_kinds_have_readable_headings() -> None:
    pages = generate_pages(SiteOptions(products=[], framework_pages=True))
    dlt = next(p for p in pages if p.src_uri.endswith("/dlt.md"))
    assert isinstance(dlt.content, str)
    assert "### DLT criteria {: #items-dlt }" in dlt.content
    assert "### Dlt" not in dlt.content


def test_cmc_matrix_badge_does_not_repeat_qualitative() -> None:
    pages = generate_pages(SiteOptions(products=[], framework_pages=True))
    matrix = [p for p in pages if p.src_uri.startswith("cmc/")]
    if not matrix:
        pytest.skip("this installation has no CMC stage")
    assert isinstance(matrix[0].content, str)
    assert "qualitative, qualitative" not in matrix[0].content


def test_generation_is_deterministic() -> None:
    products = resolve_products([Path("examples/cd19-cart-lbcl")], REPO)
    first = generate_pages(SiteOptions(examples=products, downloads=False))
    second = generate_pages(SiteOptions(examples=products, downloads=False))
    assert [(p.src_uri, p.content) for p in first] == [(p.src_uri, p.content) for p in second]


def test_examples_nav_follows_the_framework() -> None:
    pages = generate_pages(
        SiteOptions(
            examples=resolve_products([Path("examples/cd19-cart-lbcl")], REPO), downloads=False
        )
    )
    nav = build_nav(pages)
    titles = [next(iter(item)) for item in nav if isinstance(item, dict)]
    assert titles[0] == "Framework"
    assert "Examples" in titles and titles[-1] == "Tags"


def test_a_sponsors_product_leads_under_its_own_name_and_is_no_example() -> None:
    product = REPO / "examples" / "cd19-cart-lbcl" / "product.yaml"
    pages = generate_pages(SiteOptions(products=[product], home=True, downloads=False))
    nav = build_nav(pages)
    titles = [next(iter(item)) for item in nav if isinstance(item, dict)]
    assert titles[:2] == ["Home", "PCT-19 in relapsed or refractory LBCL"]
    drafts = nav[1]["PCT-19 in relapsed or refractory LBCL"]
    assert [next(iter(d)) for d in drafts][:2] == ["Overview", "Protocol draft"]
    assert "Examples" not in titles
    text = "".join(p.content for p in pages if isinstance(p.content, str))
    assert '"Example"' not in text
    assert "](examples/" not in text and "](../../examples/" not in text


def test_unknown_framework_option_is_reported() -> None:
    from generator.problems import ProblemsError

    with pytest.raises(ProblemsError) as info:
        generate_pages(SiteOptions(frameworks=["no-such-framework"]))
    assert info.value.problems[0].code == "PS001"


def test_nav_titles_are_escaped() -> None:
    from generator.site.pages import SitePage

    nav = build_nav([SitePage("a.md", "", "<Short title>", ("<b>",))])
    assert nav == [{"&lt;b&gt;": [{"&lt;Short title&gt;": "a.md"}]}]


@pytest.mark.slow
def test_lone_product_site_builds_with_word_downloads(tmp_path: Path) -> None:
    from generator.site.commands import build_site

    out = build_site(REPO / "examples" / "cd19-cart-lbcl" / "product.yaml", tmp_path / "out")
    base = out / "products" / "cd19-cart-lbcl"
    assert (out / "index.html").is_file()
    assert (base / "protocol.html").is_file()
    assert (base / "protocol.docx").read_bytes()[:2] == b"PK"
    assert (out / "framework" / "early-phase-cell-therapy" / "dlt.html").is_file()
    home = (out / "index.html").read_text("utf-8")
    assert 'href="products/cd19-cart-lbcl/protocol.docx"' in home
    assert "<title>PCT-19 in relapsed or refractory LBCL</title>" in home
    # each Word download is the file `protocmc build` writes (same metadata: A4 for en-GB)
    from generator.build import build_product

    built = tmp_path / "build"
    build_product(REPO / "examples" / "cd19-cart-lbcl" / "product.yaml", built, formats=("docx",))
    for name in ("protocol", "module3", "cmc-readiness"):
        assert (base / f"{name}.docx").read_bytes() == (built / f"{name}.docx").read_bytes()
