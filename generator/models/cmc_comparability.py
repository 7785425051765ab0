"""Comparability study models (ICH Q5E; FDA 2023 draft guidance on manufacturing changes and
comparability for CGT products): the attributes compared with their risk tier and acceptance
approach, the conclusion words, and the framework's per-gate expectation.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from generator.models.common import Evidence, Identifier, StrictModel, Text

Acceptance = Literal["equivalence", "quality-range", "descriptive"]
"""'equivalence': TOST on the post - pre mean difference within +/- margin at level alpha;
'quality-range': every post-change lot within the pre-change mean +/- k SD; 'descriptive':
shown side by side, no acceptance criterion."""

ComparabilityConclusion = Literal["comparable", "not comparable", "not yet concluded"]
CONCLUSIONS: tuple[ComparabilityConclusion, ...] = (
    "comparable",
    "not comparable",
    "not yet concluded",
)


class ComparedAttribute(StrictModel):
    """One attribute (a test of the specification) compared before and after a change."""

    test: Identifier = Field(description="Test id of 'specifications' (a lot CSV column).")
    tier: Literal[1, 2, 3] = Field(
        description="Risk tier: 1 for the attributes most likely to affect safety or efficacy "
        "(formal equivalence), 2 quality ranges, 3 descriptive."
    )
    acceptance: Acceptance
    margin: float | None = Field(
        default=None,
        gt=0,
        description="Equivalence margin in the test unit: the 100(1 - 2 alpha) % confidence "
        "interval of the post - pre mean difference must lie within plus or minus this.",
    )
    alpha: float = Field(
        default=0.05, gt=0, lt=0.5, description="Level of each one-sided test (equivalence)."
    )
    k: float | None = Field(
        default=None,
        gt=0,
        le=10,
        description="Quality range: post-change lots within the pre-change mean +/- k SD.",
    )
    justification: Text | None = Field(
        default=None, description="Why this tier, margin or k (clinical or process knowledge)."
    )

    @model_validator(mode="after")
    def _parameters(self) -> ComparedAttribute:
        if self.acceptance == "equivalence" and self.margin is None:
            raise ValueError("acceptance 'equivalence' needs 'margin'")
        if self.acceptance == "quality-range" and self.k is None:
            raise ValueError("acceptance 'quality-range' needs 'k'")
        if self.acceptance != "equivalence" and self.margin is not None:
            raise ValueError("'margin' belongs to acceptance 'equivalence'")
        if self.acceptance != "quality-range" and self.k is not None:
            raise ValueError("'k' belongs to acceptance 'quality-range'")
        return self


class ComparabilityExpectation(StrictModel):
    """What one gate expects of a process change whose post-change lots are dosed."""

    conclusion_required: bool = Field(
        description="Post-change lots used clinically at this gate need a 'comparable' "
        "conclusion derived from the study."
    )
    text: Text
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence = Evidence.VERIFIED
