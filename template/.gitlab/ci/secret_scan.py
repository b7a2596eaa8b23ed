"""Template-owned: copier-uv-gitlab keeps this file (README.md, "Who owns which file").

Secrets, judged by their value, in every commit a change brings in. One engine for the git hook
and the pipeline: detect-secrets (its filters and its detectors of entropy, keywords, private
keys and URLs with credentials) with the kinds of secret_kinds.py (gitleaks' default rules), each
reporting the whole token, so that .secrets.baseline accepts one value, never a whole kind.

    python .gitlab/ci/secret_scan.py pipeline   # the secrets job: the commits the pipeline brings
    python .gitlab/ci/secret_scan.py files PATH...   # the git hook: the files about to be committed
    python .gitlab/ci/secret_scan.py accept [PATH...]   # accept what is found now, tracked or not

A finding names its kind, file, line and commit, never the value. The job reads the commits
between the merge request's base (``CI_MERGE_REQUEST_DIFF_BASE_SHA``) or the push's previous tip
(``CI_COMMIT_BEFORE_SHA``) and ``HEAD``; the commits not on the default branch when a branch is
new; the whole history on a schedule, a tag or a web pipeline. A secret added in one commit and
removed in the next still fails: it is in the repository's history, to be revoked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from detect_secrets.core import baseline as baselines
from detect_secrets.core.scan import scan_file
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import transient_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from secret_kinds import KINDS

BASELINE = Path(".secrets.baseline")
NOT_SCANNED = {"uv.lock", ".secrets.baseline"}  # hashes and findings, by design
ZERO = "0" * 40  # GitLab's CI_COMMIT_BEFORE_SHA for a new branch or a tag

# detect-secrets' own detectors that the kinds above replace (they report a part of the token,
# as the GitLab detector reports its prefix, or miss forms: fine-grained GitHub tokens, test keys).
REPLACED = {
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "NpmDetector",
    "OpenAIDetector",
    "PypiTokenDetector",
    "SlackDetector",
    "StripeDetector",
}
# What detect-secrets reports when nothing more specific matched the line.
GENERIC = {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"}
# detect-secrets' default filters, but one: a secret as the fallback of a lookup,
# os.environ.get("KEY", "sk_live_..."), is still a secret in the repository.
FILTERS = [
    "detect_secrets.filters.allowlist.is_line_allowlisted",  # `# pragma: allowlist secret`
    "detect_secrets.filters.heuristic.is_sequential_string",
    "detect_secrets.filters.heuristic.is_potential_uuid",
    "detect_secrets.filters.heuristic.is_likely_id_string",
    "detect_secrets.filters.heuristic.is_templated_secret",
    "detect_secrets.filters.heuristic.is_prefixed_with_dollar_sign",
    "detect_secrets.filters.heuristic.is_lock_file",
    "detect_secrets.filters.heuristic.is_not_alphanumeric_string",
    "detect_secrets.filters.heuristic.is_swagger_file",
]


def settings() -> dict[str, list[dict[str, object]]]:
    """detect-secrets' configuration: its own detectors but those replaced, then the kinds."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class  # noqa: PLC0415

    limits = {
        "Base64HighEntropyString": 4.5,
        "HexHighEntropyString": 3.0,
    }  # detect-secrets' defaults
    names = sorted(plugin.__name__ for plugin in get_mapping_from_secret_type_to_class().values())
    get_mapping_from_secret_type_to_class.cache_clear()  # it reads the settings: kinds come next
    own = [
        {"name": name, **({"limit": limits[name]} if name in limits else {})}
        for name in names
        if name not in REPLACED
    ]
    here = f"file://{os.path.relpath(Path(__file__).resolve().with_name('secret_kinds.py'))}"
    kinds = [{"name": detector.__name__, "path": here} for detector in KINDS]
    return {"plugins_used": own + kinds, "filters_used": [{"path": path} for path in FILTERS]}


# ---------------------------------------------------------------- findings


@dataclass
class Finding:
    kind: str
    path: str
    line: int
    hashed: str  # detect-secrets' hashed_secret: SHA-1 of the value, as the baseline keeps it
    commit: str = ""  # the first commit of the range that added it ("" for the files as they are)
    present: bool = True  # still in the file at HEAD

    def where(self) -> str:
        removed = "" if self.present else ", removed since"
        commit = f" (added in {self.commit[:12]}{removed})" if self.commit else ""
        return f"{self.path}:{self.line}: {self.kind}{commit}"

    def advice(self) -> str:
        """What to do: revoke it; or accept it, where the scan found it, if it is no secret."""
        accept = f"python .gitlab/ci/secret_scan.py accept {self.path}"
        if self.present:
            return f"remove it and revoke it, or, if it is no secret, accept it with `{accept}`"
        return (
            "revoke it (it stays in the repository's history), or, if it is no secret, accept it "
            f"with `{accept} --commit {self.commit[:12]}`"
        )


def scan(paths: list[str], root: Path) -> list[Finding]:
    """The secrets in ``paths`` (relative to ``root``), one finding each, generic ones dropped
    on a line where a specific kind was found."""
    found = []
    for path in paths:
        if path in NOT_SCANNED or not (root / path).is_file() or (root / path).is_symlink():
            continue
        for secret in scan_file(str(root / path)):
            found.append(Finding(secret.type, path, secret.line_number, secret.secret_hash))
    specific = {(f.path, f.line) for f in found if f.kind not in GENERIC}
    return [f for f in found if f.kind not in GENERIC or (f.path, f.line) not in specific]


def output(*command: str) -> bytes:
    """What ``command`` prints; it must succeed."""
    return subprocess.run(command, check=True, capture_output=True).stdout  # noqa: S603


def git(*args: str) -> str:
    """git's output; paths as they are, not octal-quoted (a non-ASCII name is read too)."""
    return output("git", "-c", "core.quotePath=false", *args).decode()


def added_lines(commit: str) -> dict[str, set[int]]:
    """The lines ``commit`` added to each file, against its first parent (none for a merge)."""
    diff = git(
        "diff-tree",
        "-r",
        "-p",
        "-U0",
        "--no-color",
        "--no-renames",
        "--no-ext-diff",
        "--root",
        commit,
    )
    added: dict[str, set[int]] = {}
    path = ""
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else ""
        elif line.startswith("@@ ") and path:
            start, _, count = re.match(r"@@ -\S+ \+(\d+)(,(\d+))? @@", line).groups()  # type: ignore[union-attr]
            size = 1 if count is None else int(count)
            added.setdefault(path, set()).update(range(int(start), int(start) + size))
    return added


def copy_as_of(commit: str, path: str, root: Path) -> None:
    """``path`` as ``commit`` holds it, written under ``root``."""
    copy = root / path
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(output("git", "show", f"{commit}:{path}"))


def history(commits: list[str]) -> list[Finding]:
    """Each secret a line of ``commits`` added, at the first commit that added it."""
    found: list[Finding] = []
    with tempfile.TemporaryDirectory() as tmp:
        for commit in commits:
            for path, lines in added_lines(commit).items():
                if path in NOT_SCANNED:
                    continue
                copy_as_of(commit, path, Path(tmp) / commit)
                for finding in scan([path], Path(tmp) / commit):
                    if finding.line in lines:
                        found.append(
                            Finding(finding.kind, path, finding.line, finding.hashed, commit)
                        )
    return found


def accepted(baseline: Path) -> set[tuple[str, str]]:
    """The (file, hashed value) pairs the team's baseline accepts."""
    if not baseline.is_file():
        return set()
    results = json.loads(baseline.read_text(encoding="utf-8")).get("results", {})
    return {
        (name, secret["hashed_secret"]) for name, secrets in results.items() for secret in secrets
    }


def judged(found: list[Finding], baseline: Path) -> list[Finding]:
    """Each secret once (its first commit, whether still there), those accepted left out."""
    ok = accepted(baseline)
    by_value: dict[tuple[str, str], Finding] = {}
    present = {(f.path, f.hashed) for f in found if not f.commit}
    for finding in found:
        key = (finding.path, finding.hashed)
        if key in ok:
            continue
        if key not in by_value or (finding.commit and not by_value[key].commit):
            finding.present = key in present
            by_value[key] = finding
    return sorted(by_value.values(), key=lambda f: (f.path, f.line))


# ---------------------------------------------------------------- what the pipeline brings in


def is_commit(sha: str) -> bool:
    """Whether the checkout holds commit ``sha``."""
    if not sha or sha == ZERO:
        return False
    found = subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], check=False)  # noqa: S603, S607
    return found.returncode == 0


def pipeline_range() -> tuple[list[str], list[str]]:
    """The commits this pipeline brings in (oldest first) and the files to read as they are."""
    if git("rev-parse", "--is-shallow-repository").strip() == "true":
        git("fetch", "--quiet", "--unshallow", "origin")  # a runner's checkout is shallow
    env = os.environ.get
    base = env("CI_MERGE_REQUEST_DIFF_BASE_SHA") or env("CI_COMMIT_BEFORE_SHA", "")
    everything = env("CI_PIPELINE_SOURCE") in {"schedule", "web"} or bool(env("CI_COMMIT_TAG"))
    default = env("CI_DEFAULT_BRANCH", "")
    if base == ZERO and not everything and default and env("CI_COMMIT_BRANCH") != default:
        # A new branch: what it adds to the default one.
        git("fetch", "--quiet", "origin", f"+refs/heads/{default}:refs/remotes/origin/{default}")
        base = git("merge-base", "HEAD", f"origin/{default}").strip()
    if everything or not is_commit(base):
        return git("rev-list", "--reverse", "HEAD").split(), git("ls-files").splitlines()
    changed = git("diff", "--name-only", "--no-renames", "--diff-filter=AM", base, "HEAD")
    return git("rev-list", "--reverse", f"{base}..HEAD").split(), changed.splitlines()


def report(found: list[Finding], output: Path | None) -> int:
    """Print each finding (never its value); write GitLab's Code Quality report; 1 if any."""
    for finding in found:
        sys.stdout.write(f"{finding.where()}: {finding.advice()}\n")
    if output is not None:
        sys.path.insert(0, str(Path(__file__).parent))
        from code_quality import finding as entry  # noqa: PLC0415 (the pipeline's report format)
        from code_quality import told_apart  # noqa: PLC0415

        entries = [
            entry(
                f"secrets/{f.kind}",
                f"{f.where()}: {f.advice()}",
                f.path,
                f.line,
                "blocker",
                f.kind,
                f.hashed,
            )
            for f in found
        ]
        output.write_text(json.dumps(told_apart(entries), indent=2) + "\n", encoding="utf-8")
    return 1 if found else 0


def accept(paths: list[str], baseline: Path, commit: str = "") -> int:
    """Write every secret found now in ``paths`` (all files but ignored ones, tracked or not),
    or in them as ``commit`` held them, into ``baseline``, in detect-secrets' format; what it
    accepted in other files stays."""
    paths = paths or git("ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    paths = [path for path in paths if path not in NOT_SCANNED]
    with tempfile.TemporaryDirectory() as tmp:
        collection = SecretsCollection(root=tmp if commit else "")
        for path in paths:
            if commit:
                copy_as_of(commit, path, Path(tmp))
            collection.scan_file(path)
    written = baselines.format_for_output(collection)
    if baseline.is_file():
        kept = json.loads(baseline.read_text(encoding="utf-8")).get("results", {})
        written["results"] = {
            **{k: v for k, v in kept.items() if k not in paths},
            **written["results"],
        }
    baseline.write_text(json.dumps(written, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(
        f"{baseline}: {sum(len(v) for v in written['results'].values())} accepted findings\n"
    )
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="secret_scan.py", description=__doc__.split("\n\n")[1])
    parser.add_argument("command", choices=["pipeline", "files", "accept"])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--output", type=Path, help="GitLab's Code Quality report (pipeline)")
    parser.add_argument("--commit", default="", help="accept: the files as this commit held them")
    args = parser.parse_args(argv)
    with transient_settings(settings()):
        if args.command == "accept":
            return accept(args.paths, args.baseline, args.commit)
        if args.command == "files":
            return report(judged(scan(args.paths, Path()), args.baseline), args.output)
        commits, files = pipeline_range()
        sys.stdout.write(f"secrets: {len(commits)} commits and {len(files)} files read\n")
        return report(judged(scan(files, Path()) + history(commits), args.baseline), args.output)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
