"""The CLI as a medical writer uses it: real examples and real bad inputs, in temp folders."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.analysis.m11_lint import numbered_headings
from generator.framework_loader import load_registry
from tests.conftest import EXAMPLES, FIXTURES

Run = Callable[..., Any]


def digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_build_example_writes_m11_protocol_in_both_formats(
    example: Path, tmp_path: Path, cli: Run
) -> None:
    out = tmp_path / "out"
    result = cli("build", example / "product.yaml", "-o", out)
    assert result.exit_code == 0, result.output
    markdown = (out / "protocol.md").read_text("utf-8")
    assert (out / "protocol.docx").stat().st_size > 20_000
    expected = [(s.number, s.title) for s in load_registry().sections if s.level <= 2]
    found = [(h.number, h.title) for h in numbered_headings(markdown) if h.level <= 2]
    registry_numbers = {n for n, _ in expected}
    assert [h for h in found if h[0] in registry_numbers] == expected
    assert sum(1 for n, _ in expected if "." not in n) == 14


def test_second_build_is_byte_identical_and_noop_rebuild_is_skipped(
    tmp_path: Path, cli: Run
) -> None:
    product = EXAMPLES[0] / "product.yaml"
    first, second = tmp_path / "a", tmp_path / "b"
    assert cli("build", product, "-o", first).exit_code == 0
    assert cli("build", product, "-o", second).exit_code == 0
    assert digest(first) == digest(second)
    again = cli("build", product, "-o", first)
    assert again.exit_code == 0 and "up to date" in again.stdout
    forced = cli("build", product, "-o", first, "--force")
    assert "wrote" in forced.stdout
    assert digest(first) == digest(second)


def test_format_md_writes_only_markdown(tmp_path: Path, minimal_product: Path, cli: Run) -> None:
    result = cli("build", minimal_product, "-o", tmp_path / "o", "--format", "md")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        ".protocmc-build.json",
        ".protocmc-work",
        "protocol.md",
    ]
    # the work folder keeps only the lock once the build is over (no staged files)
    assert [p.name for p in (tmp_path / "o" / ".protocmc-work").iterdir()] == ["lock"]


BAD_INPUTS: dict[str, tuple[Callable[[str], str], str, str]] = {
    "malformed-yaml": (
        lambda t: t.replace("  phase: Phase 1", "  phase: [Phase 1"),
        "PY001",
        ":10:",
    ),
    "unknown-key": (lambda t: t.replace("  sponsor_name:", "  sponsor_nam:"), "PV010", ":10:3:"),
    "wrong-type": (
        lambda t: t.replace("number_of_arms: 1", "number_of_arms: [1]"),
        "PV020",
        ":18:19:",
    ),
    "missing-justification": (
        lambda t: t + "tailoring:\n  dlt:\n    parameters:\n      dlt_window_days: 35\n",
        "PR010",
        ":50:24:",
    ),
    "out-of-range": (
        # outside the range without a justification (with one, it is allowed and recorded)
        lambda t: t + "tailoring:\n  dlt:\n    parameters:\n      dlt_window_days: 60\n",
        "PR003",
        ":50:24:",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_1_located_with_hint_and_writes_nothing(
    case: str, minimal_product: Path, tmp_path: Path, cli: Run
) -> None:
    change, code, where = BAD_INPUTS[case]
    minimal_product.write_text(change(minimal_product.read_text("utf-8")), "utf-8")
    out = tmp_path / "out"
    for command in (["check", minimal_product], ["build", minimal_product, "-o", out]):
        result = cli(*command)
        assert result.exit_code == 1, result.output
        assert f"product.yaml{where}" in result.stderr and code in result.stderr, result.stderr
        assert "hint:" in result.stderr
        assert "Traceback" not in result.output
    assert not out.exists()


def test_failed_build_leaves_previous_outputs_intact(
    minimal_product: Path, tmp_path: Path, cli: Run
) -> None:
    out = tmp_path / "out"
    assert cli("build", minimal_product, "-o", out, "--format", "md").exit_code == 0
    before = digest(out)
    minimal_product.write_text(minimal_product.read_text("utf-8") + "oops: [\n", "utf-8")
    assert cli("build", minimal_product, "-o", out, "--format", "md").exit_code == 1
    assert digest(out) == before


def sponsor_product(minimal_product: Path, template_text: str | None = None) -> Path:
    shutil.copytree(
        FIXTURES / "sponsor-override" / "templates", minimal_product.parent / "templates"
    )
    if template_text is not None:
        (minimal_product.parent / "templates" / "protocol" / "protocol.md.j2").write_text(
            template_text, "utf-8"
        )
    minimal_product.write_text(
        minimal_product.read_text("utf-8") + "templates: templates\n", "utf-8"
    )
    return minimal_product


def test_sponsor_block_override_with_super(minimal_product: Path, tmp_path: Path, cli: Run) -> None:
    product = sponsor_product(minimal_product)
    result = cli("build", product, "-o", tmp_path / "o", "--format", "md")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "o" / "protocol.md").read_text("utf-8")
    assert "## 2.1 Purpose of Trial" in text
    assert "added by the sponsor's template override" in text


RENAMED = """{% extends "framework/protocol/protocol.md.j2" %}
{% block purpose_of_trial %}
## 2.1 Why We Run This Trial

Text.
{% endblock %}
"""


def test_renamed_m11_heading_in_override_fails_at_the_template_line(
    minimal_product: Path, tmp_path: Path, cli: Run
) -> None:
    product = sponsor_product(minimal_product, RENAMED)
    result = cli("check", product)
    assert result.exit_code == 1
    assert "templates/protocol/protocol.md.j2:3:" in result.stderr
    assert "PL002" in result.stderr and "keep the M11 title 'Purpose of Trial'" in result.stderr
    out = tmp_path / "o"
    assert cli("build", product, "-o", out).exit_code == 1
    assert not out.exists()


def test_sandbox_blocks_dunder_access(minimal_product: Path, cli: Run) -> None:
    evil = '{% extends "framework/protocol/protocol.md.j2" %}\n{% block purpose_of_trial %}{{ tp.__class__.__mro__ }}{% endblock %}\n'
    result = cli("check", sponsor_product(minimal_product, evil))
    assert result.exit_code == 1
    assert "PT00" in result.stderr and "Traceback" not in result.output


def test_templates_folder_cannot_escape_product_folder(minimal_product: Path, cli: Run) -> None:
    minimal_product.write_text(
        minimal_product.read_text("utf-8") + "templates: ../../..\n", "utf-8"
    )
    result = cli("check", minimal_product)
    assert result.exit_code == 1 and "PP001" in result.stderr


def test_check_release_fails_on_insertion_points(minimal_product: Path, cli: Run) -> None:
    assert cli("check", minimal_product).exit_code == 0
    result = cli("check", minimal_product, "--release")
    assert result.exit_code == 1
    # each open point: its section and what in the product file fills it
    assert "Section 1.2 Trial Schema: open insertion point <Trial schema figure>" in result.stderr
    assert "fill it with 'sections.trial_schema'" in result.stderr


def test_explain_shows_value_origin_and_starting_point(cli: Run) -> None:
    product = EXAMPLES[0] / "product.yaml"
    result = cli("explain", product, "elements.dlt.parameters.dlt_window_days")
    assert result.exit_code == 0, result.output
    assert "value:" in result.stdout and "28" in result.stdout
    assert "elements/dlt.yaml" in result.stdout
    unknown = cli("explain", product, "elements.dlt.parameters.dlt_window_day")
    assert unknown.exit_code == 1 and "did you mean" in unknown.stderr


def test_new_creates_a_starter_that_checks_clean(
    tmp_path: Path, cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("new", "my-product")
    assert result.exit_code == 0, result.output
    created = tmp_path / "my-product" / "product.yaml"
    text = created.read_text("utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    assert cli("check", created).exit_code == 0
    assert cli("new", "my-product").exit_code == 2


def test_usage_errors_exit_2(tmp_path: Path, cli: Run) -> None:
    assert cli("check", tmp_path / "missing.yaml").exit_code == 2
    assert cli("build", EXAMPLES[0] / "product.yaml", "--format", "pdf").exit_code == 2
