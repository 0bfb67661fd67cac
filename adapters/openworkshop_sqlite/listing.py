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
from collections.abc import Iterable
from typing import Any, Final

import attrs
from sqlite_utils import Database

from openworkshop.criteria import GameCriteria, GameSort, ModCriteria, ModSort
from openworkshop_sqlite import dense
from openworkshop_sqlite.records import id_in, marks, unique
from openworkshop_sqlite.schema import MOD_SORT_INDEXES
from openworkshop_sqlite.search import (
    FILTER_FACETS,
    GRAM,
    SORT_FACETS,
    Facet,
    fold,
    fts_phrase,
    gap_token,
    word_needle,
)

__all__ = ["fts_phrase", "fts_words", "game_page", "mod_page", "prepare_reader"]

_TEXT: Final = "mods_text_index"
_WORDS: Final = "mods_word_index"
_TITLES: Final = "mods_title_index"
_WORD: Final = re.compile(r"\w+")
_TRIGRAM: Final = 3
"""The trigram indexes match substrings of at least three characters."""
_MAX_WORDS: Final = 1_000
"""Vocabulary words containing a ``name`` needle beyond which the trigram index answers."""
_FETCH_ALL: Final = 500
"""Matches of ``q`` read and sorted at once, without going through the facet buckets."""
_FETCH_TITLES: Final = 2_000
"""... of the first tier of RELEVANCE (names): a coarse bucket low in the order holds most
names, and intersecting the words with its token decodes its whole doclist (5 ms for
``pack more`` at a million mods, where reading its 949 names and sorting them took 1)."""
_MIN_GROUP: Final = 1_000
"""Listed mods in the smallest group of facet buckets taken at once."""
_SPARE: Final = 4
"""A coarse bucket holding more than this many times the matches a page still needs is
split rather than read whole."""
_FETCH_BUDGET: Final = 1_500
"""Matches of a run of facet buckets read and sorted at once; more are taken bucket by
bucket."""
_WALK_SLACK: Final = 4
"""A walk through a coarse bucket reads at most this many times the rows expected."""
_GROUP_TOKENS: Final = 8
"""Facet tokens asked for at once (FTS5 steps every one of them for each match)."""
_GROUP_SHARE: Final = 1.25
"""A group of facet buckets holds this many times the page's share of the catalog."""
_FETCH_COST: Final = 1.0
"""Relative cost of fetching one match by id and sorting it."""
_SET_COST: Final = 0.1
"""... of looking one full-text match up in the set of matches while walking."""
_WALK_COST: Final = 0.1
"""... of reading one entry of a sort index and checking it."""
_PROBE_COST: Final = 0.4
"""... of checking one tag of a mod in ``mod_tags``."""
_CHECK_COST: Final = 0.8
"""... of reading a mod's row to check its name words."""
_COVERED_COST: Final = 0.4
"""... of checking a name read from the NAME index."""


@attrs.frozen
class _Words:
    """The words of a ``q`` as FTS5 expressions, and their terms."""

    text: str
    """For the ``q`` index: every word, the dense ones by their gaps."""
    title: str
    """For the title index: every word."""
    terms: frozenset[str]
    """The terms of the ``q`` index they are (a term: its totals in ``term_counts``)."""


def fts_words(db: Database, text: str) -> _Words | None:
    """Every word of ``text`` quoted, all required (implicit AND); None if it has no word.

    Words are runs of letters, digits and underscores (``\\w+``), as the in-memory store
    splits them (so ``better-trains`` asks for both words, anywhere, and no private-use
    character reaches a facet token), then cut by FTS5's own tokenizer: each is one token
    of the ``q`` index, which holds no positions to match a phrase with. On the ``q``
    index, a word whose term is dense (see ``openworkshop_sqlite.dense``) is asked for as
    "NOT in its gaps". Needs ``prepare_reader`` done on ``db``.
    """
    dense.cut(db, "ow_split", " ".join(_WORD.findall(text)))
    tokens = [row[0] for row in db.execute("SELECT term FROM temp.ow_split_terms")]
    if not tokens:
        return None
    title = " ".join(map(fts_phrase, tokens))
    dense.cut(db, "ow_stem", " ".join(tokens))  # (one token each: the term at its offset)
    places = db.execute(
        "SELECT p.offset, p.term, d.term IS NOT NULL FROM temp.ow_stem_places p "
        "LEFT JOIN dense_terms d ON d.term = p.term AND d.ready"
    ).fetchall()
    terms = frozenset(term for _, term, _ in places)
    stems = {offset: term for offset, term, is_dense in places if is_dense}
    if not stems:
        return _Words(title, title, terms)
    kept = [fts_phrase(token) for offset, token in enumerate(tokens) if offset not in stems]
    # (every listed mod has one of the has_deps tokens: the universe, if no word is left)
    has_deps = FILTER_FACETS["has_deps"]
    holding = " ".join(kept) if kept else _any_of(has_deps.token(v) for v in (0, 1))
    gaps = _any_of(gap_token(term) for term in sorted(set(stems.values())))
    return _Words(f"({holding}) NOT {gaps}", title, terms)


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
    check: tuple[Any, ...] | None = None
    """The same filter as a term on a mod row ``m`` and its parameters, if there is one."""


def _listed_count(db: Database, where: _Where) -> int:
    if not where.terms:  # every listed mod is in one bucket of a level: the fewest rows
        where = _Where(["facet = ?"], [SORT_FACETS["DOWNLOADS"].levels()[0].key])
        table = "facet_buckets"
    else:
        table = "mod_counts"
    row = db.execute(
        f"SELECT coalesce(sum(mods), 0) FROM {table} WHERE {where.sql()}", where.params
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


def _resolve_tags(db: Database, query: ModCriteria, games: list[int]) -> _Tags | None:
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


def mod_page(db: Database, query: ModCriteria) -> tuple[int, list[int]]:
    """The total of listed mods matching ``query`` and the stored ids of its page, in order.

    ``db`` must have had ``prepare_reader`` (the storage does it once per reader).
    """
    if query.q and not (query.allowed_ids or query.tags or query.name):
        found_words = fts_words(db, query.q)
        if found_words is None:
            return 0, []
        return _search_page(
            db, query, _TEXT, found_words.text, titles=found_words.title, terms=found_words.terms
        )
    if query.name and not (query.allowed_ids or query.tags or query.q):
        needle = word_needle(query.name)
        found = _name_terms(db, needle) if needle is not None else None
        if found is not None:
            words = " OR ".join(map(fts_phrase, found))
            check = ("instr(m.name_words, ?) > 0", needle)
            return _search_page(db, query, _WORDS, words, check) if words else (0, [])
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
    in_name: str | None = None  # q's words, all in the name: the first tier of RELEVANCE
    if query.q:
        q_words = fts_words(db, query.q)
        if q_words is None:
            return 0, []  # nothing to look for: nothing matches
        matches.append(_Match(_TEXT, q_words.text))
        in_name = q_words.title  # (on the title index)
    if query.name:
        needle = word_needle(query.name)
        found = _name_terms(db, needle) if needle is not None else None
        if found is not None and needle is not None:
            if not found:
                return 0, []  # no name has a word containing it
            expression = " OR ".join(fts_phrase(word) for word in found)
            matches.append(_Match(_WORDS, expression, ("instr(m.name_words, ?) > 0", needle)))
        elif len(query.name) >= _TRIGRAM:
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
        if match.check is not None:
            where.add(*match.check)
        else:
            where.add(
                f"m.id IN (SELECT rowid FROM {match.table} WHERE {match.table} MATCH ?)",
                match.expression,
            )
        counters = None
    alone = len(where.terms) == 1 and tags is None  # nothing but the full-text match
    full = _Where([*where.terms, *(tags.terms.terms if tags else [])],
                  [*where.params, *(tags.terms.params if tags else [])])  # fmt: skip
    if text is not None and text.check is not None:
        full = _Where([*full.terms, text.check[0]], [*full.params, *text.check[1:]])

    # --- the total -----------------------------------------------------------------------
    hits = False  # whether temp.ow_hits holds the matches of ``text``
    if text is not None and text.check is not None:
        # a row check stands for the match while walking: no need to hold the matches
        if alone:
            total = _count(db, text.table, text.expression)
        else:
            source, params = _matched(text, full)
            total = db.execute(f"SELECT count(*) {source}", params).fetchone()[0]
    elif text is not None:
        # the matches, found once: counted, then walked or sorted
        db.execute("CREATE TEMP TABLE IF NOT EXISTS ow_hits (id INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM temp.ow_hits")  # (a read's rollback drops it anyway)
        db.execute(
            f"INSERT INTO temp.ow_hits SELECT rowid FROM {text.table} WHERE {text.table} MATCH ?",
            [text.expression],
        )
        hits = True
        if alone:
            total = db.execute("SELECT count(*) FROM temp.ow_hits").fetchone()[0]
        else:
            total = db.execute(
                "SELECT count(*) FROM temp.ow_hits h CROSS JOIN mods m ON m.id = h.id "
                f"WHERE {full.sql()}",
                full.params,
            ).fetchone()[0]
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
    order_params: list[Any] = []
    if query.sort is ModSort.RELEVANCE or query.allowed_ids:
        if query.sort is ModSort.RELEVANCE and in_name is not None:
            # the mods with every word in the name first, then the others; the most
            # downloaded first in each
            first, then = ("ASC", "ASC") if query.descending else ("DESC", "DESC")
            order = (
                f"(m.id IN (SELECT rowid FROM {_TITLES} WHERE {_TITLES} MATCH ?)) {first}, "
                f"m.downloads {then}, m.id {then}"
            )
            order_params = [in_name]
        elif query.sort is ModSort.RELEVANCE:
            order = f"m.id {direction}"
        else:
            expression, _ = MOD_SORT_INDEXES[query.sort.value]
            order = f"m.{expression} {direction}, m.id {direction}"
        if hits:
            source, params = _hits(full)
        elif text is not None:
            source, params = _matched(text, full)
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
            if text is not None and text.check is not None:
                per_entry += _CHECK_COST
            walking = walked * per_entry + (total * _SET_COST if hits else 0)
            if walking < total * _FETCH_COST:
                if hits:
                    source, params = walk[0] + " AND m.id IN temp.ow_hits", walk[1]
                else:
                    source, params = walk
            elif hits:
                source, params = _hits(full)
            elif text is not None:
                source, params = _matched(text, full)
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
        f"SELECT m.id {source} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, *order_params, limit, offset],
    ).fetchall()
    return total, [row[0] for row in rows]


def _name_terms(db: Database, needle: str) -> list[str] | None:
    """The terms of the word index whose names contain ``needle``: its three-character
    piece, or the name words containing it; None if there are too many to ask for."""
    if len(needle) == _TRIGRAM:
        return [GRAM + needle]
    if len(needle) >= _TRIGRAM:
        rows = db.execute(
            "SELECT v.word FROM name_vocabulary_index i CROSS JOIN name_vocabulary v "
            "ON v.id = i.rowid WHERE i.name_vocabulary_index MATCH ? LIMIT ?",
            [fts_phrase(needle), _MAX_WORDS + 1],
        ).fetchall()
    else:
        rows = db.execute(
            "SELECT word FROM name_vocabulary WHERE instr(word, ?) > 0 LIMIT ?",
            [needle, _MAX_WORDS + 1],
        ).fetchall()
    return None if len(rows) > _MAX_WORDS else [row[0] for row in rows]


def _count(db: Database, table: str, expression: str) -> int:
    """How many listed mods match ``expression`` in the full-text index ``table``."""
    row = db.execute(f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", [expression]).fetchone()
    return int(row[0])


def _any_of(tokens: Iterable[str]) -> str:
    """An FTS5 expression for facet tokens: any of them."""
    return "(" + " OR ".join(map(fts_phrase, tokens)) + ")"


def _search_page(
    db: Database,
    query: ModCriteria,
    table: str,
    words: str,
    check: tuple[Any, ...] | None = None,
    *,
    titles: str | None = None,
    terms: frozenset[str] = frozenset(),
) -> tuple[int, list[int]]:
    """``q`` (``table`` is the ``q`` index) or ``name`` (the word index, with ``check``, the
    same filter on a mod row) with games, sources and dependencies as the only other
    filters: counted by the index, paged through the facet buckets."""
    rows = _Where()  # the filters on a mod row ``m``, for walking a sort index
    rows.add("m.state < 2")
    if check is not None:
        rows.add(*check)
    if query.games:
        games = unique(id_in(g) for g in query.games)
        rows.add(f"m.game_id IN ({marks(len(games))})", *games)
    if query.primary_sources:
        sources = unique(query.primary_sources)
        rows.add(f"m.source IN ({marks(len(sources))})", *sources)
    if query.exclude_dependent:
        rows.add("m.has_deps = 0")
    filters = ""
    for facet, values in (
        (FILTER_FACETS["game"], unique(id_in(g) for g in query.games)),
        (FILTER_FACETS["source"], unique(query.primary_sources)),
        (FILTER_FACETS["has_deps"], [0] if query.exclude_dependent else []),
    ):
        if values:
            filters += " AND " + _any_of(facet.token(v) for v in values)
    everything = f"({words}){filters}"
    known = _term_counts(db, terms) if not filters else None
    total = known[0] if known else _count(db, table, everything)
    offset, limit = query.page.offset, query.page.page_size
    if total <= offset:
        return total, []
    tiers: list[tuple[str, str, int, tuple[str, str] | None]]
    left_out: frozenset[int] | None = None
    if query.sort is ModSort.RELEVANCE and titles is not None:
        # the mods with every word in the name first (the title index holds the names
        # alone: smaller doclists to intersect with the buckets), then the others; the
        # most downloaded first in each (descending=True reverses it all)
        in_names = f"({titles}){filters}"
        first = -1
        if known:
            first = known[1]
        else:  # read (the second tier needs them, if the page gets there) if few, or count
            named = db.execute(
                f"SELECT rowid FROM {_TITLES} WHERE {_TITLES} MATCH ? LIMIT ?",
                [in_names, _FETCH_TITLES + 1],
            ).fetchall()
            if len(named) <= _FETCH_TITLES:
                left_out = frozenset(row[0] for row in named)
                first = len(left_out)
        if first < 0:
            first = _count(db, _TITLES, in_names)
        tiers = [
            (_TITLES, in_names, first, None),
            # the matches but the first tier's, whose ids are left out as they come (the q
            # index holds no columns to tell name matches from others)
            (table, everything, total - first, (_TITLES, in_names)),
        ]
        sort, descending = "DOWNLOADS", not query.descending
        if query.descending:
            tiers.reverse()
    else:
        tiers = [(table, everything, total, None)]
        sort, descending = query.sort.value, query.descending
    ids: list[int] = []
    for index, expression, count, minus in tiers:
        if offset >= count:
            offset -= count
            continue
        ids += _bucketed(
            db,
            _Search(
                index,
                expression,
                count,
                rows if check is not None else None,
                # on the name's own index, the name itself can be checked: no row to read
                _Where(["m.state < 2", "ow_contains(m.name, ?)"], [check[1]])
                if check is not None and len(rows.terms) == 2
                else None,
                minus,
                left_out if minus is not None else None,
            ),
            sort,
            descending,
            offset,
            limit - len(ids),
        )
        offset = 0
        if len(ids) >= limit:
            break
    return total, ids


def _contains(text: str | None, needle: str) -> bool:
    return text is not None and needle in fold(text)


def prepare_reader(db: Database) -> None:
    """What a reader's connection needs, made once: the tables that cut a ``q`` into
    tokens and terms (``dense.prepare``: FTS5 itself, so exactly as the index does);
    ``ow_contains(text, needle)``, the ``name`` filter on a name (case-folded)."""
    db.conn.create_function("ow_contains", 2, _contains, deterministic=True)
    dense.prepare(db)


def _term_counts(db: Database, terms: frozenset[str]) -> tuple[int, int] | None:
    """How many listed mods hold the term anywhere and in the name, if ``terms`` (of the
    ``q`` index) is one (from ``term_counts``: a common word's total without reading its
    matches); None otherwise."""
    if len(terms) != 1:
        return None
    (term,) = terms
    counts = []
    for col in ("", "name"):
        row = db.execute(
            """
            SELECT coalesce((SELECT docs FROM term_counts WHERE term = :t AND col = :c), 0)
                + coalesce((SELECT doc FROM text_added_cols WHERE term = :t AND col = :c), 0)
                - coalesce((SELECT doc FROM text_removed_cols WHERE term = :t AND col = :c), 0)
            """
            if col
            else """
            SELECT coalesce((SELECT docs FROM term_counts WHERE term = :t AND col = ''), 0)
                + coalesce((SELECT doc FROM text_added_rows WHERE term = :t), 0)
                - coalesce((SELECT doc FROM text_removed_rows WHERE term = :t), 0)
            """,
            {"t": term, "c": col},
        ).fetchone()
        counts.append(int(row[0]))
    return counts[0], counts[1]


def _sorted_matches(
    db: Database, table: str, expression: str, order: str, offset: int, limit: int | None
) -> list[int]:
    """The matches of ``expression`` in ``table``, sorted, from ``offset`` (``limit`` of
    them, or all)."""
    rows = db.execute(
        f"SELECT m.id FROM {table} CROSS JOIN mods m ON m.id = {table}.rowid "
        f"WHERE {table} MATCH ? ORDER BY {order} LIMIT ? OFFSET ?",
        [expression, -1 if limit is None else limit, offset],
    ).fetchall()
    return [row[0] for row in rows]


@attrs.frozen
class _Search:
    table: str
    expression: str
    count: int
    """How many listed mods match."""
    rows: _Where | None
    """The same filter on a mod row ``m``, if one can check it (the ``name`` filter)."""
    covered: _Where | None = None
    """The same filter on the columns of the NAME index, if one can check it there."""
    minus: tuple[str, str] | None = None
    """A subset of the matches (index, expression) to leave out: the first tier."""
    left_out: frozenset[int] | None = None
    """Its ids, if already read."""


def _bucketed(
    db: Database, search: _Search, sort: str, descending: bool, offset: int, limit: int
) -> list[int]:
    """Page ``offset, limit`` of the matches of ``search``, in the order of ``sort``.

    The buckets of the sort key are taken in order, coarsest level first, in runs of
    neighbours holding about twice the page's share of the catalog. A run's matches are
    counted: skipped while the page lies further on; read and sorted if they are few; else
    taken bucket by bucket, where a bucket of one value is read in id order (its sort
    order) up to the page, a bucket of several is split into the buckets of the level
    below, and a finest bucket whose matches are dense is walked on its sort index (when a
    row check exists).
    """
    table, expression, count = search.table, search.expression, search.count
    direction = "DESC" if descending else "ASC"
    order = f"m.{MOD_SORT_INDEXES[sort][0]} {direction}, m.id {direction}"
    left_out: frozenset[int] = search.left_out or frozenset()
    if search.minus is not None and search.left_out is None:
        left_out = frozenset(
            row[0]
            for row in db.execute(
                f"SELECT rowid FROM {search.minus[0]} WHERE {search.minus[0]} MATCH ?",
                [search.minus[1]],
            )
        )

    def sorted_matches(part: str, start: int, want: int | None) -> list[int]:
        if not left_out:
            return _sorted_matches(db, table, part, order, start, want)
        kept = [i for i in _sorted_matches(db, table, part, order, 0, None) if i not in left_out]
        return kept[start:] if want is None else kept[start : start + want]

    def minus_count(part_tokens: str) -> int:
        if search.minus is None:
            return 0
        index, minus = search.minus
        return _count(db, index, f"({minus}) AND {part_tokens}")

    if count <= (_FETCH_TITLES if table == _TITLES else _FETCH_ALL):
        return sorted_matches(expression, offset, limit)
    universe = _listed_count(db, _Where())
    target = max(_MIN_GROUP, _GROUP_SHARE * (offset + limit) * universe / count)
    ids: list[int] = []
    seen = 0  # matches in the buckets taken so far

    def done() -> bool:
        return len(ids) >= limit or seen >= count

    def visit(level: Facet, within: tuple[Any, Any] | None = None) -> bool:
        """Take the buckets of ``level`` (inside ``within``) in runs; True once done."""
        sql = "SELECT bucket, token, mods FROM facet_buckets WHERE facet = ? AND mods > 0"
        params: list[Any] = [level.key]
        if within is not None:
            sql += " AND bucket >= ? AND bucket < ?"
            params += within
        rows = db.execute(f"{sql} ORDER BY bucket {direction}", params).fetchall()
        run: list[tuple[Any, str, int]] = []
        for bucket, token, mods in rows:
            if run and (sum(r[2] for r in run) + mods > target or len(run) >= _GROUP_TOKENS):
                if take(level, run):
                    return True
                run = []
            run.append((bucket, token, mods))
        return bool(run) and take(level, run)

    def take(level: Facet, run: list[tuple[Any, str, int]]) -> bool:
        nonlocal seen
        tokens = _any_of(token for _, token, _ in run)
        part = f"({expression}) AND {tokens}"
        start, want = max(0, offset - seen), limit - len(ids)
        if len(run) == 1 and level.exact(run[0][0]):
            # one value: id order is its order, so read no further than the page
            margin = len(left_out)
            rows = db.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH ? "
                f"ORDER BY rowid {direction} LIMIT ?",
                [part, start + want + margin],
            ).fetchall()
            kept = [row[0] for row in rows if row[0] not in left_out]
            ids.extend(kept[start : start + want])
            if len(kept) >= start + want:
                return True
            if len(rows) < start + want + margin:  # the bucket ran out: all of it seen
                seen += len(kept)
            else:
                seen += _count(db, table, part) - minus_count(tokens)
            return done()
        if seen >= offset and sum(m for _, _, m in run) * count / universe * 4 < _FETCH_BUDGET:
            # on the page already, and few matches expected: read them without counting
            matched = sorted_matches(part, 0, None)
            if len(matched) <= _FETCH_BUDGET:
                ids.extend(matched[:want])
                seen += len(matched)
                return done()
        found = _count(db, table, part) - minus_count(tokens)
        if found == 0 or seen + found <= offset:
            seen += found
            return done()
        # walk the sort index through the run, checking each mod, if that reads less than
        # fetching and sorting its matches; over a run that a finer level could narrow,
        # no further than a few times the mods expected (its matches may lie in one part)
        ranges = [level.value_range(bucket) for bucket, _, _ in run]
        check, cost = (
            (search.covered, _COVERED_COST)
            if sort == "NAME" and search.covered is not None
            else (search.rows, _CHECK_COST)
        )
        mods = sum(m for _, _, m in run)
        expected = (start + want) * mods / found
        if check is not None and None not in ranges and expected * cost < found * _FETCH_COST:
            lows, highs = zip(*ranges, strict=True)
            narrow = level.level > 0 or len(run) > 1
            budget = int(_WALK_SLACK * expected) + 64 if narrow else -1
            values = (min(lows), max(highs))
            rows = _walk(db, check, sort, direction, values, budget, start, want)
            if budget >= 0 and want > len(rows) >= want / 2:
                # half the page found within the budget: the rest lies close by, where a
                # finer level would walk the same rows again first
                budget = -1
                rows = _walk(db, check, sort, direction, values, budget, start, want)
            if len(rows) == want or budget < 0:
                ids.extend(rows)
                seen += found
                return done()
        if found > _FETCH_BUDGET:
            if len(run) > 1:  # too many to read at once: bucket by bucket
                return any(take(level, [item]) for item in run)
            if level.level > 0:
                return visit(level.finer(), level.children(run[0][0]))
        elif len(run) == 1 and level.level > 0 and found > _SPARE * (start + want) + 64:
            # far more than the page needs in one coarse bucket: its finer ones say which
            return visit(level.finer(), level.children(run[0][0]))
        matched = sorted_matches(part, 0, None)
        ids.extend(matched[start : start + want])
        seen += len(matched)
        return done()

    visit(SORT_FACETS[sort].levels()[0])
    if len(ids) < min(limit, count - offset):
        return [i for i in _unbucketed(db, table, expression, order, 0, None) if i not in left_out][
            offset : offset + limit
        ]
    return ids


def _walk(
    db: Database,
    rows: _Where,
    sort: str,
    direction: str,
    values: tuple[Any, Any],
    budget: int,
    offset: int,
    limit: int,
) -> list[int]:
    """Matches ``offset, limit`` of ``rows`` among the listed mods whose sort key lies in
    ``values``, walking its sort index, over at most ``budget`` mods (-1: all)."""
    column, suffix = MOD_SORT_INDEXES[sort]
    order = f"m.{column} {direction}, m.id {direction}"
    found = db.execute(
        f"SELECT id FROM (SELECT m.id AS id, ({rows.sql()}) AS ok "
        f"FROM mods m INDEXED BY mods_listed_by_{suffix} "
        f"WHERE m.state < 2 AND m.{column} >= ? AND m.{column} < ? ORDER BY {order} LIMIT ?) "
        "WHERE ok LIMIT ? OFFSET ?",
        [*rows.params, *values, budget, limit, offset],
    ).fetchall()
    return [row[0] for row in found]


def _unbucketed(
    db: Database, table: str, expression: str, order: str, offset: int, limit: int | None
) -> list[int]:
    """The page read without buckets, if ``facet_buckets`` missed some (never, while the
    triggers keep it in step)."""
    return _sorted_matches(db, table, expression, order, offset, limit)


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


def game_page(db: Database, query: GameCriteria) -> tuple[int, list[int]]:
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
