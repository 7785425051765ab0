"""The bad-input corpus: every case through the real CLI, in a subprocess.

Each case must fail cleanly: the expected exit code, the expected problem code at the expected
location, no traceback, nothing written, in bounded CPU time (only load/validate/resolve/render
run, never pandoc) and in bounded memory, even for YAML bombs and 60 MB files.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
CASES = sorted(p for p in (HERE / "cases").iterdir() if p.is_dir())
PROTOCMC = str(Path(sys.executable).with_name("protocmc"))
"""`python -m generator.cli` does nothing (the module has no __main__ guard): use the script."""

ADDRESS_SPACE_LIMIT = 1536 * 1024 * 1024
MAX_RSS_MB = 600
MAX_SECONDS = 8.0
"""A runaway guard on the child's CPU time (user + system), not a speed test: a case that
expands (YAML bombs, loops in a hostile template, quadratic merges) runs for minutes, while a
clean failure needs about 1-2.5 s (a full render of the protocol for template cases). Speed
is measured in benchmarks/, never asserted here; wall time on a shared runner measures the
neighbours too, so it only has to stay under MAX_WALL_SECONDS."""
MAX_WALL_SECONDS = 45.0


# --------------------------------------------------------------------------- generated inputs


def billion_laughs(folder: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{','.join(['*' + prev] * 9)}]")
    (folder / "product.yaml").write_text("\n".join(lines) + "\n", "utf-8")


def sixty_mb(folder: Path) -> None:
    line = b"# " + b"x" * 1021 + b"\n"
    with (folder / "product.yaml").open("wb") as handle:
        for _ in range(60 * 1024):
            handle.write(line)


def deep_flow(folder: Path) -> None:
    (folder / "product.yaml").write_text("[" * 5000 + "]" * 5000 + "\n", "utf-8")


def deep_block(folder: Path) -> None:
    (folder / "product.yaml").write_text("- " * 5000 + "x\n", "utf-8")


def deep_indented_block(folder: Path) -> None:
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(5000)) + "  " * 5000 + "x\n"
    (folder / "product.yaml").write_text(text, "utf-8")


def keys_200k(folder: Path) -> None:
    text = "".join(f"k{i:05x}: 1\n" for i in range(200_000))
    assert len(text) < 2 * 1024 * 1024
    (folder / "product.yaml").write_text(text, "utf-8")


def flow_items(folder: Path) -> None:
    (folder / "product.yaml").write_text("[" + "1," * 300_000 + "1]\n", "utf-8")


def depth_41(folder: Path) -> None:
    (folder / "product.yaml").write_text("[" * 41 + "]" * 41 + "\n", "utf-8")


def fifo_product(folder: Path) -> None:
    (folder / "product.yaml").unlink(missing_ok=True)
    os.mkfifo(folder / "product.yaml")


def dev_zero_product(folder: Path) -> None:
    (folder / "product.yaml").unlink(missing_ok=True)
    (folder / "product.yaml").symlink_to("/dev/zero")


def fifo_cmc(folder: Path) -> None:
    (folder / "cmc.yaml").unlink(missing_ok=True)
    os.mkfifo(folder / "cmc.yaml")


def fifo_lots(folder: Path) -> None:
    (folder / "lots.csv").unlink(missing_ok=True)
    os.mkfifo(folder / "lots.csv")


def dev_null_product(folder: Path) -> None:
    (folder / "product.yaml").unlink(missing_ok=True)
    (folder / "product.yaml").symlink_to("/dev/null")


def _append(folder: Path, text: str) -> None:
    path = folder / "product.yaml"
    path.write_text(path.read_text("utf-8") + text, "utf-8")


def unknown_keys_24k(folder: Path) -> None:
    _append(folder, "".join(f"zz{i:05d}: 1\n" for i in range(24_000)))


def unknown_keys_900(folder: Path) -> None:
    _append(folder, "".join(f"zz{i:03d}: 1\n" for i in range(900)))


def values_in_small_blocks(folder: Path) -> None:
    """30 blocks of 900 keys: every block and list is within its limit, the file is not."""
    blocks = "".join(
        f"b{b:02d}:\n" + "".join(f"  k{i:03d}: 1\n" for i in range(900)) for b in range(30)
    )
    _append(folder, blocks)


def unknown_keys_in_25_objectives(folder: Path) -> None:
    """24,000 unknown keys, 960 in each of 25 objectives: every block within its limit."""
    path = folder / "product.yaml"
    objectives = "".join(
        f"  - id: OBJ-{i}\n    level: primary\n    objective: O\n    endpoint: E\n"
        + "".join(f"    zz{j:03d}: 1\n" for j in range(960))
        for i in range(25)
    )
    text = path.read_text("utf-8").replace(
        "  - id: OBJ-P1\n    level: primary\n    objective: To assess safety\n"
        "    endpoint: DLT incidence\n",
        objectives,
    )
    path.write_text(text, "utf-8")


def sections_1001(folder: Path) -> None:
    _append(folder, "sections:\n" + "".join(f"  s{i:04d}: Text.\n" for i in range(1001)))


def products_2001(folder: Path) -> None:
    path = folder / "product.yaml"
    text = path.read_text("utf-8").replace(
        "    - TEST-1\n", "".join(f"    - TEST-{i}\n" for i in range(2001))
    )
    path.write_text(text, "utf-8")


def short_title_1_5_mb(folder: Path) -> None:
    path = folder / "product.yaml"
    text = path.read_text("utf-8").replace(
        "  sponsor_protocol_id:", "  short_title: " + "x" * 1_500_000 + "\n  sponsor_protocol_id:"
    )
    path.write_text(text, "utf-8")


def _lots(folder: Path, rows: list[str], header: str | None = None) -> None:
    path = folder / "lots.csv"
    lines = path.read_text("utf-8").splitlines()
    path.write_text("\n".join([header or lines[0], *rows]) + "\n", "utf-8")


def lots_10001(folder: Path) -> None:
    """10,001 lots with the required columns and one unknown column: both are reported."""
    header = "lot_id,date,process_version,site,donor_type,use,bogus"
    _lots(folder, [f"L{i:05d},2025-01-01,P1,A,patient,clinical,x" for i in range(10_001)], header)


def lots_6000_bad_rows(folder: Path) -> None:
    """6,000 rows with a bad date each: the loader stops after 5,000 problems."""
    header = "lot_id,date,process_version,site,donor_type,use"
    _lots(folder, [f"L{i:05d},someday,P1,A,patient,clinical" for i in range(6_000)], header)


def lots_201_columns(folder: Path) -> None:
    path = folder / "lots.csv"
    lines = path.read_text("utf-8").splitlines()
    extra = "".join(f",x{i}" for i in range(201 - len(lines[0].split(","))))
    path.write_text("\n".join([lines[0] + extra, *lines[1:]]) + "\n", "utf-8")


def symlink_templates_outside(folder: Path) -> None:
    outside = folder.parent / "outside-templates"
    (outside / "protocol").mkdir(parents=True)
    (folder / "templates").symlink_to(outside, target_is_directory=True)


GENERATORS: dict[str, Callable[[Path], None]] = {
    f.__name__: f
    for f in (
        billion_laughs,
        sixty_mb,
        deep_flow,
        deep_block,
        deep_indented_block,
        keys_200k,
        flow_items,
        depth_41,
        symlink_templates_outside,
        fifo_product,
        dev_zero_product,
        fifo_cmc,
        fifo_lots,
        dev_null_product,
        unknown_keys_24k,
        unknown_keys_900,
        values_in_small_blocks,
        unknown_keys_in_25_objectives,
        sections_1001,
        products_2001,
        short_title_1_5_mb,
        lots_10001,
        lots_6000_bad_rows,
        lots_201_columns,
    )
}


# --------------------------------------------------------------------------- running a case


@dataclass(frozen=True)
class Expectation:
    command: str
    exit: int
    code: str
    location: str
    product: str = "product.yaml"
    generate: str | None = None
    xfail: str | None = None
    known_slow: str | None = None
    no_hint: str | None = None
    message: str | None = None
    also: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    cpu_seconds: float
    max_rss_mb: float


def read_expectation(case: Path) -> Expectation:
    data: dict[str, Any] = YAML(typ="safe").load((case / "expect.yaml").read_text("utf-8"))
    data["also"] = tuple(data.get("also") or ())
    return Expectation(**data)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def run_cli(args: list[str], cwd: Path, timeout: float = 60.0) -> Outcome:
    """Run protocmc; return its exit code, output, wall time and the child's own peak RSS."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600", "NO_COLOR": "1", "COLUMNS": "200"}
    out_path, err_path = cwd.parent / "stdout.txt", cwd.parent / "stderr.txt"
    cwd.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [PROTOCMC, *args], cwd=cwd, env=env, stdout=out, stderr=err, preexec_fn=_limit_memory
        )
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Outcome(
        returncode=proc.returncode,
        stdout=out_path.read_text("utf-8", "replace"),
        stderr=err_path.read_text("utf-8", "replace"),
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,
    )


def _params() -> list[Any]:
    params = []
    for case in CASES:
        reason = read_expectation(case).xfail
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def test_corpus_is_large_and_covers_every_area() -> None:
    assert len(CASES) >= 150
    areas = {c.name.split("-", 2)[1] for c in CASES}
    assert {"yaml", "encoding", "schema", "sem", "tpl", "path", "bomb"} <= areas
    assert {"file", "cap", "phys", "char", "just", "protected", "dup", "lot"} <= areas


@dataclass(frozen=True)
class CaseRun:
    expect: Expectation
    work: Path
    out: Path
    outcome: Outcome


def _run_case(case: Path, root: Path) -> CaseRun:
    expect = read_expectation(case)
    work = root / case.name / "case"
    shutil.copytree(case, work, symlinks=True)
    (work / "expect.yaml").unlink()
    if expect.generate:
        GENERATORS[expect.generate](work)
    out = root / case.name / "out"
    args = [expect.command, expect.product]
    if expect.command == "build":
        args += ["-o", str(out)]
    return CaseRun(expect, work, out, run_cli(args, work))


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CaseRun]:
    """Run every case once, as many at a time as there are cores (each in its own folder)."""
    root = tmp_path_factory.mktemp("bad-inputs")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        runs = list(pool.map(lambda case: _run_case(case, root), CASES))
    return {case.name: run for case, run in zip(CASES, runs, strict=True)}


@pytest.mark.parametrize("case", _params())
def test_bad_input_fails_cleanly(case: Path, corpus_runs: dict[str, CaseRun]) -> None:
    run = corpus_runs[case.name]
    expect, out, result = run.expect, run.out, run.outcome

    both = result.stdout + result.stderr
    assert result.returncode == expect.exit, both
    assert "Traceback" not in both, both
    if expect.code:
        assert expect.code in result.stderr, result.stderr
    wanted = [(expect.code, expect.location), *((a["code"], a["location"]) for a in expect.also)]
    for code, location in wanted:
        if location:
            # printed as `LOCATION: CODE`, or `LOCATION:col: CODE` when the case names no column
            lines = [line for line in result.stderr.splitlines() if f" {code}:" in line]
            assert any(line.startswith(f"{location}:") for line in lines), result.stderr
    if expect.message:
        assert expect.message in result.stderr, result.stderr
    if expect.exit == 1 and not expect.no_hint and not expect.code.startswith("PM"):
        assert "hint:" in result.stderr, result.stderr
    assert not out.exists() or not any(out.iterdir()), sorted(out.rglob("*"))
    leftovers = sorted(p.name for p in run.work.rglob("*") if p.name.endswith(".tmp"))
    assert not leftovers
    assert result.max_rss_mb < MAX_RSS_MB, f"{result.max_rss_mb:.0f} MB"
    assert result.seconds < MAX_WALL_SECONDS, f"{result.seconds:.2f} s wall"
    if expect.known_slow and result.cpu_seconds >= MAX_SECONDS:
        pytest.xfail(f"{result.cpu_seconds:.2f} s CPU; {expect.known_slow}")
    assert result.cpu_seconds < MAX_SECONDS, f"{result.cpu_seconds:.2f} s CPU"
