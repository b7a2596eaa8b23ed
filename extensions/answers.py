"""Rules about the identity answers, and safe quoting of free text.

Plain functions, unit-tested without Copier (tests/test_answers.py). Each
``*_error`` function returns an empty string for a valid answer, or a message
that names the bad value and shows a valid one: copier.yml uses them as
validators, so the rule exists only here. ``AnswersExtension`` at the bottom
only registers them as Jinja globals, as ``ImagesExtension`` does: copier.yml and
the templates call every function the same way, ``rule(value)``.
"""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
import unicodedata

from jinja2 import Environment
from jinja2.ext import Extension

_DISTRIBUTION_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PACKAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
# Deliberately simple: one @, no spaces or characters that break the
# "Name <email>" form of package metadata, and a dot in the domain.
_EMAIL_RE = re.compile(r"^[^@\s<>,;\"()\[\]\\]+@[^@\s<>,;\"()\[\]\\]+\.[A-Za-z0-9-]+$")
# Names that would shadow the standard library or the test layout when imported.
_RESERVED_PACKAGES = frozenset(sys.stdlib_module_names) | {"src", "tests", "test"}


def _control_characters(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"}]


def _one_line_error(field: str, value: str) -> str:
    if not value.strip():
        return f"{field} must not be empty (got {value!r}); for example 'Payment Service'."
    if bad := _control_characters(value):
        return (
            f"{field} must be a single line without control characters; "
            f"{value!r} contains {', '.join(repr(ch) for ch in bad)}."
        )
    if value != value.strip():
        return f"{field} must not start or end with spaces (got {value!r})."
    return ""


def project_name_error(name: str) -> str:
    """Why ``name`` is not a usable human project name, or ``""``."""
    return _one_line_error("project_name", name)


def author_name_error(name: str) -> str:
    """Why ``name`` is not a usable author name, or ``""``."""
    return _one_line_error("author_name", name)


def description_error(text: str) -> str:
    """Why ``text`` is not a usable description, or ``""``: any text with a visible character."""
    if not text.strip():
        return f"description must not be empty (got {text!r}); say in a sentence what the project does."
    return ""


def distribution_name(project_name: str) -> str:
    """The normalised distribution name for a human project name.

    Accents are folded to ASCII and every run of other characters becomes one
    dash: ``"Café Übersicht 2"`` -> ``"cafe-ubersicht-2"``.
    """
    ascii_name = unicodedata.normalize("NFKD", project_name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def distribution_name_error(name: str) -> str:
    """Why ``name`` is not a normalised distribution name, or ``""``."""
    if _DISTRIBUTION_RE.match(name):
        return ""
    return (
        f"distribution_name {name!r} is not a normalised distribution name: use lowercase "
        "ASCII letters and digits separated by single dashes, for example 'payment-service'."
    )


def package_name(distribution: str) -> str:
    """The import name for a distribution name: ``"payment-service"`` -> ``"payment_service"``."""
    return distribution.replace("-", "_")


def package_name_error(name: str) -> str:
    """Why ``name`` cannot be the project's import package, or ``""``."""
    if not _PACKAGE_RE.match(name):
        return (
            f"package_name {name!r} is not a valid Python package name: use lowercase ASCII "
            "letters, digits and underscores, not starting with a digit, for example "
            "'payment_service'."
        )
    if keyword.iskeyword(name):
        return f"package_name {name!r} is a Python keyword; choose another, for example '{name}_app'."
    if name in _RESERVED_PACKAGES:
        return (
            f"package_name {name!r} would shadow the standard library or the tests folder; "
            f"choose another, for example '{name}_app'."
        )
    return ""


def email_error(email: str) -> str:
    """Why ``email`` is not a plausible e-mail address, or ``""``."""
    if _EMAIL_RE.match(email):
        return ""
    return f"author_email {email!r} is not an e-mail address like 'team@example.com'."


# ---------------------------------------------------------------- organisation settings

# The organisation's package index is named "internal" in pyproject.toml, so uv reads its
# credentials from UV_INDEX_INTERNAL_USERNAME / UV_INDEX_INTERNAL_PASSWORD (uv's docs,
# "Package indexes": the name upper-cased, non-alphanumerics as "_").
INDEX_NAME = "internal"
INDEX_USERNAME_VARIABLE = f"UV_INDEX_{INDEX_NAME.upper()}_USERNAME"
INDEX_PASSWORD_VARIABLE = f"UV_INDEX_{INDEX_NAME.upper()}_PASSWORD"
_INDEX_URL_RE = re.compile(r"^https?://[^\s/@'\"\\]+(?:/[^\s@'\"\\]*)?$")


def index_url_error(url: str) -> str:
    """Why ``url`` cannot be the organisation's package index, or ``""`` (empty: PyPI only)."""
    if not url or _INDEX_URL_RE.match(url):
        return ""
    return (
        f"package_index_url {url!r} is not the URL of a simple index without credentials (uv reads "
        f"those from {INDEX_USERNAME_VARIABLE} and {INDEX_PASSWORD_VARIABLE}), for example "
        "'https://gitlab.example.com/api/v4/groups/42/-/packages/pypi/simple'."
    )


def upload_url(index_url: str) -> str:
    """Where packages are published to an index whose simple API is ``index_url``.

    Upload endpoints are the simple URL without its ``/simple`` part (GitLab, Artifactory,
    Nexus, pypiserver, devpi): ``.../pypi/simple/`` -> ``.../pypi``.
    """
    return re.sub(r"/simple/?$", "", index_url.rstrip("/") + "/").rstrip("/")


def package_index(url: str, mode: str, packages: list[str], auth: str) -> dict[str, object]:
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


def package_names_error(names: object) -> str:
    """Why ``names`` is not a list of distribution names, or ``""``."""
    if not isinstance(names, list):
        return f"package_index_packages {names!r} must be a list like [payments-core, ledger]."
    for name in names:
        if not isinstance(name, str) or not _DISTRIBUTION_RE.match(name):
            return f"package_index_packages entry {name!r} is not a normalised distribution name like 'payments-core'."
    return ""


def runner_tags_error(tags: object) -> str:
    """Why ``tags`` is not a list of GitLab runner tags, or ``""``."""
    if not isinstance(tags, list):
        return f"ci_runner_tags {tags!r} must be a list like [docker, linux] (or [] for any runner)."
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip() or tag != tag.strip() or _control_characters(tag):
            return f"ci_runner_tags entry {tag!r} must be a one-line tag without surrounding spaces."
    return ""


def summary(text: str) -> str:
    """``text`` on one line, for package metadata (its Summary field forbids newlines).

    Every run of whitespace, newlines included, becomes one space.
    """
    return " ".join(text.split())


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string that parses back to exactly ``text``.

    Non-ASCII stays readable (TOML files are UTF-8); quotes, backslashes and
    control characters are escaped.
    """
    out = []
    for ch in text:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ch == "\x7f" or unicodedata.category(ch) == "Cc":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def git_config(key: str, fallback: str) -> str:
    """A value from the user's git configuration (a default only), or ``fallback``."""
    try:
        result = subprocess.run(
            ["git", "config", "--get", key], capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return fallback
    return result.stdout.strip() or fallback


class AnswersExtension(Extension):
    """Registers the functions copier.yml and the templates call as Jinja globals."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals.update(
            {
                "project_name_error": project_name_error,
                "author_name_error": author_name_error,
                "description_error": description_error,
                "distribution_name": distribution_name,
                "distribution_name_error": distribution_name_error,
                "package_name": package_name,
                "package_name_error": package_name_error,
                "email_error": email_error,
                "summary": summary,
                "toml_string": toml_string,
                "git_config": git_config,
                "index_url_error": index_url_error,
                "package_index": package_index,
                "package_names_error": package_names_error,
                "runner_tags_error": runner_tags_error,
            }
        )
