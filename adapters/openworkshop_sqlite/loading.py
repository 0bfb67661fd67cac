"""Bulk loading: a large catalog in one transaction, with indexes built once at the end.

Not part of the storage port. Used to seed a store (and by ``bench/catalog.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from sqlite_utils import Database

from openworkshop.domain import Game, Genre, Mod
from openworkshop_sqlite.records import MOD_COLUMNS, MOD_SELECT, id_in, mod_params, time_in, unique
from openworkshop_sqlite.schema import add_vocabulary, refresh_derived
from openworkshop_sqlite.search import name_words

__all__ = ["load"]

_BATCH: Final = 50_000
_MAX_TAG_BIT: Final = 63
_BULKY: Final = ("mods", "mod_tags", "dependencies", "games", "game_genres")
_INSERT_MOD: Final = (
    f"INSERT INTO mods ({MOD_SELECT}, has_deps, tag_mask, foreign_tags, tag_names, name_words) "
    f"VALUES ({', '.join('?' * (len(MOD_COLUMNS) + 5))})"
)


def _set_aside(db: Database) -> list[str]:
    """Drop the indexes of the bulky tables and every trigger; return their SQL."""
    rows = db.execute(
        f"""
        SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND (
            type = 'trigger'
            OR (type = 'index' AND tbl_name IN ({", ".join("?" * len(_BULKY))}))
        )
        """,
        list(_BULKY),
    ).fetchall()
    for kind, name, _ in rows:
        db.execute(f"DROP {kind.upper()} {name}")
    # indexes first, then the triggers that may rely on them
    return [sql for kind, _, sql in rows if kind == "index"] + [
        sql for kind, _, sql in rows if kind == "trigger"
    ]


class _Tags:
    """Tag ids and mask bits by (game, name), created on first use."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.known: dict[tuple[int | None, str], tuple[int, int | None]] = {}
        self.per_game: dict[int | None, int] = {}
        for ident, game, name, bit in db.execute("SELECT id, game_id, name, bit FROM tags"):
            self.known[(game, name)] = (ident, bit)
            self.per_game[game] = self.per_game.get(game, 0) + 1

    def get(self, game: int | None, name: str) -> tuple[int, int | None]:
        found = self.known.get((game, name))
        if found is None:
            count = self.per_game.get(game, 0)
            bit = count if count < _MAX_TAG_BIT else None
            cursor = self.db.execute(
                "INSERT INTO tags (game_id, name, bit) VALUES (?, ?, ?)", [game, name, bit]
            )
            found = (int(cursor.lastrowid or 0), bit)
            self.known[(game, name)] = found
            self.per_game[game] = count + 1
        return found


def load(
    db: Database,
    *,
    games: Iterable[tuple[Game, Sequence[Genre]]],
    mods: Iterable[Mod],
    tags: Mapping[int, Sequence[str]],
    dependencies: Mapping[int, Sequence[int]],
) -> None:
    """Load inside the caller's transaction."""
    saved = _set_aside(db)
    conn = db.conn

    for game, genres in games:
        ident = id_in(game.id)
        conn.execute(
            "INSERT INTO games (id, name, type, logo, source, creation_date, short_description, "
            "description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ident,
                game.name,
                game.type,
                game.logo,
                game.source,
                time_in(game.creation_date),
                game.short_description,
                game.description,
            ],
        )
        conn.executemany(
            "INSERT INTO genres (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
            [(id_in(g.id), g.name) for g in genres],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO game_genres (game_id, genre_id) VALUES (?, ?)",
            [(ident, id_in(g.id)) for g in genres],
        )

    known_tags = _Tags(db)
    conn.execute(
        "CREATE TEMP TABLE load_links (tag_id INTEGER, mod_id INTEGER, listed INTEGER, "
        "mask INTEGER)"
    )
    iterator = iter(mods)
    while batch := list(itertools.islice(iterator, _BATCH)):
        rows: list[list[Any]] = []
        links: list[tuple[int, int, int, int]] = []
        for mod in batch:
            params = mod_params(mod)
            ident, game = params["id"], params["game_id"]
            names = unique(tags.get(mod.id, ()))
            mask = 0
            linked = []
            for name in names:
                tag, bit = known_tags.get(game, name)
                linked.append(tag)
                if bit is not None:
                    mask |= 1 << bit
            listed = int(mod.state.downloadable)
            links += [(tag, ident, listed, mask) for tag in linked]
            rows.append(
                [
                    *(params[c] for c in MOD_COLUMNS),
                    int(bool(dependencies.get(mod.id))),
                    mask,
                    0,
                    " ".join(names),
                    name_words(mod.name),
                ]
            )
        conn.executemany(_INSERT_MOD, rows)
        add_vocabulary(db, (row[-1] for row in rows))
        conn.executemany("INSERT INTO load_links VALUES (?, ?, ?, ?)", links)
    conn.execute(
        "INSERT OR IGNORE INTO mod_tags (tag_id, mod_id, listed, mask) "
        "SELECT tag_id, mod_id, listed, mask FROM load_links ORDER BY tag_id, mod_id"
    )
    conn.execute("DROP TABLE temp.load_links")

    conn.executemany(
        "INSERT INTO dependencies (mod_id, position, dependency_id) VALUES (?, ?, ?)",
        (
            (id_in(mod), position, id_in(dep))
            for mod, deps in dependencies.items()
            for position, dep in enumerate(deps)
        ),
    )

    for sql in saved:
        db.execute(sql)
    refresh_derived(db)
