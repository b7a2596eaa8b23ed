"""The template's release job: the GitLab release of a version tag, with that version's notes.

    python3 .ci/release.py TAG

Every project's template-update job follows this repository's version tags (Copier takes the
highest PEP 440 tag), so a tag is a release to every team: it must be a ``vX.Y.Z`` tag with a
section ``## vX.Y.Z`` in CHANGELOG.md, which becomes the release's description. Then it creates
the GitLab release through the Releases API (docs.gitlab.com/api/releases, "Create a
release": ``POST /projects/:id/releases`` with ``tag_name``, ``name`` and ``description``),
authenticated by the job's own token (``JOB-TOKEN``), as GitLab's release tooling does. A
release that already exists for the tag is left as it is (a person may have edited its notes).

Python's standard library only: it runs on the job's image before anything is installed.
Its checks are unit-tested in tests/test_repository_pipeline.py; the job runs in gitlab-ci-local
against a loopback GitLab there.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parent.parent / "CHANGELOG.md"
TAG = re.compile(r"v\d+\.\d+\.\d+")
CREATED, EXISTS = 201, 409  # the Releases API's answers for a new and an existing release


class ReleaseError(Exception):
    """Why the tag cannot be released, in a line or two for the job log."""


def notes(changelog: str, tag: str) -> str:
    """The section ``## <tag>`` of the changelog, without its heading; its absence or emptiness
    is a ``ReleaseError`` that says what to do."""
    if not TAG.fullmatch(tag):
        msg = f"{tag!r} is not a release tag: releases are tagged vX.Y.Z (Copier orders them as versions)."
        raise ReleaseError(msg)
    sections = re.split(r"^## ", changelog, flags=re.MULTILINE)[1:]
    found = [section for section in sections if section.split("\n", 1)[0].strip() == tag]
    if not found:
        msg = (
            f"CHANGELOG.md has no section '## {tag}': every project's update merge request quotes it. "
            f"Rename '## Unreleased' to '## {tag}' in a commit, and tag that commit."
        )
        raise ReleaseError(msg)
    body = found[0].split("\n", 1)[1].strip() if "\n" in found[0] else ""
    if not body:
        msg = f"CHANGELOG.md's section '## {tag}' is empty: say what a project gets from this release."
        raise ReleaseError(msg)
    return body


def create_release(api: str, project: str, token: str, tag: str, description: str) -> str:
    """Create the release; return what happened, for the log."""
    request = urllib.request.Request(
        f"{api.rstrip('/')}/projects/{project}/releases",
        data=json.dumps({"tag_name": tag, "name": tag, "description": description}).encode(),
        headers={"JOB-TOKEN": token, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
        if status != EXISTS:
            message = error.read().decode(errors="replace")[:300]
            msg = f"GitLab refused the release of {tag} ({status}): {message}"
            raise ReleaseError(msg) from None
    if status == EXISTS:
        return f"The release {tag} exists already; left as it is."
    if status != CREATED:
        msg = f"GitLab answered {status} to the release of {tag}."
        raise ReleaseError(msg)
    return f"Released {tag}."


def main(argv: list[str]) -> int:
    tag = argv[0] if argv else os.environ.get("CI_COMMIT_TAG", "")
    try:
        description = notes(CHANGELOG.read_text(encoding="utf-8"), tag)
        done = create_release(
            os.environ["CI_API_V4_URL"], os.environ["CI_PROJECT_ID"], os.environ["CI_JOB_TOKEN"], tag, description
        )
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    print(done)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
