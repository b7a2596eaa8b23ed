"""The generated GitLab pipeline: valid for GitLab, and run for real by gitlab-ci-local."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import images
import pytest
from conftest import ROOT, commit_all, read_yaml, render_without_tasks, require_tool, run


def pipeline_files(project: Path) -> list[Path]:
    """The team's file first, then every template-owned pipeline file."""
    return [project / ".gitlab-ci.yml", *sorted((project / ".gitlab" / "ci").glob("*.yml"))]


# gitlab-ci-local runs a branch pipeline as unprotected; the cache job runs on protected refs.
AS_PROTECTED_BRANCH = ["--variable", "CI_COMMIT_REF_PROTECTED=true"]


def check_schema(project: Path) -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    files = pipeline_files(project)
    assert len(files) >= 3
    run([checker, "--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci", *files], project)


def pipeline(project: Path) -> dict:
    """The template's jobs and settings, merged as GitLab merges the includes."""
    merged: dict = {}
    for path in reversed(pipeline_files(project)):
        merged.update(read_yaml(path) or {})
    return merged


def gitlab_ci_local() -> str:
    local = ROOT / ".ci" / "tools" / "node_modules" / ".bin" / "gitlab-ci-local"
    if local.exists():
        return str(local)
    return require_tool("gitlab-ci-local", "runs the generated pipeline")


def run_pipeline(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    require_tool("rsync", "gitlab-ci-local copies each job's files with it")
    cmd = [gitlab_ci_local(), "--force-shell-executor", "--shell-isolation", *AS_PROTECTED_BRANCH]
    proc = subprocess.run(
        [*cmd, *args, "uv-cache", "lint", "test"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # jobs' stderr (uv's messages) in the same stream
        text=True,
        check=False,
    )
    if check and proc.returncode != 0:
        pytest.fail(f"pipeline failed ({proc.returncode})\n{proc.stdout}")
    return proc


ANSWER_SETS = {
    "defaults": {},
    "prune": {"uv_cache_strategy": "prune"},
    "isolated-mr-cache": {"ci_share_cache_with_merge_requests": False},
    "matrix": {"python_version": "3.11", "ci_python_matrix": True},
    "alpine-dockerhub": {"os_flavour": "alpine", "image_registry": "dockerhub"},
    "dependency-proxy": {"image_registry": "dependency-proxy", "python_version": "3.14"},
    "mirror-pinned": {
        "image_registry": "mirror",
        "image_mirror": "registry.example.com/hub",
        "image_digests": {"ci": "sha256:" + "0" * 64},
    },
    "old-uv-bookworm": {"uv_version": "0.9.30", "os_flavour": "bookworm-slim", "python_version": "3.12"},
}


@pytest.mark.parametrize("answers", ANSWER_SETS.values(), ids=ANSWER_SETS.keys())
def test_every_pipeline_validates_and_keeps_its_promises(answers, template_repo, tmp_path):
    project = render_without_tasks(template_repo, tmp_path / "p", **answers)
    check_schema(project)
    ci = pipeline(project)
    python = answers.get("python_version", "3.13")
    os_flavour = answers.get("os_flavour", "trixie-slim")
    strategy = answers.get("uv_cache_strategy", "keep-wheels")
    shared = answers.get("ci_share_cache_with_merge_requests", True)

    # One image, from the extension, through one variable.
    expected_image = images.ci_image(
        python,
        answers.get("uv_version", "0.13"),
        os_flavour,
        answers.get("image_registry", "public"),
        answers.get("image_mirror", ""),
        answers.get("image_digests"),
    )
    assert ci["variables"]["UV_CI_IMAGE"] == expected_image
    assert ci["variables"]["UV_PYTHON"] == python
    assert ci["variables"]["UV_PYTHON_DOWNLOADS"] == "never"
    assert ci["variables"]["UV_CACHE_DIR"] == ".uv-cache"
    assert ci[".uv"]["image"] == "$UV_CI_IMAGE"

    cache = ci[".uv"]["cache"]
    assert cache["key"]["files"] == ["uv.lock"]
    prefix = cache["key"]["prefix"]
    assert all(part in prefix for part in ("${UV_PYTHON}", os_flavour, strategy))
    assert cache["paths"] == [".uv-cache/"]
    assert cache["policy"] == "pull"
    assert cache.get("unprotect", False) is shared
    assert ci["uv-cache"]["cache"] == {**cache, "policy": "pull-push"}
    assert ("after_script" in ci["uv-cache"]) is (strategy == "prune")
    assert ("CI_COMMIT_REF_PROTECTED" in str(ci["uv-cache"]["rules"])) is shared

    for name in ("uv-cache", "lint", "test"):
        job_script = ci[name]["script"]
        syncs = [line for line in job_script if line.startswith("uv sync")]
        assert syncs, name
        assert all("--locked" in line for line in syncs), name
        assert all("|| uv sync" not in line and "--frozen" not in line for line in job_script)
    assert ci[".uv"]["interruptible"] is True
    assert ci[".uv"]["needs"] == []
    assert "--only-group lint" in ci["lint"]["script"][0]
    assert "--group test" in ci["test"]["script"][0]
    assert ci["lint"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    reports = ci["test"]["artifacts"]["reports"]
    assert reports["junit"] == "junit.xml"
    assert reports["coverage_report"] == {"coverage_format": "cobertura", "path": "coverage.xml"}
    assert ci["test"]["coverage"].startswith("/TOTAL")

    rules = ci["workflow"]["rules"]
    assert {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"} in rules

    if answers.get("ci_python_matrix"):
        entries = ci[".python-matrix"]["parallel"]["matrix"]
        versions = [entry["UV_PYTHON"] for entry in entries]
        assert versions == ["3.11", "3.12", "3.13", "3.14"]
        for entry in entries:
            assert entry["UV_CI_IMAGE"] == images.ci_image(entry["UV_PYTHON"], "0.13", os_flavour)
        assert ci["test"]["extends"] == [".uv", ".python-matrix"]
        assert ci["lint"]["extends"] == ".uv"
        listed = subprocess.run(
            [gitlab_ci_local(), "--list", *AS_PROTECTED_BRANCH],
            cwd=commit_all(project, "generated"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert sum("test: [3.1" in line for line in listed.splitlines()) == 4
    else:
        assert ".python-matrix" not in ci


def test_team_pipeline_only_includes_the_template_entry_point(render):
    project = render()
    team = read_yaml(project / ".gitlab-ci.yml")
    assert team == {"include": [{"local": ".gitlab/ci/template.gitlab-ci.yml"}]}
    team_file, *template_files = pipeline_files(project)
    assert team_file.read_text().startswith("# Team-owned pipeline:")
    assert {p.name for p in template_files} == {
        "template.gitlab-ci.yml",
        "uv.gitlab-ci.yml",
        "docker.gitlab-ci.yml",
        "drift.gitlab-ci.yml",
    }
    for path in template_files:
        assert path.read_text().startswith("# Template-owned:")
    included = read_yaml(project / ".gitlab" / "ci" / "template.gitlab-ci.yml")["include"]
    assert sorted(entry["local"] for entry in included) == sorted(
        f".gitlab/ci/{p.name}" for p in template_files if p.name != "template.gitlab-ci.yml"
    )


def test_drift_job_warns_on_schedules_and_the_default_branch(template_repo, tmp_path):
    project = render_without_tasks(template_repo, tmp_path / "p")
    job = pipeline(project)["template-drift"]
    assert job["allow_failure"] is True
    assert job["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule"'},
        {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"},
    ]
    assert job["script"][-1].endswith("python .gitlab/ci/template_drift.py")


def test_image_job_tags_and_pushes_only_outside_merge_requests(template_repo, tmp_path):
    project = render_without_tasks(template_repo, tmp_path / "p")
    job = pipeline(project)["docker-image"]
    assert job["image"] == "$BUILDER_IMAGE"
    assert job["variables"]["BUILDER_IMAGE"] == images.BUILDER_IMAGE
    assert {"STORAGE_DRIVER": "vfs", "BUILDAH_ISOLATION": "chroot"}.items() <= job["variables"].items()
    assert [rule["variables"]["PUSH_IMAGE"] for rule in job["rules"]] == ["false", "true"]
    script = job["script"][0]
    for tag in ("$CI_COMMIT_SHA", "$CI_COMMIT_TAG", "$CI_COMMIT_REF_SLUG", "latest"):
        assert tag in script
    assert "--secret id=ca_bundle,src=$BUILD_CA_BUNDLE" in script


def cache_dirs(project: Path) -> list[Path]:
    return sorted((project / ".gitlab-ci-local" / "cache").glob("*uv*"))


@pytest.mark.slow
def test_pipeline_runs_twice_and_the_second_run_needs_no_index(render):
    project = commit_all(render(), "generated")
    first = run_pipeline(project)
    (cache,) = cache_dirs(project)
    lock_hash = cache.name.rsplit("-", 1)[1]
    assert cache.name.endswith(f"uv0.13-py3.13-trixie-slim-keep-wheels-{lock_hash}")
    assert (cache / ".uv-cache").is_dir()
    assert "Prepared" in first.stdout  # the cold run downloaded the wheels

    # Warm: every job installs with the index out of reach.
    second = run_pipeline(project, "--variable", "UV_OFFLINE=1")
    assert f"imported cache '{cache.name}'" in second.stdout
    for job in ("uv-cache", "lint", "test"):
        assert f"PASS  {job}" in second.stdout.replace("PASS  test     ", "PASS  test")
    assert "Installed 1 package" in second.stdout  # lint: ruff alone
    assert "9 passed" in second.stdout
    assert cache_dirs(project) == [cache]


@pytest.mark.slow
def test_prune_strategy_keeps_a_tiny_cache_and_downloads_again(render):
    project = commit_all(render(uv_cache_strategy="prune"), "generated")
    run_pipeline(project)
    (cache,) = cache_dirs(project)
    size = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file())
    assert size < 2_000_000, size  # pre-built wheels are gone; only metadata and source builds stay
    second = run_pipeline(project, "--variable", "UV_OFFLINE=1", check=False)
    assert second.returncode != 0
    for job in ("uv-cache", "lint", "test"):
        assert f"{job:<8} >   cause: Network connectivity is disabled" in second.stdout


@pytest.mark.slow
def test_stale_lock_fails_the_cache_job_with_uvs_message(render):
    project = render()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = []", 'dependencies = ["six"]'))
    commit_all(project, "generated")
    proc = run_pipeline(project, check=False)
    assert proc.returncode != 0
    assert "FAIL  uv-cache" in proc.stdout
    assert "uv-cache > error: The lockfile at `uv.lock` needs to be updated, but `--locked` was" in proc.stdout
    assert "uv-cache > hint: To update the lockfile, run `uv lock`." in proc.stdout
