"""A GitLab for the tests: the part of GitLab's REST API v4 that the tools run against it call,
on loopback, shaped as GitLab's API documentation states.

    python -m tests.gitlab_server STATE_JSON LOG

Serves the projects in STATE_JSON on 127.0.0.1 and a free port, which it prints as its first
line, until killed; appends every request it answers to LOG (one JSON object per line:
method, path, query, body, the status it answered, the token and the time), so a test sees
what a tool asked for and did. STATE_JSON holds ``{"user": {...}, "projects": [{...}]}``:
each project as ``GET /projects/:id`` returns it (docs.gitlab.com/api/projects, "Get a
single project"), its git repository reachable at its
``ssh_url_to_repo`` (a ``file://`` bare repository here; Renovate clones from there when
``gitUrl`` is ``ssh``).

Routes, each from its page on docs.gitlab.com/api:
- ``GET /api/v4/version`` (version.md) and ``GET /api/v4/user`` (users.md, "Get the current
  user"): the token's user; a request without a token (``PRIVATE-TOKEN``, a job's
  ``JOB-TOKEN`` or ``Authorization``; rest/authentication.md) gets 401 as GitLab answers;
- ``GET /api/v4/projects/:id``: ``:id`` a number or the URL-encoded path with namespace;
- ``GET /api/v4/projects/:id/merge_requests`` (merge_requests.md, "List project merge
  requests"): the merge requests opened through this server, filtered by ``state`` and
  ``source_branch``; ``POST`` opens one (``source_branch``, ``target_branch``, ``title``,
  ``description``, ``labels`` comma-separated) and answers it with its ``iid``;
- ``GET /api/v4/projects/:id/merge_requests/:iid``, and its notes (notes.md): none; ``PUT``
  edits its ``title`` and ``description`` ("Update MR"; a ``Draft:`` title makes it a draft);
- ``PUT .../merge_requests/:iid/merge`` ("Merge a merge request"): 409 when ``sha`` is not the
  source branch's head, 405 for a draft, a closed one or a failed pipeline, 406 with conflicts;
  with ``auto_merge`` (or ``merge_when_pipeline_succeeds`` before 17.11) it waits for a
  pipeline that has not succeeded yet, and merges at once when there is none and the project
  does not require one (gitlab-org/gitlab!228142, the case of gitlab-org/gitlab#595420);
  ``POST .../cancel_merge_when_pipeline_succeeds`` cancels it (406 when it was not set);
- a merge request's ``head_pipeline``: none for the project's ``mr_pipeline.after`` seconds
  after its branch's head moved, then ``running`` for ``runs`` seconds, then its ``status``;
  GitLab merges one set to auto-merge when that pipeline succeeds, drops auto-merge when it
  fails or the branch moves (gitlab-org/gitlab#463360), and a merge moves the project's
  answers file (the fixture's ``files``) to the release its ``template-update/v*`` branch names;
- ``GET /api/v4/projects/:id/issues`` (issues.md): the open ones; ``POST`` opens one;
  ``GET`` and ``PUT`` ``.../issues/:iid`` read and edit one (``state_event`` closes it);
- ``GET /api/v4/groups/:id/projects`` (groups.md, "List projects"; ``include_subgroups``,
  ``archived``), paginated as every list here (rest/index.md, "Pagination": ``per_page`` at
  most 100, ``X-Total``, ``X-Next-Page``, a ``Link`` header with ``rel="next"``);
- ``GET /api/v4/projects/:id/repository/tags`` (tags.md: each with its ``commit``, whose
  ``created_at`` is the tag's date), ``.../pipelines`` (pipelines.md,
  by ``source`` and ``ref``, newest first) and ``.../pipelines/:pid/jobs`` (jobs.md);
- a project the fixture marks ``deny`` answers that status to every request of it, ``slow``
  answers late, ``throttle`` answers 429 with ``Retry-After`` that many times first, as GitLab's
  rate limits do (security/rate_limits.md);
- ``GET /api/v4/projects/:id/pipeline_schedules`` and ``POST .../pipeline_schedules/:id/play``
  (pipeline_schedules.md, "Run a scheduled pipeline immediately");
- ``GET`` and ``POST /api/v4/projects/:id/releases`` (releases/index.md, "List releases",
  "Create a release"; releases/links.md for ``assets: links``, each a name, a URL and a
  ``link_type`` of other, runbook, image or package): 409 for a tag that has a release, 400 for
  links GitLab would refuse;
- ``GET /api/v4/projects/:id/repository/files/:path`` and ``.../raw`` (repository_files.md):
  the file at ``ref`` in the project's repository, base64 in JSON or raw;
- ``GET /api/v4/projects/:id/repository/commits/:sha`` (commits.md, "Get a single commit"),
  ``POST /api/v4/projects/:id/statuses/:sha`` ("Set the pipeline status of a commit") and
  ``GET .../repository/commits/:sha/statuses`` ("List the statuses of a commit");
- any other path: 404 ``{"message": "404 Not Found"}``, as GitLab answers.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.loopback import serve

API = "/api/v4/"
# What a fixture project holds beyond GitLab's own fields: its files, pipelines, merge requests,
# tags, and the failures it plays (``deny``, ``slow``, ``throttle``; ``Handler.refused``).
FIXTURE_KEYS = {"files", "pipelines", "merge_requests", "tags", "schedules", "deny", "slow", "throttle", "mr_pipeline"}
# How a merge request's pipeline goes, unless the project's fixture says (``mr_pipeline``).
MR_PIPELINE = {"after": 0.3, "runs": 0.5, "status": "success"}
VERSION = {"version": "18.6.0-ee", "revision": "loopback"}


def is_draft(title: str) -> bool:
    """Whether a merge request with ``title`` is a draft (merge_requests.md: the ``Draft:`` prefix)."""
    return title.startswith("Draft:")


class State:
    """The server's projects and what tools did to them, behind one lock."""

    def __init__(self, source: Path) -> None:
        data = json.loads(source.read_text(encoding="utf-8"))
        self.user: dict = data["user"]
        self.projects: list[dict] = data["projects"]
        self.merge_requests: dict[int, list[dict]] = {p["id"]: list(p.get("merge_requests", [])) for p in self.projects}
        self.throttled: dict[int, int] = {}  # 429s still to answer, by project
        self.issues: dict[int, list[dict]] = {project["id"]: [] for project in self.projects}
        self.statuses: list[dict] = []  # commit statuses tools set
        self.releases: dict[int, list[dict]] = {project["id"]: [] for project in self.projects}
        self.moved: dict[tuple[int, int], float] = {}  # when a merge request's head last moved
        self.lock = threading.RLock()

    def project(self, reference: str) -> dict | None:
        """The project a ``:id`` names: its number or its URL-encoded full path."""
        wanted = unquote(reference)
        return next((p for p in self.projects if str(p["id"]) == wanted or p["path_with_namespace"] == wanted), None)


class Handler(BaseHTTPRequestHandler):
    state: State
    log: Path

    def answer(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that gave up waiting
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    def not_found(self) -> None:
        self.answer(404, {"message": "404 Not Found"})

    def body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        raw = self.rfile.read(length)
        if "json" in (self.headers.get("Content-Type") or ""):
            return json.loads(raw)
        return {key: values[-1] for key, values in parse_qs(raw.decode()).items()}

    def handle_request(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        body = self.body() if method in {"POST", "PUT"} else {}
        token = next(filter(None, map(self.headers.get, ("PRIVATE-TOKEN", "JOB-TOKEN", "Authorization"))), None)
        # Whose request (a test tells the tools' tokens from a person's), logged as it is answered.
        self.entry = {"method": method, "path": parts.path, "query": query, "body": body, "token": token}
        if not token:
            self.answer(401, {"message": "401 Unauthorized"})
        elif not parts.path.startswith(API):
            self.not_found()
        else:
            self.route(method, parts.path.removeprefix(API), query, body)

    def send_response(self, code: int, message: str | None = None) -> None:
        """Log the request with its status, then answer: a tool that has its answer finds the
        request in the log."""
        entry = {**getattr(self, "entry", {"path": self.path}), "status": code, "at": time.time()}
        with self.state.lock, self.log.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        super().send_response(code, message)

    def paginated(self, items: list[dict], query: dict[str, str]) -> None:
        """``items``, one page of them, with GitLab's pagination headers (rest/index.md,
        "Pagination": ``X-Total``, ``X-Next-Page``, ``Link`` with ``rel="next"``)."""
        per_page = min(int(query.get("per_page", 20)), 100)
        page = int(query.get("page", 1))
        pages = max(1, -(-len(items) // per_page))
        headers = {
            "X-Total": str(len(items)),
            "X-Total-Pages": str(pages),
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
        }
        if page < pages:
            parts = urlsplit(self.path)
            following = {**query, "page": str(page + 1), "per_page": str(per_page)}
            url = f"http://{self.headers['Host']}{parts.path}?{urlencode(following)}"
            headers |= {"X-Next-Page": str(page + 1), "Link": f'<{url}>; rel="next"'}
        self.answer(200, items[(page - 1) * per_page : page * per_page], headers)

    def refused(self, project: dict) -> bool:
        """Whether the fixture makes this project's request fail: ``deny`` (its status), ``slow``
        (seconds before answering), ``throttle`` (that many 429s with ``Retry-After: 1`` first)."""
        if project.get("slow"):
            time.sleep(project["slow"])
        if project.get("deny"):
            self.answer(project["deny"], {"message": f"{project['deny']} Forbidden"})
            return True
        with self.state.lock:
            left = self.state.throttled.get(project["id"], project.get("throttle", 0))
            self.state.throttled[project["id"]] = max(0, left - 1)
        if left:
            self.answer(429, {"message": "Too Many Requests"}, {"Retry-After": "1"})
            return True
        return False

    def route(self, method: str, path: str, query: dict[str, str], body: dict) -> None:
        if (method, path) == ("GET", "version"):
            self.answer(200, VERSION)
            return
        if (method, path) == ("GET", "user"):
            self.answer(200, self.state.user)
            return
        if method == "GET" and (group := re.fullmatch(r"groups/([^/]+)/projects", path)):
            self.group_projects(unquote(group.group(1)), query)
            return
        match = re.fullmatch(r"projects/([^/]+)(/.*)?", path)
        project = self.state.project(match.group(1)) if match else None
        if project is None:
            self.not_found()
            return
        rest = match.group(2) or ""
        with self.state.lock:  # what GitLab did meanwhile: pipelines ran, merges happened
            for mr in self.state.merge_requests[project["id"]]:
                self.progress(project, mr)
        if not self.refused(project):
            self.project_route(method, project, rest, query, body)

    def project_route(self, method: str, project: dict, rest: str, query: dict[str, str], body: dict) -> None:
        if rest.startswith("/merge_requests"):
            self.merge_requests(method, project, rest.removeprefix("/merge_requests"), query, body)
        elif (method, rest) == ("GET", ""):
            self.answer(200, project)
        elif method == "GET" and re.fullmatch(r"/repository/tags|/pipelines(/\d+/jobs)?", rest):
            self.history(project, rest, query)
        elif rest.startswith("/pipeline_schedules"):
            self.schedules(method, project, rest.removeprefix("/pipeline_schedules"), query)
        elif rest == "/releases":
            self.releases(method, project, body)
        elif rest.startswith("/issues"):
            self.issues(method, project, rest.removeprefix("/issues"), body)
        elif method == "GET" and (found := re.fullmatch(r"/repository/files/([^/]+)(/raw)?", rest)):
            self.repository_file(project, unquote(found.group(1)), query.get("ref", "HEAD"), raw=bool(found.group(2)))
        elif method == "GET" and (found := re.fullmatch(r"/repository/commits/([0-9a-f]+)", rest)):
            self.commit(project, found.group(1))
        elif method == "GET" and (found := re.fullmatch(r"/repository/commits/([0-9a-f]+)/statuses", rest)):
            self.answer(200, [s for s in self.state.statuses if s["sha"] == found.group(1)])
        elif method == "POST" and (found := re.fullmatch(r"/statuses/([0-9a-f]+)", rest)):
            status = {"id": len(self.state.statuses) + 1, "sha": found.group(1), "status": body["state"], **body}
            self.state.statuses.append(status)
            self.answer(201, status)
        else:
            self.not_found()

    def releases(self, method: str, project: dict, body: dict) -> None:
        """A project's releases (releases/index.md): ``GET`` lists them, ``POST`` creates one for
        ``tag_name`` (409 ``Release already exists`` when there is one)."""
        releases = self.state.releases[project["id"]]
        if method == "GET":
            self.answer(200, releases)
        elif method == "POST" and any(r["tag_name"] == body.get("tag_name") for r in releases):
            self.answer(409, {"message": "Release already exists"})
        elif method == "POST":
            links = (body.get("assets") or {}).get("links", [])
            # Each link: a name, an http(s) URL, a link_type GitLab knows; names unique.
            valid = all(
                link.get("name")
                and str(link.get("url", "")).startswith(("http://", "https://"))
                and link.get("link_type", "other") in {"other", "runbook", "image", "package"}
                for link in links
            )
            if not valid or len({link["name"] for link in links}) != len(links):
                self.answer(400, {"message": {"assets.links": ["are invalid"]}})
                return
            release = {"tag_name": body["tag_name"], "name": body.get("name"), "description": body.get("description")}
            releases.append({**release, "assets": {"links": links}})
            self.answer(201, release)
        else:
            self.not_found()

    def issues(self, method: str, project: dict, rest: str, body: dict) -> None:
        issues = self.state.issues[project["id"]]
        found = re.fullmatch(r"/(\d+)", rest)
        issue = next((i for i in issues if i["iid"] == int(found.group(1))), None) if found else None
        if (method, rest) == ("GET", ""):
            self.answer(200, [issue for issue in issues if issue["state"] == "opened"])
        elif (method, rest) == ("POST", ""):
            issue = {"iid": len(issues) + 1, "state": "opened", "title": "", "description": "", **body}
            issues.append(issue)
            self.answer(201, issue)
        elif issue is not None and method == "GET":
            self.answer(200, issue)
        elif issue is not None and method == "PUT":
            closing = {"close": "closed", "reopen": "opened"}
            issue.update({k: v for k, v in body.items() if k != "state_event"})
            issue["state"] = closing.get(body.get("state_event", ""), issue["state"])
            self.answer(200, issue)
        else:
            self.not_found()

    def commit(self, project: dict, sha: str) -> None:
        """A commit of the project's repository (commits.md, "Get a single commit")."""
        shown = self.git(project, "show", "--no-patch", "--format=%H%n%an%n%ae%n%aI%n%s", sha)
        if shown.returncode != 0:
            self.not_found()
            return
        full, name, email, date, title = shown.stdout.decode().splitlines()[:5]
        commit = {"id": full, "short_id": full[:8], "title": title, "message": title, "author_name": name}
        self.answer(200, {**commit, "author_email": email, "created_at": date, "last_pipeline": None})

    @staticmethod
    def git(project: dict, *args: str) -> subprocess.CompletedProcess[bytes]:
        """git in the project's bare repository (its ``ssh_url_to_repo``, a file:// URL here)."""
        repository = unquote(urlsplit(project["ssh_url_to_repo"]).path)
        return subprocess.run(["git", "--git-dir", repository, *args], capture_output=True, check=False)

    def history(self, project: dict, rest: str, query: dict[str, str]) -> None:
        """A project's tags, its pipelines (newest first, by ``source`` and ``ref``) and a pipeline's jobs."""
        if rest == "/repository/tags":
            # A tag is its name, or its name and its commit's date (the fixture's ``{name: date}``).
            tags = project.get("tags", [])
            dates = tags if isinstance(tags, dict) else dict.fromkeys(tags, "2026-11-01T00:00:00Z")
            self.paginated([{"name": tag, "commit": {"created_at": at}} for tag, at in dates.items()], query)
        elif rest == "/pipelines":
            pipelines = [
                p
                for p in sorted(project.get("pipelines", []), key=lambda p: -p["id"])
                if query.get("source", p["source"]) == p["source"] and query.get("ref", p["ref"]) == p["ref"]
            ]
            self.paginated([{k: v for k, v in p.items() if k != "jobs"} for p in pipelines], query)
        else:
            number = int(rest.split("/")[2])
            pipeline = next((p for p in project.get("pipelines", []) if p["id"] == number), None)
            self.paginated(pipeline["jobs"], query) if pipeline else self.not_found()

    def schedules(self, method: str, project: dict, rest: str, query: dict[str, str]) -> None:
        """A project's pipeline schedules (pipeline_schedules.md): ``GET`` lists them, ``POST
        .../:id/play`` runs one now (201)."""
        schedules = project.get("schedules", [])
        played = re.fullmatch(r"/(\d+)/play", rest)
        if (method, rest) == ("GET", ""):
            self.paginated(schedules, query)
        elif method == "POST" and played and any(s["id"] == int(played.group(1)) for s in schedules):
            self.answer(201, {"message": "201 Created"})
        else:
            self.not_found()

    def group_projects(self, group: str, query: dict[str, str]) -> None:
        """A group's projects (groups.md, "List projects"), its subgroups' too with
        ``include_subgroups=true``, by ``id``; archived ones unless ``archived=false``."""
        subgroups = query.get("include_subgroups", "").lower() == "true"
        found = [
            project
            for project in self.state.projects
            if (namespace := project["path_with_namespace"].rsplit("/", 1)[0]) == group
            or (subgroups and namespace.startswith(f"{group}/"))
        ]
        if query.get("archived") in {"true", "false"}:
            found = [p for p in found if bool(p.get("archived")) == (query["archived"] == "true")]
        listed = [{k: v for k, v in p.items() if k not in FIXTURE_KEYS} for p in sorted(found, key=lambda p: p["id"])]
        if not found and not any(p["path_with_namespace"].startswith(f"{group}/") for p in self.state.projects):
            self.not_found()
            return
        self.paginated(listed, query)

    def merge_requests(self, method: str, project: dict, rest: str, query: dict[str, str], body: dict) -> None:
        requests = self.state.merge_requests[project["id"]]
        found = re.fullmatch(r"/(\d+)(/merge|/cancel_merge_when_pipeline_succeeds)?", rest)
        with self.state.lock:
            mr = next((mr for mr in requests if found and mr["iid"] == int(found.group(1))), None)
            action = found.group(2) if found else None
            if (method, rest) == ("GET", ""):
                labels = set(filter(None, query.get("labels", "").split(",")))
                listed = [
                    mr
                    for mr in requests
                    if query.get("state", "all") in {"all", mr["state"]}
                    and query.get("source_branch", mr["source_branch"]) == mr["source_branch"]
                    and labels <= set(mr.get("labels", []))
                ]
                self.paginated(listed, query)
            elif (method, rest) == ("POST", ""):
                self.answer(201, self.open_merge_request(project, body))
            elif mr is not None and method == "GET" and not action:
                self.answer(200, mr)
            elif mr is not None and method == "PUT" and not action:
                mr.update({key: body[key] for key in ("title", "description") if key in body})
                mr["draft"] = is_draft(mr["title"])
                self.answer(200, mr)
            elif mr is not None and method == "PUT" and action == "/merge":
                self.merge(project, mr, body)
            elif mr is not None and method == "POST" and action == "/cancel_merge_when_pipeline_succeeds":
                if not mr["merge_when_pipeline_succeeds"]:
                    self.answer(406, {"message": "406 Not Acceptable"})
                    return
                mr["merge_when_pipeline_succeeds"], mr["merge_user"] = False, None
                self.answer(201, mr)
            elif method == "GET" and re.fullmatch(r"/\d+/notes", rest):
                self.answer(200, [])
            else:
                self.not_found()

    def open_merge_request(self, project: dict, body: dict) -> dict:
        """A new merge request ("Create MR"), its source branch's head as its ``sha``."""
        requests = self.state.merge_requests[project["id"]]
        iid = len(requests) + 1
        labels = body.get("labels") or ""
        mr = {
            "id": 1000 + iid,
            "iid": iid,
            "project_id": project["id"],
            "state": "opened",
            "draft": is_draft(str(body.get("title", ""))),
            "source_branch": body["source_branch"],
            "target_branch": body.get("target_branch", project["default_branch"]),
            "title": body.get("title", ""),
            "description": body.get("description", ""),
            "labels": labels.split(",") if isinstance(labels, str) and labels else list(labels),
            "author": {"id": self.state.user["id"], "username": self.state.user["username"]},
            "web_url": f"{project['web_url']}/-/merge_requests/{iid}",
            "sha": self.head(project, body["source_branch"]),
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable",
            "has_conflicts": False,
            "merge_when_pipeline_succeeds": False,
            "merge_user": None,
            "head_pipeline": None,
            "created_at": "2026-11-30T00:00:00Z",
            "updated_at": "2026-11-30T00:00:00Z",
        }
        requests.append(mr)
        self.state.moved[(project["id"], iid)] = time.monotonic()
        return mr

    def head(self, project: dict, branch: str) -> str:
        """A branch's head: from the project's bare repository, else (a fixture's ``files``) one
        made up for the branch."""
        if "files" not in project:
            shown = self.git(project, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
            if shown.returncode == 0:
                return shown.stdout.decode().strip()
        return hashlib.sha1(f"{project['id']}:{branch}".encode()).hexdigest()

    def progress(self, project: dict, mr: dict) -> None:
        """Where the merge request's pipeline is now (``MR_PIPELINE``, or the project's
        ``mr_pipeline``), and what GitLab does then: a new head restarts it and drops
        auto-merge; success merges one set to auto-merge; failure drops auto-merge. A fixture's
        own merge requests (opened by no tool: no ``id``) stay as the fixture gives them."""
        if mr.get("state") != "opened" or "id" not in mr:
            return
        key = (project["id"], mr["iid"])
        head = self.head(project, mr["source_branch"])
        if head != mr["sha"]:
            mr.update(sha=head, head_pipeline=None, merge_when_pipeline_succeeds=False, merge_user=None)
            self.state.moved[key] = time.monotonic()
        plan = {**MR_PIPELINE, **project.get("mr_pipeline", {})}
        age = time.monotonic() - self.state.moved.get(key, 0.0)
        if age < plan["after"]:
            return
        status = plan["status"] if age >= plan["after"] + plan["runs"] else "running"
        mr["head_pipeline"] = {"id": 5000 + mr["id"], "sha": mr["sha"], "status": status, "source": "push"}
        if status == "success" and mr["merge_when_pipeline_succeeds"]:
            self.merged(project, mr)
        elif status == "failed":
            mr.update(merge_when_pipeline_succeeds=False, merge_user=None)

    def merge(self, project: dict, mr: dict, body: dict) -> None:
        """Merge a merge request, now or, with ``auto_merge``, when its pipeline succeeds."""
        auto = str(body.get("auto_merge", body.get("merge_when_pipeline_succeeds", ""))).lower() == "true"
        pipeline = (mr["head_pipeline"] or {}).get("status")
        required = bool(project.get("only_allow_merge_if_pipeline_succeeds"))
        if mr["state"] != "opened" or mr["draft"] or pipeline == "failed":
            self.answer(405, {"message": "405 Method Not Allowed"})
        elif body.get("sha") and body["sha"] != mr["sha"]:
            self.answer(409, {"message": "SHA does not match HEAD of source branch"})
        elif mr["has_conflicts"]:
            self.answer(406, {"message": "Branch cannot be merged"})
        elif pipeline == "success" or (pipeline is None and not required):
            self.answer(200, self.merged(project, mr))  # no pipeline to wait for: at once
        elif auto:
            mr.update(merge_when_pipeline_succeeds=True, merge_user={"username": self.state.user["username"]})
            self.answer(200, mr)
        else:
            self.answer(405, {"message": "405 Method Not Allowed"})  # the pipeline must succeed first

    def merged(self, project: dict, mr: dict) -> dict:
        mr.update(state="merged", merge_when_pipeline_succeeds=False)
        version = mr["source_branch"].removeprefix("template-update/")
        answers = project.get("files", {}).get(".copier-answers.yml")
        if answers is not None and version != mr["source_branch"]:
            project["files"][".copier-answers.yml"] = re.sub(r"(?m)^_commit: .*$", f"_commit: {version}", answers)
        return mr

    def repository_file(self, project: dict, path: str, ref: str, *, raw: bool) -> None:
        """A file of the project's repository at ``ref``: from the fixture's ``files`` when it
        gives them, else from its bare repository."""
        if "files" in project:
            text = project["files"].get(path)
            shown = subprocess.CompletedProcess([], 0 if text is not None else 1, (text or "").encode(), b"")
        else:
            shown = self.git(project, "show", f"{ref}:{path}")
        if shown.returncode != 0:
            self.answer(404, {"message": "404 File Not Found"})
        elif raw:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(shown.stdout)))
            self.end_headers()
            self.wfile.write(shown.stdout)
        else:
            content = base64.b64encode(shown.stdout).decode()
            self.answer(
                200,
                {"file_name": Path(path).name, "file_path": path, "ref": ref, "encoding": "base64", "content": content},
            )

    def do_GET(self) -> None:
        self.handle_request("GET")

    def do_POST(self) -> None:
        self.handle_request("POST")

    def do_PUT(self) -> None:
        self.handle_request("PUT")

    def do_DELETE(self) -> None:
        self.handle_request("DELETE")

    def log_message(self, *args: object) -> None:
        """Requests go to the log file, not to the test output."""


def main(argv: list[str]) -> None:
    Handler.state = State(Path(argv[0]))
    Handler.log = Path(argv[1])
    serve(Handler)


if __name__ == "__main__":
    main(sys.argv[1:])
