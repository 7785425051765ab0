"""Build time and peak memory of a product with many lots (the Module 3 batch analyses).

    python benchmarks/many_lots.py                 # 9,999 lots, Markdown and Word
    python benchmarks/many_lots.py --lots 500 2000 --format md

Copies examples/cd19-cart-lbcl into a temporary folder, writes a lot file of N generated lots
(its real lots repeated with new ids and dates), and runs `protocmc build --force` in a fresh
process, printing wall time, CPU time (build and pandoc), peak RSS (the largest of the two) and the size of module3.md.
No asserts: this prints figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

from run import run_process  # benchmarks/run.py: wall time, CPU time and peak RSS of a process

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cd19-cart-lbcl"
PROTOCMC = str(Path(sys.executable).with_name("protocmc"))


DROP_COLUMNS = ("particulates",)
"""Left out of the generated lots: with its long text result, 9,999 lots would pass the 2 MB
input-file cap (the column was added to the example after the first measurement)."""


def write_lots(source: Path, target: Path, n: int) -> None:
    """N lots made from the example's rows: new ids, one date per day, same results."""
    rows = list(csv.reader(io.StringIO(source.read_text("utf-8"))))
    keep = [i for i, name in enumerate(rows[0]) if name not in DROP_COLUMNS]
    rows = [[row[i] for i in keep] for row in rows]
    header, body = rows[0], rows[1:]
    start = dt.date(2020, 1, 1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i in range(n):
        row = list(body[i % len(body)])
        row[0] = f"LOT-{i + 1:05d}"
        row[1] = (start + dt.timedelta(days=i // 3)).isoformat()
        writer.writerow(row)
    target.write_text(out.getvalue(), "utf-8")


def run(n: int, fmt: str, work: Path) -> tuple[float, float, float, int]:
    folder = work / f"lots-{n}"
    shutil.copytree(EXAMPLE, folder)
    write_lots(EXAMPLE / "lots.csv", folder / "lots.csv", n)
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": "1767225600",
        "NO_COLOR": "1",
        "PROTOCMC_CACHE_DIR": str(work / "cache"),
    }
    out = folder / "build"
    result = run_process(
        [PROTOCMC, "build", str(folder / "product.yaml"), "-o", str(out), "--format", fmt],
        env=env,
    )
    module3 = out / "module3.md"
    size = module3.stat().st_size if module3.exists() else 0
    return result.seconds, result.cpu_seconds, result.max_rss_mb, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, nargs="+", default=[9_999])
    parser.add_argument("--format", default="all", choices=["md", "docx", "all"])
    args = parser.parse_args()
    print(
        f"{'lots':>6}  {'format':>6}  {'wall s':>8}  {'CPU s':>8}  {'peak MB':>8}  "
        f"{'module3.md KB':>13}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.lots:
            seconds, cpu, peak, size = run(n, args.format, Path(tmp))
            print(
                f"{n:>6}  {args.format:>6}  {seconds:>8.1f}  {cpu:>8.1f}  {peak:>8.0f}  "
                f"{size / 1024:>13.0f}"
            )


if __name__ == "__main__":
    main()
