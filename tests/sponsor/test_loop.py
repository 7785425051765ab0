"""The sponsor loop, offline, as the READMEs tell it: create a repository from a tagged template
release with cruft, edit and commit as a sponsor, release the template again, update with
cruft, build. Every git/cruft/cookiecutter/pre-commit step is the command a sponsor runs (in a
subprocess, own HOME, no network); the CI workflow's gates are run from the rendered workflow.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from generator import __version__
from tests.sponsor.helpers import (
    ROOT,
    Sandbox,
    TemplateRepo,
    bump_patch,
    readme_command,
    readme_line,
    workflow_step,
)

pytestmark = pytest.mark.slow

PRODUCT = "PCT: 19/B"
SPONSOR = 'O\'Brien "Cell" Labs: #1'
SLUG = "pct-19-b-protocol"
NEW_STEP = (
    "      - name: Build the drafts as Markdown only\n"
    "        run: protocmc build product.yaml -o build-md --format md\n"
)
STEP_ANCHOR = "      - name: Build the review site\n"
NEW_PARAGRAPH = "\nQuestions about the shared setup go to the protocmc maintainers.\n"
PARAGRAPH_ANCHOR = "\n## Departing from the framework\n"
SHARED_LINE = "You write in `product.yaml`; you never edit the generated drafts by hand."


def _release_template_change(template: TemplateRepo) -> str:
    """Template vN+1: a new CI step, a new README paragraph, the next protocmc version."""
    new = bump_patch(template.version)
    template.edit(".github/workflows/protocmc.yml", STEP_ANCHOR, NEW_STEP + STEP_ANCHOR)
    template.edit("README.md", PARAGRAPH_ANCHOR, NEW_PARAGRAPH + PARAGRAPH_ANCHOR)
    template.release(new)
    return new


def _cruft_create(sandbox: Sandbox, template: TemplateRepo, answers: dict[str, str]) -> Path:
    """The `cruft create` line of protocmc's README, non-interactive."""
    args = readme_command(ROOT / "README.md", "cruft", "cruft create")
    assert args[1:] == [
        "create",
        "$PROTOCMC_REPO",
        "--directory",
        "templates/sponsor",
        "--checkout",
        f"v{__version__}",
    ]
    args[2] = str(template.path)  # what the shell makes of "$PROTOCMC_REPO"
    projects = sandbox.root / "projects"
    projects.mkdir()
    sandbox.ok([*args, "--no-input", "--extra-context", json.dumps(answers)], projects)
    return projects / SLUG


def _cruft_update(sandbox: Sandbox, repo: Path, new: str) -> None:
    """The `cruft update` line of the sponsor README, with NEW set, answering its prompt."""
    args = readme_command(repo / "README.md", "cruft", "cruft update")
    assert args[1:] == ["update", "--checkout", "v$NEW"]
    args[3] = f"v{new}"
    sandbox.ok([*args, "--skip-apply-ask"], repo)


def _template_job(sandbox: Sandbox, repo: Path) -> tuple[int, str]:
    """The workflow's `template` job check, as GitHub would run it."""
    script = workflow_step(repo, "template", "Setup files match")
    done = sandbox.run(script, repo)
    return done.returncode, done.stdout + done.stderr


def _pre_commit_job(sandbox: Sandbox, repo: Path) -> tuple[int, str]:
    """The workflow's pre-commit step on what is committed (as CI sees it)."""
    script = workflow_step(repo, "drafts", "Pre-commit checks")
    done = sandbox.run(script, repo)
    return done.returncode, done.stdout + done.stderr


def _markers_or_rejects(repo: Path) -> list[str]:
    found = [str(p.relative_to(repo)) for p in repo.rglob("*.rej")]
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(repo).parts:
            text = path.read_text("utf-8", errors="replace")
            if any(line.startswith(("<<<<<<<", ">>>>>>>")) for line in text.splitlines()):
                found.append(str(path.relative_to(repo)))
    return found


def test_create_edit_release_update_build(
    sandbox: Sandbox, template_repo: TemplateRepo, protocmc_wheel: Path
) -> None:
    requirement = (
        f"protocmc @ {protocmc_wheel.parent.as_uri()}/protocmc-{{version}}-py3-none-any.whl"
    )

    # 1. Create the sponsor repository from release vN, as protocmc's README says.
    repo = _cruft_create(
        sandbox,
        template_repo,
        {"product_name": PRODUCT, "sponsor_name": SPONSOR, "protocmc_requirement": requirement},
    )
    state = json.loads((repo / ".cruft.json").read_text("utf-8"))
    assert state["commit"] == template_repo.commit_of(__version__)
    assert state["checkout"] == f"v{__version__}"
    assert state["directory"] == "templates/sponsor"

    # 2. The install line is this protocmc: pip installs the wheel offline, and it works.
    line = (repo / "requirements.txt").read_text("utf-8").splitlines()[-1]
    assert line == requirement.replace("{version}", __version__)
    site = sandbox.root / "installed"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps"]
    sandbox.ok([*pip, "--target", str(site), "-r", "requirements.txt"], repo)
    from_wheel = {"PYTHONPATH": str(site)}
    where = sandbox.ok(
        [sys.executable, "-c", "import generator; print(generator.__file__)"],
        repo,
        extra_env=from_wheel,
    ).stdout
    assert Path(where.strip()).is_relative_to(site)
    version = sandbox.ok(
        [sys.executable, "-m", "generator", "--version"], repo, extra_env=from_wheel
    )
    assert version.stdout.strip() == f"protocmc {__version__}"
    # the wheel carries the frameworks, templates and CHANGELOG: it works on its own
    sandbox.ok(
        [sys.executable, "-m", "generator", "check", "product.yaml"], repo, extra_env=from_wheel
    )
    notes = sandbox.ok(
        [sys.executable, "-m", "generator", "framework", "changes"], repo, extra_env=from_wheel
    )
    assert notes.stdout.startswith(f"{__version__} (")

    # 3. The sponsor's edits, committed.
    sandbox.git(repo, "init", "-q", "-b", "main")
    sandbox.commit_all(repo, "Created from protocmc's sponsor template")
    product = repo / "product.yaml"
    edited = product.read_text("utf-8").replace(
        'short_title: "<Short title>"', 'short_title: "PCT-19B in r/r LBCL"'
    )
    assert edited != product.read_text("utf-8")
    product.write_text(edited, encoding="utf-8")
    readme = repo / "README.md"
    readme.write_text(
        readme.read_text("utf-8") + "\n## Our team\n\nWriters of this protocol.\n", encoding="utf-8"
    )
    (repo / "docs" / "team.md").write_text("# Team\n\nWho writes what.\n", encoding="utf-8")
    sandbox.commit_all(repo, "Sponsor edits")
    assert _pre_commit_job(sandbox, repo)[0] == 0
    code, output = _template_job(sandbox, repo)
    assert code == 0, output

    # 4. protocmc releases vN+1: the template job now fails.
    new = _release_template_change(template_repo)
    code, output = _template_job(sandbox, repo)
    assert code != 0 and f"v{new}" in output and "out of date" in output, output

    # 5. cruft update, as the sponsor README says.
    _cruft_update(sandbox, repo, new)
    assert _markers_or_rejects(repo) == []
    assert NEW_STEP in (repo / ".github" / "workflows" / "protocmc.yml").read_text("utf-8")
    text = readme.read_text("utf-8")
    assert NEW_PARAGRAPH + PARAGRAPH_ANCHOR in text
    assert text.endswith("\n## Our team\n\nWriters of this protocol.\n")
    assert 'short_title: "PCT-19B in r/r LBCL"' in product.read_text("utf-8")
    assert (repo / "docs" / "team.md").is_file()
    # the pin moved with the setup files
    line = (repo / "requirements.txt").read_text("utf-8").splitlines()[-1]
    assert line == requirement.replace("{version}", new)
    state = json.loads((repo / ".cruft.json").read_text("utf-8"))
    assert state["commit"] == template_repo.commit_of(new)
    assert state["checkout"] == f"v{new}"
    assert state["context"]["cookiecutter"]["sponsor_name"] == SPONSOR

    # 6. The sponsor's review commands, then commit: both CI jobs pass again.
    line = readme_line(readme, "protocmc", "framework changes")
    assert line == 'protocmc framework changes --since "$OLD"'
    done = sandbox.ok(line, repo, extra_env={"OLD": __version__, "NEW": new})
    assert f"after {__version__}" in done.stdout
    sandbox.ok(["protocmc", "check", "product.yaml"], repo)
    sandbox.ok(["protocmc", "build", "product.yaml", "-o", "build", "--format", "md"], repo)
    assert "PCT-19B in r/r LBCL" in (repo / "build" / "protocol.md").read_text("utf-8")
    sandbox.commit_all(repo, f"protocmc {new}")
    code, output = _pre_commit_job(sandbox, repo)
    assert code == 0, output
    code, output = _template_job(sandbox, repo)
    assert code == 0, output


@pytest.mark.parametrize("made_with", ["cruft", "cookiecutter"])
def test_an_update_that_conflicts_with_a_sponsor_edit_fails_the_gate(
    sandbox: Sandbox, template_repo: TemplateRepo, made_with: str
) -> None:
    """cruft update exits 0 either way; pre-commit (locally and in CI) must refuse the result.

    A repository made with cruft and committed gets conflict markers (git apply -3); one made
    with cookiecutter and edited before its first commit lacks the blobs for a 3-way merge and
    gets a .rej file.
    """
    answers = {"product_name": PRODUCT}
    if made_with == "cruft":
        repo = _cruft_create(sandbox, template_repo, answers)
        sandbox.git(repo, "init", "-q", "-b", "main")
        sandbox.commit_all(repo, "Created")
        readme = repo / "README.md"
        readme.write_text(
            readme.read_text("utf-8").replace(SHARED_LINE, "Our writers edit product.yaml only."),
            encoding="utf-8",
        )
        sandbox.commit_all(repo, "Our wording")
    else:
        repo = _cookiecutter_then_link(
            sandbox,
            template_repo,
            answers,
            edit=(SHARED_LINE, "Our writers edit product.yaml only."),
        )
    # the release rewords the same line
    template_repo.edit("README.md", SHARED_LINE, "You write in `product.yaml` only.")
    new = bump_patch(template_repo.version)
    template_repo.release(new)

    done = sandbox.ok(["cruft", "update", "--checkout", f"v{new}", "--skip-apply-ask"], repo)
    assert done.returncode == 0  # cruft does not fail on a conflict ...
    leftovers = _markers_or_rejects(repo)
    assert leftovers == (["README.md"] if made_with == "cruft" else ["README.md.rej"])

    # ... the sponsor commits what is there, and the gate refuses it
    sandbox.commit_all(repo, f"protocmc {new}")
    code, output = _pre_commit_job(sandbox, repo)
    assert code != 0
    if made_with == "cruft":
        assert "no merge conflict markers" in output and "README.md:" in output, output
    else:
        assert "leftover .rej file" in output and "README.md.rej" in output, output


def _cookiecutter_then_link(
    sandbox: Sandbox,
    template: TemplateRepo,
    answers: dict[str, str],
    *,
    edit: tuple[str, str] | None = None,
) -> Path:
    """A repository made with plain cookiecutter from a clone at the release tag (edited before
    its first commit when `edit` is given), then linked as the sponsor README says."""
    clone = sandbox.root / "clone"
    sandbox.git(sandbox.root, "clone", "-q", str(template.path), str(clone))
    sandbox.git(clone, "checkout", "-q", f"v{__version__}")
    projects = sandbox.root / "projects"
    projects.mkdir()
    sandbox.ok(
        ["cookiecutter", "--no-input", str(clone / "templates" / "sponsor")]
        + [f"{k}={v}" for k, v in answers.items()],
        projects,
    )
    repo = projects / SLUG
    if edit is not None:
        readme = repo / "README.md"
        readme.write_text(readme.read_text("utf-8").replace(*edit), encoding="utf-8")
    sandbox.git(repo, "init", "-q", "-b", "main")
    sandbox.commit_all(repo, "Made with cookiecutter")
    code, output = _template_job(sandbox, repo)
    assert code != 0 and "no .cruft.json" in output, output

    args = readme_command(repo / "README.md", "cruft", "cruft link")
    assert args[1:] == [
        "link",
        "$PROTOCMC_REPO",
        "--directory",
        "templates/sponsor",
        "--checkout",
        f"v{__version__}",
    ]
    args[2] = str(template.path)
    sandbox.ok([*args, "--no-input", "--extra-context", json.dumps(answers)], repo)
    sandbox.commit_all(repo, "Linked to its protocmc release")
    return repo


def test_cookiecutter_repository_linked_at_its_release_gets_every_later_change(
    sandbox: Sandbox, template_repo: TemplateRepo
) -> None:
    """`cruft link` without --checkout would record the newest commit and call the repository
    up to date; linked at the release it was made from, the update brings what came since."""
    answers = {"product_name": PRODUCT, "sponsor_name": SPONSOR}
    new = _release_template_change(template_repo)  # released before the sponsor links
    repo = _cookiecutter_then_link(sandbox, template_repo, answers)
    state = json.loads((repo / ".cruft.json").read_text("utf-8"))
    assert state["commit"] == template_repo.commit_of(__version__)
    assert state["commit"] != template_repo.commit_of(new)
    code, output = _template_job(sandbox, repo)
    assert code != 0 and "out of date" in output, output

    sandbox.ok(["cruft", "update", "--checkout", f"v{new}", "--skip-apply-ask"], repo)
    assert _markers_or_rejects(repo) == []
    assert NEW_STEP in (repo / ".github" / "workflows" / "protocmc.yml").read_text("utf-8")
    assert NEW_PARAGRAPH in (repo / "README.md").read_text("utf-8")
    assert (repo / "requirements.txt").read_text("utf-8").splitlines()[-1] == f"protocmc=={new}"
    sandbox.commit_all(repo, f"protocmc {new}")
    code, output = _template_job(sandbox, repo)
    assert code == 0, output
