"""`protocmc new NAME`: a commented starter product file."""

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


def new_product(folder: Path, framework_id: str = DEFAULT_FRAMEWORK) -> Path:
    target = folder / "product.yaml"
    if target.exists():
        raise UsageError(f"{target} already exists; choose another name or edit that file")
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
    )
    atomic_write_text(target, text)
    return target
