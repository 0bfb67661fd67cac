"""A throwaway PostgreSQL cluster (for a test session, a benchmark): Debian's PostgreSQL binaries, run as
``nobody`` (when the tests run as root: PostgreSQL refuses to run as root), in a temporary
folder, listening on a unix socket in that folder only (no TCP port), trusting local
connections; stopped and removed at the end.

Readiness is polled (a connection attempt, until a deadline), never waited for blindly.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import psycopg

from openworkshop.errors import StorageError

__all__ = [
    "BIN_GLOB",
    "INITDB_GLOB_VARIABLE",
    "Cluster",
    "find_bin",
    "initdb_glob",
    "running_cluster",
]

BIN_GLOB = "/usr/lib/postgresql/*/bin"
INITDB_GLOB_VARIABLE = "PG_INITDB_GLOB"
"""Where to look for ``initdb`` instead (a glob, as ``.ci/run`` reads it)."""
READY_DEADLINE = 60.0
"""Seconds a fresh cluster may take to accept connections (a slow, busy machine)."""


def initdb_glob() -> str:
    return os.environ.get(INITDB_GLOB_VARIABLE) or f"{BIN_GLOB}/initdb"


def find_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (``initdb``, ``pg_ctl``), if any."""
    found = sorted(
        (Path(p).parent for p in glob.glob(initdb_glob()) if os.access(p, os.X_OK)),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


class Cluster:
    def __init__(self, bin_dir: Path, folder: Path, settings: Mapping[str, str] = {}) -> None:
        self.bin_dir = bin_dir
        self.settings = dict(settings)
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.folder}"

    def _as_owner(self, *command: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "nobody", "--", *command]
        return list(command)

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            self._as_owner(*command), capture_output=True, text=True, timeout=300, check=False
        )
        if done.returncode != 0:
            raise StorageError(f"{' '.join(command)} failed: {done.stderr or done.stdout}")

    def start(self) -> None:
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.folder, nobody.pw_uid, nobody.pw_gid)
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories={self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        ) + "".join(f" -c {k}={v}" for k, v in self.settings.items())
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", options, "-W", "start")  # fmt: skip
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_DEADLINE
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=5).close()
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    log = self.log.read_text() if self.log.exists() else ""
                    raise StorageError(f"PostgreSQL did not start: {exc}\n{log}") from exc
                # polling: the next attempt, at once (connect itself blocks on the socket)
                time.sleep(0.05)

    def stop(self) -> None:
        with contextlib.suppress(StorageError, subprocess.TimeoutExpired):
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "-w", "stop")  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(
    bin_dir: Path, *, parent: Path | None = None, settings: Mapping[str, str] = {}
) -> Iterator[Cluster]:
    """A cluster started in a new folder (under ``parent``, or the temporary folder), with
    these server ``settings`` besides, stopped and removed when the block ends."""
    cluster = Cluster(bin_dir, Path(tempfile.mkdtemp(prefix="ow-pg-", dir=parent)), settings)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
