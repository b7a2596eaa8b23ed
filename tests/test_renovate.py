"""Renovate works with the template, not against it: Renovate itself (the npm package pinned in
.ci/tools) runs with its local platform on generated projects and on this repository, and
the tests read its own report file (and, for the branches it plans, its own JSON log).

Where a claim is about what Renovate pushes (a relocked uv.lock, a security fix outside the
schedule), it runs as the group's scheduled job runs it (docs/renovate.md, "Running Renovate for a whole
group"): on the GitLab platform, against the loopback GitLab of tests/gitlab_server.py, with
uv from PATH (Renovate's ``binarySource: global``) relocking, the project's git repository a
bare one the test reads back, and OSV's database served by the loopback vulnerability service.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.kit import (
    OFFLINE,
    ROOT,
    check_schema,
    commit_all,
    copier_cli,
    git,
    node_tool,
    pipeline,
    render_with,
    run,
    snapshot_template,
)
from tests.servers import PASSWORD, USER, GitLab, Index, publish, serving_gitlab, serving_index, serving_osv

IMAGES = ROOT / "extensions" / "images.py"
ANNOTATION = re.compile(r"# renovate: datasource=[a-z-]+")
RELEASE = r"\d+\.\d+\.\d+"
IMAGE = r"[a-z0-9.-]+(/[a-z0-9._-]+)+:[\w.-]+(@sha256:\w+)?"


def renovate(project: Path, mode: str, env: dict[str, str] | None = None) -> tuple[dict, list[dict]]:
    """Run Renovate on ``project`` (``--dry-run=mode``); return its report for the repository
    and its JSON log records."""
    report = project.parent / f"{project.name}-renovate-report.json"
    settings = {
        "RENOVATE_X_IGNORE_RE2": "true",  # its native regex module is built for another Node
        "RENOVATE_ONBOARDING": "false",
        "RENOVATE_REQUIRE_CONFIG": "optional",
        "RENOVATE_BASE_DIR": str(project.parent / f"{project.name}-renovate"),
        "LOG_LEVEL": "debug",
        "LOG_FORMAT": "json",
    }
    command = [
        node_tool("renovate", "keeps dependencies fresh"),
        "--platform=local",
        f"--dry-run={mode}",
        "--report-type=file",
        f"--report-path={report}",
    ]
    proc = subprocess.run(
        command, cwd=project, capture_output=True, text=True, check=False, env={**os.environ, **settings, **(env or {})}
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return json.loads(report.read_text())["repositories"]["local"], records


def validate(config: Path) -> str:
    """Renovate's own validator, strict, as a repository's configuration."""
    validator = node_tool("renovate-config-validator", "checks Renovate configurations")
    env = {"RENOVATE_X_IGNORE_RE2": "true"}
    return run([validator, "--strict", "--no-global", config.name], config.parent, env)


def deps(report: dict) -> dict[str, dict]:
    """Every dependency Renovate found, by name, with the file it found it in."""
    return {
        dep["depName"]: {**dep, "packageFile": package_file["packageFile"]}
        for files in report["packageFiles"].values()
        for package_file in files
        for dep in package_file["deps"]
    }


# ---------------------------------------------------------------- in a generated project


def test_renovate_extracts_the_teams_dependencies_and_the_lock_and_nothing_the_template_owns(render):
    project = render()
    run(["uv", "add", "--quiet", "attrs>=23"], project)
    commit_all(project, "the team's own dependency")
    report, _ = renovate(project, "extract")
    assert list(report["packageFiles"]) == ["pep621"]  # no copier, gitlabci, dockerfile or pyenv
    (package_file,) = report["packageFiles"]["pep621"]
    assert (package_file["packageFile"], package_file["lockFiles"]) == ("pyproject.toml", ["uv.lock"])
    assert deps(report)["attrs"]["depType"] == "project.dependencies"


@pytest.fixture(scope="module")
def looked_up(copie_session, template_repo, tmp_path_factory) -> Iterator[tuple[dict, list[dict]]]:
    """A project on the organisation's index (acme-utils pinned to it as internal), after both
    its dependencies got newer releases, looked up by Renovate through its host rules. The
    index dates its releases (PEP 691 with upload times, as PyPI does), so the cooldown counts."""
    work = tmp_path_factory.mktemp("renovate")
    with serving_index(work / "index", dated=True) as index:
        for name in ("acme-utils", "payments-ledger"):
            publish(index, work / "packages", name, "1.0.0")
        answers = {
            "package_index_url": index.url,
            "package_index_packages": ["acme-utils"],
            "package_index_auth": "ci-variables",
        }
        project = render_with(copie_session, template_repo, answers, index.env())
        run(["uv", "add", "--quiet", "acme-utils==1.0.0", "payments-ledger==1.0.0"], project, index.env())
        commit_all(project, "depends on two packages of the index")
        publish(index, work / "packages", "acme-utils", "2.0.0")
        publish(index, work / "packages", "payments-ledger", "1.1.0")
        yield renovate(project, "full", renovate_environment(index) | NOW)


def renovate_environment(index: Index) -> dict[str, str]:
    """What the platform team's Renovate pipeline sets (docs/renovate.md, "Running Renovate for a whole
    group"): the organisation's CA for Renovate (Node) and for the uv it runs, the index's
    credentials from a masked variable."""
    rules = [
        {"matchHost": "127.0.0.1", "username": USER, "password": PASSWORD},
        {"matchHost": "pypi.org", "enabled": False},  # the tests' own: nothing beyond this machine
    ]
    return {
        "NODE_EXTRA_CA_CERTS": str(index.ca_bundle),
        "RENOVATE_CUSTOM_ENV_VARIABLES": json.dumps({"SSL_CERT_FILE": str(index.ca_bundle)}),
        "RENOVATE_HOST_RULES": json.dumps(rules),
    }


NOW = {"RENOVATE_FORCE": json.dumps({"schedule": []})}  # plan the weekly branches now, not on Monday


def updates(dep: dict) -> list[tuple[str, bool]]:
    return [(update["newVersion"], bool(update.get("pendingChecks"))) for update in dep.get("updates", [])]


def test_renovate_proposes_an_internal_release_at_once(looked_up):
    report, _ = looked_up
    assert updates(deps(report)["acme-utils"]) == [("2.0.0", False)]


def test_renovate_holds_other_new_releases_for_the_cooldown(looked_up):
    report, records = looked_up
    assert updates(deps(report)["payments-ledger"]) == [("1.1.0", True)]
    assert not [r for r in records if "do not have a releaseTimestamp" in r["msg"]]  # held for its age


def test_renovate_leaves_the_templates_tools_and_python_to_the_template(looked_up):
    report, _ = looked_up
    found = deps(report)
    owned = ["python", "ruff", "pytest", "pytest-cov", "mypy", "pre-commit-hooks", "detect-secrets", "uv_build"]
    assert {name: found[name].get("skipReason") for name in owned} == dict.fromkeys(owned, "disabled")


def test_renovate_proposes_nothing_for_the_template_owned_files(looked_up):
    report, _ = looked_up
    proposed = {dep["packageFile"] for dep in deps(report).values() if dep.get("updates")}
    assert proposed == {"pyproject.toml"}


def test_renovate_plans_one_weekly_branch_for_the_dependencies_and_one_for_the_lock(looked_up):
    _, records = looked_up
    planned = {record["branch"] for record in records if "branch" in record}
    assert "renovate/lock-file-maintenance-python-dependencies" in planned
    assert planned <= {
        "renovate/python-dependencies",
        "renovate/major-python-dependencies",
        "renovate/lock-file-maintenance-python-dependencies",
    }


# ---------------------------------------------------------------- as the group's job runs it, on GitLab

FLAGGED = {  # an OSV record as OSV's PyPI database holds it (the purl is what Renovate matches)
    "id": "PYSEC-2099-50",
    "modified": "2026-11-01T00:00:00Z",
    "summary": "payments-ledger writes card numbers to its log",
    "affected": [
        {
            "package": {"name": "payments-ledger", "ecosystem": "PyPI", "purl": "pkg:pypi/payments-ledger"},
            "versions": ["1.0.0"],
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}],
        }
    ],
}
WEEKLY = "renovate/python-dependencies"
SECURITY = "renovate/pypi-payments-ledger-vulnerability"


def off_schedule_zone() -> str:
    """A time zone in which it is not Monday before 7am now: the weekly schedule ("before 6am on
    monday") is not due there, with an hour to spare. The three are at least 9 hours apart, so
    at most one of them is in that 7-hour window."""
    for zone in ("UTC", "Asia/Tokyo", "Pacific/Honolulu"):
        now = datetime.now(ZoneInfo(zone))
        if not (now.weekday() == 0 and now.hour < 7):
            return zone
    raise AssertionError("unreachable: the zones are 9 hours apart")


@dataclass
class OnGitLab:
    origin: Path  # the project's repository, as Renovate pushed to it
    gitlab: GitLab
    zone: str
    env: dict[str, str]
    records: list[dict] = field(default_factory=list)  # the first run's log

    def run(self, extra: dict[str, str] | None = None) -> list[dict]:
        """Run Renovate over the project as the group's job does; return its JSON log records."""
        command = [
            node_tool("renovate", "keeps dependencies fresh"),
            "--platform=gitlab",
            f"--endpoint={self.gitlab.api}",
            "--git-url=ssh",  # the loopback GitLab gives the bare repository's file:// URL there
            "acme/payments",
        ]
        env = {**os.environ, **self.env, **(extra or {})}
        proc = subprocess.run(command, cwd=self.origin.parent, capture_output=True, text=True, check=False, env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        assert not [r for r in records if r.get("level", 0) >= 50], "Renovate logged errors"
        refused = [f"{r['method']} {r['path']}: {r['status']}" for r in self.gitlab.requests() if r["status"] >= 400]
        assert refused == [], "the loopback GitLab lacks what Renovate asked for"
        return records

    def opened(self) -> dict[str, dict]:
        """The merge requests Renovate opened, by source branch."""
        return {
            r["body"]["source_branch"]: r["body"]
            for r in self.gitlab.requests()
            if r["method"] == "POST" and r["path"].endswith("/merge_requests")
        }

    def changed(self, branch: str) -> dict[str, str]:
        """The files ``branch`` changes from main, with their new text."""
        names = git(self.origin, "diff", "--name-only", "main", branch).split()
        return {name: git(self.origin, "show", f"{branch}:{name}") for name in names}


def locked(lock_text: str, name: str) -> str:
    return next(p["version"] for p in tomllib.loads(lock_text)["package"] if p["name"] == name)


@pytest.fixture(scope="module")
def on_gitlab(copie_session, template_repo, tmp_path_factory) -> Iterator[OnGitLab]:
    """A project on GitLab depending on two packages of the organisation's index by range (one
    of them internal), each locked at 1.0.0; then 1.2.0 of one comes out, and 1.0.1 of the
    other, which fixes an advisory against 1.0.0. The index gives no release dates, as GitLab's
    registry. Renovate has run once, in a time zone where its weekly schedule is not due."""
    work = tmp_path_factory.mktemp("renovate-gitlab")
    zone = off_schedule_zone()
    with (
        serving_index(work / "index") as index,
        serving_osv(work / "osv", [FLAGGED]) as osv,
    ):
        for name in ("billing-core", "payments-ledger"):
            publish(index, work / "packages", name, "1.0.0")
        answers = {
            "package_index_url": index.url,
            "package_index_packages": ["payments-ledger"],
            "package_index_auth": "ci-variables",
            "renovate_timezone": zone,
        }
        project = render_with(copie_session, template_repo, answers, index.env())
        run(["uv", "add", "--quiet", "billing-core>=1.0", "payments-ledger>=1.0"], project, index.env())
        commit_all(project, "depends on two of the organisation's packages")
        origin = work / "payments.git"
        git(work, "clone", "--quiet", "--bare", str(project), str(origin))
        publish(index, work / "packages", "billing-core", "1.2.0")
        publish(index, work / "packages", "payments-ledger", "1.0.1")
        gitlab_project = {
            "id": 7,
            "path_with_namespace": "acme/payments",
            "default_branch": "main",
            "ssh_url_to_repo": origin.as_uri(),
            "http_url_to_repo": "https://gitlab.example.com/acme/payments.git",
            "web_url": "https://gitlab.example.com/acme/payments",
            "archived": False,
            "mirror": False,
            "empty_repo": False,
            "merge_method": "merge",
        }
        with serving_gitlab(work / "gitlab", [gitlab_project]) as gitlab:
            env = renovate_environment(index) | {
                "RENOVATE_TOKEN": "glpat-loopback-renovate-bot",
                "RENOVATE_GIT_AUTHOR": "Renovate Bot <renovate@example.com>",
                "RENOVATE_BASE_DIR": str(work / "renovate"),
                "RENOVATE_X_IGNORE_RE2": "true",
                "OSV_OFFLINE_DATABASE_URL": f"{osv.url}/osv-offline.zip",  # docs/renovate.md: OSV's mirror
                "OSV_OFFLINE_ROOT_DIR": str(work / "osv-offline"),
                "LOG_LEVEL": "debug",
                "LOG_FORMAT": "json",
            }
            renovated = OnGitLab(origin, gitlab, zone, env)
            renovated.records = renovated.run()
            yield renovated


def test_renovate_fixes_a_flagged_dependency_at_once_outside_the_schedule(on_gitlab):
    assert any(f"tz={on_gitlab.zone}" in r["msg"] and "before 6am on monday" in r["msg"] for r in on_gitlab.records)
    opened = on_gitlab.opened()
    assert list(opened) == [SECURITY]  # the weekly branch waits for Monday
    assert opened[SECURITY]["title"] == "Update dependency payments-ledger to v1.0.1 [SECURITY]"
    assert set(opened[SECURITY]["labels"].split(",")) == {"renovate", "security"}
    assert "PYSEC-2099-50" in opened[SECURITY]["description"]


def test_renovates_security_fix_is_relocked_by_uv_and_leaves_the_range_alone(on_gitlab):
    changed = on_gitlab.changed(SECURITY)
    assert list(changed) == ["uv.lock"]  # update-lockfile: the range >=1.0 already takes 1.0.1
    assert locked(changed["uv.lock"], "payments-ledger") == "1.0.1"
    assert locked(changed["uv.lock"], "billing-core") == "1.0.0"  # only the flagged package moves
    assert git(on_gitlab.origin, "log", "-1", "--format=%an", SECURITY).strip() == "Renovate Bot"


def test_renovate_proposes_an_in_range_release_on_the_weekly_schedule_as_a_lock_change(on_gitlab):
    dashboard = next(
        r["body"]["description"]
        for r in on_gitlab.gitlab.requests()
        if r["method"] == "POST" and r["path"].endswith("/issues")
    )
    # Not held for ever for want of a date: waiting only for Monday.
    awaiting = dashboard.split("## Awaiting Schedule")[1].split("##")[0]
    assert f"unschedule-branch={WEEKLY} -->Update dependency billing-core to v1.2.0" in awaiting
    assert WEEKLY not in git(on_gitlab.origin, "branch", "--list")

    on_gitlab.run(NOW)  # Monday morning
    changed = on_gitlab.changed(WEEKLY)
    assert list(changed) == ["uv.lock"]  # in range: the lock moves, pyproject.toml keeps >=1.0
    assert locked(changed["uv.lock"], "billing-core") == "1.2.0"
    assert WEEKLY in on_gitlab.opened()


def test_the_sites_group_job_passes_gitlabs_schema_and_runs_on_a_default_projects_ci_image(render, tmp_path):
    """The site's Renovate job (docs/renovate.md), as a platform team copies it: GitLab would take
    it, and its image is the one a default render's CI runs on (uv and Python, as Renovate's
    relock needs), so a template release that moves the image fails here until the page follows."""
    page = (ROOT / "docs" / "renovate.md").read_text(encoding="utf-8")
    section = page.split("## Running Renovate for a whole group")[1]
    block = section.split("```yaml\n")[1].split("```")[0]
    job = yaml.safe_load(block)["renovate"]
    (tmp_path / ".gitlab-ci.yml").write_text(block, encoding="utf-8")
    check_schema(tmp_path)
    assert job["image"] == pipeline(render(env=OFFLINE))["variables"]["UV_CI_IMAGE"]
    assert job["variables"]["RENOVATE_BINARY_SOURCE"] == "global"  # uv from the image
    assert "RENOVATE_CUSTOM_ENV_VARIABLES" in block  # the CA reaches uv's relock too


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"package_index_url": "https://gitlab.example.com/api/v4/groups/4/-/packages/pypi/simple"},
        {
            "package_index_url": "https://gitlab.example.com/api/v4/groups/4/-/packages/pypi/simple",
            "package_index_packages": ["payments-core", "ledger"],
        },
        {
            "package_index_url": "https://nexus.example.com/simple",
            "package_index_mode": "replace",
            "type_checker": "ty",
        },
        {"type_checker": "none", "renovate_timezone": "America/Argentina/Salta"},
    ],
    ids=["pypi", "index", "index-with-internal-packages", "replace-ty", "no-type-checker-a-time-zone"],
)
def test_every_generated_renovate_json_passes_renovates_validator(answers, render):
    assert "Config validated successfully" in validate(render(env=OFFLINE, **answers) / "renovate.json")


def test_no_renovate_answer_gives_no_configuration(render):
    assert not (render(env=OFFLINE, renovate=False) / "renovate.json").exists()


def test_a_repository_with_its_own_renovate_configuration_keeps_it_alone(template_repo, tmp_path):
    existing = tmp_path / "existing"
    (existing / ".gitlab").mkdir(parents=True)
    (existing / ".gitlab" / "renovate.json").write_text('{"extends": ["config:best-practices"]}\n')
    commit_all(existing, "our own Renovate configuration")
    copier_cli("copy", "--overwrite", template_repo, existing, cwd=tmp_path, env=OFFLINE)
    assert not (existing / "renovate.json").exists()  # Renovate would read it first


# ---------------------------------------------------------------- in this repository


def annotated_entries() -> dict[str, str]:
    """Every entry of the image table that names an image or a release: its line, by value."""
    source = IMAGES.read_text(encoding="utf-8")
    lines = source.splitlines()
    entries = {}
    for node in ast.parse(source).body:
        value = getattr(node, "value", None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            text = value.value
            if re.fullmatch(r"\d+\.\d+\.\d+", text) or re.fullmatch(
                r"[a-z0-9.-]+(/[a-z0-9._-]+)+:[\w.-]+(@sha256:\w+)?", text
            ):
                entries[text] = lines[node.lineno - 1]
    return entries


@pytest.mark.fast
def test_every_image_or_release_in_the_table_carries_the_annotation_renovate_reads():
    entries = annotated_entries()
    assert entries  # the table names some
    assert {text: line for text, line in entries.items() if not ANNOTATION.search(line)} == {}


def test_renovate_finds_every_uv_release_and_image_of_the_table_in_this_repository(tmp_path):
    assert "Config validated successfully" in validate(ROOT / "renovate.json")
    repository = snapshot_template(tmp_path / "template")
    report, _ = renovate(repository, "extract")
    (table,) = report["packageFiles"]["regex"]
    found = {(dep["depName"], dep["currentValue"]) for dep in table["deps"]}
    expected = set()
    for text, line in annotated_entries().items():
        image, _, tag = text.partition(":")
        expected.add((image, tag) if tag else (re.search(r"depName=(\S+)", line).group(1), text))
    assert found == expected
