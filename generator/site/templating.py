"""The site's own Jinja environment: sandboxed, autoescaping, and safe for Markdown too.

Site templates (`templates/site/*.j2`) write Markdown that Python-Markdown turns into HTML, and
values from product files land in it. Every `{{ value }}` is therefore escaped twice over:

- for HTML: `<`, `>`, `&` and quotes become entities (autoescape);
- for Markdown: characters Markdown would read as syntax (`* _ [ ] | \\` and the like, and list
  or heading markers at the start of a line) become numeric entities, and line breaks become
  spaces, so a value is always one run of literal text, in a paragraph, a heading or a table
  cell alike.

Text that *is* Markdown (framework prose, product justifications) never goes through Jinja as
Markdown: pandoc converts it to HTML first (`generator.site.pandoc_html`), and templates receive
that HTML as `Markup`, protected for Markdown in the same way (`md_html`).

Templates receive plain data only: dicts, lists, strings, numbers and `Markup`.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote

from jinja2 import FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from generator import __version__
from generator.cache import jinja_bytecode_dir
from generator.paths import TEMPLATES_DIR

SITE_TEMPLATES = TEMPLATES_DIR / "site"

_ALWAYS = frozenset("\\`*_[]{}|~^!$")
"""Markdown syntax anywhere in a line (and `$`, which math extensions read)."""
_LINE_START = frozenset("#+-=:>")
"""Block syntax at the start of a line: headings, lists, setext rules, definitions, quotes."""
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")
_ORDERED = re.compile(r"^(\s*\d+)([.)])")


def _entity(ch: str) -> str:
    return f"&#{ord(ch)};"


_ALWAYS_ENTITIES = str.maketrans({ch: _entity(ch) for ch in _ALWAYS})


def _protect_text(text: str, at_line_start: bool) -> tuple[str, bool]:
    out: list[str] = []
    for line_no, line in enumerate(text.split("\n")):
        starts = at_line_start if line_no == 0 else True
        if line_no:
            out.append("\n")
        if starts:
            ordered = _ORDERED.match(line)
            if ordered:
                line = ordered.group(1) + _entity(ordered.group(2)) + line[ordered.end() :]
            stripped = line.lstrip(" \t")
            if stripped and stripped[0] in _LINE_START:
                lead = line[: len(line) - len(stripped)]
                line = lead + _entity(stripped[0]) + stripped[1:]
        out.append(line.translate(_ALWAYS_ENTITIES))
    ends_at_line_start = text.endswith("\n")
    return "".join(out), ends_at_line_start


def md_protect(markup: str, *, line_start: bool = True) -> str:
    """HTML whose text Markdown leaves alone: syntax characters in text become entities.

    `markup` is well-formed HTML as pandoc or `html.escape` write it (every `<` in text is
    already `&lt;`); tags and entities pass unchanged. `line_start=False` for text that follows
    other text on its line (a heading's words after its `#`).
    """
    out: list[str] = []
    at_line_start = line_start
    for match in _TAG_OR_TEXT.finditer(markup):
        tag, text = match.groups()
        if tag is not None:
            out.append(tag)
            at_line_start = False
        else:
            protected, at_line_start = _protect_text(text, at_line_start)
            out.append(protected)
    return "".join(out)


def one_line(text: str) -> str:
    return " ".join(text.split())


def md_text(value: Any) -> Markup:
    """A plain value (title, id, lot number) as literal text in Markdown, on one line."""
    if isinstance(value, Markup):
        return value
    text = "" if value is None else str(value)
    return Markup(md_protect(html.escape(one_line(text), quote=True)))


def md_html(value: str) -> Markup:
    """Pandoc's HTML for a Markdown page (blocks keep their lines)."""
    return Markup(md_protect(str(value)))


def md_cell(value: Any) -> Markup:
    """Plain text or pandoc's HTML for one Markdown table cell: one line, `|` as an entity."""
    if isinstance(value, Markup):
        return Markup(md_protect(one_line(str(value))))
    return md_text(value)


def attr(value: Any) -> Markup:
    """A value inside an HTML attribute (`id="…"`)."""
    return Markup(html.escape(one_line(str(value)), quote=True))


def url_part(value: Any) -> Markup:
    """A relative path or a fragment in a link, percent-encoded (slashes kept)."""
    return Markup(quote(str(value), safe="/"))


def yaml_str(value: Any) -> Markup:
    """A front-matter string (JSON strings are YAML). MkDocs themes print titles unescaped,
    so the value is HTML-escaped here."""
    return Markup(json.dumps(html.escape(one_line(str(value)), quote=False), ensure_ascii=False))


def _finalize(value: Any) -> Any:
    return md_text(value)


def site_environment() -> ImmutableSandboxedEnvironment:
    bytecode_dir = jinja_bytecode_dir()
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(SITE_TEMPLATES)),
        bytecode_cache=FileSystemBytecodeCache(str(bytecode_dir)) if bytecode_dir else None,
        undefined=StrictUndefined,
        autoescape=True,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = md_cell
    env.filters["attr"] = attr
    env.filters["url"] = url_part
    env.filters["yaml_str"] = yaml_str
    env.globals["tool_version"] = __version__
    return env


def render(env: ImmutableSandboxedEnvironment, name: str, context: dict[str, Any]) -> str:
    text = env.get_template(name).render(context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
