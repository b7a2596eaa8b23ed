"""Package metadata as package indexes and their readers take it: the licence (a PEP 639 SPDX
expression, and its text for an open licence), the project's addresses, keywords and
classifiers, all derived from the answers.

Plain functions, unit-tested without Copier (tests/test_metadata.py); ``JINJA_GLOBALS`` lists
what copier.yml and the templates call.

- ``license`` is a PEP 639 expression (packaging.python.org, "License-Expression"); a package that
  has one carries no ``License ::`` classifier (PEP 639 deprecates them).
- ``Private :: Do Not Upload``: PyPI refuses any upload whose classifiers hold a ``Private ::``
  one (pypi.org/classifiers: "to prevent a private package from being uploaded to PyPI"). A
  proprietary package carries it, so a wrong upload URL cannot publish it to the public index.
- The licence texts are SPDX's (``licences.json`` says where they were taken from).
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import images
import organisation

HERE = Path(__file__).resolve().parent
_LICENCES = json.loads((HERE / "licences.json").read_text(encoding="utf-8"))["licences"]
PROPRIETARY = "LicenseRef-Proprietary"
# The placeholders of each text where the year and the holder go (Apache-2.0's are in its
# appendix, which tells how to apply it: kept as written).
_HOLDER = re.compile(r"<year> <(?:copyright holders|owner)>")
DEFAULT_BRANCH = "main"  # the branch the message after the copy pushes
EXAMPLE_REPOSITORY = "https://gitlab.example.com/payments/payment-service"
# A git remote as GitLab gives it: https://host/group/project(.git), ssh://git@host(:port)/...,
# or git@host:group/project(.git).
_SCP_REMOTE = re.compile(r"^[\w.-]+@(?P<host>[\w.-]+):(?P<path>[^/].*)$")


def licence_choices() -> list[tuple[str, str]]:
    """The ``license`` choices: (label, SPDX expression), the organisation's default first."""
    return [
        ("Proprietary: no licence is granted, and PyPI refuses the package", PROPRIETARY),
        *((f"{licence['name']} (an open licence: its text in LICENSE)", spdx) for spdx, licence in _LICENCES.items()),
    ]


def is_open(licence: str) -> bool:
    """Whether ``licence`` is an open licence the template writes the text of (LICENSE)."""
    return licence in _LICENCES


def licence_text(licence: str, holder: str, year: int) -> str:
    """The text of LICENSE: the licence's SPDX text with the year and the copyright holder."""
    return _HOLDER.sub(lambda _: f"{year} {holder}", _LICENCES[licence]["text"], count=1).rstrip("\n")


def this_year() -> int:
    """The year of the copy, for the copyright line."""
    return datetime.now(UTC).year


def repository_url_error(url: str) -> str:
    """Why ``url`` cannot be the project's web address, or ``""`` (empty: none yet)."""
    if not url:
        return ""
    if refusal := organisation.url_error("repository_url", url, EXAMPLE_REPOSITORY):
        return refusal
    parts = urlsplit(url)
    if parts.scheme != "https" or len(parts.path.strip("/").split("/")) < 2:  # a group and a project
        return (
            f"repository_url {url[:120]!r} is refused: it is not the https:// address of a project on "
            f"GitLab (a group and a project at least). For example {EXAMPLE_REPOSITORY!r}."
        )
    return ""


def web_url_of_remote(remote: str) -> str:
    """The https:// web address of a git remote GitLab gave, or ``""`` when it is not one."""
    remote = remote.strip()
    if match := _SCP_REMOTE.match(remote):
        host, path = match["host"], match["path"]
    else:
        parts = urlsplit(remote)
        if parts.scheme not in {"https", "ssh", "git+ssh"} or not parts.hostname:
            return ""
        host, path = parts.hostname, parts.path
    url = f"https://{host.lower()}/{path.strip('/').removesuffix('.git')}"
    return "" if repository_url_error(url) else url


def default_repository_url(folder: str) -> str:
    """``repository_url``'s default: the web address of the folder's git remote ``origin``, when
    the project is copied into a clone (adopting a repository), else ``""``."""
    if not (Path(folder) / ".git").exists():
        return ""
    proc = subprocess.run(
        ["git", "-C", folder, "remote", "get-url", "origin"], capture_output=True, text=True, check=False
    )
    return web_url_of_remote(proc.stdout) if proc.returncode == 0 else ""


def project_urls(repository_url: str) -> dict[str, str]:
    """The package's ``[project.urls]`` on GitLab: its repository, issues, changelog and README
    (the site's address depends on the instance's Pages domain: add it as Documentation)."""
    if not repository_url:
        return {}
    base = repository_url.rstrip("/")
    return {
        "Homepage": base,
        "Repository": base,
        "Issues": f"{base}/-/issues",
        "Changelog": f"{base}/-/blob/{DEFAULT_BRANCH}/CHANGELOG.md",
        "Documentation": f"{base}/-/blob/{DEFAULT_BRANCH}/README.md",
    }


def keywords(distribution_name: str) -> list[str]:
    """The package's keywords: the words of its name (the team adds its own)."""
    return list(dict.fromkeys(word for word in distribution_name.split("-") if word))


def classifiers(python_version: str, licence: str) -> list[str]:
    """Trove classifiers: the Pythons the project supports, typed, and private when proprietary."""
    minor = tuple(map(int, python_version.split(".")))
    pythons = [version for version in images.python_choices() if tuple(map(int, version.split("."))) >= minor]
    return [
        "Development Status :: 3 - Alpha",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        *(f"Programming Language :: Python :: {version}" for version in pythons),
        "Typing :: Typed",
        *(["Private :: Do Not Upload"] if not is_open(licence) else []),
    ]


JINJA_GLOBALS = {
    "licence_choices": licence_choices,
    "licence_is_open": is_open,
    "licence_text": licence_text,
    "this_year": this_year,
    "default_repository_url": default_repository_url,
    "project_urls": project_urls,
    "package_keywords": keywords,
    "package_classifiers": classifiers,
}
