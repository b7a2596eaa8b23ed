"""What a job fetched from the package index, in bytes: an HTTPS proxy on loopback that counts.

uv (``HTTPS_PROXY``) and buildah's ``RUN`` steps (which inherit the proxy variables) reach the
index through it; it tunnels each ``CONNECT`` (RFC 9110, 9.3.6) unchanged and counts what the
servers send back: the wheels, plus a little TLS. One job at a time, so the count is the job's.
"""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

CHUNK = 1 << 16


class IndexMeter:
    def __init__(self) -> None:
        self.received = 0
        self._lock = threading.Lock()
        meter = self

        class Tunnel(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
                if method != "CONNECT":
                    self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    return
                host, port = target.rsplit(":", 1)
                with socket.create_connection((host, int(port)), timeout=60) as upstream:
                    self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    with contextlib.suppress(OSError):  # either side may close mid-stream
                        meter._pipe(self.request, upstream)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tunnel)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        while True:
            readable, _, _ = select.select([client, upstream], [], [], 120)
            if not readable:
                return
            for side in readable:
                data = side.recv(CHUNK)
                if not data:
                    return
                if side is upstream:  # counted before it is passed on: the job has it all once counted
                    with self._lock:
                        self.received += len(data)
                (upstream if side is client else client).sendall(data)

    def __enter__(self) -> IndexMeter:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @contextmanager
    def counting(self) -> Iterator[list[int]]:
        """Yield a list that holds, once the block ends, the bytes received during it."""
        start, counted = self.received, []
        yield counted
        counted.append(self.received - start)

    def env(self) -> dict[str, str]:
        """The variables that send a job's or build's index traffic through the meter."""
        return {"HTTPS_PROXY": self.url, "https_proxy": self.url, "NO_PROXY": "127.0.0.1,localhost"}
