"""Unit tests of the identity rules in extensions/identity.py, without Copier."""

from __future__ import annotations

import identity
import pytest

from tests.kit import DISTRIBUTION, read_toml


@pytest.mark.parametrize(
    ("project_name", "distribution"),
    [
        ("Payment Service", "payment-service"),
        ("  Café Übersicht 2 ", "cafe-ubersicht-2"),
        ("my_lib.core", "my-lib-core"),
        ("ALL--CAPS!!", "all-caps"),
        ("日本語", ""),
        (
            "Customer Relationship Management Integration Service for the Northern Region Billing Team",
            "customer-relationship-management-integration-service-for-the",
        ),
        ("x" * 100, "x" * identity.MAX_NAME),
    ],
)
def test_the_distribution_name_is_derived_from_the_project_name_within_the_limit(project_name, distribution):
    assert identity.default_distribution_name(project_name) == distribution
    assert len(distribution) <= identity.MAX_NAME


def test_the_package_name_replaces_dashes():
    assert identity.default_package_name("payment-service-2") == "payment_service_2"


@pytest.mark.parametrize("name", ["payment-service", "a", "x1-2", "p" * identity.MAX_NAME, "pytest-plugin"])
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
def test_invalid_distribution_names_are_named_in_the_message(name, reason):
    message = identity.distribution_name_error(name)
    assert f"distribution_name {name[:80]!r}" in message
    assert reason in message


def test_the_tools_the_project_depends_on_are_exactly_what_its_locks_hold(render):
    """The refused names are the generated locks' packages with either type checker, for the
    oldest Python (the most environment markers)."""
    locked: set[str] = set()
    for checker in ("mypy", "ty"):
        project = render(python_version="3.10", type_checker=checker)
        locked |= {package["name"] for package in read_toml(project / "uv.lock")["package"]}
    assert locked - {DISTRIBUTION} == identity.TOOL_DISTRIBUTIONS


@pytest.mark.parametrize("name", ["payment_service", "_private", "app2", "p" * identity.MAX_NAME])
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
        ("typing", "would shadow the standard library"),
        ("tests", "would shadow the standard library, the tests folder"),
        ("pytest", "or a tool the project uses"),
        ("_pytest", "or a tool the project uses"),
        ("py", "or a tool the project uses"),
        ("p" * (identity.MAX_NAME + 1), f"at most {identity.MAX_NAME} are allowed"),
    ],
)
def test_invalid_package_names(name, reason):
    message = identity.package_name_error(name)
    assert f"package_name {name[:80]!r}" in message
    assert reason in message


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@sub.example.org"])
def test_valid_emails(email):
    assert identity.email_error(email) == ""


@pytest.mark.parametrize(
    "email",
    ["", "a", "a@b", "a@@b.co", "a b@c.de", "<a@b.co>", "a@b.co,c@d.ef", "a\u202e@b.co", "a" * 250 + "@b.co"],
)
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
        ("x" * (identity.MAX_TITLE + 1), f"at most {identity.MAX_TITLE} are allowed"),
    ],
)
def test_one_line_fields(field, value, reason):
    check = getattr(identity, f"{field}_error")
    assert reason in check(value)
    assert check('O\'Brien "Quotes": #1 \\ Ünï ✓') == ""


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
