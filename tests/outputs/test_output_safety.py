"""The output folder: a build replaces only what protocmc wrote, and refuses everything else.

Each test is a case a reviewer found losing or overwriting a writer's data: files deleted by
pattern, inputs overwritten by outputs, output folders inside protocmc's own files, `-o` naming
a file, and stale or mixed outputs left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import outfolder
from generator.build import _unchanged_since_stamp, build_product
from generator.paths import FRAMEWORKS_DIR, TEMPLATES_DIR
from tests.conftest import FIXTURES
from tests.outputs.helpers import (
    STAMP,
    WORK,
    assert_consistent,
    copy_example,
    one_error_line,
    record,
    snapshot,
)

Run = Callable[..., Any]


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under `folder` (folders as None), by '/'-path."""
    return {
        p.relative_to(folder).as_posix(): (None if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
    }


def test_build_into_the_product_folder_keeps_the_writers_own_files(
    minimal_product: Path, cli: Run
) -> None:
    folder = minimal_product.parent
    (folder / ".notes.tmp").write_text("my notes", "utf-8")
    (folder / "drafts").mkdir()
    (folder / "drafts" / ".chapter2.tmp").write_text("chapter 2", "utf-8")
    (folder / ".protocmc-scratch-mine").mkdir()
    (folder / ".protocmc-scratch-mine" / "keep.txt").write_text("keep", "utf-8")
    (folder / ".protocol.md.1234.tmp").write_text("looks like ours, is not", "utf-8")
    before = tree(folder)

    for extra in ((), ("--force",)):
        result = cli("build", minimal_product, "-o", folder, "--format", "md", *extra)
        assert result.exit_code == 0, result.output

    after = tree(folder)
    assert {k: v for k, v in after.items() if k in before} == before
    new = sorted(k for k in after if k not in before)
    assert new == [STAMP, WORK, f"{WORK}/lock", "protocol.md"]


@pytest.mark.parametrize("name", ["protocol.md", STAMP])
def test_product_file_named_like_an_output_is_refused(name: str, tmp_path: Path, cli: Run) -> None:
    folder = tmp_path / "product"
    folder.mkdir()
    product = folder / name
    shutil.copy(FIXTURES / "minimal" / "product.yaml", product)
    before = tree(folder)

    result = cli("build", product, "-o", folder, "--format", "md")

    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert f"'{product}'" in line and "an input of this build" in line
    assert tree(folder) == before


@pytest.mark.parametrize("kind", ["file", "folder", "link to the product"])
def test_a_file_protocmc_did_not_write_is_not_overwritten(
    kind: str, minimal_product: Path, tmp_path: Path, cli: Run
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "protocol.md"
    if kind == "file":
        mine.write_text("# My own protocol notes\n", "utf-8")
    elif kind == "folder":
        mine.mkdir()
        (mine / "notes.txt").write_text("notes", "utf-8")
    else:
        mine.symlink_to(minimal_product)
    before, product_before = tree(out), minimal_product.read_bytes()

    result = cli("build", minimal_product, "-o", out, "--format", "md")

    assert result.exit_code == 2, result.output
    assert "protocol.md" in one_error_line(result.stderr)
    assert tree(out) == before
    assert minimal_product.read_bytes() == product_before


def test_a_file_where_the_figures_folder_goes_is_refused(tmp_path: Path, cli: Run) -> None:
    product = copy_example(tmp_path / "product")
    out = tmp_path / "out"
    out.mkdir()
    (out / "figures").write_text("not a folder", "utf-8")

    result = cli("build", product, "-o", out, "--format", "md")

    assert result.exit_code == 2, result.output
    assert "figures" in one_error_line(result.stderr)
    assert tree(out) == {"figures": b"not a folder"}


@pytest.mark.parametrize("which", ["cmc", "lots"])
def test_cmc_inputs_named_like_outputs_are_refused(which: str, tmp_path: Path, cli: Run) -> None:
    product = copy_example(tmp_path / "product")
    folder = product.parent
    if which == "cmc":
        (folder / "cmc.yaml").rename(folder / "module3.md")
        text = product.read_text("utf-8").replace("cmc: cmc.yaml", "cmc: module3.md")
        product.write_text(text, "utf-8")
        name = "module3.md"
    else:
        (folder / "lots.csv").rename(folder / "cmc-readiness.md")
        cmc = folder / "cmc.yaml"
        text = cmc.read_text("utf-8").replace("file: lots.csv", "file: cmc-readiness.md")
        cmc.write_text(text, "utf-8")
        name = "cmc-readiness.md"
    assert cli("check", product).exit_code == 0
    before = tree(folder)

    result = cli("build", product, "-o", folder, "--format", "md")

    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert name in line and "an input of this build" in line
    assert tree(folder) == before


@pytest.fixture
def unused_name() -> Iterator[str]:
    """A folder name that does not exist in the shipped folders; removed afterwards if made."""
    name = f"test-output-{uuid.uuid4().hex[:8]}"
    yield name
    for root in (FRAMEWORKS_DIR, TEMPLATES_DIR, TEMPLATES_DIR / "protocol"):
        shutil.rmtree(root / name, ignore_errors=True)


@pytest.mark.parametrize(
    "where", ["shipped frameworks", "shipped templates", "product templates", "below them"]
)
def test_output_folder_inside_protected_folders_is_refused(
    where: str, unused_name: str, minimal_product: Path, cli: Run
) -> None:
    folder = minimal_product.parent
    shutil.copytree(FIXTURES / "sponsor-override" / "templates", folder / "templates")
    text = minimal_product.read_text("utf-8") + "templates: templates\n"
    minimal_product.write_text(text, "utf-8")
    out = {
        "shipped frameworks": FRAMEWORKS_DIR / unused_name,
        "shipped templates": TEMPLATES_DIR / "protocol" / unused_name,
        "product templates": folder / "templates",
        "below them": folder / "templates" / "protocol",
    }[where]
    shipped_before = {p: tree(p) for p in (FRAMEWORKS_DIR, TEMPLATES_DIR)}
    before = tree(folder)

    result = cli("build", minimal_product, "-o", out, "--format", "md")

    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert str(out) in line and "give a folder outside it" in line
    assert not (FRAMEWORKS_DIR / unused_name).exists()
    assert not (TEMPLATES_DIR / "protocol" / unused_name).exists()
    assert tree(folder) == before
    assert {p: tree(p) for p in (FRAMEWORKS_DIR, TEMPLATES_DIR)} == shipped_before


@pytest.mark.parametrize("kind", ["file", "/dev/null", "below a file"])
def test_output_folder_that_is_a_file_is_a_usage_error(
    kind: str, minimal_product: Path, tmp_path: Path, cli: Run
) -> None:
    existing = tmp_path / "x"
    existing.write_text("keep me", "utf-8")
    out = {"file": existing, "/dev/null": Path("/dev/null"), "below a file": existing / "sub"}[kind]

    result = cli("build", minimal_product, "-o", out, "--format", "md")

    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert f"output folder '{out}'" in line and line.endswith("give a folder")
    assert existing.read_text("utf-8") == "keep me"
    assert result.stdout == ""


def test_a_build_removes_only_the_outputs_it_no_longer_writes(tmp_path: Path, cli: Run) -> None:
    product = copy_example(tmp_path / "product")
    out = tmp_path / "out"
    assert cli("build", product, "-o", out, "--format", "md").exit_code == 0
    cmc_outputs = set(record(out)["outputs"]) - {"protocol.md"}
    assert "module3.md" in cmc_outputs and "figures/vcn.png" in cmc_outputs
    (out / "figures" / "my-sketch.png").write_bytes(b"mine")
    (out / "notes.md").write_text("mine", "utf-8")

    # the product drops its CMC data: the CMC documents and figures are no longer outputs
    text = product.read_text("utf-8").replace("cmc: cmc.yaml\n", "")
    product.write_text(text, "utf-8")
    result = cli("build", product, "-o", out, "--format", "md")

    assert result.exit_code == 0, result.output
    assert sorted(snapshot(out)) == ["figures/my-sketch.png", "notes.md", "protocol.md"]
    assert (out / "figures" / "my-sketch.png").read_bytes() == b"mine"
    assert list(record(out)["outputs"]) == ["protocol.md"]


def test_markdown_build_removes_the_word_file_of_the_previous_build(
    minimal_product: Path, tmp_path: Path, cli: Run
) -> None:
    out = tmp_path / "out"
    assert cli("build", minimal_product, "-o", out).exit_code == 0
    assert (out / "protocol.docx").exists()
    text = minimal_product.read_text("utf-8").replace("Test Lymphoma", "Test Leukaemia")
    minimal_product.write_text(text, "utf-8")

    assert cli("build", minimal_product, "-o", out, "--format", "md").exit_code == 0

    # a protocol.docx from the old title next to the new protocol.md would be a mixed set
    assert sorted(snapshot(out)) == ["protocol.md"]
    assert_consistent(out)


def test_a_build_record_cannot_delete_outside_the_output_folder(
    minimal_product: Path, tmp_path: Path, cli: Run
) -> None:
    out = tmp_path / "out"
    assert cli("build", minimal_product, "-o", out, "--format", "md").exit_code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", "utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "plot.png").write_text("keep", "utf-8")
    (out / "figures").symlink_to(elsewhere)
    data = record(out)
    data["outputs"].update({"../victim.txt": "0" * 64, "figures/plot.png": "0" * 64})
    data["outputs"][str(victim)] = "0" * 64
    (out / STAMP).write_text(json.dumps(data), "utf-8")
    text = minimal_product.read_text("utf-8").replace("Test Lymphoma", "Test Leukaemia")
    minimal_product.write_text(text, "utf-8")

    result = cli("build", minimal_product, "-o", out, "--format", "md")

    assert result.exit_code == 0, result.output
    assert victim.read_text("utf-8") == "keep"
    assert (elsewhere / "plot.png").read_text("utf-8") == "keep"


def test_interrupted_replacement_is_never_taken_as_current(
    minimal_product: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stop the swap after each of its renames; the next build never says 'up to date'
    over what is left, and afterwards the folder is one consistent set."""
    out = tmp_path / "out"
    formats = ("md", "docx")
    base = minimal_product.read_text("utf-8")
    variants = [base, base.replace("Test Lymphoma", "Test Leukaemia")]
    build_product(minimal_product, out, formats=formats)
    real_replace = os.replace
    steps = 4  # the "writing" record, protocol.md, protocol.docx, the complete record
    for stop_at in range(steps):
        # alternate the title, so every build has new inputs and new outputs
        minimal_product.write_text(variants[(stop_at + 1) % 2], "utf-8")
        calls = 0

        def failing_replace(src: Any, dst: Any, stop: int = stop_at) -> None:
            nonlocal calls
            if Path(dst).resolve().is_relative_to(out.resolve()):  # not the cache's writes
                calls += 1
                if calls > stop:
                    raise OSError(28, "No space left on device", str(dst))
            real_replace(src, dst)

        monkeypatch.setattr(outfolder.os, "replace", failing_replace)
        with pytest.raises(outfolder.UsageError, match="next build rebuilds"):
            build_product(minimal_product, out, formats=formats, force=True)
        monkeypatch.setattr(outfolder.os, "replace", real_replace)
        assert calls == stop_at + 1

        data = record(out)
        if stop_at == 0:  # nothing replaced yet: the previous set, still consistent
            assert_consistent(out)
        else:
            assert data["state"] == "writing" and "fingerprint" not in data
        assert _unchanged_since_stamp(out, minimal_product, formats) is None
        again = build_product(minimal_product, out, formats=formats)
        assert not again.skipped
        assert_consistent(out)
        assert build_product(minimal_product, out, formats=formats).skipped
    digests = {n: hashlib.sha256(b).hexdigest() for n, b in snapshot(out).items()}
    assert digests == record(out)["outputs"]


def test_a_rebuild_leaves_the_outputs_that_did_not_change_untouched(tmp_path: Path) -> None:
    """Only changed outputs are written again (a one-line edit used to rewrite and fsync every
    figure); an unchanged output keeps its file, a changed one is replaced whole."""
    product_dir = tmp_path / "product"
    shutil.copytree(FIXTURES.parent.parent / "examples" / "cd19-cart-lbcl", product_dir)
    product = product_dir / "product.yaml"
    out = tmp_path / "out"
    build_product(product, out, formats=("md",))
    before = {p.name: p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    text = product.read_text("utf-8")
    edited = text.replace("after the 14-day interval.", "after the 14-day stagger interval.", 1)
    assert edited != text
    product.write_text(edited, "utf-8")  # a protocol-only edit: the CMC documents stay
    build_product(product, out, formats=("md",))
    after = {p.name: p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    assert after["protocol.md"] != before["protocol.md"]
    assert "14-day stagger interval" in (out / "protocol.md").read_text("utf-8")
    unchanged = [n for n in before if n.endswith(".png") or n == "module3.md"]
    assert len(unchanged) > 10
    assert all(after[n] == before[n] for n in unchanged)
