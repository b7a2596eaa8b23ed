"""A private package index for the tests: pypiserver, password-protected, over HTTPS, on loopback.

    python -m tests.index_server PACKAGES HTPASSWD CERT_CHAIN_PEM

Serves pypiserver's WSGI app (every action needs a password: list, download, upload; no
redirect to PyPI for packages it does not hold) from
Python's threading WSGI server with TLS from the given certificate and key (one PEM file),
on 127.0.0.1 and a free port, which it prints as its first line. It runs until killed.
"""

from __future__ import annotations

import ssl
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pypiserver


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        """Keep the test output for the tests."""


def main(argv: list[str]) -> None:
    packages, htpasswd, cert_chain = argv
    app = pypiserver.app(
        roots=[packages],
        password_file=htpasswd,
        authenticate=["download", "list", "update"],
        overwrite=True,
        # It holds internal packages only: no redirect to PyPI for the others.
        disable_fallback=True,
    )
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_chain)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stdout.write(f"{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
