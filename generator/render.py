"""Render: resolved model + analysis → Markdown, through sandboxed Jinja2 templates only.

Sponsors override single blocks: a file of the same name in the product's `templates:` folder
wins, and may `{% extends "framework/protocol/protocol.md.j2" %}` and call `{{ super() }}`.
Every template, shipped or sponsor's, renders in protocmc's sandbox (generator/sandbox.py)
with StrictUndefined, sees plain data only (generator/plain.py) and is bounded in time, loop
iterations and output size.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemBytecodeCache,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.exceptions import SecurityError

from generator.cache import jinja_bytecode_dir
from generator.paths import TEMPLATES_DIR
from generator.problems import Location, Problem, ProblemsError
from generator.rendered import OpenPoint as OpenPoint
from generator.rendered import RenderedDocument as RenderedDocument
from generator.resolve import format_value
from generator.sandbox import (
    ConfinedLoader,
    RenderLimitError,
    SandboxEnvironment,
    TemplateSourceError,
    render_budget,
    template_helper,
)

INSERTION_RE = re.compile(r"\[\\<(?P<text>.*?)\\>\]\{\.insertion\}")


def make_environment(sponsor_dir: Path | None = None) -> SandboxEnvironment:
    shipped = FileSystemLoader(str(TEMPLATES_DIR))
    loaders: list[BaseLoader] = []
    if sponsor_dir is not None:
        loaders.append(ConfinedLoader(sponsor_dir, sponsor_dir.name))
    loaders += [shipped, PrefixLoader({"framework": shipped})]
    bytecode_dir = jinja_bytecode_dir()
    env = SandboxEnvironment(
        loader=ChoiceLoader(loaders),
        bytecode_cache=FileSystemBytecodeCache(str(bytecode_dir)) if bytecode_dir else None,
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["value"] = format_value
    env.filters["cell"] = table_cell
    env.filters["md_escape"] = md_escape
    env.filters["yaml_string"] = yaml_string
    env.filters["where"] = where
    env.filters["values"] = dict_values
    env.filters["plural"] = plural
    env.filters["times"] = times
    env.filters["sentence"] = sentence
    env.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)
    env.tests["endingwith"] = lambda value, suffix: str(value).endswith(suffix)
    env.globals["insertion"] = insertion
    return env


@template_helper
def insertion(text: str) -> str:
    """An M11-style insertion point `<...>`: visible, styled, and counted by `check --release`."""
    return f"[\\<{text}\\>]{{.insertion}}"


def plural(count: Any, singular: str, many: str | None = None) -> str:
    """`n | plural("participant")` → "1 participant", "3 participants"; the word agrees with
    the number so templates never print "participant(s)"."""
    word = singular if count == 1 else (many or singular + "s")
    return f"{format_value(count)} {word}"


def times(count: Any) -> str:
    """`n | times` → "once", "twice", "3 times"."""
    return {1: "once", 2: "twice"}.get(count, f"{format_value(count)} times")


def sentence(text: str) -> str:
    """Text ending in a full stop (a writer's value may or may not end with one)."""
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def table_cell(value: Any) -> str:
    """A value safe inside a Markdown pipe-table cell."""
    text = format_value(value) if not isinstance(value, str) else value
    return " ".join(text.replace("|", "\\|").split())


_ANGLE = re.compile(r"(?<!\\)([<>])")


def md_escape(text: str) -> str:
    """Text safe inside pandoc Markdown: `<` and `>` escaped, so `<Short title>` or
    `<script>` typed in a YAML value prints as typed and never becomes raw HTML."""
    return _ANGLE.sub(r"\\\1", text)


_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]<>~^$@])")


def md_literal(text: str) -> str:
    """Data (lot ids, lot results) as literal Markdown text: every character pandoc could read
    as markup (emphasis, links, citations, raw HTML) is escaped, so data never becomes markup."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", text)


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (for Markdown front matter): quotes and newlines in a
    value cannot end the string or add metadata fields."""
    return json.dumps(text, ensure_ascii=False)


def where(items: Any, **conditions: Any) -> list[Any]:
    """The dicts of `items` whose keys equal the given values: `items | where(kind="dlt")`."""
    return [i for i in items if all(i.get(k) == v for k, v in conditions.items())]


def dict_values(mapping: dict[str, Any]) -> list[Any]:
    """A dict's values in order (templates cannot call `dict.values()`)."""
    return list(mapping.values())


def render_template(
    env: SandboxEnvironment,
    template_name: str,
    context: dict[str, Any],
    *,
    sponsor_dir: Path | None = None,
) -> RenderedDocument:
    """Render one document; template errors become located problems (file:line)."""
    try:
        with render_budget():
            template = env.get_template(template_name)
            markdown = _render_bounded(template, context)
    except TemplateSourceError as exc:
        raise ProblemsError(
            [
                Problem(
                    "PT007",
                    f"template '{exc.name}' {exc.detail}",
                    Location(exc.filename, exc.lineno, exc.column),
                    "sponsor templates must be UTF-8 text files inside the product's templates "
                    "folder; replace the link with a copy of the file or re-save it as UTF-8",
                )
            ]
        ) from None
    except RenderLimitError as exc:
        where = _traceback_location(exc, sponsor_dir)
        if not where.line:
            where = Location(_template_display(_template_file(env, template_name), sponsor_dir))
        raise ProblemsError(
            [
                Problem(
                    "PT006",
                    f"template stopped: {exc}",
                    where,
                    "templates lay out the product's data; a loop or value this large is a "
                    "mistake in the template",
                )
            ]
        ) from None
    except RecursionError:
        raise ProblemsError(
            [
                Problem(
                    "PT008",
                    "template recursion is too deep (a macro that calls itself without end, or "
                    "a template that extends or includes itself)",
                    Location(_template_display(template_name, sponsor_dir)),
                    "check the macros, {% extends %} and {% include %} tags of the sponsor "
                    "templates",
                )
            ]
        ) from None
    except TemplateSyntaxError as exc:
        raise ProblemsError(
            [
                Problem(
                    "PT001",
                    f"template syntax error: {exc.message}",
                    Location(
                        _template_display(exc.filename or exc.name or template_name, sponsor_dir),
                        exc.lineno or 0,
                        1,
                    ),
                    "check the {% %} and {{ }} tags on this line",
                )
            ]
        ) from None
    except SecurityError as exc:
        raise ProblemsError(
            [
                Problem(
                    "PT003",
                    f"template tried something the sandbox forbids: {exc}",
                    _traceback_location(exc, sponsor_dir),
                    "templates may only read the documented variables; remove the access",
                )
            ]
        ) from None
    except UndefinedError as exc:
        raise ProblemsError(
            [
                Problem(
                    "PT002",
                    f"template uses something undefined: {exc.message}",
                    _traceback_location(exc, sponsor_dir),
                    "check the variable name against the template variables in the README",
                )
            ]
        ) from None
    except TemplateNotFound as exc:
        raise ProblemsError(
            [
                Problem(
                    "PT005",
                    f"template '{exc.name}' not found",
                    _traceback_location(exc, sponsor_dir),
                    "a template may include or extend only files in the product's templates "
                    "folder or the shipped ones (prefix 'framework/'); check the name",
                )
            ]
        ) from None
    except TemplateError as exc:
        raise ProblemsError(
            [
                Problem(
                    "PT004",
                    f"template error: {exc}",
                    _traceback_location(exc, sponsor_dir),
                    "check the template tags and filters on this line",
                )
            ]
        ) from None
    markdown = _tidy(markdown)
    points = [m.group("text") for m in INSERTION_RE.finditer(markdown)]
    return RenderedDocument(template_name, markdown, points)


MAX_OUTPUT_CHARS = 8_000_000
"""Largest rendered document (a full protocol is about 300,000 characters)."""


def _render_bounded(template: Any, context: dict[str, Any]) -> str:
    """Render by streaming, so an endless or enormous output stops at the limit."""
    parts: list[str] = []
    size = 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise RenderLimitError(f"the rendered document passed {MAX_OUTPUT_CHARS:,} characters")
        parts.append(chunk)
    return "".join(parts)


_TABLE_RULE = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def _separate_tables(markdown: str) -> str:
    """A pipe table must start a block: add the blank line a template's tags may have eaten."""
    lines = markdown.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        starts_table = (
            line.startswith("|") and i + 1 < len(lines) and bool(_TABLE_RULE.match(lines[i + 1]))
        )
        if starts_table and out and out[-1].strip() and not out[-1].startswith("|"):
            out.append("")
        out.append(line)
    return "\n".join(out)


_ATX_HEADING = re.compile(r"^#{1,6}(?:\s|$)")


def _separate_headings(markdown: str) -> str:
    """A heading must start a block: add the blank line a template's tags may have eaten (a
    heading line straight after a paragraph or list line would print as text)."""
    out: list[str] = []
    in_code = False
    for line in markdown.split("\n"):
        if line.startswith(("```", "~~~")):
            in_code = not in_code
        if not in_code and _ATX_HEADING.match(line) and out and out[-1].strip():
            out.append("")
        out.append(line)
        if not in_code and _ATX_HEADING.match(line):
            out.append("")
    return "\n".join(out)


def tidy(markdown: str) -> str:
    """Collapse runs of blank lines the block structure leaves behind; one final newline."""
    return _tidy(markdown)


def _tidy(markdown: str) -> str:
    """Collapse runs of blank lines the block structure leaves behind; one final newline."""
    markdown = _separate_headings(markdown)
    markdown = _separate_tables(markdown)
    markdown = re.sub(r"[ \t]+\n", "\n", markdown)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown)
    return markdown.strip() + "\n"


def _template_file(env: SandboxEnvironment, name: str) -> str:
    try:
        return env.get_template(name).filename or name
    except TemplateError:
        return name


def _template_display(filename: str, sponsor_dir: Path | None) -> str:
    path = Path(filename)
    for root in (sponsor_dir, TEMPLATES_DIR):
        if root is not None:
            try:
                rel = path.resolve().relative_to(root.resolve())
            except (ValueError, OSError):
                continue
            return (
                str(Path("templates") / rel)
                if root == TEMPLATES_DIR
                else str(Path(root.name) / rel)
            )
    return filename


def _traceback_location(exc: BaseException, sponsor_dir: Path | None) -> Location:
    """The innermost template frame of the traceback: which template file and line failed."""
    tb = exc.__traceback__
    found: Location | None = None
    while tb is not None:
        code = tb.tb_frame.f_code
        filename = code.co_filename
        if filename.endswith((".j2", ".md", ".jinja")) or "templates" in filename:
            found = Location(_template_display(filename, sponsor_dir), tb.tb_lineno, 1)
        tb = tb.tb_next
    return found or Location("<template>")
