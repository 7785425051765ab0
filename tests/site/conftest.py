"""Shared fixtures for the site tests: one strict build of the repository's site per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.site.commands import build_site

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mkdocs build --strict` of the repository's mkdocs.yml into a temporary folder."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    out = tmp_path_factory.mktemp("site") / "site-build"
    return build_site(REPO, out, strict=True)
