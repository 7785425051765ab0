"""The per-user cache and the build stamp can never answer for code or data that changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator import cache
from generator.paths import FRAMEWORKS_DIR, SCHEMAS_DIR, TEMPLATES_DIR
from generator.problems import ProblemsError

PACKAGE = Path(cache.__file__).resolve().parent


def test_cached_recomputes_when_the_code_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("PROTOCMC_NO_CACHE", raising=False)
    calls: list[str] = []

    def compute(label: str) -> str:
        calls.append(label)
        return label

    monkeypatch.setattr(cache, "code_digest", lambda: "code-1")
    assert cache.cached("kind", "same key", lambda: compute("first")) == "first"
    assert cache.cached("kind", "same key", lambda: compute("again")) == "first"  # a hit
    monkeypatch.setattr(cache, "code_digest", lambda: "code-2")
    assert cache.cached("kind", "same key", lambda: compute("edited")) == "edited"
    assert calls == ["first", "edited"]


def test_code_digest_follows_every_template_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    monkeypatch.setattr(cache, "TEMPLATES_DIR", templates)
    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path / "cache"))
    cache.code_digest.cache_clear()
    before = cache.code_digest()
    cache.code_digest.cache_clear()
    assert cache.code_digest() == before  # remembered under the files' signature
    template = templates / "protocol" / "protocol.md.j2"
    template.write_text(template.read_text("utf-8") + "\n", "utf-8")
    cache.code_digest.cache_clear()
    edited = cache.code_digest()
    cache.code_digest.cache_clear()
    assert edited != before


def test_editing_a_shipped_template_changes_the_next_build(
    tmp_path: Path, minimal_product: Path
) -> None:
    """A copy of protocmc (package, templates, frameworks) builds a product, a template is
    edited, and the next build (same per-user cache, no --force) prints the edit."""
    copy = tmp_path / "protocmc"
    shutil.copytree(PACKAGE, copy / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in (TEMPLATES_DIR, FRAMEWORKS_DIR, SCHEMAS_DIR):
        shutil.copytree(folder, copy / folder.name)
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),
        "PROTOCMC_CACHE_DIR": str(tmp_path / "cache"),
    }
    out = tmp_path / "out"
    build = [sys.executable, "-m", "generator", "build", str(minimal_product), "-o", str(out)]
    build += ["--format", "md"]
    # cwd: `python -m` puts the working folder first on sys.path; it must not be the checkout
    subprocess.run(build, env=env, check=True, capture_output=True, cwd=tmp_path)
    assert "Edited closing line" not in (out / "protocol.md").read_text("utf-8")
    template = copy / "templates" / "protocol" / "protocol.md.j2"
    template.write_text(template.read_text("utf-8") + "\nEdited closing line.\n", "utf-8")
    result = subprocess.run(
        build, env=env, check=True, capture_output=True, text=True, cwd=tmp_path
    )
    assert "Edited closing line." in (out / "protocol.md").read_text("utf-8"), result.stdout


def test_usdm_narrative_html_runs_pandoc_once_per_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.export import usdm_narrative

    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path))
    real = usdm_narrative._run_pandoc_html
    runs: list[str] = []

    def counting(path: str, markdown: str) -> str:
        runs.append(markdown)
        return real(path, markdown)

    monkeypatch.setattr(usdm_narrative, "_run_pandoc_html", counting)
    first = usdm_narrative.pandoc_html("# Title {#m11-1}\n\nSome *text*.\n")
    again = usdm_narrative.pandoc_html("# Title {#m11-1}\n\nSome *text*.\n")
    other = usdm_narrative.pandoc_html("Other text.\n")
    assert first == again and "<em>text</em>" in first
    assert "Other text." in other
    assert len(runs) == 2


def test_a_yaml_text_is_parsed_once_and_each_caller_gets_its_own_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator import load

    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(load, "_PARSED", {})
    real = load._parse
    parsed: list[str] = []

    def counting(text: str, display: str, path: Path | None) -> load.LoadedDocument:
        parsed.append(display)
        return real(text, display, path)

    monkeypatch.setattr(load, "_parse", counting)
    text = "title: A trial\nitems:\n  - one\n  - two\n"
    first = load.parse_yaml(text, display="a.yaml")
    first.data["items"].append("changed by a caller")
    second = load.parse_yaml(text, display="a.yaml")
    assert second.data == {"title": "A trial", "items": ["one", "two"]}
    assert second.location(("items", 1)) == first.location(("items", 1))
    monkeypatch.setattr(load, "_PARSED", {})  # a new process: the per-user cache answers
    assert load.parse_yaml(text, display="a.yaml").data == second.data
    load.parse_yaml(text, display="b.yaml")  # another file: its own locations
    assert parsed == ["a.yaml", "b.yaml"]
    with pytest.raises(ProblemsError):
        load.parse_yaml("title: [unclosed\n", display="bad.yaml")
