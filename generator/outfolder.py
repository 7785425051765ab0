"""A build's output folder, replaced as one transaction.

    OUTDIR/<outputs>                the documents and figures a build writes
    OUTDIR/.protocmc-build.json     the build record: what the last build read and wrote
    OUTDIR/.protocmc-work/lock      locked (flock) while a build replaces its outputs
    OUTDIR/.protocmc-work/stage-*/  a running build's staged outputs, removed when it ends

A build writes every output into its staging folder first, then marks the record "writing"
(naming every file it may touch), moves the outputs into place, removes the files the previous
build wrote and this one does not, and only then writes the complete record with the hash of
each output. A kill at any moment leaves either the previous complete record, whose hashes
still match, or a "writing" record, which no build accepts as current.

Nothing is deleted unless a record names it as an output (or it is a staging folder in the
private work folder, which only builds holding the lock create), and nothing is overwritten
that is an input of the build or a file no record names.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from generator.problems import UsageError

STAMP = ".protocmc-build.json"
WORK = ".protocmc-work"
LOCK = "lock"
STAGE_PREFIX = "stage-"
LOCK_TIMEOUT_ENV = "PROTOCMC_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 60.0
"""Seconds a build waits for another build to finish writing into the same folder."""
_RESERVED = {STAMP, WORK}


@dataclass(frozen=True)
class Record:
    """The build record (`.protocmc-build.json`) as read from an output folder."""

    complete: bool
    fingerprint: str | None = None
    inputs: tuple[str, ...] = ()
    outputs: Mapping[str, str | None] = field(default_factory=dict)
    """Output name (relative, '/'-separated) → sha256 of what was written (None while writing)."""

    @property
    def owned(self) -> set[str]:
        """Names protocmc wrote (or was about to write) here: the only files it may replace."""
        return set(self.outputs)


def safe_name(name: str) -> bool:
    """A relative '/'-path below the folder, outside protocmc's own bookkeeping names."""
    path = PurePosixPath(name)
    return (
        bool(name)
        and not path.is_absolute()
        and "\\" not in name
        and all(part not in ("", ".", "..") for part in name.split("/"))
        and path.parts[0] not in _RESERVED
    )


def read_record(outdir: Path) -> Record | None:
    """The record in `outdir`, or None when there is none (or it is not one of ours)."""
    try:
        data = json.loads((outdir / STAMP).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("outputs"), dict):
        return None
    outputs = {
        name: digest if isinstance(digest, str) else None
        for name, digest in data["outputs"].items()
        if isinstance(name, str) and safe_name(name)
    }
    inputs = data.get("inputs", [])
    fingerprint = data.get("fingerprint")
    # records written before the "state" key existed were always complete
    complete = data.get("state", "complete") == "complete" and isinstance(fingerprint, str)
    return Record(
        complete=complete,
        fingerprint=fingerprint if isinstance(fingerprint, str) else None,
        inputs=tuple(p for p in inputs if isinstance(p, str)) if isinstance(inputs, list) else (),
        outputs=outputs,
    )


def verified_outputs(outdir: Path, record: Record | None, fingerprint: str) -> list[Path] | None:
    """The outputs of a complete record for `fingerprint` whose hashes all still match."""
    if record is None or not record.complete or record.fingerprint != fingerprint:
        return None
    files: list[Path] = []
    for name, digest in record.outputs.items():
        target = outdir / name
        try:
            if digest is None or hashlib.sha256(target.read_bytes()).hexdigest() != digest:
                return None
        except OSError:
            return None
        files.append(target)
    return files


# --------------------------------------------------------------------------- refusals


def check_folder(outdir: Path, protected: Mapping[Path, str]) -> None:
    """Refuse an output folder that is a file, or lies inside one of the `protected` folders."""
    if outdir.exists() or outdir.is_symlink():
        if not outdir.is_dir():
            kind = "a file" if outdir.is_file() else "not a folder"
            raise UsageError(f"output folder '{outdir}' is {kind}; give a folder")
    else:
        for parent in outdir.absolute().parents:
            if parent.exists():
                if not parent.is_dir():
                    raise UsageError(
                        f"output folder '{outdir}' cannot be created: '{parent}' is a file; "
                        "give a folder"
                    )
                break
    real = outdir.resolve()
    for folder, what in protected.items():
        if real.is_relative_to(folder.resolve()):
            raise UsageError(
                f"output folder '{outdir}' is inside {what} ('{folder}'); give a folder outside it"
            )


def check_targets(
    outdir: Path, names: Iterable[str], record: Record | None, inputs: Iterable[Path]
) -> None:
    """Refuse outputs that would overwrite an input, or a file no build record names."""
    owned = record.owned if record is not None else set()
    read = {Path(p).resolve(): Path(p) for p in inputs}
    for name in [*names, STAMP]:
        target = outdir / name
        source = read.get(target.resolve())
        if source is not None:
            raise UsageError(
                f"output '{target}' would overwrite '{source}', an input of this build; "
                "give another output folder"
            )
        if name == STAMP:
            continue
        parts = PurePosixPath(name).parts
        for depth in range(1, len(parts)):
            folder = outdir.joinpath(*parts[:depth])
            if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
                raise UsageError(
                    f"'{folder}' is in the way: protocmc writes a folder of that name; "
                    "move it or give another output folder"
                )
        if target.is_dir() and not target.is_symlink():
            raise UsageError(
                f"'{target}' is a folder where protocmc writes a file; "
                "move it or give another output folder"
            )
        if (target.exists() or target.is_symlink()) and name not in owned:
            # `record` may predate a build that wrote this file since; a build names its
            # outputs in the record before it writes them, so the record read now does
            current = read_record(outdir)
            if current is None or name not in current.owned:
                raise UsageError(
                    f"'{target}' was not written by protocmc (no build record names it); "
                    "move it or give another output folder"
                )
            owned = current.owned


# --------------------------------------------------------------------------- the lock


def lock_timeout() -> float:
    value = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    try:
        return max(0.0, float(value)) if value else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


@contextlib.contextmanager
def folder_lock(
    outdir: Path, *, timeout: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """Hold `OUTDIR/.protocmc-work/lock`; yields the work folder.

    A second build waits up to `timeout` seconds (telling `on_wait` once), then stops with a
    usage error. The lock file stays (deleting a lock file others may be waiting on is a race);
    the kernel releases the lock when the process ends, however it ends.
    """
    work = outdir / WORK
    if work.is_symlink():
        raise UsageError(f"'{work}' is a link; protocmc keeps its lock there: remove the link")
    work.mkdir(parents=True, exist_ok=True)
    fd = os.open(work / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            holder = _holder(fd)
            if time.monotonic() >= deadline:
                raise UsageError(
                    f"output folder '{outdir}' is in use by another protocmc build "
                    f"({holder}) for more than {timeout:g} s; try again when it has finished"
                )
            if not told and on_wait is not None:
                on_wait(f"waiting for another protocmc build ({holder}) writing into '{outdir}'…")
                told = True
            time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield work
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    return f"process {pid}" if pid.isdigit() else "another process"


# --------------------------------------------------------------------------- the transaction


def replace_outputs(
    outdir: Path,
    outputs: Mapping[str, bytes],
    *,
    fingerprint: str,
    inputs: list[Path],
    timeout: float,
    on_wait: Callable[[str], None] | None = None,
) -> list[Path]:
    """Replace the previous build's outputs in `outdir` by `outputs`, as one transaction."""
    bad = [name for name in outputs if not safe_name(name)]
    if bad:
        raise ValueError(f"not an output name: {bad[0]!r}")
    try:
        return _replace(outdir, outputs, fingerprint, inputs, timeout, on_wait)
    except UsageError:
        raise
    except OSError as exc:
        where = f" ('{exc.filename}')" if exc.filename else ""
        raise UsageError(
            f"cannot write into output folder '{outdir}'{where}: {exc.strerror or exc}; "
            "the previous outputs are kept and the next build rebuilds"
        ) from exc


def _replace(
    outdir: Path,
    outputs: Mapping[str, bytes],
    fingerprint: str,
    inputs: list[Path],
    timeout: float,
    on_wait: Callable[[str], None] | None,
) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    with folder_lock(outdir, timeout=timeout, on_wait=on_wait) as work:
        _remove_dead_stages(work)
        previous = read_record(outdir)
        # checked again under the lock: another build may have changed the folder meanwhile
        check_targets(outdir, outputs, previous, inputs)
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=work))
        # an output whose file already holds exactly its bytes is left alone: a one-line
        # protocol edit rewrote (and fsynced) every figure (issue 17)
        changed = [name for name, data in outputs.items() if not _holds(outdir / name, data)]
        try:
            for name in changed:
                _write_new(stage / name, outputs[name])
            owned = (previous.owned if previous is not None else set()) | set(outputs)
            writing = {"state": "writing", "outputs": dict.fromkeys(sorted(owned))}
            _write_record(outdir, stage, writing)
            written: list[Path] = []
            for name in outputs:
                target = outdir / name
                if name in changed:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(stage / name, target)
                written.append(target)
            if previous is not None:
                _remove_outputs(outdir, sorted(previous.owned - set(outputs)), inputs)
            complete = {
                "state": "complete",
                "fingerprint": fingerprint,
                "inputs": [str(p) for p in inputs],
                "outputs": {
                    name: hashlib.sha256(data).hexdigest() for name, data in sorted(outputs.items())
                },
            }
            _write_record(outdir, stage, complete)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return written


def _remove_dead_stages(work: Path) -> None:
    """Staging folders of killed builds (only a build holding the lock creates them)."""
    for entry in work.iterdir():
        if entry.name.startswith(STAGE_PREFIX) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _holds(path: Path, data: bytes) -> bool:
    """`path` is a regular file (not a link) whose content is `data`."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode) or path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _write_new(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _write_record(outdir: Path, stage: Path, data: Mapping[str, object]) -> None:
    tmp = stage / STAMP
    _write_new(tmp, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
    os.replace(tmp, outdir / STAMP)
    _fsync_dir(outdir)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_outputs(outdir: Path, names: list[str], inputs: list[Path]) -> None:
    """Delete files a previous build wrote and this one does not (e.g. after `--format md`)."""
    root = outdir.resolve()
    read = {p.resolve() for p in inputs}
    for name in names:
        target = outdir / name
        parent = PurePosixPath(name).parent
        # never through a symlinked subfolder, which would reach outside the output folder
        if target.parent.resolve() != root.joinpath(*parent.parts):
            continue
        if target.resolve() in read or target.is_dir():
            continue
        target.unlink(missing_ok=True)
        for folder in PurePosixPath(name).parents:
            if folder == PurePosixPath("."):
                break
            with contextlib.suppress(OSError):  # not empty: a file protocmc did not write
                (outdir / folder).rmdir()
