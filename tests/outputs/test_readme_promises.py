"""The README's build promises name the tests that hold them; those tests must exist."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

BUILD_TESTS = Path(__file__).resolve().parent
REFERENCE = re.compile(r"`((?:tests/[\w/]+/)?test_\w+\.py)?(?:::(test_\w+))?`?")


def _promises() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    start = text.index("What `build` (and `portfolio`")
    return text[start : text.index("### The product file", start)]


def test_every_test_the_readme_names_exists() -> None:
    named: list[tuple[Path, str | None]] = []
    current: Path | None = None
    for match in REFERENCE.finditer(_promises()):
        file, test = match.groups()
        if file is None and test is None:
            continue
        if file is not None:
            current = ROOT / file if file.startswith("tests/") else BUILD_TESTS / file
        assert current is not None, match.group(0)
        named.append((current, test))
    assert len(named) >= 15
    for file, test in named:
        assert file.is_file(), file
        if test is not None:
            assert re.search(rf"^def {test}\(", file.read_text("utf-8"), re.M), (file, test)
