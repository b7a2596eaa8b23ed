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
# The git hooks' runner (prek), what its hooks and the secrets job run.
HOOKS = ["prek>=0.5.10,<0.6", "pre-commit-hooks>=6,<7", "detect-secrets>=1.5,<1.6"]
# The documentation site (the `docs` answer): Zensical, the successor the Material for MkDocs
# team builds (Material itself is in maintenance and MkDocs 1.6 is its last release), and
# mkdocstrings' Python handler for the API reference. 0.0.x: Zensical 0.1 depends on
# `zensical-ui`, which the package index does not serve (it cannot be installed from PyPI).
DOCS = ["zensical>=0.0.73,<0.0.74", "mkdocstrings-python>=2.0,<2.1"]
# Zensical's wheels are built for CPython 3.11 and newer (cp311-abi3, requires-python >=3.11).
DOCS_PYTHON = (3, 11)
LINE_LENGTH = 100  # ruff's line-length in pyproject.toml, and the dev container's editor ruler
# The dev container's editor extensions: Python, ruff, and the type checker's own.
EDITOR_EXTENSIONS = ["ms-python.python", "charliermarsh.ruff"]
EDITOR_CHECKERS = {"mypy": "ms-python.mypy-type-checker", "ty": "astral-sh.ty"}
BUILD_BACKEND = "uv_build"  # build-system.requires, pinned to the uv minor (images.py)


def tool_groups(type_checker: str, docs: bool = False) -> dict[str, list[str]]:
    """The dependency groups of the template's tools, in the order `dev` includes them."""
    types = {"types": [TYPE_CHECKERS[type_checker]]} if type_checker in TYPE_CHECKERS else {}
    return {"lint": LINT, "test": TEST, **types, "hooks": HOOKS, **({"docs": DOCS} if docs else {})}


def tool_names(type_checker: str, docs: bool = False) -> list[str]:
    """The distributions the template pins, normalised (PEP 503) as Renovate names packages,
    for renovate.json to leave alone."""
    requirements = [requirement for group in tool_groups(type_checker, docs).values() for requirement in group]
    names = [re.match(r"[A-Za-z0-9._-]+", requirement).group(0) for requirement in [*requirements, BUILD_BACKEND]]
    return [re.sub(r"[-_.]+", "-", name).lower() for name in names]


def editor_extensions(type_checker: str) -> list[str]:
    """The VS Code extensions of the dev container: the checks the pipeline runs, in the editor."""
    return [*EDITOR_EXTENSIONS, *([EDITOR_CHECKERS[type_checker]] if type_checker in EDITOR_CHECKERS else [])]


def docs_error(docs: bool, python_version: str) -> str:
    """Why the documentation site cannot be built for ``python_version``, or ``""``."""
    major, _, minor = python_version.partition(".")
    if not docs or not (major.isdigit() and minor.isdigit()) or (int(major), int(minor)) >= DOCS_PYTHON:
        return ""
    floor = ".".join(map(str, DOCS_PYTHON))
    return (
        f"docs needs Python {floor} or newer (Zensical, which builds the site, runs on {floor}+), "
        f"not {python_version}: answer docs=false, or a newer python_version."
    )


# What copier.yml and the templates call, by name (extensions/registry.py registers it).
JINJA_GLOBALS = {
    "tool_groups": tool_groups,
    "tool_names": tool_names,
    "editor_extensions": editor_extensions,
    "line_length": LINE_LENGTH,
    "docs_supported": lambda python_version: not docs_error(True, python_version),
}
