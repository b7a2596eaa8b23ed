"""The dev container: read by the Dev Containers CLI itself (`devcontainer read-configuration`,
pinned in .ci/tools), on the CI image the extension derives from the same answers, with the
editor set up as the project's checks run, and no secret written into it.

No Docker engine runs here: the CLI asks `docker ps` for a container it already made for the
workspace, and a stub that answers as an engine with no container does (an empty list) stands
in for it (`--docker-path`); reading the configuration needs nothing else of the engine.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.kit import (
    OFFLINE,
    answers_of,
    commit_all,
    copier_cli,
    git,
    green_environment,
    images_of,
    node_tool,
    pipeline,
    read_jsonc,
    read_toml,
    render_with,
    run,
)

NO_CONTAINER = "#!/bin/sh\n# docker ps -q -a --filter ...: an engine with no container prints nothing\nexit 0\n"
INDEX = "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi/simple"


def read_configuration(project: Path, tmp_path: Path, env: dict[str, str] | None = None) -> dict:
    """The configuration as the Dev Containers CLI reads it, its variables substituted."""
    docker = tmp_path / "docker"
    docker.write_text(NO_CONTAINER)
    docker.chmod(0o755)
    cli = node_tool("devcontainer", "reads the dev container configuration as editors do")
    output = run(
        [cli, "read-configuration", "--workspace-folder", project, "--docker-path", docker],
        project,
        env,
    )
    return json.loads(output[output.index('{"configuration"') :].splitlines()[0])["configuration"]


def committed_copy(project: Path, dst: Path) -> Path:
    """A copy of the module's render, committed: what a team has in its repository."""
    shutil.copytree(project, dst, symlinks=True)
    return commit_all(dst, "generated")


@pytest.fixture(scope="module")
def default_project(copie_session, template_repo) -> Path:
    return render_with(copie_session, template_repo, env=OFFLINE)


def test_the_cli_reads_it_and_its_image_is_the_ci_image_of_the_same_render(default_project, tmp_path):
    configuration = read_configuration(default_project, tmp_path)
    ci_image = pipeline(default_project)["variables"]["UV_CI_IMAGE"]
    assert configuration["image"] == ci_image == images_of(default_project)["ci"]
    assert configuration["name"] == "Payment Service"
    assert configuration["postCreateCommand"].endswith("uv sync --locked && uv run --no-sync prek install")
    python = answers_of(default_project)["python_version"]
    assert configuration["containerEnv"]["UV_PYTHON"] == python
    assert configuration["containerEnv"]["UV_PYTHON_DOWNLOADS"] == "never"


def test_the_editor_runs_the_projects_checks_as_its_settings_say(default_project):
    vscode = read_jsonc(default_project / ".devcontainer" / "devcontainer.json")["customizations"]["vscode"]
    assert vscode["extensions"] == ["ms-python.python", "charliermarsh.ruff", "ms-python.mypy-type-checker"]
    python = vscode["settings"]["[python]"]
    assert python["editor.defaultFormatter"] == "charliermarsh.ruff"
    assert python["editor.rulers"] == [read_toml(default_project / "pyproject.toml")["tool"]["ruff"]["line-length"]]
    # The tools of uv.lock, not the extensions' bundled versions.
    assert vscode["settings"]["ruff.importStrategy"] == "fromEnvironment"
    assert vscode["settings"]["mypy-type-checker.importStrategy"] == "fromEnvironment"
    venv = read_jsonc(default_project / ".devcontainer" / "devcontainer.json")["containerEnv"]["UV_PROJECT_ENVIRONMENT"]
    assert vscode["settings"]["python.defaultInterpreterPath"] == f"{venv}/bin/python"


def test_with_ty_the_editor_gets_tys_extension_and_no_second_language_server(render):
    project = render(type_checker="ty", env=OFFLINE)
    vscode = read_jsonc(project / ".devcontainer" / "devcontainer.json")["customizations"]["vscode"]
    assert vscode["extensions"][-1] == "astral-sh.ty"
    assert vscode["settings"]["python.languageServer"] == "None"
    assert not any("mypy" in key for key in vscode["settings"])
    project = render(type_checker="none", env=OFFLINE)
    vscode = read_jsonc(project / ".devcontainer" / "devcontainer.json")["customizations"]["vscode"]
    assert vscode["extensions"] == ["ms-python.python", "charliermarsh.ruff"]


def test_index_credentials_come_from_the_developers_environment_and_are_never_written(render, tmp_path):
    project = render(package_index_url=INDEX, package_index_auth="ci-variables", env=OFFLINE)
    text = (project / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8")
    secret = "glpat-devcontainer-secret-0000"
    configuration = read_configuration(
        project, tmp_path, {"UV_INDEX_INTERNAL_USERNAME": "ann", "UV_INDEX_INTERNAL_PASSWORD": secret}
    )
    assert configuration["remoteEnv"] == {"UV_INDEX_INTERNAL_USERNAME": "ann", "UV_INDEX_INTERNAL_PASSWORD": secret}
    assert '"UV_INDEX_INTERNAL_PASSWORD": "${localEnv:UV_INDEX_INTERNAL_PASSWORD}"' in text
    assert secret not in text
    # Without an index, or one that needs no credentials, nothing is asked of the environment.
    assert "remoteEnv" not in read_jsonc(render(env=OFFLINE) / ".devcontainer" / "devcontainer.json")
    no_auth = render(package_index_url=INDEX, package_index_auth="none", env=OFFLINE)
    assert "remoteEnv" not in read_jsonc(no_auth / ".devcontainer" / "devcontainer.json")


def test_the_ca_bundle_the_developer_names_is_copied_where_git_ignores_it_and_trusted_in_the_container(
    default_project, tmp_path
):
    """The host half runs here as the CLI runs `initializeCommand` (on the developer's machine;
    it names the workspace folder itself, whatever folder it starts in); the container half
    appends the copy to the image's CA store."""
    project = committed_copy(default_project, tmp_path / "project")
    configuration = read_configuration(project, tmp_path)
    bundle = tmp_path / "organisation-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    copy = project / ".devcontainer" / "ca-bundle.pem"
    subprocess.run(configuration["initializeCommand"], cwd=tmp_path, env={"CA_BUNDLE": str(bundle)}, check=True)
    assert copy.read_text() == bundle.read_text()
    subprocess.run(configuration["initializeCommand"], cwd=tmp_path, env={}, check=True)
    assert copy.read_text() == ""  # no CA_BUNDLE: an empty copy, which nothing trusts
    assert git(project, "status", "--porcelain") == ""  # git ignores the copy
    assert git(project, "check-ignore", ".devcontainer/ca-bundle.pem").strip() == ".devcontainer/ca-bundle.pem"
    store = configuration["containerEnv"]["SSL_CERT_FILE"]
    assert f"cat .devcontainer/ca-bundle.pem >> {store}" in configuration["postCreateCommand"]
    assert "if [ -s .devcontainer/ca-bundle.pem ]" in configuration["postCreateCommand"]


def test_on_create_the_container_syncs_the_lock_and_installs_the_git_hooks_that_then_refuse_a_key(
    default_project, tmp_path
):
    """The container half of `postCreateCommand` runs here as the CLI runs it in the container
    (in the workspace, with the container's environment; the project's environment is this
    worker's synced one, as the green checks use it): the hooks it installs run on the next
    commit, which they refuse for a private key."""
    project = committed_copy(default_project, tmp_path / "project")
    configuration = read_configuration(project, tmp_path)
    assert configuration["features"] == {
        "ghcr.io/devcontainers/features/git:1": {"version": "os-provided", "ppa": False}
    }
    env = {**configuration["containerEnv"], **green_environment(configuration["containerEnv"]["UV_PYTHON"])}
    del env["SSL_CERT_FILE"]  # the container's store; here the machine's own
    run(["sh", "-c", configuration["postCreateCommand"]], project, env)
    assert "prek" in (project / ".git" / "hooks" / "pre-commit").read_text(encoding="utf-8")
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
    (project / "deploy_key").write_text(key, encoding="utf-8")
    git(project, "add", "deploy_key")
    commit = subprocess.run(
        ["git", "commit", "-qm", "add a key"], cwd=project, capture_output=True, text=True, check=False
    )
    assert commit.returncode != 0, commit.stdout
    assert "deploy_key" in commit.stdout + commit.stderr
    assert git(project, "log", "-1", "--format=%s").strip() == "generated"  # nothing was committed


def test_the_dependency_proxys_project_pulls_the_same_image_from_docker_hub(render, tmp_path):
    project = render(image_registry="dependency-proxy", env=OFFLINE)
    image = read_configuration(project, tmp_path)["image"]
    ci_image = pipeline(project)["variables"]["UV_CI_IMAGE"]
    assert ci_image.startswith("${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/astral/uv:")
    assert image == ci_image.replace("${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}", "docker.io")


def dockerfile_images(project: Path) -> dict[str, str]:
    text = (project / "Dockerfile").read_text(encoding="utf-8")
    return dict(re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", text, re.MULTILINE))


def test_changing_python_version_moves_the_ci_image_the_dockerfile_and_the_dev_container_together(
    default_project, tmp_path
):
    project = committed_copy(default_project, tmp_path / "project")
    before = (
        pipeline(project)["variables"]["UV_CI_IMAGE"],
        dockerfile_images(project),
        read_configuration(project, tmp_path)["image"],
    )
    assert "python3.13" in before[0]
    copier_cli("update", "--data", "python_version=3.12", cwd=project, data={}, env=OFFLINE)
    ci_image = pipeline(project)["variables"]["UV_CI_IMAGE"]
    assert ci_image == before[0].replace("python3.13", "python3.12")
    assert dockerfile_images(project) != before[1]
    assert all("3.12" in image for name, image in dockerfile_images(project).items() if name != "UV_IMAGE")
    assert read_configuration(project, tmp_path)["image"] == ci_image
    assert (project / ".python-version").read_text().strip() == "3.12"


def test_without_a_dev_container_nothing_of_it_remains(render):
    project = render(devcontainer=False, env=OFFLINE)
    assert not (project / ".devcontainer").exists()
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "devcontainer" not in readme
    assert "Dev container" not in readme
