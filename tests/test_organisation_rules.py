"""Unit tests of the organisation rules in extensions/organisation.py, without Copier."""

from __future__ import annotations

import organisation
import pytest

pytestmark = pytest.mark.fast  # the fast tier: no process, no render (tests/conftest.py)


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
        ("HTTPS://x.example.com/simple", "not in lower case"),  # uv would not contact it as the index
        ("https://X.Example.com/simple", "not in lower case"),
        ("https://x.example.com:99999/simple", "port is not a number from 1 to 65535"),
        ("https://x.example.com:0/simple", "port is not a number from 1 to 65535"),
        ("https://x.example.com:/simple", "port is not a number from 1 to 65535"),
        ("https://x.example.com/a/../simple", "dot segments"),
        ("https://x.example.com/a/%2E%2E/simple", "dot segments"),
    ],
)
def test_index_urls_that_would_leak_or_break_are_refused_naming_why(url, reason):
    message = organisation.index_url_error(url)
    assert f"package_index_url {organisation.masked_url(url)[:120]!r} is refused" in message
    assert reason in message
    assert "glpat" not in message
    assert "user:token" not in message
    assert "token@" not in message


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
    assert f"vulnerability_service_url {organisation.masked_url(url)!r} is refused" in message
    assert "user:token" not in message
    assert "key=x" not in message
    assert reason in message
    assert "For example 'https://osv.example.com'" in message


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Argentina/Salta", "Etc/GMT-14", "Asia/Kolkata"])
def test_iana_time_zones_are_taken(zone):
    assert organisation.timezone_error(zone) == ""


@pytest.mark.parametrize(
    "zone",
    ["", "utc", "Europe/Nowhere", "europe/berlin", "UTC+2", "GMT", "../etc/passwd", "Europe/Berlin\n", 3.1, None],
)
def test_what_is_not_an_iana_time_zone_is_refused(zone):
    message = organisation.timezone_error(zone)
    assert message.startswith(f"renovate_timezone {str(zone)[:80]!r} is not an IANA time zone")
    assert "Europe/Berlin" in message


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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:glpat-secret@gitlab.example.com/simple", "https://user:***@gitlab.example.com/simple"),
        ("https://glpat-secret@gitlab.example.com/simple", "https://***@gitlab.example.com/simple"),
        (
            "https://x.example.com/simple?private_token=glpat-secret&a",
            "https://x.example.com/simple?private_token=***&***",
        ),
        ("https://x.example.com/simple#glpat-secret", "https://x.example.com/simple#***"),
        ("HTTPS://x.example.com/simple", "HTTPS://x.example.com/simple"),  # nothing to mask: as typed
    ],
)
def test_a_url_in_a_message_never_shows_its_secrets(url, shown):
    assert organisation.masked_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi/simple",
        "https://gitlab.example.com/api/v4/groups/platform%2Fpython/-/packages/pypi/simple/",
        "https://gitlab.example.com/api/v4/projects/7/packages/pypi/simple",
        "https://example.com/gitlab/api/v4/projects/group%2Fproject/packages/pypi/simple",  # relative URL root
    ],
)
def test_the_job_token_goes_to_gitlab_package_registries(url):
    assert organisation.auth_error("gitlab-job-token", url) == ""


@pytest.mark.parametrize(
    "url",
    [
        "https://pypi.example.com/simple",
        "https://nexus.example.com/repository/pypi/simple/",
        "https://gitlab.example.com/api/v4/projects/7/packages/npm/simple",
        "https://gitlab.example.com/api/v4/projects/7/packages/pypi/simple/extra",
    ],
)
def test_the_job_token_is_refused_for_an_index_that_is_not_a_gitlab_registry(url):
    message = organisation.auth_error("gitlab-job-token", url)
    assert "is not a GitLab package registry" in message
    assert "choose 'ci-variables'" in message
    assert organisation.auth_error("ci-variables", url) == organisation.auth_error("none", url) == ""


def test_more_runner_tags_than_gitlab_takes_are_refused():
    assert organisation.runner_tags_error([f"t{i}" for i in range(organisation.MAX_TAGS)]) == ""
    assert "GitLab refuses a job with more than 50" in organisation.runner_tags_error([f"t{i}" for i in range(51)])
