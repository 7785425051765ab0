"""Module 3 batch analyses: every lot up to BATCH_TABLE_MAX_LOTS, a summary beyond it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import statistics
from pathlib import Path

from generator.cmc.api import cmc_outputs
from generator.cmc.batches import BATCH_TABLE_MAX_LOTS
from tests.cmc.helpers import resolved, without_exceptional_release, without_stability_lots


def _write_lots(folder: Path, n: int) -> list[list[str]]:
    """N lots cycling through the example's rows, with new ids and dates; the rows written."""
    without_exceptional_release(folder)  # its OOS lot would repeat under new ids
    path = folder / "lots.csv"
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8"))))
    header, body = rows[0], rows[1:]
    out: list[list[str]] = []
    for i in range(n):
        row = list(body[i % len(body)])
        row[0] = f"LOT-{i + 1:04d}"
        row[1] = (dt.date(2024, 1, 1) + dt.timedelta(days=i)).isoformat()
        out.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *out])
    path.write_text(buffer.getvalue(), "utf-8")
    # the comparability study names its lots: point it at the first copy of each
    cmc = folder / "cmc.yaml"
    text = cmc.read_text("utf-8")
    for j, row in enumerate(body):
        text = re.sub(rf"(?<=[\[ ]){re.escape(row[0])}(?=[,\]])", f"LOT-{j + 1:04d}", text)
    # the new dates (2024) put every potency result on method v1 (another unit): compare
    # potency descriptively so the study still concludes on the attributes it can compare
    text = text.replace(
        "acceptance: equivalence\n          margin: 340\n", "acceptance: descriptive\n", 1
    )
    cmc.write_text(text, "utf-8")
    without_stability_lots(folder)
    return [header, *out]


def _module3(folder: Path) -> str:
    return cmc_outputs(resolved(folder)).documents["module3"].markdown


def test_up_to_the_threshold_every_lot_is_listed(cd19: Path) -> None:
    _write_lots(cd19, BATCH_TABLE_MAX_LOTS)
    markdown = _module3(cd19)
    assert f"Results of all {BATCH_TABLE_MAX_LOTS} lots" in markdown
    assert all(f"| LOT-{i:04d} |" in markdown for i in range(1, BATCH_TABLE_MAX_LOTS + 1))
    assert "Batch analyses: summary" not in markdown


def test_past_the_threshold_a_summary_and_the_current_clinical_lots(cd19: Path) -> None:
    n = 3 * BATCH_TABLE_MAX_LOTS
    rows = _write_lots(cd19, n)
    header, body = rows[0], rows[1:]
    markdown = _module3(cd19)
    col = {name: i for i, name in enumerate(header)}

    # non-clinical lots and P1 lots are summarised, not listed
    listed = [r for r in body if f"| {r[0]} |" in markdown]
    assert listed and all(
        r[col["use"]] == "clinical" and r[col["process_version"]] == "P2" for r in listed
    )
    current = [r for r in body if r[col["use"]] == "clinical" and r[col["process_version"]] == "P2"]
    assert len(listed) == min(len(current), BATCH_TABLE_MAX_LOTS)
    assert listed == current[-len(listed) :]  # the most recent ones

    # the summary row of viability, P1 clinical lots, computed here from the CSV
    values = sorted(
        float(r[col["viability"]])
        for r in body
        if r[col["process_version"]] == "P1" and r[col["use"]] == "clinical"
    )
    median = statistics.median(values)
    row = (
        f"| Viability (%) | P1 | clinical | {len(values)} | 0 | {values[0]:g} | {median:g} | "
        f"{values[-1]:g} | 0 |"
    )
    assert row in markdown, [
        line for line in markdown.splitlines() if "| Viability (%) | P1" in line
    ]
    assert f"holds {n} lots" in markdown

    # censored endotoxin results: the count, and '<' on the order statistics that are censored
    endotoxin = [
        r[col["endotoxin"]]
        for r in body
        if r[col["process_version"]] == "P2" and r[col["use"]] == "clinical"
    ]
    censored = sum(1 for v in endotoxin if v.startswith("<"))
    assert len(endotoxin) / 2 < censored < len(endotoxin)  # most are '<0.50'
    top = max(float(v) for v in endotoxin if not v.startswith("<"))
    line = next(
        ln for ln in markdown.splitlines() if ln.startswith("| Endotoxin (EU/mL) | P2 | clinical |")
    )
    # the minimum and the median are '<0.50' results, the maximum is measured
    assert line.endswith(f"| {len(endotoxin)} | {censored} | &lt; 0.5 | &lt; 0.5 | {top:g} | 0 |")
    # qualitative results: each distinct result with its count
    assert (
        f"| Sterility | P2 | clinical | {len(endotoxin)} | No growth ({len(endotoxin)}) |"
        in markdown
    )


def test_summary_counts_results_outside_the_criterion(cd19: Path) -> None:
    rows = _write_lots(cd19, BATCH_TABLE_MAX_LOTS + 1)
    header = rows[0]
    text = (cd19 / "lots.csv").read_text("utf-8").splitlines()
    # the first P1 clinical row gets viability 61 (criterion NLT 70)
    for k, line in enumerate(text[1:], start=1):
        cells = line.split(",")
        if (
            cells[header.index("process_version")] == "P1"
            and cells[header.index("use")] == "clinical"
        ):
            cells[header.index("viability")] = "61"
            cells[header.index("infusion_date")] = ""  # not released, never infused
            text[k] = ",".join(cells)
            oos_lot = cells[0]
            break
    (cd19 / "lots.csv").write_text("\n".join(text) + "\n", "utf-8")
    # an out-of-specification clinical result needs its investigation (else check fails)
    with (cd19 / "cmc.yaml").open("a", encoding="utf-8") as cmc:
        cmc.write(
            "\ninvestigations:\n"
            f"  - {{id: INV-1, lot: {oos_lot}, test: viability, root_cause: Thaw deviation,"
            " disposition: Not released}\n"
        )
    markdown = _module3(cd19)
    line = next(
        ln for ln in markdown.splitlines() if ln.startswith("| Viability (%) | P1 | clinical |")
    )
    assert line.endswith("| 1 |") and "| 61 |" in line


def test_a_planned_process_without_lots_is_not_the_one_listed(cd19: Path) -> None:
    # a P3 declared for later: the listed clinical lots stay those of P2, the newest with lots
    cmc = cd19 / "cmc.yaml"
    text = cmc.read_text("utf-8")
    cmc.write_text(
        text.replace(
            '    - {id: P2, description: Closed gas-permeable rapid-expansion vessels with a scheduled feed, introduced: "2025-06-01"}\n',
            '    - {id: P2, description: Closed gas-permeable rapid-expansion vessels with a scheduled feed, introduced: "2025-06-01"}\n'
            '    - {id: P3, description: Automated closed system, introduced: "2027-01-01"}\n',
        ),
        "utf-8",
    )
    assert "id: P3" in cmc.read_text("utf-8")
    _write_lots(cd19, BATCH_TABLE_MAX_LOTS + 1)
    markdown = _module3(cd19)
    assert "clinical lots of the current process (P2)" in markdown
    assert "Batch analyses, clinical lots of process P2" in markdown
