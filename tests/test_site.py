"""This repository's documentation site: the pages every reader needs are in its navigation, the
questions page's table is copier.yml's, the README stays a five-minute read that links into the
site, and the site builds with --strict and opens in headless Chromium with no broken link and no
console message.
"""

from __future__ import annotations

import re
import shutil
import sys
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests import site
from tests.kit import ROOT, headless_chromium, run

SCREENSHOTS = ROOT / ".test-artifacts"
README = ROOT / "README.md"


@pytest.mark.fast
def test_the_navigation_lists_every_required_page_and_every_page_is_in_it():
    listed = site.navigation()
    assert set(site.REQUIRED_PAGES) <= set(listed), set(site.REQUIRED_PAGES) - set(listed)
    pages = {path.relative_to(ROOT / "docs").as_posix() for path in (ROOT / "docs").rglob("*.md")}
    assert set(listed) == pages  # no page the reader cannot reach, no entry without a page
    assert len(listed) == len(set(listed))


@pytest.mark.fast
def test_the_questions_table_is_made_from_copier_yml():
    page = site.QUESTIONS_PAGE.read_text(encoding="utf-8")
    assert site.with_table(page) == page, "run `uv run python -m tests.site` after changing copier.yml"
    table = page.split(site.START)[1].split(site.END)[0]
    assert [re.match(r"\| `(\w+)` \|", row).group(1) for row in table.strip().splitlines()[2:]] == list(
        site.questions()
    )


@pytest.mark.fast
def test_a_question_added_to_copier_yml_fails_the_check_until_the_table_is_made_again(monkeypatch):
    page = site.QUESTIONS_PAGE.read_text(encoding="utf-8")
    added = {**site.questions(), "team_channel": {"type": "str", "help": "The team's chat <channel>.", "default": ""}}
    monkeypatch.setattr(site, "questions", lambda: added)
    assert site.with_table(page) != page
    assert '| `team_channel` | The team\'s chat &lt;channel&gt;. |  | `""` | always |' in site.with_table(page)


@pytest.mark.fast
def test_a_computed_default_nobody_described_fails_the_table(monkeypatch):
    spec = {"type": "str", "help": "Where the team sits.", "default": "{{ office_of(author_email) }}"}
    monkeypatch.setattr(site, "questions", lambda: {"office": spec})
    with pytest.raises(KeyError, match="office_of"):
        site.questions_table()


@pytest.mark.fast
def test_the_readme_is_a_five_minute_read_whose_links_reach_every_page():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", text))
    assert set(site.REQUIRED_PAGES) <= linked, set(site.REQUIRED_PAGES) - linked
    for page in linked:
        assert (ROOT / "docs" / page).is_file(), page
    assert "uv run pytest" in text
    assert "copier copy --trust --defaults" in text


PROJECT = "platform/copier-uv-gitlab"  # where the repository lives on GitLab, in these tests


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The site as the `pages` job builds it: its GitLab addresses written in (under a Pages
    sub-path), then `zensical build --strict`, in a copy of the repository's pages."""
    folder = tmp_path_factory.mktemp("site")
    shutil.copytree(ROOT / "docs", folder / "docs")  # the charts' links followed
    shutil.copy2(ROOT / "zensical.toml", folder)
    run([sys.executable, site.SITE_URLS, "zensical.toml"], folder, site.gitlab_variables(PROJECT))
    run([Path(sys.executable).parent / "zensical", "build", "--strict"], folder)  # the dev group's
    return folder / "public"


def test_the_site_builds_strictly_with_its_gitlab_addresses_and_no_page_links_to_a_file_it_lacks(built):
    pages = {page.parent.name for page in site.pages_of(built)}
    assert pages >= {Path(name).stem for name in site.REQUIRED_PAGES} - {"index"}
    pages_url = site.gitlab_variables(PROJECT)["CI_PAGES_URL"] + "/"
    assert site.broken_links(built, pages_url) == []
    security = (built / "security" / "index.html").read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{pages_url}security/">' in security
    assert f'href="https://gitlab.example.com/{PROJECT}/-/edit/main/docs/security.md"' in security
    questions = (built / "questions" / "index.html").read_text(encoding="utf-8")
    for name in site.questions():
        assert f"<code>{name}</code>" in questions


def test_every_page_opens_under_a_pages_sub_path_with_no_console_message_or_failed_request(built, tmp_path):
    prefix = urlsplit(site.gitlab_variables(PROJECT)["CI_PAGES_URL"]).path + "/"
    console, requests = site.browse(built, tmp_path, prefix)
    assert console == []
    failed = [(path, status) for path, status in requests if status not in {HTTPStatus.OK, HTTPStatus.NOT_MODIFIED}]
    assert failed == [(prefix + site.MISSING, HTTPStatus.NOT_FOUND)]  # the 404 page's own assets load
    asked = {path for path, _ in requests}
    assert {prefix, f"{prefix}questions/", f"{prefix}fleet-report/"} <= asked
    assert any(path.startswith(f"{prefix}assets/stylesheets/") for path in asked)


def test_the_home_page_is_drawn_and_styled(built, tmp_path):
    command = headless_chromium(tmp_path)
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / "template-site-home.png"
    shot.unlink(missing_ok=True)
    run([*command, f"--screenshot={shot}", "--window-size=1280,900", (built / "index.html").as_uri()], tmp_path)
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 50, f"{shot}: {len(colours)} colours"  # drawn and styled, not a blank page
    print(f"screenshot: {shot}")
