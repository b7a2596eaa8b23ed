"""The tools every generated project runs, by dependency group, in one list.

pyproject.toml renders its dependency groups from it, and renovate.json leaves these names
to the template-update job: a template release moves their ranges in every project at once,
and Renovate's lock file maintenance moves the locked versions within them. Plain functions,
unit-tested without Copier (tests/test_tools.py).
"""

from __future__ import annotations

import re

# The type checker's group, by the type_checker answer ("none": no group).
TYPE_CHECKERS = {"mypy": "mypy>=2.4", "ty": "ty>=0.0.104"}
LINT = ["ruff>=0.17"]
TEST = ["pytest>=9", "pytest-cov>=7"]
HOOKS = ["pre-commit-hooks>=6", "detect-secrets>=1.5"]  # what the git hooks and the secrets job run
BUILD_BACKEND = "uv_build"  # build-system.requires, pinned to the uv minor (images.py)


def tool_groups(type_checker: str) -> dict[str, list[str]]:
    """The dependency groups of the template's tools, in the order `dev` includes them."""
    types = {"types": [TYPE_CHECKERS[type_checker]]} if type_checker in TYPE_CHECKERS else {}
    return {"lint": LINT, "test": TEST, **types, "hooks": HOOKS}


def tool_names(type_checker: str) -> list[str]:
    """The distributions the template pins, normalised (PEP 503) as Renovate names packages,
    for renovate.json to leave alone."""
    requirements = [requirement for group in tool_groups(type_checker).values() for requirement in group]
    names = [re.match(r"[A-Za-z0-9._-]+", requirement).group(0) for requirement in [*requirements, BUILD_BACKEND]]
    return [re.sub(r"[-_.]+", "-", name).lower() for name in names]


# What copier.yml and the templates call, by name (extensions/registry.py registers it).
JINJA_GLOBALS = {
    "tool_groups": tool_groups,
    "tool_names": tool_names,
}
