"""The template sandbox: what a template (shipped or a sponsor's) may read, call and spend.

Sponsors' templates are not trusted. Jinja2's `ImmutableSandboxedEnvironment` blocks private
attributes and mutation, but still lets a template call any public method of any object it can
reach — a `pathlib.Path` in the context is enough to read or write files. So this sandbox is
stricter, by allow-list:

- Templates see *plain data* only (dicts, lists, strings, numbers, booleans, None; see
  `generator.plain`). A dict's keys are read with dot or bracket syntax; no method of any data
  object (`dict.items`, `str.format`, `list.append`, …) is reachable.
- The only callables are the template helpers we register (`template_helper`), macros, and
  Jinja's own loop/cycler/joiner/namespace/super objects.
- Rendering is bounded: total loop iterations, size of every string built, integer size in
  arithmetic, integer arguments to filters, recursion depth and wall time. Exceeding a bound
  raises `RenderLimitError`, which the renderer reports as a located problem.
- Sponsor template files are read only from inside their folder (symlinks are resolved and
  refused when they leave it), as UTF-8, with a size cap.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import stat
import time
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, TemplateError, TemplateNotFound, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner, Namespace

MAX_LOOP_ITERATIONS = 2_000_000
"""Loop iterations one render may spend (the shipped protocol template uses a few thousand)."""

MAX_STRING_CHARS = 8_000_000
"""Longest string a template may build (a whole rendered protocol is about 300,000)."""

MAX_INT_BITS = 256
"""Largest integer arithmetic may produce (about 77 decimal digits)."""

MAX_FILTER_INT = 100_000
"""Largest integer argument a filter accepts (widths, counts, batch sizes)."""

MAX_RENDER_SECONDS = 20.0
"""Wall time one render may take; the shipped templates take well under a second."""

MAX_TEMPLATE_BYTES = 1_000_000
"""Largest sponsor template file."""


class RenderLimitError(SecurityError):
    """A template exceeded a resource bound of the sandbox."""


class TemplateSourceError(TemplateError):
    """A sponsor template file that cannot be used (outside the folder, not UTF-8, too big).

    Not a `TemplateNotFound`: the loader chain must stop here, not fall back silently to the
    shipped template of the same name."""

    def __init__(self, name: str, message: str, filename: str, line: int = 0, column: int = 0):
        super().__init__(f"{name} {message}")
        self.name = name
        self.filename = filename
        self.lineno = line
        self.column = column
        self.detail = message


# --------------------------------------------------------------------------- the render budget


@dataclass
class _Budget:
    iterations: int
    deadline: float


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "protocmc_render_budget", default=None
)


class render_budget:
    """Arm the per-render bounds for the code inside the `with` block."""

    def __init__(self, seconds: float = MAX_RENDER_SECONDS) -> None:
        self.seconds = seconds
        self._token: contextvars.Token[_Budget | None] | None = None

    def __enter__(self) -> None:
        budget = _Budget(MAX_LOOP_ITERATIONS, time.monotonic() + self.seconds)
        self._token = _BUDGET.set(budget)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _BUDGET.reset(self._token)


def _spend(n: int) -> None:
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.iterations -= n
    if budget.iterations < 0:
        raise RenderLimitError(
            f"the template ran more than {MAX_LOOP_ITERATIONS:,} loop iterations"
        )
    if time.monotonic() > budget.deadline:
        raise RenderLimitError(f"the template took longer than {MAX_RENDER_SECONDS:g} seconds")


def _check_size(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_STRING_CHARS:
        raise RenderLimitError(
            f"the template built a value of {len(value):,} characters or items "
            f"(limit {MAX_STRING_CHARS:,})"
        )
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise RenderLimitError("the template computed an integer too large to print")
    return value


def _budgeted_iter(iterable: Any) -> Any:
    """Charge a loop's iterations to the render budget (sized iterables up front)."""
    if isinstance(iterable, Undefined):
        return iterable
    try:
        size = len(iterable)
    except TypeError:
        return _counting(iterable)
    _spend(size)
    return iterable


def _counting(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _spend(1)
        yield item


def _safe_range(*args: int) -> range:
    for a in args:
        if not isinstance(a, int) or isinstance(a, bool):
            raise SecurityError("range() takes integers")
    rng = range(*args)
    if len(rng) > MAX_FILTER_INT:
        raise RenderLimitError(f"range() of {len(rng):,} items (limit {MAX_FILTER_INT:,})")
    return rng


# --------------------------------------------------------------------------- code generation


class _BudgetCodeGenerator(CodeGenerator):
    """Charges every `for` loop and every `~` concatenation to the render budget."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("budgeted_iter", lineno=node.lineno),
            [node.iter],
            [],
            None,
            None,
            lineno=node.lineno,
        )
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_value(")
        super().visit_Concat(node, frame)
        self.write(")")


# --------------------------------------------------------------------------- helpers


def template_helper(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a function as callable from templates (the only Python functions that are)."""
    func.__protocmc_helper__ = True  # type: ignore[attr-defined]
    return func


_RUNTIME_ATTRIBUTES: dict[type, frozenset[str] | None] = {
    LoopContext: frozenset(
        {
            "index",
            "index0",
            "revindex",
            "revindex0",
            "first",
            "last",
            "length",
            "depth",
            "depth0",
            "previtem",
            "nextitem",
            "cycle",
            "changed",
        }
    ),
    Cycler: frozenset({"next", "current", "reset"}),
    Namespace: None,  # its attributes are the template's own data
    TemplateModule: None,  # `{% import %}`ed macros and variables
    TemplateReference: None,  # `self.block_name`
    BlockReference: frozenset({"super"}),
}
"""Jinja's own runtime objects and the attributes templates may read on them (None: any
public name)."""

_PLAIN_SCALARS = (str, int, float, bool, type(None))

_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d+)?(?:\.(\d+))?")


class SandboxEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2 sandbox restricted to plain data and registered helpers, with resource bounds."""

    code_generator_class = _BudgetCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "//", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _safe_range
        self.filters["attr"] = self._attr_filter
        for name, func in list(self.filters.items()):
            if name != "attr":
                self.filters[name] = _bounded_filter(func)

    # -- what templates may read ----------------------------------------------------------

    def _runtime_attribute(self, obj: Any, attribute: str) -> tuple[bool, Any]:
        for kind, allowed in _RUNTIME_ATTRIBUTES.items():
            if isinstance(obj, kind):
                if attribute.startswith("_") or (allowed is not None and attribute not in allowed):
                    return True, self.unsafe_undefined(obj, attribute)
                try:
                    return True, getattr(obj, attribute)
                except AttributeError:
                    try:
                        return True, obj[attribute]  # type: ignore[index]
                    except (TypeError, LookupError):
                        return True, self.undefined(obj=obj, name=attribute)
        return False, None

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute.startswith("_"):
            return self.unsafe_undefined(obj, attribute)
        if isinstance(obj, dict):
            try:
                return obj[attribute]
            except (TypeError, KeyError):
                return self.undefined(obj=obj, name=attribute)
        if isinstance(obj, Undefined):
            return super().getattr(obj, attribute)  # raises the undefined error it carries
        handled, value = self._runtime_attribute(obj, attribute)
        if handled:
            return value
        if isinstance(obj, (*_PLAIN_SCALARS, list, tuple)):
            # plain data has no attributes: `x.upper`, `xs.append` are simply undefined
            return self.undefined(obj=obj, name=attribute)
        return self.unsafe_undefined(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, str) and argument.startswith("_"):
            return self.unsafe_undefined(obj, argument)
        if isinstance(obj, dict | list | tuple | str):
            try:
                return obj[argument]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=argument)
        if isinstance(obj, Undefined):
            return super().getitem(obj, argument)
        if isinstance(argument, str):
            handled, value = self._runtime_attribute(obj, argument)
            if handled:
                return value
        return self.unsafe_undefined(obj, str(argument))

    def _attr_filter(self, obj: Any, name: str) -> Any:
        return self.getattr(obj, name)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Everything goes through getattr/getitem above; this is the last line for any path
        # Jinja takes on its own (e.g. str.format wrapping).
        return False

    def is_safe_callable(self, obj: Any) -> bool:
        if getattr(obj, "__protocmc_helper__", False) is True:
            return True
        if isinstance(obj, Macro | BlockReference | Joiner | Cycler):
            return True
        if any(obj is allowed for allowed in (Namespace, Cycler, Joiner, dict, _safe_range)):
            return True
        if isinstance(obj, types.MethodType) and obj.__self__ is self:
            return obj.__name__ == "budgeted_iter"
        if isinstance(obj, types.MethodType) and isinstance(obj.__self__, LoopContext | Cycler):
            return obj.__name__ in ("cycle", "changed", "next", "reset")
        return False

    # -- what templates may spend ---------------------------------------------------------

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator in ("*", "**"):
            _precheck_power_or_repeat(operator, left, right)
        if operator == "%" and isinstance(left, str):
            _precheck_format(left)
        return _check_size(self.binop_table[operator](left, right))

    def checked_value(self, value: Any) -> Any:
        return _check_size(value)

    def budgeted_iter(self, iterable: Any) -> Any:
        return _budgeted_iter(iterable)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend(1)
        return _check_size(super().call(__context, __obj, *args, **kwargs))


def _precheck_power_or_repeat(operator: str, left: Any, right: Any) -> None:
    def is_int(x: Any) -> bool:
        return isinstance(x, int) and not isinstance(x, bool)

    if operator == "**":
        if is_int(left) and is_int(right):
            if (
                right > 0
                and abs(left) > 1
                and right * max(1, abs(left).bit_length()) > MAX_INT_BITS
            ):
                raise RenderLimitError("the template computed an integer too large to print")
        elif isinstance(left, int | float) and isinstance(right, int | float) and abs(right) > 1e4:
            raise RenderLimitError("the template raised a number to too large a power")
        return
    for seq, n in ((left, right), (right, left)):
        if (
            isinstance(seq, str | list | tuple)
            and is_int(n)
            and len(seq) * max(n, 0) > MAX_STRING_CHARS
        ):
            raise RenderLimitError(
                f"the template built a value of {len(seq) * n:,} characters or items "
                f"(limit {MAX_STRING_CHARS:,})"
            )
    if is_int(left) and is_int(right) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise RenderLimitError("the template computed an integer too large to print")


def _precheck_format(fmt: str) -> None:
    for width, precision in _FORMAT_WIDTH.findall(fmt):
        for digits in (width, precision):
            if digits and int(digits) > MAX_FILTER_INT:
                raise RenderLimitError("a format width in the template is too large")


def _bounded_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that refuses huge integer arguments and checks the size of what it returns."""

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for a in (*args, *kwargs.values()):
            if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_FILTER_INT:
                raise RenderLimitError(
                    f"a filter argument of {a:,} is too large (limit {MAX_FILTER_INT:,})"
                )
            if isinstance(a, str) and "%" in a:
                _precheck_format(a)
        if func.__name__ == "do_replace" and len(args) >= 4:
            value, old, new = (str(x) for x in args[1:4])
            if old and value.count(old) * max(len(new), 1) > MAX_STRING_CHARS:
                raise RenderLimitError("the template built too large a string with replace")
        result = func(*args, **kwargs)
        if isinstance(result, types.GeneratorType):
            return _counting(result)
        return _check_size(result)

    return bounded


# --------------------------------------------------------------------------- sponsor templates


class ConfinedLoader(BaseLoader):
    """Loads templates from one folder only: symlinks leaving it, non-files, oversized or
    non-UTF-8 files are refused with a `TemplateSourceError` that names the file."""

    def __init__(self, root: Path, display_root: str) -> None:
        self.root = root.resolve()
        self.display_root = display_root

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        candidate = self.root.joinpath(*pieces)
        display = "/".join([self.display_root, *pieces])
        if not os.path.lexists(candidate):
            raise TemplateNotFound(template)
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            raise TemplateSourceError(
                template, "is a broken or looping symbolic link", display
            ) from None
        if not real.is_relative_to(self.root):
            raise TemplateSourceError(
                template,
                "is a symbolic link to a file outside the templates folder",
                display,
            )
        try:
            info = real.stat()
        except OSError as exc:
            raise TemplateSourceError(
                template, f"cannot be read ({exc.strerror})", display
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise TemplateNotFound(template)
        with real.open("rb") as handle:
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            raise TemplateSourceError(
                template, f"is larger than {MAX_TEMPLATE_BYTES:,} bytes", display
            )
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            raise TemplateSourceError(
                template, "is not UTF-8 text", display, line, column
            ) from None
        mtime = info.st_mtime

        def uptodate() -> bool:
            try:
                return real.stat().st_mtime == mtime
            except OSError:
                return False

        return source, str(real), uptodate
