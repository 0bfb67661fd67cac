"""The core imports attrs, cattrs and the standard library, nothing else."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import openworkshop

CORE = Path(openworkshop.__file__).parent
ALLOWED_THIRD_PARTY = {"attrs", "cattrs"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_only_attrs_cattrs_and_stdlib() -> None:
    """Every module of the core, read statically."""
    offenders = {}
    for path in CORE.rglob("*.py"):
        foreign = {
            root
            for root in _imported_roots(path)
            if root not in sys.stdlib_module_names
            and root not in ALLOWED_THIRD_PARTY
            and root != "openworkshop"
        }
        if foreign:
            offenders[str(path.relative_to(CORE))] = sorted(foreign)
    assert offenders == {}


def test_import_linter_contracts_hold() -> None:
    """The import-linter contracts in pyproject.toml (core never imports adapters)."""
    root = Path(__file__).resolve().parents[2]
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower() or "0 broken" in result.stdout.lower()


def test_importing_the_core_does_no_work() -> None:
    """No globals built at import time: importing starts no thread and opens no file."""
    code = (
        "import threading, openworkshop, openworkshop.testing;"
        "assert threading.active_count() == 1, threading.enumerate()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
