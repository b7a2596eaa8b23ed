"""``fleet``'s command line: ``uv run fleet report --group GROUP`` (``python -m fleet`` too).

The scheduled job of this repository's pipeline writes the page and the data in one run:
``fleet report --group "$FLEET_GROUP" --output public/index.html --output public/fleet.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import gitlab

from fleet import convergence, waves
from fleet import report as fleet_report

FORMATS = {
    "table": fleet_report.as_table,
    "json": fleet_report.as_json,
    "html": fleet_report.as_html,
    "markdown": fleet_report.as_markdown,
}
SUFFIXES = {".html": "html", ".json": "json", ".md": "markdown"}


# Every environment variable the command reads, and what for: --help lists them.
ENVIRONMENT = """environment:
  GITLAB_TOKEN    a token that may read the group (read_api; rollout --run: api): required
  GITLAB_URL      the GitLab to ask (default: CI_SERVER_URL, else https://gitlab.com)
  CI_SERVER_URL   set by GitLab in a job: the GitLab when GITLAB_URL is not set
  CI_PROJECT_ID   set by GitLab in a job: the default of --template-project
  CI_PROJECT_URL  set by GitLab in a job: the default of --template-url"""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="fleet",
        description="Every project made from this template, on GitLab.",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report",
        help="each project's release, jobs and template-update merge request",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("--group", required=True, help="the group (path or ID); its subgroups are included")
    report.add_argument(
        "--template-project",
        default=os.environ.get("CI_PROJECT_ID", ""),
        help="this template's project (path or ID) on GitLab, whose tags are the releases (default: CI_PROJECT_ID)",
    )
    report.add_argument(
        "--template-url",
        action="append",
        default=[],
        help="a URL projects record as _src_path for this template (repeatable; default: CI_PROJECT_URL)",
    )
    report.add_argument("--format", choices=sorted(FORMATS), default="table", help="for the standard output")
    report.add_argument(
        "--output",
        type=Path,
        action="append",
        default=[],
        help="write here instead, in its suffix's format (.html, .json, .md: a site page, else a table); repeatable",
    )
    report.add_argument("--workers", type=int, default=8, help="requests in flight at once (default 8)")
    report.add_argument(
        "--history",
        type=Path,
        help="add this run to this history file (JSON lines), and draw the fleet's convergence from it in pages",
    )
    rollout = commands.add_parser(
        "rollout",
        help="take a release through the projects behind it, in waves that wait for each other",
        description=waves.__doc__,
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rollout.add_argument("--group", required=True, help="the group (path or ID); its subgroups are included")
    rollout.add_argument("--template-project", default=os.environ.get("CI_PROJECT_ID", ""))
    rollout.add_argument("--template-url", action="append", default=[])
    rollout.add_argument("--to", help="the release to roll out (default: the newest)")
    rollout.add_argument("--run", action="store_true", help="start waves (without it: a dry run that shows the plan)")
    rollout.add_argument(
        "--state",
        type=Path,
        default=Path(".fleet-rollout/state.json"),
        help="the rollout's state, read and written by every run (default .fleet-rollout/state.json)",
    )
    rollout.add_argument(
        "--canary", action="append", default=[], help="a project of the first wave (repeatable; default: a share)"
    )
    rollout.add_argument("--canary-share", type=float, default=0.02, help="the first wave's share (default 0.02)")
    rollout.add_argument("--growth", type=float, default=4.0, help="each wave this many times the last (default 4)")
    rollout.add_argument(
        "--wait-hours", type=float, default=48.0, help="a wave's time to merge or go green (default 48)"
    )
    rollout.add_argument(
        "--threshold", type=float, default=0.1, help="stop when more than this share of a wave failed (default 0.1)"
    )
    rollout.add_argument("--resume", action="store_true", help="after a stop: look at the stopped wave again")
    rollout.add_argument("--workers", type=int, default=8, help="requests in flight at once (default 8)")
    return root


def connect() -> gitlab.Gitlab:
    """A client of the GitLab in ``GITLAB_URL`` (default ``CI_SERVER_URL``) with ``GITLAB_TOKEN``:
    a 30 s timeout per request, transient errors retried; python-gitlab waits out a 429 (its
    Retry-After) by default."""
    url = os.environ.get("GITLAB_URL") or os.environ.get("CI_SERVER_URL") or "https://gitlab.com"
    return gitlab.Gitlab(
        url,
        private_token=os.environ.get("GITLAB_TOKEN") or None,
        timeout=30,
        retry_transient_errors=True,
        per_page=100,
    )


def roll_out(fleet: fleet_report.Fleet, args: argparse.Namespace, sources: list[str]) -> int:
    """One step of the rollout in ``args.state`` (a new one when there is none for the release):
    0 while it goes on or when it finished, 1 when it stopped, 2 for a release that is none."""
    try:
        releases, _ = fleet.releases(args.template_project)
        target = args.to or (releases[-1] if releases else "")
        if target not in releases:
            print(f"fleet: {target!r} is not a release of the template ({', '.join(releases)}).", file=sys.stderr)
            return 2
        state = waves.load(args.state)
        if state is None or state.target != target:
            if state is not None:
                print(f"A new rollout, to {target}: the one to {state.target} in {args.state} ends here.")
            result = fleet_report.report(fleet, args.group, args.template_project, sources, args.workers, details=False)
            settings = {"wait_hours": args.wait_hours, "threshold": args.threshold}
            state = waves.begin(result, target, args.canary, args.canary_share, args.growth, **settings)
            planned = {member.project for wave in state.waves for member in wave}
            for name in args.canary:
                if name not in planned:
                    print(f"--canary {name}: not a project of {args.group} behind {target}, so not in the canary.")
        if not args.run:
            print("\n".join([*waves.describe(state), f"Rollout to {target} (dry run: add --run to go on)."]))
            return 0
        if args.resume:
            state.stopped = ""
        said = waves.step(fleet, state, releases, args.workers)
    except gitlab.GitlabError as error:
        print(f"fleet: GitLab answered {error.response_code} for the group or the template's tags.", file=sys.stderr)
        return 1
    waves.save(args.state, state)
    print("\n".join(said))
    return 1 if state.stopped else 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not os.environ.get("GITLAB_TOKEN"):
        print("fleet: set GITLAB_TOKEN to a token that may read the group (read_api).", file=sys.stderr)
        return 2
    sources = args.template_url or [os.environ.get("CI_PROJECT_URL", "")]
    if not args.template_project or not any(sources):
        print("fleet: give --template-project and --template-url (CI_PROJECT_ID/_URL in CI).", file=sys.stderr)
        return 2
    fleet = fleet_report.Fleet(connect)
    if args.command == "rollout":
        return roll_out(fleet, args, sources)
    try:
        result = fleet_report.report(fleet, args.group, args.template_project, sources, args.workers)
    except gitlab.GitlabError as error:  # the group or the template's tags: nothing to report
        print(f"fleet: GitLab answered {error.response_code} for the group or the template's tags.", file=sys.stderr)
        return 1
    section = ""
    if args.history:
        history = convergence.append(args.history, convergence.snapshot_of(result))
        section = convergence.section_html(result, history, fleet.now)
    for output in args.output:
        output.parent.mkdir(parents=True, exist_ok=True)
        kind = SUFFIXES.get(output.suffix, "table")
        text = FORMATS[kind](result, section) if kind in {"html", "markdown"} else FORMATS[kind](result)
        output.write_text(text, encoding="utf-8")
        print(f"{output}: {len(result.rows)} projects ({result.requests} API requests)")
    if not args.output:
        print(FORMATS[args.format](result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
