"""The storage port on PostgreSQL, through psycopg 3: the store of a mirror that outgrew one
machine (several server processes, on several machines, on one database).

Same answers as the SQLite store and the in-memory one (the storage contract tests run on
all three). See ``docs/storage.md``.
"""

from openworkshop_postgres.storage import PostgresStorage

__all__ = ["PostgresStorage"]
