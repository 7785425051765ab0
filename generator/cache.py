"""A per-user cache of compiled templates and computed tables, so repeat builds start fast.

The cache only ever holds what protocmc itself computed from inputs named in the key, so a
stale or missing entry costs time, never correctness. `PROTOCMC_NO_CACHE=1` turns it off;
`PROTOCMC_CACHE_DIR` moves it (default: $XDG_CACHE_HOME/protocmc or ~/.cache/protocmc).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from generator import __version__
from generator.paths import FRAMEWORKS_DIR, TEMPLATES_DIR
from generator.writes import atomic_write_bytes

T = TypeVar("T")


def cache_dir() -> Path | None:
    if os.environ.get("PROTOCMC_NO_CACHE") == "1":
        return None
    explicit = os.environ.get("PROTOCMC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "protocmc"


_PACKAGE = Path(__file__).resolve().parent


def _code_files() -> list[tuple[str, os.stat_result, str]]:
    """(name, stat, path) of every generator source, template and framework file, sorted."""
    files = []
    for root, suffix in (
        (str(_PACKAGE), ".py"),
        (str(TEMPLATES_DIR), ""),
        (str(FRAMEWORKS_DIR), ""),
    ):
        base = os.path.basename(root)
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            rel = os.path.relpath(folder, root)
            for name in names:
                if name.endswith(suffix):
                    path = os.path.join(folder, name)
                    label = f"{base}/{name}" if rel == "." else f"{base}/{rel}/{name}"
                    files.append((label.replace(os.sep, "/"), os.stat(path), path))
    files.sort()
    return files


@functools.cache
def code_digest() -> str:
    """A hash of protocmc's own code and shipped data: every generator source file, template
    and framework file (names and bytes). Part of every cache key and of the build stamp, so
    an edited calculator, template or framework can never be answered from an old entry, even
    when the version number did not change (a source checkout, a local fix).

    Hashing 1.5 MB costs ~10 ms, so the digest is remembered (in the cache folder) under the
    files' stat signature; any write to a file changes its ctime, hence the signature."""
    files = _code_files()
    signature = hashlib.sha256(__version__.encode())
    for name, st, _ in files:
        signature.update(
            f"{name} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}\n".encode()
        )
    root = cache_dir()
    memo = root / "code" / signature.hexdigest() if root is not None else None
    if memo is not None:
        with contextlib.suppress(OSError):
            return memo.read_text("ascii").strip()
    digest = hashlib.sha256(__version__.encode())
    for name, _, path in files:
        digest.update(f"\0{name}\0".encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
    value = digest.hexdigest()
    if memo is not None:
        with contextlib.suppress(OSError):
            atomic_write_bytes(memo, value.encode("ascii"))
    return value


def _entry(kind: str, key: str) -> Path | None:
    root = cache_dir()
    if root is None:
        return None
    digest = hashlib.sha256(f"{code_digest()}\n{kind}\n{key}".encode()).hexdigest()
    return root / kind / f"{digest}.pickle"


_MISSING = object()


def load(kind: str, key: str, default: object = None) -> object:
    """The value stored under `kind` and `key`, or `default` (no entry, unreadable entry,
    cache off)."""
    path = _entry(kind, key)
    if path is None:
        return default
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        return default


def has(kind: str, key: str) -> bool:
    """Whether an entry is stored under `kind` and `key` (without reading it)."""
    path = _entry(kind, key)
    return path is not None and path.is_file()


def store(kind: str, key: str, value: object) -> None:
    path = _entry(kind, key)
    # a read-only home is fine: we just compute next time too
    if path is not None:
        with contextlib.suppress(OSError):
            atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def cached(kind: str, key: str, compute: Callable[[], T]) -> T:
    """`compute()`, memoised on disk under `kind` by a key that names all its inputs (and,
    through `code_digest`, the code that computes it)."""
    if cache_dir() is None:
        return compute()
    value = load(kind, key, _MISSING)
    if value is _MISSING:
        value = compute()
        store(kind, key, value)
    return value  # type: ignore[return-value]


def jinja_bytecode_dir() -> Path | None:
    root = cache_dir()
    if root is None:
        return None
    target = root / "jinja" / __version__
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return target
