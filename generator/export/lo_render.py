"""Render a .docx to PDF with LibreOffice, refreshing the TOC and fields first (as Word does).

Run by the *system* Python, which has LibreOffice's `uno` module (Debian: python3-uno):

    /usr/bin/python3 lo_render.py SOFFICE IN.docx OUT.pdf PROFILE_DIR

Used only by `generator.export.docx.docx_to_pdf` for previews and tests; not part of the export.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _prop(name: str, value: Any) -> Any:
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def render(office: str, docx: Path, pdf: Path, profile: Path) -> None:
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
    )
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
        try:
            doc.getTextFields().refresh()
            indexes = doc.getDocumentIndexes()
            for i in range(indexes.getCount()):
                indexes.getByIndex(i).update()
            doc.getTextFields().refresh()
            doc.storeToURL(pdf.resolve().as_uri(), (_prop("FilterName", "writer_pdf_Export"),))
        finally:
            doc.close(True)
        with contextlib.suppress(Exception):
            desktop.terminate()
    finally:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str]) -> int:
    office, docx, pdf, profile = argv
    render(office, Path(docx), Path(pdf), Path(profile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
