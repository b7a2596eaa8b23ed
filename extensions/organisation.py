"""Rules about the organisation's settings: its package index and its runner tags.

Plain functions, unit-tested without Copier (tests/test_organisation_rules.py), as in
identity.py: ``*_error`` functions are copier.yml's validators, ``index_settings`` derives the
index as the templates use it. ``JINJA_GLOBALS`` lists what copier.yml and the templates call.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from identity import MAX_NAME, unsafe_characters

# The organisation's package index is named "internal" in pyproject.toml, so uv reads its
# credentials from UV_INDEX_INTERNAL_USERNAME / UV_INDEX_INTERNAL_PASSWORD (uv's docs,
# "Package indexes": the name upper-cased, non-alphanumerics as "_").
INDEX_NAME = "internal"
INDEX_USERNAME_VARIABLE = f"UV_INDEX_{INDEX_NAME.upper()}_USERNAME"
INDEX_PASSWORD_VARIABLE = f"UV_INDEX_{INDEX_NAME.upper()}_PASSWORD"
MAX_URL = 500
MAX_TAG = 255  # GitLab's limit for a runner tag's name
# GitLab refuses a pipeline with a job of more than 50 tags (Gitlab::Ci::Config::Entry::Job;
# gitlab-org/gitlab merge request 68380, "Prevents pipeline creation for builds with more than 50 tags").
MAX_TAGS = 50
# Where GitLab serves a PyPI simple index (docs.gitlab.com/api/packages/pypi): a project's,
# /api/v4/projects/:id/packages/pypi/simple, or a group's, /api/v4/groups/:id/-/packages/pypi/simple
# (:id a number or a URL-encoded path). Only there is the job token a credential.
_GITLAB_INDEX_PATH = re.compile(
    r"^(?:/[A-Za-z0-9._~%-]+)*/api/v4/(?:projects/[^/]+|groups/[^/]+/-)/packages/pypi/simple/?$"
)
_HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")
# What a simple-index URL's path needs (RFC 3986 unreserved characters, "/", "%" escapes and
# GitLab's "/-/"); no quotes, spaces or "$", which YAML, TOML, shells or GitLab would read.
_PATH_RE = re.compile(r"^[A-Za-z0-9._~%/+-]*$")
# An IANA zone name: Area/Location[/Sublocation] (Europe/Berlin, America/Argentina/Salta).
_ZONE_RE = re.compile(r"^[A-Z][A-Za-z_]+(?:/[A-Za-z0-9_+-]+){1,2}$")
_DISTRIBUTION_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EXAMPLE_URL = "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi/simple"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# What a message must never print, whichever answer or hint it comes from: a URL's user and
# password, a query value, and tokens of GitLab's and the package indexes' formats.
_SECRET_PATTERNS = (
    (re.compile(r"(?<=://)(?:([^/@\s'\":]+):)?[^/@\s'\"]+@"), lambda m: f"{m[1]}:***@" if m[1] else "***@"),
    (re.compile(r"([?&][^=&#\s'\"]+=)[^&#\s'\"]+"), r"\1***"),
    (re.compile(r"\b(gl[a-z]{1,6}-|pypi-|npm_|gh[pousr]_|github_pat_|sk-)[A-Za-z0-9_.\-]{8,}"), r"\1***"),
)


def mask_secrets(text: str) -> str:
    """``text`` with every credential-shaped part replaced by ``***``."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def masked_url(url: str) -> str:
    """``url`` as a message may show it: a password, and every query value, replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL urllib reads (a bracket left open)
        return mask_secrets(url)
    if "@" not in parts.netloc and not parts.query and not parts.fragment:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"***@{host}"
    query = "&".join(
        f"{item.split('=', 1)[0]}=***" if "=" in item else "***" for item in parts.query.split("&") if item
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, "***" if parts.fragment else ""))


def _url_problem(url: str) -> str:
    """What is wrong with ``url`` as an index URL, or ``""``: an accepted URL is the one uv contacts."""
    if len(url) > MAX_URL:
        return f"it is {len(url)} characters long (at most {MAX_URL})"
    if unsafe_characters(url) or not url.isascii() or any(ch.isspace() for ch in url):
        return "it holds spaces, control, bidi or non-ASCII characters (percent-encode them)"
    try:
        parts = urlsplit(url)
    except ValueError as error:  # "Invalid IPv6 URL": a bracket left open
        return f"it is not a URL ({error})"
    scheme = url.partition("://")[0]
    if scheme.lower() in {"https", "http"} and (scheme != scheme.lower() or parts.netloc != parts.netloc.lower()):
        # The hint is made from the masked URL: a refusal never prints a credential.
        masked = masked_url(url)
        netloc = urlsplit(masked).netloc
        return (
            "its scheme or host is not in lower case, which uv does not read as the same index; "
            f"write {scheme.lower()}://{netloc.lower()}{masked.partition('://')[2][len(netloc) :]}"
        )
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
    if (port := re.search(r":(\d*)$", parts.netloc)) and not 0 < int(port.group(1) or 0) < 65536:
        return "its port is not a number from 1 to 65535"
    if "/../" in f"{parts.path}/" or "/./" in f"{parts.path}/" or "%2e" in parts.path.lower():
        return "its path holds dot segments (/./ or /../), which uv would resolve to another path"
    return ""


def url_error(question: str, url: str, example: str) -> str:
    """Why ``url`` cannot answer ``question``, or ``""``: empty (the public default) or fine."""
    if url and (problem := _url_problem(url)):
        return f"{question} {masked_url(url)[:120]!r} is refused: {problem}. For example {example!r}."
    return ""


def index_url_error(url: str) -> str:
    """Why ``url`` cannot be the organisation's package index, or ``""`` (empty: PyPI only)."""
    return url_error("package_index_url", url, _EXAMPLE_URL)


def is_gitlab_registry(url: str) -> bool:
    """Whether ``url`` is where GitLab serves a PyPI simple index (a project's or a group's)."""
    return bool(_GITLAB_INDEX_PATH.match(urlsplit(url).path))


def default_auth(url: str) -> str:
    """package_index_auth's default: the job token for a GitLab package registry, else masked
    CI/CD variables (the job token is never a credential for another index)."""
    return "gitlab-job-token" if is_gitlab_registry(url) else "ci-variables"


def auth_error(auth: str, url: str) -> str:
    """Why ``auth`` cannot authenticate to the index at ``url``, or ``""``: the job token is a
    credential of the GitLab that runs the job, so it goes only to a GitLab package registry
    (the job also checks, at run time, that the index is on that GitLab: CI_SERVER_HOST)."""
    if auth != "gitlab-job-token" or not url or _url_problem(url):
        return ""
    if is_gitlab_registry(url):
        return ""
    return (
        f"package_index_auth 'gitlab-job-token' sends the job token to the index, and "
        f"{masked_url(url)[:120]!r} is not a GitLab package registry (.../api/v4/projects/:id/packages/pypi/simple "
        "or .../api/v4/groups/:id/-/packages/pypi/simple). For another index choose 'ci-variables' "
        f"(masked CI/CD variables {INDEX_USERNAME_VARIABLE} / {INDEX_PASSWORD_VARIABLE}) or 'none'."
    )


def service_url_error(url: str) -> str:
    """Why ``url`` cannot be the vulnerability service the audit job asks, or ``""`` (empty: OSV)."""
    return url_error("vulnerability_service_url", url, "https://osv.example.com")


def timezone_error(name: object) -> str:
    """Why ``name`` cannot be the time zone Renovate reads its schedule in, or ``""``: an IANA
    zone (Area/Location, as Renovate's ``timezone`` takes, docs.renovatebot.com
    "Configuration Options", timezone) or UTC, known to this machine's time zone database
    when it has one."""
    if isinstance(name, str) and (name == "UTC" or _ZONE_RE.fullmatch(name)):
        known = _known_zones()
        if not known or name in known:
            return ""
    return (
        f"renovate_timezone {str(name)[:80]!r} is not an IANA time zone; give Area/Location "
        "as in Europe/Berlin or America/New_York, or UTC."
    )


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    """The zones of this machine's time zone database (none: not known here, any well-formed name)."""
    return frozenset(zoneinfo.available_timezones())


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
    """Why ``tags`` is not a list of GitLab runner tags, or ``""``. GitLab expands CI/CD variables
    in a job's tags (docs.gitlab.com/ci/yaml, "tags"): a ``$`` would make a tag another value."""
    if not isinstance(tags, list):
        return f"ci_runner_tags {str(tags)[:80]!r} must be a list like [docker, linux] (or [] for any runner)."
    if len(tags) > MAX_TAGS:
        return f"ci_runner_tags lists {len(tags)} tags; GitLab refuses a job with more than {MAX_TAGS}."
    for tag in tags:
        if isinstance(tag, str) and "$" in tag:
            return (
                f"ci_runner_tags entry {tag[:80]!r} holds '$': GitLab expands variables in tags, so the job "
                "would ask for another tag. Give the tag itself."
            )
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
    "index_host": lambda url: urlsplit(url).hostname or "",
    "index_port": lambda url: str(urlsplit(url).port or {"https": 443, "http": 80}.get(urlsplit(url).scheme, "")),
    "default_auth": default_auth,
    "package_names_error": package_names_error,
    "runner_tags_error": runner_tags_error,
    "timezone_error": timezone_error,
}
