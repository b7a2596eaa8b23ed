"""The decisions of the template-sync jobs, as plain functions: which branch the update job
may touch, what its merge request says, what it masks, and how a project finds the newest
release. Fast: no copier render, no pipeline (tests/test_template_update.py runs the jobs).

``project_sync`` is sync/project_sync.py (the logic every project runs from the newest
release); ``template_sync`` is the project's .gitlab/ci/template_sync.py that fetches it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import project_sync as sync
import pytest
import template_sync as bootstrap
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from tests.kit import commit_all, git, run, runner_checkout, runner_environment

JOB = sync.JOB_EMAIL
TARGET = "template-update/v3.0.0"


def job_commit(sha: str = "a" * 40) -> sync.Commit:
    return sync.Commit(sha, sync.JOB_NAME, "Update template from v1.0.0 to v3.0.0", by_job=True)


def person_commit(sha: str = "b" * 40) -> sync.Commit:
    return sync.Commit(sha, "Jane Doe", "Resolve the conflict in uv.gitlab-ci.yml", by_job=False)


def branch(name: str, *commits: sync.Commit) -> sync.Branch:
    return sync.Branch(name, "c" * 40, commits)


# ---------------------------------------------------------------- whose commit, whose branch


@pytest.mark.fast
def test_a_commit_is_the_jobs_only_with_its_identity_as_author_and_committer_and_its_trailer():
    assert sync.is_job_commit(JOB, JOB, "v3.0.0", JOB)


@pytest.mark.parametrize(
    ("author", "committer", "trailer"),
    [
        pytest.param("jane@example.com", "jane@example.com", "", id="a person's commit"),
        pytest.param(JOB, "jane@example.com", "v3.0.0", id="the job's commit amended or rebased by a person"),
        pytest.param("jane@example.com", JOB, "v3.0.0", id="a person's commit under the job's committer"),
        pytest.param(JOB, JOB, "", id="the job's identity without its trailer"),
    ],
)
@pytest.mark.fast
def test_any_other_commit_is_a_persons(author, committer, trailer):
    assert not sync.is_job_commit(author, committer, trailer, JOB)


@pytest.mark.fast
def test_the_job_address_can_be_set_for_push_rules_that_need_a_verified_one():
    assert sync.job_email({}) == JOB
    assert sync.job_email({"TEMPLATE_UPDATE_EMAIL": "bot@example.com"}) == "bot@example.com"


@pytest.mark.fast
def test_a_branch_is_the_jobs_only_while_every_commit_since_the_default_branch_is():
    assert branch(TARGET, job_commit(), job_commit("d" * 40)).owned
    assert not branch(TARGET, job_commit(), person_commit()).owned
    assert not branch(TARGET).owned  # nothing of the job's on it


# ---------------------------------------------------------------- what the job may touch


@pytest.mark.fast
def test_a_new_version_gets_a_new_branch():
    decided = sync.plan(TARGET, [])
    assert decided.existing is None
    assert not decided.blocked


@pytest.mark.fast
def test_the_jobs_own_branch_for_the_version_is_rebuilt():
    own = branch(TARGET, job_commit())
    decided = sync.plan(TARGET, [own])
    assert decided.existing == own
    assert not decided.blocked


@pytest.mark.fast
def test_a_branch_for_the_version_with_a_persons_commit_blocks_the_job():
    assert sync.plan(TARGET, [branch(TARGET, job_commit(), person_commit())]).blocked


@pytest.mark.fast
def test_an_older_version_branch_of_the_job_is_superseded_and_one_with_a_persons_commit_is_kept():
    own = branch("template-update/v2.0.0", job_commit())
    team = branch("template-update/v2.1.0", job_commit(), person_commit())
    decided = sync.plan(TARGET, [own, team])
    assert decided.superseded == [own]
    assert decided.kept == [team]


@pytest.mark.parametrize(
    "name",
    [
        "template-update/notes",  # a person's branch under the same prefix
        "template-update/v4.0.0",  # a newer version than the one proposed
        "template-update-v2.0.0",
        "main",
    ],
)
@pytest.mark.fast
def test_other_branches_are_never_touched_even_with_only_job_commits(name):
    decided = sync.plan(TARGET, [branch(name, job_commit())])
    assert (decided.existing, decided.superseded, decided.kept) == (None, [], [])


@pytest.mark.fast
def test_branch_names_are_the_version_with_a_v_whatever_the_tag():
    assert sync.branch_for("v3.0.0") == sync.branch_for("3.0.0") == TARGET
    assert sync.branch_version(TARGET) == Version("3.0.0")
    assert sync.branch_version("template-update/notes") is None


@pytest.mark.parametrize(
    ("ref", "version"),
    [("v1.2.0", "1.2.0"), ("1.2.0", "1.2.0"), ("v1.2.0-3-gabc1234", "1.2.0.post3"), ("main", None)],
)
@pytest.mark.fast
def test_a_template_ref_stands_for_its_release(ref, version):
    assert sync.release(ref) == (Version(version) if version else None)


# ---------------------------------------------------------------- the lease, against a real remote


@pytest.fixture
def remote(tmp_path):
    """A bare origin and a clone of it with one commit on main and the update branch."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / "README.md").write_text("one\n")
    commit_all(clone, "one")
    git(clone, "remote", "add", "origin", str(origin))
    git(clone, "push", "-q", "origin", "HEAD:main", f"HEAD:refs/heads/{TARGET}")
    return clone


def test_a_push_with_the_lease_on_what_the_job_saw_lands(remote, monkeypatch):
    monkeypatch.chdir(remote)
    seen = git(remote, "rev-parse", "HEAD").strip()
    (remote / "README.md").write_text("two\n")
    commit_all(remote, "the job's refresh")
    assert sync.push_with_lease("origin", f"HEAD:refs/heads/{TARGET}", TARGET, seen)
    assert git(remote, "ls-remote", "origin", TARGET).split()[0] == git(remote, "rev-parse", "HEAD").strip()


def test_a_push_that_landed_after_the_job_looked_is_never_overwritten(remote, tmp_path, monkeypatch):
    seen = git(remote, "rev-parse", "HEAD").strip()
    person = tmp_path / "person"
    git(tmp_path, "clone", "-q", "--branch", TARGET, str(tmp_path / "origin.git"), str(person))
    (person / "README.md").write_text("resolved by a person\n")
    commit_all(person, "resolve by hand")
    git(person, "push", "-q", "origin", TARGET)
    landed = git(person, "rev-parse", "HEAD").strip()

    monkeypatch.chdir(remote)
    (remote / "README.md").write_text("two\n")
    commit_all(remote, "the job's refresh")
    assert not sync.push_with_lease("origin", f"HEAD:refs/heads/{TARGET}", TARGET, seen)
    assert not sync.push_with_lease("origin", f":refs/heads/{TARGET}", TARGET, seen)  # nor deleted
    assert git(remote, "ls-remote", "origin", TARGET).split()[0] == landed


def test_a_new_branch_is_pushed_only_if_nobody_made_it_meanwhile(remote, monkeypatch):
    monkeypatch.chdir(remote)
    (remote / "README.md").write_text("two\n")
    commit_all(remote, "the job's update")
    assert sync.push_with_lease("origin", "HEAD:refs/heads/template-update/v4.0.0", "template-update/v4.0.0", "")
    assert not sync.push_with_lease("origin", f"HEAD:refs/heads/{TARGET}", TARGET, "")  # it exists


REFUSING_HOOK = """#!/bin/sh
cat >/dev/null
echo "GitLab: You are not allowed to push code to this project." >&2
exit 1
"""


def test_a_refused_push_names_the_access_to_fix_and_a_refused_deletion_is_a_warning(
    remote, tmp_path, monkeypatch, capsys
):
    """GitLab refuses a push the token may not make (a pre-receive hook's refusal here)."""
    hook = tmp_path / "origin.git" / "hooks" / "pre-receive"
    hook.write_text(REFUSING_HOOK)
    hook.chmod(0o755)
    monkeypatch.chdir(remote)
    seen = git(remote, "rev-parse", "HEAD").strip()
    (remote / "README.md").write_text("two\n")
    commit_all(remote, "the job's refresh")
    with pytest.raises(sync.SyncError) as refused:
        sync.push_with_lease("origin", f"HEAD:refs/heads/{TARGET}", TARGET, seen)
    assert "You are not allowed to push code" in str(refused.value)
    assert "TEMPLATE_UPDATE_TOKEN" in str(refused.value)
    assert "write_repository" in str(refused.value)
    old = sync.Branch(TARGET, seen, (job_commit(seen),))
    sync.delete_superseded(sync.Plan("template-update/v9.0.0", None, [old]), "origin")
    assert f"warning: {TARGET} is superseded, but deleting it was refused" in capsys.readouterr().out
    assert git(remote, "ls-remote", "origin", TARGET).split()[0] == seen


def test_conflicted_files_names_every_changed_or_new_file_with_a_marker_line(tmp_path, monkeypatch):
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
    monkeypatch.chdir(repo)
    assert sync.conflicted_files(repo) == [".answers.yml", "new.txt"]


# ---------------------------------------------------------------- what the merge request says


def proposal(**overrides) -> sync.Proposal:
    passed = [(name, True, " ".join(cmd)) for name, cmd in sync.CHECKS]
    fields = {"old": "v1.0.0", "new": "v3.0.0", "changes": ["- faster caches"], "checks": passed}
    return sync.Proposal(**{**fields, "conflicts": [], "notes": [], **overrides})


@pytest.mark.fast
def test_a_clean_update_is_ready_to_merge():
    clean = proposal()
    assert clean.title == "Update template from v1.0.0 to v3.0.0"
    assert "merge_request.draft" not in sync.push_options(clean, create=True, default_branch="main")


@pytest.mark.fast
def test_a_conflict_makes_a_draft_that_names_every_conflicted_file():
    conflicted = proposal(conflicts=[".gitlab/ci/uv.gitlab-ci.yml", "Dockerfile"])
    assert conflicted.title.startswith("Draft: ")
    assert "merge_request.draft" in sync.push_options(conflicted, create=True, default_branch="main")
    assert "- `.gitlab/ci/uv.gitlab-ci.yml`<br>- `Dockerfile`" in sync.description(conflicted)


@pytest.mark.fast
def test_a_conflict_in_pyproject_says_the_lock_is_pending_and_how_to_finish_it():
    text = sync.description(proposal(conflicts=["pyproject.toml"]))
    assert "`uv.lock` is pending" in text
    assert "run `uv lock`" in text


@pytest.mark.fast
def test_a_failed_check_makes_a_draft_naming_it():
    failed = proposal(checks=[("tests", False, "uv run --locked --no-default-groups --group test pytest")])
    assert failed.needs_human
    assert "- tests: FAILED (`uv run --locked --no-default-groups --group test pytest`)" in sync.description(failed)


@pytest.mark.fast
def test_kept_branches_are_named_with_each_persons_commit():
    kept = branch("template-update/v2.0.0", job_commit(), person_commit("e" * 40))
    text = sync.description(proposal(kept=[kept]))
    assert "- `template-update/v2.0.0`: eeeeeeee Resolve the conflict in uv.gitlab-ci.yml (Jane Doe)" in text


@pytest.mark.fast
def test_the_description_is_one_line_with_the_notes_of_the_update():
    text = sync.description(proposal(notes=["restored .gitlab/ci/release.gitlab-ci.yml: ..."]))
    assert "\n" not in text
    assert "Notes from the update:<br>- restored .gitlab/ci/release.gitlab-ci.yml" in text


@pytest.mark.fast
def test_only_a_new_branch_asks_gitlab_to_create_the_merge_request():
    assert "merge_request.create" in sync.push_options(proposal(), create=True, default_branch="main")
    refresh = sync.push_options(proposal(), create=False, default_branch="trunk")
    assert "merge_request.create" not in refresh
    assert "merge_request.target=trunk" in refresh


@pytest.mark.fast
def test_the_migrations_notes_are_collected_with_their_continuation_lines():
    output = (
        "Updating\nnote: uv_version: 0.13 -> 0.14\n  Why it moved.\n > Running task\nwarning: uv.lock was not updated\n"
    )
    assert sync.notes_in(output) == ["uv_version: 0.13 -> 0.14 Why it moved.", "uv.lock was not updated"]


@pytest.mark.fast
def test_the_changes_are_the_changelog_sections_after_the_old_version_up_to_the_new():
    changelog = "# Changelog\n\n## v3.0.0\n\n- three\n\n## v2.0.0 (2026-01-01)\n\n- two\n\n## v1.0.0\n\n- one\n"
    assert sync.template_changes(changelog, "v1.0.0", "v3.0.0") == [
        "**v3.0.0**",
        "- three",
        "**v2.0.0 (2026-01-01)**",
        "- two",
    ]
    assert sync.template_changes("# Changelog\n", "v1.0.0", "v3.0.0") == [
        "- see the template's history from v1.0.0 to v3.0.0"
    ]


# ---------------------------------------------------------------- secrets and access


@pytest.mark.fast
def test_every_token_the_job_knows_is_masked_and_short_values_are_not():
    environ = {"CI_JOB_TOKEN": "glcbt-1234", "TEMPLATE_UPDATE_TOKEN": "glpat-abcd", "TEMPLATE_REPOSITORY_URL": "ab"}
    text = "push https://gitlab-ci-token:glcbt-1234@host with glpat-abcd about ab"
    assert sync.redact(text, environ) == "push https://gitlab-ci-token:[MASKED]@host with [MASKED] about ab"
    assert bootstrap.redact(text, environ) == sync.redact(text, environ)


@pytest.mark.fast
def test_pushes_go_through_a_project_access_token_when_one_is_set():
    environ = {"TEMPLATE_UPDATE_TOKEN": "glpat-x", "CI_SERVER_HOST": "gitlab.example.com", "CI_PROJECT_PATH": "g/p"}
    assert sync.push_url(environ) == "https://template-update:glpat-x@gitlab.example.com/g/p.git"
    assert sync.push_url({"CI_SERVER_HOST": "gitlab.example.com"}) == "origin"


@pytest.mark.fast
def test_the_job_token_reads_a_template_on_the_same_gitlab_only():
    environ = {"CI_JOB_TOKEN": "tok", "CI_SERVER_HOST": "gitlab.example.com"}
    same = bootstrap.git_auth_environment("https://gitlab.example.com/platform/template.git", environ)
    assert same["GIT_CONFIG_KEY_0"] == "url.https://gitlab-ci-token:tok@gitlab.example.com/.insteadOf"
    assert same["GIT_CONFIG_VALUE_0"] == "https://gitlab.example.com/"
    assert bootstrap.git_auth_environment("https://github.com/org/template.git", environ) == {}


@pytest.mark.fast
def test_a_template_url_variable_replaces_the_recorded_one():
    environ = {"TEMPLATE_REPOSITORY_URL": "https://oauth2:tok@mirror.example.com/t.git"}
    found = bootstrap.git_auth_environment("https://gitlab.example.com/t.git", environ)
    assert found["GIT_CONFIG_KEY_0"] == "url.https://oauth2:tok@mirror.example.com/t.git.insteadOf"
    assert found["GIT_CONFIG_VALUE_0"] == "https://gitlab.example.com/t.git"


# ---------------------------------------------------------------- where the release is checked out


@pytest.fixture
def temporary(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@pytest.mark.fast
def test_each_run_checks_the_release_out_at_the_same_path_so_uv_finds_its_script_environment(temporary):
    with bootstrap.release_checkout("update") as first:
        first.mkdir()
        (first / "left-over").write_text("")
    with bootstrap.release_checkout("update") as again:
        assert again == first
        assert not again.exists()  # emptied for the clone
    assert not first.exists()  # removed afterwards
    with bootstrap.release_checkout("drift") as drift:
        assert drift != first
    assert first.parent == temporary / f"copier-uv-gitlab-{os.getuid()}"
    assert first.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.fast
def test_jobs_running_at_once_each_get_a_checkout_of_their_own(temporary):
    with bootstrap.release_checkout("update") as first, bootstrap.release_checkout("update") as second:
        assert first != second
        assert first.parent == second.parent


@pytest.mark.fast
@pytest.mark.parametrize("mode", [0o755, 0o777])
def test_a_checkout_folder_others_could_write_is_never_used(temporary, mode):
    shared = temporary / f"copier-uv-gitlab-{os.getuid()}"
    shared.mkdir()
    shared.chmod(mode)
    with bootstrap.release_checkout("update") as checkout:
        assert shared not in checkout.parents


@pytest.mark.fast
def test_a_link_in_place_of_the_checkout_folder_is_never_followed(temporary):
    elsewhere = temporary / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (temporary / f"copier-uv-gitlab-{os.getuid()}").symlink_to(elsewhere)
    with bootstrap.release_checkout("update") as checkout:
        assert elsewhere not in checkout.resolve().parents


# ---------------------------------------------------------------- finding the newest release


@pytest.mark.parametrize(
    ("line", "location"),
    [
        (
            "_src_path: https://gitlab.example.com/platform/template.git",
            "https://gitlab.example.com/platform/template.git",
        ),
        ("_src_path: '/srv/it''s/template'", "/srv/it's/template"),
        ('_src_path: "/srv/caf\\u00e9\\ttab"', "/srv/café\ttab"),
    ],
)
@pytest.mark.fast
def test_the_template_location_is_read_as_copier_wrote_it(line, location):
    assert bootstrap.template_location(f"_commit: v1.0.0\n{line}\nproject_name: x\n") == location


@pytest.mark.fast
def test_a_project_without_a_recorded_template_says_so():
    with pytest.raises(bootstrap.TemplateUnreadable, match="records no _src_path"):
        bootstrap.template_location("project_name: x\n")


@pytest.mark.fast
def test_the_newest_release_is_the_highest_version_not_the_last_listed_or_a_pre_release():
    listing = "\n".join(
        f"{'0' * 40}\trefs/tags/{tag}" for tag in ("v1.10.0", "v1.9.0", "v2.0.0rc1", "latest", "1.2.0", "v1.10.0-x")
    )
    assert bootstrap.releases(listing)[0] == "v1.10.0"
    assert bootstrap.releases("") == []


# ---------------------------------------------------------------- reading branches in a runner's checkout

PERSON = {"name": "Jane Doe", "email": "jane@example.com"}
JOB_IDENTITY = {"name": sync.JOB_NAME, "email": JOB}


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree: every commit here has it


def make_commit(repo: Path, message: str, who: dict[str, str], *parents: str, committer: str = "") -> str:
    """An empty commit on ``parents`` by ``who`` (the committer too, unless ``committer`` gives
    another address), written with plumbing: fast, and no work tree needed."""
    env = {
        "GIT_AUTHOR_NAME": who["name"],
        "GIT_AUTHOR_EMAIL": who["email"],
        "GIT_COMMITTER_NAME": who["name"],
        "GIT_COMMITTER_EMAIL": committer or who["email"],
    }
    parent_args = [arg for parent in parents for arg in ("-p", parent)]
    return run(["git", "commit-tree", EMPTY_TREE, *parent_args, "-m", message], repo, env).strip()


def job_update(repo: Path, parent: str, version: str = "v3.0.0") -> str:
    message = f"Update template from v1.0.0 to {version}\n\n{sync.TRAILER}: {version}"
    return make_commit(repo, message, JOB_IDENTITY, parent)


class PlumbedOrigin:
    """A bare origin, written through plumbing (fast: no work tree), with a main branch."""

    def __init__(self, path: Path, first_commits: int = 3) -> None:
        self.path = path
        git(path.parent, "init", "-q", "--bare", path.name)
        run(["git", "hash-object", "-t", "tree", "-w", "--stdin"], path)  # the empty tree
        head = make_commit(path, "first", PERSON)
        for number in range(first_commits - 1):
            head = make_commit(path, f"main {number}", PERSON, head)
        self.set("main", head)

    def set(self, branch: str, sha: str) -> str:
        git(self.path, "update-ref", f"refs/heads/{branch}", sha)
        return sha

    def head(self, branch: str) -> str:
        return git(self.path, "rev-parse", f"refs/heads/{branch}").strip()

    def move_main(self, commits: int) -> str:
        head = self.head("main")
        for number in range(commits):
            head = make_commit(self.path, f"team work {number}", PERSON, head)
        return self.set("main", head)


def branches_seen_by_the_job(origin: PlumbedOrigin, tmp_path: Path, depth: int, monkeypatch) -> dict[str, sync.Branch]:
    checkout = runner_checkout(origin.path, tmp_path / f"checkout-{depth}", depth=depth)
    monkeypatch.chdir(checkout)
    for name, value in runner_environment(tmp_path / "job-env").items():
        monkeypatch.setenv(name, value)
    return {branch.name: branch for branch in sync.read_branches("origin", "main", JOB)}


@pytest.mark.parametrize("depth", [1, 20, 50, 0], ids=["depth-1", "depth-20", "depth-50", "full"])
def test_the_jobs_branch_stays_its_own_when_main_moved_past_the_clone_depth(tmp_path, monkeypatch, depth):
    origin = PlumbedOrigin(tmp_path / "origin.git")
    own = origin.set(TARGET, job_update(origin.path, origin.head("main")))
    origin.move_main(75)  # a merge request that waited a few busy weeks
    seen = branches_seen_by_the_job(origin, tmp_path, depth, monkeypatch)
    assert list(seen) == [TARGET]
    assert seen[TARGET].sha == own
    assert [commit.sha for commit in seen[TARGET].commits] == [own]
    assert seen[TARGET].owned


@pytest.mark.parametrize("depth", [1, 20, 0], ids=["depth-1", "depth-20", "full"])
def test_branches_a_person_names_under_the_prefix_are_read_without_a_trailer(tmp_path, monkeypatch, depth):
    origin = PlumbedOrigin(tmp_path / "origin.git")
    main = origin.head("main")
    by_hand = make_commit(origin.path, "Update the template by hand", PERSON, main)
    origin.set("template-update/v1.3.0", by_hand)
    origin.set("template-update/verify-ci", make_commit(origin.path, "Verify CI", PERSON, main))
    unusual = {"name": 'Zoë \x1f O\'Brien; "the 2nd" Jr', "email": "zoe+ci@example.com"}
    merged = make_commit(origin.path, "Merge main into the update", unusual, job_update(origin.path, main), main)
    origin.set(TARGET, merged)
    origin.move_main(3)
    seen = branches_seen_by_the_job(origin, tmp_path, depth, monkeypatch)
    assert sorted(seen) == ["template-update/v1.3.0", TARGET]  # verify-ci is no version: never read
    assert [commit.sha for commit in seen["template-update/v1.3.0"].commits] == [by_hand]
    assert not seen["template-update/v1.3.0"].owned
    assert not seen[TARGET].owned  # a person's merge commit on it
    assert seen[TARGET].commits[0].author == unusual["name"]


def test_hundreds_of_branches_under_the_prefix_are_read_each_with_its_own_commits(tmp_path, monkeypatch):
    origin = PlumbedOrigin(tmp_path / "origin.git")
    main = origin.head("main")
    own = job_update(origin.path, main)
    theirs = make_commit(origin.path, "Try the update by hand", PERSON, main)
    updates = "".join(
        f"create refs/heads/template-update/v0.{minor}.{patch} {own if patch % 2 else theirs}\n"
        for minor in range(20)
        for patch in range(15)
    )
    subprocess.run(["git", "update-ref", "--stdin"], cwd=origin.path, input=updates, text=True, check=True)
    origin.move_main(30)
    seen = branches_seen_by_the_job(origin, tmp_path, 20, monkeypatch)
    assert len(seen) == 300
    assert sum(branch.owned for branch in seen.values()) == 20 * 7
    assert all([commit.sha for commit in branch.commits] == [branch.sha] for branch in seen.values())


# ---------------------------------------------------------------- any history a person can make, any depth

# What can be on an update branch, oldest first: the job's commits, a person's, a person's merge
# of main into it, the job's commit amended by a person (the person is the committer), a commit
# under the job's identity without its trailer.
STEPS = ("job", "person", "merge-main", "amended", "no-trailer")
NAMES = ("template-update/v2.0.0", "template-update/v2.5.0", TARGET, "template-update/v1.3.0-by-hand",
         "template-update/verify-ci", "template-update/v")  # fmt: skip


def add_step(origin: PlumbedOrigin, head: str, step: str) -> str:
    main = origin.head("main")
    if step == "job":
        return job_update(origin.path, head)
    if step == "person":
        return make_commit(origin.path, "Resolve by hand", PERSON, head)
    if step == "merge-main":  # a merge of main, or a plain commit where the branch is main
        return make_commit(origin.path, "Merge main", PERSON, *dict.fromkeys([head, main]))
    if step == "amended":
        message = f"Update template (amended)\n\n{sync.TRAILER}: v3.0.0"
        return make_commit(origin.path, message, JOB_IDENTITY, head, committer=PERSON["email"])
    return make_commit(origin.path, "Update template, no trailer", JOB_IDENTITY, head)


histories = st.fixed_dictionaries(
    {
        "main": st.integers(1, 6),
        "branches": st.lists(
            st.tuples(st.sampled_from(NAMES), st.integers(0, 5), st.lists(st.sampled_from(STEPS), max_size=4)),
            max_size=4,
            unique_by=lambda branch: branch[0],
        ),
        "main_moves": st.integers(0, 45),
        "depth": st.sampled_from([1, 2, 5, 20, 50, 0]),
    }
)


def decisions(decided: sync.Plan) -> tuple:
    existing = decided.existing.name if decided.existing else None
    return existing, decided.blocked, [b.name for b in decided.superseded], [b.name for b in decided.kept]


@settings(max_examples=60, derandomize=True, deadline=None)
@given(history=histories)
def test_in_any_history_and_checkout_the_job_touches_only_branches_that_are_wholly_its_own(history):
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        origin = PlumbedOrigin(tmp / "origin.git", history["main"])
        for name, back, steps in history["branches"]:
            head = run(["git", "rev-parse", f"main~{min(back, history['main'] - 1)}"], origin.path).strip()
            for step in steps:
                head = add_step(origin, head, step)
            origin.set(name, head)
        origin.move_main(history["main_moves"])

        # The truth, from the whole history on the server, one commit at a time.
        listed = git(origin.path, "for-each-ref", "--format=%(refname:short)", "refs/heads/template-update/")
        truth = []
        for name in listed.split():
            commits = []
            for sha in git(origin.path, "rev-list", f"main..{name}").split():
                show = ["show", "-s", f"--format=%ae%n%ce%n%(trailers:key={sync.TRAILER},valueonly)", sha]
                author, committer, *trailer = git(origin.path, *show).split("\n")
                commits.append(sync.Commit(sha, "", "", sync.is_job_commit(author, committer, "".join(trailer), JOB)))
            truth.append(sync.Branch(name, git(origin.path, "rev-parse", name).strip(), tuple(commits)))
        expected = sync.plan(TARGET, truth)
        owned_in_truth = {branch.name for branch in truth if branch.owned}

        # What the job decides in a runner's checkout at the drawn depth.
        checkout = runner_checkout(origin.path, tmp / "checkout", depth=history["depth"])
        cwd, environ = Path.cwd(), dict(os.environ)
        try:
            os.chdir(checkout)
            os.environ.update(runner_environment(tmp / "job-env"))
            decided = sync.plan(TARGET, sync.read_branches("origin", "main", JOB))
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(environ)

        touched = [branch.name for branch in decided.superseded]
        if decided.existing is not None and not decided.blocked:
            touched.append(decided.existing.name)
        assert set(touched) <= owned_in_truth, "the job would push to or delete a branch with a person's commit"
        assert decisions(decided) == decisions(expected)


# ---------------------------------------------------------------- a template the job cannot reach


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("ssh://git@127.0.0.1:9/platform/template.git", "ssh://[MASKED]@127.0.0.1:9/platform/template.git"),
        ("https://reader:glpat-s3cr3t@127.0.0.1:9/t.git", "https://[MASKED]@127.0.0.1:9/t.git"),
        ("/srv/templates/gone", "/srv/templates/gone"),
    ],
    ids=["ssh", "https-with-credentials", "local-path"],
)
def test_a_template_the_job_cannot_reach_is_one_line_naming_it_and_the_variable_that_gives_access(
    tmp_path, monkeypatch, capsys, location, shown
):
    (tmp_path / ".copier-answers.yml").write_text(f"_commit: v1.0.0\n_src_path: {location}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=5")
    assert bootstrap.main(["drift"]) == bootstrap.FAILED
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"error: could not read the template: {shown}: ")
    assert "set TEMPLATE_REPOSITORY_URL" in line
    assert "s3cr3t" not in line


def test_a_failing_template_url_variable_is_named_as_the_thing_to_check(tmp_path, monkeypatch, capsys):
    (tmp_path / ".copier-answers.yml").write_text("_commit: v1.0.0\n_src_path: /srv/templates/gone\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEMPLATE_REPOSITORY_URL", "https://reader:glpat-s3cr3t@127.0.0.1:9/t.git")
    assert bootstrap.main(["update"]) == bootstrap.FAILED
    (line,) = capsys.readouterr().out.splitlines()
    assert "check the URL and token in the TEMPLATE_REPOSITORY_URL variable" in line
    assert "s3cr3t" not in line


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("", ".copier-answers.yml holds no template answers (NoneType"),
        ("- dockerfile: true\n", ".copier-answers.yml holds no template answers (list"),
        ("_commit: v1.0.0\n_src_path: x\ndockerfile: [\n", ".copier-answers.yml, line 4 is not valid YAML"),
        ("_commit: v1.0.0\n_src_path: x\n\ndockerfile: maybe\n", ".copier-answers.yml, line 4: dockerfile 'maybe'"),
        (None, ".copier-answers.yml is missing"),
    ],
)
@pytest.mark.parametrize("action", ["drift", "update"])
@pytest.mark.fast
def test_the_jobs_name_an_answers_file_copier_would_crash_on_or_misread(
    action, text, named, tmp_path, monkeypatch, capsys
):
    """Copier crashes on an empty or list-shaped answers file with an AttributeError that names
    no file, and silently drops an answer it cannot read: the jobs check the file first."""
    if text is not None:
        (tmp_path / ".copier-answers.yml").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert sync.main([action, "--ref", "v9.0.0"]) == sync.FAILED
    output = capsys.readouterr()
    assert f"error: {named}" in output.out + output.err
    assert "Traceback" not in output.out + output.err


# ---------------------------------------------------------------- releases the job believes


@pytest.mark.parametrize(
    ("ref", "recorded", "newer"),
    [
        ("v2.0.0", "v1.9.0", True),
        ("v2.0.0", "v2.0.0", False),
        ("v2.0.0", "v2", True),  # a bare tag proposed before the release rule: v2.0.0 replaces it
        ("v2.0.0", "v2.0.0-3-gabcdef0", False),  # a commit after the release
        ("v1.9.0", "v2.0.0", False),
    ],
)
@pytest.mark.fast
def test_a_release_is_newer_than_a_bare_tag_of_the_same_number(ref, recorded, newer):
    assert sync.newer(ref, recorded) is newer


@pytest.mark.fast
def test_a_new_question_without_a_default_is_answered_by_its_variable_or_named(monkeypatch, tmp_path):
    copier_yml = tmp_path / "copier.yml"
    copier_yml.write_text(
        "_subdirectory: template\nproject_name: {type: str, default: x}\ncost_centre: {type: str}\n"
        "region: {type: str}\nlater: {type: str, when: false}\n"
    )
    monkeypatch.setattr(sync, "TEMPLATE", tmp_path)
    answers = {"_commit": "v1.0.0", "project_name": "x"}
    assert sync.unanswered(answers, {"TEMPLATE_ANSWER_COST_CENTRE": "cc-42"}) == ({"cost_centre": "cc-42"}, ["region"])
    assert sync.unanswered({**answers, "cost_centre": "a", "region": "b"}, {}) == ({}, [])


@pytest.mark.fast
def test_a_conflict_in_a_pipeline_file_says_the_branch_has_no_pipeline():
    said = sync.description(proposal(conflicts=[".gitlab/ci/uv.gitlab-ci.yml", "README.md"]))
    assert "This branch's pipeline cannot start while `.gitlab/ci/uv.gitlab-ci.yml` holds conflict markers" in said
    assert "cannot start" not in sync.description(proposal(conflicts=["README.md"]))


def test_once_main_is_current_the_jobs_own_branches_for_it_are_deleted_and_a_persons_kept(
    tmp_path, monkeypatch, capsys
):
    """A person ran the update by hand: main records v3.0.0. The job's branches for v3.0.0 and
    older propose nothing more; the one a person committed to stays, and so does a newer one."""
    origin = PlumbedOrigin(tmp_path / "origin.git")
    main = origin.head("main")
    origin.set("template-update/v3.0.0", job_update(origin.path, main))
    origin.set("template-update/v2.0.0", job_update(origin.path, main, "v2.0.0"))
    touched = make_commit(origin.path, "our fix", PERSON, job_update(origin.path, main, "v2.5.0"))
    origin.set("template-update/v2.5.0", touched)
    origin.set("template-update/v4.0.0", job_update(origin.path, main, "v4.0.0"))
    branches_seen_by_the_job(origin, tmp_path, 20, monkeypatch)  # the runner's checkout, its environment

    sync.tidy("v3.0.0", "origin", "main", JOB)

    left = git(origin.path, "for-each-ref", "--format=%(refname:short)", "refs/heads/template-update/").split()
    assert sorted(left) == ["template-update/v2.5.0", "template-update/v4.0.0"]
    said = capsys.readouterr().out
    assert "superseded: deleted template-update/v3.0.0" in said
    assert "left: template-update/v2.5.0 proposes a version the default branch already has (v3.0.0)" in said
