"""What a render contains: files, derived values, determinism, refusals, hostile text."""

from __future__ import annotations

import filecmp
import tomllib
from pathlib import Path

import pytest
from conftest import (
    BASELINE,
    PYTHON_VERSIONS,
    interpreter,
    read_toml,
    read_yaml,
    render_without_tasks,
    run,
)

EXPECTED_FILES = {
    ".copier-answers.yml",
    ".gitignore",
    ".python-version",
    "README.md",
    "pyproject.toml",
    "uv.lock",
    "src/payment_service/__init__.py",
    "src/payment_service/__main__.py",
    "src/payment_service/cli.py",
    "src/payment_service/greeting.py",
    "src/payment_service/py.typed",
    "tests/test_cli.py",
    "tests/test_greeting.py",
}


def project_files(project: Path) -> set[str]:
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


def test_default_render_has_the_expected_files_and_values(render):
    project = render()
    assert project_files(project) >= EXPECTED_FILES
    assert not list(project.rglob("*.jinja"))

    pyproject = read_toml(project / "pyproject.toml")
    meta = pyproject["project"]
    assert meta["name"] == "payment-service"
    assert meta["description"] == BASELINE["description"]
    assert meta["authors"] == [{"name": "Payments Team", "email": "payments@example.com"}]
    assert meta["requires-python"] == ">=3.13"
    assert meta["scripts"] == {"payment-service": "payment_service.cli:main"}
    assert pyproject["build-system"] == {
        "requires": ["uv_build>=0.13.0,<0.14"],
        "build-backend": "uv_build",
    }
    groups = pyproject["dependency-groups"]
    assert groups["lint"] == ["ruff>=0.17"]
    assert {req.split(">")[0] for req in groups["test"]} == {"pytest", "pytest-cov"}
    assert groups["dev"] == [{"include-group": "lint"}, {"include-group": "test"}]
    assert pyproject["tool"]["ruff"]["target-version"] == "py313"
    assert len(pyproject["tool"]["ruff"]["lint"]["select"]) > 10  # more than the defaults
    pytest_opts = pyproject["tool"]["pytest"]["ini_options"]
    assert pytest_opts["testpaths"] == ["tests"]
    assert {"--import-mode=importlib", "--strict-markers"} <= set(pytest_opts["addopts"])
    assert pyproject["tool"]["coverage"]["run"]["source"] == ["payment_service"]

    assert (project / ".python-version").read_text() == "3.13\n"
    lock = read_toml(project / "uv.lock")
    assert lock["requires-python"] == ">=3.13"
    assert {p["name"] for p in lock["package"]} >= {"payment-service", "pytest", "ruff"}

    answers = read_yaml(project / ".copier-answers.yml")
    assert answers["python_version"] == "3.13"
    assert answers["uv_version"] == "0.13"
    assert answers["package_name"] == "payment_service"
    header = (project / ".copier-answers.yml").read_text().splitlines()[0]
    assert header.startswith("# ")
    assert "edit" in (project / ".copier-answers.yml").read_text().split("_commit")[0].lower()

    gitignore = (project / ".gitignore").read_text().splitlines()
    assert {"/.venv/", "/.uv-cache/", "/.gitlab-ci-local/"} <= set(gitignore)

    readme = (project / "README.md").read_text()
    for command in ("uv sync", "uv run pytest", "uv run ruff check"):
        assert command in readme


@pytest.mark.parametrize("version", PYTHON_VERSIONS)
def test_every_python_version_derives_the_same_version_everywhere(version, render, template_repo, tmp_path):
    if interpreter(version):
        project = render(python_version=version)
        lock = read_toml(project / "uv.lock")
        assert lock["requires-python"] == f">={version}"
    else:
        # No interpreter here, so no copy-time lock: checked statically (see render_without_tasks).
        project = render_without_tasks(template_repo, tmp_path / "static", python_version=version)
        assert not (project / "uv.lock").exists()
    pyproject = read_toml(project / "pyproject.toml")
    assert (project / ".python-version").read_text().strip() == version
    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")


def test_two_renders_with_the_same_answers_are_identical(render):
    first, second = render(), render()

    def compare(dcmp: filecmp.dircmp) -> None:
        assert (dcmp.left_only, dcmp.right_only, dcmp.funny_files) == ([], [], [])
        _, mismatch, errors = filecmp.cmpfiles(dcmp.left, dcmp.right, dcmp.common_files, shallow=False)
        assert (mismatch, errors) == ([], []), dcmp.left
        for sub in dcmp.subdirs.values():
            compare(sub)

    compare(filecmp.dircmp(first, second))


def test_no_path_in_the_template_contains_a_double_quote():
    template = Path(__file__).resolve().parent.parent / "template"
    assert not [p for p in template.rglob("*") if '"' in p.name]


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
        ({"project_name": "json"}, "package_name 'json' would shadow the standard library"),
        ({"author_email": "not-an-email"}, "author_email 'not-an-email' is not an e-mail address"),
        ({"author_email": "a b@example.com"}, "author_email 'a b@example.com'"),
        ({"author_name": ""}, "author_name must not be empty"),
        ({"python_version": "3.9"}, "'3.9' is not in ['3.10', '3.11', '3.12', '3.13', '3.14']"),
        ({"python_version": "3.15"}, "'3.15' is not in"),
        ({"uv_version": "v0.13"}, "uv_version 'v0.13' is not a uv version"),
        ({"uv_version": "0.13.x"}, "uv_version '0.13.x' is not a uv version"),
        ({"uv_version": "latest"}, "uv_version 'latest' is not a uv version"),
        ({"uv_version": "0.7"}, "uv_version '0.7' is too old"),
        ({"description": " \n "}, "description must not be empty"),
        (
            {"os_flavour": "bookworm-slim"},
            "No image exists for Python 3.13, uv 0.13 and os_flavour 'bookworm-slim': uv 0.13 is newer "
            "than 0.9.30, the last with that image. Valid os_flavour values here: trixie-slim, trixie, alpine.",
        ),
        ({"python_version": "3.14", "uv_version": "0.8"}, "Valid os_flavour values here: none"),
        ({"os_flavour": "debian"}, "Invalid choice for 'os_flavour': 'debian' is not in"),
        ({"image_registry": "quay"}, "Invalid choice for 'image_registry': 'quay' is not in"),
        ({"image_registry": "mirror"}, "image_mirror '' is not an image repository prefix"),
        ({"image_registry": "mirror", "image_mirror": "https://hub.example.com"}, "'https://hub.example.com'"),
        ({"image_digests": {"uv": "sha256:abc"}}, "image_digests['uv'] = 'sha256:abc' is not a digest"),
    ],
)
def test_bad_answers_are_refused_before_anything_is_written(overrides, message, render_error):
    assert message in render_error(**overrides)


HOSTILE = {
    "project_name": 'O\'Brien "Quotes": #1 \\ Ünïcødé ✓ 😀',
    "description": "First line: \"quoted\" # not a comment\nSecond line \\ with 'single' quotes\n  ✓ 😀",
    "author_name": 'Zoë "Z" O\'Hara: #2 \\ & <co>',
}


def test_hostile_free_text_is_written_exactly_as_typed(render):
    project = render(**HOSTILE)
    run(["uv", "sync", "--locked"], project)  # uv_build accepts the metadata too
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == "o-brien-quotes-1-unicde"
    # Package metadata allows one line only: whitespace runs (newlines) become one space.
    assert pyproject["project"]["description"] == " ".join(HOSTILE["description"].split())
    assert pyproject["project"]["authors"][0]["name"] == HOSTILE["author_name"]

    answers = read_yaml(project / ".copier-answers.yml")
    for key, value in HOSTILE.items():
        assert answers[key] == value

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {HOSTILE['project_name']}\n\n{HOSTILE['description']}\n")
