"""Render a .docx to PDF with LibreOffice, refreshing the TOC and fields first (as Word does).

Run by the *system* Python, which has LibreOffice's `uno` module (Debian: python3-uno):

    /usr/bin/python3 lo_render.py SOFFICE IN.docx OUT.pdf PROFILE_DIR [--comments-in-margin]

With `--comments-in-margin` the PDF shows Word comments in a margin beside the page, as Word's
print layout does (LibreOffice 7.5 and later; 7.4 keeps them as PDF annotations). Used only by `generator.export.docx.docx_to_pdf` for previews and tests; not part of the export.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _prop(name: str, value: Any) -> Any:
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def _property_sequence(uno: Any, props: Sequence[Any]) -> Any:
    """A typed []PropertyValue (a plain tuple reaches the filter as []any and is ignored)."""
    return uno.Any("[]com.sun.star.beans.PropertyValue", tuple(props))


def render(
    office: str, docx: Path, pdf: Path, profile: Path, *, comments_in_margin: bool = False
) -> None:
    import uno  # type: ignore[import-not-found]

    pipe = f"protocmc_{abs(hash((str(docx), time.time())))}"
    proc = subprocess.Popen(
        [
            office,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # its own process group: the launcher starts soffice.bin as a child, and killing the
        # launcher alone would leave soffice.bin running
        start_new_session=True,
    )
    finished = False
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        context = None
        for _ in range(200):
            try:
                context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.1)
        if context is None:
            raise RuntimeError("could not connect to LibreOffice")
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )
        doc = desktop.loadComponentFromURL(
            docx.resolve().as_uri(), "_blank", 0, (_prop("Hidden", True),)
        )
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {docx}")
        try:
            doc.getTextFields().refresh()
            indexes = doc.getDocumentIndexes()
            for i in range(indexes.getCount()):
                indexes.getByIndex(i).update()
            doc.getTextFields().refresh()
            export = [_prop("FilterName", "writer_pdf_Export")]
            if comments_in_margin:
                # LibreOffice 7.5 and later; older versions ignore it and keep the comments
                # as PDF annotations (ExportNotes) at their anchors
                data = (_prop("ExportNotes", True), _prop("ExportNotesInMargin", True))
                export.append(_prop("FilterData", _property_sequence(uno, data)))
            uno.invoke(doc, "storeToURL", (pdf.resolve().as_uri(), _property_sequence(uno, export)))
        finally:
            doc.close(True)
        with contextlib.suppress(Exception):
            desktop.terminate()
        finished = True
    finally:
        try:
            proc.wait(timeout=30 if finished else 1)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main(argv: list[str]) -> int:
    margin = "--comments-in-margin" in argv
    office, docx, pdf, profile = [a for a in argv if a != "--comments-in-margin"]
    render(office, Path(docx), Path(pdf), Path(profile), comments_in_margin=margin)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
