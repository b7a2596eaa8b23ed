"""Template-owned: copier-uv-gitlab keeps this file (README.md, "Who owns which file").

Keeps a job's uv cache to what uv.lock holds, before the job installs (README.md, "CI"). The
cache's key is stable across lock changes, so a new lock restores the last one's cache and
fetches only what changed; this script removes, with `uv cache clean`, every package the cache
holds whose locked version changed or that the lock dropped since the cache was last kept, so
the cache never grows past one lock's packages. It records the lock it kept the cache for in the
cache itself, and rewrites that record only when a package the cache holds changed: a lock
change that leaves a job's packages alone (lint's, when a runtime dependency moves) leaves its
cache as it was, and an unchanged cache is not uploaded again.

    python .gitlab/ci/uv_cache.py   # in the project, with UV_CACHE_DIR set (the template's jobs)

A cache outside the project (a runner's shared one) is not the job's: it is left alone.

Python's standard library only, Python 3.10 included: it runs before anything is installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

RECORD = "copier-uv-gitlab-lock.json"  # in the cache: the packages it was last kept for
PACKAGE = re.compile(r'^\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"', re.MULTILINE)


def locked(lock: str) -> dict[str, str]:
    """Each package uv.lock's text pins, with its version (the project's own has one too)."""
    return dict(PACKAGE.findall(lock))


def stale(kept: dict[str, str], now: dict[str, str]) -> list[str]:
    """The packages the cache was kept for whose version changed, or that the lock dropped."""
    return sorted(name for name, version in kept.items() if now.get(name) != version)


def held(cache: Path) -> set[str]:
    """The names of the folders in which uv files wheels, source distributions and the wheels
    it built: each package's normalized name, as uv.lock has it, below the index it came from
    (`wheels-v8/pypi/<name>`, or `wheels-v8/index/<index hash>/<name>` for any other)."""
    buckets = ("wheels-v*", "sdists-v*", "built-wheels-v*")
    places = (f"{bucket}/{depth}" for bucket in buckets for depth in ("*/*", "*/*/*"))
    return {path.name for place in places for path in cache.glob(place) if path.is_dir()}


def main() -> int:
    cache = Path(os.environ.get("UV_CACHE_DIR", ".uv-cache"))
    if not cache.resolve().is_relative_to(Path.cwd().resolve()):
        # Not the job's own cache, which GitLab keeps inside the project: a runner's or a
        # person's, shared by other projects and by uv processes running now. Left alone.
        return 0
    if not Path("uv.lock").is_file():
        return 0  # `uv sync --locked` says what is missing, in its own words
    now = locked(Path("uv.lock").read_text(encoding="utf-8"))
    record = cache / RECORD
    try:
        kept = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = None  # a cache from before this script, or none: nothing known to remove
    if kept is not None:
        holds = held(cache)
        names = [name for name in stale(kept, now) if name in holds]
        if not names and not holds & (now.keys() - kept.keys()):
            return 0  # nothing this cache holds moved: the cache stays as it was
        if names:
            subprocess.run(["uv", "cache", "clean", *names], check=True)  # noqa: S603, S607
            print(f"uv cache: removed what uv.lock no longer holds: {', '.join(names)}")
    cache.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(now, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
