"""The README's build promises name the tests that hold them; those tests must exist."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

BUILD_TESTS = Path(__file__).resolve().parent
REFERENCE = re.compile(r"`((?:tests/[\w/]+/)?test_\w+\.py)?(?:::(test_\w+))?`?")


def _section(first: str, end: str) -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    start = text.index(first)
    return text[start : text.index(end, start)]


def _promises() -> str:
    return _section("What `build` (and `portfolio`", "### The product file")


def test_every_test_the_readme_names_exists() -> None:
    _assert_named_tests_exist(_promises(), at_least=15)


def test_every_test_the_cmc_section_names_exists() -> None:
    """README "CMC inputs": each claim about cmc.yaml and lots.csv names the test that holds it."""
    _assert_named_tests_exist(
        _section("### CMC inputs: cmc.yaml and lots.csv", "### Sponsor template overrides"),
        at_least=10,
    )


def _assert_named_tests_exist(text: str, *, at_least: int) -> None:
    named: list[tuple[Path, str | None]] = []
    current: Path | None = None
    for match in REFERENCE.finditer(text):
        file, test = match.groups()
        if file is None and test is None:
            continue
        if file is not None:
            current = ROOT / file if file.startswith("tests/") else BUILD_TESTS / file
        assert current is not None, match.group(0)
        named.append((current, test))
    assert len(named) >= at_least
    for file, test in named:
        assert file.is_file(), file
        if test is not None:
            assert re.search(rf"^def {test}\(", file.read_text("utf-8"), re.M), (file, test)
