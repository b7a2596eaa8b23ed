"""Move a project's answer from a template's old default to its new one.

Used by `_migrations` entries (stage `before`) when a template release changes a
default that every project should follow, such as the recommended uv version:

    follow_new_default.py QUESTION OLD NEW [ANSWERS_FILE]

Run by copier in the project before it renders the new version. If the recorded
answer to QUESTION is still OLD, it becomes NEW; an answer a team chose on purpose
(anything else) is kept. Copier reloads the answers after `before` migrations, so the
update renders with the new value. Only the answer's line changes: the file's
comments and layout stay as they are.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml


def follow_new_default(answers_file: Path, question: str, old: str, new: str) -> bool:
    """Rewrite ``question: old`` to ``question: new`` in ``answers_file``; say if it changed."""
    text = answers_file.read_text(encoding="utf-8")
    answers = yaml.safe_load(text) or {}
    if str(answers.get(question)) != old:
        return False
    line = re.compile(rf"^{re.escape(question)}:.*$", re.MULTILINE)
    replacement = yaml.safe_dump({question: new}, default_flow_style=False, allow_unicode=True).strip()
    updated, count = line.subn(lambda _: replacement, text)
    if count != 1:
        msg = f"{answers_file}: expected one top-level line for {question!r}, found {count}"
        raise ValueError(msg)
    answers_file.write_text(updated, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    if len(argv) not in {3, 4}:
        sys.stderr.write(__doc__ or "")
        return 2
    question, old, new = argv[:3]
    answers_file = Path(argv[3] if len(argv) == 4 else ".copier-answers.yml")
    if follow_new_default(answers_file, question, old, new):
        sys.stdout.write(f"{question}: {old} -> {new} (the template's new default)\n")
    else:
        sys.stdout.write(f"{question}: kept the project's own answer\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
