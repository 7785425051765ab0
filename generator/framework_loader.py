"""Find, load and validate a framework: framework.yaml plus its element files."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from generator.load import LoadedDocument, load_yaml
from generator.models.framework import Element, Framework
from generator.models.registry import SectionRegistry
from generator.paths import FRAMEWORKS_DIR, TEMPLATES_DIR
from generator.problems import Location, Problem, ProblemList, ProblemsError, did_you_mean
from generator.validate import validate


@dataclass(frozen=True)
class LoadedElement:
    element: Element
    document: LoadedDocument


@dataclass(frozen=True)
class LoadedFramework:
    framework: Framework
    document: LoadedDocument
    elements: dict[str, LoadedElement]
    folder: Path

    @property
    def pin(self) -> str:
        return f"{self.framework.id}@{self.framework.version}"


def available_frameworks(root: Path = FRAMEWORKS_DIR) -> dict[str, Path]:
    """Framework id → folder, for every folder holding a framework.yaml."""
    found: dict[str, Path] = {}
    for folder in sorted(p for p in root.iterdir() if (p / "framework.yaml").is_file()):
        found[folder.name] = folder
    return found


def find_framework(pin: str, location: Location, root: Path = FRAMEWORKS_DIR) -> Path:
    """Folder of the framework a product pins (`id@major[.minor[.patch]]`)."""
    name, _, _ = pin.partition("@")
    frameworks = available_frameworks(root)
    if name not in frameworks:
        hint = did_you_mean(name, frameworks) or f"available: {', '.join(sorted(frameworks))}"
        raise ProblemsError([Problem("PF001", f"unknown framework '{name}'", location, hint)])
    return frameworks[name]


def check_pin(pin: str, loaded: LoadedFramework, location: Location) -> list[Problem]:
    wanted = pin.partition("@")[2].split(".")
    have = loaded.framework.version.split(".")
    if have[: len(wanted)] != wanted:
        return [
            Problem(
                "PF002",
                f"the product pins {pin} but the installed framework is {loaded.pin}",
                location,
                f"pin '{loaded.framework.id}@{have[0]}' after reviewing the framework's changes, "
                "or install the protocmc version that ships the pinned framework",
            )
        ]
    return []


@lru_cache(maxsize=8)
def load_framework(folder: Path) -> LoadedFramework:
    """Load framework.yaml and every element it lists; all problems reported together."""
    problems = ProblemList()
    doc = load_yaml(folder / "framework.yaml", display=shipped_display(folder / "framework.yaml"))
    framework = validate(doc, Framework)
    source_ids = {s.id for s in framework.sources}
    elements: dict[str, LoadedElement] = {}
    for index, rel in enumerate(framework.elements):
        path = folder / rel
        try:
            edoc = load_yaml(path, display=shipped_display(path))
            element = validate(edoc, Element)
        except ProblemsError as exc:
            problems.extend(exc.problems)
            continue
        if element.id in elements:
            problems.add(
                Problem(
                    "PF010",
                    f"duplicate element id '{element.id}'",
                    doc.location(("elements", index)),
                )
            )
        elements[element.id] = LoadedElement(element, edoc)
        problems.extend(_check_sources(element, edoc, source_ids))
    problems.raise_if_errors()
    return LoadedFramework(framework=framework, document=doc, elements=elements, folder=folder)


def _check_sources(element: Element, doc: LoadedDocument, known: set[str]) -> list[Problem]:
    out: list[Problem] = []
    cited: list[tuple[tuple[str | int, ...], str]] = [
        (("sources", i), s) for i, s in enumerate(element.sources)
    ]
    for name, p in element.starting_point.parameters.items():
        cited += [
            (("starting_point", "parameters", name, "sources", i), s)
            for i, s in enumerate(p.sources)
        ]
    for n, item in enumerate(element.starting_point.items):
        cited += [
            (("starting_point", "items", n, "sources", i), s) for i, s in enumerate(item.sources)
        ]
    for n, table in enumerate(element.starting_point.tables):
        cited += [
            (("starting_point", "tables", n, "sources", i), s) for i, s in enumerate(table.sources)
        ]
    for path, source in cited:
        if source not in known:
            out.append(
                Problem(
                    "PF011",
                    f"source '{source}' is not declared in framework.yaml",
                    doc.location(path),
                    did_you_mean(source, known) or "add it to the framework's sources list",
                )
            )
    return out


@lru_cache(maxsize=2)
def load_registry(path: Path = TEMPLATES_DIR / "protocol" / "m11-sections.yaml") -> SectionRegistry:
    return validate(load_yaml(path, display=shipped_display(path)), SectionRegistry)


def shipped_display(path: Path) -> str:
    """Shipped files are shown relative to the protocmc data root, e.g. frameworks/x/y.yaml."""
    parts = path.parts
    for anchor in ("frameworks", "templates"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return "/".join(parts[i:])
    return str(path)
