"""Unit tests of the template's tool list (extensions/tools.py), without Copier."""

from __future__ import annotations

import pytest
import tools

pytestmark = pytest.mark.fast  # the fast tier: no process, no render (tests/conftest.py)


def test_every_project_gets_lint_test_and_hooks_and_the_checkers_group_only_with_one():
    assert list(tools.tool_groups("none")) == ["lint", "test", "hooks"]
    assert tools.tool_groups("mypy")["types"] == ["mypy>=2.4"]
    assert list(tools.tool_groups("ty")) == ["lint", "test", "types", "hooks"]


@pytest.mark.parametrize(
    ("checker", "names"),
    [
        ("mypy", ["ruff", "pytest", "pytest-cov", "mypy", "pre-commit-hooks", "detect-secrets", "uv-build"]),
        ("none", ["ruff", "pytest", "pytest-cov", "pre-commit-hooks", "detect-secrets", "uv-build"]),
    ],
)
def test_the_names_renovate_leaves_to_the_template_are_every_tool_and_the_build_backend(checker, names):
    assert tools.tool_names(checker) == names
