"""The previous version of a product file: from a git revision or a path, resolved with the
framework version it pinned. I/O lives here; the comparison is generator/analysis/amendments.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from generator.framework_loader import check_pin, find_framework, load_framework, load_registry
from generator.load import LoadedDocument, load_yaml, parse_yaml
from generator.models.product import Product
from generator.problems import (
    Location,
    Problem,
    ProblemsError,
    Severity,
    UsageError,
    relative_display,
)
from generator.resolve import ResolvedProtocol, resolve_product
from generator.validate import validate

GIT_TIMEOUT_SECONDS = 30


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=GIT_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"--since: git could not be run ({exc})") from None


def read_revision(product_path: Path, revision: str) -> LoadedDocument:
    """The product file as it was at `revision` of its repository (`git show`, no checkout)."""
    folder = product_path.resolve().parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UsageError(f"--since {revision}: {product_path} is not in a git repository")
    if (
        revision.startswith("-")
        or _git(folder, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode
    ):
        raise UsageError(
            f"--since {revision}: unknown revision in the repository of {product_path}"
        )
    rel = product_path.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    shown = _git(folder, "show", f"{revision}:{rel}")
    if shown.returncode != 0:
        raise UsageError(f"--since {revision}: {rel} does not exist in that revision")
    return parse_yaml(shown.stdout, display=f"{revision}:{rel}", path=product_path)


def previous_document(
    product_path: Path, since: str | None, declared: str | None, where: Location
) -> LoadedDocument | None:
    """The previous version's product file: `since` (a path or a git revision) when given,
    else the amendment's `previous_version`; None when neither says."""
    if since is not None:
        candidate = Path(since)
        try:
            exists, regular = candidate.exists(), candidate.is_file()
        except OSError:  # a name too long to be a path (ENAMETOOLONG) is a revision, or nothing
            exists = regular = False
        if regular:
            return load_yaml(candidate, display=relative_display(candidate))
        if exists:  # a FIFO, a device, a folder: never read
            raise UsageError(
                f"--since {since}: not a regular file; give a product file or a git revision"
            )
        return read_revision(product_path, since)
    if declared is None:
        return None
    path = product_path.parent / declared
    if not path.is_file():
        raise ProblemsError(
            [
                Problem(
                    "PH001",
                    f"previous_version names {declared}, which does not exist",
                    where,
                    "give the path of the previous version's product file, relative to this "
                    "file (e.g. history/product-v1.0.yaml)",
                )
            ]
        )
    return load_yaml(path, display=relative_display(path))


def resolve_previous(doc: LoadedDocument) -> ResolvedProtocol:
    """Resolve the previous version against the framework version it pinned."""
    product = validate(doc, Product)
    where = doc.location(("framework",))
    framework = load_framework(find_framework(product.framework, where))
    pinned = check_pin(product.framework, framework, where)
    if pinned:
        raise ProblemsError(
            [
                Problem(
                    "PH002",
                    f"the previous version pins {product.framework}, which this protocmc does "
                    f"not ship (it ships {framework.pin})",
                    where,
                    "compare with a protocmc version that ships both frameworks, or re-pin the "
                    "previous version in a copy after reviewing the framework's changes",
                )
            ]
        )
    resolved, problems = resolve_product(framework, product, doc, load_registry())
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise ProblemsError(errors)
    return resolved
