"""A private package index for the tests: pypiserver, password-protected, over HTTPS, on loopback.

    python -m tests.index_server PACKAGES HTPASSWD CERT_CHAIN_PEM [--mirror] [--log FILE]

Serves pypiserver's WSGI app (every action needs a password: list, download, upload) from
Python's threading WSGI server with TLS from the given certificate and key (one PEM file),
on 127.0.0.1 and a free port, which it prints as its first line. It runs until killed.
By default it holds internal packages only; ``--mirror`` redirects the names it does not
hold to PyPI, as an organisation's PyPI mirror (or GitLab's package forwarding) does.
``--log`` appends the path of every request to FILE. ``--dated`` also answers the JSON form
of the simple API (PEP 691) with each file's upload time (PEP 700, the file's modification
time), as PyPI does; without it the index gives no dates, as GitLab's package registry and
pypiserver do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import ssl
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pypiserver


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    log_file: str | None = None

    def log_message(self, *args: object) -> None:
        """Keep the test output for the tests; record the request if asked to."""
        if self.log_file:
            with open(self.log_file, "a", encoding="utf-8") as log:  # noqa: PTH123
                log.write(f"{self.path}\n")


SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dated(app: Callable, packages: Path) -> Callable:
    """``app`` that also answers ``/simple/<name>/`` in PEP 691's JSON when asked for it, each
    file with its sha256 and ``upload-time`` (PEP 700), once ``app`` has answered the same
    request (its password check, its 404 and its redirects stand)."""

    def files_of(name: str) -> list[Path]:
        return sorted(f for f in packages.iterdir() if _normalised(re.split(r"-\d", f.name)[0]) == name)

    def wrapped(environ: dict, start_response: Callable) -> Iterable[bytes]:
        found = re.fullmatch(r"/simple/([^/]+)/?", environ.get("PATH_INFO", ""))
        if not found or SIMPLE_JSON not in environ.get("HTTP_ACCEPT", ""):
            return app(environ, start_response)
        answered: list = []  # pypiserver's answer first: its password check, its 404
        html = b"".join(app(environ, lambda status, headers, exc_info=None: answered.extend([status, headers])))
        if not answered[0].startswith("200"):
            start_response(*answered)
            return [html]
        name = _normalised(found.group(1))
        files = [
            {
                "filename": f.name,
                "url": f"../../packages/{f.name}",
                "hashes": {"sha256": hashlib.sha256(f.read_bytes()).hexdigest()},
                "upload-time": datetime.fromtimestamp(f.stat().st_mtime, UTC).isoformat().replace("+00:00", "Z"),
            }
            for f in files_of(name)
        ]
        body = json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}).encode()
        start_response("200 OK", [("Content-Type", SIMPLE_JSON), ("Content-Length", str(len(body)))])
        return [body]

    return wrapped


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("packages")
    parser.add_argument("htpasswd")
    parser.add_argument("cert_chain")
    parser.add_argument("--mirror", action="store_true")
    parser.add_argument("--log")
    parser.add_argument("--dated", action="store_true")
    args = parser.parse_args(argv)
    app = pypiserver.app(
        roots=[args.packages],
        password_file=args.htpasswd,
        authenticate=["download", "list", "update"],
        overwrite=True,
        disable_fallback=not args.mirror,
    )
    if args.dated:
        app = dated(app, Path(args.packages))
    _QuietHandler.log_file = args.log
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert_chain)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stdout.write(f"{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
