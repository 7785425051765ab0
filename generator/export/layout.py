"""Page geometry and header/footer placeholders shared by the reference.docx builder and export.

Lengths are in twentieths of a point (twips): 1 cm = 567 twips, 1 inch = 1440 twips.
"""

from __future__ import annotations

from typing import Final

PAGE_WIDTH: Final = 12240  # US Letter, 8.5 in
PAGE_HEIGHT: Final = 15840  # 11 in
MARGIN: Final = 1417  # 2.5 cm on every side
HEADER_FOOTER_DISTANCE: Final = 709  # 1.25 cm from the page edge
TEXT_WIDTH: Final = PAGE_WIDTH - 2 * MARGIN

HEADING_NUM_ID: Final = 900
"""numId (and abstractNumId) of the multilevel list attached to Heading 1-4.

Below 990 on purpose: pandoc drops reference numbering with abstractNumId >= 990 or
numId >= 1000, the ranges it uses for its own lists.
"""

PLACEHOLDERS: Final[dict[str, str]] = {
    "document_id": "[[protocmc:document_id]]",
    "version": "[[protocmc:version]]",
    "status": "[[protocmc:status]]",
    "version_date": "[[protocmc:version_date]]",
    "document_title": "[[protocmc:document_title]]",
}
"""Custom document property name -> token shown in reference.docx's header/footer fields.

The header and footer hold `DOCPROPERTY <name>` fields; export replaces each token (the field's
shown value) with the document's value and writes the same values to docProps/custom.xml, so a
field update in Word gives the same text.
"""
