"""`protocmc` (generator.cli:run) leaves without the interpreter's teardown, after flushing
its output: nothing printed is lost, the exit code is kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd19-cart-lbcl" / "product.yaml"

PROBE = """
import atexit, sys
atexit.register(lambda: print("teardown ran", flush=True))
sys.argv = ["protocmc", *sys.argv[1:]]
from generator.cli import run
run()
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )


def test_run_skips_the_teardown_and_keeps_output_and_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _run("build", str(EXAMPLE), "-o", str(out), "--format", "md")
    assert done.returncode == 0, done.stderr
    assert "teardown ran" not in done.stdout
    written = sorted(line.split(" ", 1)[1] for line in done.stdout.splitlines())
    assert written == sorted(
        str(p) for p in out.rglob("*") if p.is_file() and ".protocmc" not in str(p)
    )
    assert "CM071" in done.stderr  # the notes, printed to stderr, are all there


def test_a_failing_command_keeps_its_exit_code_and_message(tmp_path: Path) -> None:
    bad = tmp_path / "product.yaml"
    bad.write_text("framework: early-phase-cell-therapy@1\ntitle_page: 3\n", "utf-8")
    done = _run("check", str(bad))
    assert done.returncode == 1
    assert "product.yaml:2" in done.stderr
    assert "teardown ran" not in done.stdout


def test_the_command_collects_cycles_less_often_than_a_library_process() -> None:
    probe = (
        "import gc, sys\n"
        "from generator.cli import GC_THRESHOLD, main\n"
        "sys.argv = ['protocmc', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(gc.get_threshold() == GC_THRESHOLD, GC_THRESHOLD[0] > 700)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "True True"
