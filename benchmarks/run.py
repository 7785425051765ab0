"""protocmc performance figures: one command, one table.

    python benchmarks/run.py            # full run (about 5-8 minutes on 2 cores)
    python benchmarks/run.py --quick    # one example, one run each, small portfolios

Per example: whole-process time (median of --runs) of `protocmc build --format md`, of the
build with Word output, of `protocmc site`, of a no-op rebuild (unchanged inputs: skipped);
the bare pandoc floor for the same Markdown (`pandoc_floor`: same reference.docx and filters)
against protocmc's own conversion (`convert_docx`: pandoc + post-processing), and the peak
memory of the build process. Then a portfolio of generated products (copies of an example
with varied titles and parameters) at 1 and 2 workers. See benchmarks/README.md for targets.
No asserts: this prints figures.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/product.yaml"))
PROTOCMC = str(Path(sys.executable).with_name("protocmc"))
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600", "NO_COLOR": "1"}


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_mb: float


def run_process(args: Sequence[str], cwd: Path | None = None) -> Run:
    """Run one command to completion; its wall time and its own peak RSS (not the parent's)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(args), cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        raise SystemExit(f"{' '.join(args)} failed ({code}):\n{stderr.decode(errors='replace')}")
    return Run(seconds, usage.ru_maxrss / 1024)


def median_run(make: Callable[[], Run], runs: int) -> Run:
    results = [make() for _ in range(runs)]
    return Run(statistics.median(r.seconds for r in results), max(r.max_rss_mb for r in results))


def median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --------------------------------------------------------------------------- per example


@dataclass(frozen=True)
class ExampleFigures:
    name: str
    md: Run
    docx: Run
    site: Run | None
    noop: Run
    floor: float
    conversion: float
    documents: int


def docx_figures(outdir: Path, product: Path, runs: int) -> tuple[float, float, int]:
    """(pandoc floor, protocmc conversion) seconds for every Markdown document of a build."""
    from generator import api
    from generator.export.docx import DocxMetadata, convert_docx, pandoc_executable, pandoc_floor

    pandoc_executable()  # the one-off version probe belongs to neither figure
    tp = api.load_product(product)[1].title_page
    meta = DocxMetadata(
        title=tp.full_title,
        document_id=tp.sponsor_protocol_id,
        version=tp.version,
        status=tp.status,
        date=tp.version_date,
    )
    documents = sorted(outdir.glob("*.md"))
    texts = [(d, d.read_text("utf-8")) for d in documents]
    with tempfile.TemporaryDirectory() as tmp:

        def floor() -> None:
            for doc, text in texts:
                pandoc_floor(text, Path(tmp) / f"{doc.stem}.docx", resource_path=outdir)

        def conversion() -> None:
            for doc, text in texts:
                convert_docx(text, metadata=meta, resource_path=outdir, source=doc.name)

        return median_seconds(floor, runs), median_seconds(conversion, runs), len(texts)


def bench_example(example: Path, work: Path, runs: int, site: bool) -> ExampleFigures:
    product = example / "product.yaml"
    out = work / example.name
    build = [PROTOCMC, "build", str(product), "-o", str(out)]
    run_process([*build, "--force"])  # warm the OS file cache once
    md = median_run(lambda: run_process([*build, "--format", "md", "--force"]), runs)
    docx = median_run(lambda: run_process([*build, "--format", "all", "--force"]), runs)
    noop = median_run(lambda: run_process([*build, "--format", "all"]), runs)
    site_run = None
    if site:
        site_out = work / f"{example.name}-site"
        site_run = median_run(
            lambda: run_process([PROTOCMC, "site", str(product), "-o", str(site_out)]),
            max(1, runs // 2),
        )
    floor, conversion, n_docs = docx_figures(out, product, runs)
    return ExampleFigures(example.name, md, docx, site_run, noop, floor, conversion, n_docs)


# --------------------------------------------------------------------------- portfolio


def make_products(example: Path, count: int, folder: Path) -> list[Path]:
    """`count` variants of an example's protocol (CMC inputs left out: protocol builds only)."""
    lines = (example / "product.yaml").read_text("utf-8").splitlines(keepends=True)
    text = "".join(line for line in lines if not line.startswith("cmc:"))
    products = []
    for i in range(count):
        variant = text.replace("full_title: >-\n", f"full_title: >-\n    Variant {i:03d}:\n", 1)
        variant = re.sub(r"inpatient_days: \d+", f"inpatient_days: {7 + i % 8}", variant)
        target = folder / f"product-{i:03d}"
        target.mkdir(parents=True)
        (target / "product.yaml").write_text(variant, "utf-8")
        products.append(target)
    return products


@dataclass(frozen=True)
class PortfolioFigures:
    formats: str
    size: int
    jobs: int
    seconds: float
    noop_seconds: float
    failed: int


def bench_portfolio(
    example: Path, sizes: Sequence[int], formats: tuple[str, ...], work: Path
) -> list[PortfolioFigures]:
    from generator.portfolio import build_portfolio

    figures = []
    label = "+".join(formats)
    for size in sizes:
        products = make_products(example, size, work / f"products-{label}-{size}")
        for jobs in (1, 2):
            out = work / f"portfolio-{label}-{size}-{jobs}"
            result = build_portfolio(products, out, jobs=jobs, formats=formats, progress=True)
            again = build_portfolio(products, out, jobs=jobs, formats=formats, progress=False)
            assert len(again.by_status("skipped")) == size
            failed = len(result.by_status("failed"))
            figures.append(
                PortfolioFigures(label, size, jobs, result.seconds, again.seconds, failed)
            )
    return figures


# --------------------------------------------------------------------------- report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.0f}"


def report(examples: list[ExampleFigures], portfolio: list[PortfolioFigures]) -> str:
    lines = [
        "Per example (whole process, median; ms)",
        f"{'example':<28} {'md':>8} {'md+docx':>8} {'site':>8} {'no-op':>8} "
        f"{'floor':>8} {'convert':>8} {'ratio':>6} {'docs':>4} {'peak MB':>7}",
    ]
    for e in examples:
        site = _ms(e.site.seconds) if e.site else f"{'-':>8}"
        peak = max(e.md.max_rss_mb, e.docx.max_rss_mb)
        lines.append(
            f"{e.name:<28} {_ms(e.md.seconds)} {_ms(e.docx.seconds)} {site} "
            f"{_ms(e.noop.seconds)} {_ms(e.floor)} {_ms(e.conversion)} "
            f"{e.conversion / e.floor:6.2f} {e.documents:>4} {peak:7.0f}"
        )
    lines += [
        "",
        "  floor: bare pandoc (pandoc_floor) over every Markdown document of the build;",
        "  convert: protocmc's conversion (convert_docx = pandoc + post-processing) of the same;",
        "  ratio = convert / floor (target <= 1.1). Peak MB: ru_maxrss of the build process.",
        "",
        "Portfolio (protocol only; generated variants of the first example; worker processes)",
        f"{'format':<8} {'products':>8} {'jobs':>4} {'total s':>8} {'ms/product':>10} "
        f"{'speed-up':>8} {'no-op s':>8} {'failed':>6}",
    ]
    single = {(p.formats, p.size): p.seconds for p in portfolio if p.jobs == 1}
    for p in portfolio:
        lines.append(
            f"{p.formats:<8} {p.size:>8} {p.jobs:>4} {p.seconds:8.1f} "
            f"{p.seconds / p.size * 1000:10.0f} {single[(p.formats, p.size)] / p.seconds:8.2f} "
            f"{p.noop_seconds:8.2f} {p.failed:>6}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="one example, one run, small sizes")
    parser.add_argument("--runs", type=int, default=None, help="runs per median (default 3)")
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help="portfolio sizes (md)")
    parser.add_argument(
        "--docx-sizes", type=int, nargs="*", default=None, help="portfolio sizes with .docx"
    )
    parser.add_argument("--no-site", action="store_true", help="skip `protocmc site`")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    sizes = args.sizes if args.sizes is not None else ([10, 20] if args.quick else [50, 200])
    docx_sizes = args.docx_sizes if args.docx_sizes is not None else ([10] if args.quick else [50])
    examples = EXAMPLES[:1] if args.quick else EXAMPLES
    print(
        f"protocmc benchmarks: {len(examples)} example(s), {runs} run(s) each, portfolio sizes "
        f"{sizes} (md) and {docx_sizes} (md+docx), {os.cpu_count()} core(s)",
        flush=True,
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="protocmc-bench-") as tmp:
        work = Path(tmp)
        figures = []
        for example in examples:
            print(f"  {example.name} …", flush=True)
            figures.append(bench_example(example, work, runs, site=not args.no_site))
        portfolio = bench_portfolio(EXAMPLES[0], sizes, ("md",), work)
        portfolio += bench_portfolio(EXAMPLES[0], docx_sizes, ("md", "docx"), work)
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(report(figures, portfolio))
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
