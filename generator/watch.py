"""`protocmc build --watch`: build, then rebuild on every saved change to the inputs.

The watching process never builds itself: every build runs in a process forked from it.
Before the first build it imports the pipeline, makes the product's validators and checks the
product once, nothing written, which loads the shipped data every build reads (issue 17: a
fresh `protocmc build` spends most of a one-line edit's rebuild on that). A rebuild so starts
warm, and with none of an earlier build's reading of a product file. The shipped data's
caches are keyed by path, so a change to a shipped framework or template starts the watcher
again. Where there is no fork (Windows), each build is a fresh `protocmc build` process.

Changes are found by polling every watched file's modification time and size: no thread runs
in the watching process, so forking it is safe, and no extra dependency is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from generator.paths import FRAMEWORKS_DIR, TEMPLATES_DIR

POLL_SECONDS = 0.025
"""How often the files are looked at: a change is picked up within 25 ms. A look at the CD19
example's folder, the frameworks and the templates (87 files) takes ~1 ms: ~4 % of one core
while nothing changes."""

SETTLE_SECONDS = 0.01
"""After a change, the files are looked at once more this much later; a build starts when
nothing changed in between (an editor saving several files, or one file in parts)."""

SKIPPED_NAMES = frozenset({"__pycache__", "node_modules"})
"""Folders never watched (besides hidden ones such as .git, .venv and editors' swap files)."""

Snapshot = dict[str, tuple[int, int]]


def watched_roots(product_path: Path, outdir: Path) -> tuple[list[Path], list[Path]]:
    """(folders to watch, folders to leave out): the product's folder (its product, CMC, lot
    and stability files, its history and template overrides), the shipped frameworks and
    templates; never the output folder, which the builds write."""
    roots = [product_path.resolve().parent, FRAMEWORKS_DIR.resolve(), TEMPLATES_DIR.resolve()]
    unique = [r for n, r in enumerate(roots) if not any(r.is_relative_to(o) for o in roots[:n])]
    return unique, [outdir.resolve()]


MAX_DEPTH = 4
"""Folders below a watched folder that are looked into: enough for a product's history and
template overrides (templates/protocol/...) and for the shipped frameworks and templates."""

MAX_FILES = 5_000
"""Files watched at most: a product file saved in a large folder (a home folder, /dev) must
not have the watcher walk all of it 40 times a second."""


def snapshot(roots: Iterable[Path], skip: Sequence[Path]) -> Snapshot:
    """Every regular file under `roots` (not under `skip`, at most MAX_DEPTH folders down,
    the first MAX_FILES found): (mtime in ns, size) by path."""
    skipped = {str(s) for s in skip}
    found: Snapshot = {}
    stack = [(str(r), 0) for r in roots]
    while stack and len(found) < MAX_FILES:
        folder, depth = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError:  # removed, or unreadable: its files count as gone
            continue
        with entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.name in SKIPPED_NAMES:
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.path not in skipped and depth < MAX_DEPTH:
                            stack.append((entry.path, depth + 1))
                    elif entry.is_file() and len(found) < MAX_FILES:
                        st = entry.stat()
                        found[entry.path] = (st.st_mtime_ns, st.st_size)
                except OSError:  # gone between listing and looking
                    continue
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """The paths added, removed or changed between two snapshots, sorted."""
    return sorted(
        {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)},
    )


def outputs_of(outdir: Path) -> set[str]:
    """The files the last build wrote into `outdir` (its record's outputs): never a change to
    build for, even when the output folder is the product's own."""
    from generator.outfolder import read_record

    record = read_record(outdir)
    folder = outdir.resolve()
    return {str(folder / name) for name in record.outputs} if record is not None else set()


def warm_up(product_path: Path) -> None:
    """Import what every build needs, make the product's validators and load the shipped
    data it reads, once, in the watching process (the forked builds inherit them). The
    shipped data's caches are keyed by path, so a change to a shipped file starts the
    watcher again (`watch`)."""
    from generator import api, build, documents, history, protocol_documents  # noqa: F401
    from generator.analysis import amendments, protocol_tables  # noqa: F401
    from generator.models.framework import Element, Framework
    from generator.models.product import Product

    for model in (Product, Framework, Element):
        model.model_rebuild()
    if (product_path.parent / "cmc.yaml").is_file():
        from generator.cmc import api as cmc_api  # noqa: F401
        from generator.models.cmc import CmcFramework, CmcProduct

        CmcFramework.model_rebuild()
        CmcProduct.model_rebuild()
    _load_shipped(product_path)


def _load_shipped(product_path: Path) -> None:
    """One check of the product, nothing written: it loads the shipped data every build
    reads (the framework, the M11 registry, the amendment wording, the abbreviation and
    spelling lists, the code digest) and makes the draft passes' patterns, so that no build
    has to (about 10 % of a one-line edit's rebuild)."""
    from generator import api

    try:
        api.check(product_path, usdm=False)
    except Exception:  # each build reports its own problems, and ours
        return


def shipped(paths: Iterable[str]) -> bool:
    """Whether any of `paths` is a shipped framework or template file."""
    folders = (FRAMEWORKS_DIR.resolve(), TEMPLATES_DIR.resolve())
    return any(Path(p).is_relative_to(f) for p in paths for f in folders)


def run_forked(build: Callable[[], int]) -> int:
    """`build()` in a child process forked from this one; its exit code."""
    import gc

    sys.stdout.flush()
    sys.stderr.flush()
    # Everything this process holds is the child's to read, not to collect: a frozen heap is
    # not walked by the child's garbage collector, whose walk would also copy every page
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the child: build, then leave without running the parent's clean-up
        code = 3
        try:
            code = build()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status)
        except KeyboardInterrupt:  # Ctrl-C reaches the child too: let it finish, then stop
            os.waitpid(pid, 0)
            raise
        except ChildProcessError:
            return 3


def run_process(argv: Sequence[str]) -> int:
    """A fresh `protocmc` process with `argv` (where fork is missing)."""
    return subprocess.run([sys.executable, "-m", "generator", *argv], check=False).returncode


def watch(
    product_path: Path,
    outdir: Path,
    *,
    build: Callable[[bool], int],
    argv: Sequence[str],
    say: Callable[[str], None],
    poll: float = POLL_SECONDS,
) -> int:
    """Build (`build(True)`: the first build), then rebuild (`build(False)`) after every
    change to the watched files, until Ctrl-C (exit 0) or a usage error in the first build
    (its exit code, 2). `argv` is the command line of a build, for systems without fork."""
    forking = hasattr(os, "fork")

    def one(first: bool) -> int:
        if not forking:
            return run_process(argv if first else [a for a in argv if a != "--force"])
        return run_forked(lambda: build(first))

    roots, skip = watched_roots(product_path, outdir)
    try:
        if forking:
            warm_up(product_path)
        before = snapshot(roots, skip)
        code = one(True)
        if code == 2:
            return code
        say(_watching(roots))
        if len(before) >= MAX_FILES:
            say(
                f"only the first {MAX_FILES:,} files are watched: keep the product in a folder "
                "of its own"
            )
        ours = outputs_of(outdir)
        while True:
            time.sleep(poll)
            after = snapshot(roots, skip)
            changed = [p for p in changes(before, after) if p not in ours]
            if not changed:
                before = after
                continue
            after = _settled(roots, skip, after)
            if forking and shipped(changes(before, after)):
                say(f"{_names(changed, roots)} changed; starting again")
                sys.stdout.flush()
                sys.stderr.flush()
                os.execv(sys.executable, sys.orig_argv)  # nothing of theirs stays cached
            before = after
            say(f"{_names(changed, roots)} changed; rebuilding")
            start = time.perf_counter()
            code = one(False)
            seconds = time.perf_counter() - start
            ours = outputs_of(outdir)
            outcome = "rebuilt" if code == 0 else "not built (see above)"
            say(f"{outcome} in {seconds:.2f} s; watching (Ctrl-C stops)")
    except KeyboardInterrupt:
        say("stopped watching")
        return 0


def _settled(roots: Sequence[Path], skip: Sequence[Path], seen: Snapshot) -> Snapshot:
    """The files once they stop changing (an editor saving several files, or writing one in
    parts): a build never reads a half-saved file when it can wait a moment."""
    for _ in range(50):
        time.sleep(SETTLE_SECONDS)
        again = snapshot(roots, skip)
        if again == seen:
            return again
        seen = again
    return seen


def _names(paths: Sequence[str], roots: Sequence[Path]) -> str:
    shown = []
    for p in paths[:3]:
        path = Path(p)
        root = next((r for r in roots if path.is_relative_to(r)), None)
        shown.append(str(path.relative_to(root.parent)) if root is not None else p)
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    return ", ".join(shown) + more


def _watching(roots: Sequence[Path]) -> str:
    return "watching " + ", ".join(str(r) for r in roots) + " for changes (Ctrl-C stops)"
