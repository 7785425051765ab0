"""Each CMC test works on its own copy of an example product, from inside that copy's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cmc.helpers import copy_example


@pytest.fixture
def cd19(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return copy_example("cd19-cart-lbcl", tmp_path)


@pytest.fixture
def bcma(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return copy_example("bcma-cart-rrmm", tmp_path)


@pytest.fixture
def allo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return copy_example("allo-car-nk-solid-tumour", tmp_path)
