"""Every answer the template accepts gives a green, safe project; every other is refused before
a file is written. A property-based test (Hypothesis) draws whole answer sets from each
question's accepted space and from every class of bad answer (hostile text, YAML's types,
boolean spellings, look-alike letters, names Python and the tools take, index URL spellings,
stray names), and checks that invariant for each.

In CI it runs a fixed, derandomised budget (the ``ci`` profile); a longer run explores more:

    HYPOTHESIS_PROFILE=long uv run pytest tests/test_answer_space.py

Python versions without an interpreter on this machine are left out of the draws (a lock
needs one), and the organisation's index is a real one on loopback (a PyPI mirror that also
holds an internal package), so an accepted index answer can be locked and installed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import answers as answers_gate
import identity
import images
import metadata
import organisation
import pytest
from copier.errors import UserMessageError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pytest_copie.plugin import Copie

from tests.kit import (
    DOCS_CHECK,
    SITE_PAGES,
    alias_bomb,
    answers_of,
    check_green,
    check_schema,
    green_environment,
    images_of,
    interpreter,
    page,
    pipeline,
    read_jsonc,
    render_with,
    run,
)
from tests.servers import Index, publish, serving_index

settings.register_profile(
    "ci",
    max_examples=33,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("long", settings.get_profile("ci"), max_examples=400, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# Text that has broken YAML, TOML, Markdown, shells or a reviewer's eyes somewhere.
HOSTILE_CHARACTERS = "\"'\\:#{}[]&*!|>%@`$\n\r\t\x00\x1b\u202e\u200b\u2028é😀"
hostile_text = st.text(alphabet=st.sampled_from(HOSTILE_CHARACTERS) | st.characters(), max_size=120)
# Names as people type them: words, punctuation, quotes, accents, emoji.
NAME_CHARACTERS = string.ascii_letters + string.digits + " '\"-:&.,#()/éüßÆ✓😀"
names = st.builds(
    lambda first, rest: (first + rest).strip(),
    st.sampled_from(string.ascii_letters),
    st.text(alphabet=NAME_CHARACTERS, max_size=69),
)
# Author names as package metadata holds them (test_answers.py builds the wheel): words of
# letters, digits and punctuation that no e-mail header reads as a separator, single-spaced.
author_names = st.lists(
    st.text(alphabet=string.ascii_letters + string.digits + "'-&.#/éüßÆ✓😀", min_size=1, max_size=12),
    min_size=1,
    max_size=4,
).map(" ".join)
descriptions = st.text(alphabet=NAME_CHARACTERS + "\n\\[]{}*`$%!?", min_size=1, max_size=300).filter(str.strip)
# Dot-atom local parts (no leading, trailing or doubled dot) and host names of whole labels.
emails = st.from_regex(
    r"\A[a-z0-9_+-]{1,10}(\.[a-z0-9_+-]{1,10}){0,2}@([a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\.){1,2}[a-z]{2,6}\Z"
)
words = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=20)
KNOWN_UV = [f"{major}.{minor}" for major, minor in images.UV_RELEASES] + [
    f"{major}.{minor}.{last}" for (major, minor), last in images.UV_RELEASES.items()
]
PYTHONS = [version for version in images.SUPPORTED_PYTHONS if interpreter(version)]
# What YAML makes of a bare scalar in a data file, a settings file or --data: a boolean, a
# number, a null; Copier would cast each to the question's type.
yaml_scalars = st.booleans() | st.integers(-3, 3) | st.sampled_from([3.1, 3.13, 0.1, 0.13, None])
# Spellings of a boolean: YAML's (taken) and others (refused).
boolean_spellings = st.sampled_from(["yes", "No", "on", "OFF", "y", "nope", "maybe", "2", "", "truee"]) | yaml_scalars
# Letters that look like others or show nothing.
LOOKALIKES = ["\u0430", "\u03bf", "\u3164", "\u2800", "\u115f", "\ufe0f", "\u00ad", "\u200d"]
lookalike_names = st.builds(
    lambda name, ch, at: name[:at] + ch + name[at:], names, st.sampled_from(LOOKALIKES), st.integers(0, 8)
)
# Names Python or the project's tools already give a meaning: the tables the rule reads.
taken_modules = st.sampled_from(
    sorted(identity.TOOL_MODULES | identity.SPECIAL_MODULES | frozenset().union(*identity.STDLIB_MODULES.values()))
).filter(lambda name: name.isidentifier() and name.islower()) | st.sampled_from(["__main__", "__pycache__"])
taken_distributions = st.sampled_from(sorted(identity.TOOL_DISTRIBUTIONS | identity.TOOL_SCRIPTS))
# Names misspelt or computed, given as if they were questions.
stray_names = st.sampled_from(["python-version", "pyton_version", "Dockerfile", "images", "package_index"])


def index_spellings(url: str) -> tuple[list[str], list[str]]:
    """The loopback index's URL as people write it: taken (slash or not, the host by name) and
    refused (an upper-case scheme or host, a port out of range, a token, a dot segment)."""
    port = urlsplit(url).port
    taken = [url, url.rstrip("/"), url.replace("127.0.0.1", "localhost")]
    refused = [
        url.replace("https://", "HTTPS://"),
        url.replace("127.0.0.1", "LOCALHOST"),
        url.replace(f":{port}", ":99999"),
        url + "?private_token=glpat-0000",
        url.replace("/simple", "/x/../simple"),
    ]
    return taken, refused


# Text that another tool reads again where an answer lands (docs/questions.md, "Where answers are read
# again"): markup for the HTML Zensical writes, markers for pymdownx.snippets, options for git's
# and uv's command lines, GitLab's variable expansion.
MARKUP = ["<img src=x onerror=alert(1)>", '" /><script>alert(3)</script>', "</title><b>", "&lt;i&gt;", "<!--"]
SNIPPET_MARKERS = ["<!-- --8<-- [end:usage] -->", '--8<-- ".gitlab/ci/template_sync.py"', "-8<- x", ";---8<---"]
OPTIONS = ["--upload-pack=touch PWNED", "-oProxyCommand=x", "--help", "-c", "$CI_JOB_TOKEN", "${HOME}"]
reread_text = st.builds(
    lambda before, part, after: before + part + after,
    st.sampled_from(["", "Acme ", "A\n"]),
    st.sampled_from(MARKUP + SNIPPET_MARKERS + OPTIONS),
    st.sampled_from(["", " Tools", "\nmore"]),
)
# A credential in a URL (the user's password, a query value): never in a refusal, nor a file.
SECRET = "s3cr3t-never-shown"
urls_with_secrets = st.sampled_from(
    [
        f"https://ci:{SECRET}@PyPI.example.com/simple",
        f"HTTPS://pypi.example.com/simple?private_token={SECRET}",
        f"https://ci:{SECRET}@pypi.example.com/simple",
        f"https://pypi.example.com:99999/simple?token={SECRET}",
    ]
)
mirrors_with_secrets = st.sampled_from([f"ci:{SECRET}@mirror.example.com", f"Mirror.example.com/x?t={SECRET}"])


alias_bombs = st.integers(3, 12).map(alias_bomb)

# Renovate's schedule zone: UTC, zones with a sublocation, a DST-free offset zone.
TIME_ZONES = ["UTC", "Europe/Berlin", "America/Argentina/Salta", "Asia/Kolkata", "Etc/GMT-14"]

# A project's address on GitLab, as people give it (groups and subgroups).
repository_urls = st.from_regex(r"\Ahttps://[a-z]{1,10}\.example\.com(/[a-z0-9_-]{1,20}){2,3}\Z")

# What a hostile draw puts in one question instead of an accepted answer.
HOSTILE = {
    "project_name": hostile_text | st.text(min_size=101, max_size=5000) | lookalike_names | yaml_scalars | reread_text,
    "description": hostile_text | st.text(min_size=2001, max_size=5000) | yaml_scalars | reread_text | alias_bombs,
    "author_name": hostile_text
    | lookalike_names
    | st.sampled_from(["Smith, John", "Ann: Team", "A <b>"])
    | reread_text,
    "author_email": hostile_text | st.emails() | st.sampled_from(["a..b@example..com", ".a@b.co", "a@b.c"]),
    "distribution_name": hostile_text
    | st.from_regex(r"\A[a-z][a-z0-9-]{60,90}\Z")
    | taken_distributions
    | yaml_scalars
    | st.sampled_from(OPTIONS),
    "package_name": hostile_text | st.sampled_from(["json", "class", "Payments", "docs"]) | taken_modules,
    "python_version": yaml_scalars | st.sampled_from(["3.9", "3.15", "3.1"]),
    "uv_version": st.from_regex(r"\A\d{1,2}\.\d{1,3}(\.\d{1,3})?\Z") | hostile_text | yaml_scalars,
    "image_mirror": hostile_text | st.text(min_size=201, max_size=5000) | mirrors_with_secrets,
    "package_index_url": hostile_text
    | st.sampled_from(["http://pypi.example.com/simple", "https://x/s?t=1"])
    | urls_with_secrets,
    "ci_runner_tags": st.lists(hostile_text | reread_text, min_size=1, max_size=3)
    | st.just(["docker", "docker"])
    | st.lists(words, min_size=51, max_size=60, unique=True)
    | alias_bombs,
    "image_digests": alias_bombs.map(lambda bomb: {"runtime": bomb}),
    "renovate_timezone": hostile_text | yaml_scalars | st.sampled_from(["CET+1", "Europe/Nowhere", "../etc/localtime"]),
    "repository_url": hostile_text
    | urls_with_secrets
    | st.sampled_from(
        ["http://gitlab.example.com/a/b", "https://gitlab.example.com/a", "HTTPS://gitlab.example.com/a/b"]
    ),
    "license": hostile_text | yaml_scalars | st.sampled_from(["GPL-3.0-or-later", "mit", "MIT OR Apache-2.0"]),
    **dict.fromkeys(
        [
            *("dockerfile", "publish_package", "ci_share_cache_with_merge_requests", "ci_python_matrix"),
            *("renovate", "docs", "devcontainer"),
        ],
        boolean_spellings,
    ),
}


@st.composite
def answer_sets(draw: st.DrawFn, index: Index, index_mode: str | None) -> tuple[dict[str, object], bool]:
    """One answer set from the accepted space, with the organisation's index in ``index_mode``
    (None: no index); one draw in three puts hostile input in one question. Also whether the set
    is wholly from the accepted space (then it must be accepted)."""
    python = draw(st.sampled_from(PYTHONS))
    uv = draw(st.sampled_from(KNOWN_UV))
    answers: dict[str, object] = {
        "project_name": draw(names),
        "description": draw(descriptions),
        "author_name": draw(author_names),
        "author_email": draw(emails),
        "repository_url": draw(st.just("") | repository_urls),
        "license": draw(st.sampled_from([spdx for _, spdx in metadata.licence_choices()])),
        "python_version": python,
        "uv_version": uv,
        "os_flavour": draw(st.sampled_from(images.valid_flavours(python, uv))),
        "image_registry": draw(st.sampled_from(list(images.REGISTRIES))),
        "image_digests": draw(st.dictionaries(st.sampled_from(images.DIGEST_ROLES), st.just("sha256:" + "0" * 64))),
        "dockerfile": draw(st.booleans()),
        "publish_package": draw(st.booleans()),
        "uv_cache_strategy": draw(st.sampled_from(["keep-wheels", "prune"])),
        "ci_share_cache_with_merge_requests": draw(st.booleans()),
        "ci_python_matrix": draw(st.booleans()),
        "ci_runner_tags": draw(st.lists(words, max_size=3, unique=True)),
        "renovate_timezone": draw(st.sampled_from(TIME_ZONES)),
        "devcontainer": draw(st.booleans()),
    }
    # The site where Zensical runs (3.11 and newer): asked for on 3.10, it is refused.
    if python != "3.10" or draw(st.integers(0, 3)) == 3:
        answers["docs"] = draw(st.booleans())
    if answers["image_registry"] == "mirror":
        answers["image_mirror"] = draw(st.from_regex(r"\A[a-z0-9]{1,20}\.[a-z]{2,6}(/[a-z0-9]{1,20}){0,2}\Z"))
    clean = not (python == "3.10" and answers.get("docs"))
    if index_mode:
        taken, refused = index_spellings(index.url)
        answers["package_index_url"] = draw(st.sampled_from(taken + refused))
        clean = answers["package_index_url"] in taken
        answers["package_index_mode"] = index_mode
        # The job token is refused for an index that is not a GitLab registry (this one).
        answers["package_index_auth"] = draw(st.sampled_from(["ci-variables", "ci-variables", "gitlab-job-token"]))
        answers["package_index_packages"] = draw(st.lists(st.sampled_from(["acme-utils", "ledger"]), unique=True))
        clean = clean and answers["package_index_auth"] == "ci-variables"
    # Hypothesis favours the simplest draws (0, the first element): the accepted answer is it.
    if draw(st.integers(0, 2)) == 2:
        question = draw(st.sampled_from(sorted(HOSTILE)))
        answers[question] = draw(HOSTILE[question])
        if question == "image_mirror":
            answers["image_registry"] = "mirror"
        clean = False
    if draw(st.integers(0, 15)) == 15:
        answers[draw(stray_names)] = draw(st.sampled_from(["3.12", "{}", "true"]))
        clean = False
    return answers, clean


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Iterator[Index]:
    root = tmp_path_factory.mktemp("answer-space-index")
    with serving_index(root / "server", mirror=True) as index:
        publish(index, root, "acme-utils", "1.0.0")
        yield index


Site = dict[str, list[tuple[str, tuple[str, ...]]]]
Sites = Callable[[str], Site]  # a plain project's site, by its licence (an open one adds its page)


def shape(site: Path, name: str) -> list[tuple[str, tuple[str, ...]]]:
    """What an answer could change in a page's elements: all of them but line breaks (the home
    page shows each line of the description), up to the usage page's article (the README's
    usage section, which other answers change: an index adds its steps)."""
    elements = [element for element in page(site, name).elements if element[0] != "br"]
    if name == "usage/index.html":
        elements = elements[: next(i for i, (tag, _) in enumerate(elements) if tag == "article")]
    return elements


@pytest.fixture(scope="module")
def plain_site(template_repo, copie_session, tmp_path_factory) -> Sites:
    """The shape of each page of a plain project's docs site, with a licence like the one given
    (proprietary or open: an open one has a licence page in every page's navigation). Made once
    per run: the first worker that needs one writes it where the others read it, under a lock."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the run's folder

    def plain(licence: str) -> Site:
        kind = "open" if metadata.is_open(licence) else "proprietary"
        made = shared / f"plain-site-{kind}.json"
        with (shared / f"plain-site-{kind}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not made.exists():
                project = render_with(copie_session, template_repo, {"docs": True, "license": licence})
                run(DOCS_CHECK, project, green_environment(answers_of(project)["python_version"]))
                made.write_text(json.dumps({name: shape(project / "public", name) for name in SITE_PAGES}))
        return {
            name: [(tag, tuple(attrs)) for tag, attrs in elements]
            for name, elements in json.loads(made.read_text()).items()
        }

    return plain


def check_invariant(
    copie: Copie,
    template: Path,
    answers: dict[str, object],
    env: dict[str, str],
    index_log: Path,
    plain_site: Sites,
    *,
    clean: bool,
) -> None:
    """Refused before a file is written, or rendered green (lock, format, lint, tests, schema)
    and safe (``check_safe``); accepted whenever the answers are all from the accepted space
    (a refusal of a good answer is a bug too)."""
    index_log.write_text("")
    written_before = {path for path in Path(copie.test_dir).rglob("*") if path.is_file()}
    refused: UserMessageError | None = None
    try:
        project = render_with(copie, template, answers, env, reuse=False)  # its lock must ask the index
    except UserMessageError as error:
        refused = error
    if refused is not None:
        assert str(refused).startswith(answers_gate.REFUSED), refused  # the gate's, not a template that broke
        assert SECRET not in str(refused), refused  # masked in every line and hint
        assert len(str(refused)) < 4000, "a refusal is a few short lines, whatever the answer's size"
        assert not clean, f"answers from the accepted space were refused: {refused}"
        assert {path for path in Path(copie.test_dir).rglob("*") if path.is_file()} == written_before
        event(f"refused: {str(refused).splitlines()[1].split(' ')[3]}")
        return
    event("accepted")
    assert (project / "uv.lock").is_file(), "accepted, but the copy could not lock"
    check_green(project, env)
    check_schema(project)
    check_safe(project, answers, index_log)
    check_read_again(project, plain_site)


def check_safe(project: Path, answers: dict[str, object], index_log: Path) -> None:
    """Accepted and green, and safe: the index the answers name is the one uv asked (its log
    grew during this render), and the job token goes to no index that is not a GitLab
    registry, nor to any index outside the host check; Renovate reads its schedule in the
    zone the answers give."""
    renovate = json.loads((project / "renovate.json").read_text(encoding="utf-8"))
    assert renovate["timezone"] == answers.get("renovate_timezone", "UTC")
    recorded = answers_of(project)
    if recorded["devcontainer"]:  # its name and image, exactly as answered and derived
        devcontainer = read_jsonc(project / ".devcontainer" / "devcontainer.json")
        assert devcontainer["name"] == recorded["project_name"]
        assert devcontainer["image"] == images_of(project)["devcontainer"]
    else:
        assert not (project / ".devcontainer").exists()
    url = answers.get("package_index_url")
    if not url:
        return
    assert index_log.read_text().strip(), f"uv never asked the index {url!r} the project names"
    ci = pipeline(project)
    assert "CI_JOB_TOKEN" not in json.dumps(ci.get("variables", {}))
    before = "\n".join(ci[".template-job"]["before_script"])
    if "CI_JOB_TOKEN" in before:
        assert organisation.is_gitlab_registry(str(url))
        assert "CI_SERVER_HOST" in before


# The marker lines of pymdownx.snippets the template itself writes (README's usage section, the
# includes of docs/usage.md, changelog.md, contributing.md and, for an open licence, license.md);
# an answer adds none.
SNIPPET_LINE = re.compile(r"^\s*(<!--\s*)?-+8<-+", re.MULTILINE)
TEMPLATE_SNIPPET_LINES = 5


def check_read_again(project: Path, plain_site: Sites) -> None:
    """Each answer as the tools that read its file again take it (docs/questions.md, "Where answers are
    read again"): each page of the site Zensical built (check_green ran its build) has the
    shape of a plain project's (``shape``) and shows the name as typed; pymdownx.snippets finds only the template's
    marker lines in the Markdown it reads; GitLab expands no variable in a job's tags; no name
    reaches a command line as an option; no credential is anywhere in the project."""
    recorded = answers_of(project)
    if recorded.get("docs"):
        for name in SITE_PAGES:
            assert shape(project / "public", name) == plain_site(recorded["license"])[name], name
            text = " ".join(page(project / "public", name).text)
            assert " ".join(str(recorded["project_name"]).split()) in " ".join(text.split()), name
        markdown = [project / "README.md", *sorted((project / "docs").glob("*.md"))]
        marker_lines = sum(len(SNIPPET_LINE.findall(path.read_text(encoding="utf-8"))) for path in markdown)
        assert marker_lines == TEMPLATE_SNIPPET_LINES + metadata.is_open(recorded["license"])
    for name in ("distribution_name", "package_name"):
        assert not str(recorded[name]).startswith("-")  # never an option where a command line reads it
    for job in pipeline(project).values():
        if isinstance(job, dict):
            assert not any("$" in str(tag) for tag in job.get("tags", [])), job["tags"]
    for path in project.rglob("*"):
        if path.is_file() and ".venv" not in path.parts:
            assert SECRET.encode() not in path.read_bytes(), path


def check_drawn(
    data: st.DataObject, mirror: Index, index_mode: str | None, template: Path, copie: Copie, plain_site: Sites
) -> None:
    answers, clean = data.draw(answer_sets(mirror, index_mode), label="answers")
    check_invariant(copie, template, answers, mirror.env(), mirror.log, plain_site, clean=clean)


# The space in three parts, one test each (each its own random stream, and the two workers of
# a run share them out): no organisation index, one beside PyPI, one in place of PyPI. Each part
# draws a third of the profile's examples.
PART = settings(max_examples=-(-settings.default.max_examples // 3))


@PART
@given(data=st.data())
def test_every_answer_without_an_index_is_refused_before_writing_or_gives_a_green_project(
    data, mirror, template_repo, copie_session, plain_site
):
    check_drawn(data, mirror, None, template_repo, copie_session, plain_site)


@PART
@given(data=st.data())
def test_every_answer_with_an_index_beside_pypi_is_refused_before_writing_or_gives_a_green_project(
    data, mirror, template_repo, copie_session, plain_site
):
    check_drawn(data, mirror, "beside", template_repo, copie_session, plain_site)


@PART
@given(data=st.data())
def test_every_answer_with_an_index_in_place_of_pypi_is_refused_before_writing_or_gives_a_green_project(
    data, mirror, template_repo, copie_session, plain_site
):
    check_drawn(data, mirror, "replace", template_repo, copie_session, plain_site)
