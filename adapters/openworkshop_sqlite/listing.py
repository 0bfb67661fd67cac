"""SQL for the catalog listings: which strategy answers a query, and how.

``/list/mods/`` is the hot query. Every filter and sort has an index behind it, and the plan
is chosen here rather than left to SQLite's planner, which knows neither how many mods a game
has nor how many names contain a word. ``mod_page`` asks ``_choose`` for a strategy and
takes its ``count()`` and ``page()``:

- ``_Buckets``: ``q`` or ``name`` with only games, sources and ``dependencies`` besides;
  counted by the full-text index, paged through the facet buckets of the sort key
  (``_BucketPage``).
- ``_Walk``: the covering sort index walked in order (per game when every match is in one
  game), each entry checked, until the page is full.
- ``_Sorted``: every match read and sorted (RELEVANCE, ``allowed_ids``, or when walking
  would read more).
- ``_Nothing``: nothing can match.

``_Walk`` and ``_Sorted`` share the filters resolved into one kind of ``_Matches`` (by the
rows, by the rarest tag's links, held from a full-text match, checked for a full-text
match), which counts them; between the two, the cost rule is ``_cheaper_to_walk``.

**Tags** inside one game are a bit mask on the mod row (``tag_mask``, one bit per tag for a
game's first 63 tags), carried in the per-game sort indexes: "has all these tags" is a scan
of one game's slice of an index, never a join. Other tags (a game's 64th and later, tags of
several games) fall back to ``mod_tags``, driven by the rarest tag. **User text** is never
FTS syntax: every token is quoted.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import Any, Final, Protocol

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


def _scalar(db: Database, sql: str, params: Iterable[Any] = ()) -> int:
    """The one integer a statement selects (a count)."""
    return int(db.execute(sql, list(params)).fetchone()[0])


def _count(db: Database, table: str, expression: str) -> int:
    """How many listed mods match ``expression`` in the full-text index ``table``."""
    return _scalar(db, f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", [expression])


def _any_of(tokens: Iterable[str]) -> str:
    """An FTS5 expression for facet tokens: any of them."""
    return "(" + " OR ".join(map(fts_phrase, tokens)) + ")"


def _listed_count(db: Database, where: _Where) -> int:
    if not where.terms:  # every listed mod is in one bucket of a level: the fewest rows
        where = _Where(["facet = ?"], [SORT_FACETS["DOWNLOADS"].levels()[0].key])
        table = "facet_buckets"
    else:
        table = "mod_counts"
    return _scalar(db, f"SELECT coalesce(sum(mods), 0) FROM {table} WHERE {where.sql()}",
                   where.params)  # fmt: skip


def _game_filter(game: int | None) -> _Where:
    where = _Where()
    if game is not None:
        where.add("game_id = ?", game)
    return where


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


# --- the selector -----------------------------------------------------------------------------


class _Strategy(Protocol):
    """One way to answer a listing: how many listed mods match, and a page of them."""

    def count(self) -> int: ...

    def page(self, offset: int, limit: int) -> list[int]: ...


def mod_page(db: Database, query: ModCriteria) -> tuple[int, list[int]]:
    """The total of listed mods matching ``query`` and the stored ids of its page, in order.

    ``db`` must have had ``prepare_reader`` (the storage does it once per reader).
    """
    strategy = _choose(db, query)
    total = strategy.count()
    offset = query.page.offset
    if total <= offset:
        return total, []
    return total, strategy.page(offset, query.page.page_size)


def _choose(db: Database, query: ModCriteria) -> _Strategy:
    """The strategy that answers ``query`` reading the fewest rows.

    - ``q`` or ``name`` with nothing but games, sources and ``dependencies``: the facet
      buckets (``_Buckets``).
    - RELEVANCE (any other ``q``, or none) and ``allowed_ids``: every match, sorted
      (``_Sorted``).
    - Anything else sorted by a key: the sort index walked until the page is full
      (``_Walk``), or every match read and sorted (``_Sorted``), by the cost rule
      ``_cheaper_to_walk`` on the matches counted first.
    """
    search = _Buckets.of(db, query)
    if search is not None:
        return search
    matches = _matches(db, query)
    if matches is None:
        return _Nothing()
    if query.sort is ModSort.RELEVANCE or query.allowed_ids:
        return _Sorted(db, matches, *matches.listing(), _relevance_order(query, matches.in_name))
    walk = _Walk(db, matches, query.sort.value, query.descending)
    fetch = matches.fetched(query.sort.value)
    if fetch is None:
        return walk
    total = matches.count()
    if total <= query.page.offset:
        return walk  # (no page to read: nothing to weigh)
    universe = _listed_count(db, _game_filter(matches.game))
    walked = min(universe, (query.page.offset + query.page.page_size) * universe / max(total, 1))
    per_entry, per_match = matches.walk_costs()
    if _cheaper_to_walk(walked, per_entry, total, per_match, matches.fetch_cost()):
        return walk
    return _Sorted(db, matches, *fetch, _sort_order(query.sort.value, query.descending))


def _cheaper_to_walk(
    walked: float, per_entry: float, matches: float, per_match: float, fetch_cost: float
) -> bool:
    """The cost rule: walking ``walked`` entries of a sort index, checking each
    (``per_entry``) and looking each match up (``per_match``), reads less than fetching
    every one of ``matches`` by id and sorting them (``fetch_cost`` each)."""
    return walked * per_entry + matches * per_match < matches * fetch_cost


def _sort_order(sort: str, descending: bool) -> tuple[str, list[Any]]:
    direction = "DESC" if descending else "ASC"
    expression, _ = MOD_SORT_INDEXES[sort]
    return f"m.{expression} {direction}, m.id {direction}", []


def _relevance_order(query: ModCriteria, in_name: str | None) -> tuple[str, list[Any]]:
    """ORDER BY of a listing read whole: RELEVANCE (the mods with every ``q`` word in the
    name first, then the others; the most downloaded first in each; without words, by
    id), or the sort key of a handful of ``allowed_ids``."""
    if query.sort is not ModSort.RELEVANCE:
        return _sort_order(query.sort.value, query.descending)
    if in_name is None:
        return f"m.id {'DESC' if query.descending else 'ASC'}", []
    first = "ASC" if query.descending else "DESC"
    return (
        f"(m.id IN (SELECT rowid FROM {_TITLES} WHERE {_TITLES} MATCH ?)) {first}, "
        f"m.downloads {first}, m.id {first}",
        [in_name],
    )


# --- the strategies ---------------------------------------------------------------------------


class _Nothing:
    """No mod can match (a tag that does not exist, a ``q`` without words, ...)."""

    def count(self) -> int:
        return 0

    def page(self, offset: int, limit: int) -> list[int]:
        return []


class _Walk:
    """Walk a covering sort index (per game when every match is in one game) in order,
    checking each entry against the filters, until the page is full."""

    def __init__(self, db: Database, matches: _Matches, sort: str, descending: bool) -> None:
        self.db, self.matches = db, matches
        suffix = MOD_SORT_INDEXES[sort][1]
        self.index = (
            f"mods_game_by_{suffix}" if matches.game is not None else f"mods_listed_by_{suffix}"
        )
        self.order = _sort_order(sort, descending)[0]

    def count(self) -> int:
        return self.matches.count()

    def page(self, offset: int, limit: int) -> list[int]:
        terms = self.matches.walked()
        rows = self.db.execute(
            f"SELECT m.id FROM mods m INDEXED BY {self.index} WHERE {terms.sql()} "
            f"ORDER BY {self.order} LIMIT ? OFFSET ?",
            [*terms.params, limit, offset],
        ).fetchall()
        return [row[0] for row in rows]


class _Sorted:
    """Read every match (``source``: FROM ... WHERE ...) and sort them."""

    def __init__(
        self,
        db: Database,
        matches: _Matches,
        source: str,
        params: list[Any],
        order: tuple[str, list[Any]],
    ) -> None:
        self.db, self.matches = db, matches
        self.source, self.params, self.order = source, params, order

    def count(self) -> int:
        return self.matches.count()

    def page(self, offset: int, limit: int) -> list[int]:
        order, order_params = self.order
        rows = self.db.execute(
            f"SELECT m.id {self.source} ORDER BY {order} LIMIT ? OFFSET ?",
            [*self.params, *order_params, limit, offset],
        ).fetchall()
        return [row[0] for row in rows]


# --- the matches of the walk and sort strategies -----------------------------------------------


@attrs.define
class _Filters:
    """A listing's filters, resolved: on a mod row ``m``, on the counters, by tags, by the
    full-text match that finds the candidates."""

    rows: _Where
    """Every filter but the tags and ``text``, on a mod row ``m``."""
    full: _Where
    """Every filter, on a mod row ``m`` (``text`` as its row check, if it has one)."""
    counters: _Where | None
    """The same filters on ``mod_counts``, if they can be counted there."""
    games: list[int]
    game: int | None
    """The one game every match belongs to, if known."""
    tags: _Tags | None
    text: _Match | None
    """The full-text match that finds the candidates (any other is a row filter)."""
    in_name: str | None
    """``q``'s words, all in the name (on the title index): the first tier of RELEVANCE."""
    scan: str
    """``INDEXED BY`` the NAME index when every name is read (a ``name`` too short for
    the trigrams), else empty."""

    @property
    def alone(self) -> bool:
        """Nothing but the full-text match filters."""
        return len(self.rows.terms) == 1 and self.tags is None


class _Matches:
    """The mods matching a listing's filters: how they are counted, read and checked.

    One subclass per way of finding them: by the rows' filters alone, by the rarest tag's
    links, by a full-text match held in a temporary table, by a full-text match a row
    check stands for.
    """

    def __init__(self, db: Database, filters: _Filters) -> None:
        self.db, self.filters = db, filters
        self.total: int | None = None

    @property
    def game(self) -> int | None:
        return self.filters.game

    @property
    def in_name(self) -> str | None:
        return self.filters.in_name

    def count(self) -> int:
        if self.total is None:
            self.total = self._count()
        return self.total

    def _count(self) -> int:
        raise NotImplementedError

    def listing(self) -> tuple[str, list[Any]]:
        """FROM ... WHERE ... over every match, on a mod row ``m`` (RELEVANCE, allowed ids)."""
        return f"FROM mods m WHERE {self.filters.full.sql()}", self.filters.full.params

    def fetched(self, sort: str) -> tuple[str, list[Any]] | None:
        """FROM ... WHERE ... over every match, to read and sort; None: walk always."""
        return None

    def walked(self) -> _Where:
        """The filters on each entry of a walked sort index."""
        return self.filters.full

    def walk_costs(self) -> tuple[float, float]:
        """The cost of checking one walked entry, and of looking one match up."""
        probes = self.filters.tags.probes if self.filters.tags else 0
        return _WALK_COST + _PROBE_COST * probes, 0.0

    def fetch_cost(self) -> float:
        """The cost of fetching one match and sorting it."""
        return _FETCH_COST


class _Rows(_Matches):
    """Filters on the rows alone (games, sources, dependencies, short names, ids): counted
    by ``mod_counts`` when they can be, walked on the sort index."""

    def fetch_cost(self) -> float:
        # over several games: the entries of each game's range of the per-game index, as
        # walking the index of every listed mod reads its entries
        return _WALK_COST

    def _count(self) -> int:
        f = self.filters
        if f.counters is not None:
            return _listed_count(self.db, f.counters)
        return _scalar(self.db, f"SELECT count(*) FROM mods m {f.scan} WHERE {f.full.sql()}",
                       f.full.params)  # fmt: skip

    def fetched(self, sort: str) -> tuple[str, list[Any]] | None:
        if self.filters.game is not None or not self.filters.games:
            return None
        # several games: one range of the per-game index per game, then a sort
        index = f"mods_game_by_{MOD_SORT_INDEXES[sort][1]}"
        return f"FROM mods m INDEXED BY {index} WHERE {self.filters.full.sql()}", (
            self.filters.full.params
        )

    def walk_costs(self) -> tuple[float, float]:
        return _WALK_COST, 0.0


class _TagLinks(_Matches):
    """Tags (and row filters): counted and fetched from the rarest tag's links, each
    checked against the mask of the others; index-only when the mask implies the rest."""

    def _count(self) -> int:
        f = self.filters
        assert f.tags is not None
        implied = f.tags.game is not None and len(f.rows.terms) == 1 + bool(f.games)
        source, params = f.tags.links(None if implied else f.rows)
        return _scalar(self.db, f"SELECT count(*) {source}", params)

    def fetched(self, sort: str) -> tuple[str, list[Any]] | None:
        assert self.filters.tags is not None
        return self.filters.tags.links(self.filters.rows)


class _HeldMatches(_Matches):
    """A full-text match without a row check (``q``, a ``name`` with a space): its matches
    found once into ``temp.ow_hits``, then counted, and walked or sorted."""

    def _count(self) -> int:
        f = self.filters
        assert f.text is not None
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS ow_hits (id INTEGER PRIMARY KEY)")
        self.db.execute("DELETE FROM temp.ow_hits")  # (a read's rollback drops it anyway)
        self.db.execute(
            f"INSERT INTO temp.ow_hits SELECT rowid FROM {f.text.table} "
            f"WHERE {f.text.table} MATCH ?",
            [f.text.expression],
        )
        if f.alone:
            return _scalar(self.db, "SELECT count(*) FROM temp.ow_hits")
        return _scalar(self.db, f"SELECT count(*) {self.listing()[0]}", self.listing()[1])

    def listing(self) -> tuple[str, list[Any]]:
        full = self.filters.full
        return (
            f"FROM temp.ow_hits h CROSS JOIN mods m ON m.id = h.id WHERE {full.sql()}",
            full.params,
        )

    def fetched(self, sort: str) -> tuple[str, list[Any]] | None:
        return self.listing()

    def walked(self) -> _Where:
        full = self.filters.full
        return _Where([*full.terms, "m.id IN temp.ow_hits"], full.params)

    def walk_costs(self) -> tuple[float, float]:
        return super().walk_costs()[0], _SET_COST


class _CheckedMatches(_Matches):
    """A full-text match a row check stands for (``name`` by its words): counted by the
    index, and the check applied to each walked entry."""

    def _count(self) -> int:
        f = self.filters
        assert f.text is not None
        if f.alone:
            return _count(self.db, f.text.table, f.text.expression)
        return _scalar(self.db, f"SELECT count(*) {self.listing()[0]}", self.listing()[1])

    def listing(self) -> tuple[str, list[Any]]:
        f = self.filters
        assert f.text is not None
        return (
            f"FROM {f.text.table} CROSS JOIN mods m ON m.id = {f.text.table}.rowid "
            f"WHERE {f.text.table} MATCH ? AND {f.full.sql()}",
            [f.text.expression, *f.full.params],
        )

    def fetched(self, sort: str) -> tuple[str, list[Any]] | None:
        return self.listing()

    def walk_costs(self) -> tuple[float, float]:
        return super().walk_costs()[0] + _CHECK_COST, 0.0


def _matches(db: Database, query: ModCriteria) -> _Matches | None:
    """The query's filters resolved, as the matches of the walk and sort strategies; None
    if nothing can match."""
    where = _Where()  # every filter but the tags, on a mod row ``m``
    where.add("m.state < 2")
    counters: _Where | None = _Where()  # the same filter on mod_counts, while one exists
    game: int | None = None

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

    scan = ""
    tags: _Tags | None = None
    if query.tags:
        counters = None
        tags = _resolve_tags(db, query, games)
        if tags is None:
            return None
        if tags.game is not None:
            game = tags.game

    found: list[_Match] = []
    in_name: str | None = None
    if query.q:
        q_words = fts_words(db, query.q)
        if q_words is None:
            return None  # nothing to look for: nothing matches
        found.append(_Match(_TEXT, q_words.text))
        in_name = q_words.title
    if query.name:
        needle = word_needle(query.name)
        terms = _name_terms(db, needle) if needle is not None else None
        if terms is not None and needle is not None:
            if not terms:
                return None  # no name has a word containing it
            expression = " OR ".join(fts_phrase(word) for word in terms)
            found.append(_Match(_WORDS, expression, ("instr(m.name_words, ?) > 0", needle)))
        elif len(query.name) >= _TRIGRAM:
            found.append(_Match("mods_name_index", fts_phrase(query.name)))
        else:  # too short for trigrams: read the names (from the name index, the narrowest)
            where.add(*_short_name(query.name))
            counters = None
            if not query.allowed_ids:
                scan = "INDEXED BY " + (
                    "mods_game_by_name" if game is not None else "mods_listed_by_name"
                )
    # one full-text match finds the candidates, any other checks them; at most 50 allowed
    # ids are candidates enough
    text: _Match | None = None
    if found and not query.allowed_ids:
        text, *found = found
    for match in found:
        if match.check is not None:
            where.add(*match.check)
        else:
            where.add(
                f"m.id IN (SELECT rowid FROM {match.table} WHERE {match.table} MATCH ?)",
                match.expression,
            )
        counters = None
    full = _Where([*where.terms, *(tags.terms.terms if tags else [])],
                  [*where.params, *(tags.terms.params if tags else [])])  # fmt: skip
    if text is not None and text.check is not None:
        full = _Where([*full.terms, text.check[0]], [*full.params, *text.check[1:]])
    filters = _Filters(
        rows=where, full=full, counters=counters, games=games, game=game, tags=tags,
        text=text, in_name=in_name, scan=scan,
    )  # fmt: skip
    if text is not None:
        return (_HeldMatches if text.check is None else _CheckedMatches)(db, filters)
    return (_Rows if tags is None else _TagLinks)(db, filters)


# --- the facet buckets: q or name with nothing but facet filters -------------------------------


class _Buckets:
    """``q`` (on the ``q`` index) or ``name`` (on the word index, with ``check``, the same
    filter on a mod row) with games, sources and dependencies as the only other filters:
    counted by the index (a one-word ``q`` by ``term_counts``), paged through the facet
    buckets of the sort key; RELEVANCE in two tiers (every word in the name, then the
    others)."""

    def __init__(
        self,
        db: Database,
        query: ModCriteria,
        table: str,
        words: str,
        check: tuple[Any, ...] | None = None,
        *,
        titles: str | None = None,
        terms: frozenset[str] = frozenset(),
    ) -> None:
        self.db, self.query, self.table, self.titles, self.terms = db, query, table, titles, terms
        self.check = check
        self.rows = _Where()  # the filters on a mod row ``m``, for walking a sort index
        self.rows.add("m.state < 2")
        if check is not None:
            self.rows.add(*check)
        games = unique(id_in(g) for g in query.games)
        sources = unique(query.primary_sources)
        if games:
            self.rows.add(f"m.game_id IN ({marks(len(games))})", *games)
        if sources:
            self.rows.add(f"m.source IN ({marks(len(sources))})", *sources)
        if query.exclude_dependent:
            self.rows.add("m.has_deps = 0")
        self.filters = ""
        for facet, values in (
            (FILTER_FACETS["game"], games),
            (FILTER_FACETS["source"], sources),
            (FILTER_FACETS["has_deps"], [0] if query.exclude_dependent else []),
        ):
            if values:
                self.filters += " AND " + _any_of(facet.token(v) for v in values)
        self.everything = f"({words}){self.filters}"
        self.known: tuple[int, int] | None = None
        """The totals from ``term_counts`` (anywhere, in the name), if they answer."""
        self.total: int | None = None

    @classmethod
    def of(cls, db: Database, query: ModCriteria) -> _Strategy | None:
        """The strategy for ``query`` if it is a search the buckets answer, else None."""
        if query.allowed_ids or query.tags or bool(query.q) == bool(query.name):
            return None
        if query.q:
            words = fts_words(db, query.q)
            if words is None:
                return _Nothing()
            return cls(db, query, _TEXT, words.text, titles=words.title, terms=words.terms)
        needle = word_needle(query.name)
        found = _name_terms(db, needle) if needle is not None else None
        if found is None or needle is None:
            return None  # (the trigram index, or the names read)
        if not found:
            return _Nothing()
        words = " OR ".join(map(fts_phrase, found))
        return cls(db, query, _WORDS, words, ("instr(m.name_words, ?) > 0", needle))

    def count(self) -> int:
        if self.total is None:
            self.known = _term_counts(self.db, self.terms) if not self.filters else None
            self.total = (
                self.known[0] if self.known else _count(self.db, self.table, self.everything)
            )
        return self.total

    def page(self, offset: int, limit: int) -> list[int]:
        db, query, total = self.db, self.query, self.count()
        tiers: list[tuple[str, str, int, tuple[str, str] | None]]
        left_out: frozenset[int] | None = None
        if query.sort is ModSort.RELEVANCE and self.titles is not None:
            # the mods with every word in the name first (the title index holds the names
            # alone: smaller doclists to intersect with the buckets), then the others; the
            # most downloaded first in each (descending=True reverses it all)
            in_names = f"({self.titles}){self.filters}"
            first = -1
            if self.known:
                first = self.known[1]
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
                # the matches but the first tier's, whose ids are left out as they come (the
                # q index holds no columns to tell name matches from others)
                (self.table, self.everything, total - first, (_TITLES, in_names)),
            ]
            sort, descending = "DOWNLOADS", not query.descending
            if query.descending:
                tiers.reverse()
        else:
            tiers = [(self.table, self.everything, total, None)]
            sort, descending = query.sort.value, query.descending
        # on the name's own index, the name itself can be checked: no row to read
        covered = (
            _Where(["m.state < 2", "ow_contains(m.name, ?)"], [self.check[1]])
            if self.check is not None and len(self.rows.terms) == 2
            else None
        )
        ids: list[int] = []
        for index, expression, count, minus in tiers:
            if offset >= count:
                offset -= count
                continue
            search = _Search(
                index,
                expression,
                count,
                self.rows if self.check is not None else None,
                covered,
                minus,
                left_out if minus is not None else None,
            )
            ids += _BucketPage(db, search, sort, descending, offset, limit - len(ids)).read()
            offset = 0
            if len(ids) >= limit:
                break
        return ids


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


_Run = list[tuple[Any, str, int]]
"""Neighbouring buckets of one level, in sort order: (bucket, token, listed mods)."""


class _BucketPage:
    """Page ``offset, limit`` of the matches of ``search``, in the order of ``sort``.

    The buckets of the sort key are taken in order, coarsest level first, in runs of
    neighbours holding about twice the page's share of the catalog (``_visit``). A run's
    matches are counted (``_take``): skipped while the page lies further on; read and sorted
    if they are few; walked on the sort index if that reads less (``_walk_run``, when a row
    check exists); else taken bucket by bucket, where a bucket of one value is read in id
    order (its sort order) up to the page (``_one_value``) and a bucket of several is split
    into the buckets of the level below.
    """

    def __init__(
        self, db: Database, search: _Search, sort: str, descending: bool, offset: int, limit: int
    ) -> None:
        self.db, self.search, self.sort = db, search, sort
        self.offset, self.limit = offset, limit
        self.direction = "DESC" if descending else "ASC"
        self.order = f"m.{MOD_SORT_INDEXES[sort][0]} {self.direction}, m.id {self.direction}"
        self.left_out: frozenset[int] = search.left_out or frozenset()
        if search.minus is not None and search.left_out is None:
            index, minus = search.minus
            rows = db.execute(f"SELECT rowid FROM {index} WHERE {index} MATCH ?", [minus])
            self.left_out = frozenset(row[0] for row in rows)
        self.ids: list[int] = []
        self.seen = 0
        """Matches in the buckets taken so far."""
        self.universe = 0
        self.target = 0.0

    def read(self) -> list[int]:
        search, offset, limit = self.search, self.offset, self.limit
        if search.count <= (_FETCH_TITLES if search.table == _TITLES else _FETCH_ALL):
            return self._sorted(search.expression, offset, limit)
        self.universe = _listed_count(self.db, _Where())
        self.target = max(
            _MIN_GROUP, _GROUP_SHARE * (offset + limit) * self.universe / search.count
        )
        self._visit(SORT_FACETS[self.sort].levels()[0])
        if len(self.ids) < min(limit, search.count - offset):
            everything = _unbucketed(self.db, search.table, search.expression, self.order, 0, None)
            return [i for i in everything if i not in self.left_out][offset : offset + limit]
        return self.ids

    def _done(self) -> bool:
        return len(self.ids) >= self.limit or self.seen >= self.search.count

    def _sorted(self, part: str, start: int, want: int | None) -> list[int]:
        """The matches of ``part`` but the left-out ones, sorted, from ``start``."""
        table = self.search.table
        if not self.left_out:
            return _sorted_matches(self.db, table, part, self.order, start, want)
        matches = _sorted_matches(self.db, table, part, self.order, 0, None)
        kept = [i for i in matches if i not in self.left_out]
        return kept[start:] if want is None else kept[start : start + want]

    def _found(self, part: str, tokens: str) -> int:
        """The matches of ``part`` (the words in the buckets of ``tokens``), counted."""
        found = _count(self.db, self.search.table, part)
        if self.search.minus is not None:
            index, minus = self.search.minus
            found -= _count(self.db, index, f"({minus}) AND {tokens}")
        return found

    def _visit(self, level: Facet, within: tuple[Any, Any] | None = None) -> bool:
        """Take the buckets of ``level`` (inside ``within``) in runs; True once done."""
        sql = "SELECT bucket, token, mods FROM facet_buckets WHERE facet = ? AND mods > 0"
        params: list[Any] = [level.key]
        if within is not None:
            sql += " AND bucket >= ? AND bucket < ?"
            params += within
        rows = self.db.execute(f"{sql} ORDER BY bucket {self.direction}", params).fetchall()
        run: _Run = []
        for bucket, token, mods in rows:
            if run and (sum(r[2] for r in run) + mods > self.target or len(run) >= _GROUP_TOKENS):
                if self._take(level, run):
                    return True
                run = []
            run.append((bucket, token, mods))
        return bool(run) and self._take(level, run)

    def _take(self, level: Facet, run: _Run) -> bool:
        """Take the matches of a run of buckets onto the page; True once done."""
        tokens = _any_of(token for _, token, _ in run)
        part = f"({self.search.expression}) AND {tokens}"
        start, want = max(0, self.offset - self.seen), self.limit - len(self.ids)
        if len(run) == 1 and level.exact(run[0][0]):
            return self._one_value(part, tokens, start, want)
        mods = sum(m for _, _, m in run)
        if (
            self.seen >= self.offset
            and mods * self.search.count / self.universe * 4 < _FETCH_BUDGET
        ):
            # on the page already, and few matches expected: read them without counting
            matched = self._sorted(part, 0, None)
            if len(matched) <= _FETCH_BUDGET:
                self.ids.extend(matched[:want])
                self.seen += len(matched)
                return self._done()
        found = self._found(part, tokens)
        if found == 0 or self.seen + found <= self.offset:
            self.seen += found
            return self._done()
        walked = self._walk_run(level, run, found, start, want)
        if walked is not None:
            self.ids.extend(walked)
            self.seen += found
            return self._done()
        if found > _FETCH_BUDGET:
            if len(run) > 1:  # too many to read at once: bucket by bucket
                return any(self._take(level, [item]) for item in run)
            if level.level > 0:
                return self._visit(level.finer(), level.children(run[0][0]))
        elif len(run) == 1 and level.level > 0 and found > _SPARE * (start + want) + 64:
            # far more than the page needs in one coarse bucket: its finer ones say which
            return self._visit(level.finer(), level.children(run[0][0]))
        matched = self._sorted(part, 0, None)
        self.ids.extend(matched[start : start + want])
        self.seen += len(matched)
        return self._done()

    def _one_value(self, part: str, tokens: str, start: int, want: int) -> bool:
        """A bucket of one value: id order is its order, so read no further than the page."""
        table = self.search.table
        margin = len(self.left_out)
        rows = self.db.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH ? "
            f"ORDER BY rowid {self.direction} LIMIT ?",
            [part, start + want + margin],
        ).fetchall()
        kept = [row[0] for row in rows if row[0] not in self.left_out]
        self.ids.extend(kept[start : start + want])
        if len(kept) >= start + want:
            return True
        if len(rows) < start + want + margin:  # the bucket ran out: all of it seen
            self.seen += len(kept)
        else:
            self.seen += self._found(part, tokens)
        return self._done()

    def _walk_run(
        self, level: Facet, run: _Run, found: int, start: int, want: int
    ) -> list[int] | None:
        """The run's part of the page from walking the sort index through it, checking each
        mod, if that reads less than fetching and sorting its ``found`` matches; over a run
        that a finer level could narrow, no further than a few times the mods expected (its
        matches may lie in one part). None if it is not walked, or did not fill the page."""
        ranges = [level.value_range(bucket) for bucket, _, _ in run]
        check, cost = (
            (self.search.covered, _COVERED_COST)
            if self.sort == "NAME" and self.search.covered is not None
            else (self.search.rows, _CHECK_COST)
        )
        expected = (start + want) * sum(m for _, _, m in run) / found
        if (
            check is None
            or None in ranges
            or not _cheaper_to_walk(expected, cost, found, 0.0, _FETCH_COST)
        ):
            return None
        lows, highs = zip(*ranges, strict=True)
        narrow = level.level > 0 or len(run) > 1
        budget = int(_WALK_SLACK * expected) + 64 if narrow else -1
        values = (min(lows), max(highs))
        rows = _walk(self.db, check, self.sort, self.direction, values, budget, start, want)
        if budget >= 0 and want > len(rows) >= want / 2:
            # half the page found within the budget: the rest lies close by, where a finer
            # level would walk the same rows again first
            budget = -1
            rows = _walk(self.db, check, self.sort, self.direction, values, budget, start, want)
        return rows if len(rows) == want or budget < 0 else None


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
    total = _scalar(db, f"SELECT count(*) FROM games g WHERE {where.sql()}", where.params)
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
