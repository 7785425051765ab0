"""M11 heading conformance: level-1 and level-2 headings present, in order, unrenamed.

ICH M11 rules: level-1 headings cannot be deleted, renamed or added; level-2 headings cannot
be deleted or renamed, and new level-2 headings go at the end of their level-1 section.
The lint reads the rendered Markdown, so it catches whatever a sponsor template override did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.models.registry import SectionRegistry

HEADING_RE = re.compile(
    r"^(?P<hashes>#{1,6}) (?P<number>\d+(?:\.\d+)*)\.? (?P<title>.+?)(?: \{[^}]*\})?\s*$"
)


@dataclass(frozen=True)
class Heading:
    level: int
    number: str
    title: str
    line: int


@dataclass(frozen=True)
class LintFinding:
    code: str
    message: str
    line: int
    hint: str
    heading_text: str = ""


def numbered_headings(markdown: str) -> list[Heading]:
    found: list[Heading] = []
    in_fence = False
    for lineno, line in enumerate(markdown.splitlines(), start=1):
        if line.startswith("```"):
            in_fence = not in_fence
        if in_fence:
            continue
        m = HEADING_RE.match(line)
        if m:
            found.append(Heading(len(m["hashes"]), m["number"], m["title"].strip(), lineno))
    return found


def lint_m11(markdown: str, registry: SectionRegistry) -> list[LintFinding]:
    headings = numbered_headings(markdown)
    expected = [s for s in registry.sections if s.level <= 2]
    known = {s.number: s for s in expected}
    findings: list[LintFinding] = []
    seen_numbers: dict[str, Heading] = {}

    for h in headings:
        if h.level != h.number.count(".") + 1:
            findings.append(
                LintFinding(
                    "PL004",
                    f"heading {h.number} '{h.title}' is at Markdown level {h.level} "
                    f"but its number has {h.number.count('.') + 1} parts",
                    h.line,
                    "use one '#' per number part: '#' for 1, '##' for 1.1, '###' for 1.1.1",
                    h.title,
                )
            )
        if h.level > 2:
            continue
        seen_numbers[h.number] = h
        section = known.get(h.number)
        if section is None:
            if h.level == 1:
                findings.append(
                    LintFinding(
                        "PL003",
                        f"level-1 heading '{h.number} {h.title}' is not an M11 section",
                        h.line,
                        "M11 does not allow new level-1 headings; add a level-2 heading at the end "
                        "of a section instead",
                        h.title,
                    )
                )
            continue
        if h.title != section.title:
            findings.append(
                LintFinding(
                    "PL002",
                    f"M11 heading {h.number} is renamed: '{h.title}' (M11: '{section.title}')",
                    h.line,
                    f"keep the M11 title '{section.title}'; M11 forbids renaming level-1 and "
                    "level-2 headings",
                    h.title,
                )
            )

    for section in expected:
        if section.number not in seen_numbers:
            findings.append(
                LintFinding(
                    "PL001",
                    f"M11 heading {section.number} '{section.title}' is missing",
                    0,
                    "M11 forbids deleting level-1 and level-2 headings; restore it (leave the "
                    "insertion point if there is nothing to say yet)",
                    section.title,
                )
            )

    # Order: the registry headings must appear in registry order; an added level-2 heading
    # must come after every registry level-2 heading of its level-1 section.
    order = {s.number: i for i, s in enumerate(expected)}
    last = -1
    for h in headings:
        if h.level > 2 or h.number not in order:
            continue
        if order[h.number] < last:
            findings.append(
                LintFinding(
                    "PL005",
                    f"M11 heading {h.number} '{h.title}' is out of order",
                    h.line,
                    "keep M11 headings in M11 order",
                    h.title,
                )
            )
        last = max(last, order[h.number])
    by_parent: dict[str, list[Heading]] = {}
    for h in headings:
        if h.level == 2:
            by_parent.setdefault(h.number.split(".")[0], []).append(h)
    for parent, kids in by_parent.items():
        added_seen: Heading | None = None
        for h in kids:
            if h.number not in known:
                added_seen = added_seen or h
            elif added_seen is not None:
                findings.append(
                    LintFinding(
                        "PL006",
                        f"added level-2 heading '{added_seen.number} {added_seen.title}' comes "
                        f"before M11 heading {h.number} in section {parent}",
                        added_seen.line,
                        "M11 places added level-2 headings at the end of their level-1 section",
                        added_seen.title,
                    )
                )
                break
    return findings
