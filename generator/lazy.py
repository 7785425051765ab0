"""A module stand-in that imports the real module on first attribute access."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        value = getattr(self._module, attr)
        # kept on the stand-in: the next access is a plain attribute read (hot loops use np.*)
        setattr(self, attr, value)
        return value
