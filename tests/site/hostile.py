"""A product whose own text tries to inject markup into the site (for the XSS tests).

Copies examples/cd19-cart-lbcl into a folder and puts script, iframe, image-onerror and
javascript: link payloads into the full title, a `sections:` text, a lot id and a lot's site
(lots.csv),
a `|` into another lot id (both named by the comparability study of cmc.yaml), an M11 placeholder into the short title, and template, HTML and
table syntax into an amendment rationale.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cd19-cart-lbcl"

TITLE_PAYLOAD = "Trial <script>alert(1)</script><iframe src=javascript:alert(2)></iframe> of X"
SECTION_PAYLOAD = (
    "Purpose <script>alert(3)</script> and <img src=x onerror=alert(4)> and "
    "[styled]{onclick=alert(7) style=color:red} and ok [site](https://example.org)."
)
"""`check` refuses javascript:/data: links typed in product text (PR050,
tests/security/test_output_escaping.py), so those payloads ride in lot data, which is not
prose and is not linted: the site must still neutralise them."""
LINK_PAYLOAD = "[click me](javascript:alert(5)) [data link](data:text/html,<b>6</b>)"
LOT_PAYLOAD = "L<script>alert(8)</script>"
PIPE_LOT = "A|B-01"
SHORT_TITLE = "<Short title>"
RATIONALE_PAYLOAD = "{{ 7*7 }} <script>alert(9)</script> | x"
"""A writer's amendment rationale that looks like a template, HTML and a table cell break."""


def write_hostile_product(target: Path) -> Path:
    """The hostile product folder under `target`; returns its product.yaml."""
    folder = target / "hostile-product"
    shutil.copytree(EXAMPLE, folder)
    product = folder / "product.yaml"
    text = product.read_text("utf-8")
    start = text.index("  full_title: >-")
    end = text.index("  short_title:")
    text = text[:start] + f"  full_title: '{TITLE_PAYLOAD}'\n" + text[end:]
    text = text.replace(
        "  short_title: PCT-19 in relapsed or refractory LBCL", f"  short_title: '{SHORT_TITLE}'"
    )
    # replace the folded purpose_of_trial block (its lines are indented by four spaces)
    start = text.index("  purpose_of_trial: >-")
    lines = text[start:].split("\n")
    n = 1
    while n < len(lines) and (lines[n].startswith("    ") or not lines[n].strip()):
        n += 1
    text = text[:start] + f"  purpose_of_trial: '{SECTION_PAYLOAD}'\n" + "\n".join(lines[n:])
    # the example is an amendment: the changed title and section need their rationale
    text = text.replace(
        "\nchanges:\n",
        f"\nchanges:\n  - about: title_page\n    rationale: '{RATIONALE_PAYLOAD}'\n"
        "  - about: purpose_of_trial\n    rationale: Rewritten.\n",
        1,
    )
    product.write_text(text, "utf-8")
    lots = folder / "lots.csv"
    rows = lots.read_text("utf-8").split("\n")
    rows[1] = rows[1].replace("ENG-01", f'"{LOT_PAYLOAD}"', 1)
    rows[2] = rows[2].replace("ENG-02", PIPE_LOT, 1)
    rows[3] = rows[3].replace("Cambridge MA", f'"{LINK_PAYLOAD}"', 1)
    assert LINK_PAYLOAD in rows[3]
    lots.write_text("\n".join(rows), "utf-8")
    # the comparability study names both renamed lots: its text shows them as data too
    cmc = folder / "cmc.yaml"
    study = cmc.read_text("utf-8")
    assert "lots_pre_change: [ENG-01, ENG-02, " in study
    study = study.replace(
        "lots_pre_change: [ENG-01, ENG-02, ",
        f'lots_pre_change: ["{LOT_PAYLOAD}", "{PIPE_LOT}", ',
        1,
    )
    # the stability results name ENG-02, renamed above: leave them out of this product
    kept = [
        x
        for x in study.splitlines(keepends=True)
        if not x.startswith(("    lots: [", "    results: "))
    ]
    cmc.write_text("".join(kept), "utf-8")
    return product
