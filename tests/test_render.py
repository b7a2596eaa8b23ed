"""What a render contains: files, derived values, determinism, refusals, hostile text."""

from __future__ import annotations

import filecmp
import html
import tomllib
from pathlib import Path

import identity
import images
import pytest

from tests.kit import (
    BASELINE,
    DEFAULTS,
    DISTRIBUTION,
    OFFLINE,
    PACKAGE,
    ROOT,
    answers_of,
    commit_all,
    compile_each_text_once,
    copier_cli,
    git,
    interpreter,
    read_jsonc,
    read_toml,
    release_template,
    render_with,
    run,
    shipped_files,
    snapshot_template,
)

EXPECTED_FILES = {
    ".copier-answers.yml",
    ".gitignore",
    ".python-version",
    "README.md",
    "pyproject.toml",
    "uv.lock",
    f"src/{PACKAGE}/__init__.py",
    f"src/{PACKAGE}/__main__.py",
    f"src/{PACKAGE}/cli.py",
    f"src/{PACKAGE}/greeting.py",
    f"src/{PACKAGE}/py.typed",
    "tests/test_cli.py",
    "tests/test_greeting.py",
}


def project_files(project: Path) -> set[str]:
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


@pytest.mark.fast
def test_baseline_names_are_what_the_rules_derive():
    assert identity.default_distribution_name(BASELINE["project_name"]) == DISTRIBUTION
    assert identity.default_package_name(DISTRIBUTION) == PACKAGE


@pytest.fixture(scope="module")
def default_project(copie_session, template_repo) -> Path:
    """One default render that the tests below only read."""
    return render_with(copie_session, template_repo)


def test_a_default_render_has_the_project_files_and_no_template_suffix(default_project):
    assert project_files(default_project) >= EXPECTED_FILES
    assert not list(default_project.rglob("*.jinja"))


def test_the_package_metadata_is_the_answers(default_project):
    meta = read_toml(default_project / "pyproject.toml")["project"]
    assert meta["name"] == DISTRIBUTION
    assert meta["description"] == BASELINE["description"]
    assert meta["authors"] == [{"name": BASELINE["author_name"], "email": BASELINE["author_email"]}]
    assert meta["scripts"] == {DISTRIBUTION: f"{PACKAGE}.cli:main"}


def test_the_python_version_is_the_same_everywhere_it_is_named(default_project):
    python = DEFAULTS["python_version"]
    pyproject = read_toml(default_project / "pyproject.toml")
    assert pyproject["project"]["requires-python"] == f">={python}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + python.replace(".", "")
    assert (default_project / ".python-version").read_text() == f"{python}\n"
    assert read_toml(default_project / "uv.lock")["requires-python"] == f">={python}"


def test_the_build_backend_and_uv_follow_the_uv_answer(default_project):
    pyproject = read_toml(default_project / "pyproject.toml")
    uv = DEFAULTS["uv_version"]
    assert pyproject["build-system"] == {"requires": [images.uv_build_requirement(uv)], "build-backend": "uv_build"}
    assert pyproject["tool"]["uv"]["required-version"] == f">={uv}"
    assert pyproject["tool"]["uv"]["build-backend"] == {"module-name": PACKAGE}


def test_ci_installs_only_the_groups_a_job_needs_and_dev_gets_them_all(default_project):
    groups = read_toml(default_project / "pyproject.toml")["dependency-groups"]
    assert [req.split(">")[0] for req in groups["lint"]] == ["ruff"]
    assert {req.split(">")[0] for req in groups["test"]} == {"pytest", "pytest-cov"}
    assert groups["types"] == ["mypy>=2.4,<2.5"]  # the default type checker
    assert [req.split(">")[0] for req in groups["docs"]] == ["zensical", "mkdocstrings-python"]
    assert [group["include-group"] for group in groups["dev"]] == ["lint", "test", "types", "hooks", "docs"]


def test_ruff_and_pytest_are_strict(default_project):
    tools = read_toml(default_project / "pyproject.toml")["tool"]
    assert {"D", "S", "B", "PL", "RUF", "PT"} <= set(tools["ruff"]["lint"]["select"])
    assert {"--import-mode=importlib", "--strict-markers", "--strict-config"} <= set(
        tools["pytest"]["ini_options"]["addopts"]
    )
    assert tools["pytest"]["ini_options"]["filterwarnings"] == ["error"]
    assert tools["coverage"]["report"]["fail_under"] == 90


def test_the_answers_file_records_every_default_and_says_not_to_edit_it(default_project):
    recorded = answers_of(default_project)
    assert {key: recorded[key] for key in DEFAULTS} == DEFAULTS
    header = (default_project / ".copier-answers.yml").read_text().split("_commit")[0]
    assert "Do not edit it by hand" in header


def test_local_state_is_ignored_by_git(default_project):
    gitignore = (default_project / ".gitignore").read_text().splitlines()
    assert {"/.venv/", "/.uv-cache/", "/.gitlab-ci-local/"} <= set(gitignore)


def test_the_readme_gives_the_daily_commands(default_project):
    readme = (default_project / "README.md").read_text()
    assert [command for command in ("uv sync", "uv run pytest", "uv run ruff check") if command not in readme] == []


@pytest.mark.parametrize("version", images.SUPPORTED_PYTHONS)
def test_every_python_version_derives_the_same_version_everywhere(version, render):
    if interpreter(version):
        project = render(python_version=version)
        lock = read_toml(project / "uv.lock")
        assert lock["requires-python"] == f">={version}"
    else:
        # No interpreter here, so no copy-time lock (it needs one): checked statically.
        project = render(python_version=version, env=OFFLINE)
        assert not (project / "uv.lock").exists()
    pyproject = read_toml(project / "pyproject.toml")
    assert (project / ".python-version").read_text().strip() == version
    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")


def assert_same_tree(first: Path, second: Path) -> None:
    def compare(dcmp: filecmp.dircmp) -> None:
        assert (dcmp.left_only, dcmp.right_only, dcmp.funny_files) == ([], [], [])
        _, mismatch, errors = filecmp.cmpfiles(dcmp.left, dcmp.right, dcmp.common_files, shallow=False)
        assert (mismatch, errors) == ([], []), dcmp.left
        for sub in dcmp.subdirs.values():
            compare(sub)

    compare(filecmp.dircmp(first, second))


def test_two_renders_with_the_same_answers_are_identical(render):
    assert_same_tree(render(), render())


OTHER_WAY = {
    "dockerfile": False,
    "publish_package": False,
    "ci_python_matrix": True,
    "type_checker": "ty",
    "renovate": False,
    "uv_cache_strategy": "prune",
    "package_index_url": "https://pypi.example.com/simple",
    "package_index_mode": "replace",
}


@pytest.mark.parametrize("answers", [{}, OTHER_WAY], ids=["defaults", "other-way"])
def test_the_suites_compile_cache_renders_byte_for_byte_what_jinja_does_alone(answers, render):
    """The test processes keep Jinja's compiled texts (tests/kit.py): a render from a warm
    cache writes what a render that compiles every text again writes."""
    render(env=OFFLINE, reuse=False, **answers)  # the cache now holds every text these answers render
    warm = render(env=OFFLINE, reuse=False, **answers)
    compile_each_text_once(enabled=False)
    try:
        alone = render(env=OFFLINE, reuse=False, **answers)
    finally:
        compile_each_text_once()
    assert_same_tree(warm, alone)


def test_where_git_ignores_file_modes_the_suites_copier_still_sets_the_executable_bit_in_the_index(tmp_path):
    """The test processes read core.fileMode once per Copier run (tests/kit.py): in a project
    that sets it to false, an update still gives git's index the template's mode for each file
    it writes, as Copier does (here: a pipeline file someone marked executable in the index)."""
    template = snapshot_template(tmp_path / "template")
    git(template, "tag", "v1.0.0")
    project = tmp_path / "project"
    copier_cli("copy", "--vcs-ref", "v1.0.0", template, project, cwd=tmp_path)
    commit_all(project, "copied from template v1.0.0")
    git(project, "config", "core.fileMode", "false")
    uv_ci = ".gitlab/ci/uv.gitlab-ci.yml"
    git(project, "update-index", "--chmod=+x", uv_ci)
    git(project, "commit", "-q", "-m", "marked executable")
    release_template(template, "v2.0.0", "retry flaky jobs")  # changes the file

    copier_cli("update", "--vcs-ref", "v2.0.0", "--conflict", "rej", cwd=project, data={})
    assert "retry flaky jobs" in (project / uv_ci).read_text()
    assert git(project, "ls-files", "--stage", "--", uv_ci).split()[0] == "100644"


def test_no_path_in_the_template_contains_a_double_quote():
    assert not [path for path in shipped_files("template") if '"' in path.relative_to(ROOT).as_posix()]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"project_name": ""}, "project_name must not be empty (got '')"),
        ({"project_name": "   "}, "project_name must not be empty (got '   ')"),
        ({"project_name": "Two\nLines"}, "project_name must be a single line"),
        ({"project_name": "日本語"}, "distribution_name '' is not a normalised distribution name"),
        ({"distribution_name": "Payment_Service"}, "distribution_name 'Payment_Service'"),
        ({"project_name": "2fast"}, "package_name '2fast' is not a valid Python package name"),
        ({"package_name": "payment-service"}, "package_name 'payment-service' is not a valid"),
        ({"project_name": "class"}, "package_name 'class' is a Python keyword"),
        ({"package_name": "lambda"}, "package_name 'lambda' is a Python keyword"),
        ({"project_name": "json"}, "package_name 'json' is a standard-library module of Python 3.13"),
        ({"author_email": "not-an-email"}, "author_email 'not-an-email' is not an e-mail address"),
        ({"author_email": "a b@example.com"}, "author_email 'a b@example.com'"),
        ({"author_name": ""}, "author_name must not be empty"),
        ({"python_version": "3.9"}, "python_version '3.9' is not one of: 3.10, 3.11, 3.12, 3.13, 3.14"),
        ({"python_version": "3.15"}, "python_version '3.15' is not one of"),
        ({"uv_version": "v0.13"}, "uv_version 'v0.13' is not a uv version"),
        ({"uv_version": "0.13.x"}, "uv_version '0.13.x' is not a uv version"),
        ({"uv_version": "latest"}, "uv_version 'latest' is not a uv version"),
        ({"uv_version": "0.7"}, "uv_version '0.7' is too old"),
        ({"uv_version": "0.99"}, "uv_version '0.99' is not a uv release this template knows; the newest"),
        ({"uv_version": "0.13.99"}, "uv_version '0.13.99' is not a uv release this template knows"),
        ({"distribution_name": "pytest"}, "is a package the project's own tools depend on"),
        ({"distribution_name": "ruff"}, "is a package the project's own tools depend on"),
        ({"package_name": "pytest"}, "package_name 'pytest' is a module the project's own tools install"),
        ({"project_name": "x" * 5000}, "project_name is 5000 characters long; at most 100"),
        ({"project_name": "Payments\u202eecivreS"}, "without control, bidi, zero-width or invisible filler characters"),
        ({"description": "Pays\u202e out"}, "description must be text without control, bidi"),
        ({"author_name": "Zoë\u200b"}, "'\\u200b'"),
        ({"distribution_name": "d" * 65}, "at most 64 keep every generated line within the line length"),
        (
            {"image_registry": "mirror", "image_mirror": "registry.example.com/" + "a" * 5000},
            "is not an image repository prefix of at most 200 characters",
        ),
        ({"package_index_url": "http://pypi.example.com/simple"}, "in cleartext; use https://"),
        (
            {"package_index_url": "https://gitlab.example.com/simple?private_token=glpat-secret"},
            "a token there would be written into the project's files",
        ),
        ({"package_index_url": "https://pypi.example.com/simple\u202e"}, "control, bidi or non-ASCII"),
        (
            {"package_index_url": "https://x.example.com/simple", "package_index_packages": ["core", "core"]},
            "package_index_packages lists 'core' twice",
        ),
        (
            {"package_index_url": "https://x.example.com/simple", "package_index_packages": ["payment-service"]},
            "the project itself",
        ),
        ({"ci_runner_tags": ["docker", "docker"]}, "ci_runner_tags lists 'docker' twice"),
        ({"description": " \n "}, "description must not be empty"),
        (
            {"os_flavour": "bookworm-slim"},
            "No image exists for Python 3.13, uv 0.13 and os_flavour 'bookworm-slim': uv 0.13 is newer "
            "than 0.9.30, the last with that image. Valid os_flavour values here: trixie-slim, trixie, alpine.",
        ),
        ({"python_version": "3.14", "uv_version": "0.8"}, "Valid os_flavour values here: none"),
        ({"os_flavour": "debian"}, "os_flavour 'debian' is unknown; choose one of"),
        ({"image_registry": "quay"}, "image_registry 'quay' is unknown; choose one of"),
        ({"image_registry": "mirror"}, "image_mirror '' is not an image repository prefix"),
        ({"image_registry": "mirror", "image_mirror": "https://hub.example.com"}, "'https://hub.example.com'"),
        ({"image_digests": {"uv": "sha256:abc"}}, "image_digests['uv'] = 'sha256:abc' is not a digest"),
        ({"package_index_url": "https://ci:t0ken@gitlab.example.com/simple"}, "it holds credentials"),
        (
            {"package_index_url": "https://x.example.com/simple", "package_index_mode": "mirror"},
            "package_index_mode 'mirror' is not one of: beside, replace",
        ),
        ({"package_index_url": "https://x.example.com/simple", "package_index_packages": ["Bad Name"]}, "'Bad Name'"),
        ({"ci_runner_tags": "docker"}, "ci_runner_tags 'docker' must be a list"),
        ({"ci_runner_tags": ["a\nb"]}, "ci_runner_tags entry 'a\\nb'"),
    ],
)
def test_bad_answers_are_refused_before_anything_is_written(overrides, message, refusal):
    assert message in refusal(**overrides)


HOSTILE = {
    "project_name": 'O\'Brien "Quotes": #1 \\ Ünïcødé ✓ 😀',
    "description": "First line: \"quoted\" # not a comment\nSecond line \\ with 'single' quotes\n  ✓ 😀",
    "author_name": "Zoë 'Z' O'Hara #2 \\ & co ✓ 😀",  # what package metadata can hold (test_identity.py)
}


def test_hostile_free_text_is_written_exactly_as_typed(render):
    project = render(**HOSTILE)
    run(["uv", "sync", "--locked"], project)  # uv_build accepts the metadata too
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == "o-brien-quotes-1-unicode"
    # Package metadata allows one line only: whitespace runs (newlines) become one space.
    description = " ".join(HOSTILE["description"].split())
    assert pyproject["project"]["description"] == description
    assert pyproject["project"]["authors"][0]["name"] == HOSTILE["author_name"]

    recorded = answers_of(project)
    for key, value in HOSTILE.items():
        assert recorded[key] == value

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {HOSTILE['project_name']}\n\n{HOSTILE['description']}\n")
    # The site's settings (TOML, holding HTML text: Zensical writes them into its pages as they
    # are) and the dev container's (JSON with comments) read them back whole.
    site = tomllib.loads((project / "zensical.toml").read_text(encoding="utf-8"))["project"]
    assert site["site_name"] == html.escape(HOSTILE["project_name"])
    assert (html.unescape(site["site_name"]), html.unescape(site["site_description"])) == (
        HOSTILE["project_name"],
        description,
    )
    assert read_jsonc(project / ".devcontainer" / "devcontainer.json")["name"] == HOSTILE["project_name"]


def test_after_the_copy_the_owner_is_told_the_next_three_steps(template_repo, tmp_path):
    output = copier_cli("copy", template_repo, tmp_path / DISTRIBUTION, cwd=tmp_path)
    steps = output[output.index(f"{BASELINE['project_name']} is ready in") :]
    assert f"cd {tmp_path / DISTRIBUTION}" in steps
    assert "git push -u origin main" in steps
    assert "Pipeline schedules" in steps
    assert 'README.md, section "CI variables"' in steps
    assert "## CI variables" in (tmp_path / DISTRIBUTION / "README.md").read_text()
