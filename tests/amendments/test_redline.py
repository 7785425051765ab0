"""protocol-redline.docx: native Word revisions between the previous and the current protocol.

Accepting every revision must give the current protocol and rejecting every revision the
previous one. Both sides are read with pandoc's docx reader (`--track-changes=accept|reject`
against the plain reading of the Word file each Markdown draft converts to) as pandoc's JSON
AST, normalised as follows, and only as follows:

- column widths are dropped (the redline's tables keep the current version's widths);
- runs of whitespace are one space, adjacent strings are one string, and bold or italic split
  around a space at a revision boundary (`**Departure** **3:**`) is one span;
- list items and table rows left with no text are dropped, and so are lists, tables and
  paragraphs left with no text: pandoc's reader removes the text of a deleted (or, rejected,
  inserted) row or list item but not the row or item itself. The drafts themselves have no
  empty rows or items (asserted), so this cannot hide a difference of the drafts.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pypandoc
import pytest

from generator import api
from generator.export.docx import DocxMetadata, convert_docx
from generator.export.redline import AUTHOR, redline_docx
from generator.protocol_documents import analyse, clean_document, render_protocol
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "cd19-cart-lbcl" / "product.yaml"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _blocks(path: Path, mode: str | None = None) -> list[Any]:
    args = [f"--track-changes={mode}"] if mode else []
    text = pypandoc.convert_file(str(path), "json", format="docx", extra_args=args)
    return json.loads(text)["blocks"]  # type: ignore[no-any-return]


def _empty(node: Any) -> bool:
    if isinstance(node, dict):
        if node.get("t") == "Str" and node["c"].strip():
            return False
        return all(_empty(v) for v in node.values())
    if isinstance(node, list):
        return all(_empty(v) for v in node)
    return True


def _inlines(nodes: list[Any]) -> list[Any]:
    out: list[Any] = []
    for n in nodes:
        if isinstance(n, dict) and n.get("t") == "SoftBreak":
            n = {"t": "Space"}
        last = out[-1] if out and isinstance(out[-1], dict) else None
        if last is not None and isinstance(n, dict):
            if n.get("t") == last.get("t") == "Str":
                last["c"] += n["c"]
                continue
            if n.get("t") == "Space" and last.get("t") == "Space":
                continue
            if n.get("t") == last.get("t") and n.get("t") in ("Strong", "Emph"):
                last["c"] = _normal(last["c"] + n["c"])
                continue
            if (
                n.get("t") in ("Strong", "Emph")
                and last.get("t") == "Space"
                and len(out) >= 2
                and out[-2].get("t") == n["t"]
            ):
                out.pop()
                out[-1]["c"] = _normal(out[-1]["c"] + [{"t": "Space"}] + n["c"])
                continue
        out.append(n)
    return out


def _normal(node: Any) -> Any:
    if isinstance(node, list):
        items = [_normal(n) for n in node]
        if all(isinstance(n, dict) for n in items):
            items = _inlines(items)
            items = [n for n in items if not _empty_container(n)]
        return items
    if isinstance(node, dict):
        kind = node.get("t")
        if kind == "ColWidth":
            return {"t": "ColWidthDefault"}
        if kind == "BulletList":
            node = {**node, "c": [i for i in node["c"] if not _empty(i)]}
        if kind == "OrderedList":
            node = {**node, "c": [node["c"][0], [i for i in node["c"][1] if not _empty(i)]]}
        if kind == "Table":
            bodies = [
                [b[0], b[1], b[2], [r for r in b[3] if not _empty(r[1])]] for b in node["c"][4]
            ]
            node = {**node, "c": [*node["c"][:4], bodies, *node["c"][5:]]}
        return {k: _normal(v) for k, v in node.items()}
    return node


def _empty_container(node: dict[str, Any]) -> bool:
    kind = node.get("t")
    if kind == "BulletList":
        return not node["c"]
    if kind == "OrderedList":
        return not node["c"][1]
    if kind == "Table":
        return _empty(node["c"][4])
    return kind in ("Para", "Plain") and _empty(node)


def _has_empty_rows_or_items(node: Any) -> bool:
    if isinstance(node, list):
        return any(_has_empty_rows_or_items(n) for n in node)
    if isinstance(node, dict):
        kind = node.get("t")
        if kind == "BulletList" and any(_empty(i) for i in node["c"]):
            return True
        if kind == "OrderedList" and any(_empty(i) for i in node["c"][1]):
            return True
        if kind == "Table" and any(_empty(r[1]) for b in node["c"][4] for r in b[3]):
            return True
        return any(_has_empty_rows_or_items(v) for v in node.values())
    return False


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The CD19 example's version 1.0 and 2.0 as Word files, and the redline between them."""
    folder = tmp_path_factory.mktemp("redline")
    resolved, _ = api.resolve(EXAMPLE)
    assert resolved.previous is not None
    tp = resolved.product.title_page
    metadata = DocxMetadata(
        title=tp.full_title,
        document_id=tp.sponsor_protocol_id,
        version=tp.version,
        status=tp.status,
        date=tp.version_date,
    )
    drafts = {
        "previous": render_protocol(resolved.previous, analyse(resolved.previous), clean=True),
        "current": clean_document(render_protocol(resolved, analyse(resolved))),
    }
    files: dict[str, Path] = {}
    for name, draft in drafts.items():
        data, _ = convert_docx(draft.markdown, metadata=metadata, resource_path=folder)
        files[name] = folder / f"{name}.docx"
        files[name].write_bytes(data)
    files["redline"] = folder / "redline.docx"
    files["redline"].write_bytes(
        redline_docx(
            files["previous"].read_bytes(), files["current"].read_bytes(), date=tp.version_date
        )
    )
    return files


@pytest.mark.parametrize(("mode", "version"), [("accept", "current"), ("reject", "previous")])
def test_accepting_or_rejecting_all_revisions_gives_that_version(
    versions: dict[str, Path], mode: str, version: str
) -> None:
    expected = _blocks(versions[version])
    assert not _has_empty_rows_or_items(expected)
    got = _normal(_blocks(versions["redline"], mode))
    want = _normal(expected)
    assert len(got) == len(want)
    for n, (a, b) in enumerate(zip(got, want, strict=True)):
        assert a == b, f"block {n} differs"


def test_redline_differs_from_both_versions_and_marks_every_revision(
    versions: dict[str, Path],
) -> None:
    with zipfile.ZipFile(versions["redline"]) as z:
        document = z.read("word/document.xml").decode("utf-8")
    root = ET.fromstring(document)
    marks = [e for e in root.iter() if e.tag in (W + "ins", W + "del")]
    assert marks, "no revisions"
    assert {m.get(W + "author") for m in marks} == {AUTHOR}
    assert {m.get(W + "date") for m in marks} == {"2027-03-01T00:00:00Z"}
    ids = [m.get(W + "id") for m in marks]
    assert len(ids) == len(set(ids))
    # word level inside a paragraph: the platelet threshold, not the whole criterion
    paragraph = next(p for p in root.iter(W + "p") if "Platelet count" in "".join(p.itertext()))
    deleted = "".join(t.text or "" for t in paragraph.iter(W + "delText"))
    inserted = "".join(t.text or "" for d in paragraph.iter(W + "ins") for t in d.iter(W + "t"))
    assert (deleted, inserted) == ("75,000/µL", "50,000/µL")
    # row level in tables: the new dose level is one inserted row of the dose-level table,
    # whose other rows are unchanged
    table = next(
        t
        for t in root.iter(W + "tbl")
        if any("".join(c.itertext()) == "DL1 (starting)" for c in t.iter(W + "tc"))
    )
    marked = [r for r in table.iter(W + "tr") if r.find(f"{W}trPr/{W}ins") is not None]
    assert ["".join(r.itertext()) for r in marked] == ["DL4400 × 10⁶"]
    assert not [r for r in table.iter(W + "tr") if r.find(f"{W}trPr/{W}del") is not None]
    # headings are never rewritten: every heading of the current version is there, unmarked
    headings = [
        p
        for p in root.iter(W + "p")
        if (s := p.find(f"{W}pPr/{W}pStyle")) is not None
        and (s.get(W + "val") or "").startswith("Heading")
    ]
    assert headings and not any(
        h.find(f".//{W}ins") is not None or h.find(f".//{W}del") is not None for h in headings
    )


def test_build_writes_the_redline_beside_the_protocol(tmp_path: Path) -> None:
    from generator.build import REDLINE_FILE, build_product

    example = tmp_path / "cd19"
    shutil.copytree(EXAMPLE.parent, example)
    result = build_product(example / "product.yaml", tmp_path / "out", formats=("docx",))
    assert REDLINE_FILE in {Path(f).name for f in result.files}
    data = (tmp_path / "out" / REDLINE_FILE).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert b'w:author="protocmc"' in z.read("word/document.xml")
    again = build_product(example / "product.yaml", tmp_path / "out", formats=("docx",), force=True)
    assert (tmp_path / "out" / REDLINE_FILE).read_bytes() == data, "not byte-identical"
    assert again.files


def test_revised_sections_are_exactly_the_sections_of_the_summary_of_changes(
    versions: dict[str, Path],
) -> None:
    """The redline and the summary of changes are computed independently (Word bodies vs
    resolved models): every section with a revision has a summary row and every row's section
    has a revision. Version bookkeeping is the exception: the title page (version, date,
    amendment identifier and details) and Section 12.3's statement."""
    from generator.protocol_documents import amendment_changes

    with zipfile.ZipFile(versions["redline"]) as z:
        body = ET.fromstring(z.read("word/document.xml")).find(W + "body")
    assert body is not None
    revised: set[str] = set()
    section = "Title Page"
    for block in body:
        style = block.find(f"{W}pPr/{W}pStyle")
        if style is not None and (style.get(W + "val") or "").startswith("Heading"):
            section = "".join(block.itertext())
        if block.find(f".//{W}ins") is not None or block.find(f".//{W}del") is not None:
            revised.add(section)
    resolved, _ = api.resolve(EXAMPLE)
    changes = amendment_changes(resolved)
    assert changes is not None
    assert revised == {c.title for c in changes} | {"Title Page", "Prior Protocol Amendment(s)"}
