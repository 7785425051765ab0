"""Shared fixtures for the site tests: strict builds of the repository's site and of a product
site whose texts carry script-injection payloads (tests/site/hostile.py)."""

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


@pytest.fixture(scope="session")
def hostile_product(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hostile import write_hostile_product

    return write_hostile_product(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory: pytest.TempPathFactory, hostile_product: Path) -> Path:
    """`protocmc site` of the hostile product (a lone product file, strict)."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    out = tmp_path_factory.mktemp("hostile-site") / "site-build"
    return build_site(hostile_product, out, strict=True)
