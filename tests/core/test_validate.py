"""Validation: every problem reported at once, located, with a hint a medical writer can act on."""

from __future__ import annotations

import pytest

from generator import validate as validate_module
from generator.console import make_console, print_problems
from generator.load import parse_yaml
from generator.models.product import Product
from generator.problems import MAX_PROBLEMS_SHOWN, ProblemsError
from generator.validate import validate
from tests.conftest import FIXTURES

BASE = (FIXTURES / "minimal" / "product.yaml").read_text("utf-8")


def problems(text: str) -> list[str]:
    doc = parse_yaml(text, display="p.yaml")
    with pytest.raises(ProblemsError) as info:
        validate(doc, Product)
    return [p.format() for p in info.value.problems]


def test_minimal_product_is_valid() -> None:
    product = validate(parse_yaml(BASE, display="p.yaml"), Product)
    assert product.title_page.version == "1.0"


def test_misspelt_key_gets_did_you_mean_at_the_key() -> None:
    found = problems(BASE.replace("  full_title:", "  ful_title:"))
    joined = "\n".join(found)
    assert "p.yaml:5:3: PV010: unknown key 'ful_title' in 'title_page'" in joined
    assert "did you mean 'full_title'?" in joined
    # and the real key is then missing: reported too, in the same run
    assert "PV011: required key 'full_title' is missing" in joined


def test_unquoted_version_gets_put_quotes_hint() -> None:
    found = problems(BASE.replace('version: "1.0"', "version: 1.10"))
    assert len(found) == 1
    assert found[0].startswith("p.yaml:7:12: PV020: title_page.version:")
    assert 'put quotes around it: "1.10"' in found[0]


def test_wrong_type_and_literal_choice_are_all_reported_together() -> None:
    text = BASE.replace("number_of_arms: 1", "number_of_arms: one").replace(
        "phase: Phase 1", "phase: Phase I"
    )
    found = problems(text)
    assert len(found) == 2
    assert any("overall_design.number_of_arms" in f and "plain number" in f for f in found)
    assert any("title_page.phase" in f and "did you mean 'Phase 1'?" in f for f in found)


def test_framework_pin_pattern_hint() -> None:
    found = problems(BASE.replace("early-phase-cell-therapy@1", "early-phase-cell-therapy"))
    assert "NAME@MAJOR" in found[0]


def test_unknown_top_level_key_lists_allowed_keys_when_nothing_is_close() -> None:
    found = problems(BASE + "zzzzzz: 1\n")
    assert "allowed keys here:" in found[0] and "tailoring" in found[0]


# --------------------------------------------------------------------------- values in range


def with_scenarios(rates: str) -> str:
    return BASE.replace(
        "  maximum_participants: 18\n  dose_levels:",
        f"  maximum_participants: 18\n  true_dlt_scenarios:\n    expected: {rates}\n  dose_levels:",
    )


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", ".NaN"])
def test_infinite_and_nan_numbers_are_refused_where_written(value: str) -> None:
    found = problems(BASE.replace("dose: 150000000", f"dose: {value}"))
    assert len(found) == 1, found
    assert found[0].startswith("p.yaml:46:23: PV020: dose_escalation.dose_levels.1.dose:")
    assert "finite number" in found[0] and ".inf and .nan" in found[0]


def test_a_non_finite_parameter_value_is_one_problem_not_one_per_type() -> None:
    text = BASE + "tailoring:\n  dlt:\n    parameters:\n      dlt_window_days: .nan\n"
    found = problems(text)
    assert len(found) == 1, found
    assert found[0].startswith("p.yaml:50:24: PV020:") and "finite number" in found[0]


def test_a_value_that_fits_no_type_of_a_union_is_one_problem() -> None:
    text = BASE + "tailoring:\n  dlt:\n    parameters:\n      dlt_window_days: {a: 1}\n"
    found = problems(text)
    assert len(found) == 1, found
    assert "valid boolean" in found[0] and "valid list" in found[0]


@pytest.mark.parametrize(
    ("rates", "where", "words"),
    [
        ("[0.1, 1.5]", "p.yaml:45:21", "less than or equal to 1"),
        ("[-0.2, 0.3]", "p.yaml:45:16", "greater than or equal to 0"),
        ("[0.1, .nan]", "p.yaml:45:21", "finite number"),
        ("[]", "p.yaml:45:15", "gives 0 rate(s) for 2 dose level(s)"),
        ("[0.1]", "p.yaml:45:15", "gives 1 rate(s) for 2 dose level(s)"),
        ("[0.1, 0.2, 0.3]", "p.yaml:45:15", "gives 3 rate(s) for 2 dose level(s)"),
    ],
)
def test_dlt_scenarios_are_probabilities_one_per_dose_level(
    rates: str, where: str, words: str
) -> None:
    found = problems(with_scenarios(rates))
    assert len(found) == 1, found
    assert found[0].startswith(f"{where}: PV020:") and words in found[0], found[0]


def test_a_scenario_with_one_rate_per_dose_level_is_valid() -> None:
    product = validate(parse_yaml(with_scenarios("[0.1, 0.25]"), display="p.yaml"), Product)
    assert product.dose_escalation.true_dlt_scenarios == {"expected": [0.1, 0.25]}


def test_a_repeated_objective_id_is_located_at_the_repeat() -> None:
    text = BASE.replace(
        "    endpoint: DLT incidence\n",
        "    endpoint: DLT incidence\n"
        "  - {id: OBJ-S1, level: secondary, objective: Activity, endpoint: Response}\n"
        "  - {id: OBJ-P1, level: secondary, objective: Activity, endpoint: Response}\n",
    )
    found = problems(text)
    assert len(found) == 1, found
    assert found[0].startswith("p.yaml:42:10: PV012: objectives.2.id: duplicate objective id")
    assert "(entries 1 and 3)" in found[0] and "its own id" in found[0]


@pytest.mark.parametrize(
    ("field", "length", "limit"),
    [
        ("  sponsor_name: Test Sponsor", 301, 300),
        ("  full_title: A Phase 1 Trial of TEST-1 in Participants with Test Lymphoma", 1001, 1000),
        ("  sponsor_protocol_id: TEST-101", 301, 300),
    ],
)
def test_titles_and_names_have_their_own_smaller_limits(
    field: str, length: int, limit: int
) -> None:
    key = field.split(":")[0]
    found = problems(BASE.replace(field, f"{key}: {'x' * length}"))
    assert len(found) == 1 and f"at most {limit} characters" in found[0], found


# --------------------------------------------------------------------------- justifications


def justified(text: str) -> str:
    return BASE + (
        "tailoring:\n  dlt:\n    parameters:\n      dlt_window_days: 35\n"
        f"    justification: {text}\n"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("TBD", "placeholder ('TBD')"),
        ("tbc", "placeholder ('tbc')"),
        ("TODO", "placeholder ('TODO')"),
        ("'TODO: say why the window is longer'", "placeholder ('TODO')"),
        ("N/A", "placeholder ('N/A')"),
        ("n/a.", "placeholder"),
        ("'-'", "placeholder"),
        ("'...'", "placeholder"),
        ("See above.", "placeholder"),
        ("pending", "placeholder"),
        ("Allogeneic product.", "shorter than a sentence (2 word(s))"),
        ("Longer window needed.", "shorter than a sentence (3 word(s))"),
        ("'   '", "no visible text"),
        ('"\\_\\_"', "no visible text"),
        ('"\\u2060\\u2060"', "no visible text"),
    ],
)
def test_weak_justifications_are_errors_at_their_line(text: str, words: str) -> None:
    found = problems(justified(text))
    assert len(found) == 1, found
    assert found[0].startswith("p.yaml:51:20: PV013: tailoring.dlt.justification:"), found[0]
    assert words in found[0] and "hint: write at least one full sentence" in found[0]


@pytest.mark.parametrize(
    "text",
    [
        "Later-onset toxicity is expected with this construct.",
        "Marrow recovery takes longer after myeloid-targeted products.",
        "The product's CRS onset was up to Day 9 in the related program.",
    ],
)
def test_a_real_sentence_is_a_justification(text: str) -> None:
    product = validate(parse_yaml(justified(text), display="p.yaml"), Product)
    assert product.tailoring["dlt"].justification == text


# --------------------------------------------------------------------------- many problems


def test_hints_that_search_are_worked_out_only_for_the_printed_problems(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = validate_module.did_you_mean

    def counting(word: str, choices: object) -> str:
        calls.append(word)
        return real(word, choices)  # type: ignore[arg-type]

    monkeypatch.setattr(validate_module, "did_you_mean", counting)
    text = BASE + "".join(f"zz{i:03d}: 1\n" for i in range(900))
    doc = parse_yaml(text, display="p.yaml")
    with pytest.raises(ProblemsError) as info:
        validate(doc, Product)
    found = info.value.problems
    assert len(found) == 900
    assert len(calls) == MAX_PROBLEMS_SHOWN
    # the printed ones come first (file order) and carry the full hint
    assert [p.location.line for p in found[:3] if p.location] == [47, 48, 49]
    assert all("allowed keys here:" in p.hint for p in found[:MAX_PROBLEMS_SHOWN])


def test_the_terminal_shows_the_first_problems_then_how_many_more(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = parse_yaml(BASE + "".join(f"zz{i:03d}: 1\n" for i in range(900)), display="p.yaml")
    with pytest.raises(ProblemsError) as info:
        validate(doc, Product)
    print_problems(make_console(), info.value.problems)
    lines = capsys.readouterr().out.splitlines()
    codes = [line for line in lines if ": PV010: " in line]
    assert len(codes) == MAX_PROBLEMS_SHOWN
    assert codes[0].startswith("p.yaml:47:1:") and codes[-1].startswith("p.yaml:246:1:")
    assert lines[-1] == "… and 700 more problem(s)"
    assert str(info.value).endswith("… and 700 more problem(s)")
