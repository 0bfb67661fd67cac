"""The storage roles of the core's ports (``Storage``) on PostgreSQL, through psycopg 3."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final, TypeVar

from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

from openworkshop.clock import utc
from openworkshop.criteria import GameCriteria, ModCriteria, Paging
from openworkshop.domain import Failure, Game, Genre, KnownItem, Mod, Resource, ResourceType, Tag
from openworkshop.errors import StorageError
from openworkshop.events import Change, Event, EventBatch, EventKind, game_change, mod_change
from openworkshop.ports import CatalogSummary, Page, StatRow, Transition
from openworkshop.progress import Phase, Progress
from openworkshop.signals import LocalWorkSignal
from openworkshop.states import ModState
from openworkshop_postgres import schema
from openworkshop_postgres.errors import FOREIGN_ERRORS, translate
from openworkshop_postgres.listing import GAME_STATS, ModListing, game_listing, mod_listing
from openworkshop_postgres.records import (
    GAME_COLUMNS,
    MOD_COLUMNS,
    failure_from_row,
    game_from_row,
    id_in,
    id_out,
    lexemes,
    maybe_in,
    maybe_out,
    mod_from_row,
    mod_values,
    resource_from_row,
    text_in,
    text_out,
    time_in,
    time_out,
    unique,
    words_of,
)

__all__ = ["PostgresStorage"]

log = logging.getLogger("openworkshop.storage")

T = TypeVar("T")
Conn = AsyncConnection[Any]

_SCHEMA_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_DELAYS_KEPT: Final = 10_000
"""Processing delay samples kept per kind (the API averages the last 20)."""
_FILES_SENT: Final = "files_sent"
_EVENT_COLUMNS: Final = "seq, kind, at, mod_id, game_id, name, sha256, size, date_update, reason"
_MOD_SELECT: Final = ", ".join(f"m.{c}" for c in MOD_COLUMNS)
_GAME_SELECT: Final = ", ".join(f"g.{c}" for c in GAME_COLUMNS)
_DERIVED: Final = ("name_folded", "name_words", "words", "tag_ids", "has_deps")
_PLACE: Final = {"words": "%(words)s::tsvector", "name_words": "%(name_words)s::tsvector"}
"""Placeholders that need a cast (the rest are typed by their values)."""
_INSERT_MOD: Final = (
    f"INSERT INTO mods ({', '.join((*MOD_COLUMNS, *_DERIVED))}) "
    f"VALUES ({', '.join(_PLACE.get(c, f'%({c})s') for c in (*MOD_COLUMNS, *_DERIVED))}) "
    "ON CONFLICT (id) DO NOTHING"
)
_WRITTEN: Final = [c for c in (*MOD_COLUMNS, *_DERIVED) if c not in ("id", "downloads")]
_UPDATE_MOD: Final = (
    f"UPDATE mods SET {', '.join(f'{c} = ' + _PLACE.get(c, f'%({c})s') for c in _WRITTEN)} "
    "WHERE id = %(id)s"
)
_READ: Final = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
"""The first statement of a read of several statements: one snapshot for all."""


def _page_of(total: int, query: Paging, items: list[Any]) -> Page[Any]:
    return Page(total=total, offset=query.offset, items=items)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


async def _rows(
    conn: Conn, query: str, params: Sequence[Any] | Mapping[str, Any] = ()
) -> list[Any]:
    cursor = await conn.execute(query, params)  # type: ignore[arg-type]
    return await cursor.fetchall()


async def _one(conn: Conn, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
    cursor = await conn.execute(query, params)  # type: ignore[arg-type]
    return await cursor.fetchone()


async def _scalar(conn: Conn, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
    row = await _one(conn, query, params)
    return None if row is None else row[0]


# --- the write pieces: each runs inside the caller's transaction -----------------------------


async def _derived(conn: Conn, ident: int, mod: Mod) -> dict[str, Any]:
    """What the row derives from the mod's texts, its tags and its dependencies (as linked
    now): the search's words (the memory store's: ``\\w+``, case-folded), the tag ids."""
    row = await _one(
        conn,
        "SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}'), "
        "coalesce(array_agg(t.name ORDER BY t.id), '{}'), "
        "EXISTS (SELECT 1 FROM dependencies WHERE mod_id = %(id)s) "
        "FROM mod_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.mod_id = %(id)s",
        {"id": ident},
    )
    tag_ids, tag_names, has_deps = row
    return {
        "name_folded": text_in(mod.name.casefold()),
        "name_words": lexemes(words_of(mod.name)),
        "words": lexemes(
            words_of(
                mod.name, " ".join(map(text_out, tag_names)), mod.short_description, mod.description
            )
        ),
        "tag_ids": tag_ids,
        "has_deps": has_deps,
    }


async def _refresh(conn: Conn, ident: int) -> None:
    """Recompute the derived columns of the mod's row (if it has one)."""
    row = await _one(conn, f"SELECT {_MOD_SELECT} FROM mods m WHERE m.id = %s FOR UPDATE", [ident])
    if row is None:
        return
    derived = await _derived(conn, ident, mod_from_row(row))
    await conn.execute(
        f"UPDATE mods SET {', '.join(f'{c} = ' + _PLACE.get(c, f'%({c})s') for c in _DERIVED)} "
        "WHERE id = %(id)s",
        {**derived, "id": ident},
    )


async def _tag_ids(conn: Conn, game: int | None, names: Sequence[str]) -> list[int]:
    """The ids of the game's tags ``names``, created (in that order) where new: selected
    before inserting, so a tag's id is taken once."""
    if game is None:
        found = await _rows(
            conn,
            "SELECT name, id FROM tags WHERE game_id IS NULL AND name = ANY(%s)",
            [[text_in(n) for n in names]],
        )
    else:
        found = await _rows(
            conn,
            "SELECT name, id FROM tags WHERE game_id = %s AND name = ANY(%s)",
            [game, [text_in(n) for n in names]],
        )
    ids = {text_out(name): ident for name, ident in found}
    for name in names:
        if name in ids:
            continue
        row = await _one(
            conn,
            "INSERT INTO tags (game_id, name) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING id",
            [game, text_in(name)],
        )
        if row is None:  # another transaction made it meanwhile
            row = await _one(
                conn,
                "SELECT id FROM tags WHERE game_id IS NOT DISTINCT FROM %s AND name = %s",
                [game, text_in(name)],
            )
        ids[name] = row[0]
    return [ids[name] for name in names]


async def _replace_tags(conn: Conn, ident: int, game: int | None, names: Sequence[str]) -> None:
    tag_ids = await _tag_ids(conn, game, unique(names)) if names else []
    await conn.execute("DELETE FROM mod_tags WHERE mod_id = %s", [ident])
    if tag_ids:
        await conn.execute(
            "INSERT INTO mod_tags (mod_id, tag_id) SELECT %s, unnest(%s::bigint[]) "
            "ON CONFLICT DO NOTHING",
            [ident, tag_ids],
        )


async def _replace_dependencies(conn: Conn, ident: int, ids: Iterable[int]) -> None:
    deps = [id_in(d) for d in unique(ids)]
    await conn.execute("DELETE FROM dependencies WHERE mod_id = %s", [ident])
    if deps:
        await conn.execute(
            "INSERT INTO dependencies (mod_id, position, dependency_id) "
            "SELECT %s, p - 1, d FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(d, p)",
            [ident, deps],
        )


async def _replace_resources(
    conn: Conn, ident: int, resources: Iterable[tuple[ResourceType, str]], now: dt.datetime
) -> None:
    items = list(resources)
    await conn.execute("DELETE FROM resources WHERE owner_id = %s", [ident])
    if items:
        await conn.execute(
            "INSERT INTO resources (owner_id, type, url, date_event) "
            "SELECT %s, t, u, %s FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS r(t, u, p) "
            "ORDER BY p",
            [
                ident,
                time_in(now),
                [ResourceType(kind).value for kind, _ in items],
                [url for _, url in items],
            ],
        )


async def _delete_mod(conn: Conn, ident: int) -> None:
    await conn.execute("DELETE FROM mods WHERE id = %s", [ident])
    await conn.execute("DELETE FROM mod_tags WHERE mod_id = %s", [ident])
    await conn.execute("DELETE FROM dependencies WHERE mod_id = %s", [ident])
    await conn.execute("DELETE FROM resources WHERE owner_id = %s", [ident])


async def _put_failure(conn: Conn, failure: Failure) -> None:
    await conn.execute(
        "INSERT INTO failures (mod_id, reason, attempts, date, detail) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (mod_id) DO UPDATE SET "
        "reason = excluded.reason, attempts = excluded.attempts, date = excluded.date, "
        "detail = excluded.detail",
        [
            id_in(failure.mod_id),
            failure.reason.value,
            failure.attempts,
            time_in(failure.date),
            text_in(failure.detail),
        ],
    )


async def _record(conn: Conn, change: Change | None) -> None:
    """Append the change to the events feed, numbered by the counter row of ``meta``: its
    row lock is held to the commit, so events commit in ``seq`` order and a reader after
    ``seq`` never skips one that commits later (a sequence would hand out numbers that
    commit out of order)."""
    if change is None:
        return
    await conn.execute(
        "WITH n AS (UPDATE meta SET value = value + 1 WHERE name = 'events' RETURNING value) "
        "INSERT INTO events (seq, kind, at, mod_id, game_id, name, sha256, size, date_update, "
        "reason) SELECT n.value, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM n",
        [
            change.kind.value,
            time_in(change.at),
            None if change.mod_id is None else id_in(change.mod_id),
            None if change.game_id is None else id_in(change.game_id),
            maybe_in(change.name),
            change.sha256,
            change.size,
            time_in(change.date_update),
            maybe_in(change.reason),
        ],
    )


def _event_from_row(row: Sequence[Any]) -> Event:
    seq, kind, at, mod_id, game_id, name, sha256, size, date_update, reason = row
    return Event(
        seq=seq,
        change=Change(
            kind=EventKind(kind),
            at=time_out(at),  # type: ignore[arg-type]
            mod_id=None if mod_id is None else id_out(mod_id),
            game_id=None if game_id is None else id_out(game_id),
            name=maybe_out(name),
            sha256=sha256,
            size=size,
            date_update=time_out(date_update),
            reason=maybe_out(reason),
        ),
    )


async def _ids_of(
    conn: Conn, listing: ModListing, total: int, offset: int, limit: int
) -> list[int]:
    """The stored ids of the page: with RELEVANCE's tiers, each tier is its own query in
    downloads order (a common word walks the downloads index instead of sorting every
    match), the first tier counted to know where the second begins."""

    async def page(where: str, params: list[Any], start: int, count: int) -> list[int]:
        rows = await _rows(
            conn,
            f"SELECT m.id FROM mods m WHERE {where} ORDER BY {listing.order} LIMIT %s OFFSET %s",
            [*params, *listing.order_params, count, start],
        )
        return [row[0] for row in rows]

    if listing.tiers is None:
        return await page(listing.where, listing.params, offset, limit)
    (first, first_params), (second, second_params) = listing.tiers
    in_first = int(
        await _scalar(
            conn,
            f"SELECT count(*) FROM mods m WHERE {listing.where} AND {first}",
            [*listing.params, *first_params],
        )
    )
    ids: list[int] = []
    if offset < in_first:
        where = f"{listing.where} AND {first}"
        ids = await page(where, [*listing.params, *first_params], offset, limit)
    if len(ids) < limit and offset + len(ids) < total:
        where = f"{listing.where} AND {second}"
        start = max(0, offset - in_first)
        ids += await page(where, [*listing.params, *second_params], start, limit - len(ids))
    return ids


class _Lost(Exception):
    """A compare-and-set lost inside the transaction: roll it back, answer False."""


class PostgresStorage:
    """The catalog, the queue and the statistics in one PostgreSQL database (or one schema
    of it).

    Several processes, on several machines, may share it: each change is one transaction;
    claims take rows with ``FOR UPDATE SKIP LOCKED``; counters are incremented in SQL.
    ``url`` is a libpq connection string or URL (``postgresql://user@host/db``); ``schema``
    puts every table in that schema (created if missing). Connections come from a
    ``psycopg_pool.AsyncConnectionPool`` of ``min_size`` to ``max_size`` connections, opened
    by :meth:`open`; ``timeout``: seconds to wait for a connection before the call fails with
    ``StorageUnavailable``.

    Why psycopg 3 with ``psycopg_pool``: it is the maintained PostgreSQL driver with a native
    asyncio API (no thread per query), server-side parameter binding, COPY for bulk loads,
    and it runs on the system's libpq without a binary wheel; the pool keeps a few
    connections per process open, checks them back in after each transaction and replaces
    broken ones.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 30.0,
    ) -> None:
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"schema {schema!r}: lower-case letters, digits and _ only")
        try:
            params = conninfo_to_dict(url)
        except FOREIGN_ERRORS as exc:
            raise StorageError(f"not a PostgreSQL URL: {url!r} ({exc})") from None
        # (no JIT: compiling a plan costs more than a listing's whole answer; no parallel
        # workers: a request is small, and many come at once)
        options = [
            str(params.pop("options", "")),
            "-c TimeZone=UTC -c jit=off -c max_parallel_workers_per_gather=0",
        ]
        if schema is not None:
            options.append(f"-c search_path={schema},public")
        self.url = url
        self.schema = schema
        self._conninfo = make_conninfo("", **params, options=" ".join(o for o in options if o))
        self._timeout = max(1, round(timeout))
        self._work = LocalWorkSignal()
        self._channel = f"ow_work_{schema or 'public'}"[:63]
        """The NOTIFY channel of this schema's workers."""
        self._listener: asyncio.Task[None] | None = None
        self._pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self._conninfo,
            open=False,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            name="openworkshop",
        )

    def __repr__(self) -> str:
        where = conninfo_to_dict(self._conninfo)
        shown = f"{where.get('host', '')}/{where.get('dbname', '')}"
        return f"PostgresStorage({shown!r}, schema={self.schema!r})"

    # --- lifecycle ------------------------------------------------------------------------

    async def open(self) -> None:
        """Create the schema or check it (under the advisory lock), on a connection of its
        own (so that a server which cannot be reached says why, at once), open the pool and
        start listening for work signals."""
        try:
            conn = await AsyncConnection.connect(self._conninfo, connect_timeout=self._timeout)
            try:
                async with conn.transaction():
                    await schema.create(conn, self.schema)
            finally:
                await conn.close()
            await self._pool.open(wait=False)
            listening = await self._listen()
        except FOREIGN_ERRORS as exc:
            await self._pool.close()
            raise translate(exc) from exc
        self._listener = asyncio.create_task(self._follow(listening), name="ow-pg-listen")

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        await self._pool.close()

    async def _listen(self) -> Conn:
        """A connection of its own, LISTENing on the channel (so a signal sent once
        :meth:`open` returned is not missed)."""
        conn = await AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=self._timeout
        )
        try:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _follow(self, conn: Conn) -> None:
        """Turn every notification into a wake-up of this process's workers, for the store's
        life. A lost connection is made again (meanwhile the workers look at the queue every
        second, as with a store that has no channel)."""
        while True:
            try:
                async for _ in conn.notifies():
                    await self._work.signal_work()
            except FOREIGN_ERRORS as exc:
                log.warning("work signals: %s; listening again", translate(exc))
            finally:
                await conn.close()
            while True:
                await asyncio.sleep(1.0)
                try:
                    conn = await self._listen()
                    break
                except FOREIGN_ERRORS:
                    continue
            await self._work.signal_work()  # (a signal may have come meanwhile)

    async def _run(
        self, work: Callable[[Conn], Awaitable[T]], *, snapshot: bool = False, setup: str = ""
    ) -> T:
        """``work`` in one transaction on a pooled connection (committed unless it raises);
        ``snapshot``: a read-only one seeing one snapshot throughout; ``setup``: statements
        run first (in the same round trip as the snapshot's)."""
        try:
            async with self._pool.connection() as conn:
                first = "; ".join(s for s in (_READ if snapshot else "", setup) if s)
                if first:
                    await conn.execute(first)  # type: ignore[arg-type]
                try:
                    return await work(conn)
                except _Lost:
                    await conn.rollback()
                    return False  # type: ignore[return-value]
        except FOREIGN_ERRORS as exc:
            raise translate(exc) from exc

    # --- mods -----------------------------------------------------------------------------

    async def get_mod(self, mod_id: int) -> Mod | None:
        async def work(conn: Conn) -> Mod | None:
            row = await _one(
                conn, f"SELECT {_MOD_SELECT} FROM mods m WHERE m.id = %s", [id_in(mod_id)]
            )
            return None if row is None else mod_from_row(row)

        return await self._run(work)

    async def get_mods(self, ids: Sequence[int]) -> dict[int, Mod]:
        wanted = unique(ids)

        async def work(conn: Conn) -> dict[int, Mod]:
            rows = await _rows(
                conn,
                f"SELECT {_MOD_SELECT} FROM mods m WHERE m.id = ANY(%s)",
                [[id_in(i) for i in wanted]],
            )
            found = {m.id: m for m in map(mod_from_row, rows)}
            return {i: found[i] for i in wanted if i in found}

        return await self._run(work) if wanted else {}

    async def put_mod(self, mod: Mod, *, expect: ModState | None) -> bool:
        return await self.apply(Transition(mod_id=mod.id, expect=expect, after=mod))

    async def apply(self, transition: Transition) -> bool:
        after = transition.after
        ident = id_in(transition.mod_id)
        expect = transition.expect
        page = transition.page
        failure = transition.failure

        async def work(conn: Conn) -> bool:
            row = await _one(
                conn, f"SELECT {_MOD_SELECT} FROM mods m WHERE m.id = %s FOR UPDATE", [ident]
            )
            current = None if row is None else mod_from_row(row)
            if expect is None and current is not None:
                return False
            if expect is not None and (current is None or current.state is not expect):
                return False
            if after is None:
                await _delete_mod(conn, ident)
            if page is not None:
                game = None if after is None or after.game_id is None else id_in(after.game_id)
                await _replace_tags(conn, ident, game, page.tags)
                await _replace_dependencies(conn, ident, page.dependencies)
                await _replace_resources(conn, ident, page.resources, page.at)
            if after is not None:
                values = {**mod_values(after), **await _derived(conn, ident, after)}
                if current is None:
                    cursor = await conn.execute(_INSERT_MOD, values)
                    if cursor.rowcount != 1:  # another insert of the mod won
                        raise _Lost
                else:
                    await conn.execute(_UPDATE_MOD, values)
            if after is None or after.state is not ModState.DOWNLOADING:
                await conn.execute("DELETE FROM progress WHERE mod_id = %s", [ident])
            if failure is not None:
                await _put_failure(conn, failure)
            elif transition.clears_failure:
                await conn.execute("DELETE FROM failures WHERE mod_id = %s", [ident])
            await _record(conn, mod_change(current, after, failure=failure, at=transition.at))
            return True

        return await self._run(work)

    async def claim(
        self, state: ModState, limit: int, *, now: dt.datetime, lease_until: dt.datetime
    ) -> list[Mod]:
        if state is ModState.QUEUED:
            due = (
                "(state = 3 AND (not_before IS NULL OR not_before <= %(now)s))"
                " OR (state = 2 AND (lease_until IS NULL OR lease_until < %(now)s))"
            )
            change = "state = 2, lease_until = %(until)s"
        elif state is ModState.AVAILABLE:
            due = "state = 1 AND (lease_until IS NULL OR lease_until < %(now)s)"
            change = "lease_until = %(until)s"
        else:
            raise ValueError(f"only QUEUED and AVAILABLE mods are claimed, not {state!r}")
        params = {"now": time_in(now), "until": time_in(lease_until), "limit": limit}

        async def work(conn: Conn) -> list[Mod]:
            rows = await _rows(
                conn,
                f"WITH due AS (SELECT id FROM mods WHERE state >= 1 AND ({due}) "
                "ORDER BY date_queued NULLS FIRST, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
                f"UPDATE mods m SET {change} FROM due WHERE m.id = due.id RETURNING {_MOD_SELECT}",
                params,
            )
            taken = [mod_from_row(row) for row in rows]
            if taken:  # a new claim: the last worker's figures are gone with its lease
                await conn.execute(
                    "DELETE FROM progress WHERE mod_id = ANY(%s)", [[id_in(m.id) for m in taken]]
                )
            # (the order the rows were chosen in: oldest request first)
            return sorted(
                taken,
                key=lambda m: (m.date_queued is not None, m.date_queued or now, id_in(m.id)),
            )

        return await self._run(work) if limit > 0 else []

    async def renew(self, ids: Sequence[int], *, lease_until: dt.datetime) -> None:
        stored = unique(id_in(i) for i in ids)

        async def work(conn: Conn) -> None:
            await conn.execute(
                "UPDATE mods SET lease_until = %s WHERE id = ANY(%s)",
                [time_in(lease_until), stored],
            )

        if stored:
            await self._run(work)

    async def add_download(self, mod_id: int, *, now: dt.datetime) -> None:
        async def work(conn: Conn) -> None:
            await conn.execute(
                "UPDATE mods SET downloads = downloads + 1, date_request = %s WHERE id = %s",
                [time_in(now), id_in(mod_id)],
            )

        await self._run(work)

    async def mod_states(self, ids: Sequence[int]) -> dict[int, ModState]:
        wanted = unique(ids)

        async def work(conn: Conn) -> dict[int, ModState]:
            rows = await _rows(
                conn, "SELECT id, state FROM mods WHERE id = ANY(%s)", [[id_in(i) for i in wanted]]
            )
            found = {id_out(ident): ModState(state) for ident, state in rows}
            return {i: found[i] for i in wanted if i in found}

        return await self._run(work) if wanted else {}

    async def queue_size(self) -> int:
        async def work(conn: Conn) -> int:
            return int(await _scalar(conn, "SELECT count(*) FROM mods WHERE state IN (2, 3)"))

        return await self._run(work)

    async def archived(self) -> list[tuple[int, str]]:
        async def work(conn: Conn) -> list[tuple[int, str]]:
            rows = await _rows(
                conn, "SELECT id, archive_key FROM mods WHERE archive_key IS NOT NULL"
            )
            return sorted((id_out(ident), key) for ident, key in rows)

        return await self._run(work)

    # --- catalog ----------------------------------------------------------------------------

    async def list_mods(self, query: ModCriteria) -> Page[Mod]:
        listing = mod_listing(query)
        if listing is None:
            return _page_of(0, query.page, [])

        async def work(conn: Conn) -> Page[Mod]:
            if listing.counted is not None:
                count, params = listing.counted
            else:
                count, params = f"SELECT count(*) FROM mods m WHERE {listing.where}", listing.params
            total = int(await _scalar(conn, count, params))
            if total <= query.page.offset:
                return _page_of(total, query.page, [])
            # the page's ids first (read from the sort index alone, however deep the
            # offset), then their rows
            ids = await _ids_of(conn, listing, total, query.page.offset, query.page.page_size)
            found = await _rows(
                conn, f"SELECT {_MOD_SELECT} FROM mods m WHERE m.id = ANY(%s)", [ids]
            )
            by_id = {row[0]: row for row in found}
            return _page_of(total, query.page, [mod_from_row(by_id[i]) for i in ids])

        # every filter and sort has an index; the planner underrates what checking a common
        # word on every row costs (a scan of the table: 5x the GIN index's)
        return await self._run(work, snapshot=True, setup="SET LOCAL enable_seqscan = off")

    async def set_mod_tags(self, mod_id: int, game_id: int | None, names: Sequence[str]) -> None:
        ident = id_in(mod_id)
        game = None if game_id is None else id_in(game_id)

        async def work(conn: Conn) -> None:
            await _replace_tags(conn, ident, game, names)
            await _refresh(conn, ident)

        await self._run(work)

    async def set_dependencies(self, mod_id: int, ids: Sequence[int]) -> None:
        ident = id_in(mod_id)

        async def work(conn: Conn) -> None:
            await _replace_dependencies(conn, ident, ids)
            await conn.execute(
                "UPDATE mods SET has_deps = EXISTS (SELECT 1 FROM dependencies WHERE mod_id = %s) "
                "WHERE id = %s",
                [ident, ident],
            )

        await self._run(work)

    async def dependencies(self, mod_id: int, limit: int) -> tuple[list[int], int]:
        ident = id_in(mod_id)

        async def work(conn: Conn) -> tuple[list[int], int]:
            total = int(
                await _scalar(conn, "SELECT count(*) FROM dependencies WHERE mod_id = %s", [ident])
            )
            rows = await _rows(
                conn,
                "SELECT dependency_id FROM dependencies WHERE mod_id = %s ORDER BY position LIMIT %s",
                [ident, max(limit, 0)],
            )
            return [id_out(row[0]) for row in rows], total

        return await self._run(work, snapshot=True)

    async def set_resources(
        self, mod_id: int, resources: Sequence[tuple[ResourceType, str]], *, now: dt.datetime
    ) -> None:
        ident = id_in(mod_id)
        await self._run(lambda conn: _replace_resources(conn, ident, resources, now))

    async def list_resources(
        self, mod_ids: Sequence[int], types: Sequence[ResourceType], page: Paging
    ) -> Page[Resource]:
        owners = unique(id_in(i) for i in mod_ids)
        kinds = unique(ResourceType(t).value for t in types)
        where = "owner_id = ANY(%s)" + (" AND type = ANY(%s)" if kinds else "")
        params: list[Any] = [owners, *([kinds] if kinds else [])]

        async def work(conn: Conn) -> Page[Resource]:
            total = int(
                await _scalar(conn, f"SELECT count(*) FROM resources WHERE {where}", params)
            )
            rows = await _rows(
                conn,
                f"SELECT id, owner_id, type, url, date_event FROM resources WHERE {where} "
                "ORDER BY id LIMIT %s OFFSET %s",
                [*params, page.page_size, page.offset],
            )
            return _page_of(total, page, [resource_from_row(r) for r in rows])

        if not owners:
            return _page_of(0, page, [])
        return await self._run(work, snapshot=True)

    async def get_game(self, game_id: int) -> Game | None:
        async def work(conn: Conn) -> Game | None:
            row = await _one(
                conn,
                f"SELECT {_GAME_SELECT}, s.mods_count, s.mods_downloads FROM games g "
                f"{GAME_STATS} WHERE g.id = %s",
                [id_in(game_id)],
            )
            return None if row is None else game_from_row(row[:-2], row[-2], row[-1])

        return await self._run(work)

    async def put_game(self, game: Game, genres: Sequence[Genre]) -> None:
        ident = id_in(game.id)
        values = {
            "id": ident,
            "name": text_in(game.name),
            "type": game.type,
            "logo": game.logo,
            "source": game.source,
            "creation_date": time_in(game.creation_date),
            "short_description": text_in(game.short_description),
            "description": text_in(game.description),
            "name_folded": text_in(game.name.casefold()),
        }
        genre_rows = {id_in(g.id): text_in(g.name) for g in genres}

        async def work(conn: Conn) -> None:
            known = await _one(conn, "SELECT 1 FROM games WHERE id = %s FOR UPDATE", [ident])
            await conn.execute(
                """
                INSERT INTO games (id, name, type, logo, source, creation_date,
                    short_description, description, name_folded)
                VALUES (%(id)s, %(name)s, %(type)s, %(logo)s, %(source)s, %(creation_date)s,
                    %(short_description)s, %(description)s, %(name_folded)s)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type,
                    logo = excluded.logo, source = excluded.source,
                    creation_date = excluded.creation_date,
                    short_description = excluded.short_description,
                    description = excluded.description, name_folded = excluded.name_folded
                """,
                values,
            )
            if genre_rows:
                await conn.execute(
                    "INSERT INTO genres (id, name) SELECT * FROM unnest(%s::bigint[], %s::text[]) "
                    "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                    [list(genre_rows), list(genre_rows.values())],
                )
            await conn.execute("DELETE FROM game_genres WHERE game_id = %s", [ident])
            if genre_rows:
                await conn.execute(
                    "INSERT INTO game_genres (game_id, genre_id) SELECT %s, unnest(%s::bigint[])",
                    [ident, list(genre_rows)],
                )
            await _record(conn, game_change(known is not None, game))

        await self._run(work)

    async def list_games(self, query: GameCriteria) -> Page[Game]:
        listing = game_listing(query)

        async def work(conn: Conn) -> Page[Game]:
            total = int(
                await _scalar(
                    conn, f"SELECT count(*) FROM games g WHERE {listing.where}", listing.params
                )
            )
            if total <= query.page.offset:
                return _page_of(total, query.page, [])
            rows = await _rows(
                conn,
                f"SELECT {_GAME_SELECT}, s.mods_count, s.mods_downloads FROM games g {GAME_STATS} "
                f"WHERE {listing.where} ORDER BY {listing.order} LIMIT %s OFFSET %s",
                [*listing.params, query.page.page_size, query.page.offset],
            )
            return _page_of(total, query.page, [game_from_row(r[:-2], r[-2], r[-1]) for r in rows])

        return await self._run(work, snapshot=True)

    async def list_tags(self, game_id: int, page: Paging) -> Page[Tag]:
        game = id_in(game_id)

        async def work(conn: Conn) -> Page[Tag]:
            total = int(await _scalar(conn, "SELECT count(*) FROM tags WHERE game_id = %s", [game]))
            rows = await _rows(
                conn,
                "SELECT id, name FROM tags WHERE game_id = %s ORDER BY id LIMIT %s OFFSET %s",
                [game, page.page_size, page.offset],
            )
            return _page_of(
                total, page, [Tag(id=ident, name=text_out(name)) for ident, name in rows]
            )

        return await self._run(work, snapshot=True)

    async def mod_tags(
        self, mod_ids: Sequence[int], tag_ids: Sequence[int]
    ) -> dict[int, list[Tag]]:
        wanted = unique(mod_ids)
        kept = unique(id_in(t) for t in tag_ids)

        async def work(conn: Conn) -> dict[int, list[Tag]]:
            rows = await _rows(
                conn,
                "SELECT mt.mod_id, t.id, t.name FROM mod_tags mt JOIN tags t ON t.id = mt.tag_id "
                "WHERE mt.mod_id = ANY(%s) AND (cardinality(%s::bigint[]) = 0 OR t.id = ANY(%s)) "
                "ORDER BY mt.mod_id, t.id",
                [[id_in(i) for i in wanted], kept, kept],
            )
            found: dict[int, list[Tag]] = {}
            for owner, ident, name in rows:
                found.setdefault(id_out(owner), []).append(Tag(id=ident, name=text_out(name)))
            return {i: found[i] for i in wanted if i in found}

        return await self._run(work) if wanted else {}

    async def list_genres(self, page: Paging) -> Page[Genre]:
        async def work(conn: Conn) -> Page[Genre]:
            total = int(await _scalar(conn, "SELECT count(*) FROM genres"))
            rows = await _rows(
                conn,
                "SELECT id, name FROM genres ORDER BY id LIMIT %s OFFSET %s",
                [page.page_size, page.offset],
            )
            return _page_of(
                total, page, [Genre(id=id_out(i), name=text_out(name)) for i, name in rows]
            )

        return await self._run(work, snapshot=True)

    async def game_genres(
        self, game_ids: Sequence[int], genre_ids: Sequence[int]
    ) -> dict[int, list[Genre]]:
        wanted = unique(game_ids)
        kept = unique(id_in(g) for g in genre_ids)

        async def work(conn: Conn) -> dict[int, list[Genre]]:
            rows = await _rows(
                conn,
                "SELECT gg.game_id, g.id, g.name FROM game_genres gg "
                "JOIN genres g ON g.id = gg.genre_id WHERE gg.game_id = ANY(%s) "
                "AND (cardinality(%s::bigint[]) = 0 OR g.id = ANY(%s)) ORDER BY gg.game_id, g.id",
                [[id_in(i) for i in wanted], kept, kept],
            )
            found: dict[int, list[Genre]] = {}
            for owner, ident, name in rows:
                found.setdefault(id_out(owner), []).append(
                    Genre(id=id_out(ident), name=text_out(name))
                )
            return {i: found[i] for i in wanted if i in found}

        return await self._run(work) if wanted else {}

    # --- failures ---------------------------------------------------------------------------

    async def get_failure(self, mod_id: int) -> Failure | None:
        return (await self.get_failures([mod_id])).get(mod_id)

    async def get_failures(self, ids: Sequence[int]) -> dict[int, Failure]:
        wanted = unique(ids)

        async def work(conn: Conn) -> dict[int, Failure]:
            rows = await _rows(
                conn,
                "SELECT mod_id, reason, attempts, date, detail FROM failures "
                "WHERE mod_id = ANY(%s)",
                [[id_in(i) for i in wanted]],
            )
            return {f.mod_id: f for f in map(failure_from_row, rows)}

        return await self._run(work) if wanted else {}

    # --- events -----------------------------------------------------------------------------

    async def read_events(self, after: int, limit: int) -> EventBatch:
        async def work(conn: Conn) -> EventBatch:
            rows = await _rows(
                conn,
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq > %s ORDER BY seq LIMIT %s",
                [after, max(limit, 0)],
            )
            counters = dict(await _rows(conn, "SELECT name, value FROM meta"))
            return EventBatch(
                events=[_event_from_row(r) for r in rows],
                latest=int(counters["events"]),
                trimmed=int(counters["events_trimmed"]),
            )

        return await self._run(work, snapshot=True)

    async def last_mod_events(self, ids: Sequence[int]) -> dict[int, Event]:
        wanted = unique(id_in(i) for i in ids)

        async def work(conn: Conn) -> dict[int, Event]:
            rows = await _rows(
                conn,
                f"SELECT DISTINCT ON (mod_id) {_EVENT_COLUMNS} FROM events "
                "WHERE mod_id = ANY(%s) ORDER BY mod_id, seq DESC",
                [wanted],
            )
            events = [_event_from_row(r) for r in rows]
            return {e.change.mod_id: e for e in events if e.change.mod_id is not None}

        return await self._run(work) if wanted else {}

    async def trim_events(self, before: dt.datetime) -> int:
        async def work(conn: Conn) -> int:
            last = await _scalar(
                conn, "SELECT max(seq) FROM events WHERE at < %s", [time_in(before)]
            )
            if last is None:
                return 0
            cursor = await conn.execute("DELETE FROM events WHERE seq <= %s", [last])
            await conn.execute(
                "UPDATE meta SET value = greatest(value, %s) WHERE name = 'events_trimmed'", [last]
            )
            return cursor.rowcount

        return await self._run(work)

    # --- statistics and flags ---------------------------------------------------------------

    async def count(self, type: str, *, at: dt.datetime, n: int = 1) -> None:
        when = utc(at)
        day, hour = when.date(), when.hour

        async def work(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO stats_hours (day, hour, type, count) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (day, hour, type) DO UPDATE SET count = stats_hours.count + "
                "excluded.count",
                [day, hour, type, n],
            )
            await conn.execute(
                "INSERT INTO stats_days (day, type, count) VALUES (%s, %s, %s) "
                "ON CONFLICT (day, type) DO UPDATE SET count = stats_days.count + excluded.count",
                [day, type, n],
            )

        await self._run(work)

    async def hour_stats(self, day: dt.date, start_hour: int, end_hour: int) -> list[StatRow]:
        start = _day_start(day)

        async def work(conn: Conn) -> list[StatRow]:
            rows = await _rows(
                conn,
                "SELECT hour, type, count FROM stats_hours WHERE day = %s "
                "AND hour BETWEEN %s AND %s AND count > 0 ORDER BY hour, type",
                [day, start_hour, end_hour],
            )
            return [
                StatRow(type=kind, count=count, at=start + dt.timedelta(hours=hour))
                for hour, kind, count in rows
            ]

        return await self._run(work)

    async def day_stats(self, start: dt.date, end: dt.date) -> list[StatRow]:
        async def work(conn: Conn) -> list[StatRow]:
            rows = await _rows(
                conn,
                "SELECT day, type, count FROM stats_days WHERE day BETWEEN %s AND %s "
                "AND count > 0 ORDER BY day, type",
                [start, end],
            )
            return [
                StatRow(type=kind, count=count, at=_day_start(day)) for day, kind, count in rows
            ]

        return await self._run(work)

    async def add_delay(self, kind: str, ms: int, *, at: dt.datetime) -> None:
        async def work(conn: Conn) -> None:
            ident = await _scalar(
                conn,
                "INSERT INTO delays (kind, ms, at) VALUES (%s, %s, %s) RETURNING id",
                [kind, ms, time_in(at)],
            )
            if ident % 1000 == 0:  # now and then, forget old samples
                await conn.execute(
                    "DELETE FROM delays WHERE kind = %s AND id <= (SELECT id FROM delays "
                    "WHERE kind = %s ORDER BY id DESC LIMIT 1 OFFSET %s)",
                    [kind, kind, _DELAYS_KEPT],
                )

        await self._run(work)

    async def delays(self, kind: str, last: int) -> list[int]:
        async def work(conn: Conn) -> list[int]:
            rows = await _rows(
                conn,
                "SELECT ms FROM delays WHERE kind = %s ORDER BY id DESC LIMIT %s",
                [kind, max(last, 0)],
            )
            return [row[0] for row in rows]

        return await self._run(work)

    async def summary(self) -> CatalogSummary:
        async def work(conn: Conn) -> CatalogSummary:
            row = await _one(
                conn,
                """
                SELECT (SELECT count(*) FROM mods WHERE state < 2),
                    (SELECT count(*) FROM games), (SELECT count(*) FROM genres),
                    (SELECT count(*) FROM tags),
                    (SELECT count(DISTINCT mod_id) FROM dependencies),
                    (SELECT count(DISTINCT day) FROM stats_days),
                    (SELECT coalesce(sum(count), 0) FROM stats_days WHERE type = %s)
                """,
                [_FILES_SENT],
            )
            mods, games, genres, tags, deps, days, sent = (int(v) for v in row)
            return CatalogSummary(
                mods=mods,
                games=games,
                genres=genres,
                mods_tags=tags,
                mods_dependencies=deps,
                statistics_days=days,
                mods_sent_count=sent,
            )

        return await self._run(work)

    async def get_flag(self, name: str) -> str | None:
        async def work(conn: Conn) -> str | None:
            return await _scalar(conn, "SELECT value FROM flags WHERE name = %s", [name])

        return await self._run(work)

    async def set_flag(self, name: str, value: str | None) -> None:
        async def work(conn: Conn) -> None:
            if value is None:
                await conn.execute("DELETE FROM flags WHERE name = %s", [name])
            else:
                await conn.execute(
                    "INSERT INTO flags (name, value) VALUES (%s, %s) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    [name, value],
                )

        await self._run(work)

    async def take_call_slot(self, minute: dt.datetime, limit: int) -> bool:
        start = utc(minute).replace(second=0, microsecond=0)

        async def work(conn: Conn) -> bool:
            # one statement: the row's lock orders every process taking a slot
            row = await _one(
                conn,
                "INSERT INTO call_slots (minute, taken) VALUES (%(m)s, 1) "
                "ON CONFLICT (one) DO UPDATE SET minute = excluded.minute, taken = CASE "
                "WHEN call_slots.minute = excluded.minute THEN call_slots.taken + 1 ELSE 1 END "
                "WHERE call_slots.minute <> excluded.minute OR call_slots.taken < %(limit)s "
                "RETURNING taken",
                {"m": start, "limit": limit},
            )
            return row is not None

        return await self._run(work) if limit > 0 else False

    # --- what Steam said of items ---------------------------------------------------------

    async def remember_items(self, items: Sequence[KnownItem]) -> None:
        rows = [
            (
                id_in(item.id),
                item.found,
                text_in(item.name),
                item.size,
                item.is_collection,
                None if item.children is None else json.dumps(list(item.children)),
                time_in(item.checked),
            )
            for item in {i.id: i for i in items}.values()
        ]

        async def work(conn: Conn) -> None:
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO known_items (id, found, name, size, is_collection, children, "
                    "checked) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                    "found = excluded.found, name = excluded.name, size = excluded.size, "
                    "is_collection = excluded.is_collection, children = excluded.children, "
                    "checked = excluded.checked",
                    rows,
                )

        if rows:
            await self._run(work)

    async def known_items(self, ids: Sequence[int]) -> dict[int, KnownItem]:
        wanted = unique(ids)

        async def work(conn: Conn) -> dict[int, KnownItem]:
            rows = await _rows(
                conn,
                "SELECT id, found, name, size, is_collection, children, checked "
                "FROM known_items WHERE id = ANY(%s)",
                [[id_in(i) for i in wanted]],
            )
            found: dict[int, KnownItem] = {}
            for ident, ok, name, size, is_collection, children, checked in rows:
                found[id_out(ident)] = KnownItem(
                    id=id_out(ident),
                    found=ok,
                    name=text_out(name),
                    size=size,
                    is_collection=is_collection,
                    children=None if children is None else tuple(json.loads(children)),
                    checked=time_out(checked),  # type: ignore[arg-type]
                )
            return found

        return await self._run(work) if wanted else {}

    # --- bulk loading (not part of the port) ------------------------------------------------

    async def bulk_load(
        self,
        *,
        games: Iterable[tuple[Game, Sequence[Genre]]] = (),
        mods: Iterable[Mod] = (),
        tags: Mapping[int, Sequence[str]] | None = None,
        dependencies: Mapping[int, Sequence[int]] | None = None,
    ) -> None:
        """Load a large catalog in one transaction with COPY, much faster than through the
        port (``SqliteStorage.bulk_load``'s arguments). ``tags`` maps a mod id to its tag
        names (tags of the mod's game, created on first use). The listing indexes are built
        once at the end, then the tables are vacuumed and analyzed. Meant for an offline
        store (seeding, imports, benchmarks): the mods must be new."""
        from openworkshop_postgres.loading import BULKY, load

        await self._run(
            lambda conn: load(
                conn,
                games=games,
                mods=mods,
                tags={} if tags is None else tags,
                dependencies={} if dependencies is None else dependencies,
            )
        )
        try:
            conn = await AsyncConnection.connect(self._conninfo, autocommit=True)
            try:
                for table in BULKY:
                    await conn.execute(f"VACUUM ANALYZE {table}")  # type: ignore[arg-type]
            finally:
                await conn.close()
        except FOREIGN_ERRORS as exc:
            raise translate(exc) from exc

    # --- the work signal ----------------------------------------------------------------
    # NOTIFY on the schema's channel: every store LISTENing on it (every process on this
    # database and schema) wakes its workers; this process's at once, without the round trip.

    async def signal_work(self) -> None:
        await self._work.signal_work()
        channel = self._channel

        async def work(conn: Conn) -> None:
            await conn.execute("SELECT pg_notify(%s, '')", [channel])

        try:
            await self._run(work)
        except StorageError as exc:  # (the others find the work at their next look)
            log.warning("work signal not sent to other processes: %s", exc)

    async def wait_for_work(self, timeout: float) -> bool:
        return await self._work.wait_for_work(timeout)

    # --- live progress ----------------------------------------------------------------

    async def record_progress(self, records: Sequence[Progress]) -> None:
        rows = [
            (
                id_in(r.mod_id),
                r.phase.value,
                r.done,
                r.total,
                time_in(r.started),
                time_in(r.updated),
            )
            for r in {r.mod_id: r for r in records}.values()
        ]

        async def work(conn: Conn) -> None:
            # only for a mod in state 2 (its row locked meanwhile): a late write after its
            # transition is dropped
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO progress (mod_id, phase, done, total, started, updated) "
                    "SELECT %(id)s, %(phase)s, %(done)s, %(total)s, %(started)s, %(updated)s "
                    "WHERE EXISTS (SELECT 1 FROM mods WHERE id = %(id)s AND state = 2 "
                    "FOR SHARE) ON CONFLICT (mod_id) DO UPDATE SET phase = excluded.phase, "
                    "done = excluded.done, total = excluded.total, started = excluded.started, "
                    "updated = excluded.updated",
                    [
                        dict(
                            zip(
                                ("id", "phase", "done", "total", "started", "updated"),
                                row,
                                strict=True,
                            )
                        )
                        for row in rows
                    ],
                )

        if rows:
            await self._run(work)

    async def progress_records(self, ids: Sequence[int]) -> dict[int, Progress]:
        wanted = unique(ids)

        async def work(conn: Conn) -> dict[int, Progress]:
            rows = await _rows(
                conn,
                "SELECT mod_id, phase, done, total, started, updated FROM progress "
                "WHERE mod_id = ANY(%s)",
                [[id_in(i) for i in wanted]],
            )
            return {
                id_out(ident): Progress(
                    mod_id=id_out(ident),
                    phase=Phase(phase),
                    done=done,
                    total=total,
                    started=time_out(started),  # type: ignore[arg-type]
                    updated=time_out(updated),  # type: ignore[arg-type]
                )
                for ident, phase, done, total, started, updated in rows
            }

        return await self._run(work) if wanted else {}

    async def queue_positions(self, ids: Sequence[int]) -> dict[int, int]:
        wanted = unique(id_in(i) for i in ids)

        async def work(conn: Conn) -> dict[int, int]:
            # each a range count on mods_queued (date_queued NULLS FIRST, id) WHERE state = 3
            rows = await _rows(
                conn,
                "SELECT m.id, (SELECT count(*) FROM mods o WHERE o.state = 3 AND ("
                "(o.date_queued IS NULL AND m.date_queued IS NOT NULL) "
                "OR (o.date_queued IS NULL AND m.date_queued IS NULL AND o.id < m.id) "
                "OR o.date_queued < m.date_queued "
                "OR (o.date_queued = m.date_queued AND o.id < m.id))) "
                "FROM mods m WHERE m.state = 3 AND m.id = ANY(%s)",
                [wanted],
            )
            return {id_out(ident): before + 1 for ident, before in rows}

        return await self._run(work) if wanted else {}
