"""Auto-merge of the template-update job's merge requests (TEMPLATE_UPDATE_AUTO_MERGE): each
refusal, said in the job's log and in the merge request's description; asked only once the
merge request's pipeline exists, pinned to the commit the job checked; withdrawn, with why,
when a person's commits reach the branch. Against the loopback GitLab (tests/gitlab_server.py),
whose merge requests, pipelines and auto-merge follow GitLab's API documentation.
tests/test_template_update.py runs the whole job with it in gitlab-ci-local.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import project_sync as sync
import pytest
from answers import questions_of

from tests.kit import ROOT, commit_all, git
from tests.servers import GitLab, gitlab_project, opened_by_push, serving_gitlab

TOKEN = "glpat-template-update-project-token"
BRANCH = "template-update/v3.0.0"
REQUIRES, OPTIONAL, DENIED, NO_PIPELINE, SLOW_PIPELINE = 30, 31, 32, 33, 35


def project(number: int, **fixture: object) -> dict:
    settings = {"files": {}, "only_allow_merge_if_pipeline_succeeds": True}
    pipeline = {"mr_pipeline": {"after": 0.4, "runs": 0.3, "status": "success"}}
    return gitlab_project(number, f"acme/service-{number}", **{**settings, **pipeline, **fixture})


PROJECTS = [
    project(REQUIRES),
    project(OPTIONAL, only_allow_merge_if_pipeline_succeeds=False),
    project(DENIED, deny=403),
    project(NO_PIPELINE, mr_pipeline={"after": 3600, "runs": 1, "status": "success"}),
    project(SLOW_PIPELINE, mr_pipeline={"after": 1.0, "runs": 60, "status": "success"}),
    project(
        34,
        merge_requests=[
            {
                "iid": 1,
                "state": "opened",
                "source_branch": BRANCH,
                "title": "Draft: Update template from v1.0.0 to v3.0.0",
                "draft": True,  # a person marked it so: the description does not say it needs a human
                "description": "Updates this project from template v1.0.0 to v3.0.0, made by the template-update job.",
                "labels": ["template-update"],
            }
        ],
    ),
]


@pytest.fixture(scope="module")
def gitlab_api(tmp_path_factory) -> Iterator[GitLab]:
    with serving_gitlab(tmp_path_factory.mktemp("auto-merge"), PROJECTS) as loopback:
        yield loopback


def asked(server: GitLab, number: int, **environ: str) -> sync.AutoMerge:
    variables = {
        "CI_API_V4_URL": server.api.rstrip("/"),
        "CI_PROJECT_ID": str(number),
        "TEMPLATE_UPDATE_TOKEN": TOKEN,
        sync.AUTO_MERGE: "true",
        **environ,
    }
    auto = sync.AutoMerge.asked({name: value for name, value in variables.items() if value})
    auto.poll = 0.05
    return auto


def proposal(**overrides) -> sync.Proposal:
    passed = [(name, True, " ".join(cmd)) for name, cmd in sync.CHECKS]
    fields = {"old": "v1.0.0", "new": "v3.0.0", "changes": ["- faster caches"], "checks": passed}
    return sync.Proposal(**{**fields, "conflicts": [], "notes": [], **overrides})


def open_merge_request(auto: sync.AutoMerge, made: sync.Proposal, branch: str = BRANCH) -> dict:
    return opened_by_push(auto.api, made, branch)


REFUSALS = {
    "conflicts": (
        REQUIRES,
        {"conflicts": ["Dockerfile"]},
        [],
        [],
        "the update has conflicts (Dockerfile)",
    ),
    "a failed check": (
        REQUIRES,
        {"checks": [("lint", True, "ruff check ."), ("tests", False, "pytest")]},
        [],
        [],
        "a check failed in the job (tests)",
    ),
    "a team-owned file": (
        REQUIRES,
        {},
        ["pyproject.toml", "uv.lock"],
        [],
        "it changes files the team owns (pyproject.toml, uv.lock): a person reviews those",
    ),
    "an answer's meaning": (
        REQUIRES,
        {},
        [],
        ["the update moved the answer `uv_version` from '0.13' to '0.14'"],
        "the update moved the answer `uv_version` from '0.13' to '0.14': a person decides",
    ),
    "a draft a person made": (
        34,
        {},
        [],
        [],
        "its merge request is a draft (someone marked it so): mark it ready to let it merge itself",
    ),
    "pipelines need not succeed": (OPTIONAL, {}, [], [], sync.REQUIRES_PIPELINE),
    "settings the token cannot read": (DENIED, {}, [], [], "the job could not read the project's settings"),
}


@pytest.mark.parametrize(("number", "change", "team_files", "meanings", "reason"), REFUSALS.values(), ids=REFUSALS)
def test_each_refusal_is_said_in_the_log_and_in_the_description(
    gitlab_api, capsys, number, change, team_files, meanings, reason
):
    auto = asked(gitlab_api, number)
    made = proposal(**change)
    made.draft_kept = sync.person_draft(auto.api, BRANCH)
    made.auto_merge = auto.refusals(made, team_files, meanings, BRANCH)
    log = capsys.readouterr().out
    assert f"auto-merge: not for {BRANCH}: {reason}" in log
    text = sync.description(made)
    assert f"**It does not merge itself** ({sync.AUTO_MERGE} is on), because:<br>- {reason}" in text
    assert "merges itself when" not in text
    assert "merge_request.draft" in sync.push_options(made, create=True, default_branch="main") or made.auto_merge


def test_without_a_project_access_token_the_job_says_what_auto_merge_needs(gitlab_api, capsys):
    auto = asked(gitlab_api, REQUIRES, TEMPLATE_UPDATE_TOKEN="")
    made = proposal()
    made.auto_merge = auto.refusals(made, [], [], BRANCH)
    assert made.auto_merge == [sync.API_ACCESS]
    assert f"auto-merge: not for {BRANCH}: auto-merge needs TEMPLATE_UPDATE_TOKEN" in capsys.readouterr().out
    assert "with the api scope" in sync.description(made)


def test_a_persons_draft_stays_a_draft(gitlab_api):
    auto = asked(gitlab_api, 34)
    made = proposal()
    made.draft_kept = sync.person_draft(auto.api, BRANCH)
    assert made.title.startswith("Draft: ")
    assert "merge_request.draft" in sync.push_options(made, create=False, default_branch="main")
    assert sync.HUMAN_LINE not in sync.description(made)  # the next run still sees a person's draft
    own = proposal(conflicts=["Dockerfile"])  # the job's own draft: it says it needs a human
    assert sync.HUMAN_LINE in sync.description(own)


def test_a_safe_update_says_it_merges_itself_and_how_to_stop_it(gitlab_api, capsys):
    auto = asked(gitlab_api, REQUIRES)
    made = proposal()
    made.auto_merge = auto.refusals(made, [], [], BRANCH)
    assert made.auto_merge == []
    assert "auto-merge: not for" not in capsys.readouterr().out
    text = sync.description(made)
    assert "**It merges itself when its pipeline succeeds**" in text
    assert "*Cancel auto-merge*" in text
    assert f"set {sync.AUTO_MERGE} to false" in text
    assert "gitlab-org/gitlab#275973" in text  # approvals after the pipeline


def test_auto_merge_is_asked_once_the_pipeline_exists_pinned_to_the_commit_and_gitlab_merges_on_success(
    gitlab_api, capsys
):
    auto = asked(gitlab_api, REQUIRES)
    branch = "template-update/v3.1.0"
    made = proposal(new="v3.1.0")
    made.auto_merge = auto.refusals(made, [], [], branch)
    opened = open_merge_request(auto, made, branch)
    assert opened["head_pipeline"] is None  # GitLab makes the pipeline after the push
    assert auto.set(branch, opened["sha"])
    assert "auto-merge: set: GitLab merges it when its pipeline succeeds" in capsys.readouterr().out
    requests = [r for r in gitlab_api.requests() if r["token"] == TOKEN]
    created = next(r["at"] for r in requests if r["method"] == "POST" and r["path"].endswith("/merge_requests"))
    (merge,) = [r for r in requests if r["path"].endswith(f"/merge_requests/{opened['iid']}/merge")]
    assert merge["at"] - created >= 0.4  # the pipeline's "after": not one request before it existed
    assert merge["body"] == {
        "auto_merge": True,
        "merge_when_pipeline_succeeds": True,
        "sha": opened["sha"],
        "should_remove_source_branch": True,
    }
    waiting = auto.api.open_merge_request(branch)
    assert waiting["merge_when_pipeline_succeeds"]
    time.sleep(0.5)  # the pipeline succeeds
    merged = auto.api.call("GET", f"/merge_requests/{opened['iid']}")
    assert merged["state"] == "merged"


def test_asked_at_once_a_project_without_the_pipeline_rule_merges_before_any_pipeline(gitlab_api):
    """What the job avoids (gitlab-org/gitlab#595420): on a project that does not require a
    successful pipeline, auto-merge asked before the pipeline exists merges at once."""
    auto = asked(gitlab_api, OPTIONAL)
    opened = open_merge_request(auto, proposal(new="v3.2.0"), "template-update/v3.2.0")
    merged = auto.api.call("PUT", f"/merge_requests/{opened['iid']}/merge", auto_merge=True, sha=opened["sha"])
    assert (merged["state"], merged["head_pipeline"]) == ("merged", None)


def test_no_pipeline_within_the_wait_means_no_auto_merge_and_the_description_says_why(gitlab_api, capsys):
    auto = asked(gitlab_api, NO_PIPELINE, TEMPLATE_UPDATE_PIPELINE_WAIT="0.3")
    made = proposal()
    made.auto_merge = auto.refusals(made, [], [], BRANCH)
    opened = open_merge_request(auto, made)
    assert not auto.set(BRANCH, opened["sha"])
    reason = f"no pipeline started for {opened['sha'][:8]} within 0.3 s (asked before its pipeline exists, GitLab"
    assert f"auto-merge: not for {BRANCH}: {reason}" in capsys.readouterr().out
    now = auto.api.open_merge_request(BRANCH)
    assert f"**It does not merge itself** ({sync.AUTO_MERGE} is on), because:<br>- {reason} may" in now["description"]
    assert "merges itself when" not in now["description"]
    assert now["description"].startswith("Updates this project from template v1.0.0 to v3.0.0")
    assert not any(r["path"].endswith("/merge") for r in gitlab_api.requests() if "/projects/33/" in r["path"])


def test_a_persons_commits_on_the_branch_withdraw_auto_merge_and_only_the_jobs_paragraph_changes(gitlab_api, capsys):
    auto = asked(gitlab_api, REQUIRES)
    branch = "template-update/v3.3.0"
    made = proposal(new="v3.3.0")
    made.auto_merge = auto.refusals(made, [], [], branch)
    opened = open_merge_request(auto, made, branch)
    assert auto.set(branch, opened["sha"])
    # A person adds to the description (their token), then commits to the branch.
    path = f"/merge_requests/{opened['iid']}"
    auto.api.call("PUT", path, description=opened["description"] + "<br><br>Ops: deploy on Tuesday.")
    reason = "a person's commits are on its branch: the person who made them merges it"
    auto.refuse(branch, reason)
    log = capsys.readouterr().out
    assert f"auto-merge: not for {branch}: {reason}" in log
    assert "auto-merge: cancelled on https://gitlab.example.com/acme/service-30/-/merge_requests/" in log
    now = auto.api.call("GET", path)
    assert now["merge_when_pipeline_succeeds"] is False
    assert f"because:<br>- {reason}" in now["description"]
    assert now["description"].endswith("Ops: deploy on Tuesday.")  # the person's words stay
    assert now["description"].count(sync.SECTION_START) == 1


@pytest.mark.fast
def test_auto_merge_is_opt_in():
    assert sync.wants_auto_merge({sync.AUTO_MERGE: "true"})
    assert sync.wants_auto_merge({sync.AUTO_MERGE: " Yes "})
    assert not sync.wants_auto_merge({})
    assert not sync.wants_auto_merge({sync.AUTO_MERGE: "false"})
    assert not sync.AutoMerge.asked({}).on


CHANGELOG = """# Changelog

## v3.0.0

- **Changes the meaning of:** `ci_share_cache_with_merge_requests` (now per protected ref), `not_a_question_here`

## v2.0.0

- **Changes the meaning of:** `python_version`

## v1.0.0

- First.
"""


@pytest.mark.fast
def test_a_release_changes_an_answers_meaning_by_its_notes_or_by_moving_it():
    before = {
        "_commit": "v2.0.0",
        "ci_share_cache_with_merge_requests": False,
        "uv_version": "0.13",
        "python_version": "3.13",
    }
    after = {**before, "_commit": "v3.0.0", "uv_version": "0.14"}
    assert sync.meaning_changes(CHANGELOG, "v2.0.0", "v3.0.0", before, after) == [
        "the template's release notes say it changes what the answer `ci_share_cache_with_merge_requests` means",
        "the update moved the answer `uv_version` from '0.13' to '0.14'",
    ]
    # v2.0.0's declaration is older than the project's release; a question it never answered is not its.
    assert sync.meaning_changes(CHANGELOG, "v2.0.0", "v3.0.0", {"_commit": "v2.0.0"}, {"_commit": "v3.0.0"}) == []
    assert sync.meaning_changes(CHANGELOG, "v1.0.0", "v2.0.0", before, before)[0].endswith("`python_version` means")


def test_only_files_without_the_template_marker_are_the_teams(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / ".gitlab").mkdir()
    (project / ".gitlab" / "ci.yml").write_text("# Template-owned: copier-uv-gitlab keeps this file\n")
    (project / "gone.py").write_text("# Template-owned: copier-uv-gitlab keeps this file\n")
    (project / "pyproject.toml").write_text("[project]\n")
    (project / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    (project / sync.ANSWERS_FILE).write_text("_commit: v1.0.0\n")
    git(tmp_path, "init", "-q", "-b", "main", "project")
    commit_all(project, "v1.0.0")
    base = git(project, "rev-parse", "HEAD").strip()
    (project / ".gitlab" / "ci.yml").write_text("# Template-owned: copier-uv-gitlab keeps this file\n# new\n")
    (project / "gone.py").unlink()  # a template-owned file the release removed
    (project / sync.ANSWERS_FILE).write_text("_commit: v3.0.0\n")
    (project / ".gitlab" / "new job.yml").write_text("# Template-owned: copier-uv-gitlab keeps this file\n")
    commit_all(project, "update")
    monkeypatch.chdir(project)
    assert sync.team_files_changed(project, base) == []
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (project / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfd")
    commit_all(project, "update with team files")
    assert sync.team_files_changed(project, base) == ["logo.png", "pyproject.toml"]


@pytest.mark.fast
def test_every_variable_the_jobs_read_is_in_the_projects_readme():
    readme = (ROOT / "template" / "README.md.jinja").read_text(encoding="utf-8")
    scripts = [ROOT / "sync" / "project_sync.py", ROOT / "template" / ".gitlab" / "ci" / "template_sync.py"]
    read = {name for script in scripts for name in re.findall(r"TEMPLATE_[A-Z_]*[A-Z]", script.read_text())}
    assert read >= {sync.AUTO_MERGE, sync.PIPELINE_WAIT, "TEMPLATE_UPDATE_TOKEN"}
    assert {name for name in read if f"`{name}" not in readme} == set()


@pytest.mark.fast
def test_the_templates_own_release_notes_declare_meanings_of_its_questions_only():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    asked = set(questions_of(str(ROOT / "copier.yml")))
    declared = {name for line in changelog.splitlines() if (found := sync.MEANING.search(line))
                for name in re.findall(r"`([^`]+)`", found.group(1))}  # fmt: skip
    assert declared <= asked


def test_a_wait_that_timed_out_is_asked_again_by_the_next_run_and_a_persons_cancel_never_is(gitlab_api, capsys):
    auto = asked(gitlab_api, SLOW_PIPELINE, TEMPLATE_UPDATE_PIPELINE_WAIT="0.2")
    made = proposal()
    made.auto_merge = auto.refusals(made, [], [], BRANCH)
    opened = open_merge_request(auto, made)
    assert not auto.set(BRANCH, opened["sha"])  # the runners were slow
    assert "the next run asks again" in capsys.readouterr().out
    time.sleep(1.0)  # the pipeline exists by the next run
    auto.retry(BRANCH, opened["sha"])
    assert "auto-merge: set: GitLab merges it when its pipeline succeeds" in capsys.readouterr().out
    now = auto.api.open_merge_request(BRANCH)
    assert now["merge_when_pipeline_succeeds"]
    assert "**It merges itself when its pipeline succeeds**" in now["description"]
    # A person cancels it: the paragraph still says it merges itself, and no run sets it again.
    auto.api.call("POST", f"/merge_requests/{now['iid']}/cancel_merge_when_pipeline_succeeds")
    auto.retry(BRANCH, opened["sha"])
    assert not auto.api.open_merge_request(BRANCH)["merge_when_pipeline_succeeds"]
    merge = f"/projects/{SLOW_PIPELINE}/merge_requests/1/merge"
    assert len([r for r in gitlab_api.requests() if r["path"].endswith(merge)]) == 1


@pytest.mark.fast
def test_the_paragraph_reads_back_the_reasons_it_was_written_with():
    for reasons in ([], ["one"], ["a conflict (Dockerfile)", "a check failed in the job (tests)"]):
        assert sync.section_refusals("Before<br><br>" + sync.auto_merge_section(reasons) + "<br>after") == reasons
    assert sync.section_refusals("no paragraph of the job's") is None
