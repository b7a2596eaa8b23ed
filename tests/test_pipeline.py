"""The generated GitLab pipeline: valid for GitLab, and run for real by gitlab-ci-local.

Each answer that shapes the pipeline has its own test; expectations come from the
rendered answers and the image functions, never retyped. The runs that test the cache (what a
job stores and restores, pruning, who may write it) give each job its own (``uv_cache="job"``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import sys
import zipfile
from pathlib import Path

import images
import pytest
import uv_cache

from benchmarks import cache_archives
from tests.kit import (
    OFFLINE,
    ROOT,
    CommandFailed,
    ancestors,
    answers_of,
    cache_dirs,
    cached_packages,
    check_schema,
    commit_all,
    edit,
    git,
    images_of,
    job_names,
    job_setting,
    keys_anywhere,
    listed_jobs,
    pipeline,
    pipeline_files,
    read_yaml,
    render_with,
    run,
    run_failing,
    run_pipeline,
    template_jobs,
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
    "organisation-job-token": {
        "package_index_url": "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi/simple",
        "package_index_packages": ["payments-core"],
        "ci_runner_tags": ["docker", "linux"],
    },
    "organisation-replace-variables": {
        "package_index_url": "https://nexus.example.com/repository/pypi-all/simple",
        "package_index_mode": "replace",
        "package_index_auth": "ci-variables",
        "publish_package": False,
    },
}


@pytest.fixture(params=ANSWER_SETS.values(), ids=ANSWER_SETS.keys())
def rendered(request, render) -> Path:
    """A project for each answer set that shapes the pipeline (read only)."""
    return render(env=OFFLINE, **request.param)


def test_every_pipeline_validates_against_gitlabs_schema(rendered):
    check_schema(rendered)


def test_the_schema_check_fails_on_a_job_gitlab_would_refuse(render):
    project = render(env=OFFLINE)
    with (project / ".gitlab-ci.yml").open("a") as team_file:
        team_file.write("\nbroken:\n  script: 3\n  when: sometimes\n")
    with pytest.raises(CommandFailed, match=r"(?s)\.gitlab-ci\.yml::\$\.broken.*is not"):
        check_schema(project)


def test_every_template_job_extends_the_shared_base(rendered):
    ci = pipeline(rendered)
    assert {job: ".template-job" in ancestors(ci, job) for job in template_jobs(ci)} == dict.fromkeys(
        template_jobs(ci), True
    )


def test_every_uv_job_runs_the_one_image_the_extension_derives(rendered):
    ci = pipeline(rendered)
    assert ci["variables"]["UV_CI_IMAGE"] == images_of(rendered)["ci"]
    uv_jobs = [job for job in template_jobs(ci) if job != "docker-image"]
    assert {job: job_setting(ci, job, "image") for job in uv_jobs} == dict.fromkeys(uv_jobs, "$UV_CI_IMAGE")


def test_every_install_is_locked(rendered):
    ci = pipeline(rendered)
    lines = [line for job in ("lint", "test") for line in ci[job]["script"]]
    syncs = [line for line in lines if line.startswith("uv sync")]
    assert len(syncs) == 2
    assert all("--locked" in line for line in syncs)
    assert not [line for line in lines if "|| uv sync" in line or "--frozen" in line]


def test_uv_uses_the_images_python_and_keeps_its_cache_in_the_project(rendered):
    variables = pipeline(rendered)["variables"]
    assert variables["UV_PYTHON"] == answers_of(rendered)["python_version"]
    assert (variables["UV_PYTHON_DOWNLOADS"], variables["UV_CACHE_DIR"]) == ("never", ".uv-cache")


def test_a_branch_with_a_merge_request_runs_one_pipeline(rendered):
    rules = pipeline(rendered)["workflow"]["rules"]
    assert {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"} in rules


def test_jobs_install_only_their_group_and_report_to_gitlab(render):
    ci = pipeline(render(env=OFFLINE))
    assert "--only-group lint" in ci["lint"]["script"][0]
    assert "--group test" in ci["test"]["script"][0]
    assert ci["lint"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    reports = ci["test"]["artifacts"]["reports"]
    assert reports["junit"] == "junit.xml"
    assert reports["coverage_report"] == {"coverage_format": "cobertura", "path": "coverage.xml"}
    assert ci["test"]["coverage"].startswith("/TOTAL")


CACHED_JOBS = {"lint": "lint", "test": "test"}  # job -> its UV_CACHE_NAME


@pytest.mark.parametrize("strategy", ["keep-wheels", "prune"])
def test_each_job_has_its_own_cache_named_after_everything_that_makes_it_incompatible(strategy, render):
    project = render(env=OFFLINE, uv_cache_strategy=strategy)
    recorded = answers_of(project)
    ci = pipeline(project)
    assert "uv-cache" not in ci  # each job writes its own cache: no prepare job
    cache = ci[".uv"]["cache"]
    key = cache["key"]  # one a lock change keeps (uv_cache.py keeps the cache to the lock)
    assert isinstance(key, str)
    assert key.startswith("${UV_CACHE_NAME}-")
    for part in ("${UV_PYTHON}", recorded["uv_version"], recorded["os_flavour"], strategy):
        assert part in key
    assert ci[".uv"]["before_script"][-1] == "python3 .gitlab/ci/uv_cache.py"
    assert cache["paths"] == [".uv-cache/"]
    assert cache["policy"] == "$UV_CACHE_POLICY"
    assert ci[".uv"]["variables"]["UV_CACHE_POLICY"] == "pull-push"
    for job, name in CACHED_JOBS.items():
        assert ci[job]["extends"] in (".uv", [".uv", ".python-matrix"])
        assert ci[job]["variables"] == {"UV_CACHE_NAME": name}
    # prune: only wheels built from source stay, removed after the job and before the save.
    assert ("after_script" in ci[".uv"]) is (strategy == "prune")


def test_only_jobs_with_a_cache_set_its_archive_format_and_fastzip(render):
    ci = pipeline(render(env=OFFLINE))
    cached = [job for job in template_jobs(ci) if job_setting(ci, job, "cache")]
    assert sorted(cached) == ["audit", "lint", "secrets", "test"]
    settings = {
        job: {key: (job_setting(ci, job, "variables") or {}).get(key) for key in ARCHIVE_SETTINGS}
        for job in template_jobs(ci)
    }
    assert settings == {job: ARCHIVE_SETTINGS if job in cached else dict.fromkeys(ARCHIVE_SETTINGS) for job in settings}


def test_caches_are_archived_at_the_default_level(render):
    # Restores outnumber uploads: a faster, bigger archive would cost every warm job.
    assert "CACHE_COMPRESSION_LEVEL" not in str(pipeline(render(env=OFFLINE)))


# What the cached jobs set for their archives (docs/caches.md: zipzstd won the benchmark).
ARCHIVE_SETTINGS = {"FF_USE_FASTZIP": "true", "CACHE_COMPRESSION_FORMAT": "zipzstd"}


def all_caches(ci: dict) -> list[tuple[str, dict]]:
    """Every cache any job or template of the pipeline declares."""
    caches = []
    for name, job in ci.items():
        if isinstance(job, dict) and "cache" in job:
            entries = job["cache"] if isinstance(job["cache"], list) else [job["cache"]]
            caches += [(name, entry) for entry in entries]
    return caches


CACHE_ANSWERS = [
    {"uv_cache_strategy": strategy, "ci_python_matrix": matrix, "dockerfile": dockerfile}
    for strategy in ("keep-wheels", "prune")
    for matrix in (False, True)
    for dockerfile in (False, True)
]


@pytest.mark.parametrize("answers", CACHE_ANSWERS, ids=lambda a: "-".join(f"{k}={v}" for k, v in a.items()))
def test_by_default_no_unprotected_pipeline_can_write_a_cache_protected_refs_restore(answers, render):
    """GitLab keeps caches of protected and unprotected refs apart unless a cache says
    `unprotect: true` (docs.gitlab.com/ci/yaml/#cacheunprotect): none may say it by default."""
    project = render(env=OFFLINE, **answers)
    assert answers_of(project)["ci_share_cache_with_merge_requests"] is False
    for path in pipeline_files(project):
        assert "unprotect" not in keys_anywhere(read_yaml(path)), path
    caches = all_caches(pipeline(project))
    assert caches, "the pipeline declares no cache"
    for name, cache in caches:
        # The key also says which side it belongs to, so even a runner or emulator that
        # ignored GitLab's separation would keep the template's own jobs apart.
        assert cache["key"].endswith("-protected-${CI_COMMIT_REF_PROTECTED}"), name


@pytest.mark.parametrize("strategy", ["keep-wheels", "prune"])
def test_sharing_is_an_opt_in_that_writes_only_from_protected_refs(strategy, render):
    ci = pipeline(render(env=OFFLINE, ci_share_cache_with_merge_requests=True, uv_cache_strategy=strategy))
    for name, cache in all_caches(ci):
        assert cache["unprotect"] is True, name
        assert "protected-" not in cache["key"], name  # one key for both sides
    assert ci[".uv"]["rules"] == [
        {"if": '$CI_COMMIT_REF_PROTECTED == "true"'},
        {"when": "on_success", "variables": {"UV_CACHE_POLICY": "pull"}},
    ]


@pytest.mark.parametrize("matrix", [True, False])
def test_python_matrix_tests_every_newer_python_on_its_own_image(matrix, render):
    project = render(env=OFFLINE, python_version="3.11", ci_python_matrix=matrix)
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
    listed = listed_jobs(commit_all(project, "generated"))
    assert sum(f"test: [{version}" in line for line in listed.splitlines() for version in expected) == len(expected)


def included_only_if_present(path: str) -> dict:
    """An include GitLab skips when its file is gone, instead of refusing the whole pipeline."""
    return {"local": path, "rules": [{"exists": [path]}]}


def test_the_team_pipeline_includes_the_template_entry_point_alone(render):
    team = read_yaml(render(env=OFFLINE) / ".gitlab-ci.yml")
    assert team == {"include": [included_only_if_present(".gitlab/ci/template.gitlab-ci.yml")]}


# The files whose jobs extend `.uv` (uv.gitlab-ci.yml's hidden job): included by that file.
BUILT_ON_UV = {"audit.gitlab-ci.yml", "docs.gitlab-ci.yml"}


def test_the_entry_point_includes_every_other_template_pipeline_file_each_only_if_present(render):
    project = render(env=OFFLINE)
    _, *template_files = pipeline_files(project)
    entry = read_yaml(project / ".gitlab" / "ci" / "template.gitlab-ci.yml")["include"]
    beside_uv = read_yaml(project / ".gitlab" / "ci" / "uv.gitlab-ci.yml")["include"]
    assert sorted(entry + beside_uv, key=lambda entry: entry["local"]) == [
        included_only_if_present(f".gitlab/ci/{p.name}")
        for p in sorted(template_files)
        if p.name != "template.gitlab-ci.yml"
    ]
    assert {Path(include["local"]).name for include in beside_uv} == BUILT_ON_UV
    ci = pipeline(project)
    for name in BUILT_ON_UV:
        keys = read_yaml(project / ".gitlab" / "ci" / name)
        jobs = [job for job in keys if not job.startswith(".") and job not in {"variables", "include", "workflow"}]
        assert jobs, name
        assert all(".uv" in ancestors(ci, job) for job in jobs), name


# The rule of gates (extensions/files.py, gate_jobs): every job of these stages checks, and every
# job of those publishes (a package, an image, the site) only after each check has passed.
GATE_STAGES, SHIPPING_STAGES = {"lint", "test"}, {"build", "deploy"}


@pytest.mark.parametrize("docs", [True, False], ids=["docs", "no-docs"])
@pytest.mark.parametrize(
    ("dockerfile", "publish_package"), [(True, True), (False, False), (True, False), (False, True)]
)
def test_every_job_that_ships_waits_for_every_gate_of_its_render(render, dockerfile, publish_package, docs):
    """Listed from the render, not from the template's list: a gate job added later, or a job
    that ships, is held to the rule without a word here."""
    ci = pipeline(render(env=OFFLINE, dockerfile=dockerfile, publish_package=publish_package, docs=docs))
    jobs = {name: job for name, job in ci.items() if isinstance(job, dict) and job.get("stage") and name[0] != "."}
    gates = {name for name, job in jobs.items() if job["stage"] in GATE_STAGES}
    shipping = {name for name, job in jobs.items() if job["stage"] in SHIPPING_STAGES}
    assert {"lint", "secrets", "test", "audit"} <= gates
    made = {"docker-image": dockerfile, "release": publish_package, "pages": docs}
    assert shipping == {name for name, made_here in made.items() if made_here}
    for name in shipping:
        needs = {need["job"] for need in jobs[name]["needs"] if need["optional"] and not need["artifacts"]}
        own_build = {"docs"} if name == "pages" else set()  # pages builds the site itself, strictly
        assert needs == gates - own_build, name


def test_a_deleted_job_file_leaves_the_pipeline_loading_and_nothing_ships_without_its_gates(render):
    project = commit_all(render(env=OFFLINE, publish_package=True), "generated")
    for job in ("docker-image", "release"):
        settings = pipeline(project)[job]
        assert all(rule["exists"] == [".gitlab/ci/uv.gitlab-ci.yml"] for rule in settings["rules"])
    on_a_tag = ("--variable", "CI_COMMIT_TAG=v0.1.0")
    assert {"lint", "test", "audit", "docker-image", "release"} <= job_names(listed_jobs(project, *on_a_tag))
    # The file of `.uv` deleted alone: every job built on it goes with it, and nothing ships.
    git(project, "rm", "-q", ".gitlab/ci/uv.gitlab-ci.yml")
    commit_all(project, "the team deleted the file of lint and test, and kept the audit's and the site's")
    listed = job_names(listed_jobs(project, *on_a_tag)) | job_names(listed_jobs(project))
    assert not {"lint", "test", "audit", "docs", "pages", "docker-image", "release"} & listed
    assert "template-drift" in listed
    git(project, "checkout", "-q", "HEAD~1", "--", ".gitlab/ci/uv.gitlab-ci.yml")
    commit_all(project, "restored")
    git(project, "rm", "-q", ".gitlab/ci/audit.gitlab-ci.yml")
    commit_all(project, "the team deleted the audit's file")
    listed = job_names(listed_jobs(project, *on_a_tag))
    assert {"lint", "test"} <= listed
    assert not {"audit", "docker-image", "release"} & listed
    git(project, "rm", "-q", ".gitlab/ci/uv.gitlab-ci.yml")
    commit_all(project, "the team deleted the file of lint and test")
    assert not {"lint", "test", "docker-image", "release"} & job_names(listed_jobs(project, *on_a_tag))
    assert "template-drift" in job_names(listed_jobs(project, "--variable", "CI_PIPELINE_SOURCE=schedule"))


def test_drift_job_warns_on_schedules_and_the_default_branch(render):
    job = pipeline(render(env=OFFLINE))["template-drift"]
    assert job["allow_failure"] is True
    assert job["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule"'},
        {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"},
    ]
    assert job["script"][-1].endswith("python .gitlab/ci/template_sync.py drift")


def test_image_job_tags_and_pushes_only_outside_merge_requests(render):
    job = pipeline(render(env=OFFLINE))["docker-image"]
    assert job["image"] == "$BUILDER_IMAGE"
    assert job["variables"]["BUILDER_IMAGE"] == images.BUILDER_IMAGE
    assert {"STORAGE_DRIVER": "vfs", "BUILDAH_ISOLATION": "chroot"}.items() <= job["variables"].items()
    assert [rule["variables"]["PUSH_IMAGE"] for rule in job["rules"]] == ["false", "true"]
    script = job["script"][0]
    for tag in ("$CI_COMMIT_SHA", "$CI_COMMIT_TAG", "$CI_COMMIT_REF_SLUG", "latest"):
        assert tag in script
    # The one CA_BUNDLE File variable every template job uses.
    assert "--secret id=ca_bundle,src=$CA_BUNDLE" in script


def cache_key(project, job: str, *, protected: bool = True) -> str:
    """The key gitlab-ci-local gives ``job``'s cache, from the recorded answers."""
    recorded = answers_of(project)
    prefix = "{job}-uv{uv_version}-py{python_version}-{os_flavour}-{uv_cache_strategy}".format(job=job, **recorded)
    if not recorded["ci_share_cache_with_merge_requests"]:
        prefix += f"-protected-{str(protected).lower()}"
    return prefix


@pytest.fixture(scope="module")
def cold_run(copie_session, template_repo) -> tuple[Path, str]:
    """A default project after its first pipeline (lint and test, each with its own cache, cold),
    and that run's log: made once for the tests of what the first run stores, each of which
    copies it before it runs anything more."""
    project = commit_all(render_with(copie_session, template_repo), "generated")
    return project, run_pipeline(project, uv_cache="job").stdout


def copy_of(project: Path, folder: Path) -> Path:
    """``project`` with the caches gitlab-ci-local stored, not the job folders it makes again."""
    copy = folder / project.name
    shutil.copytree(project, copy, symlinks=True, ignore=shutil.ignore_patterns("builds"))
    return copy


@pytest.mark.slow
def test_first_run_fills_each_jobs_cache_and_the_second_restores_it_with_no_index(cold_run, tmp_path):
    project, first = copy_of(cold_run[0], tmp_path), cold_run[1]
    assert "Prepared" in first  # the cold run downloaded the wheels
    caches = cache_dirs(project)
    assert set(caches) == {cache_key(project, job) for job in CACHED_JOBS}
    lint_cache, test_cache = (caches[cache_key(project, job)] for job in CACHED_JOBS)
    # lint's cache holds the lint group alone; test's no lint tool.
    assert cached_packages(lint_cache) == {"ruff"}
    assert "pytest" in cached_packages(test_cache)
    assert "ruff" not in cached_packages(test_cache)

    # Warm: each job restores its own cache (by key) and installs with the index out of reach.
    second = run_pipeline(project, "--variable", "UV_OFFLINE=1", uv_cache="job")
    for job in CACHED_JOBS:
        assert re.search(rf"{job}\s+imported cache '{cache_key(project, job)}'", second.stdout)
        assert re.search(rf"PASS\s+{job}\b", second.stdout), job
    assert re.search(r"lint\s+> Installed 1 package ", second.stdout)  # ruff alone
    assert "9 passed" in second.stdout
    assert cache_dirs(project) == caches


@pytest.mark.slow
def test_a_lock_change_restores_each_jobs_cache_and_fetches_only_what_changed(cold_run, tmp_path):
    """A new dependency (as `uv add`, or Renovate's weekly lock change): each job restores the
    cache the last lock left under the same key; test fetches the new package (and builds the
    project), lint fetches nothing, its group unchanged."""
    project = copy_of(cold_run[0], tmp_path)
    lint_cache = cache_dirs(project)[cache_key(project, "lint")]

    def files() -> dict[Path, bytes]:
        """The cache's files, but uv's probe of the interpreter: it is filed by the interpreter's
        path, which the copy of the project moved."""
        return {
            path.relative_to(lint_cache): path.read_bytes()
            for path in lint_cache.rglob("*")
            if path.is_file() and not path.relative_to(lint_cache).parts[1].startswith("interpreter-v")
        }

    lint_before = files()
    run(["uv", "add", "--quiet", "idna==3.10"], project)
    commit_all(project, "depends on idna")
    changed = run_pipeline(project, uv_cache="job").stdout
    # lint's packages did not move: its cache, the record in it included, is what it was, so
    # the runner does not upload it again.
    assert files() == lint_before
    for job in CACHED_JOBS:
        assert re.search(rf"{job}\s+imported cache '{cache_key(project, job)}'", changed), job
    assert not re.search(r"^lint\s+> (Prepared|Downloading)", changed, re.MULTILINE), changed
    assert re.search(r"^test\s+> Prepared 2 packages ", changed, re.MULTILINE), changed  # idna, the project
    assert "idna" in cached_packages(cache_dirs(project)[cache_key(project, "test")])


def wheel(folder: Path, name: str, version: str, size: int) -> None:
    """A pure-Python wheel of ``name`` holding ``size`` random bytes (incompressible, so the
    cache's size is the wheels'), with a RECORD installers check."""
    package, dist = name.replace("-", "_"), f"{name.replace('-', '_')}-{version}"
    files = {
        f"{package}/__init__.py": b"",
        f"{package}/blob.bin": os.urandom(size),
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    digest = {
        path: base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        for path, data in files.items()
    }
    record = "".join(f"{path},sha256={digest[path]},{len(data)}\n" for path, data in files.items())
    files[f"{dist}.dist-info/RECORD"] = (record + f"{dist}.dist-info/RECORD,,\n").encode()
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)


def cache_size(cache: Path) -> int:
    return sum(path.stat().st_size for path in cache.rglob("*") if path.is_file())


@pytest.mark.fast
def test_what_the_cache_forgets_is_what_the_lock_dropped_or_moved():
    lock = (
        'version = 1\n\n[[package]]\nname = "app"\nversion = "0.2.0"\nsource = { virtual = "." }\n\n'
        '[[package]]\nname = "idna"\nversion = "3.11"\nsource = { registry = "https://pypi.org/simple" }\n'
    )
    now = uv_cache.locked(lock)
    assert now == {"app": "0.2.0", "idna": "3.11"}
    kept = {"app": "0.1.0", "idna": "3.11", "six": "1.17.0"}
    assert uv_cache.stale(kept, now) == ["app", "six"]  # moved, dropped; idna stays cached
    assert uv_cache.stale({}, now) == []  # a cache from before the script: nothing known to remove


@pytest.mark.fast
def test_a_cache_is_cleaned_and_its_record_rewritten_only_when_a_package_it_holds_moved(tmp_path, monkeypatch):
    """uv_cache.py's decision, in-process: lint's cache (ruff, filed under PyPI's bucket) after
    a runtime dependency moves, then after ruff moves; a test cache whose package came from
    another index (filed under the index's hash)."""
    cleaned: list[list[str]] = []
    monkeypatch.setattr(uv_cache.subprocess, "run", lambda command, check: cleaned.append(command[3:]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UV_CACHE_DIR", ".uv-cache")
    cache = tmp_path / ".uv-cache"
    (cache / "wheels-v8" / "pypi" / "ruff").mkdir(parents=True)
    (cache / "wheels-v8" / "index" / "9f2c41aa07b1d3e5" / "acme-utils").mkdir(parents=True)

    def lock(**versions: str) -> None:
        (tmp_path / "uv.lock").write_text(
            "".join(f'[[package]]\nname = "{name}"\nversion = "{v}"\n\n' for name, v in versions.items())
        )

    lock(ruff="0.15.0", numpy="2.5.4", **{"acme-utils": "1.0.0"})
    assert uv_cache.main() == 0  # no record yet: one is written, nothing is removed
    record = cache / uv_cache.RECORD
    first = record.read_bytes()
    assert uv_cache.held(cache) >= {"ruff", "acme-utils"}
    lock(ruff="0.15.0", numpy="2.5.5", **{"acme-utils": "1.0.0"})  # numpy: not in this cache
    assert uv_cache.main() == 0
    assert (cleaned, record.read_bytes()) == ([], first)  # nothing removed, nothing rewritten
    lock(ruff="0.15.1", numpy="2.5.5", **{"acme-utils": "1.0.0"})
    uv_cache.main()
    assert cleaned == [["ruff"]]
    assert json.loads(record.read_text())["ruff"] == "0.15.1"
    lock(ruff="0.15.1", numpy="2.5.5")  # acme-utils dropped
    uv_cache.main()
    assert cleaned[-1] == ["acme-utils"]


def test_ten_lock_changes_leave_each_jobs_cache_the_size_of_a_fresh_one(tmp_path):
    """The jobs' way with their caches (uv_cache.py, then the job's locked install), over ten
    lock changes: bumps, a new dependency, a dropped one, a lint tool's bump. Each job's cache
    stays within 1.2 times a fresh cache for the last lock; without uv_cache.py it holds every
    version it ever installed."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    script = ROOT / "template" / ".gitlab" / "ci" / "uv_cache.py"
    groups = {"lint": ["--only-group", "lint"], "test": ["--no-default-groups", "--group", "test"]}
    caches = {job: project / f".uv-cache-{job}" for job in groups}  # in the project, as GitLab keeps it
    locks = [
        {"runtime": {"numbers": 1, "tables": 1}, "lint": 1},
        *({"runtime": {"numbers": bump, "tables": 1}, "lint": 1} for bump in range(2, 6)),
        {"runtime": {"numbers": 5, "tables": 1, "plots": 1}, "lint": 1},  # a new dependency
        {"runtime": {"numbers": 6, "plots": 1}, "lint": 1},  # one dropped
        {"runtime": {"numbers": 6, "plots": 2}, "lint": 2},  # the lint tool bumped
        {"runtime": {"numbers": 7, "plots": 2}, "lint": 2},
        {"runtime": {"numbers": 8, "plots": 3}, "lint": 2},
        {"runtime": {"numbers": 9, "plots": 3}, "lint": 3},
    ]
    for number, lock in enumerate(locks):
        for name, version in [*lock["runtime"].items(), ("linter", lock["lint"])]:
            if not (wheels / f"{name}-{version}-py3-none-any.whl").exists():
                wheel(wheels, name, str(version), 500_000)
        dependencies = ", ".join(f'"{name}=={version}"' for name, version in lock["runtime"].items())
        (project / "pyproject.toml").write_text(
            f'[project]\nname = "app"\nversion = "0.{number}.0"\nrequires-python = ">=3.11"\n'
            f"dependencies = [{dependencies}]\n\n"
            f'[dependency-groups]\nlint = ["linter=={lock["lint"]}"]\ntest = ["numbers"]\n\n'
            f'[tool.uv]\npackage = false\n\n[[tool.uv.index]]\nname = "local"\nurl = "{wheels}"\nformat = "flat"\n'
            "default = true\n"
        )
        run(["uv", "lock", "--quiet", "--offline"], project, {"UV_CACHE_DIR": str(tmp_path / "lock-cache")})
        for job, group in groups.items():
            env = {"UV_CACHE_DIR": str(caches[job]), "UV_PROJECT_ENVIRONMENT": str(tmp_path / f"venv-{job}")}
            run([sys.executable, str(script)], project, env)
            run(["uv", "sync", "--locked", "--offline", "--quiet", *group], project, env)
    for job, group in groups.items():
        fresh = tmp_path / f"fresh-{job}"
        env = {"UV_CACHE_DIR": str(fresh), "UV_PROJECT_ENVIRONMENT": str(tmp_path / f"fresh-venv-{job}")}
        run(["uv", "sync", "--locked", "--offline", "--quiet", *group], project, env)
        assert cache_size(caches[job]) <= 1.2 * cache_size(fresh), (job, cache_size(caches[job]), cache_size(fresh))
    kept = {path.name for path in caches["test"].glob("wheels-v*/**/*") if path.name in {"numbers", "plots", "tables"}}
    assert kept == {"numbers", "plots"}  # tables is gone
    # A cache outside the project (a runner's, shared with others running now) is not the job's.
    shared = tmp_path / "runner-cache"
    run([sys.executable, str(script)], project, {"UV_CACHE_DIR": str(shared)})
    assert not (shared / uv_cache.RECORD).exists()
    # No lock at all: uv's own message, in the job's install, says so; the script says nothing.
    (project / "uv.lock").unlink()
    assert run([sys.executable, str(script)], project, {"UV_CACHE_DIR": str(caches["test"])}) == ""


@pytest.mark.slow
def test_a_cache_restored_from_the_chosen_archive_format_installs_with_no_index(cold_run, tmp_path):
    """The test job's cache, archived and extracted as the runner does for the format the
    template sets (a zip container of zstd frames), installs the job's environment offline."""
    project = cold_run[0]
    prefix = cache_key(project, "test")
    (cache,) = (folder for key, folder in cache_dirs(project).items() if key.startswith(prefix))
    chosen = pipeline(project)[".uv"]["variables"]["CACHE_COMPRESSION_FORMAT"]
    fmt = next(f for f in cache_archives.FORMATS if f.name == chosen)
    archive = tmp_path / "cache.zip"
    cache_archives.write(cache / ".uv-cache", archive, fmt, threads=2)
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(project), str(checkout))
    cache_archives.extract(archive, checkout / ".uv-cache", fmt, threads=2)
    env = {"UV_CACHE_DIR": str(checkout / ".uv-cache"), "UV_OFFLINE": "1"}
    run(["uv", "sync", "--locked", "--offline", "--no-default-groups", "--group", "test"], checkout, env)
    run(["uv", "run", "--no-sync", "pytest", "-q", "--no-cov"], checkout, env)


@pytest.mark.slow
def test_prune_strategy_keeps_a_tiny_cache_and_downloads_again(render, tmp_path):
    """What a prune job leaves for GitLab to archive: each cached job's install in a cache of its
    own, then the jobs' after_script, run here as the job runs them. Not in gitlab-ci-local: it
    syncs the work tree again before after_script and drops the untracked cache folder there, so
    the size would hold whatever the script did."""
    project = render(uv_cache_strategy="prune")
    ci = pipeline(project)
    assert [line.split("#")[0].strip() for line in ci[".uv"]["after_script"]] == ["uv cache prune --ci"]
    for job in CACHED_JOBS:
        install = next(line for line in ci[job]["script"] if line.startswith("uv sync"))
        env = {"UV_CACHE_DIR": str(tmp_path / job / "uv-cache"), "UV_PROJECT_ENVIRONMENT": str(tmp_path / job / "venv")}
        run(["sh", "-c", install], project, env)
        for line in ci[job].get("after_script", ci[".uv"]["after_script"]):
            run(["sh", "-c", line], project, env)
        cache = tmp_path / job / "uv-cache"
        size = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file())
        assert size < 2_000_000, (job, size)  # pre-built wheels are gone; metadata and source builds stay
        # The next job with this cache downloads every pre-built wheel again.
        again = {**env, "UV_OFFLINE": "1", "UV_PROJECT_ENVIRONMENT": str(tmp_path / job / "next-venv")}
        assert "Network connectivity is disabled" in run_failing(["sh", "-c", install], project, again)


@pytest.mark.slow
def test_stale_lock_fails_every_job_with_uvs_message(render):
    project = render()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = []", 'dependencies = ["six"]'))
    commit_all(project, "generated")
    proc = run_pipeline(project, check=False, uv_cache="job")
    assert proc.returncode != 0
    for job in CACHED_JOBS:
        assert re.search(rf"FAIL\s+{job}\b", proc.stdout), job
        assert re.search(
            rf"{job}\s+> error: The lockfile at `uv.lock` needs to be updated, but `--locked` was", proc.stdout
        ), job
    assert not cache_dirs(project)  # a failed job saves no cache


POISON_JOBS = """
# An unprotected branch's pipeline, written by someone who can push but not merge: it
# plants a file in the uv cache path of every job that uses the template's cache.
poison:
  stage: test
  image: $UV_CI_IMAGE
  needs: []
  variables:
    UV_CACHE_NAME: test
    UV_CACHE_POLICY: pull-push
  cache: !reference [.uv, cache]
  script:
    - mkdir -p .uv-cache && echo planted > .uv-cache/MARKER

# What a protected pipeline's test job restores.
inspect:
  extends: .uv
  stage: test
  variables:
    UV_CACHE_NAME: test
    UV_CACHE_POLICY: pull
  script:
    - if [ -e .uv-cache/MARKER ]; then echo "restored a planted file"; exit 1; fi
    - echo "restored cache is clean"
"""


@pytest.mark.slow
def test_an_unprotected_pipeline_cannot_plant_files_in_a_protected_cache(render):
    """Protected, then unprotected with a hostile pull-push job, then protected again.

    gitlab-ci-local keeps one cache folder per key and knows nothing of GitLab's separation
    of protected and unprotected caches. What this proves is the template's own structure:
    an unprotected pipeline's jobs, even ones reusing the template's cache definition with
    pull-push, compute another key than protected pipelines restore. A job that writes the
    protected key by name is stopped by GitLab itself, because no cache is `unprotect: true`
    (test_by_default_no_unprotected_pipeline_can_write_a_cache_protected_refs_restore).
    """
    project = render()
    with (project / ".gitlab-ci.yml").open("a") as team_ci:
        team_ci.write(POISON_JOBS)
    commit_all(project, "generated, with a hostile job")

    run_pipeline(project, jobs=["test"], uv_cache="job")  # main fills its cache
    run_pipeline(project, jobs=["poison"], protected=False, uv_cache="job")  # a branch plants a file
    caches = cache_dirs(project)
    planted = [key for key, folder in caches.items() if (folder / ".uv-cache" / "MARKER").exists()]
    assert planted == [key for key in caches if key.startswith(cache_key(project, "test", protected=False))]

    after = run_pipeline(project, jobs=["inspect"], uv_cache="job")  # main again
    assert "restored cache is clean" in after.stdout
    protected = [key for key in caches if key.startswith(cache_key(project, "test"))]
    assert protected
    assert re.search(rf"imported cache '{protected[0]}'", after.stdout)
    assert not (caches[protected[0]] / ".uv-cache" / "MARKER").exists()


@pytest.mark.slow
def test_a_teams_own_ruff_settings_never_turn_the_template_owned_python_red(render):
    project = render()
    pyproject = project / "pyproject.toml"
    edit(pyproject, "line-length = 100", "line-length = 120")
    edit(pyproject, "[tool.ruff.lint]\n", '[tool.ruff.lint]\nextend-select = ["C90", "PIE", "ARG"]\n')
    with pyproject.open("a") as settings:
        settings.write("\n[tool.ruff.lint.mccabe]\nmax-complexity = 4\n")
    commit_all(project, "our own ruff settings")
    # The team's settings would fail the template's script (complexity, and the formatter
    # joining lines at 120); its own configuration file shields it.
    shield = project / ".gitlab" / "ci" / "ruff.toml"
    unshielded = shield.read_text()
    shield.unlink()
    assert "C901" in run_failing(["uv", "run", "--locked", "ruff", "check", "."], project)
    shield.write_text(unshielded)
    run_pipeline(project)
