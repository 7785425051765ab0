"""Crash safety: SIGKILL `protocmc build` at random points; outputs stay whole.

Two variants of a real example (the second with a changed title, so every output differs) are
first built cleanly into reference folders. Then builds of alternating variants are killed,
some at seeded random times over a build's duration and some the moment the build starts
staging its outputs (the write phase, which random times rarely hit). After every kill:
- each output file is byte-identical to one of the two complete versions, and none is missing;
- a complete build record names exactly the files on disk with their hashes (so the set is
  one whole version), and otherwise the record says "writing", which no build takes as current;
- the next build either rebuilds or finds the whole current version on disk: it never says
  "up to date" over a mixed set (checked through the same decision the CLI makes after every
  kill, and by running the real `protocmc build` after every third kill and at the end).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.build import _unchanged_since_stamp
from tests.conftest import EXAMPLES

PROTOCMC = str(Path(sys.executable).with_name("protocmc"))
RANDOM_KILLS = 8
STAGING_KILLS = 4  # while the outputs are written into the staging folder
SWAP_KILLS = 4  # while they are moved into place (the record says "writing")
STAMP = ".protocmc-build.json"
WORK = ".protocmc-work"
FORMATS = ("md", "docx")


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
    """Every file under `folder` but the build record and the work folder (lock, staging)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != STAMP and WORK not in p.relative_to(folder).parts
    }


def _staging(out: Path) -> bool:
    try:
        return any(n.startswith("stage-") for n in os.listdir(out / WORK))
    except FileNotFoundError:
        return False


def _swapping(out: Path) -> bool:
    try:
        return b'"writing"' in (out / STAMP).read_bytes()
    except FileNotFoundError:
        return False


def _kill_during_writes(
    proc: subprocess.Popen[bytes], seen: Callable[[], bool], delay: float
) -> bool:
    """Kill `proc` just after `seen()` turns true; False if it never did."""
    deadline = time.perf_counter() + 60
    while proc.poll() is None and time.perf_counter() < deadline:
        if seen():
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
    assert outputs == {"protocol.md", "protocol.docx", "protocol.usdm.json"}

    out = tmp_path / "out"
    product.write_text(variants[0], "utf-8")
    _build(product, out, env)
    window = max(durations) * 1.1
    plan = ["random"] * RANDOM_KILLS + ["staging"] * STAGING_KILLS + ["swap"] * SWAP_KILLS
    rng.shuffle(plan)
    hit_write_phase = 0
    states = {"complete": 0, "writing": 0}
    mixed_sets = 0
    for attempt, how in enumerate(plan):
        current = (attempt + 1) % 2
        product.write_text(variants[current], "utf-8")
        proc = subprocess.Popen(
            [PROTOCMC, "build", str(product), "-o", str(out), "--force"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if how == "random":
            time.sleep(rng.uniform(0.05, window))
            proc.send_signal(signal.SIGKILL)
        elif how == "staging":
            hit_write_phase += _kill_during_writes(
                proc, lambda: _staging(out), rng.choice([0, 0.001, 0.003])
            )
        else:
            hit_write_phase += _kill_during_writes(
                proc, lambda: _swapping(out), rng.choice([0, 0.0005, 0.001, 0.002])
            )
        proc.wait()
        where = f"kill {attempt} ({how})"

        found = _snapshot(out)
        # nothing but the outputs outside the work folder: no temporary files left around
        assert set(found) == outputs, f"{where}: {sorted(found)}"
        for rel, data in found.items():
            assert data in (references[0][rel], references[1][rel]), (
                f"{where}: {rel} is neither complete version"
            )
        whole = found in references
        mixed_sets += not whole
        record = json.loads((out / STAMP).read_text("utf-8"))
        state = record.get("state", "complete")
        states[state] += 1
        if state == "complete":
            # a complete record describes exactly what is on disk: never a mixed set
            on_disk = {rel: hashlib.sha256(data).hexdigest() for rel, data in found.items()}
            assert record["outputs"] == on_disk, f"{where}: the record claims other files"
            assert whole, where
        else:
            assert state == "writing" and "fingerprint" not in record, where
        # the decision the next (not forced) build makes
        if _unchanged_since_stamp(out, product, FORMATS) is not None:
            assert found == references[current], f"{where}: 'up to date' over another set"
        if attempt % 3 == 2:
            run = subprocess.run(
                [PROTOCMC, "build", str(product), "-o", str(out)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            if "up to date" in run.stdout:
                assert found == references[current], f"{where}: 'up to date' over another set"
            assert _snapshot(out) == references[current], where

    assert hit_write_phase >= (STAGING_KILLS + SWAP_KILLS) // 2, "the write phase was never hit"
    # a normal (not forced) build after the kills must notice any mixed state and repair it
    final = subprocess.run(
        [PROTOCMC, "build", str(product), "-o", str(out)], env=env, capture_output=True, check=True
    )
    assert final.returncode == 0
    expected = references[len(plan) % 2]
    assert _snapshot(out) == expected
    # the next build removed what killed builds had staged; only the lock stays
    assert [p.name for p in (out / WORK).iterdir()] == ["lock"]
    scratch = sorted(p.name for p in (tmp_path / "tmp").iterdir())
    print(
        f"\nkills: {len(plan)} ({hit_write_phase} in the write phase); records left complete: "
        f"{states['complete']}, writing: {states['writing']}; mixed sets on disk (each under a "
        f"'writing' record): {mixed_sets}; scratch folders left in TMPDIR: {len(scratch)}"
    )
