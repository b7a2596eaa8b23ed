"""Template updates arrive as merge requests: the template-update job, run for real by
gitlab-ci-local against a local bare repository that records each push and its push options
(as GitLab reads them to open a merge request).

The template has v1.0.0 and v2.0.0 (v2 changes a template-owned pipeline file and
pyproject.toml, and says so in its CHANGELOG.md); projects are copied at v1.0.0.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit import (
    BASELINE,
    DISTRIBUTION,
    ROOT,
    check_schema,
    commit_all,
    copier_cli,
    edit,
    git,
    listed_jobs,
    pipeline,
    render,
    run,
    run_pipeline,
    snapshot_template,
)

PUSH_HOOK = """#!{python}
# Records every push: its ref updates and its push options (GitLab's merge_request.* options).
import json, os, sys
count = int(os.environ.get("GIT_PUSH_OPTION_COUNT", "0"))
record = {{
    "refs": [line.split() for line in sys.stdin.read().splitlines()],
    "options": [os.environ[f"GIT_PUSH_OPTION_{{i}}"] for i in range(count)],
}}
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps(record) + "\\n")
"""
ZERO = "0" * 40
JOB_TOKEN = "glcbt-secret-job-token-1234"


def release(repo: Path, version: str, change: str) -> None:
    """Tag a new template version that changes the uv jobs and pyproject.toml, with a changelog entry."""
    uv_ci = repo / "template" / ".gitlab" / "ci" / "uv.gitlab-ci.yml.jinja"
    edit(uv_ci, "  interruptible: true\n", f"  interruptible: true\n  # {change}\n")
    edit(repo / "template" / "pyproject.toml.jinja", 'test = ["pytest>=9",', f'test = ["pytest>=9", # {change}\n    ')
    changelog = repo / "CHANGELOG.md"
    text = changelog.read_text()
    first = text.index("\n## ") + 1  # the newest release comes first
    changelog.write_text(f"{text[:first]}## {version}\n\n- {change}\n\n{text[first:]}")
    git(repo, "commit", "-q", "-am", f"{version}: {change}")
    git(repo, "tag", version)


class Origin:
    """A bare repository standing in for the project on GitLab: it records every push."""

    def __init__(self, path: Path, project: Path) -> None:
        """Make the bare repository, push ``project``'s main to it, then start recording."""
        self.path = path
        self.log = path.parent / f"{path.name}-pushes.jsonl"
        git(path.parent, "init", "-q", "--bare", path.name)
        git(path, "config", "receive.advertisePushOptions", "true")
        git(project, "remote", "add", "origin", str(path))
        git(project, "push", "-q", "origin", "main")
        hook = path / "hooks" / "pre-receive"
        hook.write_text(PUSH_HOOK.format(python=sys.executable, log=str(self.log)))
        hook.chmod(0o755)

    def pushes(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def branches(self) -> list[str]:
        return sorted(git(self.path, "for-each-ref", "--format=%(refname:short)", "refs/heads").split())

    def tree(self, ref: str) -> str:
        return git(self.path, "rev-parse", f"{ref}^{{tree}}").strip()


@pytest.fixture
def template(tmp_path) -> Path:
    repo = snapshot_template(tmp_path / "template")
    git(repo, "tag", "v1.0.0")
    release(repo, "v2.0.0", "retry flaky jobs")
    return repo


@pytest.fixture
def shared_uv_cache(tmp_path_factory) -> Path:
    """One uv cache for every job of the module (the job installs copier and the project)."""
    return tmp_path_factory.mktemp("uv-cache")


def project_on_origin(template: Path, tmp_path: Path, name: str, team_edit=None) -> tuple[Path, Origin]:
    project = tmp_path / name
    copier_cli("copy", "--vcs-ref", "v1.0.0", template, project, cwd=tmp_path, data=BASELINE)
    commit_all(project, "copied from template v1.0.0")
    if team_edit:
        team_edit(project)
        commit_all(project, "team work")
    return project, Origin(tmp_path / f"{name}.git", project)


def run_update_job(project: Path, uv_cache: Path) -> subprocess.CompletedProcess[str]:
    """The template-update job of a scheduled pipeline on main, in a fresh checkout.

    GitLab gives every job a fresh checkout; gitlab-ci-local reuses the job's folder and its
    rsync keeps files the last run changed (they are newer), so the folder goes first.
    """
    shutil.rmtree(project / ".gitlab-ci-local" / "builds", ignore_errors=True)
    return run_pipeline(
        project,
        "--variable",
        "CI_PIPELINE_SOURCE=schedule",
        "--variable",
        f"UV_CACHE_DIR={uv_cache}",
        "--variable",
        f"CI_JOB_TOKEN={JOB_TOKEN}",
        jobs=["template-update"],
    )


def options(push: dict) -> dict[str, str]:
    return dict(option.partition("=")[::2] for option in push["options"])


def test_the_job_validates_and_runs_only_on_schedules_and_by_hand(template, tmp_path):
    project = commit_all(render(template, tmp_path / DISTRIBUTION, tasks=False), "generated")
    check_schema(project)
    job = pipeline(project)["template-update"]
    assert all("$CI_PIPELINE_SOURCE ==" in rule["if"] for rule in job["rules"])
    listed = {
        source: listed_jobs(project, "--variable", f"CI_PIPELINE_SOURCE={source}")
        for source in ("push", "merge_request_event", "schedule", "web")
    }
    assert {source for source, out in listed.items() if "template-update" in out} == {"schedule", "web"}


@pytest.fixture
def proposed(template, tmp_path, shared_uv_cache) -> tuple[Path, Origin]:
    """A project copied at v1.0.0, with team edits, after one run of the template-update job."""

    def team_edit(project: Path) -> None:
        run(["uv", "add", "--quiet", "attrs>=23"], project)
        with (project / "README.md").open("a") as readme:
            readme.write("\n## Team notes\n\nOn-call: #payments.\n")

    project, origin = project_on_origin(template, tmp_path, "service", team_edit)
    job = run_update_job(project, shared_uv_cache)
    assert JOB_TOKEN not in job.stdout  # the log never shows the token
    return project, origin


@pytest.mark.slow
def test_an_update_arrives_as_one_merge_request_with_what_changed_and_the_checks(proposed, tmp_path):
    _, origin = proposed
    (push,) = origin.pushes()
    assert push["refs"][0][2] == "refs/heads/template-update/v2.0.0"
    opts = options(push)
    assert "merge_request.create" in opts
    assert opts["merge_request.target"] == "main"
    assert opts["merge_request.title"] == "Update template from v1.0.0 to v2.0.0"
    assert opts["merge_request.label"] == "template-update"
    assert "merge_request.remove_source_branch" in opts
    assert "merge_request.draft" not in opts
    text = opts["merge_request.description"]
    assert "\n" not in text
    assert "**v2.0.0**<br>- retry flaky jobs" in text  # the template's changes, from its changelog
    for check in ("lock", "format", "lint", "tests"):
        assert f"- {check}: passed" in text
    assert origin.branches() == ["main", "template-update/v2.0.0"]  # main untouched

    # The pushed tree is exactly what `copier update` done by hand gives, team edits kept.
    by_hand = tmp_path / "by-hand"
    git(tmp_path, "clone", "-q", str(origin.path), str(by_hand))
    copier_cli("update", "--vcs-ref", "v2.0.0", "--conflict", "rej", cwd=by_hand, data={})
    git(by_hand, "add", "--all")
    assert origin.tree("template-update/v2.0.0") == git(by_hand, "write-tree").strip()
    pushed = tmp_path / "pushed"
    git(tmp_path, "clone", "-q", "--branch", "template-update/v2.0.0", str(origin.path), str(pushed))
    assert "On-call: #payments." in (pushed / "README.md").read_text()
    assert "retry flaky jobs" in (pushed / ".gitlab" / "ci" / "uv.gitlab-ci.yml").read_text()
    run(["uv", "lock", "--check"], pushed)


@pytest.mark.slow
def test_runs_again_refresh_the_same_merge_request_and_a_newer_version_supersedes_it(
    proposed, template, shared_uv_cache
):
    project, origin = proposed
    # Run again: nothing new to push, no second merge request.
    again = run_update_job(project, shared_uv_cache)
    assert "unchanged: template-update/v2.0.0 already holds this update" in again.stdout
    assert len(origin.pushes()) == 1

    # The default branch moves on: the same version is proposed again on the same branch,
    # refreshing its merge request (create only opens one for a new branch).
    with (project / "README.md").open("a") as readme:
        readme.write("Escalation: #payments-leads.\n")
    commit_all(project, "team work on main")
    git(project, "push", "-q", "origin", "main")
    run_update_job(project, shared_uv_cache)
    main_push, refresh = origin.pushes()[1:]
    assert main_push["refs"][0][2] == "refs/heads/main"
    assert refresh["refs"][0][2] == "refs/heads/template-update/v2.0.0"
    assert "merge_request.create" not in options(refresh)
    assert options(refresh)["merge_request.title"] == "Update template from v1.0.0 to v2.0.0"
    assert origin.branches() == ["main", "template-update/v2.0.0"]

    # A newer release supersedes the open one.
    release(template, "v3.0.0", "cache the interpreter list")
    run_update_job(project, shared_uv_cache)
    newer, removed = origin.pushes()[3:]
    assert newer["refs"][0][2] == "refs/heads/template-update/v3.0.0"
    assert "merge_request.create" in options(newer)
    assert options(newer)["merge_request.title"] == "Update template from v1.0.0 to v3.0.0"
    assert "**v3.0.0**" in options(newer)["merge_request.description"]
    assert removed["refs"][0][1:] == [ZERO, "refs/heads/template-update/v2.0.0"]
    assert origin.branches() == ["main", "template-update/v3.0.0"]


@pytest.mark.slow
def test_a_conflict_or_a_failing_check_makes_a_draft_that_names_it(template, tmp_path, shared_uv_cache):
    def clashing_edit(project: Path) -> None:
        edit(project / ".gitlab" / "ci" / "uv.gitlab-ci.yml", "  interruptible: true\n", "  interruptible: false\n")

    project, origin = project_on_origin(template, tmp_path, "clash", clashing_edit)
    run_update_job(project, shared_uv_cache)
    (push,) = origin.pushes()
    opts = options(push)
    assert opts["merge_request.title"] == "Draft: Update template from v1.0.0 to v2.0.0"
    assert "merge_request.draft" in opts
    assert (
        "Conflicts (markers left in the files; resolve them on this branch):<br>- `.gitlab/ci/uv.gitlab-ci.yml`"
        in (opts["merge_request.description"])
    )

    def failing_test(project: Path) -> None:
        (project / "tests" / "test_broken.py").write_text("def test_broken():\n    assert 1 == 2  # noqa: PLR0133\n")

    project, origin = project_on_origin(template, tmp_path, "failing", failing_test)
    run_update_job(project, shared_uv_cache)
    (push,) = origin.pushes()
    opts = options(push)
    assert opts["merge_request.title"].startswith("Draft: ")
    assert "- tests: FAILED (`uv run --locked pytest`)" in opts["merge_request.description"]
    assert "Conflicts" not in opts["merge_request.description"]


@pytest.mark.slow
def test_a_project_on_the_newest_version_pushes_nothing(template, tmp_path, shared_uv_cache):
    project = tmp_path / "current"
    copier_cli("copy", "--vcs-ref", "v2.0.0", template, project, cwd=tmp_path)
    commit_all(project, "copied from template v2.0.0")
    origin = Origin(tmp_path / "current.git", project)
    job = run_update_job(project, shared_uv_cache)
    assert "up to date: template 2.0.0; nothing to propose" in job.stdout
    assert origin.pushes() == []
    assert origin.branches() == ["main"]


def test_conflicted_files_names_every_changed_or_new_file_with_a_marker_line(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "template_sync", ROOT / "template" / ".gitlab" / "ci" / "template_sync.py"
    )
    sync = importlib.util.module_from_spec(spec)
    sys.modules["template_sync"] = sync  # its dataclasses look their module up there
    spec.loader.exec_module(sync)
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in (".answers.yml", "clean.txt", "src/module.py"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("one\n")
    commit_all(repo, "base")
    marker = "<<<<<<< before updating\none\n=======\ntwo\n>>>>>>> after updating\n"
    (repo / ".answers.yml").write_text(marker)  # changed, and first in order
    (repo / "clean.txt").write_text("changed, no conflict\n")
    (repo / "new.txt").write_text(marker)  # new
    (repo / "src" / "module.py").write_text('PATTERN = "^<<<<<<< "  # names a marker, is none\n')
    assert sync.conflicted_files(repo) == [".answers.yml", "new.txt"]
