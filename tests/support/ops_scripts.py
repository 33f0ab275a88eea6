"""Load a script from ops/ as a module (ops/ holds scripts, not a package)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from workers.settings import PROJECT_ROOT


def load_ops_script(name: str, relative_path: str) -> ModuleType:
    """The script at ops/<relative_path>, imported as module `name` (registered in sys.modules)."""
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "ops" / relative_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module
