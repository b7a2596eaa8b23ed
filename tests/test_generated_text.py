"""What a team reads every day: one ownership line per template-owned file, few and short
comments in the pipeline, and no word about an option the project does not use."""

from __future__ import annotations

import itertools
import random
import re
import shutil
from pathlib import Path

import copier
import pytest

from tests.kit import BASELINE, OFFLINE, pipeline_files

OWNERSHIP = 'Template-owned: copier-uv-gitlab keeps this file (README.md, "Who owns which file").'


def comment_runs(path: Path) -> list[list[str]]:
    """The runs of consecutive whole-line comments in a YAML or Dockerfile."""
    runs: list[list[str]] = []
    previous_was_comment = False
    for line in path.read_text().splitlines():
        is_comment = line.lstrip().startswith("#")
        if is_comment:
            if previous_was_comment:
                runs[-1].append(line)
            else:
                runs.append([line])
        previous_was_comment = is_comment
    return runs


def test_every_template_owned_file_says_so_in_one_line_that_points_to_the_readme(render):
    project = render(env=OFFLINE)
    owned = [path for path in project.rglob("*") if path.is_file() and "Template-owned" in path.read_text()[:300]]
    assert {path.relative_to(project).as_posix() for path in owned} >= {
        ".gitlab/ci/template.gitlab-ci.yml",
        ".gitlab/ci/template_sync.py",
        "Dockerfile",
        ".dockerignore",
    }
    for path in owned:
        lines = path.read_text().splitlines()[:2]
        assert any(line.lstrip('#/" ').strip() == OWNERSHIP for line in lines), path  # YAML, Python, JSONC
    assert "\n## Who owns which file\n" in (project / "README.md").read_text()


def test_pipeline_comments_are_at_most_a_fifth_of_its_lines(render):
    files = pipeline_files(render(env=OFFLINE))
    lines = [line for path in files for line in path.read_text().splitlines()]
    comments = [line for line in lines if line.lstrip().startswith("#")]
    assert len(comments) * 5 <= len(lines), (len(comments), len(lines))


def test_no_comment_in_the_pipeline_or_the_dockerfile_runs_over_three_lines(render):
    project = render(env=OFFLINE)
    for path in [*pipeline_files(project), project / "Dockerfile"]:
        assert [run for run in comment_runs(path) if len(run) > 3] == [], path


# What a file must not mention when the answer on the left says the feature is not there.
UNUSED: dict[tuple[str, object], list[str]] = {
    ("dockerfile", False): ["Dockerfile", "docker-image", "buildah", "BUILD_UV_ENV", ".dockerignore"],
    ("publish_package", False): ["`release`", "release job", "uv publish", "UV_PUBLISH", "Protected tags"],
    ("ci_python_matrix", False): ["matrix"],
    ("ci_share_cache_with_merge_requests", False): ["unprotect"],
    ("ci_share_cache_with_merge_requests", True): ["never share a cache"],
    ("uv_cache_strategy", "keep-wheels"): ["prune"],
    ("uv_cache_strategy", "prune"): ["keeps every wheel"],
    ("index", "none"): ["UV_INDEX_INTERNAL", "organisation's index", "index credentials"],
    ("index", "beside"): ["UV_DEFAULT_INDEX"],
    ("type_checker", "none"): ["mypy", "ty check", "tool.ty", "type checker"],
    ("type_checker", "mypy"): ["ty check", "tool.ty"],
    ("type_checker", "ty"): ["mypy"],
    ("renovate", False): ["Renovate", "renovate.json"],
    ("docs", False): ["zensical", "Zensical", "mkdocstrings", "GitLab Pages", "`pages`"],
    ("devcontainer", False): ["devcontainer", "Dev container", "dev container"],
}
INDEXES = {
    "none": {},
    "beside": {"package_index_url": "https://pypi.example.com/simple", "package_index_mode": "beside"},
    "replace": {"package_index_url": "https://pypi.example.com/simple", "package_index_mode": "replace"},
}
FEATURES = {
    "dockerfile": [True, False],
    "publish_package": [True, False],
    "ci_python_matrix": [True, False],
    "ci_share_cache_with_merge_requests": [True, False],
    "uv_cache_strategy": ["keep-wheels", "prune"],
    "index": list(INDEXES),
    "type_checker": ["mypy", "ty", "none"],
    "renovate": [True, False],
    "docs": [True, False],
    "devcontainer": [True, False],
}


def covering_rows(features: dict[str, list[object]], strength: int = 3, candidates: int = 20) -> list[dict]:
    """Answer sets in which every ``strength`` answers take every combination of their values
    together at least once (a covering array, built greedily: each row the candidate that covers
    most of what is left; seeded, so the same rows every run).

    A mention in a file comes from a Jinja condition over a few answers (the widest here reads
    three: `docs and devcontainer` inside an index's branch), so every triple of values rendered
    together finds it, as the whole product would, in a few dozen renders instead of 2,304."""
    names = list(features)
    uncovered = {
        (group, values)
        for group in itertools.combinations(range(len(names)), strength)
        for values in itertools.product(*(range(len(features[names[i]])) for i in group))
    }
    rows: list[tuple[int, ...]] = []
    generator = random.Random(20261201)
    while uncovered:
        # Start each candidate from a combination still to cover, so every row covers one.
        seeds = generator.sample(sorted(uncovered), min(candidates, len(uncovered)))
        best, best_gain = None, -1
        for group, values in seeds:
            row = [generator.randrange(len(features[name])) for name in names]
            for index, value in zip(group, values, strict=True):
                row[index] = value
            gain = sum(
                (g, tuple(row[i] for i in g)) in uncovered for g in itertools.combinations(range(len(names)), strength)
            )
            if gain > best_gain:
                best, best_gain = tuple(row), gain
        rows.append(best)
        uncovered -= {(g, tuple(best[i] for i in g)) for g in itertools.combinations(range(len(names)), strength)}
    return [{name: features[name][value] for name, value in zip(names, row, strict=True)} for row in rows]


COMBINATIONS = covering_rows(FEATURES)


@pytest.mark.fast
def test_the_answer_sets_render_every_three_answers_values_together():
    names = list(FEATURES)
    for group in itertools.combinations(names, 3):
        for values in itertools.product(*(FEATURES[name] for name in group)):
            assert any(all(row[n] == v for n, v in zip(group, values, strict=True)) for row in COMBINATIONS), (
                group,
                values,
            )
    assert len(COMBINATIONS) < 50  # against the 2,304 of the whole product


NOT_READ = {".copier-answers.yml"}  # Copier's record of every answer, options unused included


@pytest.fixture(scope="module")
def template_files(template_repo, tmp_path_factory) -> Path:
    """The committed template's files in a folder that is no git repository: Copier renders
    such a folder where it is, without cloning it first (a third of a render's time). The files
    it writes are the same; only `.copier-answers.yml` lacks `_commit`, and it is not read here."""
    folder = tmp_path_factory.mktemp("template-files") / "template"
    shutil.copytree(template_repo, folder, ignore=shutil.ignore_patterns(".git"))
    return folder


@pytest.mark.parametrize(
    "features", COMBINATIONS, ids=["-".join(f"{key}={value}" for key, value in c.items()) for c in COMBINATIONS]
)
def test_no_file_mentions_an_option_the_project_does_not_use(features, template_files, tmp_path):
    answers = {key: value for key, value in features.items() if key != "index"}
    # Copier's own render of the files, without the task that locks (uv.lock names packages,
    # not options; half of a render's time): text only, which is what this test reads.
    project = tmp_path / "project"
    copier.run_copy(
        str(template_files),
        project,
        data={**BASELINE, **answers, **INDEXES[features["index"]]},
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    assert not (project / "uv.lock").exists()
    forbidden = [word for (key, value), words in UNUSED.items() if features[key] == value for word in words]
    pattern = re.compile("|".join(map(re.escape, forbidden)))
    mentions = {
        path.relative_to(project).as_posix(): sorted(set(pattern.findall(path.read_text(errors="replace"))))
        for path in project.rglob("*")
        if path.is_file() and path.name not in NOT_READ
    }
    assert {name: found for name, found in mentions.items() if found} == {}
