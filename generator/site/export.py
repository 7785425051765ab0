"""A generator-neutral copy of a site: a plain docs folder and a mkdocs.yml without the plugin.

`protocmc site TARGET --docs OUT` runs the plugin's configuration step once, then writes

    OUT/mkdocs.yml   the site's settings with the navigation spelled out, the protocmc plugin
                     replaced by Material's offline plugin, and the assets the pages use;
    OUT/docs/        the hand-written pages, every generated page (Markdown), figure, Word
                     file, stylesheet and the vendored search shim.

`mkdocs build -f OUT/mkdocs.yml` (no protocmc installed) then builds the same pages, and so can
any builder that reads mkdocs.yml. The copy is a snapshot: rerun the command after changes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from generator.problems import UsageError
from generator.writes import atomic_write_bytes, atomic_write_text

EXPORT_NOTE = (
    "# Written by `protocmc site --docs`: the generated site as plain MkDocs sources.\n"
    "# Build it with `mkdocs build -f mkdocs.yml` (the protocmc plugin is not needed).\n"
    "# Regenerate it rather than editing the generated pages.\n"
)


def _raw_config(config_file: Path) -> dict[str, Any]:
    from mkdocs.utils.yaml import yaml_load

    with config_file.open("rb") as handle:
        data = yaml_load(handle)
    return dict(data or {})


def _without_protocmc(plugins: Any) -> list[Any]:
    if isinstance(plugins, dict):
        plugins = [{k: v} if v else k for k, v in plugins.items()]
    out: list[Any] = []
    for entry in plugins or []:
        name = entry if isinstance(entry, str) else next(iter(entry))
        if name.split("/")[-1] in ("protocmc", "offline"):
            continue
        out.append(entry)
    return [*out, "offline"]


def _plain(value: Any) -> Any:
    """Config values as YAML-safe plain data."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def export_docs(config_file: Path, out: Path) -> Path:
    """Write the plain MkDocs sources of the site `config_file` describes into `out`."""
    from mkdocs.config import load_config

    from generator.site.plugin import ProtocmcPlugin

    out = out.resolve()
    _check_target(out)
    cfg = load_config(config_file=str(config_file))
    docs_src = Path(cfg.docs_dir).resolve()
    if out == docs_src or docs_src.is_relative_to(out) or out.is_relative_to(docs_src):
        raise UsageError(f"the output folder {out} overlaps the docs folder {docs_src}")
    cfg.plugins.on_startup(command="build", dirty=False)
    try:
        cfg = cfg.plugins.on_config(cfg)
        plugin = cfg.plugins["protocmc"]
        assert isinstance(plugin, ProtocmcPlugin)
    except (KeyError, AssertionError):
        raise UsageError(f"{config_file} does not use the protocmc plugin") from None
    finally:
        cfg.plugins.on_shutdown()

    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        _write(work, docs_src, plugin.pages, cfg, config_file)
        if out.exists():
            shutil.rmtree(out)
        os.replace(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return out


def _check_target(out: Path) -> None:
    """Only an empty folder or an earlier copy is replaced: never a folder of other files."""
    if not out.exists():
        return
    if not out.is_dir():
        raise UsageError(f"{out} is a file; give a folder for the site sources")
    if not any(out.iterdir()):
        return
    config = out / "mkdocs.yml"
    try:
        ours = config.read_text("utf-8").startswith(EXPORT_NOTE.split("\n", 1)[0])
    except OSError:
        ours = False
    if not ours:
        raise UsageError(
            f"{out} already holds other files; give an empty or new folder "
            "(an earlier `protocmc site --docs` copy is replaced)"
        )


def _write(out: Path, docs_src: Path, pages: list[Any], cfg: Any, config_file: Path) -> None:
    docs = out / "docs"
    shutil.copytree(docs_src, docs)
    for page in pages:
        target = docs / page.src_uri
        if isinstance(page.content, bytes):
            atomic_write_bytes(target, page.content)
        else:
            atomic_write_text(target, page.content)

    raw = _raw_config(config_file)
    settings: dict[str, Any] = {
        "site_name": cfg.site_name,
        **({"site_description": cfg.site_description} if cfg.site_description else {}),
        "docs_dir": "docs",
        "site_dir": "site-build",
        "use_directory_urls": False,
        **({"strict": raw["strict"]} if "strict" in raw else {}),
        "theme": raw.get("theme", {"name": "material"}),
        "plugins": _without_protocmc(raw.get("plugins", ["search"])),
        "markdown_extensions": _extensions(cfg),
        "extra_css": [str(s) for s in cfg.extra_css],
        "extra_javascript": [str(s) for s in cfg.extra_javascript],
        "extra": _plain(dict(cfg.extra)),
        "nav": _plain(cfg.nav),
    }
    if isinstance(settings["theme"], dict) and not settings["theme"].get("palette"):
        settings["theme"]["palette"] = _plain(cfg.theme.get("palette"))
    if "validation" in raw:
        settings["validation"] = raw["validation"]
    atomic_write_text(out / "mkdocs.yml", EXPORT_NOTE + _yaml(_plain(settings)))


def _yaml(data: dict[str, Any]) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: keys keep their order
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.allow_unicode = True
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def _extensions(cfg: Any) -> list[Any]:
    out: list[Any] = []
    for name in cfg.markdown_extensions:
        if not isinstance(name, str):
            continue
        options = cfg.mdx_configs.get(name)
        out.append({name: _plain(options)} if options else name)
    return out
