"""The template's release job: the GitLab release of a version tag, with that version's notes.

    python3 .ci/release.py TAG

Every project's template-update job follows this repository's version tags, so a tag is a
release to every team: it must be a ``vX.Y.Z`` tag with a section ``## vX.Y.Z`` (a date after
it if you like) in CHANGELOG.md, which becomes the release's description. The section's rule and
the Releases API call are those of the projects' release job, from the same file
(template/.gitlab/ci/release_notes.py); the template-update job proposes no tag that fails it.

Python's standard library only: it runs on the job's image before anything is installed.
Its checks are unit-tested in tests/test_repository_pipeline.py; the job runs in gitlab-ci-local
against a loopback GitLab there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = ROOT / "CHANGELOG.md"
sys.path.insert(0, str(ROOT / "template" / ".gitlab" / "ci"))  # the projects' own scripts

import release_notes  # noqa: E402 (the section's rule and the Releases API call)
from release_notes import ReleaseError  # noqa: E402
from template_sync import RELEASE  # noqa: E402 (the release rule vX.Y.Z)


def notes(changelog: str, tag: str) -> str:
    """The notes of release ``tag``: a ``ReleaseError`` that says what to do for a tag that is
    no release (Copier orders versions; every project follows them), or a changelog without
    its section."""
    if not RELEASE.fullmatch(tag):
        msg = f"{tag!r} is not a release tag: releases are tagged vX.Y.Z (Copier orders them as versions)."
        raise ReleaseError(msg)
    return release_notes.notes(changelog, tag)


def main(argv: list[str]) -> int:
    tag = argv[0] if argv else os.environ.get("CI_COMMIT_TAG", "")
    return release_notes.run("release", tag, CHANGELOG, {}, notes_of=notes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
