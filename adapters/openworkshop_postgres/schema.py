"""The tables, created or migrated by ``open()`` under an advisory lock.

Several processes may start at once on a fresh database: each takes
``pg_advisory_xact_lock(SCHEMA_LOCK)`` in the transaction that creates (or migrates) the
schema, so one does the work and the others, once it commits, find it done. ``meta`` holds
the schema's version and the counters that must move in the same transaction as a change
(the events' ``seq``).

Listed mods (states 1 and 0, ``state < 2``) have partial indexes for every sort key, alone
and after ``game_id``; ``tag_ids`` (a GIN index) answers "has all these tags",
``array_to_tsvector(words)`` (GIN) the words of ``q``, ``name_folded`` (``pg_trgm``) the
substring filter ``name``. Text that is sorted is ``COLLATE "C"``: code point order, as
Python sorts (the in-memory store is the reference).
"""

from __future__ import annotations

from typing import Final

from psycopg import AsyncConnection, sql

from openworkshop.errors import StorageError

__all__ = ["SCHEMA_LOCK", "VERSION", "create"]

VERSION: Final = 1
SCHEMA_LOCK: Final = 0x6F77_7363_6865_6D61  # "owschema"
"""The advisory lock key held while the schema is created or migrated."""

SORT_COLUMNS: Final = (
    "name_sort",
    "size",
    "date_creation",
    "date_update",
    "date_request",
    "source",
    "downloads",
)

_UPPER: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_TABLES: Final = f"""
CREATE TABLE meta (
    name text PRIMARY KEY,
    value bigint NOT NULL
);
CREATE TABLE mods (
    id bigint PRIMARY KEY,
    game_id bigint,
    state smallint NOT NULL,
    name text NOT NULL,
    size bigint NOT NULL,
    source text COLLATE "C" NOT NULL,
    downloads bigint NOT NULL DEFAULT 0,
    date_creation timestamptz,
    date_update timestamptz,
    date_request timestamptz,
    date_checked timestamptz,
    date_queued timestamptz,
    time_updated bigint,
    hcontent_file text,
    archive_key text,
    archive_size bigint,
    archive_sha256 text,
    attempts integer NOT NULL,
    not_before timestamptz,
    lease_until timestamptz,
    short_description text NOT NULL,
    description text NOT NULL,
    -- derived: SQLite's NOCASE (ASCII letters folded), sorted by code point
    name_sort text COLLATE "C" GENERATED ALWAYS AS
        (translate(name, '{_UPPER}', '{_UPPER.lower()}')) STORED,
    -- derived in Python (str.casefold, \\w+ words): the adapter writes them with the row
    name_folded text NOT NULL,
    name_words text[] NOT NULL,
    words text[] NOT NULL,
    tag_ids bigint[] NOT NULL DEFAULT '{{}}',
    has_deps boolean NOT NULL DEFAULT false
);
CREATE INDEX mods_queue ON mods (date_queued, id) WHERE state >= 1;
CREATE INDEX mods_archived ON mods (id) WHERE archive_key IS NOT NULL;
CREATE INDEX mods_words ON mods USING gin (array_to_tsvector(words)) WHERE state < 2;
CREATE INDEX mods_names ON mods USING gin (name_folded gin_trgm_ops) WHERE state < 2;
CREATE INDEX mods_tags ON mods USING gin (tag_ids) WHERE state < 2;
CREATE INDEX mods_listed_by_game ON mods (game_id, id) INCLUDE (downloads) WHERE state < 2;
CREATE TABLE games (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    type text COLLATE "C" NOT NULL,
    logo text NOT NULL,
    source text COLLATE "C" NOT NULL,
    creation_date timestamptz,
    short_description text NOT NULL,
    description text NOT NULL,
    name_sort text COLLATE "C" GENERATED ALWAYS AS
        (translate(name, '{_UPPER}', '{_UPPER.lower()}')) STORED,
    name_folded text NOT NULL
);
CREATE TABLE genres (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE game_genres (
    game_id bigint NOT NULL,
    genre_id bigint NOT NULL,
    PRIMARY KEY (game_id, genre_id)
);
CREATE INDEX game_genres_by_genre ON game_genres (genre_id, game_id);
CREATE TABLE tags (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    game_id bigint,
    name text NOT NULL,
    UNIQUE NULLS NOT DISTINCT (game_id, name)
);
CREATE TABLE mod_tags (
    mod_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    PRIMARY KEY (mod_id, tag_id)
);
CREATE TABLE dependencies (
    mod_id bigint NOT NULL,
    position integer NOT NULL,
    dependency_id bigint NOT NULL,
    PRIMARY KEY (mod_id, position)
);
CREATE TABLE resources (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint NOT NULL,
    type text NOT NULL,
    url text NOT NULL,
    date_event timestamptz NOT NULL
);
CREATE INDEX resources_by_owner ON resources (owner_id, id);
CREATE TABLE failures (
    mod_id bigint PRIMARY KEY,
    reason text NOT NULL,
    attempts integer NOT NULL,
    date timestamptz NOT NULL,
    detail text NOT NULL
);
CREATE TABLE events (
    seq bigint PRIMARY KEY,
    kind text NOT NULL,
    at timestamptz NOT NULL,
    mod_id bigint,
    game_id bigint,
    name text,
    sha256 text,
    size bigint,
    date_update timestamptz,
    reason text
);
CREATE INDEX events_by_mod ON events (mod_id, seq);
CREATE INDEX events_by_time ON events (at, seq);
CREATE TABLE stats_hours (
    day date NOT NULL,
    hour smallint NOT NULL,
    type text COLLATE "C" NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (day, hour, type)
);
CREATE TABLE stats_days (
    day date NOT NULL,
    type text COLLATE "C" NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (day, type)
);
CREATE TABLE delays (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL,
    ms bigint NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX delays_by_kind ON delays (kind, id);
CREATE TABLE flags (name text PRIMARY KEY, value text NOT NULL);
CREATE TABLE call_slots (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    minute timestamptz NOT NULL,
    taken integer NOT NULL
);
CREATE TABLE known_items (
    id bigint PRIMARY KEY,
    found boolean NOT NULL,
    name text NOT NULL,
    size bigint NOT NULL,
    is_collection boolean NOT NULL,
    children text,
    checked timestamptz NOT NULL
);
CREATE TABLE progress (
    mod_id bigint PRIMARY KEY,
    phase text NOT NULL,
    done bigint NOT NULL,
    total bigint,
    started timestamptz NOT NULL,
    updated timestamptz NOT NULL
);
CREATE INDEX mods_queued ON mods (date_queued NULLS FIRST, id) WHERE state = 3;
INSERT INTO meta (name, value) VALUES ('version', {VERSION}), ('events', 0),
    ('events_trimmed', 0);
"""


def _sort_indexes() -> str:
    """Every sort key of a listing, alone and after ``game_id``: a page is a walk of an index
    (NULLS FIRST ascending; read backwards, NULLS LAST descending, as the memory store)."""
    out = []
    for column in SORT_COLUMNS:
        key = f"{column} NULLS FIRST, id"
        out.append(f"CREATE INDEX mods_by_{column} ON mods ({key}) WHERE state < 2;")
        out.append(f"CREATE INDEX mods_by_game_{column} ON mods (game_id, {key}) WHERE state < 2;")
    return "\n".join(out)


async def create(conn: AsyncConnection, schema: str | None) -> None:
    """Create the schema (in ``schema``, when given) or check its version, in the caller's
    transaction, under the advisory lock."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
    if schema is not None:
        await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    cursor = await conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    if await cursor.fetchone() is None:
        await conn.execute("CREATE EXTENSION pg_trgm SCHEMA public")
    cursor = await conn.execute("SELECT to_regclass('meta') IS NOT NULL")
    row = await cursor.fetchone()
    if row is not None and row[0]:
        cursor = await conn.execute("SELECT value FROM meta WHERE name = 'version'")
        found = await cursor.fetchone()
        version = 0 if found is None else int(found[0])
        if version > VERSION:
            raise StorageError(
                f"the database's schema is version {version}, newer than this program's "
                f"{VERSION}: upgrade the program"
            )
        return  # (version 1 is the first: nothing to migrate yet)
    for statement in (_TABLES + _sort_indexes()).split(";"):
        if statement.strip():
            await conn.execute(statement)  # type: ignore[arg-type]
