"""Connections kept off the event loop: a pool of readers and one writer.

As in datasette: every blocking SQLite call runs on a worker thread. Reads go to a pool of
threads, each with its own connection (WAL lets them read while a write is in progress);
every write in this process goes through one thread and one connection, one transaction at a
time, opened with ``BEGIN IMMEDIATE`` so that a write never has to upgrade a read lock (the
cause of SQLITE_BUSY errors that ``busy_timeout`` cannot wait out). Writers in other
processes queue on SQLite's lock for up to ``BUSY_TIMEOUT_MS``.

Every sqlite3 error (and a text the driver cannot encode, an integer it cannot store) is
translated here by :func:`translate`, so none leaks through the port: a full disk becomes
``StorageFull``, a locked or failing file ``StorageUnavailable`` (both transient), a damaged
one ``StorageCorrupt``, anything else (a value SQLite refuses) a plain ``StorageError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final, TypeVar

from sqlite_utils import Database

from openworkshop.errors import StorageCorrupt, StorageError, StorageFull, StorageUnavailable

__all__ = ["BUSY_TIMEOUT_MS", "MAX_READERS", "VERSION_FLAG", "Connections", "connect", "translate"]

T = TypeVar("T")

BUSY_TIMEOUT_MS: Final = 30_000
"""How long a statement waits for another process's write lock before failing."""
CACHE_KIB: Final = 4_096
"""Page cache per connection (KiB): a bound on each connection's private copy of pages, so
that the process's anonymous memory does not grow with the catalog (the OS's file cache
holds the rest, shared: a page missing here is one ``pread`` of memory). Five connections
(four readers and the writer) fill theirs within seconds of random ``/info/mod`` reads: at
8 MiB each that alone took the server past its 150 MB (docs/http.md, "Memory")."""
MMAP_BYTES: Final = 0
"""No memory-mapped reads: a map is counted in the process's RSS once per connection, and a
1,000,000-mod file mapped by five connections made the RSS several times the file's size
for a few microseconds saved per page (docs/http.md, "Memory")."""
MAX_READERS: Final = 4
"""Reader threads (each with its own connection and page cache) at most: SQLite's work runs
outside the GIL, but on a small machine more threads only add page caches."""

VERSION_FLAG: Final = "answers_version"
"""The ``flags`` row :meth:`Connections.version` reads."""
_RAISE_VERSION: Final = (
    "INSERT INTO flags (name, value) VALUES (?, '1') "
    "ON CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
)
_READ_VERSION: Final = "SELECT value FROM flags WHERE name = ?"

_FOREIGN_ERRORS: Final = (sqlite3.Error, OverflowError, UnicodeError)
"""What the driver raises (OverflowError: an integer SQLite cannot store; UnicodeEncodeError:
a text with a lone surrogate, which is not UTF-8)."""

_PRIMARY: Final = 0xFF
"""The primary result code in an extended one (SQLITE_IOERR_WRITE & 0xFF = SQLITE_IOERR)."""
_BY_CODE: Final[dict[int, type[StorageError]]] = {
    sqlite3.SQLITE_FULL: StorageFull,
    sqlite3.SQLITE_BUSY: StorageUnavailable,
    sqlite3.SQLITE_LOCKED: StorageUnavailable,
    sqlite3.SQLITE_IOERR: StorageUnavailable,
    sqlite3.SQLITE_CANTOPEN: StorageUnavailable,
    sqlite3.SQLITE_PROTOCOL: StorageUnavailable,
    sqlite3.SQLITE_NOMEM: StorageUnavailable,
    sqlite3.SQLITE_READONLY: StorageUnavailable,
    sqlite3.SQLITE_CORRUPT: StorageCorrupt,
    sqlite3.SQLITE_NOTADB: StorageCorrupt,
}


def translate(exc: BaseException) -> StorageError:
    """The core's error for one the driver raised, by SQLite's result code."""
    code = getattr(exc, "sqlite_errorcode", None)
    kind = _BY_CODE.get(code & _PRIMARY, StorageError) if isinstance(code, int) else StorageError
    return kind(f"{type(exc).__name__}: {exc}")


def connect(path: Path) -> Database:
    """A connection in autocommit mode (transactions are explicit), with our pragmas."""
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    db = Database(conn, recursive_triggers=False, execute_plugins=False)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    db.execute("PRAGMA temp_store = MEMORY")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


class Connections:
    """The reader pool and the writer of one SQLite file."""

    def __init__(self, path: Path, *, readers: int) -> None:
        if readers < 1:
            raise ValueError("readers must be at least 1")
        self.path = path
        self._readers = min(readers, MAX_READERS)
        self._read_pool: ThreadPoolExecutor | None = None
        self._write_pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._opened: list[Database] = []
        self._lock = threading.Lock()
        self._writer: Database | None = None
        self._watcher: sqlite3.Connection | None = None
        self._seen_data_version: int | None = None
        self._version = 0
        self._setup_reader: Callable[[Database], None] | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(
        self,
        prepare: Callable[[Database], None],
        setup_reader: Callable[[Database], None] | None = None,
    ) -> None:
        """Start the threads and run ``prepare`` on the writer's connection (the schema);
        ``setup_reader`` runs once on each reader's connection, outside any transaction
        (for its temporary tables)."""
        self._setup_reader = setup_reader
        self._read_pool = ThreadPoolExecutor(self._readers, thread_name_prefix="ow-sqlite-read")
        self._write_pool = ThreadPoolExecutor(1, thread_name_prefix="ow-sqlite-write")
        try:
            await self._run(self._write_pool, self._prepare_writer, prepare)
        except BaseException:
            await self.stop()
            raise

    def _prepare_writer(self, prepare: Callable[[Database], None]) -> None:
        db = connect(self.path)
        with self._lock:
            self._opened.append(db)
        self._writer = db
        # WAL: readers never wait for the writer; persistent in the file
        db.execute("PRAGMA journal_mode = WAL")
        prepare(db)
        watcher = sqlite3.connect(
            str(self.path), timeout=0, isolation_level=None, check_same_thread=False
        )
        watcher.execute("PRAGMA cache_size = -64")
        watcher.execute("PRAGMA mmap_size = 0")
        self._watcher = watcher

    async def stop(self) -> None:
        pools = [p for p in (self._read_pool, self._write_pool) if p is not None]
        self._read_pool = self._write_pool = None
        writer = self._writer
        self._writer = None
        watcher, self._watcher = self._watcher, None
        self._seen_data_version = None
        if watcher is not None:
            watcher.close()

        def shut() -> None:
            for pool in pools:
                pool.shutdown(wait=True)
            if writer is not None:
                # fold the WAL back into the file while nobody writes
                with contextlib.suppress(sqlite3.Error):
                    writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            with self._lock:
                opened, self._opened = self._opened, []
            for db in opened:
                db.conn.close()

        await asyncio.to_thread(shut)

    def version(self) -> int | None:
        """The answers' version: a counter in ``flags`` that every write not marked ``quiet``
        raises in its own transaction, whichever process makes it. ``None`` when closed, or
        when it cannot be read now.

        Called on the event loop itself (no thread): a connection that never writes first
        asks SQLite's ``PRAGMA data_version``, which reads the WAL index's header (shared
        memory) and changes with every commit by any other connection; only then is the
        counter read again (one page, without waiting for any lock: ``timeout=0``). Either
        costs microseconds, less than the hand-off to a reader thread would. A quiet write
        (a statistics counter) changes ``data_version`` but not the counter: answers kept
        under it stay kept."""
        watcher = self._watcher
        if watcher is None:
            return None
        try:
            changed = watcher.execute("PRAGMA data_version").fetchall()[0][0]
            if changed != self._seen_data_version:
                rows = watcher.execute(_READ_VERSION, [VERSION_FLAG]).fetchall()
                self._version = int(rows[0][0]) if rows else 0
                self._seen_data_version = changed
        except (sqlite3.Error, ValueError):
            self._seen_data_version = None
            return None
        return self._version

    # --- running work -------------------------------------------------------------------

    async def read(self, work: Callable[[Database], T]) -> T:
        """Run ``work`` on a reader, inside one read transaction (one consistent snapshot)."""
        if self._read_pool is None:
            raise StorageError("the storage is not open")
        return await self._run(self._read_pool, self._read, work)

    async def write(self, work: Callable[[Database], T], *, quiet: bool = False) -> T:
        """Run ``work`` on the writer, inside one ``BEGIN IMMEDIATE`` transaction that also
        raises the answers' version (:meth:`version`), unless ``quiet``: for a write no
        kept answer shows (the statistics' counters and samples)."""
        if self._write_pool is None:
            raise StorageError("the storage is not open")
        return await self._run(self._write_pool, self._quiet if quiet else self._write, work)

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[..., T], work: object) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, fn, work)
        except _FOREIGN_ERRORS as exc:
            raise translate(exc) from exc

    def _reader(self) -> Database:
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            with self._lock:
                self._opened.append(db)
            if self._setup_reader is not None:
                self._setup_reader(db)
            self._local.db = db
        return db

    def _read(self, work: Callable[[Database], T]) -> T:
        """A read transaction, always rolled back: what a read writes (temporary tables of
        matches) is gone with it."""
        db = self._reader()
        db.execute("BEGIN")
        try:
            return work(db)
        finally:
            db.execute("ROLLBACK")

    def _write(self, work: Callable[[Database], T]) -> T:
        return self._quiet(work, bump=True)

    def _quiet(self, work: Callable[[Database], T], bump: bool = False) -> T:
        db = self._writer
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
            if bump:
                db.execute(_RAISE_VERSION, [VERSION_FLAG])
            db.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise
        return result
