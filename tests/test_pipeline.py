"""The generated GitLab pipeline: valid for GitLab, and run for real by gitlab-ci-local.

Each answer that shapes the pipeline has its own test; expectations come from the
rendered answers and the image functions, never retyped.
"""

from __future__ import annotations

import subprocess

import images
import pytest

from tests.kit import (
    AS_PROTECTED_BRANCH,
    answers_of,
    cache_dirs,
    check_schema,
    commit_all,
    gitlab_ci_local,
    pipeline,
    pipeline_files,
    read_yaml,
    run_pipeline,
)

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
def test_every_pipeline_validates_and_runs_one_image_with_locked_installs(answers, render):
    project = render(tasks=False, **answers)
    check_schema(project)
    ci = pipeline(project)
    recorded = answers_of(project)

    # One image, from the extension, through one variable.
    expected_image = images.ci_image(
        recorded["python_version"],
        recorded["uv_version"],
        recorded["os_flavour"],
        recorded["image_registry"],
        recorded.get("image_mirror", ""),
        recorded["image_digests"],
    )
    assert ci["variables"]["UV_CI_IMAGE"] == expected_image
    assert ci["variables"]["UV_PYTHON"] == recorded["python_version"]
    assert ci["variables"]["UV_PYTHON_DOWNLOADS"] == "never"
    assert ci["variables"]["UV_CACHE_DIR"] == ".uv-cache"
    assert ci[".uv"]["image"] == "$UV_CI_IMAGE"

    for name in ("uv-cache", "lint", "test"):
        job_script = ci[name]["script"]
        syncs = [line for line in job_script if line.startswith("uv sync")]
        assert syncs, name
        assert all("--locked" in line for line in syncs), name
        assert all("|| uv sync" not in line and "--frozen" not in line for line in job_script)
    assert ci[".uv"]["interruptible"] is True
    assert ci[".uv"]["needs"] == []
    rules = ci["workflow"]["rules"]
    assert {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"} in rules


def test_jobs_install_only_their_group_and_report_to_gitlab(render):
    ci = pipeline(render(tasks=False))
    assert "--only-group lint" in ci["lint"]["script"][0]
    assert "--group test" in ci["test"]["script"][0]
    assert ci["lint"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    reports = ci["test"]["artifacts"]["reports"]
    assert reports["junit"] == "junit.xml"
    assert reports["coverage_report"] == {"coverage_format": "cobertura", "path": "coverage.xml"}
    assert ci["test"]["coverage"].startswith("/TOTAL")


@pytest.mark.parametrize("strategy", ["keep-wheels", "prune"])
def test_cache_key_names_everything_that_makes_a_cache_incompatible(strategy, render):
    project = render(tasks=False, uv_cache_strategy=strategy)
    recorded = answers_of(project)
    ci = pipeline(project)
    cache = ci[".uv"]["cache"]
    assert cache["key"]["files"] == ["uv.lock"]
    prefix = cache["key"]["prefix"]
    assert all(part in prefix for part in ("${UV_PYTHON}", recorded["uv_version"], recorded["os_flavour"], strategy))
    assert cache["paths"] == [".uv-cache/"]
    assert cache["policy"] == "pull"
    assert ci["uv-cache"]["cache"] == {**cache, "policy": "pull-push"}
    # prune: only wheels built from source stay, removed after the job and before the save.
    assert ("after_script" in ci["uv-cache"]) is (strategy == "prune")


@pytest.mark.parametrize("shared", [True, False])
def test_merge_requests_read_but_never_write_the_protected_cache(shared, render):
    ci = pipeline(render(tasks=False, ci_share_cache_with_merge_requests=shared))
    assert ci[".uv"]["cache"].get("unprotect", False) is shared
    # Sharing: only protected refs write the cache. Apart: every pipeline writes its own.
    assert ("CI_COMMIT_REF_PROTECTED" in str(ci["uv-cache"]["rules"])) is shared


@pytest.mark.parametrize("matrix", [True, False])
def test_python_matrix_tests_every_newer_python_on_its_own_image(matrix, render):
    project = render(tasks=False, python_version="3.11", ci_python_matrix=matrix)
    ci = pipeline(project)
    if not matrix:
        assert ".python-matrix" not in ci
        assert ci["test"]["extends"] == ".uv"
        return
    recorded = answers_of(project)
    entries = ci[".python-matrix"]["parallel"]["matrix"]
    expected = images.image_refs(recorded["python_version"], recorded["uv_version"], recorded["os_flavour"])["matrix"]
    assert {entry["UV_PYTHON"]: entry["UV_CI_IMAGE"] for entry in entries} == expected
    assert list(expected) == list(images.SUPPORTED_PYTHONS[images.SUPPORTED_PYTHONS.index("3.11") :])
    assert ci["test"]["extends"] == [".uv", ".python-matrix"]
    assert ci["lint"]["extends"] == ".uv"
    listed = subprocess.run(
        [gitlab_ci_local(), "--list", *AS_PROTECTED_BRANCH],
        cwd=commit_all(project, "generated"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sum(f"test: [{version}" in line for line in listed.splitlines() for version in expected) == len(expected)


def test_team_pipeline_only_includes_the_template_entry_point(render):
    project = render(tasks=False)
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


def test_drift_job_warns_on_schedules_and_the_default_branch(render):
    job = pipeline(render(tasks=False))["template-drift"]
    assert job["allow_failure"] is True
    assert job["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule"'},
        {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"},
    ]
    assert job["script"][-1].endswith("python .gitlab/ci/template_drift.py")


def test_image_job_tags_and_pushes_only_outside_merge_requests(render):
    job = pipeline(render(tasks=False))["docker-image"]
    assert job["image"] == "$BUILDER_IMAGE"
    assert job["variables"]["BUILDER_IMAGE"] == images.BUILDER_IMAGE
    assert {"STORAGE_DRIVER": "vfs", "BUILDAH_ISOLATION": "chroot"}.items() <= job["variables"].items()
    assert [rule["variables"]["PUSH_IMAGE"] for rule in job["rules"]] == ["false", "true"]
    script = job["script"][0]
    for tag in ("$CI_COMMIT_SHA", "$CI_COMMIT_TAG", "$CI_COMMIT_REF_SLUG", "latest"):
        assert tag in script
    assert "--secret id=ca_bundle,src=$BUILD_CA_BUNDLE" in script


@pytest.mark.slow
def test_pipeline_runs_twice_and_the_second_run_needs_no_index(render):
    project = commit_all(render(), "generated")
    first = run_pipeline(project)
    (cache,) = cache_dirs(project)
    lock_hash = cache.name.rsplit("-", 1)[1]
    recorded = answers_of(project)
    prefix = "uv{uv_version}-py{python_version}-{os_flavour}-{uv_cache_strategy}".format(**recorded)
    assert cache.name.endswith(f"{prefix}-{lock_hash}")
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
