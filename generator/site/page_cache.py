"""A site's generated pages, cached per user by the content of every file they come from.

Generating the pages checks and renders every product, converts its drafts to HTML and Word
and renders the framework pages: most of what `protocmc site` costs beyond MkDocs. When no
input changed, the pages are unpickled instead, without importing the models, the renderer or
the CMC stage (`SitePage` lives in the light `generator.site.options`).

The key names the site options (product paths resolved), the working folder, SOURCE_DATE_EPOCH
and the pandoc in use; the cache itself adds protocmc's code, templates and shipped frameworks
(`generator.cache.code_digest`). The entry holds the list of files the pages came from (each
product file and everything its build reads) and a stamp of their contents, checked on every
use: an edited lots.csv or a template added to a sponsor's folder regenerates the pages.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from generator import cache
from generator.paths import FRAMEWORKS_DIR, TEMPLATES_DIR
from generator.problems import ProtocmcError
from generator.site.options import SiteInputs, SiteOptions, SitePage

KIND = "site-pages"


def site_pages(options: SiteOptions) -> list[SitePage]:
    """The pages of `generator.site.pages.generate_pages`, from the cache when no input changed.
    Raises `ProblemsError` when the inputs have errors (a site with errors is never stored)."""
    key = _key(options)
    if key is not None:
        entry = cache.load(KIND, key)
        if isinstance(entry, tuple) and len(entry) == 3:
            stamp, inputs, pages = entry
            if isinstance(inputs, SiteInputs) and stamp == _stamp(inputs):
                return list(pages)
    from generator.site.pages import generate_site

    site = generate_site(options)
    if key is not None:
        cache.store(KIND, key, (_stamp(site.inputs), site.inputs, site.pages))
    return site.pages


def _key(options: SiteOptions) -> str | None:
    if cache.cache_dir() is None:
        return None
    from generator.export.pandoc import pandoc_signature

    try:
        signature = pandoc_signature()  # drafts to HTML and Word
    except ProtocmcError:
        return None  # the generation reports it
    products = [str(p.resolve()) for p in options.products]
    examples = [str(p.resolve()) for p in options.examples]
    return (
        f"products={products}\0examples={examples}\0framework_pages={options.framework_pages}\0"
        f"frameworks={options.frameworks}\0home={options.home}\0title={options.title}\0"
        f"downloads={options.downloads}\0cwd={os.getcwd()}\0"
        f"epoch={os.environ.get('SOURCE_DATE_EPOCH')}\0pandoc={signature}"
    )


def _shipped(path: Path) -> bool:
    """protocmc's own templates and frameworks: part of every key already (code_digest)."""
    return path.is_relative_to(TEMPLATES_DIR) or path.is_relative_to(FRAMEWORKS_DIR)


def _stamp(inputs: SiteInputs) -> str:
    """A hash of every input file's content and of the file names in the searched folders."""
    digest = hashlib.sha256()
    for path in inputs.files:
        if _shipped(path):
            continue
        digest.update(f"{path}\0".encode())
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"<missing>")
    for folder in inputs.folders:
        if _shipped(folder):
            continue
        digest.update(f"{folder}\0".encode())
        if folder.is_dir():
            for name in sorted(p for p in folder.rglob("*") if p.is_file()):
                digest.update(f"{name.relative_to(folder)}\0".encode())
    return digest.hexdigest()
