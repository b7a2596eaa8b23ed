"""Rules about the organisation's settings: its package index and its runner tags.

Plain functions, unit-tested without Copier (tests/test_organisation_rules.py), as in
identity.py: ``*_error`` functions are copier.yml's validators, ``index_settings`` derives the
index as the templates use it. ``JINJA_GLOBALS`` lists what copier.yml and the templates call.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from identity import MAX_NAME, unsafe_characters

# The organisation's package index is named "internal" in pyproject.toml, so uv reads its
# credentials from UV_INDEX_INTERNAL_USERNAME / UV_INDEX_INTERNAL_PASSWORD (uv's docs,
# "Package indexes": the name upper-cased, non-alphanumerics as "_").
INDEX_NAME = "internal"
INDEX_USERNAME_VARIABLE = f"UV_INDEX_{INDEX_NAME.upper()}_USERNAME"
INDEX_PASSWORD_VARIABLE = f"UV_INDEX_{INDEX_NAME.upper()}_PASSWORD"
MAX_URL = 500
MAX_TAG = 255  # GitLab's limit for a runner tag's name
_HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")
# What a simple-index URL's path needs (RFC 3986 unreserved characters, "/", "%" escapes and
# GitLab's "/-/"); no quotes, spaces or "$", which YAML, TOML, shells or GitLab would read.
_PATH_RE = re.compile(r"^[A-Za-z0-9._~%/+-]*$")
_DISTRIBUTION_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EXAMPLE_URL = "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi/simple"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_problem(url: str) -> str:
    """What is wrong with ``url`` as an index URL, or ``""``."""
    if len(url) > MAX_URL:
        return f"it is {len(url)} characters long (at most {MAX_URL})"
    if unsafe_characters(url) or not url.isascii() or any(ch.isspace() for ch in url):
        return "it holds spaces, control, bidi or non-ASCII characters (percent-encode them)"
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return (
            "it holds credentials, which would be written into the project's files; the jobs read "
            f"them from masked CI/CD variables (for the index: {INDEX_USERNAME_VARIABLE}, {INDEX_PASSWORD_VARIABLE})"
        )
    if "?" in url or "#" in url:
        return (
            "it has a query string or fragment: a token there would be written into the project's "
            "files and sent with every request; the jobs read credentials from the environment"
        )
    host = parts.hostname or ""
    if parts.scheme == "http" and not _is_loopback(host):
        return (
            "it is http://: every job would send its credentials (the job token) in cleartext; "
            "use https:// (http:// is only for a service on loopback)"
        )
    if parts.scheme not in {"https", "http"}:
        return "it is not an https:// URL"
    if not (_HOST_RE.match(host) or _is_loopback(host)) or not _PATH_RE.match(parts.path):
        return "its host or path holds characters a simple-index URL does not need"
    return ""


def _refusal(question: str, url: str, example: str) -> str:
    """Why ``url`` cannot answer ``question``, or ``""``: empty (the public default) or fine."""
    if url and (problem := _url_problem(url)):
        return f"{question} {url[:120]!r} is refused: {problem}. For example {example!r}."
    return ""


def index_url_error(url: str) -> str:
    """Why ``url`` cannot be the organisation's package index, or ``""`` (empty: PyPI only)."""
    return _refusal("package_index_url", url, _EXAMPLE_URL)


def service_url_error(url: str) -> str:
    """Why ``url`` cannot be the vulnerability service the audit job asks, or ``""`` (empty: OSV)."""
    return _refusal("vulnerability_service_url", url, "https://osv.example.com")


def upload_url(index_url: str) -> str:
    """Where packages are published to an index whose simple API is ``index_url``.

    Upload endpoints are the simple URL without its ``/simple`` part (GitLab, Artifactory,
    Nexus, pypiserver, devpi): ``.../pypi/simple/`` -> ``.../pypi``.
    """
    return re.sub(r"/simple/?$", "", index_url.rstrip("/") + "/").rstrip("/")


def index_settings(url: str, mode: str, packages: list[str], auth: str) -> dict[str, object]:
    """The organisation's index as the templates use it: ``{}`` without one.

    ``username_variable``/``password_variable``: where uv reads its credentials from;
    ``upload_url``: where a release publishes; ``packages``: the distributions pinned to it
    (only with ``beside``).
    """
    if not url:
        return {}
    return {
        "name": INDEX_NAME,
        "url": url,
        "upload_url": upload_url(url),
        "mode": mode,
        "packages": list(packages) if mode == "beside" else [],
        "auth": auth,
        "username_variable": INDEX_USERNAME_VARIABLE,
        "password_variable": INDEX_PASSWORD_VARIABLE,
    }


def _duplicates(items: list[object]) -> list[object]:
    seen: list[object] = []
    return [item for item in items if item in seen or seen.append(item)]


def package_names_error(names: object, distribution: str = "") -> str:
    """Why ``names`` is not a list of other distributions to pin to the index, or ``""``."""
    if not isinstance(names, list):
        return f"package_index_packages {str(names)[:80]!r} must be a list like [payments-core, ledger]."
    for name in names:
        if not isinstance(name, str) or not _DISTRIBUTION_RE.match(name) or len(name) > MAX_NAME:
            return (
                f"package_index_packages entry {str(name)[:80]!r} is not a normalised distribution name "
                f"(at most {MAX_NAME} characters) like 'payments-core'."
            )
        if name == distribution:
            return f"package_index_packages lists {name!r}, the project itself: list the packages it depends on."
    if repeated := _duplicates(names):
        return f"package_index_packages lists {repeated[0]!r} twice; list each package once."
    return ""


def runner_tags_error(tags: object) -> str:
    """Why ``tags`` is not a list of GitLab runner tags, or ``""``."""
    if not isinstance(tags, list):
        return f"ci_runner_tags {str(tags)[:80]!r} must be a list like [docker, linux] (or [] for any runner)."
    for tag in tags:
        if (
            not isinstance(tag, str)
            or not tag.strip()
            or tag != tag.strip()
            or len(tag) > MAX_TAG
            or unsafe_characters(tag)
        ):
            return (
                f"ci_runner_tags entry {str(tag)[:80]!r} must be a one-line tag of at most {MAX_TAG} "
                "characters, without surrounding spaces or control characters."
            )
    if repeated := _duplicates(tags):
        return f"ci_runner_tags lists {repeated[0]!r} twice; list each tag once."
    return ""


# What copier.yml and the templates call, by name (extensions/registry.py registers it).
JINJA_GLOBALS = {
    "index_url_error": index_url_error,
    "service_url_error": service_url_error,
    "index_settings": index_settings,
    "package_names_error": package_names_error,
    "runner_tags_error": runner_tags_error,
}
