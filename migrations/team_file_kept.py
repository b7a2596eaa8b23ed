"""Say that a team's own file stays where a template release starts shipping one.

Used by a versioned `before` migration, in the project, when a release adds a file that the
team may already have of its own (under one of the names the tool reads):

    team_file_kept.py [--answer QUESTION=VALUE] --note NOTE PATH [PATH ...]

If one of the PATHs exists (an empty PATH names none: copier.yml passes the one a rule found,
or nothing), the template leaves it as it is; this prints
`note: kept your own PATH: NOTE` (what the template's version would add), which the
template-update job quotes in its merge request. With --answer, the project also gets
QUESTION: VALUE in its answers (unless it answered QUESTION already): the answer that keeps
the template's file out, on this update and every later one. It never changes the team's file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from answer_for_older_projects import record_answer


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--note", required=True, help="what the template's version of the file would add")
    parser.add_argument("--answer", help="QUESTION=VALUE to record when the team has its own file")
    parser.add_argument("--answers-file", type=Path, default=Path(".copier-answers.yml"))
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    found = next((Path(path) for path in args.paths if path and Path(path).exists()), None)
    if found is None:
        return 0
    sys.stdout.write(f"note: kept your own {found.as_posix()}: {args.note}\n")
    if args.answer:
        question, _, value = args.answer.partition("=")
        if record_answer(args.answers_file, question, value):
            sys.stdout.write(f"  {question}: {value} is recorded, so the template adds none of its own.\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
