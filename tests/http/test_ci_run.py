"""``.ci/run``'s install step (nginx, chromium + chromium-driver, postgresql) with a stand-in ``apt-get`` on
the PATH: a held dpkg lock is waited for and retried, told apart from a missing root; under
CI (``CI=true``) a package that cannot be installed stops the run."""

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


def _run(
    bin_dir: Path,
    tmp_path: Path,
    *,
    browser: bool = True,
    postgres: bool = True,
    ci: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``.ci/run``'s install step; ``browser``: chromium and chromedriver are there;
    ``postgres``: an initdb is."""
    present = "/bin/sh" if browser else str(tmp_path / "missing")
    env = {
        "CHROMIUM_BIN": present,
        "CHROMEDRIVER_BIN": present,
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "NGINX_BIN": str(tmp_path / "no-nginx"),
        "CI_RUN_INSTALL_ONLY": "1",
        "CI_APT_RETRY_PAUSE": "0",
        "CI_APT_ATTEMPTS": "3",
        "PG_INITDB_GLOB": "/bin/s[h]" if postgres else str(tmp_path / "pg/*/bin/initdb"),
    }
    if ci:
        env["CI"] = "true"
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
    assert "installed nginx-light for their tests" in done.stdout
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


def test_chromium_and_its_driver_are_installed_with_nginx(bin_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    _tool(bin_dir, "id", "echo 0\n")
    _tool(bin_dir, "apt-get", f'echo "$*" >> {calls}\n')
    done = _run(bin_dir, tmp_path, browser=False)
    assert done.returncode == 0, done.stderr
    assert (
        calls.read_text()
        .splitlines()[-1]
        .endswith("install -y -qq nginx-light chromium chromium-driver")
    )
    assert "installed nginx-light chromium chromium-driver" in done.stdout


def test_outside_ci_a_failed_install_only_skips_their_tests(bin_dir: Path, tmp_path: Path) -> None:
    _tool(bin_dir, "id", "echo 1000\n")
    _tool(bin_dir, "sudo", "exit 1\n")
    done = _run(bin_dir, tmp_path, browser=False)
    assert done.returncode == 0
    assert "installing nginx chromium needs root" in done.stderr, done.stderr
    assert "the X-Accel-Redirect test will be skipped" in done.stderr
    assert "the browser tests (tests/web/) will be skipped" in done.stderr


@pytest.mark.parametrize("failure", ["no root", "apt error", "lock held"])
def test_under_ci_a_failed_install_stops_the_run(
    bin_dir: Path, tmp_path: Path, failure: str
) -> None:
    if failure == "no root":
        _tool(bin_dir, "id", "echo 1000\n")
        _tool(bin_dir, "sudo", "exit 1\n")
    else:
        _tool(bin_dir, "id", "echo 0\n")
        error = LOCKED if failure == "lock held" else "E: Unable to locate package chromium"
        _tool(bin_dir, "apt-get", f'echo "{error}" >&2; exit 100\n')
    done = _run(bin_dir, tmp_path, browser=False, ci=True)
    assert done.returncode == 1, done.stderr
    assert "CI=true and nginx-light chromium chromium-driver could not be installed" in done.stderr
    assert "will be skipped" not in done.stderr


def test_under_ci_an_install_that_leaves_chromium_missing_stops_the_run(
    bin_dir: Path, tmp_path: Path
) -> None:
    _tool(bin_dir, "id", "echo 0\n")
    _tool(bin_dir, "apt-get", "exit 0\n")  # says it worked, installs nothing
    done = _run(bin_dir, tmp_path, browser=False, ci=True)
    assert done.returncode == 1
    assert "is still missing after the install" in done.stderr, done.stderr


def test_postgresql_is_installed_when_no_initdb_is_found(bin_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    _tool(bin_dir, "id", "echo 0\n")
    _tool(bin_dir, "apt-get", f'echo "$*" >> {calls}\n')
    done = _run(bin_dir, tmp_path, postgres=False)
    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines()[-1].endswith("install -y -qq nginx-light postgresql")
    assert "installed nginx-light postgresql for their tests" in done.stdout


def test_outside_ci_a_missing_postgresql_only_skips_its_tests(
    bin_dir: Path, tmp_path: Path
) -> None:
    _tool(bin_dir, "id", "echo 1000\n")
    _tool(bin_dir, "sudo", "exit 1\n")
    done = _run(bin_dir, tmp_path, postgres=False)
    assert done.returncode == 0
    assert "installing nginx postgresql needs root" in done.stderr, done.stderr
    assert "the PostgreSQL store's tests will be skipped" in done.stderr


@pytest.mark.parametrize("failure", ["apt error", "installed nothing"])
def test_under_ci_a_missing_postgresql_stops_the_run(
    bin_dir: Path, tmp_path: Path, failure: str
) -> None:
    _tool(bin_dir, "id", "echo 0\n")
    if failure == "apt error":
        _tool(bin_dir, "apt-get", 'echo "E: Unable to locate package postgresql" >&2; exit 100\n')
    else:
        _tool(bin_dir, "apt-get", "exit 0\n")  # says it worked, installs nothing
    done = _run(bin_dir, tmp_path, postgres=False, ci=True)
    assert done.returncode == 1, done.stderr
    if failure == "apt error":
        assert "CI=true and nginx-light postgresql could not be installed" in done.stderr
    else:
        assert "bin/initdb after the install: stopping" in done.stderr, done.stderr
    assert "will be skipped" not in done.stderr
