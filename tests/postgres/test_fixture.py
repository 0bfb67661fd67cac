"""The session's PostgreSQL fixture when PostgreSQL is missing: the tests that need it are
skipped with the reason, except under CI (``CI=true``), where they fail. (pytest run in a
subprocess, with the place ``initdb`` is looked for pointed at nothing.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pytest(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PG_INITDB_GLOB"] = str(tmp_path / "none" / "*" / "initdb")
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:randomly", "-p", "no:cacheprovider",
         "tests/contract/test_roles.py", "-k", "postgres and Lifecycle"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_missing_postgresql_skips_with_the_reason(tmp_path: Path) -> None:
    done = _pytest(tmp_path, ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout, done.stdout
    assert "PostgreSQL is not installed" in done.stdout


def test_under_ci_missing_postgresql_fails(tmp_path: Path) -> None:
    done = _pytest(tmp_path, ci=True)
    assert done.returncode != 0, done.stdout
    assert "CI=true: PostgreSQL is not installed" in done.stdout, done.stdout
