"""A private package index for the tests: pypiserver, password-protected, over HTTPS, on loopback.

    python -m tests.index_server PACKAGES HTPASSWD CERT_CHAIN_PEM [--mirror] [--log FILE]

Serves pypiserver's WSGI app (every action needs a password: list, download, upload) from
Python's threading WSGI server with TLS from the given certificate and key (one PEM file),
on 127.0.0.1 and a free port, which it prints as its first line. It runs until killed.
By default it holds internal packages only; ``--mirror`` redirects the names it does not
hold to PyPI, as an organisation's PyPI mirror (or GitLab's package forwarding) does.
``--log`` appends the path of every request to FILE.
"""

from __future__ import annotations

import argparse
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pypiserver
import trustme
from passlib.apache import HtpasswdFile

from tests.kit import ROOT, run


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    log_file: str | None = None

    def log_message(self, *args: object) -> None:
        """Keep the test output for the tests; record the request if asked to."""
        if self.log_file:
            with open(self.log_file, "a", encoding="utf-8") as log:  # noqa: PTH123
                log.write(f"{self.path}\n")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("packages")
    parser.add_argument("htpasswd")
    parser.add_argument("cert_chain")
    parser.add_argument("--mirror", action="store_true")
    parser.add_argument("--log")
    args = parser.parse_args(argv)
    app = pypiserver.app(
        roots=[args.packages],
        password_file=args.htpasswd,
        authenticate=["download", "list", "update"],
        overwrite=True,
        disable_fallback=not args.mirror,
    )
    _QuietHandler.log_file = args.log
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert_chain)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stdout.write(f"{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()


# ---------------------------------------------------------------- how the tests start and fill one

USER = "ci-reader"
PASSWORD = "s3cret-Index-Pa55word"
SYSTEM_BUNDLE = Path(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))


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
def serving_index(root: Path, *, mirror: bool = False) -> Iterator[Index]:
    """A password-protected HTTPS index on a free loopback port, its CA added to the machine's
    (``mirror``: names it does not hold are redirected to PyPI, as an organisation's mirror)."""
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
    command = [sys.executable, "-m", "tests.index_server", packages, root / "htpasswd", root / "server.pem"]
    server = subprocess.Popen(
        [*map(str, command), "--log", str(log), *(["--mirror"] if mirror else [])],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline())
        yield Index(f"https://127.0.0.1:{port}/simple/", f"https://127.0.0.1:{port}/", packages, bundle, log)
    finally:
        server.kill()
        server.wait()


def publish(index: Index, work: Path, name: str, version: str) -> None:
    """Build the library ``name`` at ``version`` and upload it, as the team that owns it would."""
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


if __name__ == "__main__":
    main(sys.argv[1:])
