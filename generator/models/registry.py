"""The ICH M11 heading registry, kept as data (templates/protocol/m11-sections.yaml)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from generator.models.common import Evidence, Identifier, Name, StrictModel, Title, unique

SectionNumber = Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*$")]


class Section(StrictModel):
    number: SectionNumber
    key: Identifier
    title: Title
    optional: bool = False
    evidence: Evidence = Evidence.VERIFIED

    @property
    def level(self) -> int:
        return self.number.count(".") + 1

    @property
    def parent(self) -> str | None:
        return self.number.rsplit(".", 1)[0] if "." in self.number else None


class SectionRegistry(StrictModel):
    template: Name
    adopted: Name
    sections: Annotated[list[Section], unique("section", lambda s: s.key)] = Field(min_length=1)

    def by_key(self) -> dict[str, Section]:
        return {s.key: s for s in self.sections}

    def by_number(self) -> dict[str, Section]:
        return {s.number: s for s in self.sections}
