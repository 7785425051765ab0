"""protocmc performance figures: every row of the speed table, each against its floor.

    python benchmarks/run.py            # full run: 5 repetitions, portfolios of 10 and 50
    python benchmarks/run.py --quick    # smoke run: 2 repetitions, a portfolio of 10

Every figure is a whole process (a fresh `protocmc` or `mkdocs` subprocess) timed from the
outside, so it includes the interpreter start and every import: the time a writer waits. Each
row is measured next to its floor in the same window (the floor's repetitions interleave with
the row's), and prints the median and min/max of both and the ratio of the medians.

Rows (CD19 example unless said otherwise):
  md warm     `protocmc build --format md --force`, per-user cache warm
  md cold     the same with an empty per-user cache (PROTOCMC_CACHE_DIR a fresh folder)
                floor for both: python -c "import jinja2, ruamel.yaml, pydantic"
  word        `protocmc build --format docx --force` (whole process, every conversion done:
                the Word conversion cache is emptied before each run)
                floor: bare pandoc (same reference.docx, filters and options) on the same
                Markdown (the documents and the redline's two drafts), one after another
  edit        rebuild (no --force) after a one-line protocol-only change to product.yaml (a
                rationale no earlier run has seen: no cached render answers it)
                floor: the import floor; the `full` column is the --force rebuild
  watch       the same change under `protocmc build --watch`: from saving product.yaml to
                protocol.md holding the change (no floor)
  portfolio   `protocmc portfolio` of N generated protocol-only products, -j 2 against -j 1
                (the ratio is the speed-up: 1-worker time / 2-worker time); once unchanged
                (every build answered from its cached plan: mostly start-up), once with
                every product changed before each run (every product really built); and N
                whole products (copies of the example: protocol, amendment, CMC), each changed
  site        `protocmc site` of the product / of the repository (mkdocs build --strict),
                floor: bare `mkdocs build` of the same pages pre-rendered (`protocmc site --docs`)
  boin        1M-trial BOIN simulation (benchmarks/simulation.py): seconds and peak RSS;
                linearity = 1M time / 100k time (goal <= 10) and 1M / 10k (goal <= 100)

No asserts: this prints figures. The full run takes about 6-10 minutes on an idle 2-core
machine (more under load); --quick about 2-3 minutes.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cd19-cart-lbcl"
BIN = Path(sys.executable).parent
PROTOCMC = str(BIN / "protocmc")
MKDOCS = str(BIN / "mkdocs")
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600", "NO_COLOR": "1"}
# Measure what a user runs: an installed protocmc has its bytecode compiled (pip does it, or
# the first run), while PYTHONDONTWRITEBYTECODE=1 would recompile every module every run.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
FLOOR_IMPORTS = [sys.executable, "-c", "import jinja2, ruamel.yaml, pydantic"]


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_mb: float
    cpu_seconds: float = 0.0
    """User + system time of the process and its children (pandoc): wall time is noisy on
    shared CPUs."""


def run_process(
    args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Run:
    """Run one command to completion: its wall time and its own peak RSS (from os.wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(args),
        cwd=cwd,
        env=env or ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
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
    return Run(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


CPU = [False]
"""--cpu: rows report CPU time (user + system, with children) instead of wall time."""


def metric(run: Run) -> float:
    return run.cpu_seconds if CPU[0] else run.seconds


def children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@dataclass(frozen=True)
class Stats:
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def cell(self, unit: str = "s") -> str:
        if unit == "MB":
            return f"{self.median:7.0f} ({min(self.values):.0f}-{max(self.values):.0f}) MB"
        return f"{self.median:7.3f} ({min(self.values):.3f}-{max(self.values):.3f}) s"


@dataclass(frozen=True)
class Row:
    work: str
    value: Stats
    floor: Stats | None
    ratio_label: str  # what the ratio column means
    ratio: float | None
    goal: str
    note: str = ""


def interleaved(
    reps: int, row: Callable[[], float], floor: Callable[[], float] | None
) -> tuple[Stats, Stats | None]:
    """`reps` timings of `row` and of its floor, alternating, so both see the same load."""
    values: list[float] = []
    floors: list[float] = []
    for _ in range(reps):
        if floor is not None:
            floors.append(floor())
        values.append(row())
    return Stats(tuple(values)), Stats(tuple(floors)) if floor is not None else None


def import_floor() -> float:
    return metric(run_process(FLOOR_IMPORTS))


# --------------------------------------------------------------------------- builds


def copy_example(work: Path) -> Path:
    target = work / "example"
    shutil.copytree(EXAMPLE, target)
    return target / "product.yaml"


def build_rows(work: Path, reps: int) -> list[Row]:
    product = copy_example(work)
    out = work / "out"
    cache = work / "cache-warm"
    env = {**ENV, "PROTOCMC_CACHE_DIR": str(cache)}
    build = [PROTOCMC, "build", str(product), "-o", str(out)]
    run_process([*build, "--format", "all", "--force"], env=env)  # warm caches (OS and ours)

    def md_warm() -> float:
        return metric(run_process([*build, "--format", "md", "--force"], env=env))

    cold_n = [0]

    def md_cold() -> float:
        cold_n[0] += 1
        folder = work / f"cache-cold-{cold_n[0]}"
        cold = {**ENV, "PROTOCMC_CACHE_DIR": str(folder)}
        seconds = metric(run_process([*build, "--format", "md", "--force"], env=cold))
        shutil.rmtree(folder, ignore_errors=True)
        return seconds

    warm, floor_w = interleaved(reps, md_warm, import_floor)
    cold, floor_c = interleaved(reps, md_cold, import_floor)
    rows = [
        Row(
            "Markdown build, warm (4 documents)",
            warm,
            floor_w,
            "x floor",
            warm.median / floor_w.median if floor_w else None,
            "< 0.3 s, <= 3x floor",
        ),
        Row(
            "Markdown build, cold (empty cache)",
            cold,
            floor_c,
            "x floor",
            cold.median / floor_c.median if floor_c else None,
            "< 1.0 s",
        ),
    ]
    rows.append(word_row(product, out, env, reps))
    rows.append(edit_row(product, out, env, reps))
    rows.append(watch_row(product, out, env, reps))
    return rows


def word_row(product: Path, out: Path, env: dict[str, str], reps: int) -> Row:
    """Whole-process Word build, every document really converted (the per-document conversion
    cache emptied before each run), against bare pandoc converting the same Markdown (the
    documents and the redline's two drafts) one after another."""
    from generator.export.docx import pandoc_command
    from generator.export.pandoc import pandoc_executable
    from generator.plan import plan

    run_process(
        [PROTOCMC, "build", str(product), "-o", str(out), "--format", "md", "--force"], env=env
    )
    # the docx build replaces the folder: the floor reads its own copy of the Markdown
    sources = out.parent / "word-floor-sources"
    shutil.copytree(out, sources)
    markdown = [doc.read_bytes() for doc in sorted(sources.glob("*.md"))]
    documents = len(markdown)
    saved = {k: os.environ.get(k) for k in ("PROTOCMC_CACHE_DIR", "SOURCE_DATE_EPOCH")}
    os.environ.update({k: env[k] for k in saved})
    try:
        redline = plan(product, clean=False, since=None, word=True).redline
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    markdown += [text.encode("utf-8") for text in redline or ()]
    pandoc_executable()  # the one-off version probe belongs to neither side
    floor_dir = out.parent / "pandoc-floor"
    floor_dir.mkdir(exist_ok=True)
    cache = Path(env["PROTOCMC_CACHE_DIR"])

    def floor() -> float:
        start, cpu = time.perf_counter(), children_cpu()
        for i, text in enumerate(markdown):
            cmd = pandoc_command(resource_path=sources, output=str(floor_dir / f"{i}.docx"))
            subprocess.run(cmd, input=text, check=True, capture_output=True)
        return children_cpu() - cpu if CPU[0] else time.perf_counter() - start

    def word() -> float:
        for kind in ("docx", "docx-redline"):
            shutil.rmtree(cache / kind, ignore_errors=True)
        return metric(
            run_process(
                [PROTOCMC, "build", str(product), "-o", str(out), "--format", "docx", "--force"],
                env=env,
            )
        )

    value, base = interleaved(reps, word, floor)
    assert base is not None
    extra = f" + redline ({len(markdown) - documents} drafts)" if redline else ""
    return Row(
        f"Word build, whole process ({documents} documents{extra})",
        value,
        base,
        "x floor",
        value.median / base.median,
        "<= 1.0x sequential bare pandoc",
    )


def edited(original: str) -> str:
    """The example with one protocol change more (`inpatient_days`) and its rationale,
    "Benchmark edit 0." (the example is a substantial amendment: a change carries its
    rationale); each repetition writes a rationale no earlier run has seen, so no cached
    render of the protocol can answer it."""
    return original.replace(
        "changes:\n",
        "changes:\n  - about: monitoring-logistics\n    rationale: Benchmark edit 0.\n",
        1,
    ).replace("inpatient_days: 10", "inpatient_days: 9", 1)


def edit_row(product: Path, out: Path, env: dict[str, str], reps: int) -> Row:
    """Rebuild (no --force) in a fresh process after a one-line protocol-only change."""
    build = [PROTOCMC, "build", str(product), "-o", str(out), "--format", "md"]
    original = product.read_text("utf-8")
    text = edited(original)
    product.write_text(text, "utf-8")
    run_process([*build, "--force"], env=env)
    values = iter(range(1, 1_000_000))
    stamp = time.time_ns()

    def edit() -> float:
        rationale = f"Benchmark edit {stamp}-{next(values)}."
        product.write_text(text.replace("Benchmark edit 0.", rationale), "utf-8")
        return metric(run_process(build, env=env))

    def full() -> float:
        return metric(run_process([*build, "--force"], env=env))

    value, full_stats = interleaved(reps, edit, full)
    floor = Stats(tuple(import_floor() for _ in range(reps)))
    product.write_text(original, "utf-8")
    assert full_stats is not None
    return Row(
        "Rebuild after a one-line protocol change (fresh process)",
        value,
        floor,
        "x floor",
        value.median / floor.median,
        "< 0.3 s; only affected documents",
        note=f"full --force rebuild {full_stats.cell()}",
    )


def watch_row(product: Path, out: Path, env: dict[str, str], reps: int) -> Row:
    """Under `protocmc build --watch`: the time from writing a one-line protocol change to
    product.yaml until protocol.md holds it (what a writer waits between saving and
    reading). Each rebuild runs in a process forked from the watching one."""
    original = product.read_text("utf-8")
    text = edited(original)
    product.write_text(text, "utf-8")
    target = out / "protocol.md"
    cmd = [PROTOCMC, "build", str(product), "-o", str(out), "--format", "md", "--watch"]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()

    def wait_for(prefix: str) -> None:
        while not lines.get(timeout=120).startswith(prefix):
            pass

    wait_for("watching")
    stamp = time.time_ns()
    values = iter(range(1, 1_000_000))

    def one() -> float:
        rationale = f"Benchmark watch {stamp}-{next(values)}."
        before = target.stat().st_ino
        start = time.perf_counter()
        product.write_text(text.replace("Benchmark edit 0.", rationale), "utf-8")
        while True:  # outputs are renamed into place: a new inode is a finished file
            try:
                if target.stat().st_ino != before and rationale in target.read_text("utf-8"):
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.002)
        seconds = time.perf_counter() - start
        wait_for("rebuilt")  # the build process has ended: the next edit starts clean
        time.sleep(0.2)
        return seconds

    try:
        one()  # the first rebuild also imports what the first (cached) build did not need
        value = Stats(tuple(one() for _ in range(reps)))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        product.write_text(original, "utf-8")
    return Row(
        "Rebuild after a one-line protocol change (--watch)",
        value,
        None,
        "",
        None,
        "< 0.3 s",
        note="from saving product.yaml to protocol.md holding the change",
    )


# --------------------------------------------------------------------------- portfolio


def make_products(count: int, folder: Path) -> list[Path]:
    """`count` protocol-only variants of the example's original protocol (version 1.0, no
    amendment to compare), each with its title and one parameter changed."""
    lines = (EXAMPLE / "history" / "product-v1.0.yaml").read_text("utf-8").splitlines(keepends=True)
    text = "".join(line for line in lines if not line.startswith("cmc:"))
    products = []
    for i in range(count):
        variant = text.replace("full_title: >-\n", f"full_title: >-\n    Variant {i:03d}:\n", 1)
        variant = re.sub(r"inpatient_days: \d+", f"inpatient_days: {8 + i % 7}", variant)
        target = folder / f"product-{i:03d}"
        target.mkdir(parents=True)
        (target / "product.yaml").write_text(variant, "utf-8")
        products.append(target)
    return products


def make_full_products(count: int, folder: Path) -> list[Path]:
    """`count` copies of the whole example (protocol, amendment, CMC, lots, stability), each
    with its own wording of an amendment's rationale (a title change would need one):
    products whose builds do the work of a real programme's."""
    products = []
    for i in range(count):
        target = folder / f"product-{i:03d}"
        shutil.copytree(EXAMPLE, target)
        path = target / "product.yaml"
        text = path.read_text("utf-8")
        line = next(x for x in text.splitlines() if "rationale: Grade 3" in x)
        quoted = line.replace("rationale: ", f"rationale: 'Variant {i:03d}: ") + "'"
        path.write_text(text.replace(line, quoted))
        products.append(target)
    return products


def portfolio_rows(
    work: Path, sizes: Sequence[int], reps: int, *, full: Sequence[int] = ()
) -> list[Row]:
    """Per size: protocol-only products unchanged and each changed; per `full` size: whole
    products (protocol + CMC), each changed."""
    env = {**ENV, "PROTOCMC_CACHE_DIR": str(work / "cache-warm")}
    rows = []
    edits = iter(range(1_000_000))
    cases = [(size, False) for size in sizes] + [(size, True) for size in full]
    for size, whole in cases:
        make = make_full_products if whole else make_products
        folder = work / f"products-{size}{'-full' if whole else ''}"
        products = [str(p) for p in make(size, folder)]

        def portfolio(
            jobs: int,
            size: int = size,
            products: list[str] = products,
            changed: bool = False,
            whole: bool = whole,
        ) -> float:
            if changed:  # every product differs from every earlier run: all really built
                run = next(edits)
                for product in products:
                    path = Path(product) / "product.yaml"
                    text = re.sub(
                        r"Variant (\d+)( run \d+)?:",
                        rf"Variant \1 run {run}:",
                        path.read_text("utf-8"),
                    )
                    path.write_text(text, "utf-8")
            out = work / f"portfolio-{size}{'-full' if whole else ''}-{jobs}"
            cmd = [
                PROTOCMC,
                "portfolio",
                *products,
                "-o",
                str(out),
                "-j",
                str(jobs),
                "--format",
                "md",
                "--force",
                "--no-progress",
            ]
            return run_process(cmd, env=env).seconds

        portfolio(1)  # warm the per-user cache for these variants
        kinds = (
            [(True, "each changed")] if whole else [(False, "unchanged"), (True, "each changed")]
        )
        for changed, label in kinds:
            two, one = interleaved(
                reps,
                lambda changed=changed: portfolio(2, changed=changed),
                lambda changed=changed: portfolio(1, changed=changed),
            )
            assert one is not None
            rows.append(
                Row(
                    f"Portfolio, {size} {'whole ' if whole else ''}products {label}, 2 workers (floor: 1)",
                    two,
                    one,
                    "speed-up",
                    one.median / two.median,
                    ">= 1.8x",
                )
            )
    return rows


# --------------------------------------------------------------------------- site


def site_rows(work: Path, reps: int, repository: bool) -> list[Row]:
    product = EXAMPLE / "product.yaml"
    rows = []
    targets = [("`protocmc site` (CD19)", product)]
    if repository:
        targets.append(("repository `mkdocs build --strict`", ROOT))
    for n, (label, target) in enumerate(targets):
        docs = work / f"site-docs-{n}"
        run_process([PROTOCMC, "site", str(target), "--docs", str(docs)], cwd=ROOT)
        floor_out = work / f"site-floor-{n}"
        out = work / f"site-{n}"

        def floor(docs: Path = docs, floor_out: Path = floor_out) -> float:
            cmd = [MKDOCS, "build", "-q", "-f", str(docs / "mkdocs.yml"), "-d", str(floor_out)]
            return metric(run_process(cmd))

        if target == ROOT:

            def site(out: Path = out) -> float:
                cmd = [MKDOCS, "build", "--strict", "-q", "-d", str(out)]
                return metric(run_process(cmd, cwd=ROOT))
        else:

            def site(out: Path = out, target: Path = target) -> float:
                return metric(run_process([PROTOCMC, "site", str(target), "-o", str(out)]))

        site()  # warm
        value, base = interleaved(reps, site, floor)
        assert base is not None
        rows.append(Row(label, value, base, "x floor", value.median / base.median, "<= 1.1x"))
    return rows


# --------------------------------------------------------------------------- simulation


def boin_rows(reps: int) -> list[Row]:
    script = str(ROOT / "benchmarks" / "simulation.py")

    def one(trials: int) -> tuple[float, float]:
        proc = subprocess.Popen(
            [sys.executable, script, "--one", str(trials)],
            stdout=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        assert proc.stdout is not None
        output = proc.stdout.read()
        _, _, usage = os.wait4(proc.pid, 0)
        return float(output.split()[0]), usage.ru_maxrss / 1024

    figures: dict[int, list[tuple[float, float]]] = {10_000: [], 100_000: [], 1_000_000: []}
    for _ in range(reps):
        for trials, runs in figures.items():
            runs.append(one(trials))
    seconds = {n: Stats(tuple(s for s, _ in runs)) for n, runs in figures.items()}
    rss = Stats(tuple(m for _, m in figures[1_000_000]))
    big, mid, small = (seconds[n].median for n in (1_000_000, 100_000, 10_000))
    return [
        Row(
            "BOIN simulation, 1M trials (floor: 100k)",
            seconds[1_000_000],
            seconds[100_000],
            "1M / 100k",
            big / mid,
            "linear: <= 10x the 100k time",
            note=f"1M / 10k = {big / small:.1f} (10k {seconds[10_000].cell()})",
        ),
        Row("BOIN simulation, 1M trials: peak RSS", rss, None, "", None, "<= 300 MB"),
    ]


# --------------------------------------------------------------------------- report


def report(rows: list[Row]) -> str:
    lines = [
        f"{'work':<48} {'median (min-max)':>28} {'floor median (min-max)':>28} {'ratio':>16}  goal",
    ]
    for r in rows:
        unit = "MB" if "RSS" in r.work else "s"
        floor = r.floor.cell() if r.floor else f"{'-':>28}"
        ratio = f"{r.ratio:6.2f} {r.ratio_label:<9}" if r.ratio is not None else f"{'-':>16}"
        lines.append(f"{r.work:<48} {r.value.cell(unit):>28} {floor:>28} {ratio:>16}  {r.goal}")
        if r.note:
            lines.append(f"{'':<48}   {r.note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2 repetitions, a portfolio of 10")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 5)")
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help="portfolio sizes")
    parser.add_argument(
        "--whole-sizes",
        type=int,
        nargs="*",
        default=None,
        help="portfolio sizes of whole products (protocol + CMC; default 10, none with --quick)",
    )
    parser.add_argument(
        "--only", nargs="*", default=None, help="sections: build portfolio site boin (default: all)"
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="CPU time instead of wall time (a loaded machine); the portfolio stays wall time",
    )
    parser.add_argument(
        "--no-repo-site", action="store_true", help="skip the repository site (the slowest row)"
    )
    args = parser.parse_args(argv)
    CPU[0] = args.cpu
    reps = args.reps or (2 if args.quick else 5)
    sizes = args.sizes if args.sizes is not None else ([10] if args.quick else [10, 50])
    whole = args.whole_sizes if args.whole_sizes is not None else ([] if args.quick else [10])
    only = set(args.only or ["build", "portfolio", "site", "boin"])
    load = os.getloadavg()[0]
    print(
        f"protocmc benchmarks: {reps} repetition(s), portfolio sizes {sizes}, "
        f"{os.cpu_count()} core(s), load average {load:.2f} at start"
        + (", CPU seconds (the portfolio: wall seconds)" if args.cpu else ""),
        flush=True,
    )
    started = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="protocmc-bench-") as tmp:
        work = Path(tmp)
        if "build" in only:
            print("  builds …", flush=True)
            rows += build_rows(work, reps)
        if "portfolio" in only:
            print("  portfolio …", flush=True)
            rows += portfolio_rows(work, sizes, reps, full=whole)
        if "site" in only:
            print("  site …", flush=True)
            rows += site_rows(work, reps, repository=not args.no_repo_site)
        if "boin" in only:
            print("  simulation …", flush=True)
            rows += boin_rows(reps)
    print()
    print(report(rows))
    print(
        f"\n(benchmark took {time.perf_counter() - started:.0f} s; "
        f"load average {os.getloadavg()[0]:.2f} at the end)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
