"""Time the passes over the rendered protocol draft (`_finish` and `_open_points`).

    python benchmarks/passes.py              # CD19 example, 20 repetitions
    python benchmarks/passes.py -n 50 examples/bcma-cart-rrmm/product.yaml
    python benchmarks/passes.py --gc-freeze  # the loaded objects moved out of the collector's
                                             # reach first: the passes' own time, without the
                                             # full collection (~25 ms) a build's heap costs

Loads and renders the example's templates once, then times the passes alone: the first call
(what a real build pays, one-off regex compiles included: a rebuild after an edit is a fresh
process) and the median of the repetitions after it. No asserts: this prints figures.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

from generator import protocol_documents as pd
from generator.api import resolve
from generator.render import make_environment, render_template
from generator.sponsor import sponsor_templates

ROOT = Path(__file__).resolve().parent.parent


def _raw_draft(product: Path) -> tuple[str, object, Path | None, object]:
    resolved, _problems = resolve(product)
    analysis = pd.analyse(resolved)
    sponsor = sponsor_templates(resolved)
    context, recorder = pd._protocol_context(resolved, analysis)
    raw = render_template(
        make_environment(sponsor), pd.PROTOCOL_TEMPLATE, context, sponsor_dir=sponsor
    )
    return raw.markdown, resolved, sponsor, recorder


def _passes(markdown: str, resolved: object, sponsor: Path | None, recorder: object) -> float:
    start = time.perf_counter()
    finished, _problems = pd._finish(markdown, resolved, sponsor)  # type: ignore[arg-type]
    pd._open_points(finished, resolved, recorder)  # type: ignore[arg-type]
    return time.perf_counter() - start


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("product", nargs="?", default=ROOT / "examples/cd19-cart-lbcl/product.yaml")
    parser.add_argument("-n", type=int, default=20, help="repetitions after the first call")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() before timing")
    args = parser.parse_args()
    markdown, resolved, sponsor, recorder = _raw_draft(Path(args.product))
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    first = _passes(markdown, resolved, sponsor, recorder)
    times = [_passes(markdown, resolved, sponsor, recorder) for _ in range(args.n)]
    print(f"draft: {len(markdown):,} characters before the passes")
    print(f"first call: {_ms(first)}")
    print(
        f"median of {args.n}: {_ms(statistics.median(times))} "
        f"(min {_ms(min(times))}, max {_ms(max(times))})"
    )


if __name__ == "__main__":
    main()
