"""Unit tests of extensions/images.py over the whole matrix, without Copier."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import images
import pytest
import yaml

PYTHONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]
FLAVOURS = [*images.OS_FLAVOUR_ANSWERS, "alpine3.23", "alpine3.22"]
# One uv version of each class the history distinguishes.
UV_VERSIONS = ["0.7.22", "0.7", "0.8.0", "0.8.10", "0.8.11", "0.8", "0.9.0", "0.9", "0.9.30"]
UV_VERSIONS += ["0.10.0", "0.10", "0.12.5", "0.13", "0.13.9", "1.0"]


def _v(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def exists(python: str, uv: str, flavour: str) -> bool:
    """FACTS.md's tag matrix, written out as a specification (not the table's code).

    A floating X.Y answer exists when some X.Y.Z release had the tag.
    """
    low, high = (_v(uv), _v(uv)) if uv.count(".") == 2 else ((*_v(uv), 0), (*_v(uv), 999))
    if high < (0, 8, 0):
        return False  # older than uv_build's stable release
    if python == "3.14" and high < (0, 9, 0):
        return False  # conservative start of python3.14 tags
    if python == "3.8" and low > (0, 9, 30):
        return False  # python3.8-* removed in 0.10.0
    if flavour in {"bookworm", "bookworm-slim"}:
        return low <= (0, 9, 30)
    if flavour in {"trixie", "trixie-slim"}:
        return python != "3.8" and high >= (0, 8, 11)
    alpine = {"3.8": None, "3.9": "alpine3.22"}.get(python, "alpine3.23")
    if flavour not in {"alpine", alpine}:
        return False
    return alpine is not None and high >= (0, 10, 0)


@pytest.mark.parametrize("version", ["0.13", "0.13.9", "1.0", "0.10.0"])
def test_valid_uv_versions(version):
    assert images.uv_version_error(version) == ""


@pytest.mark.parametrize("version", ["", "0", "v0.13", "0.13.x", "0.13.9.1", "01.2", "latest", " 0.13"])
def test_invalid_uv_versions(version):
    assert f"uv_version {version!r}" in images.uv_version_error(version)


def test_uv_older_than_the_stable_build_backend_is_refused():
    assert "uv_version '0.7.22' is too old" in images.uv_version_error("0.7.22")


MATRIX = list(itertools.product(PYTHONS, UV_VERSIONS, FLAVOURS))


@pytest.mark.parametrize(("python", "uv", "flavour"), MATRIX)
def test_matrix_agrees_with_the_specification(python, uv, flavour):
    error = images.image_error(python, uv, flavour)
    if exists(python, uv, flavour):
        assert error == ""
        ci = images.ci_image(python, uv, flavour)
        assert re.fullmatch(rf"ghcr\.io/astral-sh/uv:{re.escape(uv)}-python{python}-[a-z0-9.-]+", ci)
        python_ref = images.python_image(python, uv, flavour)
        assert python_ref.startswith(f"docker.io/library/python:{python}-")
    else:
        assert error
        for function in (images.ci_image, images.python_image):
            with pytest.raises(ValueError, match=re.escape(error)):
                function(python, uv, flavour)


@pytest.mark.parametrize(
    ("python", "uv", "flavour", "ci", "base"),
    [
        ("3.13", "0.13", "trixie-slim", "0.13-python3.13-trixie-slim", "3.13-slim-trixie"),
        ("3.12", "0.13.9", "trixie", "0.13.9-python3.12-trixie", "3.12-trixie"),
        ("3.11", "0.13", "alpine", "0.13-python3.11-alpine3.23", "3.11-alpine3.23"),
        ("3.9", "0.13", "alpine", "0.13-python3.9-alpine3.22", "3.9-alpine3.22"),
        ("3.10", "0.9", "bookworm-slim", "0.9-python3.10-bookworm-slim", "3.10-slim-bookworm"),
        ("3.8", "0.9.30", "bookworm", "0.9.30-python3.8-bookworm", "3.8-bookworm"),
    ],
)
def test_uv_and_official_images_name_the_same_os_their_own_way(python, uv, flavour, ci, base):
    assert images.ci_image(python, uv, flavour) == f"ghcr.io/astral-sh/uv:{ci}"
    assert images.python_image(python, uv, flavour) == f"docker.io/library/python:{base}"


@pytest.mark.parametrize(
    ("python", "uv", "flavour", "message"),
    [
        ("3.13", "0.13", "bookworm-slim", "uv 0.13 is newer than 0.9.30, the last with that image"),
        ("3.13", "0.10", "bookworm", "uv 0.10 is newer than 0.9.30"),
        ("3.9", "0.13", "alpine3.23", "uv publishes no alpine3.23 image for Python 3.9"),
        ("3.8", "0.13", "trixie-slim", "uv publishes no trixie-slim image for Python 3.8"),
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
    assert images.uv_image("0.13", registry, mirror) == uv_ref
    assert images.python_image("3.13", "0.13", "trixie-slim", registry, mirror) == python_ref
    ci = images.ci_image("3.13", "0.13", "trixie-slim", registry, mirror)
    assert ci == f"{uv_ref}-python3.13-trixie-slim"


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
        images.uv_image("0.13", registry, mirror)


DIGEST = "sha256:" + "ab" * 32


def test_digests_pin_each_role():
    digests = {"ci": DIGEST, "uv": DIGEST}
    assert images.digests_error(digests) == ""
    assert images.ci_image("3.13", "0.13", "trixie", digests=digests).endswith(f"trixie@{DIGEST}")
    assert images.uv_image("0.13", digests=digests) == f"ghcr.io/astral-sh/uv:0.13@{DIGEST}"
    assert "@" not in images.python_image("3.13", "0.13", "trixie", digests=digests)


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


def test_copier_offers_exactly_the_pythons_flavours_and_registries_the_table_knows():
    config = yaml.safe_load((Path(__file__).parent.parent / "copier.yml").read_text())
    assert tuple(config["python_version"]["choices"]) == images.SUPPORTED_PYTHONS
    assert tuple(config["os_flavour"]["choices"].values()) == images.OS_FLAVOUR_ANSWERS
    assert list(config["image_registry"]["choices"].values()) == list(images.REGISTRIES)


def test_image_refs_gathers_every_reference_a_project_names():
    refs = images.image_refs("3.12", "0.13", "alpine", "dockerhub")
    assert refs == {
        "ci": "docker.io/astral/uv:0.13-python3.12-alpine3.23",
        "uv": "docker.io/astral/uv:0.13",
        "python": "docker.io/library/python:3.12-alpine3.23",
        "builder": images.BUILDER_IMAGE,
        "matrix": {
            "3.12": "docker.io/astral/uv:0.13-python3.12-alpine3.23",
            "3.13": "docker.io/astral/uv:0.13-python3.13-alpine3.23",
            "3.14": "docker.io/astral/uv:0.13-python3.14-alpine3.23",
        },
    }
