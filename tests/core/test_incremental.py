"""Incremental builds: a document is re-rendered only when something it reads changed
(dependency graph document kind -> input files, generator/documents.py `render`)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from generator import documents
from generator.build import build_product

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd19-cart-lbcl"


def count_calls(monkeypatch: pytest.MonkeyPatch, method: str) -> Counter[str]:
    """Counts each document kind's real calls of `method` (not its answers from the cache)."""
    counts: Counter[str] = Counter()
    for cls in (documents.ProtocolKind, documents.CmcKind):
        real = getattr(cls, method)

        def counting(self: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            counts[self.name] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, method, counting)
    return counts


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Counter[str]:
    """Counts each document kind's real renderings."""
    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PROTOCMC_NO_CACHE", raising=False)
    return count_calls(monkeypatch, "render")


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts each document kind's real checks."""
    return count_calls(monkeypatch, "check")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_a_cmc_change_re_renders_the_cmc_documents_not_the_protocol(
    tmp_path: Path, rendered: Counter[str], checked: Counter[str]
) -> None:
    product_dir = tmp_path / "product"
    shutil.copytree(EXAMPLE, product_dir)
    product = product_dir / "product.yaml"
    out = tmp_path / "out"
    build_product(product, out, formats=("md",))
    protocol_before = (out / "protocol.md").read_bytes()
    assert rendered == {"protocol": 1, "cmc": 1}

    _edit(product_dir / "cmc.yaml", "cryopreservation bag (CryoMACS 250)", "bag (CryoMACS 500)")
    result = build_product(product, out, formats=("md",))
    assert not result.skipped
    assert rendered == {"protocol": 1, "cmc": 2}  # the protocol came from the cache
    assert "CryoMACS 500" in (out / "module3.md").read_text("utf-8")
    assert (out / "protocol.md").read_bytes() == protocol_before

    # the example is a substantial amendment: a protocol change carries its rationale
    _edit(product, "inpatient_days: 10", "inpatient_days: 9")
    _edit(
        product,
        "changes:\n",
        "changes:\n  - about: monitoring-logistics\n    rationale: Shorter stay agreed with sites.\n",
    )
    module3_before = (out / "module3.md").read_bytes()
    build_product(product, out, formats=("md",))
    assert rendered["protocol"] == 2  # the protocol reads the product file
    assert (out / "protocol.md").read_bytes() != protocol_before
    # a protocol-only change: the CMC documents read other parts of the product file
    assert rendered["cmc"] == 2
    assert (out / "module3.md").read_bytes() == module3_before
    # ... and their checks come from the cache too (each kind checked once per real change)
    assert checked == {"protocol": 2, "cmc": 2}


def test_a_change_to_the_product_description_re_renders_both(
    tmp_path: Path, rendered: Counter[str]
) -> None:
    """The CMC documents show the product and the title page (product_keys of CmcKind)."""
    product_dir = tmp_path / "product"
    shutil.copytree(EXAMPLE, product_dir)
    product = product_dir / "product.yaml"
    out = tmp_path / "out"
    build_product(product, out, formats=("md",))
    assert rendered == {"protocol": 1, "cmc": 1}
    _edit(product, "  name: PCT-19\n", "  name: PCT-19B\n")
    _edit(product, "changes:\n", "changes:\n  - about: name\n    rationale: New product code.\n")
    build_product(product, out, formats=("md",))
    assert rendered == {"protocol": 2, "cmc": 2}
    assert "PCT-19B" in (out / "module3.md").read_text("utf-8")
