"""Word conversions are cached per document (generator/build.py `_convert_to_word`): a build
converts again only the documents whose Markdown (or metadata, or figures) changed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from generator.build import build_product
from generator.export import docx

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd19-cart-lbcl"


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The Markdown file each real pandoc Word conversion was given (its first heading)."""
    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PROTOCMC_NO_CACHE", raising=False)
    seen: list[str] = []
    real = docx._run_pandoc

    def counting(cmd: list[str], markdown: str) -> subprocess.CompletedProcess[Any]:
        seen.append(markdown.split("\ntitle: ", 1)[-1].split("\n", 1)[0])
        return real(cmd, markdown)

    monkeypatch.setattr(docx, "_run_pandoc", counting)
    return seen


def _docx(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.docx"))}


def test_only_changed_documents_are_converted_again(tmp_path: Path, conversions: list[str]) -> None:
    product_dir = tmp_path / "product"
    shutil.copytree(EXAMPLE, product_dir)
    product = product_dir / "product.yaml"
    out = tmp_path / "out"
    build_product(product, out, formats=("docx",))
    assert len(conversions) == 6  # protocol, three CMC documents, two for the redline
    first = _docx(out)

    build_product(product, tmp_path / "again", formats=("docx",), force=True)
    assert len(conversions) == 6  # every conversion answered from the cache
    assert _docx(tmp_path / "again") == first

    cmc = product_dir / "cmc.yaml"
    text = cmc.read_text("utf-8")
    assert "cryopreservation bag (CryoMACS 250)" in text
    cmc.write_text(text.replace("(CryoMACS 250)", "(CryoMACS 500)", 1), "utf-8")
    build_product(product, out, formats=("docx",))
    assert len(conversions) == 7  # Module 3 only: the other documents did not change
    after = _docx(out)
    assert after["module3.docx"] != first["module3.docx"]
    assert {k: v for k, v in after.items() if k != "module3.docx"} == {
        k: v for k, v in first.items() if k != "module3.docx"
    }


def test_conversions_run_longest_first_with_the_redline_drafts_as_two_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one job at a time the order is the start order: the longest Markdown first, and
    the redline's two drafts are separate conversions among the others."""
    from generator import build

    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(build, "DOCX_JOBS", 1)
    lengths: list[int] = []
    real = docx._run_pandoc

    def recording(cmd: list[str], markdown: str) -> subprocess.CompletedProcess[Any]:
        lengths.append(len(markdown))
        return real(cmd, markdown)

    monkeypatch.setattr(docx, "_run_pandoc", recording)
    build_product(EXAMPLE / "product.yaml", tmp_path / "out", formats=("docx",))
    assert len(lengths) == 6 and lengths == sorted(lengths, reverse=True)
    assert (tmp_path / "out" / "protocol-redline.docx").is_file()
