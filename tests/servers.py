"""The real servers the tests need, each started on a free loopback port and stopped after.

- a package index (tests/index_server.py, in its own process): ``serving_index`` starts it,
  ``publish`` fills it as a team would, ``Index.env`` says how uv reaches it (the CA and the
  credentials, from the environment only);
- a vulnerability service speaking OSV's API (tests/osv_server.py): ``serving_osv`` starts
  it with the advisories a test gives, which the test may change while it runs;
- GitLab Pages for a built site, under a project's sub-path (``serving_pages``, in a thread).
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import project_sync as sync
import trustme
from passlib.apache import HtpasswdFile

from tests.kit import ROOT, require_tool, run

USER = "ci-reader"
PASSWORD = "s3cret-Index-Pa55word"
SYSTEM_BUNDLE = Path(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))


@contextmanager
def serving(module: str, *arguments: str | Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """Run the server ``module`` in its own process; it prints the free loopback port it took
    on its first line. Yield that port and the process, and stop it after."""
    command = [sys.executable, "-m", module, *map(str, arguments)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        yield int(server.stdout.readline()), server
    finally:
        server.kill()
        server.wait()


@dataclass
class Index:
    url: str  # the simple index
    upload: str
    packages: Path  # what the server holds
    ca_bundle: Path  # the machine's CAs plus the index's: what an organisation's CA_BUNDLE holds
    log: Path  # every request it answered

    def env(self, *, ca: bool = True, credentials: bool = True, cache: Path | None = None) -> dict[str, str]:
        """The environment a developer or CI job gives uv: the CA and the credentials, nothing in files."""
        env = {"SSL_CERT_FILE": str(self.ca_bundle if ca else SYSTEM_BUNDLE)}
        if credentials:
            env |= {"UV_INDEX_INTERNAL_USERNAME": USER, "UV_INDEX_INTERNAL_PASSWORD": PASSWORD}
        if cache:  # an empty cache and a new environment: every package comes from the index
            env |= {"UV_CACHE_DIR": str(cache / "uv"), "UV_PROJECT_ENVIRONMENT": str(cache / "venv")}
        return env


@contextmanager
def serving_index(root: Path, *, mirror: bool = False, dated: bool = False) -> Iterator[Index]:
    """A password-protected HTTPS index on a free loopback port, its CA added to the machine's
    (``mirror``: names it does not hold are redirected to PyPI, as an organisation's mirror;
    ``dated``: it gives each file's upload time, as PyPI does, in PEP 691's JSON)."""
    root.mkdir(parents=True, exist_ok=True)
    packages = root / "packages"
    packages.mkdir()
    htpasswd = HtpasswdFile(str(root / "htpasswd"), new=True)
    htpasswd.set_password(USER, PASSWORD)
    htpasswd.save()
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(str(root / "server.pem"))
    bundle = root / "ca-bundle.pem"
    bundle.write_bytes(SYSTEM_BUNDLE.read_bytes() + b"\n" + ca.cert_pem.bytes())
    log = root / "requests.log"
    arguments = [packages, root / "htpasswd", root / "server.pem", "--log", log]
    arguments += [*(["--mirror"] if mirror else []), *(["--dated"] if dated else [])]
    with serving("tests.index_server", *arguments) as (port, _):
        yield Index(f"https://127.0.0.1:{port}/simple/", f"https://127.0.0.1:{port}/", packages, bundle, log)


def publish(index: Index, work: Path, name: str, version: str) -> None:
    """Build the library ``name`` at ``version`` and upload it, as the team that owns it would."""
    work.mkdir(parents=True, exist_ok=True)
    lib = work / f"{name}-{version}"
    run(["uv", "init", "--quiet", "--lib", "--name", name, lib.name], work)
    run(["uv", "version", "--quiet", version], lib)
    (lib / "src" / name.replace("-", "_") / "__init__.py").write_text('def currency() -> str:\n    return "EUR"\n')
    run(["uv", "build", "--quiet", "--out-dir", "dist"], lib)
    run(
        ["uv", "publish", "--quiet", "--publish-url", index.upload, "-u", USER, "-p", PASSWORD, "dist/*"],
        lib,
        {"SSL_CERT_FILE": str(index.ca_bundle)},
    )
    assert any(p.name.startswith(f"{name.replace('-', '_')}-{version}") for p in index.packages.iterdir())


@dataclass
class Osv:
    url: str
    advisories: Path  # what the service answers with, read on every request
    server: subprocess.Popen

    def stop(self) -> None:
        self.server.kill()
        self.server.wait()


@contextmanager
def serving_osv(root: Path, advisories: list[dict]) -> Iterator[Osv]:
    """The OSV service on a free loopback port, answering with ``advisories`` (OSV records)."""
    root.mkdir(parents=True, exist_ok=True)
    records = root / "advisories.json"
    records.write_text(json.dumps(advisories), encoding="utf-8")
    with serving("tests.osv_server", records) as (port, server):
        yield Osv(f"http://127.0.0.1:{port}", records, server)


@dataclass
class GitLab:
    api: str  # the API's root, as Renovate's endpoint and python-gitlab's URL take it
    log: Path  # every request it answered, one JSON object per line

    def requests(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]


def gitlab_project(number: int, path: str, **fixture: object) -> dict:
    """A project of the loopback GitLab, as ``GET /projects/:id`` answers it, with ``fixture``
    (its files, merge requests, settings: tests/gitlab_server.py); no git repository unless
    ``ssh_url_to_repo`` names one."""
    return {
        "id": number,
        "path_with_namespace": path,
        "default_branch": "main",
        "web_url": f"https://gitlab.example.com/{path}",
        "ssh_url_to_repo": f"file:///nonexistent/{number}.git",
        "archived": False,
        **fixture,
    }


def opened_by_push(api: sync.GitLabApi, proposal: sync.Proposal, branch: str) -> dict:
    """The merge request GitLab opens for the template-update job's push of ``branch`` with the
    options that propose ``proposal`` (user/project/push_options.md), through "Create MR"."""
    return api.call(
        "POST", "/merge_requests", source_branch=branch, target_branch="main", title=proposal.title,
        description=sync.description(proposal), labels=sync.LABEL,
    )  # fmt: skip


@contextmanager
def serving_gitlab(root: Path, projects: list[dict], user: dict | None = None) -> Iterator[GitLab]:
    """The loopback GitLab (tests/gitlab_server.py) holding ``projects``, its API on a free port."""
    root.mkdir(parents=True, exist_ok=True)
    state = root / "gitlab.json"
    user = user or {"id": 1, "username": "renovate-bot", "name": "Renovate Bot", "email": "renovate@example.com"}
    state.write_text(json.dumps({"user": user, "projects": projects}), encoding="utf-8")
    log = root / "gitlab-requests.log"
    log.touch()
    with serving("tests.gitlab_server", state, log) as (port, _):
        yield GitLab(f"http://127.0.0.1:{port}/api/v4/", log)


# Where a release job's pipeline runs, as gitlab-ci-local variables: the project's API, its job
# token, the page that keeps the job's artifacts (the links of the GitLab release it makes).
RELEASING_PROJECT = {"id": 7, "path_with_namespace": "acme/payments"}
RELEASING_JOB = {
    "CI_PROJECT_ID": "7",
    "CI_JOB_TOKEN": "job-token-of-the-run",
    "CI_PROJECT_URL": "https://gitlab.example.com/acme/payments",
    "CI_JOB_ID": "314",
}


@contextmanager
def serving_releases(root: Path) -> Iterator[tuple[GitLab, list[str]]]:
    """A loopback GitLab for a project's release job (its Releases API call), and the job's
    variables that point there, as gitlab-ci-local arguments."""
    with serving_gitlab(root, [RELEASING_PROJECT]) as gitlab:
        variables = {"CI_API_V4_URL": gitlab.api.rstrip("/"), **RELEASING_JOB}
        yield gitlab, [arg for name, value in variables.items() for arg in ("--variable", f"{name}={value}")]


@contextmanager
def serving_registry(root: Path) -> Iterator[str]:
    """A container registry (the Distribution project's, Debian's docker-registry) on a free
    loopback port, over plain HTTP, storing in ``root``: yields its ``host:port``."""
    exe = require_tool("docker-registry", "the image job's layer cache is pushed to and pulled from a registry")
    root.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = root / "config.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n",
        encoding="utf-8",
    )
    with (root / "registry.log").open("w") as log:
        server = subprocess.Popen([exe, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


@dataclass
class Pages:
    url: str  # the site's address, its sub-path included, with a trailing slash
    requests: list[tuple[str, int]]  # every path asked for, and the status it got


@contextmanager
def serving_pages(public: Path, prefix: str, extra: dict[str, str] | None = None) -> Iterator[Pages]:
    """A built site as GitLab Pages serves a project's: under the sub-path ``prefix``
    (https://group.pages.example.com/project/), a folder's ``index.html`` for the folder, and
    ``public/404.html`` with status 404 for anything missing (docs.gitlab.com/user/project/pages/
    introduction, "Custom error codes pages"). ``extra``: pages of the test's own, by path,
    outside the site (not logged)."""
    requests: list[tuple[str, int]] = []
    extra = extra or {}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(public), **kwargs)

        def send_page(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if (page := extra.get(self.path)) is None:
                return super().do_GET()
            return self.send_page(http.HTTPStatus.OK, page.encode())

        def translate_path(self, path: str) -> str:
            inside = urllib.parse.urlsplit(path).path
            inside = inside[len(prefix) - 1 :] if inside.startswith(prefix) else "/.outside-the-pages-prefix"
            return super().translate_path(inside)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            if code != http.HTTPStatus.NOT_FOUND:
                return super().send_error(code, message, explain)
            return self.send_page(code, (public / "404.html").read_bytes())

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if self.path not in extra:
                requests.append((urllib.parse.urlsplit(self.path).path, int(code)))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Pages(f"http://127.0.0.1:{server.server_port}{prefix}", requests)
    finally:
        server.shutdown()
        server.server_close()
