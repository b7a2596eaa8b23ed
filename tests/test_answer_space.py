"""Every answer the template accepts gives a green project; every other is refused before a
file is written. A property-based test (Hypothesis) draws whole answer sets from each
question's accepted space and from hostile text, and checks that invariant for each.

In CI it runs a fixed, derandomised budget (the ``ci`` profile); a longer run explores more:

    HYPOTHESIS_PROFILE=long uv run pytest tests/test_answer_space.py

Python versions without an interpreter on this machine are left out of the draws (a lock
needs one), and the organisation's index is a real one on loopback (a PyPI mirror that also
holds an internal package), so an accepted index answer can be locked and installed.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterator
from pathlib import Path

import answers as answers_gate
import images
import pytest
from copier.errors import UserMessageError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pytest_copie.plugin import Copie

from tests.kit import check_green, check_schema, interpreter, render_with
from tests.servers import Index, publish, serving_index

settings.register_profile(
    "ci",
    max_examples=40,
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
descriptions = st.text(alphabet=NAME_CHARACTERS + "\n\\[]{}*`$%!?", min_size=1, max_size=300).filter(str.strip)
emails = st.from_regex(r"\A[a-z0-9._+-]{1,20}@[a-z0-9-]{1,15}\.[a-z]{2,6}\Z")
words = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=20)
KNOWN_UV = [f"{major}.{minor}" for major, minor in images.UV_RELEASES] + [
    f"{major}.{minor}.{last}" for (major, minor), last in images.UV_RELEASES.items()
]
PYTHONS = [version for version in images.SUPPORTED_PYTHONS if interpreter(version)]
# What a hostile draw puts in one question instead of an accepted answer.
HOSTILE = {
    "project_name": hostile_text | st.text(min_size=101, max_size=5000),
    "description": hostile_text | st.text(min_size=2001, max_size=5000),
    "author_name": hostile_text,
    "author_email": hostile_text | st.emails(),
    "distribution_name": hostile_text | st.from_regex(r"\A[a-z][a-z0-9-]{60,90}\Z") | st.just("pytest"),
    "package_name": hostile_text | st.sampled_from(["json", "class", "pytest", "_pytest", "Payments"]),
    "uv_version": st.from_regex(r"\A\d{1,2}\.\d{1,3}(\.\d{1,3})?\Z") | hostile_text,
    "image_mirror": hostile_text | st.text(min_size=201, max_size=5000),
    "package_index_url": hostile_text | st.sampled_from(["http://pypi.example.com/simple", "https://x/s?t=1"]),
    "ci_runner_tags": st.lists(hostile_text, min_size=1, max_size=3) | st.just(["docker", "docker"]),
}


@st.composite
def answer_sets(draw: st.DrawFn, index: Index) -> dict[str, object]:
    """One answer set from the accepted space; one draw in four puts hostile input in one question."""
    python = draw(st.sampled_from(PYTHONS))
    uv = draw(st.sampled_from(KNOWN_UV))
    answers: dict[str, object] = {
        "project_name": draw(names),
        "description": draw(descriptions),
        "author_name": draw(names),
        "author_email": draw(emails),
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
    }
    if answers["image_registry"] == "mirror":
        answers["image_mirror"] = draw(st.from_regex(r"\A[a-z0-9]{1,20}\.[a-z]{2,6}(/[a-z0-9]{1,20}){0,2}\Z"))
    if draw(st.booleans()):
        answers["package_index_url"] = index.url
        answers["package_index_mode"] = draw(st.sampled_from(["beside", "replace"]))
        answers["package_index_auth"] = "ci-variables"
        answers["package_index_packages"] = draw(st.lists(st.sampled_from(["acme-utils", "ledger"]), unique=True))
    if draw(st.integers(0, 3)) == 0:
        question = draw(st.sampled_from(sorted(HOSTILE)))
        answers[question] = draw(HOSTILE[question])
        if question == "image_mirror":
            answers["image_registry"] = "mirror"
    return answers


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Iterator[Index]:
    root = tmp_path_factory.mktemp("answer-space-index")
    with serving_index(root / "server", mirror=True) as index:
        publish(index, root, "acme-utils", "1.0.0")
        yield index


def check_invariant(copie: Copie, template: Path, answers: dict[str, object], env: dict[str, str]) -> None:
    """Refused before a file is written, or rendered green (lock, format, lint, tests, schema)."""
    written_before = {path for path in Path(copie.test_dir).rglob("*") if path.is_file()}
    refused: UserMessageError | None = None
    try:
        project = render_with(copie, template, answers, env)
    except UserMessageError as error:
        refused = error
    if refused is not None:
        assert str(refused).startswith(answers_gate.REFUSED), refused  # the gate's, not a template that broke
        assert {path for path in Path(copie.test_dir).rglob("*") if path.is_file()} == written_before
        event(f"refused: {str(refused).splitlines()[1].split(' ')[3]}")
        return
    event("accepted")
    assert (project / "uv.lock").is_file(), "accepted, but the copy could not lock"
    check_green(project, env)
    check_schema(project)


@given(data=st.data())
def test_every_answer_is_refused_before_writing_or_gives_a_green_project(data, mirror, template_repo, copie_session):
    check_invariant(copie_session, template_repo, data.draw(answer_sets(mirror), label="answers"), mirror.env())
