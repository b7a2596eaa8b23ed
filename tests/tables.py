"""Makes extensions/python_names.json, the names a generated project's package must not take,
from their sources rather than by hand:

- ``stdlib``: each supported Python's standard-library module names, from the ``stdlibs``
  package (PyPI, omnilib/stdlibs: every CPython release's ``sys.stdlib_module_names`` and
  its private and test modules);
- ``tools``: every distribution, top-level module and console script the project's own tools
  install (all dependency groups, either type checker, the oldest Python: the most markers;
  the docs group on the oldest Python it supports), read from real renders' synced
  environments and locks.

    uv run python -m tests.tables     # rewrite the file; tests/test_identity.py checks it
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import stdlibs

from extensions.registry import MODULES  # the rule modules, loaded as Copier's extension loads them
from tests import kit

TABLE = kit.ROOT / "extensions" / "python_names.json"

# Run by each render's own interpreter: what its environment installed.
_INSTALLED = r"""
import importlib.metadata as md, json, re
modules, scripts, names = set(), set(), set()
for dist in md.distributions():
    names.add(re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower())
    scripts.update(ep.name for ep in dist.entry_points if ep.group in ("console_scripts", "gui_scripts"))
    for file in dist.files or []:
        top = file.parts[0]
        if top == ".." and "bin" in file.parts:  # a binary installed as a script (ruff, ty)
            scripts.add(file.name)
            continue
        if len(file.parts) == 1 and not top.endswith((".py", ".so", ".pyd")):
            continue
        if top.endswith((".dist-info", ".data")) or top in ("..", "__pycache__"):
            continue
        name = top.split(".")[0]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and not name.endswith("__mypyc"):  # not mypyc's hashed modules
            modules.add(name)
print(json.dumps({"distributions": sorted(names), "modules": sorted(modules), "scripts": sorted(scripts)}))
"""


def stdlib_names() -> dict[str, list[str]]:
    images = MODULES["images"]
    return {version: sorted(stdlibs.stdlib_module_names(version)) for version in images.SUPPORTED_PYTHONS}


def tool_names(template: Path, work: Path) -> dict[str, list[str]]:
    """What the tools of a project install, over renders of ``template`` with each type checker,
    and with the documentation site."""
    docs_python = ".".join(map(str, MODULES["tools"].DOCS_PYTHON))
    found: dict[str, set[str]] = {"distributions": set(), "modules": set(), "scripts": set()}
    renders = {"mypy": ("mypy", "3.10", False), "ty": ("ty", "3.10", False), "docs": ("mypy", docs_python, True)}
    for name, (checker, python, docs) in renders.items():
        project = work / name
        kit.run(
            [
                *(sys.executable, "-m", "copier", "copy", "--trust", "--defaults"),
                *_data(checker, python, docs),
                *(template, project),
            ],
            work,
        )
        kit.run(["uv", "sync", "--locked", "--all-groups"], project)
        installed = json.loads(kit.run([project / ".venv" / "bin" / "python", "-c", _INSTALLED], project))
        for key, names in installed.items():
            found[key] |= set(names)
        # and what installs on other platforms (colorama on Windows): every locked package
        found["distributions"] |= {package["name"] for package in kit.read_toml(project / "uv.lock")["package"]}
    for key in found:  # the project itself is not a tool
        found[key] -= {kit.DISTRIBUTION, kit.PACKAGE, "_" + kit.PACKAGE}
    return {key: sorted(names) for key, names in found.items()}


def _data(checker: str, python: str, docs: bool) -> list[str]:
    answers = {**kit.BASELINE, "python_version": python, "type_checker": checker, "docs": str(docs).lower()}
    return [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]


def tables(template: Path, work: Path) -> dict[str, Any]:
    return {
        "about": "Made by tests/tables.py (uv run python -m tests.tables); checked by tests/test_identity.py.",
        "stdlib": stdlib_names(),
        "tools": tool_names(template, work),
    }


if __name__ == "__main__":
    kit.use_test_environment()
    with tempfile.TemporaryDirectory() as folder:
        template = kit.snapshot_template(Path(folder) / "template")
        TABLE.write_text(json.dumps(tables(template, Path(folder)), indent=1) + "\n", encoding="utf-8")
    subprocess.run(["git", "diff", "--stat", "--", str(TABLE)], check=False)
