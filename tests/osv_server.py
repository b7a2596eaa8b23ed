"""A vulnerability service for the tests: the part of OSV's API that `uv audit` calls, on loopback.

    python -m tests.osv_server ADVISORIES_JSON

Serves the OSV records in ADVISORIES_JSON (a list) on 127.0.0.1 and a free port, which it
prints as its first line, until killed:

- ``POST /v1/querybatch`` answers each query (a package name, its ecosystem and a version)
  with the IDs of the records whose ``affected`` entry names that package and lists that
  version in its ``versions``;
- ``GET /v1/vulns/<id>`` returns the record;
- ``GET /osv-offline.zip`` returns every record as the database Renovate's OSV alerts read
  (``@renovatebot/osv-offline``: a zip of one JSON record per line, ``pypi.nedb`` for PyPI),
  which Renovate downloads from ``OSV_OFFLINE_DATABASE_URL``.

The file is read on every request, so a test can change the advisories while it runs.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.loopback import serve


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def matches(record: dict, name: str, version: str) -> bool:
    """Whether the OSV ``record`` affects the PyPI package ``name`` at ``version``."""
    return any(
        normalised(affected["package"]["name"]) == normalised(name) and version in affected.get("versions", [])
        for affected in record.get("affected", [])
        if affected["package"].get("ecosystem") == "PyPI"
    )


class Handler(BaseHTTPRequestHandler):
    advisories: Path

    def records(self) -> list[dict]:
        return json.loads(self.advisories.read_text(encoding="utf-8"))

    def answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        if self.path != "/v1/querybatch":
            self.answer(404, {"message": "not found"})
            return
        queries = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["queries"]
        records = self.records()
        results = []
        for query in queries:
            found = [r for r in records if matches(r, query["package"]["name"], query.get("version", ""))]
            results.append({"vulns": [{"id": r["id"], "modified": r["modified"]} for r in found]} if found else {})
        self.answer(200, {"results": results})

    def offline_database(self) -> bytes:
        lines = "".join(json.dumps(record) + "\n" for record in self.records())
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("pypi.nedb", lines)
        return buffer.getvalue()

    def do_GET(self) -> None:
        if self.path == "/osv-offline.zip":
            data = self.offline_database()
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        wanted = self.path.removeprefix("/v1/vulns/")
        record = next((r for r in self.records() if r["id"] == wanted), None)
        self.answer(200, record) if record else self.answer(404, {"message": "not found"})

    def log_message(self, *args: object) -> None:
        """Keep the test output for the tests."""


def main(argv: list[str]) -> None:
    Handler.advisories = Path(argv[0])
    serve(Handler)


if __name__ == "__main__":
    main(sys.argv[1:])
