"""Template-owned: copier-uv-gitlab keeps this file (README.md, "Who owns which file").

Turns a tool's JSON findings into GitLab's Code Quality report, which merge requests show on
every tier, and prints them for the job log:

    python .gitlab/ci/code_quality.py uv-audit uv-audit.json gl-code-quality-audit.json
    python .gitlab/ci/code_quality.py mypy mypy.jsonl gl-code-quality-types.json

uv-audit: `uv audit --output-format json`; each vulnerability is one finding on uv.lock,
naming the package, its version, the advisory and the fixed versions. mypy: `mypy -O json`,
one finding per line of it. A finding's fingerprint is the same from run to run for the same
problem (it leaves out line numbers), so GitLab can tell new findings from fixed ones.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

Finding = dict[str, object]


def fingerprint(*parts: str) -> str:
    """A stable ID for a finding, from what identifies the problem (not where it moved to)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def finding(
    check: str, description: str, path: str, line: int, severity: str, *key: str
) -> Finding:
    """One entry of a Code Quality report."""
    return {
        "description": description,
        "check_name": check,
        "fingerprint": fingerprint(check, path, *key),
        "severity": severity,
        "location": {"path": path, "lines": {"begin": line}},
    }


def lock_line(lock: str, package: str) -> int:
    """The line of ``uv.lock`` that names ``package``, or 1."""
    match = re.search(rf'^name = "{re.escape(package)}"$', lock, re.MULTILINE)
    return lock.count("\n", 0, match.start()) + 1 if match else 1


def audit_findings(report: str) -> list[Finding]:
    """Each vulnerability in `uv audit`'s JSON report."""
    lock = Path("uv.lock").read_text(encoding="utf-8") if Path("uv.lock").is_file() else ""
    found = []
    for vulnerability in json.loads(report).get("vulnerabilities", []):
        package, version = (
            vulnerability["dependency"]["name"],
            vulnerability["dependency"]["version"],
        )
        fixed = ", ".join(vulnerability.get("fix_versions") or []) or "none yet"
        advisory = vulnerability["id"]
        description = (
            f"{package} {version}: {advisory} ({vulnerability.get('summary') or 'no summary'}); "
            f"fixed in: {fixed}. {vulnerability.get('link') or ''}".strip()
        )
        line = lock_line(lock, package)
        found.append(
            finding("uv-audit", description, "uv.lock", line, "critical", package, advisory)
        )
    return found


def mypy_findings(report: str) -> list[Finding]:
    """Each error of mypy's JSON lines."""
    found = []
    for line in filter(None, (text.strip() for text in report.splitlines())):
        error = json.loads(line)
        code = error.get("code") or "mypy"
        description = f"{error['message']} [{code}]"
        severity = "major" if error.get("severity") == "error" else "info"
        found.append(
            finding(
                f"mypy/{code}",
                description,
                error["file"],
                error["line"],
                severity,
                error["message"],
            )
        )
    return found


READERS: dict[str, Callable[[str], list[Finding]]] = {
    "uv-audit": audit_findings,
    "mypy": mypy_findings,
}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in READERS:  # noqa: PLR2004 - the three arguments above
        sys.stderr.write(f"usage: code_quality.py {'|'.join(READERS)} REPORT OUTPUT\n")
        return 2
    tool, report, output = argv
    found = READERS[tool](Path(report).read_text(encoding="utf-8"))
    Path(output).write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    for entry in found:
        location = entry["location"]
        sys.stdout.write(
            f"{location['path']}:{location['lines']['begin']}: {entry['description']}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
