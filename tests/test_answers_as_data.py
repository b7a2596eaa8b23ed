"""Every answer stays data in every tool that reads it again (docs/questions.md, "Where answers are read
again"): the site generator's HTML and its Markdown extensions, coverage, git's command line,
GitLab's variable expansion in tags, and the refusal messages themselves. Each test goes through
the real consumer where one runs here, and the rules' unit tests pin each class of value.
"""

from __future__ import annotations

import html
import subprocess

import answers
import identity
import images
import organisation
import pytest
import template_sync as bootstrap

from tests.kit import (
    DOCS_CHECK,
    ROOT,
    SITE_PAGES,
    alias_bomb,
    check_green,
    copier_refuses,
    green_environment,
    page,
    run,
)

QUESTIONS = answers.questions_of(str(ROOT / "copier.yml"))
MARKUP_NAME = "Acme <img src=x onerror=alert(1)> & \"Co\" 'R&D'"
MARKUP_DESCRIPTION = 'Acme" /><script>alert(3)</script>\n<b onclick="x()">bold</b> &amp; more'


# ---------------------------------------------------------------- the rules, one class of value each


@pytest.mark.parametrize(
    "marker",
    ['--8<-- "README.md"', "<!-- --8<-- [end:usage] -->", "<!-- --8<-- [start:usage] -->", "-8<- 'x'", ";--8<--"],
)
@pytest.mark.parametrize("field", ["project_name", "description", "author_name"])
@pytest.mark.fast
def test_a_snippet_marker_in_free_text_is_refused(field, marker):
    rule = {
        "project_name": identity.project_name_error,
        "description": identity.description_error,
        "author_name": identity.author_name_error,
    }[field]
    message = rule(f"Acme {marker} tools")
    assert "pymdownx.snippets" in message, marker


@pytest.mark.parametrize("name", sorted(identity.RUN_COMMANDS))
@pytest.mark.fast
def test_a_distribution_named_like_a_command_the_jobs_run_is_refused(name):
    assert "its jobs run" in identity.distribution_name_error(name)


@pytest.mark.fast
def test_a_runner_tag_gitlab_would_expand_is_refused():
    assert "GitLab expands variables in tags" in organisation.runner_tags_error(["docker", "$RUNNER"])
    assert "GitLab expands variables in tags" in organisation.runner_tags_error(["x${CI_JOB_ID}"])
    assert organisation.runner_tags_error(["docker", "linux-amd64"]) == ""


@pytest.mark.fast
def test_a_hundred_thousand_tags_are_counted_before_anything_else_reads_them():
    tags = [f"t{i}" for i in range(100_000)]
    assert "lists 100000 tags" in organisation.runner_tags_error(tags)
    assert "too large" in answers.rule_error("ci_runner_tags", {"ci_runner_tags": tags})


@pytest.mark.parametrize("name", ["description", "image_digests", "ci_runner_tags", "package_index_packages"])
@pytest.mark.fast
def test_an_alias_bomb_is_refused_before_it_is_walked_or_printed(name):
    """9**13 strings if walked whole: the bound stops after a thousand, and the message shows a
    few levels of it."""
    bomb = {"uv": alias_bomb()} if name == "image_digests" else alias_bomb()
    (error,) = answers.given_answers_errors({name: bomb}, QUESTIONS)
    assert f"{name} is too large" in error
    assert len(answers.shown(bomb)) <= answers.MAX_SHOWN


@pytest.mark.fast
def test_a_byte_that_was_not_utf8_is_refused_wherever_it_stands():
    latin1 = b"Caf\xff Tools".decode("utf-8", "surrogateescape")  # how Python reads it from argv
    assert "\\udcff" in identity.project_name_error(latin1)
    (error,) = answers.given_answers_errors({"ci_runner_tags": [latin1]}, QUESTIONS)
    assert "not valid UTF-8" in error


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://ci:s3crettok@pypi.example.com/simple",
        "https://ci:s3crettok@PYPI.example.com/simple?token=s3crettok",
        "https://s3crettok@pypi.example.com/simple",
        "https://pypi.example.com/simple?private_token=s3crettok",
    ],
)
@pytest.mark.fast
def test_no_refusal_prints_a_credential_of_the_url_it_refuses(url):
    for rule in (organisation.index_url_error, organisation.service_url_error):
        message = answers.refusal_message([rule(url)])
        assert "s3crettok" not in message, message
        assert "***" in message


@pytest.mark.fast
def test_a_credential_is_masked_in_any_refusal_whatever_rule_printed_it():
    line = "x 'https://ci:glpat-abcdefgh1234@h.example/s?t=glpat-zz' and glpat-abcdefghijkl y"
    assert organisation.mask_secrets(line) == "x 'https://ci:***@h.example/s?t=***' and glpat-*** y"


@pytest.mark.parametrize("url", ["https://[::1/simple", "https://[nothost]/simple", "https://h.example:99999/s"])
@pytest.mark.fast
def test_a_malformed_url_is_refused_not_raised(url):
    assert "is refused" in organisation.index_url_error(url)


@pytest.mark.fast
def test_a_mirror_port_out_of_range_is_refused():
    assert images.registry_error("mirror", "registry.example.com:5000/hub") == ""
    assert "a port from 1 to 65535" in images.registry_error("mirror", "registry.example.com:99999/hub")


@pytest.mark.fast
def test_an_answers_file_in_another_encoding_is_named_with_its_line(tmp_path):
    path = tmp_path / ".copier-answers.yml"
    path.write_bytes(b"_commit: v1.0.0\n_src_path: x\nproject_name: Caf\xe9\n")
    assert answers.recorded_answers_errors(path, QUESTIONS) == [
        ".copier-answers.yml, line 3 is not UTF-8 text (byte 0xe9): save it as UTF-8."
    ]


@pytest.mark.fast
def test_only_vxyz_tags_are_releases():
    listing = "\n".join(f"{'0' * 40}\trefs/tags/{tag}" for tag in ("v1.4.0", "v2", "v3.0", "4.0.0", "v5.0.0rc1"))
    assert bootstrap.releases(listing)[0] == "v1.4.0"


@pytest.mark.parametrize(
    "value", ["--upload-pack=touch PWNED; git-upload-pack", "'-c core.sshCommand=x'", '"--exec=x"']
)
@pytest.mark.fast
def test_an_option_like_template_location_is_refused_where_it_is_read(value):
    with pytest.raises(bootstrap.TemplateUnreadable, match="not a template location"):
        bootstrap.template_location(f"_commit: v1.0.0\n_src_path: {value}\n")


# ---------------------------------------------------------------- the real consumers


def test_an_option_like_template_location_never_reaches_gits_options(tmp_path, monkeypatch, capsys):
    """The README's local drift command, on an answers file holding what git reads as an option
    that runs a command (git-ls-remote(1): --upload-pack): refused, and the command never ran.
    git itself, given the value after `--`, reads it as a location too."""
    answers_file = tmp_path / ".copier-answers.yml"
    answers_file.write_text('_commit: v1.0.0\n_src_path: "--upload-pack=touch PWNED; git-upload-pack"\n')
    monkeypatch.chdir(tmp_path)
    assert bootstrap.main(["drift"]) == bootstrap.FAILED
    assert "not a template location" in capsys.readouterr().out
    assert not (tmp_path / "PWNED").exists()
    listed = subprocess.run(
        ["git", "ls-remote", "--tags", "--refs", "--", "--upload-pack=touch PWNED; git-upload-pack"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode != 0
    assert not (tmp_path / "PWNED").exists()


def test_markup_in_the_name_and_description_is_text_on_every_page_of_the_docs_site(render):
    """Zensical writes site_name and site_description into the HTML as they are: the template
    gives it HTML text. Built for real, each page has exactly the elements and attributes of the
    same site made from a plain name, and shows the name as typed."""
    plain = render(project_name="Acme Tools", description="Plain words.\nMore plain words.")
    marked = render(project_name=MARKUP_NAME, description=MARKUP_DESCRIPTION)
    for project in (plain, marked):
        run(DOCS_CHECK, project, green_environment("3.13"))
    for name in SITE_PAGES:
        ours, theirs = page(marked / "public", name), page(plain / "public", name)
        assert ours.elements == theirs.elements, name
        assert MARKUP_NAME in " ".join(" ".join(ours.text).split()), name
    head = (marked / "public" / "index.html").read_text(encoding="utf-8")
    summary = " ".join(MARKUP_DESCRIPTION.split())
    assert f'<meta name="description" content="{html.escape(summary)}">' in head


def test_a_package_named_like_a_folder_of_the_project_is_measured_as_the_package(render):
    """`source = ["docs"]` would measure the docs/ folder (0 %, the tests fail): the package is
    named as a package (source_pkgs)."""
    project = render(project_name="Docs")
    assert (project / "src" / "docs" / "__init__.py").is_file()
    assert (project / "docs" / "index.md").is_file()
    check_green(project)


HOSTILE_CORPUS = {
    "snippet marker": ["-d", "description=Intro\n<!-- --8<-- [end:usage] -->"],
    "option-like name": ["-d", "distribution_name=--upload-pack"],
    "secret in an index URL": ["-d", "package_index_url=HTTPS://ci:s3crettok@pypi.example.com/simple"],
    "malformed IPv6 URL": ["-d", "package_index_url=https://[::1/simple"],
    "variable in a tag": ["-d", "ci_runner_tags=[$RUNNER_TAG]"],
    "command for a name": ["-d", "project_name=uv"],
    "bidi in a name": ["-d", "project_name=Acme \u202eslooT"],
}


@pytest.mark.parametrize("args", HOSTILE_CORPUS.values(), ids=HOSTILE_CORPUS.keys())
def test_the_refused_corpus_is_refused_in_a_few_lines_without_a_traceback(args, template_repo, tmp_path):
    dst = tmp_path / "new-project"
    dst.mkdir()  # an existing empty folder: it must stay empty
    lines = copier_refuses(template_repo, tmp_path, *args, dst=dst)
    assert "s3crettok" not in "\n".join(lines)


BOMB_FILE = "description:\n" + "".join(
    f"  - &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}" if i else '"lol"'] * 9) + "]\n" for i in range(12)
)
TAGS_FILE = "ci_runner_tags: [" + ", ".join(f"t{i}" for i in range(100_000)) + "]\n"


@pytest.mark.parametrize(
    ("text", "said"),
    [(BOMB_FILE, "description is too large"), (TAGS_FILE, "ci_runner_tags is too large")],
    ids=["alias bomb", "100,000 tags"],
)
def test_a_data_file_too_large_to_read_is_refused_at_once(text, said, template_repo, tmp_path):
    data_file = tmp_path / "answers.yml"
    data_file.write_text(text)
    assert said in "\n".join(copier_refuses(template_repo, tmp_path, "--data-file", data_file))


def test_a_symbolic_link_where_the_copy_writes_a_folder_is_refused(template_repo, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dst = tmp_path / "project"
    dst.mkdir()
    (dst / ".gitlab").symlink_to(elsewhere)
    lines = copier_refuses(template_repo, tmp_path, dst=dst)
    assert "symbolic links where this copy writes folders: .gitlab/" in lines[1]
    assert not any(elsewhere.iterdir())
