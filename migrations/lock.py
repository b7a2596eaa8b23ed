"""Make or refresh a project's uv.lock, and never lose the project over it.

Run by copier in the project: as a task after `copier copy`, and as an `after` migration
once `copier update` has merged the team's changes (a lock file cannot be merged as text,
so it is made again from the merged pyproject.toml; with nothing new it changes nothing):

    lock.py copy|update

A uv.lock that a copy finds in place (the template adopted in an existing repository) is the
team's: it is checked, never rewritten. A lock that cannot be made is a warning, not an
error: copier deletes a new project when a task fails, and a failed migration makes
`copier update` exit 1 with half an update. So this always exits 0 and says, in a few
lines, why uv.lock is missing or stale and the one command that finishes the job once the
cause is fixed:
- uv is not on PATH;
- pyproject.toml holds conflict markers that `copier update --conflict inline` left (uv
  cannot read it until a person resolves them);
- `uv lock` fails (no interpreter for the project's Python, an index that cannot be
  reached, ...): uv's own last lines name the cause.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

UV_INSTALL = "https://docs.astral.sh/uv/getting-started/installation/"
CONFLICT_MARKER = re.compile(rb"^(<<<<<<<|>>>>>>>) ", re.MULTILINE)
LAST_LINES = 6


def why_not_locked(project: Path, uv: str | None) -> str:
    """Why ``uv lock`` cannot run in ``project`` now, or ``""``."""
    if uv is None:
        return f"uv is not on PATH. Install it ({UV_INSTALL})."
    if CONFLICT_MARKER.search((project / "pyproject.toml").read_bytes()):
        return "pyproject.toml holds conflict markers from the update. Resolve them first."
    return ""


def lock(project: Path, uv: str) -> str:
    """Run ``uv lock`` in ``project``; return uv's last lines when it fails, else ``""``."""
    result = subprocess.run([uv, "lock", "--quiet"], cwd=project, capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return ""
    lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    return "\n".join(f"  {line}" for line in lines[-LAST_LINES:]) or f"  uv lock exited with {result.returncode}"


def keep_existing_lock(project: Path, uv: str | None) -> int:
    """A copy into a folder that has a uv.lock: it is the team's, so it is never rewritten."""
    if uv is not None and not subprocess.run([uv, "lock", "--check", "--quiet"], cwd=project, check=False).returncode:
        return 0
    sys.stderr.write(
        "warning: uv.lock was kept as it was (it was there before the copy) and may no longer match "
        f"pyproject.toml.\n  Review the new pyproject.toml, then run `uv lock` in {project}.\n"
    )
    return 0


def main(argv: list[str]) -> int:
    operation = argv[0] if argv else "copy"
    project = Path.cwd()
    uv = shutil.which("uv")
    if operation == "copy" and (project / "uv.lock").is_file():
        return keep_existing_lock(project, uv)
    state = "created" if operation == "copy" else "updated"
    reason = why_not_locked(project, uv)
    if not reason and uv is not None:
        failure = lock(project, uv)
        if not failure:
            return 0
        reason = f"uv lock failed:\n{failure}"
    where = f" in {project}" if operation == "copy" else ""
    sys.stderr.write(
        f"warning: uv.lock was not {state}: {reason}\n"
        f"  The rest of the project is in place. Once that is fixed, run `uv lock`{where}.\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
