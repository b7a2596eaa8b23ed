"""Template-owned: copier-uv-gitlab keeps this file (README.md, "Who owns which file").

A version's notes are its section of CHANGELOG.md, and a tag without them is no release:
publishing checks them before anything leaves, then makes the GitLab release with them; the
template-update job proposes only a template version whose own changelog has its section.

    python .gitlab/ci/release_notes.py check TAG     # the section exists and says something
    python .gitlab/ci/release_notes.py release TAG [--link NAME=URL ...]

A section is a heading ``## TAG``, a date or words after the tag if you like (``## v1.2.0
(2026-12-05)``), down to the next ``## ``. The release is made through GitLab's Releases API
(docs.gitlab.com/api/releases, "Create a release": ``POST /projects/:id/releases`` with
``tag_name``, ``name``, ``description`` and ``assets: links``), authenticated by the job's own
token (``JOB-TOKEN``), as GitLab's release tooling is. A release that exists already for the
tag is left as it is (a person may have edited its notes). Every failure is one line.

Python's standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

CHANGELOG = Path("CHANGELOG.md")
CREATED, EXISTS = 201, 409  # the Releases API's answers for a new and an existing release


class ReleaseError(Exception):
    """Why the tag cannot be released, in a line for the job log."""


def section(changelog: str, tag: str) -> str | None:
    """The text of the section ``## <tag>`` (the tag its heading's first word), stripped;
    ``None`` when there is none."""
    for part in re.split(r"^## ", changelog, flags=re.MULTILINE)[1:]:
        heading, _, body = part.partition("\n")
        if heading.split(maxsplit=1)[:1] == [tag]:
            return body.strip()
    return None


def notes(changelog: str, tag: str) -> str:
    """The release notes of ``tag``; their absence or emptiness is a ``ReleaseError`` that
    says what to do."""
    body = section(changelog, tag)
    if body is None:
        msg = (
            f"CHANGELOG.md has no section '## {tag}'. Rename '## Unreleased' to '## {tag}' "
            "in a commit, and tag that commit."
        )
        raise ReleaseError(msg)
    if not body:
        msg = f"CHANGELOG.md's section '## {tag}' is empty: say what this release brings."
        raise ReleaseError(msg)
    return body


def create_release(
    job: Mapping[str, str], tag: str, description: str, links: dict[str, str]
) -> str:
    """Create the release of ``tag`` for the job's project (``job``: its environment, with
    ``CI_API_V4_URL``, ``CI_PROJECT_ID`` and ``CI_JOB_TOKEN``), linking each of ``links``
    (name: URL); return what happened."""
    api = job.get("CI_API_V4_URL", "")
    assets = [
        {
            "name": name,
            "url": url,
            "link_type": "package" if name.endswith((".whl", ".tar.gz")) else "other",
        }
        for name, url in links.items()
    ]
    payload = {
        "tag_name": tag,
        "name": tag,
        "description": description,
        "assets": {"links": assets},
    }
    request = urllib.request.Request(  # noqa: S310 (the job's own GitLab API)
        f"{api.rstrip('/')}/projects/{job.get('CI_PROJECT_ID', '')}/releases",
        data=json.dumps(payload).encode(),
        headers={"JOB-TOKEN": job.get("CI_JOB_TOKEN", ""), "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
        if status != EXISTS:
            message = " ".join(error.read().decode(errors="replace").split())[:300]
            msg = f"GitLab refused the release of {tag} ({status}): {message}"
            raise ReleaseError(msg) from None
    except (urllib.error.URLError, OSError, ValueError) as error:  # no answer, or no URL at all
        reason = getattr(error, "reason", error)
        msg = f"GitLab's API at {api} could not be reached ({reason}): no release of {tag} made."
        raise ReleaseError(msg) from None
    if status == EXISTS:
        return f"The release {tag} exists already; left as it is."
    if status != CREATED:
        msg = f"GitLab answered {status} to the release of {tag}."
        raise ReleaseError(msg)
    return f"Released {tag}" + (f", with {', '.join(links)}." if links else ".")


def run(
    action: str,
    tag: str,
    changelog: Path,
    links: dict[str, str],
    notes_of: Callable[[str, str], str] = notes,
) -> int:
    """Check the notes of ``tag`` (``action`` "check"), or make its GitLab release with them;
    ``notes_of`` (the changelog's text and the tag) raises ``ReleaseError``. One line says what
    happened; 1 when it cannot be done."""
    try:
        text = changelog.read_text(encoding="utf-8") if changelog.is_file() else ""
        description = notes_of(text, tag)
        if action == "check":
            print(f"{changelog.name}: the notes of {tag} are there.")
            return 0
        done = create_release(os.environ, tag, description, links)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    print(done)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="release_notes.py")
    parser.add_argument("action", choices=["check", "release"])
    parser.add_argument("tag")
    parser.add_argument("--link", action="append", default=[], help="NAME=URL, an asset to link")
    args = parser.parse_args(argv)
    return run(args.action, args.tag, CHANGELOG, dict(link.split("=", 1) for link in args.link))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
