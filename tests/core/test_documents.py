"""One pipeline for every document (issue 12): the registry of document kinds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from generator import api, documents

ROOT = Path(__file__).resolve().parents[2]


def test_check_renders_every_document_of_the_registry() -> None:
    report = api.check(ROOT / "examples" / "cd19-cart-lbcl" / "product.yaml")
    assert not report.errors
    assert report.resolved is not None
    expected = [d for kind in documents.applicable(report.resolved) for d in kind.documents]
    assert (
        list(report.documents)
        == expected
        == [
            "protocol",
            "module3",
            "cmc-readiness",
            "specification-lifecycle",
        ]
    )
    assert report.assets == {}  # figures are drawn only for a build


def test_a_product_without_cmc_has_only_the_protocol(minimal_product: Path) -> None:
    report = api.check(minimal_product)
    assert list(report.documents) == ["protocol"]


def test_build_assets_come_from_the_same_stages() -> None:
    report = api.check(ROOT / "examples" / "cd19-cart-lbcl" / "product.yaml", assets=("png", "svg"))
    assert report.assets and all(name.startswith("figures/") for name in report.assets)


def test_cmc_code_does_not_import_the_protocol_api() -> None:
    """No import cycle between the protocol and the CMC code (issue 12)."""
    code = (
        "import sys, generator.cmc.api, generator.documents, generator.protocol_documents; "
        "print('generator.api' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
