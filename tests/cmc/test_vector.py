"""The vector as a second drug substance (cmc.yaml `vector:`, its own 3.2.S block and lot CSV),
editing and allogeneic-donor attributes, and rules CM145-CM149 (generator/cmc/vector.py)."""

from __future__ import annotations

import re
from pathlib import Path

from generator.cmc.api import cmc_problems, render_cmc
from generator.problems import Problem, Severity
from tests.cmc.helpers import edit, line_of, resolved

ALLO_USES = "uses: [feeder-cells, viral-vector, gene-editing, allogeneic-donor]"


def _problems(folder: Path, code: str) -> list[Problem]:
    return [p for p in cmc_problems(resolved(folder)) if p.code == code]


def _documents(folder: Path) -> dict[str, str]:
    docs = render_cmc(resolved(folder), assets=()).documents
    return {name: d.markdown for name, d in docs.items()}


def _vector_block(markdown: str) -> str:
    start = markdown.index("# 3.2.S DRUG SUBSTANCE [LV-MSLN-NK lentiviral vector")
    return markdown[start : markdown.index("# 3.2.P DRUG PRODUCT", start)]


def _section(block: str, number: str) -> str:
    match = re.search(rf"^#+ {re.escape(number)} .*?$(.*?)(?=^#)", block, re.M | re.S)
    assert match, number
    return match.group(1)


def test_vector_block_renders_its_own_specification_and_batches(allo: Path) -> None:
    markdown = _documents(allo)["module3"]
    assert len(re.findall(r"^# 3\.2\.S DRUG SUBSTANCE \[", markdown, re.M)) == 2
    cells = markdown[: markdown.index("# 3.2.S DRUG SUBSTANCE [LV-MSLN-NK")]
    block = _vector_block(markdown)
    spec = _section(block, "3.2.S.4.1")
    assert "| Functional titre | Vector functional titre | NLT 1 × 10⁸ TU/mL |" in spec
    assert "| Replication-competent lentivirus |" in spec and "Residual plasmid DNA" in spec
    batches = _section(block, "3.2.S.4.4")
    for lot in ("LV-MSLN-001", "LV-MSLN-002", "LV-MSLN-003"):
        assert lot in batches
    assert "| 2.4 |" in batches  # titre of LV-MSLN-002, from vector-lots.csv
    assert "PNK-GMP-04" not in block and "Functional titre" not in cells
    assert "HEK293T" in _section(block, "3.2.S.2.2")
    # every heading keeps a unique anchor
    anchors = re.findall(r"\{#(m3-[^ }]+)", markdown)
    assert len(anchors) == len(set(anchors))


def test_examples_without_a_vector_block_have_one_drug_substance(cd19: Path) -> None:
    markdown = _documents(cd19)["module3"]
    assert len(re.findall(r"^# 3\.2\.S DRUG SUBSTANCE \[", markdown, re.M)) == 1
    assert _problems(cd19, "CM148") == []


def test_vector_references_are_located(allo: Path) -> None:
    cmc = allo / "cmc.yaml"
    edit(
        cmc,
        "attribute: vector_titer, method: M-VTITER",
        "attribute: vector_titre, method: M-VTITRE",
    )
    lots = allo / "vector-lots.csv"
    edit(lots, "LV-MSLN-003,2025-09-23,V1", "LV-MSLN-003,2025-09-23,V2")
    found = {p.message: p for p in _problems(allo, "CM145")}
    line = line_of(cmc, "attribute: vector_titre")
    attribute = found["vector test 'titer': unknown attribute 'vector_titre'"]
    assert attribute.location.line == line
    assert "did you mean 'vector_titer'?" in attribute.format()
    method = found["vector test 'titer': unknown method 'M-VTITRE'"]
    assert method.location.line == line and method.location.column > attribute.location.column
    version = found["vector lot 'LV-MSLN-003': unknown process version 'V2'"]
    assert version.location.file.endswith("vector-lots.csv")
    assert (version.location.line, version.location.column) == (4, 3)


def test_vector_titre_is_expected_at_ind(allo: Path) -> None:
    cmc = allo / "cmc.yaml"
    assert _problems(allo, "CM146") == []
    edit(cmc, "attribute: vector_titer,", "attribute: vector_physical_titer,")
    found = _problems(allo, "CM146")
    assert [(p.severity, p.message) for p in found] == [
        (Severity.ERROR, "no vector test for Vector functional (infectious) titre ('vector_titer')")
    ]
    # at the 'specifications:' key of the vector block
    assert found[0].location.line == line_of(cmc, "  specifications:")
    edit(cmc, "attribute: vector_physical_titer,", "attribute: vector_titer,")
    edit(
        cmc,
        "stages: {ind: {comparator: NLT, value: 1.0,",
        "stages: {ind: {comparator: report-results,",
    )
    found = _problems(allo, "CM146")
    assert len(found) == 1 and "needs an acceptance criterion at ind" in found[0].message


def test_vector_lot_outside_its_specification_is_an_error(allo: Path) -> None:
    lots = allo / "vector-lots.csv"
    edit(lots, "clinical,2.4,365", "clinical,0.8,365")
    found = _problems(allo, "CM147")
    assert len(found) == 1 and found[0].severity is Severity.ERROR
    assert "vector lot 'LV-MSLN-002': titer 0.8 is outside its criterion" in found[0].message
    header = lots.read_text("utf-8").splitlines()[0].split(",")
    assert (found[0].location.line, found[0].location.column) == (3, header.index("titer") + 1)


def test_missing_vector_lot_file_is_located(allo: Path) -> None:
    cmc = allo / "cmc.yaml"
    (allo / "vector-lots.csv").unlink()
    problems = cmc_problems(resolved(allo))  # the loader's problem, returned
    found = [p for p in problems if p.code == "CM105"]
    assert (
        len(found) == 1 and "vector lot file 'vector-lots.csv' does not exist" in found[0].message
    )
    assert found[0].location.line == line_of(cmc, "file: vector-lots.csv")


def test_vector_and_allogeneic_uses_are_consistent(allo: Path) -> None:
    cmc = allo / "cmc.yaml"
    assert _problems(allo, "CM148") == [] and _problems(allo, "CM149") == []
    edit(cmc, ALLO_USES, "uses: [feeder-cells, gene-editing]")
    vector = _problems(allo, "CM148")
    assert len(vector) == 1 and vector[0].severity is Severity.WARNING
    assert vector[0].location.line == line_of(cmc, "vector:")
    donor = _problems(allo, "CM149")
    assert len(donor) == 1 and donor[0].location.file.endswith("lots.csv")
    assert (donor[0].location.line, donor[0].location.column) == (2, 5)  # donor_type of row 1


def test_donor_eligibility_is_safety_critical_only_for_allogeneic_donors(
    allo: Path, cd19: Path
) -> None:
    cmc = allo / "cmc.yaml"
    edit(cmc, "attribute: donor_eligibility,", "attribute: hla_typing,")
    found = [p.message for p in _problems(allo, "CM013")]
    assert found == [
        "no specification tests Donor eligibility determination, a safety-critical attribute"
    ]
    # an autologous product neither tests nor is asked for donor eligibility or HLA typing
    assert _problems(cd19, "CM013") == []
    assert "HLA typing" not in _documents(cd19)["cmc-readiness"]


def test_editing_attributes_appear_only_when_the_process_declares_editing(cd19: Path) -> None:
    editing = ("On-target editing efficiency", "Target-gene knockout", "Off-target editing")
    readiness = _documents(cd19)["cmc-readiness"]
    assert not any(title in readiness for title in editing)
    edit(
        cd19 / "cmc.yaml",
        "uses: [activation-beads, viral-vector]",
        "uses: [activation-beads, viral-vector, gene-editing]",
    )
    readiness = _documents(cd19)["cmc-readiness"]
    for title in editing:
        assert f"| {title}" in readiness, title
    # the vector's own attributes never become attributes of the cell product
    assert "Vector functional (infectious) titre" not in readiness


def test_allo_module3_shows_editing_tests_in_the_product_specification(allo: Path) -> None:
    markdown = _documents(allo)["module3"]
    p51 = _section(markdown[markdown.index("# 3.2.P DRUG PRODUCT") :], "3.2.P.5.1")
    for title in (
        "CISH editing efficiency (indels)",
        "CIS protein knockout",
        "HLA typing",
        "Donor eligibility",
    ):
        assert f"| {title} |" in p51, title


def test_adventitious_agents_appendix_lists_the_vector_tests(allo: Path, cd19: Path) -> None:
    a2 = _section(_documents(allo)["module3"], "3.2.A.2")
    vector = a2.split("Release tests of the vector", 1)[1]
    assert "In vitro adventitious viruses (Negative)" in vector
    assert "Replication-competent lentivirus (Not detected)" in vector
    assert "Functional titre" not in vector  # not an adventitious-agent test
    assert "Release tests of the vector" not in _section(_documents(cd19)["module3"], "3.2.A.2")
