"""Unit tests of the migration helpers in migrations/."""

from __future__ import annotations

from pathlib import Path

import answer_for_older_projects
import deletions
import pytest
import team_file_kept
import yaml
from follow_new_default import follow_new_default, main

from tests.kit import ROOT

pytestmark = pytest.mark.fast  # the fast tier: no process, no render (tests/conftest.py)

ANSWERS = """# Written by Copier: keep this comment.
_commit: v1.0.0
python_version: '3.13'
uv_version: '0.13'
ci_share_cache_with_merge_requests: true
"""


@pytest.fixture
def answers_file(tmp_path):
    path = tmp_path / ".copier-answers.yml"
    path.write_text(ANSWERS)
    return path


def test_moves_an_answer_still_on_the_old_default(answers_file):
    assert follow_new_default(answers_file, "uv_version", "0.13", "0.14") is True
    assert answers_file.read_text() == ANSWERS.replace("uv_version: '0.13'", "uv_version: '0.14'")


def test_keeps_an_answer_chosen_on_purpose(answers_file, capsys):
    answers_file.write_text(ANSWERS.replace("'0.13'", "'0.12.5'"))
    assert main(["uv_version", "0.13", "0.14", "--answers-file", str(answers_file)]) == 0
    assert "uv_version: '0.12.5'" in answers_file.read_text()
    assert capsys.readouterr().out == ""  # nothing new to tell


def test_moves_a_yes_no_answer_as_a_boolean_and_says_why(answers_file, capsys):
    note = "Caches are no longer shared with merge requests; opt in again with --data ...=true."
    main(["ci_share_cache_with_merge_requests", "true", "false", "--note", note, "--answers-file", str(answers_file)])
    assert answers_file.read_text() == ANSWERS.replace("merge_requests: true", "merge_requests: false")
    assert capsys.readouterr().out == (
        f"note: ci_share_cache_with_merge_requests: true -> false (the template's new default)\n  {note}\n"
    )
    # Once moved (or chosen as false), a second run tells nothing new and changes nothing.
    assert follow_new_default(answers_file, "ci_share_cache_with_merge_requests", "true", "false") is False


def test_a_question_the_project_never_answered_is_left_alone(answers_file):
    assert follow_new_default(answers_file, "image_mirror", "", "x") is False
    assert answers_file.read_text() == ANSWERS


def test_refuses_a_file_it_cannot_edit_safely(answers_file):
    answers_file.write_text(ANSWERS + "uv_version: '0.13'\n")  # a duplicate key: which one?
    with pytest.raises(ValueError, match="expected one top-level line for 'uv_version', found 2"):
        follow_new_default(answers_file, "uv_version", "0.13", "0.14")


def test_an_older_project_gets_the_answer_that_keeps_it_as_it_was(tmp_path):
    answers_file = tmp_path / ".copier-answers.yml"
    answers_file.write_text("# header\n_commit: v0.2.0\nproject_name: x\n")
    assert answer_for_older_projects.record_answer(answers_file, "type_checker", "none")
    assert yaml.safe_load(answers_file.read_text())["type_checker"] == "none"
    assert answers_file.read_text().startswith("# header\n")


def test_a_project_that_answered_the_question_is_left_alone(tmp_path):
    answers_file = tmp_path / ".copier-answers.yml"
    answers_file.write_text("type_checker: ty\n")
    assert not answer_for_older_projects.record_answer(answers_file, "type_checker", "none")
    assert answers_file.read_text() == "type_checker: ty\n"


def test_a_teams_own_file_is_named_and_its_answer_recorded(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path(".copier-answers.yml").write_text("_commit: v0.2.0\n")
    Path(".gitlab").mkdir()
    Path(".gitlab/renovate.json").write_text("{}\n")
    args = ["--answer", "renovate=false", "--note", "ours adds X", "renovate.json", ".gitlab/renovate.json"]
    assert team_file_kept.main(args) == 0
    assert capsys.readouterr().out == (
        "note: kept your own .gitlab/renovate.json: ours adds X\n"
        "  renovate: false is recorded, so the template adds none of its own.\n"
    )
    assert yaml.safe_load(Path(".copier-answers.yml").read_text())["renovate"] is False
    assert Path(".gitlab/renovate.json").read_text() == "{}\n"


# An empty PATH names no file: copier.yml passes the configuration own_renovate_config found, or "".
@pytest.mark.parametrize("paths", [["renovate.json"], [""]], ids=["absent", "empty"])
def test_without_a_file_of_its_own_nothing_is_said_or_recorded(paths, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path(".copier-answers.yml").write_text("_commit: v0.2.0\n")
    assert team_file_kept.main(["--answer", "renovate=false", "--note", "n", *paths]) == 0
    assert capsys.readouterr().out == ""
    assert Path(".copier-answers.yml").read_text() == "_commit: v0.2.0\n"


# The files the template owns with every feature on: an update renders the new version a
# third time (to restore what the team deleted) only when one of them may be missing.
OWNED = [
    ".gitlab/ci/audit.gitlab-ci.yml",
    ".gitlab/ci/code_quality.py",
    ".gitlab/ci/release_notes.py",
    ".gitlab/ci/ruff.toml",
    ".gitlab/ci/secret_kinds.py",
    ".gitlab/ci/secret_scan.py",
    ".gitlab/ci/template-sync.gitlab-ci.yml",
    ".gitlab/ci/template.gitlab-ci.yml",
    ".gitlab/ci/template_sync.py",
    ".gitlab/ci/uv.gitlab-ci.yml",
    ".gitlab/ci/uv_cache.py",
    ".gitlab/ci/docker.gitlab-ci.yml",
    ".gitlab/ci/release.gitlab-ci.yml",
    ".gitlab/ci/docs.gitlab-ci.yml",
    ".gitlab/ci/site_urls.py",
    ".dockerignore",
    "Dockerfile",
    ".devcontainer/devcontainer.json",
]
ALL_ON = {"dockerfile": True, "publish_package": True, "docs": True, "devcontainer": True}


def project_with(tmp_path: Path, names: list[str]) -> Path:
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# Template-owned\n")
    return tmp_path


def test_with_every_template_owned_file_in_place_the_update_renders_no_third_time(tmp_path):
    assert not deletions.may_lack_owned(ROOT, project_with(tmp_path, OWNED), ALL_ON)


@pytest.mark.parametrize("deleted", OWNED)
def test_a_deleted_template_owned_file_makes_the_update_render_to_restore_it(deleted, tmp_path):
    project = project_with(tmp_path, [name for name in OWNED if name != deleted])
    assert deletions.may_lack_owned(ROOT, project, ALL_ON)


def test_a_file_of_a_feature_turned_off_is_not_missing_and_an_unknown_answer_is_rendered(tmp_path):
    docker = {".gitlab/ci/docker.gitlab-ci.yml", ".dockerignore", "Dockerfile"}
    project = project_with(tmp_path, [name for name in OWNED if name not in docker])
    assert not deletions.may_lack_owned(ROOT, project, {**ALL_ON, "dockerfile": False})
    unrecorded = {name: value for name, value in ALL_ON.items() if name != "dockerfile"}
    assert deletions.may_lack_owned(ROOT, project, unrecorded)
