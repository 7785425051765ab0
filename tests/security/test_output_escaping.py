"""Values from YAML are escaped for each output (issue 9, item 3 and "escaping per output").

- Markdown: `<...>` typed in a value prints as typed (escaped), never as raw HTML;
- Word: pandoc reads the drafts with raw HTML, raw OOXML and TeX off, so no value can inject
  Word XML; links keep only http(s)/mailto/#anchor targets and the only images are our own
  figures (templates/docx/filters/links.lua);
- `check` refuses links with other targets, images, heading lines and ':::' lines in text,
  at their line (generator/text_lint.py).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import api
from generator.export.docx import DocxMetadata, convert_docx

META = DocxMetadata(title="T", document_id="ID", version="1.0", status="DRAFT", date="2026-01-01")


def docx_xml(markdown: str, tmp_path: Path) -> tuple[str, list[str]]:
    data, _ = convert_docx(markdown, metadata=META, resource_path=tmp_path)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("word/document.xml").decode("utf-8"), z.namelist()


def test_raw_openxml_in_text_is_not_injected(tmp_path: Path) -> None:
    xml, _ = docx_xml(
        "Before `<w:p><w:r><w:t>INJECTED</w:t></w:r></w:p>`{=openxml} after.\n\n"
        "```{=openxml}\n<w:p><w:r><w:t>BLOCK</w:t></w:r></w:p>\n```\n",
        tmp_path,
    )
    assert "<w:t>INJECTED</w:t>" not in xml and "<w:t>BLOCK</w:t>" not in xml
    assert "&lt;w:t&gt;INJECTED" in xml  # shown as text
    assert "&lt;w:t&gt;BLOCK" in xml


def test_raw_html_prints_as_text(tmp_path: Path) -> None:
    xml, _ = docx_xml("Hello <script>alert(1)</script> and <Short title>.\n", tmp_path)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xml
    assert "&lt;Short title&gt;" in xml


@pytest.mark.parametrize(
    "target", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "/etc/passwd"]
)
def test_unsafe_link_targets_lose_the_link(tmp_path: Path, target: str) -> None:
    data, _ = convert_docx(f"See [the text]({target}).\n", metadata=META, resource_path=tmp_path)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        everything = "".join(
            z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".rels")
        ) + z.read("word/document.xml").decode("utf-8")
    assert target not in everything
    assert "the text" in everything


def test_https_link_is_kept(tmp_path: Path) -> None:
    data, _ = convert_docx(
        "See [FDA](https://www.fda.gov/).\n", metadata=META, resource_path=tmp_path
    )
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        rels = z.read("word/_rels/document.xml.rels").decode("utf-8")
    assert "https://www.fda.gov/" in rels


def test_image_from_a_local_file_is_not_embedded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\nSECRET")
    _, names = docx_xml(f"![a description]({secret})\n", tmp_path)
    assert not [n for n in names if n.startswith("word/media/")]


# --------------------------------------------------------------------------- the Markdown


def test_angle_brackets_in_values_are_escaped_in_markdown(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        sections:
          purpose_of_trial: "See <Sponsor name> and <script>alert(1)</script>."
        """
    )
    markdown = api.check(path).documents["protocol"].markdown
    # `<word>` typed in a value is an M11 insertion point (counted by `check --release`);
    # every angle bracket is escaped either way, so none becomes HTML
    assert (
        r"See [\<Sponsor name\>]{.insertion} and [\<script\>]{.insertion}alert(1)\</script\>."
        in markdown
    )
    assert "<script>" not in markdown


def test_title_placeholder_reaches_the_word_file(
    product_with: Callable[[str], Path], tmp_path: Path
) -> None:
    path = product_with("")
    text = path.read_text("utf-8").replace(
        "  sponsor_protocol_id: TEST-101",
        "  short_title: <Short title>\n  sponsor_protocol_id: TEST-101",
    )
    path.write_text(text, "utf-8")
    markdown = api.check(path).documents["protocol"].markdown
    xml, _ = docx_xml(markdown, tmp_path)
    assert "&lt;Short title&gt;" in xml


# --------------------------------------------------------------------------- check refuses


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("See [x](javascript:alert(1)).", "PR050"),
        ("See [x](file:///etc/passwd).", "PR050"),
        ("See [x][r].\\n\\n[r]: javascript:alert(1)", "PR050"),
        ("![x](/etc/passwd)", "PR051"),
        ("Text\\n\\n## A heading", "PR052"),
        ("::: {.landscape}", "PR053"),
    ],
)
def test_check_refuses_structure_in_text(
    product_with: Callable[[str], Path], text: str, code: str
) -> None:
    path = product_with(
        f"""
        sections:
          purpose_of_trial: "{text}"
        """
    )
    report = api.check(path)
    found = [p for p in report.problems if p.code == code]
    assert found, report.problems
    assert found[0].location is not None and found[0].location.line > 0


def test_check_accepts_ordinary_links_and_markup(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        sections:
          purpose_of_trial: "See [FDA](https://www.fda.gov/), [Section 4](#m11-4), *emphasis* and #1."
        """
    )
    report = api.check(path)
    assert not [p for p in report.problems if p.code.startswith("PR05")]


def test_lot_data_never_becomes_markup(tmp_path: Path) -> None:
    """A lots.csv cell is data: links, emphasis, citations and tags in it print literally."""
    import shutil

    root = Path(__file__).resolve().parents[2]
    folder = tmp_path / "cd19"
    shutil.copytree(root / "examples" / "cd19-cart-lbcl", folder)
    lots = folder / "lots.csv"
    rows = lots.read_text("utf-8").split("\n")
    rows[1] = rows[1].replace("Cambridge MA", '"[x](javascript:alert(1)) *b* @cite <i>"', 1)
    lots.write_text("\n".join(rows), "utf-8")
    report = api.check(folder / "product.yaml")
    assert not report.errors, report.errors
    markdown = report.documents["module3"].markdown
    assert r"\[x\](javascript:alert(1)) \*b\* \@cite \<i\>" in markdown
    assert "[x](javascript" not in markdown
