"""`copier update` across git-tagged template versions keeps the team's work, and the
drift check says when a project is behind or its template-owned files were edited.

v1 is the template as it is; v2 adds what a platform team ships: a new uv (with a
migration that moves projects still on the old default), a changed cache key, a new
job and a new dev dependency.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import images
import pytest

from tests.kit import (
    BASELINE,
    DEFAULTS,
    RELEASES,
    add_to_uv_jobs,
    answers_of,
    check_green,
    check_schema,
    commit_all,
    copier_cli,
    edit,
    git,
    job_names,
    keys_anywhere,
    listed_jobs,
    pipeline,
    pipeline_files,
    read_toml,
    read_yaml,
    release_template,
    run,
    run_pipeline,
    runner_environment,
    snapshot_template,
    tag_release,
)

CONFLICT_MARKER = re.compile(r"^(<<<<<<<|=======|>>>>>>>)( |$)", re.MULTILINE)

# v2 moves the recommended uv from the default to a newer patch release of it (a real
# release: the updated project builds with uv_build from PyPI).
OLD_UV = DEFAULTS["uv_version"]
NEW_UV = "0.13.9"

TEAM_JOB = """
smoke:
  stage: test
  image: $UV_CI_IMAGE
  script:
    - uv run --locked payment-service Ada
"""

TEAM_MODULE = '''"""Money helpers the team wrote."""


def cents(amount: str) -> int:
    """Return ``amount`` (like ``"12.34"``) in cents."""
    units, _, fraction = amount.partition(".")
    return int(units) * 100 + int(fraction.ljust(2, "0")[:2] or 0)
'''

TEAM_TEST = """from payment_service.money import cents


def test_cents() -> None:
    assert cents("12.3") == 1230
"""


def release_v2(repo: Path) -> None:
    """Make v2.0.0 of the template in ``repo``, as a platform team would."""
    copier_yml = repo / "copier.yml"
    edit(copier_yml, f'default: "{OLD_UV}"', f'default: "{NEW_UV}"')
    edit(
        copier_yml,
        "_migrations:\n",
        "_migrations:\n"
        "  - version: v2.0.0\n"
        "    when: \"{{ _stage == 'before' }}\"\n"
        '    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/follow_new_default.py",\n'
        f'              uv_version, "{OLD_UV}", "{NEW_UV}"]\n',
    )
    uv_ci = repo / "template" / ".gitlab" / "ci" / "uv.gitlab-ci.yml.jinja"
    edit(uv_ci, "    policy: $UV_CACHE_POLICY\n", "    policy: $UV_CACHE_POLICY\n    when: always\n")
    uv_ci.write_text(
        uv_ci.read_text()
        + "\npackage:\n  extends: .uv\n  stage: build\n  script:\n    - uv build --no-sources\n"
        + "  artifacts:\n    paths:\n      - dist/\n"
    )
    edit(
        repo / "extensions" / "tools.py",
        'TEST = ["pytest>=9,<10",',
        'TEST = ["pytest>=9,<10", "pytest-timeout>=2.3,<3",',
    )
    tag_release(repo, "v2.0.0", f"uv {NEW_UV}, caches saved when a job fails too, package job, pytest-timeout")


def make_team_changes(project: Path) -> None:
    with (project / ".gitlab-ci.yml").open("a") as team_ci:
        team_ci.write(TEAM_JOB)
    run(["uv", "add", "--quiet", "attrs>=23"], project)
    (project / "src" / "payment_service" / "money.py").write_text(TEAM_MODULE)
    (project / "tests" / "test_money.py").write_text(TEAM_TEST)
    with (project / "README.md").open("a") as readme:
        readme.write("\n## Team notes\n\nOn-call: #payments.\n")
    commit_all(project, "team work")


def drift(project: Path) -> subprocess.CompletedProcess[str]:
    script = project / ".gitlab" / "ci" / "template_sync.py"
    return subprocess.run([sys.executable, script, "drift"], cwd=project, capture_output=True, text=True, check=False)


def merged_cleanly(project: Path) -> bool:
    """No file holds the markers of a conflict `copier update --conflict inline` leaves, and no
    rejected hunk is left over: every change of the team's merged with the template's."""
    files = git(project, "ls-files", "--cached", "--others", "--exclude-standard").split()
    texts = {name: (project / name).read_text(errors="replace") for name in files if (project / name).is_file()}
    return not [name for name, text in texts.items() if "<<<<<<< before updating" in text or name.endswith(".rej")]


def all_text(project: Path) -> dict[str, str]:
    files = git(project, "ls-files", "--cached", "--others", "--exclude-standard").split()
    return {name: (project / name).read_text(errors="replace") for name in files}


@pytest.fixture
def tagged_template(tmp_path) -> Path:
    repo = snapshot_template(tmp_path / "template")
    tag_release(repo, "v1.0.0")
    return repo


def copy_v1(repo: Path, tmp_path: Path) -> Path:
    project = tmp_path / "payment-service"
    copier_cli("copy", "--vcs-ref", "v1.0.0", repo, project, cwd=tmp_path)
    return commit_all(project, "copied from template v1.0.0")


def test_update_to_v2_keeps_the_team_work_and_the_drift_check_follows(tagged_template, tmp_path):
    repo = tagged_template
    project = copy_v1(repo, tmp_path)
    make_team_changes(project)
    edit(project / "renovate.json", '"labels": ["renovate"]', '"labels": ["renovate", "payments"]')
    commit_all(project, "our Renovate label")

    release_v2(repo)
    behind = drift(project)
    assert behind.returncode == 2, behind.stdout + behind.stderr
    assert "behind: template v1.0.0 is in use, v2.0.0 is out." in behind.stdout
    assert "modified:" not in behind.stdout
    assert "newest release v2.0.0: running its sync/project_sync.py" in behind.stdout

    copier_cli("update", "--vcs-ref", "v2.0.0", "--conflict", "rej", cwd=project, data={})

    # v2 arrived.
    answers = answers_of(project)
    assert answers["_commit"] == "v2.0.0"
    assert answers["uv_version"] == NEW_UV  # moved by the migration
    ci = read_yaml(project / ".gitlab" / "ci" / "uv.gitlab-ci.yml")
    assert ci[".uv"]["cache"]["when"] == "always"
    assert ci["package"]["script"] == ["uv build --no-sources"]
    template_ci = read_yaml(project / ".gitlab" / "ci" / "template.gitlab-ci.yml")
    expected_image = images.image_refs(answers["python_version"], NEW_UV, answers["os_flavour"])["ci"]
    assert template_ci["variables"]["UV_CI_IMAGE"] == expected_image
    pyproject = read_toml(project / "pyproject.toml")
    assert "pytest-timeout>=2.3,<3" in pyproject["dependency-groups"]["test"]
    assert pyproject["tool"]["uv"]["required-version"] == f">={NEW_UV}"

    # Everything the team did is still there.
    assert "smoke:" in (project / ".gitlab-ci.yml").read_text()
    assert (project / "src" / "payment_service" / "money.py").read_text() == TEAM_MODULE
    assert (project / "tests" / "test_money.py").read_text() == TEAM_TEST
    assert "On-call: #payments." in (project / "README.md").read_text()
    assert any(dep.startswith("attrs>=23") for dep in pyproject["project"]["dependencies"])
    # renovate.json is the template's, merged: v2's new tool is left to the template, the label stays.
    renovate = json.loads((project / "renovate.json").read_text())
    assert renovate["labels"] == ["renovate", "payments"]
    assert any("pytest-timeout" in rule.get("matchPackageNames", []) for rule in renovate["packageRules"])

    # No conflict left behind, and a lock that matches the merged pyproject.toml.
    texts = all_text(project)
    assert not [name for name in texts if name.endswith(".rej")]
    # A conflict marker is a line of its own (template_sync.py merely names one in a regex).
    assert not [name for name, text in texts.items() if CONFLICT_MARKER.search(text)]
    locked = {package["name"] for package in read_toml(project / "uv.lock")["package"]}
    assert {"attrs", "pytest-timeout", "payment-service"} <= locked

    # The project is still green, and its pipeline still valid.
    check_green(project)
    check_schema(project)

    commit_all(project, "update to template v2.0.0")
    current = drift(project)
    assert current.returncode == 0, current.stdout + current.stderr
    assert "up to date: template v2.0.0, template-owned files unchanged" in current.stdout

    # A second update with nothing new changes nothing.
    copier_cli("update", "--vcs-ref", "v2.0.0", "--conflict", "rej", cwd=project, data={})
    assert git(project, "status", "--porcelain") == ""

    # A hand edit to a template-owned file is drift.
    add_to_uv_jobs(project / ".gitlab" / "ci" / "uv.gitlab-ci.yml", "retry: 1")
    modified = drift(project)
    assert modified.returncode == 2, modified.stdout + modified.stderr
    assert modified.stdout.splitlines()[1:] == [
        "modified: .gitlab/ci/uv.gitlab-ci.yml differs from a fresh render of template v2.0.0"
    ]


def test_a_local_edit_to_a_template_owned_file_is_merged_and_reported_not_replaced(tagged_template, tmp_path):
    """What the ownership docs promise: Copier merges template-owned files like any other."""
    project = copy_v1(tagged_template, tmp_path)
    uv_ci = project / ".gitlab" / "ci" / "uv.gitlab-ci.yml"
    add_to_uv_jobs(uv_ci, "retry: 2")
    commit_all(project, "retry template jobs")

    release_v2(tagged_template)
    copier_cli("update", "--vcs-ref", "v2.0.0", "--conflict", "rej", cwd=project, data={})
    ci = read_yaml(uv_ci)
    assert ci[".uv"]["retry"] == 2  # the team's edit survived the update
    assert ci[".uv"]["cache"]["when"] == "always"  # and v2 arrived
    assert not list(project.rglob("*.rej"))
    reported = drift(project)
    assert reported.returncode == 2, reported.stdout + reported.stderr
    assert reported.stdout.splitlines()[1:] == [
        "modified: .gitlab/ci/uv.gitlab-ci.yml differs from a fresh render of template v2.0.0"
    ]


# ---------------------------------------------------------------- from the last release

# The work tree, tagged as the release it becomes: CHANGELOG.md's Unreleased section, after its
# v0.3.0 (whose migrations an update from RELEASES crosses too).
WORK_TREE = "v0.4.0"
# What the v0.2.0 migration prints when it moves a project (copier also echoes the command).
MOVED = "note: ci_share_cache_with_merge_requests: true -> false (the template's new default)"
SHARING_NOTE = "  Merge-request pipelines no longer restore the caches of protected branches"


@pytest.fixture
def released_template(tmp_path) -> Path:
    """The template repository with its releases (RELEASES) and the work tree as v0.4.0."""
    repo = tmp_path / "template"
    for release in RELEASES:
        snapshot_template(repo, release=release)
        git(repo, "tag", release)
    snapshot_template(repo)
    tag_release(repo, WORK_TREE)
    return repo


def copy_release(repo: Path, tmp_path: Path, name: str, release: str = "v0.1.0", **answers: object) -> Path:
    project = tmp_path / name
    copier_cli("copy", "--vcs-ref", release, repo, project, cwd=tmp_path, data={**BASELINE, **answers})
    return commit_all(project, f"copied from template {release}")


def test_update_from_the_last_release_brings_per_job_caches_and_the_safe_default(released_template, tmp_path):
    kept_default = copy_release(released_template, tmp_path, "kept-default")
    assert answers_of(kept_default)["ci_share_cache_with_merge_requests"] is True  # v0.1.0's default
    old_ci = read_yaml(kept_default / ".gitlab" / "ci" / "uv.gitlab-ci.yml")
    assert "uv-cache" in old_ci
    make_team_changes(kept_default)

    # As the template-update job runs it: a hunk whose context the template moved (the metadata it
    # adds after `readme`) is merged three ways (git merge-file), not rejected.
    output = copier_cli("update", "--vcs-ref", WORK_TREE, "--conflict", "inline", cwd=kept_default, data={})
    assert f"{MOVED}\n{SHARING_NOTE}" in output  # the team is told why, and how to opt in again
    assert answers_of(kept_default)["ci_share_cache_with_merge_requests"] is False
    ci = pipeline(kept_default)
    assert "uv-cache" not in ci  # the new layout: each job its own cache
    assert {ci[job]["variables"]["UV_CACHE_NAME"] for job in ("lint", "test")} == {"lint", "test"}
    for path in pipeline_files(kept_default):
        assert "unprotect" not in keys_anywhere(read_yaml(path)), path
    # Old keys simply miss once: no new key equals the old one.
    assert ci[".uv"]["cache"]["key"] != old_ci[".uv"]["cache"]["key"]["prefix"]

    # Nothing the team did is lost, and the project is green.
    assert "smoke:" in (kept_default / ".gitlab-ci.yml").read_text()
    assert (kept_default / "src" / "payment_service" / "money.py").read_text() == TEAM_MODULE
    assert merged_cleanly(kept_default)
    assert "attrs>=23" in read_toml(kept_default / "pyproject.toml")["project"]["dependencies"]
    run(["uv", "lock", "--check"], kept_default)
    run(["uv", "run", "--locked", "pytest"], kept_default)
    check_schema(kept_default)


def test_update_from_v0_2_0_brings_the_sync_jobs_that_follow_the_newest_release(released_template, tmp_path):
    project = copy_release(released_template, tmp_path, "from-v0.2.0", release="v0.2.0")
    make_team_changes(project)
    old_sync = (project / ".gitlab" / "ci" / "template_sync.py").read_text()

    output = copier_cli("update", "--vcs-ref", WORK_TREE, "--conflict", "inline", cwd=project, data={})
    # Its own code was never type-checked: it keeps none, and is told how to opt in.
    assert "note: type_checker: none (kept as before this question existed)" in output
    assert answers_of(project)["type_checker"] == "none"
    # Its docstrings were never built strictly into a site: none either, and how to add it.
    assert "note: docs: false (kept as before this question existed)" in output
    assert "copier update --trust --defaults --data docs=true" in output
    assert answers_of(project)["docs"] is False
    assert not (project / "docs").exists()
    assert (project / ".devcontainer" / "devcontainer.json").is_file()  # the dev container arrives
    sync_script = (project / ".gitlab" / "ci" / "template_sync.py").read_text()
    assert sync_script != old_sync
    assert "sync/project_sync.py" in sync_script  # it runs the newest release's logic now
    assert (project / ".gitlab" / "ci" / "ruff.toml").is_file()
    assert (project / ".pre-commit-config.yaml").is_file()  # the hooks arrive
    assert {"audit", "test"} <= set(pipeline(project))
    assert merged_cleanly(project)
    assert "attrs>=23" in read_toml(project / "pyproject.toml")["project"]["dependencies"]
    check_green(project)
    check_schema(project)
    commit_all(project, f"update to {WORK_TREE}")
    current = drift(project)
    assert current.returncode == 0, current.stdout + current.stderr
    assert f"up to date: template {WORK_TREE}, template-owned files unchanged" in current.stdout


def test_a_teams_own_hooks_and_renovate_configuration_are_kept_by_the_update_that_brings_the_templates(
    released_template, tmp_path
):
    project = copy_release(released_template, tmp_path, "own-hooks", release="v0.2.0")
    own = "repos:\n  - repo: https://github.com/psf/black\n    rev: 25.1.0\n    hooks:\n      - id: black\n"
    (project / ".pre-commit-config.yaml").write_text(own)
    own_renovate = '{"extends": ["config:best-practices"]}\n'
    (project / ".gitlab" / "renovate.json").write_text(own_renovate)
    commit_all(project, "our own hooks and Renovate configuration")
    output = copier_cli("update", "--vcs-ref", WORK_TREE, "--conflict", "rej", cwd=project, data={})
    assert (project / ".pre-commit-config.yaml").read_text() == own
    assert "note: kept your own .pre-commit-config.yaml: the template's hooks run ruff format" in output
    assert (project / ".gitlab" / "renovate.json").read_text() == own_renovate
    assert "note: kept your own .gitlab/renovate.json: the template's renovate.json groups" in output
    assert not (project / "renovate.json").exists()  # Renovate would read it instead of theirs
    assert answers_of(project)["renovate"] is False
    commit_all(project, f"update to {WORK_TREE}")

    # Later updates keep to that answer: still no second configuration, nothing to resolve.
    edit(released_template / "CHANGELOG.md", "# Changelog\n", "# Changelog\n\n## v9.0.0\n\n- Nothing for projects.\n")
    git(released_template, "commit", "-q", "-am", "v9.0.0")
    git(released_template, "tag", "v9.0.0")
    copier_cli("update", "--vcs-ref", "v9.0.0", "--conflict", "rej", cwd=project, data={})
    assert not (project / "renovate.json").exists()
    assert git(project, "status", "--porcelain").split() == ["M", ".copier-answers.yml"]


def test_a_project_that_opts_in_to_sharing_again_is_never_moved_back(released_template, tmp_path):
    project = copy_release(released_template, tmp_path, "opts-in")
    copier_cli("update", "--vcs-ref", WORK_TREE, cwd=project, data={})
    commit_all(project, f"update to {WORK_TREE}")
    # The team decides, knowing the risk, to share caches with merge requests again.
    copier_cli("update", "--vcs-ref", WORK_TREE, cwd=project, data={"ci_share_cache_with_merge_requests": True})
    commit_all(project, "share caches with merge requests")
    assert pipeline(project)[".uv"]["cache"]["unprotect"] is True

    edit(released_template / "CHANGELOG.md", "# Changelog\n", "# Changelog\n\n## v9.0.0\n\n- Nothing for projects.\n")
    git(released_template, "commit", "-q", "-am", "v9.0.0")
    git(released_template, "tag", "v9.0.0")
    output = copier_cli("update", "--vcs-ref", "v9.0.0", cwd=project, data={})
    assert MOVED not in output  # told nothing new
    assert answers_of(project)["ci_share_cache_with_merge_requests"] is True


def test_a_project_that_chose_isolated_caches_is_told_nothing(released_template, tmp_path):
    project = copy_release(released_template, tmp_path, "isolated", ci_share_cache_with_merge_requests=False)
    output = copier_cli("update", "--vcs-ref", WORK_TREE, cwd=project, data={})
    assert MOVED not in output
    assert answers_of(project)["ci_share_cache_with_merge_requests"] is False


# ---------------------------------------------------------------- what the team made stays


def test_a_team_edit_to_a_file_a_release_renames_is_kept_and_drift_names_it_left_over(tagged_template, tmp_path):
    """v2 renames audit.gitlab-ci.yml, which the team edited (AUDIT_BLOCKS: all): the update keeps
    the edited file, which nothing includes any more, and drift says so instead of "up to date"
    (the team's setting went back to runtime in the renamed file)."""
    project = copy_v1(tagged_template, tmp_path)
    audit = project / ".gitlab" / "ci" / "audit.gitlab-ci.yml"
    edit(audit, "AUDIT_BLOCKS: runtime", "AUDIT_BLOCKS: all")
    commit_all(project, "block on every finding")
    ci = tagged_template / "template" / ".gitlab" / "ci"
    git(tagged_template, "mv", ci / "audit.gitlab-ci.yml.jinja", ci / "security.gitlab-ci.yml.jinja")
    uv_ci = ci / "uv.gitlab-ci.yml.jinja"
    edit(uv_ci, "['audit']", "['security']")  # the file it includes
    tag_release(tagged_template, "v2.0.0", "the audit's file is security.gitlab-ci.yml")

    copier_cli("update", "--vcs-ref", "v2.0.0", "--conflict", "rej", cwd=project, data={})
    assert "AUDIT_BLOCKS: all" in audit.read_text()  # the team's edit is kept where they made it
    assert "AUDIT_BLOCKS: runtime" in (audit.parent / "security.gitlab-ci.yml").read_text()
    commit_all(project, "update to template v2.0.0")
    reported = drift(project)
    assert reported.returncode == 2, reported.stdout + reported.stderr
    assert (
        "left over: .gitlab/ci/audit.gitlab-ci.yml is template-owned, but template v2.0.0 no longer has it"
        in reported.stdout
    )
    assert "up to date" not in reported.stdout


def test_a_renamed_package_folder_is_never_recreated(tagged_template, tmp_path):
    project = copy_v1(tagged_template, tmp_path)
    git(project, "mv", "src/payment_service", "src/payments")
    for path in [
        project / "pyproject.toml",
        *(project / "tests").glob("*.py"),
        *(project / "src").rglob("*.py"),
        *(project / "docs").glob("*.md"),
    ]:
        path.write_text(path.read_text().replace("payment_service", "payments"))
    check_green(project)
    commit_all(project, "rename the package to payments")

    for version in ("v2.0.0", "v3.0.0"):
        release_template(tagged_template, version, f"retry flaky jobs ({version})")
        copier_cli("update", "--vcs-ref", version, "--conflict", "rej", cwd=project, data={})
        commit_all(project, f"update to {version}")

    assert sorted(path.name for path in (project / "src").iterdir()) == ["payments"]
    assert not list(project.rglob("*.rej"))
    check_green(project)


def test_a_deleted_template_owned_pipeline_file_is_restored_and_never_stops_the_pipeline(tagged_template, tmp_path):
    project = copy_v1(tagged_template, tmp_path)
    git(project, "rm", "-q", ".gitlab/ci/release.gitlab-ci.yml")
    commit_all(project, "no releases, we thought")
    # The pipeline still loads (GitLab would otherwise refuse it: "Local include file cannot be found").
    assert "release" not in job_names(listed_jobs(project, "--variable", "CI_COMMIT_TAG=v0.1.0"))

    release_v2(tagged_template)
    output = copier_cli("update", "--vcs-ref", "v2.0.0", "--conflict", "rej", cwd=project, data={})
    assert "note: restored .gitlab/ci/release.gitlab-ci.yml: it was deleted, but it is template-owned" in output
    assert "answer its question instead (for example publish_package=false)" in output
    commit_all(project, "update to v2.0.0")
    assert "release" in listed_jobs(project, "--variable", "CI_COMMIT_TAG=v0.1.0")
    check_schema(project)


@pytest.mark.parametrize("edited", [True, False], ids=["edited-dockerfile-kept", "untouched-dockerfile-removed"])
def test_turning_the_dockerfile_off_keeps_it_only_if_the_team_edited_it(edited, tagged_template, tmp_path):
    project = copy_v1(tagged_template, tmp_path)
    if edited:
        edit(project / "Dockerfile", "WORKDIR /tmp\n", "WORKDIR /srv\n")
        commit_all(project, "our own runtime folder")

    output = copier_cli("update", "--vcs-ref", "v1.0.0", cwd=project, data={"dockerfile": False})
    assert "docker-image" not in pipeline(project)
    assert not (project / ".gitlab" / "ci" / "docker.gitlab-ci.yml").exists()
    assert not (project / ".dockerignore").exists()
    if edited:
        assert "WORKDIR /srv" in (project / "Dockerfile").read_text()
        assert "note: kept Dockerfile: the template no longer ships it with these answers, but your team" in output
    else:
        assert not (project / "Dockerfile").exists()
        assert "note: removed Dockerfile: the template no longer ships it with these answers." in output
    check_schema(project)


# ---------------------------------------------------------------- adopting, and where the template lives


LEGACY_PIPELINE = "stages: [test]\n\nlegacy:\n  stage: test\n  script: [echo legacy]\n"


def test_adopting_the_template_in_a_repository_with_its_own_pipeline_says_what_to_include(tagged_template, tmp_path):
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / ".gitlab-ci.yml").write_text(LEGACY_PIPELINE)
    (existing / "README.md").write_text("# Existing service\n")
    commit_all(existing, "an existing service")

    output = copier_cli("copy", "--overwrite", "--vcs-ref", "v1.0.0", tagged_template, existing, cwd=tmp_path)
    assert "0. Your .gitlab-ci.yml was kept, and it does not include the template's pipeline" in output
    assert "     include:\n       - local: .gitlab/ci/template.gitlab-ci.yml\n" in output
    assert (existing / ".gitlab-ci.yml").read_text() == LEGACY_PIPELINE  # the team's files are theirs
    assert (existing / "README.md").read_text() == "# Existing service\n"
    commit_all(existing, "adopt copier-uv-gitlab")

    # The drift job says so until the lines are there (its file run as the pipeline, as the
    # team's .gitlab-ci.yml does not load it yet).
    shutil.rmtree(existing / ".gitlab-ci-local", ignore_errors=True)
    report = run_pipeline(existing, "--file", ".gitlab/ci/template.gitlab-ci.yml", jobs=["template-drift"]).stdout
    assert "not included: .gitlab-ci.yml does not include .gitlab/ci/template.gitlab-ci.yml" in report
    with (existing / ".gitlab-ci.yml").open("a") as pipeline_file:
        pipeline_file.write("\ninclude:\n  - local: .gitlab/ci/template.gitlab-ci.yml\n")
    commit_all(existing, "include the template's pipeline")
    assert "not included" not in drift(existing).stdout
    assert {"lint", "test", "legacy"} <= set(pipeline(existing))


def test_a_project_copied_from_a_relative_template_path_updates_later(tagged_template, tmp_path):
    output = copier_cli("copy", "--vcs-ref", "v1.0.0", "template", "project", cwd=tmp_path)
    assert f"from the project's folder: {tagged_template}" in output
    project = commit_all(tmp_path / "project", "copied from ./template")
    assert answers_of(project)["_src_path"] == str(tagged_template)

    release_template(tagged_template, "v2.0.0", "retry flaky jobs")
    copier_cli("update", "--conflict", "rej", cwd=project, data={})
    assert answers_of(project)["_commit"] == "v2.0.0"


# ---------------------------------------------------------------- releases the update job believes

NEW_QUESTION = """
cost_centre:
  type: str
  help: The cost centre the project's spending is booked to.
"""


def sync_job(project: Path, action: str, tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """The project's template_sync.py as the scheduled job runs it, on the default branch."""
    env = runner_environment(tmp_path / "runner", **variables)
    script = project / ".gitlab" / "ci" / "template_sync.py"
    command = [sys.executable, script, action]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)


def with_origin(project: Path, tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(origin, "config", "receive.advertisePushOptions", "true")  # as GitLab does
    git(project, "remote", "add", "origin", str(origin))
    git(project, "push", "-q", "origin", "main")
    return origin


def test_a_question_a_release_adds_without_a_default_is_named_then_answered_where_the_job_says(
    tagged_template, tmp_path
):
    """v1.1.0 asks a new question with no default: Copier's update would stop on every run with
    a stack trace. The job names the question and both places to answer it; answered in its
    CI/CD variable, the update uses it; written into the answers file by hand, drift and the
    update read it (the old version, which never asked it, is rendered without it)."""
    repo = tagged_template
    project = copy_v1(repo, tmp_path)
    origin = with_origin(project, tmp_path)
    with (repo / "copier.yml").open("a") as copier_yml:
        copier_yml.write(NEW_QUESTION)
    tag_release(repo, "v1.1.0", "asks the cost centre")

    unanswered = sync_job(project, "update", tmp_path)
    assert unanswered.returncode == 1, unanswered.stdout + unanswered.stderr
    assert "template v1.1.0 asks cost_centre, which has no default" in unanswered.stdout
    assert ".copier-answers.yml on main (a line `cost_centre: ...`)" in unanswered.stdout
    assert "TEMPLATE_ANSWER_COST_CENTRE" in unanswered.stdout
    assert "Traceback" not in unanswered.stdout + unanswered.stderr

    answered = sync_job(project, "update", tmp_path, TEMPLATE_ANSWER_COST_CENTRE="cc-42")
    assert answered.returncode == 0, answered.stdout + answered.stderr
    proposed = git(origin, "show", "template-update/v1.1.0:.copier-answers.yml")
    assert "cost_centre: cc-42" in proposed
    assert "_commit: v1.1.0" in proposed

    git(project, "switch", "-q", "main")  # the job's checkout is left on its branch
    with (project / ".copier-answers.yml").open("a") as answers_file:
        answers_file.write("cost_centre: cc-7\n")
    commit_all(project, "our cost centre")
    git(project, "push", "-q", "origin", "main")
    drifted = sync_job(project, "drift", tmp_path)
    assert "is not a question" not in drifted.stdout, drifted.stdout
    assert "behind: template v1.0.0 is in use, v1.1.0 is out" in drifted.stdout


def test_the_update_runs_on_the_default_branch_only(tagged_template, tmp_path):
    """Its merge request would carry a feature branch's unreviewed commits to main."""
    project = copy_v1(tagged_template, tmp_path)
    git(project, "switch", "-q", "-c", "feature")
    refused = sync_job(project, "update", tmp_path, CI_COMMIT_BRANCH="feature", CI_COMMIT_REF_NAME="feature")
    assert refused.returncode == 1
    assert "the update runs on the default branch (main) only, and this is feature" in refused.stdout


def test_a_template_tag_its_release_job_would_refuse_is_never_proposed(tagged_template, tmp_path):
    """v1.1.0 is tagged without its CHANGELOG.md section: the template's release job refuses it,
    and no project may get it at its next scheduled update either. A release with its notes is."""
    project = copy_v1(tagged_template, tmp_path)
    origin = with_origin(project, tmp_path)
    add_to_uv_jobs(tagged_template / "template" / ".gitlab" / "ci" / "uv.gitlab-ci.yml.jinja", "retry: 1")
    git(tagged_template, "commit", "-q", "-am", "retry the jobs")
    git(tagged_template, "tag", "v1.1.0")  # the notes forgotten
    said = sync_job(project, "update", tmp_path)
    assert said.returncode == 0, said.stdout + said.stderr
    assert "skipped v1.1.0: CHANGELOG.md has no section '## v1.1.0'; the template does not publish it" in said.stdout
    assert "newest release v1.0.0" in said.stdout
    assert git(origin, "branch", "--list", "template-update/*") == ""  # nothing proposed
    tag_release(tagged_template, "v1.2.0", "retry the jobs once")
    behind = sync_job(project, "drift", tmp_path)
    assert "behind: template v1.0.0 is in use, v1.2.0 is out." in behind.stdout, behind.stdout
    assert "skipped" not in behind.stdout


def test_a_mirror_without_the_projects_version_says_so(tagged_template, tmp_path):
    """TEMPLATE_REPOSITORY_URL pointing to a copy of the template that is behind the project."""
    project = copy_v1(tagged_template, tmp_path)
    mirror = tmp_path / "mirror"
    git(tmp_path, "clone", "-q", str(tagged_template), str(mirror))
    git(mirror, "tag", "-d", "v1.0.0")
    tag_release(mirror, "v0.9.0")
    for action in ("drift", "update"):
        said = sync_job(project, action, tmp_path, TEMPLATE_REPOSITORY_URL=str(mirror))
        assert said.returncode == 1, said.stdout + said.stderr
        assert "(TEMPLATE_REPOSITORY_URL) has no v1.0.0, the version this project records" in said.stdout
        assert "Traceback" not in said.stdout + said.stderr
