"""How answers land in the project's files: TOML strings, one-line metadata, the answers file
Copier reads back on every update, and whether the team's pipeline loads the template's.

Plain functions, unit-tested without Copier (tests/test_files.py); ``JINJA_GLOBALS`` lists
what the templates call. The template-drift job uses ``template_pipeline_included``
too (sync/project_sync.py imports this file from the same release).
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

import yaml

# The template's pipeline: the one file the team's .gitlab-ci.yml must include.
ENTRY_PIPELINE = ".gitlab/ci/template.gitlab-ci.yml"

_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
# Where a template can live besides a local folder: URLs, scp-like git addresses, Copier's
# gh:/gl: shortcuts, and ~ (the same machine's home: Copier expands it on every use).
_NOT_A_RELATIVE_PATH = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[^/]+@[^/]+:|gh:|gl:|~|/)", re.IGNORECASE)


def summary(text: str) -> str:
    """``text`` on one line, for package metadata (its Summary field forbids newlines).

    Every run of whitespace, newlines included, becomes one space.
    """
    return " ".join(text.split())


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string that parses back to exactly ``text``.

    Non-ASCII stays readable (TOML files are UTF-8); quotes, backslashes and
    control characters are escaped.
    """
    out = []
    for ch in text:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ch == "\x7f" or unicodedata.category(ch) == "Cc":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def html_text(text: str) -> str:
    """``text`` as HTML text and attribute values hold it: ``& < > " '`` as character references.

    For values another tool writes into HTML without escaping them (Zensical's ``site_name`` and
    ``site_description``, into every page's title, header and ``<meta>``): markup in an answer
    then shows as the characters typed, never as an element or attribute.
    """
    return html.escape(text, quote=True)


def toml_array(items: list[str]) -> str:
    """``items`` as a one-line TOML array of basic strings, as a person would write it."""
    return "[" + ", ".join(toml_string(item) for item in items) + "]"


def template_location(src: str) -> str:
    """Where the template is, as the answers file must record it: a relative path made absolute.

    Copier records the template's location as typed, and resolves it again on every
    update from wherever that runs: `copier copy ../template` would break `copier update`.
    """
    if _NOT_A_RELATIVE_PATH.match(src):
        return src
    return str(Path(src).resolve())


def recorded_answers(answers: dict[str, object]) -> dict[str, object]:
    """Copier's answers as the answers file records them (``_src_path`` by ``template_location``)."""
    src = answers.get("_src_path")
    return {**answers, "_src_path": template_location(src)} if isinstance(src, str) else dict(answers)


# Where Renovate looks for a repository's configuration (docs.renovatebot.com, "Configuration
# options": the file names it reads, first found wins).
RENOVATE_CONFIGS = (
    "renovate.json",
    "renovate.json5",
    ".github/renovate.json",
    ".github/renovate.json5",
    ".gitlab/renovate.json",
    ".gitlab/renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".renovaterc.json5",
)


def own_renovate_config(project: str) -> str:
    """The Renovate configuration the project already has (the team's), or ``""``."""
    return next((name for name in RENOVATE_CONFIGS if (Path(project) / name).is_file()), "")


class _GitLabLoader(yaml.SafeLoader):
    """YAML as GitLab reads it: tags such as ``!reference`` are kept as plain values."""


def _untagged(loader: yaml.SafeLoader, _tag: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return loader.construct_scalar(node)


_GitLabLoader.add_multi_constructor("!", _untagged)


def template_pipeline_included(pipeline: str) -> bool:
    """Whether a ``.gitlab-ci.yml`` (its text) includes the template's entry pipeline file."""
    try:
        config = yaml.load(pipeline, Loader=_GitLabLoader)
    except yaml.YAMLError:
        return False
    includes = config.get("include", []) if isinstance(config, dict) else []
    for entry in includes if isinstance(includes, list) else [includes]:
        local = entry.get("local") if isinstance(entry, dict) else entry
        if isinstance(local, str) and local.lstrip("/") == ENTRY_PIPELINE:
            return True
    return False


def pipeline_include_missing(project: str) -> bool:
    """Whether the project's ``.gitlab-ci.yml`` leaves the template's pipeline out (after a
    copy into an existing repository, which keeps the team's own file)."""
    team_file = Path(project) / ".gitlab-ci.yml"
    return not team_file.is_file() or not template_pipeline_included(team_file.read_text(encoding="utf-8"))


# The jobs that gate shipping: every job of the lint and test stages. Each job that publishes
# (release, docker-image, pages) needs them all (tests/test_pipeline.py holds every render to it).
GATES = ("lint", "secrets", "test", "audit")


def gate_jobs(docs: bool) -> list[str]:
    """The gate jobs of a project, its docs build among them when it has the site."""
    return [*GATES, *(["docs"] if docs else [])]


# What copier.yml and the templates call, by name (extensions/registry.py registers it).
JINJA_GLOBALS = {
    "summary": summary,
    "toml_string": toml_string,
    "html_text": html_text,
    "toml_array": toml_array,
    "template_location": template_location,
    "recorded_answers": recorded_answers,
    "pipeline_include_missing": pipeline_include_missing,
    "own_renovate_config": own_renovate_config,
    "entry_pipeline": ENTRY_PIPELINE,
    "gate_jobs": gate_jobs,
}
