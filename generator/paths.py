"""Where the shipped frameworks, templates and schemas live.

In an installed wheel they sit in `generator/_data/`; in a source checkout (editable install)
they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_DATA = _PACKAGE / "_data"
_ROOT = _DATA if _DATA.is_dir() else _PACKAGE.parent

FRAMEWORKS_DIR = _ROOT / "frameworks"
TEMPLATES_DIR = _ROOT / "templates"
SCHEMAS_DIR = _ROOT / "schemas"
CHANGELOG = _ROOT / "CHANGELOG.md"
