"""Rules about the project's identity: its names, description and author.

Plain functions, unit-tested without Copier (tests/test_identity.py). Each ``*_error``
function returns an empty string for a valid answer, or a message that names the bad value
and shows a valid one: copier.yml uses them as validators, so the rule exists only here.
The ``default_*`` functions derive the default of one answer from another.
``JINJA_GLOBALS`` at the bottom lists what copier.yml and the templates call.

Every free-text answer is refused when it holds a control, format (bidi override,
zero-width) or line-separator character: they would reorder or hide what a reviewer reads in
README.md and pyproject.toml. Every answer has a length limit: names fit file names and keep
every generated line within the project's line length (100).
"""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
import unicodedata

# Distribution and package names: the longest name keeps every line the template generates
# with it (imports, `version("...")`) within the project's line length of 100.
MAX_NAME = 64
MAX_TITLE = 100  # project_name, author_name: a README title, package metadata
MAX_DESCRIPTION = 2000
MAX_EMAIL = 254  # RFC 5321's limit for a forward path

# The distributions the generated project's own tools bring into uv.lock (its dependency
# groups, with either type checker, for every Python it supports): a project with one of
# these names would depend on itself, which uv refuses. tests/test_identity.py compares
# this with rendered locks.
TOOL_DISTRIBUTIONS = frozenset(
    {
        "ast-serialize",
        "colorama",
        "coverage",
        "exceptiongroup",
        "iniconfig",
        "librt",
        "mypy",
        "mypy-extensions",
        "packaging",
        "pathspec",
        "pluggy",
        "pre-commit-hooks",
        "pygments",
        "pytest",
        "pytest-cov",
        "ruamel-yaml",
        "ruff",
        "tomli",
        "ty",
        "typing-extensions",
    }
)
# Import names a package of the project must not take: the tools' own (pytest also installs
# `_pytest` and the `py` shim), the standard library's, and the test layout's.
_TOOL_IMPORTS = frozenset(name.replace("-", "_") for name in TOOL_DISTRIBUTIONS) | {
    "_pytest",
    "py",
    "ruamel",
    "pre_commit_hooks",
}
_RESERVED_PACKAGES = frozenset(sys.stdlib_module_names) | {"src", "tests", "test"}

_DISTRIBUTION_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PACKAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
# Deliberately simple: one @, no spaces or characters that break the
# "Name <email>" form of package metadata, and a dot in the domain.
_EMAIL_RE = re.compile(r"^[^@\s<>,;\"()\[\]\\]+@[^@\s<>,;\"()\[\]\\]+\.[A-Za-z0-9-]+$")
# Control (Cc), format (Cf: bidi overrides, zero-width), line and paragraph separators.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def unsafe_characters(text: str, *, newlines: bool = False) -> list[str]:
    """The characters of ``text`` that no answer may hold (``newlines``: a line break is fine)."""
    allowed = {"\n"} if newlines else set()
    return [ch for ch in text if ch not in allowed and unicodedata.category(ch) in _UNSAFE_CATEGORIES]


def text_error(field: str, value: str, *, limit: int, multiline: bool = False) -> str:
    """Why ``value`` is not acceptable free text for ``field``, or ``""``."""
    if not value.strip():
        return f"{field} must not be empty (got {value!r}); for example 'Payment Service'."
    if len(value) > limit:
        return f"{field} is {len(value)} characters long; at most {limit} are allowed."
    if bad := unsafe_characters(value, newlines=multiline):
        kind = "text without" if multiline else "a single line without"
        return (
            f"{field} must be {kind} control, bidi or zero-width characters; "
            f"{value[:80]!r} contains {', '.join(repr(ch) for ch in dict.fromkeys(bad))}."
        )
    if not multiline and value != value.strip():
        return f"{field} must not start or end with spaces (got {value!r})."
    return ""


def project_name_error(name: str) -> str:
    """Why ``name`` is not a usable human project name, or ``""``."""
    return text_error("project_name", name, limit=MAX_TITLE)


def author_name_error(name: str) -> str:
    """Why ``name`` is not a usable author name, or ``""``."""
    return text_error("author_name", name, limit=MAX_TITLE)


def description_error(text: str) -> str:
    """Why ``text`` is not a usable description, or ``""``: lines of visible text."""
    if not text.strip():
        return f"description must not be empty (got {text!r}); say in a sentence what the project does."
    return text_error("description", text, limit=MAX_DESCRIPTION, multiline=True)


def default_distribution_name(project_name: str) -> str:
    """The normalised distribution name a human project name suggests, at most ``MAX_NAME`` long.

    Accents are folded to ASCII, every run of other characters becomes one dash, and a long
    name is cut at the last dash that keeps it within the limit:
    ``"Café Übersicht 2"`` -> ``"cafe-ubersicht-2"``.
    """
    ascii_name = unicodedata.normalize("NFKD", project_name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if len(name) > MAX_NAME:
        cut = name[: MAX_NAME + 1]
        name = cut[: cut.rfind("-")] if "-" in cut else name[:MAX_NAME]
    return name.strip("-")


def distribution_name_error(name: str) -> str:
    """Why ``name`` cannot be the project's distribution name, or ``""``."""
    if not _DISTRIBUTION_RE.match(name):
        return (
            f"distribution_name {name[:80]!r} is not a normalised distribution name: use lowercase "
            "ASCII letters and digits separated by single dashes, for example 'payment-service'."
        )
    if len(name) > MAX_NAME:
        return (
            f"distribution_name {name[:80]!r} is {len(name)} characters long; at most {MAX_NAME} keep "
            f"every generated line within the line length. Choose a shorter one, for example "
            f"{default_distribution_name(name)!r}."
        )
    if name in TOOL_DISTRIBUTIONS:
        return (
            f"distribution_name {name!r} is a package the project's own tools depend on, so the "
            f"project would depend on itself; choose another, for example '{name}-service'."
        )
    return ""


def default_package_name(distribution: str) -> str:
    """The import name a distribution name suggests: ``"payment-service"`` -> ``"payment_service"``."""
    return distribution.replace("-", "_")


def package_name_error(name: str) -> str:
    """Why ``name`` cannot be the project's import package, or ``""``."""
    if not _PACKAGE_RE.match(name):
        return (
            f"package_name {name[:80]!r} is not a valid Python package name: use lowercase ASCII "
            "letters, digits and underscores, not starting with a digit, for example "
            "'payment_service'."
        )
    if len(name) > MAX_NAME:
        return f"package_name {name[:80]!r} is {len(name)} characters long; at most {MAX_NAME} are allowed."
    if keyword.iskeyword(name):
        return f"package_name {name!r} is a Python keyword; choose another, for example '{name}_app'."
    if name in _RESERVED_PACKAGES or name in _TOOL_IMPORTS:
        return (
            f"package_name {name!r} would shadow the standard library, the tests folder or a "
            f"tool the project uses; choose another, for example '{name}_app'."
        )
    return ""


def email_error(email: str) -> str:
    """Why ``email`` is not a plausible e-mail address, or ``""``."""
    if len(email) <= MAX_EMAIL and _EMAIL_RE.match(email) and not unsafe_characters(email):
        return ""
    return f"author_email {email[:80]!r} is not an e-mail address like 'team@example.com'."


def git_config(key: str, fallback: str) -> str:
    """A value from the user's git configuration (a default only), or ``fallback``."""
    try:
        result = subprocess.run(
            ["git", "config", "--get", key], capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return fallback
    return result.stdout.strip() or fallback


# What copier.yml and the templates call, by name (extensions/registry.py registers it).
JINJA_GLOBALS = {
    "project_name_error": project_name_error,
    "author_name_error": author_name_error,
    "description_error": description_error,
    "default_distribution_name": default_distribution_name,
    "distribution_name_error": distribution_name_error,
    "default_package_name": default_package_name,
    "package_name_error": package_name_error,
    "email_error": email_error,
    "git_config": git_config,
}
