"""The template sandbox against hostile sponsor templates.

Every payload is a sponsor template rendered with the real protocol context of an example
product. Payloads are the public proofs of concept against Jinja2's sandbox (CVE-2016-10745
str.format, CVE-2019-10906 str.format_map, CVE-2024-56326 indirect str.format, CVE-2025-27516
the `attr` filter) and the classic SSTI chains through `__class__`/`__globals__`, plus what
this project's own context used to expose (a `pathlib.Path` inside `protocol`). None may read,
write or reveal anything outside the data; resource abuse stops with a located problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from generator import api
from generator.problems import ProblemsError
from generator.render import make_environment, render_template

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cd19-cart-lbcl" / "product.yaml"


@pytest.fixture(scope="module")
def context() -> dict[str, Any]:
    resolved, _ = api.resolve(EXAMPLE)
    return api.template_context(resolved, api.analyse(resolved))


def render(tmp_path: Path, context: dict[str, Any], source: str) -> str:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "payload.md.j2").write_text(source, "utf-8")
    env = make_environment(folder)
    return render_template(env, "payload.md.j2", context, sponsor_dir=folder).markdown


def codes(exc: pytest.ExceptionInfo[ProblemsError]) -> set[str]:
    return {p.code for p in exc.value.problems}


ESCAPES = {
    "mro-subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "list-base-subclasses": "{{ [].__class__.__base__.__subclasses__() }}",
    "self-init-globals": "{{ self.__init__.__globals__.__builtins__ }}",
    "self-private-context": "{{ self._TemplateReference__context }}",
    "cycler-globals-os": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__ }}",
    "namespace-globals": "{{ namespace.__init__.__globals__ }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'] }}",
    "cve-2016-10745-format": '{{ "{0.__class__.__init__.__globals__}".format(tp) }}',
    "cve-2019-10906-format-map": '{{ "{x.__class__}".format_map({"x": tp}) }}',
    "cve-2024-56326-indirect-format": '{% set f = "{0.__class__}".format %}{{ f(tp) }}',
    "cve-2025-27516-attr-filter": '{{ ("{0.__class__}" | attr("format"))(tp) }}',
    "attr-filter-dunder": '{{ tp | attr("__class__") }}',
    "helper-globals": "{{ heading.__globals__ }}",
    "helper-closure": "{{ prose.__closure__ }}",
    "range-self": "{{ range.__self__ }}",
    "int-class": "{{ (1).__class__.__base__ }}",
    "loop-class": "{% for x in objectives %}{{ loop.__class__ }}{% endfor %}",
    "import-module-dict": '{% import "payload2.md.j2" as m %}{{ m.__dict__ }}',
    "caller-globals": "{% macro f() %}{{ caller.__globals__ }}{% endmacro %}{% call f() %}x{% endcall %}",
    "dict-mro": "{{ dict.__mro__ }}",
    "old-protocol-path": "{{ protocol.product_document.path.read_text() }}",
}


@pytest.mark.parametrize("payload", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_payloads_are_refused(tmp_path: Path, context: dict[str, Any], payload: str) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "payload2.md.j2").write_text("{% macro x() %}{% endmacro %}")
    with pytest.raises(ProblemsError) as exc:
        render(tmp_path, context, payload)
    assert codes(exc) & {"PT002", "PT003", "PT004"}, exc.value.problems


def test_map_attribute_reveals_no_types(tmp_path: Path, context: dict[str, Any]) -> None:
    """`map(attribute=...)` goes through the sandbox's item lookup: no class object comes out."""
    try:
        out = render(tmp_path, context, '{{ objectives | map(attribute="__class__") | list }}')
    except ProblemsError:
        return
    assert "class" not in out


MUTATIONS = {
    "dict-update": '{{ tp.update({"full_title": "x"}) }}',
    "list-append": "{{ objectives.append(1) }}",
    "dict-items-method": "{{ tp.items() }}",
    "str-method": "{{ tp.full_title.upper() }}",
    "dict-pop": '{{ e.pop("dlt") }}',
}


@pytest.mark.parametrize("payload", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_data_has_no_methods(tmp_path: Path, context: dict[str, Any], payload: str) -> None:
    before = repr(context["tp"]), len(context["objectives"]), sorted(context["e"])
    with pytest.raises(ProblemsError):
        render(tmp_path, context, payload)
    assert (repr(context["tp"]), len(context["objectives"]), sorted(context["e"])) == before


def test_context_is_plain_data(context: dict[str, Any]) -> None:
    """No Path, model or other object with methods reaches a template; only data and the
    registered helpers."""
    helpers = {"heading", "prose", "insertion", "cite", "background", "review", "item_mark"}

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                assert isinstance(k, str), where
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")
        else:
            assert value is None or isinstance(value, str | int | float | bool), (
                f"{where} is a {type(value).__name__}"
            )

    for key, value in context.items():
        if key in helpers:
            assert getattr(value, "__protocmc_helper__", False), key
        else:
            walk(value, key)


def test_reading_data_still_works(tmp_path: Path, context: dict[str, Any]) -> None:
    out = render(
        tmp_path,
        context,
        "{{ e.dlt.p.dlt_window_days }} {{ e['dlt'].items | where(kind='dlt') | length > 0 }} "
        "{{ tp.full_title | upper }} {% for x in objectives %}{{ loop.index }}{% endfor %}",
    )
    assert out.startswith("28 True A PHASE 1")


# --------------------------------------------------------------------------- resource limits

LIMITS = {
    "nested-range-loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "huge-range": "{{ range(10**8) | length }}",
    "string-repeat": "{{ 'x' * 10**10 }}",
    "list-repeat": "{{ [1] * 10**9 }}",
    "huge-power": "{{ 10**10**10 }}",
    "doubling-concat": "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "doubling-plus": "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "center-width": "{{ 'x' | center(10**9) }}",
    "indent-width": "{{ 'x\ny' | indent(10**9) }}",
    "format-width": '{{ "%999999999d" | format(1) }}',
    "modulo-format-width": '{{ "%999999999d" % 1 }}',
    "replace-explosion": "{{ ('x' * 100000) | replace('x', 'y' * 100000) }}",
    "output-flood": "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
}


@pytest.mark.parametrize("payload", LIMITS.values(), ids=LIMITS.keys())
def test_resource_abuse_stops_with_a_located_problem(
    tmp_path: Path, context: dict[str, Any], payload: str
) -> None:
    with pytest.raises(ProblemsError) as exc:
        render(tmp_path, context, payload)
    problem = exc.value.problems[0]
    assert problem.code == "PT006", exc.value.problems
    assert problem.location is not None and "payload.md.j2" in str(problem.location)


def test_recursive_macro(tmp_path: Path, context: dict[str, Any]) -> None:
    with pytest.raises(ProblemsError) as exc:
        render(tmp_path, context, "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")
    assert codes(exc) == {"PT008"}


def test_template_extending_itself(tmp_path: Path, context: dict[str, Any]) -> None:
    with pytest.raises(ProblemsError) as exc:
        render(tmp_path, context, '{% extends "payload.md.j2" %}')
    assert codes(exc) == {"PT008"}


# --------------------------------------------------------------------------- template files


def test_symlink_out_of_the_templates_folder_is_refused(
    tmp_path: Path, context: dict[str, Any]
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    folder = tmp_path / "templates"
    folder.mkdir()
    os.symlink(secret, folder / "leak.md.j2")
    with pytest.raises(ProblemsError) as exc:
        render(tmp_path, context, '{% include "leak.md.j2" %}')
    assert codes(exc) == {"PT007"}
    assert "TOP SECRET" not in str(exc.value)


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../../../../etc/passwd", "framework/../../../etc/passwd"]
)
def test_include_outside_is_not_found(tmp_path: Path, context: dict[str, Any], name: str) -> None:
    with pytest.raises(ProblemsError) as exc:
        render(tmp_path, context, f'{{% include "{name}" %}}')
    assert codes(exc) == {"PT005"}


def test_non_utf8_template_is_a_located_problem(tmp_path: Path, context: dict[str, Any]) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "latin.md.j2").write_bytes(b"line one\nna\xefve\n")
    with pytest.raises(ProblemsError) as exc:
        render(tmp_path, context, '{% include "latin.md.j2" %}')
    (problem,) = exc.value.problems
    assert problem.code == "PT007"
    assert str(problem.location) == "templates/latin.md.j2:2:3"
