"""The suite's own rules (docs/maintaining.md, "Testing"): a test marked fast starts no process;
the tests and benchmarks import by module name (`uv run python -m tests.tables`, pytest's
`pythonpath`), never by editing the interpreter's import path."""

from __future__ import annotations

import ast
import os
import subprocess

import pytest

from tests.conftest import StartedAProcess
from tests.kit import ROOT


@pytest.mark.fast
def test_a_fast_test_that_starts_a_process_fails_naming_the_command():
    with pytest.raises(StartedAProcess, match=r"\['git', 'status'\]"):
        subprocess.run(["git", "status"], check=False)
    with pytest.raises(StartedAProcess, match="'true'"):
        os.system("true")


def test_other_tests_start_processes():
    assert subprocess.run(["true"], check=False).returncode == 0


def edits_of_the_import_path(source: str) -> list[int]:
    """The lines where ``source`` changes the interpreter's import path, read from its syntax
    tree: a call of a method of the ``sys`` module's ``path`` (insert, append, ...) or an
    assignment to it, under whatever name the module was imported."""
    tree = ast.parse(source)
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "sys"
    }

    def is_the_path(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") in names

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and is_the_path(node.func.value):
            lines.append(node.lineno)
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            lines += [node.lineno for target in targets if is_the_path(target)]
    return sorted(lines)


@pytest.mark.fast
def test_the_import_path_check_finds_each_kind_of_edit_under_any_name():
    # Each sample line is put together from its parts, so this file holds no line that reads as
    # an edit of the import path (to this check, or to a search of the text).
    path = "interpreter." + "path"
    edits = [f"{path}.insert(0, 'x')", f"{path}.append('y')", f"{path} += ['z']", f"{path} = []"]
    source = "\n".join(["import sys as interpreter", *edits, f"print({path}, interpreter.version)", ""])
    assert edits_of_the_import_path(source) == [2, 3, 4, 5]
    assert edits_of_the_import_path("import os\nos.path.join('a')\n") == []


@pytest.mark.fast
def test_no_test_or_benchmark_edits_the_import_path():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in ("tests", "benchmarks")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in edits_of_the_import_path(path.read_text(encoding="utf-8"))
    ]
    assert found == []
