"""Say that a team's own file stays where a template release starts shipping one.

Used by a versioned `before` migration, in the project, when a release adds a file that the
team owns after the first copy (Copier's `_skip_if_exists`) and that a project may already
have of its own:

    team_file_kept.py PATH NOTE

If PATH exists, Copier keeps it as it is; this prints `note: kept your own PATH: NOTE`
(what the template's version would add), which the template-update job quotes in its
merge request. It never changes a file.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    path, note = argv
    if Path(path).exists():
        sys.stdout.write(f"note: kept your own {path}: {note}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
