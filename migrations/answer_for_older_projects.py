"""Give projects made before a question existed the answer that keeps them as they were.

Used by a versioned `before` migration, in the project, when a release adds a question whose
default would change an existing project in a way its own code may not pass (such as a
strict type checker over the team's tests):

    answer_for_older_projects.py QUESTION VALUE [--note TEXT] [--answers-file FILE]

If the answers file has no QUESTION yet, it gets QUESTION: VALUE (a yes/no VALUE as a
boolean) and NOTE (how to opt in) is printed as a `note:` line; a project that already
answered it is left alone. Copier reloads the answers after `before` migrations, so the
update renders with it. New projects get the question's default.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

_BOOLEANS = {"true": True, "false": False}


def record_answer(answers_file: Path, question: str, value: str) -> bool:
    """Add ``question: value`` to ``answers_file`` unless it has that question; say if it did."""
    text = answers_file.read_text(encoding="utf-8")
    if question in (yaml.safe_load(text) or {}):
        return False
    typed = _BOOLEANS.get(value.lower(), value)
    line = yaml.safe_dump({question: typed}, default_flow_style=False, allow_unicode=True)
    answers_file.write_text(text.rstrip("\n") + "\n" + line, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("question")
    parser.add_argument("value")
    parser.add_argument("--note", default="", help="printed when the answer is recorded: how to opt in")
    parser.add_argument("--answers-file", type=Path, default=Path(".copier-answers.yml"))
    args = parser.parse_args(argv)
    if record_answer(args.answers_file, args.question, args.value):
        sys.stdout.write(f"note: {args.question}: {args.value} (kept as before this question existed)\n")
        if args.note:
            sys.stdout.write(f"  {args.note}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
