"""The fast tier's promise (docs/maintaining.md, "Testing"): a test marked fast starts no process."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import StartedAProcess


@pytest.mark.fast
def test_a_fast_test_that_starts_a_process_fails_naming_the_command():
    with pytest.raises(StartedAProcess, match=r"\['git', 'status'\]"):
        subprocess.run(["git", "status"], check=False)
    with pytest.raises(StartedAProcess, match="'true'"):
        os.system("true")


def test_other_tests_start_processes():
    assert subprocess.run(["true"], check=False).returncode == 0
