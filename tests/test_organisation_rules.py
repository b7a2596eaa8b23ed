"""Unit tests of the organisation rules in extensions/organisation.py, without Copier."""

from __future__ import annotations

import organisation
import pytest


@pytest.mark.parametrize(
    ("url", "upload"),
    [
        (
            "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi/simple",
            "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi",
        ),
        ("https://127.0.0.1:8443/simple/", "https://127.0.0.1:8443"),
        ("https://nexus.example.com/repository/pypi/simple/", "https://nexus.example.com/repository/pypi"),
        ("http://127.0.0.1:8080/simple/", "http://127.0.0.1:8080"),  # loopback, for tests
        ("http://localhost:8080/simple/", "http://localhost:8080"),
    ],
)
def test_index_urls_and_where_releases_are_uploaded(url, upload):
    assert organisation.index_url_error(url) == ""
    assert organisation.upload_url(url) == upload


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://user:token@gitlab.example.com/simple", "it holds credentials"),
        ("https://token@gitlab.example.com/simple", "it holds credentials"),
        ("https://gitlab.example.com/simple?private_token=glpat-x", "query string or fragment"),
        ("https://gitlab.example.com/simple#token", "query string or fragment"),
        ("http://gitlab.example.com/simple", "in cleartext"),
        ("http://10.0.0.5/simple", "in cleartext"),
        ("ftp://x.example.com/simple", "not an https:// URL"),
        ("x", "not an https:// URL"),
        ("https://x.example.com/ simple", "spaces"),
        ("https://x.example.com/simple\u202e", "bidi"),
        ("https://exämple.com/simple", "non-ASCII"),
        ("https://x.example.com/$CI_JOB_TOKEN/simple", "host or path"),
        ("https://x.example.com/'quoted'/simple", "host or path"),
        ("https://x.example.com/" + "a" * 500, "characters long"),
    ],
)
def test_index_urls_that_would_leak_or_break_are_refused_naming_why(url, reason):
    message = organisation.index_url_error(url)
    assert f"package_index_url {url[:120]!r} is refused" in message
    assert reason in message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://osv.example.com", "in cleartext"),
        ("https://user:token@osv.example.com", "it holds credentials"),
        ("https://osv.example.com/v1?key=x", "query string or fragment"),
        ("https://osv.example.com/\u202e", "bidi"),
    ],
)
def test_vulnerability_services_that_would_leak_or_break_are_refused_naming_why(url, reason):
    assert organisation.service_url_error("") == ""  # OSV
    assert organisation.service_url_error("https://osv.example.com") == ""
    assert organisation.service_url_error("http://127.0.0.1:8080") == ""  # loopback, for tests
    message = organisation.service_url_error(url)
    assert f"vulnerability_service_url {url!r} is refused" in message
    assert reason in message
    assert "For example 'https://osv.example.com'" in message


def test_the_index_as_templates_see_it():
    assert organisation.index_settings("", "beside", [], "none") == {}
    index = organisation.index_settings("https://x.example.com/simple", "replace", ["a"], "ci-variables")
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
        (["x" * 256], "at most 255 characters"),
        (["docker", "docker"], "ci_runner_tags lists 'docker' twice"),
    ],
)
def test_bad_runner_tags_are_refused(value, message):
    assert message in organisation.runner_tags_error(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("payments-core", "must be a list"),
        (["Payments_Core"], "entry 'Payments_Core'"),
        (["payments-core", "ledger", "payments-core"], "lists 'payments-core' twice"),
        (["payment-service"], "the project itself"),
        (["p" * 65], "at most 64 characters"),
    ],
)
def test_pinned_packages_are_other_distributions_each_once(value, message):
    assert organisation.package_names_error(["payments-core", "ledger"], "payment-service") == ""
    assert message in organisation.package_names_error(value, "payment-service")
