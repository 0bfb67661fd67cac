"""A module of ``src/openworkshop`` as it was at a commit, loaded beside today's (for the
benchmarks that time a change against an earlier commit in the same run)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).parents[1]


def module_at(commit: str, name: str) -> ModuleType:
    """``openworkshop.<name>`` at ``commit``, as the module ``<name>_before`` (its imports
    of the rest of the package are today's)."""
    text = subprocess.run(
        ["git", "show", f"{commit}:src/openworkshop/{name}.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / f"{name}_before.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"{name}_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # attrs resolves the classes' annotations through it
    spec.loader.exec_module(module)
    return module
