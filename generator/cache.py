"""A per-user cache of compiled templates and computed tables, so repeat builds start fast.

The cache only ever holds what protocmc itself computed from inputs named in the key, so a
stale or missing entry costs time, never correctness. `PROTOCMC_NO_CACHE=1` turns it off;
`PROTOCMC_CACHE_DIR` moves it (default: $XDG_CACHE_HOME/protocmc or ~/.cache/protocmc).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from generator import __version__
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


def cached(kind: str, key: str, compute: Callable[[], T]) -> T:
    """`compute()`, memoised on disk under `kind` by a key that names all its inputs."""
    root = cache_dir()
    if root is None:
        return compute()
    digest = hashlib.sha256(f"{__version__}\n{kind}\n{key}".encode()).hexdigest()
    path = root / kind / f"{digest}.pickle"
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)  # type: ignore[no-any-return]
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        pass
    value = compute()
    # a read-only home is fine: we just compute next time too
    with contextlib.suppress(OSError):
        atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return value


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
