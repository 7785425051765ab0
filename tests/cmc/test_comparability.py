"""Comparability studies (issue 13): outcomes computed from the lots, the derived conclusion, the
rules CM110-CM118 located in cmc.yaml, and what Module 3 and the readiness document show."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cmc.api import analyse, cmc_problems, render_cmc
from generator.cmc.comparability_view import comparability_figures
from generator.cmc.plots import PlotJob, draw, draw_all
from generator.problems import Severity
from tests.cmc.helpers import edit, line_of, resolved

POST_LOTS = (
    "lots_post_change: [ENG-P2-01, ENG-P2-02, ENG-P2-03, PCT19-004, PCT19-005, PCT19-006, "
    "PCT19-007, PCT19-008, PCT19-009]"
)


def problems(folder: Path, code: str) -> list[str]:
    return [p.format() for p in cmc_problems(resolved(folder)) if p.code == code]


def study(folder: Path) -> object:
    loaded = analyse(resolved(folder))
    assert loaded is not None
    return loaded[1].comparability[0]


def test_outcomes_match_hand_computed_values(cd19: Path) -> None:
    outcome = study(cd19)
    rows = {a.compared.test: a for a in outcome.attributes}  # type: ignore[attr-defined]
    car = rows["car_expression"]
    # CAR expression, lots.csv: P1 42.2 37.5 38.8 55.8 37.4 37.3 35.9 (mean 40.7, SD 6.9474);
    # P2 44.0 39.6 47.1 46.3 32.6 42.8 52.7 37.7 41.3 (mean 42.678, SD 5.8373); pooled SD
    # sqrt((6 x 6.9474^2 + 8 x 5.8373^2) / 14) = 6.3369, SE = 6.3369 x sqrt(1/7 + 1/9) = 3.1935,
    # t(0.95, 14) = 1.761310: 90 % CI 1.9778 -/+ 5.6247 = -3.6470 to 7.6026, inside +/-10
    assert (car.pre.n, car.post.n) == (7, 9)
    assert car.pre.mean == pytest.approx(40.7) and car.pre.sd == pytest.approx(6.94742, abs=1e-5)
    assert car.difference == pytest.approx(1.97778, abs=1e-5)
    assert car.ci_lower == pytest.approx(-3.64700, abs=1e-4)
    assert car.ci_upper == pytest.approx(7.60255, abs=1e-4)
    assert car.outcome == "pass"
    vcn = rows["vcn"]
    # VCN P1 1.36 1.17 2.32 3.05 1.51 1.74 1.88: mean 1.86143, SD 0.64435; mean + 3 SD = 3.79446
    # (the lower end, -0.0716, is shown at 0: a copy number cannot be negative)
    assert vcn.range_upper == pytest.approx(3.79446, abs=1e-5)
    assert vcn.range_lower == 0
    assert vcn.n_within == 9 and vcn.outcome == "pass"
    assert rows["cd4_cd8_ratio"].outcome == "descriptive"
    assert outcome.conclusion == "comparable"  # type: ignore[attr-defined]


def test_a_margin_the_interval_crosses_gives_not_comparable(cd19: Path) -> None:
    edit(cd19 / "cmc.yaml", "          margin: 10\n", "          margin: 5\n")  # CI up to 7.6
    outcome = study(cd19)
    assert outcome.conclusion == "not comparable"  # type: ignore[attr-defined]
    assert outcome.reason == "failed"  # type: ignore[attr-defined]


def test_a_study_not_complete_is_not_yet_concluded(cd19: Path) -> None:
    edit(
        cd19 / "cmc.yaml", "      status: complete\n      report: CR-PC-01", "      status: ongoing"
    )
    assert study(cd19).conclusion == "not yet concluded"  # type: ignore[attr-defined]


def test_a_typed_conclusion_that_contradicts_the_results_is_an_error(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "      report: CR-PC-01\n",
        "      report: CR-PC-01\n      conclusion: not comparable\n",
    )
    found = problems(cd19, "CM114")
    line = line_of(cmc, "conclusion: not comparable")
    column = cmc.read_text("utf-8").splitlines()[line - 1].index("not comparable") + 1
    assert found == [
        f"cd19-cart-lbcl/cmc.yaml:{line}:{column}: CM114: comparability of 'PC-01' states "
        "'not comparable' but its results give 'comparable' (all pass)\n"
        "    hint: the conclusion is computed from the lots: remove 'conclusion', or correct the "
        "study (lots, margins, ranges, status)"
    ], found
    edit(cmc, "conclusion: not comparable", "conclusion: comparable")
    assert problems(cd19, "CM114") == []


def test_an_unknown_lot_id_is_located_at_its_list_item(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "ENG-P2-01, ENG-P2-02, ENG-P2-03, PCT19-004",
        "ENG-P2-01, ENG-P2-2, ENG-P2-03, PCT19-004",
    )
    found = problems(cd19, "CM110")
    line = line_of(cmc, "lots_post_change:")
    column = (cmc.read_text("utf-8").splitlines()[line - 1].index("ENG-P2-2,")) + 1
    assert len(found) == 1, found
    assert found[0].startswith(f"cd19-cart-lbcl/cmc.yaml:{line}:{column}: ")
    assert "names lot 'ENG-P2-2', not in cd19-cart-lbcl/lots.csv" in found[0]
    assert "ENG-P2-02" in found[0]  # did you mean


def test_a_lot_of_the_wrong_process_version_is_an_error(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "PCT19-002, PCT19-003]", "PCT19-002, PCT19-004]")
    found = problems(cd19, "CM111")
    assert len(found) == 1, found
    assert f"cmc.yaml:{line_of(cmc, 'lots_pre_change:')}:" in found[0]
    assert "lot 'PCT19-004' under lots_pre_change was made by process P2, not P1" in found[0]
    row = line_of(cd19 / "lots.csv", "PCT19-004,")
    assert f"lots.csv row {row} gives process_version P2" in found[0]


def test_statistics_on_a_qualitative_test_are_refused(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "        - {test: cd3_purity, tier: 3, acceptance: descriptive}",
        "        - {test: identity, tier: 2, acceptance: quality-range, k: 3}",
    )
    found = problems(cd19, "CM113")
    assert len(found) == 1 and "'identity' has qualitative results" in found[0]


def test_equivalence_needs_a_margin(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "          margin: 340\n", "")
    found = [p.format() for p in cmc_problems(resolved(cd19)) if p.is_error]
    assert found and "needs 'margin'" in found[0]


def test_dosed_post_change_lots_need_comparable_at_pivotal(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    assert problems(cd19, "CM115") == []  # the example concludes 'comparable'
    edit(cmc, "          margin: 10\n", "          margin: 5\n")
    found = problems(cd19, "CM115")
    assert len(found) == 1, found
    assert "post-change lots were dosed (PCT19-004, PCT19-005, PCT19-006 and 6 more)" in found[0]
    assert "'not comparable'" in found[0]
    assert f"cmc.yaml:{line_of(cmc, '    comparability:')}:" in found[0]
    assert all(
        p.severity is Severity.ERROR for p in cmc_problems(resolved(cd19)) if p.code == "CM115"
    )


def test_no_conclusion_needed_at_ind(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    edit(cmc, "          margin: 10\n", "          margin: 5\n")
    edit(cmc, "stage: pivotal", "stage: ind")
    assert problems(cd19, "CM115") == []


def test_a_legacy_plan_still_loads_and_is_not_yet_concluded(bcma: Path) -> None:
    # bcma keeps the count-only plan: no lots, bare test ids (descriptive)
    outcome = study(bcma)
    assert outcome.conclusion == "not yet concluded"  # type: ignore[attr-defined]
    assert [a.compared.acceptance for a in outcome.attributes] == ["descriptive"] * 4  # type: ignore[attr-defined]
    assert [p for p in cmc_problems(resolved(bcma)) if p.code.startswith("CM11")] == []


def test_module3_and_readiness_show_the_study(cd19: Path) -> None:
    docs = render_cmc(resolved(cd19), assets=()).documents
    module3 = docs["module3"].markdown
    regional = module3[module3.index("# 3.2.R ") :]
    assert (
        "| CAR expression (% of viable CD3+) | 1 | equivalence of means | ± 10 | n = 7; 40.7 ± 6.95 "
        "| n = 9; 42.7 ± 5.84 | 90 % CI of difference -3.65 to 7.6 | Met |"
    ) in regional
    assert "![Vector copy number: lots before and after PC-01, with the quality range]" in regional
    assert "is **comparable** to the product made by process P1" in regional
    development = module3[module3.index("3.2.S.2.6 ") : module3.index("3.2.S.3 ")]
    assert "| Potency (IFN-γ release) | 1 | equivalence of means |" in development
    readiness = docs["cmc-readiness"].markdown
    assert (
        "| PC-01: Closed rapid-expansion vessels (P1 → P2) | complete | 7/9 | 4 of 4 | 9 | comparable"
        in readiness
    )


def test_a_figure_per_numeric_attribute(cd19: Path) -> None:
    loaded = analyse(resolved(cd19))
    assert loaded is not None
    jobs: list[PlotJob] = []
    figures = comparability_figures(*loaded, jobs)
    assets = draw_all(jobs)
    assert sorted(figures) == [
        f"PC-01/{t}"
        for t in sorted(
            ["potency_ifng", "car_expression", "viability", "vcn", "cd4_cd8_ratio", "cd3_purity"]
        )
    ]
    png = assets["figures/comparability-PC-01-vcn.png"]
    assert png.startswith(b"\x89PNG")
    assert assets["figures/comparability-PC-01-vcn.svg"].lstrip().startswith(b"<?xml")
    again: list[PlotJob] = []
    comparability_figures(*loaded, again)
    fresh: dict[str, bytes] = {}
    for job in again:
        fresh.update(draw(job))  # drawn again here, not from the cache
    assert fresh == assets  # byte-identical


def test_readiness_marks_a_not_comparable_change_missing_once(cd19: Path) -> None:
    edit(cd19 / "cmc.yaml", "          margin: 10\n", "          margin: 5\n")
    loaded = analyse(resolved(cd19))
    assert loaded is not None
    pivotal = next(g for g in loaded[1].readiness if g.gate == "pivotal")
    item = next(i for i in pivotal.items if i.kind == "process-change")
    assert item.status == "missing" and item.reasons == ("not-comparable",)
    # CM115 already names the dosed lots: the readiness rule does not say it again
    assert problems(cd19, "CM080") == []
    readiness = render_cmc(resolved(cd19), assets=()).documents["cmc-readiness"].markdown
    assert "the comparability results do not show the products comparable" in readiness


def test_lot_ids_in_the_study_text_are_data_not_markup(cd19: Path) -> None:
    edit(cd19 / "lots.csv", "ENG-01,", "ENG-*01*,")
    edit(cd19 / "cmc.yaml", "lots_pre_change: [ENG-01, ", 'lots_pre_change: ["ENG-*01*", ')
    module3 = render_cmc(resolved(cd19), assets=()).documents["module3"].markdown
    assert "before the change (P1) ENG-\\*01\\*, ENG-02" in module3
