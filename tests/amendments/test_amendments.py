"""Protocol amendments: Amendment Details checks, the computed summary of changes, --since."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from generator import api
from generator.problems import ProblemsError, Severity
from generator.protocol_documents import amendment_changes
from tests.conftest import ROOT

Run = Callable[..., Any]
EXAMPLE = ROOT / "examples" / "cd19-cart-lbcl"
AMENDMENT = {
    "identifier": "Amendment 1",
    "scope": "Global",
    "substantial": True,
    "primary_reason": "New Safety Information Available",
    "rationale": "Changes after the first cohorts.",
    "previous_version": "previous.yaml",
}


def _yaml() -> YAML:
    yaml = YAML()
    yaml.width = 4096
    return yaml


def _amended_copy(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """The CD19 example's version 1.0 as previous.yaml, and product.yaml = version 1.0 plus
    `edit`, declared as Amendment 1 of it."""
    folder = tmp_path / "cd19"
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLE / "history" / "product-v1.0.yaml", folder / "previous.yaml")
    yaml = _yaml()
    data = yaml.load((EXAMPLE / "history" / "product-v1.0.yaml").read_text("utf-8"))
    data.pop("cmc", None)
    tp = data["title_page"]
    tp["original_protocol"] = False
    tp["version"] = "2.0"
    tp["amendment"] = dict(AMENDMENT)
    edit(data)
    with (folder / "product.yaml").open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    return folder / "product.yaml"


def _rows(path: Path, since: str | None = None) -> list[tuple[str, str]]:
    resolved, problems = api.resolve(path, since=since)
    assert not [p for p in problems if p.severity is Severity.ERROR], problems
    changes = amendment_changes(resolved)
    assert changes is not None
    return [(c.section, c.description) for c in changes]


def _inject(data: dict[str, Any]) -> None:
    data["title_page"]["short_title"] = "PCT-19 in LBCL"
    dose = data["dose_escalation"]
    dose["dose_levels"].append({"id": "DL4", "dose": 400000000, "label": "400 × 10⁶"})
    for rates, extra in zip(dose["true_dlt_scenarios"].values(), (0.5, 0.16, 0.75), strict=True):
        rates.append(extra)
    data["tailoring"]["eligibility"] = {
        "items": [
            {
                "id": "INC-ANC",
                "parameters": {"anc_min": 1500},
                "justification": "A higher threshold protects participants from prolonged "
                "neutropenia after lymphodepletion.",
            }
        ]
    }
    data["sections"]["risk_summary"] = "Cytokine release syndrome and ICANS are the main risks."
    data["objectives"] = [o for o in data["objectives"] if o["id"] != "OBJ-E1"]


def test_summary_of_changes_lists_every_injected_change_and_nothing_else(tmp_path: Path) -> None:
    rows = _rows(_amended_copy(tmp_path, _inject))
    assert rows == [
        (
            "Title Page",
            "Short title changed from PCT-19 in relapsed or refractory LBCL to PCT-19 in LBCL",
        ),
        ("2.2.1 Risk Summary and Mitigation Strategy", "Text revised"),
        (
            "3.3 Exploratory Objective(s)",
            "Exploratory objective removed: To explore serum cytokines and CD19 expression at relapse",
        ),
        (
            "4.1 Description of Trial Design",
            "Dose level DL4 (400 × 10⁶ CAR+ viable T cells (flat dose)) added",
        ),
        (
            "4.2.5 Adaptive or Novel Trial Design",
            "Assumed true DLT rates for the operating characteristics revised",
        ),
        (
            "4.2.5 Adaptive or Novel Trial Design",
            "Operating characteristics of the dose-escalation design recalculated",
        ),
        (
            "5.2 Inclusion Criteria",
            "Inclusion criterion: Minimum absolute neutrophil count changed from 1000/µL to 1500/µL",
        ),
        (
            "12.4 Tailoring Register",
            "Entry added: Eligibility Criteria and Treatment Gates, 1500/µL",
        ),
    ]


def test_no_change_gives_an_empty_summary(tmp_path: Path) -> None:
    assert _rows(_amended_copy(tmp_path, lambda data: None)) == []


def test_example_summary_is_in_the_protocol_after_the_title_page() -> None:
    report = api.check(EXAMPLE / "product.yaml")
    assert not report.errors, report.errors
    text = report.documents["protocol"].markdown
    details = text.index("**Amendment Details**")
    assert text.index("::: {.title-page}") < details < text.index("# 1 PROTOCOL SUMMARY")
    table = text[details : text.index("Table: Summary of changes since version 1.0")]
    assert "| 4.1 Description of Trial Design | Dose level DL4 (400 × 10⁶" in table
    assert "changed from 14 days to 21 days" in table
    assert "changed from 75,000/µL to 50,000/µL" in table
    # every row carries the writer's rationale: no open insertion point in the table
    assert "{.insertion}" not in table


def test_original_protocol_false_without_amendment_fails_check_at_the_line(
    minimal_product: Path, cli: Run
) -> None:
    text = minimal_product.read_text("utf-8")
    text = text.replace('  version: "1.0"', '  original_protocol: false\n  version: "1.0"')
    minimal_product.write_text(text, "utf-8")
    line = text.splitlines().index("  original_protocol: false") + 1
    result = cli("check", minimal_product)
    assert result.exit_code == 1, result.output
    assert f"product.yaml:{line}:22: PR070" in result.stderr, result.stderr


def test_amendment_on_the_original_protocol_is_an_error(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["title_page"]["original_protocol"] = True

    report = api.check(_amended_copy(tmp_path, edit))
    assert [p.code for p in report.errors] == ["PR071"]


def test_change_without_rationale_is_an_error_for_a_substantial_amendment(
    tmp_path: Path,
) -> None:
    def edit(data: dict[str, Any]) -> None:
        _inject(data)
        data["changes"] = [{"about": "risk_summary", "rationale": "Shorter summary."}]

    path = _amended_copy(tmp_path, edit)
    report = api.check(path)
    missing = [p for p in report.errors if p.code == "PR072"]
    assert len(missing) == 7  # every row of the summary but the risk summary's
    assert any("Dose level DL4" in p.message and "'- about: DL4'" in p.hint for p in missing)
    assert all(p.location is not None and p.location.line for p in missing)

    yaml = _yaml()
    data = yaml.load(path.read_text("utf-8"))
    data["title_page"]["amendment"]["substantial"] = False
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    report = api.check(path)
    assert not [p for p in report.errors if p.code == "PR072"]
    assert len([p for p in report.problems if p.code == "PR072"]) == 7


def test_rationale_keyed_by_nothing_that_changed_is_a_warning(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["changes"] = [{"about": "DL9", "rationale": "No such dose level."}]

    report = api.check(_amended_copy(tmp_path, edit))
    stale = [p for p in report.problems if p.code == "PR073"]
    assert len(stale) == 1 and stale[0].severity is Severity.WARNING


def test_prior_amendments_render_in_section_12_3(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["prior_amendments"] = [
            {
                "identifier": "Amendment 0.1",
                "version": "1.1",
                "version_date": "2026-11-01",
                "scope": "Not Global",
                "regions": ["United States"],
                "substantial": False,
                "primary_reason": "Inconsistency And/Or Error In The Protocol",
                "rationale": "Typographical corrections.",
                "changes": [
                    {
                        "section": "8.2 Screening/Baseline Assessments and Procedures",
                        "description": "Visit window corrected",
                        "rationale": "Typographical error.",
                        "substantial": False,
                    }
                ],
            }
        ]

    report = api.check(_amended_copy(tmp_path, edit))
    text = report.documents["protocol"].markdown
    section = text[text.index("## 12.3 ") : text.index("## 12.4 ")]
    assert "**Amendment 0.1 (version 1.1, 2026-11-01).** Non-substantial amendment" in section
    assert "not global (United States)" in section
    assert (
        "| 8.2 Screening/Baseline Assessments and Procedures | Visit window corrected |" in section
    )


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        check=True,
        capture_output=True,
    )


def test_since_reads_a_git_revision_without_checkout(tmp_path: Path) -> None:
    path = _amended_copy(tmp_path, lambda data: None)
    folder = path.parent
    (folder / "previous.yaml").unlink()
    shutil.copy(EXAMPLE / "history" / "product-v1.0.yaml", path)
    _git(folder, "init", "-q")
    _git(folder, "add", "product.yaml")
    _git(folder, "commit", "-q", "-m", "v1.0")
    current = _amended_copy(tmp_path / "next", _inject).read_text("utf-8")
    path.write_text(current.replace("previous_version: previous.yaml", ""), "utf-8")
    rows = _rows(path, since="HEAD")
    assert (
        "4.1 Description of Trial Design",
        "Dose level DL4 (400 × 10⁶ CAR+ viable T cells (flat dose)) added",
    ) in rows
    assert len(rows) == 8
    # the working tree is untouched: git show, not checkout
    assert path.read_text("utf-8") == current.replace("previous_version: previous.yaml", "")


def test_since_unknown_revision_exits_2_with_one_line(tmp_path: Path, cli: Run) -> None:
    path = _amended_copy(tmp_path, _inject)
    _git(path.parent, "init", "-q")
    _git(path.parent, "add", ".")
    _git(path.parent, "commit", "-q", "-m", "v2")
    result = cli("build", path, "-o", tmp_path / "out", "--since", "no-such-tag")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "no-such-tag" in result.stderr and "unknown revision" in result.stderr
    assert not (tmp_path / "out").exists()


def test_previous_version_pinning_an_unshipped_framework_is_reported(tmp_path: Path) -> None:
    path = _amended_copy(tmp_path, lambda data: None)
    previous = path.parent / "previous.yaml"
    previous.write_text(
        previous.read_text("utf-8").replace(
            "framework: early-phase-cell-therapy@1", "framework: early-phase-cell-therapy@0"
        ),
        "utf-8",
    )
    with pytest.raises(ProblemsError) as exc:
        api.resolve(path)
    assert [p.code for p in exc.value.problems] == ["PH002"]
    assert "previous.yaml" in str(exc.value.problems[0].location)


def test_usdm_export_carries_the_amendment_with_its_reasons_and_changes() -> None:
    report = api.check(EXAMPLE / "product.yaml")
    assert report.usdm is not None
    version = json.loads(report.usdm)["study"]["versions"][0]
    (amendment,) = version["amendments"]
    assert amendment["name"] == "Amendment 1"
    # reason codes from the CDISC codelist C207415 shipped in schemas/usdm/usdm-ct.json
    ct = json.loads((ROOT / "schemas" / "usdm" / "usdm-ct.json").read_text("utf-8"))
    reasons = {t["decode"]: t["code"] for t in ct["terms"] if t["entity"] == "StudyAmendmentReason"}
    assert amendment["primaryReason"]["code"]["code"] == reasons["New Safety Information Available"]
    assert [r["code"]["code"] for r in amendment["secondaryReasons"]] == [
        reasons["New Data Available (Other Than Safety Data)"],
        reasons["Recruitment Difficulty"],
    ]
    assert [s["type"]["decode"] for s in amendment["geographicScopes"]] == ["Global"]
    resolved, _ = api.resolve(EXAMPLE / "product.yaml")
    changes = amendment_changes(resolved)
    assert changes is not None
    assert [
        (c["changedSections"][0]["sectionNumber"], c["summary"]) for c in amendment["changes"]
    ] == [(c.number, c.description) for c in changes]
    assert all(c["rationale"] for c in amendment["changes"])
    assert not [p for p in report.problems if p.code.startswith("PU")], report.problems


def test_site_has_an_amendments_page_for_the_amended_example() -> None:
    from generator.site.pages import SiteOptions, generate_pages

    pages = generate_pages(
        SiteOptions(examples=[EXAMPLE / "product.yaml"], framework_pages=False, downloads=False)
    )
    page = next(p for p in pages if p.src_uri.endswith("/amendments.md"))
    assert isinstance(page.content, str)
    content = html.unescape(page.content)
    assert "## Amendment 1: version 2.0 (2027-03-01) — this version\n\n" in content
    assert "| 4.1 Description of Trial Design | Dose level DL4 (400 × 10⁶" in content
    assert "| <code>DL4</code> |" in content
    overview = next(p for p in pages if p.src_uri == page.src_uri.replace("amendments", "index"))
    assert "(amendments.md)" in str(overview.content)


def test_since_accepts_a_path_to_the_previous_product_file(tmp_path: Path) -> None:
    path = _amended_copy(tmp_path, _inject)
    previous = path.parent / "previous.yaml"
    moved = previous.rename(tmp_path / "v1.yaml")
    path.write_text(path.read_text("utf-8").replace("previous_version: previous.yaml", ""), "utf-8")
    assert len(_rows(path, since=str(moved))) == 8


def test_a_build_since_another_version_is_not_reused_by_the_default_build(
    tmp_path: Path,
) -> None:
    from generator.build import build_product

    def edit(data: dict[str, Any]) -> None:
        _inject(data)
        data["title_page"]["amendment"]["substantial"] = False  # rationales may wait

    path = _amended_copy(tmp_path, edit)
    _git(path.parent, "init", "-q")
    _git(path.parent, "add", ".")
    _git(path.parent, "commit", "-q", "-m", "v2")
    out = tmp_path / "out"
    build_product(path, out, formats=("md",), since="HEAD")
    since_head = (out / "protocol.md").read_text("utf-8")
    assert "No changes to the protocol content" in since_head
    again = build_product(path, out, formats=("md",))
    assert not again.skipped
    assert "Dose level DL4" in (out / "protocol.md").read_text("utf-8")


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "long-name"])
def test_since_never_reads_a_special_file(tmp_path: Path, cli: Run, kind: str) -> None:
    """A FIFO would block, /dev/zero never ends, a 5,000-character name is no path: each is a
    one-line usage error (exit 2), nothing is read or written."""
    import os

    path = _amended_copy(tmp_path, _inject)
    since = {
        "fifo": str(tmp_path / "fifo"),
        "device": "/dev/zero",
        "folder": str(tmp_path),
        "long-name": "a" * 5000,
    }[kind]
    if kind == "fifo":
        os.mkfifo(since)
    for args in (("check", path), ("build", path, "-o", tmp_path / "out")):
        result = cli(*args, "--since", since)
        assert result.exit_code == 2, result.output
        assert result.stderr.strip().count("\n") == 0, result.stderr
        assert "Traceback" not in result.output and "Errno" not in result.stderr
    assert not (tmp_path / "out").exists()
