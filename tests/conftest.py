"""Fixtures over tests/kit.py: the committed template, and ``render`` bound to it; the fast
tier's guard; and the order the suite runs in."""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import answers as answers_gate
import pytest
from copier.errors import UserMessageError

from tests import kit

kit.use_test_environment()
kit.compile_each_text_once()
kit.read_file_mode_once_per_run()


# ---------------------------------------------------------------- the longest first
# The modules whose tests take longest, longest first (the sums of their tests' CPU times in a
# whole CI=true run, docs/maintaining.md, "Testing"; the answer space's three long tests before them all).
# They run before the rest, each module whole (its module fixtures set up once): pytest-xdist's
# worksteal gives each worker a contiguous share and an idle worker takes from the end of
# another's queue, so the last minutes run short tests on every worker instead of one worker's
# long update scenarios while the others wait.
LONGEST_FIRST = [
    "test_answer_space.py",
    "test_template_update.py",
    "test_pipeline.py",
    "test_security.py",
    "test_update.py",
    "test_organisation.py",
    "test_renovate.py",
    "test_docker.py",
    "test_generated_project.py",
    "test_docs.py",
]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The skipped tests, one line per reason (a missing system package names `.ci/run`, which
    installs it), whichever test or fixture met it first: `-ra` would list every location."""
    reasons = Counter(
        report.longrepr[2].removeprefix("Skipped: ")
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple)
    )
    if reasons:
        terminalreporter.section("skipped, by reason")
        for reason, count in reasons.most_common():
            terminalreporter.line(f"{count} skipped: {reason}")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``--numprocesses=auto`` (pyproject.toml): one worker per core, and one more. With one per
    core the cores were idle 18 % of a run (uv waiting on the index, Chromium, the loopback
    servers' delays: 2,516 s of CPU in a 1,537 s run on 2 cores); a third worker fills that time
    (2,568 s in 1,366 s, the same tests, every one passed). docs/maintaining.md, "Testing".

    The fast tier alone (``-m fast``) runs in this process: each worker would import and collect
    every module again for tests that take milliseconds (939 tests: 11 s of CPU in one process,
    24 s with three workers, and a longer wait)."""
    if config.getoption("markexpr") == "fast":
        return 0
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each module keeps its order


# ---------------------------------------------------------------- the fast tier

# `uv run pytest -m fast`: the rules, the image table, the sync logic and the report
# converters, as plain functions. A test marked fast may start no process (no render, no git,
# no uv, no pipeline), in its fixtures or its body: the guard fails it, so the marker cannot lie.


class StartedAProcess(AssertionError):
    """A test marked fast started a process."""


def _refuse_processes(*args: Any, **kwargs: Any) -> None:
    command = args[1] if args and isinstance(args[0], subprocess.Popen) else args[:1]
    msg = f"a test marked fast started a process: {command!r} (leave the mark off, or test the function instead)"
    raise StartedAProcess(msg)


@contextmanager
def _no_process_if_fast(item: pytest.Item) -> Iterator[None]:
    """Within a fast test's setup and call, every way to start a process raises."""
    with pytest.MonkeyPatch.context() as patch:
        if item.get_closest_marker("fast"):
            patch.setattr(subprocess.Popen, "_execute_child", _refuse_processes)
            for name in ("system", "posix_spawn", "posix_spawnp", "fork", "execv", "execve"):
                if hasattr(os, name):
                    patch.setattr(os, name, _refuse_processes)
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _no_process_if_fast(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _no_process_if_fast(item):
        return (yield)


@pytest.fixture(scope="session", autouse=True)
def _shared_green_checks(tmp_path_factory) -> None:
    """One environment and one mypy cache for this process's green checks (``kit.SHARED_GREEN``)."""
    kit.SHARED_GREEN = tmp_path_factory.mktemp("green")


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    """The template under test, committed, tagged v1.0.0."""
    repo = kit.snapshot_template(tmp_path_factory.mktemp("template"))
    kit.tag_release(repo, "v1.0.0")
    return repo


@pytest.fixture
def render(copie, template_repo) -> Callable[..., Path]:
    """Render with pytest-copie: ``render(template=..., env=..., **answers)`` returns the project.

    The committed template unless ``template`` is given; a render that raised fails the test
    with Copier's own error; the same render made earlier in this process is copied, unless
    ``reuse=False`` (``kit.render_with``).
    """

    def _render(
        *, template: Path | None = None, env: dict[str, str] | None = None, reuse: bool = True, **answers: Any
    ) -> Path:
        return kit.render_with(copie, template or template_repo, answers, env, reuse=reuse)

    return _render


@pytest.fixture
def refusal(copie, template_repo) -> Callable[..., str]:
    """Render with answers that must be refused; return the message (the answer gate's, the
    only refusal a render may end with: never Copier's validation traceback).

    Also checks that the refusal happened before anything was written.
    """

    def _refusal(**answers: Any) -> str:
        with pytest.raises(UserMessageError, match=f"^{re.escape(answers_gate.REFUSED)}") as refused:
            kit.render_with(copie, template_repo, answers)
        assert not [path for path in Path(copie.test_dir).rglob("*") if path.is_file()], "files were written"
        return str(refused.value)

    return _refusal
