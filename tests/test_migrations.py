"""Unit tests of the migration helpers in migrations/."""

from __future__ import annotations

import pytest
from follow_new_default import follow_new_default, main

ANSWERS = """# Written by Copier: keep this comment.
_commit: v1.0.0
python_version: '3.13'
uv_version: '0.13'
"""


def test_moves_an_answer_still_on_the_old_default(tmp_path):
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text(ANSWERS)
    assert follow_new_default(answers, "uv_version", "0.13", "0.14") is True
    assert answers.read_text() == ANSWERS.replace("uv_version: '0.13'", "uv_version: '0.14'")


def test_keeps_an_answer_chosen_on_purpose(tmp_path, capsys):
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text(ANSWERS.replace("'0.13'", "'0.12.5'"))
    assert main(["uv_version", "0.13", "0.14", str(answers)]) == 0
    assert "uv_version: '0.12.5'" in answers.read_text()
    assert capsys.readouterr().out == "uv_version: kept the project's own answer\n"


def test_refuses_a_file_it_cannot_edit_safely(tmp_path):
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text(ANSWERS + "uv_version: '0.13'\n")  # a duplicate key: which one?
    with pytest.raises(ValueError, match="expected one top-level line for 'uv_version', found 2"):
        follow_new_default(answers, "uv_version", "0.13", "0.14")
