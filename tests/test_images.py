"""Unit tests of extensions/images.py over the whole matrix, without Copier."""

from __future__ import annotations

import itertools
import json
import re

import images
import pytest
import registry
import yaml
from jinja2 import Environment

from tests.kit import ROOT

pytestmark = pytest.mark.fast  # the fast tier: no process, no render (tests/conftest.py)

PYTHONS = images.SUPPORTED_PYTHONS
FLAVOURS = [*images.OS_FLAVOUR_ANSWERS, "alpine3.23"]
# One uv version of each class the history distinguishes.
UV_VERSIONS = ["0.7.22", "0.7", "0.8.0", "0.8.10", "0.8.11", "0.8", "0.9.0", "0.9", "0.9.30"]
UV_VERSIONS += ["0.10.0", "0.10", "0.12.5", "0.13", "0.13.9"]
# And versions no release has: a patch beyond the minor's last, a minor or major not out.
UV_VERSIONS += ["0.13.99", "0.99", "1.0"]


def _v(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def exists(python: str, uv: str, flavour: str) -> bool:
    """uv's tag matrix and history (the sources in images.py's docstring), written out as a
    specification, independently of the table's code.

    A floating X.Y answer exists when some X.Y.Z release had the tag.
    """
    low, high = (_v(uv), _v(uv)) if uv.count(".") == 2 else ((*_v(uv), 0), (*_v(uv), 999))
    last_patch = images.UV_RELEASES.get(_v(uv)[:2])
    if last_patch is None or low[2] > last_patch:
        return False  # not a uv release: nothing was ever published for it
    if high < (0, 8, 0):
        return False  # older than uv_build's stable release
    if python == "3.14" and high < (0, 9, 0):
        return False  # conservative start of python3.14 tags
    if flavour in {"bookworm", "bookworm-slim"}:
        return low <= (0, 9, 30)
    if flavour in {"trixie", "trixie-slim"}:
        return high >= (0, 8, 11)
    return flavour in {"alpine", "alpine3.23"} and high >= (0, 10, 0)


@pytest.mark.parametrize(
    ("version", "requirement"),
    [
        ("0.13", "uv_build>=0.13.0,<0.14"),
        ("0.13.9", "uv_build>=0.13.9,<0.14"),
        ("0.8", "uv_build>=0.8.0,<0.9"),
    ],
)
def test_uv_build_requirement_follows_the_uv_minor(version, requirement):
    assert images.uv_build_requirement(version) == requirement


@pytest.mark.parametrize("version", ["0.13", "0.13.9", "0.8", "0.10.0", "0.11.33"])
def test_valid_uv_versions(version):
    assert images.uv_version_error(version) == ""


@pytest.mark.parametrize("version", ["", "0", "v0.13", "0.13.x", "0.13.9.1", "01.2", "latest", " 0.13"])
def test_invalid_uv_versions(version):
    assert f"uv_version {version!r}" in images.uv_version_error(version)


def test_uv_older_than_the_stable_build_backend_is_refused():
    assert "uv_version '0.7.22' is too old" in images.uv_version_error("0.7.22")


@pytest.mark.parametrize("version", ["0.13.99", "0.99", "1.0", "0.14"])
def test_a_uv_version_that_was_never_released_is_refused_naming_the_newest_known(version):
    assert (
        f"uv_version {version!r} is not a uv release this template knows; the newest it knows is 0.13.9"
        in images.uv_version_error(version)
    )


MATRIX = list(itertools.product(PYTHONS, UV_VERSIONS, FLAVOURS))


@pytest.mark.parametrize(("python", "uv", "flavour"), MATRIX)
def test_matrix_agrees_with_the_specification(python, uv, flavour):
    error = images.image_error(python, uv, flavour)
    if exists(python, uv, flavour):
        assert error == ""
        refs = images.image_refs(python, uv, flavour)
        assert re.fullmatch(rf"ghcr\.io/astral-sh/uv:{re.escape(uv)}-python{python}-[a-z0-9.-]+", refs["ci"])
        assert refs["python"].startswith(f"docker.io/library/python:{python}-")
    else:
        assert error
        with pytest.raises(ValueError, match=re.escape(error)):
            images.image_refs(python, uv, flavour)


@pytest.mark.parametrize(
    ("python", "uv", "flavour", "ci", "base"),
    [
        ("3.13", "0.13", "trixie-slim", "0.13-python3.13-trixie-slim", "3.13-slim-trixie"),
        ("3.12", "0.13.9", "trixie", "0.13.9-python3.12-trixie", "3.12-trixie"),
        ("3.11", "0.13", "alpine", "0.13-python3.11-alpine3.23", "3.11-alpine3.23"),
        ("3.10", "0.9", "bookworm-slim", "0.9-python3.10-bookworm-slim", "3.10-slim-bookworm"),
        ("3.12", "0.9.30", "bookworm", "0.9.30-python3.12-bookworm", "3.12-bookworm"),
    ],
)
def test_uv_and_official_images_name_the_same_os_their_own_way(python, uv, flavour, ci, base):
    refs = images.image_refs(python, uv, flavour)
    assert (refs["ci"], refs["python"]) == (f"ghcr.io/astral-sh/uv:{ci}", f"docker.io/library/python:{base}")


@pytest.mark.parametrize(
    ("python", "uv", "flavour", "message"),
    [
        ("3.13", "0.13", "bookworm-slim", "uv 0.13 is newer than 0.9.30, the last with that image"),
        ("3.13", "0.10", "bookworm", "uv 0.10 is newer than 0.9.30"),
        ("3.13", "0.8.10", "trixie-slim", "uv 0.8.10 is older than 0.8.11, the first with that image"),
        ("3.14", "0.8", "bookworm", "uv 0.8 is older than 0.9.0"),
        ("3.13", "0.7", "trixie", "uv_version '0.7' is too old"),
        ("3.13", "0.13", "debian", "os_flavour 'debian' is unknown; choose one of: trixie-slim"),
        ("3.13", "v0.13", "trixie", "uv_version 'v0.13' is not a uv version"),
    ],
)
def test_impossible_combinations_are_explained(python, uv, flavour, message):
    assert message in images.image_error(python, uv, flavour)


def test_refusal_lists_what_is_valid_instead():
    message = images.image_error("3.13", "0.13", "bookworm-slim")
    assert message.endswith("Valid os_flavour values here: trixie-slim, trixie, alpine.")
    assert images.image_error("3.14", "0.8.5", "trixie").endswith("none: pick another Python or uv.")


@pytest.mark.parametrize(
    ("registry", "mirror", "uv_ref", "python_ref"),
    [
        ("public", "", "ghcr.io/astral-sh/uv:0.13", "docker.io/library/python:3.13-slim-trixie"),
        ("dockerhub", "", "docker.io/astral/uv:0.13", "docker.io/library/python:3.13-slim-trixie"),
        (
            "dependency-proxy",
            "",
            "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/astral/uv:0.13",
            "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/python:3.13-slim-trixie",
        ),
        (
            "mirror",
            "registry.example.com:5000/hub",
            "registry.example.com:5000/hub/astral/uv:0.13",
            "registry.example.com:5000/hub/library/python:3.13-slim-trixie",
        ),
    ],
)
def test_registries(registry, mirror, uv_ref, python_ref):
    refs = images.image_refs("3.13", "0.13", "trixie-slim", registry, mirror)
    assert (refs["uv"], refs["python"], refs["ci"]) == (uv_ref, python_ref, f"{uv_ref}-python3.13-trixie-slim")


@pytest.mark.parametrize(
    ("registry", "mirror", "message"),
    [
        ("quay", "", "image_registry 'quay' is unknown; choose one of: public, dockerhub"),
        ("mirror", "", "image_mirror '' is not an image repository prefix"),
        ("mirror", "https://registry.example.com", "image_mirror 'https://registry.example.com'"),
        ("mirror", "registry.example.com/", "image_mirror 'registry.example.com/'"),
        ("mirror", "Registry.Example.com", "image_mirror 'Registry.Example.com'"),
        ("mirror", "reg istry", "image_mirror 'reg istry'"),
    ],
)
def test_bad_registries_are_refused(registry, mirror, message):
    assert message in images.registry_error(registry, mirror)
    with pytest.raises(ValueError, match=re.escape(message)):
        images.image_refs("3.13", "0.13", "trixie-slim", registry, mirror)


DIGEST = "sha256:" + "ab" * 32


def test_digests_pin_each_role_they_name():
    digests = {"ci": DIGEST, "uv": DIGEST}
    assert images.digests_error(digests) == ""
    refs = images.image_refs("3.13", "0.13", "trixie", digests=digests)
    assert refs["ci"].endswith(f"trixie@{DIGEST}")
    assert refs["uv"] == f"ghcr.io/astral-sh/uv:0.13@{DIGEST}"
    assert "@" not in refs["python"]


@pytest.mark.parametrize(
    ("digests", "message"),
    [
        ([DIGEST], "must be a mapping"),
        ({"runtime": DIGEST}, "image_digests key 'runtime' is unknown"),
        ({"uv": "sha256:abc"}, "image_digests['uv'] = 'sha256:abc' is not a digest"),
        ({"uv": DIGEST.upper()}, "is not a digest"),
    ],
)
def test_bad_digests_are_refused(digests, message):
    assert message in images.digests_error(digests)


def copier_choices(question: str, **answers: str) -> dict[str, object]:
    """``question``'s choices as copier.yml states them, rendered as Copier renders them."""
    spec = yaml.safe_load((ROOT / "copier.yml").read_text())[question]["choices"]
    if isinstance(spec, str):  # derived from the table: render it with the extension's globals
        environment = Environment(extensions=[registry.TemplateFunctions])
        spec = json.loads(environment.from_string(spec).render(**answers))
    pairs = (
        spec.items() if isinstance(spec, dict) else [item if isinstance(item, list) else (item, item) for item in spec]
    )
    return dict(pairs)


@pytest.mark.parametrize(("python", "uv"), [("3.13", "0.13"), ("3.10", "0.9"), ("3.14", "0.8")])
def test_copier_offers_the_tables_os_flavours_labelled_and_greyed_out_where_no_image_exists(python, uv):
    choices = copier_choices("os_flavour", python_version=python, uv_version=uv)
    assert list(choices) == list(images.OS_FLAVOUR_ANSWERS.values())  # labels, in the table's order
    assert [choice["value"] for choice in choices.values()] == list(images.OS_FLAVOUR_ANSWERS)
    greyed = {choice["value"]: choice["validator"] for choice in choices.values() if choice["validator"]}
    assert sorted(set(images.OS_FLAVOUR_ANSWERS) - set(greyed)) == sorted(images.valid_flavours(python, uv))
    for answer, reason in greyed.items():
        assert reason == images.image_error(python, uv, answer)


def test_copier_offers_the_tables_pythons_and_registries():
    assert tuple(copier_choices("python_version")) == images.SUPPORTED_PYTHONS
    registries = copier_choices("image_registry")
    assert registries == {registry.label: name for name, registry in images.REGISTRIES.items()}


def test_labels_state_the_tables_facts():
    labels = images.OS_FLAVOUR_ANSWERS
    assert images.ALPINE_DEFAULT.removeprefix("alpine") in labels["alpine"]
    assert f"uv <= {'.'.join(map(str, images.LAST_BOOKWORM_UV))}" in labels["bookworm-slim"]


def test_the_sites_flavour_table_is_the_tables():
    assert images.flavour_table() in (ROOT / "docs" / "generated-project.md").read_text(encoding="utf-8")


def test_image_refs_gathers_every_reference_a_project_names():
    refs = images.image_refs("3.12", "0.13", "alpine", "dockerhub")
    assert refs == {
        "ci": "docker.io/astral/uv:0.13-python3.12-alpine3.23",
        "devcontainer": "docker.io/astral/uv:0.13-python3.12-alpine3.23",
        "uv": "docker.io/astral/uv:0.13",
        "python": "docker.io/library/python:3.12-alpine3.23",
        "builder": images.BUILDER_IMAGE,
        "git_feature": images.GIT_FEATURE,
        "matrix": {
            "3.12": "docker.io/astral/uv:0.13-python3.12-alpine3.23",
            "3.13": "docker.io/astral/uv:0.13-python3.13-alpine3.23",
            "3.14": "docker.io/astral/uv:0.13-python3.14-alpine3.23",
        },
    }


@pytest.mark.parametrize("registry", ["public", "dockerhub", "mirror"])
def test_the_dev_container_runs_the_ci_image_itself(registry):
    refs = images.image_refs("3.13", "0.13.2", "trixie-slim", registry, "registry.example.com/hub", {"ci": DIGEST})
    assert refs["devcontainer"] == refs["ci"]
    assert refs["ci"].endswith(f":0.13.2-python3.13-trixie-slim@{DIGEST}")


def test_the_dev_container_pulls_the_dependency_proxys_image_from_docker_hub_which_it_caches():
    """No CI variable is set on a developer's machine: the proxy's prefix would be empty."""
    refs = images.image_refs("3.13", "0.13", "trixie-slim", "dependency-proxy", digests={"ci": DIGEST})
    assert refs["ci"] == f"${{CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}}/astral/uv:0.13-python3.13-trixie-slim@{DIGEST}"
    assert refs["devcontainer"] == f"docker.io/astral/uv:0.13-python3.13-trixie-slim@{DIGEST}"


def test_the_release_table_has_every_minor_from_the_oldest_to_the_newest():
    """When Renovate proposes a new minor of uv, the one it replaces must move to
    EARLIER_UV_MINORS with its last patch: this fails until a person does so."""
    oldest, newest = images.MIN_UV[1], images.NEWEST_UV[1]
    assert sorted(images.UV_RELEASES) == [(0, minor) for minor in range(oldest, newest + 1)]
