"""Potency assurance: the product's mechanism-of-action (MoA) matrix in cmc.yaml and the
framework's staged potency expectations (FDA 2023 draft "Potency Assurance for Cellular and
Gene Therapy Products").

The matrix lists the MoA elements and, per assay (an analytical method by id), what it
measures, the elements it covers, where it is used (characterisation, release, stability) and
the method status planned at each gate (the assay's lifecycle)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from generator.models.cmc import Gate, MethodStatus
from generator.models.common import Evidence, Identifier, StrictModel, Text, Title, unique

PotencyUse = Literal["characterisation", "release", "stability"]
PotencyRequirement = Literal["moa-matrix", "quantitative-release-assay", "orthogonal-assays"]
"""What a gate expects of the potency strategy:
- 'moa-matrix': every MoA element is measured by at least one assay;
- 'quantitative-release-assay': a quantitative, MoA-linked release assay with a numerical
  acceptance criterion in force at the gate;
- 'orthogonal-assays': at least one MoA element is measured by assays of two methods."""


class MoaElement(StrictModel):
    """One element of the mechanism of action, e.g. target recognition or target-cell killing."""

    id: Identifier
    title: Title
    description: Text | None = None


class PotencyAssay(StrictModel):
    """One row of the matrix: an assay and the MoA elements it measures."""

    method: Identifier = Field(description="Analytical method, by id (methods:).")
    measures: Text = Field(description="What the assay reads out, in words.")
    elements: list[Identifier] = Field(min_length=1, description="MoA elements, by id.")
    use: list[PotencyUse] = Field(min_length=1, description="Where the assay is used.")
    quantitative: bool = Field(description="Whether the assay reports a number.")
    specification: Identifier | None = Field(
        default=None,
        description="Test id of the specification the assay's release result is judged "
        "against (required when 'use' has release or stability).",
    )
    lifecycle: dict[Gate, MethodStatus] = Field(
        default_factory=dict,
        description="Method status planned at each gate, e.g. {pivotal: qualified, bla: validated}.",
    )
    note: Text | None = None


class PotencyAssurance(StrictModel):
    """cmc.yaml `potency:` — the potency assurance strategy and its MoA matrix."""

    mechanism_of_action: Text = Field(description="The mechanism of action, in words.")
    strategy: Text | None = Field(
        default=None,
        description="How process design, process and material controls, in-process testing "
        "and release assays assure potency, in words.",
    )
    elements: Annotated[list[MoaElement], unique("MoA element")] = Field(min_length=1)
    assays: list[PotencyAssay] = Field(min_length=1)


class PotencyGateExpectation(StrictModel):
    """What one gate expects of the potency assurance strategy."""

    gate: Gate
    requires: list[PotencyRequirement] = Field(default_factory=list)
    method_status: MethodStatus = Field(
        description="Status the release potency assay's method should have at the gate."
    )
    text: Text
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence = Evidence.VERIFIED


class PotencyFramework(StrictModel):
    """cmc-framework.yaml `potency_assurance:`."""

    summary: Text
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence = Evidence.VERIFIED
    expectations: list[PotencyGateExpectation] = Field(min_length=1)

    def at(self, gate: Gate) -> PotencyGateExpectation | None:
        return next((e for e in self.expectations if e.gate == gate), None)
