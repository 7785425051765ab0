"""`protocmc site` and `protocmc serve`: build or preview a site with the protocmc plugin.

The target is a sponsor repository (a folder with mkdocs.yml), or a product file (or a folder
holding only product.yaml): then a minimal mkdocs.yml is generated in a temporary folder that
publishes that product's drafts, tailoring register and the framework it pins.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

from generator.problems import ProtocmcError, UsageError
from generator.site.config import product_site_config

CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")


class SiteBuildError(ProtocmcError):
    """MkDocs reported errors (or warnings, in strict mode)."""

    exit_code = 1


def find_config(target: Path) -> Path | None:
    """The target's own mkdocs.yml: the file itself, or one in the folder."""
    if target.is_file() and target.name in CONFIG_NAMES:
        return target
    if target.is_dir():
        for name in CONFIG_NAMES:
            if (target / name).is_file():
                return target / name
    return None


def product_config(product: Path, workdir: Path) -> Path:
    """Write a minimal mkdocs.yml (and an empty docs folder) for a lone product file.

    The site is named after the product (its short title, else its name), not its folder.
    """
    import json

    from generator import api

    docs = workdir / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    try:
        _doc, model = api.load_product(product)
        tp = model.title_page
        name = (tp.short_title or "").strip() or model.product.name
    except ProtocmcError:
        name = product.resolve().parent.name  # the build reports the problems
    settings = product_site_config(name, str(docs), str(product.resolve()))
    config = workdir / "mkdocs.yml"
    # JSON is YAML: no quoting rules to get wrong for names with colons or quotes
    config.write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return config


@contextlib.contextmanager
def site_config(target: Path) -> Iterator[Path]:
    """The mkdocs.yml to use for `target`, generated in a temporary folder when needed."""
    if not target.exists():
        raise UsageError(f"no such file or folder: {target}")
    own = find_config(target)
    if own is not None:
        yield own
        return
    product = target / "product.yaml" if target.is_dir() else target
    if not product.is_file():
        raise UsageError(f"{target} holds neither mkdocs.yml nor product.yaml")
    with tempfile.TemporaryDirectory(prefix="protocmc-site-") as tmp:
        yield product_config(product, Path(tmp))


@contextlib.contextmanager
def _mkdocs_logging(verbose: bool) -> Iterator[None]:
    logger = logging.getLogger("mkdocs")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def build_site(target: Path, output: Path, *, strict: bool = True, verbose: bool = False) -> Path:
    """Build the site for a repository or product file into `output`; return `output`."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    with site_config(target) as config_file, _mkdocs_logging(verbose):
        try:
            cfg = load_config(
                config_file=str(config_file), site_dir=str(output.resolve()), strict=strict
            )
            cfg.plugins.on_startup(command="build", dirty=False)
            try:
                build(cfg)
            finally:
                cfg.plugins.on_shutdown()
        except MkDocsException as exc:
            raise SiteBuildError(str(exc)) from None
    return output


def export_site_docs(target: Path, output: Path) -> Path:
    """Write the site as plain MkDocs sources (no plugin needed) into `output`."""
    from mkdocs.exceptions import MkDocsException

    from generator.site.export import export_docs

    with site_config(target) as config_file, _mkdocs_logging(verbose=False):
        try:
            return export_docs(config_file, output)
        except MkDocsException as exc:
            raise SiteBuildError(str(exc)) from None


def serve_site(target: Path, *, dev_addr: str = "127.0.0.1:8000", strict: bool = False) -> None:
    """Live preview: rebuild on every change to the docs, product files, framework or templates."""
    from mkdocs.commands.serve import serve
    from mkdocs.exceptions import MkDocsException

    with site_config(target) as config_file, _mkdocs_logging(verbose=True):
        try:
            serve(config_file=str(config_file), dev_addr=dev_addr, strict=strict)
        except MkDocsException as exc:
            raise SiteBuildError(str(exc)) from None
