"""The template's own Jinja extensions load in every way a user meets the template.

copier >= 9.12 cannot import dotted-module extensions that live inside a template
during `copy --vcs-ref` and `update` (copier PR #2557); the file-path loader of
copier-template-extensions can. Each case below derives the CI image through the
extension, so a missing extension fails the render. Copier runs as a new process here
(``in_process=False``), as a user starts it: nothing of this process's imports can stand in
for what the template's extension loads.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType

import images
import pytest
from jinja2 import Environment

from tests.kit import (
    DEFAULTS,
    ROOT,
    add_to_uv_jobs,
    commit_all,
    copier_cli,
    edit,
    git,
    read_yaml,
    snapshot_template,
)

EXPECTED_CI_IMAGE = images.image_refs(DEFAULTS["python_version"], DEFAULTS["uv_version"], DEFAULTS["os_flavour"])["ci"]


def ci_image_of(project: Path) -> str:
    return read_yaml(project / ".gitlab" / "ci" / "template.gitlab-ci.yml")["variables"]["UV_CI_IMAGE"]


def test_copy_from_a_plain_directory(tmp_path):
    repo = snapshot_template(tmp_path / "repo")
    plain = tmp_path / "plain"
    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    copier_cli("copy", plain, tmp_path / "project", cwd=tmp_path, in_process=False)
    assert ci_image_of(tmp_path / "project") == EXPECTED_CI_IMAGE


def test_copy_from_a_git_tag_and_update_to_a_newer_tag(tmp_path):
    repo = snapshot_template(tmp_path / "repo")
    git(repo, "tag", "v1.0.0")
    project = tmp_path / "project"
    copier_cli("copy", "--vcs-ref", "v1.0.0", repo, project, cwd=tmp_path, in_process=False)
    assert ci_image_of(project) == EXPECTED_CI_IMAGE
    assert read_yaml(project / ".copier-answers.yml")["_commit"] == "v1.0.0"
    commit_all(project, "v1")

    # v1.1.0 changes a template-owned file; the update must render it through the extension.
    uv_ci = repo / "template" / ".gitlab" / "ci" / "uv.gitlab-ci.yml.jinja"
    add_to_uv_jobs(uv_ci, "retry: 1")
    git(repo, "commit", "-q", "-am", "retry flaky jobs once")
    git(repo, "tag", "v1.1.0")

    copier_cli("update", "--vcs-ref", "v1.1.0", cwd=project, in_process=False)
    assert read_yaml(project / ".copier-answers.yml")["_commit"] == "v1.1.0"
    assert read_yaml(project / ".gitlab" / "ci" / "uv.gitlab-ci.yml")[".uv"]["retry"] == 1
    assert ci_image_of(project) == EXPECTED_CI_IMAGE
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True)
    assert ".rej" not in status.stdout


def _load_registry(folder: Path) -> ModuleType:
    """extensions/registry.py from ``folder``, as copier-template-extensions loads it."""
    spec = spec_from_file_location("copier_template_extensions.registry", folder / "registry.py")
    assert spec is not None
    assert spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rule_modules_put_back():
    """The rule modules other tests imported, as they were before this test loaded copies."""
    saved = {name: sys.modules.get(name) for name in ("identity", "organisation", "images", "files", "tools")}
    yield
    for name, module in saved.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module


@pytest.mark.usefixtures("rule_modules_put_back")
@pytest.mark.fast
def test_each_template_version_renders_with_its_own_rule_modules(tmp_path):
    # copier update renders the project's version and the new one in one process.
    old, new = tmp_path / "v1" / "extensions", tmp_path / "v2" / "extensions"
    for folder in (old, new):
        shutil.copytree(ROOT / "extensions", folder)
    edit(new / "tools.py", 'TEST = ["pytest>=9,<10",', 'TEST = ["pytest>=9,<10", "pytest-timeout>=2.3,<3",')
    tests_of = {}
    for name, folder in (("new", new), ("old", old), ("new again", new)):
        registry = _load_registry(folder)
        environment = Environment(extensions=[registry.TemplateFunctions])
        tests_of[name] = environment.from_string("{{ tool_groups('none')['test'] }}").render()
    assert "pytest-timeout" in tests_of["new"]
    assert "pytest-timeout" not in tests_of["old"]
    assert tests_of["new again"] == tests_of["new"]
