"""A generated project is green on arrival: its own toolchain passes without an edit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PYTHON_VERSIONS, commit_all, git, interpreter, render_without_tasks, run

UV_CHECKS = [
    ["uv", "sync", "--locked"],
    ["uv", "run", "--locked", "ruff", "check", "."],
    ["uv", "run", "--locked", "ruff", "format", "--check", "."],
    ["uv", "run", "--locked", "pytest"],
    ["uv", "lock", "--check"],
]


@pytest.mark.parametrize(
    "version",
    [pytest.param(v, id=v if interpreter(v) else f"{v}-static-no-interpreter-here") for v in PYTHON_VERSIONS],
)
def test_generated_project_passes_its_own_checks(version, render, template_repo, tmp_path):
    if interpreter(version) is None:
        # Nothing can install or run a project for a Python this machine lacks:
        # lint and format-check its sources with ruff targeting that version instead.
        project = render_without_tasks(template_repo, tmp_path / "static", python_version=version)
        ruff = Path(sys.executable).with_name("ruff")
        run([ruff, "check", "--no-cache", "."], project)
        run([ruff, "format", "--check", "--no-cache", "."], project)
        return

    project = render(python_version=version)
    commit_all(project, "generated")
    for command in UV_CHECKS:
        run(command, project)
    output = run(["uv", "run", "--locked", "payment-service", "Ada", "--shout"], project)
    assert output.splitlines()[-1] == "HELLO, ADA!"
    assert f"Python {version}" in run(["uv", "run", "python", "--version"], project)

    # Already formatted: formatting changes nothing, and nothing new is left untracked.
    run(["uv", "run", "--locked", "ruff", "format", "."], project)
    assert git(project, "status", "--porcelain") == ""


def test_copy_without_uv_says_how_to_fix_it_and_leaves_nothing(template_repo, tmp_path):
    no_uv_path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "uv").exists())
    dst = tmp_path / "project"
    proc = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", str(template_repo), str(dst)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": no_uv_path},
        check=False,
    )
    assert proc.returncode != 0
    assert "uv is not on PATH, so uv.lock was not created" in proc.stderr
    assert not dst.exists()
