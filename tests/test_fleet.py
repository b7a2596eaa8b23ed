"""``fleet report`` against a loopback GitLab (tests/gitlab_server.py) holding a fixture fleet:
projects on several releases, spelled-differently template URLs, a malformed answers file, an
archived project, one without access, one that times out, one rate-limited, a conflicted
draft, projects of other templates and groups; and a generated fleet of 2,000 projects."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import gitlab
import pytest
from PIL import Image

from fleet import __main__ as fleet_command
from fleet import convergence, waves
from fleet import report as fleet_report
from tests.kit import ROOT, headless_chromium, run
from tests.servers import GitLab, gitlab_project, serving_gitlab

TEMPLATE_URL = "https://gitlab.example.com/platform/copier-uv-gitlab.git"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TOKEN = "glpat-fleet-reader-000000"


def answers(commit: str, source: str = TEMPLATE_URL) -> str:
    return f"# Changes here will be overwritten by Copier\n_commit: {commit}\n_src_path: {source}\nproject_name: X\n"


def scheduled(number: int, drift: str, update: str) -> dict:
    jobs = [
        {"id": number * 10 + i, "name": name, "status": status}
        for i, (name, status) in enumerate(
            [("lint", "success"), ("template-drift", drift), ("template-update", update)]
        )
    ]
    return {"id": number, "source": "schedule", "ref": "main", "status": "success", "jobs": jobs}


def merge_request(draft: bool, conflicts: bool, days: int) -> dict:
    created = (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "iid": 1,
        "state": "opened",
        "source_branch": "template-update/v2.0.0",
        "title": ("Draft: " if draft else "") + "Update the template to v2.0.0",
        "labels": ["template-update"],
        "draft": draft,
        "has_conflicts": conflicts,
        "created_at": created,
        "web_url": "https://gitlab.example.com/mr/1",
    }


project = gitlab_project


WEEKLY = {"id": 0, "description": "weekly", "ref": "main", "cron": "0 6 * * 1", "active": True}
WEEKLY_ELSEWHERE = {**WEEKLY, "id": 4, "ref": "release-1.x"}  # not the default branch: not the update's

FLEET = [
    project(1, "platform/copier-uv-gitlab", tags=["v1.0.0", "v1.1.0", "v2.0.0", "not-a-release"]),
    project(
        10,
        "acme/payments",
        files={".copier-answers.yml": answers("v2.0.0")},
        pipelines=[scheduled(100, "success", "success")],
    ),
    project(
        11,
        "acme/team-a/ledger",
        files={".copier-answers.yml": answers("v1.0.0")},
        pipelines=[scheduled(110, "failed", "success"), {**scheduled(109, "success", "success"), "source": "push"}],
        merge_requests=[merge_request(draft=True, conflicts=True, days=20)],
        schedules=[WEEKLY_ELSEWHERE, {**WEEKLY, "id": 5}],
    ),
    project(
        12,
        "acme/team-a/billing",
        files={".copier-answers.yml": answers("v1.1.0-3-gabc1234")},
        merge_requests=[merge_request(draft=False, conflicts=False, days=3)],
    ),
    project(
        22,
        "acme/team-c/api",
        files={".copier-answers.yml": answers("v1.1.0")},
        pipelines=[scheduled(220, "success", "success")],
        schedules=[{**WEEKLY, "id": 7}],
    ),
    project(13, "acme/broken", files={".copier-answers.yml": "_src_path: [unclosed\n"}),
    project(14, "acme/old", archived=True, files={".copier-answers.yml": answers("v1.0.0")}),
    project(24, "acme/archived-elsewhere", archived=True, files={".copier-answers.yml": answers("1.0.0", "gh:x/y")}),
    project(25, "acme/archived-plain", archived=True, files={}),
    project(15, "acme/secret", deny=403),
    project(16, "acme/other-template", files={".copier-answers.yml": answers("1.2.0", "gh:pawamoy/copier-uv")}),
    project(17, "acme/no-copier", files={}),
    project(
        18,
        "acme/team-b/throttled",
        throttle=2,
        files={".copier-answers.yml": answers("v2.0.0", "git+https://GitLab.example.com/platform/copier-uv-gitlab/")},
        pipelines=[scheduled(180, "success", "success")],
    ),
    project(19, "acme/team-b/hash", files={".copier-answers.yml": answers("bde805f")}),
    project(20, "acme/team-b/slow", slow=3, files={".copier-answers.yml": answers("v2.0.0")}),
    project(21, "other/payments", files={".copier-answers.yml": answers("v1.0.0")}),
]


def connect(gitlab_server: GitLab, timeout: float = 2) -> gitlab.Gitlab:
    """The command's client settings, with a short timeout for the slow project."""
    return gitlab.Gitlab(
        gitlab_server.api.removesuffix("/api/v4/"),
        private_token=TOKEN,
        timeout=timeout,
        retry_transient_errors=False,
        per_page=100,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[GitLab]:
    with serving_gitlab(tmp_path_factory.mktemp("fleet"), FLEET) as loopback:
        yield loopback


@pytest.fixture(scope="module")
def prompt_server(tmp_path_factory) -> Iterator[GitLab]:
    """The fleet without its slow project, for the command line's tests: the command waits out
    each of its answers (3 s; the report's tests time out on purpose), which they do not test."""
    fleet = [entry for entry in FLEET if not entry.get("slow")]
    with serving_gitlab(tmp_path_factory.mktemp("rollout"), fleet) as loopback:
        yield loopback


@pytest.fixture(scope="module")
def fixture_report(server) -> fleet_report.Report:
    fleet = fleet_report.Fleet(lambda: connect(server), now=NOW)
    return fleet_report.report(fleet, "acme", "platform/copier-uv-gitlab", [TEMPLATE_URL])


def rows(result: fleet_report.Report) -> dict[str, fleet_report.Row]:
    return {row.project: row for row in result.rows}


def test_the_report_has_a_row_for_every_project_of_the_group_made_from_the_template(fixture_report):
    assert sorted(rows(fixture_report)) == [
        "acme/broken",
        "acme/old",
        "acme/payments",
        "acme/secret",
        "acme/team-a/billing",
        "acme/team-a/ledger",
        "acme/team-b/hash",
        "acme/team-b/slow",
        "acme/team-b/throttled",
        "acme/team-c/api",
    ]  # not the template, nor another template's, nor a project without Copier, nor another group's
    assert fixture_report.newest == "v2.0.0"


def test_each_rows_release_jobs_and_merge_request(fixture_report):
    found = rows(fixture_report)
    current = found["acme/payments"]
    assert (current.state, current.release, current.behind, current.drift, current.update) == (
        "current",
        "v2.0.0",
        0,
        "success",
        "success",
    )
    assert current.merge_request is None
    ledger = found["acme/team-a/ledger"]
    assert (ledger.state, ledger.release, ledger.behind, ledger.drift, ledger.update) == (
        "behind",
        "v1.0.0",
        2,
        "failed",
        "success",  # the scheduled pipeline's, not the push's
    )
    assert ledger.merge_request == {
        "title": "Draft: Update the template to v2.0.0",
        "url": "https://gitlab.example.com/mr/1",
        "draft": True,
        "conflicts": True,
        "age_days": 20,
    }
    billing = found["acme/team-a/billing"]
    assert (billing.release, billing.behind, billing.drift) == ("v1.1.0", 1, "never scheduled")
    assert (billing.merge_request["draft"], billing.merge_request["age_days"]) == (False, 3)
    assert (found["acme/team-b/hash"].state, found["acme/team-b/hash"].release) == ("unknown release", "bde805f")


def test_what_cannot_be_read_is_named_apart_and_never_ends_the_run(fixture_report):
    found = rows(fixture_report)
    # Archived, and made from the template: its release is read (archived projects made from
    # another template, or none, are no rows at all).
    assert (found["acme/old"].state, found["acme/old"].release) == ("archived", "v1.0.0")
    assert (found["acme/secret"].state, found["acme/secret"].detail) == ("no access", "GitLab answered 403")
    assert (found["acme/team-b/slow"].state, found["acme/team-b/slow"].detail) == ("unreachable", "timed out")
    assert found["acme/broken"].state == "malformed answers"
    assert found["acme/broken"].detail.startswith(".copier-answers.yml")
    throttled = found["acme/team-b/throttled"]  # two 429s, waited out
    assert (throttled.state, throttled.release, throttled.update) == ("current", "v2.0.0", "success")


def test_the_worst_come_first(fixture_report):
    states = [row.state for row in fixture_report.rows]
    assert states == sorted(states, key=fleet_report.ORDER.index)
    assert (states[0], states[-1]) == ("no access", "archived")


def test_the_outputs_table_json_and_html(fixture_report):
    table = fleet_report.as_table(fixture_report)
    assert table.splitlines()[0].split() == [
        "project",
        "state",
        "release",
        "behind",
        "drift",
        "update",
        "merge",
        "request",
    ]
    ledger_line = next(line for line in table.splitlines() if line.startswith("acme/team-a/ledger"))
    assert ledger_line.split()[1:] == [
        "behind",
        "v1.0.0",
        "2",
        "failed",
        "success",
        "open",
        "20",
        "d",
        "(draft,",
        "conflicts)",
    ]
    assert table.splitlines()[-1] == (
        "10 projects in acme (newest release v2.0.0): 1 no access, 1 unreachable, 1 malformed answers, "
        "1 unknown release, 3 behind, 2 current, 1 archived."
    )
    data = json.loads(fleet_report.as_json(fixture_report))
    assert {row["project"]: row["behind"] for row in data["rows"]}["acme/team-a/ledger"] == 2
    page = fleet_report.as_html(fixture_report)
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Projects by release"' in page
    assert '<a href="https://gitlab.example.com/acme/team-a/ledger">acme/team-a/ledger</a>' in page


def fleet(server: GitLab, command: str, *arguments: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    """``fleet COMMAND`` for the fixture group, as a platform team runs it, the token in the environment."""
    env = {**os.environ, "GITLAB_URL": server.api.removesuffix("/api/v4/"), "GITLAB_TOKEN": token}
    template = ["--template-project", "platform/copier-uv-gitlab", "--template-url", TEMPLATE_URL]
    command_line = [sys.executable, "-m", "fleet", command, "--group", "acme", *template, *arguments]
    return subprocess.run(command_line, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)


def test_the_command_reads_the_token_from_the_environment_and_never_prints_it(prompt_server):
    server = prompt_server
    proc = fleet(server, "report", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["rows"]) == 9  # the fleet's ten but the slow one
    assert TOKEN not in proc.stdout + proc.stderr
    without = fleet(server, "report", token="")
    assert without.returncode == 2
    assert "set GITLAB_TOKEN" in without.stderr


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Iterator[GitLab]:
    """2,000 projects in nested subgroups, on every release, one in twenty archived."""
    projects = [project(1, "platform/copier-uv-gitlab", tags=[f"v1.{minor}.0" for minor in range(10)])]
    for number in range(2, 2002):
        path = f"big/team-{number % 25}/sub-{number % 3}/service-{number}"
        fixture = {
            "files": {".copier-answers.yml": answers(f"v1.{number % 10}.0")},
            "pipelines": [scheduled(number, "success", "failed" if number % 7 == 0 else "success")],
            "archived": number % 20 == 1,
        }
        projects.append(project(number, path, **fixture))
    with serving_gitlab(tmp_path_factory.mktemp("large-fleet"), projects) as loopback:
        yield loopback


def test_a_fleet_of_two_thousand_projects_costs_at_most_four_requests_per_project(large):
    fleet = fleet_report.Fleet(lambda: connect(large, timeout=30), now=NOW)
    started = time.monotonic()
    result = fleet_report.report(fleet, "big", "platform/copier-uv-gitlab", [TEMPLATE_URL])
    elapsed = time.monotonic() - started
    active = [row for row in result.rows if row.state != "archived"]
    assert (len(result.rows), len(active)) == (2000, 1900)
    assert {row.behind for row in active} == set(range(10))
    pages = 2000 // 100
    # The tags, the group's pages, four per active project (answers, pipeline, jobs, merge
    # requests) and one per archived project (its answers: is it the template's?).
    assert result.requests == 1 + pages + 4 * len(active) + (2000 - len(active))
    print(f"2,000 projects: {elapsed:.1f} s, {result.requests} requests")


def test_the_page_opens_in_headless_chromium_with_the_table_and_the_chart(fixture_report, tmp_path):
    page = tmp_path / "index.html"
    page.write_text(fleet_report.as_html(fixture_report), encoding="utf-8")
    browser = headless_chromium(tmp_path)
    dom = run([*browser, "--dump-dom", page.as_uri()], tmp_path)
    assert dom.count("<tr class=") == 10  # a row per project, as the browser built the table
    assert "acme/team-a/ledger" in dom
    assert "<rect" in dom  # the chart's bars
    shot = tmp_path / "fleet.png"
    run([*browser, f"--screenshot={shot}", "--window-size=1280,1400", page.as_uri()], tmp_path)
    with Image.open(shot) as image:
        colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 20)}
    # The chart as drawn: the newest release's bar, the behind releases', the unreadable projects'.
    assert {(0x2E, 0x7D, 0x32), (0xF9, 0xA8, 0x25), (0xC6, 0x28, 0x28)} <= colours
    print(f"screenshot: {shot}")


def played(server: GitLab) -> list[str]:
    return [r["path"] for r in server.requests() if r["method"] == "POST" and r["path"].endswith("/play")]


def rollout(server: GitLab, *arguments: str) -> subprocess.CompletedProcess[str]:
    return fleet(server, "rollout", *arguments)


def test_a_dry_run_shows_the_waves_of_the_projects_behind_and_starts_nothing(prompt_server, tmp_path):
    server = prompt_server
    before = played(server)
    state = tmp_path / "rollout.json"
    proc = rollout(server, "--state", str(state))
    assert proc.returncode == 0, proc.stderr
    behind = sorted(["acme/team-a/ledger", "acme/team-a/billing", "acme/team-c/api"], key=waves.spread)
    assert proc.stdout.splitlines() == [
        f"canary 1: 1 projects ({behind[0]})",  # 2 % of three: one
        f"wave 2: 2 projects ({behind[1]}, {behind[2]})",
        "Rollout to v2.0.0 (dry run: add --run to go on).",
    ]
    assert played(server) == before
    assert not state.exists()
    older = rollout(server, "--to", "v1.1.0", "--state", str(state))  # to an older release: only the one before it
    assert older.stdout.splitlines()[0] == "canary 1: 1 projects (acme/team-a/ledger)"
    assert len(older.stdout.splitlines()) == 2
    assert rollout(server, "--to", "v9", "--state", str(state)).returncode == 2


def test_a_run_plays_the_canarys_default_branch_schedule_and_waits_for_its_merge_request(prompt_server, tmp_path):
    """The canary, named, is the ledger: its default branch's schedule is played (not the one
    of its other branch), the others wait; its update merge request, a draft with conflicts,
    fails the wave, so the rollout stops there, and says so again when run again."""
    server = prompt_server
    before = played(server)
    state = tmp_path / "rollout.json"
    proc = rollout(server, "--run", "--canary", "acme/team-a/ledger", "--state", str(state))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["wave 1 of 2 started: 1 projects"]
    assert played(server)[len(before) :] == ["/api/v4/projects/acme%2Fteam-a%2Fledger/pipeline_schedules/5/play"]
    again = rollout(server, "--run", "--state", str(state))
    assert again.returncode == 1
    assert again.stdout.splitlines() == [
        "wave 1 of 2: 1 failed",
        "Stopped before wave 2: wave 1: 1 of 1 projects failed, more than 10%:",
        "- acme/team-a/ledger: conflicts (https://gitlab.example.com/mr/1)",
    ]
    assert played(server)[len(before) :] == ["/api/v4/projects/acme%2Fteam-a%2Fledger/pipeline_schedules/5/play"]
    assert json.loads(state.read_text())["stopped"].startswith("wave 1: 1 of 1")


@pytest.mark.fast
def test_help_names_every_environment_variable_the_command_reads():
    source = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "fleet").glob("*.py"))
    read = set(re.findall(r"os\.environ\.get\(\"([A-Z_]+)\"", source))
    assert read == {"GITLAB_TOKEN", "GITLAB_URL", "CI_SERVER_URL", "CI_PROJECT_ID", "CI_PROJECT_URL"}
    root = fleet_command.parser()
    subcommands = root._subparsers._group_actions[0].choices
    for parser in (root, *subcommands.values()):
        shown = parser.format_help()
        assert all(f"\n  {name} " in shown for name in read), parser.prog


# ---------------------------------------------------------------- convergence over the reports


def snapshot(at: str, **on: str) -> convergence.Snapshot:
    return convergence.Snapshot(
        at, ["v1.0.0", "v1.1.0", "v2.0.0"], {f"acme/{name}": release for name, release in on.items()}
    )


# Four weeks of one fleet: v2.0.0 comes out in week two and spreads; "d" cannot be read in week four.
HISTORY = [
    snapshot("2026-11-02T06:00:00Z", a="v1.1.0", b="v1.1.0", c="v1.0.0", d="v1.1.0"),
    snapshot("2026-11-09T06:00:00Z", a="v2.0.0", b="v1.1.0", c="v1.0.0", d="v1.1.0"),
    snapshot("2026-11-16T06:00:00Z", a="v2.0.0", b="v2.0.0", c="v1.1.0", d="v2.0.0"),
    snapshot("2026-11-23T06:00:00Z", a="v2.0.0", b="v2.0.0", c="v1.1.0", d=""),
]


@pytest.mark.fast
def test_adoption_is_each_releases_share_of_the_fleet_on_it_or_newer_at_each_report():
    curves = convergence.adoption(HISTORY)
    assert list(curves) == ["v1.0.0", "v1.1.0", "v2.0.0"]
    assert [share for _, share in curves["v2.0.0"]] == [0.0, 0.25, 0.75, 0.5]  # d unreadable: on none
    assert [share for _, share in curves["v1.1.0"]] == [0.75, 0.75, 1.0, 0.75]
    assert curves["v1.0.0"][0] == ("2026-11-02T06:00:00Z", 1.0)
    assert convergence.adoption([]) == {}


@pytest.mark.fast
def test_the_lag_is_counted_from_the_first_release_after_the_projects_own_and_says_why():
    dates = {"v1.0.0": "2026-10-01T00:00:00Z", "v1.1.0": "2026-10-20T00:00:00Z", "v2.0.0": "2026-11-05T12:00:00Z"}
    row, current, behind = fleet_report.Row, fleet_report.CURRENT, fleet_report.BEHIND
    report = fleet_report.Report(
        "acme",
        [
            row("acme/a", "", current, "v2.0.0", 0),
            row("acme/b", "", behind, "v1.1.0", 1, update="success"),
            row("acme/c", "", behind, "v1.0.0", 2, update="success", merge_request={"conflicts": True}),
            row("acme/e", "", behind, "v1.1.0", 1, update="failed", merge_request={"draft": True}),
            row("acme/f", "", behind, "v1.1.0", 1, update="never scheduled"),
            row("acme/d", "", fleet_report.NO_ACCESS),
            row("acme/old", "", fleet_report.ARCHIVED, "v1.0.0", 2),
        ],
        7,
        ["v1.0.0", "v1.1.0", "v2.0.0"],
        dates,
    )
    found = {lag.project: lag for lag in convergence.lags(report, NOW)}
    assert "acme/old" not in found  # archived: nobody works on it
    assert (found["acme/b"].releases, found["acme/b"].why) == (1, "waiting for a merge")
    assert (found["acme/c"].releases, found["acme/c"].why) == (2, "conflicts")
    assert found["acme/e"].why == "red checks"
    assert found["acme/f"].why == "no schedule"
    assert found["acme/d"].why == "no access"
    # c has been behind since v1.1.0 came out, b since v2.0.0 did.
    assert found["acme/c"].days == (NOW - fleet_report.moment(dates["v1.1.0"])).days
    assert found["acme/b"].days == (NOW - fleet_report.moment(dates["v2.0.0"])).days
    assert found["acme/c"].days > found["acme/b"].days > 0
    # Median over the projects whose release is known (a, b, c, e, f): 1 release.
    days, releases = convergence.median_lag(list(found.values()))
    assert releases == 1
    assert days == found["acme/b"].days
    assert [lag.project for lag in convergence.stuck(list(found.values()), count=2)] == ["acme/c", "acme/b"]


def test_the_page_draws_the_adoption_curves_from_the_history_in_headless_chromium(fixture_report, tmp_path):
    history_file = tmp_path / "fleet-history.jsonl"
    for earlier in HISTORY:
        convergence.append(history_file, earlier)
    history = convergence.append(history_file, convergence.snapshot_of(fixture_report))
    assert len(history) == len(HISTORY) + 1
    page = tmp_path / "index.html"
    section = convergence.section_html(fixture_report, history, NOW)
    page.write_text(fleet_report.as_html(fixture_report, section), encoding="utf-8")
    browser = headless_chromium(tmp_path)
    dom = run([*browser, "--dump-dom", page.as_uri()], tmp_path)
    assert dom.count("<polyline") == 3  # a curve per release
    assert "Median lag behind v2.0.0" in dom
    assert "acme/team-a/ledger" in dom.split("Stuck longest")[1]  # the furthest behind, named
    shot = tmp_path / "convergence.png"
    run([*browser, f"--screenshot={shot}", "--window-size=1280,1400", page.as_uri()], tmp_path)
    with Image.open(shot) as image:
        colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 20)}
    assert {(0x15, 0x65, 0xC0), (0x2E, 0x7D, 0x32)} <= colours  # the first curves, as drawn
