"""The answer gate (extensions/answers.py): one rule per answer, the same however it is given.

The first tests are plain functions over copier.yml's questions; the rest run Copier's own
command line, as a person does, and check that a refusal is a few lines without a traceback,
that nothing was written, and that what Copier would have cast or ignored is refused.
"""

from __future__ import annotations

import re
import sys
import zipfile
from email import parser as email_parser
from email.utils import getaddresses
from pathlib import Path

import answers
import identity
import jinja2
import pytest
import yaml

from tests.kit import (
    BASELINE,
    OFFLINE,
    RELEASES,
    ROOT,
    answers_of,
    commit_all,
    copier_cli,
    copier_refuses,
    git,
    run,
    run_failing,
)

QUESTIONS = answers.questions_of(str(ROOT / "copier.yml"))
COMPUTED = sorted(name for name, spec in QUESTIONS.items() if answers.computed(spec))


# ---------------------------------------------------------------- the rules, as plain functions


@pytest.mark.fast
def test_every_release_the_changelog_lists_is_one_the_tests_update_from():
    listed = re.findall(r"^## (v\d+\.\d+\.\d+)\b", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert sorted(listed) == sorted(RELEASES)


def test_every_question_an_earlier_release_asked_is_asked_or_retired():
    """An update passes the answers a project recorded back to Copier as data: a question a
    release removed must be in RETIRED_QUESTIONS, or every project that answered it is refused.
    Every release is read (the test above holds RELEASES to CHANGELOG.md)."""
    for release, commit in RELEASES.items():
        old = yaml.safe_load(git(ROOT, "show", f"{commit}:copier.yml"))
        asked = {name for name, spec in old.items() if not name.startswith("_") and spec.get("when") is not False}
        assert asked <= set(QUESTIONS) | answers.RETIRED_QUESTIONS, release


@pytest.mark.fast
def test_the_gate_knows_every_question_and_every_validator_asks_it():
    """Each rule is for a question of copier.yml, and each validator calls the gate's rule for
    its own question (a validator with a rule of its own would be a second rule)."""
    assert set(answers.RULES) <= set(QUESTIONS)
    assert COMPUTED == ["given_answers_checked", "images", "package_index"]
    for name, spec in QUESTIONS.items():
        if "validator" in spec:
            assert spec["validator"] == f"{{{{ answer_error('{name}') }}}}", name
        if name in answers.RULES and not spec.get("choices"):
            assert "validator" in spec, f"{name} has a rule the interactive prompt never applies"
    assert next(iter(QUESTIONS)) == "given_answers_checked"  # checked before any question is read


@pytest.mark.parametrize(
    ("given", "message"),
    [
        # Booleans: YAML's spellings, or refused; Copier would take any other text as true.
        ({"ci_share_cache_with_merge_requests": "nope"}, "'nope' is not a boolean"),
        ({"dockerfile": "maybe"}, "'maybe' is not a boolean"),
        ({"dockerfile": "2"}, "'2' is not a boolean"),
        ({"dockerfile": 2}, "2 is not a boolean"),
        ({"dockerfile": 0}, "0 is not a boolean"),
        ({"dockerfile": None}, "None is not a boolean"),
        ({"publish_package": ""}, "'' is not a boolean"),
        ({"renovate": "truee"}, "'truee' is not a boolean"),
        # Versions YAML read as numbers.
        ({"python_version": 3.1}, "python_version 3.1 is a YAML number, not a version"),
        ({"python_version": 3}, "Quote it as you wrote it: python_version: '3'"),
        ({"uv_version": 0.1}, "unquoted, 3.10 reads as 3.1 and 0.10 as 0.1"),
        # Text that YAML read as something else.
        ({"project_name": True}, "project_name True is not text"),
        ({"author_name": 42}, "author_name 42 is not text"),
        ({"description": None}, "description None is not text"),
        ({"package_index_url": ["https://x.example.com"]}, "is not text"),
        # YAML answers that do not parse.
        ({"ci_runner_tags": "[docker,"}, "ci_runner_tags '[docker,' is not valid YAML"),
        ({"image_digests": "{uv: "}, "image_digests '{uv: ' is not valid YAML"),
        # Names: misspelt, computed.
        (
            {"python-version": "3.12"},
            "'python-version' is not a question of this template; did you mean python_version?",
        ),
        ({"pyton_version": "3.12"}, "did you mean python_version?"),
        ({"Project_Name": "X"}, "did you mean project_name?"),
        ({"zzzz": "1"}, "the questions are: given_answers_checked, project_name"),
        *(({name: "{}"}, f"{name} is computed from the other answers and cannot be given") for name in COMPUTED),
        # Choices Copier would refuse with a traceback.
        ({"type_checker": "pyright"}, "type_checker 'pyright' is not one of: mypy, ty, none"),
        ({"python_version": "3.9"}, "python_version '3.9' is not one of: 3.10, 3.11, 3.12, 3.13, 3.14"),
        ({"os_flavour": "bookworm"}, "No image exists for Python 3.13, uv 0.13 and os_flavour 'bookworm'"),
        # Each answer's own rule, with the answers it reads given or copier.yml's defaults.
        ({"package_name": "_colorize", "python_version": "3.13"}, "standard-library module of Python 3.13"),
        (
            {"package_index_url": "https://gitlab.example.com/simple", "package_index_auth": "gitlab-job-token"},
            "is not a GitLab package registry",
        ),
    ],
)
@pytest.mark.fast
def test_given_answers_are_refused_as_given(given, message):
    errors = answers.given_answers_errors(given, QUESTIONS)
    assert any(message in error for error in errors), errors


@pytest.mark.parametrize(
    "given",
    [
        {"dockerfile": spelling}
        for spelling in ("yes", "Yes", "no", "NO", "on", "off", "true", "False", "y", "n", True, False)
    ]
    + [
        {"python_version": "3.10", "uv_version": "0.10"},
        {"ci_runner_tags": "[docker, linux]", "image_digests": "{}"},
        {"ci_runner_tags": ["docker"], "package_index_packages": []},
    ],
)
@pytest.mark.fast
def test_answers_in_any_of_yamls_spellings_are_taken(given):
    assert answers.given_answers_errors(given, QUESTIONS) == []


@pytest.mark.fast
def test_a_computed_value_that_reaches_the_render_is_refused():
    """A value Copier's settings file gave (its `defaults:`) lands in the render: the gate
    recomputes it and refuses a difference."""
    valid = {
        "python_version": "3.13",
        "uv_version": "0.13",
        "os_flavour": "trixie-slim",
        "image_registry": "public",
        "image_digests": {},
    }
    derived = answers.derived_values(valid)
    assert answers.answers_errors({**valid, **derived}, QUESTIONS) == []
    forged = {**derived["images"], "ci": "evil.example.com/uv:latest"}
    assert answers.answers_errors({**valid, **derived, "images": forged}, QUESTIONS) == [
        "images is computed from the other answers and cannot be given."
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no template answers (NoneType"),
        ("- a\n- b\n", "holds no template answers (list"),
        ("_src_path: x\n", "holds no template answers (dict, without _src_path and _commit)"),
        ("_commit: v1.0.0\n_src_path: x\ndockerfile: [\n", "line 4 is not valid YAML"),
        ("_commit: v1.0.0\n_src_path: x\nproject_name: P\ndockerfile: maybe\n", "line 4: dockerfile 'maybe' is not a"),
        (
            "_commit: v1.0.0\n_src_path: x\npython_version: 3.10\n",
            "line 3: python_version 3.1 is a YAML number, not a version: unquoted, 3.10 reads as 3.1 and 0.10 as "
            "0.1. Quote it as you wrote it: python_version: '3.10'.",
        ),
        # PyYAML keeps the last of two keys in silence; safe loading never runs a tag.
        ("_commit: v1.0.0\n_src_path: x\nproject_name: A\nproject_name: B\n", "line 4 is not valid YAML: the key"),
        ("_commit: v1.0.0\n_src_path: x\nproject_name: !!python/object:os.system x\n", "line 3 is not valid YAML"),
    ],
)
@pytest.mark.fast
def test_an_answers_file_copier_would_misread_is_named_with_its_line(text, message, tmp_path):
    recorded = tmp_path / ".copier-answers.yml"
    recorded.write_text(text)
    errors = answers.recorded_answers_errors(recorded, QUESTIONS)
    assert any(f".copier-answers.yml{', ' if 'line' in message else ' '}{message}" in e for e in errors), errors


@pytest.mark.fast
def test_an_answer_to_a_question_this_version_no_longer_asks_is_not_an_error(tmp_path):
    recorded = tmp_path / ".copier-answers.yml"
    recorded.write_text("_commit: v0.1.0\n_src_path: x\nretired_question: anything\n")
    assert answers.recorded_answers_errors(recorded, QUESTIONS) == []


@pytest.mark.fast
def test_a_refusal_lists_a_few_reasons_and_says_nothing_was_written():
    message = answers.refusal_message([f"reason {i}" for i in range(9)])
    assert message.splitlines() == [
        answers.REFUSED,
        *(f"  - reason {i}" for i in range(answers.MAX_REFUSALS)),
        "  - ... and 3 more.",
    ]


# ---------------------------------------------------------------- Copier's command line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-d", "ci_share_cache_with_merge_requests=nope"], "'nope' is not a boolean"),
        (["-d", "dockerfile=2"], "'2' is not a boolean"),
        (["-d", "python-version=3.12"], "did you mean python_version?"),
        (["-d", "python_version=3.99"], "python_version '3.99' is not one of"),
        (["-d", "os_flavour=bookworm-slim"], "No image exists for Python 3.13, uv 0.13"),
        (["-d", "ci_runner_tags=[docker,"], "ci_runner_tags '[docker,' is not valid YAML"),
        (["-d", "package_index_url=HTTPS://idx.example/simple"], "not in lower case"),
        (["-d", "package_index_url=https://idx.example:99999/simple"], "port is not a number from 1 to 65535"),
        (
            ["-d", "package_index_url=https://idx.example/simple", "-d", "package_index_auth=gitlab-job-token"],
            "is not a GitLab package registry",
        ),
        (["-d", "package_name=mypyc"], "a module the project's own tools install"),
        (["-d", "distribution_name=detect-private-key"], "the name of a command the project's tools install"),
        (["-d", "author_name=Smith, John"], "would not read back from the package metadata as one name"),
        (["-d", "author_email=a..b@example..com"], "is not an e-mail address"),
        (["-d", "project_name=Pay\u3164ment"], "invisible filler"),
        (["-d", "project_name=P\u0430yment Service"], "distribution_name 'pyment-service', package_name"),
        (["-d", "ci_runner_tags=[" + ", ".join(f"t{i}" for i in range(51)) + "]"], "more than 50"),
        (["-d", "renovate_timezone=CET+1"], "renovate_timezone 'CET+1' is not an IANA time zone"),
    ],
)
def test_a_bad_answer_on_the_command_line_is_refused_in_a_few_lines(args, message, template_repo, tmp_path):
    lines = copier_refuses(template_repo, tmp_path, *args)
    assert any(message in line for line in lines), lines


@pytest.mark.parametrize("name", COMPUTED)
def test_no_computed_value_can_be_set_from_outside(name, template_repo, tmp_path):
    """Every hidden name of copier.yml, given with --data as an attacker would (an http index
    with a token, an image from elsewhere), is refused before a file is written."""
    forged = '{"url": "http://evil.example.com/simple?token=x", "auth": "gitlab-job-token", "ci": "evil/uv"}'
    lines = copier_refuses(template_repo, tmp_path, "-d", f"{name}={forged}")
    assert lines[1] == f"  - {name} is computed from the other answers and cannot be given."


def test_a_token_in_a_refused_url_is_never_printed(template_repo, tmp_path):
    url = "https://ci:glpat-s3cret@gitlab.example.com/api/v4/groups/1/-/packages/pypi/simple?private_token=glpat-2"
    lines = copier_refuses(template_repo, tmp_path, "-d", f"package_index_url={url}")
    assert "glpat" not in "\n".join(lines)
    assert "https://ci:***@gitlab.example.com" in lines[1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("python_version: 3.10\n", "python_version 3.1 is a YAML number, not a version"),
        ("uv_version: 0.10\n", "uv_version 0.1 is a YAML number"),
        ("project_name: Yes\n", "project_name True is not text"),
        ("dockerfile: nope\n", "dockerfile 'nope' is not a boolean"),
        ("ci_runner_tags: docker\n", "ci_runner_tags 'docker' must be a list"),
    ],
)
def test_a_data_file_is_read_with_the_same_rules(data, message, template_repo, tmp_path):
    data_file = tmp_path / "answers.yml"
    data_file.write_text(data)
    lines = copier_refuses(template_repo, tmp_path, "--data-file", str(data_file))
    assert any(message in line for line in lines), lines


def test_a_settings_file_default_is_read_with_the_same_rules(template_repo, tmp_path):
    """An organisation's Copier settings file (COPIER_SETTINGS_PATH, `defaults:`) is given
    from outside too: a cast or a computed value there is refused the same way."""
    settings = tmp_path / "settings.yml"
    settings.write_text("defaults:\n  ci_share_cache_with_merge_requests: nope\n")
    dst = tmp_path / "new-project"
    env = {**OFFLINE, "COPIER_SETTINGS_PATH": str(settings)}
    cmd = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", template_repo, dst]
    output = run_failing(cmd, tmp_path, env)
    assert "'nope' is not a boolean" in output
    assert "Traceback" not in output
    assert not dst.exists()


def test_yamls_boolean_spellings_are_taken_on_the_command_line_and_in_data_files(template_repo, tmp_path):
    data_file = tmp_path / "answers.yml"
    data_file.write_text("publish_package: no\n")
    project = tmp_path / "payments"
    data = {**BASELINE, "dockerfile": "off", "ci_python_matrix": "Yes"}
    copier_cli("copy", "--data-file", data_file, template_repo, project, cwd=tmp_path, data=data, env=OFFLINE)
    recorded = answers_of(project)
    assert (recorded["dockerfile"], recorded["ci_python_matrix"], recorded["publish_package"]) == (False, True, False)
    assert not (project / "Dockerfile").exists()


def test_an_update_refuses_an_answers_file_edited_into_something_copier_would_drop(template_repo, tmp_path):
    """Copier silently drops a recorded answer it cannot read and takes the default; the gate
    names the file and line instead, and the project is left as it was."""
    project = tmp_path / "payments"
    copier_cli("copy", template_repo, project, cwd=tmp_path, env=OFFLINE)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "start")
    recorded = project / ".copier-answers.yml"
    recorded.write_text(
        recorded.read_text().replace(
            "ci_share_cache_with_merge_requests: false", "ci_share_cache_with_merge_requests: nope"
        )
    )
    commit_all(project, "edited by hand")
    line = next(i for i, text in enumerate(recorded.read_text().splitlines(), 1) if text.startswith("ci_share_cache"))
    output = run_failing(
        [sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--vcs-ref", "HEAD"], project, OFFLINE
    )
    assert f".copier-answers.yml, line {line}: ci_share_cache_with_merge_requests 'nope' is not a boolean" in output
    assert "Traceback" not in output
    assert git(project, "status", "--porcelain") == ""
    assert re.search(r"ci_share_cache_with_merge_requests: nope", recorded.read_text())
    assert yaml.safe_load(recorded.read_text())["ci_share_cache_with_merge_requests"] == "nope"


# ---------------------------------------------------------------- adopting an existing folder


def team_folder(tmp_path: Path) -> Path:
    """A folder a team already works in: its own pyproject.toml, Dockerfile and README."""
    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[project]\nname = "legacy"\ndependencies = ["requests"]\n')
    (folder / "Dockerfile").write_text("FROM scratch\n")
    (folder / "README.md").write_text("# Legacy\n")
    return folder


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_copy_into_a_folder_with_files_it_would_replace_lists_them_and_writes_nothing(template_repo, tmp_path):
    folder = team_folder(tmp_path)
    before = contents(folder)
    cmd = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", template_repo, folder]
    output = run_failing(cmd, tmp_path, OFFLINE)
    assert "Traceback" not in output
    assert "already holds files this copy would replace: Dockerfile, pyproject.toml." in output
    assert "add --overwrite to replace them" in output
    assert contents(folder) == before  # not even the answers file


def test_a_copy_with_overwrite_names_every_file_it_replaced(template_repo, tmp_path):
    folder = team_folder(tmp_path)
    output = copier_cli("copy", "--overwrite", template_repo, folder, cwd=tmp_path, env=OFFLINE)
    assert "Replaced by this copy (--overwrite), which existed before it: Dockerfile, pyproject.toml." in output
    assert (folder / "README.md").read_text() == "# Legacy\n"  # the team's own file is kept
    assert "requests" not in (folder / "pyproject.toml").read_text()  # replaced, as the message says


def team_package(folder: Path, where: str = "src/legacy") -> dict[str, bytes]:
    """The team's own package in ``folder`` (at ``where``) and its test: their contents."""
    (folder / where).mkdir(parents=True)
    (folder / where / "__init__.py").write_text("def answer() -> int:\n    return 42\n")
    (folder / "tests").mkdir()
    test = "from legacy import answer\n\n\ndef test_answer():\n    assert answer() == 42\n"
    (folder / "tests" / "test_legacy.py").write_text(test)
    return contents(folder)


def test_a_copy_that_adopts_the_teams_package_adds_no_sample_code_and_says_what_will_fail(template_repo, tmp_path):
    folder = team_folder(tmp_path)
    before = team_package(folder)
    answers = {**BASELINE, "package_name": "legacy"}
    output = copier_cli("copy", "--overwrite", template_repo, folder, cwd=tmp_path, env=OFFLINE, data=answers)
    after = contents(folder)
    assert {name: after[name] for name in before if name not in ("pyproject.toml", "Dockerfile")} == {
        name: content for name, content in before.items() if name not in ("pyproject.toml", "Dockerfile")
    }
    added = sorted(name for name in after if name.startswith(("src/", "tests/")) and name not in before)
    assert added == ["src/legacy/py.typed"]  # no cli.py, greeting.py, __main__.py or their tests
    assert "Your package src/legacy was kept as it is, and this copy added no sample code" in output
    assert "[project.scripts] names legacy.cli:main" in output
    assert "fail_under" in output
    # The dependencies the replaced pyproject.toml had, as the command that brings them back.
    assert "\n  uv add requests\n" in output


@pytest.mark.parametrize(("where", "hint"), [("src/legacy", ""), ("legacy", "git mv legacy src/legacy")])
def test_a_copy_beside_the_teams_own_package_is_refused_and_names_the_answer(template_repo, tmp_path, where, hint):
    folder = team_folder(tmp_path)
    before = team_package(folder, where)
    cmd = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--overwrite", template_repo, folder]
    output = run_failing(cmd, tmp_path, OFFLINE)
    assert "Traceback" not in output
    assert f"already holds a package of its own ({where}/), and this copy would add src/existing/ beside it" in output
    assert "-d package_name=legacy" in output
    assert hint in output
    assert contents(folder) == before


def test_the_closing_message_quotes_the_path_so_it_can_be_pasted(template_repo, tmp_path):
    folder = tmp_path / "My Svc (v2)!"
    output = copier_cli("copy", template_repo, folder, cwd=tmp_path, env=OFFLINE)
    cd = next(line.strip() for line in output.splitlines() if line.strip().startswith("cd "))
    assert run(["sh", "-c", f"{cd} && pwd"], tmp_path).strip() == str(folder)
    assert "Replaced by this copy" not in output


@pytest.mark.parametrize(
    ("author", "email"),
    [("Zoë O'Hara & Co ✓", "first.last+tag@sub.example.org"), ("Payments Team #2 \\ 😀", "o'brien@example.com")],
)
def test_the_wheels_metadata_reads_back_the_author_and_email_as_answered(author, email, render):
    """Package metadata writes ``Author-email: <name> <address>`` (uv_build leaves the name
    unquoted): every accepted answer reads back as one name and one address."""
    project = render(env=OFFLINE, author_name=author, author_email=email)
    run(["uv", "build", "--wheel", "--out-dir", "dist"], project)
    (wheel,) = (project / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = email_parser.Parser().parsestr(
            archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        )
    assert getaddresses([metadata["Author-email"]]) == [(author, email)]


@pytest.mark.fast
def test_an_interactive_prompt_applies_the_gates_rule_and_answers_given_defer_to_the_gate():
    """copier.yml's validators: at a prompt, the rule's message (Copier asks again); for an
    answer given with --data or a default, nothing (the gate refuses it in a few lines)."""
    environment = jinja2.Environment(autoescape=False)
    environment.globals.update(answers.JINJA_GLOBALS)
    validator = environment.from_string(QUESTIONS["author_email"]["validator"])
    bad = "a..b@example..com"
    prompted = {"_copier_conf": {"defaults": False, "data": {}}, "author_email": bad}
    assert validator.render(prompted) == identity.email_error(bad) != ""
    assert validator.render({**prompted, "author_email": "team@example.com"}) == ""
    given = {"_copier_conf": {"defaults": False, "data": {"author_email": bad}}, "author_email": bad}
    defaulted = {"_copier_conf": {"defaults": True, "data": {}}, "author_email": bad}
    assert validator.render(given) == validator.render(defaulted) == ""
