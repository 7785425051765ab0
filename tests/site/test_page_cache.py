"""The site's page cache: an unchanged site is not generated again; any changed input is."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from generator import cache
from generator.site import page_cache
from generator.site import pages as site_pages_module
from generator.site.options import SiteInputs, SiteOptions, SitePage
from generator.site.page_cache import site_pages

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PROTOCMC_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def generations(monkeypatch: pytest.MonkeyPatch) -> list[SiteOptions]:
    """Every real generation of pages (a cache miss) is recorded here."""
    calls: list[SiteOptions] = []
    real = site_pages_module.generate_site

    def spy(options: SiteOptions) -> Any:
        calls.append(options)
        return real(options)

    monkeypatch.setattr(site_pages_module, "generate_site", spy)
    return calls


def _options(product: Path) -> SiteOptions:
    return SiteOptions(products=[product], framework_pages=False, downloads=False)


def _text(pages: list[SitePage]) -> str:
    return "".join(p.content for p in pages if isinstance(p.content, str))


def test_unchanged_site_comes_from_the_cache(
    fresh_cache: Path, generations: list[SiteOptions], minimal_product: Path
) -> None:
    first = site_pages(_options(minimal_product))
    second = site_pages(_options(minimal_product))
    assert len(generations) == 1
    assert second == first


def test_edited_product_is_generated_again(
    fresh_cache: Path, generations: list[SiteOptions], minimal_product: Path
) -> None:
    before = site_pages(_options(minimal_product))
    text = minimal_product.read_text("utf-8")
    assert "Test Lymphoma" in text
    minimal_product.write_text(text.replace("Test Lymphoma", "Edited-title-42"), "utf-8")
    after = site_pages(_options(minimal_product))
    assert len(generations) == 2
    assert "Edited-title-42" in _text(after) and "Edited-title-42" not in _text(before)


def test_other_options_are_another_entry(
    fresh_cache: Path, generations: list[SiteOptions], minimal_product: Path
) -> None:
    site_pages(_options(minimal_product))
    with_home = SiteOptions(
        products=[minimal_product], framework_pages=False, downloads=False, home=True
    )
    pages = site_pages(with_home)
    assert len(generations) == 2
    assert "index.md" in {p.src_uri for p in pages}


def test_cache_off_generates_every_time(
    generations: list[SiteOptions], minimal_product: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROTOCMC_NO_CACHE", "1")
    site_pages(_options(minimal_product))
    site_pages(_options(minimal_product))
    assert len(generations) == 2


def test_stamp_follows_file_contents_and_added_files(tmp_path: Path) -> None:
    data = tmp_path / "lots.csv"
    data.write_text("lot_id\nA\n", "utf-8")
    folder = tmp_path / "templates"
    folder.mkdir()
    inputs = SiteInputs(files=[data], folders=[folder])
    stamp = page_cache._stamp(inputs)
    assert page_cache._stamp(inputs) == stamp
    data.write_text("lot_id\nB\n", "utf-8")
    edited = page_cache._stamp(inputs)
    assert edited != stamp
    (folder / "protocol.md.j2").write_text("override", "utf-8")
    assert page_cache._stamp(inputs) != edited
    data.unlink()
    assert page_cache._stamp(inputs) not in (stamp, edited)


@pytest.mark.slow
def test_a_cmc_product_names_its_data_files_as_inputs() -> None:
    from generator.site.products import load_product

    product = load_product(REPO / "examples" / "cd19-cart-lbcl" / "product.yaml", "example")
    names = {p.name for p in product.inputs.files}
    assert {"product.yaml", "cmc.yaml", "lots.csv"} <= names


def test_serve_rebuild_sees_edited_protocmc_code(
    fresh_cache: Path,
    generations: list[SiteOptions],
    minimal_product: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`protocmc serve` rebuilds in one process: each build reads the code digest afresh, so
    an edited template or framework file is never answered with the pages made before."""
    from mkdocs.config import load_config

    code_file = tmp_path / "template.j2"
    code_file.write_text("one", "utf-8")
    real_files = cache._code_files

    def code_files() -> list[tuple[str, os.stat_result, str]]:
        return [*real_files(), ("templates/x.j2", os.stat(code_file), str(code_file))]

    monkeypatch.setattr(cache, "_code_files", code_files)
    docs = tmp_path / "docs"
    docs.mkdir()
    config_file = tmp_path / "mkdocs.yml"
    config_file.write_text(
        "site_name: t\nplugins:\n  - protocmc:\n"
        f"      products: ['{minimal_product}']\n"
        "      framework_pages: false\n      downloads: false\n",
        "utf-8",
    )
    for edit in ("one", "two-longer"):
        code_file.write_text(edit, "utf-8")
        config = load_config(config_file=str(config_file))
        config.plugins.on_config(config)
    assert len(generations) == 2
    cache.code_digest.cache_clear()


def test_lone_product_site_name_is_cached_by_content(
    fresh_cache: Path, minimal_product: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator import api
    from generator.site.commands import site_name

    assert site_name(minimal_product) == "TEST-1"
    loads: list[Path] = []
    real = api.load_product

    def counting(path: Path) -> Any:
        loads.append(path)
        return real(path)

    monkeypatch.setattr(api, "load_product", counting)
    assert site_name(minimal_product) == "TEST-1"
    assert loads == []
    text = minimal_product.read_text("utf-8").replace("name: TEST-1", "name: TEST-2", 1)
    minimal_product.write_text(text, "utf-8")
    assert site_name(minimal_product) == "TEST-2"
    assert loads == [minimal_product]


def test_theme_templates_compile_once_per_user(fresh_cache: Path) -> None:
    import jinja2

    from generator.site.plugin import ProtocmcPlugin

    env = ProtocmcPlugin().on_env(jinja2.Environment(), config=None, files=None)  # type: ignore[arg-type]
    assert env is not None
    bytecode = env.bytecode_cache
    assert isinstance(bytecode, jinja2.FileSystemBytecodeCache)
    assert Path(bytecode.directory) == cache.jinja_bytecode_dir()
    assert Path(bytecode.directory).is_relative_to(fresh_cache)


def test_site_and_build_share_the_plan(
    fresh_cache: Path, minimal_product: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The product build inside the site is the build's plan: made once, by either."""
    from generator import api, plan
    from generator.site.products import load_product

    checks: list[Path] = []
    real = api.check

    def counting(path: Path, **kwargs: Any) -> Any:
        checks.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(api, "check", counting)
    made = plan.plan(minimal_product, clean=False, since=None, word=False)
    product = load_product(minimal_product, "product")
    assert len(checks) == 1
    assert product.drafts["protocol"].markdown == made.documents["protocol"].markdown
    assert minimal_product.resolve() in product.inputs.files

    other = minimal_product.parent.parent / "other" / "product.yaml"
    other.parent.mkdir()
    other.write_text(minimal_product.read_text("utf-8"), "utf-8")
    load_product(other, "product")
    plan.plan(other, clean=False, since=None, word=False, usdm=False)
    assert len(checks) == 2


def test_each_page_is_rendered_once(minimal_product: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first pass over the pages only collects the texts for pandoc: no template runs."""
    rendered: list[str] = []
    real = site_pages_module.render

    def counting(env: Any, name: str, context: dict[str, Any]) -> str:
        rendered.append(name)
        return real(env, name, context)

    monkeypatch.setattr(site_pages_module, "render", counting)
    pages = site_pages_module.generate_pages(_options(minimal_product))
    markdown = [p for p in pages if isinstance(p.content, str)]
    # one template per Markdown page, and the register entries the protocol page embeds
    assert len(rendered) == len(markdown) + 1
    assert rendered.count("register-entries.md.j2") == 1
