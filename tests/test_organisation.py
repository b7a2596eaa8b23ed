"""The organisation kit: a private index consumed and published over HTTPS with a private CA
and credentials from the environment only, runner tags, and organisation defaults.

The index is real: pypiserver (every action needs a password) behind TLS from a throwaway
CA (trustme), on loopback, holding ``payments-core``, an internal package built here.
Its pipelines run with each job's own uv cache (``uv_cache="job"``), empty in a new project:
these tests are about where packages come from, which the run's warm cache would hide.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tests.kit import (
    DISTRIBUTION,
    OFFLINE,
    PACKAGE,
    ancestors,
    answers_of,
    check_schema,
    commit_all,
    copier_cli,
    edit,
    git,
    gitlab_ci_local,
    keys_anywhere,
    note_release,
    pipeline,
    read_toml,
    read_yaml,
    render_with,
    run,
    run_failing,
    run_pipeline,
    snapshot_template,
    template_jobs,
)
from tests.servers import (
    PASSWORD,
    RELEASING_JOB,
    SYSTEM_BUNDLE,
    USER,
    Index,
    publish,
    serving_index,
    serving_releases,
)


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Iterator[Index]:
    root = tmp_path_factory.mktemp("index")
    with serving_index(root / "server") as found:
        publish(found, root, "payments-core", "0.1.0")
        yield found


def organisation(index: Index, *packages: str) -> dict[str, object]:
    return {
        "package_index_url": index.url,
        "package_index_packages": list(packages),
        "package_index_auth": "ci-variables",
        "ci_runner_tags": ["org-docker"],
    }


@pytest.fixture(scope="module")
def internal_project(index, template_repo, copie_session) -> Path:
    """A generated project that depends on the internal package, committed."""
    answers = organisation(index, "payments-core")
    project = render_with(copie_session, template_repo, answers, index.env())
    run(["uv", "add", "--quiet", "payments-core"], project, index.env())
    tests = project / "tests" / "test_internal.py"
    tests.write_text(
        "from payments_core import currency\n\n\ndef test_currency() -> None:\n    assert currency() == 'EUR'\n"
    )
    run(["uv", "run", "--locked", "ruff", "format", "tests"], project, index.env())
    return commit_all(project, "depends on payments-core")


def test_a_project_installs_an_internal_package_and_each_setting_is_what_makes_it_work(
    index, internal_project, tmp_path
):
    project = internal_project
    lock = (project / "uv.lock").read_text()
    assert f'source = {{ registry = "{index.url}" }}' in lock  # the index URL, and no credential
    assert PASSWORD not in lock
    assert USER not in lock

    # From an empty cache: without the CA, uv refuses the certificate; without the credentials,
    # the index answers 401. With both, the project is green.
    no_ca = run_failing(["uv", "sync", "--locked"], project, index.env(ca=False, cache=tmp_path / "c1"))
    assert "certificate" in no_ca.lower(), no_ca
    no_credentials = run_failing(
        ["uv", "sync", "--locked"], project, index.env(credentials=False, cache=tmp_path / "c2")
    )
    assert "401" in no_credentials, no_credentials
    env = index.env(cache=tmp_path / "c3")
    for command in (
        ["uv", "sync", "--locked"],
        ["uv", "run", "--locked", "ruff", "check", "."],
        ["uv", "run", "--locked", "ruff", "format", "--check", "."],
        ["uv", "run", "--locked", "pytest"],
        ["uv", "lock", "--check"],
    ):
        run(command, project, env)


def ci_variables(index: Index) -> list[str]:
    """What a platform team sets as CI/CD variables: masked credentials and the CA_BUNDLE file."""
    values = {"UV_INDEX_INTERNAL_USERNAME": USER, "UV_INDEX_INTERNAL_PASSWORD": PASSWORD, "CA_BUNDLE": index.ca_bundle}
    return [arg for name, value in values.items() for arg in ("--variable", f"{name}={value}")]


@pytest.mark.slow
def test_the_pipeline_installs_from_the_index_and_a_tag_publishes_the_package(
    index, internal_project, render, tmp_path
):
    project = internal_project
    # The jobs start with the machine's CAs only (SSL_CERT_FILE): CA_BUNDLE is what lets them in.
    job_env_ca = os.environ["SSL_CERT_FILE"]
    assert Path(job_env_ca) == SYSTEM_BUNDLE
    without_ca = run_pipeline(project, *ci_variables(index)[:4], check=False, uv_cache="job")  # no CA_BUNDLE
    assert without_ca.returncode != 0
    assert "certificate" in without_ca.stdout.lower()
    logs = [without_ca.stdout, run_pipeline(project, *ci_variables(index), uv_cache="job").stdout]

    # Releases publish from protected tags only: any other tag lists no release job.
    assert "release" not in run([gitlab_ci_local(), "--list", "--variable", "CI_COMMIT_TAG=v0.1.0"], project)
    mismatch = run_pipeline(
        project,
        *ci_variables(index),
        "--variable",
        "CI_COMMIT_TAG=v9.9.9",
        jobs=["release"],
        check=False,
        uv_cache="job",
    )
    assert mismatch.returncode != 0
    assert "The tag v9.9.9 does not match the version 0.1.0 in pyproject.toml" in mismatch.stdout
    assert "with 'uv version X.Y.Z'" in mismatch.stdout  # no command made of the tag's text
    logs.append(mismatch.stdout)

    with serving_releases(tmp_path / "gitlab") as (gitlab, job):
        tag = [*ci_variables(index), *job, "--variable", "CI_COMMIT_TAG=v0.1.0"]
        # A tag without its notes publishes nothing: CHANGELOG.md has "## Unreleased" only.
        unnoted = run_pipeline(project, *tag, jobs=["release"], check=False, uv_cache="job")
        assert unnoted.returncode != 0
        assert "CHANGELOG.md has no section '## v0.1.0'. Rename '## Unreleased' to '## v0.1.0'" in unnoted.stdout
        assert not [p for p in index.packages.iterdir() if p.name.startswith(PACKAGE)]
        edit(project / "CHANGELOG.md", "\n## Unreleased\n", "\n## v0.1.0 (2026-12-05)\n")  # a dated one
        commit_all(project, "release v0.1.0")
        shutil.rmtree(project / ".gitlab-ci-local" / "builds")  # a fresh checkout, as a new pipeline's
        released = run_pipeline(project, *tag, jobs=["release"], uv_cache="job")
        logs += [unnoted.stdout, released.stdout]
        (made,) = [r["body"] for r in gitlab.requests() if r["method"] == "POST" and r["path"].endswith("/releases")]
    published = sorted(p.name for p in index.packages.iterdir() if p.name.startswith(PACKAGE))
    assert published == [f"{PACKAGE}-0.1.0-py3-none-any.whl", f"{PACKAGE}-0.1.0.tar.gz"]
    artifacts = project / ".gitlab-ci-local" / "artifacts" / "release" / "dist"
    assert sorted(p.name for p in artifacts.iterdir() if p.name.startswith(PACKAGE)) == published
    # The tag's GitLab release: its notes, and what the job keeps linked.
    assert (made["tag_name"], made["description"]) == ("v0.1.0", "- The project, from copier-uv-gitlab.")
    kept = f"{RELEASING_JOB['CI_PROJECT_URL']}/-/jobs/{RELEASING_JOB['CI_JOB_ID']}/artifacts/raw/dist/"
    assert made["assets"]["links"] == [
        {"name": name, "url": kept + name, "link_type": link_type}
        for name, link_type in [(published[0], "package"), (published[1], "package"), ("sbom.cdx.json", "other")]
    ]

    # Another team's project installs it from the index.
    # payments-core, which it needs too, comes from the index that holds it (asked first).
    consumer = render(env=index.env(), **organisation(index, DISTRIBUTION), project_name="Ledger")
    run(["uv", "add", "--quiet", DISTRIBUTION], consumer, index.env())
    output = run(["uv", "run", "--locked", DISTRIBUTION, "Ada"], consumer, index.env())
    assert "Hello, Ada!" in output.splitlines()

    # The password is in no file of either project, nor in any job log.
    for tree in (project, consumer):
        leaked = [
            p for p in tree.rglob("*") if p.is_file() and not p.is_symlink() and PASSWORD.encode() in p.read_bytes()
        ]
        assert leaked == []
    assert all(PASSWORD not in log for log in logs)


@pytest.mark.slow
def test_a_release_keeps_a_valid_sbom_of_the_locked_runtime_set_beside_the_wheel(index, internal_project, tmp_path):
    # A runtime set with a dependency of a dependency: python-dateutil 2.9.0.post0 (PyPI) needs six.
    project = tmp_path / "project"
    git(tmp_path, "clone", "-q", str(internal_project), str(project))
    run(["uv", "add", "--quiet", "python-dateutil==2.9.0.post0"], project, index.env())
    run(["uv", "add", "--quiet", "--optional", "idn", "idna==3.11"], project, index.env())  # an extra
    run(["uv", "version", "--quiet", "0.2.0"], project, index.env())  # a release of its own
    note_release(project, "0.2.0")
    commit_all(project, "depends on python-dateutil, and idna for an extra; 0.2.0")
    with serving_releases(tmp_path / "gitlab") as (_, job):
        variables = [*ci_variables(index), *job, "--variable", "CI_COMMIT_TAG=v0.2.0"]
        released = run_pipeline(project, *variables, jobs=["release"], uv_cache="job")
    assert "bomFormat" not in released.stdout  # the SBOM is in its file, not in the job log
    assert pipeline(project)["release"]["artifacts"]["expire_in"] == "never"  # kept as long as the release
    sbom = (project / ".gitlab-ci-local" / "artifacts" / "release" / "dist" / "sbom.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(sbom) is None  # CycloneDX 1.5, strictly
    components = {(c["name"], c["version"]) for c in json.loads(sbom)["components"]}
    export = ["uv", "export", "--frozen", "--no-default-groups", "--all-extras", "--no-emit-project", "--no-hashes"]
    runtime = run([*export, "--no-header"], project)
    locked = {tuple(line.split(" ")[0].split("==")) for line in runtime.splitlines() if "==" in line}
    assert {name for name, _ in locked} == {"payments-core", "python-dateutil", "six", "idna"}
    assert locked <= components  # every runtime package, with its locked version
    dev_only = (
        {package["name"] for package in read_toml(project / "uv.lock")["package"]}
        - {name for name, _ in locked}
        - {DISTRIBUTION}
    )
    assert dev_only >= {"pytest", "ruff"}
    assert not {name for name, _ in components} & dev_only


def test_runner_tags_are_on_every_template_job_and_nowhere_without_them(render):
    for tags in (["org-docker", "linux"], []):
        project = render(env=OFFLINE, ci_runner_tags=tags)
        check_schema(project)
        ci = pipeline(project)
        assert {"lint", "test", "docker-image", "template-drift", "template-update", "release"} <= set(
            template_jobs(ci)
        )
        for name in template_jobs(ci):
            found = next((ci[link]["tags"] for link in ancestors(ci, name) if "tags" in ci[link]), [])
            assert found == tags, name
        in_files = {"tags" in keys_anywhere(read_yaml(path)) for path in (project / ".gitlab" / "ci").glob("*.yml")}
        assert (True in in_files) is bool(tags)


def org_answers(index: Index) -> dict[str, object]:
    """What a platform team sets once: its registry, runner tags and index."""
    return {
        "image_registry": "dependency-proxy",
        "ci_runner_tags": ["org-docker"],
        "package_index_url": index.url,
        "package_index_packages": ["payments-core"],
        "package_index_auth": "ci-variables",
    }


def test_organisation_defaults_from_copiers_settings_file_need_no_trust_flag(index, template_repo, tmp_path):
    org = org_answers(index)
    settings = tmp_path / "settings.yml"
    # docs/organisation.md's snippet: defaults for every project, and trust for the template's location.
    settings.write_text(yaml.safe_dump({"defaults": org, "trust": [str(template_repo)]}))
    project = tmp_path / "payments"
    env = {"COPIER_SETTINGS_PATH": str(settings), **index.env()}
    copier_cli("copy", template_repo, project, cwd=tmp_path, env=env, trust=False)  # no --trust
    recorded = answers_of(project)
    assert {key: recorded[key] for key in org} == org
    assert (project / "uv.lock").is_file()  # the copy-time task ran: the template was trusted
    assert read_toml(project / "pyproject.toml")["tool"]["uv"]["sources"] == {"payments-core": {"index": "internal"}}

    # Without the settings file, Copier refuses the same command and asks for --trust.
    untrusted = run_failing(
        [sys.executable, "-m", "copier", "copy", "--defaults", template_repo, tmp_path / "other"],
        tmp_path,
        {"COPIER_SETTINGS_PATH": str(tmp_path / "none.yml")},
    )
    assert "--trust" in untrusted


@pytest.mark.parametrize(
    "spelling",
    [
        "https://127.0.0.1:{port}/simple/",
        "https://127.0.0.1:{port}/simple",  # without the trailing slash
        "https://localhost:{port}/simple/",  # the host by name
        "https://127.0.0.1:{port}/%73imple/",  # a percent-encoded letter
    ],
)
def test_every_accepted_spelling_of_the_index_url_is_the_index_uv_contacts(spelling, index, render, tmp_path):
    """The index is asked for the project's packages (an empty uv cache, so nothing answers
    from it), and pyproject.toml names it as typed. Spellings uv would read as another index
    (an upper-case scheme or host) are refused (tests/test_organisation_rules.py)."""
    url = spelling.format(port=urlsplit(index.url).port)
    index.log.write_text("")
    project = render(env=index.env(cache=tmp_path / "cold"), package_index_url=url, package_index_auth="ci-variables")
    assert (project / "uv.lock").is_file()
    assert read_toml(project / "pyproject.toml")["tool"]["uv"]["index"][0]["url"] == url
    asked = index.log.read_text().splitlines()
    assert any(path.startswith(("/simple/pytest", "/%73imple/pytest")) for path in asked), asked


def test_organisation_defaults_from_a_data_file(index, template_repo, tmp_path):
    org = org_answers(index)
    data_file = tmp_path / "org-answers.yml"
    data_file.write_text(yaml.safe_dump(org))
    project = tmp_path / "payments"
    copier_cli("copy", "--data-file", data_file, template_repo, project, cwd=tmp_path, env=index.env())
    recorded = answers_of(project)
    assert {key: recorded[key] for key in org} == org


@pytest.mark.parametrize("auth", ["gitlab-job-token", "ci-variables", "none"])
def test_ci_authenticates_to_the_index_as_answered_and_writes_no_credential(auth, render):
    url = "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi/simple"
    project = render(env=OFFLINE, package_index_url=url, package_index_auth=auth)
    ci = pipeline(project)
    variables = ci["variables"]
    release = ci["release"]["variables"]
    assert "UV_INDEX_INTERNAL_PASSWORD" not in variables  # never for every job, whatever its host
    if auth == "gitlab-job-token":
        # A group registry takes no uploads: the release goes to this project's registry.
        assert release["UV_PUBLISH_URL"] == "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi"
        assert release["UV_PUBLISH_PASSWORD"] == "$CI_JOB_TOKEN"
    else:
        # Masked CI/CD variables of the same names, which uv reads itself: nothing in the YAML.
        assert "CI_JOB_TOKEN" not in "\n".join(ci[".template-job"]["before_script"])
        assert release["UV_PUBLISH_URL"] == url.removesuffix("/simple")
        assert release["UV_PUBLISH_PASSWORD"] == "$UV_INDEX_INTERNAL_PASSWORD"
    readme = (project / "README.md").read_text()
    assert "UV_INDEX_INTERNAL_PASSWORD" in readme
    assert "CA_BUNDLE" in readme


@pytest.mark.parametrize(
    ("index_host", "server_host", "server_port", "sent"),
    [
        ("gitlab.example.com", "gitlab.example.com", "443", True),
        ("gitlab.example.com", "gitlab.example.com", None, True),
        ("gitlab.example.com:8443", "gitlab.example.com", "8443", True),
        ("gitlab.example.com", "gitlab.other.example", "443", False),
        ("gitlab.example.com", "", None, False),
        # Another service on the GitLab host's name, on another port, is not this GitLab.
        ("gitlab.example.com:8443", "gitlab.example.com", "443", False),
        ("gitlab.example.com", "gitlab.example.com", "8443", False),
    ],
)
def test_the_job_token_goes_only_to_an_index_on_the_gitlab_that_runs_the_job(
    index_host, server_host, server_port, sent, render, tmp_path
):
    """GitLab sets CI_SERVER_HOST and CI_SERVER_PORT to its own host and port (docs.gitlab.com,
    predefined variables): the jobs' shared before_script gives uv the job token only for an index
    on that host and port, and says so otherwise (a fork's copy of the project on another
    instance, another service on the same host)."""
    url = f"https://{index_host}/api/v4/groups/42/-/packages/pypi/simple"
    project = render(env=OFFLINE, package_index_url=url, package_index_auth="gitlab-job-token")
    before = "\n".join(pipeline(project)[".template-job"]["before_script"])
    reader = 'printf "%s|%s" "${UV_INDEX_INTERNAL_USERNAME:-}" "${UV_INDEX_INTERNAL_PASSWORD:-}"'
    env = {"CI_SERVER_HOST": server_host, "CI_JOB_TOKEN": "glcbt-job-token"}
    if server_port is not None:
        env["CI_SERVER_PORT"] = server_port
    result = subprocess.run(
        ["sh", "-c", f"{before}\n{reader}"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    if sent:
        assert (result.stdout, result.stderr) == ("gitlab-ci-token|glcbt-job-token", "")
    else:
        assert result.stdout == "|"
        assert "not on this GitLab" in result.stderr
        assert "the job token is not sent to it" in result.stderr


def test_without_an_index_releases_go_to_the_projects_registry_and_pyproject_names_no_index(render):
    project = render(env=OFFLINE)
    assert "index" not in read_toml(project / "pyproject.toml")["tool"]["uv"]
    release = pipeline(project)["release"]
    assert release["rules"] == [
        {
            "if": '$CI_COMMIT_TAG && $CI_COMMIT_REF_PROTECTED == "true" && $TEMPLATE_AUDIT == "included"',
            "exists": [".gitlab/ci/uv.gitlab-ci.yml"],
        }
    ]
    assert release["variables"]["UV_PUBLISH_USERNAME"] == "gitlab-ci-token"
    assert release["artifacts"]["paths"] == ["dist/"]
    off = render(env=OFFLINE, publish_package=False)
    assert "release" not in pipeline(off)
    assert not (off / ".gitlab" / "ci" / "release.gitlab-ci.yml").exists()


def test_the_image_build_gets_the_index_credentials_as_a_secret_that_survives_any_password(render, tmp_path):
    """The docker job writes the credentials to the uv_env secret file, which the Dockerfile
    sources: a hostile password must arrive as typed, and run nothing."""
    answers = {"package_index_url": "https://x.example.com/simple", "package_index_auth": "ci-variables"}
    project = render(env=OFFLINE, **answers)
    script = pipeline(project)["docker-image"]["script"][0]
    writer = script[script.index('uv_env="$(mktemp)"') : script.index('secrets="$secrets --secret id=uv_env')]
    hostile = 'p\'a $(touch pwned) "q" ;`id` \\ ✓'
    reader = 'set -a; . "$uv_env"; set +a; printf "%s|%s" "$UV_INDEX_INTERNAL_USERNAME" "$UV_INDEX_INTERNAL_PASSWORD"'
    credentials = {"UV_INDEX_INTERNAL_USERNAME": USER, "UV_INDEX_INTERNAL_PASSWORD": hostile}
    out = run(["sh", "-c", f"{writer}\n{reader}"], tmp_path, credentials)
    assert out == f"{USER}|{hostile}"
    assert not (tmp_path / "pwned").exists()
    assert hostile not in (project / ".gitlab" / "ci" / "docker.gitlab-ci.yml").read_text()


def test_organisation_defaults_in_the_forks_copier_yml(index, render, tmp_path):
    fork = snapshot_template(tmp_path / "fork")
    config = fork / "copier.yml"
    text = config.read_text()
    for question, default in (("package_index_url", json.dumps(index.url)), ("ci_runner_tags", "[org-docker]")):
        start = text.index(f"\n{question}:\n")
        old = text.index("\n  default:", start)
        end = text.index("\n", old + 1)
        text = text[:old] + f"\n  default: {default}" + text[end:]
    config.write_text(text)
    commit_all(fork, "our organisation's defaults")
    project = render(template=fork, env=index.env(), package_index_auth="ci-variables")
    recorded = answers_of(project)
    assert (recorded["package_index_url"], recorded["ci_runner_tags"]) == (index.url, ["org-docker"])
    assert (project / "uv.lock").is_file()
    assert pipeline(project)[".template-job"]["tags"] == ["org-docker"]


@pytest.mark.slow
def test_in_replace_mode_no_variable_routes_the_jobs_around_the_organisations_index(render, tmp_path):
    """The organisation's index mirrors PyPI and holds acme-utils 1.0; another index holds a
    higher acme-utils. A CI/CD variable pointing uv at the other one fails every job first."""
    with serving_index(tmp_path / "org", mirror=True) as org, serving_index(tmp_path / "other") as other:
        publish(org, tmp_path, "acme-utils", "1.0.0")
        publish(other, tmp_path / "other", "acme-utils", "99.0.0")
        both_cas = tmp_path / "both-cas.pem"
        both_cas.write_bytes(org.ca_bundle.read_bytes() + other.ca_bundle.read_bytes())
        answers = {"package_index_url": org.url, "package_index_mode": "replace", "package_index_auth": "ci-variables"}
        env = {**org.env(), "SSL_CERT_FILE": str(both_cas)}
        project = render(env=env, **answers)
        run(["uv", "add", "--quiet", "acme-utils"], project, env)
        commit_all(project, "depends on acme-utils")
        secrets = [
            "--variable",
            f"UV_INDEX_INTERNAL_USERNAME={USER}",
            "--variable",
            f"UV_INDEX_INTERNAL_PASSWORD={PASSWORD}",
        ]
        variables = [*secrets, "--variable", f"CA_BUNDLE={both_cas}"]
        other.log.unlink(missing_ok=True)

        for name in ("UV_DEFAULT_INDEX", "UV_INDEX_URL"):
            routed = run_pipeline(project, *variables, "--variable", f"{name}={other.url}", check=False, uv_cache="job")
            assert routed.returncode != 0
            for job in ("lint", "test"):
                message = f"{name} is set to another index than the organisation's ({org.url})"
                assert re.search(rf"{job}\s+> {re.escape(message)}", routed.stdout), job
        assert not other.log.exists()  # not one request reached the other index

        run_pipeline(project, *variables, uv_cache="job")  # the same jobs pass with the organisation's index alone
        assert "acme_utils-1.0.0" in org.log.read_text()
