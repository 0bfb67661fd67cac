"""Bulk loading: a large catalog with COPY, the listing indexes built once at the end.

Not part of the storage port. Used to seed a store (and by ``bench/catalog.py``). The rows,
with every column the adapter derives (the search's words, the tag ids), stream to
PostgreSQL through ``COPY … FROM STDIN`` in one transaction; the indexes of the bulky tables
(but their keys) are dropped before and built after, then the tables are analyzed (and
vacuumed, so that counts read the indexes only).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from psycopg import AsyncConnection

from openworkshop.domain import Game, Genre, Mod
from openworkshop_postgres.records import (
    MOD_COLUMNS,
    id_in,
    lexemes,
    mod_values,
    text_in,
    time_in,
    unique,
    words_of,
)

__all__ = ["BULKY", "load"]

BULKY: Final = ("mods", "mod_tags", "dependencies", "games", "game_genres", "tags")
_MOD_COPY: Final = (*MOD_COLUMNS, "name_folded", "name_words", "words", "tag_ids", "has_deps")

Conn = AsyncConnection[Any]


async def _set_aside(conn: Conn) -> list[str]:
    """Drop the indexes of the bulky tables that back no constraint; return their SQL."""
    cursor = await conn.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        """,
        [list(BULKY)],
    )
    rows = await cursor.fetchall()
    for name, _ in rows:
        await conn.execute(f'DROP INDEX "{name}"')  # type: ignore[arg-type]
    return [sql for _, sql in rows]


async def load(
    conn: Conn,
    *,
    games: Iterable[tuple[Game, Sequence[Genre]]],
    mods: Iterable[Mod],
    tags: Mapping[int, Sequence[str]],
    dependencies: Mapping[int, Sequence[int]],
) -> None:
    """Load inside the caller's transaction; existing rows stay (new mods must be new)."""
    await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
    indexes = await _set_aside(conn)
    # (the counters are summed once after the load, not a row at a time)
    await conn.execute("ALTER TABLE mods DISABLE TRIGGER mods_counted")
    await conn.execute("ALTER TABLE mods DISABLE TRIGGER mods_tagged")
    cursor = conn.cursor()
    genres: dict[int, str] = {}
    async with cursor.copy(
        "COPY games (id, name, type, logo, source, creation_date, short_description, "
        "description, name_folded) FROM STDIN"
    ) as copy:
        links: list[tuple[int, int]] = []
        for game, game_genres in games:
            ident = id_in(game.id)
            await copy.write_row(
                (
                    ident,
                    text_in(game.name),
                    game.type,
                    game.logo,
                    game.source,
                    time_in(game.creation_date),
                    text_in(game.short_description),
                    text_in(game.description),
                    text_in(game.name.casefold()),
                )
            )
            for genre in game_genres:
                genres[id_in(genre.id)] = text_in(genre.name)
                links.append((ident, id_in(genre.id)))
    await conn.execute(
        "INSERT INTO genres (id, name) SELECT * FROM unnest(%s::bigint[], %s::text[]) "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        [list(genres), list(genres.values())],
    )
    async with cursor.copy("COPY game_genres (game_id, genre_id) FROM STDIN") as copy:
        for row in unique(links):
            await copy.write_row(row)

    cursor_tags = await conn.execute("SELECT id, game_id, name FROM tags")
    known: dict[tuple[int | None, str], int] = {
        (game, name): ident for ident, game, name in await cursor_tags.fetchall()
    }
    next_tag = max(known.values(), default=0) + 1
    new_tags: list[tuple[int, int | None, str]] = []
    mod_tags = array("q")  # (mod, tag) pairs, flat: millions of them stay small
    deps = array("q")  # (mod, position, dependency) triples
    columns = ", ".join(_MOD_COPY)
    async with cursor.copy(f"COPY mods ({columns}) FROM STDIN") as copy:
        for mod in mods:
            ident = id_in(mod.id)
            game = None if mod.game_id is None else id_in(mod.game_id)
            names = unique(tags.get(mod.id, ()))
            tag_ids = []
            for name in names:
                stored = text_in(name)
                tag = known.get((game, stored))
                if tag is None:
                    tag = known[(game, stored)] = next_tag
                    next_tag += 1
                    new_tags.append((tag, game, stored))
                tag_ids.append(tag)
                mod_tags.extend((ident, tag))
            mod_deps = unique(dependencies.get(mod.id, ()))
            for position, dep in enumerate(mod_deps):
                deps.extend((ident, position, id_in(dep)))
            values = mod_values(mod)
            await copy.write_row(
                (
                    *(values[c] for c in MOD_COLUMNS),
                    text_in(mod.name.casefold()),
                    lexemes(words_of(mod.name)),
                    lexemes(
                        words_of(mod.name, " ".join(names), mod.short_description, mod.description)
                    ),
                    sorted(tag_ids),
                    bool(mod_deps),
                )
            )
    async with cursor.copy("COPY tags (id, game_id, name) FROM STDIN") as copy:
        for row in new_tags:
            await copy.write_row(row)
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence('tags', 'id'), (SELECT max(id) FROM tags))"
    )
    async with cursor.copy("COPY mod_tags (mod_id, tag_id) FROM STDIN") as copy:
        for i in range(0, len(mod_tags), 2):
            await copy.write_row((mod_tags[i], mod_tags[i + 1]))
    async with cursor.copy(
        "COPY dependencies (mod_id, position, dependency_id) FROM STDIN"
    ) as copy:
        for i in range(0, len(deps), 3):
            await copy.write_row((deps[i], deps[i + 1], deps[i + 2]))
    for sql in indexes:
        await conn.execute(sql)  # type: ignore[arg-type]
    await conn.execute("ALTER TABLE mods ENABLE TRIGGER mods_counted")
    await conn.execute("ALTER TABLE mods ENABLE TRIGGER mods_tagged")
    await conn.execute("DELETE FROM tag_counts")
    await conn.execute(
        "INSERT INTO tag_counts (tag_id, mods) SELECT t, count(*) FROM mods, "
        "unnest(tag_ids) AS t WHERE state < 2 GROUP BY t"
    )
    await conn.execute("DELETE FROM mod_counts")
    await conn.execute(
        "INSERT INTO mod_counts (game_id, source, has_deps, mods) SELECT game_id, source, "
        "has_deps, count(*) FROM mods WHERE state < 2 GROUP BY game_id, source, has_deps"
    )
