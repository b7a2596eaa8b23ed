"""Fixtures over tests/kit.py: the committed template, and ``render`` bound to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import answers as answers_gate
import pytest
from copier.errors import UserMessageError

from tests import kit

kit.use_test_environment()


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    """The template under test, committed, tagged v1.0.0."""
    repo = kit.snapshot_template(tmp_path_factory.mktemp("template"))
    kit.git(repo, "tag", "v1.0.0")
    return repo


@pytest.fixture
def render(copie, template_repo) -> Callable[..., Path]:
    """Render with pytest-copie: ``render(template=..., env=..., **answers)`` returns the project.

    The committed template unless ``template`` is given; a render that raised fails the test
    with Copier's own error (``kit.render_with``).
    """

    def _render(*, template: Path | None = None, env: dict[str, str] | None = None, **answers: Any) -> Path:
        return kit.render_with(copie, template or template_repo, answers, env)

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
