"""Say that a team's own file stays where a template release starts shipping one.

Used by a versioned `before` migration, in the project, when a release adds a file that the
team owns after the first copy and that a project may already have of its own (under one of
the names the tool reads):

    team_file_kept.py --note NOTE PATH [PATH ...]

If one of the PATHs exists, the template leaves it as it is; this prints
`note: kept your own PATH: NOTE` (what the template's version would add), which the
template-update job quotes in its merge request. It never changes a file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--note", required=True, help="what the template's version of the file would add")
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if found := next((path for path in args.paths if path.exists()), None):
        sys.stdout.write(f"note: kept your own {found.as_posix()}: {args.note}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
