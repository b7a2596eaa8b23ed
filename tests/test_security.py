"""What a security team asks of every generated project, run for real: the dependency audit
against a vulnerability service on loopback (tests/osv_server.py), the type checker, and the
git hooks (prek, the hooks' runner, from this repository's dev group). The SBOM of a release
is checked with the release itself, in tests/test_organisation.py.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import random
import re
import shutil
import string
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import jinja2
import pytest

from tests.kit import (
    OFFLINE,
    PACKAGE,
    ROOT,
    TYPE_CHECKS,
    answers_of,
    check_green,
    check_schema,
    commit_all,
    edit,
    git,
    gitlab_ci_local,
    green_environment,
    job_names,
    listed_jobs,
    note_release,
    pipeline,
    read_toml,
    run,
    run_failing,
    run_pipeline,
    tool,
)
from tests.servers import PASSWORD, USER, Osv, serving_index, serving_osv, serving_releases

ADVISORY = {
    "id": "PYSEC-2099-1",
    "modified": "2026-11-01T00:00:00Z",
    "summary": "idna decodes a crafted label for ever",
    "affected": [
        {
            "package": {"name": "idna", "ecosystem": "PyPI"},
            "versions": ["3.10"],
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.11"}]}],
        }
    ],
    "references": [{"type": "ADVISORY", "url": "https://osv.example.com/PYSEC-2099-1"}],
}


@pytest.fixture
def osv(tmp_path) -> Iterator[Osv]:
    with serving_osv(tmp_path / "osv", [ADVISORY]) as service:
        yield service


@pytest.fixture
def audited(render, osv) -> Path:
    """A project asking the loopback service, with idna 3.10 (which the advisory affects) locked."""
    project = render(vulnerability_service_url=osv.url)
    run(["uv", "add", "--quiet", "idna==3.10"], project)
    return commit_all(project, "depends on idna 3.10")


def run_job(project: Path, job: str, *args: str) -> tuple[bool, str]:
    """Run ``job`` in a fresh checkout; return whether it passed, and its log."""
    shutil.rmtree(project / ".gitlab-ci-local" / "builds", ignore_errors=True)
    proc = run_pipeline(project, *args, jobs=[job], check=False)
    return proc.returncode == 0, proc.stdout


def place(finding: dict) -> tuple[str, int]:
    """A Code Quality finding's file and line (GitLab takes ``lines`` or ``positions``).

    ty writes paths relative to ``CI_PROJECT_DIR``: GitLab's is the checkout, gitlab-ci-local's
    is ``/builds/...`` while its job runs elsewhere, so the path is read from the job's folder.
    """
    location = finding["location"]
    line = location["lines"]["begin"] if "lines" in location else location["positions"]["begin"]["line"]
    return location["path"].rpartition(".gitlab-ci-local/builds/test/")[2], line


def report(project: Path, job: str, name: str) -> list[dict]:
    """A Code Quality report the job wrote in its checkout."""
    return json.loads((project / ".gitlab-ci-local" / "builds" / job / name).read_text())


# ---------------------------------------------------------------- dependency audit


def test_the_audit_fails_naming_the_package_the_advisory_and_the_fix(audited):
    passed, log = run_job(audited, "audit")
    assert not passed
    assert re.search(r"audit\s+> uv\.lock:\d+: major: idna 3\.10: PYSEC-2099-1 \(.+\); fixed in: 3\.11\.", log), log


def test_the_audit_report_lists_the_advisory_with_a_stable_fingerprint(audited):
    run_job(audited, "audit")
    first = report(audited, "audit", "gl-code-quality-audit.json")
    run_job(audited, "audit")
    (entry,) = report(audited, "audit", "gl-code-quality-audit.json")
    assert first == [entry]
    assert entry["check_name"] == "uv-audit"
    assert entry["location"]["path"] == "uv.lock"
    key = "\x1f".join(["uv-audit", "uv.lock", "idna", "PYSEC-2099-1"])
    assert entry["fingerprint"] == hashlib.sha256(key.encode()).hexdigest()


def test_an_ignore_in_pyproject_with_its_reason_passes_the_audit(audited):
    with (audited / "pyproject.toml").open("a") as pyproject:
        pyproject.write(
            '\n[tool.uv.audit]\nignore = [\n    "PYSEC-2099-1",  # only reachable through a codec we never call\n]\n'
        )
    commit_all(audited, "ignore PYSEC-2099-1, with the reason")
    passed, log = run_job(audited, "audit")
    assert passed, log


def test_an_upgrade_past_the_fix_passes_the_audit(audited):
    run(["uv", "add", "--quiet", "idna==3.11"], audited)
    commit_all(audited, "idna 3.11 fixes PYSEC-2099-1")
    passed, log = run_job(audited, "audit")
    assert passed, log
    assert report(audited, "audit", "gl-code-quality-audit.json") == []


def test_an_unreachable_service_fails_the_audit_naming_it(audited, osv):
    osv.stop()
    passed, log = run_job(audited, "audit")
    assert not passed
    assert f"uv audit could not query {osv.url}" in log


def test_the_audit_runs_wherever_something_ships_and_in_merge_requests_that_change_the_lock(audited, tmp_path):
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(audited, "remote", "add", "origin", str(origin))
    git(audited, "push", "-q", "origin", "main")
    git(audited, "fetch", "-q", "origin")

    def listed(*variables: str) -> bool:
        args = [arg for variable in variables for arg in ("--variable", variable)]
        return bool(re.search(r"^audit\s", run([gitlab_ci_local(), "--list", *args], audited), re.MULTILINE))

    assert listed("CI_PIPELINE_SOURCE=schedule")
    assert listed()  # a push to main: its image is `latest`
    assert listed("CI_COMMIT_TAG=v0.1.0")  # a release
    git(audited, "switch", "-q", "-c", "feature")
    assert listed()  # a push to another branch pushes that branch's image
    (audited / "src" / "payment_service" / "extra.py").write_text('"""More code."""\n')
    commit_all(audited, "code only")
    assert not listed("CI_PIPELINE_SOURCE=merge_request_event")
    run(["uv", "add", "--quiet", "idna==3.11"], audited)
    commit_all(audited, "a new lock")
    assert listed("CI_PIPELINE_SOURCE=merge_request_event")


def advisory(number: int, package: str, version: str, **rating: object) -> dict:
    """An OSV record for ``package`` at ``version``, rated as ``rating`` says (OSV's fields)."""
    return {
        **ADVISORY,
        "id": f"PYSEC-2099-{number}",
        "affected": [{"package": {"name": package, "ecosystem": "PyPI"}, "versions": [version]}],
        **rating,
    }


# Each advisory's rating, and the Code Quality level it must be given.
RATINGS = {
    10: ({"database_specific": {"severity": "LOW"}}, "minor"),
    11: ({"database_specific": {"severity": "MODERATE"}}, "major"),
    12: ({"database_specific": {"severity": "HIGH"}}, "critical"),
    13: ({"database_specific": {"severity": "CRITICAL"}}, "blocker"),
    14: ({"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}, "blocker"),
    15: ({"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"}]}, "minor"),
    16: ({}, "major"),  # no rating: neither dismissed nor the worst
}


def test_each_finding_is_rated_as_its_advisory_rates_it_and_identical_ones_stay_apart(audited, osv):
    records = [advisory(number, "idna", "3.10", **rating) for number, (rating, _) in RATINGS.items()]
    osv.advisories.write_text(json.dumps(records), encoding="utf-8")
    passed, log = run_job(audited, "audit")
    assert not passed, log
    found = {
        entry["description"].split(": ")[1].split(" ")[0]: entry
        for entry in report(audited, "audit", "gl-code-quality-audit.json")
    }
    assert {advisory_id: entry["severity"] for advisory_id, entry in found.items()} == {
        f"PYSEC-2099-{number}": level for number, (_, level) in RATINGS.items()
    }
    assert "CVSS 9.8" in found["PYSEC-2099-14"]["description"]
    assert "CVSS 1.8" in found["PYSEC-2099-15"]["description"]
    assert len({entry["fingerprint"] for entry in found.values()}) == len(RATINGS)


def test_a_development_tools_finding_is_reported_and_blocks_only_when_the_organisation_says_so(audited, osv):
    pytest_version = next(
        package["version"] for package in read_toml(audited / "uv.lock")["package"] if package["name"] == "pytest"
    )
    osv.advisories.write_text(json.dumps([advisory(20, "pytest", pytest_version)]), encoding="utf-8")
    passed, log = run_job(audited, "audit")
    assert passed, log
    (entry,) = report(audited, "audit", "gl-code-quality-audit.json")
    assert entry["description"].startswith(f"pytest {pytest_version}: PYSEC-2099-20")
    assert "A development tool: reported, not blocking (AUDIT_BLOCKS=all blocks)." in entry["description"]
    passed, log = run_job(audited, "audit", "--variable", "AUDIT_BLOCKS=all")
    assert not passed, log


@pytest.mark.slow
def test_a_release_tag_with_a_flagged_runtime_dependency_ships_nothing_until_the_finding_is_ignored(audited, tmp_path):
    note_release(audited, "0.1.0")
    commit_all(audited, "release 0.1.0")
    with serving_index(tmp_path / "registry") as registry, serving_releases(tmp_path / "gitlab") as (_, job):
        tag = ["CI_COMMIT_TAG=v0.1.0", f"UV_PUBLISH_URL={registry.upload}", f"UV_PUBLISH_USERNAME={USER}"]
        tag += [f"UV_PUBLISH_PASSWORD={PASSWORD}", f"CA_BUNDLE={registry.ca_bundle}"]
        variables = [*(arg for variable in tag for arg in ("--variable", variable)), *job]
        listed = listed_jobs(audited, *variables)
        assert {"audit", "docker-image", "release"} <= job_names(listed)
        blocked = run_pipeline(audited, *variables, "--needs", jobs=["release"], check=False)
        assert blocked.returncode != 0
        assert re.search(r"^audit\s+> .*PYSEC-2099-1", blocked.stdout, re.MULTILINE), blocked.stdout
        assert not re.search(r"^release\s+>", blocked.stdout, re.MULTILINE), blocked.stdout
        assert list(registry.packages.iterdir()) == []

        with (audited / "pyproject.toml").open("a") as pyproject:
            pyproject.write(
                '\n[tool.uv.audit]\nignore = ["PYSEC-2099-1"]  # only reachable through a codec we never call\n'
            )
        commit_all(audited, "ignore PYSEC-2099-1, with the reason")
        shutil.rmtree(audited / ".gitlab-ci-local" / "builds", ignore_errors=True)
        released = run_pipeline(audited, *variables, "--needs", jobs=["release"])
        assert re.search(r"^release\s+>", released.stdout, re.MULTILINE), released.stdout
        assert sorted(path.name for path in registry.packages.iterdir()) == [
            f"{PACKAGE}-0.1.0-py3-none-any.whl",
            f"{PACKAGE}-0.1.0.tar.gz",
        ]
    # The image push waits for the same gate.
    needs = {need["job"] for need in pipeline(audited)["docker-image"]["needs"]}
    assert "audit" in needs


def converter(type_checker: str, folder: Path) -> ModuleType:
    """.gitlab/ci/code_quality.py as a project with ``type_checker`` gets it, imported."""
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )  # copier.yml's _envops
    source = (ROOT / "template" / ".gitlab" / "ci" / "code_quality.py.jinja").read_text(encoding="utf-8")
    path = folder / "code_quality.py"
    path.write_text(env.from_string(source).render(type_checker=type_checker), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("code_quality", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.fast
def test_identical_type_errors_in_one_file_keep_fingerprints_of_their_own(tmp_path):
    error = {"file": "src/a.py", "line": 3, "message": 'Name "x" is not defined', "code": "name-defined"}
    errors = [error, {**error, "line": 9}, {**error, "file": "src/b.py"}]
    (tmp_path / "mypy.jsonl").write_text("".join(json.dumps(e) + "\n" for e in errors))
    module = converter("mypy", tmp_path)
    assert module.main(["mypy", str(tmp_path / "mypy.jsonl"), str(tmp_path / "report.json")]) == 0
    first, second, other = json.loads((tmp_path / "report.json").read_text())
    assert len({first["fingerprint"], second["fingerprint"], other["fingerprint"]}) == 3
    # The first of them keeps the fingerprint it had before (GitLab still knows it).
    key = "\x1f".join(["mypy/name-defined", "src/a.py", 'Name "x" is not defined'])
    assert first["fingerprint"] == hashlib.sha256(key.encode()).hexdigest()


@pytest.mark.fast
@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", None),
        ("CVSS:3.1/AV:N", None),
    ],
)
def test_cvss3_base_scores_are_firsts(vector, score, tmp_path):
    """Scores from FIRST's CVSS v3.1 calculator (first.org/cvss/calculator/3.1); v4 and broken
    vectors give none (the record's label, or `major`, rates those)."""
    assert converter("none", tmp_path).cvss3_base_score(vector) == score


# ---------------------------------------------------------------- type checking

TYPE_ERROR_TEST = """def test_a_number_is_a_number() -> None:
    count: int = "three"
    assert count
"""


@pytest.mark.parametrize("checker", ["mypy", "ty"])
def test_a_fresh_project_passes_its_type_checker(checker, render):
    check_green(render(type_checker=checker))


@pytest.mark.parametrize("checker", ["mypy", "ty"])
def test_a_type_error_fails_the_test_job_and_reaches_the_code_quality_report(checker, render):
    project = render(type_checker=checker)
    (project / "tests" / "test_types.py").write_text(TYPE_ERROR_TEST)
    commit_all(project, "a type error the tests do not see")
    passed, log = run_job(project, "test")
    assert not passed, log
    assert "1 failed" not in log  # pytest passed: the type checker failed the job
    places = [place(finding) for finding in report(project, "test", "gl-code-quality-types.json")]
    assert places == [("tests/test_types.py", 2)]


def test_the_suites_shared_mypy_cache_never_hides_a_type_error(render):
    # tests/kit.py gives the green checks of a test process one mypy cache: a clean project warms
    # it with modules of the same names, and the next project's error is still found in it.
    clean, broken = render(), render()
    check_green(clean)
    init = broken / "src" / PACKAGE / "__init__.py"
    init.write_text(init.read_text() + '\nanswer: int = "forty-two"\n')
    out = run_failing(TYPE_CHECKS["mypy"], broken, green_environment(answers_of(broken)["python_version"]))
    assert f"src/{PACKAGE}/__init__.py" in out
    assert "Incompatible types in assignment" in out


def test_no_type_checker_leaves_no_trace(render):
    project = render(type_checker="none")
    pyproject = read_toml(project / "pyproject.toml")
    assert "types" not in pyproject["dependency-groups"]
    assert not {"mypy", "ty"} & set(pyproject["tool"])
    assert not {"mypy", "ty"} & {package["name"] for package in read_toml(project / "uv.lock")["package"]}
    test_job = pipeline(project)["test"]
    assert not [line for line in test_job["script"] if "mypy" in line or "ty check" in line]
    assert "codequality" not in test_job["artifacts"]["reports"]


@pytest.mark.parametrize("checker", ["mypy", "ty", "none"])
@pytest.mark.parametrize("service", ["", "https://osv.example.com"])
def test_every_combination_of_the_security_answers_gives_a_valid_pipeline(checker, service, render):
    check_schema(render(env=OFFLINE, type_checker=checker, vulnerability_service_url=service))


# ---------------------------------------------------------------- git hooks


@pytest.fixture
def hooked(render) -> Path:
    """A fresh project in its own git repository, as a developer clones it."""
    project = render()
    return commit_all(project, "generated")


def hooks(project: Path, *args: str) -> list[str]:
    return [str(tool("prek")), "run", *args]


def test_the_hooks_pass_on_a_fresh_project(hooked):
    run(hooks(hooked, "--all-files"), hooked)


def test_the_hooks_refuse_a_staged_conflict_marker(hooked):
    (hooked / "notes.txt").write_text("<<<<<<< ours\none\n=======\ntwo\n>>>>>>> theirs\n")
    git(hooked, "add", "notes.txt")
    assert re.search(r"no conflict markers\.+Failed", run_failing(hooks(hooked), hooked))


def test_the_hooks_refuse_a_private_key(hooked):
    (hooked / "deploy_key").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n")
    git(hooked, "add", "deploy_key")
    assert re.search(r"no private keys\.+Failed", run_failing(hooks(hooked), hooked))


def test_a_stale_lock_fails_its_own_hook_and_the_others_still_run(hooked):
    edit(hooked / "pyproject.toml", "dependencies = []", 'dependencies = ["idna>=3"]')  # not locked
    git(hooked, "add", "pyproject.toml")
    output = run_failing(hooks(hooked, "--all-files"), hooked)
    assert re.search(r"uv\.lock matches pyproject\.toml\.+Failed", output), output
    for other in ("ruff format", "ruff check", "no conflict markers", "no private keys", "no large files"):
        assert re.search(rf"{other}\.+Passed", output), (other, output)


# ---------------------------------------------------------------- secrets, by kind and by value

ALNUM = string.ascii_letters + string.digits
TOKEN = ALNUM + "_-"
B64 = ALNUM + "+/"


def fake(alphabet: str, size: int) -> str:
    """Random characters: a secret made when the test runs (none is committed as a literal)."""
    return "".join(random.choice(alphabet) for _ in range(size))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt() -> str:
    header, claims = b64url(b'{"alg":"HS256","typ":"JWT"}'), b64url(json.dumps({"sub": fake(ALNUM, 12)}).encode())
    return f"{header}.{claims}.{b64url(fake(ALNUM, 32).encode())}"


def notebook(code: str) -> str:
    """A Jupyter notebook whose one cell holds ``code`` (its quotes JSON-escaped, as saved)."""
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": [code]}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def secret_corpus() -> dict[str, tuple[str, int, str]]:
    """A file per kind, made now: its text, the secret's line, the kind the scanner names (the
    site's table (docs/security.md) lists each beside its gitleaks rule)."""
    python = '"""Settings."""\n\n{} = "{}"\n'
    kinds = {
        "GitLab personal access token": ("glpat-", TOKEN, 20),
        "GitLab deploy token": ("gldt-", TOKEN, 20),
        "GitLab runner authentication token": ("glrt-", TOKEN, 20),
        "GitLab CI/CD job token": ("glcbt-64_", TOKEN, 20),
        "GitLab pipeline trigger token": ("glptt-", "0123456789abcdef", 40),
        "GitLab feed token": ("glft-", TOKEN, 20),
        "GitLab incoming mail token": ("glimt-", TOKEN, 25),
        "GitLab agent for Kubernetes token": ("glagent-", TOKEN, 50),
        "GitLab SCIM token": ("glsoat-", TOKEN, 20),
        "GitLab OAuth application secret": ("gloas-", TOKEN, 64),
        "GitLab feature flag client token": ("glffct-", TOKEN, 20),
        "GitLab runner registration token": ("GR1348941", TOKEN, 20),
        "PyPI upload token": ("pypi-AgEIcHlwaS5vcmc", TOKEN, 60),
        "npm access token": ("npm_", string.ascii_lowercase + string.digits, 36),
        "GitHub personal access token": ("ghp_", ALNUM, 36),
        "GitHub fine-grained token": ("github_pat_", ALNUM + "_", 82),
        "GitHub OAuth token": ("gho_", ALNUM, 36),
        "GitHub app token": ("ghs_", ALNUM, 36),
        "GitHub refresh token": ("ghr_", ALNUM, 36),
        "Google Cloud API key": ("AIza", TOKEN, 35),
        "AWS Access Key": ("AKIA", string.ascii_uppercase + "234567", 16),
    }
    corpus = {
        f"config/{index:02d}.py": (python.format("TOKEN", prefix + fake(alphabet, size)), 3, kind)
        for index, (kind, (prefix, alphabet, size)) in enumerate(kinds.items())
    }
    openai = f"sk-proj-{fake(TOKEN, 74)}T3BlbkFJ{fake(TOKEN, 74)}"
    cell = notebook(f'client = OpenAI(api_key="{openai}")\n')
    digits, hexadecimal = string.digits, "0123456789abcdef"
    slack_user = f"xoxp-{fake(digits, 11)}-{fake(digits, 11)}-{fake(digits, 12)}-{fake(hexadecimal, 32)}"
    slack_app = f"xapp-1-A{fake(string.ascii_uppercase + digits, 10)}-{fake(digits, 13)}-{fake(hexadecimal, 64)}"
    cell_line = next(number for number, line in enumerate(cell.splitlines(), 1) if openai in line)
    corpus |= {
        "notebooks/explore.ipynb": (cell, cell_line, "OpenAI API key"),
        "ai/anthropic.py": (python.format("KEY", f"sk-ant-api03-{fake(TOKEN, 93)}AA"), 3, "Anthropic API key"),
        "ai/admin.py": (python.format("KEY", f"sk-ant-admin01-{fake(TOKEN, 93)}AA"), 3, "Anthropic admin key"),
        "ai/hub.py": (python.format("HF", f"hf_{fake(string.ascii_letters, 34)}"), 3, "Hugging Face access token"),
        "chat/bot.yml": (
            f"slack:\n  bot: xoxb-{fake(string.digits, 12)}-{fake(string.digits, 13)}-{fake(ALNUM, 24)}\n",
            2,
            "Slack bot token",
        ),
        "chat/user.yml": (f"user: {slack_user}\n", 1, "Slack user token"),
        "chat/app.toml": (f'token = "{slack_app}"\n', 1, "Slack app token"),
        "chat/hook.txt": (
            f"https://hooks.slack.com/services/T{fake(ALNUM, 10)}/B{fake(ALNUM, 10)}/{fake(ALNUM, 24)}\n",
            1,
            "Slack webhook URL",
        ),
        "billing.py": (
            f'import os\n\nKEY = os.environ.get("STRIPE_KEY", "sk_live_{fake(ALNUM, 24)}")\n',
            3,
            "Stripe secret key",
        ),
        "azure.env.example": (
            f"AZURE_CLIENT_SECRET={fake(ALNUM, 3)}8Q~{fake(ALNUM + '_~.-', 34)}\n",
            1,
            "Azure AD client secret",
        ),
        "azure/storage.txt": (
            f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={fake(B64, 86)}==\n",
            1,
            "Azure Storage Account access key",
        ),
        "deploy/id_rsa": (
            f"-----BEGIN RSA PRIVATE KEY-----\n{fake(B64, 64)}\n-----END RSA PRIVATE KEY-----\n",
            1,
            "Private Key",
        ),
        "deploy/session.txt": (f"Authorization: Bearer {jwt()}\n", 1, "JSON Web Token"),
        "deploy/database.ini": (
            f"[db]\nurl = postgres://app:{fake(ALNUM, 16)}@db.example.com/app\n",
            2,
            "Basic Auth Credentials",
        ),
        "deploy/signing.py": (python.format("SIGNING", fake(B64, 48)), 3, "Base64 High Entropy String"),
    }
    return corpus


def plant(project: Path, corpus: dict[str, tuple[str, int, str]]) -> None:
    for name, (text, _, _) in corpus.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    git(project, "add", *corpus)


def scan(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The secrets job's own command (``.gitlab/ci/secret_scan.py``), in the project's environment."""
    command = ["uv", "run", "--frozen", "python", ".gitlab/ci/secret_scan.py", *args]
    return subprocess.run(
        command, cwd=project, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
    )


def test_each_kind_of_secret_fails_the_hook_and_the_job_naming_it(hooked):
    passed, log = run_job(hooked, "secrets")
    assert passed, log
    assert report(hooked, "secrets", "gl-code-quality-secrets.json") == []
    corpus = secret_corpus()
    assert len({kind for _, _, kind in corpus.values()}) >= 30
    plant(hooked, corpus)
    output = run_failing(hooks(hooked, "secrets"), hooked)  # the secrets hook alone: ruff shows code
    assert re.search(r"no secrets\.+Failed", output), output
    for name, (_, line, kind) in corpus.items():
        assert f"{name}:{line}: {kind}:" in output, (name, kind)
    for text, _, _ in corpus.values():  # the value is never shown
        assert not [line for line in text.splitlines() if len(line) > 20 and line.strip() in output]

    commit_all(hooked, "secrets, by mistake")
    passed, log = run_job(hooked, "secrets")
    assert not passed, log
    found = {(place(entry), entry["check_name"]) for entry in report(hooked, "secrets", "gl-code-quality-secrets.json")}
    assert found == {((name, line), f"secrets/{kind}") for name, (_, line, kind) in corpus.items()}


def test_a_secret_added_and_removed_within_one_push_fails_the_job_naming_its_commit(hooked):
    before = git(hooked, "rev-parse", "HEAD").strip()  # a file name git would quote, read as it is
    token = "glpat-" + fake(TOKEN, 20)
    (hooked / "déploy.sh").write_text(f"curl -H 'PRIVATE-TOKEN: {token}' https://gitlab.example.com/api/v4/user\n")
    commit_all(hooked, "deploy script")
    added = git(hooked, "rev-parse", "HEAD").strip()
    (hooked / "déploy.sh").write_text('curl -H "PRIVATE-TOKEN: $DEPLOY_TOKEN" https://gitlab.example.com/api/v4/user\n')
    commit_all(hooked, "the token from a CI/CD variable")
    assert not scan(hooked, "files", "déploy.sh").returncode  # the file as it is holds none
    passed, log = run_job(hooked, "secrets", "--variable", f"CI_COMMIT_BEFORE_SHA={before}")
    assert not passed, log
    assert f"déploy.sh:1: GitLab personal access token (added in {added[:12]}, removed since): revoke it" in log
    assert token not in log
    # A fixture, not a secret: accepted as that commit held it, the same range passes.
    assert scan(hooked, "accept", "déploy.sh", "--commit", added[:12]).returncode == 0
    assert scan(hooked, "pipeline", env={"CI_COMMIT_BEFORE_SHA": before}).returncode == 0


def test_the_baseline_accepts_one_value_not_its_kind(hooked):
    accepted_token, second = "glpat-" + fake(TOKEN, 20), "glpat-" + fake(TOKEN, 20)
    fixture = hooked / "tests" / "fixture_tokens.py"
    fixture.write_text(f'"""Tokens the tests send to a fake GitLab."""\n\nACCEPTED = "{accepted_token}"\n')
    assert scan(hooked, "files", "tests/fixture_tokens.py").returncode == 1
    # Accepted before it was ever added to git (an untracked file).
    # One finding, or two when the random token is also entropic enough for the generic detector.
    assert re.fullmatch(
        r"\.secrets\.baseline: [12] accepted findings\n", scan(hooked, "accept", "tests/fixture_tokens.py").stdout
    )
    assert scan(hooked, "files", "tests/fixture_tokens.py").returncode == 0
    with fixture.open("a") as text:
        text.write(f'SECOND = "{second}"\n')
    refused = scan(hooked, "files", "tests/fixture_tokens.py")
    assert refused.returncode == 1
    assert refused.stdout.splitlines() == [
        "tests/fixture_tokens.py:4: GitLab personal access token: remove it and revoke it, or, if it is no "
        "secret, accept it with `python .gitlab/ci/secret_scan.py accept tests/fixture_tokens.py`"
    ]
    # The job too, on the push that brings both: the accepted one passes, the second fails.
    before = git(hooked, "rev-parse", "HEAD").strip()
    commit_all(hooked, "tokens for the fake GitLab")
    job = scan(hooked, "pipeline", env={"CI_COMMIT_BEFORE_SHA": before})
    assert job.returncode == 1
    assert [line.split(" (added in")[0] for line in job.stdout.splitlines()[1:]] == [
        "tests/fixture_tokens.py:4: GitLab personal access token"
    ]


def test_a_dotenv_file_is_never_committed(hooked):
    for name in (".env", ".env.production", "prod.env", ".env.example"):
        (hooked / name).write_text("DATABASE_URL=\n")
    ignored = git(hooked, "status", "--porcelain", "--ignored", "--untracked-files=all")
    assert {line[3:] for line in ignored.splitlines() if line.startswith("!!")} >= {
        ".env",
        ".env.production",
        "prod.env",
    }
    assert "?? .env.example" in ignored


@pytest.mark.slow
def test_a_tag_with_a_committed_secret_ships_nothing(render, osv):
    project = render(vulnerability_service_url=osv.url)  # nothing the advisory affects: the audit passes
    (project / "release_notes.md").write_text(f"Deployed with {'glpat-' + fake(TOKEN, 20)}\n")
    commit_all(project, "release v0.1.0")
    tag = ("--variable", "CI_COMMIT_TAG=v0.1.0")
    assert {"secrets", "docker-image", "release"} <= job_names(listed_jobs(project, *tag))
    shipped = run_pipeline(project, *tag, "--needs", jobs=["release", "docker-image"], check=False)
    assert shipped.returncode != 0
    for gate in ("lint", "test", "audit"):
        assert re.search(rf"^ PASS  {gate}\b", shipped.stdout, re.MULTILINE), (
            shipped.stdout
        )  # the secret alone holds it
    assert re.search(r"^secrets\s+> release_notes\.md:1: GitLab personal access token", shipped.stdout, re.MULTILINE)
    assert not re.search(r"^(release|docker-image)\s+>", shipped.stdout, re.MULTILINE), shipped.stdout


def test_the_hooks_run_the_tools_uv_lock_holds(hooked):
    run(["uv", "add", "--quiet", "--group", "lint", "ruff==0.17.0"], hooked)
    commit_all(hooked, "hold ruff at 0.17.0")
    run(["uv", "pip", "install", "--quiet", "ruff==0.17.6"], hooked)  # a drifted environment
    run(hooks(hooked, "--all-files"), hooked)
    assert run([hooked / ".venv" / "bin" / "ruff", "--version"], hooked).strip() == "ruff 0.17.0"
