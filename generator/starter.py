"""`protocmc new NAME [--cmc]`: a commented starter product file, and with `--cmc` a starter
cmc.yaml and lots.csv (templates/starter/) that pass `protocmc check` and build."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from generator.framework_loader import available_frameworks, load_framework
from generator.paths import SCHEMAS_DIR, TEMPLATES_DIR
from generator.problems import UsageError
from generator.writes import atomic_write_text, source_date_epoch

DEFAULT_FRAMEWORK = "early-phase-cell-therapy"


def _today() -> str:
    """Today's date, or SOURCE_DATE_EPOCH's when set (so tests are reproducible)."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return dt.datetime.fromtimestamp(source_date_epoch(), tz=dt.UTC).date().isoformat()
    return dt.date.today().isoformat()


CMC_FILE = "cmc.yaml"
LOTS_FILE = "lots.csv"


def new_product(folder: Path, framework_id: str = DEFAULT_FRAMEWORK, *, cmc: bool = False) -> Path:
    target = folder / "product.yaml"
    for path in [target, *((folder / CMC_FILE, folder / LOTS_FILE) if cmc else ())]:
        if path.exists():
            raise UsageError(f"{path} already exists; choose another name or edit that file")
    framework = load_framework(available_frameworks()[framework_id]).framework
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES_DIR / "starter")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    schema = SCHEMAS_DIR / "product.schema.json"
    text = env.get_template("product.yaml.j2").render(
        name=folder.name,
        filename=str(target),
        framework_pin=f"{framework.id}@{framework.version.split('.')[0]}",
        schema_url=os.path.relpath(schema, folder.resolve()),
        today=_today(),
        cmc_file=CMC_FILE if cmc else None,
    )
    if cmc:
        _write_cmc(env, folder, target)
    atomic_write_text(target, text)
    return target


def _write_cmc(env: ImmutableSandboxedEnvironment, folder: Path, product_file: Path) -> None:
    """cmc.yaml and lots.csv from templates/starter, pinned to the installed CMC framework."""
    from generator.cmc.inputs import available_cmc_frameworks
    from generator.cmc.loader import load_cmc_framework

    cmc_framework = load_cmc_framework(available_cmc_frameworks()["cmc-staged"]).framework
    values = {
        "name": folder.name,
        "product_file": str(product_file),
        "lots_file": LOTS_FILE,
        "framework_pin": f"{cmc_framework.id}@{cmc_framework.version.split('.')[0]}",
        "schema_url": os.path.relpath(SCHEMAS_DIR / "cmc-product.schema.json", folder.resolve()),
        "today": _today(),
    }
    for name in (CMC_FILE, LOTS_FILE):
        atomic_write_text(folder / name, env.get_template(f"{name}.j2").render(**values))
