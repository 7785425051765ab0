"""Computed tables the protocol templates render (filled in by the calculators)."""

from __future__ import annotations

from typing import Any

from generator.resolve import ResolvedProtocol


def protocol_analysis(resolved: ResolvedProtocol) -> dict[str, Any]:
    return {"escalation": None, "stopping": None, "operating_characteristics": None, "sample_size": None}
