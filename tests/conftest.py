"""Fixtures over tests/kit.py: the committed template, and ``render`` bound to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import kit

kit.use_test_environment()


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    """The template under test, committed, tagged v1.0.0."""
    repo = kit.snapshot_template(tmp_path_factory.mktemp("template"))
    kit.git(repo, "tag", "v1.0.0")
    return repo


@pytest.fixture
def render(template_repo, tmp_path_factory) -> Callable[..., Path]:
    """``kit.render`` of the committed template into a new folder: ``render(tasks=..., **answers)``."""

    def _render(*, tasks: bool = True, **answers: Any) -> Path:
        dst = tmp_path_factory.mktemp("render") / kit.DISTRIBUTION
        return kit.render(template_repo, dst, answers, tasks=tasks)

    return _render


@pytest.fixture
def refusal(template_repo, tmp_path) -> Callable[..., str]:
    """Render with answers that must be refused; return Copier's message.

    Also checks that the refusal happened before anything was written.
    """

    def _refusal(**answers: Any) -> str:
        dst = tmp_path / "refused"
        with pytest.raises(Exception) as refused:  # noqa: PT011 - copier raises several types
            kit.render(template_repo, dst, answers)
        assert not dst.exists(), f"files were written: {list(dst.rglob('*'))}"
        return str(refused.value)

    return _refusal
