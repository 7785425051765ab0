"""Models of stability results and their evaluation (ICH Q1E): the product's claims per study
and the framework's evaluation settings, extrapolation rules and per-gate expectations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from generator.models.common import Evidence, Identifier, StrictModel, Text, Title

TimeUnit = Literal["months", "weeks", "days", "hours", "minutes"]
TIME_UNITS: tuple[str, ...] = ("months", "weeks", "days", "hours", "minutes")

Storage = Literal["frozen", "refrigerated", "room-temperature", "in-use"]
"""Storage categories of the Q1E evaluation: frozen (below -20 °C, e.g. vapour phase of liquid
nitrogen), refrigerated, room temperature, and in use after thaw or preparation."""
STORAGES: tuple[str, ...] = ("frozen", "refrigerated", "room-temperature", "in-use")


class StabilityClaim(StrictModel):
    """The shelf life (or in-use period) the sponsor proposes from one study."""

    period: float = Field(gt=0, le=1000, description="Proposed shelf life or in-use period.")
    unit: TimeUnit


class ExtrapolationRule(StrictModel):
    """How far beyond the longest time point with data a supported period may go."""

    storage: Storage
    title: Title
    factor: float = Field(
        ge=1, le=4, description="Supported period at most factor x the last time point."
    )
    max_extension_months: float = Field(
        ge=0, le=24, description="...and at most this many months beyond it."
    )
    text: Text
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence = Evidence.VERIFIED


class StabilityGateExpectation(StrictModel):
    """What one stage gate expects of the stability programme (readiness document, CM128)."""

    gate: Literal["ind", "pivotal", "bla", "post-approval"]
    text: Text
    min_lots: int = Field(default=0, ge=0, le=100, description="Lots with shelf-life results.")
    current_process: bool = Field(
        default=False, description="The shelf-life lots are of the current process version."
    )
    in_use: bool = Field(default=False, description="An in-use (post-thaw) study has results.")
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence = Evidence.VERIFIED


class StabilityEvaluation(StrictModel):
    """cmc-framework.yaml `stability_evaluation:` — the Q1E settings and expectations."""

    confidence: float = Field(
        default=0.95, gt=0, lt=1, description="One-sided confidence of the bound of the mean."
    )
    poolability_alpha: float = Field(
        default=0.25, gt=0, lt=1, description="Significance level of the batch-poolability tests."
    )
    text: Text
    sources: list[Identifier] = Field(min_length=1)
    evidence: Evidence = Evidence.VERIFIED
    extrapolation: list[ExtrapolationRule] = Field(min_length=1)
    gates: list[StabilityGateExpectation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _every_storage(self) -> StabilityEvaluation:
        missing = [s for s in STORAGES if s not in {r.storage for r in self.extrapolation}]
        if missing:
            raise ValueError(f"extrapolation rules are missing for: {', '.join(missing)}")
        return self
