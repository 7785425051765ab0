"""The build plan cache (generator/plan.py): a build whose inputs did not change since the
last one is answered without checking or rendering again; any changed input is seen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator import api
from generator.build import build_product

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd19-cart-lbcl"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Path]:
    """Records every real check (load, validate, resolve, render) a build runs."""
    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PROTOCMC_NO_CACHE", raising=False)
    calls: list[Path] = []
    real = api.check

    def counting(path: Path, **kwargs: Any) -> api.CheckReport:
        calls.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(api, "check", counting)
    return calls


def _outputs(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_a_forced_rebuild_of_unchanged_inputs_is_answered_from_the_plan(
    tmp_path: Path, checks: list[Path]
) -> None:
    product_dir = tmp_path / "product"
    shutil.copytree(EXAMPLE, product_dir)
    product = product_dir / "product.yaml"
    build_product(product, tmp_path / "a", formats=("md", "usdm"))
    assert len(checks) == 1
    result = build_product(product, tmp_path / "b", formats=("md", "usdm"), force=True)
    assert len(checks) == 1  # nothing was checked or rendered again
    assert not result.skipped
    assert _outputs(tmp_path / "a") == _outputs(tmp_path / "b")
    # the warnings of the checks are reported again, from the plan
    assert [p.code for p in result.notes] == [
        p.code for p in build_product(product, tmp_path / "c", formats=("md",)).notes
    ]
    assert result.notes


@pytest.mark.parametrize(
    "edit",
    ["cmc.yaml", "lots.csv", "history/product-v1.0.yaml", "product.yaml"],
)
def test_any_changed_input_is_checked_and_rendered_again(
    tmp_path: Path, checks: list[Path], edit: str
) -> None:
    product_dir = tmp_path / "product"
    shutil.copytree(EXAMPLE, product_dir)
    product = product_dir / "product.yaml"
    build_product(product, tmp_path / "out", formats=("md",))
    target = product_dir / edit
    target.write_bytes(target.read_bytes() + b"\n")  # same content, other bytes
    build_product(product, tmp_path / "out", formats=("md",), force=True)
    assert len(checks) == 2


def test_a_clean_build_is_not_answered_by_the_plan_of_a_draft(
    tmp_path: Path, checks: list[Path]
) -> None:
    product = EXAMPLE / "product.yaml"
    build_product(product, tmp_path / "draft", formats=("md",))
    build_product(product, tmp_path / "clean", formats=("md",), clean=True)
    assert len(checks) == 2
    draft = (tmp_path / "draft" / "protocol.md").read_text("utf-8")
    clean = (tmp_path / "clean" / "protocol.md").read_text("utf-8")
    assert "{.review}" in draft and "{.review}" not in clean


PROBE = """
import json, sys
from pathlib import Path
from generator.build import build_product
build_product(Path(sys.argv[1]), Path(sys.argv[2]), formats=("md",), force=True)
heavy = {"jinja2", "numpy", "generator.resolve", "generator.render", "generator.models"}
print(json.dumps(sorted(m for m in sys.modules if m in heavy or m.split(".")[0] in heavy)))
"""


def test_a_build_from_the_plan_imports_neither_models_nor_renderer(tmp_path: Path) -> None:
    env = {**os.environ, "PROTOCMC_CACHE_DIR": str(tmp_path / "cache")}
    args = [sys.executable, "-c", PROBE, str(EXAMPLE / "product.yaml"), str(tmp_path / "out")]
    first, second = (
        json.loads(
            subprocess.run(args, env=env, check=True, capture_output=True, text=True)
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(2)
    )
    assert "generator.resolve" in first and "jinja2" in first
    assert second == []


def test_an_edit_of_the_amendment_does_not_render_the_previous_version_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The redline's previous draft is cached by what it reads (the previous version, its
    framework, the sponsor's templates), not by the current version."""
    from generator import plan

    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PROTOCMC_NO_CACHE", raising=False)
    drawn: list[str] = []
    real = plan._render_clean

    def counting(previous: Any) -> str:
        drawn.append(previous.product.title_page.version)
        return real(previous)

    monkeypatch.setattr(plan, "_render_clean", counting)
    product_dir = tmp_path / "product"
    shutil.copytree(EXAMPLE, product_dir)
    product = product_dir / "product.yaml"
    first = plan.plan(product, clean=False, since=None, word=True)
    text = product.read_text("utf-8")
    text = text.replace("inpatient_days: 10", "inpatient_days: 9", 1).replace(
        "changes:\n", "changes:\n  - about: monitoring-logistics\n    rationale: Shorter.\n", 1
    )
    product.write_text(text, "utf-8")
    second = plan.plan(product, clean=False, since=None, word=True)
    assert drawn == ["1.0"]  # rendered once, for the first plan
    assert first.redline is not None and second.redline is not None
    assert first.redline[0] == second.redline[0]
    assert first.redline[1] != second.redline[1]


def test_a_template_override_added_to_the_sponsor_folder_is_seen(
    tmp_path: Path, checks: list[Path]
) -> None:
    """A new file in a folder the build searched (not in the list of files it read) is a
    change: the plan also hashes the folders' file names."""
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    product_dir = tmp_path / "product"
    shutil.copytree(fixtures / "minimal", product_dir)
    product = product_dir / "product.yaml"
    product.write_text(product.read_text("utf-8") + "templates: templates\n", "utf-8")
    (product_dir / "templates").mkdir()
    build_product(product, tmp_path / "out", formats=("md",))
    shutil.copytree(
        fixtures / "sponsor-override" / "templates", product_dir / "templates", dirs_exist_ok=True
    )
    build_product(product, tmp_path / "out", formats=("md",), force=True)
    assert len(checks) == 2
    text = (tmp_path / "out" / "protocol.md").read_text("utf-8")
    assert "added by the sponsor's template override" in text


def test_a_markdown_build_neither_makes_nor_checks_the_usdm_json(
    tmp_path: Path, checks: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator import documents

    exports: list[str] = []
    real = documents.usdm

    def counting(kind: Any, *args: Any, **kwargs: Any) -> Any:
        exports.append(kind.name)
        return real(kind, *args, **kwargs)

    monkeypatch.setattr(documents, "usdm", counting)
    product = EXAMPLE / "product.yaml"
    build_product(product, tmp_path / "md", formats=("md",))
    assert exports == [] and len(checks) == 1
    assert not (tmp_path / "md" / "protocol.usdm.json").exists()
    # a plan made without the USDM JSON does not answer a build that writes it
    build_product(product, tmp_path / "usdm", formats=("usdm",), force=True)
    assert len(checks) == 2 and "protocol" in exports
    usdm = (tmp_path / "usdm" / "protocol.usdm.json").read_bytes()
    # ... and the plan made then answers the next one, with the same JSON
    build_product(product, tmp_path / "again", formats=("md", "usdm"), force=True)
    assert len(checks) == 2
    assert (tmp_path / "again" / "protocol.usdm.json").read_bytes() == usdm
