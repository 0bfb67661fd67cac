"""SQL for the catalog listings, the in-memory store's answers (its order, its totals).

Every filter is one term on the mod row, each with an index behind it: ``game_id``,
``tag_ids @> …`` (GIN), ``words @@ …`` (a ``tsvector``, GIN: every word of ``q``),
``name_folded LIKE …`` (``pg_trgm``), ``source``, ``has_deps``. The sort keys have partial
indexes over the listed mods (``schema.py``); PostgreSQL's planner picks between walking one
in order and sorting the matches, from its statistics. The total is always exact.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from openworkshop.criteria import GameCriteria, GameSort, ModCriteria, ModSort
from openworkshop_postgres.records import id_in, search_words, text_in, unique

__all__ = ["GameListing", "ModListing", "game_listing", "like_pattern", "mod_listing"]

_MOD_SORTS: Final = {
    ModSort.NAME: "m.name_sort",
    ModSort.SIZE: "m.size",
    ModSort.DATE_CREATION: "m.date_creation",
    ModSort.DATE_UPDATE: "m.date_update",
    ModSort.DATE_REQUEST: "m.date_request",
    ModSort.SOURCE: "m.source",
    ModSort.DOWNLOADS: "m.downloads",
}
_GAME_SORTS: Final = {
    GameSort.NAME: "g.name_sort",
    GameSort.TYPE: "g.type",
    GameSort.CREATION_DATE: "g.creation_date",
    GameSort.MODS_DOWNLOADS: "s.mods_downloads",
    GameSort.MODS_COUNT: "s.mods_count",
    GameSort.SOURCE: "g.source",
}


def like_pattern(needle: str) -> str:
    """``%needle%`` for LIKE (backslash, its default escape, before ``\\``, ``%``, ``_``)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _tsquery(words: list[str]) -> str:
    """Every word required; words (``\\w+``, digests) hold no quote nor backslash."""
    return " & ".join(f"'{w}'" for w in words)


def _order(column: str, descending: bool, ident: str) -> str:
    """The memory store's order: None before any value, ties by id, all reversed when
    descending."""
    if descending:
        return f"{column} DESC NULLS LAST, {ident} DESC"
    return f"{column} ASC NULLS FIRST, {ident} ASC"


@attrs.frozen
class ModListing:
    where: str
    params: list[Any]
    order: str
    order_params: list[Any]
    counted: tuple[str, list[Any]] | None
    """A query of the counters giving the same total (instead of a count of rows), when only
    games, sources and ``dependencies`` filter (``mod_counts``) or one tag alone
    (``tag_counts``)."""
    tiers: tuple[tuple[str, list[Any]], tuple[str, list[Any]]] | None = None
    """RELEVANCE with words: the terms of its first and its second tier, in page order
    (``order`` then sorts within a tier)."""


def mod_listing(query: ModCriteria) -> ModListing | None:
    """The WHERE and ORDER BY of ``query`` over ``mods m``; None when nothing can match."""
    terms = ["m.state < 2"]
    params: list[Any] = []
    counters: list[str] = ["true"]
    counter_params: list[Any] = []
    if query.games:
        counters.append("game_id = ANY(%s)")
        counter_params.append(unique(id_in(g) for g in query.games))
        terms.append("m.game_id = ANY(%s)")
        params.append(unique(id_in(g) for g in query.games))
    if query.allowed_ids:
        terms.append("m.id = ANY(%s)")
        params.append(unique(id_in(i) for i in query.allowed_ids))
    if query.tags:
        terms.append("m.tag_ids @> %s::bigint[]")
        params.append(unique(id_in(t) for t in query.tags))
    if query.exclude_dependent:
        terms.append("NOT m.has_deps")
        counters.append("NOT has_deps")
    if query.primary_sources:
        counters.append("source = ANY(%s)")
        counter_params.append(unique(query.primary_sources))
        terms.append("m.source = ANY(%s)")
        params.append(unique(query.primary_sources))
    if query.name:
        terms.append("m.name_folded LIKE %s")
        params.append(like_pattern(text_in(query.name.casefold())))
    words: list[str] = []
    if query.q:
        words = search_words(query.q)
        if not words:
            return None
        terms.append("m.words @@ %s::tsquery")
        params.append(_tsquery(words))
    order_params: list[Any] = []
    tiers = None
    if query.sort is ModSort.RELEVANCE:
        if words:
            # the mods with every word in the name first, the most downloaded first in each
            in_name = ("m.name_words @@ %s::tsquery", [_tsquery(words)])
            others = ("NOT (m.name_words @@ %s::tsquery)", [_tsquery(words)])
            if query.descending:
                order = "m.downloads ASC, m.id ASC"
                tiers = (others, in_name)
            else:
                order = "m.downloads DESC, m.id DESC"
                tiers = (in_name, others)
        else:
            order = "m.id DESC" if query.descending else "m.id ASC"
    else:
        order = _order(_MOD_SORTS[query.sort], query.descending, "m.id")
    by_counters = not (query.allowed_ids or query.tags or query.name or query.q)
    counted = None
    if by_counters:
        where = " AND ".join(counters)
        counted = (f"SELECT coalesce(sum(mods), 0) FROM mod_counts WHERE {where}", counter_params)
    tags = unique(query.tags)
    if len(tags) == 1 and counters == ["true"] and not (query.allowed_ids or query.name or query.q):
        count_of_tag = "SELECT coalesce((SELECT mods FROM tag_counts WHERE tag_id = %s), 0)"
        counted = (count_of_tag, [id_in(tags[0])])
    return ModListing(" AND ".join(terms), params, order, order_params, counted, tiers)


@attrs.frozen
class GameListing:
    where: str
    params: list[Any]
    order: str


GAME_STATS: Final = (
    "CROSS JOIN LATERAL (SELECT count(*) AS mods_count, "
    "coalesce(sum(x.downloads), 0)::bigint AS mods_downloads "
    "FROM mods x WHERE x.game_id = g.id AND x.state < 2) s"
)
"""A game's ``mods_count`` and ``mods_downloads`` over its listed mods (an index-only read
of ``mods_listed_by_game``)."""


def game_listing(query: GameCriteria) -> GameListing:
    terms = ["true"]
    params: list[Any] = []
    if query.type_app:
        terms.append("g.type = ANY(%s)")
        params.append(unique(query.type_app))
    if query.primary_sources:
        terms.append("g.source = ANY(%s)")
        params.append(unique(query.primary_sources))
    for genre in unique(id_in(g) for g in query.genres):
        terms.append(
            "EXISTS (SELECT 1 FROM game_genres gg WHERE gg.game_id = g.id AND gg.genre_id = %s)"
        )
        params.append(genre)
    if query.name:
        terms.append("g.name_folded LIKE %s")
        params.append(like_pattern(text_in(query.name.casefold())))
    return GameListing(
        " AND ".join(terms), params, _order(_GAME_SORTS[query.sort], query.descending, "g.id")
    )
