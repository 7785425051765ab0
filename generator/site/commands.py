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

from generator.problems import Problem, ProblemsError, ProtocmcError, UsageError, sorted_problems
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

    docs = workdir / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    settings = product_site_config(site_name(product), str(docs), str(product.resolve()))
    config = workdir / "mkdocs.yml"
    # JSON is YAML: no quoting rules to get wrong for names with colons or quotes
    config.write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return config


def site_name(product: Path) -> str:
    """The product's short title, else its product name; its folder's name when the file does
    not load (the build then reports why). Cached by the file's content, so an unchanged
    product is named without loading the models."""
    import hashlib

    from generator.cache import cached

    def name() -> str:
        from generator import api

        try:
            _doc, model = api.load_product(product)
        except ProtocmcError:
            return product.resolve().parent.name
        return (model.title_page.short_title or "").strip() or model.product.name

    try:
        digest = hashlib.sha256(product.read_bytes()).hexdigest()
    except OSError:
        return name()
    return cached("site-name", f"{product.resolve()}\0{digest}", name)


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
    """Live preview: rebuild on every change to the docs, product files, framework or templates.

    MkDocs' own `serve` stops when the first build fails, and after a failed rebuild its
    server holds every request until a build succeeds: the browser hangs. Here a failed build
    replaces the site with one page that lists the problems (file:line:col, code, message,
    hint); it reloads itself, and the site is back as soon as a saved change builds.
    """
    import shutil
    from urllib.parse import urlsplit

    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.exceptions import MkDocsException
    from mkdocs.livereload import LiveReloadServer

    log = logging.getLogger("mkdocs.protocmc")
    with site_config(target) as config_file, _mkdocs_logging(verbose=True):
        site_dir = tempfile.mkdtemp(prefix="protocmc-serve-")

        def get_config() -> MkDocsConfig:
            return load_config(
                config_file=str(config_file), site_dir=site_dir, dev_addr=dev_addr, strict=strict
            )

        try:
            try:
                config = get_config()
            except MkDocsException as exc:
                raise SiteBuildError(str(exc)) from None
            config.plugins.on_startup(command="serve", dirty=False)
            host, port = config.dev_addr
            mount = urlsplit(config.site_url or "/").path
            mount = ("/" + mount.lstrip("/")).rstrip("/") + "/"
            serve_url = f"http://{host}:{port}{mount}"
            config.site_url = serve_url

            def builder(cfg: MkDocsConfig | None = None) -> None:
                try:
                    if cfg is None:
                        cfg = get_config()
                        cfg.site_url = serve_url
                    build(cfg, serve_url=serve_url)
                except Exception as exc:  # any failed build: show it, never leave requests waiting
                    write_error_site(Path(site_dir), exc)
                    log.error(
                        "the site could not be built; the browser shows the problems until "
                        "a saved change fixes them"
                    )

            server = LiveReloadServer(
                builder=builder, host=host, port=port, root=site_dir, mount_path=mount
            )

            def error_page(code: int) -> bytes | None:
                page = Path(site_dir) / f"{code}.html"
                return page.read_bytes() if code in (404, 500) and page.is_file() else None

            server.error_handler = error_page
            try:
                builder(config)
                server.watch(config.docs_dir)
                if config.config_file_path:
                    server.watch(config.config_file_path)
                server = config.plugins.on_serve(server, config=config, builder=builder)
                for item in config.watch:
                    server.watch(item)
                try:
                    server.serve()  # type: ignore[no-untyped-call]
                except KeyboardInterrupt:
                    log.info("Shutting down...")
                finally:
                    server.shutdown()
            finally:
                config.plugins.on_shutdown()
        finally:
            shutil.rmtree(site_dir, ignore_errors=True)


def build_failure(exc: BaseException) -> tuple[list[Problem], str]:
    """The located problems behind a failed build, else its one-line message.

    The protocmc plugin turns a product's ProblemsError into a PluginError and MkDocs turns
    that into an Abort; the problems (with their hints) are still on the exception chain.
    """
    from mkdocs.exceptions import BuildError

    message = ""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, ProblemsError):
            return sorted_problems(node.problems), ""
        if isinstance(node, BuildError) and not message:
            message = str(node)
        node = node.__cause__ or node.__context__
    return [], message or f"{type(exc).__name__}: {exc}"


def error_page_html(problems: list[Problem], message: str) -> str:
    """A self-contained page listing the problems; everything from the inputs is escaped."""
    from html import escape

    items: list[str] = []
    for p in problems:
        where = f"<code>{escape(str(p.location))}</code> " if p.location else ""
        hint = f'<br><span class="hint">hint: {escape(p.hint)}</span>' if p.hint else ""
        items.append(
            f'<li>{where}<strong class="{escape(p.severity.value)}">{escape(p.code)}</strong>: '
            f"{escape(p.message)}{hint}</li>"
        )
    body = "<ul>\n" + "\n".join(items) + "\n</ul>" if items else f"<pre>{escape(message)}</pre>"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="2">
<title>protocmc: the site could not be built</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1a1a1a; background: #fff; }}
li {{ margin-bottom: 0.75rem; }}
.error {{ color: #b00020; }} .warning {{ color: #8a5a00; }} .hint {{ color: #444; }}
pre {{ white-space: pre-wrap; }}
@media (prefers-color-scheme: dark) {{
  body {{ color: #e8e8e8; background: #121212; }} .hint {{ color: #bbb; }}
  .error {{ color: #ff8a80; }} .warning {{ color: #ffd180; }}
}}
</style>
</head>
<body>
<main>
<h1>The site could not be built</h1>
<p>protocmc found the problems below. Fix them and save: this page reloads by itself and
shows the site again once it builds.</p>
{body}
</main>
</body>
</html>
"""


def write_error_site(site_dir: Path, exc: BaseException) -> None:
    """Replace whatever the last build left with the error page, at / and for every other path."""
    import shutil

    problems, message = build_failure(exc)
    page = error_page_html(problems, message)
    for child in site_dir.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    for name in ("index.html", "404.html", "500.html"):
        (site_dir / name).write_text(page, encoding="utf-8")
