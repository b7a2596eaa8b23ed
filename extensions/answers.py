"""The gate every answer passes, however it was given: --data, a --data-file, Copier's settings
file, a default, a prompt, or the answers file an update reads back.

Left to itself, Copier casts an answer to its question's type before any validator sees it
(``-d dockerfile=maybe`` is a true boolean, a data file's ``python_version: 3.10`` is 3.1,
``project_name: Yes`` is "True"), takes a computed value given with --data, ignores a misspelt
name, and prints a refusal from a validator under a Python traceback. So the rules of the other
modules are applied here, at two points, each raising Copier's ``UserMessageError`` (its
command line prints the message alone, a few lines, and nothing has been written):

1. ``refuse_given_answers``, the ``when`` of copier.yml's first question (never asked), before
   Copier reads any answer: every answer given from outside, as given (its name, its YAML
   type, a boolean's spelling, a choice, YAML syntax, its rule), against copier.yml's questions.
2. ``check_before_writing``, from the extension's context hook at the first render of the
   render phase, before a file is written: every answer as Copier will use it, whatever its
   source (defaults, prompts and updates included), the values computed from them, on an
   update the project's answers file as recorded (Copier silently drops a recorded answer it
   cannot read and takes the default), and the folder it writes into (the files a copy would
   replace, refused unless --overwrite).

copier.yml's validators call ``answer_error``: they only give the interactive prompt its
retry, with the same rules. Plain functions, unit-tested without Copier (tests/test_answers.py).
"""

from __future__ import annotations

import difflib
import json
import re
import reprlib
import shlex
import tomllib
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

import identity
import images
import metadata
import organisation
import tools
import yaml
from jinja2 import pass_context

# YAML 1.1's boolean spellings (yaml.org/type/bool.html), the ones Copier's data files and
# answers file read as booleans; any other text is refused, never cast.
YAML_BOOLEANS = {
    **dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], True),
    **dict.fromkeys(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], False),
}
# Answers that are versions: text, though YAML reads an unquoted 3.10 as the number 3.1.
VERSIONS = ("python_version", "uv_version")
# Questions earlier releases asked and this one does not: their answers stay in projects'
# answers files, and an update passes them back as data, which Copier ignores. A question
# removed from copier.yml is added here (tests/test_answers.py checks every release).
RETIRED_QUESTIONS: frozenset[str] = frozenset()
MAX_SHOWN = 80  # characters of a refused value a message shows
MAX_REFUSALS = 6  # lines of refusals a message lists
# Bounds on one answer, checked before anything else reads it: YAML aliases let a few hundred
# bytes stand for billions of values (a "billion laughs" file), which Python holds as shared
# references until something walks them. The largest answer a rule accepts (50 runner tags of
# 255 characters) is far inside both.
MAX_VALUES = 1000  # strings, numbers, lists and mappings, counted as often as they are reached
MAX_CHARACTERS = 50_000
REFUSED = "copier-uv-gitlab refused the answers; nothing was written:"  # every refusal's first line


def refuse(message: str) -> NoReturn:
    """Stop the render with Copier's ``UserMessageError``: its command line prints the message
    alone, no traceback. Copier is imported here, not with this module: the template-sync jobs
    read the rules without rendering, and importing Copier takes them over a second."""
    from copier.errors import UserMessageError  # noqa: PLC0415

    raise UserMessageError(message)


# libyaml's parser when PyYAML has it: the same YAML 1.1 safe loading, a tenth of the time.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=4)
def _parsed(text: str) -> dict[str, Any]:
    """A copier.yml's text, parsed once per process: Copier clones the template into a new folder
    for every copy and update, so the text, not the path, says whether it was read before."""
    return yaml.load(text, Loader=_YAML_LOADER)


def _copier_yml(path: str) -> dict[str, Any]:
    return _parsed(Path(path).read_text(encoding="utf-8"))


def questions_of(copier_yml: str) -> dict[str, dict[str, Any]]:
    """The questions of a copier.yml: every top-level key not starting with ``_``."""
    return {name: spec for name, spec in _copier_yml(copier_yml).items() if not name.startswith("_")}


def computed(spec: Mapping[str, Any]) -> bool:
    """A question that is never asked: its value is derived (``when: false``) or it is the gate."""
    return spec.get("when") is False or "refuse_given_answers" in str(spec.get("when", ""))


# A bounded repr: it stops at a few levels and items, whatever the value's size.
_SHOWN = reprlib.Repr()  # its settings are attributes (keywords only from Python 3.12)
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother = 3, MAX_SHOWN, MAX_SHOWN
_SHOWN.maxdict = _SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxset = 4


def shown(value: object, secret: bool = False) -> str:
    """``value`` as a message shows it: quoted, cut at ``MAX_SHOWN`` characters, a URL's secrets
    masked; never more than a few levels of it are read (an alias bomb prints as quickly as a word)."""
    if secret and isinstance(value, str):
        value = organisation.masked_url(value)
    text = _SHOWN.repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def bounds_error(name: str, value: object) -> str:
    """Why ``value`` is too large to read, or holds a string no file can hold, or ``""``: a walk
    that stops at ``MAX_VALUES`` values or ``MAX_CHARACTERS`` characters, before any rule, message
    or file reads the answer whole."""
    stack, values, characters = [value], 0, 0
    while stack:
        item = stack.pop()
        values += 1
        if isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, str):
            characters += len(item)
            if any("\ud800" <= ch <= "\udfff" for ch in item):
                return (
                    f"{name} is not valid UTF-8 text (a byte of another encoding, shown as "
                    f"{shown(item)}): give it in UTF-8."
                )
        if values > MAX_VALUES or characters > MAX_CHARACTERS:
            return (
                f"{name} is too large: more than {MAX_VALUES} values or {MAX_CHARACTERS} characters "
                "(YAML aliases count each time they are used)."
            )
    return ""


# ---------------------------------------------------------------- each answer's rule


def _choice(name: str, valid: Callable[[], list[str]]) -> Callable[[Mapping[str, Any]], str]:
    def rule(answers: Mapping[str, Any]) -> str:
        if (value := answers[name]) in (choices := valid()):
            return ""
        return f"{name} {shown(value)} is not one of: {', '.join(choices)}."

    return rule


def _distribution_rule(answers: Mapping[str, Any]) -> str:
    return identity.distribution_name_error(answers["distribution_name"]) or identity.lost_letters_error(
        answers.get("project_name", ""), answers["distribution_name"]
    )


# Every question's rule over the answers so far: "" when its answer is fine. Static choices
# (package_index_mode, ...) are checked from copier.yml by ``choices_error``.
RULES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "project_name": lambda a: identity.project_name_error(a["project_name"]),
    "distribution_name": _distribution_rule,
    "package_name": lambda a: identity.package_name_error(a["package_name"], a.get("python_version", "")),
    "description": lambda a: identity.description_error(a["description"]),
    "author_name": lambda a: identity.author_name_error(a["author_name"]),
    "author_email": lambda a: identity.email_error(a["author_email"]),
    "python_version": _choice("python_version", images.python_choices),
    "uv_version": lambda a: images.uv_version_error(a["uv_version"]),
    "os_flavour": lambda a: images.image_error(a["python_version"], a["uv_version"], a["os_flavour"]),
    # The registry alone: whether the mirror's prefix is good is image_mirror's rule.
    "image_registry": lambda a: "" if a["image_registry"] == "mirror" else images.registry_error(a["image_registry"]),
    "image_mirror": lambda a: images.registry_error(a["image_registry"], a["image_mirror"]),
    "image_digests": lambda a: images.digests_error(a["image_digests"]),
    "package_index_url": lambda a: organisation.index_url_error(a["package_index_url"]),
    "package_index_packages": lambda a: organisation.package_names_error(
        a["package_index_packages"], a.get("distribution_name", "")
    ),
    "package_index_auth": lambda a: organisation.auth_error(a["package_index_auth"], a.get("package_index_url", "")),
    "vulnerability_service_url": lambda a: organisation.service_url_error(a["vulnerability_service_url"]),
    "ci_runner_tags": lambda a: organisation.runner_tags_error(a["ci_runner_tags"]),
    "renovate_timezone": lambda a: organisation.timezone_error(a["renovate_timezone"]),
    "docs": lambda a: tools.docs_error(a["docs"], a["python_version"]),
    "repository_url": lambda a: metadata.repository_url_error(a["repository_url"]),
    "license": _choice("license", lambda: [spdx for _, spdx in metadata.licence_choices()]),
}
# Answers whose refusal must not print them whole (a token in a URL).
SECRET_BEARING = {"package_index_url", "vulnerability_service_url"}


def choices_error(name: str, spec: Mapping[str, Any], value: object) -> str:
    """Why ``value`` is not among a question's literal choices, or ``""`` (no literal choices)."""
    choices = spec.get("choices")
    if isinstance(choices, Mapping):
        choices = list(choices.values())
    if not isinstance(choices, list) or value in choices:
        return ""
    return f"{name} {shown(value)} is not one of: {', '.join(map(str, choices))}."


def kind_error(name: str, spec: Mapping[str, Any], value: object, *, given: bool, written: str = "") -> str:
    """Why ``value`` is not of the question's kind, or ``""``.

    ``given``: the answer as written in YAML or on the command line (a boolean may still be
    a string such as "yes"; a ``yaml`` answer may still be YAML text); else as Copier holds it.
    ``written``: the answer's text in its file, when known (a version YAML read as a number).
    """
    kind = spec.get("type", "str")
    if kind == "bool":
        if isinstance(value, bool) or (given and isinstance(value, str) and value.strip() in YAML_BOOLEANS):
            return ""
        return f"{name} {shown(value)} is not a boolean: answer true or false (YAML's yes/no and on/off work too)."
    if kind == "yaml":
        if given and isinstance(value, str):
            try:
                yaml.safe_load(value)
            except yaml.YAMLError as error:
                return f"{name} {shown(value)} is not valid YAML: {str(error).splitlines()[0]}."
        return ""
    if isinstance(value, str):
        return ""
    if name in VERSIONS and isinstance(value, (int, float)) and not isinstance(value, bool):
        example = written if re.fullmatch(r"[0-9.]{1,20}", written) else value
        return (
            f"{name} {value!r} is a YAML number, not a version: unquoted, 3.10 reads as 3.1 and 0.10 as 0.1. "
            f"Quote it as you wrote it: {name}: '{example}'."
        )
    return (
        f"{name} {shown(value)} is not text: YAML reads unquoted yes/no/on/off as booleans and digits as "
        f"numbers. Quote it: {name}: '...'."
    )


def rule_error(name: str, answers: Mapping[str, Any]) -> str:
    """Why ``answers[name]`` breaks its rule, or ``""`` (no rule, or the answers it needs are missing)."""
    rule = RULES.get(name)
    if rule is None:
        return ""
    if name in answers and (error := bounds_error(name, answers[name])):
        return error
    try:
        return rule(answers)
    except KeyError:  # an answer it depends on is not asked (its question's `when` is false)
        return ""


# ---------------------------------------------------------------- point 1: answers as given


def closest_question(name: str, questions: Mapping[str, Any]) -> str:
    """The question a misspelt name most likely meant, or ``""``."""
    asked = [question for question, spec in questions.items() if not computed(spec)]
    matches = difflib.get_close_matches(name.replace("-", "_").lower(), asked, n=1, cutoff=0.6)
    return matches[0] if matches else ""


def literal_defaults(questions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """copier.yml's defaults that are plain values (not Jinja), for rules that read another answer."""
    return {
        name: spec["default"]
        for name, spec in questions.items()
        if isinstance(spec, Mapping) and "default" in spec and "{{" not in str(spec["default"])
    }


def _as_answer(spec: Mapping[str, Any], value: object) -> object:
    """A given value as Copier will hold it, once its kind is known to be right."""
    if spec.get("type") == "yaml" and isinstance(value, str):
        return yaml.safe_load(value)
    if spec.get("type") == "bool" and isinstance(value, str):
        return YAML_BOOLEANS[value.strip()]
    return value


def given_answers_errors(given: Mapping[str, Any], questions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What is wrong with answers given from outside, as given, before Copier casts them; a
    rule that reads another answer reads it from ``given`` or copier.yml's plain default."""
    errors = []
    answers = literal_defaults(questions)
    for name, value in given.items():
        if not isinstance(name, str):
            errors.append(f"{shown(name)} is not a question of this template: a question's name is text.")
            continue
        spec = questions.get(name)
        if name.startswith("_") or name in RETIRED_QUESTIONS:  # Copier's own (_commit), or retired
            continue
        if error := bounds_error(shown(name) if spec is None else name, value):
            errors.append(error)
        elif spec is None:
            guess = closest_question(name, questions)
            hint = f"; did you mean {guess}?" if guess else f"; the questions are: {', '.join(questions)}."
            errors.append(f"{shown(name)} is not a question of this template{hint}")
        elif computed(spec):
            errors.append(f"{name} is computed from the other answers and cannot be given.")
        elif error := kind_error(name, spec, value, given=True) or choices_error(name, spec, value):
            errors.append(error)
        else:
            answers[name] = _as_answer(spec, value)
    if errors:
        return errors
    # Every rule, not only the given answers' own: a given URL can break the default auth's rule.
    return [error for name in answers if (error := rule_error(name, answers))]


@pass_context
def refuse_given_answers(context: Mapping[str, Any]) -> bool:
    """copier.yml's gate: raise a refusal for a bad answer given from outside, else ``False``
    (the gate question stays hidden)."""
    conf = context["_copier_conf"]
    questions = questions_of(str(Path(conf["src_path"]) / "copier.yml"))
    # On update, Copier renders the project's old version with the recorded answers as data
    # (they hold _commit): the render-phase check reads that file itself, naming its lines.
    data = {} if "_commit" in (conf["data"] or {}) else conf["data"]
    sources = [data, conf["user_defaults"], getattr(conf["settings"], "defaults", {})]
    errors = [error for source in sources for error in given_answers_errors(source or {}, questions)]
    if errors:
        refuse(refusal_message(errors))
    return False


# ---------------------------------------------------------------- point 2: before writing


def derived_values(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The values copier.yml computes from the answers, as the extension computes them."""
    return {
        "package_index": organisation.index_settings(
            answers.get("package_index_url", ""),
            answers.get("package_index_mode", "beside"),
            answers.get("package_index_packages", []),
            answers.get("package_index_auth", "none"),
        ),
        "images": images.image_refs(
            answers["python_version"],
            answers["uv_version"],
            answers["os_flavour"],
            answers["image_registry"],
            answers.get("image_mirror", ""),
            answers["image_digests"],
        ),
    }


def answers_errors(answers: Mapping[str, Any], questions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What is wrong with the answers Copier is about to render with, whatever their source."""
    errors = []
    for name, spec in questions.items():
        if name not in answers or computed(spec):
            continue
        value = answers[name]
        kind = (
            bounds_error(name, value) or kind_error(name, spec, value, given=False) or choices_error(name, spec, value)
        )
        if error := kind or rule_error(name, answers):
            errors.append(error)
    if errors:
        return errors
    for name, value in derived_values(answers).items():
        if name in answers and _plain(answers[name]) != _plain(value):
            errors.append(f"{name} is computed from the other answers and cannot be given.")
    return errors


def _plain(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


def recorded_answers_errors(answers_file: Path, questions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What is wrong with a project's answers file, each naming the file and line; ``[]`` if
    there is none. An answer to a question this version no longer asks is not an error."""
    if not answers_file.is_file():
        return []
    where = answers_file.name
    try:
        text = answers_file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        line = answers_file.read_bytes()[: error.start].count(b"\n") + 1
        return [f"{where}, line {line} is not UTF-8 text (byte {error.object[error.start]:#04x}): save it as UTF-8."]
    try:
        recorded = load_unique(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        return [f"{where}{line} is not valid YAML: {str(error).splitlines()[0]}."]
    if not isinstance(recorded, dict) or "_src_path" not in recorded or "_commit" not in recorded:
        return [
            f"{where} holds no template answers ({type(recorded).__name__}, without _src_path and _commit): "
            "restore it from git history (git log -p -- " + where + ")."
        ]
    lines = text.splitlines()
    errors = []
    for name, value in recorded.items():
        spec = questions.get(name) if isinstance(name, str) else None
        if spec is None or computed(spec):
            continue
        number = next((i for i, line in enumerate(lines, 1) if line.startswith(f"{name}:")), 0)
        written = lines[number - 1].partition(":")[2].strip() if number else ""
        if error := (
            bounds_error(name, value)
            or kind_error(name, spec, value, given=True, written=written)
            or choices_error(name, spec, value)
        ):
            errors.append(f"{where}, line {number}: {error}")
    return errors


class _UniqueKeys(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML's safe loader, refusing a mapping that holds a key twice (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice (only one can be meant)", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_unique(text: str) -> Any:
    """``text`` as YAML's safe loader reads it, a key given twice in a mapping an error."""
    return yaml.load(text, Loader=_UniqueKeys)


def template_config(copier_yml: str) -> dict[str, Any]:
    """The template's settings in a copier.yml: its keys starting with ``_``."""
    return {name: value for name, value in _copier_yml(copier_yml).items() if name.startswith("_")}


def skipped_if_exists(path: str, patterns: list[str]) -> bool:
    """Whether ``path`` matches one of copier.yml's ``_skip_if_exists`` patterns (a file, or
    ``folder/**``): the team's files, which a copy never replaces."""
    return any(path == pattern or (pattern.endswith("/**") and path.startswith(pattern[:-2])) for pattern in patterns)


def files_to_write(context: Mapping[str, Any], render: Callable[[str], str]) -> list[str]:
    """The files this copy writes, relative to the destination: each template file's path
    rendered as Copier renders it (``render``: one path part; an empty part skips the file)."""
    conf = context["_copier_conf"]
    config = template_config(str(Path(conf["src_path"]) / "copier.yml"))
    root = Path(conf["src_path"]) / config.get("_subdirectory", "")
    suffix = config.get("_templates_suffix", ".jinja")
    names = []
    for source in sorted(path for path in root.rglob("*") if path.is_file()):
        parts = [render(part) for part in source.relative_to(root).parts]
        if all(parts):
            names.append("/".join(parts).removesuffix(suffix))
    return names


def files_to_replace(dst: Path, names: list[str], skip_if_exists: list[str]) -> list[str]:
    """Which of ``names`` already exist in ``dst`` and would be written over: the team's files
    (``_skip_if_exists``) left out."""
    return sorted(name for name in names if (dst / name).is_file() and not skipped_if_exists(name, skip_if_exists))


def linked_folders(dst: Path, names: list[str]) -> list[str]:
    """The folders of ``dst`` that ``names`` are written into and that are symbolic links:
    Copier would write through them, outside the project."""
    folders = {str(folder) for name in names for folder in Path(name).parents if folder != Path()}
    return sorted(folder for folder in folders if (dst / folder).is_symlink())


def team_packages(dst: Path) -> list[str]:
    """The import packages ``dst`` holds (folders with an ``__init__.py`` under src/, or at the
    top but for tests/), as paths relative to ``dst``."""
    top = [init for init in dst.glob("*/__init__.py") if init.parent.name != "tests"]
    found = [*dst.glob("src/*/__init__.py"), *top]
    return sorted(init.parent.relative_to(dst).as_posix() for init in found if init.is_file())


def team_package_error(dst: Path, package_name: str) -> str:
    """Why a copy into ``dst`` would put the template's package next to the team's own, or ``""``.

    A copy adopts a team's package when ``package_name`` names it (src/<package_name>); any other
    package would stay beside a second one that pyproject.toml, coverage and the docs name.
    """
    others = [package for package in team_packages(dst) if package != f"src/{package_name}"]
    if not others:
        return ""
    moves = [f"git mv {package} src/{package}" for package in others if not package.startswith("src/")]
    return (
        f"{shell_quote(dst)} already holds a package of its own ({', '.join(f'{p}/' for p in others)}), and this "
        f"copy would add src/{package_name}/ beside it. Answer package_name with your package's name (-d "
        f"package_name={Path(others[0]).name}): the template then configures it and adds no sample code"
        + (f"; move it under src/ first ({'; '.join(moves)})" if moves else "")
        + "."
    )


# The template's sample code: written into the package a copy creates, never into a team's
# package the copy adopts (copier.yml's _exclude, with what existed before the copy).
SAMPLE_CODE = (
    *(f"src/{{package}}/{module}" for module in ("__main__.py", "cli.py", "greeting.py")),
    *(f"tests/{test}" for test in ("test_cli.py", "test_greeting.py")),
)

# What each destination held before its copy (the gate records it, before any file is written):
# the files the copy replaced (--overwrite), the team's packages, and the dependencies of the
# pyproject.toml it replaced. The exclusions and the closing message read it.
BEFORE: dict[str, dict[str, list[str]]] = {}


def replaced_by_copy(dst_path: object) -> list[str]:
    """The files that existed in ``dst_path`` before this copy and that it replaced (--overwrite)."""
    return BEFORE.get(str(dst_path), {}).get("replaced", [])


def dependencies_replaced(dst_path: object) -> list[str]:
    """The dependencies of the team's pyproject.toml that this copy replaced (--overwrite)."""
    return BEFORE.get(str(dst_path), {}).get("dependencies", [])


def adopted_package(dst_path: object, package_name: str) -> bool:
    """Whether this copy adopted the team's own package (src/<package_name> existed before it)."""
    return f"src/{package_name}" in BEFORE.get(str(dst_path), {}).get("packages", [])


def sample_code_left_out(dst_path: object, package_name: str) -> str:
    """copier.yml's exclusion of the sample code, one pattern a line, in a copy that adopts the
    team's package: ``""`` otherwise."""
    adopted = adopted_package(dst_path, package_name)
    return "\n".join(name.format(package=package_name) for name in SAMPLE_CODE) if adopted else ""


def project_dependencies(pyproject: Path) -> list[str]:
    """``[project] dependencies`` of a pyproject.toml, or none when it cannot be read."""
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    dependencies = project.get("dependencies", []) if isinstance(project, dict) else []
    return [item for item in dependencies if isinstance(item, str)] if isinstance(dependencies, list) else []


def check_before_writing(context: Mapping[str, Any], render: Callable[[str], str]) -> None:
    """The render phase's gate: the extension's context hook calls it on every render, and it
    checks once per Copier worker (a copy, or each of the renders an update makes), at the
    first render, before the worker writes a file: raise a refusal, or return. ``render``
    renders a path part with this context (for the files the copy would replace)."""
    if str(context.get("_copier_phase", "")) != "render" or _BUSY:
        return
    conf = context["_copier_conf"]
    worker = (str(conf["dst_path"]), id(conf["data"]))
    if worker in _CHECKED:
        return
    src = Path(conf["src_path"])
    questions = questions_of(str(src / "copier.yml"))
    answers = {name: context[name] for name in questions if name in context}
    # Copier blanks answers_file while it renders that file's own name.
    name = str(conf["answers_file"]) or template_config(str(src / "copier.yml")).get("_answers_file", "")
    recorded = Path(conf["dst_path"]) / (name or ".copier-answers.yml")
    errors = recorded_answers_errors(recorded, questions) or answers_errors(answers, questions)
    if errors:
        refuse(refusal_message(errors))
    dst = Path(conf["dst_path"])
    skip_if_exists = template_config(str(src / "copier.yml")).get("_skip_if_exists", [])
    replaced: list[str] = []
    if dst.is_dir() and any(dst.iterdir()):
        _BUSY.append(worker)  # rendering the paths below calls this hook again
        try:
            names = files_to_write(context, render)
        finally:
            _BUSY.pop()
        if links := linked_folders(dst, names):
            refuse(
                f"{REFUSED}\n  - {shell_quote(dst)} holds symbolic links where this copy writes folders: "
                f"{', '.join(f'{link}/' for link in links)}. Replace each with a real folder (or copy into a new "
                "folder)."
            )
        replaced = files_to_replace(dst, names, skip_if_exists)
        # A copy, not one of an update's renders: those write over a project the template made.
        if not recorded.is_file() and (error := team_package_error(dst, str(context["package_name"]))):
            refuse(f"{REFUSED}\n  - {organisation.mask_secrets(error)}")
    if replaced and not conf["overwrite"]:
        kept = ", ".join(skip_if_exists)
        refuse(
            f"{REFUSED}\n  - {shell_quote(conf['dst_path'])} already holds files this copy would replace: "
            f"{', '.join(replaced)}.\n  Copy into a new folder, or add --overwrite to replace them (the "
            f"team's own files are never replaced: {kept})."
        )
    BEFORE[str(conf["dst_path"])] = {
        "replaced": replaced,
        "packages": team_packages(dst) if dst.is_dir() else [],
        "dependencies": project_dependencies(dst / "pyproject.toml") if "pyproject.toml" in replaced else [],
    }
    _CHECKED[worker] = conf["data"]  # held, so that no later worker's data takes its id


_CHECKED: dict[tuple[str, int], object] = {}
_BUSY: list[object] = []


def shell_quote(path: object) -> str:
    """``path`` as a shell reads it back (pasted after ``cd``, say)."""
    return shlex.quote(str(path))


def refusal_message(errors: list[str]) -> str:
    """The few lines a refusal prints: what was refused, each reason, and that nothing was written."""
    listed = errors[:MAX_REFUSALS]
    more = [f"... and {len(errors) - MAX_REFUSALS} more."] if len(errors) > MAX_REFUSALS else []
    return organisation.mask_secrets("\n".join([REFUSED, *(f"  - {line}" for line in [*listed, *more])]))


@pass_context
def answer_error(context: Mapping[str, Any], name: str) -> str:
    """A validator for copier.yml: the rule's message at an interactive prompt (Copier asks
    again), ``""`` otherwise: answers given from outside or taken as defaults are refused by
    the gate, with a short message instead of Copier's traceback."""
    conf = context["_copier_conf"]
    if conf["defaults"] or name in (conf["data"] or {}):
        return ""
    return rule_error(name, context)


# What copier.yml and the templates call, by name (extensions/registry.py registers it).
JINJA_GLOBALS = {
    "refuse_given_answers": refuse_given_answers,
    "answer_error": answer_error,
    "replaced_by_copy": replaced_by_copy,
    "dependencies_replaced": dependencies_replaced,
    "adopted_package": adopted_package,
    "sample_code_left_out": sample_code_left_out,
    "shell_quote": shell_quote,
}
