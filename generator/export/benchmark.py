"""Time the Word export against bare pandoc with the same reference.docx and filters.

    python -m generator.export.benchmark [MARKDOWN] [--runs N]

Prints the median wall time of `pandoc_floor` (pandoc only) and `export_docx` (pandoc,
post-processing, atomic write) and their ratio; the target is a ratio <= 1.1.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from generator.export.docx import DocxMetadata, export_docx, pandoc_executable, pandoc_floor

SAMPLE = Path(__file__).resolve().parents[2] / "tests" / "export" / "fixtures" / "m11_sample.md"
META = DocxMetadata(title="Benchmark", document_id="BENCH-1", version="1", status="DRAFT", date="-")


def _median(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Word export benchmark")
    parser.add_argument("markdown", nargs="?", type=Path, default=SAMPLE)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    markdown = args.markdown.read_text("utf-8")
    resources = args.markdown.parent
    pandoc_executable()  # the one-off version check is not part of either figure
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.docx"
        floor = _median(lambda: pandoc_floor(markdown, out, resource_path=resources), args.runs)
        full = _median(
            lambda: export_docx(markdown, out, metadata=META, resource_path=resources), args.runs
        )
    print(f"pandoc floor  {floor * 1000:8.1f} ms")
    print(f"export_docx   {full * 1000:8.1f} ms")
    print(f"ratio         {full / floor:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
