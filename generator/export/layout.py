"""Page geometry, paper sizes and header/footer placeholders shared by the reference.docx builder
and the export.

Lengths are in twentieths of a point (twips): 1 cm = 567 twips, 1 inch = 1440 twips.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Paper:
    """A paper size (portrait width and height, twips) with the house margins."""

    name: str
    width: int
    height: int

    @property
    def text_width(self) -> int:
        """Width between the margins, portrait."""
        return self.width - 2 * MARGIN

    @property
    def text_height(self) -> int:
        """Height between the top and bottom margins, portrait."""
        return self.height - 2 * MARGIN


MARGIN: Final = 1417  # 2.5 cm on every side
HEADER_FOOTER_DISTANCE: Final = 709  # 1.25 cm from the page edge

LETTER: Final = Paper("US Letter", 12240, 15840)  # 8.5 x 11 in
A4: Final = Paper("A4", 11906, 16838)  # 210 x 297 mm

REFERENCE_PAPER: Final = LETTER
"""The paper of templates/docx/reference.docx: what a document gets when no locale is given."""

PAGE_WIDTH: Final = REFERENCE_PAPER.width
PAGE_HEIGHT: Final = REFERENCE_PAPER.height
TEXT_WIDTH: Final = REFERENCE_PAPER.text_width

LETTER_REGIONS: Final = frozenset({"US", "CA", "MX", "PH"})
"""Regions whose offices print on US Letter; everywhere else uses A4 (ISO 216)."""

_LOCALE = re.compile(r"^([a-z]{2,3})(?:-([A-Z]{2}))?$")


def parse_locale(locale: str) -> tuple[str, str | None]:
    """`en-GB` -> ("en", "GB"); raises ValueError for anything not language[-REGION]."""
    match = _LOCALE.match(locale)
    if match is None:
        raise ValueError(
            f"locale '{locale}' is not a language tag such as 'en-US' or 'en-GB' "
            "(two lower-case letters, optionally a hyphen and two upper-case letters)"
        )
    return match.group(1), match.group(2)


def paper_for_locale(locale: str | None) -> Paper:
    """US Letter for `en-US` (and the other Letter regions), A4 for `en-GB` and the rest.

    `None` keeps the reference document's paper.
    """
    if locale is None:
        return REFERENCE_PAPER
    _language, region = parse_locale(locale)
    return LETTER if region in LETTER_REGIONS else A4


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
