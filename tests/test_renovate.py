"""Renovate works with the template, not against it: Renovate itself (the npm package pinned in
.ci/tools) runs with its local platform on generated projects and on this repository, and
the tests read its own report file (and, for the branches it plans, its own JSON log).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit import (
    OFFLINE,
    ROOT,
    commit_all,
    copier_cli,
    node_tool,
    render_with,
    run,
    snapshot_template,
)
from tests.servers import PASSWORD, USER, Index, publish, serving_index

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
    its dependencies got newer releases, looked up by Renovate through its host rules."""
    work = tmp_path_factory.mktemp("renovate")
    with serving_index(work / "index") as index:
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
        yield renovate(project, "full", renovate_environment(index))


def renovate_environment(index: Index) -> dict[str, str]:
    """What the platform team's Renovate pipeline sets (README, "Renovate"), from masked variables."""
    return {
        "NODE_EXTRA_CA_CERTS": str(index.ca_bundle),
        "RENOVATE_HOST_RULES": json.dumps([{"matchHost": "127.0.0.1", "username": USER, "password": PASSWORD}]),
        "RENOVATE_FORCE": json.dumps({"schedule": []}),  # plan the weekly branches now, not on Monday
    }


def updates(dep: dict) -> list[tuple[str, bool]]:
    return [(update["newVersion"], bool(update.get("pendingChecks"))) for update in dep.get("updates", [])]


def test_renovate_proposes_an_internal_release_at_once(looked_up):
    report, _ = looked_up
    assert updates(deps(report)["acme-utils"]) == [("2.0.0", False)]


def test_renovate_holds_other_new_releases_for_the_cooldown(looked_up):
    report, _ = looked_up
    assert updates(deps(report)["payments-ledger"]) == [("1.1.0", True)]


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
        {"type_checker": "none"},
    ],
    ids=["pypi", "index", "index-with-internal-packages", "replace-ty", "no-type-checker"],
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
