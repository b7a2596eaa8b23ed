"""The one Jinja extension copier.yml loads: the rule modules' functions as Jinja globals, and
the context hook through which answers.py checks every answer before a file is written.

Each module of extensions/ is plain Python, unit-tested without Copier, and lists what
copier.yml and the templates call in its ``JINJA_GLOBALS``; every call reads the same way,
``rule(value)``. Copier's extension loader executes this file on its own (not as a
package), once per template version it renders; ``copier update`` renders two versions in
one process, so each sibling is executed afresh from this file's folder rather than taken
from ``sys.modules``, where the other version's module would otherwise be found."""

from __future__ import annotations

import sys
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType

from copier_template_extensions import ContextHook
from jinja2 import Environment

HERE = Path(__file__).resolve().parent


def _load(name: str) -> ModuleType:
    """This folder's ``name``.py, executed now and registered for its siblings' imports."""
    spec = spec_from_file_location(name, HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(name)
    module = module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# In dependency order: organisation imports identity; metadata imports images and organisation;
# answers imports the five before it.
ORDER = ("identity", "organisation", "images", "tools", "metadata", "answers", "files")
MODULES = {name: _load(name) for name in ORDER}


class TemplateFunctions(ContextHook):
    """Registers every module's ``JINJA_GLOBALS``; on every render, lets the answer gate see
    the context (it refuses, once per answer set, before the first file is written)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        for module in MODULES.values():
            environment.globals.update(module.JINJA_GLOBALS)

    def hook(self, context: dict) -> None:
        def render(text: str) -> str:
            return self.environment.from_string(text).render(context)

        MODULES["answers"].check_before_writing(context, render)
