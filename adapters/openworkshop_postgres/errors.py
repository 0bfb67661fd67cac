"""psycopg's errors as the core's, at the adapter's edge: none leaks through the port.

A connection that cannot be made or is lost, a pool with no connection to give, a deadlock,
a serialization failure, a server shutting down or out of resources: ``StorageUnavailable``
(transient; the pipeline tries again later). A full disk: ``StorageFull``. Damaged data:
``StorageCorrupt``. Anything else (a value PostgreSQL refuses: a NUL in a text, an integer
past 64 bits, a text that is not UTF-8): a plain ``StorageError``.
"""

from __future__ import annotations

from typing import Final

import psycopg
import psycopg_pool
from psycopg import errors as pg

from openworkshop.errors import StorageCorrupt, StorageError, StorageFull, StorageUnavailable

__all__ = ["FOREIGN_ERRORS", "translate"]

FOREIGN_ERRORS: Final = (psycopg.Error, psycopg_pool.PoolTimeout, OverflowError, UnicodeError)
"""What the driver raises (OverflowError: an int that no PostgreSQL integer holds;
UnicodeEncodeError: a text with a lone surrogate, which is not UTF-8)."""

_TRANSIENT: Final = (
    psycopg.OperationalError,  # no connection, lost connection, admin shutdown, out of memory
    psycopg_pool.PoolTimeout,
    pg.SerializationFailure,
    pg.DeadlockDetected,
    pg.LockNotAvailable,
    pg.QueryCanceled,
    pg.InsufficientResources,
    pg.CannotConnectNow,
)
_CORRUPT: Final = (pg.DataCorrupted, pg.IndexCorrupted)


def translate(exc: BaseException) -> StorageError:
    """The core's error for one the driver (or the pool) raised."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, psycopg_pool.PoolClosed):
        return StorageError("the storage is not open")
    if isinstance(exc, pg.DiskFull):
        return StorageFull(text)
    if isinstance(exc, _CORRUPT):
        return StorageCorrupt(text)
    if isinstance(exc, _TRANSIENT):
        return StorageUnavailable(text)
    return StorageError(text)
