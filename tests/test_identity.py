"""Unit tests of the identity rules in extensions/identity.py, without Copier (the name tables'
test renders to read what the tools install)."""

from __future__ import annotations

import json

import identity
import images
import pytest

from tests import tables
from tests.kit import interpreter, run


@pytest.mark.parametrize(
    ("project_name", "distribution"),
    [
        ("Payment Service", "payment-service"),
        ("  Café Übersicht 2 ", "cafe-ubersicht-2"),
        ("my_lib.core", "my-lib-core"),
        ("ALL--CAPS!!", "all-caps"),
        ("日本語", ""),
        ("Søren Æble Straße Łódź", "soren-aeble-strasse-lodz"),
        (
            "Customer Relationship Management Integration Service for the Northern Region Billing Team",
            "customer-relationship-management-integration-service-for-the",
        ),
        ("x" * 100, "x" * identity.MAX_NAME),
    ],
)
@pytest.mark.fast
def test_the_distribution_name_is_derived_from_the_project_name_within_the_limit(project_name, distribution):
    assert identity.default_distribution_name(project_name) == distribution
    assert len(distribution) <= identity.MAX_NAME


@pytest.mark.parametrize(
    ("project_name", "shown"),
    [
        ("P\u0430yment Service", "\u0430 (U+0430)"),
        ("Платёж", "П (U+041F)"),
        ("日本語 API", "日 (U+65E5)"),
        ("Ωmega", "Ω (U+03A9)"),
    ],
)
@pytest.mark.fast
def test_letters_the_derived_names_would_drop_are_refused_showing_the_names(project_name, shown):
    derived = identity.default_distribution_name(project_name)
    message = identity.lost_letters_error(project_name, derived)
    assert shown in message
    assert f"the names would be distribution_name {derived!r}" in message
    assert identity.lost_letters_error(project_name, "payments") == ""  # given by hand: fine
    assert identity.lost_letters_error("Café Søren", identity.default_distribution_name("Café Søren")) == ""


@pytest.mark.fast
def test_the_package_name_replaces_dashes():
    assert identity.default_package_name("payment-service-2") == "payment_service_2"


@pytest.mark.parametrize("name", ["payment-service", "a", "x1-2", "p" * identity.MAX_NAME, "pytest-plugin"])
@pytest.mark.fast
def test_valid_distribution_names(name):
    assert identity.distribution_name_error(name) == ""


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        *((name, "is not a normalised distribution name") for name in ["", "-a", "a-", "a--b", "A", "a_b", "a.b", "é"]),
        ("p" * (identity.MAX_NAME + 1), f"characters long; at most {identity.MAX_NAME}"),
        ("pytest", "the project would depend on itself"),
        ("ruff", "the project would depend on itself"),
        ("pluggy", "the project would depend on itself"),
    ],
)
@pytest.mark.fast
def test_invalid_distribution_names_are_named_in_the_message(name, reason):
    message = identity.distribution_name_error(name)
    assert f"distribution_name {name[:80]!r}" in message
    assert reason in message


def test_the_name_tables_hold_what_the_tools_and_pythons_have(template_repo, tmp_path):
    """extensions/python_names.json, made by tests/tables.py, holds every name the project's tools
    install today (renders with either type checker, synced) and each supported Python's
    standard library (stdlibs); every interpreter on this machine agrees with its row. A tool
    release that adds a module or command fails here until ``uv run python -m tests.tables``."""
    table = json.loads(tables.TABLE.read_text(encoding="utf-8"))
    assert table["stdlib"] == tables.stdlib_names()
    for key, names in tables.tool_names(template_repo, tmp_path).items():
        assert set(names) <= set(table["tools"][key]), key
    for version in images.SUPPORTED_PYTHONS:
        if python := interpreter(version):
            names = run([python, "-c", "import sys; print(*sorted(sys.stdlib_module_names))"], tmp_path).split()
            assert set(names) <= identity.STDLIB_MODULES[version], version


@pytest.mark.parametrize("name", ["payment_service", "_private", "app2", "p" * identity.MAX_NAME])
@pytest.mark.fast
def test_valid_package_names(name):
    assert identity.package_name_error(name) == ""


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("2fast", "not a valid Python package name"),
        ("Payment", "not a valid Python package name"),
        ("a-b", "not a valid Python package name"),
        ("", "not a valid Python package name"),
        ("import", "is a Python keyword"),
        ("None", "not a valid Python package name"),
        ("typing", "is a standard-library module of Python 3"),
        ("_colorize", "is a standard-library module of Python 3"),  # new in 3.13: refused for 3.10 too
        ("tests", "a name Python, site or the test layout gives a meaning"),
        ("src", "a name Python, site or the test layout gives a meaning"),
        ("sitecustomize", "a name Python, site or the test layout gives a meaning"),
        ("usercustomize", "a name Python, site or the test layout gives a meaning"),
        ("__main__", "dunder names"),
        ("__pycache__", "dunder names"),
        ("pytest", "a module the project's own tools install"),
        ("_pytest", "a module the project's own tools install"),
        ("py", "a module the project's own tools install"),
        ("mypyc", "a module the project's own tools install"),  # installed by mypy
        ("pre_commit_hooks", "a module the project's own tools install"),
        ("p" * (identity.MAX_NAME + 1), f"at most {identity.MAX_NAME} are allowed"),
    ],
)
@pytest.mark.fast
def test_invalid_package_names(name, reason):
    message = identity.package_name_error(name, "3.10")
    assert f"package_name {name[:80]!r}" in message
    assert reason in message


@pytest.mark.fast
def test_standard_library_names_are_those_of_the_projects_python_and_newer():
    """A module removed before the project's Python is free; one added after it is not (the
    project may move up, and its matrix tests the newer ones)."""
    assert identity.package_name_error("telnetlib", "3.13") == ""  # removed in 3.13 (PEP 594)
    assert "standard-library module" in identity.package_name_error("telnetlib", "3.12")
    assert "standard-library module" in identity.package_name_error("annotationlib", "3.10")  # new in 3.14
    assert "standard-library module" in identity.package_name_error("_colorize", "3.13")


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@sub.example.org", "o'brien@example.com"])
@pytest.mark.fast
def test_valid_emails(email):
    assert identity.email_error(email) == ""


@pytest.mark.parametrize(
    "email",
    [
        *("", "a", "a@b", "a@@b.co", "a b@c.de", "<a@b.co>", "a@b.co,c@d.ef", "a\u202e@b.co", "a" * 250 + "@b.co"),
        *("a..b@example..com", ".a@b.co", "a.@b.co", "a@-b.co", "a@b.c", "a@b..co", 'a"b@c.de'),
    ],
)
@pytest.mark.fast
def test_invalid_emails(email):
    assert f"author_email {email[:80]!r}" in identity.email_error(email)


@pytest.mark.parametrize("field", ["project_name", "author_name"])
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "must not be empty"),
        ("a\nb", "single line"),
        ("a\tb", "single line"),
        (" a", "spaces"),
        ("safe\u202eelif", "bidi"),  # a right-to-left override
        ("zero\u200bwidth", "zero-width"),
        ("Pay\u3164ment", "invisible filler"),  # a Hangul filler: a letter that shows nothing
        ("Pay\u2800ment", "invisible filler"),  # the blank Braille pattern
        ("Pay\ufe0fment", "invisible filler"),  # a variation selector
        ("x" * (identity.MAX_TITLE + 1), f"at most {identity.MAX_TITLE} are allowed"),
    ],
)
@pytest.mark.fast
def test_one_line_fields(field, value, reason):
    check = getattr(identity, f"{field}_error")
    assert reason in check(value)
    assert check("O'Brien & Co #1 \\ Ünï ✓ 😀") == ""


@pytest.mark.parametrize(
    "name", ["Smith, John", 'Zoë "Z" O\'Hara', "Ann: Team", "A <b>", "a@b", "Ann (Ops", "Ann;Bo", "A  B"]
)
@pytest.mark.fast
def test_author_names_that_package_metadata_would_split_are_refused(name):
    """uv_build writes ``Author-email: <name> <address>`` unquoted: these would read back as
    another name, two addresses or a group (tests/test_generated_project.py builds the wheel)."""
    assert f"author_name {name!r} would not read back from the package metadata as one name" in (
        identity.author_name_error(name)
    )
    assert identity.project_name_error(name) == ""  # a title may hold them


@pytest.mark.fast
def test_the_description_may_span_lines_but_hold_nothing_hidden():
    assert identity.description_error("Line one.\nLine two: 'quoted' # ✓") == ""
    assert "description must not be empty (got ' \\n')" in identity.description_error(" \n")
    assert "'\\u202e'" in identity.description_error("Pays out\u202e to anyone")
    assert "'\\r'" in identity.description_error("Windows\r\nline")
    assert f"at most {identity.MAX_DESCRIPTION}" in identity.description_error("x" * 5000)


def test_git_config_falls_back_when_unset(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)
    assert identity.git_config("user.name", "Example Team") == "Example Team"
