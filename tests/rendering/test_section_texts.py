"""Nothing a writer types is lost: every `sections:` key renders at its M11 place, once."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from generator import api
from generator.build import build_product
from generator.framework_loader import load_registry
from generator.protocol_passes import SectionText, place_section_texts, split_chunks
from tests.conftest import FIXTURES

KEYS = [s.key for s in load_registry().sections]


def sentence(key: str) -> str:
    # unique, with nothing a pass would change (no abbreviation, no spelling variant)
    return f"Writer sentence number {KEYS.index(key) + 1:03d} for the key {key.replace('_', ' ')}."


def _with_every_key(product: Path) -> Path:
    lines = ["sections:"] + [f'  {key}: "{sentence(key)}"' for key in KEYS]
    product.write_text(product.read_text("utf-8") + "\n".join(lines) + "\n", "utf-8")
    return product


@pytest.fixture(scope="module")
def every_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("every-key") / "product"
    shutil.copytree(FIXTURES / "minimal", folder)
    product = _with_every_key(folder / "product.yaml")
    out = folder.parent / "out"
    build_product(product, out, formats=("md", "docx"))
    return (out / "protocol.md").read_text("utf-8"), out / "protocol.docx"


def test_the_registry_has_every_m11_key() -> None:
    assert len(KEYS) == 131


def test_every_key_appears_exactly_once_in_the_markdown(every_key: tuple[str, Path]) -> None:
    markdown, _docx = every_key
    counts = {key: markdown.count(sentence(key)) for key in KEYS}
    assert {k: n for k, n in counts.items() if n != 1} == {}


def test_every_key_appears_under_its_own_heading(every_key: tuple[str, Path]) -> None:
    markdown, _docx = every_key
    registry = load_registry().by_key()
    for chunk in split_chunks(markdown):
        for key in KEYS:
            if sentence(key) in "\n".join(chunk.lines):
                assert chunk.number == registry[key].number, (key, chunk.heading)


def test_every_key_appears_exactly_once_in_the_word_file(every_key: tuple[str, Path]) -> None:
    _markdown, path = every_key
    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]
    texts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    text = "\n".join(texts)
    counts = {key: text.count(sentence(key)) for key in KEYS}
    assert {k: n for k, n in counts.items() if n != 1} == {}


def test_long_form_replaces_the_template_text(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        sections:
          health_economics:
            text: Resource use is recorded in the case report form.
            replace: true
          statistical_general: Analyses follow the statistical analysis plan.
        """
    )
    markdown = api.check(path).documents["protocol"].markdown
    assert "Resource use is recorded in the case report form." in markdown
    assert "health economics are not assessed" not in markdown
    # the short form follows the template's own text
    general = markdown.index("Analyses are descriptive.")
    assert markdown.index("Analyses follow the statistical analysis plan.") > general


def test_writer_text_fills_the_insertion_point_where_the_template_asks(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        sections:
          protocol_synopsis: CD19 is a validated target.
        """
    )
    markdown = api.check(path).documents["protocol"].markdown
    assert "**Rationale:** CD19 is a validated target." in markdown
    assert "Brief rationale for the trial" not in markdown


def test_a_template_override_that_drops_a_heading_is_a_located_error(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        templates: templates
        sections:
          multiplicity: No multiplicity adjustment is needed for a descriptive trial.
        """
    )
    override = path.parent / "templates" / "protocol"
    override.mkdir(parents=True)
    (override / "protocol.md.j2").write_text(
        '{% extends "framework/protocol/protocol.md.j2" %}\n'
        "{% block multiplicity %}{% endblock %}\n",
        "utf-8",
    )
    report = api.check(path)
    lost = [p for p in report.problems if p.code == "PR054"]
    assert len(lost) == 1 and "10.10 Multiplicity Adjustments" in lost[0].message
    text = path.read_text("utf-8").splitlines()
    assert lost[0].location is not None
    assert text[lost[0].location.line - 1].strip().startswith("multiplicity:")


def test_a_sponsor_block_that_prints_the_text_itself_keeps_it_once(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        templates: templates
        sections:
          multiplicity: No multiplicity adjustment is needed for a descriptive trial.
        """
    )
    override = path.parent / "templates" / "protocol"
    override.mkdir(parents=True)
    (override / "protocol.md.j2").write_text(
        '{% extends "framework/protocol/protocol.md.j2" %}\n'
        '{% block multiplicity %}{{ heading("multiplicity") }}\n\n'
        "{{ section_text.multiplicity }}\n\n{% endblock %}\n",
        "utf-8",
    )
    markdown = api.check(path).documents["protocol"].markdown
    assert markdown.count("No multiplicity adjustment is needed for a descriptive trial.") == 1


def test_appended_text_stays_outside_the_next_sections_layout_block() -> None:
    markdown = (
        "## 1.1 A {#m11-1-1}\n\nOwn text.\n\n::: {.landscape}\n## 1.2 B {#m11-1-2}\n\nX\n:::\n"
    )
    out, missing = place_section_texts(markdown, [SectionText("a", "1.1", "Added.", False)])
    assert missing == []
    assert out.index("Added.") < out.index("::: {.landscape}")
    replaced, _ = place_section_texts(markdown, [SectionText("a", "1.1", "New.", True)])
    assert "Own text." not in replaced and replaced.count(":::") == 2
