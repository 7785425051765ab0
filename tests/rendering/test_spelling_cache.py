"""The spelling list (templates/protocol/spelling.yaml) is parsed once per content: the pairs
are cached per user by the file's bytes (generator/protocol_passes.py `_spelling_pairs`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator import protocol_passes
from generator.paths import TEMPLATES_DIR


def test_the_spelling_pairs_are_parsed_once_per_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PROTOCMC_NO_CACHE", raising=False)
    parsed: list[str] = []
    real = protocol_passes._parse_spelling

    def counting(text: str) -> tuple[tuple[str, str], ...]:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(protocol_passes, "_parse_spelling", counting)
    spelling = tmp_path / "spelling.yaml"
    shutil.copy(TEMPLATES_DIR / "protocol" / "spelling.yaml", spelling)
    uncached = protocol_passes._spelling_pairs.__wrapped__  # past the in-process memo
    first = uncached(spelling)
    assert len(first) > 10
    assert uncached(spelling) == first
    assert len(parsed) == 1  # the second answer came from the per-user cache
    spelling.write_text(spelling.read_text("utf-8") + "\n", "utf-8")
    assert uncached(spelling) == first
    assert len(parsed) == 2  # other bytes: parsed again
