"""Defaults shared by the calculators and the CLI, importable without numpy or scipy."""

DEFAULT_SEED = 20150101
"""Seed of the operating-characteristic simulations (reproducible figures)."""

DEFAULT_TRIALS = 10_000
"""Simulated trials per scenario."""

DEFAULT_MIN_LOTS = 10
"""Lots needed before a numerical limit is proposed from lot data: at 5 or fewer lots a
data-derived limit is not credible; 10-15 lots is where provisional limits become reasonable
(shared/reference/cmc-module3.md (d))."""

# Hard limits of the calculators: beyond them a run would take minutes or gigabytes, and no
# phase I design needs them. Each is checked before any work starts (ValueError; `protocmc
# calc` exits 2 with one line).
MAX_TRIALS = 10_000_000
"""Simulated trials per scenario."""

MAX_N = 1_000
"""Maximum sample size (patients) of a simulation, a decision table or a Pocock boundary."""

MAX_N_MONITORING = 10_000
"""Maximum sample size of the Bayesian monitoring boundary: the protocol monitors the whole
trial (a product's maximum_participants may be up to 10,000), and the boundary and its exact
operating characteristics take seconds even there."""

MAX_DOSES = 20
"""Dose levels in a simulated scenario."""

SIM_CHUNK = 50_000
"""Trials simulated together; bounds memory (about 20 MB per chunk with 5 doses). Results do
not depend on it: each trial's random numbers come from its own counter (analysis/philox.py)."""


def check_positive_int(name: str, value: int, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value:
        raise ValueError(f"{name} must be an integer, got {value}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
