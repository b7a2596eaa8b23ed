"""Move a project's answer from a template's old default to its new one.

Used by `_migrations` entries (stage `before`) when a template release changes a
default that every project should follow, such as the recommended uv version:

    follow_new_default.py QUESTION OLD NEW [--note TEXT] [--answers-file FILE]

Run by copier in the project before it renders the new version. If the recorded
answer to QUESTION is still OLD, it becomes NEW and NOTE (why, and how to opt out)
is printed; an answer a team chose on purpose (anything else) is kept, silently.
OLD and NEW are written as on the command line; a yes/no answer compares and is
written as a boolean (``true``/``false``). Copier reloads the answers after
`before` migrations, so the update renders with the new value. Only the answer's
line changes: the file's comments and layout stay as they are.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

_BOOLEANS = {"true": True, "false": False, "yes": True, "no": False}


def _typed(text: str, like: Any) -> Any:
    """``text`` as the recorded answer's type: a boolean for a yes/no question, else a string."""
    if isinstance(like, bool):
        if text.lower() not in _BOOLEANS:
            msg = f"{text!r} is not a yes/no value (true or false)"
            raise ValueError(msg)
        return _BOOLEANS[text.lower()]
    return text


def follow_new_default(answers_file: Path, question: str, old: str, new: str) -> bool:
    """Rewrite ``question: old`` to ``question: new`` in ``answers_file``; say if it changed."""
    text = answers_file.read_text(encoding="utf-8")
    answers = yaml.safe_load(text) or {}
    if question not in answers:
        return False
    recorded = answers[question]
    if (recorded if isinstance(recorded, bool) else str(recorded)) != _typed(old, recorded):
        return False
    line = re.compile(rf"^{re.escape(question)}:.*$", re.MULTILINE)
    replacement = yaml.safe_dump({question: _typed(new, recorded)}, default_flow_style=False, allow_unicode=True)
    updated, count = line.subn(lambda _: replacement.strip(), text)
    if count != 1:
        msg = f"{answers_file}: expected one top-level line for {question!r}, found {count}"
        raise ValueError(msg)
    answers_file.write_text(updated, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("question")
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--note", default="", help="printed when the answer moves: why, and how to opt out")
    parser.add_argument("--answers-file", type=Path, default=Path(".copier-answers.yml"))
    args = parser.parse_args(argv)
    if follow_new_default(args.answers_file, args.question, args.old, args.new):
        sys.stdout.write(f"note: {args.question}: {args.old} -> {args.new} (the template's new default)\n")
        if args.note:
            sys.stdout.write(f"  {args.note}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
