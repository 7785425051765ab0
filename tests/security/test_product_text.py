"""Product and framework text is text: never compiled as a template (issue 9, item 2).

Placeholders are the small `{param:NAME}` language of generator/textfill.py; anything else in
braces prints as typed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import api
from generator.problems import ProblemsError
from generator.textfill import TextError, evaluate, fill


def protocol_of(path: Path) -> str:
    report = api.check(path)
    assert not report.errors, report.errors
    return report.documents["protocol"].markdown


JINJA_PAYLOADS = [
    "{{ 7*7 }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "{{ 'x' * 10**10 }}",
    "{{ range(10**8) | list }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
]


@pytest.mark.parametrize("payload", JINJA_PAYLOADS)
def test_template_syntax_in_tailoring_text_prints_as_typed(
    product_with: Callable[[str], Path], payload: str
) -> None:
    path = product_with(
        f"""
        tailoring:
          dlt:
            items:
              - id: DLT-EXTRA
                kind: dlt
                text: "Extra criterion {payload} end."
            justification: The product needs an extra DLT criterion for this test.
        """
    )
    started = time.monotonic()
    markdown = protocol_of(path)
    assert f"Extra criterion {payload} end." in markdown
    assert "49" not in markdown.split("Extra criterion")[1].split("end.")[0]
    assert time.monotonic() - started < 30  # a hang would never return; not a speed test


def test_section_text_with_braces_prints_as_typed(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        sections:
          purpose_of_trial: "Literal {{ 7*7 }} and {% raw %} and {param:nothing} stay."
        """
    )
    assert "Literal {{ 7*7 }} and {% raw %} and {param:nothing} stay." in protocol_of(path)


def test_param_placeholder_in_product_text_is_filled(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        tailoring:
          dlt:
            text: The window lasts {param:dlt_window_days} days from {param:dlt_window_anchor}.
            justification: The product states the window in its own words for this test.
        """
    )
    assert "The window lasts 28 days from infusion (Day 0)." in protocol_of(path)


def test_unknown_placeholder_is_a_located_problem(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        tailoring:
          dlt:
            text: The window lasts {param:window} days.
            justification: The product states the window in its own words for this test.
        """
    )
    report = api.check(path)
    (problem,) = [p for p in report.problems if p.code == "PR040"]
    assert problem.location is not None and problem.location.line > 0
    assert "{param:window}" in problem.message and "dlt_window_days" in problem.hint


def test_conditions_select_framework_text_parts(product_with: Callable[[str], Path]) -> None:
    """staggering.yaml keeps one of two parts by `concurrent_cohorts`."""
    plain = protocol_of(product_with(""))
    assert "Participants will not be enrolled into more than one dose cohort" in plain
    assert "Concurrent enrolment into more than one dose cohort is permitted." not in plain


def test_conditions_follow_a_tailored_parameter(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        tailoring:
          staggering:
            parameters:
              concurrent_cohorts: true
            justification: Backfill cohorts are enrolled while escalation continues in this test.
        """
    )
    markdown = protocol_of(path)
    assert "Concurrent enrolment into more than one dose cohort is permitted" in markdown
    assert "Participants will not be enrolled into more than one dose cohort" not in markdown


# --------------------------------------------------------------------------- the mini-language


def test_fill_formats_values_and_leaves_other_braces() -> None:
    assert fill("{param:a} and {b} and {{ c }}", {"a": 28}, str) == "28 and {b} and {{ c }}"


def test_fill_unknown_kind() -> None:
    with pytest.raises(TextError, match="unknown placeholder kind"):
        fill("{product:name}", {}, str)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("flag", True),
        ("not flag", False),
        ("design == BOIN", True),
        ("design != 3+3", True),
        ("design == 3+3", False),
        ("n >= 3 and flag", True),
        ("n < 3 or design == BOIN", True),
        ("n < 3 or design == 3+3", False),
        ("product.source in [allogeneic, autologous]", True),
        ("product.source == 'allogeneic'", False),
        ("rate <= 0.3", True),
    ],
)
def test_evaluate(condition: str, expected: bool) -> None:
    names = {"flag": True, "design": "BOIN", "n": 3, "product.source": "autologous", "rate": 0.3}
    assert evaluate(condition, names) is expected


@pytest.mark.parametrize(
    "condition", ["", "unknown", "design ==", "and flag", "n < BOIN", "flag ~ 2", "flag flag"]
)
def test_evaluate_rejects_bad_conditions(condition: str) -> None:
    with pytest.raises(TextError):
        evaluate(condition, {"flag": True, "design": "BOIN", "n": 3})


def test_bad_condition_in_a_framework_is_a_located_problem(tmp_path: Path) -> None:
    """A framework text part whose condition names nothing known fails resolve at its line."""
    import shutil

    from generator.framework_loader import load_framework
    from generator.load import load_yaml
    from generator.models.product import Product
    from generator.resolve import resolve_product
    from generator.validate import validate

    root = Path(__file__).resolve().parents[2]
    fw = tmp_path / "fw"
    shutil.copytree(root / "frameworks" / "early-phase-cell-therapy", fw)
    stag = fw / "elements" / "staggering.yaml"
    stag.write_text(stag.read_text("utf-8").replace("when: concurrent_cohorts", "when: no_such"))
    framework = load_framework(fw)
    product = root / "tests" / "fixtures" / "minimal" / "product.yaml"
    doc = load_yaml(product)
    from generator.framework_loader import load_registry

    _, problems = resolve_product(framework, validate(doc, Product), doc, load_registry())
    (problem,) = [p for p in problems if p.code == "PR040"]
    assert problem.location is not None and problem.location.file.endswith("staggering.yaml")
    lines = stag.read_text("utf-8").splitlines()
    assert (
        "no_such" in lines[problem.location.line - 1] or "no_such" in lines[problem.location.line]
    )
    assert "no_such" in problem.message


def test_check_never_raises_for_payload_text(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        sections:
          risk_summary: "{% include '/etc/passwd' %}"
        """
    )
    try:
        markdown = protocol_of(path)
    except ProblemsError as exc:  # pragma: no cover - would be a regression
        pytest.fail(str(exc))
    assert "{% include '/etc/passwd' %}" in markdown
    assert "root:" not in markdown
