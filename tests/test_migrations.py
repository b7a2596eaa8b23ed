"""Unit tests of the migration helpers in migrations/."""

from __future__ import annotations

import pytest
from follow_new_default import follow_new_default, main

ANSWERS = """# Written by Copier: keep this comment.
_commit: v1.0.0
python_version: '3.13'
uv_version: '0.13'
ci_share_cache_with_merge_requests: true
"""


@pytest.fixture
def answers(tmp_path):
    path = tmp_path / ".copier-answers.yml"
    path.write_text(ANSWERS)
    return path


def test_moves_an_answer_still_on_the_old_default(answers):
    assert follow_new_default(answers, "uv_version", "0.13", "0.14") is True
    assert answers.read_text() == ANSWERS.replace("uv_version: '0.13'", "uv_version: '0.14'")


def test_keeps_an_answer_chosen_on_purpose(answers, capsys):
    answers.write_text(ANSWERS.replace("'0.13'", "'0.12.5'"))
    assert main(["uv_version", "0.13", "0.14", "--answers-file", str(answers)]) == 0
    assert "uv_version: '0.12.5'" in answers.read_text()
    assert capsys.readouterr().out == ""  # nothing new to tell


def test_moves_a_yes_no_answer_as_a_boolean_and_says_why(answers, capsys):
    note = "Caches are no longer shared with merge requests; opt in again with --data ...=true."
    main(["ci_share_cache_with_merge_requests", "true", "false", "--note", note, "--answers-file", str(answers)])
    assert answers.read_text() == ANSWERS.replace("merge_requests: true", "merge_requests: false")
    assert capsys.readouterr().out == (
        f"note: ci_share_cache_with_merge_requests: true -> false (the template's new default)\n  {note}\n"
    )
    # Once moved (or chosen as false), a second run tells nothing new and changes nothing.
    assert follow_new_default(answers, "ci_share_cache_with_merge_requests", "true", "false") is False


def test_a_question_the_project_never_answered_is_left_alone(answers):
    assert follow_new_default(answers, "image_mirror", "", "x") is False
    assert answers.read_text() == ANSWERS


def test_refuses_a_file_it_cannot_edit_safely(answers):
    answers.write_text(ANSWERS + "uv_version: '0.13'\n")  # a duplicate key: which one?
    with pytest.raises(ValueError, match="expected one top-level line for 'uv_version', found 2"):
        follow_new_default(answers, "uv_version", "0.13", "0.14")
