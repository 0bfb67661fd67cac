"""The storage port on SQLite, through sqlite-utils: the embedded default store.

One file holds the catalog, the work queue and the statistics; several processes may share
it. See ``docs/storage.md``.
"""

from openworkshop_sqlite.storage import SqliteStorage

__all__ = ["SqliteStorage"]
