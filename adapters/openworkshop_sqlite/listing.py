"""SQL for the catalog listings: which index answers a query, and how it is counted.

``/list/mods/`` is the hot query. Every filter and sort has an index behind it, and the plan
is chosen here rather than left to SQLite's planner, which knows neither how many mods a game
has nor how many names contain a word:

- **The total** comes from the maintained counters (``mod_counts``) when only games, sources
  and ``dependencies`` filter; from the full-text index alone when only ``name`` or ``q``
  does (those indexes hold listed mods only); otherwise from one ``count(*)`` over the same
  plan as the page.
- **Tags** inside one game are a bit mask on the mod row (``tag_mask``, one bit per tag for a
  game's first 63 tags), carried in the per-game sort indexes: "has all these tags" is a scan
  of one game's slice of an index, never a join. Other tags (a game's 64th and later, tags of
  several games) fall back to ``mod_tags``, driven by the rarest tag.
- **The page** walks a covering sort index (per game when one game is asked for) and stops
  after ``offset + page_size`` matches; with a full-text filter it either walks the sort index
  checking each mod against the match, or takes every match and sorts them, whichever reads
  fewer rows.
- **User text** is never FTS syntax: every token is quoted.
"""

from __future__ import annotations

import re
from typing import Any, Final

import attrs
from sqlite_utils import Database

from openworkshop.query import GameListQuery, GameSort, ModListQuery, ModSort
from openworkshop_sqlite.records import id_in, marks, unique
from openworkshop_sqlite.schema import MOD_SORT_INDEXES

__all__ = ["TEXT_WEIGHTS", "fts_phrase", "fts_words", "game_page", "mod_page"]

TEXT_WEIGHTS: Final = (10.0, 4.0, 1.0, 6.0)
"""bm25 weights of name, short description, description and tag names for ``q``."""
_RANK: Final = "bm25(mods_text_index, {})".format(", ".join(map(str, TEXT_WEIGHTS)))
_WORD: Final = re.compile(r"\w+")
_TRIGRAM: Final = 3
"""The trigram index matches substrings of at least three characters."""
_DRIVE_BELOW: Final = 256
"""Matches this few are always fetched and sorted rather than looked for along an index."""
_WALK_FACTOR: Final = 4
"""Walking an index costs about a quarter of fetching a match by id and sorting it."""


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 string: every character literal."""
    return '"' + text.replace('"', '""') + '"'


def fts_words(text: str) -> str | None:
    """Every word of ``text`` quoted, all required (implicit AND); None if it has no word.

    Words are runs of letters, digits and underscores (``\\w+``), as the in-memory store
    splits them, so ``better-trains`` asks for both words, anywhere.
    """
    words = _WORD.findall(text)
    return " ".join(fts_phrase(word) for word in words) if words else None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@attrs.define
class _Where:
    terms: list[str] = attrs.Factory(list)
    params: list[Any] = attrs.Factory(list)

    def add(self, term: str, *params: Any) -> None:
        self.terms.append(term)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.terms) if self.terms else "1"


@attrs.frozen
class _Match:
    table: str
    expression: str


def _listed_count(db: Database, where: _Where) -> int:
    row = db.execute(
        f"SELECT coalesce(sum(mods), 0) FROM mod_counts WHERE {where.sql()}", where.params
    ).fetchone()
    return int(row[0])


def _foreign_tags(db: Database) -> bool:
    return db.execute("SELECT 1 FROM mods WHERE foreign_tags > 0 LIMIT 1").fetchone() is not None


def mod_page(db: Database, query: ModListQuery) -> tuple[int, list[int]]:
    """The total of listed mods matching ``query`` and the stored ids of its page, in order."""
    where = _Where()
    where.add("m.state < 2")
    counters = _Where()  # the same filter over mod_counts, while one exists
    counted = True
    game: int | None = None  # the one game every match belongs to, if known
    drive_tag: int | None = None  # the rarest tag, when tags cannot be answered by the mask

    if query.allowed_ids:
        ids = unique(id_in(i) for i in query.allowed_ids)
        where.add(f"m.id IN ({marks(len(ids))})", *ids)
        counted = False
    games = unique(id_in(g) for g in query.games)
    if games:
        if len(games) == 1:
            game = games[0]
            where.add("m.game_id = ?", game)
        else:
            where.add(f"m.game_id IN ({marks(len(games))})", *games)
        counters.add(f"game_id IN ({marks(len(games))})", *games)
    if query.primary_sources:
        sources = unique(query.primary_sources)
        where.add(f"m.source IN ({marks(len(sources))})", *sources)
        counters.add(f"source IN ({marks(len(sources))})", *sources)
    if query.exclude_dependent:
        where.add("m.has_deps = 0")
        counters.add("has_deps = 0")

    if query.tags:
        counted = False
        tag_ids = unique(id_in(t) for t in query.tags)
        rows = db.execute(
            f"SELECT id, game_id, bit FROM tags WHERE id IN ({marks(len(tag_ids))})", tag_ids
        ).fetchall()
        if len(rows) < len(tag_ids):
            return 0, []  # a tag that does not exist: nothing has it
        tag_games = {row[1] for row in rows}
        with_bits = [row for row in rows if row[2] is not None]
        if len(tag_games) == 1 and None not in tag_games and with_bits and not _foreign_tags(db):
            (tag_game,) = tag_games
            if games and tag_game not in games:
                return 0, []
            if game != tag_game:
                game = tag_game
                where.add("m.game_id = ?", tag_game)
            mask = sum(1 << row[2] for row in with_bits)
            where.add("(m.tag_mask & ?) = ?", mask, mask)
            rest = [row[0] for row in rows if row[2] is None]
        else:
            every = [row[0] for row in rows]
            sizes = dict(
                db.execute(
                    f"SELECT tag_id, count(*) FROM mod_tags WHERE tag_id IN ({marks(len(every))}) "
                    "GROUP BY tag_id",
                    every,
                ).fetchall()
            )
            drive_tag, *rest = sorted(every, key=lambda t: sizes.get(t, 0))
            where.add("m.id IN (SELECT mod_id FROM mod_tags WHERE tag_id = ?)", drive_tag)
        for tag in rest:
            where.add(
                "EXISTS (SELECT 1 FROM mod_tags mt WHERE mt.tag_id = ? AND mt.mod_id = m.id)", tag
            )

    matches: list[_Match] = []
    if query.q:
        words = fts_words(query.q)
        if words is None:
            return 0, []  # nothing to look for: nothing matches
        matches.append(_Match("mods_text_index", words))
    if query.name:
        if len(query.name) >= _TRIGRAM:
            matches.append(_Match("mods_name_index", fts_phrase(query.name)))
        elif query.name.isascii():
            where.add("m.name LIKE ? ESCAPE '\\'", _like_pattern(query.name))
            counted = False
        else:
            where.add("instr(ow_fold(m.name), ?) > 0", query.name.lower())
            counted = False

    # --- the total -----------------------------------------------------------------------
    # one full-text match drives (finds candidates), the others check; at most 50
    # allowed ids always drive
    drive, checked = (
        (None, matches) if query.allowed_ids or not matches else (matches[0], matches[1:])
    )
    for match in checked:
        where.add(f"m.id IN (SELECT rowid FROM {match.table} WHERE {match.table} MATCH ?)",
                  match.expression)  # fmt: skip
    if drive is None and counted:
        total = _listed_count(db, counters)
    elif drive is not None and len(where.terms) == 1:  # the match alone: count the index
        total = db.execute(
            f"SELECT count(*) FROM {drive.table} WHERE {drive.table} MATCH ?", [drive.expression]
        ).fetchone()[0]
    else:
        source, params = _driven(drive, where, by_id=drive_tag is not None)
        total = db.execute(f"SELECT count(*) {source}", params).fetchone()[0]

    offset = query.page.offset
    if total <= offset:
        return total, []
    limit = query.page.page_size

    # --- the page --------------------------------------------------------------------------
    direction = "DESC" if query.descending else "ASC"
    if query.sort is ModSort.RELEVANCE:
        if drive is not None and drive.table == "mods_text_index":
            order = f"{_RANK} {direction}, m.id {direction}"
        else:
            order = f"m.id {direction}"
        source, params = _driven(drive, where)
    else:
        expression, suffix = MOD_SORT_INDEXES[query.sort.value]
        order = f"m.{expression} {direction}, m.id {direction}"
        index = f"mods_game_by_{suffix}" if game is not None else f"mods_listed_by_{suffix}"
        if query.allowed_ids or (drive_tag is not None and drive is None):
            # at most 50 ids, or the rarest tag's mods: fetch them by id and sort
            source, params = _driven(None, where, by_id=True)
        elif drive is not None:
            universe = _listed_count(db, _game_filter(game))
            walked = (offset + limit) * universe / max(total, 1)
            if total > _DRIVE_BELOW and walked < _WALK_FACTOR * total:
                walk = _Where(list(where.terms), list(where.params))
                walk.add(
                    f"EXISTS (SELECT 1 FROM {drive.table} WHERE {drive.table} MATCH ? "
                    f"AND rowid = m.id)",
                    drive.expression,
                )
                source, params = f"FROM mods m INDEXED BY {index} WHERE {walk.sql()}", walk.params
            else:
                source, params = _driven(drive, where)
        elif game is None and games:
            # several games: one index range per game and a sort, or the global walk
            universe = _listed_count(db, _Where())
            walked = (offset + limit) * universe / max(total, 1)
            if total < walked:
                index = f"mods_game_by_{suffix}"
            source, params = f"FROM mods m INDEXED BY {index} WHERE {where.sql()}", where.params
        else:
            source, params = f"FROM mods m INDEXED BY {index} WHERE {where.sql()}", where.params
    rows = db.execute(
        f"SELECT m.id {source} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset]
    ).fetchall()
    return total, [row[0] for row in rows]


def _game_filter(game: int | None) -> _Where:
    where = _Where()
    if game is not None:
        where.add("game_id = ?", game)
    return where


def _driven(drive: _Match | None, where: _Where, *, by_id: bool = False) -> tuple[str, list[Any]]:
    """FROM ... WHERE ... taking every match of ``drive`` (if any) first; ``by_id``: no
    sort index, the mods are found by id (an ``id IN`` term drives)."""
    if drive is None:
        hint = " NOT INDEXED" if by_id else ""
        return f"FROM mods m{hint} WHERE {where.sql()}", where.params
    return (
        f"FROM {drive.table} CROSS JOIN mods m ON m.id = {drive.table}.rowid "
        f"WHERE {drive.table} MATCH ? AND {where.sql()}",
        [drive.expression, *where.params],
    )


# --- games ------------------------------------------------------------------------------------

_GAME_SORTS: Final = {
    GameSort.NAME: "g.name COLLATE NOCASE",
    GameSort.TYPE: "g.type",
    GameSort.CREATION_DATE: "g.creation_date",
    GameSort.MODS_DOWNLOADS: "g.mods_downloads",
    GameSort.MODS_COUNT: "g.mods_count",
    GameSort.SOURCE: "g.source",
}


def game_page(db: Database, query: GameListQuery) -> tuple[int, list[int]]:
    """The total of games matching ``query`` and the stored ids of its page, in order."""
    where = _Where()
    if query.type_app:
        types = unique(query.type_app)
        where.add(f"g.type IN ({marks(len(types))})", *types)
    if query.primary_sources:
        sources = unique(query.primary_sources)
        where.add(f"g.source IN ({marks(len(sources))})", *sources)
    for genre in unique(id_in(g) for g in query.genres):
        where.add(
            "EXISTS (SELECT 1 FROM game_genres gg WHERE gg.genre_id = ? AND gg.game_id = g.id)",
            genre,
        )
    if query.name:
        if len(query.name) >= _TRIGRAM:
            where.add(
                "g.id IN (SELECT rowid FROM games_name_index WHERE games_name_index MATCH ?)",
                fts_phrase(query.name),
            )
        elif query.name.isascii():
            where.add("g.name LIKE ? ESCAPE '\\'", _like_pattern(query.name))
        else:
            where.add("instr(ow_fold(g.name), ?) > 0", query.name.lower())
    total = db.execute(
        f"SELECT count(*) FROM games g WHERE {where.sql()}", where.params
    ).fetchone()[0]
    offset = query.page.offset
    if total <= offset:
        return total, []
    direction = "DESC" if query.descending else "ASC"
    order = f"{_GAME_SORTS[query.sort]} {direction}, g.id {direction}"
    rows = db.execute(
        f"SELECT g.id FROM games g WHERE {where.sql()} ORDER BY {order} LIMIT ? OFFSET ?",
        [*where.params, query.page.page_size, offset],
    ).fetchall()
    return total, [row[0] for row in rows]
