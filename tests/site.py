"""The template's documentation site (`zensical.toml`, `docs/`): the pages it must have, the
questions page's reference table, made from copier.yml rather than by hand, and how a built
site is checked as its readers meet it (on GitLab Pages under a sub-path, in Chromium), for this
site and a generated project's alike.

    uv run python -m tests.site     # rewrite the table in docs/questions.md; tests/test_site.py checks it
"""

from __future__ import annotations

import html
import json
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from extensions.registry import MODULES  # the rule modules, loaded as Copier's extension loads them
from tests.kit import ROOT, headless_chromium, run
from tests.servers import serving_pages

answers_gate, images, metadata = MODULES["answers"], MODULES["images"], MODULES["metadata"]

QUESTIONS_PAGE = ROOT / "docs" / "questions.md"
START = "<!-- The table below is made from copier.yml by `uv run python -m tests.site`: edit copier.yml. -->"
END = "<!-- End of the table made from copier.yml. -->"

# The pages every reader needs, by the file that holds each (the site's navigation must list them).
REQUIRED_PAGES = {
    "index.md": "what the template is",
    "getting-started.md": "the two commands",
    "questions.md": "the questions, from copier.yml",
    "generated-project.md": "the generated project, file by file",
    "pipeline.md": "the pipeline",
    "caches.md": "caches and the benchmarks",
    "security.md": "the security model",
    "organisation.md": "adopting in an organisation",
    "updating.md": "updating, and the template-update job",
    "renovate.md": "Renovate",
    "fleet.md": "the fleet",
    "maintaining.md": "layout, the test tiers, releasing",
}

# A default copier.yml computes, as a reader understands it. A question whose default is a new
# expression fails the table (and its test) until it is described here.
COMPUTED_DEFAULTS = {
    "{{ _folder_name }}": "the destination folder's name",
    "{{ default_distribution_name(project_name) }}": "from `project_name`: `Payment Service` → `payment-service`",
    "{{ default_package_name(distribution_name) }}": "from `distribution_name`: `payment_service`",
    "{{ project_name }}.": "`<project_name>.`",
    "{{ git_config('user.name', 'Example Team') }}": "your git `user.name`, else `Example Team`",
    "{{ git_config('user.email', 'team@example.com') }}": "your git `user.email`, else `team@example.com`",
    "{{ default_auth(package_index_url) }}": "`gitlab-job-token` for a GitLab registry URL, else `ci-variables`",
    "{{ not own_renovate_config(_copier_conf.dst_path) }}": "`true`, `false` beside a Renovate file",
    "{{ docs_supported(python_version) }}": "`true`, `false` on Python 3.10",
    "{{ default_repository_url(_copier_conf.dst_path) }}": 'the git remote `origin`\'s web address, else `""`',
}

# Choices copier.yml computes (the image table's, the licences), as values.
COMPUTED_CHOICES = {
    "{{ python_choices() | tojson }}": images.python_choices,
    "{{ os_flavour_choices(python_version, uv_version) | tojson }}": lambda: list(images.OS_FLAVOUR_ANSWERS),
    "{{ registry_choices() | tojson }}": lambda: [value for _, value in images.registry_choices()],
    "{{ licence_choices() | tojson }}": lambda: [value for _, value in metadata.licence_choices()],
}


def questions() -> dict[str, dict[str, Any]]:
    """copier.yml's questions, in order: what it asks (its hidden, derived values left out)."""
    return {
        name: spec
        for name, spec in answers_gate.questions_of(str(ROOT / "copier.yml")).items()
        if not answers_gate.computed(spec)
    }


def literal(value: object) -> str:
    """A value as YAML and `--data` spell it, in backticks: `true`, `3.13`, `""`, `[]`."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, str):
        text = value or '""'
    else:
        text = json.dumps(value)
    return f"`{text}`"


def markdown_text(text: str) -> str:
    """Help text as one table cell: `<`, `>` and `&` as text outside code spans, `|` escaped."""
    parts = " ".join(text.split()).split("`")
    cell = "`".join(part if i % 2 else html.escape(part, quote=False) for i, part in enumerate(parts))
    return cell.replace("|", "\\|")


def default_of(spec: dict[str, Any]) -> str:
    default = spec.get("default", "")
    if isinstance(default, str) and "{{" in default:
        return COMPUTED_DEFAULTS[default.strip()]
    return literal(default)


def choices_of(spec: dict[str, Any]) -> str:
    choices = spec.get("choices")
    if choices is None:
        return ""
    values = COMPUTED_CHOICES[choices.strip()]() if isinstance(choices, str) else list(choices.values())
    return ", ".join(literal(value) for value in values)


def asked_when(spec: dict[str, Any]) -> str:
    when = spec.get("when")
    if when is None:
        return "always"
    return f"`{when.strip().removeprefix('{{').removesuffix('}}').strip()}`"


def questions_table() -> str:
    """The reference table of every question copier.yml asks, in its order."""
    rows = ["| question | what it asks | choices | default | asked when |", "| --- | --- | --- | --- | --- |"]
    for name, spec in questions().items():
        cells = [f"`{name}`", markdown_text(spec["help"]), choices_of(spec), default_of(spec), asked_when(spec)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def with_table(page: str) -> str:
    """The questions page with its table made again."""
    before, rest = page.split(START + "\n")
    _, after = rest.split(END + "\n")
    return f"{before}{START}\n\n{questions_table()}\n\n{END}\n{after}"


def navigation(config: Path = ROOT / "zensical.toml") -> list[str]:
    """The pages the site's navigation lists, in order (sections flattened)."""

    def pages(entries: list) -> list[str]:
        found = []
        for entry in entries:
            for target in entry.values() if isinstance(entry, dict) else [entry]:
                found += pages(target) if isinstance(target, list) else [target]
        return found

    return pages(tomllib.loads(config.read_text(encoding="utf-8"))["project"]["nav"])


# ---------------------------------------------------------------- a built site, as readers meet it

SITE_URLS = ROOT / "template" / ".gitlab" / "ci" / "{% if docs %}site_urls.py{% endif %}"  # projects' and this site's
MISSING = "no/such/page/"  # an address the site lacks: GitLab Pages answers with its 404.html


def gitlab_variables(path: str) -> dict[str, str]:
    """What GitLab sets in a job of the project ``path`` (group/project) whose site is on Pages
    under a sub-path (docs.gitlab.com/ci/variables/predefined_variables)."""
    group, project = path.split("/", 1)
    return {
        "CI_PAGES_URL": f"https://{group}.pages.example.com/{project}",
        "CI_PROJECT_URL": f"https://gitlab.example.com/{path}",
        "CI_PROJECT_PATH": path,
        "CI_DEFAULT_BRANCH": "main",
    }


def pages_of(public: Path) -> list[Path]:
    return sorted([*public.rglob("index.html"), public / "404.html"])


def address_of(public: Path, page: Path, base: str) -> str:
    """Where ``page`` of the built site is read: its folder's address, and 404.html at a missing one."""
    if page.name == "404.html":
        return base + MISSING
    folder = page.parent.relative_to(public).as_posix()
    return base if folder == "." else f"{base}{folder}/"


def broken_links(public: Path, site_url: str) -> list[str]:
    """Every `href` and `src` of every page that points into the site at a file it lacks, read
    from where the page is served at ``site_url`` (absolute paths and the 404 page included)."""
    root = urlsplit(site_url)
    broken = []
    for page in pages_of(public):
        for link in re.findall(r'(?:href|src)="([^"#][^"]*)"', page.read_text(encoding="utf-8")):
            target = urlsplit(urljoin(address_of(public, page, site_url), html.unescape(link)))
            if target.scheme not in {"http", "https"} or target.netloc != root.netloc:
                continue  # another site, mail, data
            inside = unquote(target.path)
            if not inside.startswith(root.path):
                broken.append(f"{page.relative_to(public)}: {link} (outside {root.path})")
                continue
            file = public / inside.removeprefix(root.path)
            if not (file / "index.html" if inside.endswith("/") or file.is_dir() else file).is_file():
                broken.append(f"{page.relative_to(public)}: {link}")
    return broken


def browse(public: Path, folder: Path, prefix: str) -> tuple[list[str], list[tuple[str, int]]]:
    """Open every page of the built site in one headless Chromium, served as GitLab Pages serves
    it under the sub-path ``prefix``, and a missing address: what the pages' consoles said, and
    every request the browser made with its status. Each page is a frame of one page, so all
    their scripts run: `--dump-dom` waits for the page's load, which waits for every frame's (a
    virtual time budget only made it wait longer, 3 to 12 s against 2 s, for nothing more)."""
    frames = "".join(f'<iframe src="{address_of(public, page, prefix)}"></iframe>' for page in pages_of(public))
    # The frames' page, from the site's origin; the icon a browser asks for it is not the site's.
    harness = {"/all-pages.html": f"<!doctype html><html><body>{frames}</body></html>", "/favicon.ico": ""}
    with serving_pages(public, prefix, harness) as served:
        command = [*headless_chromium(folder), "--enable-logging=stderr", "--v=0"]
        output = run([*command, "--dump-dom", served.url.removesuffix(prefix) + "/all-pages.html"], folder)
        return [line for line in output.splitlines() if ":CONSOLE:" in line], list(served.requests)


if __name__ == "__main__":
    QUESTIONS_PAGE.write_text(with_table(QUESTIONS_PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{QUESTIONS_PAGE.relative_to(ROOT)}: {len(questions())} questions")
