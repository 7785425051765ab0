"""`protocmc build --watch`: a saved change rebuilds (template overrides included: no build
sees an earlier build's cached reading of a file), a broken save reports its problems and
leaves the outputs as they were, the fixed save builds again, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from generator.paths import FRAMEWORKS_DIR
from generator.watch import changes, snapshot, watched_roots
from tests.core.test_cli import sponsor_product

TIMEOUT = 120.0
ROOT = FRAMEWORKS_DIR.parent
PROTOCMC = [sys.executable, "-m", "generator"]
FROM_CHECKOUT = """
import os, sys
# protocmc from the folder CHECKOUT names, ahead of the installed (or editable) one
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, os.environ["CHECKOUT"])
sys.argv = ["protocmc", *sys.argv[1:]]
from generator.cli import run
run()
"""


class Watcher:
    """`protocmc build PRODUCT -o OUT --format md --watch` in a child process."""

    def __init__(self, product: Path, out: Path, *extra: str, checkout: Path | None = None) -> None:
        command = PROTOCMC if checkout is None else [sys.executable, "-c", FROM_CHECKOUT]
        env = None if checkout is None else {**os.environ, "CHECKOUT": str(checkout)}
        self.proc = subprocess.Popen(
            [*command, "build", str(product), "-o", str(out), "--format", "md", "--watch", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.proc.stderr is not None
        stream = self.proc.stderr
        threading.Thread(target=lambda: [self.lines.put(x) for x in stream], daemon=True).start()

    def wait_for(self, text: str) -> list[str]:
        """The stderr lines up to and including the first one containing `text`."""
        got: list[str] = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                assert self.proc.poll() is None, f"watcher ended: {self.seen}"
                continue
            got.append(line)
            self.seen.append(line)
            if text in line:
                return got
        raise AssertionError(f"no line with {text!r} in {self.seen}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=TIMEOUT)
        time.sleep(0.1)  # the reader thread takes the last lines
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def save(path: Path, text: str) -> None:
    """Write `text` with a modification time that differs from the last save even on a file
    system with coarse timestamps."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, "utf-8")
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 10_000_000, before + 10_000_000))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the forking watcher (Linux, macOS)")
def test_saves_rebuild_a_broken_save_keeps_the_outputs_and_ctrl_c_stops(
    minimal_product: Path, tmp_path: Path
) -> None:
    product = sponsor_product(minimal_product)
    template = product.parent / "templates" / "protocol" / "protocol.md.j2"
    out = tmp_path / "out"
    watcher = Watcher(product, out)
    try:
        watcher.wait_for("watching")
        protocol = out / "protocol.md"
        assert "added by the sponsor's template override" in protocol.read_text("utf-8")

        # a template override edited between builds is read again
        save(template, template.read_text("utf-8").replace("added by", "written by"))
        watcher.wait_for("rebuilt")
        assert "written by the sponsor's template override" in protocol.read_text("utf-8")

        # a broken save: its problem with file and line, outputs left as they were
        good = product.read_text("utf-8")
        built = digest(out)
        save(product, good + "oops: [\n")
        lines = watcher.wait_for("not built")
        assert any("product.yaml:" in line for line in lines), lines
        assert "nothing was written" in "".join(lines)
        assert digest(out) == built

        # the fix builds again
        save(product, good.replace("templates: templates", "templates: templates\n"))
        watcher.wait_for("rebuilt")
        assert "written by the sponsor's template override" in protocol.read_text("utf-8")
    finally:
        code = watcher.stop()
    assert code == 0
    assert any("stopped watching" in line for line in watcher.seen)
    assert not any("Traceback" in line for line in watcher.seen)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the forking watcher (Linux, macOS)")
def test_outputs_written_into_the_product_folder_are_not_changes(minimal_product: Path) -> None:
    folder = minimal_product.parent
    watcher = Watcher(minimal_product, folder)
    try:
        watcher.wait_for("watching")
        assert (folder / "protocol.md").is_file()
        time.sleep(1.0)  # forty looks at the folder: the first build's outputs are not a change
        save(minimal_product, minimal_product.read_text("utf-8") + "# a comment\n")
        lines = watcher.wait_for("rebuilt")
    finally:
        assert watcher.stop() == 0
    changed = [line for line in watcher.seen if "changed; rebuilding" in line]
    assert changed == [line for line in lines if "changed; rebuilding" in line]
    assert len(changed) == 1 and changed[0].startswith("product/product.yaml changed"), changed


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the forking watcher (Linux, macOS)")
def test_a_framework_edit_is_read_again(minimal_product: Path, tmp_path: Path) -> None:
    """The watcher's frameworks are those of its checkout (here a copy, so that the test can
    edit one). The watcher loads the product's framework once (load_framework and the code
    digest are cached per process, by path): a change to a shipped file starts it again, and
    no build uses the framework as it was."""
    checkout = tmp_path / "checkout"
    for name in ("generator", "frameworks", "templates", "schemas"):
        shutil.copytree(ROOT / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "CHANGELOG.md", checkout / "CHANGELOG.md")
    element = checkout / "frameworks" / "early-phase-cell-therapy" / "elements" / "staggering.yaml"
    sentence = "The SRC has reviewed the cumulative safety data"
    assert sentence in element.read_text("utf-8")
    out = tmp_path / "out"
    watcher = Watcher(minimal_product, out, checkout=checkout)
    try:
        assert str(checkout / "frameworks") in watcher.wait_for("watching")[-1]
        protocol = out / "protocol.md"
        assert sentence in protocol.read_text("utf-8")
        save(element, element.read_text("utf-8").replace(sentence, "The SRC has reviewed all"))
        watcher.wait_for("starting again")  # a fresh process: nothing shipped stays cached
        watcher.wait_for("watching")
        text = protocol.read_text("utf-8")
        assert sentence not in text
        assert "The SRC has reviewed all" in text
    finally:
        assert watcher.stop() == 0


def test_watch_refuses_json_output(minimal_product: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *PROTOCMC,
            "build",
            str(minimal_product),
            "-o",
            str(tmp_path),
            "--watch",
            "--output-format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    report = json.loads(done.stdout)  # in JSON mode the error is JSON too
    assert report["exit_code"] == 2
    assert "--watch" in report["error"] and "json" in report["error"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the forking watcher (Linux, macOS)")
def test_a_usage_error_in_the_first_build_stops_the_watch(
    minimal_product: Path, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "out"
    not_a_folder.write_text("a file, not a folder\n", "utf-8")
    done = subprocess.run(
        [*PROTOCMC, "build", str(minimal_product), "-o", str(not_a_folder), "--watch"],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2, done.stderr
    assert "watching" not in done.stderr
    assert not_a_folder.read_text("utf-8") == "a file, not a folder\n"


def test_snapshot_sees_changes_but_not_the_output_folder_or_hidden_files(tmp_path: Path) -> None:
    product = tmp_path / "product.yaml"
    product.write_text("a\n", "utf-8")
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "product-v1.0.yaml").write_text("b\n", "utf-8")
    out = tmp_path / "build"
    out.mkdir()
    roots, skip = watched_roots(product, out)
    assert roots[0] == tmp_path.resolve()
    first = snapshot([tmp_path], skip)
    assert sorted(Path(p).name for p in first) == ["product-v1.0.yaml", "product.yaml"]

    (out / "protocol.md").write_text("built\n", "utf-8")  # the builds' own writes
    (tmp_path / ".product.yaml.swp").write_text("editor\n", "utf-8")
    assert changes(first, snapshot([tmp_path], skip)) == []

    save(product, "a changed\n")
    (tmp_path / "lots.csv").write_text("lot_id\n", "utf-8")
    (tmp_path / "history" / "product-v1.0.yaml").unlink()
    assert [Path(p).name for p in changes(first, snapshot([tmp_path], skip))] == [
        "product-v1.0.yaml",
        "lots.csv",
        "product.yaml",
    ]


def test_a_large_folder_is_watched_only_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A product saved in a big folder (a home folder) must not be walked whole 40 times a
    second: at most MAX_FILES files, MAX_DEPTH folders down."""
    from generator import watch

    deep = tmp_path.joinpath(*(f"d{n}" for n in range(watch.MAX_DEPTH + 1)))
    deep.mkdir(parents=True)
    (deep / "too-deep.yaml").write_text("x\n", "utf-8")
    (deep.parent / "deep-enough.yaml").write_text("x\n", "utf-8")
    names = {Path(p).name for p in snapshot([tmp_path], [])}
    assert names == {"deep-enough.yaml"}

    for n in range(10):
        (tmp_path / f"file-{n}.csv").write_text("x\n", "utf-8")
    monkeypatch.setattr(watch, "MAX_FILES", 4)
    assert len(snapshot([tmp_path], [])) == 4
