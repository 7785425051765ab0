"""A tracked-changes Word file between two versions of a protocol (protocol-redline.docx).

Both versions are converted to .docx the usual way (generator/export/docx.py); this module
merges the two `word/document.xml` bodies into the current file with native Word revisions
(`w:ins` / `w:del`, one author, the amendment date):

- body blocks (paragraphs, tables) are aligned on their style and text; a block only in the
  current version is inserted, one only in the previous version is deleted (its paragraph
  mark too, so accepting all revisions leaves no empty paragraph);
- a changed paragraph is compared word by word (whitespace is a token of its own), so a
  changed threshold shows as one deleted and one inserted number inside the sentence; the
  paragraph keeps the current version's style, so headings and list numbering stay intact;
- tables with the same columns are compared row by row (a changed row is the old row deleted
  and the new one inserted); a table whose columns changed is deleted and inserted whole.

Accepting every revision gives the current protocol's text, rejecting every revision the
previous one (tests/amendments/test_redline.py checks both with pandoc's docx reader).
"""

from __future__ import annotations

import copy
import difflib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree as ET

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
AUTHOR = "protocmc"
FIRST_REVISION_ID = 900_000
"""Revision ids start far above pandoc's bookmark and comment ids (ids share one space)."""
PAIR_SIMILARITY = 0.5
"""Two paragraphs of a changed stretch are compared word by word above this similarity;
below it, the old one is deleted and the new one inserted."""

CAPTION_STYLE = "TableCaption"
_WORDS = re.compile(r"\s+|[^\s]+")


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def _register_namespaces(xml: bytes) -> None:
    """Keep the prefixes of the document (ElementTree would write ns0:, ns1:)."""
    for prefix, uri in re.findall(rb'xmlns:(\w+)="([^"]+)"', xml[:4000]):
        ET.register_namespace(prefix.decode(), uri.decode())


def _text(element: ET.Element) -> str:
    parts: list[str] = []
    for node in element.iter():
        if node.tag in (w("t"), w("delText")) and node.text:
            parts.append(node.text)
        elif node.tag == w("tab"):
            parts.append("\t")
        elif node.tag == w("br"):
            parts.append("\n")
    return "".join(parts)


def _text_without_fields(element: ET.Element) -> str:
    """The text, with each field by its instruction (a caption's number is not compared)."""
    if element.tag == w("fldSimple"):
        return f"{{{element.get(w('instr'), '')}}}"
    own = element.text if element.tag in (w("t"), w("delText")) and element.text else ""
    return own + "".join(_text_without_fields(child) for child in element)


def _style(paragraph: ET.Element) -> str:
    style = paragraph.find(f"{w('pPr')}/{w('pStyle')}")
    return style.get(w("val"), "") if style is not None else ""


def _signature(block: ET.Element) -> str:
    if block.tag == w("p"):
        return f"p|{_style(block)}|{_text_without_fields(block)}"
    if block.tag == w("tbl"):
        rows = block.findall(w("tr"))
        return f"tbl|{len(_grid(block))}|{_text(rows[0]) if rows else ''}"
    return block.tag


def _grid(table: ET.Element) -> list[ET.Element]:
    return table.findall(f"{w('tblGrid')}/{w('gridCol')}")


# --------------------------------------------------------------------------- tokens


@dataclass
class _Token:
    text: str
    """What is compared (words, whitespace; a field or tab by its text)."""
    run_props: ET.Element | None
    element: ET.Element | None = None
    """A non-text run child (tab, break) or a whole field, kept as it is."""
    link: ET.Element | None = None
    """The hyperlink the token sits in (an empty copy), if any."""


def _run_tokens(run: ET.Element, link: ET.Element | None) -> Iterator[_Token]:
    props = run.find(w("rPr"))
    for child in run:
        if child.tag == w("rPr"):
            continue
        if child.tag in (w("t"), w("delText")):
            for word in _WORDS.findall(child.text or ""):
                yield _Token(word, props, None, link)
        else:
            yield _Token(_text(child) or ET.tostring(child, "unicode"), props, child, link)


_BOOKMARKS = (w("bookmarkStart"), w("bookmarkEnd"))


def _tokens(paragraph: ET.Element) -> Iterator[_Token]:
    names: dict[str | None, str] = {}
    for child in paragraph:
        if child.tag == w("r"):
            yield from _run_tokens(child, None)
        elif child.tag == w("hyperlink"):
            link = ET.Element(child.tag, child.attrib)
            for run in child.iter(w("r")):
                yield from _run_tokens(run, link)
        elif child.tag == w("fldSimple"):
            # compared by its instruction: a caption's number shifts when a table is added
            # before it, and Word recalculates it; that is not a change of the text
            yield _Token(f"\x00field:{child.get(w('instr'), '')}", None, child)
        elif child.tag in _BOOKMARKS:
            # a bookmark stays where it is (pandoc reads a caption's label by it); compared
            # by name, since ids differ between the two files
            name = names.setdefault(child.get(w("id")), child.get(w("name"), ""))
            yield _Token(f"\x00{child.tag}:{name}", None, child)


# --------------------------------------------------------------------------- revisions


class _Revisions:
    """Makes `w:ins` / `w:del` marks with unique ids, one author and one date."""

    def __init__(self, date: str) -> None:
        self.date = date
        self.next_id = FIRST_REVISION_ID

    def mark(self, kind: str) -> ET.Element:
        element = ET.Element(
            w(kind), {w("id"): str(self.next_id), w("author"): AUTHOR, w("date"): self.date}
        )
        self.next_id += 1
        return element

    def paragraph_mark(self, paragraph: ET.Element, kind: str) -> None:
        """Mark the paragraph mark itself as inserted or deleted."""
        props = paragraph.find(w("pPr"))
        if props is None:
            props = ET.Element(w("pPr"))
            paragraph.insert(0, props)
        run_props = props.find(w("rPr"))
        if run_props is None:
            run_props = ET.SubElement(props, w("rPr"))
        run_props.append(self.mark(kind))


def _run(tokens: list[_Token], deleted: bool) -> list[ET.Element]:
    """Runs for consecutive tokens (one run per formatting); fields and tabs as they are."""
    runs: list[ET.Element] = []
    text_tag = w("delText") if deleted else w("t")
    for token in tokens:
        last = runs[-1] if runs else None
        same_props = (
            last is not None
            and last.tag == w("r")
            and _props_key(last.find(w("rPr"))) == _props_key(token.run_props)
        )
        if token.element is None and same_props and last is not None and last[-1].tag == text_tag:
            last[-1].text = (last[-1].text or "") + token.text
            continue
        run = ET.Element(w("r"))
        if token.run_props is not None:
            run.append(copy.deepcopy(token.run_props))
        if token.element is None:
            t = ET.SubElement(
                run, text_tag, {"{http://www.w3.org/XML/1998/namespace}space": "preserve"}
            )
            t.text = token.text
        else:
            run.append(copy.deepcopy(token.element))
        runs.append(run)
    return runs


def _props_key(props: ET.Element | None) -> str:
    return ET.tostring(props, "unicode") if props is not None else ""


def _emit(tokens: list[_Token], op: str, revisions: _Revisions, out: list[ET.Element]) -> None:
    """Append `tokens` to a paragraph's children: as they are, inserted or deleted. Each
    hyperlink is kept around its own tokens (deleted text drops its link); bookmarks stay
    outside revisions (a deleted one is dropped); a field keeps its place with its result
    marked inside it."""
    pending: list[_Token] = []

    def flush() -> None:
        if not pending:
            return
        runs = _run(pending, deleted=op == "delete")
        if op != "equal":
            wrapper = revisions.mark("del" if op == "delete" else "ins")
            wrapper.extend(runs)
            runs = [wrapper]
        link = pending[0].link if op != "delete" else None
        if link is not None:
            holder = copy.deepcopy(link)
            holder.extend(runs)
            runs = [holder]
        out.extend(runs)
        pending.clear()

    for token in tokens:
        element = token.element
        if element is not None and element.tag in _BOOKMARKS:
            flush()
            if op != "delete":
                out.append(copy.deepcopy(element))
        elif element is not None and element.tag == w("fldSimple"):
            flush()
            field = copy.deepcopy(element)
            if op == "delete":
                for text in field.iter(w("t")):
                    text.tag = w("delText")
            if op != "equal":
                mark = revisions.mark("del" if op == "delete" else "ins")
                mark.extend(list(field))
                for child in list(field):
                    field.remove(child)
                field.append(mark)
            out.append(field)
        else:
            link = token.link if op != "delete" else None
            if pending and (pending[0].link if op != "delete" else None) is not link:
                flush()
            pending.append(token)
    flush()


def _paragraph_diff(before: ET.Element, now: ET.Element, revisions: _Revisions) -> ET.Element:
    """The current paragraph with word-level revisions against the previous one."""
    old, new = list(_tokens(before)), list(_tokens(now))
    matcher = difflib.SequenceMatcher(
        None, [t.text for t in old], [t.text for t in new], autojunk=False
    )
    children: list[ET.Element] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _emit(new[j1:j2], "equal", revisions, children)
            continue
        if i2 > i1:
            _emit(old[i1:i2], "delete", revisions, children)
        if j2 > j1:
            _emit(new[j1:j2], "insert", revisions, children)
    result = ET.Element(now.tag, now.attrib)
    props = now.find(w("pPr"))
    if props is not None:
        result.append(copy.deepcopy(props))
    result.extend(children)
    return result


def _whole_paragraph(
    paragraph: ET.Element, op: str, revisions: _Revisions, *, mark_end: bool = True
) -> ET.Element:
    """A paragraph inserted or deleted whole, its paragraph mark with it (`mark_end`)."""
    result = ET.Element(paragraph.tag, paragraph.attrib)
    props = paragraph.find(w("pPr"))
    if props is not None:
        result.append(copy.deepcopy(props))
    children: list[ET.Element] = []
    _emit(list(_tokens(paragraph)), op, revisions, children)
    result.extend(children)
    if mark_end:
        revisions.paragraph_mark(result, "del" if op == "delete" else "ins")
    return result


# --------------------------------------------------------------------------- tables


def _whole_row(row: ET.Element, op: str, revisions: _Revisions) -> ET.Element:
    kind = "del" if op == "delete" else "ins"
    result = copy.deepcopy(row)
    props = result.find(w("trPr"))
    if props is None:
        props = ET.Element(w("trPr"))
        result.insert(0, props)
    props.append(revisions.mark(kind))
    for cell in result.findall(w("tc")):
        for n, paragraph in enumerate(list(cell)):
            if paragraph.tag == w("p"):
                # the row's mark covers the cell's end: its paragraph mark is not tracked
                cell[n] = _whole_paragraph(paragraph, op, revisions, mark_end=False)
    return result


def _table_diff(before: ET.Element, now: ET.Element, revisions: _Revisions) -> ET.Element:
    """The current table with rows inserted and deleted against the previous one."""
    old_rows, new_rows = before.findall(w("tr")), now.findall(w("tr"))
    matcher = difflib.SequenceMatcher(
        None, [_text(r) for r in old_rows], [_text(r) for r in new_rows], autojunk=False
    )
    rows: list[ET.Element] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(new_rows[j1:j2])
            continue
        rows.extend(_whole_row(r, "delete", revisions) for r in old_rows[i1:i2])
        rows.extend(_whole_row(r, "insert", revisions) for r in new_rows[j1:j2])
    result = ET.Element(now.tag, now.attrib)
    result.extend(child for child in now if child.tag != w("tr"))
    result.extend(rows)
    return result


def _whole_table(table: ET.Element, op: str, revisions: _Revisions) -> ET.Element:
    result = ET.Element(table.tag, table.attrib)
    result.extend(child for child in table if child.tag != w("tr"))
    result.extend(_whole_row(r, op, revisions) for r in table.findall(w("tr")))
    return result


# --------------------------------------------------------------------------- body


def _similar_block(a: ET.Element, b: ET.Element) -> bool:
    if a.tag != b.tag:
        return False
    if a.tag == w("tbl"):
        return len(_grid(a)) == len(_grid(b))
    if a.tag != w("p") or _style(a) != _style(b):
        return False
    matcher = difflib.SequenceMatcher(None, _text(a), _text(b), autojunk=False)
    return matcher.quick_ratio() >= PAIR_SIMILARITY and matcher.ratio() >= PAIR_SIMILARITY


Unit = list[ET.Element]
"""A block, or a table with the caption paragraph before it (they change together)."""


def _units(blocks: list[ET.Element]) -> list[Unit]:
    units: list[Unit] = []
    for block in blocks:
        previous = units[-1] if units else None
        if (
            block.tag == w("tbl")
            and previous is not None
            and len(previous) == 1
            and previous[0].tag == w("p")
            and _style(previous[0]) == CAPTION_STYLE
        ):
            previous.append(block)
        else:
            units.append([block])
    return units


def _similar(a: Unit, b: Unit) -> bool:
    return len(a) == len(b) and all(_similar_block(x, y) for x, y in zip(a, b, strict=True))


class _Body:
    def __init__(self, revisions: _Revisions) -> None:
        self.revisions = revisions
        self.blocks: list[ET.Element] = []
        self.last_numbering: dict[str, ET.Element] = {}

    def keep(self, block: ET.Element) -> None:
        if block.tag == w("p"):
            numbering = block.find(f"{w('pPr')}/{w('numPr')}")
            if numbering is not None:
                self.last_numbering[_style(block)] = numbering
        self.blocks.append(block)

    def changed(self, before: ET.Element, now: ET.Element) -> None:
        if now.tag == w("p"):
            self.keep(_paragraph_diff(before, now, self.revisions))
        elif now.tag == w("tbl"):
            self.keep(_table_diff(before, now, self.revisions))
        else:
            self.keep(now)

    def inserted(self, block: ET.Element) -> None:
        if block.tag == w("p"):
            self.keep(_whole_paragraph(block, "insert", self.revisions))
        elif block.tag == w("tbl"):
            if self.blocks and self.blocks[-1].tag == w("tbl"):
                # two tables in a row would merge into one in Word
                self.blocks.append(_whole_paragraph(ET.Element(w("p")), "insert", self.revisions))
            self.keep(_whole_table(block, "insert", self.revisions))
        else:
            self.keep(block)

    def deleted(self, block: ET.Element) -> None:
        if block.tag == w("p"):
            paragraph = _whole_paragraph(block, "delete", self.revisions)
            # the previous file's list numbering ids mean nothing in the current file: a
            # deleted list item takes the numbering of the list it was deleted from
            props = paragraph.find(w("pPr"))
            numbering = props.find(w("numPr")) if props is not None else None
            if props is not None and numbering is not None:
                index = list(props).index(numbering)
                props.remove(numbering)
                current = self.last_numbering.get(_style(block))
                if current is not None:
                    props.insert(index, copy.deepcopy(current))
            self.blocks.append(paragraph)
        elif block.tag == w("tbl"):
            self.blocks.append(_whole_table(block, "delete", self.revisions))


def _merge_stretch(old: list[Unit], new: list[Unit], body: _Body) -> None:
    """A changed stretch: pair similar units in order; the rest are deleted or inserted
    (a deletion before the insertion that replaces it, as a reader compares them)."""
    i = 0
    for n, unit in enumerate(new):
        match = next((k for k in range(i, len(old)) if _similar(old[k], unit)), None)
        if match is None:
            if i < len(old) and not any(_similar(old[i], later) for later in new[n + 1 :]):
                for block in old[i]:
                    body.deleted(block)
                i += 1
            for block in unit:
                body.inserted(block)
            continue
        for skipped in old[i:match]:
            for block in skipped:
                body.deleted(block)
        for before, now in zip(old[match], unit, strict=True):
            body.changed(before, now)
        i = match + 1
    for skipped in old[i:]:
        for block in skipped:
            body.deleted(block)


def merge_bodies(previous: ET.Element, current: ET.Element, date: str) -> ET.Element:
    """The current `w:body` with the revisions that turn the previous one into it."""
    old = _units([b for b in previous if b.tag != w("sectPr")])
    new = _units([b for b in current if b.tag != w("sectPr")])
    body = _Body(_Revisions(date))
    matcher = difflib.SequenceMatcher(
        None,
        ["\n".join(_signature(b) for b in u) for u in old],
        ["\n".join(_signature(b) for b in u) for u in new],
        autojunk=False,
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            _merge_stretch(old[i1:i2], new[j1:j2], body)
            continue
        for before_unit, now_unit in zip(old[i1:i2], new[j1:j2], strict=True):
            for before, now in zip(before_unit, now_unit, strict=True):
                # same text: a table may still differ below its first row
                if now.tag == w("tbl") and ET.tostring(before) != ET.tostring(now):
                    body.changed(before, now)
                else:
                    body.keep(now)
    result = ET.Element(current.tag, current.attrib)
    result.extend(body.blocks)
    result.extend(b for b in current if b.tag == w("sectPr"))
    return result


def redline_docx(previous: bytes, current: bytes, *, date: str) -> bytes:
    """The current .docx with tracked revisions against the previous .docx.

    `date` is the amendment date (YYYY-MM-DD); every revision carries it and the author
    `protocmc`. Every part but `word/document.xml` is the current file's, byte for byte.
    """
    stamp = f"{date}T00:00:00Z"
    with zipfile.ZipFile(io.BytesIO(previous)) as old_zip:
        old_xml = old_zip.read("word/document.xml")
    source = zipfile.ZipFile(io.BytesIO(current))
    new_xml = source.read("word/document.xml")
    _register_namespaces(new_xml)
    old_root, new_root = ET.fromstring(old_xml), ET.fromstring(new_xml)
    old_body, new_body = old_root.find(w("body")), new_root.find(w("body"))
    assert old_body is not None and new_body is not None
    merged = merge_bodies(old_body, new_body, stamp)
    new_root[list(new_root).index(new_body)] = merged
    document = ET.tostring(new_root, encoding="UTF-8", xml_declaration=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = document if info.filename == "word/document.xml" else source.read(info)
            copy_info = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy_info.compress_type = zipfile.ZIP_DEFLATED
            copy_info.external_attr = info.external_attr
            copy_info.create_system = 3
            target.writestr(copy_info, content)
    return out.getvalue()
