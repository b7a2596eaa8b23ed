"""``fleet rollout`` takes a release through a simulated fleet of 500 projects in waves, against
the loopback GitLab (tests/gitlab_server.py: merge requests, their pipelines, auto-merge and the
project settings, as GitLab's API documentation states them).

Each project's template-update job is played by ``Runners``: when the rollout plays a
project's schedule, a runner does what the job does after its update, with the job's own code
(sync/project_sync.py: the refusals of auto-merge, the description, asking for auto-merge once
the pipeline exists), and what the project's scenario says the update gave (conflicts, a failed
check, a red pipeline). Only the git push is emulated: GitLab opens the merge request its push
options describe (user/project/push_options.md), here through "Create MR".
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import gitlab
import project_sync as sync
import pytest

from fleet import __main__ as fleet_command
from fleet import report as fleet_report
from fleet import waves
from tests.servers import GitLab, gitlab_project, opened_by_push, serving_gitlab

TEMPLATE_URL = "https://gitlab.example.com/platform/copier-uv-gitlab.git"
TOKEN = "glpat-fleet-rollout-0000"  # the platform team's, for `fleet rollout`
FLEET_SIZE = 500
WEEKLY = {"id": 1, "description": "weekly", "ref": "main", "cron": "0 6 * * 1", "active": True}


def job_token(number: int) -> str:
    return f"glpat-template-update-{number}"  # each project's TEMPLATE_UPDATE_TOKEN


def answers(commit: str) -> str:
    return f"_commit: {commit}\n_src_path: {TEMPLATE_URL}\nproject_name: Service\n"


@dataclass(frozen=True)
class Scenario:
    """What an update to a release gives one project."""

    conflicts: bool = False  # the update left conflict markers: a draft
    checks: bool = True  # the job's four checks passed
    pipeline: str = "success"  # how the merge request's pipeline ends


def good_release(number: int) -> Scenario:
    """v2.0.0: most updates are clean and green; one in twenty conflicts, one in a hundred goes red."""
    if number % 20 == 0:
        return Scenario(conflicts=True, pipeline="failed")
    if number % 100 == 7:
        return Scenario(pipeline="failed")
    return Scenario()


def bad_release(number: int) -> Scenario:
    """v3.0.0: it breaks every project's tests."""
    return Scenario(checks=False, pipeline="failed")


def project(number: int) -> dict:
    return gitlab_project(
        number,
        f"acme/team-{number % 12}/service-{number}",
        files={".copier-answers.yml": answers("v1.0.0")},
        # One in a hundred lets merge requests merge without a pipeline: never auto-merged.
        only_allow_merge_if_pipeline_succeeds=number % 100 != 3,
        # One in a hundred has no schedule: the rollout cannot start its job.
        schedules=[] if number % 100 == 5 else [WEEKLY],
        mr_pipeline={"after": 0.1, "runs": 0.1, "status": good_release(number).pipeline},
    )


FLEET = [
    gitlab_project(1, "platform/copier-uv-gitlab", tags=["v1.0.0", "v2.0.0", "v3.0.0"]),
    *(project(number) for number in range(100, 100 + FLEET_SIZE)),
]


class Runners:
    """The template-update job of every project whose schedule the rollout plays, each with
    auto-merge on (TEMPLATE_UPDATE_AUTO_MERGE in the group's CI/CD variables)."""

    def __init__(self, server: GitLab, scenario: Callable[[int, str], Scenario]) -> None:
        self.server, self.scenario = server, scenario
        self.ids = {entry["path_with_namespace"]: entry["id"] for entry in FLEET}
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=16)
        self.failures: list[BaseException] = []
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.target = ""  # the release the rollout takes out

    def watch(self) -> None:
        """Start a job for each schedule played, as GitLab's runners pick them up."""
        with self.server.log.open(encoding="utf-8") as log:
            log.seek(0, 2)  # what was played before is not this rollout's
            pending = ""
            while not self.stop.is_set():
                pending += log.read()
                *lines, pending = pending.split("\n")
                for line in lines:
                    entry = json.loads(line)
                    if entry["method"] == "POST" and entry["path"].endswith("/play") and entry["status"] == 201:
                        reference = unquote(entry["path"].split("/")[4])
                        number = self.ids.get(reference) or int(reference)
                        self.pool.submit(self.job, number).add_done_callback(self.failed)
                time.sleep(0.05)

    def failed(self, future) -> None:
        if future.exception():
            self.failures.append(future.exception())

    def job(self, number: int) -> None:
        """What the job does once its update is committed and checked, with its own code."""
        answers_text = self.server_file(number)
        old = answers_text.split("_commit: ")[1].split()[0]
        target = self.target
        outcome = self.scenario(number, target)
        environ = {
            "CI_API_V4_URL": self.server.api.rstrip("/"),
            "CI_PROJECT_ID": str(number),
            "TEMPLATE_UPDATE_TOKEN": job_token(number),
            sync.AUTO_MERGE: "true",
            sync.PIPELINE_WAIT: "30",
        }
        auto = sync.AutoMerge.asked(environ)
        auto.poll = 0.05
        checks = [(name, outcome.checks, " ".join(cmd)) for name, cmd in sync.CHECKS]
        conflicts = [".gitlab/ci/uv.gitlab-ci.yml"] if outcome.conflicts else []
        proposal = sync.Proposal(old, target, [f"**{target}**"], checks, conflicts, [])
        branch = sync.branch_for(target)
        proposal.draft_kept = sync.person_draft(auto.api, branch)
        proposal.auto_merge = auto.refusals(proposal, [], [], branch)
        opened = opened_by_push(auto.api, proposal, branch)  # the push
        auto.pushed(proposal, branch, opened["sha"])

    def server_file(self, number: int) -> str:
        client = gitlab.Gitlab(self.server.api.removesuffix("/api/v4/"), private_token=job_token(number))
        return client.projects.get(number, lazy=True).files.raw(file_path=".copier-answers.yml", ref="main").decode()

    def __enter__(self) -> Runners:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.pool.shutdown(wait=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[GitLab]:
    with serving_gitlab(tmp_path_factory.mktemp("rollout"), FLEET) as loopback:
        yield loopback


def rollout(server: GitLab, monkeypatch, capsys, *arguments: str) -> tuple[int, str]:
    """``fleet rollout`` for the group, as the platform team runs it: its exit status and output."""
    monkeypatch.setenv("GITLAB_URL", server.api.removesuffix("/api/v4/"))
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    template = ["--template-project", "platform/copier-uv-gitlab", "--template-url", TEMPLATE_URL]
    status = fleet_command.main(["rollout", "--group", "acme", *template, *arguments])
    return status, capsys.readouterr().out


def roll(server: GitLab, state: Path, target: str, monkeypatch, capsys, *arguments: str) -> tuple[int, str]:
    """One run of ``fleet rollout --run``, as the template's scheduled pipeline runs it."""
    return rollout(server, monkeypatch, capsys, "--to", target, "--run", "--state", str(state), *arguments)


def roll_until_it_ends(server, state, target, monkeypatch, capsys, runners: Runners) -> tuple[int, list[str]]:
    """Runs of the rollout, one after the other, until it finished or stopped."""
    runners.target = target
    said = []
    for _ in range(200):
        status, out = roll(server, state, target, monkeypatch, capsys)
        said += out.splitlines()
        assert not runners.failures, runners.failures
        if status or "finished" in out:
            return status, said
        time.sleep(0.2)
    pytest.fail("the rollout neither finished nor stopped")


def current(server: GitLab, target: str) -> dict[str, bool]:
    fleet = fleet_report.Fleet(
        lambda: gitlab.Gitlab(server.api.removesuffix("/api/v4/"), private_token=TOKEN, per_page=100)
    )
    result = fleet_report.report(fleet, "acme", "platform/copier-uv-gitlab", [TEMPLATE_URL])
    return {row.project: row.release == target for row in result.rows}


def test_with_auto_merge_on_a_release_reaches_the_conflict_free_projects_in_waves_without_a_person(
    server, tmp_path, monkeypatch, capsys
):
    state = tmp_path / "state.json"
    with Runners(server, lambda number, target: good_release(number)) as runners:
        status, said = roll_until_it_ends(server, state, "v2.0.0", monkeypatch, capsys, runners)
    assert status == 0, "\n".join(said)
    plan = waves.load(state)
    sizes = [len(wave) for wave in plan.waves]
    assert sizes == [10, 40, 160, 290]  # a 2 % canary, then four times the wave before
    assert said[-1] == "Rollout to v2.0.0 finished: every wave passed."
    on = current(server, "v2.0.0")
    conflict_free = [f"acme/team-{n % 12}/service-{n}" for n in range(100, 600) if not good_release(n).conflicts]
    share = sum(on[name] for name in conflict_free) / len(conflict_free)
    print(f"{share:.1%} of {len(conflict_free)} conflict-free projects on v2.0.0 after {len(said)} lines")
    assert share >= 0.95
    # Only the tools' tokens asked anything, and nothing merged except by auto-merge.
    tokens = {TOKEN, *(job_token(n) for n in range(100, 600))}
    requests = server.requests()
    assert {r["token"] for r in requests} <= tokens
    merges = [r for r in requests if r["method"] == "PUT" and r["path"].endswith("/merge")]
    assert merges
    assert all(r["body"]["auto_merge"] is True and r["body"]["sha"] for r in merges)
    # Never asked for a refused one: a conflict, or a project that does not require a pipeline.
    refused = {n for n in range(100, 600) if n % 100 == 3 or good_release(n).conflicts}
    assert not {int(r["path"].split("/")[4]) for r in merges} & refused


def test_a_release_whose_canary_goes_red_stops_before_the_second_wave_naming_the_failures(
    server, tmp_path, monkeypatch, capsys
):
    state = tmp_path / "state.json"
    earlier = len(server.requests())
    with Runners(server, lambda number, target: bad_release(number)) as runners:
        status, said = roll_until_it_ends(server, state, "v3.0.0", monkeypatch, capsys, runners)
    assert status == 1
    plan = waves.load(state)
    canary = [member.project for member in plan.waves[0]]
    assert plan.wave == 0
    assert plan.stopped.startswith(f"wave 1: {len(canary)} of {len(canary)} projects failed")
    stop = said.index(next(line for line in said if line.startswith("Stopped before wave 2")))
    named = [line for line in said[stop + 1 :] if line.startswith("- ")]
    assert sorted(line.split(":")[0].removeprefix("- ") for line in named) == sorted(canary)
    assert all("a draft: the job found conflicts or a failed check" in line for line in named)
    played = {unquote(r["path"].split("/")[4]) for r in server.requests()[earlier:] if r["path"].endswith("/play")}
    second = {member.project for member in plan.waves[1]}
    assert not played & second  # the second wave never started
    # Resumed while the canary is still red, it stops again and starts nothing more.
    status, out = roll(server, state, "v3.0.0", monkeypatch, capsys, "--resume")
    assert status == 1
    assert "Stopped before wave 2" in out


@pytest.mark.fast
def test_the_waves_are_a_canary_then_each_growth_times_the_last():
    rows = [fleet_report.Row(f"g/p{n}", "", "behind", "v1.0.0", 1, branch="main") for n in range(100)]
    planned = waves.plan(rows, [], share=0.02, growth=4)
    assert [len(w) for w in planned] == [2, 8, 32, 58]
    named = waves.plan(rows, ["g/p7", "g/p9"], share=0.5, growth=2)
    assert [m.project for m in named[0]] == ["g/p7", "g/p9"]
    assert [len(w) for w in named] == [2, 4, 8, 16, 32, 38]
    assert waves.plan(rows, [], 0.02, 4)[0] == planned[0]  # the same canary each time
    assert waves.plan([], [], 0.02, 4) == []


@pytest.mark.fast
@pytest.mark.parametrize(
    ("recorded", "merge_request", "job", "expected"),
    [
        ("v2.0.0", None, "", ("done", "on v2.0.0")),
        ("v1.0.0", {"state": "merged"}, "", ("done", "merged")),
        ("v1.0.0", {"state": "opened", "head_pipeline": {"status": "success"}}, "",
         ("done", "pipeline green, waiting to be merged")),
        ("v1.0.0", {"state": "opened", "has_conflicts": True}, "", ("failed", "conflicts (u)")),
        ("v1.0.0", {"state": "opened", "draft": True}, "",
         ("failed", "a draft: the job found conflicts or a failed check (u)")),
        ("v1.0.0", {"state": "opened", "head_pipeline": {"status": "failed"}}, "",
         ("failed", "its pipeline failed (u)")),
        ("v1.0.0", {"state": "opened", "head_pipeline": {"status": "running"}}, "", ("waiting", "its pipeline runs")),
        ("v1.0.0", {"state": "opened"}, "", ("waiting", "its merge request waits for a pipeline")),
        ("v1.0.0", None, "failed", ("failed", "the template-update job failed (see its log)")),
        ("v1.0.0", None, "running", ("waiting", "no merge request yet")),
    ],
)  # fmt: skip
def test_a_started_projects_outcome_is_read_from_its_release_merge_request_and_job(
    recorded, merge_request, job, expected
):
    mr = {**merge_request, "web_url": "u"} if merge_request else None
    assert waves.outcome_of(recorded, "v2.0.0", ["v1.0.0", "v2.0.0"], mr, job) == expected


@pytest.mark.fast
def test_a_wave_fails_when_more_than_the_threshold_of_its_started_projects_failed():
    def wave(failed: int, done: int, skipped: int = 0) -> list[waves.Member]:
        kinds = [waves.FAILED] * failed + [waves.DONE] * done + [waves.SKIPPED] * skipped
        return [waves.Member(f"p{i}", "v1.0.0", "main", kind) for i, kind in enumerate(kinds)]

    assert waves.verdict(wave(1, 9), 0.1)[0]
    assert not waves.verdict(wave(2, 8), 0.1)[0]
    assert waves.verdict(wave(1, 9, skipped=5), 0.1)[0]  # the skipped are not the release's fault
    assert waves.verdict(wave(0, 0, skipped=3), 0.1)[0]


@pytest.mark.fast
def test_the_state_is_kept_whole_between_runs():
    state = waves.State("v2.0.0", [[waves.Member("a/b", "v1.0.0", "main", waves.DONE, "merged")]], 1, ["x"], "", 4, 0.2)
    assert waves.State.from_json(state.to_json()) == state
    assert state.finished


def test_a_dry_run_shows_the_plan_and_starts_nothing(server, tmp_path, monkeypatch, capsys):
    before = [r for r in server.requests() if r["path"].endswith("/play")]
    state = tmp_path / "state.json"
    canary = FLEET[7]["path_with_namespace"]
    status, said = rollout(server, monkeypatch, capsys, "--canary", canary, "--state", str(state))
    out = said.splitlines()
    assert status == 0
    assert out[0] == f"canary 1: 1 projects ({canary})"
    assert out[-1] == "Rollout to v3.0.0 (dry run: add --run to go on)."
    assert not state.exists()
    assert [r for r in server.requests() if r["path"].endswith("/play")] == before
    _, said = rollout(server, monkeypatch, capsys, "--canary", "acme/elsewhere", "--state", str(state))
    out = said.splitlines()
    assert out[0] == "--canary acme/elsewhere: not a project of acme behind v3.0.0, so not in the canary."
    assert out[1].startswith("canary 1: 10 projects (")  # a share instead


@pytest.mark.fast
def test_the_rollout_reads_the_branches_label_and_job_the_template_update_job_makes():
    assert sync.branch_for("v2.0.0") == f"{waves.BRANCH_PREFIX}v2.0.0"
    assert (fleet_report.LABEL, fleet_report.UPDATE_JOB) == (sync.LABEL, sync.JOB_NAME)
