"""Review marks (`[text]{.review}`) become Word comments; a clean draft has none."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import docx
import pytest
from lxml import etree

from generator.export.docx import DocxMetadata, convert_docx, docx_to_pdf

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "review_sample.md"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
META = DocxMetadata(
    title="Review sample", document_id="PCM-1", version="0.1", status="DRAFT", date="1 Jan 2026"
)
REVIEW = re.compile(r"^\[[^\]]*\]\{\.review\} | \[[^\]]*\]\{\.review\}", re.MULTILINE)


def clean(markdown: str) -> str:
    """What a `--clean` build writes: the review marks and the space before them removed."""
    return REVIEW.sub("", markdown)


def _convert(markdown: str) -> bytes:
    data, warnings = convert_docx(markdown, metadata=META, resource_path=FIXTURES)
    assert warnings == []
    return data


def _part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return etree.fromstring(zf.read(name))


@pytest.fixture(scope="module")
def reviewed() -> bytes:
    return _convert(SAMPLE.read_text("utf-8"))


def _anchored_text(body: etree._Element) -> dict[str, str]:
    """Comment id -> the text between its commentRangeStart and commentRangeEnd."""
    texts: dict[str, list[str]] = {}
    open_ids: list[str] = []
    for el in body.iter(f"{W}commentRangeStart", f"{W}commentRangeEnd", f"{W}t"):
        if el.tag == f"{W}commentRangeStart":
            open_ids.append(el.get(f"{W}id"))
            texts.setdefault(el.get(f"{W}id"), [])
        elif el.tag == f"{W}commentRangeEnd":
            open_ids.remove(el.get(f"{W}id"))
        else:
            for cid in open_ids:
                texts[cid].append(el.text or "")
    return {cid: "".join(parts) for cid, parts in texts.items()}


def test_review_marks_become_comments_with_author_date_and_text(reviewed: bytes) -> None:
    comments = _part(reviewed, "word/comments.xml").findall(f"{W}comment")
    assert [c.get(f"{W}id") for c in comments] == [str(i) for i in range(6)]
    assert {c.get(f"{W}author") for c in comments} == {"protocmc"}
    # tests/conftest.py sets SOURCE_DATE_EPOCH=1767225600
    assert {c.get(f"{W}date") for c in comments} == {"2026-01-01T00:00:00Z"}
    texts = ["".join(c.itertext()) for c in comments]
    assert texts == [
        "needs verification: the 72-hour clause is recalled common practice",
        "Check the section as a whole against the product file.",
        "needs verification: age limit from the product file",
        "needs verification: framework default",
        "needs verification: schema wording",
        "confirm with the safety committee",
    ]
    styles = {p.get(f"{W}val") for p in comments[0].iter(f"{W}pStyle")}
    assert styles == {"CommentText"}


def test_comments_are_anchored_on_the_text_before_the_mark(reviewed: bytes) -> None:
    body = _part(reviewed, "word/document.xml")
    anchored = _anchored_text(body)
    assert anchored == {
        "0": "Each lot is held for 72 hours before release",  # back to the sentence start
        "1": "",  # a mark that opens a paragraph is a comment on that point
        "2": "Age ≥ 18 years at signing of informed consent",
        "3": "28 days",  # in a table cell
        "4": "Trial Schema",  # in a heading, after its number was taken off
        "5": "the stagger is 14 days",  # inside emphasis, across the bold run
    }
    references = [r.get(f"{W}id") for r in body.iter(f"{W}commentReference")]
    assert references == [str(i) for i in range(6)]


def test_deleting_all_comments_gives_the_clean_draft(reviewed: bytes) -> None:
    clean_data = _convert(clean(SAMPLE.read_text("utf-8")))
    document = docx.Document(io.BytesIO(clean_data))
    reviewed_doc = docx.Document(io.BytesIO(reviewed))

    def texts(d: docx.document.Document) -> list[str]:
        out = [p.text for p in d.paragraphs]
        out += [c.text for t in d.tables for r in t.rows for c in r.cells]
        return out

    # python-docx reads run text only: comment references and ranges are not text, so this is
    # what Word shows after "Delete all comments"
    assert texts(reviewed_doc) == texts(document)
    assert all("  " not in t and t == t.strip() for t in texts(reviewed_doc))


def test_a_clean_draft_has_no_comments() -> None:
    data = _convert(clean(SAMPLE.read_text("utf-8")))
    assert _part(data, "word/comments.xml").findall(f"{W}comment") == []
    xml = etree.tostring(_part(data, "word/document.xml")).decode()
    assert "commentRangeStart" not in xml and "commentReference" not in xml


def test_comment_dates_follow_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    data = _convert("Text [a note]{.review}.\n")
    comment = _part(data, "word/comments.xml").find(f"{W}comment")
    assert comment is not None and comment.get(f"{W}date") == "2026-09-21T14:13:20Z"
    assert data == _convert("Text [a note]{.review}.\n")  # byte-identical


def test_reference_defines_the_comment_styles() -> None:
    from generator.export.docx import REFERENCE_DOCX

    styles = {s.style_id: s for s in docx.Document(str(REFERENCE_DOCX)).styles}
    assert styles["CommentText"].type == 1  # paragraph
    assert styles["CommentReference"].type == 2  # character


@pytest.mark.docx
@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_review_draft_renders_with_its_comments(reviewed: bytes, tmp_path: Path) -> None:
    """LibreOffice renders the review draft (libreoffice-writer-nogui crashes when it opens a
    document with comments through UNO; export falls back to --convert-to) and keeps each
    comment as a PDF annotation at its anchor (7.5+ also prints them in the margin)."""
    source = tmp_path / "review.docx"
    source.write_bytes(reviewed)
    pdf = docx_to_pdf(source, tmp_path / "out", comments_in_margin=True)
    data = pdf.read_bytes()
    texts = [
        bytes.fromhex(h.decode()).decode("utf-16-be").lstrip("\ufeff")
        for h in re.findall(rb"/Subtype /Text /Rect\[[^\]]*\][^>]*?/Contents <([0-9A-F]+)>", data)
    ]
    assert "needs verification: framework default" in texts
    assert len(texts) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "review.docx"]  # no lock file
