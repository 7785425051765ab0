"""Time and peak memory of the operating-characteristics simulator at 10k, 100k and 1M trials.

Run: python benchmarks/simulation.py [--sizes 10000 100000 1000000] [--design boin]
Each size runs in a fresh process; peak RSS is that process's ru_maxrss (from os.wait4), which
includes the interpreter and numpy (the "imports only" row). Prints a table; asserts nothing.
Targets: time linear in trials (1M <= 10 x the 100k time); peak RSS <= 300 MB at 1M.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

SCENARIO = [0.05, 0.10, 0.20, 0.30, 0.45]  # examples/bcma-cart-rrmm, expected scenario


def one(trials: int, design: str) -> None:
    from generator.analysis.simulation import operating_characteristics

    start = time.perf_counter()
    if trials:
        oc = operating_characteristics(
            design,
            SCENARIO,
            target=0.3,
            max_n=None if design == "3+3" else 30,
            n_trials=trials,
            n_earlystop=None if design == "3+3" else 9,
        )
        print(f"{time.perf_counter() - start:.3f} {oc.doses[3].p_select:.4f}")
    else:
        print(f"{time.perf_counter() - start:.3f} nan")


def run(trials: int, design: str) -> tuple[float, str, float]:
    cmd = [sys.executable, __file__, "--one", str(trials), "--design", design]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    _, _, usage = os.wait4(proc.pid, 0)
    assert proc.stdout is not None
    seconds, dl4 = proc.stdout.read().split()
    return float(seconds), dl4, usage.ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--design", default="boin")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        one(args.one, args.design)
        return
    print(f"{args.design}, scenario {SCENARIO}, max N 30, cap 9")
    print(f"{'trials':>10} {'seconds':>8} {'s / 100k':>9} {'peak MB':>8} {'P(select DL4)':>14}")
    _, _, base = run(0, args.design)
    print(f"{'imports':>10} {'':>8} {'':>9} {base:>8.0f}")
    for n in args.sizes:
        seconds, dl4, peak = run(n, args.design)
        print(f"{n:>10,} {seconds:>8.2f} {seconds / n * 100_000:>9.3f} {peak:>8.0f} {dl4:>14}")


if __name__ == "__main__":
    main()
