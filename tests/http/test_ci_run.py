"""``.ci/run``'s nginx step with a stand-in ``apt-get`` on the PATH: a held dpkg lock is
waited for and retried, told apart from a missing root."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / ".ci" / "run"
LOCKED = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)"


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def _run(bin_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "NGINX_BIN": str(tmp_path / "no-nginx"),
        "CI_RUN_INSTALL_ONLY": "1",
        "CI_APT_RETRY_PAUSE": "0",
        "CI_APT_ATTEMPTS": "3",
    }
    if shutil.which("nginx", path="/usr/bin:/bin"):
        pytest.skip("nginx is installed on /usr/bin: .ci/run has nothing to install")
    return subprocess.run(["bash", str(RUN)], capture_output=True, text=True, timeout=60, env=env)


def test_a_held_lock_is_waited_for_and_the_install_retried(bin_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    _tool(bin_dir, "id", "echo 0\n")
    _tool(
        bin_dir,
        "apt-get",
        f'echo "$*" >> {calls}\n'
        f'if [ "$(wc -l < {calls})" -le 2 ]; then echo "{LOCKED}" >&2; exit 100; fi\n',
    )
    done = _run(bin_dir, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("the dpkg lock is held by another process") == 2, done.stderr
    assert "needs root" not in done.stderr
    assert "installed nginx-light" in done.stdout
    lines = calls.read_text().splitlines()
    assert all("DPkg::Lock::Timeout=120" in line for line in lines), lines
    assert lines[-1].endswith("install -y -qq nginx-light")


def test_a_lock_that_stays_held_is_said_so(bin_dir: Path, tmp_path: Path) -> None:
    _tool(bin_dir, "id", "echo 0\n")
    _tool(bin_dir, "apt-get", f'echo "{LOCKED}" >&2; exit 100\n')
    done = _run(bin_dir, tmp_path)
    assert done.returncode == 0
    assert "still held after 3 attempts" in done.stderr, done.stderr
    assert "needs root" not in done.stderr


def test_without_root_it_says_root_is_needed(bin_dir: Path, tmp_path: Path) -> None:
    _tool(bin_dir, "id", "echo 1000\n")
    _tool(bin_dir, "sudo", "exit 1\n")
    _tool(bin_dir, "apt-get", "echo should not run >&2; exit 1\n")
    done = _run(bin_dir, tmp_path)
    assert done.returncode == 0
    assert "installing nginx needs root" in done.stderr, done.stderr
    assert "should not run" not in done.stderr
    assert "dpkg lock" not in done.stderr
