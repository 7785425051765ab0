"""Module 3 content and the CMC content rules (generator/cmc/content_rules.py)."""

from __future__ import annotations

import re
from pathlib import Path

from generator.cmc.api import analyse, cmc_problems, render_cmc
from generator.problems import Severity
from tests.cmc.helpers import edit, line_of, resolved


def _module3(folder: Path) -> str:
    return render_cmc(resolved(folder), assets=()).documents["module3"].markdown


def _section(markdown: str, number: str) -> str:
    """The text of one Module 3 section, up to the next heading."""
    match = re.search(rf"^#+ {re.escape(number)} .*?$(.*?)(?=^#)", markdown, re.M | re.S)
    assert match, number
    return match.group(1)


def _problems(folder: Path, code: str) -> list[str]:
    return [p.format() for p in cmc_problems(resolved(folder)) if p.code == code]


def test_adventitious_agent_tests_are_the_flagged_ones(cd19: Path) -> None:
    text = _section(_module3(cd19), "3.2.A.2")
    listed = text.split("replication-competent virus:", 1)[1]
    for title in ("Sterility", "Gram stain", "Mycoplasma", "Replication-competent lentivirus"):
        assert title in listed
    # safety attributes that are not adventitious agents
    assert "Vector copy number" not in listed and "Endotoxin" not in listed


def test_drug_product_manufacture_shows_only_drug_product_steps(cd19: Path) -> None:
    markdown = _module3(cd19)
    p33 = _section(markdown, "3.2.P.3.3")
    assert "S6: Formulation and cryopreservation" in p33
    assert "S5:" not in p33 and "S1:" not in p33
    p34 = _section(markdown, "3.2.P.3.4")
    assert "(S6)" in p34 and "(S1)" not in p34 and "(S5)" not in p34
    assert "3.2.S.2.4" in p34
    s22 = _section(markdown, "3.2.S.2.2")
    assert "S5: Bead removal and harvest" in s22 and "S6:" not in s22


def test_shelf_life_on_an_earlier_process_is_a_warning(cd19: Path) -> None:
    cmc = cd19 / "cmc.yaml"
    found = [p for p in _problems(cd19, "CM093") if "'ST-01'" in p]
    line = line_of(cmc, "process_version: P1")
    assert len(found) == 1 and found[0].startswith(f"cd19-cart-lbcl/cmc.yaml:{line}:")
    assert (
        "'ST-01' claims 12 months and is on lots of process P1, not of the current process P2"
        in found[0]
    )
    assert all(
        p.severity is Severity.WARNING for p in cmc_problems(resolved(cd19)) if p.code == "CM093"
    )
    edit(cmc, "process_version: P1\n", "process_version: P9\n")
    assert len(_problems(cd19, "CM092")) == 1


def test_stability_table_shows_the_process_version(cd19: Path) -> None:
    assert "| ST-01 | Shelf life | P1 |" in _section(_module3(cd19), "3.2.P.8.1")


def test_release_test_without_results_is_a_warning(cd19: Path) -> None:
    lots = cd19 / "lots.csv"
    rows = [r.split(",") for r in lots.read_text("utf-8").splitlines()]
    col = rows[0].index("particulates")
    lots.write_text(
        "\n".join(",".join(r[:col] + r[col + 1 :]) for r in rows) + "\n", "utf-8"
    )  # drop the particulates column
    found = _problems(cd19, "CM094")
    assert len(found) == 1, found
    assert "release test 'particulates' has no result on any of the 12 clinical lots" in found[0]
    assert "lots.csv has no column 'particulates'" in found[0]
    assert found[0].startswith(
        f"cd19-cart-lbcl/cmc.yaml:{line_of(cd19 / 'cmc.yaml', 'id: particulates')}:"
    )


def test_automated_sterility_is_an_alternative_method_not_compendial(cd19: Path) -> None:
    text = _section(_module3(cd19), "3.2.P.5.2")
    row = next(line for line in text.splitlines() if line.startswith("| Sterility"))
    assert "Alternative method to USP \\<71\\>, validated under 21 CFR 610.12(b)(2)" in row
    cmc = cd19 / "cmc.yaml"
    edit(
        cmc,
        "    alternative_to: USP <71>\n",
        "    compendial: USP <71>\n    alternative_to: USP <71>\n",
    )
    found = _problems(cd19, "CM091")
    assert len(found) == 1 and "both compendial" in found[0]


def test_module3_word_header_names_module3_not_the_protocol(cd19: Path) -> None:
    result = resolved(cd19)
    header = dict(render_cmc(result, assets=()).documents["module3"].header)
    assert header["document_id"] == "Module 3 — Quality: PCT-19 (autologous anti-CD19 CAR-T cells)"
    assert (header["version"], header["date"]) == ("0.4", "2026-02-01")  # cmc.yaml's
    title_page = result.product.title_page
    assert not {title_page.sponsor_protocol_id, title_page.version} & set(header.values())
    edit(cd19 / "cmc.yaml", 'version: "0.4"', "")
    header = dict(render_cmc(resolved(cd19), assets=()).documents["module3"].header)
    assert header["version"] == "—"


def _missing_attributes(folder: Path) -> set[str]:
    result = analyse(resolved(folder))
    assert result is not None
    return {
        item.subject
        for gate in result[1].readiness
        for item in gate.items
        if item.kind == "attribute"
    }


def test_residual_beads_expected_only_of_a_process_with_beads(allo: Path) -> None:
    assert "residual_beads" not in _missing_attributes(allo)
    edit(
        allo / "cmc.yaml",
        "uses: [feeder-cells, viral-vector, gene-editing, allogeneic-donor]",
        "uses: [feeder-cells, viral-vector, gene-editing, allogeneic-donor, activation-beads]",
    )
    edit(allo / "cmc.yaml", "  residual_beads: No activation beads are used", "  # ")
    assert "residual_beads" in _missing_attributes(allo)


def test_feeder_cells_and_gene_editing_attributes_follow_process_uses(allo: Path) -> None:
    cmc = allo / "cmc.yaml"
    editing = {"on_target_editing", "off_target_editing", "translocations", "target_knockout"}
    # the example declares gene editing and tests every editing attribute
    assert not editing & _missing_attributes(allo)
    edit(cmc, "attribute: on_target_editing", "attribute: residual_cytokines")
    assert {"on_target_editing"} <= _missing_attributes(allo)  # a limit at pivotal and later
    # without gene editing in process.uses, no editing attribute is expected
    edit(
        cmc,
        "uses: [feeder-cells, viral-vector, gene-editing, allogeneic-donor]",
        "uses: [feeder-cells, viral-vector, allogeneic-donor]",
    )
    assert not editing & _missing_attributes(allo)
    # the example tests residual feeder cells; without the test they are missing
    edit(cmc, "attribute: residual_feeder_cells", "attribute: residual_cytokines")
    assert "residual_feeder_cells" in _missing_attributes(allo)


def test_unknown_process_use_has_a_hint(allo: Path) -> None:
    edit(allo / "cmc.yaml", "uses: [feeder-cells, viral-vector", "uses: [feeder-cell, viral-vector")
    found = _problems(allo, "CM090")
    assert len(found) == 1 and "did you mean 'feeder-cells'?" in found[0]


def test_site_word_download_of_module3_names_module3(cd19: Path) -> None:
    from generator.site.products import load_product

    product = load_product(cd19 / "product.yaml", "product")
    header = dict(product.drafts["module3"].header)
    assert header["document_id"].startswith("Module 3 — Quality:")
    assert header["version"] == "0.4"
    assert product.drafts["protocol"].header == ()  # the protocol keeps its own title page


def test_catalogue_has_feeder_cell_and_gene_editing_attributes_marked_unverified() -> None:
    from generator.cmc.inputs import available_cmc_frameworks
    from generator.cmc.loader import load_cmc_framework

    framework = load_cmc_framework(available_cmc_frameworks()["cmc-staged"]).framework
    attributes = {a.id: a for a in framework.attributes}
    sources = {s.id: s for s in framework.sources}
    expected = {
        "residual_feeder_cells": "feeder-cells",
        "on_target_editing": "gene-editing",
        "off_target_editing": "gene-editing",
        "translocations": "gene-editing",
    }
    for attribute_id, use in expected.items():
        attribute = attributes[attribute_id]
        assert attribute.applies_if_process_uses == [use]
        assert attribute.evidence.value == "needs-verification"
        assert attribute.sources and all(s in sources for s in attribute.sources)
    assert attributes["residual_beads"].applies_if_process_uses == ["activation-beads"]
    flagged = {a.id for a in framework.attributes if a.adventitious_agent}
    assert flagged == {"sterility", "gram_stain", "mycoplasma", "rcl_rcr", "adventitious_viruses"}
