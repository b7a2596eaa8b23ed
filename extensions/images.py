"""uv releases and the container images they publish: everything the template knows about them.

- uv versions: which answers are uv releases, the oldest uv a project can use, and the
  ``uv_build`` range that goes with a uv version;
- the image table: which tags exist, per OS flavour, Python and uv version, and where
  images come from (registries); copier.yml's ``python_version``, ``os_flavour`` and
  ``image_registry`` choices, with their labels, are made from it
  (``python_choices``, ``os_flavour_choices``, ``registry_choices``), and so is the
  the site's flavour table in docs/generated-project.md (``flavour_table``, kept in step by a test);
- derivations: ``image_refs`` turns the answers into every image reference a project
  names, kept in copier.yml's hidden value ``images``; no template names an image by hand.

Plain functions, unit-tested over the whole matrix in tests/test_images.py without
Copier. ``JINJA_GLOBALS`` at the bottom lists what copier.yml and the templates call.

Sources (checked 2026-11):
- astral-sh/uv `.github/workflows/build-docker.yml` and
  `docs/guides/integration/docker.md` as of uv 0.12.5: the tag matrix;
- uv's release history: 0.10.0 removed every `bookworm`, `bookworm-slim`,
  `alpine3.21` and `python3.8-*` tag (0.9.30 is the last uv with them); trixie
  tags exist from 0.8.11; the Docker Hub mirror `docker.io/astral/uv` carries
  the same tags from 0.7.14;
- the official `python` image on Docker Hub: `3.N-slim-trixie` (the words flip
  against uv's `python3.N-trixie-slim`), `3.N-alpine3.23`.
- uv's docs, "Build backend" (docs.astral.sh/uv/concepts/build-backend/): uv_build is
  stable from uv 0.8.0, and a project pins it below the next minor of uv.
Where the history is not known precisely, a window starts at the first uv we
can vouch for (marked "conservative"): a refusal there is safe, an accepted tag
that does not exist is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ---------------------------------------------------------------- uv versions

Version = tuple[int, ...]

# uv_build is uv's stable build backend from 0.8.0: the oldest uv a project can use.
MIN_UV: Version = (0, 8, 0)

# The newest uv release: Renovate proposes the next one in this repository (renovate.json, a
# regex manager on the `# renovate:` annotation). When a new minor comes out, the release it
# replaces moves to the table below: tests/test_images.py fails until it does.
NEWEST_UV_RELEASE = "0.13.9"  # renovate: datasource=pypi depName=uv
# Every earlier minor, with its last patch release (PyPI's release history of uv,
# pypi.org/project/uv/#history, checked 2026-11-29; every patch from .0 up was published,
# with its uv_build and its images). A version outside them is refused: uv would only fail
# later, at `uv lock`, after the project was written.
EARLIER_UV_MINORS: dict[tuple[int, int], int] = {
    (0, 8): 24,
    (0, 9): 30,
    (0, 10): 12,
    (0, 11): 33,
    (0, 12): 24,
}
NEWEST_UV: Version = tuple(int(part) for part in NEWEST_UV_RELEASE.split("."))
# Every minor the template knows -> its last patch release.
UV_RELEASES: dict[tuple[int, int], int] = {**EARLIER_UV_MINORS, NEWEST_UV[:2]: NEWEST_UV[2]}

_UV_VERSION_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$")


def _version(text: str) -> Version:
    return tuple(int(part) for part in text.split("."))


def _show(version: Version) -> str:
    return ".".join(map(str, version))


def _uv_span(uv_version: str) -> tuple[Version, Version]:
    """The releases an answer can mean: "0.9" floats over 0.9.0 .. 0.9.30 (its last patch)."""
    version = _version(uv_version)
    if len(version) == 3:
        return version, version
    return (*version, 0), (*version, UV_RELEASES.get(version, 0))


def uv_version_error(uv_version: str) -> str:
    """Why ``uv_version`` is not a uv release this template can use, or ``""``."""
    if not _UV_VERSION_RE.match(uv_version):
        return (
            f"uv_version {uv_version!r} is not a uv version: use X.Y to follow patch releases "
            "or X.Y.Z to pin one, for example '0.13' or '0.13.9' (no 'v' prefix)."
        )
    major, minor, *patch = _version(uv_version)
    if (major, minor) < MIN_UV[:2]:
        return (
            f"uv_version {uv_version!r} is too old: this template needs uv {_show(MIN_UV)} or newer "
            "(uv_build, the build backend, is stable from there)."
        )
    if (major, minor) not in UV_RELEASES or (patch and patch[0] > UV_RELEASES[major, minor]):
        return (
            f"uv_version {uv_version!r} is not a uv release this template knows; the newest it knows is "
            f"{_show(NEWEST_UV)} (a newer template release adds newer uv versions)."
        )
    return ""


def newest_uv() -> str:
    """The newest uv release the table knows: it runs the audit and writes the SBOM (preview
    features that older releases lack), whatever uv builds the project."""
    return _show(NEWEST_UV)


def uv_build_requirement(uv_version: str) -> str:
    """The ``uv_build`` range for ``build-system.requires``: same minor as uv.

    uv's docs pin the build backend below the next minor, since its options may
    change between minors: ``"0.13"`` -> ``"uv_build>=0.13.0,<0.14"``.
    """
    major, minor, *patch = _version(uv_version)
    return f"uv_build>={major}.{minor}.{patch[0] if patch else 0},<{major}.{minor + 1}"


# ---------------------------------------------------------------- the image table

LAST_BOOKWORM_UV: Version = (0, 9, 30)


@dataclass(frozen=True)
class Flavour:
    """One OS flavour of the images, and the uv versions and Pythons that have it."""

    uv_suffix: str  # uv's derived image: <uv>-python3.N-<uv_suffix>
    python_suffix: str  # the official image: python:3.N-<python_suffix>
    pythons: tuple[str, ...]
    since: Version
    until: Version | None = None  # last uv that published it


# The Python versions a project can choose: copier.yml offers exactly these (python_choices).
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")

# Only the rows an answer can reach: uv also publishes python3.8 and python3.9 images (and
# python3.9 on alpine3.22), which no project of this template can choose.
FLAVOURS: dict[str, Flavour] = {
    "trixie-slim": Flavour("trixie-slim", "slim-trixie", SUPPORTED_PYTHONS, since=(0, 8, 11)),
    "trixie": Flavour("trixie", "trixie", SUPPORTED_PYTHONS, since=(0, 8, 11)),
    # The official python:3.N-alpine moved to alpine3.24; uv builds on 3.23: pin both.
    # Conservative: the matrix above is known from 0.10.0 on.
    "alpine3.23": Flavour("alpine3.23", "alpine3.23", SUPPORTED_PYTHONS, since=(0, 10, 0)),
    "bookworm-slim": Flavour("bookworm-slim", "slim-bookworm", SUPPORTED_PYTHONS, MIN_UV, LAST_BOOKWORM_UV),
    "bookworm": Flavour("bookworm", "bookworm", SUPPORTED_PYTHONS, MIN_UV, LAST_BOOKWORM_UV),
}
# "alpine" means the Alpine release uv builds the supported Pythons on.
ALPINE_DEFAULT = "alpine3.23"

# The os_flavour answers, in the order copier.yml offers them, with the label it shows.
OS_FLAVOUR_ANSWERS: dict[str, str] = {
    "trixie-slim": "Debian trixie, slim (glibc; the usual choice)",
    "trixie": "Debian trixie, full (compilers and headers for source builds)",
    "alpine": f"Alpine {ALPINE_DEFAULT.removeprefix('alpine')} (musl; smallest, wheels must be musllinux)",
    "bookworm-slim": f"Debian bookworm, slim (only uv <= {_show(LAST_BOOKWORM_UV)})",
    "bookworm": f"Debian bookworm, full (only uv <= {_show(LAST_BOOKWORM_UV)})",
}

# Tags outside a flavour's own window, per Python (conservative: first uv we vouch for).
PYTHON_WINDOWS: dict[str, tuple[Version, Version | None]] = {
    "3.14": ((0, 9, 0), None),
}


@dataclass(frozen=True)
class Registry:
    """Where images come from: an image_registry answer. ``{prefix}`` is the mirror."""

    label: str
    uv_repository: str
    python_repository: str


REGISTRIES: dict[str, Registry] = {
    "public": Registry(
        "Public registries: uv from ghcr.io, Python from Docker Hub",
        "ghcr.io/astral-sh/uv",
        "docker.io/library/python",
    ),
    "dockerhub": Registry(
        "Docker Hub for both (docker.io/astral/uv)",
        "docker.io/astral/uv",
        "docker.io/library/python",
    ),
    # GitLab's dependency proxy serves Docker Hub only, under the group's prefix.
    "dependency-proxy": Registry(
        "GitLab dependency proxy (a Docker Hub cache in your group)",
        "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/astral/uv",
        "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/python",
    ),
    # An organisation's mirror of Docker Hub, laid out as Docker Hub is.
    "mirror": Registry("Your organisation's mirror of Docker Hub", "{prefix}/astral/uv", "{prefix}/library/python"),
}
DIGEST_ROLES = ("ci", "uv", "python")

# The image builder of the pipeline's image job: buildah runs unprivileged on ordinary
# runners (vfs storage, chroot isolation). Published on quay.io only, so no Docker Hub
# mirror or dependency proxy can serve it. Source: quay.io/buildah/stable tags (2026-11).
BUILDER_IMAGE = "quay.io/buildah/stable:v1.43.0"  # renovate: datasource=docker

# The dev container's Dev Containers feature that installs git from the image's own packages
# (uv's slim images have none; the editor's source control and the git hooks need it): an OCI
# artifact on ghcr.io (containers.dev/features), followed by its major version.
GIT_FEATURE = "ghcr.io/devcontainers/features/git:1"  # renovate: datasource=docker

_MIRROR_RE = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# An image reference's name must stay within 255 characters (the distribution registry's
# limit): the prefix leaves room for "/library/python" and the tag.
MAX_MIRROR = 200


def resolve_flavour(os_flavour: str) -> str:
    """The concrete flavour of an answer: ``alpine`` becomes the release uv builds on."""
    return ALPINE_DEFAULT if os_flavour == "alpine" else os_flavour


def _problems(python_version: str, uv_version: str, flavour_name: str) -> list[str]:
    """What stops uv's image for this flavour from existing (uv_version already valid)."""
    flavour = FLAVOURS[flavour_name]
    problems = []
    if python_version not in flavour.pythons:
        problems.append(f"uv publishes no {flavour_name} image for Python {python_version}")
    py_since, py_until = PYTHON_WINDOWS.get(python_version, (MIN_UV, None))
    since = max(flavour.since, py_since)
    untils = [u for u in (flavour.until, py_until) if u is not None]
    until = min(untils) if untils else None
    first, last = _uv_span(uv_version)
    if last < since:
        problems.append(f"uv {uv_version} is older than {_show(since)}, the first with that image")
    elif until is not None and first > until:
        problems.append(f"uv {uv_version} is newer than {_show(until)}, the last with that image")
    return problems


def valid_flavours(python_version: str, uv_version: str) -> list[str]:
    """The os_flavour answers that have images for this Python and uv version."""
    if uv_version_error(uv_version):
        return []
    return [
        answer for answer in OS_FLAVOUR_ANSWERS if not _problems(python_version, uv_version, resolve_flavour(answer))
    ]


def image_error(python_version: str, uv_version: str, os_flavour: str) -> str:
    """Why no uv image exists for this Python, uv version and OS flavour, or ``""``."""
    if error := uv_version_error(uv_version):
        return error
    flavour_name = resolve_flavour(os_flavour)
    if flavour_name not in FLAVOURS:
        known = ", ".join(dict.fromkeys([*OS_FLAVOUR_ANSWERS, *FLAVOURS]))
        return f"os_flavour {os_flavour!r} is unknown; choose one of: {known}."
    problems = _problems(python_version, uv_version, flavour_name)
    if not problems:
        return ""
    valid = ", ".join(valid_flavours(python_version, uv_version)) or "none: pick another Python or uv"
    return (
        f"No image exists for Python {python_version}, uv {uv_version} and os_flavour "
        f"{os_flavour!r}: {'; '.join(problems)}. Valid os_flavour values here: {valid}."
    )


def registry_error(registry: str, mirror: str = "") -> str:
    """Why this registry answer (and mirror prefix) cannot be used, or ``""``."""
    if registry not in REGISTRIES:
        return f"image_registry {registry!r} is unknown; choose one of: {', '.join(REGISTRIES)}."
    if registry != "mirror":
        return ""
    port = re.match(r"^[^/:]*:(\d+)", mirror) if isinstance(mirror, str) else None
    if len(mirror) <= MAX_MIRROR and _MIRROR_RE.match(mirror) and (not port or 0 < int(port.group(1)) < 65536):
        return ""
    return (
        f"image_mirror {mirror[:80]!r} is not an image repository prefix of at most {MAX_MIRROR} characters: "
        "give a registry host (and a port from 1 to 65535) and an "
        "optional path, without scheme or trailing slash, for example 'registry.example.com/dockerhub'."
    )


def digests_error(digests: object) -> str:
    """Why this ``image_digests`` answer is not a mapping of role to sha256 digest, or ``""``."""
    if not isinstance(digests, dict):
        return f"image_digests {str(digests)[:80]!r} must be a mapping like {{uv: 'sha256:<64 hex>'}}."
    for role, digest in digests.items():
        if role not in DIGEST_ROLES:
            return f"image_digests key {str(role)[:80]!r} is unknown; use some of: {', '.join(DIGEST_ROLES)}."
        if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
            return f"image_digests[{role!r}] = {str(digest)[:80]!r} is not a digest like 'sha256:<64 hex digits>'."
    return ""


# ---------------------------------------------------------------- copier.yml's choices


def python_choices() -> list[str]:
    """The ``python_version`` choices."""
    return list(SUPPORTED_PYTHONS)


# Choices go to copier.yml as lists of [label, value] pairs, not mappings: Jinja's tojson
# sorts mapping keys, which would reorder the choices.


def os_flavour_choices(python_version: str, uv_version: str) -> list[tuple[str, dict[str, str]]]:
    """The ``os_flavour`` choices: (label, value), greyed out with the reason where no image exists."""
    return [
        (label, {"value": answer, "validator": image_error(python_version, uv_version, answer)})
        for answer, label in OS_FLAVOUR_ANSWERS.items()
    ]


def registry_choices() -> list[tuple[str, str]]:
    """The ``image_registry`` choices: (label, value)."""
    return [(registry.label, name) for name, registry in REGISTRIES.items()]


def flavour_table() -> str:
    """The site's OS flavour table (docs/generated-project.md): what each answer means, which uv has it."""
    rows = ["| `os_flavour` | uv's image / the official Python image | uv versions |", "| --- | --- | --- |"]
    for answer, label in OS_FLAVOUR_ANSWERS.items():
        flavour = FLAVOURS[resolve_flavour(answer)]
        tags = f"`python3.N-{flavour.uv_suffix}` / `python:3.N-{flavour.python_suffix}`"
        until = _show(flavour.until) if flavour.until else "today"
        rows.append(f"| `{answer}`: {label} | {tags} | {_show(flavour.since)} to {until} |")
    return "\n".join(rows)


# ---------------------------------------------------------------- derivations


def _repositories(registry: str, mirror: str) -> tuple[str, str]:
    source = REGISTRIES[registry]
    return source.uv_repository.replace("{prefix}", mirror), source.python_repository.replace("{prefix}", mirror)


def _pin(reference: str, role: str, digests: dict[str, str] | None) -> str:
    digest = (digests or {}).get(role)
    return f"{reference}@{digest}" if digest else reference


def _raise_if(*errors: str) -> None:
    if message := next((error for error in errors if error), ""):
        raise ValueError(message)


def _ci_ref(uv_repository: str, python_version: str, uv_version: str, os_flavour: str) -> str:
    flavour = FLAVOURS[resolve_flavour(os_flavour)]
    return f"{uv_repository}:{uv_version}-python{python_version}-{flavour.uv_suffix}"


def _python_ref(python_repository: str, python_version: str, os_flavour: str) -> str:
    flavour = FLAVOURS[resolve_flavour(os_flavour)]
    return f"{python_repository}:{python_version}-{flavour.python_suffix}"


def image_refs(
    python_version: str,
    uv_version: str,
    os_flavour: str,
    registry: str = "public",
    mirror: str = "",
    digests: dict[str, str] | None = None,
) -> dict[str, object]:
    """Every image reference a project names, for copier.yml's hidden ``images`` value.

    ``ci``: the CI jobs; ``devcontainer``: the same image, pulled from a developer's machine;
    ``uv`` and ``python``: the Dockerfile's stages; ``builder``: the image job; ``matrix``: the
    CI image per Python of the optional test matrix, for the project's version and every newer
    one that has an image (only the project's own version takes the ``ci`` digest: a digest
    pins one image).
    """
    _raise_if(
        image_error(python_version, uv_version, os_flavour),
        registry_error(registry, mirror),
        digests_error(digests or {}),
    )
    uv_repository, python_repository = _repositories(registry, mirror)
    newer = SUPPORTED_PYTHONS[SUPPORTED_PYTHONS.index(python_version) :]
    matrix = {
        version: _ci_ref(uv_repository, version, uv_version, os_flavour)
        for version in newer
        if not image_error(version, uv_version, os_flavour)
    }
    ci = _pin(matrix[python_version], "ci", digests)
    # The dev container runs the CI image on a developer's machine, where no CI variable is set:
    # the dependency proxy's image is Docker Hub's (the proxy caches it), the same tag and digest.
    local_uv_repository = REGISTRIES["dockerhub"].uv_repository if registry == "dependency-proxy" else uv_repository
    return {
        "ci": ci,
        "devcontainer": _pin(_ci_ref(local_uv_repository, python_version, uv_version, os_flavour), "ci", digests),
        "uv": _pin(f"{uv_repository}:{uv_version}", "uv", digests),
        "python": _pin(_python_ref(python_repository, python_version, os_flavour), "python", digests),
        "builder": BUILDER_IMAGE,
        "git_feature": GIT_FEATURE,
        "matrix": {**matrix, python_version: ci},
    }


# What copier.yml and the templates call, by name (extensions/registry.py registers it).
JINJA_GLOBALS = {
    "uv_version_error": uv_version_error,
    "uv_build_requirement": uv_build_requirement,
    "newest_uv": newest_uv,
    "registry_error": registry_error,
    "digests_error": digests_error,
    "python_choices": python_choices,
    "os_flavour_choices": os_flavour_choices,
    "registry_choices": registry_choices,
    "image_refs": image_refs,
}
