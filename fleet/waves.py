"""``fleet rollout``: a template release through the fleet in waves that wait for each other.

The projects behind the release are split into waves: a canary first (the projects named with
``--canary``, else a small share of the fleet, chosen by a hash of their paths so it spreads
over the teams the same way each time), then waves ``--growth`` times larger than the one
before. A wave starts by playing each project's schedule on its default branch (the
template-update job runs there, ``start``). The next wave starts only once every
project of this one has an outcome:

- done: on the release (its answers file says so), or its update merge request merged, or
  that merge request's pipeline green (it waits for a person, or merges itself);
- failed, and why: conflicts, a draft (the job found conflicts or a failed check), a red
  pipeline, a failed template-update job, or no outcome within ``--wait-hours``;
- skipped, and why: the wave could not start it (no schedule on its default branch, no access):
  not the release's fault, so not counted against it.

When more than ``--threshold`` of a wave's started projects failed, the rollout stops there
and names them; ``--resume`` looks at that wave again after they are mended. Every run reads
and writes the rollout's state (``--state``, JSON): the template repository's scheduled
pipeline keeps it between runs (a cache, and an artifact to read), so each run takes the
rollout one step on: it evaluates the current wave and, when that wave passed, starts the next.

The API calls per project of the current wave, from docs.gitlab.com/api: its answers file
(repository_files.md, "Get raw file"), its merge requests from the release's branch
(merge_requests.md, ``source_branch``; each with its ``head_pipeline``), and when there is
none, its newest scheduled pipeline's jobs (pipelines.md, jobs.md).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import gitlab
import requests
import yaml

from fleet.report import (
    ANSWERS_FILE,
    ARCHIVED,
    UPDATE_JOB,
    Fleet,
    Report,
    Row,
    _failure,
    moment,
    releases_behind,
    releases_of,
    stamp,
)

# The update job's branches, template-update/vX.Y.Z (tests/test_rollout.py holds it to the job's).
BRANCH_PREFIX = f"{UPDATE_JOB}/"
DONE, FAILED, SKIPPED, WAITING = "done", "failed", "skipped", "waiting"


@dataclass
class Member:
    """A project of the rollout: where it started from, and what became of it."""

    project: str
    release: str
    branch: str  # its default branch, where the job runs
    outcome: str = WAITING  # DONE, FAILED, SKIPPED or WAITING
    why: str = ""


@dataclass
class State:
    """A rollout, as the state file keeps it between runs."""

    target: str
    waves: list[list[Member]]
    wave: int = 0  # the wave now under way (len(waves): all passed)
    started: list[str] = field(default_factory=list)  # when each wave started (ISO 8601, UTC)
    stopped: str = ""  # why it stopped ("": it goes on)
    wait_hours: float = 48.0
    threshold: float = 0.1

    @property
    def finished(self) -> bool:
        return self.wave >= len(self.waves)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> State:
        data = json.loads(text)
        waves = [[Member(**member) for member in wave] for wave in data.pop("waves")]
        return cls(waves=waves, **data)


# ---------------------------------------------------------------- pure decisions


def behind_of(result: Report, target: str) -> list[Row]:
    """The projects on a release older than ``target`` (archived and unreadable ones left out)."""
    order = releases_of([target, *(row.release for row in result.rows if row.behind is not None)])
    rank = {release: i for i, release in enumerate(order)}
    behind = [row for row in result.rows if row.behind is not None and rank[row.release] < rank[target]]
    return [row for row in behind if row.state != ARCHIVED]


def spread(project: str) -> str:
    """A project's place in the canary order: a hash of its path, the same in every run."""
    return hashlib.sha256(project.encode()).hexdigest()


def plan(rows: list[Row], canary: list[str], share: float, growth: float) -> list[list[Member]]:
    """The waves for ``rows``, the projects behind the release: the named canary (or ``share``
    of them, at least one), then each wave ``growth`` times the one before, the last one taking
    the rest."""
    members = [Member(row.project, row.release, row.branch or "main") for row in rows]
    named = [m for m in members if m.project in set(canary)]
    rest = sorted((m for m in members if m.project not in set(canary)), key=lambda m: spread(m.project))
    if not named:
        size = max(1, math.ceil(share * len(members))) if members else 0
        named, rest = rest[:size], rest[size:]
    waves = [named] if named else []
    size = len(named) or 1
    while rest:
        size = max(size + 1, math.ceil(size * growth))
        waves.append(rest[:size])
        rest = rest[size:]
    return waves


def outcome_of(
    recorded: str, target: str, releases: list[str], merge_request: dict | None, job: str
) -> tuple[str, str]:
    """A started project's outcome from what GitLab shows: its answers file's release, its
    update merge request (with its head pipeline), its last template-update job's status."""
    release, behind = releases_behind(recorded, releases)
    rank = {tag: i for i, tag in enumerate(releases)}
    if behind is not None and release in rank and rank[release] >= rank[target]:
        return DONE, f"on {release}"
    if merge_request:
        pipeline = (merge_request.get("head_pipeline") or {}).get("status")
        if merge_request.get("state") == "merged":
            return DONE, "merged"
        if merge_request.get("has_conflicts"):
            return FAILED, f"conflicts ({merge_request.get('web_url', '')})"
        if merge_request.get("draft"):
            return FAILED, f"a draft: the job found conflicts or a failed check ({merge_request.get('web_url', '')})"
        if pipeline == "failed":
            return FAILED, f"its pipeline failed ({merge_request.get('web_url', '')})"
        if pipeline == "success":
            return DONE, "pipeline green, waiting to be merged"
        if merge_request.get("state") == "closed":
            return FAILED, f"its merge request was closed ({merge_request.get('web_url', '')})"
        return WAITING, "its pipeline runs" if pipeline else "its merge request waits for a pipeline"
    if job == "failed":
        return FAILED, "the template-update job failed (see its log)"
    return WAITING, "no merge request yet"


def verdict(wave: list[Member], threshold: float) -> tuple[bool, list[Member]]:
    """Whether the wave passed, and its failed projects: it fails when more than ``threshold``
    of the projects it started failed."""
    started = [m for m in wave if m.outcome != SKIPPED]
    failed = [m for m in started if m.outcome == FAILED]
    return (not started or len(failed) <= threshold * len(started)), failed


# ---------------------------------------------------------------- GitLab


def look(fleet: Fleet, member: Member, target: str, releases: list[str]) -> tuple[str, str]:
    """What GitLab shows of ``member`` now, as an outcome."""
    project = fleet.gl.projects.get(member.project, lazy=True)
    try:
        text = project.files.raw(file_path=ANSWERS_FILE, ref=member.branch).decode()
        found = project.mergerequests.list(
            source_branch=f"{BRANCH_PREFIX}{target}", state="all", order_by="created_at", sort="desc", get_all=False
        )
        merge_request = found[0].asdict() if found else None
        job = "" if merge_request else (fleet.scheduled_jobs(project, member.branch) or {}).get(UPDATE_JOB, "")
    except (gitlab.GitlabError, requests.RequestException) as error:
        return WAITING, f"could not be read ({_failure(error)[1]})"
    try:
        answers = yaml.safe_load(text)
    except yaml.YAMLError:
        answers = None
    recorded = str(answers.get("_commit", "")) if isinstance(answers, dict) else ""
    return outcome_of(recorded, target, releases, merge_request, job)


def start(fleet: Fleet, project: str, branch: str) -> str:
    """Start the template-update job of ``project`` by playing its schedule on ``branch`` now
    (pipeline_schedules.md, "Run a scheduled pipeline immediately": the pipeline's source is
    ``schedule``, which the job runs on; a pipeline created through the API has the source
    ``api``, which it does not). Returns "" when it started, else why not."""
    handle = fleet.gl.projects.get(project, lazy=True)
    try:
        schedules = [
            s
            for s in handle.pipelineschedules.list(get_all=True, per_page=100)
            if s.active and s.ref in {branch, f"refs/heads/{branch}"}
        ]
        if not schedules:
            return f"no active pipeline schedule on {branch}"
        schedules[0].play()
    except (gitlab.GitlabError, requests.RequestException) as error:
        return _failure(error)[1]
    return ""


def start_wave(fleet: Fleet, state: State, now: datetime, workers: int = 8) -> None:
    """Play the schedules of the current wave's projects; those it cannot start are skipped."""
    wave = state.waves[state.wave]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        refusals = list(pool.map(lambda m: start(fleet, m.project, m.branch), wave))
    for member, refused in zip(wave, refusals, strict=True):
        if refused:
            member.outcome, member.why = SKIPPED, refused
    state.started.append(stamp(now))


def step(fleet: Fleet, state: State, releases: list[str], workers: int = 8) -> list[str]:
    """Take the rollout one step on: evaluate the current wave; stop it, or start the next one
    once it passed. Returns what to print."""
    said: list[str] = []
    while not state.finished and not state.stopped:
        if len(state.started) <= state.wave:
            start_wave(fleet, state, fleet.now, workers)
            wave = state.waves[state.wave]
            skipped = sum(m.outcome == SKIPPED for m in wave)
            said.append(f"wave {state.wave + 1} of {len(state.waves)} started: {len(wave) - skipped} projects"
                        + (f", {skipped} skipped" if skipped else ""))  # fmt: skip
            return said
        wave = state.waves[state.wave]
        deadline = moment(state.started[state.wave]).timestamp() + state.wait_hours * 3600
        looking = [m for m in wave if m.outcome != SKIPPED]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            seen = list(pool.map(lambda m: look(fleet, m, state.target, releases), looking))
        for member, (outcome, why) in zip(looking, seen, strict=True):
            late = outcome == WAITING and fleet.now.timestamp() >= deadline
            member.outcome = FAILED if late else outcome
            member.why = f"no merge and no green pipeline within {state.wait_hours:g} h ({why})" if late else why
        counts = Counter(m.outcome for m in wave)
        summary = ", ".join(f"{counts[o]} {o}" for o in (DONE, FAILED, SKIPPED, WAITING) if counts[o])
        said.append(f"wave {state.wave + 1} of {len(state.waves)}: {summary}")
        if counts[WAITING]:
            return said
        passed, failed = verdict(wave, state.threshold)
        if not passed:
            state.stopped = (
                f"wave {state.wave + 1}: {len(failed)} of {len(wave) - counts[SKIPPED]} projects failed, more than "
                f"{state.threshold:.0%}"
            )
            said.append(f"Stopped before wave {state.wave + 2}: {state.stopped}:")
            said += [f"- {m.project}: {m.why}" for m in failed]
            return said
        state.wave += 1
    if state.finished:
        said.append(f"Rollout to {state.target} finished: every wave passed.")
    return said


def begin(result: Report, target: str, canary: list[str], share: float, growth: float, **settings: float) -> State:
    """A new rollout of ``target`` over the projects of ``result`` behind it."""
    return State(target, plan(behind_of(result, target), canary, share, growth), **settings)


def load(path: Path) -> State | None:
    return State.from_json(path.read_text(encoding="utf-8")) if path.is_file() else None


def save(path: Path, state: State) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(state.to_json() + "\n", encoding="utf-8")


def describe(state: State) -> list[str]:
    """The plan, wave by wave (a dry run prints it)."""
    lines = []
    for number, wave in enumerate(state.waves, 1):
        kind = "canary" if number == 1 else "wave"
        names = ", ".join(m.project for m in wave[:5]) + (", ..." if len(wave) > 5 else "")
        lines.append(f"{kind} {number}: {len(wave)} projects ({names})")
    return lines
