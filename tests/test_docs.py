"""The documentation site: built strictly by the `docs` job in branches and merge requests,
published by `pages` from the default branch, both run for real by gitlab-ci-local; the built
site opened in headless Chromium; and nothing of it when the answer is no.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import tools
from PIL import Image

from tests.kit import (
    DISTRIBUTION,
    OFFLINE,
    PACKAGE,
    ROOT,
    CommandFailed,
    answers_of,
    check_green,
    check_schema,
    commit_all,
    copier_cli,
    edit,
    git,
    headless_chromium,
    job_names,
    listed_jobs,
    pipeline,
    read_toml,
    render_with,
    run,
    run_pipeline,
)
from tests.site import MISSING, broken_links, browse, gitlab_variables

# Where the screenshots of the built site are kept after the run (the repository's pipeline
# keeps them as the suite job's artifacts).
SCREENSHOTS = ROOT / ".test-artifacts"
# A default project's pages: the home page, the README's usage, the API, and its changelog and
# contributing guide (a proprietary package has no licence page).
PAGES = {"index.md", "usage.md", "api.md", "changelog.md", "contributing.md"}


@pytest.fixture(scope="module")
def site(copie_session, template_repo, tmp_path_factory) -> Path:
    """A default render, committed on main, whose `pages` job ran in gitlab-ci-local."""
    project = commit_all(render_with(copie_session, template_repo), "generated")
    # On an origin, as on GitLab: a merge request's `rules: changes` compare with origin/main.
    # A folder of its own: xdist sets a module fixture up again when a worker comes back to the module.
    origin = tmp_path_factory.mktemp("docs-origin") / "origin.git"
    git(origin.parent, "clone", "-q", "--bare", str(project), origin.name)
    git(project, "remote", "add", "origin", str(origin))
    git(project, "fetch", "-q", "origin")
    variables = [arg for name, value in gitlab_variables(PROJECT).items() for arg in ("--variable", f"{name}={value}")]
    run_pipeline(project, *variables, jobs=["pages"])
    return project


PROJECT = "payments/payment-service"  # where the project lives on GitLab, in these tests


def built(project: Path, job: str) -> Path:
    """The `public/` folder ``job`` left as its artifact."""
    return project / ".gitlab-ci-local" / "artifacts" / job / "public"


def test_a_default_project_has_the_site_its_tools_and_its_two_jobs(site):
    assert answers_of(site)["docs"] is True
    assert {path.name for path in (site / "docs").iterdir()} == PAGES
    assert read_toml(site / "pyproject.toml")["dependency-groups"]["docs"] == tools.DOCS
    assert read_toml(site / "zensical.toml")["project"]["site_dir"] == "public"
    check_schema(site)
    ci = pipeline(site)
    for job in ("docs", "pages"):
        assert ".docs" in ci[job]["extends"]
    assert ci[".docs"]["extends"] == ".uv"  # the one base job: image, settings, its own cache
    assert ci[".docs"]["variables"]["UV_CACHE_NAME"] == "docs"
    assert ci[".docs"]["script"][0].startswith("python3 .gitlab/ci/site_urls.py zensical.toml")
    assert "uv sync --locked --no-default-groups --group docs" in ci[".docs"]["script"][1]
    assert "zensical build --strict" in ci[".docs"]["script"][2]


def test_pages_publishes_the_site_from_the_default_branch_alone_and_docs_checks_every_other_change(site):
    main = job_names(listed_jobs(site))
    assert "pages" in main
    assert "docs" not in main
    # GitLab sets no CI_COMMIT_BRANCH in a merge request's pipeline (docs.gitlab.com/ci/variables/
    # predefined_variables: "Not available in merge request pipelines"); gitlab-ci-local sets the
    # checkout's branch, so the test empties it as GitLab leaves it.
    request_pipeline = ("--variable", "CI_PIPELINE_SOURCE=merge_request_event", "--variable", "CI_COMMIT_BRANCH=")
    request = job_names(listed_jobs(site, *request_pipeline))
    assert "docs" in request
    assert "pages" not in request
    schedule = job_names(listed_jobs(site, "--variable", "CI_PIPELINE_SOURCE=schedule"))
    assert not {"docs", "pages"} & schedule  # the template's jobs; no page changed


def test_the_pages_job_builds_public_index_html_with_every_page(site):
    public = built(site, "pages")
    assert (public / "index.html").is_file()
    usage = (public / "usage" / "index.html").read_text(encoding="utf-8")
    assert f"uv run {DISTRIBUTION} --help" in usage  # the README's usage section, included
    api = (public / "api" / "index.html").read_text(encoding="utf-8")
    assert f'id="{PACKAGE}.greet"' in api
    assert "Return a greeting for" in api  # greet's docstring


def test_the_site_has_the_projects_addresses_and_works_under_its_pages_sub_path(site, tmp_path):
    public = built(site, "pages")
    variables = gitlab_variables(PROJECT)
    pages_url = variables["CI_PAGES_URL"] + "/"
    usage = (public / "usage" / "index.html").read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{pages_url}usage/">' in usage
    assert f'href="{variables["CI_PROJECT_URL"]}/-/edit/main/docs/usage.md"' in usage  # the edit button
    assert f'href="{variables["CI_PROJECT_URL"]}"' in usage  # the repository link in the header
    assert "Unreleased" in (public / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "uv run prek install" in (public / "contributing" / "index.html").read_text(encoding="utf-8")
    assert broken_links(public, pages_url) == []
    prefix = urlsplit(pages_url).path
    console, requests = browse(public, tmp_path, prefix)
    assert console == []
    failed = [(path, status) for path, status in requests if status not in {HTTPStatus.OK, HTTPStatus.NOT_MODIFIED}]
    assert failed == [(prefix + MISSING, HTTPStatus.NOT_FOUND)]  # the 404 page's styles and scripts load there
    assert {f"{prefix}changelog/", f"{prefix}contributing/"} <= {path for path, _ in requests}


def test_the_built_site_shows_the_projects_name_and_its_public_function_in_a_browser(site, tmp_path):
    public = built(site, "pages")
    command = headless_chromium(tmp_path)
    home = run([*command, "--dump-dom", (public / "index.html").as_uri()], tmp_path)
    assert "<h1>Payment Service</h1>" in home
    assert "Takes payments and keeps the books straight." in home
    api = run([*command, "--dump-dom", (public / "api" / "index.html").as_uri()], tmp_path)
    assert re.search(rf'<h3 id="{PACKAGE}.greet"[^>]*>.*greet', api, re.DOTALL), "no API entry for greet"
    SCREENSHOTS.mkdir(exist_ok=True)
    for name, page in {"docs-home": public / "index.html", "docs-api": public / "api" / "index.html"}.items():
        shot = SCREENSHOTS / f"{name}.png"
        shot.unlink(missing_ok=True)
        run([*command, f"--screenshot={shot}", "--window-size=1280,900", page.as_uri()], tmp_path)
        with Image.open(shot) as image:
            assert image.size == (1280, 900)
            pixels = image.convert("RGB")
            colours = {colour for _, colour in pixels.getcolors(maxcolors=1 << 20)}
            navigation = {pixels.getpixel((x, y)) for x in range(0, 260, 4) for y in range(60, 400, 4)}
        # Drawn (text anti-aliased) and styled by the theme: the navigation marks the page it is
        # on with a light blue band, which no unstyled page has (its links are dark blue text).
        assert len(colours) > 50, f"{shot}: {len(colours)} colours"
        assert any(min(r, g, b) > 200 and b - r > 10 for r, g, b in navigation), f"{shot}: not styled"
        print(f"screenshot: {shot}")


def test_a_docstring_with_a_broken_cross_reference_fails_the_docs_job(copie, template_repo):
    project = render_with(copie, template_repo)
    edit(
        project / "src" / PACKAGE / "greeting.py",
        '    """Return a greeting for ``name``.\n',
        f'    """Return a greeting for ``name``, as [the farewell][{PACKAGE}.farewell] does not.\n',
    )
    commit_all(project, "generated")
    git(project, "checkout", "-q", "-b", "feature")
    proc = run_pipeline(project, jobs=["docs"], protected=False, check=False)
    assert proc.returncode != 0, proc.stdout
    assert f"unresolved autoref `{PACKAGE}.farewell`" in proc.stdout
    assert re.search(r"FAIL\s+docs\b", proc.stdout)


def test_the_docs_job_builds_the_same_site_in_a_branch_pipeline(copie, template_repo):
    project = commit_all(render_with(copie, template_repo), "generated")
    git(project, "checkout", "-q", "-b", "feature")
    run_pipeline(project, jobs=["docs"], protected=False)
    assert (built(project, "docs") / "api" / "index.html").is_file()


def test_without_docs_nothing_of_the_site_remains(render):
    project = render(docs=False, env=OFFLINE)
    assert not (project / "docs").exists()
    assert not (project / "zensical.toml").exists()
    assert "docs" not in read_toml(project / "pyproject.toml")["dependency-groups"]
    assert not (project / ".gitlab" / "ci" / "docs.gitlab-ci.yml").exists()
    assert not {"docs", "pages", ".docs"} & set(pipeline(project))
    check_schema(project)
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "zensical" not in readme.lower()
    assert "docs/" not in readme
    assert "zensical" not in (project / "renovate.json").read_text(encoding="utf-8")


def test_a_project_that_turns_docs_on_with_an_update_gets_the_site_and_builds_it(render):
    """The README's usage markers are there from the copy on (invisible comments), so the usage
    page an update writes includes it; the pages, zensical.toml and the group arrive with it."""
    project = commit_all(render(docs=False), "generated")
    readme = (project / "README.md").read_text(encoding="utf-8")
    copier_cli("update", "--data", "docs=true", cwd=project, data={})
    assert (project / "README.md").read_text(encoding="utf-8") == readme  # the team's, untouched
    assert {path.name for path in (project / "docs").iterdir()} == PAGES
    assert "docs" in read_toml(project / "pyproject.toml")["dependency-groups"]
    assert {"docs", "pages"} <= set(pipeline(project))
    run(["uv", "sync", "--locked", "--no-default-groups", "--group", "docs"], project)
    run(["uv", "run", "--no-sync", "zensical", "build", "--strict"], project)
    assert "The only tool you need" in (project / "public" / "usage" / "index.html").read_text(encoding="utf-8")


def test_turning_docs_off_with_an_update_leaves_no_job_and_keeps_the_pages_the_team_wrote(render):
    project = render()
    with (project / "docs" / "index.md").open("a", encoding="utf-8") as home:
        home.write("\nOn-call: #payments.\n")
    commit_all(project, "generated, and a line of the team's")
    copier_cli("update", "--data", "docs=false", cwd=project, data={})
    assert not {"docs", "pages", ".docs"} & set(pipeline(project))
    assert not (project / ".gitlab" / "ci" / "docs.gitlab-ci.yml").exists()
    assert "docs" not in read_toml(project / "pyproject.toml")["dependency-groups"]
    assert not (project / "zensical.toml").exists()
    assert not (project / "docs" / "api.md").exists()  # untouched: removed with the feature
    assert "On-call: #payments." in (project / "docs" / "index.md").read_text(encoding="utf-8")  # the team's
    check_schema(project)


def test_docs_is_refused_with_a_python_zensical_does_not_run_on_and_off_by_default_there(refusal, render):
    message = refusal(python_version="3.10", docs=True)
    assert "docs needs Python 3.11 or newer" in message
    assert "answer docs=false" in message
    assert answers_of(render(python_version="3.10", env=OFFLINE))["docs"] is False


def test_the_hostile_text_of_the_answers_reaches_the_site_as_text(render, tmp_path):
    """The description and the name are escaped for the page: Markdown and HTML in them stay words
    (a `[x][y]` would otherwise be a broken reference). The snippet syntax (`--8<--`, an include
    wherever pymdownx.snippets reads the README) is refused outright (tests/test_answers_as_data.py)."""
    name = 'Ledger <b>"Q&A"</b> [x][y]'
    description = "Books & [ledgers][nowhere]\n<script>alert(1)</script> `code` *stars*"
    project = render(project_name=name, distribution_name="ledger", description=description)
    run(["uv", "sync", "--locked", "--no-default-groups", "--group", "docs"], project)
    run(["uv", "run", "--no-sync", "zensical", "build", "--strict"], project)
    home = run([*headless_chromium(tmp_path), "--dump-dom", (project / "public" / "index.html").as_uri()], tmp_path)
    assert '<h1>Ledger &lt;b&gt;"Q&amp;A"&lt;/b&gt; [x][y]</h1>' in home
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home  # a text node, as the browser serialises it
    assert "<script>alert" not in home


def test_a_project_whose_site_does_not_build_is_not_green(render):
    """The green check (every accepted answer gives one) builds the site too."""
    project = render()
    (project / "docs" / "api.md").write_text("# API\n\n::: nothing_here\n", encoding="utf-8")
    with pytest.raises(CommandFailed, match="zensical build --strict"):
        check_green(project)
