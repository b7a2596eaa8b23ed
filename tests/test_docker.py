"""The generated Dockerfile: hadolint-clean for every answer set, and built for real.

The real build uses buildah (no Docker engine here) with local base images, since no
registry is reachable: a Debian trixie root made with mmdebstrap (Python 3.13, as the
default python_version) and a uv image made from the uv binaries of this repo's venv.
It is slow (minutes): deselect it with `-m "not slow"`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.kit import (
    DISTRIBUTION,
    OFFLINE,
    PACKAGE,
    ROOT,
    CommandFailed,
    answers_of,
    images_of,
    pipeline,
    read_toml,
    require_tool,
    run,
    shipped_files,
    tool,
)
from tests.servers import serving_registry

# Debian trixie's python3, which the local base image below has.
TRIXIE_PYTHON = "3.13"
HOST_CA_BUNDLE = Path(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))


def dockerfile_args(project: Path) -> dict[str, str]:
    """The ARG defaults of the Dockerfile's global scope."""
    args = {}
    for line in (project / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM"):
            break
        if line.startswith("ARG ") and "=" in line:
            name, value = line.removeprefix("ARG ").split("=", 1)
            args[name] = value
    return args


def from_lines(project: Path) -> list[str]:
    return [line for line in (project / "Dockerfile").read_text().splitlines() if line.startswith("FROM ")]


DOCKER_ANSWERS = {
    "defaults": {},
    "alpine": {"os_flavour": "alpine", "python_version": "3.12"},
    "dependency-proxy": {"image_registry": "dependency-proxy"},
    "mirror-pinned": {
        "image_registry": "mirror",
        "image_mirror": "mirror.example.com:5000/hub",
        "image_digests": {"uv": "sha256:" + "1" * 64, "python": "sha256:" + "2" * 64},
    },
    "bookworm": {"uv_version": "0.9", "os_flavour": "bookworm", "python_version": "3.10"},
}


@pytest.mark.parametrize("answers", DOCKER_ANSWERS.values(), ids=DOCKER_ANSWERS.keys())
def test_dockerfile_takes_its_images_from_the_extension_and_passes_hadolint(answers, render):
    project = render(env=OFFLINE, **answers)
    run([tool("hadolint"), "Dockerfile"], project)

    args = dockerfile_args(project)
    refs = images_of(project)
    assert (args["UV_IMAGE"], args["PYTHON_IMAGE"]) == (refs["uv"], refs["python"])
    # Build and runtime stages on the same Python image; uv copied from the distroless one.
    assert from_lines(project) == [
        "FROM ${UV_IMAGE} AS uv",
        "FROM ${PYTHON_IMAGE} AS build",
        "FROM ${PYTHON_IMAGE} AS runtime",
    ]
    text = (project / "Dockerfile").read_text()
    assert "COPY --from=uv /uv /uvx /bin/" in text
    assert "uv sync --locked --no-install-project --no-dev" in text
    assert "uv sync --locked --no-dev --no-editable" in text
    assert "USER 10001:10001" in text
    assert f'ENTRYPOINT ["{DISTRIBUTION}"]' in text
    if answers_of(project)["image_registry"] == "dependency-proxy":
        assert "ARG CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX\n" in text
    ignored = (project / ".dockerignore").read_text().splitlines()
    assert {".venv/", ".uv-cache/", ".git/", ".gitlab-ci-local/", ".pytest_cache/", "coverage.xml"} <= set(ignored)


def test_no_image_is_named_by_hand_in_the_template():
    """Every image reference in template/ comes from the extension's hidden values."""
    template = ROOT / "template"
    needles = ("ghcr.io", "docker.io", "quay.io", "astral/uv", "python:3", ":latest")
    offenders = [
        f"{path.relative_to(template)}: {needle}"
        for path in shipped_files("template")
        for needle in needles
        if needle in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_without_dockerfile_there_is_no_image_build(render):
    project = render(env=OFFLINE, dockerfile=False)
    assert not (project / "Dockerfile").exists()
    assert not (project / ".dockerignore").exists()
    assert not (project / ".gitlab" / "ci" / "docker.gitlab-ci.yml").exists()
    assert "docker.gitlab-ci.yml" not in (project / ".gitlab" / "ci" / "template.gitlab-ci.yml").read_text()


# ---------------------------------------------------------------- the real build


def unmount_below(folder: Path) -> None:
    """Unmount what the overlay driver left mounted below ``folder`` (its storage folder
    itself, bind-mounted private), deepest first: else the folder cannot be removed."""
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for mount_point in sorted((m for m in mounts if m.startswith(f"{folder}/")), reverse=True):
        subprocess.run(["umount", mount_point], capture_output=True, check=False)


def storage_options(folder: Path, driver: str) -> list[str]:
    """buildah's options for a storage of its own in ``folder``."""
    return ["--root", str(folder / "storage"), "--runroot", str(folder / "run"), "--storage-driver", driver]


class Buildah:
    """buildah with its own storage (chroot isolation: no daemon). Its storage driver is
    overlay where the kernel lets this user mount one (a layer is a difference), else vfs (each
    layer a whole copy of the root file system: the test's two builds took 122 s, not 11 s)."""

    def __init__(self, root: Path, driver: str = "") -> None:
        self.exe, self.root = require_tool("buildah", "builds the generated image"), root
        self.driver = driver or ("overlay" if self._mounts_overlay(root / "probe") else "vfs")
        self.global_opts = storage_options(root, self.driver)

    def _mounts_overlay(self, probe: Path) -> bool:
        options = storage_options(probe, "overlay")
        try:
            container = run([self.exe, *options, "from", "scratch"], probe.parent).strip().splitlines()[-1]
            run([self.exe, *options, "mount", container], probe.parent)
        except CommandFailed:
            return False
        finally:
            self._remove(options, probe)
        return True

    def _remove(self, options: list[str], folder: Path) -> None:
        """Remove every container, image and mount of the storage in ``folder``, then the folder."""
        for command in (["rm", "--all"], ["rmi", "--all", "--force"]):
            subprocess.run([self.exe, *options, *command], capture_output=True, check=False)
        unmount_below(folder)
        shutil.rmtree(folder, ignore_errors=True)

    def remove(self) -> None:
        self._remove(self.global_opts, self.root)

    def __call__(self, *args: str | Path, cwd: Path | None = None) -> str:
        # buildah keeps RUN's cache mounts under $TMPDIR (/var/tmp: the machine's, shared by every
        # build); a runner's job container starts with its own. So does each storage here.
        temporary = self.root / "tmp"
        temporary.mkdir(parents=True, exist_ok=True)
        env = {"BUILDAH_ISOLATION": "chroot", "TMPDIR": str(temporary)}
        return run([self.exe, *self.global_opts, *args], cwd or Path.cwd(), env)

    def image(self, name: str, fill: Callable[[Path], object], config: Sequence[str] = ()) -> str:
        """An image ``name`` of one layer: the root file system ``fill`` writes into the folder it is given."""
        container = self("from", "scratch").strip()
        fill(Path(self("mount", container).strip()))
        self("umount", container)
        if config:
            self("config", *config, container)
        self("commit", "--quiet", container, name)
        self("rm", container)
        return name


@pytest.fixture(scope="session")
def buildah(tmp_path_factory) -> Iterator[Buildah]:
    buildah = Buildah(tmp_path_factory.mktemp("buildah"))
    yield buildah
    buildah.remove()


@pytest.fixture(scope="session")
def local_base_images(buildah) -> dict[str, str]:
    return base_images(buildah)


def base_images(buildah: Buildah) -> dict[str, str]:
    """A Python image (Debian trixie's python3, as python:3.N-slim-trixie) and a uv image, in
    ``buildah``'s storage: the Dockerfile's build arguments that name them."""
    mmdebstrap = require_tool("mmdebstrap", "makes the local Python base image")

    def trixie(root: Path) -> None:
        packages = "--include=python3,ca-certificates"
        run(
            [mmdebstrap, "--quiet", "--variant=minbase", packages, "trixie", root, "http://deb.debian.org/debian"], root
        )
        # The machine's CA bundle: HTTPS from a build goes through the same proxy as the host.
        shutil.copy(HOST_CA_BUNDLE, root / "etc/ssl/certs/ca-certificates.crt")

    def uv_binaries(root: Path) -> None:
        for binary in ("uv", "uvx"):
            shutil.copy2(tool(binary), root / binary)

    return {
        "PYTHON_IMAGE": buildah.image(f"localhost/test-python:{TRIXIE_PYTHON}-trixie", trixie, ["--cmd", "python3"]),
        "UV_IMAGE": buildah.image("localhost/test-uv:latest", uv_binaries),
    }


def build(buildah: Buildah, project: Path, images_: dict[str, str], tag: str, *flags: str, layers: bool = True) -> str:
    build_args = [arg for name, ref in images_.items() for arg in ("--build-arg", f"{name}={ref}")]
    return buildah(
        "build",
        f"--layers={str(layers).lower()}",
        "--isolation",
        "chroot",
        *flags,
        *build_args,
        # What an organisation passes for its TLS-intercepting proxy, as a build secret.
        "--secret",
        f"id=ca_bundle,src={HOST_CA_BUNDLE}",
        "--tag",
        tag,
        ".",
        cwd=project,
    )


@pytest.mark.slow
def test_image_builds_and_runs_as_non_root(render, buildah, local_base_images):
    project = render()
    assert answers_of(project)["python_version"] == TRIXIE_PYTHON  # the local base image's Python
    assert read_toml(project / "uv.lock")  # the build installs exactly this lock

    first = build(buildah, project, local_base_images, f"localhost/{DISTRIBUTION}:1")
    assert "uv sync --locked --no-install-project --no-dev" in first

    container = buildah("from", f"localhost/{DISTRIBUTION}:1").strip()
    try:
        output = buildah("run", container, "--", DISTRIBUTION, "Ada", "--shout")
        assert output.strip().splitlines()[-1] == "HELLO, ADA!"
        ids = buildah("run", container, "--", "python", "-c", "import os; print(os.getuid(), os.getgid())")
        assert ids.strip().splitlines()[-1] == "10001 10001"
        # Installed as a wheel (non-editable), compiled, and not writable by the runtime user.
        probe = (
            f"import {PACKAGE}, os, pathlib; p = pathlib.Path({PACKAGE}.__file__);"
            "print('site-packages' in str(p), any(p.parent.joinpath('__pycache__').iterdir()),"
            " os.access(p, os.W_OK))"
        )
        assert buildah("run", container, "--", "python", "-c", probe).strip().splitlines()[-1] == "True True False"
    finally:
        buildah("rm", container)
    config = buildah(
        "inspect",
        "--type",
        "image",
        "--format",
        "{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}}",
        f"localhost/{DISTRIBUTION}:1",
    )
    assert config.strip() == f"10001:10001 [{DISTRIBUTION}]"


def registry_tags(registry: str, repository: str) -> list[str]:
    """The tags the registry holds for ``repository`` (the Distribution API, GET /v2/<name>/tags/list)."""
    with urllib.request.urlopen(f"http://{registry}/v2/{repository}/tags/list", timeout=10) as answer:
        return sorted(json.loads(answer.read()).get("tags") or [])


def test_the_job_reads_the_layer_cache_only_with_overlay_storage_and_only_protected_refs_write_it(render, tmp_path):
    """The job's script, run as the runner runs it, with a buildah that records its arguments.
    With vfs (the default: every runner), no layers: each would be a whole copy of the file
    system, which costs more than the cache saves (benchmarks/timeline.py)."""
    script = pipeline(render(env=OFFLINE))["docker-image"]["script"][0]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "buildah"
    fake.write_text('#!/bin/sh\n[ "$1" = build ] && echo "$*" >> "$BUILDS"; cat > /dev/null; exit 0\n')
    fake.chmod(0o755)
    builds = tmp_path / "builds"
    cache = "registry.example.com/acme/payments/build-cache"
    base = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "BUILDS": str(builds),
        "CI_REGISTRY": "registry.example.com",
        "CI_REGISTRY_IMAGE": "registry.example.com/acme/payments",
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "job-token",
        "CI_COMMIT_SHA": "0123abc",
        "CI_DEFAULT_BRANCH": "main",
    }
    cases = {  # storage, protected, push -> the build's cache options
        ("vfs", "true", "true"): [],
        ("overlay", "true", "true"): ["--layers", f"--cache-from={cache}", f"--cache-to={cache}"],
        ("overlay", "false", "false"): ["--layers", f"--cache-from={cache}"],  # a merge request
        ("overlay", "true", "false"): ["--layers", f"--cache-from={cache}"],
    }
    for (driver, protected, push), expected in cases.items():
        builds.unlink(missing_ok=True)
        env = {**base, "STORAGE_DRIVER": driver, "CI_COMMIT_REF_PROTECTED": protected, "PUSH_IMAGE": push}
        run(["sh", "-c", script], tmp_path, env)
        (arguments,) = builds.read_text().splitlines()
        assert [a for a in arguments.split() if a.startswith(("--layers", "--cache"))] == expected, (driver, arguments)


@pytest.mark.slow
def test_a_fresh_job_takes_the_dependency_layer_from_the_registry_cache(render, buildah, local_base_images, tmp_path):
    """The image job as the pipeline runs it: every job starts with an empty storage (a new
    runner container), pulls its base images and reads the layer cache in the project's
    registry (`--cache-from`); a protected ref's build writes it (`--cache-to`), a merge
    request's only reads it. A source-only change then installs no dependency."""
    project = render()
    run(["uv", "add", "--quiet", "idna==3.10"], project)  # a runtime dependency for the layer to hold
    # The flags the job passes with overlay storage (test_the_job_reads_the_layer_cache_...).
    with serving_registry(tmp_path / "registry") as registry:
        pulled = {}
        for name, ref in local_base_images.items():  # where a job pulls its base images from
            pulled[name] = f"{registry}/{ref.removeprefix('localhost/')}"
            buildah("push", "--quiet", "--tls-verify=false", ref, f"docker://{pulled[name]}")
        cache = f"{registry}/acme/payments/build-cache"
        (tmp_path / "main-job").mkdir()
        main = Buildah(tmp_path / "main-job")
        try:
            cold = build(
                main, project, pulled, "payments:1", "--tls-verify=false", "--cache-from", cache, "--cache-to", cache
            )
        finally:
            main.remove()
        # uv's lines (its stderr, after buildah's): idna in the dependency layer, then the project.
        assert cold.count("Installed 1 package") == 2
        written = registry_tags(registry, "acme/payments/build-cache")
        assert written  # the protected build wrote its layers

        greeting = project / "src" / PACKAGE / "greeting.py"
        greeting.write_text(greeting.read_text().replace('f"Hello, {cleaned}!"', 'f"Hi, {cleaned}!"'))
        (tmp_path / "merge-request-job").mkdir()
        merge_request = Buildah(tmp_path / "merge-request-job")
        try:
            warm = build(merge_request, project, pulled, "payments:2", "--tls-verify=false", "--cache-from", cache)
            container = merge_request("from", "payments:2").strip()
            said = merge_request("run", container, "--", DISTRIBUTION, "Ada").strip().splitlines()[-1]
            assert said == "Hi, Ada!"  # the changed source is what runs
        finally:
            merge_request.remove()
        steps = warm.split("STEP ")
        deps_step = next(step for step in steps if "--no-install-project" in step)
        project_step = next(step for step in steps if "--no-editable" in step)
        assert "Using cache" in deps_step, deps_step
        assert warm.count("Installed 1 package") == 1  # the project alone: no dependency installed again
        assert "Using cache" not in project_step  # the changed source is built
        assert registry_tags(registry, "acme/payments/build-cache") == written  # the merge request wrote nothing
