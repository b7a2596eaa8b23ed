# /// script
# requires-python = ">=3.10"
# dependencies = ["copier==9.19.1", "copier-template-extensions==0.3.4"]
# ///
"""What the template-drift and template-update jobs of every generated project do.

A project's `.gitlab/ci/template_sync.py` fetches this file from the template's newest
release and runs it with `uv run --script` (which installs the copier pinned above), so a
fix made here reaches every project at its next scheduled run, before any merge request:

    project_sync.py drift --ref TAG     # exit 0 up to date, 2 behind or edited, 1 failed
    project_sync.py update --ref TAG    # exit 0 done or nothing to do, 1 failed

It runs in the project's root, with git access to the template already in the environment
(the project's script sets it up). TAG is the release it came from. The root is the checkout a
GitLab runner makes, and nothing more is assumed: any GIT_DEPTH, the commit detached, only the
pipeline's ref fetched, no git identity. What the jobs need of the history (the update
branches back to their fork point, the answers file's earlier texts) they fetch themselves.

drift says whether the project is behind TAG, and which template-owned files differ from a
fresh render of the version the project records.

update proposes TAG as a merge request: `copier update --conflict inline` (conflicts stay
in the files as markers, where the merge request shows them), a commit on the branch
`template-update/v<version>`, the project's checks, and a push whose GitLab push options
open (or refresh) the merge request: a draft when a conflict or a check needs a human.
Branches are the team's unless proven otherwise, as Renovate treats the branches it made:
- the job owns a branch only while it is named for a version and every commit on it since
  the default branch is one the job made (its identity, as author and committer, and its
  trailer);
- it rebuilds and pushes only such a branch (or a new one), with `--force-with-lease` on
  the commit it saw, so a push that lands meanwhile is refused, never overwritten;
- it deletes only such a branch, once a newer version supersedes it;
- any other branch is left as it is, and the log says why; a newer version's merge
  request names the older branches the team kept and their commits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

# The rules the template applies at copy time, from this same release's extensions/.
TEMPLATE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE / "extensions"))
sys.path.insert(0, str(TEMPLATE / "template" / ".gitlab" / "ci"))  # the projects' own script: its release rule
from answers import computed, questions_of, recorded_answers_errors  # noqa: E402 (found through the path above)
from files import ENTRY_PIPELINE, template_pipeline_included  # noqa: E402
from template_sync import RELEASE  # noqa: E402

ANSWERS_FILE = ".copier-answers.yml"
MARKER = "Template-owned:"
BRANCH_PREFIX = "template-update/v"
LABEL = "template-update"
JOB_NAME = "template-update"
JOB_EMAIL = "template-update@noreply.invalid"  # TEMPLATE_UPDATE_EMAIL overrides it
TRAILER = "Template-Update-Job"
UP_TO_DATE, FAILED, BEHIND_OR_MODIFIED = 0, 1, 2
MIN_SECRET = 4  # shorter values would mask ordinary words
SECRET_VARIABLES = ("CI_JOB_TOKEN", "TEMPLATE_UPDATE_TOKEN", "TEMPLATE_REPOSITORY_URL")
# The project's own checks, each with only the dependency group it needs, as the pipeline's
# lint and test jobs install them: not the type checker, the site generator and the hooks'
# tools of the default groups, which no check here runs (0.7 s of CPU in each job's fresh
# environment). `uv run` syncs inexactly: the lint group stays for the tests.
CHECKS = (
    ("lock", ["uv", "lock", "--check"]),
    ("format", ["uv", "run", "--locked", "--only-group", "lint", "ruff", "format", "--check", "."]),
    ("lint", ["uv", "run", "--locked", "--only-group", "lint", "ruff", "check", "."]),
    ("tests", ["uv", "run", "--locked", "--no-default-groups", "--group", "test", "pytest"]),
)
# Lines the template's migrations print for the team (migrations/*.py): quoted in the MR.
NOTE = re.compile(r"^(note|warning): ")
MISSING = " (missing)"  # how the drift check lists a template-owned file the project lacks
CONFLICT_MARKER = re.compile(rb"^<<<<<<< ", re.MULTILINE)
# Where a question a release adds without a default can be answered, besides the answers file.
ANSWER_VARIABLE = "TEMPLATE_ANSWER_{}"
# What a refused push needs: the token the job pushes with, and what GitLab asks of it.
PUSH_ACCESS = (
    "the job pushes with TEMPLATE_UPDATE_TOKEN when it is set (a project access token with the "
    "write_repository scope and the Developer role), else with the job token, which may push only where "
    "Settings > CI/CD > Job token permissions allows Git pushes; and template-update/* must not be a "
    "protected branch the token cannot push to"
)


class SyncError(RuntimeError):
    """The job itself failed (not the project): the one error ``main`` reports."""


# ---------------------------------------------------------------- output and commands


def secrets(environ: dict[str, str]) -> list[str]:
    """The values of the variables that may hold a token."""
    return [value for name in SECRET_VARIABLES if len(value := environ.get(name, "")) >= MIN_SECRET]


def redact(text: str, environ: dict[str, str] | None = None) -> str:
    """``text`` with every token this job knows replaced, so no log shows one."""
    for secret in secrets(dict(os.environ) if environ is None else environ):
        text = text.replace(secret, "[MASKED]")
    return text


def say(line: str) -> None:
    """Write one line of the report, with every secret masked."""
    sys.stdout.write(redact(line) + "\n")
    sys.stdout.flush()


def run(cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in the project; with ``check``, a failure is a ``SyncError`` naming its last lines."""
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        last_lines = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise SyncError(redact(f"{' '.join(cmd[:3])} failed ({result.returncode}):\n{last_lines}"))
    return result


def git(*args: str, check: bool = True) -> str:
    """Run git; return what it printed, stripped."""
    return run(["git", *args], check=check).stdout.strip()


def copier(*args: str) -> str:
    """Run copier with this interpreter; return what it printed."""
    result = run([sys.executable, "-m", "copier", *args])
    return result.stdout + result.stderr


# ---------------------------------------------------------------- versions


def release(ref: str) -> Version | None:
    """The version a template ref stands for: ``v1.2.0`` -> 1.2.0; ``v1.2.0-3-gabc`` -> 1.2.0.post3."""
    match = re.fullmatch(r"(.+?)(?:-(\d+)-g[0-9a-f]+)?", ref)
    try:
        version = Version(match.group(1)) if match else None
    except InvalidVersion:
        return None
    if version is not None and match and match.group(2):
        return Version(f"{version.base_version}.post{match.group(2)}")
    return version


def newer(ref: str, recorded: str) -> bool:
    """Whether the release ``ref`` is newer than the version a project records: a recorded ``v2``
    (a bare tag proposed before releases were vX.Y.Z only) is older than the release v2.0.0."""
    new, old = release(ref) or Version("0"), release(recorded) or Version("0")
    return new > old or (new == old and ref != recorded and not RELEASE.fullmatch(recorded))


def branch_for(ref: str) -> str:
    """The update branch for a release: ``v2.0.0`` and ``2.0.0`` -> ``template-update/v2.0.0``."""
    return BRANCH_PREFIX + ref.removeprefix("v")


def branch_version(name: str) -> Version | None:
    """The version an update branch is named for, or None for any other name."""
    return release(name.removeprefix(BRANCH_PREFIX)) if name.startswith(BRANCH_PREFIX) else None


# ---------------------------------------------------------------- the project and its template


def read_answers(project: Path) -> dict:
    """The answers and template version the project records, checked first as copier.yml's gate
    checks them: an answers file Copier would crash on (empty, a list, broken YAML) or silently
    drop an answer of (``dockerfile: maybe``) is an error naming the file and line."""
    path = project / ANSWERS_FILE
    if not path.is_file():
        raise SyncError(f"{ANSWERS_FILE} is missing: the jobs need the answers the project was made with")
    if errors := recorded_answers_errors(path, questions_of(str(TEMPLATE / "copier.yml"))):
        raise SyncError("; ".join(errors))
    answers = yaml.safe_load(path.read_text(encoding="utf-8"))
    if str(answers["_src_path"]).startswith("-"):  # git and copier would read it as an option
        raise SyncError(f"{ANSWERS_FILE} records _src_path {str(answers['_src_path'])[:80]!r}, not a template location")
    return answers


def template_has(src: str, version: str) -> bool:
    """Whether the template at ``src`` (TEMPLATE_REPOSITORY_URL's, when set) has the tag ``version``."""
    listed = run(["git", "ls-remote", "--tags", "--refs", "--", src, f"refs/tags/{version}"], check=False)
    return listed.returncode == 0 and bool(listed.stdout.strip())


def check_known(answers: dict, ref: str) -> None:
    """Stop when the template the job reads lacks the version the project records: a mirror
    (TEMPLATE_REPOSITORY_URL) that is behind would otherwise say "up to date", or fail to render."""
    recorded, src = str(answers["_commit"]), str(answers["_src_path"])
    if RELEASE.fullmatch(recorded) and not template_has(src, recorded):
        where = (
            "TEMPLATE_REPOSITORY_URL" if os.environ.get("TEMPLATE_REPOSITORY_URL") else f"{ANSWERS_FILE}'s _src_path"
        )
        raise SyncError(
            f"the template this job reads ({where}) has no {recorded}, the version this project records "
            f"(its newest release there is {ref}): point {where} to a copy of the template that has it "
            "(a mirror that is behind the original, say)"
        )


@lru_cache(maxsize=8)
def version_questions(src: str, version: str) -> frozenset[str] | None:
    """The questions the template's ``version`` asks (its copier.yml, fetched alone), or None
    when it cannot be read."""
    ref = "refs/sync/template"
    fetched = run(["git", "fetch", "--quiet", "--no-tags", "--depth", "1", "--", src,
                   f"+refs/tags/{version}:{ref}"], check=False)  # fmt: skip
    shown = run(["git", "cat-file", "blob", f"{ref}:copier.yml"], check=False) if fetched.returncode == 0 else None
    if shown is None or shown.returncode != 0:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "copier.yml").write_text(shown.stdout, encoding="utf-8")
        return frozenset(questions_of(str(Path(tmp) / "copier.yml")))


def unanswered(answers: dict, environ: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The questions this release asks without a default that the project never answered: the
    answers found in their CI/CD variables (TEMPLATE_ANSWER_<NAME>), and the names still unanswered."""
    found, missing = {}, []
    for name, spec in questions_of(str(TEMPLATE / "copier.yml")).items():
        if name in answers or computed(spec) or "default" in spec or "when" in spec:
            continue
        if (value := environ.get(ANSWER_VARIABLE.format(name.upper()))) is not None:
            found[name] = value
        else:
            missing.append(name)
    return found, missing


def declares_ownership(content: bytes) -> bool:
    """Whether a file's content says, in its first lines, that the template owns it."""
    return any(MARKER in line for line in content[:1024].decode("utf-8", "replace").splitlines()[:3])


def template_owned(root: Path) -> list[Path]:
    """Files under ``root`` that declare themselves template-owned in their first lines."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)
    return [path.relative_to(root) for path in files if declares_ownership(path.read_bytes())]


def questions(answers: dict) -> dict:
    """The answers to the template's questions (Copier's own keys start with ``_``)."""
    return {key: value for key, value in answers.items() if not key.startswith("_")}


def render(answers: dict, folder: Path) -> Path:
    """The version the answers record, rendered with them into ``folder`` (no tasks, no lock)."""
    folder.mkdir(parents=True)
    data_file = folder / "answers.yml"
    given = questions(answers)
    # An answer to a question a later release adds (written into the answers file before the
    # update): the version rendered here does not know it, and its gate would refuse it.
    known = version_questions(str(answers["_src_path"]), str(answers["_commit"]))
    if known is not None:
        given = {name: value for name, value in given.items() if name in known}
    data_file.write_text(yaml.safe_dump(given, allow_unicode=True), encoding="utf-8")
    fresh = folder / "fresh"
    copier(
        "copy", "--trust", "--defaults", "--skip-tasks", "--quiet",
        "--vcs-ref", str(answers["_commit"]), "--data-file", str(data_file),
        "--", str(answers["_src_path"]), str(fresh),
    )  # fmt: skip
    return fresh


def same_file(one: Path, other: Path) -> bool:
    """Whether two paths hold the same bytes, or are both absent."""
    if one.is_file() and other.is_file():
        return one.read_bytes() == other.read_bytes()
    return not one.is_file() and not other.is_file()


def differing(project: Path, fresh: Path) -> list[str]:
    """Template-owned files of the render ``fresh`` that ``project`` lacks or holds otherwise."""
    changed = []
    for relative in template_owned(fresh):
        if not (project / relative).is_file():
            changed.append(f"{relative}{MISSING}")
        elif not same_file(project / relative, fresh / relative):
            changed.append(str(relative))
    return changed


def modified_files(project: Path, answers: dict) -> tuple[list[str], list[str]]:
    """Template-owned files of ``project`` that differ from a fresh render of its version, and
    the ones that render no longer has (an update renamed or removed them after the team had
    edited them, so the update kept them: nothing reads them any more)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = render(answers, Path(tmp) / "now")
        rendered = set(map(str, template_owned(fresh)))
        orphaned = [str(name) for name in template_owned(project) if str(name) not in rendered]
        return differing(project, fresh), orphaned


# ---------------------------------------------------------------- answers edited by hand


@dataclass(frozen=True)
class HandEdit:
    """Answers changed in the answers file by hand, after the template last rendered the project."""

    rendered: str  # the answers file as the project's files were rendered
    changes: dict[str, tuple[object, object]]  # question: (rendered with, answer now)
    modified: list[str]  # template-owned files that differ even from that render: the team's edits

    def summary(self) -> str:
        return ", ".join(f"{name}: {old!r} -> {new!r}" for name, (old, new) in self.changes.items())


def answers_history(remote: str, version: str) -> list[str]:
    """The answers file's texts in the checkout's history while it recorded ``version``, newest first.

    In a shallow checkout the pipeline's branch is fetched deeper, doubling, until that history
    reaches a text of another template version or the commit that added the file.
    """
    branch = os.environ.get("CI_COMMIT_BRANCH") or os.environ.get("CI_DEFAULT_BRANCH") or "main"
    depth = FIRST_DEPTH
    while True:
        listed = run(["git", "log", "-z", "--format=%H%x00%P", "--", ANSWERS_FILE], check=False).stdout.split("\0")
        texts, complete = [], not shallow()
        for sha, parents in zip(listed[0:-1:2], listed[1:-1:2], strict=True):
            text = run(["git", "show", f"{sha}:{ANSWERS_FILE}"], check=False).stdout
            loaded = yaml.safe_load(text) if text else None
            if not isinstance(loaded, dict) or str(loaded.get("_commit")) != version:
                complete = True  # the files were rendered from another version before this
                break
            texts.append(text)
            complete = complete or bool(parents)  # a boundary commit: earlier texts may lie below it
        if complete or depth > WHOLE_HISTORY:
            return texts
        fetched = run(["git", "fetch", "--quiet", "--no-tags", *depth_options(depth), remote,
                       f"+refs/heads/{branch}:refs/sync/head"], check=False)  # fmt: skip
        if fetched.returncode != 0:
            return texts
        depth *= 2


def hand_edit(project: Path, answers: dict, remote: str = "origin") -> HandEdit | None:
    """Whether the answers were edited by hand since the files were rendered, and from what.

    An earlier text of the answers file (at the same template version) is what the files were
    rendered with when, among the template-owned files its render and a render of the answers
    now disagree on, the project holds none as rendered now and some as rendered then (a file
    the team edited matches neither). Renders only when such an earlier text exists.
    """
    now = questions(answers)
    copier_keys = {key: value for key, value in answers.items() if key.startswith("_")}
    seen = [now]
    for text in answers_history(remote, str(answers["_commit"])):
        earlier = questions(yaml.safe_load(text))
        if earlier in seen:
            continue
        seen.append(earlier)
        with tempfile.TemporaryDirectory() as tmp:
            rendered_now = render(answers, Path(tmp) / "now")
            rendered_then = render({**copier_keys, **earlier}, Path(tmp) / "then")
            disputed = [
                name
                for name in sorted({*map(str, template_owned(rendered_now)), *map(str, template_owned(rendered_then))})
                if not same_file(rendered_now / name, rendered_then / name)
            ]
            as_now = [name for name in disputed if same_file(project / name, rendered_now / name)]
            as_then = [name for name in disputed if same_file(project / name, rendered_then / name)]
            if as_then and not as_now:
                names = sorted(set(now) | set(earlier))
                changes = {n: (earlier.get(n), now.get(n)) for n in names if earlier.get(n) != now.get(n)}
                return HandEdit(text, changes, differing(project, rendered_then))
    return None


def template_changes(changelog: str, old: str, new: str) -> list[str]:
    """The sections of the template's CHANGELOG.md after ``old`` up to ``new``."""
    lines, keep = [], False
    low, high = release(old), release(new)
    for line in changelog.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            version = release(heading.split()[0]) if heading else None
            keep = bool(version and low and high and low < version <= high)
            if keep:
                lines.append(f"**{heading}**")
        elif keep and line.strip():
            lines.append(line.rstrip())
    return lines or [f"- see the template's history from {old} to {new}"]


def conflicted_files(project: Path) -> list[str]:
    """Changed or new files that hold the conflict markers `--conflict inline` leaves."""
    changed = git("diff", "--name-only", "HEAD").splitlines()
    added = git("ls-files", "--others", "--exclude-standard").splitlines()
    found = []
    for name in sorted({*changed, *added}):
        path = project / name
        if path.is_file() and CONFLICT_MARKER.search(path.read_bytes()):
            found.append(name)
    return found


def notes_in(output: str) -> list[str]:
    """What the template's migrations told the team during the update, one entry per note."""
    notes: list[str] = []
    for line in output.splitlines():
        if NOTE.match(line):
            notes.append(NOTE.sub("", line).strip())
        elif notes and line.startswith("  ") and line.strip():
            notes[-1] += " " + line.strip()
    return notes


def run_checks() -> list[tuple[str, bool, str]]:
    """Each check of the project: (name, passed, the command line)."""
    results = []
    for name, cmd in CHECKS:
        outcome = run(cmd, check=False)
        results.append((name, outcome.returncode == 0, " ".join(cmd)))
        if outcome.returncode != 0:
            say(f"check {name} failed: {' '.join(cmd)}")
            for line in (outcome.stdout + outcome.stderr).strip().splitlines()[-15:]:
                say(f"  {line}")
    return results


# ---------------------------------------------------------------- branches: who owns which


def job_email(environ: dict[str, str]) -> str:
    """The address the job commits as (a project's push rules may need a verified one)."""
    return environ.get("TEMPLATE_UPDATE_EMAIL") or JOB_EMAIL


@dataclass(frozen=True)
class Commit:
    """A commit on an update branch, since the default branch."""

    sha: str
    author: str
    subject: str
    by_job: bool


@dataclass(frozen=True)
class Branch:
    """An update branch on the remote: its name, the commit the job saw, its own commits."""

    name: str
    sha: str
    commits: tuple[Commit, ...]

    @property
    def version(self) -> Version | None:
        return branch_version(self.name)

    @property
    def owned(self) -> bool:
        """Whether the job made every commit on it (and it has some): only then may it push or delete."""
        return bool(self.commits) and all(commit.by_job for commit in self.commits)

    @property
    def team_commits(self) -> list[Commit]:
        return [commit for commit in self.commits if not commit.by_job]


def is_job_commit(author_email: str, committer_email: str, trailers: str, email: str) -> bool:
    """Whether the job made this commit: its identity as author and committer, and its trailer.

    An amend, rebase or cherry-pick by a person makes that person the committer.
    """
    return author_email == committer_email == email and bool(trailers.strip())


@dataclass
class Plan:
    """What the job may do with the update branches, decided before it changes anything."""

    target: str
    existing: Branch | None  # the target version's branch, if there is one
    superseded: list[Branch] = field(default_factory=list)  # the job's own older branches: deleted
    kept: list[Branch] = field(default_factory=list)  # older branches with the team's commits

    @property
    def blocked(self) -> bool:
        """Whether the target branch is the team's: the job leaves it and pushes nothing."""
        return self.existing is not None and not self.existing.owned


def plan(target: str, branches: list[Branch]) -> Plan:
    """Decide, for the branch ``target`` and every update branch, what the job may touch.

    Branches not named ``template-update/v<version>`` are never considered; nor are
    branches for versions newer than the target.
    """
    decided = Plan(target, next((branch for branch in branches if branch.name == target), None))
    target_version = branch_version(target)
    for branch in branches:
        if branch.name == target or branch.version is None or target_version is None:
            continue
        if branch.version < target_version:
            (decided.superseded if branch.owned else decided.kept).append(branch)
    return decided


# One commit per record: fields and records end with NUL, which no commit field can hold
# (git's own `strip()`-safe framing; \x1f/\x1e are whitespace to Python and were lost).
LOG_FIELDS = ("%H", "%P", "%ae", "%ce", "%an", "%s", f"%(trailers:key={TRAILER},valueonly,separator=%x2C)")
FIRST_DEPTH = 64  # commits fetched per ref in a shallow checkout; doubled while a fork point lies below
WHOLE_HISTORY = 1 << 14  # past this depth, fetch the rest of the history at once


def commits_since(base: str, tip: str) -> list[tuple[str, ...]]:
    """The commits of ``base..tip``: one tuple of ``LOG_FIELDS`` each, nothing lost or merged."""
    out = run(["git", "log", "-z", "--format=" + "%x00".join(LOG_FIELDS), f"{base}..{tip}"]).stdout
    values = out.split("\0")
    width = len(LOG_FIELDS)
    if len(values) % width != 1 or values[-1]:
        raise SyncError(f"git log {base}..{tip} printed {len(values) - 1} fields, not records of {width}")
    return [tuple(values[i : i + width]) for i in range(0, len(values) - 1, width)]


def shallow() -> bool:
    """Whether this checkout's history is cut (a runner's GIT_DEPTH)."""
    return git("rev-parse", "--is-shallow-repository") == "true"


def truncated(records: list[tuple[str, ...]]) -> bool:
    """Whether ``records`` may be cut short: in a shallow checkout, a commit without parents is
    a boundary (or a root), so the range may miss the fork point and list the default branch's
    older commits as the branch's own."""
    return any(not parents for _, parents, *_ in records) and shallow()


def depth_options(depth: int | None) -> list[str]:
    """git fetch's options for ``depth`` commits (``None``: no limit, as deep as the checkout
    already is; past ``WHOLE_HISTORY``: the rest of the history at once)."""
    if depth is None:
        return []
    return ["--unshallow"] if depth > WHOLE_HISTORY else ["--depth", str(depth)]


def fetch_update_branches(remote: str, default_branch: str, depth: int | None) -> None:
    """Fetch the default branch and every ``template-update/`` branch, ``depth`` commits deep."""
    git(
        "fetch", "--quiet", "--no-tags", "--prune", *depth_options(depth), remote,
        f"+refs/heads/{default_branch}:refs/sync/default",
        f"+refs/heads/{BRANCH_PREFIX}*:refs/sync/update/v*",
    )  # fmt: skip


def read_branches(remote: str, default_branch: str, email: str) -> list[Branch]:
    """Every update branch on ``remote`` named for a version, with its commits since the default branch.

    A shallow checkout (GitLab's GIT_DEPTH) is fetched deeper, doubling, until every branch's
    range reaches its fork point or the history is whole: ownership is never decided on a cut
    history. A full checkout fetches the branches whole.
    """
    depth = FIRST_DEPTH if shallow() else None
    while True:
        fetch_update_branches(remote, default_branch, depth)
        listed = git("for-each-ref", "--format=%(objectname) %(refname)", "refs/sync/update/")
        ranges = {}
        for line in listed.splitlines():
            sha, ref = line.split(" ", 1)
            name = BRANCH_PREFIX + ref.removeprefix("refs/sync/update/v")
            if branch_version(name) is not None:  # other names are never touched: no need to read them
                ranges[name] = (sha, commits_since("refs/sync/default", sha))
        if depth is None or not any(truncated(records) for _, records in ranges.values()):
            break
        depth *= 2  # truncated() found the checkout still shallow
    branches = []
    for name, (sha, records) in sorted(ranges.items()):
        commits = tuple(
            Commit(commit, author, subject, is_job_commit(author_email, committer_email, trailers, email))
            for commit, _, author_email, committer_email, author, subject, trailers in records
        )
        branches.append(Branch(name, sha, commits))
    return branches


# ---------------------------------------------------------------- the merge request


@dataclass
class Proposal:
    """What the merge request says."""

    old: str
    new: str
    changes: list[str]
    checks: list[tuple[str, bool, str]]
    conflicts: list[str]
    notes: list[str]
    kept: list[Branch] = field(default_factory=list)
    # With TEMPLATE_UPDATE_AUTO_MERGE on: why it may not merge itself ([]: it may); else None.
    auto_merge: list[str] | None = None
    draft_kept: bool = False  # a person marked its merge request a draft: it stays one

    @property
    def needs_human(self) -> bool:
        """Whether a conflict or a failed check keeps it a draft."""
        return bool(self.conflicts) or not all(passed for _, passed, _ in self.checks)

    @property
    def draft(self) -> bool:
        return self.needs_human or self.draft_kept

    @property
    def lock_pending(self) -> bool:
        """Whether uv.lock could not be made (uv cannot read a pyproject.toml with markers)."""
        return "pyproject.toml" in self.conflicts

    @property
    def title(self) -> str:
        return f"{'Draft: ' if self.draft else ''}Update template from {self.old} to {self.new}"


def is_pipeline_file(name: str) -> bool:
    """Whether GitLab reads ``name`` as pipeline configuration (the entry file or an included one)."""
    return name == ".gitlab-ci.yml" or (name.startswith(".gitlab/ci/") and name.endswith((".yml", ".yaml")))


def description(proposal: Proposal) -> str:
    """The merge request's description: one line, as push options cannot hold a line break."""
    old, new = proposal.old, proposal.new
    lines = [f"Updates this project from template {old} to {new}, made by the template-update job.", ""]
    if proposal.needs_human:
        lines += [HUMAN_LINE, ""]
    if proposal.conflicts:
        lines += ["Conflicts (markers left in the files; resolve them on this branch):"]
        lines += [*(f"- `{name}`" for name in proposal.conflicts), ""]
        if pipeline_files := [name for name in proposal.conflicts if is_pipeline_file(name)]:
            lines += [
                f"This branch's pipeline cannot start while {', '.join(f'`{n}`' for n in pipeline_files)} "
                "holds conflict markers: GitLab cannot read the YAML, so no job (lint included) runs until "
                "they are resolved.",
                "",
            ]
    if proposal.lock_pending:
        lines += [
            "`uv.lock` is pending: it cannot be made while `pyproject.toml` holds conflict markers. "
            "Resolve them, run `uv lock`, and commit both.",
            "",
        ]
    lines += ["Checks:"]
    lines += [f"- {name}: {'passed' if ok else 'FAILED'} (`{cmd}`)" for name, ok, cmd in proposal.checks]
    if proposal.auto_merge is not None:
        lines += ["", auto_merge_section(proposal.auto_merge)]
    if proposal.notes:
        lines += ["", "Notes from the update:", *(f"- {note}" for note in proposal.notes)]
    if proposal.kept:
        lines += ["", "Older update branches kept (they hold your team's commits; this job never deletes them):"]
        for branch in proposal.kept:
            commits = "; ".join(f"{c.sha[:8]} {c.subject} ({c.author})" for c in branch.team_commits)
            lines.append(f"- `{branch.name}`: {commits}")
    lines += ["", f"Template changes since {old}:", *proposal.changes]
    return "<br>".join(line.replace("\n", " ") for line in lines)


def push_options(proposal: Proposal, *, create: bool, default_branch: str) -> list[str]:
    """GitLab's push options that open (``create``) or refresh the merge request."""
    # merge_request.create on a branch that already has a merge request fails on GitLab; the
    # other options update the open one (gitlab-org/gitlab#378787, gitlab-ce!31068).
    options = [
        *(["merge_request.create"] if create else []),
        f"merge_request.target={default_branch}",
        f"merge_request.title={proposal.title}",
        f"merge_request.description={description(proposal)}",
        f"merge_request.label={LABEL}",
        "merge_request.remove_source_branch",
    ]
    return [*options, "merge_request.draft"] if proposal.draft else options


def push_url(environ: dict[str, str]) -> str:
    """Where to push: a project access token's URL when one is set, else the checkout's
    remote (whose URL carries the job token on GitLab)."""
    token = environ.get("TEMPLATE_UPDATE_TOKEN")
    host, path = environ.get("CI_SERVER_HOST"), environ.get("CI_PROJECT_PATH")
    if token and host and path:
        return f"https://template-update:{token}@{host}/{path}.git"
    return "origin"


def push_with_lease(remote: str, refspec: str, branch: str, seen: str, options: list[str] = ()) -> bool:
    """Push ``refspec`` only if ``branch`` is still at ``seen`` ("" = absent); False if it moved."""
    result = run(
        ["git", "push", "--quiet", f"--force-with-lease=refs/heads/{branch}:{seen}",
         *(arg for option in options for arg in ("-o", option)), remote, refspec],
        check=False,
    )  # fmt: skip
    if result.returncode == 0:
        return True
    now = git("ls-remote", remote, f"refs/heads/{branch}").split("\t")[0]
    if now != seen:
        return False
    said = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    reason = next((line for line in said if "remote:" in line or "denied" in line.lower()), said[0] if said else "")
    raise SyncError(redact(f"git push of {branch} was refused ({reason}): {PUSH_ACCESS}"))


# ---------------------------------------------------------------- merging itself, when it is safe

# Opt-in, as a CI/CD variable of the project or once for a group (a project's own value wins).
AUTO_MERGE = "TEMPLATE_UPDATE_AUTO_MERGE"
PIPELINE_WAIT = "TEMPLATE_UPDATE_PIPELINE_WAIT"  # seconds to wait for the merge request's pipeline
DEFAULT_PIPELINE_WAIT = 600
POLL = 5.0  # seconds between two looks at the merge request while its pipeline is not there yet
# The job's part of the description, between markers GitLab's Markdown hides: only this part
# is ever rewritten through the API, so whatever a person added to the description stays.
SECTION_START, SECTION_END = "<!-- template-update:auto-merge -->", "<!-- /template-update:auto-merge -->"
SECTION = re.compile(re.escape(SECTION_START) + ".*?" + re.escape(SECTION_END), re.DOTALL)
# A release's CHANGELOG.md section declares an answer it gives another meaning on a line
# such as `- **Changes the meaning of:** `ci_share_cache_with_merge_requests` (why)`.
MEANING = re.compile(r"\*\*Changes the meaning of:\*\*(.*)")
HUMAN_LINE = "**Needs a human before merging.**"  # the job's own draft says it; a person's does not
WAITED = "no pipeline started for"  # the refusal the next run may take back (AutoMerge.retry)
REQUIRES_PIPELINE = (
    "the project does not require a successful pipeline to merge (Settings > Merge requests > Merge checks > "
    "Pipelines must succeed): auto-merge would not wait for the checks, and GitLab can merge a merge request "
    "before its pipeline starts (gitlab-org/gitlab#595420)"
)
API_ACCESS = (
    "auto-merge needs TEMPLATE_UPDATE_TOKEN: a project access token with the api scope and a role that may "
    "merge into the default branch (the job token may neither read the project's settings nor merge)"
)


def wants_auto_merge(environ: dict[str, str]) -> bool:
    """Whether the project (or its group) asks for auto-merge: ``true``, ``yes``, ``1``."""
    return environ.get(AUTO_MERGE, "").strip().lower() in {"true", "yes", "1", "on"}


REFUSAL_ITEM = "<br>- "  # how the paragraph lists each reason it does not merge itself


def auto_merge_section(refusals: list[str]) -> str:
    """The description's paragraph on auto-merge: that it merges itself and how to stop it, or why not."""
    if refusals:
        why = "".join(f"{REFUSAL_ITEM}{reason}" for reason in refusals)
        text = f"**It does not merge itself** ({AUTO_MERGE} is on), because:{why}"
    else:
        text = (
            f"**It merges itself when its pipeline succeeds** ({AUTO_MERGE} is on, and the update is safe: "
            "no conflict, every check passed, only template-owned files changed, no answer changes meaning). "
            "To stop it: select *Cancel auto-merge* here, or mark it as a draft, or push a commit to its "
            f"branch; for every later update, set {AUTO_MERGE} to false. Approvals the project requires still "
            "apply: one given after the pipeline succeeded may leave it unmerged (gitlab-org/gitlab#275973), "
            "then merge it by hand."
        )
    return f"{SECTION_START}{text}{SECTION_END}"


def section_refusals(description: str) -> list[str] | None:
    """The reasons the job's paragraph of ``description`` gives for not merging itself ([]: it
    says it merges itself); None without the paragraph."""
    found = SECTION.search(description)
    if not found:
        return None
    return [item.removesuffix(SECTION_END) for item in found.group(0).split(REFUSAL_ITEM)[1:]]


def team_files_changed(project: Path, base: str) -> list[str]:
    """The files the update commit changed that the team owns: neither template-owned (the
    marker in its first lines, before or after the update) nor the answers file."""
    changed = git("diff", "--name-only", "--no-renames", "-z", base, "HEAD").split("\0")

    def owned_at(revision: str, name: str) -> bool:
        shown = subprocess.run(["git", "cat-file", "blob", f"{revision}:{name}"], capture_output=True, check=False)
        return declares_ownership(shown.stdout)

    return [
        name
        for name in filter(None, changed)
        if name != ANSWERS_FILE and not owned_at("HEAD", name) and not owned_at(base, name)
    ]


def meaning_changes(changelog: str, old: str, new: str, before: dict, after: dict) -> list[str]:
    """Why the update changes what an answer of the project means: a release after ``old`` up to
    ``new`` declares it in its CHANGELOG.md section (for a question the project answers), or the
    update moved a recorded answer (a migration's doing)."""
    found = []
    answered = questions(before)
    for line in template_changes(changelog, old, new):
        if declared := MEANING.search(line):
            names = [name for name in re.findall(r"`([a-z_][a-z0-9_]*)`", declared.group(1)) if name in answered]
            found += [f"the template's release notes say it changes what the answer `{name}` means" for name in names]
    for name, value in answered.items():
        if name in after and after[name] != value:
            found.append(f"the update moved the answer `{name}` from {value!r} to {after[name]!r}")
    return found


class ApiError(RuntimeError):
    """GitLab answered with an error, or not at all."""


class GitLabApi:
    """The project's merge requests and settings through GitLab's REST API v4, as the job
    reaches it (``CI_API_V4_URL``, ``CI_PROJECT_ID``) with TEMPLATE_UPDATE_TOKEN."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.base = environ.get("CI_API_V4_URL", "").rstrip("/")
        self.project = urllib.parse.quote(environ.get("CI_PROJECT_ID", ""), safe="")
        self.token = environ.get("TEMPLATE_UPDATE_TOKEN", "")

    @property
    def usable(self) -> bool:
        return bool(self.base and self.project and self.token)

    def call(self, method: str, path: str, **fields: object) -> object:
        """One request below the project (``path`` "" is the project); its JSON answer."""
        url = f"{self.base}/projects/{self.project}{path}"
        data = None
        if method == "GET" and fields:
            url += "?" + urllib.parse.urlencode(fields)
        elif fields:
            data = json.dumps(fields).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("PRIVATE-TOKEN", self.token)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            said = error.read().decode("utf-8", "replace")[:200]
            raise ApiError(redact(f"GitLab answered {error.code} to {method} {path or '/'}: {said}")) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise ApiError(redact(f"GitLab did not answer {method} {path or '/'}: {error}")) from None

    def open_merge_request(self, branch: str) -> dict | None:
        """The open merge request from ``branch`` (merge_requests.md, "List project merge requests")."""
        found = self.call("GET", "/merge_requests", state="opened", source_branch=branch)
        return found[0] if isinstance(found, list) and found else None


def say_refused(branch: str, reason: str) -> None:
    say(f"auto-merge: not for {branch}: {reason}")


def setting_refusal(api: GitLabApi) -> str | None:
    """Why the project's settings rule auto-merge out, read with the job's access; None when they allow it."""
    if not api.usable:
        return API_ACCESS
    try:
        project = api.call("GET", "")  # projects.md, "Get a single project"
    except ApiError as error:
        return f"the job could not read the project's settings ({error}): {API_ACCESS}"
    if not isinstance(project, dict) or project.get("only_allow_merge_if_pipeline_succeeds") is not True:
        return REQUIRES_PIPELINE
    return None


def person_draft(api: GitLabApi, branch: str) -> bool:
    """Whether the open merge request from ``branch`` is a draft the job did not make (a person
    marked it so: the job's own drafts say that they need a human)."""
    try:
        found = api.open_merge_request(branch)
    except ApiError:
        return False  # the settings check already says why the API cannot be read
    return bool(found and found.get("draft") and HUMAN_LINE not in (found.get("description") or ""))


@dataclass
class AutoMerge:
    """Auto-merge, asked for: what the job checks before its push, and does after it."""

    api: GitLabApi
    wait: float = DEFAULT_PIPELINE_WAIT
    poll: float = POLL
    on: bool = True  # asked for: without it, the job neither reads GitLab's API nor says a word of it

    @classmethod
    def asked(cls, environ: dict[str, str]) -> AutoMerge:
        try:
            wait = float(environ.get(PIPELINE_WAIT) or DEFAULT_PIPELINE_WAIT)
        except ValueError:
            wait = DEFAULT_PIPELINE_WAIT
        return cls(GitLabApi(environ), wait, on=wants_auto_merge(environ))

    def review(self, proposal: Proposal, project: Path, base: str, changelog: str, answers: dict, branch: str) -> None:
        """Before the push: whether the update may merge itself (``proposal.auto_merge``: the
        refusals), and whether a person's draft stays one."""
        if not self.on:
            return
        proposal.draft_kept = person_draft(self.api, branch)
        after = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
        after = after if isinstance(after, dict) else {}
        meanings = meaning_changes(changelog, proposal.old, proposal.new, answers, after)
        proposal.auto_merge = self.refusals(proposal, team_files_changed(project, base), meanings, branch)

    def pushed(self, proposal: Proposal, branch: str, sha: str) -> None:
        """After the push: ask for auto-merge when the update may merge itself."""
        if self.on and proposal.auto_merge == []:
            self.set(branch, sha)

    def left_to_the_team(self, branch: str) -> None:
        """The branch holds a person's commits: they merge it."""
        if self.on:
            self.refuse(branch, "a person's commits are on its branch: the person who made them merges it")

    def refusals(self, proposal: Proposal, team_files: list[str], meanings: list[str], branch: str) -> list[str]:
        """Every reason the update may not merge itself, in the order a person would fix them."""
        reasons = []
        if proposal.conflicts:
            reasons.append(f"the update has conflicts ({', '.join(proposal.conflicts)})")
        if failed := [name for name, passed, _ in proposal.checks if not passed]:
            reasons.append(f"a check failed in the job ({', '.join(failed)})")
        if team_files:
            shown = ", ".join(team_files[:10]) + (" and more" if len(team_files) > 10 else "")
            reasons.append(f"it changes files the team owns ({shown}): a person reviews those")
        reasons += [f"{meaning}: a person decides" for meaning in meanings]
        if proposal.draft_kept:
            reasons.append("its merge request is a draft (someone marked it so): mark it ready to let it merge itself")
        if refused := setting_refusal(self.api):
            reasons.append(refused)
        for reason in reasons:
            say_refused(branch, reason)
        return reasons

    def restate(self, branch: str, refusals: list[str]) -> None:
        """Say in the open merge request's description why it no longer merges itself: the job's
        paragraph is replaced, nothing else; and cancel auto-merge if GitLab still has it set
        (merge_requests.md, "Cancel Merge When Pipeline Succeeds")."""
        try:
            found = self.api.open_merge_request(branch)
            if not found:
                return
            if found.get("merge_when_pipeline_succeeds"):
                self.api.call("POST", f"/merge_requests/{found['iid']}/cancel_merge_when_pipeline_succeeds")
                say(f"auto-merge: cancelled on {found.get('web_url', branch)}")
            self.describe(found, refusals)
        except ApiError as error:
            say(f"warning: the merge request's description could not say why it does not merge itself: {error}")

    def describe(self, found: dict, refusals: list[str]) -> None:
        """Replace the job's paragraph of the merge request's description (or add it), nothing else."""
        text, section = found.get("description") or "", auto_merge_section(refusals)
        if SECTION.search(text):
            new_text = SECTION.sub(lambda _: section, text, count=1)
        else:
            new_text = f"{text}<br><br>{section}" if text else section
        if new_text != text:
            self.api.call("PUT", f"/merge_requests/{found['iid']}", description=new_text)

    def retry(self, branch: str, sha: str) -> None:
        """Ask again when the last run's only refusal was a wait for a pipeline that did not come
        (its paragraph says so): the branch holds the same update, which was safe then. Anything
        else stays as it is: a person's *Cancel auto-merge* leaves the paragraph saying it merges
        itself, and is never undone."""
        if not self.on:
            return
        try:
            found = self.api.open_merge_request(branch)
        except ApiError:
            return
        refused = section_refusals((found or {}).get("description") or "")
        if not found or not refused or len(refused) != 1 or not refused[0].startswith(WAITED):
            return
        if refused := setting_refusal(self.api):
            self.refuse(branch, refused)
        elif self.set(branch, sha):
            try:
                self.describe(self.api.open_merge_request(branch) or found, [])
            except ApiError as error:
                say(f"warning: the merge request's description could not say it merges itself: {error}")

    def refuse(self, branch: str, reason: str) -> None:
        say_refused(branch, reason)
        self.restate(branch, [reason])

    def set(self, branch: str, sha: str) -> bool:
        """Ask GitLab to merge the merge request from ``branch`` when its pipeline succeeds, once
        that pipeline exists for ``sha``: asked before, GitLab may merge at once
        (gitlab-org/gitlab#595420), which is also why the push option is not used. ``sha`` pins
        the merge to the commit the job checked (merge_requests.md, "Merge a merge request":
        ``auto_merge`` from GitLab 17.11, ``merge_when_pipeline_succeeds`` before it)."""
        deadline = time.monotonic() + self.wait
        while True:
            try:
                found = self.api.open_merge_request(branch)
            except ApiError as error:
                self.refuse(branch, f"the job could not read its merge request ({error})")
                return False
            pipeline = (found or {}).get("head_pipeline") or {}
            if found and pipeline.get("sha") == sha:
                break
            if time.monotonic() >= deadline:
                waited = f"{WAITED} {sha[:8]} within {self.wait:g} s"
                self.refuse(branch, f"{waited} (asked before its pipeline exists, GitLab may merge at once: "
                            "gitlab-org/gitlab#595420); the next run asks again")  # fmt: skip
                return False
            time.sleep(self.poll)
        fields = {"auto_merge": True, "merge_when_pipeline_succeeds": True, "sha": sha,
                  "should_remove_source_branch": True}  # fmt: skip
        try:
            merged = self.api.call("PUT", f"/merge_requests/{found['iid']}/merge", **fields)
        except ApiError as error:
            self.refuse(branch, f"GitLab refused auto-merge ({error})")
            return False
        state = merged.get("state") if isinstance(merged, dict) else None
        said = (
            "merged: its pipeline had already succeeded"
            if state == "merged"
            else "set: GitLab merges it when its pipeline succeeds"
        )
        say(f"auto-merge: {said} ({found.get('web_url', branch)}, pipeline {pipeline.get('id')}, {sha[:8]})")
        return True


# ---------------------------------------------------------------- the two jobs


def drift(project: Path, ref: str) -> int:
    """Print the drift report and return the exit status."""
    answers = read_answers(project)
    current = str(answers["_commit"])
    check_known(answers, ref)
    behind = newer(ref, current)
    modified, orphaned = modified_files(project, answers)
    edited = hand_edit(project, answers) if modified else None
    if edited:
        say(
            f"answers edited by hand in {ANSWERS_FILE}: {edited.summary()}. The files were rendered with the "
            "earlier answers; the next update applies the edit as `copier update --data` would."
        )
        modified = edited.modified
    team_pipeline = project / ".gitlab-ci.yml"
    included = team_pipeline.is_file() and template_pipeline_included(team_pipeline.read_text(encoding="utf-8"))
    if not included:
        say(
            f"not included: .gitlab-ci.yml does not include {ENTRY_PIPELINE}, so no template job runs "
            f"in this project's pipelines. Add to it:  include: [{{local: {ENTRY_PIPELINE}}}]"
        )
    if behind:
        say(
            f"behind: template {current} is in use, {ref} is out. Update with "
            "`copier update --trust` (see README), or run the template-update job."
        )
    for name in orphaned:
        say(
            f"left over: {name} is template-owned, but template {current} no longer has it (a release renamed "
            "or removed it; the update kept it for your edits there, which nothing reads now): move your "
            "changes to the file that replaced it, then delete it"
        )
    for name in modified:
        if name.endswith(MISSING):
            say(f"missing: {name.removesuffix(MISSING)} is template-owned and was deleted; the next update restores it")
        else:
            say(f"modified: {name} differs from a fresh render of template {current}")
    if not behind and not modified and not orphaned and included and not edited:
        say(f"up to date: template {current}, template-owned files unchanged")
        return UP_TO_DATE
    return BEHIND_OR_MODIFIED


def leave(branch: Branch, why: str) -> None:
    commits = "; ".join(f"{c.sha[:8]} {c.subject} ({c.author})" for c in branch.team_commits) or "none"
    say(f"left: {branch.name} {why}; commits by others: {commits}")


def decide(ref: str, remote: str, default_branch: str, email: str) -> Plan:
    """Which update branches the job may touch for ``ref``; log the ones it leaves to the team."""
    decided = plan(branch_for(ref), read_branches(remote, default_branch, email))
    for branch in decided.kept:
        leave(branch, "is superseded but holds your team's commits, so it stays (named in the new merge request)")
    if decided.blocked:
        leave(decided.existing, "already proposes this version and holds your team's commits, so it stays as it is")
    return decided


def commit_update(
    project: Path, old: str, ref: str, branch: str, email: str, edited: HandEdit | None, given: dict[str, str]
) -> tuple[list[str], list[str]]:
    """Run `copier update` to ``ref`` and commit the result on ``branch`` as the job, with its
    trailer; return the update's notes and the files left with conflict markers.

    Answers ``edited`` by hand are applied as `copier update --data` applies them: the answers
    file goes back to what the files were rendered with (in a commit of the job's that the
    update's commit then replaces), and the edit is given to copier as data.
    """
    base = git("rev-parse", "HEAD")
    identity = ["-c", f"user.name={JOB_NAME}", "-c", f"user.email={email}"]
    data: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        answers_now = dict(given)  # new questions answered in their CI/CD variables
        if edited:
            (project / ANSWERS_FILE).write_text(edited.rendered, encoding="utf-8")
            git(*identity, "commit", "--quiet", "--no-verify", "-m", "Answers as rendered", "--", ANSWERS_FILE)
            answers_now.update({name: new for name, (_, new) in edited.changes.items() if new is not None})
        if answers_now:
            data_file = Path(tmp) / "edited.yml"
            data_file.write_text(yaml.safe_dump(answers_now, allow_unicode=True), encoding="utf-8")
            data = ["--data-file", str(data_file)]
        output = copier("update", "--trust", "--defaults", "--conflict", "inline", "--vcs-ref", ref, *data)
    notes = notes_in(output)
    if edited:
        notes.insert(0, f"applied the answers edited by hand in {ANSWERS_FILE}: {edited.summary()}")
    for note in notes:
        say(f"note: {note}")
    conflicts = conflicted_files(project)
    git("switch", "--quiet", "-C", branch)
    git("add", "--all")  # conflicts included: their markers are what the merge request shows
    if edited:
        git("reset", "--quiet", "--soft", base)  # one commit on the default branch: the update's
    git(*identity, "commit", "--quiet", "--no-verify", "-m", f"Update template from {old} to {ref}\n\n{TRAILER}: {ref}")
    conflict_note = f"; conflicts in {', '.join(conflicts)}" if conflicts else ""
    say(f"updated: template {old} -> {ref} on {branch}{conflict_note}")
    return notes, conflicts


def same_tree(commit: str) -> bool:
    """Whether ``commit`` holds exactly what HEAD holds."""
    return git("rev-parse", f"{commit}^{{tree}}") == git("rev-parse", "HEAD^{tree}")


def publish(decided: Plan, proposal: Proposal, remote: str, default_branch: str) -> bool:
    """Push the update branch with the lease on what the job saw; False if a person pushed meanwhile."""
    existing = decided.existing
    options = push_options(proposal, create=existing is None, default_branch=default_branch)
    seen = existing.sha if existing else ""
    if not push_with_lease(remote, f"HEAD:refs/heads/{decided.target}", decided.target, seen, options):
        say(f"left: {decided.target} changed while this job ran (someone pushed to it), so nothing was pushed")
        return False
    say(f"pushed: {decided.target}, merge request '{proposal.title}' -> {default_branch}")
    return True


def delete_superseded(decided: Plan, remote: str) -> None:
    """Delete the job's own older branches, each only if it is still at the commit the job saw."""
    for branch in decided.superseded:
        try:
            deleted = push_with_lease(remote, f":refs/heads/{branch.name}", branch.name, branch.sha)
        except SyncError as error:  # the new merge request is fine: a branch left over is a warning
            say(f"warning: {branch.name} is superseded, but deleting it was refused: {error}")
            continue
        if deleted:
            say(f"superseded: deleted {branch.name} (only this job's commits were on it)")
        else:
            say(f"left: {branch.name} changed while this job ran (someone pushed to it), so it stays")


def tidy(current: str, remote: str, default_branch: str, email: str) -> None:
    """With the default branch already on ``current`` (a person ran the update by hand), the
    job's own branches for it and older versions propose nothing more: delete them, as superseded
    ones are; a branch with the team's commits stays, named in the log."""
    version = release(current) or Version("0")
    branches = read_branches(remote, default_branch, email)
    stale = [branch for branch in branches if branch.version and branch.version <= version]
    decided = Plan("", None, [b for b in stale if b.owned], [b for b in stale if not b.owned])
    for branch in decided.kept:
        leave(branch, f"proposes a version the default branch already has ({current}) but holds your team's commits")
    delete_superseded(decided, remote)


def update(project: Path, ref: str) -> int:
    """Propose the release ``ref`` as a merge request; return the exit status."""
    answers = read_answers(project)
    environ = dict(os.environ)
    default_branch = environ.get("CI_DEFAULT_BRANCH", "main")
    on = environ.get("CI_COMMIT_BRANCH") or git("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if on != default_branch:
        # Its merge request would carry this branch's unreviewed commits to the default branch.
        raise SyncError(
            f"the update runs on the default branch ({default_branch}) only, and this is "
            f"{on or 'a detached commit'}: run it there (or set CI_DEFAULT_BRANCH)"
        )
    old = str(answers["_commit"])
    check_known(answers, ref)
    remote, email = push_url(environ), job_email(environ)
    if not newer(ref, old):
        say(f"up to date: template {old}; nothing to propose")
        if (release(ref) or Version("0")) < (release(old) or Version("0")):
            say(f"warning: the newest release the job can read is {ref}, older than {old}, which this project records")
        tidy(old, remote, default_branch, email)
        return UP_TO_DATE
    if git("status", "--porcelain"):
        raise SyncError("the checkout has uncommitted changes; the update needs a clean tree")
    given, missing = unanswered(answers, environ)
    if missing:
        raise SyncError(
            f"template {ref} asks {', '.join(missing)}, which has no default and this project never answered. "
            f"Answer it in {ANSWERS_FILE} on {default_branch} (a line `{missing[0]}: ...`) or in a CI/CD variable "
            f"{ANSWER_VARIABLE.format(missing[0].upper())}; nothing was proposed"
        )
    decided = decide(ref, remote, default_branch, email)
    auto = AutoMerge.asked(environ)
    if decided.blocked:
        auto.left_to_the_team(decided.target)
        return UP_TO_DATE
    edited = hand_edit(project, answers)
    base = git("rev-parse", "HEAD")
    notes, conflicts = commit_update(project, old, ref, decided.target, email, edited, given)
    if decided.existing and same_tree(decided.existing.sha):
        say(f"unchanged: {decided.target} already holds this update; its merge request stays as it is")
        auto.retry(decided.target, decided.existing.sha)
    else:
        changelog = (TEMPLATE / "CHANGELOG.md").read_text(encoding="utf-8")
        changes = template_changes(changelog, old, ref)
        proposal = Proposal(old, ref, changes, run_checks(), conflicts, notes, decided.kept)
        auto.review(proposal, project, base, changelog, answers, decided.target)
        if not publish(decided, proposal, remote, default_branch):
            return UP_TO_DATE
        auto.pushed(proposal, decided.target, git("rev-parse", "HEAD"))
    delete_superseded(decided, remote)
    return UP_TO_DATE


def main(argv: list[str]) -> int:
    """Run the action named on the command line; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["drift", "update"])
    parser.add_argument("--ref", required=True, help="the template release this script came from")
    args = parser.parse_args(argv)
    try:
        return (drift if args.action == "drift" else update)(Path.cwd(), args.ref)
    except SyncError as error:
        say(f"error: {error}")
        return FAILED


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
