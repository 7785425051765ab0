"""A release is one version everywhere (README "Releases"): the package, the sponsor template,
the CHANGELOG's newest entry and its Frameworks line, and the tag the README's `cruft create`
checks out. A release that forgets one of them fails here.
"""

from __future__ import annotations

import json
import tomllib

from generator import __version__
from generator.changelog import shipped_changelog
from generator.cmc.inputs import available_cmc_frameworks
from generator.cmc.loader import load_cmc_framework
from generator.framework_loader import available_frameworks, load_framework
from generator.paths import CHANGELOG
from tests.sponsor.helpers import ROOT, TEMPLATE, readme_command


def _shipped_frameworks() -> dict[str, str]:
    versions = {
        fw.framework.id: fw.framework.version
        for fw in (load_framework(f) for f in available_frameworks().values())
    }
    for folder in available_cmc_frameworks().values():
        cmc = load_cmc_framework(folder).framework
        versions[cmc.id] = cmc.version
    return versions


def test_one_version_everywhere() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["version"] == __version__
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text("utf-8"))
    assert context["_protocmc_version"] == __version__
    assert shipped_changelog()[0].version == __version__
    args = readme_command(ROOT / "README.md", "cruft", "cruft create")
    assert args[-2:] == ["--checkout", f"v{__version__}"]


def test_newest_release_names_the_frameworks_it_ships() -> None:
    newest = shipped_changelog()[0]
    assert newest.frameworks == _shipped_frameworks()


def test_framework_changes_name_real_frameworks_and_elements() -> None:
    elements = {
        fw.framework.id: set(fw.elements)
        for fw in (load_framework(f) for f in available_frameworks().values())
    }
    shipped = _shipped_frameworks()
    newest = shipped_changelog()[0]
    assert newest.changes, "a release lists its framework changes (or says there are none)"
    for change in newest.changes:
        assert change.framework in shipped, change
        if change.element is not None and change.framework in elements:
            assert change.element in elements[change.framework], change


def test_the_changelog_ships_in_the_wheel() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    force = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["CHANGELOG.md"] == "generator/_data/CHANGELOG.md"
    assert CHANGELOG == ROOT / "CHANGELOG.md"  # a source checkout reads the repository's
