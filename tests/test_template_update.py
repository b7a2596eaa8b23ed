"""Template updates arrive as merge requests, and never cost a person their work: the
template-update job, run for real by gitlab-ci-local against a local bare repository that
records each push, whether it was a fast-forward, and its push options (as GitLab reads them
to open a merge request). A person's part is played by a clone of that repository.

The template has v1.0.0 and v2.0.0 (v2 changes a template-owned pipeline file and
pyproject.toml, and says so in its CHANGELOG.md); projects are copied at v1.0.0.
The decisions themselves are unit-tested in tests/test_project_sync.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from project_sync import JOB_EMAIL

from tests.kit import (
    BASELINE,
    OFFLINE,
    add_to_uv_jobs,
    check_green,
    check_schema,
    commit_all,
    copier_cli,
    edit,
    git,
    job_names,
    listed_jobs,
    pipeline,
    release_template,
    run,
    run_pipeline,
    runner_checkout,
    runner_environment,
    snapshot_template,
    tag_release,
)
from tests.servers import GitLab, gitlab_project, serving_gitlab

PUSH_HOOK = """#!{python}
# Records every push: its ref updates (with whether each moved the ref forward, neither
# rewriting nor deleting what was there) and its push options (GitLab's merge_request.*).
import json, os, subprocess, sys
ZERO = "0" * 40

def forward(old, new):
    if old == ZERO:
        return True
    if new == ZERO:
        return False
    return subprocess.run(["git", "merge-base", "--is-ancestor", old, new]).returncode == 0

count = int(os.environ.get("GIT_PUSH_OPTION_COUNT", "0"))
refs = [line.split() for line in sys.stdin.read().splitlines()]
record = {{
    "refs": refs,
    "forward": [forward(old, new) for old, new, _ in refs],
    "options": [os.environ[f"GIT_PUSH_OPTION_{{i}}"] for i in range(count)],
}}
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps(record) + "\\n")
"""
ZERO = "0" * 40
JOB_TOKEN = "glcbt-secret-job-token-1234"


class Origin:
    """A bare repository standing in for the project on GitLab: it records every push."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.log = path.parent / f"{path.name}-pushes.jsonl"

    @classmethod
    def made_from(cls, path: Path, project: Path) -> Origin:
        """Make the bare repository, push ``project``'s main to it, then start recording."""
        origin = cls(path)
        git(path.parent, "init", "-q", "--bare", path.name)
        git(path, "config", "receive.advertisePushOptions", "true")
        git(project, "remote", "add", "origin", str(path))
        git(project, "push", "-q", "origin", "main")
        origin.record()
        return origin

    def record(self) -> None:
        hook = self.path / "hooks" / "pre-receive"
        hook.write_text(PUSH_HOOK.format(python=sys.executable, log=str(self.log)))
        hook.chmod(0o755)

    def copied_to(self, path: Path) -> Origin:
        """A copy at ``path``, with the pushes recorded so far, recording its own."""
        copy = Origin(path)
        shutil.copytree(self.path, path, symlinks=True)
        if self.log.exists():
            shutil.copy2(self.log, copy.log)
        copy.record()
        return copy

    def pushes(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def updates_of(self, branch: str) -> list[tuple[str, str, bool]]:
        """Every recorded update of ``branch``: (old, new, moved forward)."""
        return [
            (old, new, forward)
            for push in self.pushes()
            for (old, new, ref), forward in zip(push["refs"], push["forward"], strict=True)
            if ref == f"refs/heads/{branch}"
        ]

    def branches(self) -> list[str]:
        return sorted(git(self.path, "for-each-ref", "--format=%(refname:short)", "refs/heads").split())

    def head(self, branch: str) -> str:
        return git(self.path, "rev-parse", f"refs/heads/{branch}").strip()

    def tree(self, ref: str) -> str:
        return git(self.path, "rev-parse", f"{ref}^{{tree}}").strip()


class Person:
    """A team member with a clone of the project: commits as themselves, pushes plainly."""

    def __init__(self, origin: Origin, clone: Path) -> None:
        self.clone = clone
        git(clone.parent, "clone", "-q", str(origin.path), str(clone))

    def commit_on(self, branch: str, message: str, *, push: bool = True, commits: int = 1) -> str:
        """Commit a change to the README on ``branch`` (made from main if new), ``commits`` times;
        return the last commit's sha."""
        git(self.clone, "fetch", "-q", "origin")
        exists = git(self.clone, "ls-remote", "origin", f"refs/heads/{branch}").strip()
        git(self.clone, "switch", "-q", "-C", branch, f"origin/{branch}" if exists else "origin/main")
        for number in range(commits):
            with (self.clone / "README.md").open("a") as readme:
                readme.write(f"\n{message}{f' ({number})' if number else ''}\n")
            git(self.clone, "commit", "-q", "-am", message)
        if push:
            git(self.clone, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
        return git(self.clone, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def template_repository(tmp_path_factory) -> Path:
    """The template at one place for the module, as on a GitLab server: v1.0.0 and v2.0.0."""
    repo = snapshot_template(tmp_path_factory.mktemp("template") / "template")
    tag_release(repo, "v1.0.0")
    release_template(repo, "v2.0.0", "retry flaky jobs")
    return repo


@pytest.fixture
def template(template_repository) -> Iterator[Path]:
    """The template at v2.0.0: what a test releases after it is gone when the test ends (the
    tests of a worker run one at a time), so projects made once serve every test."""
    yield template_repository
    for tag in git(template_repository, "tag", "--list").split():
        if tag not in {"v1.0.0", "v2.0.0"}:
            git(template_repository, "tag", "-d", tag)
    git(template_repository, "reset", "-q", "--hard", "v2.0.0")


# Commits a team makes between the copy and the job's first run: more than GitLab's default
# clone depth (20), so a depth-20 checkout of every scenario is cut, as on a project in use.
TEAM_HISTORY = 25


def project_on_origin(template: Path, folder: Path, name: str, team_edit=None) -> tuple[Path, Origin]:
    project = folder / name
    copier_cli("copy", "--vcs-ref", "v1.0.0", template, project, cwd=folder, data=BASELINE)
    commit_all(project, "copied from template v1.0.0")
    for number in range(TEAM_HISTORY):
        git(project, "commit", "-q", "--allow-empty", "-m", f"team work {number}")
    if team_edit:
        team_edit(project)
        commit_all(project, "team work")
    return project, Origin.made_from(folder / f"{name}.git", project)


def copy_of(project: Path, origin: Origin, folder: Path) -> tuple[Path, Origin]:
    """``project`` and its origin, copied into ``folder``: the copy pushes to the copy."""
    copy = folder / project.name
    shutil.copytree(project, copy, symlinks=True, ignore=shutil.ignore_patterns(".venv"))  # uv makes it again
    copied_origin = origin.copied_to(folder / origin.path.name)
    git(copy, "remote", "set-url", "origin", str(copied_origin.path))
    return copy, copied_origin


class Projects:
    """Projects on their origins, each made once per module (a copy at v1.0.0 with 25 commits of
    team work, or after a first job run) and copied into every test that starts from it."""

    def __init__(self, template: Path, folder: Path) -> None:
        self.template, self.folder = template, folder
        self.made: dict[str, tuple[Path, Origin]] = {}

    def start(self, key: str, make: Callable[[Path], tuple[Path, Origin]], folder: Path) -> tuple[Path, Origin]:
        """A copy in ``folder`` of what ``make`` made (in a folder of its own) the first time ``key`` was asked."""
        if key not in self.made:
            made_in = self.folder / key
            shutil.rmtree(made_in, ignore_errors=True)  # what a first attempt left (a skip, a failure)
            made_in.mkdir()
            self.made[key] = make(made_in)
        return copy_of(*self.made[key], folder)

    def copied(self, name: str, folder: Path, team_edit: Callable[[Path], None] | None = None) -> tuple[Path, Origin]:
        """A project copied at v1.0.0 with the team's history and ``team_edit`` (one per ``name``)."""
        return self.start(name, lambda made_in: project_on_origin(self.template, made_in, name, team_edit), folder)


@pytest.fixture(scope="module")
def projects(template_repository, tmp_path_factory) -> Projects:
    return Projects(template_repository, tmp_path_factory.mktemp("projects"))


class Jobs:
    """The template-sync jobs of a project's scheduled pipeline on main, each in a fresh
    checkout made as GitLab's runner makes it (``depth`` commits deep, 0 for all; detached at
    the commit; no git identity), run by gitlab-ci-local."""

    def __init__(self, depth: int, folder: Path) -> None:
        self.depth, self.folder, self.runs = depth, folder, 0

    def scheduled(self, project: Path) -> str:
        """template-drift and template-update in one pipeline, side by side in their stage as a
        schedule on main runs them; the drift job's own lines of the log (what the update did,
        the origin records)."""
        log = self._pipeline(project, ["template-drift", "template-update"], ()).stdout
        return "\n".join(line for line in log.splitlines() if re.match(r"template-drift\s", line))

    def update(self, project: Path, *variables: str) -> subprocess.CompletedProcess[str]:
        """template-update on what ``project``'s origin holds now (pushes from ``project`` included)."""
        return self._pipeline(project, ["template-update"], variables)

    def _pipeline(self, project: Path, jobs: list[str], variables: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        origin = Path(git(project, "remote", "get-url", "origin").strip())
        self.runs += 1
        checkout = runner_checkout(origin, self.folder / f"checkout-{self.runs}", depth=self.depth)
        environment = runner_environment(self.folder / f"environment-{self.runs}", GIT_DEPTH=str(self.depth))
        job_variables = {
            name: environment[name]
            for name in ("CI_PIPELINE_SOURCE", "CI_COMMIT_BRANCH", "CI_DEFAULT_BRANCH", "GIT_CONFIG_GLOBAL",
                         "GIT_CONFIG_NOSYSTEM", "GIT_DEPTH")
        }  # fmt: skip
        job_variables["CI_JOB_TOKEN"] = JOB_TOKEN
        return run_pipeline(
            checkout,
            *(arg for name, value in job_variables.items() for arg in ("--variable", f"{name}={value}")),
            *(arg for variable in variables for arg in ("--variable", variable)),
            jobs=jobs,
        )


@pytest.fixture(params=[1, 20, 0], ids=["depth-1", "depth-20", "full"])
def jobs(request, tmp_path) -> Jobs:
    """The jobs, in checkouts as deep as GitLab makes them: 1 (a team's setting), 20 (GitLab's
    default for new projects), 0 (the whole history). For what the jobs read from the history:
    their own and the team's branches and commits, the answers file's earlier texts. A test whose
    history reading is held at every depth elsewhere takes the shallowest (``SHALLOWEST``)."""
    return Jobs(request.param, tmp_path / "runner")


# The depth where the job must fetch the most to read a branch: for tests of what it then does
# with it (the lease, what it refreshes and deletes, what it writes), whose reading of the
# branches is held at every depth by the property test of tests/test_project_sync.py and by
# test_a_persons_commit_on_the_update_branch_survives_every_later_run here.
SHALLOWEST = pytest.mark.parametrize("jobs", [1], ids=["depth-1"], indirect=True)


@pytest.fixture
def default_jobs(tmp_path) -> Jobs:
    """The jobs in a checkout of GitLab's default depth (20), for what an update writes from
    the project's files and the template (conflicts, failing checks, restored files, the newest
    release's script): the steps that read the history run there too, and at every depth in
    the tests that take ``jobs``."""
    return Jobs(20, tmp_path / "runner")


def options(push: dict) -> dict[str, str]:
    return dict(option.partition("=")[::2] for option in push["options"])


def test_the_job_validates_and_runs_only_on_schedules_and_by_hand(template, render, tmp_path):
    project = commit_all(render(template=template, env=OFFLINE), "generated")
    # On its origin, as on GitLab: a merge request's `rules: changes` compare with origin/main.
    Origin.made_from(tmp_path / "origin.git", project)
    check_schema(project)
    job = pipeline(project)["template-update"]
    assert all("$CI_PIPELINE_SOURCE ==" in rule["if"] for rule in job["rules"])
    listed = {
        source: listed_jobs(project, "--variable", f"CI_PIPELINE_SOURCE={source}")
        for source in ("push", "merge_request_event", "schedule", "web")
    }
    assert {source for source, out in listed.items() if "template-update" in out} == {"schedule", "web"}


RACE_CONFTEST = """import os
import shlex
import subprocess

import pytest


def pytest_sessionstart(session: pytest.Session) -> None:
    # Stands in for a person pushing while the template-update job runs its checks.
    command = os.environ.get("PERSON_PUSHES_NOW")
    if command:
        subprocess.run(shlex.split(command), check=True)  # noqa: S603
"""


@pytest.fixture
def proposed(template, projects, tmp_path, jobs) -> tuple[Path, Origin]:
    """A project copied at v1.0.0, with team edits, after one run of the template-update job
    (made once per depth). Its tests' conftest.py lets a test push as a person while the job
    runs its checks (``PERSON_PUSHES_NOW``); unset, it does nothing."""

    def team_edit(project: Path) -> None:
        run(["uv", "add", "--quiet", "attrs>=23"], project)
        with (project / "README.md").open("a") as readme:
            readme.write("\n## Team notes\n\nOn-call: #payments.\n")
        (project / "tests" / "conftest.py").write_text(RACE_CONFTEST)

    def first_run(folder: Path) -> tuple[Path, Origin]:
        project, origin = projects.copied("service", folder, team_edit)
        job = jobs.update(project)
        assert JOB_TOKEN not in job.stdout  # the log never shows the token
        return project, origin

    return projects.start(f"proposed-depth-{jobs.depth}", first_run, tmp_path)


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
    # The commit says it is the job's: its identity as author and committer, and its trailer.
    author = git(pushed, "log", "-1", "--format=%ae %ce%n%(trailers:key=Template-Update-Job,valueonly)").split()
    assert author == [JOB_EMAIL, JOB_EMAIL, "v2.0.0"]


@SHALLOWEST
@pytest.mark.slow
def test_the_jobs_own_branch_is_refreshed_with_the_lease_and_deleted_once_superseded(proposed, template, jobs):
    project, origin = proposed
    # Run again: nothing new to push, no second merge request.
    again = jobs.update(project)
    assert "unchanged: template-update/v2.0.0 already holds this update" in again.stdout
    assert len(origin.pushes()) == 1

    # The default branch moves on, further than GitLab's default clone depth (20): the job's own
    # branch is rebuilt on it and its merge request refreshed (create only opens one for a new branch).
    Person(origin, project.parent / "colleague").commit_on("main", "Escalation: #payments-leads.", commits=25)
    jobs.update(project)
    refresh = origin.pushes()[-1]
    assert refresh["refs"][0][2] == "refs/heads/template-update/v2.0.0"
    assert "merge_request.create" not in options(refresh)
    assert options(refresh)["merge_request.title"] == "Update template from v1.0.0 to v2.0.0"
    assert origin.branches() == ["main", "template-update/v2.0.0"]

    # A newer release supersedes it: only the job's commits were on it, so it goes.
    release_template(template, "v3.0.0", "cache the interpreter list")
    jobs.update(project)
    newer, removed = origin.pushes()[-2:]
    assert newer["refs"][0][2] == "refs/heads/template-update/v3.0.0"
    assert "merge_request.create" in options(newer)
    assert options(newer)["merge_request.title"] == "Update template from v1.0.0 to v3.0.0"
    assert "**v3.0.0**" in options(newer)["merge_request.description"]
    assert removed["refs"][0][1:] == [ZERO, "refs/heads/template-update/v2.0.0"]
    assert origin.branches() == ["main", "template-update/v3.0.0"]


@pytest.mark.slow
def test_a_persons_commit_on_the_update_branch_survives_every_later_run(proposed, template, jobs):
    project, origin = proposed
    person = Person(origin, project.parent / "jane")
    resolved = person.commit_on("template-update/v2.0.0", "Checked the retry settings by hand")
    notes = person.commit_on("template-update/notes", "Notes on template updates")
    before = len(origin.pushes())

    # Same version, main unchanged: the branch is the team's now, nothing is pushed.
    same = jobs.update(project)
    assert "left: template-update/v2.0.0 already proposes this version and holds your team's commits" in same.stdout
    assert f"{resolved[:8]} Checked the retry settings by hand (Template Tests)" in same.stdout
    assert len(origin.pushes()) == before

    # Main moved: still the team's.
    person.commit_on("main", "Escalation: #payments-leads.")
    jobs.update(project)
    assert origin.head("template-update/v2.0.0") == resolved

    # A newer version: a new merge request that names the kept branch and the person's commit.
    release_template(template, "v3.0.0", "cache the interpreter list")
    newer = jobs.update(project)
    assert "left: template-update/v2.0.0 is superseded but holds your team's commits" in newer.stdout
    (proposal,) = [push for push in origin.pushes() if push["refs"][0][2] == "refs/heads/template-update/v3.0.0"]
    assert (
        f"- `template-update/v2.0.0`: {resolved[:8]} Checked the retry settings by hand (Template Tests)"
        in options(proposal)["merge_request.description"]
    )
    assert origin.branches() == ["main", "template-update/notes", "template-update/v2.0.0", "template-update/v3.0.0"]
    assert origin.head("template-update/v2.0.0") == resolved
    assert origin.head("template-update/notes") == notes
    # Whatever the job pushed moved branches forward or made new ones: nothing rewritten or deleted.
    for branch in ("template-update/v2.0.0", "template-update/notes"):
        assert all(forward for _, _, forward in origin.updates_of(branch)), origin.updates_of(branch)
        assert ZERO not in {new for _, new, _ in origin.updates_of(branch)}


@SHALLOWEST
@pytest.mark.slow
def test_a_push_that_lands_while_the_job_runs_is_refused_by_the_lease(proposed, tmp_path, jobs):
    project, origin = proposed
    person = Person(origin, tmp_path / "jane")
    person.commit_on("main", "Escalation: #payments-leads.")  # so the job refreshes its branch
    pending = person.commit_on("template-update/v2.0.0", "Resolved while the job ran", push=False)

    # The job lists the branch (all its own), then runs its checks, during which the person
    # pushes; its push then carries a lease on what it listed.
    push_now = f"git -C {person.clone} push -q origin HEAD:refs/heads/template-update/v2.0.0"
    job = jobs.update(project, f"PERSON_PUSHES_NOW={push_now}")
    assert "left: template-update/v2.0.0 changed while this job ran (someone pushed to it)" in job.stdout
    assert origin.head("template-update/v2.0.0") == pending
    assert all(forward for _, _, forward in origin.updates_of("template-update/v2.0.0"))


@pytest.mark.slow
def test_a_conflict_or_a_failing_check_makes_a_draft_that_names_it(projects, tmp_path, default_jobs):
    def clashing_edit(project: Path) -> None:
        add_to_uv_jobs(project / ".gitlab" / "ci" / "uv.gitlab-ci.yml", "retry: 2")

    project, origin = projects.copied("clash", tmp_path, clashing_edit)
    default_jobs.update(project)
    (push,) = origin.pushes()
    opts = options(push)
    assert opts["merge_request.title"] == "Draft: Update template from v1.0.0 to v2.0.0"
    assert "merge_request.draft" in opts
    assert (
        "Conflicts (markers left in the files; resolve them on this branch):<br>- `.gitlab/ci/uv.gitlab-ci.yml`"
        in (opts["merge_request.description"])
    )

    def failing_test(project: Path) -> None:
        broken = "def test_broken() -> None:\n    assert 1 == 2  # noqa: PLR0133\n"
        (project / "tests" / "test_broken.py").write_text(broken)

    project, origin = projects.copied("failing", tmp_path, failing_test)
    default_jobs.update(project)
    (push,) = origin.pushes()
    opts = options(push)
    assert opts["merge_request.title"].startswith("Draft: ")
    failed = "- tests: FAILED (`uv run --locked --no-default-groups --group test pytest`)"
    assert failed in opts["merge_request.description"]
    assert "Conflicts" not in opts["merge_request.description"]


@pytest.mark.slow
def test_a_conflict_in_pyproject_still_gives_a_draft_with_the_lock_pending(projects, tmp_path, default_jobs):
    def clashing_dependency(project: Path) -> None:
        # v2 adds a line right above the first group's: the same lines change on both sides.
        edit(project / "pyproject.toml", 'lint = ["ruff>=0.17,<0.18"]', 'lint = ["ruff>=0.17.1,<0.18"]')
        run(["uv", "lock", "--quiet"], project)

    project, origin = projects.copied("pyproject", tmp_path, clashing_dependency)
    job = default_jobs.update(project)
    assert "pyproject.toml holds conflict markers" in job.stdout
    (push,) = origin.pushes()
    opts = options(push)
    assert "merge_request.draft" in opts
    text = opts["merge_request.description"]
    assert "- `pyproject.toml`" in text
    assert "`uv.lock` is pending" in text

    # A person resolves the markers on the branch as the description says: the project is green.
    person = tmp_path / "jane"
    git(tmp_path, "clone", "-q", "--branch", "template-update/v2.0.0", str(origin.path), str(person))
    pyproject = person / "pyproject.toml"
    pyproject.write_text(
        re.sub(r"<<<<<<< .*?\n(.*?)=======\n.*?>>>>>>> .*?\n", r"\1", pyproject.read_text(), flags=re.S)
    )
    run(["uv", "lock"], person)
    check_green(person)


@pytest.mark.slow
def test_a_project_on_the_newest_version_pushes_nothing(template, projects, tmp_path, default_jobs):
    def copied_at_v2(folder: Path) -> tuple[Path, Origin]:
        project = folder / "current"
        copier_cli("copy", "--vcs-ref", "v2.0.0", template, project, cwd=folder)
        commit_all(project, "copied from template v2.0.0")
        return project, Origin.made_from(folder / "current.git", project)

    project, origin = projects.start("current", copied_at_v2, tmp_path)
    job = default_jobs.update(project)
    assert "up to date: template v2.0.0; nothing to propose" in job.stdout
    assert origin.pushes() == []
    assert origin.branches() == ["main"]


@pytest.mark.slow
def test_a_fix_to_the_jobs_reaches_a_project_at_its_next_run_before_any_merge(
    template, projects, tmp_path, default_jobs
):
    project, origin = projects.copied("behind", tmp_path)  # still on v1.0.0
    script = template / "sync" / "project_sync.py"
    first_line = '    old = str(answers["_commit"])\n'
    edit(script, first_line, f'    say("v3 update logic")\n{first_line}')
    release_template(template, "v3.0.0", "better update job")
    job = default_jobs.update(project)
    assert "newest release v3.0.0: running its sync/project_sync.py" in job.stdout
    assert "v3 update logic" in job.stdout
    assert origin.branches() == ["main", "template-update/v3.0.0"]


# ---------------------------------------------------------------- what a team does to the template's files


@pytest.mark.slow
def test_a_deleted_template_owned_file_never_stops_the_pipeline_drift_names_it_and_the_update_restores_it(
    projects, tmp_path, default_jobs
):
    project, origin = projects.copied(
        "deleted", tmp_path, lambda project: git(project, "rm", "-q", ".gitlab/ci/audit.gitlab-ci.yml")
    )
    on_main = runner_checkout(origin.path, tmp_path / "main-now", depth=default_jobs.depth)
    scheduled = listed_jobs(on_main, "--variable", "CI_PIPELINE_SOURCE=schedule", "--variable", "CI_COMMIT_BRANCH=main")
    assert {"template-drift", "template-update"} <= job_names(scheduled)
    assert "audit" not in job_names(scheduled)

    drift = default_jobs.scheduled(project)
    assert "missing: .gitlab/ci/audit.gitlab-ci.yml is template-owned and was deleted" in drift
    (push,) = origin.pushes()
    assert "- restored .gitlab/ci/audit.gitlab-ci.yml: it was deleted" in options(push)["merge_request.description"]
    proposal = tmp_path / "proposal"
    git(tmp_path, "clone", "-q", "--branch", "template-update/v2.0.0", str(origin.path), str(proposal))
    assert "audit" in job_names(listed_jobs(proposal, "--variable", "CI_PIPELINE_SOURCE=schedule"))


@pytest.mark.slow
# The earlier answers are read from the history at every depth; what the update keeps of a file
# the team edited does not depend on it: once, at the shallowest.
@pytest.mark.parametrize(
    ("jobs", "team_edited_dockerfile"),
    [(1, False), (20, False), (0, False), (1, True)],
    ids=["depth-1-dockerfile-untouched", "depth-20-dockerfile-untouched", "full-dockerfile-untouched",
         "depth-1-dockerfile-edited"],
    indirect=["jobs"],
)  # fmt: skip
def test_an_answer_edited_by_hand_is_applied_by_the_next_update_as_copier_update_data_would(
    projects, tmp_path, jobs, team_edited_dockerfile
):
    def turn_docker_off_by_hand(project: Path) -> None:
        edit(project / ".copier-answers.yml", "dockerfile: true", "dockerfile: false")
        if team_edited_dockerfile:
            edit(project / "Dockerfile", "WORKDIR /tmp\n", "WORKDIR /srv\n")

    name = "by-hand-dockerfile-edited" if team_edited_dockerfile else "by-hand"
    project, origin = projects.copied(name, tmp_path, turn_docker_off_by_hand)

    # Drift blames no file on the team for what the edited answer would render differently.
    drift = jobs.scheduled(project)
    assert "answers edited by hand in .copier-answers.yml: dockerfile: True -> False" in drift
    assert "template.gitlab-ci.yml" not in drift
    assert ("modified: Dockerfile" in drift) is team_edited_dockerfile

    (push,) = origin.pushes()
    text = options(push)["merge_request.description"]
    assert "- applied the answers edited by hand in .copier-answers.yml: dockerfile: True -> False" in text
    proposal = tmp_path / "proposal"
    git(tmp_path, "clone", "-q", "--branch", "template-update/v2.0.0", str(origin.path), str(proposal))
    assert "docker-image" not in pipeline(proposal)
    assert not (proposal / ".gitlab" / "ci" / "docker.gitlab-ci.yml").exists()
    assert not (proposal / ".dockerignore").exists()
    assert "dockerfile: false" in (proposal / ".copier-answers.yml").read_text()
    if team_edited_dockerfile:
        assert "WORKDIR /srv" in (proposal / "Dockerfile").read_text()
        assert "- kept Dockerfile: the template no longer ships it with these answers" in text
    else:
        assert not (proposal / "Dockerfile").exists()
    # One commit of the job's on main: the branch stays its own for the next run.
    assert git(proposal, "rev-list", "--count", "origin/main..HEAD").strip() == "1"
    check_schema(proposal)


# ---------------------------------------------------------------- auto-merge, through the job

# GitLab's part of a push with merge_request.* options (user/project/push_options.md): open the
# merge request they describe. A post-receive hook of the origin asks the loopback GitLab's
# "Create MR" for it, after the branch moved, as GitLab does once the push is received.
OPEN_MERGE_REQUEST_HOOK = """#!{python}
import json, os, sys, urllib.request
count = int(os.environ.get("GIT_PUSH_OPTION_COUNT", "0"))
options = dict(os.environ[f"GIT_PUSH_OPTION_{{i}}"].partition("=")[::2] for i in range(count))
for line in sys.stdin.read().splitlines():
    _, _, ref = line.split()
    if "merge_request.create" in options and ref.startswith("refs/heads/"):
        body = {{"source_branch": ref.removeprefix("refs/heads/"), "target_branch": options["merge_request.target"],
                 "title": options["merge_request.title"], "description": options["merge_request.description"],
                 "labels": options.get("merge_request.label", "")}}
        headers = {{"PRIVATE-TOKEN": "gitlab-itself", "Content-Type": "application/json"}}
        request = urllib.request.Request({url!r}, data=json.dumps(body).encode(), method="POST", headers=headers)
        urllib.request.urlopen(request, timeout=30).read()
"""
PROJECT_TOKEN = "glpat-template-update-project-1"


def on_gitlab(origin: Origin, server: GitLab, project_id: int) -> list[str]:
    """The origin as a project of the loopback GitLab: merge requests opened by its pushes'
    options; and the job's variables that reach it, its API and its pushes with the project
    access token (their https URL led to the origin by git's ``insteadOf``)."""
    hook = origin.path / "hooks" / "post-receive"
    url = f"{server.api}projects/{project_id}/merge_requests"
    hook.write_text(OPEN_MERGE_REQUEST_HOOK.format(python=sys.executable, url=url))
    hook.chmod(0o755)
    push_url = f"https://template-update:{PROJECT_TOKEN}@gitlab.example.com/acme/service.git"
    variables = {
        "CI_API_V4_URL": server.api.rstrip("/"),
        "CI_PROJECT_ID": str(project_id),
        "CI_SERVER_HOST": "gitlab.example.com",
        "CI_PROJECT_PATH": "acme/service",
        "TEMPLATE_UPDATE_TOKEN": PROJECT_TOKEN,
        "TEMPLATE_UPDATE_AUTO_MERGE": "true",
        "TEMPLATE_UPDATE_PIPELINE_WAIT": "60",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.file://{origin.path}.insteadOf",
        "GIT_CONFIG_VALUE_0": push_url,
    }
    return [f"{name}={value}" for name, value in variables.items()]


def on_the_loopback_gitlab(project_id: int, origin: Origin) -> dict:
    """The project on the loopback GitLab: ``origin`` its repository, a green pipeline required,
    a merge request's pipeline there a second after its push."""
    return gitlab_project(
        project_id,
        "acme/service",
        ssh_url_to_repo=f"file://{origin.path}",
        only_allow_merge_if_pipeline_succeeds=True,
        mr_pipeline={"after": 1.0, "runs": 60, "status": "success"},
    )


@pytest.mark.slow
def test_a_safe_update_merges_itself_once_its_pipeline_exists_and_a_persons_commit_withdraws_it(
    projects, tmp_path, default_jobs
):
    """Auto-merge on: the update touches template-owned files only (the team's pyproject.toml
    already has v2.0.0's line), its checks pass, the project requires a green pipeline: the job
    pushes, waits for the merge request's pipeline, and asks GitLab to merge when it succeeds.
    Then a person commits to the branch: the next run leaves it to them and says why."""

    def has_v2s_line(project: Path) -> None:
        edit(project / "pyproject.toml", "[dependency-groups]\n", "[dependency-groups]\n# retry flaky jobs\n")

    project, origin = projects.copied("auto-merge", tmp_path, has_v2s_line)
    with serving_gitlab(tmp_path / "gitlab", [on_the_loopback_gitlab(42, origin)]) as server:
        variables = on_gitlab(origin, server, 42)
        job = default_jobs.update(project, *variables)
        assert job.returncode == 0, job.stdout
        assert PROJECT_TOKEN not in job.stdout
        assert "auto-merge: not for" not in job.stdout
        assert "auto-merge: set: GitLab merges it when its pipeline succeeds" in job.stdout
        (push,) = origin.pushes()
        assert "**It merges itself when its pipeline succeeds**" in options(push)["merge_request.description"]
        (mr,) = [r for r in server.requests() if r["method"] == "POST" and r["path"].endswith("/merge_requests")]
        (merge,) = [r for r in server.requests() if r["method"] == "PUT" and r["path"].endswith("/merge")]
        assert merge["at"] - mr["at"] >= 1.0  # not before the pipeline existed
        assert merge["body"]["sha"] == origin.head("template-update/v2.0.0")
        assert merge["token"] == PROJECT_TOKEN

        Person(origin, tmp_path / "jane").commit_on("template-update/v2.0.0", "Pinned the retry count")
        again = default_jobs.update(project, *variables)
        reason = "a person's commits are on its branch: the person who made them merges it"
        assert f"auto-merge: not for template-update/v2.0.0: {reason}" in again.stdout
        listed = json.loads(
            subprocess.run(
                ["curl", "-sf", "-H", "PRIVATE-TOKEN: x", f"{server.api}projects/42/merge_requests/1"],
                capture_output=True, text=True, check=True,
            ).stdout
        )  # fmt: skip
        assert f"because:<br>- {reason}" in listed["description"]
        assert listed["merge_when_pipeline_succeeds"] is False  # GitLab dropped it on the push, and it stays so
        assert len(origin.pushes()) == 2  # the person's; the job pushed nothing


@pytest.mark.slow
def test_an_update_that_changes_a_team_file_does_not_merge_itself_and_says_so(projects, tmp_path, default_jobs):
    project, origin = projects.copied("auto-merge-team-file", tmp_path)
    with serving_gitlab(tmp_path / "gitlab", [on_the_loopback_gitlab(43, origin)]) as server:
        job = default_jobs.update(project, *on_gitlab(origin, server, 43))
        reason = "it changes files the team owns (pyproject.toml): a person reviews those"
        assert f"auto-merge: not for template-update/v2.0.0: {reason}" in job.stdout
        (push,) = origin.pushes()
        assert f"because:<br>- {reason}" in options(push)["merge_request.description"]
        assert not [r for r in server.requests() if r["path"].endswith("/merge")]
