"""Template-owned: copier-uv-gitlab keeps this file (README.md, "Who owns which file").

Runs the template-drift and template-update logic of the template's newest release, so a
fix to either job reaches this project at its next run, before any merge request:

    python .gitlab/ci/template_sync.py drift    # behind, or template-owned files edited?
    python .gitlab/ci/template_sync.py update   # propose the newest version as a merge request

It reads the template's location from .copier-answers.yml, finds the newest release tag
(vX.Y.Z, the template's release rule: a bare v2, a pre-release or any other tag is not a
release) whose CHANGELOG.md has its section (the template publishes no other:
release_notes.py; an older tag is taken, and the log says which it skipped), fetches it and
runs its `sync/project_sync.py ACTION --ref TAG` with `uv run --script`, in this folder, with
read access to the template in the environment. The exit status is that script's (drift: 0
up to date, 2 behind or edited; update: 0 done); 1 when the template cannot be read.

Access, from masked CI/CD variables, never written to a file or the log: on the same GitLab
the job token reads the template (this project on the template project's job-token
allowlist); TEMPLATE_REPOSITORY_URL, a URL with a read token, replaces the recorded one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Beside this file: a version's notes, as publishing reads them.
from release_notes import section

try:
    import fcntl
except ImportError:  # not POSIX: a new folder for each run
    fcntl = None

ANSWERS_FILE = ".copier-answers.yml"
SCRIPT = "sync/project_sync.py"
# The template's release rule, vX.Y.Z: nothing else is a release (project_sync.py reads it here).
RELEASE = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
RELEASE_TAG = re.compile(rf"refs/tags/({RELEASE.pattern})$")
SECRET_VARIABLES = ("CI_JOB_TOKEN", "TEMPLATE_UPDATE_TOKEN", "TEMPLATE_REPOSITORY_URL")
FAILED = 1
SLOTS = 8  # release checkouts kept per action: one per job of this user running at once


class TemplateUnreadable(RuntimeError):
    """The template's newest release could not be found or fetched."""


def template_location(answers: str) -> str:
    """The template's URL or path, as copier recorded it (``_src_path``, a YAML scalar)."""
    match = re.search(r"^_src_path: *(.+?) *$", answers, re.MULTILINE)
    if match is None:
        msg = f"{ANSWERS_FILE} records no _src_path: was this project made by copier?"
        raise TemplateUnreadable(msg)
    value = match.group(1)
    if value.startswith("'"):
        value = value[1:-1].replace("''", "'")
    elif value.startswith('"'):
        value = json.loads(value)
    if value.startswith("-"):  # git would read it as an option (--upload-pack=... runs a command)
        msg = f"{ANSWERS_FILE} records _src_path {value[:80]!r}, which is not a template location"
        raise TemplateUnreadable(msg)
    return value


def git_auth_environment(src: str, environ: dict[str, str]) -> dict[str, str]:
    """Git settings, as environment variables (nothing written), that let git read ``src``."""
    override = environ.get("TEMPLATE_REPOSITORY_URL")
    token, host = environ.get("CI_JOB_TOKEN"), environ.get("CI_SERVER_HOST")
    if override:
        rewrite = (override, src)
    elif token and host and src.startswith(f"https://{host}/"):
        rewrite = (f"https://gitlab-ci-token:{token}@{host}/", f"https://{host}/")
    else:
        return {}
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{rewrite[0]}.insteadOf",
        "GIT_CONFIG_VALUE_0": rewrite[1],
    }


def releases(listing: str) -> list[str]:
    """The release tags in ``git ls-remote --tags`` output, newest first, by version numbers."""
    matches = filter(None, map(RELEASE_TAG.search, listing.split()))
    return [
        tag
        for _, tag in sorted(
            ((tuple(map(int, m.groups()[1:])), m.group(1)) for m in matches), reverse=True
        )
    ]


def unreleased(checkout: Path, tag: str) -> str:
    """Why the template's ``tag`` is no release (the template publishes no tag without its
    CHANGELOG.md section: release_notes.py), or ``""``."""
    changelog = checkout / "CHANGELOG.md"
    body = section(changelog.read_text(encoding="utf-8") if changelog.is_file() else "", tag)
    if body is None:
        return f"CHANGELOG.md has no section '## {tag}'"
    return "" if body else f"CHANGELOG.md's section '## {tag}' is empty"


def redact(text: str, environ: dict[str, str]) -> str:
    """``text`` with every token the job knows masked."""
    for name in SECRET_VARIABLES:
        if len(secret := environ.get(name, "")) >= 4:  # noqa: PLR2004 - shorter ones would mask words
            text = text.replace(secret, "[MASKED]")
    return text


def without_credentials(url: str) -> str:
    """``url`` with any user and password masked (``https://[MASKED]@host/...``)."""
    return re.sub(r"(?<=://)[^/@]*@", "[MASKED]@", url)


def git(args: list[str], environ: dict[str, str], src: str) -> str:
    """Run git on the template at ``src``; a failure is one line: the URL (no credentials),
    git's first word on it, and the variable that gives the job access."""
    command = ["git", *args]
    result = subprocess.run(command, capture_output=True, text=True, env=environ, check=False)  # noqa: S603
    if result.returncode != 0:
        said = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        reason = said[0] if said else f"git {args[0]} exited {result.returncode}"
        fix = (
            "check the URL and token in the TEMPLATE_REPOSITORY_URL variable"
            if environ.get("TEMPLATE_REPOSITORY_URL")
            else "set TEMPLATE_REPOSITORY_URL (a masked CI/CD variable: the template's URL with "
            "a read token), or add this project to the template project's job token allowlist"
        )
        msg = f"{without_credentials(src)}: {reason.rstrip('.')}. To give the job access, {fix}."
        raise TemplateUnreadable(redact(msg, environ))
    return result.stdout


def private_folder() -> Path | None:
    """This user's folder for release checkouts in the temporary directory (made mode 0700), or
    None when that path is not a folder of this user's alone (a shared machine's other user
    could have made it, or a link)."""
    folder = Path(tempfile.gettempdir()) / f"copier-uv-gitlab-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return folder


@contextmanager
def release_checkout(action: str) -> Iterator[Path]:
    """A folder to check the release out into, emptied, and removed afterwards.

    The same few paths serve every run: `uv run --script` keys a script's environment by the
    script's path, so a run finds the environment an earlier run made (Copier installed and its
    bytecode compiled) in uv's cache instead of making it again. Jobs running at once on one
    machine each lock a different one of the ``SLOTS`` folders; without locks (not POSIX), or
    when all are taken, a new temporary folder serves, as before.
    """
    folder = private_folder() if fcntl else None
    for slot in range(SLOTS if folder else 0):
        checkout = folder / f"{action}-{slot}"
        with (folder / f"{action}-{slot}.lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            shutil.rmtree(checkout, ignore_errors=True)
            try:
                yield checkout
            finally:
                shutil.rmtree(checkout, ignore_errors=True)
            return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp) / "release"


def check_out_newest_release(
    src: str, listing: str, checkout: Path, environ: dict[str, str]
) -> str:
    """Clone into ``checkout`` the newest release whose changelog says what it brings (saying
    which newer tags it skipped, and why); return its tag."""
    for tag in releases(listing):
        shutil.rmtree(checkout, ignore_errors=True)
        git(
            ["clone", "--quiet", "--depth", "1", "--branch", tag, "--", src, str(checkout)],
            environ,
            src,
        )
        if not (why := unreleased(checkout, tag)):
            return tag
        sys.stdout.write(
            f"skipped {tag}: {why}; the template does not publish it: no project gets it\n"
        )
    msg = f"{without_credentials(src)}: no release tag (vX.Y.Z) with its CHANGELOG.md section"
    raise TemplateUnreadable(msg)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in {"drift", "update"}:
        sys.stderr.write(f"usage: {sys.argv[0]} drift|update\n")
        return FAILED
    environ = dict(os.environ)
    try:
        src = template_location(Path(ANSWERS_FILE).read_text(encoding="utf-8"))
        environ.update(git_auth_environment(src, environ))
        # `--` before every location: whatever the answers file holds, git reads it as one.
        listing = git(["ls-remote", "--tags", "--refs", "--", src], environ, src)
        with release_checkout(argv[0]) as checkout:
            tag = check_out_newest_release(src, listing, checkout, environ)
            script = checkout / SCRIPT
            if not script.is_file():
                msg = f"{without_credentials(src)}: release {tag} has no {SCRIPT}"
                raise TemplateUnreadable(msg)
            found = f"template {without_credentials(src)}, newest release {tag}"
            sys.stdout.write(redact(f"{found}: running its {SCRIPT}", environ) + "\n")
            sys.stdout.flush()
            command = ["uv", "run", "--quiet", "--script", str(script), argv[0], "--ref", tag]
            return subprocess.run(command, env=environ, check=False).returncode  # noqa: S603
    except TemplateUnreadable as error:
        sys.stdout.write(f"error: could not read the template: {error}\n")
        return FAILED


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
