"""Open insertion points are guided: `check --release` names each one's section and the
product-file key that fills it; `<...>` typed in the product file is one too; the starter
file has every key a fresh product needs; `explain` reaches list entries."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from generator import api
from generator.problems import Severity
from generator.starter import new_product

Run = Callable[..., object]


def test_typed_placeholder_counts_as_an_insertion_point(
    product_with: Callable[[str], Path],
) -> None:
    path = product_with("")
    before = len(api.check(path).insertion_points)
    text = path.read_text("utf-8").replace(
        "sponsor_name: Test Sponsor", 'sponsor_name: "<Sponsor name>"'
    )
    path.write_text(text, "utf-8")
    report = api.check(path, release=True)
    assert len(report.insertion_points) == before + 1
    point = next(p for p in report.documents["protocol"].open_points if p.text == "Sponsor name")
    assert point.fill == "title_page.sponsor_name"
    problem = next(
        p for p in report.problems if p.code == "PC001" and "<Sponsor name>" in p.message
    )
    assert problem.severity is Severity.ERROR
    assert problem.location is not None
    line = path.read_text("utf-8").splitlines()[problem.location.line - 1]
    assert "sponsor_name:" in line


def test_release_lists_each_point_with_its_section_and_key(minimal_product: Path) -> None:
    report = api.check(minimal_product, release=True)
    points = report.documents["protocol"].open_points
    assert points and all(p.fill for p in points), [p.text for p in points if not p.fill]
    oc = next(p for p in points if p.fill == "dose_escalation.true_dlt_scenarios")
    assert oc.section == "4.2.5 Adaptive or Novel Trial Design"
    assert "dose_escalation" not in oc.text  # the prompt speaks to the writer, not of keys
    listed = [p for p in report.problems if p.code == "PC001"]
    assert len(listed) == len(points)


def test_starter_has_every_key_a_fresh_product_fills(tmp_path: Path) -> None:
    product = new_product(tmp_path / "fresh")
    text = product.read_text("utf-8")
    report = api.check(product, release=True)
    assert not [p for p in report.errors if p.code != "PC001"], [p.format() for p in report.errors]
    fills = {f for p in report.documents["protocol"].open_points for f in p.fill.split(" or ")}
    assert fills
    for fill in fills:
        last = next(part for part in reversed(fill.split(".")) if not part.isdigit())
        assert re.search(rf"(^|\s|#\s*){re.escape(last)}:", text, re.M), fill
    # every open point of a fresh product is a `<...>` in the starter or a commented key
    typed = {p.text for p in report.documents["protocol"].open_points}
    assert "Trial schema figure" in typed


def test_explain_reaches_list_entries_by_id(cli: Run) -> None:
    product = Path(__file__).resolve().parents[2] / "examples" / "cd19-cart-lbcl" / "product.yaml"
    result = cli("explain", product, "dose_escalation.dose_levels.DL2")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "dose: 100,000,000" in result.stdout  # type: ignore[attr-defined]
    assert "label: 100 × 10⁶" in result.stdout  # type: ignore[attr-defined]
    result = cli("explain", product, "objectives.OBJ-P1")
    assert "level: primary" in result.stdout  # type: ignore[attr-defined]
    result = cli("explain", product, "objectives.OBJ-P1.endpoint")
    assert "Incidence of dose-limiting toxicities" in result.stdout  # type: ignore[attr-defined]
