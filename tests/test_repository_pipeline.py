"""This repository's own pipeline (.gitlab-ci.yml at its root): GitLab's CI schema takes it, it
runs the fast tier before the rest on merge requests and the default branch, and a protected
version tag releases with its CHANGELOG.md section. The release script's checks are unit
tests; the fast and release jobs run for real in gitlab-ci-local, in a snapshot of this
repository, the release against the loopback GitLab of tests/gitlab_server.py."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit import (
    OFFLINE,
    ROOT,
    check_schema,
    gitlab_ci_local,
    job_names,
    pipeline,
    run,
    run_pipeline,
    snapshot_template,
)
from tests.servers import GitLab, serving_gitlab
from tests.test_fleet import FLEET, TEMPLATE_URL

_spec = importlib.util.spec_from_file_location("release", ROOT / ".ci" / "release.py")
release = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(release)

CHANGELOG = """# Changelog

## Unreleased

- Something not released yet.

## v1.2.0

Renovate proposes in-range updates.

- A timezone answer.

## v1.1.0

## v1.0.0 (2026-11-23)

- The first release.
"""


# ---------------------------------------------------------------- the release's checks (fast)


@pytest.mark.fast
def test_a_tags_notes_are_its_changelog_section_without_the_heading():
    assert release.notes(CHANGELOG, "v1.2.0") == "Renovate proposes in-range updates.\n\n- A timezone answer."
    assert release.notes(CHANGELOG, "v1.0.0") == "- The first release."  # a dated heading


@pytest.mark.fast
def test_an_unreachable_api_is_one_line_and_no_release():
    job = {"CI_API_V4_URL": "http://127.0.0.1:9/api/v4", "CI_PROJECT_ID": "1", "CI_JOB_TOKEN": "t"}
    with pytest.raises(release.ReleaseError) as refused:
        release.release_notes.create_release(job, "v1.0.0", "notes", {})
    assert str(refused.value).startswith("GitLab's API at http://127.0.0.1:9/api/v4 could not be reached (")
    assert str(refused.value).endswith("): no release of v1.0.0 made.")
    assert "\n" not in str(refused.value)


@pytest.mark.fast
@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("v1.3.0", "CHANGELOG.md has no section '## v1.3.0'"),
        ("v1.1.0", "CHANGELOG.md's section '## v1.1.0' is empty"),
        ("1.2.0", "'1.2.0' is not a release tag"),
        ("v1.2.0-rc1", "is not a release tag"),
        ("Unreleased", "is not a release tag"),
        ("", "'' is not a release tag"),
    ],
)
def test_a_tag_without_a_section_of_its_own_is_refused_saying_what_to_do(tag, message):
    with pytest.raises(release.ReleaseError) as refused:
        release.notes(CHANGELOG, tag)
    assert message in str(refused.value)


@pytest.mark.fast
def test_every_release_of_this_repositorys_changelog_has_notes():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    tags = [line.split()[1] for line in text.splitlines() if line.startswith("## v")]
    assert tags  # the changelog names releases
    assert all(release.notes(text, tag) for tag in tags)


# ---------------------------------------------------------------- the pipeline


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    """This repository as committed work tree, its pipeline at the root."""
    return snapshot_template(tmp_path_factory.mktemp("repository") / "copier-uv-gitlab")


def listed(repository: Path, *variables: str) -> set[str]:
    arguments = [arg for variable in variables for arg in ("--variable", variable)]
    return job_names(run([gitlab_ci_local(), "--list", *arguments], repository))


def test_the_pipeline_passes_gitlabs_schema_and_runs_on_a_default_projects_ci_image(repository, render):
    check_schema(repository)  # its .gitlab-ci.yml (it has no .gitlab/ci/)
    ci = pipeline(repository)
    assert ci["variables"]["UV_CI_IMAGE"] == pipeline(render(env=OFFLINE))["variables"]["UV_CI_IMAGE"]
    assert {job: ci[job].get("extends") for job in ("fast", "suite", "docs", "pages")} == {
        "fast": ".tests",
        "suite": ".tests",
        "docs": ".site",
        "pages": ".site",
    }
    assert ci[".tests"]["extends"] == ".uv"
    assert ci[".site"]["extends"] == ".uv"


def test_the_fast_tier_comes_first_and_a_protected_version_tag_also_releases(repository):
    assert listed(repository, "CI_COMMIT_REF_PROTECTED=true") == {"fast", "suite", "pages"}  # main: the site
    # GitLab sets no CI_COMMIT_BRANCH in a tag's pipeline (docs.gitlab.com/ci/variables/predefined_variables).
    tag = ("CI_COMMIT_TAG=v1.0.0", "CI_COMMIT_BRANCH=")
    assert listed(repository, *tag, "CI_COMMIT_REF_PROTECTED=true") == {"fast", "suite", "release"}
    assert listed(repository, *tag, "CI_COMMIT_REF_PROTECTED=false") == {"fast", "suite"}
    # A merge request's pipeline builds the site strictly (GitLab sets no CI_COMMIT_BRANCH there).
    request = ("CI_PIPELINE_SOURCE=merge_request_event", "CI_COMMIT_BRANCH=", "CI_OPEN_MERGE_REQUESTS=")
    assert listed(repository, *request) == {"fast", "suite", "docs"}
    assert listed(repository, "CI_COMMIT_TAG=nightly", "CI_COMMIT_BRANCH=", "CI_COMMIT_REF_PROTECTED=true") == {
        "fast",
        "suite",
    }
    # The fleet report's schedule runs the report alone, and only for a group.
    assert listed(repository, "CI_PIPELINE_SOURCE=schedule", "FLEET_GROUP=acme") == {"pages"}
    assert listed(repository, "CI_PIPELINE_SOURCE=schedule") == set()
    # With a release to roll out, the schedule also takes the rollout one step on.
    rolling = ("CI_PIPELINE_SOURCE=schedule", "FLEET_GROUP=acme", "FLEET_ROLLOUT=v2.0.0")
    assert listed(repository, *rolling) == {"pages", "fleet-rollout"}
    assert listed(repository, "CI_PIPELINE_SOURCE=schedule", "FLEET_ROLLOUT=v2.0.0") == set()
    ci = pipeline(repository)
    assert ci["suite"]["needs"] == ["fast"]
    assert ci["release"]["needs"] == ["fast", "suite"]


def test_the_fast_job_runs_the_fast_tier_in_a_checkout_of_this_repository(repository):
    job = run_pipeline(repository, jobs=["fast"])
    summary = re.search(r"=+ (.*) in [\d.]+s(?: \([\d:]+\))? =+", job.stdout)  # pytest's last line, past a minute too
    assert summary, job.stdout[-2000:]
    assert re.fullmatch(r"\d+ passed(, \d+ deselected)?", summary.group(1)), job.stdout[-4000:]  # nothing else


@pytest.fixture
def gitlab(repository, tmp_path) -> Iterator[GitLab]:
    project = {
        "id": 42,
        "path_with_namespace": "platform/copier-uv-gitlab",
        "default_branch": "main",
        "ssh_url_to_repo": repository.as_uri(),
        "http_url_to_repo": "https://gitlab.example.com/platform/copier-uv-gitlab.git",
        "web_url": "https://gitlab.example.com/platform/copier-uv-gitlab",
    }
    with serving_gitlab(tmp_path / "gitlab", [project]) as server:
        yield server


def release_job(repository: Path, gitlab: GitLab, tag: str) -> tuple[bool, str]:
    """The release job alone, as a pipeline of protected ``tag`` runs it."""
    shutil.rmtree(repository / ".gitlab-ci-local" / "builds", ignore_errors=True)
    variables = [
        f"CI_COMMIT_TAG={tag}",
        "CI_COMMIT_REF_PROTECTED=true",
        f"CI_API_V4_URL={gitlab.api.rstrip('/')}",
        "CI_PROJECT_ID=42",
        "CI_JOB_TOKEN=glcbt-loopback-job-token",
    ]
    arguments = [arg for variable in variables for arg in ("--variable", variable)]
    job = run_pipeline(repository, *arguments, jobs=["release"], check=False)
    return job.returncode == 0, job.stdout


def test_a_protected_version_tag_becomes_a_release_with_its_changelog_notes_once(repository, gitlab):
    text = (repository / "CHANGELOG.md").read_text(encoding="utf-8")
    tag = next(line.split()[1] for line in text.splitlines() if line.startswith("## v"))
    passed, log = release_job(repository, gitlab, tag)
    assert passed, log
    assert f"Released {tag}." in log
    (created,) = [r for r in gitlab.requests() if r["method"] == "POST" and r["path"].endswith("/releases")]
    assert created["body"] == {
        "tag_name": tag,
        "name": tag,
        "description": release.notes(text, tag),
        "assets": {"links": []},
    }

    passed, log = release_job(repository, gitlab, tag)  # a retried job
    assert passed, log
    assert f"The release {tag} exists already; left as it is." in log


def test_a_tag_the_changelog_does_not_name_fails_the_release_and_creates_nothing(repository, gitlab):
    passed, log = release_job(repository, gitlab, "v99.0.0")
    assert not passed
    assert "CHANGELOG.md has no section '## v99.0.0'" in log
    assert "Rename '## Unreleased' to '## v99.0.0'" in log
    assert not [r for r in gitlab.requests() if r["path"].endswith("/releases")]


def test_the_scheduled_fleet_report_is_a_page_of_the_site_with_its_data(repository, tmp_path):
    with serving_gitlab(tmp_path / "fleet", FLEET) as server:
        variables = [
            "CI_PIPELINE_SOURCE=schedule",
            "FLEET_GROUP=acme",
            f"CI_SERVER_URL={server.api.removesuffix('/api/v4/')}",
            "GITLAB_TOKEN=glpat-fleet-reader-000000",
            "CI_PROJECT_ID=platform/copier-uv-gitlab",
            f"CI_PROJECT_URL={TEMPLATE_URL.removesuffix('.git')}",
            "CI_PAGES_URL=https://platform.pages.example.com/copier-uv-gitlab",
        ]
        arguments = [arg for variable in variables for arg in ("--variable", variable)]
        assert listed(repository, *variables) == {"pages"}
        job = run_pipeline(repository, *arguments, jobs=["pages"])
    assert "docs/fleet-report.md: 10 projects" in job.stdout
    assert "glpat-fleet-reader-000000" not in job.stdout
    public = repository / ".gitlab-ci-local" / "artifacts" / "pages" / "public"
    page = (public / "fleet-report" / "index.html").read_text(encoding="utf-8")
    assert "Projects of acme made from the template" in page
    assert page.count("<tr class=") == 10
    assert 'href="../questions/"' in page  # the site's own navigation around it
    assert '<link rel="canonical" href="https://platform.pages.example.com/copier-uv-gitlab/fleet-report/">' in page
    assert len(json.loads((public / "fleet.json").read_text(encoding="utf-8"))["rows"]) == 10
    # The report's line in the history the next schedule draws the convergence from, in its cache.
    (history,) = (repository / ".gitlab-ci-local" / "cache").glob("*fleet-history-protected-*/.fleet-history/*.jsonl")
    assert len(history.read_text(encoding="utf-8").splitlines()) == 1
    assert "Median lag behind v2.0.0" in page
    assert page.count("<polyline") == 3  # a curve per release, one point each so far


def test_the_scheduled_rollout_keeps_its_state_between_runs_and_fails_when_it_stops(repository, tmp_path):
    """Two scheduled runs: the first starts the named canary, the ledger (its default branch's
    schedule played); the second finds its update merge request conflicted and stops the
    rollout there: the job fails and names it, and the state stays in the cache and the artifact."""
    with serving_gitlab(tmp_path / "fleet", FLEET) as server:
        variables = [
            "CI_PIPELINE_SOURCE=schedule",
            "FLEET_GROUP=acme",
            "FLEET_ROLLOUT=v2.0.0",
            "FLEET_ROLLOUT_OPTIONS=--canary acme/team-a/ledger",
            f"CI_SERVER_URL={server.api.removesuffix('/api/v4/')}",
            "GITLAB_TOKEN=glpat-fleet-rollout-000000",
            "CI_PROJECT_ID=platform/copier-uv-gitlab",
            f"CI_PROJECT_URL={TEMPLATE_URL.removesuffix('.git')}",
        ]
        arguments = [arg for variable in variables for arg in ("--variable", variable)]
        first = run_pipeline(repository, *arguments, jobs=["fleet-rollout"])
        assert "wave 1 of 2 started: 1 projects" in first.stdout
        plays = [r["path"] for r in server.requests() if r["path"].endswith("/play")]
        assert plays == ["/api/v4/projects/acme%2Fteam-a%2Fledger/pipeline_schedules/5/play"]
        second = run_pipeline(repository, *arguments, jobs=["fleet-rollout"], check=False)
    assert second.returncode != 0
    assert "Stopped before wave 2: wave 1: 1 of 1 projects failed" in second.stdout
    assert "- acme/team-a/ledger: conflicts (https://gitlab.example.com/mr/1)" in second.stdout
    assert "glpat-fleet-rollout-000000" not in first.stdout + second.stdout
    (kept,) = (repository / ".gitlab-ci-local" / "cache").glob("*fleet-rollout-protected-*/.fleet-rollout/state.json")
    artifact = repository / ".gitlab-ci-local" / "artifacts" / "fleet-rollout" / ".fleet-rollout" / "state.json"
    for state in (kept, artifact):
        assert json.loads(state.read_text(encoding="utf-8"))["stopped"].startswith("wave 1: 1 of 1 projects failed")
