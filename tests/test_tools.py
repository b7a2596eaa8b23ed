"""Unit tests of the template's tool list (extensions/tools.py), without Copier."""

from __future__ import annotations

import pytest
import tools
from packaging.requirements import Requirement
from packaging.version import Version

pytestmark = pytest.mark.fast  # the fast tier: no process, no render (tests/conftest.py)


def test_every_project_gets_lint_test_and_hooks_and_the_checkers_group_only_with_one():
    assert list(tools.tool_groups("none")) == ["lint", "test", "hooks"]
    assert tools.tool_groups("mypy")["types"] == ["mypy>=2.4,<2.5"]
    assert list(tools.tool_groups("ty")) == ["lint", "test", "types", "hooks"]
    assert list(tools.tool_groups("ty", docs=True)) == ["lint", "test", "types", "hooks", "docs"]


@pytest.mark.parametrize(
    ("checker", "names"),
    [
        ("mypy", ["ruff", "pytest", "pytest-cov", "mypy", "prek", "pre-commit-hooks", "detect-secrets", "uv-build"]),
        ("none", ["ruff", "pytest", "pytest-cov", "prek", "pre-commit-hooks", "detect-secrets", "uv-build"]),
    ],
)
def test_the_names_renovate_leaves_to_the_template_are_every_tool_and_the_build_backend(checker, names):
    assert tools.tool_names(checker) == names
    assert tools.tool_names(checker, docs=True) == [*names[:-1], "zensical", "mkdocstrings-python", "uv-build"]


@pytest.mark.parametrize(
    ("python_version", "refused"), [("3.10", True), ("3.11", False), ("3.14", False), ("3.9", True), ("x", False)]
)
def test_the_site_is_refused_only_on_a_python_zensical_has_no_wheel_for(python_version, refused):
    """Zensical's wheels are cp311-abi3 (requires-python >=3.11); an unreadable version is the
    python_version rule's to refuse."""
    assert bool(tools.docs_error(True, python_version)) is refused
    assert tools.docs_error(False, python_version) == ""


def test_the_dev_container_runs_the_checks_the_project_has():
    assert tools.editor_extensions("none") == ["ms-python.python", "charliermarsh.ruff"]
    assert tools.editor_extensions("mypy")[-1] == "ms-python.mypy-type-checker"
    assert tools.editor_extensions("ty")[-1] == "astral-sh.ty"


def test_every_tool_is_held_to_the_release_series_the_template_tests():
    """Renovate's lock file maintenance runs `uv lock --upgrade`: only an upper bound keeps it
    from moving a tool into a series the template never ran; a template release moves it."""
    checkers = [group for checker in tools.TYPE_CHECKERS for group in tools.tool_groups(checker, docs=True).values()]
    for requirement in {requirement for group in checkers for requirement in group}:
        parsed = Requirement(requirement)
        (floor,) = [Version(spec.version) for spec in parsed.specifier if spec.operator == ">="]
        (ceiling,) = [Version(spec.version) for spec in parsed.specifier if spec.operator == "<"]
        series = floor.release[: len(ceiling.release)]
        assert ceiling.release == (*series[:-1], series[-1] + 1), f"{requirement}: not the next series"
        if parsed.name in {"ruff", "mypy", "ty", "detect-secrets"}:  # their new releases report new findings
            assert len(ceiling.release) >= 2, f"{requirement}: a new major series only"
