"""What a build process loads: a build answered from the per-user cache imports neither numpy
nor scipy nor anything else it does not use, and portfolio workers inherit a fully imported
pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd19-cart-lbcl" / "product.yaml"

PROBE = """
import json, sys
from generator.cli import main
sys.argv = ["protocmc", "-q", "build", sys.argv[1], "-o", sys.argv[2], "--format", "md", "--force"]
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"numpy", "scipy", "matplotlib"})
# what the start of a command must not pay for when the plan answers: the calc commands,
# pypandoc (its import pulls in urllib and http), pydantic (typer >= 0.29 parses through it),
# the models and Jinja, and rich (plain lines to a pipe are written without it)
unused = {"generator.cli_calc", "pypandoc", "urllib.request", "pydantic", "jinja2", "rich"}
import os
print(json.dumps({"heavy": heavy, "unused": sorted(unused & set(sys.modules)),
                  "blas": os.environ.get("OPENBLAS_NUM_THREADS"),
                  "plugins": os.environ.get("PYDANTIC_DISABLE_PLUGINS")}))
"""


def test_a_cached_build_imports_no_numerics(tmp_path: Path) -> None:
    env = {**os.environ, "PROTOCMC_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("OPENBLAS_NUM_THREADS", None)
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    out = str(tmp_path / "out")
    runs = [
        subprocess.run(
            [sys.executable, "-c", PROBE, str(EXAMPLE), out],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        for _ in range(2)
    ]
    first, second = (json.loads(r.stdout.strip().splitlines()[-1]) for r in runs)
    assert "numpy" in first["heavy"]  # the empty cache computed the CMC tables
    assert second["heavy"] == []  # the second build read them from the cache
    assert "jinja2" in first["unused"]  # the first build rendered
    assert second["unused"] == []
    assert second["blas"] == "1"  # a default for numpy, set before it could load
    # pydantic's plugin search (installed packages' metadata) is off by default
    assert first["plugins"] == "__all__"


def test_portfolio_workers_start_with_what_a_cached_build_needs(tmp_path: Path) -> None:
    """After the parent's warm-up a build answered from its cached plan imports no further
    protocmc module, so forked workers never pay for imports; the parent does not import the
    rest of the pipeline (a worker whose product changed does)."""
    probe = """
import sys
from pathlib import Path
from generator import portfolio
portfolio._warm_up()
before = set(sys.modules)
print(sorted(m for m in before if m in {"generator.resolve", "generator.render", "jinja2"}))
from generator.build import build_product
build_product(Path(sys.argv[1]), Path(sys.argv[2]), formats=("md", "usdm"), force=True)
print(sorted(m for m in set(sys.modules) - before if m.startswith("generator")))
"""
    env = {**os.environ, "PROTOCMC_CACHE_DIR": str(tmp_path / "cache")}
    args = [sys.executable, "-c", probe, str(EXAMPLE), str(tmp_path / "out")]
    runs = [
        subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout
        for _ in range(2)
    ]
    (light, built), (_, cached) = (run.strip().splitlines()[-2:] for run in runs)
    assert light == "[]"  # the warm-up left the pipeline out
    assert "generator.resolve" in built  # the first build (empty cache) imported it
    assert cached == "[]"  # the second build, from the plan, imported nothing
