"""The generator-neutral copy: plain MkDocs sources that build the same site without the plugin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator.site.commands import export_site_docs

REPO = Path(__file__).resolve().parents[2]
_ARTICLE = re.compile(r"<article[^>]*>(.*?)</article>", re.S)


def _articles(site: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for page in sorted(site.rglob("*.html")):
        match = _ARTICLE.search(page.read_text("utf-8"))
        if match:
            out[page.relative_to(site).as_posix()] = match.group(1)
    return out


@pytest.mark.slow
def test_plain_mkdocs_builds_the_same_pages(tmp_path: Path, built_site: Path) -> None:
    sources = export_site_docs(REPO, tmp_path / "sources")
    from mkdocs.utils.yaml import yaml_load

    with (sources / "mkdocs.yml").open("rb") as handle:
        config = yaml_load(handle)
    names = [p if isinstance(p, str) else next(iter(p)) for p in config["plugins"]]
    assert "protocmc" not in names and "offline" in names
    assert (sources / "docs" / "examples" / "cd19-cart-lbcl" / "protocol.md").is_file()
    assert (sources / "docs" / "examples" / "cd19-cart-lbcl" / "protocol.docx").is_file()
    assert (sources / "docs" / "assets" / "vendor" / "iframe-worker" / "LICENSE").is_file()
    out = tmp_path / "plain-build"
    # a separate process that never imports the plugin: mkdocs as a sponsor without protocmc runs it
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(sources / "mkdocs.yml"),
            "-d",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "protocmc" not in result.stderr
    plain, plugin = _articles(out), _articles(built_site)
    assert len(plain) == len(plugin) > 40
    assert sorted(plain) == sorted(plugin)
    different = [page for page in plugin if plain[page] != plugin[page]]
    assert different == []
    assert (out / "search" / "search_index.js").is_file()
    assert (out / "examples" / "cd19-cart-lbcl" / "protocol.docx").is_file()


def test_export_never_replaces_a_folder_of_other_files(tmp_path: Path) -> None:
    from generator.problems import UsageError

    target = tmp_path / "mine"
    target.mkdir()
    (target / "keep.txt").write_text("mine", "utf-8")
    with pytest.raises(UsageError, match="already holds other files"):
        export_site_docs(REPO / "examples" / "cd19-cart-lbcl" / "product.yaml", target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
