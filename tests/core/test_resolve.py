"""Merging product overrides onto the framework: by id, with provenance and a tailoring register."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from generator import api
from generator.resolve import ResolvedProtocol


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
              - id: DLT-GVHD
                text: Acute graft-versus-host disease of grade 2 or higher.
                justification: The allogeneic product can cause graft-versus-host disease.
                trigger: allogeneic
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
    assert ids[-1] == "DLT-GVHD"  # added items go after the framework's
    by_id = {i.id: i for i in dlt.items}
    assert by_id["DLT-GVHD"].status == "added"
    assert (
        by_id["DLT-CRS-G4"].status == "replaced"
        and by_id["DLT-CRS-G4"].text == "Grade 4 CRS (ASTCT)."
    )
    assert by_id["DLT-G5"].status == "framework"
    subjects = sorted(e.subject for e in resolved.tailoring_register)
    assert subjects == [
        "item DLT-CRS-G4 (replaced)",
        "item DLT-EXCL-FEVER (removed)",
        "item DLT-GVHD (added)",
    ]
    gvhd = next(e for e in resolved.tailoring_register if "GVHD" in e.subject)
    assert gvhd.justification.startswith("The allogeneic") and gvhd.trigger_id == "allogeneic"
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
            justification: Later-onset toxicity needs a longer window.
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
