"""The template's own Jinja extensions load in every way a user meets the template.

copier >= 9.12 cannot import dotted-module extensions that live inside a template
during `copy --vcs-ref` and `update` (copier PR #2557); the file-path loader of
copier-template-extensions can. Each case below derives the CI image through the
extension, so a missing extension fails the render.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import images

from tests.kit import DEFAULTS, add_to_uv_jobs, commit_all, copier_cli, git, read_yaml, snapshot_template

EXPECTED_CI_IMAGE = images.image_refs(DEFAULTS["python_version"], DEFAULTS["uv_version"], DEFAULTS["os_flavour"])["ci"]


def ci_image_of(project: Path) -> str:
    return read_yaml(project / ".gitlab" / "ci" / "template.gitlab-ci.yml")["variables"]["UV_CI_IMAGE"]


def test_copy_from_a_plain_directory(tmp_path):
    repo = snapshot_template(tmp_path / "repo")
    plain = tmp_path / "plain"
    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    copier_cli("copy", plain, tmp_path / "project", cwd=tmp_path)
    assert ci_image_of(tmp_path / "project") == EXPECTED_CI_IMAGE


def test_copy_from_a_git_tag_and_update_to_a_newer_tag(tmp_path):
    repo = snapshot_template(tmp_path / "repo")
    git(repo, "tag", "v1.0.0")
    project = tmp_path / "project"
    copier_cli("copy", "--vcs-ref", "v1.0.0", repo, project, cwd=tmp_path)
    assert ci_image_of(project) == EXPECTED_CI_IMAGE
    assert read_yaml(project / ".copier-answers.yml")["_commit"] == "v1.0.0"
    commit_all(project, "v1")

    # v1.1.0 changes a template-owned file; the update must render it through the extension.
    uv_ci = repo / "template" / ".gitlab" / "ci" / "uv.gitlab-ci.yml.jinja"
    add_to_uv_jobs(uv_ci, "retry: 1")
    git(repo, "commit", "-q", "-am", "retry flaky jobs once")
    git(repo, "tag", "v1.1.0")

    copier_cli("update", "--vcs-ref", "v1.1.0", cwd=project)
    assert read_yaml(project / ".copier-answers.yml")["_commit"] == "v1.1.0"
    assert read_yaml(project / ".gitlab" / "ci" / "uv.gitlab-ci.yml")[".uv"]["retry"] == 1
    assert ci_image_of(project) == EXPECTED_CI_IMAGE
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True)
    assert ".rej" not in status.stdout
