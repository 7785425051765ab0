"""Golden protocol Markdown for every example, reviewed as diffs.

Regenerate after an intended change to templates, framework text or examples:

    PROTOCMC_UPDATE_GOLDEN=1 python -m pytest tests/golden

then review `git diff tests/golden`.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from generator import api
from tests.conftest import EXAMPLES

GOLDEN = Path(__file__).parent / "protocol"
UPDATE = os.environ.get("PROTOCMC_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_protocol_markdown_matches_golden(example: Path) -> None:
    report = api.check(example / "product.yaml")
    assert not report.errors, [p.format() for p in report.errors]
    markdown = report.documents["protocol"].markdown
    golden = GOLDEN / f"{example.name}.md"
    if UPDATE or not golden.exists():
        golden.write_text(markdown, "utf-8")
        if not UPDATE:
            pytest.fail(f"wrote missing golden file {golden}; review and commit it")
    expected = golden.read_text("utf-8")
    if markdown != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), markdown.splitlines(True), str(golden), "rendered", n=1
            )
        )
        pytest.fail(f"protocol for {example.name} differs from golden:\n{diff[:4000]}")
