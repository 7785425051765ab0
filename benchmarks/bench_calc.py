"""Seconds per scenario for simulated operating characteristics (10,000 trials each).

Run: python benchmarks/bench_calc.py   (prints a table; no asserts)
"""

from __future__ import annotations

import time

from generator.analysis.simulation import operating_characteristics

TARGET = 0.25
MAX_N = 30
TRIALS = 10_000
SCENARIOS = {
    "MTD at dose 3": [0.05, 0.10, 0.25, 0.40, 0.55],
    "all safe": [0.02, 0.04, 0.06, 0.08, 0.10],
    "all toxic": [0.40, 0.50, 0.60, 0.70, 0.80],
    "MTD at dose 5 of 6": [0.02, 0.05, 0.08, 0.12, 0.25, 0.45],
}
DESIGNS = ("3+3", "BOIN", "i3+3", "mTPI-2")


def main() -> None:
    header = (
        f"{'design':<8} {'scenario':<20} {'seconds':>8} {'P(dose nearest target)':>23}"
        f" {'P(no dose)':>10} {'mean N':>7}"
    )
    print(header)
    print("-" * len(header))
    for design in DESIGNS:
        for name, rates in SCENARIOS.items():
            start = time.perf_counter()
            oc = operating_characteristics(
                design,
                rates,
                target=TARGET,
                max_n=None if design == "3+3" else MAX_N,
                n_trials=TRIALS,
            )
            elapsed = time.perf_counter() - start
            nearest = min(range(len(rates)), key=lambda d: abs(rates[d] - TARGET))
            print(
                f"{design:<8} {name:<20} {elapsed:>8.3f} {oc.doses[nearest].p_select:>23.3f}"
                f" {oc.p_no_dose:>10.3f} {oc.mean_patients:>7.1f}"
            )


if __name__ == "__main__":
    main()
