"""Unit tests of the answer rules in extensions/answers.py, without Copier."""

from __future__ import annotations

import tomllib

import answers
import pytest


@pytest.mark.parametrize(
    ("project_name", "distribution"),
    [
        ("Payment Service", "payment-service"),
        ("  Café Übersicht 2 ", "cafe-ubersicht-2"),
        ("my_lib.core", "my-lib-core"),
        ("ALL--CAPS!!", "all-caps"),
        ("日本語", ""),
    ],
)
def test_distribution_name_is_derived_from_the_project_name(project_name, distribution):
    assert answers.distribution_name(project_name) == distribution


def test_package_name_replaces_dashes():
    assert answers.package_name("payment-service-2") == "payment_service_2"


@pytest.mark.parametrize("name", ["payment-service", "a", "x1-2"])
def test_valid_distribution_names(name):
    assert answers.distribution_name_error(name) == ""


@pytest.mark.parametrize("name", ["", "-a", "a-", "a--b", "A", "a_b", "a.b", "é"])
def test_invalid_distribution_names_are_named_in_the_message(name):
    assert f"distribution_name {name!r}" in answers.distribution_name_error(name)


@pytest.mark.parametrize("name", ["payment_service", "_private", "app2"])
def test_valid_package_names(name):
    assert answers.package_name_error(name) == ""


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
        ("tests", "would shadow the standard library or the tests folder"),
    ],
)
def test_invalid_package_names(name, reason):
    message = answers.package_name_error(name)
    assert f"package_name {name!r}" in message
    assert reason in message


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@sub.example.org"])
def test_valid_emails(email):
    assert answers.email_error(email) == ""


@pytest.mark.parametrize("email", ["", "a", "a@b", "a@@b.co", "a b@c.de", "<a@b.co>", "a@b.co,c@d.ef"])
def test_invalid_emails(email):
    assert f"author_email {email!r}" in answers.email_error(email)


@pytest.mark.parametrize("field", ["project_name", "author_name"])
@pytest.mark.parametrize(
    ("value", "reason"),
    [("", "must not be empty"), ("a\nb", "single line"), ("a\tb", "single line"), (" a", "spaces")],
)
def test_one_line_fields(field, value, reason):
    check = getattr(answers, f"{field}_error")
    assert reason in check(value)
    assert check('O\'Brien "Quotes": #1 \\ Ünï ✓') == ""


@pytest.mark.parametrize(
    "text",
    ["plain", 'quote " and \\ backslash', "new\nline\ttab\r\x00\x7f\x1b", "é ✓ 😀 \u2028", "'''\"\"\"", ""],
)
def test_toml_string_round_trips(text):
    assert tomllib.loads(f"key = {answers.toml_string(text)}")["key"] == text


def test_toml_string_keeps_non_ascii_readable():
    assert answers.toml_string("Zoë ✓") == '"Zoë ✓"'


def test_summary_puts_text_on_one_line():
    assert answers.summary("  one\n\ntwo\tthree  ") == "one two three"


def test_git_config_falls_back_when_unset(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)
    assert answers.git_config("user.name", "Example Team") == "Example Team"


def test_description_may_span_lines_but_not_be_blank():
    assert answers.description_error("Line one.\nLine two: 'quoted' # ✓") == ""
    assert "description must not be empty (got ' \\n')" in answers.description_error(" \n")


@pytest.mark.parametrize(
    ("url", "upload"),
    [
        (
            "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi/simple",
            "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi",
        ),
        ("https://127.0.0.1:8443/simple/", "https://127.0.0.1:8443"),
        ("https://nexus.example.com/repository/pypi/simple/", "https://nexus.example.com/repository/pypi"),
    ],
)
def test_index_urls_and_where_releases_are_uploaded(url, upload):
    assert answers.index_url_error(url) == ""
    assert answers.upload_url(url) == upload


@pytest.mark.parametrize(
    "url", ["https://user:token@gitlab.example.com/simple", "ftp://x/simple", "https://x/ simple", "x"]
)
def test_index_urls_with_credentials_or_no_scheme_are_refused(url):
    assert f"package_index_url {url!r}" in answers.index_url_error(url)


def test_the_index_as_templates_see_it():
    assert answers.package_index("", "beside", [], "none") == {}
    index = answers.package_index("https://x.example.com/simple", "replace", ["a"], "ci-variables")
    assert index["packages"] == []  # replace: every package comes from it, nothing to pin
    assert (index["username_variable"], index["password_variable"]) == (
        "UV_INDEX_INTERNAL_USERNAME",
        "UV_INDEX_INTERNAL_PASSWORD",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("docker", "ci_runner_tags 'docker' must be a list"),
        (["ok", " padded"], "ci_runner_tags entry ' padded'"),
        (["two\nlines"], "ci_runner_tags entry 'two\\nlines'"),
        ([""], "ci_runner_tags entry ''"),
    ],
)
def test_bad_runner_tags_are_refused(value, message):
    assert message in answers.runner_tags_error(value)


def test_pinned_packages_must_be_distribution_names():
    assert answers.package_names_error(["payments-core"]) == ""
    assert "entry 'Payments_Core'" in answers.package_names_error(["Payments_Core"])
    assert "must be a list" in answers.package_names_error("payments-core")
