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
import ssl
import sys
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


if __name__ == "__main__":
    main(sys.argv[1:])
