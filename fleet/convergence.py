"""How a template release spreads through the fleet, from the history of ``fleet report`` runs:
each run appends a snapshot of where every project stands to a history file (one JSON object a
line), which the template repository's `pages` job keeps between its scheduled runs.

- adoption: for each release, the share of the fleet's projects on it or a newer one, at each
  snapshot (archived projects left out; a project that could not be read is on none);
- lag: how far each project is behind the newest release, in releases and in days (since the
  first release after its own came out: the tag's date, from the tags API the report reads);
- stuck: the projects behind longest, each with why (conflicts, red checks, no schedule, no
  access, or waiting for a merge).

Plain functions over the report's rows, unit-tested without GitLab (tests/test_fleet.py).
"""

from __future__ import annotations

import html
import json
import statistics
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from fleet.report import (
    ARCHIVED,
    BEHIND,
    CURRENT,
    NEVER_SCHEDULED,
    NOT_IN_SCHEDULE,
    UNREADABLE,
    Report,
    Row,
    age_in_days,
    moment,
    releases_of,
)


@dataclass
class Snapshot:
    generated: str  # when the report ran (ISO 8601, UTC)
    releases: list[str]  # the template's, oldest first
    projects: dict[str, str]  # every live project: the release it is on ("" when unknown or unreadable)


@dataclass
class Lag:
    project: str
    releases: int  # releases behind the newest
    days: int  # since the first release after the project's own came out
    why: str


def snapshot_of(report: Report) -> Snapshot:
    live = {
        row.project: row.release if row.state in {BEHIND, CURRENT} else ""
        for row in report.rows
        if row.state != ARCHIVED
    }
    return Snapshot(report.generated, list(report.releases), live)


def read_history(path: Path) -> list[Snapshot]:
    if not path.is_file():
        return []
    return [Snapshot(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def append(path: Path, snapshot: Snapshot) -> list[Snapshot]:
    """The history with ``snapshot`` added (written back), oldest first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as history:
        history.write(json.dumps(asdict(snapshot), sort_keys=True) + "\n")
    return read_history(path)


def adoption(history: list[Snapshot]) -> dict[str, list[tuple[str, float]]]:
    """For each release, the share of live projects on it or newer at each snapshot that knew it."""
    curves: dict[str, list[tuple[str, float]]] = {}
    for snapshot in sorted(history, key=lambda s: s.generated):
        order = {release: i for i, release in enumerate(snapshot.releases)}
        total = len(snapshot.projects)
        for release in snapshot.releases:
            on = sum(order.get(theirs, -1) >= order[release] for theirs in snapshot.projects.values())
            curves.setdefault(release, []).append((snapshot.generated, on / total if total else 0.0))
    return {release: curves[release] for release in releases_of(curves)}


def why(row: Row) -> str:
    """Why a project is not on the newest release, in the words of the report's columns."""
    if row.state in UNREADABLE:
        return row.state
    if row.update in {NEVER_SCHEDULED, NOT_IN_SCHEDULE}:
        return "no schedule"
    mr = row.merge_request or {}
    if mr.get("conflicts"):
        return "conflicts"
    if mr.get("draft") or row.update == "failed":
        return "red checks"
    return "waiting for a merge"


def lags(report: Report, now: datetime) -> list[Lag]:
    """Every live project's lag behind the newest release (0 for the current ones), its days from
    the report's tag dates."""
    found = []
    for row in report.rows:
        if row.state == CURRENT:
            found.append(Lag(row.project, 0, 0, ""))
        elif row.state == BEHIND and row.release in report.releases:
            superseded_by = report.releases[report.releases.index(row.release) + 1]
            days = max(0, age_in_days(report.release_dates[superseded_by], now))
            found.append(Lag(row.project, row.behind or 0, days, why(row)))
        elif row.state in UNREADABLE:
            found.append(Lag(row.project, 0, 0, why(row)))
    return found


def median_lag(found: list[Lag]) -> tuple[float, float]:
    """The median lag of the projects whose release is known: (days, releases)."""
    known = [lag for lag in found if lag.why not in UNREADABLE]
    if not known:
        return 0.0, 0.0
    return statistics.median(lag.days for lag in known), statistics.median(lag.releases for lag in known)


def stuck(found: list[Lag], count: int = 10) -> list[Lag]:
    """The projects behind longest (most days, then most releases), and those that cannot be read."""
    behind = [lag for lag in found if lag.releases or lag.why]
    return sorted(behind, key=lambda lag: (-lag.days, -lag.releases, lag.project))[:count]


COLOURS = ("#1565c0", "#2e7d32", "#f9a825", "#6a1b9a", "#c62828", "#00838f", "#5d4037", "#9e9e9e")


def adoption_svg(curves: dict[str, list[tuple[str, float]]], width: int = 640, height: int = 240) -> str:
    """The adoption curves as inline SVG: one line per release (the newest last, on top), the
    share of projects on it or newer (0 to 100 %) over the snapshots' dates."""
    times = sorted({moment(at) for points in curves.values() for at, _ in points})
    left, bottom, legend = 40, 20, 130
    span = max((times[-1] - times[0]).total_seconds(), 1.0) if times else 1.0

    def x(at: str) -> float:
        return left + (width - left - legend) * (moment(at) - times[0]).total_seconds() / span

    def y(share: float) -> float:
        return (height - bottom) * (1 - share)

    parts = [
        f'<line x1="{left}" y1="0" x2="{left}" y2="{height - bottom}" stroke="#888"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - legend}" y2="{height - bottom}" stroke="#888"/>',
        f'<text x="0" y="12" font-size="11">100%</text><text x="0" y="{height - bottom}" font-size="11">0%</text>',
    ]
    for i, (release, points) in enumerate(curves.items()):
        colour = COLOURS[i % len(COLOURS)]
        line = " ".join(f"{x(at):.1f},{y(share):.1f}" for at, share in points)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="3" points="{line}"/>')
        parts.append(
            f'<text x="{width - legend + 10}" y="{16 + 18 * i}" font-size="13" fill="{colour}">'
            f"{html.escape(release)}: {points[-1][1]:.0%}</text>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Adoption of each release over time" '
        f'width="{width}" height="{height}">{"".join(parts)}</svg>'
    )


def section_html(report: Report, history: list[Snapshot], now: datetime) -> str:
    """The page's convergence section: the adoption chart, the median lag, the projects stuck longest."""
    found = lags(report, now)
    days, releases = median_lag(found)
    rows = "".join(
        f"<tr><td>{html.escape(lag.project)}</td><td>{lag.releases}</td><td>{lag.days}</td>"
        f"<td>{html.escape(lag.why)}</td></tr>"
        for lag in stuck(found)
    )
    return (
        f"<h2>Convergence</h2>\n<p>Median lag behind {html.escape(report.newest or 'the newest release')}: "
        f"{days:g} days, {releases:g} releases, over {len(history)} reports.</p>\n"
        f"<div>{adoption_svg(adoption(history))}</div>\n"
        "<h3>Stuck longest</h3>\n<table><thead><tr><th>project</th><th>releases behind</th><th>days</th>"
        f"<th>why</th></tr></thead><tbody>{rows}</tbody></table>\n"
    )
