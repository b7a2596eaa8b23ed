"""How the tests' own HTTP servers (tests/osv_server.py, tests/gitlab_server.py) serve: on
127.0.0.1 and a free port, which they print as their first line (tests/servers.py reads it),
until killed."""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    # Connections waiting to be accepted: the socket module's default of 5 resets the ones past
    # it when a test's tools open many at once (a rollout's runners and workers); a real server
    # queues them.
    request_queue_size = 128


def serve(handler: type[BaseHTTPRequestHandler]) -> None:
    server = Server(("127.0.0.1", 0), handler)
    sys.stdout.write(f"{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()
