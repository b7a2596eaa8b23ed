"""A generated project is green on arrival: its own toolchain passes without an edit."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import identity
import images
import pytest

from tests.kit import (
    BASELINE,
    DISTRIBUTION,
    OFFLINE,
    answers_of,
    check_green,
    commit_all,
    copier_cli,
    git,
    interpreter,
    run,
    tool,
)


@pytest.mark.parametrize(
    "version",
    [pytest.param(v, id=v if interpreter(v) else f"{v}-static-no-interpreter-here") for v in images.SUPPORTED_PYTHONS],
)
def test_generated_project_passes_its_own_checks(version, render):
    if interpreter(version) is None:
        # Nothing can install or run a project for a Python this machine lacks:
        # lint and format-check its sources with ruff targeting that version instead.
        project = render(python_version=version, env=OFFLINE)
        run([tool("ruff"), "check", "--no-cache", "."], project)
        run([tool("ruff"), "format", "--check", "--no-cache", "."], project)
        return

    project = render(python_version=version)
    commit_all(project, "generated")
    check_green(project, shared_environment=False)  # a developer's first session, .venv and all
    output = run(["uv", "run", "--locked", DISTRIBUTION, "Ada", "--shout"], project)
    assert output.splitlines()[-1] == "HELLO, ADA!"
    assert f"Python {version}" in run(["uv", "run", "python", "--version"], project)

    # Already formatted: formatting changes nothing, and nothing new is left untracked.
    run(["uv", "run", "--locked", "ruff", "format", "."], project)
    assert git(project, "status", "--porcelain") == ""


def test_a_copy_without_uv_keeps_the_project_and_says_how_to_finish_it(template_repo, tmp_path):
    no_uv_path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "uv").exists())
    dst = tmp_path / "project"
    output = copier_cli("copy", template_repo, dst, cwd=tmp_path, env={"PATH": no_uv_path})
    assert "warning: uv.lock was not created: uv is not on PATH." in output
    assert f"run `uv lock` in {dst}." in output
    assert (dst / "pyproject.toml").is_file()
    assert not (dst / "uv.lock").exists()


NAMES = {
    "custom-package-name": {"package_name": "payments"},
    "50-character-name": {"project_name": "Customer Relationship Management Integration Service"},
    "90-character-name": {
        "project_name": "Customer Relationship Management Integration Service for the Northern Region Billing Team"
    },
    "longest-names": {"distribution_name": "d" * identity.MAX_NAME, "package_name": "p" * identity.MAX_NAME},
}


@pytest.mark.parametrize("answers", NAMES.values(), ids=NAMES.keys())
def test_every_accepted_name_gives_a_green_project(answers, render):
    project = render(**answers)
    check_green(project)
    package = answers_of(project)["package_name"]
    assert [path.name for path in (project / "src").iterdir()] == [package]


def unreachable_index() -> dict[str, str]:
    """An organisation index on a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {
        "package_index_url": f"https://127.0.0.1:{port}/simple",
        "package_index_mode": "replace",
        "package_index_auth": "none",
    }


def without_interpreter(version: str) -> dict[str, str]:
    """A PATH on which no Python ``version`` is found (uv never downloads one in the tests)."""
    kept = [
        folder for folder in os.environ["PATH"].split(os.pathsep) if not list(Path(folder).glob(f"python{version}*"))
    ]
    return {"PATH": os.pathsep.join(kept)}


@pytest.mark.parametrize(
    ("answers", "env", "cause"),
    [
        pytest.param({"python_version": "3.12"}, without_interpreter("3.12"), "3.12", id="no-interpreter"),
        pytest.param(unreachable_index(), {}, "127.0.0.1", id="unreachable-index"),
    ],
)
def test_a_copy_whose_lock_fails_keeps_the_project_and_says_why_in_a_few_lines(
    answers, env, cause, template_repo, tmp_path
):
    dst = tmp_path / "project"
    output = copier_cli("copy", template_repo, dst, cwd=tmp_path, data={**BASELINE, **answers}, env=env)
    lines = output.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("warning: uv.lock was not created")))
    end = lines.index(f"  The rest of the project is in place. Once that is fixed, run `uv lock` in {dst}.")
    warning = lines[start : end + 1]
    assert len(warning) <= 8, warning
    assert cause in "\n".join(warning)
    assert (dst / "pyproject.toml").is_file()
    assert not (dst / "uv.lock").exists()
    assert "import subprocess" not in output  # no task code dumped
