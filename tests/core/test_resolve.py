"""Merging product overrides onto the framework: by id, with provenance and a tailoring register."""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import api
from generator.resolve import ResolvedProtocol
from tests.conftest import EXAMPLES


def resolve(path: Path) -> tuple[ResolvedProtocol, list[str]]:
    resolved, problems = api.resolve(path)
    return resolved, [p.format() for p in problems]


def test_no_overrides_means_framework_values_with_framework_provenance(
    minimal_product: Path,
) -> None:
    resolved, problems = resolve(minimal_product)
    assert problems == []
    window = resolved.elements["dlt"].parameters["dlt_window_days"]
    assert window.value == 28 and not window.tailored
    assert window.provenance.origin == "framework"
    assert window.provenance.label == "early-phase-cell-therapy@1.0.0 › dlt"
    assert window.provenance.location is not None
    assert (
        window.provenance.location.file == "frameworks/early-phase-cell-therapy/elements/dlt.yaml"
    )
    assert window.provenance.location.line > 1
    assert resolved.tailoring_register == []


def test_parameter_override_keeps_product_location_and_enters_register(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        tailoring:
          dlt:
            parameters:
              dlt_window_days: 42
            justification: Marrow recovery after myeloid-targeted products takes longer.
            trigger: aml-myeloid
        """
    )
    resolved, problems = resolve(path)
    assert problems == []
    window = resolved.elements["dlt"].parameters["dlt_window_days"]
    assert window.value == 42 and window.starting_value == 28
    assert window.provenance.origin == "product"
    assert window.provenance.location is not None
    assert window.provenance.location.line == 51
    assert "42 days" in resolved.elements["dlt"].text
    (entry,) = resolved.tailoring_register
    assert (entry.element_id, entry.starting_point, entry.product_value) == (
        "dlt",
        "28 days",
        "42 days",
    )
    assert entry.trigger_id == "aml-myeloid" and entry.trigger_text
    assert entry.justification.startswith("Marrow recovery")


def test_items_added_replaced_and_removed_by_id(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        tailoring:
          dlt:
            items:
              - id: DLT-ORGAN
                text: Grade 3 or higher pneumonitis of any duration.
                justification: Product-specific lung toxicity needs its own DLT criterion.
                trigger: solid-tumour
              - id: DLT-EXCL-FEVER
                remove: true
              - id: DLT-CRS-G4
                text: Grade 4 CRS (ASTCT).
            justification: Tailored for this product's profile.
            trigger: novel-mechanism
        """
    )
    resolved, problems = resolve(path)
    assert problems == []
    dlt = resolved.elements["dlt"]
    ids = [i.id for i in dlt.items]
    assert "DLT-EXCL-FEVER" not in ids
    assert [i.id for i in dlt.removed_items] == ["DLT-EXCL-FEVER"]
    assert ids[-1] == "DLT-ORGAN"  # added items go after the framework's
    by_id = {i.id: i for i in dlt.items}
    assert by_id["DLT-ORGAN"].status == "added"
    assert (
        by_id["DLT-CRS-G4"].status == "replaced"
        and by_id["DLT-CRS-G4"].text == "Grade 4 CRS (ASTCT)."
    )
    assert by_id["DLT-G5"].status == "framework"
    subjects = sorted(e.subject for e in resolved.tailoring_register)
    assert subjects == [
        "item DLT-CRS-G4 (replaced)",
        "item DLT-EXCL-FEVER (removed)",
        "item DLT-ORGAN (added)",
    ]
    organ = next(e for e in resolved.tailoring_register if "ORGAN" in e.subject)
    assert organ.justification == "Product-specific lung toxicity needs its own DLT criterion."
    assert organ.trigger_id == "solid-tumour"
    fever = next(e for e in resolved.tailoring_register if "FEVER" in e.subject)
    assert fever.justification == "Tailored for this product's profile."


def test_item_parameter_override_modifies_item_text(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        tailoring:
          eligibility:
            items:
              - id: INC-PLT
                parameters: {platelets_min: 50000}
            justification: Marrow involvement is common in this disease.
            trigger: highly-refractory
        """
    )
    resolved, problems = resolve(path)
    assert problems == [], problems
    item = next(i for i in resolved.elements["eligibility"].items if i.id == "INC-PLT")
    assert item.status == "modified" and "50,000" in item.text
    entry = resolved.tailoring_register[0]
    assert entry.starting_point.startswith("75,000") and entry.product_value.startswith("50,000")


def test_departure_without_justification_is_an_error_at_the_override(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        tailoring:
          staggering:
            parameters:
              intra_cohort_stagger_days: 28
        """
    )
    _, problems = resolve(path)
    assert len(problems) == 1
    assert "product.yaml:51:" in problems[0] and "PR010" in problems[0]
    assert "without a justification" in problems[0] and "justification:" in problems[0]


def test_out_of_range_wrong_type_unknown_names_are_all_reported(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        tailoring:
          dlt:
            parameters:
              dlt_window_days: 90
              dlt_windw_days: 30
            trigger: delayed-toxicty
          staggering:
            parameters:
              concurrent_cohorts: 3
            justification: Cohorts overlap to shorten the trial.
          dlts:
            justification: A misspelt element name is reported.
        """
    )
    _, problems = resolve(path)
    text = "\n".join(problems)
    assert "PR003" in text and "outside the framework range 21 to 42 days" in text
    assert "PR002" in text and "did you mean 'dlt_window_days'?" in text
    assert "PR011" in text and "did you mean 'delayed-toxicity'?" in text
    assert "PR004" in text and "must be true or false" in text
    assert "PR001" in text and "did you mean 'dlt'?" in text


def test_removing_or_modifying_unknown_item_is_an_error(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        tailoring:
          dlt:
            items:
              - {id: DLT-NOPE, remove: true}
              - {id: DLT-CRS-G5}
            justification: Items are tailored for this allogeneic product.
            trigger: allogeneic
        """
    )
    _, problems = resolve(path)
    codes = sorted(p.split(": ")[1] for p in problems)
    assert codes == ["PR005", "PR006"]


def test_unknown_section_key_and_bad_dose_levels(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        sections:
          purpose_of_trail: Text.
        """
    )
    text = path.read_text("utf-8").replace("starting_level: DL1", "starting_level: DL9")
    path.write_text(text, "utf-8")
    _, problems = resolve(path)
    joined = "\n".join(problems)
    assert "PR020" in joined and "did you mean 'purpose_of_trial'?" in joined
    assert "PR031" in joined


def test_explain_reports_value_origin_and_starting_point(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        tailoring:
          dlt:
            parameters: {dlt_window_days: 35}
            justification: Later onset of toxicity is expected.
            trigger: delayed-toxicity
        """
    )
    entry = api.explain(path, "elements.dlt.parameters.dlt_window_days")
    assert entry.value == 35 and entry.starting_value == 28
    assert entry.provenance.origin == "product"
    assert entry.starting_provenance is not None and "dlt" in entry.starting_provenance.label
    product_entry = api.explain(path, "title_page.sponsor_protocol_id")
    assert product_entry.value == "TEST-101"
    assert (
        product_entry.provenance.location is not None
        and product_entry.provenance.location.line == 6
    )


# --------------------------------------------------------------------------- product facts


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


def _allogeneic(path: Path, donor: str = "cord-blood") -> Path:
    _edit(path, "  source: autologous\n", f"  source: allogeneic\n  donor_type: {donor}\n")
    return _edit(path, "autologous anti-CD19 CAR-T cells", "donor-derived anti-CD19 CAR-T cells")


def _everything_printed(resolved: ResolvedProtocol) -> str:
    """Every string the protocol can print from the applicable elements."""
    out: list[str] = []
    for el in resolved.elements.values():
        if not el.applies:
            continue
        out += [el.text, el.rationale, *(i.text for i in el.items)]
        for t in el.tables:
            out += [t.title, *t.columns, *t.notes, *(c for row in t.rows for c in row)]
    return "\n".join(out)


def _codes(problems: list[str]) -> list[str]:
    return [p.split(": ")[1] for p in problems]


def test_allogeneic_product_loses_autologous_text_and_gains_gvhd_grading(
    minimal_product: Path,
) -> None:
    auto, problems = resolve(minimal_product)
    assert problems == []
    assert not auto.elements["gvhd-grading"].applies
    assert "apheresis" in _everything_printed(auto)

    resolved, problems = resolve(_allogeneic(minimal_product))
    assert problems == []
    printed = _everything_printed(resolved).lower()
    for word in ("autologous", "apheresis", "bridging therapy to control", "own cells"):
        assert word not in printed, word
    elig = resolved.elements["eligibility"]
    assert elig.items_of(gate="apheresis") == [] and "INC-ALC" not in {i.id for i in elig.items}
    assert {"EXC-DSA", "LD-RECHECK-HAEM"} <= {i.id for i in elig.items}
    gvhd = resolved.elements["gvhd-grading"]
    assert gvhd.applies
    assert [t.id for t in gvhd.tables] == ["magic-agvhd-staging", "magic-agvhd-overall-grade"]
    assert "DLT-GVHD" in {i.id for i in resolved.elements["dlt"].items}
    assert "PAUSE-GVHD-SEVERE" in {i.id for i in resolved.elements["stopping-rules"].items}
    cmc = resolved.elements["cmc-readiness"]
    assert "umbilical cord blood" in cmc.text and "21 CFR 1271" in cmc.text
    assert resolved.tailoring_register == []  # no override was needed for any of it

    # the rendered draft carries none of it either (insertion prompts and review marks aside)
    report = api.check(minimal_product, clean=True)
    assert not report.errors, [p.format() for p in report.errors]
    markdown = report.documents["protocol"].markdown
    # the reference list (rendered from every framework source until only cited ones are
    # listed) and insertion prompts are not text about this product
    body = re.sub(r"\[\\<.*?\\>\]\{\.insertion\}", "", markdown.split("APPENDIX: REFERENCES")[0])
    assert "apheresis" not in body.lower() and "autologous" not in body.lower()
    assert "Table: Acute GvHD target-organ staging (MAGIC criteria)" in markdown


def test_override_of_an_item_that_does_not_apply_is_a_located_warning(
    minimal_product: Path,
) -> None:
    path = _allogeneic(minimal_product)
    text = path.read_text("utf-8") + textwrap.dedent(
        """
        tailoring:
          eligibility:
            items:
              - id: INC-ALC
                remove: true
            justification: The allogeneic product has no participant apheresis step.
        """
    )
    path.write_text(text, "utf-8")
    _, problems = resolve(path)
    (warning,) = problems
    assert "PR061" in warning and "INC-ALC" in warning and "product.yaml:52:9:" in warning


def test_adult_only_product_has_no_paediatric_tables(minimal_product: Path) -> None:
    unknown, _ = resolve(minimal_product)  # no age numbers: paediatric content is kept
    assert "astct-icans-pediatric" in {t.id for t in unknown.elements["icans-grading"].tables}

    path = _edit(
        minimal_product,
        "  age_range: 18 years and older\n",
        "  age_range: 18 years and older\n  age_min_years: 18\n",
    )
    resolved, problems = resolve(path)
    assert problems == []
    icans = resolved.elements["icans-grading"]
    assert [t.id for t in icans.tables] == ["ice-score", "astct-icans-adult"]
    assert set(icans.omitted) == {"astct-icans-pediatric", "capd-scoring", "capd-items"}
    assert "CAPD" not in icans.text and "CAPD" not in icans.rationale
    assert "LTFU-PEDIATRIC-GROWTH" not in {
        i.id for i in resolved.elements["long-term-follow-up"].items
    }
    assert "CAPD" not in _everything_printed(resolved)


def test_paediatric_age_must_match_the_age_criterion(minimal_product: Path) -> None:
    path = _edit(
        minimal_product,
        "  age_range: 18 years and older\n",
        "  age_range: 6 years and older\n  age_min_years: 6\n",
    )
    _, problems = resolve(path)
    (error,) = problems
    assert "PR063" in error and "product.yaml:16:18:" in error and "age_min: 6" in error
    text = path.read_text("utf-8") + textwrap.dedent(
        """
        tailoring:
          eligibility:
            items:
              - id: INC-AGE
                parameters: {age_min: 6}
            justification: Children are enrolled after the adult cohorts.
            trigger: pediatric
        """
    )
    path.write_text(text, "utf-8")
    resolved, problems = resolve(path)
    assert problems == []
    assert "astct-icans-pediatric" in {t.id for t in resolved.elements["icans-grading"].tables}
    assert "CAPD" in resolved.elements["icans-grading"].text


def test_disease_specific_precedent_only_for_its_disease(minimal_product: Path) -> None:
    path = _edit(
        minimal_product,
        "  short_name: test lymphoma\n",
        "  short_name: test lymphoma\n  disease_group: lymphoma\n",
    )
    lymphoma, problems = resolve(path)
    assert problems == []
    assert "CD19-directed" in lymphoma.elements["staggering"].rationale
    assert "ZUMA-1" in lymphoma.elements["eligibility"].rationale

    _edit(path, "disease_group: lymphoma", "disease_group: solid-tumour")
    liver, problems = resolve(path)
    assert "CD19" not in liver.elements["staggering"].rationale
    assert "ZUMA-1" not in liver.elements["eligibility"].rationale
    (warning,) = problems  # no framework text is written for solid tumours: say so, located
    assert "PR060" in warning and "solid-tumour" in warning and "product.yaml:35:18:" in warning


def test_uncovered_donor_type_is_a_located_warning(minimal_product: Path) -> None:
    _, problems = resolve(_allogeneic(minimal_product, donor="other"))
    (warning,) = problems
    assert "PR060" in warning and "product.donor_type 'other'" in warning
    assert "product.yaml:28:" in warning


def test_dose_level_below_start_is_mentioned_only_when_defined(
    product_with: Callable[[str], Path],
) -> None:
    resolved, _ = resolve(product_with(""))
    text = next(
        i for i in resolved.elements["dose-escalation"].items if i.id == "ESC-DEESCALATION"
    ).text
    assert "below the starting dose level" not in text
    path = product_with("")
    _edit(
        path,
        "    - {id: DL1, dose: 50000000}\n",
        "    - {id: DL-1, dose: 25000000}\n    - {id: DL1, dose: 50000000}\n",
    )
    resolved, problems = resolve(path)
    assert problems == []
    text = next(
        i for i in resolved.elements["dose-escalation"].items if i.id == "ESC-DEESCALATION"
    ).text
    assert "below the starting dose level" in text


def test_mtd_definition_follows_the_design(product_with: Callable[[str], Path]) -> None:
    three, _ = resolve(product_with(""))
    assert "no more than 1 of 6 participants (or 0 of 3)" in three.elements["dose-escalation"].text
    assert "isotonic" not in three.elements["dose-escalation"].text
    path = product_with(
        """
        tailoring:
          dose-escalation:
            parameters: {design: BOIN, max_participants_per_dose: 9}
            justification: Uses all DLT data at a dose.
            trigger: uncertain-therapeutic-window
        """
    )
    boin, problems = resolve(path)
    assert problems == []
    text = boin.elements["dose-escalation"].text
    assert "isotonic regression" in text and "closest to the target" in text
    assert "highest dose level at which" not in text
    # the cap is stated as BOIN applies it, not as "no more than 9 per dose"
    assert "9 participants have been treated at the current dose level" in text
    assert "more than 9 participants may be treated at a dose level in total" in text
    assert "No more than" not in text


# --------------------------------------------------------------------------- rationale


def test_rationale_follows_the_tailored_value_and_flags_lost_arguments(
    product_with: Callable[[str], Path],
) -> None:
    start, _ = resolve(product_with(""))
    assert "28 days after infusion" in start.elements["dlt"].rationale
    assert "28-day window" in start.elements["dlt"].rationale
    path = product_with(
        """
        tailoring:
          dlt:
            parameters: {dlt_window_days: 35}
            justification: Later onset of toxicity is expected with this construct.
            trigger: delayed-toxicity
          dose-escalation:
            parameters: {design: BOIN, max_participants_per_dose: 9}
            justification: Uses all DLT data at a dose.
            trigger: uncertain-therapeutic-window
        """
    )
    resolved, problems = resolve(path)
    assert problems == []
    rationale = resolved.elements["dlt"].rationale
    assert "35 days after infusion" in rationale and "28" not in rationale
    by_subject = {e.subject: e for e in resolved.tailoring_register}
    # the 28-day precedent was withdrawn and nothing argues for 35: the protocol needs the
    # product's argument
    assert by_subject[
        "Length of the DLT evaluation window (dlt_window_days)"
    ].rationale_needs_rewrite
    # the framework has a rationale for BOIN: nothing to rewrite
    design = by_subject["Dose-escalation design (design)"]
    assert not design.rationale_needs_rewrite
    assert "Bayesian optimal interval" in resolved.elements["dose-escalation"].rationale
    assert "3+3 design is" not in resolved.elements["dose-escalation"].rationale


# --------------------------------------------------------------------------- outside the range


CRCL_40 = """
    tailoring:
      eligibility:
        items:
          - id: INC-CRCL
            parameters: {crcl_min: 40}
"""


def test_justified_value_outside_the_range_is_allowed_and_recorded(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        textwrap.dedent(CRCL_40)
        + "        justification: Renal impairment is frequent in relapsed myeloma.\n"
        + "    trigger: disease-specific\n"
    )
    resolved, problems = resolve(path)
    assert problems == []
    (entry,) = resolved.tailoring_register
    assert entry.outside_range and entry.framework_range == "45 to 60 mL/min"
    assert (entry.starting_point, entry.product_value) == ("60 mL/min", "40 mL/min")
    item = next(i for i in resolved.elements["eligibility"].items if i.id == "INC-CRCL")
    assert "≥ 40 mL/min" in item.text
    explained = api.explain(path, "elements.eligibility.items.INC-CRCL.parameters.crcl_min")
    assert explained.value == 40 and "outside the framework range" in explained.note


def test_value_outside_the_range_without_justification_is_an_error_at_the_value(
    product_with: Callable[[str], Path],
) -> None:
    _, problems = resolve(product_with(textwrap.dedent(CRCL_40)))
    (error,) = problems
    assert "PR003" in error and "product.yaml:52:32:" in error
    assert "outside the framework range 45 to 60 mL/min" in error and "justification" in error


def test_hard_limits_stay_hard_with_a_justification(product_with: Callable[[str], Path]) -> None:
    path = product_with(
        """
        tailoring:
          dose-escalation:
            parameters: {design: BOIN, boin_phi1_ratio: 0.95}
            justification: We want a narrower interval for this design.
        """
    )
    _, problems = resolve(path)
    assert any("PR003" in p and "hard limit" in p for p in problems), problems


# --------------------------------------------------------------------------- replaced item text


def test_replaced_text_must_keep_the_parameters_it_states(
    product_with: Callable[[str], Path],
) -> None:
    typed = product_with(
        """
        tailoring:
          eligibility:
            items:
              - id: INC-CRCL
                text: Creatinine clearance (Cockcroft-Gault) ≥ 40 mL/min.
            justification: Renal impairment is frequent in myeloma.
        """
    )
    _, problems = resolve(typed)
    (error,) = problems
    assert "PR042" in error and "{param:crcl_min}" in error and "product.yaml:52:15:" in error
    assert "set the value under 'parameters:'" in error


def test_replaced_text_that_references_the_parameter_says_what_explain_says(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        """
        tailoring:
          eligibility:
            items:
              - id: INC-CRCL
                text: Creatinine clearance (CKD-EPI) ≥ {param:crcl_min} mL/min/1.73 m².
                parameters: {crcl_min: 50}
            justification: Renal function is estimated with CKD-EPI at the sites.
        """
    )
    resolved, problems = resolve(path)
    assert problems == []
    item = next(i for i in resolved.elements["eligibility"].items if i.id == "INC-CRCL")
    assert item.text == "Creatinine clearance (CKD-EPI) ≥ 50 mL/min/1.73 m²."
    assert api.explain(path, "elements.eligibility.items.INC-CRCL.parameters.crcl_min").value == 50


# --------------------------------------------------------------------------- monitoring rules


SECOND_RULE = """
    tailoring:
      stopping-rules:
        items:
          - id: MON-TRD
            like: MON-G4-CRS-ICANS
            parameters:
              monitored_event: death related to the trial intervention
              monitoring_theta: 0.10
            justification: Treatment-related death is monitored with its own, lower rate.
"""


def test_a_second_monitoring_rule_keeps_the_default(product_with: Callable[[str], Path]) -> None:
    from generator.analysis.protocol_tables import protocol_analysis

    resolved, problems = resolve(product_with(textwrap.dedent(SECOND_RULE)))
    assert problems == []
    rules = resolved.elements["stopping-rules"].items_of(kind="monitoring-rule")
    assert [r.id for r in rules] == ["MON-G4-CRS-ICANS", "MON-TRD"]
    assert rules[1].status == "added" and rules[1].like == "MON-G4-CRS-ICANS"
    assert "death related to the trial intervention" in rules[1].text and "0.1" in rules[1].text
    (entry,) = resolved.tailoring_register
    assert entry.subject == "item MON-TRD (added, like MON-G4-CRS-ICANS)"
    analysis = protocol_analysis(resolved)
    assert [r.rule_id for r in analysis.stopping_rules] == ["MON-G4-CRS-ICANS", "MON-TRD"]
    assert analysis.stopping == analysis.stopping_rules[0]
    default, trd = analysis.stopping_rules
    assert (default.boundaries.theta, trd.boundaries.theta) == (0.2, 0.1)
    assert trd.monitored_event == "death related to the trial intervention"
    # a lower unacceptable rate pauses on fewer events
    assert trd.boundaries.rows[0].stop_at < default.boundaries.rows[0].stop_at


def test_the_default_rule_goes_only_when_removed_and_one_rule_must_stay(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with(
        textwrap.dedent(SECOND_RULE)
        + "      - id: MON-G4-CRS-ICANS\n        remove: true\n"
        + "        justification: Replaced by the death rule.\n"
    )
    resolved, problems = resolve(path)
    assert problems == []
    assert [r.id for r in resolved.elements["stopping-rules"].items_of(kind="monitoring-rule")] == [
        "MON-TRD"
    ]


def test_removing_every_monitoring_rule_is_an_error(product_with: Callable[[str], Path]) -> None:
    _, problems = resolve(
        product_with(
            """
            tailoring:
              stopping-rules:
                items:
                  - id: MON-G4-CRS-ICANS
                    remove: true
                justification: The product does not need this monitoring rule.
            """
        )
    )
    assert _codes(problems) == ["PR041"]


def test_like_must_name_a_framework_item(product_with: Callable[[str], Path]) -> None:
    _, problems = resolve(
        product_with(
            """
            tailoring:
              stopping-rules:
                items:
                  - id: MON-X
                    like: MON-G4-CRS
                    justification: A second rule shaped like the default one.
            """
        )
    )
    assert _codes(problems) == ["PR009"] and "did you mean 'MON-G4-CRS-ICANS'?" in problems[0]


# --------------------------------------------------------------------------- added agents, gene edits


def test_added_lymphodepletion_agent_is_a_justified_departure(minimal_product: Path) -> None:
    path = _allogeneic(minimal_product, donor="healthy-donor")
    agent = textwrap.dedent(
        """
        lymphodepletion_agents:
          - id: LD-ALEMTUZUMAB
            name: alemtuzumab
            agent_class: anti-CD52 antibody
            dose: 13 mg/day IV
            schedule: Days -5 to -3
        """
    )
    path.write_text(path.read_text("utf-8") + agent, "utf-8")
    _, problems = resolve(path)
    assert _codes(problems) == ["PR010"] and "LD-ALEMTUZUMAB" in problems[0]
    path.write_text(
        path.read_text("utf-8")
        + "    justification: The CD52-knockout cells resist it; host lymphocytes do not.\n"
        + "    trigger: allogeneic\n",
        "utf-8",
    )
    resolved, problems = resolve(path)
    assert problems == []
    (entry,) = resolved.tailoring_register
    assert entry.element_id == "lymphodepletion" and "alemtuzumab" in entry.product_value
    assert entry.trigger_id == "allogeneic"
    ld = resolved.elements["lymphodepletion"]
    assert "each additional lymphodepleting agent listed below" in ld.text
    assert "LD-ANTI-CD52" in {i.id for i in ld.items}
    br = next(
        i for i in resolved.elements["bridging-therapy"].items if i.id == "BR-NO-TCELL-DEPLETION"
    )
    assert "alemtuzumab" not in br.text  # it is part of the regimen, not prohibited
    # the protocol lists the agent where the text says "listed below"
    from generator import api

    markdown = api.check(path, clean=True).documents["protocol"].markdown
    section = markdown.split("**Lymphodepletion.**", 1)[1].split("**Bridging", 1)[0]
    assert "| alemtuzumab | 13 mg/day IV | Days -5 to -3 |" in section


def test_gene_edited_product_carries_editing_content(minimal_product: Path) -> None:
    plain, _ = resolve(minimal_product)
    assert "PRE-GENE-EDITING" not in {i.id for i in plain.elements["preclinical-evidence"].items}
    path = _edit(
        minimal_product,
        "  dose_unit: CAR+ viable T cells\n",
        "  dose_unit: CAR+ viable T cells\n  gene_editing:\n"
        "    - {target: TRAC, technology: CRISPR-Cas9, purpose: knock out the endogenous TCR}\n",
    )
    resolved, problems = resolve(path)
    assert problems == []
    assert "PRE-GENE-EDITING" in {i.id for i in resolved.elements["preclinical-evidence"].items}
    assert "CMC-GENE-EDITING" in {i.id for i in resolved.elements["cmc-readiness"].items}


# --------------------------------------------------------------------------- every justification counts


def _justification_spans(text: str) -> list[tuple[int, int, int]]:
    """(first line, last line, indent) of every `justification:` entry (0-based lines)."""
    lines = text.splitlines()
    spans = []
    for n, line in enumerate(lines):
        stripped = line.lstrip(" ")
        if not stripped.startswith("justification:"):
            continue
        indent = len(line) - len(stripped)
        end = n
        while end + 1 < len(lines) and (
            not lines[end + 1].strip()
            or len(lines[end + 1]) - len(lines[end + 1].lstrip()) > indent
        ):
            end += 1
        spans.append((n, end, indent))
    return spans


def _block(lines: list[str], anchor: int, indent: int) -> tuple[int, int]:
    """Lines of the mapping (at `indent`) that holds line `anchor`, 1-based and inclusive."""

    def inside(line: str) -> bool:
        lead = len(line) - len(line.lstrip())
        return not line.strip() or lead >= indent

    start = anchor
    while start > 0 and inside(lines[start - 1]):
        start -= 1
    if start > 0 and lines[start - 1].lstrip().startswith("- "):
        start -= 1  # the list item's first key sits on its '- ' line
    end = anchor
    while end + 1 < len(lines) and inside(lines[end + 1]):
        end += 1
    return start + 1, end + 1


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_removing_any_justification_fails_at_the_departure(example: Path, tmp_path: Path) -> None:
    """Each justification in an example carries a departure: delete it and `check` fails with a
    located error inside the tailoring entry it belonged to. An item's own justification falls
    back to its element's, so for an item the element's is deleted with it."""
    original = (example / "product.yaml").read_text("utf-8")
    spans = _justification_spans(original)
    assert spans
    folder = tmp_path / example.name
    shutil.copytree(example, folder)
    path = folder / "product.yaml"
    all_lines = original.splitlines()
    for first, last, indent in spans:
        doomed = set(range(first, last + 1))
        if indent > 4:  # an item's: its element's justification would cover the item
            element = [
                (f, la)
                for f, la, i in spans
                if i == 4 and _block(all_lines, f, 4)[0] <= first + 1 <= _block(all_lines, f, 4)[1]
            ]
            for f, la in element:
                doomed |= set(range(f, la + 1))
        lines = [line for n, line in enumerate(all_lines) if n not in doomed]
        path.write_text("\n".join(lines) + "\n", "utf-8")
        anchor = first - 1 - len([n for n in doomed if n < first - 1])
        low, high = _block(lines, anchor, indent)
        _, problems = api.resolve(path)
        errors = [p for p in problems if p.is_error and p.code in ("PR010", "PR003")]
        assert errors, f"line {first + 1}: removing the justification left no error"
        located = [p for p in errors if p.location is not None and low <= p.location.line <= high]
        assert located, f"line {first + 1}: no error inside lines {low}-{high}: " + "; ".join(
            p.format() for p in errors
        )
