"""Rules about the project's identity: its names, description and author.

Plain functions, unit-tested without Copier (tests/test_identity.py). Each ``*_error``
function returns an empty string for a valid answer, or a message that names the bad value
and shows a valid one: copier.yml uses them as validators, so the rule exists only here.
The ``default_*`` functions derive the default of one answer from another.
``JINJA_GLOBALS`` at the bottom lists what copier.yml and the templates call.

Every free-text answer is refused when it holds a control, format (bidi override,
zero-width) or line-separator character: they would reorder or hide what a reviewer reads in
README.md and pyproject.toml. It is refused too when it holds a lone surrogate (a byte that was
not UTF-8, as Python reads it from the command line: no file can be written with it), or
pymdownx.snippets' marker ``--8<--``: the docs site's Markdown reads README.md again, and a marker
line there would include any project file into the published site, or end its usage section.
Every answer has a length limit: names fit file names and keep every generated line within the
project's line length (100).
"""

from __future__ import annotations

import json
import keyword
import re
import subprocess
import unicodedata
from email.utils import getaddresses
from pathlib import Path

# Distribution and package names: the longest name keeps every line the template generates
# with it (imports, `version("...")`) within the project's line length of 100.
MAX_NAME = 64
MAX_TITLE = 100  # project_name, author_name: a README title, package metadata
MAX_DESCRIPTION = 2000
MAX_EMAIL = 254  # RFC 5321's limit for a forward path

# The names a project's package and distribution must not take, made from their sources by
# tests/tables.py (and checked against them by tests/test_identity.py): each supported Python's
# standard-library modules, and every distribution, top-level module and console script the
# project's own tools install (all dependency groups, either type checker).
_TABLES = json.loads((Path(__file__).resolve().parent / "python_names.json").read_text(encoding="utf-8"))
STDLIB_MODULES: dict[str, frozenset[str]] = {version: frozenset(names) for version, names in _TABLES["stdlib"].items()}
# A project with one of these names would depend on itself, which uv refuses.
TOOL_DISTRIBUTIONS = frozenset(_TABLES["tools"]["distributions"])
TOOL_MODULES = frozenset(_TABLES["tools"]["modules"])
# The project installs a console script named after its distribution: one of these names
# would replace a tool's (a git hook's check would run the project instead).
TOOL_SCRIPTS = frozenset(_TABLES["tools"]["scripts"])
# Names Python itself gives meaning to outside the standard library (site's hooks run at every
# start) and the test layout's folders.
SPECIAL_MODULES = frozenset({"sitecustomize", "usercustomize", "src", "tests", "test"})
# Commands the project's jobs, hooks and README run from the project's environment, where its own
# console script (named after its distribution) comes first on PATH: `uv run uv lock` would run
# the project instead of uv.
RUN_COMMANDS = frozenset({"uv", "uvx", "python", "python3", "pip", "pip3", "git", "sh", "bash", "env"})
# pymdownx.snippets' marker, ``-{1,}8<-{1,}`` (``--8<--`` as usually written): on any line of a file
# the docs site includes, it includes another file or starts or ends a section
# (facelessuser.github.io/pymdown-extensions/extensions/snippets; every form holds this text).
SNIPPET_MARKER = "-8<-"

_DISTRIBUTION_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PACKAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
# An address package metadata carries as "Name <email>": a dot-atom local part (RFC 5322: no
# leading, trailing or doubled dot) and a host name of dot-separated labels.
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
# Control (Cc), format (Cf: bidi overrides, zero-width), line and paragraph separators, and lone
# surrogates (Cs: Python's stand-in for a byte that was not UTF-8, which no file can hold).
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs"}
# Letters and marks that render as nothing (Unicode's Default_Ignorable_Code_Point fillers that
# are not format characters), and the blank Braille pattern: a name holding one looks like
# another name.
_INVISIBLE = frozenset("\u115f\u1160\u17b4\u17b5\u3164\uffa0\u2800\u034f\u180b\u180c\u180d\u180f")


def unsafe_characters(text: str, *, newlines: bool = False) -> list[str]:
    """The characters of ``text`` that no answer may hold (``newlines``: a line break is fine)."""
    allowed = {"\n"} if newlines else set()
    return [
        ch
        for ch in text
        if ch not in allowed
        and (unicodedata.category(ch) in _UNSAFE_CATEGORIES or ch in _INVISIBLE or "\ufe00" <= ch <= "\ufe0f")
    ]


def text_error(field: str, value: str, *, limit: int, multiline: bool = False) -> str:
    """Why ``value`` is not acceptable free text for ``field``, or ``""``."""
    if not value.strip():
        return f"{field} must not be empty (got {value!r}); for example 'Payment Service'."
    if len(value) > limit:
        return f"{field} is {len(value)} characters long; at most {limit} are allowed."
    if bad := unsafe_characters(value, newlines=multiline):
        kind = "text without" if multiline else "a single line without"
        return (
            f"{field} must be {kind} control, bidi, zero-width or invisible filler characters; "
            f"{value[:80]!r} contains {', '.join(repr(ch) for ch in dict.fromkeys(bad))}."
        )
    if not multiline and value != value.strip():
        return f"{field} must not start or end with spaces (got {value!r})."
    if SNIPPET_MARKER in value:
        return (
            f"{field} must not hold {SNIPPET_MARKER!r}: the docs site's Markdown (pymdownx.snippets) reads it as "
            "an instruction to include a file; write it another way (for example '- 8< -')."
        )
    return ""


def project_name_error(name: str) -> str:
    """Why ``name`` is not a usable human project name, or ``""``."""
    return text_error("project_name", name, limit=MAX_TITLE)


def author_name_error(name: str) -> str:
    """Why ``name`` is not a usable author name, or ``""``: package metadata writes it as the
    display name of ``Author-email: Name <address>`` unquoted (uv_build does), so it must read
    back as one name (no comma, quote, bracket, ``@``, ``;`` or ``:``, which would split it,
    group it or make it an address: Python's email.utils reads it as the metadata readers do)."""
    if error := text_error("author_name", name, limit=MAX_TITLE):
        return error
    if getaddresses([f"{name} <team@example.com>"]) != [(name, "team@example.com")]:
        return (
            f"author_name {name[:80]!r} would not read back from the package metadata as one name: "
            "leave out , ; : \" < > @ ( ) [ ] and double spaces (for example 'John Smith', not 'Smith, John')."
        )
    return ""


def description_error(text: str) -> str:
    """Why ``text`` is not a usable description, or ``""``: lines of visible text."""
    if not text.strip():
        return f"description must not be empty (got {text!r}); say in a sentence what the project does."
    return text_error("description", text, limit=MAX_DESCRIPTION, multiline=True)


def default_distribution_name(project_name: str) -> str:
    """The normalised distribution name a human project name suggests, at most ``MAX_NAME`` long.

    Accents are folded to ASCII (and the Latin letters Unicode does not decompose, by
    ``_LATIN``), every run of other characters becomes one dash, and a long name is cut at the
    last dash that keeps it within the limit: ``"Café Søren 2"`` -> ``"cafe-soren-2"``. Other
    letters (Cyrillic, Greek, CJK, ...) are dropped: ``lost_letters_error`` refuses that.
    """
    ascii_name = _folded(project_name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if len(name) > MAX_NAME:
        cut = name[: MAX_NAME + 1]
        name = cut[: cut.rfind("-")] if "-" in cut else name[:MAX_NAME]
    return name.strip("-")


# Latin letters without a Unicode decomposition to ASCII, as they are usually written in ASCII.
_LATIN = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ł": "l", "Ł": "L",
     "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "\u0131": "i", "ħ": "h", "Ħ": "H"}
)  # fmt: skip


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKD", text.translate(_LATIN))


def lost_letters_error(project_name: str, distribution_name: str) -> str:
    """Why a distribution name derived from ``project_name`` must be given instead, or ``""``:
    the derivation dropped letters it cannot represent in ASCII (Cyrillic, Greek, CJK, ...),
    which would rename the project without a word."""
    if distribution_name != default_distribution_name(project_name):
        return ""
    folded = _folded(project_name)
    lost = [ch for ch in dict.fromkeys(folded) if unicodedata.category(ch).startswith("L") and not ch.isascii()]
    if not lost:
        return ""
    shown = ", ".join(f"{ch} (U+{ord(ch):04X})" for ch in lost[:5])
    return (
        f"project_name {project_name[:80]!r} holds letters no distribution name can hold ({shown}): "
        f"derived, the names would be distribution_name {distribution_name!r}, package_name "
        f"{default_package_name(distribution_name)!r}. Give distribution_name (and package_name) yourself."
    )


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
    if name in TOOL_SCRIPTS or name in RUN_COMMANDS:
        return (
            f"distribution_name {name!r} is the name of a command the project's tools install or its jobs run; the "
            f"project's own command of that name would replace it. Choose another, for example '{name}-app'."
        )
    return ""


def default_package_name(distribution: str) -> str:
    """The import name a distribution name suggests: ``"payment-service"`` -> ``"payment_service"``."""
    return distribution.replace("-", "_")


def stdlib_modules(python_version: str) -> frozenset[str]:
    """The standard-library module names of ``python_version`` and every newer supported Python
    (the project may move up, and its CI matrix tests them); every supported one if unknown."""
    versions = [v for v in STDLIB_MODULES if not python_version or _minor(v) >= _minor(python_version)]
    return frozenset().union(*(STDLIB_MODULES[v] for v in versions or STDLIB_MODULES))


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def package_name_error(name: str, python_version: str = "") -> str:
    """Why ``name`` cannot be the project's import package on ``python_version``, or ``""``."""
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
    if name.startswith("__") or name in SPECIAL_MODULES:
        return (
            f"package_name {name!r} is a name Python, site or the test layout gives a meaning "
            f"(dunder names, sitecustomize, src, tests); choose another, for example '{name.strip('_')}_app'."
        )
    if name in stdlib_modules(python_version):
        return (
            f"package_name {name!r} is a standard-library module of Python {python_version or '3'} or a newer "
            f"supported one: it would shadow it. Choose another, for example '{name.strip('_')}_app'."
        )
    if name in TOOL_MODULES or name.replace("_", "-") in TOOL_DISTRIBUTIONS:
        return (
            f"package_name {name!r} is a module the project's own tools install (pytest, ruff, mypy, "
            f"...): it would shadow it. Choose another, for example '{name.strip('_')}_app'."
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
