"""Defaults shared by the calculators and the CLI, importable without numpy or scipy."""

DEFAULT_SEED = 20150101
"""Seed of the operating-characteristic simulations (reproducible figures)."""

DEFAULT_TRIALS = 10_000
"""Simulated trials per scenario."""

DEFAULT_MIN_LOTS = 10
"""Lots needed before a numerical limit is proposed from lot data: at 5 or fewer lots a
data-derived limit is not credible; 10-15 lots is where provisional limits become reasonable
(shared/reference/cmc-module3.md (d))."""
