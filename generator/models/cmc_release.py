"""Models of release testing, exceptional release and process controls (issue 13, parts 4, 5, 7).

- `ReleaseTesting`: how a test of the specification is sampled and when its result is known
  (3.2.P.5.1): sample point, sample size, timing, result before release, the test the lot is
  released on when this one reads later (sterility read after infusion, Gram stain released on).
- `ExceptionalRelease`: a lot given to a patient although a release result failed or was not
  available, with the reason and who was told (treating physician, regulator).
- `ProcessControls`: environmental monitoring, container closure integrity and the justification
  of open processing steps (3.2.P.2.5, 3.2.A.1).
- `ProcessControlExpectation`: the framework's staged expectation of one of these controls.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from generator.models.common import Evidence, Identifier, Name, StrictModel, Text, Title

IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
SamplePoint = Literal["in-process", "drug-substance", "final-product"]


class ReleaseTesting(StrictModel):
    """How a release test is sampled and when its result is available (3.2.P.5.1)."""

    sample_point: SamplePoint = Field(
        description="Where the sample is taken: 'in-process' (e.g. culture before harvest), "
        "'drug-substance' or 'final-product' (the formulated product)."
    )
    sample_size: Text | None = Field(
        default=None,
        description="What is tested, e.g. '1 mL of final product' or, for RCL, the number of "
        "cells tested.",
    )
    timing: Text | None = Field(
        default=None, description="When the sample is taken and read, e.g. '14-day culture'."
    )
    result_before_release: bool = Field(
        description="Whether the result is known before the lot is released for infusion."
    )
    released_on: Identifier | None = Field(
        default=None,
        description="Test id of the specification whose result, known before release, stands "
        "in for this one at release (e.g. the Gram stain for a sterility culture read after "
        "infusion).",
    )


class ExceptionalRelease(StrictModel):
    """A lot released for a patient although a release result failed or was not yet known."""

    id: Identifier
    lot: Name = Field(description="Lot id as in the lot CSV.")
    tests: list[Identifier] = Field(
        min_length=1, description="Test ids of the specification the lot did not meet."
    )
    reason: Text = Field(
        description="Why the lot was released, e.g. no alternative for the patient."
    )
    approved_by: Name = Field(description="Who authorised the release, e.g. 'Head of Quality'.")
    physician_notified: IsoDate = Field(
        description="Date the treating physician was told of the result."
    )
    regulator_notified: IsoDate | None = Field(
        default=None, description="Date the regulator (e.g. FDA, under the IND) was told."
    )
    investigation: Identifier | None = Field(
        default=None, description="Id of the investigation under 'investigations:'."
    )


class OpenStep(StrictModel):
    """Why a process step is open, and the aseptic controls around it."""

    justification: Text
    aseptic_controls: Text


class EnvironmentalMonitoring(StrictModel):
    program: Text = Field(description="Areas, grades, viable and non-viable monitoring, frequency.")
    status: Literal["planned", "in-place"]
    excursions: Text | None = Field(default=None, description="Excursions and their handling.")


class ContainerClosureIntegrity(StrictModel):
    container: Name = Field(description="The container tested, e.g. 'EVA cryobag, 250 mL'.")
    method: Text = Field(description="The integrity test, e.g. helium leak or dye ingress.")
    status: Literal["planned", "ongoing", "complete"]
    summary: Text | None = None


class ProcessControls(StrictModel):
    """cmc.yaml `process_controls:` (3.2.P.2.5 microbiological attributes, 3.2.A.1 facilities)."""

    facilities: Text | None = Field(
        default=None, description="Clean rooms, grades and equipment (3.2.A.1)."
    )
    environmental_monitoring: EnvironmentalMonitoring | None = None
    container_closure_integrity: ContainerClosureIntegrity | None = None
    open_steps: dict[Identifier, OpenStep] = Field(
        default_factory=dict,
        description="Per open process step (process.steps id with system: open), the "
        "justification and the aseptic controls.",
    )


ProcessControlId = Literal[
    "material-grade",
    "open-processing",
    "environmental-monitoring",
    "container-closure-integrity",
    "exceptional-release",
]


class ProcessControlExpectation(StrictModel):
    """A framework expectation of a process control, in force from one gate on."""

    id: ProcessControlId
    title: Title
    text: Text
    expected_from: Literal["ind", "pivotal", "bla", "post-approval"] = Field(
        description="The first gate at which the expectation must be met."
    )
    words: list[Name] = Field(
        default_factory=list,
        description="For material-grade: words of a material's grade that mean research grade "
        "(compared lower-cased).",
    )
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence = Evidence.VERIFIED
