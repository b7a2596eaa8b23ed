"""A generated project is green on arrival: its own toolchain passes without an edit."""

from __future__ import annotations

import os
from pathlib import Path

import images
import pytest

from tests.kit import DISTRIBUTION, check_green, commit_all, copier_cli, git, interpreter, run, tool


@pytest.mark.parametrize(
    "version",
    [pytest.param(v, id=v if interpreter(v) else f"{v}-static-no-interpreter-here") for v in images.SUPPORTED_PYTHONS],
)
def test_generated_project_passes_its_own_checks(version, render):
    if interpreter(version) is None:
        # Nothing can install or run a project for a Python this machine lacks:
        # lint and format-check its sources with ruff targeting that version instead.
        project = render(python_version=version, tasks=False)
        run([tool("ruff"), "check", "--no-cache", "."], project)
        run([tool("ruff"), "format", "--check", "--no-cache", "."], project)
        return

    project = render(python_version=version)
    commit_all(project, "generated")
    check_green(project)
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
