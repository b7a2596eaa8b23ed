"""What ``fleet report`` finds and prints: one row per project of the group.

The API calls, each from its page of GitLab's REST API documentation (docs.gitlab.com/api):

- the group's projects, subgroups included, archived ones too (groups.md, "List projects"
  with ``include_subgroups=true``; paginated, python-gitlab follows the ``Link`` header); an
  archived project is a row when its answers file records the template (that one request);
- the template's release tags, once (tags.md, "List project repository tags");

and per project, four requests whatever the fleet's size:

- ``.copier-answers.yml`` on the default branch (repository_files.md, "Get raw file");
- its newest scheduled pipeline (pipelines.md, ``source=schedule``) and that pipeline's jobs
  (jobs.md, "List pipeline jobs"), for the template-drift and template-update results;
- its open merge requests labelled ``template-update`` (merge_requests.md).

A project that answers 401, 403 or 404 to the first, or times out, is a row of its own, never
the end of the run; python-gitlab waits out a 429 (its ``Retry-After``) and retries.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import gitlab
import requests
import yaml

ANSWERS_FILE = ".copier-answers.yml"
LABEL = "template-update"  # what the template-update job labels its merge requests
DRIFT_JOB, UPDATE_JOB = "template-drift", "template-update"  # the template's jobs in each project
JOBS = (DRIFT_JOB, UPDATE_JOB)
RELEASE_TAG = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
DESCRIBED = re.compile(r"^(v?\d+\.\d+\.\d+)(?:-\d+-g[0-9a-f]+)?$")  # git describe: a tag, maybe commits past it

# A row's state, worst first in the table.
NO_ACCESS, UNREACHABLE, MALFORMED, ARCHIVED, UNKNOWN, BEHIND, CURRENT = (
    "no access",
    "unreachable",
    "malformed answers",
    "archived",
    "unknown release",
    "behind",
    "current",
)
ORDER = [NO_ACCESS, UNREACHABLE, MALFORMED, UNKNOWN, BEHIND, CURRENT, ARCHIVED]
UNREADABLE = {NO_ACCESS, UNREACHABLE}
# What the drift and update columns say when the schedule did not run the job.
NEVER_SCHEDULED, NOT_IN_SCHEDULE = "never scheduled", "not in the schedule"


@dataclass
class Row:
    project: str
    web_url: str
    state: str
    release: str = ""
    behind: int | None = None
    drift: str = ""
    update: str = ""
    merge_request: dict | None = None
    detail: str = ""
    branch: str = ""  # the default branch, where the update job runs


@dataclass
class Report:
    group: str
    rows: list[Row]
    requests: int  # API requests the run made
    releases: list[str] = field(default_factory=list)  # the template's, oldest first
    release_dates: dict[str, str] = field(default_factory=dict)  # each release tag's commit date
    generated: str = field(default_factory=lambda: stamp(datetime.now(UTC)))

    @property
    def newest(self) -> str:
        return self.releases[-1] if self.releases else ""


# ---------------------------------------------------------------- pure decisions


def normalised_source(url: str) -> str:
    """A template URL as answers files spell it, compared loosely: ``git+``, the scheme, a user,
    ``.git`` and a trailing slash left out, the host in lower case."""
    text = url.strip().removeprefix("git+")
    if re.match(r"^[\w.-]+@[\w.-]+:", text):  # git@host:group/repo
        user_host, _, path = text.partition(":")
        host = user_host.split("@", 1)[1]
    else:
        parts = urlsplit(text)
        host, path = (parts.hostname or ""), parts.path
    return f"{host.lower()}/{path.strip('/').removesuffix('.git').strip('/')}"


def releases_of(tags: Iterable[str]) -> list[str]:
    """The release tags, oldest first, as Copier orders them (as versions)."""
    found = [tag for tag in tags if RELEASE_TAG.match(tag)]
    return sorted(found, key=lambda tag: tuple(int(n) for n in RELEASE_TAG.match(tag).groups()))


def releases_behind(recorded: str, releases: list[str]) -> tuple[str, int | None]:
    """The release a project's ``_commit`` names, and how many releases came after it
    (``None``: not a release of the list, such as a commit hash)."""
    found = DESCRIBED.match(recorded or "")
    if not found:
        return recorded, None
    release = found.group(1)
    key = [tag.lstrip("v") for tag in releases]
    if release.lstrip("v") not in key:
        return release, None
    return release, len(releases) - 1 - key.index(release.lstrip("v"))


def row_from_answers(project: str, web_url: str, text: str, sources: set[str], releases: list[str]) -> Row | None:
    """The row of a project whose answers file reads ``text``; ``None`` when it records another template."""
    try:
        answers = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return Row(project, web_url, MALFORMED, detail=f"{ANSWERS_FILE} is not YAML: {str(error).splitlines()[0]}")
    if not isinstance(answers, dict) or not isinstance(answers.get("_src_path"), str):
        return Row(project, web_url, MALFORMED, detail=f"{ANSWERS_FILE} names no template (_src_path)")
    if normalised_source(answers["_src_path"]) not in sources:
        return None
    release, behind = releases_behind(str(answers.get("_commit", "")), releases)
    state = UNKNOWN if behind is None else BEHIND if behind else CURRENT
    return Row(project, web_url, state, release=release, behind=behind)


def moment(text: str) -> datetime:
    """An ISO 8601 time as GitLab and the report write it (``Z`` for UTC)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stamp(when: datetime) -> str:
    """A time as the report and the rollout's state write it: ISO 8601, UTC, ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def age_in_days(created_at: str, now: datetime) -> int:
    return (now - moment(created_at)).days


# ---------------------------------------------------------------- GitLab


def _failure(error: Exception) -> tuple[str, str]:
    """A project's row state for an error of its requests, and what to say."""
    code = getattr(error, "response_code", None)
    if code in {401, 403, 404}:
        return NO_ACCESS, f"GitLab answered {code}"
    if isinstance(error, requests.Timeout):
        return UNREACHABLE, "timed out"
    return UNREACHABLE, (f"GitLab answered {code}" if code else type(error).__name__)


class Fleet:
    """A read-only view of a GitLab group, through one python-gitlab client per thread."""

    def __init__(self, connect: Callable[[], gitlab.Gitlab], now: datetime | None = None) -> None:
        self._connect = connect
        self._local = threading.local()
        self._count = 0
        self._lock = threading.Lock()
        self.now = now or datetime.now(UTC)

    @property
    def gl(self) -> gitlab.Gitlab:
        if not hasattr(self._local, "gl"):
            client = self._connect()
            client.session.hooks["response"].append(self._counted)
            self._local.gl = client
        return self._local.gl

    def _counted(self, response: requests.Response, *args: object, **kwargs: object) -> requests.Response:
        with self._lock:
            self._count += 1
        return response

    @property
    def requests(self) -> int:
        return self._count

    def releases(self, template_project: str) -> tuple[list[str], dict[str, str]]:
        """The template's releases, oldest first, and each tag's commit date (tags.md: ``commit.created_at``)."""
        tags = list(self.gl.projects.get(template_project, lazy=True).tags.list(iterator=True, per_page=100))
        dates = {tag.name: (tag.commit or {}).get("created_at", "") for tag in tags}
        releases = releases_of(dates)
        return releases, {release: dates[release] for release in releases}

    def projects(self, group: str) -> list:
        listed = self.gl.groups.get(group, lazy=True).projects.list(
            include_subgroups=True, iterator=True, per_page=100, order_by="id", sort="asc"
        )
        return list(listed)

    def row(self, listed: object, sources: set[str], releases: list[str], details: bool = True) -> Row | None:
        """A project's row: its answers file's release, and with ``details`` its jobs and merge request."""
        name, web_url = listed.path_with_namespace, listed.web_url
        project = self.gl.projects.get(listed.id, lazy=True)
        try:
            text = project.files.raw(file_path=ANSWERS_FILE, ref=listed.default_branch or "HEAD").decode()
        except gitlab.GitlabGetError as error:
            if error.response_code == 404:  # no answers file: not made from a Copier template
                return None
            state, detail = _failure(error)
            return Row(name, web_url, state, detail=detail)
        except (gitlab.GitlabError, requests.RequestException) as error:
            state, detail = _failure(error)
            return Row(name, web_url, state, detail=detail)
        row = row_from_answers(name, web_url, text, sources, releases)
        if row is not None and listed.archived:  # made from the template, and no longer worked on
            row.state = ARCHIVED
            return row
        if row is None or row.state == MALFORMED:
            return row
        row.branch = listed.default_branch
        if not details:
            return row
        try:
            self._jobs(project, listed.default_branch, row)
            self._merge_request(project, row)
        except (gitlab.GitlabError, requests.RequestException) as error:
            _, row.detail = _failure(error)
        return row

    @staticmethod
    def scheduled_jobs(project: object, branch: str) -> dict[str, str] | None:
        """Each job's status in the newest scheduled pipeline on ``branch``; None without one."""
        pipelines = project.pipelines.list(
            source="schedule", ref=branch, order_by="id", sort="desc", per_page=1, get_all=False
        )
        if not pipelines:
            return None
        return {job.name: job.status for job in pipelines[0].jobs.list(per_page=100, get_all=False)}

    def _jobs(self, project: object, branch: str, row: Row) -> None:
        jobs = self.scheduled_jobs(project, branch)
        if jobs is None:
            row.drift = row.update = NEVER_SCHEDULED
            return
        row.drift, row.update = (jobs.get(name, NOT_IN_SCHEDULE) for name in JOBS)

    def _merge_request(self, project: object, row: Row) -> None:
        opened = project.mergerequests.list(state="opened", labels=LABEL, per_page=20, get_all=False)
        if opened:
            newest = max(opened, key=lambda mr: mr.created_at)
            row.merge_request = {
                "title": newest.title,
                "url": newest.web_url,
                "draft": bool(getattr(newest, "draft", False)),
                "conflicts": bool(getattr(newest, "has_conflicts", False)),
                "age_days": age_in_days(newest.created_at, self.now),
            }


def report(
    fleet: Fleet, group: str, template_project: str, sources: Iterable[str], workers: int = 8, *, details: bool = True
) -> Report:
    """Every project of ``group`` made from the template (its URLs ``sources``), with its row;
    without ``details``, only what its answers file says (one request a project: a rollout's plan)."""
    wanted = {normalised_source(source) for source in sources}
    releases, dates = fleet.releases(template_project)
    listed = fleet.projects(group)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = pool.map(lambda p: fleet.row(p, wanted, releases, details), listed)
        rows = [row for row in found if row is not None]
    rows.sort(key=lambda row: (ORDER.index(row.state), -(row.behind or 0), row.project))
    return Report(group, rows, fleet.requests, releases, dates)


# ---------------------------------------------------------------- output


def as_json(result: Report) -> str:
    return json.dumps({**asdict(result), "newest": result.newest}, indent=2)


def _merge_request_text(mr: dict | None) -> str:
    if not mr:
        return ""
    flags = [flag for flag, on in (("draft", mr["draft"]), ("conflicts", mr["conflicts"])) if on]
    return f"open {mr['age_days']} d" + (f" ({', '.join(flags)})" if flags else "")


COLUMNS = ("project", "state", "release", "behind", "drift", "update", "merge request")


def _cells(row: Row) -> list[str]:
    behind = "" if row.behind is None else str(row.behind)
    state = f"{row.state}: {row.detail}" if row.detail else row.state
    return [row.project, state, row.release, behind, row.drift, row.update, _merge_request_text(row.merge_request)]


def as_table(result: Report) -> str:
    lines = [list(COLUMNS), *(_cells(row) for row in result.rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines]
    counts = Counter(row.state for row in result.rows)
    summary = ", ".join(f"{counts[state]} {state}" for state in ORDER if counts[state])
    newest = f"newest release {result.newest}" if result.newest else "no release tags"
    return "\n".join([*text, "", f"{len(result.rows)} projects in {result.group} ({newest}): {summary}."])


def chart_svg(result: Report) -> str:
    """A bar chart of the fleet by release, as inline SVG: the releases in version order (the
    newest green, the others amber), then unknown releases (blue), then the projects that could
    not be read (red) and the archived (grey)."""
    counts = Counter(row.release if row.state in {BEHIND, CURRENT, UNKNOWN} else row.state for row in result.rows)
    known = releases_of(counts)
    unknown = sorted(label for label in counts if label not in known and label not in ORDER)
    problems = [state for state in ORDER if state in counts]
    bars = [*known, *unknown, *problems]
    colours = {**dict.fromkeys(known, "#f9a825"), **dict.fromkeys(unknown, "#1565c0")}
    colours |= {**dict.fromkeys(problems, "#c62828"), ARCHIVED: "#9e9e9e", result.newest: "#2e7d32"}
    height, width, gap = 28, 420, 6
    top = max(counts.values(), default=1)
    parts = []
    for i, label in enumerate(bars):
        y, length = i * (height + gap), max(2, round(width * counts[label] / top))
        parts.append(
            f'<text x="0" y="{y + 19}" font-size="14">{html.escape(label)}</text>'
            f'<rect x="170" y="{y}" width="{length}" height="{height}" fill="{colours[label]}"/>'
            f'<text x="{176 + length}" y="{y + 19}" font-size="14">{counts[label]}</text>'
        )
    total_height = max(1, len(bars)) * (height + gap)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Projects by release" '
        f'width="{170 + width + 60}" height="{total_height}">{"".join(parts)}</svg>'
    )


def _table_html(result: Report) -> str:
    head = "".join(f"<th>{html.escape(column)}</th>" for column in COLUMNS)
    body = []
    for row in result.rows:
        cells = [html.escape(cell) for cell in _cells(row)]
        cells[0] = f'<a href="{html.escape(row.web_url)}">{cells[0]}</a>'
        if row.merge_request:
            cells[-1] = f'<a href="{html.escape(row.merge_request["url"])}">{cells[-1]}</a>'
        state = html.escape(row.state.replace(" ", "-"))
        body.append(f'<tr class="{state}">' + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{chr(10).join(body)}\n</tbody></table>"


def _title(result: Report) -> str:
    return f"Projects of {html.escape(result.group)} made from the template"


def _summary(result: Report) -> str:
    return (
        f"Newest release: {html.escape(result.newest or 'none')}. {len(result.rows)} projects,\n"
        f"generated {html.escape(result.generated)}."
    )


def as_html(result: Report, convergence: str = "") -> str:
    """A page of its own (`fleet report --output fleet.html`); ``convergence``: its section, made
    from the history of reports (fleet/convergence.py)."""
    title = _title(result)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }}
tr.behind td:nth-child(4) {{ color: #c62828; font-weight: bold; }}
tr.no-access, tr.unreachable, tr.malformed-answers {{ background: #fdecea; }}
tr.archived {{ color: #888; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{_summary(result)}</p>
<h2>By release</h2>
{chart_svg(result)}
{convergence}<h2>Projects</h2>
{_table_html(result)}
</body></html>
"""


def as_markdown(result: Report, convergence: str = "") -> str:
    """A page of the template's documentation site (`--output docs/fleet-report.md`): the same
    chart and table as raw HTML, whose text is escaped, so no project's name is Markdown there."""
    return f"""# Fleet report

<p>{_title(result)}. {_summary(result)}</p>

## By release

<div>{chart_svg(result)}</div>

{convergence}
## Projects

{_table_html(result)}
"""
