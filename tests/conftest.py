"""Shared test helpers: one baseline answer set, a render helper, and tool look-ups.

Every copy goes through ``render``/``render_error``, so every pytest-copie result
is checked: pytest-copie swallows exceptions into ``result.exception``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# The template's plain-Python parts, imported by their unit tests.
sys.path[:0] = [str(ROOT / "extensions"), str(ROOT / "migrations")]

from images import SUPPORTED_PYTHONS  # noqa: E402 - found through the path above

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# The answers every test starts from; a test overrides only what it is about.
BASELINE: dict[str, Any] = {
    "project_name": "Payment Service",
    "description": "Takes payments and keeps the books straight.",
    "author_name": "Payments Team",
    "author_email": "payments@example.com",
}

PYTHON_VERSIONS = list(SUPPORTED_PYTHONS)


def _put_interpreters_on_path() -> None:
    """Make every CPython the machine has findable by uv, and never download one.

    Interpreters built under pyenv are not on PATH by default (see FACTS.md).
    """
    pyenv = Path.home() / ".pyenv" / "versions"
    extra = [str(p / "bin") for p in sorted(pyenv.glob("3.*")) if (p / "bin").is_dir()]
    # The uv locked for this repo (in .venv/bin) goes first: tests run one known uv.
    head = [str(Path(sys.executable).parent), *reversed(extra)]
    os.environ["PATH"] = os.pathsep.join([*head, os.environ.get("PATH", "")])
    os.environ["UV_PYTHON_DOWNLOADS"] = "never"
    # Generated projects are tested as a developer sees them, not as CI does.
    os.environ.pop("VIRTUAL_ENV", None)


_put_interpreters_on_path()


def require_tool(name: str, why: str) -> str:
    """Path of the executable ``name``; skip when absent, but fail in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed ({why}); .ci/run installs it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def interpreter(version: str) -> str | None:
    """Path of a working CPython ``version`` interpreter on this machine, if any.

    A pyenv shim answers to every name but fails for versions it lacks: run it.
    """
    path = shutil.which(f"python{version}")
    if path is None:
        return None
    probe = subprocess.run([path, "-c", "import sys"], capture_output=True, check=False)
    return path if probe.returncode == 0 else None


def run(cmd: Sequence[str | Path], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run ``cmd`` in ``cwd``; fail the test with its output when it fails."""
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, cmd))} failed ({proc.returncode}) in {cwd}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc.stdout + proc.stderr


def read_toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


FIXED_DATE = "2026-01-01T00:00:00+00:00"


def git(cwd: Path, *args: str) -> str:
    """Run git with a fixed identity and date, so commits are reproducible."""
    env = {
        "GIT_AUTHOR_NAME": "Template Tests",
        "GIT_AUTHOR_EMAIL": "tests@example.com",
        "GIT_COMMITTER_NAME": "Template Tests",
        "GIT_COMMITTER_EMAIL": "tests@example.com",
        "GIT_AUTHOR_DATE": FIXED_DATE,
        "GIT_COMMITTER_DATE": FIXED_DATE,
    }
    return run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args], cwd, env)


def snapshot_template(dst: Path) -> Path:
    """Commit the template as it is in the work tree (edits included) into a new repo.

    Copier renders a dirty template from a throwaway commit with a new hash each
    time; a snapshot gives every render the same ``_commit`` and lets tests tag
    versions of the template.
    """
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dst / name)
    return commit_all(dst, "template snapshot")


def commit_all(repo: Path, message: str) -> Path:
    """Commit everything in ``repo``, making it a git repository first if needed."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return repo


def copier_cli(*args: str | Path, cwd: Path, data: Mapping[str, Any] = BASELINE) -> str:
    """Run the copier command line as a user does (trusted, defaults, ``data`` answers)."""
    answers = [arg for key, value in data.items() for arg in ("--data", f"{key}={value}")]
    return run([sys.executable, "-m", "copier", *args, "--trust", "--defaults", *answers], cwd)


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    """The template under test, committed, tagged v1.0.0."""
    repo = snapshot_template(tmp_path_factory.mktemp("template"))
    git(repo, "tag", "v1.0.0")
    return repo


@pytest.fixture
def render(copie, template_repo) -> Callable[..., Path]:
    """Render the template with the baseline answers plus ``overrides``; return the project."""

    def _render(**overrides: Any) -> Path:
        result = copie.copy(extra_answers={**BASELINE, **overrides}, template_dir=template_repo)
        assert result.exception is None, f"copy failed: {result.exception!r}"
        assert result.exit_code == 0
        assert result.project_dir is not None
        return result.project_dir

    return _render


@pytest.fixture
def render_error(copie, template_repo) -> Callable[..., str]:
    """Render with answers that must be refused; return the error message.

    Also checks that the refusal happened before anything was written.
    """

    def _render_error(**overrides: Any) -> str:
        result = copie.copy(extra_answers={**BASELINE, **overrides}, template_dir=template_repo)
        assert result.exception is not None, "the copy was expected to be refused"
        assert result.project_dir is None
        output_dir = copie.test_dir / f"copie{copie.counter - 1:03d}"
        assert not any(output_dir.iterdir()), f"files were written: {list(output_dir.iterdir())}"
        return str(result.exception)

    return _render_error


def render_without_tasks(template: Path, dst: Path, **overrides: Any) -> Path:
    """Render with Copier itself, tasks skipped: for a Python this machine lacks.

    The copy-time ``uv lock`` needs an interpreter of the project's version (and
    this machine cannot download one), so such renders are checked statically.
    """
    import copier  # noqa: PLC0415 - only these tests need the API

    copier.run_copy(
        str(template),
        dst,
        data={**BASELINE, **overrides},
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    return dst
