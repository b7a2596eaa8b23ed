"""A GitLab for the tests: the part of GitLab's REST API v4 that the tools run against it call,
on loopback, shaped as GitLab's API documentation states.

    python -m tests.gitlab_server STATE_JSON LOG

Serves the projects in STATE_JSON on 127.0.0.1 and a free port, which it prints as its first
line, until killed; appends every request it answers to LOG (one JSON object per line:
method, path, query, body and the status it answered), so a test sees what a tool asked for and did. STATE_JSON holds
``{"user": {...}, "projects": [{...}]}``: each project as ``GET /projects/:id`` returns it
(docs.gitlab.com/api/projects, "Get a single project"), its git repository reachable at its
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
- ``GET /api/v4/projects/:id/merge_requests/:iid``, and its notes (notes.md): none;
- ``GET /api/v4/projects/:id/issues`` (issues.md): the open ones; ``POST`` opens one;
  ``GET`` and ``PUT`` ``.../issues/:iid`` read and edit one (``state_event`` closes it);
- ``GET`` and ``POST /api/v4/projects/:id/releases`` (releases/index.md, "List releases",
  "Create a release"): 409 for a tag that has a release;
- ``GET /api/v4/projects/:id/repository/files/:path`` and ``.../raw`` (repository_files.md):
  the file at ``ref`` in the project's repository, base64 in JSON or raw;
- ``GET /api/v4/projects/:id/repository/commits/:sha`` (commits.md, "Get a single commit"),
  ``POST /api/v4/projects/:id/statuses/:sha`` ("Set the pipeline status of a commit") and
  ``GET .../repository/commits/:sha/statuses`` ("List the statuses of a commit");
- any other path: 404 ``{"message": "404 Not Found"}``, as GitLab answers.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

API = "/api/v4/"
VERSION = {"version": "18.6.0-ee", "revision": "loopback"}


class State:
    """The server's projects and what tools did to them, behind one lock."""

    def __init__(self, source: Path) -> None:
        data = json.loads(source.read_text(encoding="utf-8"))
        self.user: dict = data["user"]
        self.projects: list[dict] = data["projects"]
        self.merge_requests: dict[int, list[dict]] = {project["id"]: [] for project in self.projects}
        self.issues: dict[int, list[dict]] = {project["id"]: [] for project in self.projects}
        self.statuses: list[dict] = []  # commit statuses tools set
        self.releases: dict[int, list[dict]] = {project["id"]: [] for project in self.projects}
        self.lock = threading.Lock()

    def project(self, reference: str) -> dict | None:
        """The project a ``:id`` names: its number or its URL-encoded full path."""
        wanted = unquote(reference)
        return next((p for p in self.projects if str(p["id"]) == wanted or p["path_with_namespace"] == wanted), None)


class Handler(BaseHTTPRequestHandler):
    state: State
    log: Path

    def answer(self, status: int, body: object) -> None:
        self.status = status
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
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
        if not any(self.headers.get(name) for name in ("PRIVATE-TOKEN", "JOB-TOKEN", "Authorization")):
            self.answer(401, {"message": "401 Unauthorized"})
        elif not parts.path.startswith(API):
            self.not_found()
        else:
            self.route(method, parts.path.removeprefix(API), query, body)
        entry = {"method": method, "path": parts.path, "query": query, "body": body, "status": self.status}
        with self.state.lock, self.log.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    def route(self, method: str, path: str, query: dict[str, str], body: dict) -> None:
        if (method, path) == ("GET", "version"):
            self.answer(200, VERSION)
            return
        if (method, path) == ("GET", "user"):
            self.answer(200, self.state.user)
            return
        match = re.fullmatch(r"projects/([^/]+)(/.*)?", path)
        project = self.state.project(match.group(1)) if match else None
        if project is None:
            self.not_found()
            return
        rest = match.group(2) or ""
        if rest.startswith("/merge_requests"):
            self.merge_requests(method, project, rest.removeprefix("/merge_requests"), query, body)
        elif (method, rest) == ("GET", ""):
            self.answer(200, project)
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
            release = {"tag_name": body["tag_name"], "name": body.get("name"), "description": body.get("description")}
            releases.append(release)
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

    def merge_requests(self, method: str, project: dict, rest: str, query: dict[str, str], body: dict) -> None:
        requests = self.state.merge_requests[project["id"]]
        if (method, rest) == ("GET", ""):
            found = [
                mr
                for mr in requests
                if query.get("state", "all") in {"all", mr["state"]}
                and query.get("source_branch", mr["source_branch"]) == mr["source_branch"]
            ]
            self.answer(200, found)
        elif (method, rest) == ("POST", ""):
            with self.state.lock:
                iid = len(requests) + 1
                labels = body.get("labels") or ""
                mr = {
                    "id": 1000 + iid,
                    "iid": iid,
                    "project_id": project["id"],
                    "state": "opened",
                    "draft": str(body.get("title", "")).startswith("Draft:"),
                    "source_branch": body["source_branch"],
                    "target_branch": body.get("target_branch", project["default_branch"]),
                    "title": body.get("title", ""),
                    "description": body.get("description", ""),
                    "labels": labels.split(",") if isinstance(labels, str) and labels else list(labels),
                    "author": {"id": self.state.user["id"], "username": self.state.user["username"]},
                    "web_url": f"{project['web_url']}/-/merge_requests/{iid}",
                    "sha": None,
                    "merge_status": "can_be_merged",
                    "detailed_merge_status": "mergeable",
                    "has_conflicts": False,
                    "created_at": "2026-11-30T00:00:00Z",
                    "updated_at": "2026-11-30T00:00:00Z",
                }
                requests.append(mr)
            self.answer(201, mr)
        elif method == "GET" and (found := re.fullmatch(r"/(\d+)", rest)):
            mr = next((mr for mr in requests if mr["iid"] == int(found.group(1))), None)
            self.answer(200, mr) if mr else self.not_found()
        elif method == "GET" and re.fullmatch(r"/\d+/notes", rest):
            self.answer(200, [])
        else:
            self.not_found()

    def repository_file(self, project: dict, path: str, ref: str, *, raw: bool) -> None:
        """A file of the project's repository at ``ref``, from its bare repository."""
        shown = self.git(project, "show", f"{ref}:{path}")
        if shown.returncode != 0:
            self.answer(404, {"message": "404 File Not Found"})
        elif raw:
            self.status = 200
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
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sys.stdout.write(f"{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
