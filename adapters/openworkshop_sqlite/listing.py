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

import itertools
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
_TEXT: Final = "mods_text_index"
_RANK: Final = "bm25(mods_text_index, {})".format(", ".join(map(str, TEXT_WEIGHTS)))
_WORD: Final = re.compile(r"\w+")
_TRIGRAM: Final = 3
"""The trigram index matches substrings of at least three characters."""
_FETCH_COST: Final = 1.0
"""Relative cost of fetching one match by id and sorting it."""
_SET_COST: Final = 0.1
"""... of looking one full-text match up in the set of matches while walking."""
_WALK_COST: Final = 0.1
"""... of reading one entry of a sort index and checking it."""
_PROBE_COST: Final = 0.4
"""... of checking one tag of a mod in ``mod_tags``."""


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


def _short_name(needle: str, column: str = "m.name") -> tuple[str, ...]:
    """A filter for names containing a needle of 1 or 2 characters, in any case.

    LIKE folds ASCII letters only, so each case of the other letters is asked for.
    """
    cases = [[c] if c.isascii() else sorted({c, c.lower(), c.upper()}) for c in needle]
    variants = ["".join(chars) for chars in itertools.product(*cases)]
    term = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for _ in variants)
    return (f"({term})", *(_like_pattern(v) for v in variants))


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


def _has_tag(tag: int, mod: str) -> tuple[str, int]:
    return f"EXISTS (SELECT 1 FROM mod_tags mt WHERE mt.tag_id = ? AND mt.mod_id = {mod})", tag


@attrs.frozen
class _Tags:
    """How a tag filter is answered: the rarest tag's links are read, each checked against
    ``mask`` (bits of the other tags of one game) and ``others`` (tags without a bit)."""

    rarest: int
    mask: int
    others: tuple[int, ...]
    game: int | None
    """The game of every tagged mod, when the mask answers."""
    probes: int
    """Tags checked one by one in ``mod_tags`` (those without a bit)."""
    terms: _Where
    """The same filter on a mod row ``m`` (for walking a sort index)."""

    def links(self, where: _Where | None) -> tuple[str, list[Any]]:
        """FROM ... WHERE ... over the rarest tag's links (joined to the mods if ``where``)."""
        terms = _Where()
        terms.add("t.tag_id = ? AND t.listed = 1", self.rarest)
        if self.mask:
            terms.add("(t.mask & ?) = ?", self.mask, self.mask)
        for tag in self.others:
            terms.add(*_has_tag(tag, "t.mod_id"))
        if where is None:
            return f"FROM mod_tags t WHERE {terms.sql()}", terms.params
        return (
            f"FROM mod_tags t CROSS JOIN mods m ON m.id = t.mod_id "
            f"WHERE {terms.sql()} AND {where.sql()}",
            [*terms.params, *where.params],
        )


def _resolve_tags(db: Database, query: ModListQuery, games: list[int]) -> _Tags | None:
    """The plan for the query's tags; None when no mod can have them all."""
    tag_ids = unique(id_in(t) for t in query.tags)
    rows = db.execute(
        f"SELECT id, game_id, bit, links FROM tags WHERE id IN ({marks(len(tag_ids))})", tag_ids
    ).fetchall()
    if len(rows) < len(tag_ids):
        return None  # a tag that does not exist: nothing has it
    rows.sort(key=lambda row: (row[3], row[0]))
    rarest = rows[0][0]
    tag_games = {row[1] for row in rows}
    with_bits = [row for row in rows if row[2] is not None]
    terms = _Where()
    mask = 0
    game = None
    if len(tag_games) == 1 and None not in tag_games and with_bits and not _foreign_tags(db):
        # every mod tagged with these tags belongs to their game: the mask answers
        (game,) = tag_games
        if games and game not in games:
            return None
        mask = sum(1 << row[2] for row in with_bits)
        terms.add("m.game_id = ?", game)
        terms.add("(m.tag_mask & ?) = ?", mask, mask)
        unmasked = [row[0] for row in rows if row[2] is None]
    else:
        unmasked = [row[0] for row in rows]
    for tag in unmasked:
        terms.add(*_has_tag(tag, "m.id"))
    others = tuple(tag for tag in unmasked if tag != rarest)
    return _Tags(
        rarest=rarest, mask=mask, others=others, game=game, probes=len(unmasked), terms=terms
    )


def mod_page(db: Database, query: ModListQuery) -> tuple[int, list[int]]:
    """The total of listed mods matching ``query`` and the stored ids of its page, in order."""
    where = _Where()  # every filter but the tags, on a mod row ``m``
    where.add("m.state < 2")
    counters: _Where | None = _Where()  # the same filter on mod_counts, while one exists
    game: int | None = None  # the one game every match belongs to, if known

    if query.allowed_ids:
        ids = unique(id_in(i) for i in query.allowed_ids)
        where.add(f"m.id IN ({marks(len(ids))})", *ids)
        counters = None
    games = unique(id_in(g) for g in query.games)
    if games:
        if len(games) == 1:
            game = games[0]
        where.add(f"m.game_id IN ({marks(len(games))})", *games)
        if counters is not None:
            counters.add(f"game_id IN ({marks(len(games))})", *games)
    if query.primary_sources:
        sources = unique(query.primary_sources)
        where.add(f"m.source IN ({marks(len(sources))})", *sources)
        if counters is not None:
            counters.add(f"source IN ({marks(len(sources))})", *sources)
    if query.exclude_dependent:
        where.add("m.has_deps = 0")
        if counters is not None:
            counters.add("has_deps = 0")

    short_name = False
    tags: _Tags | None = None
    if query.tags:
        counters = None
        tags = _resolve_tags(db, query, games)
        if tags is None:
            return 0, []
        if tags.game is not None:
            game = tags.game

    matches: list[_Match] = []
    if query.q:
        words = fts_words(query.q)
        if words is None:
            return 0, []  # nothing to look for: nothing matches
        matches.append(_Match(_TEXT, words))
    if query.name:
        if len(query.name) >= _TRIGRAM:
            matches.append(_Match("mods_name_index", fts_phrase(query.name)))
        else:  # too short for trigrams: read the names (from the name index, the narrowest)
            where.add(*_short_name(query.name))
            counters = None
            short_name = True
    # one full-text match finds the candidates, any other checks them; at most 50 allowed
    # ids are candidates enough
    text: _Match | None = None
    if matches and not query.allowed_ids:
        text, *matches = matches
    for match in matches:
        where.add(
            f"m.id IN (SELECT rowid FROM {match.table} WHERE {match.table} MATCH ?)",
            match.expression,
        )
        counters = None
    ranked = query.sort is ModSort.RELEVANCE and text is not None and text.table == _TEXT
    alone = len(where.terms) == 1 and tags is None  # nothing but the full-text match
    full = _Where([*where.terms, *(tags.terms.terms if tags else [])],
                  [*where.params, *(tags.terms.params if tags else [])])  # fmt: skip

    # --- the total -----------------------------------------------------------------------
    if text is not None and not ranked:
        # the matches, found once: counted, then walked or sorted
        db.execute("CREATE TEMP TABLE IF NOT EXISTS ow_hits (id INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM temp.ow_hits")  # (a read's rollback drops it anyway)
        db.execute(
            f"INSERT INTO temp.ow_hits SELECT rowid FROM {text.table} WHERE {text.table} MATCH ?",
            [text.expression],
        )
        if alone:
            total = db.execute("SELECT count(*) FROM temp.ow_hits").fetchone()[0]
        else:
            total = db.execute(
                "SELECT count(*) FROM temp.ow_hits h CROSS JOIN mods m ON m.id = h.id "
                f"WHERE {full.sql()}",
                full.params,
            ).fetchone()[0]
    elif text is not None:
        source, params = _matched(text, full)
        if alone:
            source, params = f"FROM {text.table} WHERE {text.table} MATCH ?", [text.expression]
        total = db.execute(f"SELECT count(*) {source}", params).fetchone()[0]
    elif tags is not None:
        # the rarest tag's links, alone if every other filter is implied by the mask
        implied = tags.game is not None and len(where.terms) == 1 + bool(games)
        source, params = tags.links(None if implied else where)
        total = db.execute(f"SELECT count(*) {source}", params).fetchone()[0]
    elif counters is not None:
        total = _listed_count(db, counters)
    else:
        index = ""
        if short_name and not query.allowed_ids:  # every name is read: read the index's
            index = "INDEXED BY " + (
                "mods_game_by_name" if game is not None else "mods_listed_by_name"
            )
        total = db.execute(
            f"SELECT count(*) FROM mods m {index} WHERE {full.sql()}", full.params
        ).fetchone()[0]

    offset = query.page.offset
    if total <= offset:
        return total, []
    limit = query.page.page_size

    # --- the page --------------------------------------------------------------------------
    direction = "DESC" if query.descending else "ASC"
    if query.sort is ModSort.RELEVANCE or query.allowed_ids:
        if ranked:
            order = f"{_RANK} {direction}, m.id {direction}"
            source, params = _matched(text, full)  # type: ignore[arg-type]
        else:
            if query.sort is ModSort.RELEVANCE:
                order = f"m.id {direction}"
            else:
                expression, _ = MOD_SORT_INDEXES[query.sort.value]
                order = f"m.{expression} {direction}, m.id {direction}"
            if text is not None:
                source, params = _hits(full)
            else:  # at most 50 ids, or everything in id order
                source, params = f"FROM mods m WHERE {full.sql()}", full.params
    else:
        expression, suffix = MOD_SORT_INDEXES[query.sort.value]
        order = f"m.{expression} {direction}, m.id {direction}"
        index = f"mods_game_by_{suffix}" if game is not None else f"mods_listed_by_{suffix}"
        walk = f"FROM mods m INDEXED BY {index} WHERE {full.sql()}", full.params
        if text is not None or tags is not None:
            # walk the sort index until enough entries match, or take every match and sort
            universe = _listed_count(db, _game_filter(game))
            walked = min(universe, (offset + limit) * universe / max(total, 1))
            per_entry = _WALK_COST + _PROBE_COST * (tags.probes if tags else 0)
            walking = walked * per_entry + (total * _SET_COST if text else 0)
            if walking < total * _FETCH_COST:
                if text is not None:
                    source, params = walk[0] + " AND m.id IN temp.ow_hits", walk[1]
                else:
                    source, params = walk
            elif text is not None:
                source, params = _hits(full)
            else:
                assert tags is not None
                source, params = tags.links(where)
        elif game is None and games:
            # several games: one index range per game and a sort, or the global walk
            universe = _listed_count(db, _Where())
            walked = (offset + limit) * universe / max(total, 1)
            if total < walked:
                index = f"mods_game_by_{suffix}"
            source, params = f"FROM mods m INDEXED BY {index} WHERE {full.sql()}", full.params
        else:
            source, params = walk
    rows = db.execute(
        f"SELECT m.id {source} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset]
    ).fetchall()
    return total, [row[0] for row in rows]


def _game_filter(game: int | None) -> _Where:
    where = _Where()
    if game is not None:
        where.add("game_id = ?", game)
    return where


def _matched(text: _Match, where: _Where) -> tuple[str, list[Any]]:
    """FROM ... WHERE ... over every match of ``text``, joined to the mods."""
    return (
        f"FROM {text.table} CROSS JOIN mods m ON m.id = {text.table}.rowid "
        f"WHERE {text.table} MATCH ? AND {where.sql()}",
        [text.expression, *where.params],
    )


def _hits(where: _Where) -> tuple[str, list[Any]]:
    """FROM ... WHERE ... over the matches found before (``temp.ow_hits``)."""
    return (
        f"FROM temp.ow_hits h CROSS JOIN mods m ON m.id = h.id WHERE {where.sql()}",
        where.params,
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
        else:
            where.add(*_short_name(query.name, "g.name"))
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
