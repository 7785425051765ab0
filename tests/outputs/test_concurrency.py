"""Builds into one output folder at the same time: real `protocmc build` processes.

Whatever order they finish in, the folder ends as one complete set that its build record
describes, module3.docx keeps every figure, and the next build finds it up to date.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from generator import outfolder
from tests.outputs.helpers import (
    PROTOCMC,
    WORK,
    assert_consistent,
    copy_example,
    docx_media,
    env,
    one_error_line,
    snapshot,
)

Reference = tuple[Path, dict[str, bytes]]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """A CMC product (with figures) and its outputs, built alone into a fresh folder."""
    root = tmp_path_factory.mktemp("concurrent")
    product = copy_example(root / "product")
    out = root / "reference"
    subprocess.run(
        [PROTOCMC, "build", str(product), "-o", str(out)],
        env=env(),
        check=True,
        capture_output=True,
    )
    return product, snapshot(out)


def _build(product: Path, out: Path, *more: str) -> list[str]:
    return [PROTOCMC, "build", str(product), "-o", str(out), *more]


def _assert_whole(out: Path, product: Path, expected: dict[str, bytes]) -> None:
    data = assert_consistent(out)
    assert snapshot(out) == expected
    figures = [n for n in data["outputs"] if n.startswith("figures/") and n.endswith(".png")]
    assert len(figures) == 20  # 11 lot plots + 6 comparability plots (PC-01) + 3 stability plots
    assert len(docx_media(out / "module3.docx")) == len(figures)
    again = subprocess.run(_build(product, out), env=env(), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout and "wrote" not in again.stdout


@pytest.mark.slow
def test_a_build_finishing_inside_another_keeps_its_figures(
    reference: Reference, tmp_path: Path
) -> None:
    """B builds and cleans up while A converts to Word (A paused there, so the order is
    certain); A's figures must survive B, and A's complete set must end up on disk."""
    product, expected = reference
    out = tmp_path / "out"
    first = subprocess.Popen(
        _build(product, out, "--force"),
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert first.stderr is not None
    try:
        for line in first.stderr:
            if b"converting" in line:
                break
        else:
            pytest.fail("the first build never reached the Word conversion")
        first.send_signal(signal.SIGSTOP)
        second = subprocess.run(
            _build(product, out, "--format", "md", "--force"),
            env=env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        first.send_signal(signal.SIGCONT)
    _, rest = first.communicate(timeout=300)
    assert second.returncode == 0, second.stderr
    assert first.returncode == 0, rest.decode()
    _assert_whole(out, product, expected)


@pytest.mark.slow
def test_several_builds_at_once_leave_one_complete_set(
    reference: Reference, tmp_path: Path
) -> None:
    product, expected = reference
    out = tmp_path / "out"
    procs = [
        subprocess.Popen(
            _build(product, out, "--force"),
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    for proc in procs:
        _, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr.decode()
    _assert_whole(out, product, expected)


def test_a_build_waits_while_another_holds_the_folder(
    minimal_product: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with outfolder.folder_lock(out, timeout=0):
        proc = subprocess.Popen(
            _build(minimal_product, out, "--format", "md"),
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stderr is not None
        first_line = proc.stderr.readline().decode()
        # it is waiting, and has written nothing yet
        assert "waiting for another protocmc build" in first_line, first_line
        assert str(out) in first_line
        assert proc.poll() is None
        assert snapshot(out) == {}
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr.decode()
    assert f"wrote {out / 'protocol.md'}" in stdout.decode()
    assert_consistent(out)


def test_a_build_gives_up_on_a_folder_held_too_long(minimal_product: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    built = subprocess.run(
        _build(minimal_product, out, "--format", "md"), env=env(), capture_output=True
    )
    assert built.returncode == 0
    before = snapshot(out)
    text = minimal_product.read_text("utf-8").replace("Test Lymphoma", "Test Leukaemia")
    minimal_product.write_text(text, "utf-8")
    with outfolder.folder_lock(out, timeout=0):
        result = subprocess.run(
            _build(minimal_product, out, "--format", "md"),
            env=env(PROTOCMC_LOCK_TIMEOUT="0"),
            capture_output=True,
            text=True,
        )
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert f"output folder '{out}' is in use by another protocmc build" in line
    assert snapshot(out) == before
    assert [p.name for p in (out / WORK).iterdir()] == ["lock"]
    assert_consistent(out)


def test_a_file_another_build_wrote_since_the_record_was_read_is_not_refused(
    tmp_path: Path,
) -> None:
    """Two first builds into one new folder: the second read "no record", then the first
    wrote its record and protocol.md. A build names its outputs in its record before it
    writes them, so the file is checked against the record as it is now, not as read."""
    out = tmp_path / "out"
    out.mkdir()
    stale = outfolder.read_record(out)
    assert stale is None
    (out / outfolder.STAMP).write_text(
        '{"state": "writing", "outputs": {"protocol.md": null}}', "utf-8"
    )
    (out / "protocol.md").write_text("the other build's\n", "utf-8")
    outfolder.check_targets(out, ["protocol.md"], stale, [])  # no UsageError

    (out / "mine.md").write_text("the writer's own file\n", "utf-8")
    with pytest.raises(outfolder.UsageError, match="not written by protocmc"):
        outfolder.check_targets(out, ["mine.md"], stale, [])
