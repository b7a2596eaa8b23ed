"""Package metadata as the ecosystem reads it: the licence (PEP 639) and its text, the project's
addresses (from the answer, or the clone's remote), keywords and classifiers; a default render
rated by pyroma and checked by `twine check --strict`, as a package index would take it.
"""

from __future__ import annotations

import email
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import metadata
import pytest

from tests.kit import OFFLINE, answers_of, copier_cli, git, read_toml, run

REPOSITORY = "https://gitlab.example.com/payments/payment-service"


@pytest.mark.fast
@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("git@gitlab.example.com:payments/payment-service.git", REPOSITORY),
        ("ssh://git@gitlab.example.com:2222/payments/payment-service.git", REPOSITORY),
        ("https://gitlab.example.com/payments/payment-service.git\n", REPOSITORY),
        (
            "https://GitLab.Example.com/payments/team/payment-service/",
            "https://gitlab.example.com/payments/team/payment-service",
        ),
        ("https://oauth2:glpat-s3cret@gitlab.example.com/payments/payment-service.git", REPOSITORY),  # without it
        ("/srv/git/payment-service.git", ""),
        ("https://gitlab.example.com/payment-service", ""),  # no group
        ("--upload-pack=touch x", ""),
    ],
)
def test_a_remote_gives_the_projects_web_address_or_nothing(remote, url):
    assert metadata.web_url_of_remote(remote) == url


@pytest.mark.fast
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://gitlab.example.com/payments/payment-service", "http://"),
        ("https://gitlab.example.com/payment-service", "a group and a project"),
        ("https://user:s3cret@gitlab.example.com/payments/payment-service", "credentials"),
        ("https://gitlab.example.com/payments/payment-service?private_token=s3cret", "query string"),
        ("HTTPS://gitlab.example.com/payments/payment-service", "lower case"),
        ("https://gitlab.example.com/payments/payment service", "spaces"),
    ],
)
def test_a_repository_url_that_is_no_projects_https_address_is_refused(url, reason):
    error = metadata.repository_url_error(url)
    assert reason in error
    assert "s3cret" not in error  # a secret in the answer is never shown


@pytest.mark.fast
def test_an_empty_repository_url_gives_no_urls_and_a_projects_gives_gitlabs_pages_of_it():
    assert metadata.repository_url_error("") == ""
    assert metadata.project_urls("") == {}
    urls = metadata.project_urls(REPOSITORY)
    assert urls["Issues"] == f"{REPOSITORY}/-/issues"
    assert urls["Changelog"] == f"{REPOSITORY}/-/blob/main/CHANGELOG.md"
    assert set(urls) == {"Homepage", "Repository", "Issues", "Changelog", "Documentation"}


@pytest.mark.fast
def test_a_proprietary_package_cannot_reach_pypi_and_an_open_one_has_its_licence_text():
    proprietary = metadata.classifiers("3.12", metadata.PROPRIETARY)
    assert "Private :: Do Not Upload" in proprietary
    assert [c for c in proprietary if c.startswith("Programming Language :: Python :: 3.")] == [
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: 3.14",
    ]
    assert "Private :: Do Not Upload" not in metadata.classifiers("3.12", "MIT")
    assert not any(c.startswith("License ::") for c in proprietary)  # PEP 639: the expression alone
    assert not metadata.is_open(metadata.PROPRIETARY)
    for _, spdx in metadata.licence_choices()[1:]:
        text = metadata.licence_text(spdx, "Payments Team", 2026)
        assert "<year>" not in text
        assert "<owner>" not in text
        assert "<copyright holders>" not in text
    assert "Copyright (c) 2026 Payments Team" in metadata.licence_text("MIT", "Payments Team", 2026)
    assert metadata.keywords("payment-service-service") == ["payment", "service"]


def built(project: Path) -> tuple[Path, Path]:
    run(["uv", "build", "--quiet", "--out-dir", "dist"], project)
    return next((project / "dist").glob("*.whl")), next((project / "dist").glob("*.tar.gz"))


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(archive.read(name))


def pyroma(sdist: Path) -> int:
    """pyroma's rating of the package, as its command line gives it (it builds the metadata
    from the sdist with the build backend, as an index reader would)."""
    proc = subprocess.run(
        [Path(sys.executable).parent / "pyroma", "--file", sdist], capture_output=True, text=True, check=False
    )
    rating = re.search(r"Final rating: (\d+)/10", proc.stdout)
    assert rating, proc.stdout + proc.stderr
    return int(rating.group(1))


def twine_check(*files: Path) -> None:
    run([Path(sys.executable).parent / "twine", "check", "--strict", *files], files[0].parent)


def test_a_default_render_is_proprietary_private_and_rated_nine_of_ten(render):
    project = render()
    assert read_toml(project / "pyproject.toml")["project"]["license"] == metadata.PROPRIETARY
    assert not (project / "LICENSE").exists()
    wheel, sdist = built(project)
    fields = wheel_metadata(wheel)
    assert fields["License-Expression"] == metadata.PROPRIETARY
    assert "Private :: Do Not Upload" in fields.get_all("Classifier")
    assert fields.get_all("Keywords") or fields["Keywords"]
    twine_check(wheel, sdist)
    assert pyroma(sdist) >= 9


def test_an_open_licence_ships_its_text_and_a_repository_gives_every_address(render):
    project = render(license="Apache-2.0", repository_url=REPOSITORY, env=OFFLINE)
    licence = (project / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence
    wheel, sdist = built(project)
    fields = wheel_metadata(wheel)
    assert fields["License-Expression"] == "Apache-2.0"
    assert "Private :: Do Not Upload" not in fields.get_all("Classifier")
    assert f"Repository, {REPOSITORY}" in fields.get_all("Project-URL")
    with zipfile.ZipFile(wheel) as archive:
        assert any(name.endswith(".dist-info/licenses/LICENSE") for name in archive.namelist())
    twine_check(wheel, sdist)
    assert pyroma(sdist) == 10
    site = (project / "zensical.toml").read_text(encoding="utf-8")
    assert '"License" = "license.md"' in site


def test_copied_into_a_clone_the_repository_url_is_its_remotes_web_address(template_repo, tmp_path):
    clone = tmp_path / "payment-service"
    git(tmp_path, "init", "-q", "-b", "main", clone.name)
    git(clone, "remote", "add", "origin", "git@gitlab.example.com:payments/payment-service.git")
    copier_cli("copy", "--skip-tasks", template_repo, clone, cwd=tmp_path, env=OFFLINE)
    assert answers_of(clone)["repository_url"] == REPOSITORY
    assert read_toml(clone / "pyproject.toml")["project"]["urls"]["Repository"] == REPOSITORY


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ({"license": "GPL-3.0-or-later"}, "license 'GPL-3.0-or-later' is not one of: LicenseRef-Proprietary, MIT"),
        ({"repository_url": "http://gitlab.example.com/payments/payment-service"}, "repository_url"),
        ({"repository_url": "https://gitlab.example.com/payment-service"}, "a group and a project"),
    ],
)
def test_a_licence_not_offered_or_a_bad_address_is_refused_before_writing(refusal, answers, said):
    assert said in refusal(**answers)
