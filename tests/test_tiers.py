"""The suite's own rules (docs/maintaining.md, "Testing"): a test marked fast starts no process;
the tests and benchmarks import by module name (`uv run python -m tests.tables`, pytest's
`pythonpath`), never by editing `sys.path`."""

from __future__ import annotations

import os
import re
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


@pytest.mark.fast
def test_no_test_or_benchmark_edits_sys_path():
    edits = re.compile(r"sys\.path\.(?:insert|append|extend)|sys\.path\s*(?:\+=|=)")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("tests", "benchmarks")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if edits.search(line) and path.name != "test_tiers.py"
    ]
    assert found == []
