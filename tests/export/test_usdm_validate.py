"""USDM checks: the vendored schema and the referential rules, located at the product field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import api
from generator.export import usdm as usdm_module
from generator.export.usdm import UsdmExport, build_usdm, criterion_items
from generator.export.usdm_validate import usdm_notes, validate_usdm
from generator.problems import Location, Severity
from generator.resolve import ResolvedProtocol
from tests.export.test_usdm_mapping import SECTIONS, XHTML

FALLBACK = Location("product.yaml")


@pytest.fixture(scope="module")
def minimal_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[ResolvedProtocol, UsdmExport]:
    import shutil

    from tests.conftest import FIXTURES

    folder = tmp_path_factory.mktemp("minimal")
    shutil.copy(FIXTURES / "minimal" / "product.yaml", folder / "product.yaml")
    resolved, _ = api.resolve(folder / "product.yaml")
    xhtml = {i.id: XHTML.format(i.text) for i in criterion_items(resolved)}
    return resolved, build_usdm(resolved, SECTIONS, xhtml)


def tampered(export: UsdmExport, change: Callable[[dict[str, Any]], None]) -> UsdmExport:
    data = copy.deepcopy(export.data)
    change(data["study"]["versions"][0])
    return UsdmExport(data=data, sources=export.sources, sections=export.sections)


def line_of(resolved: ResolvedProtocol, text: str) -> int:
    lines = resolved.product_document.path.read_text("utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def test_a_built_document_has_no_problems(
    minimal_export: tuple[ResolvedProtocol, UsdmExport],
) -> None:
    resolved, export = minimal_export
    assert validate_usdm(export, fallback=FALLBACK) == []
    assert usdm_notes(resolved) == []


def test_a_schema_violation_points_at_the_product_field(
    minimal_export: tuple[ResolvedProtocol, UsdmExport],
) -> None:
    resolved, export = minimal_export

    def drop_title_type(version: dict[str, Any]) -> None:
        del version["titles"][0]["type"]

    (problem,) = validate_usdm(tampered(export, drop_title_type), fallback=FALLBACK)
    assert problem.code == "PU001"
    assert "'type' is a required property" in problem.message
    assert problem.location is not None
    assert problem.location.file.endswith("product.yaml")
    assert problem.location.line == line_of(resolved, "full_title:")


def test_a_schema_violation_inside_a_study_design_names_the_real_fault(
    minimal_export: tuple[ResolvedProtocol, UsdmExport],
) -> None:
    resolved, export = minimal_export

    def bad_enrolment(version: dict[str, Any]) -> None:
        population = version["studyDesigns"][0]["population"]
        population["plannedEnrollmentNumber"]["maxValue"]["value"] = "eighteen"

    (problem,) = validate_usdm(tampered(export, bad_enrolment), fallback=FALLBACK)
    assert "'eighteen' is not of type 'number'" in problem.message
    assert problem.location is not None
    assert problem.location.line == line_of(resolved, "target_participants:")


def test_duplicate_ids_and_dangling_or_mistyped_references(
    minimal_export: tuple[ResolvedProtocol, UsdmExport],
) -> None:
    resolved, export = minimal_export

    def break_references(version: dict[str, Any]) -> None:
        version["studyIdentifiers"][0]["scopeId"] = "Organization_nowhere"
        design = version["studyDesigns"][0]
        design["eligibilityCriteria"][0]["criterionItemId"] = version["titles"][0]["id"]
        design["objectives"][0]["id"] = design["arms"][0]["id"]

    problems = validate_usdm(tampered(export, break_references), fallback=FALLBACK)
    by_code = {p.code: p for p in problems}
    assert set(by_code) == {"PU002", "PU003", "PU004"}
    assert "Organization_nowhere" in by_code["PU003"].message
    assert by_code["PU003"].location is not None
    assert by_code["PU003"].location.line == line_of(resolved, "sponsor_protocol_id:")
    assert "expected EligibilityCriterionItem" in by_code["PU004"].message
    # a framework criterion points at its framework file and line
    assert by_code["PU004"].location is not None
    assert by_code["PU004"].location.file.endswith("eligibility.yaml")
    assert by_code["PU004"].location.line > 1


def test_text_that_is_not_xhtml_is_reported(
    minimal_export: tuple[ResolvedProtocol, UsdmExport],
) -> None:
    _, export = minimal_export

    def break_text(version: dict[str, Any]) -> None:
        version["eligibilityCriterionItems"][0]["text"] = "<p>unclosed"
        version["narrativeContentItems"][0]["text"] = "<p>not a div</p>"

    problems = validate_usdm(tampered(export, break_text), fallback=FALLBACK)
    assert [p.code for p in problems] == ["PU005", "PU005"]


def test_an_anchor_that_did_not_become_a_heading_is_a_warning(
    minimal_export: tuple[ResolvedProtocol, UsdmExport],
) -> None:
    _, export = minimal_export
    markdown = "# 1 PROTOCOL SUMMARY {#m11-1}\n\nText.\n## 9.9 Glued {#m11-9-9}\n"
    (problem,) = validate_usdm(export, fallback=FALLBACK, markdown=markdown)
    assert (problem.code, problem.severity) == ("PU006", Severity.WARNING)
    assert "9.9 Glued" in problem.message


def test_notes_where_the_product_says_more_than_usdm_holds(
    product_with: Callable[[str], Path], minimal_product: Path
) -> None:
    text = minimal_product.read_text("utf-8")
    minimal_product.write_text(
        text.replace("number_of_arms: 1", "number_of_arms: 2").replace(
            "age_range: 18 years and older", "age_range: adults"
        ),
        "utf-8",
    )
    resolved, _ = api.resolve(minimal_product)
    notes = {p.code: p for p in usdm_notes(resolved)}
    assert set(notes) == {"PU007", "PU008"}
    assert notes["PU007"].severity is Severity.WARNING
    assert notes["PU007"].location is not None
    assert notes["PU007"].location.line == line_of(resolved, "number_of_arms:")
    assert notes["PU008"].location is not None
    assert notes["PU008"].location.line == line_of(resolved, "age_range:")


def test_check_reports_a_usdm_fault_at_the_product_line_and_build_writes_nothing(
    minimal_product: Path, tmp_path: Path, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = usdm_module._Builder.titles

    def titles_without_type(self: Any) -> list[dict[str, Any]]:
        out = original(self)
        for title in out:
            del title["type"]
        return out

    monkeypatch.setattr(usdm_module._Builder, "titles", titles_without_type)
    report = api.check(minimal_product)
    errors = [p for p in report.errors if p.code == "PU001"]
    assert len(errors) == 1
    assert errors[0].location is not None
    lines = minimal_product.read_text("utf-8").splitlines()
    assert "full_title:" in lines[errors[0].location.line - 1]
    out = tmp_path / "out"
    result = cli("build", minimal_product, "-o", out)
    assert result.exit_code == 1
    assert "PU001" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_check_builds_the_usdm_document_and_finds_nothing_wrong(minimal_product: Path) -> None:
    report = api.check(minimal_product)
    assert report.usdm is not None and report.usdm.startswith(b"{")
    assert not [p for p in report.problems if p.code.startswith("PU")]
