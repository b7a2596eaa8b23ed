"""Unit tests of how answers land in the project's files (extensions/files.py), without Copier."""

from __future__ import annotations

import tomllib

import files
import pytest

pytestmark = pytest.mark.fast  # the fast tier: no process, no render (tests/conftest.py)


@pytest.mark.parametrize(
    "value",
    ["plain", 'quote " and \\ backslash', "new\nline\ttab\r\x00\x7f\x1b", "é ✓ 😀 \u2028", "'''\"\"\"", ""],
)
def test_toml_string_round_trips(value):
    assert tomllib.loads(f"key = {files.toml_string(value)}")["key"] == value


def test_toml_string_keeps_non_ascii_readable():
    assert files.toml_string("Zoë ✓") == '"Zoë ✓"'


@pytest.mark.parametrize("items", [[], ["ruff>=0.17"], ["pytest>=9", 'odd " name', "é<>&"]])
def test_toml_array_round_trips_and_reads_as_written(items):
    assert tomllib.loads(f"key = {files.toml_array(items)}")["key"] == items
    assert files.toml_array(["ruff>=0.17", "mypy"]) == '["ruff>=0.17", "mypy"]'


def test_summary_puts_text_on_one_line():
    assert files.summary("  one\n\ntwo\tthree  ") == "one two three"


@pytest.mark.parametrize(
    "location",
    [
        "https://gitlab.example.com/platform/template.git",
        "git+https://gitlab.example.com/platform/template.git",
        "git@gitlab.example.com:platform/template.git",
        "gh:org/template",
        "gl:org/template",
        "~/templates/copier-uv-gitlab",
        "/srv/templates/copier-uv-gitlab",
        "file:///srv/templates/copier-uv-gitlab",
    ],
)
def test_a_template_location_that_works_from_anywhere_is_recorded_as_given(location):
    assert files.template_location(location) == location


def test_a_relative_template_path_is_recorded_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = tmp_path.parent / "templates" / "copier-uv-gitlab"
    assert files.template_location("../templates/copier-uv-gitlab") == str(expected)
    recorded = files.recorded_answers({"_src_path": "template", "_commit": "v1.0.0", "project_name": "x"})
    assert recorded == {"_src_path": str(tmp_path / "template"), "_commit": "v1.0.0", "project_name": "x"}


@pytest.mark.parametrize(
    "pipeline",
    [
        "include:\n  - local: .gitlab/ci/template.gitlab-ci.yml\n",
        "include:\n  - local: /.gitlab/ci/template.gitlab-ci.yml\n  - project: g/p\n    file: x.yml\n",
        "include: .gitlab/ci/template.gitlab-ci.yml\n",
        "include:\n  local: .gitlab/ci/template.gitlab-ci.yml\njob:\n  script: [!reference [.a, b]]\n",
    ],
)
def test_a_team_pipeline_that_includes_the_templates_is_recognised(pipeline):
    assert files.template_pipeline_included(pipeline)


@pytest.mark.parametrize(
    "pipeline",
    ["", "stages: [test]\n", "include:\n  - local: ci/other.yml\n", "include: [\n", "- a list\n"],
)
def test_a_team_pipeline_without_the_templates_include_is_recognised(pipeline):
    assert not files.template_pipeline_included(pipeline)
