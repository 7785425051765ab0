"""The viral vector as a second drug substance: its own 3.2.S block in Module 3.

ICH M4Q(R1) repeats the 3.2.S block per drug substance. A lentiviral or gamma-retroviral vector
made under its own process, by its own manufacturer, with its own specification and lot data is
described in cmc.yaml under `vector:`; the cell drug substance keeps the top-level keys."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from generator.models.cmc import (
    LotData,
    Manufacturer,
    Material,
    ProcessStep,
    ProcessVersion,
    SectionKey,
    Specification,
)
from generator.models.common import Identifier, Name, StrictModel, Text, Title, unique


class VectorSpecification(Specification):
    """A test of the vector's specification (its lot CSV has one column per test id)."""

    material: Literal["vector"] = "vector"  # type: ignore[assignment]


class VectorProcess(StrictModel):
    description: Text
    versions: Annotated[list[ProcessVersion], unique("process version")] = Field(min_length=1)
    steps: Annotated[list[ProcessStep], unique("process step")] = Field(min_length=1)


class VectorSubstance(StrictModel):
    """cmc.yaml `vector:` — the vector drug substance."""

    name: Title
    vector_type: Literal["lentiviral", "gamma-retroviral"]
    description: Text = Field(description="Construct, packaging system and what it encodes.")
    manufacturers: list[Manufacturer] = Field(min_length=1)
    process: VectorProcess
    materials: list[Material] = Field(default_factory=list)
    specifications: Annotated[list[VectorSpecification], unique("vector specification")] = Field(
        min_length=1
    )
    not_applicable: dict[Identifier, Text] = Field(
        default_factory=dict,
        description="Vector attributes of the catalogue that do not apply, with the reason.",
    )
    lots: LotData = Field(description="The vector's own lot CSV (one column per vector test).")
    container_closure: Text | None = None
    storage: Name | None = None
    sections: dict[SectionKey, Text] = Field(
        default_factory=dict,
        description="Free text for the vector's 3.2.S sections, by concept key (drug_substance.*).",
    )
