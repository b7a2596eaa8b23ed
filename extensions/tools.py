"""The tools every generated project runs, by dependency group, in one list.

pyproject.toml renders its dependency groups from it, and renovate.json leaves these names
to the template-update job: a template release moves their ranges in every project at once,
and Renovate's lock file maintenance moves the locked versions within them. Plain functions,
unit-tested without Copier (tests/test_tools.py).
"""

from __future__ import annotations

import re

# Each tool within the release series this template is tested with: the upper bound is the
# next series that may change what the tool reports (ruff and mypy add rules in minor
# releases; ty is 0.0.x, where every release may; pytest and the others follow semver), so
# `uv lock --upgrade` (Renovate's lock file maintenance) moves a tool only within its series,
# and only a template release moves it across (tests/test_tools.py holds every range to it).
# The type checker's group, by the type_checker answer ("none": no group).
TYPE_CHECKERS = {"mypy": "mypy>=2.4,<2.5", "ty": "ty>=0.0.108,<0.0.109"}
LINT = ["ruff>=0.17,<0.18"]
TEST = ["pytest>=9,<10", "pytest-cov>=7,<8"]
HOOKS = ["pre-commit-hooks>=6,<7", "detect-secrets>=1.5,<1.6"]  # what the git hooks and the secrets job run
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
