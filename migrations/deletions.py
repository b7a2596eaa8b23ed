"""What an update does with deleted files: nothing a person made is lost, no include breaks.

Run by copier in the project as an `after` migration, once `copier update` has merged:

    deletions.py TEMPLATE FROM TO

TEMPLATE is copier's checkout of the template, FROM and TO the versions the update went
between. It settles the two kinds of deletion an update meets, and prints a `note:` line
for each file it settled (the template-update job quotes them in its merge request):

- Files the update deleted (a feature turned off, such as `dockerfile=false`, or a file a
  new version no longer ships): copier removes them whatever the team did to them. One the
  team had edited (it differs from FROM's render with the project's answers) is put back
  as it was: it is the team's now. An untouched one stays deleted.
- Template-owned files the team deleted: copier keeps such a deletion, but the template's
  other files still use them (its pipeline entry file includes every job file, and GitLab
  refuses a pipeline whose include is missing). They are restored from TO's render; a
  feature is turned off by its answer, not by deleting its files.

Both need a render of the template, which costs a second or two: the first is only made
when the update deleted something, the second only when a template-owned file may be
missing (``may_lack_owned``: some file of TO whose source says it is template-owned has no
file at its place in the project).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ANSWERS_FILE = ".copier-answers.yml"
MARKER = "Template-owned:"


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def answers(text: str) -> dict[str, object]:
    """The questions' answers in an answers file (Copier's own keys start with ``_``)."""
    return {key: value for key, value in (yaml.safe_load(text) or {}).items() if not key.startswith("_")}


def render(template: str, ref: str, data: dict[str, object], dst: Path) -> Path:
    """The template at ``ref`` rendered with ``data`` into ``dst`` (no tasks, no lock). Copier is
    imported here, when a render is needed: most updates need none, and the import takes most of a second."""
    import copier  # noqa: PLC0415

    copier.run_copy(template, dst, data=data, vcs_ref=ref, defaults=True, unsafe=True, skip_tasks=True, quiet=True)
    return dst


def template_owned(root: Path) -> list[str]:
    """Files under ``root`` that say in their first lines that the template owns them."""
    owned = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts):
        head = path.read_bytes()[:1024].decode("utf-8", "replace").splitlines()[:3]
        if any(MARKER in line for line in head):
            owned.append(path.relative_to(root).as_posix())
    return owned


def keep_edited(deleted: list[str], old: Path) -> list[str]:
    """Put back each file in ``deleted`` that differs from ``old``'s render; return the notes."""
    notes = []
    for name in deleted:
        committed = subprocess.run(["git", "show", f"HEAD:{name}"], capture_output=True, check=True).stdout
        rendered = old / name
        if rendered.is_file() and rendered.read_bytes() == committed:
            notes.append(f"note: removed {name}: the template no longer ships it with these answers.")
            continue
        git("checkout", "HEAD", "--", name)
        notes.append(
            f"note: kept {name}: the template no longer ships it with these answers, but your team "
            "edited it, so it stays as it was and is yours now (delete it if you no longer need it)."
        )
    return notes


# A path part that exists only for some answers: `{% if dockerfile %}Dockerfile{% endif %}`.
IF_WRAPPED = re.compile(r"\{%-?\s*if\s+(\w+)\s*-?%\}(.*?)\{%-?\s*endif\s*-?%\}")


def may_lack_owned(template: Path, project: Path, answered: dict[str, object]) -> bool:
    """Whether a template-owned file of ``template`` (copier's checkout of TO) may be missing
    from ``project`` rendered with ``answered``: a source file that says it is template-owned
    has no file at the place it renders to (a part that exists only for some answers is there
    when its answer is true, and absent otherwise), or its place depends on anything else (an
    answer not recorded, other Jinja). Only then does TO's render have to say which files it owns."""
    config = yaml.safe_load((template / "copier.yml").read_text(encoding="utf-8"))
    root = template / str(config.get("_subdirectory", ""))
    suffix = str(config.get("_templates_suffix", ".jinja"))

    def part(match: re.Match[str]) -> str:
        answer = match.group(1)
        return match.group(2) if answered.get(answer) else "" if answer in answered else "{unknown}"

    for source in root.rglob("*"):
        if not source.is_file() or "__pycache__" in source.parts or MARKER.encode() not in source.read_bytes():
            continue
        parts = [
            IF_WRAPPED.sub(part, name) for name in source.relative_to(root).as_posix().removesuffix(suffix).split("/")
        ]
        if "" in parts:
            continue  # not rendered with these answers
        name = "/".join(parts)
        if "{" in name or not (project / name).is_file():
            return True
    return False


def restore_missing(new: Path, project: Path) -> list[str]:
    """Copy each template-owned file of ``new`` that ``project`` lacks; return the notes."""
    notes = []
    for name in template_owned(new):
        target = project / name
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((new / name).read_bytes())
        target.chmod((new / name).stat().st_mode)
        notes.append(
            f"note: restored {name}: it was deleted, but it is template-owned and the template's "
            "other files rely on it (a missing pipeline include stops GitLab loading the pipeline). "
            "To drop a feature, answer its question instead (for example publish_package=false)."
        )
    return notes


def main(argv: list[str]) -> int:
    template, old_ref, new_ref = argv
    project = Path.cwd()
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        if deleted := git("ls-files", "-z", "--deleted").split("\0")[:-1]:
            before = answers(git("show", f"HEAD:{ANSWERS_FILE}"))
            notes += keep_edited(deleted, render(template, old_ref, before, Path(tmp) / "old"))
        now = answers((project / ANSWERS_FILE).read_text(encoding="utf-8"))
        if may_lack_owned(Path(template), project, now):
            notes += restore_missing(render(template, new_ref, now, Path(tmp) / "new"), project)
    for note in notes:
        sys.stdout.write(note + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
