"""Crash safety: SIGKILL `protocmc build` at random points; outputs stay whole.

Two variants of a real example (the second with a changed title, so every output differs) are
first built cleanly into reference folders. Then builds of alternating variants are killed,
some at seeded random times over a build's duration and some the moment a temporary file
appears in the output folder (the write phase, which random times rarely hit). After every
kill each output file must be byte-identical to one of the two complete versions.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

PROTOCMC = str(Path(sys.executable).with_name("protocmc"))
RANDOM_KILLS = 8
WRITE_PHASE_KILLS = 7


def _env(tmp: Path) -> dict[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "SOURCE_DATE_EPOCH": "1767225600", "TMPDIR": str(tmp)}


def _build(product: Path, out: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [PROTOCMC, "build", str(product), "-o", str(out), "--force"],
        check=True,
        env=env,
        capture_output=True,
    )
    return time.perf_counter() - start


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by relative path (CMC builds write figures in subfolders)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _kill_during_writes(proc: subprocess.Popen[bytes], out: Path, delay: float) -> bool:
    """Kill `proc` just after a temporary file shows up in `out`; False if none appeared."""
    deadline = time.perf_counter() + 60
    while proc.poll() is None and time.perf_counter() < deadline:
        try:
            names = os.listdir(out)
        except FileNotFoundError:
            names = []
        if any(n.endswith(".tmp") for n in names):
            if delay:
                time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            return True
    proc.send_signal(signal.SIGKILL)
    return False


@pytest.mark.slow
def test_sigkill_leaves_every_output_old_or_new(tmp_path: Path) -> None:
    rng = random.Random(20261122)
    product_dir = tmp_path / "product"
    product_dir.mkdir()
    product = product_dir / "product.yaml"
    # the protocol only: the CMC stage (figures) triples the build time and writes the same way
    lines = (EXAMPLES[0] / "product.yaml").read_text("utf-8").splitlines(keepends=True)
    original = "".join(line for line in lines if not line.startswith("cmc:"))
    changed = original.replace("full_title: >-\n", "full_title: >-\n    Amended:\n", 1)
    assert changed != original
    variants = [original, changed]
    env = _env(tmp_path / "tmp")

    references: list[dict[str, bytes]] = []
    durations: list[float] = []
    for i, text in enumerate(variants):
        product.write_text(text, "utf-8")
        durations.append(_build(product, tmp_path / f"ref{i}", env))
        references.append(_snapshot(tmp_path / f"ref{i}"))
    outputs = set(references[0])
    for name in outputs:
        assert references[0][name] != references[1][name], name
    assert set(references[1]) == outputs
    assert outputs == {"protocol.md", "protocol.docx", "protocol.usdm.json", ".protocmc-build.json"}

    out = tmp_path / "out"
    product.write_text(variants[0], "utf-8")
    _build(product, out, env)
    window = max(durations) * 1.1
    plan = ["random"] * RANDOM_KILLS + ["write-phase"] * WRITE_PHASE_KILLS
    rng.shuffle(plan)
    hidden_leftovers: set[str] = set()
    hit_write_phase = 0
    for attempt, how in enumerate(plan):
        product.write_text(variants[(attempt + 1) % 2], "utf-8")
        proc = subprocess.Popen(
            [PROTOCMC, "build", str(product), "-o", str(out), "--force"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if how == "random":
            time.sleep(rng.uniform(0.05, window))
            proc.send_signal(signal.SIGKILL)
        else:
            hit_write_phase += _kill_during_writes(proc, out, rng.choice([0, 0, 0.001, 0.003]))
        proc.wait()

        found = _snapshot(out)
        for rel, data in found.items():
            if rel in outputs:
                assert data in (references[0][rel], references[1][rel]), (
                    f"kill {attempt} ({how}): {rel} is neither complete version"
                )
            else:
                # only hidden temporary files may be left behind by a kill
                name = rel.rsplit("/", 1)[-1]
                assert name.startswith(".") and name.endswith(".tmp"), rel
                hidden_leftovers.add(rel)
        assert outputs <= set(found)

    assert hit_write_phase >= WRITE_PHASE_KILLS // 2, "the write phase was never hit"
    # a normal (not forced) build after the kills must notice any mixed state and repair it
    final = subprocess.run(
        [PROTOCMC, "build", str(product), "-o", str(out)], env=env, capture_output=True, check=True
    )
    assert final.returncode == 0
    expected = references[len(plan) % 2]
    assert {k: v for k, v in _snapshot(out).items() if k in outputs} == expected
    scratch = sorted(p.name for p in (tmp_path / "tmp").iterdir())
    print(
        f"\nkills: {len(plan)} ({hit_write_phase} in the write phase); hidden .tmp files left in "
        f"the output folder: {len(hidden_leftovers)}; scratch folders left in TMPDIR: "
        f"{len(scratch)}"
    )
