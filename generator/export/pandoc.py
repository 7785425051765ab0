"""Where pandoc is and which version it is: the part of the Word export every build needs (cache
keys name the pandoc in use), kept apart from the conversion so a build answered from its plan
does not import it."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import subprocess
from pathlib import Path

from generator.problems import ProtocmcError

MIN_PANDOC = (3, 1)


@functools.cache
def pandoc_executable() -> str:
    """The pandoc that pypandoc-binary ships (or PYPANDOC_PANDOC), checked once to be >= 3.1."""
    try:
        path = _locate()
        binary = Path(path).stat()
    except (ImportError, OSError) as exc:
        raise ProtocmcError(
            f"pandoc was not found ({exc}); install the 'pypandoc-binary' package"
        ) from exc
    from generator.cache import cached

    # `pandoc --version` is a process start per build: remembered per binary (path, size,
    # mtime and ctime: a replaced or updated pandoc is probed again)
    key = f"{path} {binary.st_size} {binary.st_mtime_ns} {binary.st_ctime_ns}"
    version = cached("pandoc-version", key, functools.partial(_probe_version, path))
    if version < MIN_PANDOC:
        found = ".".join(map(str, version))
        needed = ".".join(map(str, MIN_PANDOC))
        raise ProtocmcError(
            f"pandoc {found} at {path} is too old: the Word export needs pandoc >= {needed} "
            "(install the 'pypandoc-binary' package, or point PYPANDOC_PANDOC at a newer pandoc)"
        )
    return path


def _locate() -> str:
    """PYPANDOC_PANDOC when set, else the pandoc inside pypandoc-binary, found without importing
    pypandoc (its import and search, which runs every pandoc it finds, cost 120 ms a build);
    pypandoc's own search (the newest pandoc on PATH and in its usual folders) only when the
    package has no pandoc of its own. The bundled pandoc wins over one on PATH: a build depends
    on the pandoc protocmc was installed with, not on the shell it runs from."""
    chosen = os.environ.get("PYPANDOC_PANDOC")
    if chosen:
        return chosen
    spec = importlib.util.find_spec("pypandoc")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(folder, "files", "pandoc.exe" if os.name == "nt" else "pandoc")
        if bundled.is_file():
            return str(bundled)
    import pypandoc

    return str(pypandoc.get_pandoc_path())


def pandoc_signature() -> str:
    """The pandoc in use, for cache keys of what it produced: path, size, mtime, ctime."""
    path = pandoc_executable()
    binary = os.stat(path)
    return f"{path} {binary.st_size} {binary.st_mtime_ns} {binary.st_ctime_ns}"


def _probe_version(path: str) -> tuple[int, ...]:
    try:
        first_line = subprocess.run(
            [path, "--version"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError) as exc:
        raise ProtocmcError(f"could not run pandoc at {path}: {exc}") from exc
    return parse_pandoc_version(first_line)


def parse_pandoc_version(first_line: str) -> tuple[int, ...]:
    """`pandoc 3.9.0.2` -> (3, 9, 0, 2); (0,) when the line has no version."""
    match = re.search(r"(\d+(?:\.\d+)*)", first_line)
    return tuple(int(p) for p in match.group(1).split(".")) if match else (0,)
