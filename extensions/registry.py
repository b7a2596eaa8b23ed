"""The one Jinja extension copier.yml loads: the rule modules' functions as Jinja globals.

Each module of extensions/ is plain Python, unit-tested without Copier, and lists what
copier.yml and the templates call in its ``JINJA_GLOBALS``; every call reads the same way,
``rule(value)``. Copier's extension loader imports this file on its own (not as a package),
so its folder is put on the import path here, once, for its siblings.
"""

from __future__ import annotations

import sys
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

if (_HERE := str(Path(__file__).resolve().parent)) not in sys.path:
    sys.path.insert(0, _HERE)

import files
import identity
import images
import organisation
import tools

MODULES = (identity, organisation, images, files, tools)


class TemplateFunctions(Extension):
    """Registers every module's ``JINJA_GLOBALS``."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        for module in MODULES:
            environment.globals.update(module.JINJA_GLOBALS)
