"""The storage roles of the core's ports (``Storage``) on one SQLite file, through sqlite-utils."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

import attrs
from sqlite_utils import Database

from openworkshop.clock import utc
from openworkshop.criteria import GameCriteria, ModCriteria, Paging
from openworkshop.domain import (
    Failure,
    Game,
    Genre,
    KnownItem,
    Mod,
    Resource,
    ResourceType,
    Tag,
)
from openworkshop.errors import StorageError
from openworkshop.events import Change, Event, EventBatch, EventKind, game_change, mod_change
from openworkshop.ports import CatalogSummary, Page, StatRow, Transition
from openworkshop.progress import Phase, Progress
from openworkshop.signals import LocalWorkSignal
from openworkshop.states import ModState
from openworkshop_sqlite import dense, schema
from openworkshop_sqlite.connections import Connections
from openworkshop_sqlite.dense import dense_terms, gaps_of, refresh_dense
from openworkshop_sqlite.listing import game_page, mod_page, prepare_reader
from openworkshop_sqlite.records import (
    GAME_SELECT,
    MOD_COLUMNS,
    MOD_SELECT,
    RESOURCE_COLUMNS,
    chunks,
    failure_from_row,
    game_from_row,
    id_in,
    id_out,
    marks,
    mod_from_row,
    mod_params,
    resource_from_row,
    time_in,
    time_out,
    unique,
)
from openworkshop_sqlite.schema import add_vocabulary, fold_term_counts
from openworkshop_sqlite.search import name_words

__all__ = ["SqliteStorage"]

_MAX_TAG_BIT: Final = 63
"""Tags of a game get mask bits 0..62 in creation order (bit 63 would be the sign)."""
_DELAYS_KEPT: Final = 10_000
"""Processing delay samples kept per kind (the API averages the last 20)."""
_FILES_SENT: Final = "files_sent"
_EVENTS_TRIMMED: Final = "events_trimmed"
"""The flag holding the newest ``seq`` of the events trimmed."""
_EVENT_COLUMNS: Final = "seq, kind, at, mod_id, game_id, name, sha256, size, date_update, reason"
_CALL_SLOTS: Final = "upstream_call_slots"
"""The flag holding the current minute's taken call slots: ``<minute start> <count>``."""

# derived columns of a mod, from its tags and dependencies (``:id`` and ``:game_id``)
_TAG_MASK = """(SELECT coalesce(sum(1 << t.bit), 0) FROM mod_tags mt JOIN tags t ON t.id = mt.tag_id
    WHERE mt.mod_id = :id AND t.game_id IS :game_id AND t.bit IS NOT NULL)"""
_FOREIGN_TAGS = """(SELECT count(*) FROM mod_tags mt JOIN tags t ON t.id = mt.tag_id
    WHERE mt.mod_id = :id AND t.game_id IS NOT :game_id)"""
_TAG_NAMES = """(SELECT coalesce(group_concat(t.name, ' '), '')
    FROM mod_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.mod_id = :id)"""
_HAS_DEPS = "EXISTS (SELECT 1 FROM dependencies WHERE mod_id = :id)"

_INSERT_MOD = f"""
INSERT INTO mods ({MOD_SELECT}, has_deps, tag_mask, foreign_tags, tag_names, name_words, gaps)
VALUES ({", ".join(":" + c for c in MOD_COLUMNS)}, {_HAS_DEPS}, {_TAG_MASK}, {_FOREIGN_TAGS},
    {_TAG_NAMES}, :name_words, :gaps)
ON CONFLICT (id) DO NOTHING
"""
_WRITTEN = [c for c in MOD_COLUMNS if c not in ("id", "downloads")]
_UPDATE_MOD = f"""
UPDATE mods SET {", ".join(f"{c} = :{c}" for c in _WRITTEN)},
    tag_mask = {_TAG_MASK}, foreign_tags = {_FOREIGN_TAGS}, name_words = :name_words,
    gaps = :gaps
WHERE id = :id AND state = :expect
"""


_FOLD_AFTER: Final = 256
"""Texts recorded in ``text_added``/``text_removed`` before the writer folds them."""


def _fold_now_and_then(db: Database) -> None:
    """Fold the recorded texts into ``term_counts`` once there are enough of them (reads
    stay exact either way; folding keeps what they add up small)."""
    pending = db.execute(
        "SELECT (SELECT count(*) FROM text_added) + (SELECT count(*) FROM text_removed)"
    ).fetchone()[0]
    if pending >= _FOLD_AFTER:
        risen = [row[0] for row in db.execute("SELECT term FROM text_added_rows")]
        fold_term_counts(db)
        refresh_dense(db, risen)


def _gaps(db: Database, ident: int, name: str, short: str | None, description: str | None) -> str:
    """The ``gaps`` of mod ``ident`` with these texts and its tags as linked now."""
    terms = dense_terms(db)
    if not terms:
        return ""
    tag_names = db.execute(f"SELECT {_TAG_NAMES}", {"id": ident}).fetchone()[0]
    return gaps_of(db, terms, [name, short, description, tag_names])


def _page_of(total: int, query: Paging, items: list[Any]) -> Page[Any]:
    return Page(total=total, offset=query.offset, items=items)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@attrs.frozen
class _Links:
    """An association read the same way for every owner: mod -> tags, game -> genres."""

    table: str
    owner: str
    item: str
    items: str


_MOD_TAGS: Final = _Links(table="mod_tags", owner="mod_id", item="tag_id", items="tags")
_GAME_GENRES: Final = _Links(table="game_genres", owner="game_id", item="genre_id", items="genres")

L = TypeVar("L", Tag, Genre)


def _linked(
    db: Database,
    links: _Links,
    owners: Sequence[int],
    only: Sequence[int],
    make: Callable[..., L],
) -> dict[int, list[L]]:
    """Each owner's linked items ordered by id (only ``only`` when given); owners without
    any are left out."""
    wanted = unique(owners)
    kept = unique(id_in(i) for i in only)
    found: dict[int, list[L]] = {}
    for part in chunks([id_in(i) for i in wanted]):
        sql = (
            f"SELECT l.{links.owner}, i.id, i.name FROM {links.table} l JOIN {links.items} i "
            f"ON i.id = l.{links.item} WHERE l.{links.owner} IN ({marks(len(part))})"
        )
        params: list[Any] = list(part)
        if kept:
            sql += f" AND l.{links.item} IN ({marks(len(kept))})"
            params += kept
        for owner, ident, name in db.execute(sql + f" ORDER BY l.{links.owner}, i.id", params):
            found.setdefault(owner, []).append(make(id=id_out(ident), name=name))
    return {i: found[id_in(i)] for i in wanted if id_in(i) in found}


# --- the write pieces: each runs inside the caller's transaction -----------------------------


def _write_mod(
    db: Database, mod: Mod, params: dict[str, Any], words: str, expect: ModState | None
) -> bool:
    """Insert (``expect=None``) or compare-and-set update the row; whether it was written."""
    gaps = _gaps(db, params["id"], mod.name, mod.short_description, mod.description)
    if expect is None:
        cursor = db.execute(_INSERT_MOD, {**params, "gaps": gaps})
    else:
        cursor = db.execute(_UPDATE_MOD, {**params, "gaps": gaps, "expect": int(expect)})
    if cursor.rowcount != 1:
        return False
    add_vocabulary(db, [words])
    return True


def _delete_mod(db: Database, ident: int, expect: ModState | None) -> bool:
    """Remove the row (only in state ``expect`` when given) with its tag links,
    dependencies and resources; whether there was one."""
    if expect is None:
        cursor = db.execute("DELETE FROM mods WHERE id = ?", [ident])
    else:
        cursor = db.execute("DELETE FROM mods WHERE id = ? AND state = ?", [ident, int(expect)])
    if cursor.rowcount != 1:
        return False
    db.execute("DELETE FROM mod_tags WHERE mod_id = ?", [ident])
    db.execute("DELETE FROM dependencies WHERE mod_id = ?", [ident])
    db.execute("DELETE FROM resources WHERE owner_id = ?", [ident])
    return True


def _tag_id(db: Database, game: int | None, name: str) -> int:
    """The id of the game's tag ``name``, created (with the next mask bit) if new."""
    row = db.execute("SELECT id FROM tags WHERE game_id IS ? AND name = ?", [game, name]).fetchone()
    if row is not None:
        return int(row[0])
    count = db.execute("SELECT count(*) FROM tags WHERE game_id IS ?", [game]).fetchone()[0]
    bit = count if count < _MAX_TAG_BIT else None
    cursor = db.execute("INSERT INTO tags (game_id, name, bit) VALUES (?, ?, ?)", [game, name, bit])
    return int(cursor.lastrowid or 0)


def _replace_tags(db: Database, ident: int, game: int | None, names: Sequence[str]) -> bool:
    """Replace the mod's tag links (tags of ``game``, created on first use) and what its
    row derives from them; whether the mod has a row."""
    tag_ids = [_tag_id(db, game, name) for name in names]
    db.execute("DELETE FROM mod_tags WHERE mod_id = ?", [ident])
    db.conn.executemany(
        "INSERT INTO mod_tags (tag_id, mod_id) VALUES (?, ?)", [(t, ident) for t in tag_ids]
    )
    row = db.execute(
        "SELECT game_id, name, short_description, description FROM mods WHERE id = ?",
        [ident],
    ).fetchone()
    if row is None:
        return False
    db.execute(
        f"UPDATE mods SET tag_names = {_TAG_NAMES}, tag_mask = {_TAG_MASK}, "
        f"foreign_tags = {_FOREIGN_TAGS}, gaps = :gaps WHERE id = :id",
        {"id": ident, "game_id": row[0], "gaps": _gaps(db, ident, *row[1:])},
    )
    db.execute(
        "UPDATE mod_tags SET (listed, mask) = (SELECT state < 2, tag_mask FROM mods "
        "WHERE id = ?) WHERE mod_id = ?",
        [ident, ident],
    )
    return True


def _replace_dependencies(db: Database, ident: int, ids: Iterable[int]) -> None:
    rows = [(ident, position, id_in(dep)) for position, dep in enumerate(unique(ids))]
    db.execute("DELETE FROM dependencies WHERE mod_id = ?", [ident])
    db.conn.executemany(
        "INSERT INTO dependencies (mod_id, position, dependency_id) VALUES (?, ?, ?)", rows
    )
    db.execute(
        "UPDATE mods SET has_deps = ? WHERE id = ? AND has_deps IS NOT ?",
        [int(bool(rows)), ident, int(bool(rows))],
    )


def _replace_resources(
    db: Database,
    ident: int,
    resources: Iterable[tuple[ResourceType, str]],
    now: dt.datetime,
) -> None:
    at = time_in(now)
    rows = [(ident, ResourceType(kind).value, url, at) for kind, url in resources]
    db.execute("DELETE FROM resources WHERE owner_id = ?", [ident])
    db.conn.executemany(
        "INSERT INTO resources (owner_id, type, url, date_event) VALUES (?, ?, ?, ?)", rows
    )


def _put_failure(db: Database, failure: Failure) -> None:
    db.execute(
        "INSERT INTO failures (mod_id, reason, attempts, date, detail) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (mod_id) DO UPDATE SET "
        "reason = excluded.reason, attempts = excluded.attempts, date = excluded.date, "
        "detail = excluded.detail",
        [
            id_in(failure.mod_id),
            failure.reason.value,
            failure.attempts,
            time_in(failure.date),
            failure.detail,
        ],
    )


def _record(db: Database, change: Change | None) -> None:
    """Append the change to the events feed (inside the caller's transaction)."""
    if change is None:
        return
    db.execute(
        "INSERT INTO events (kind, at, mod_id, game_id, name, sha256, size, date_update, "
        "reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            change.kind.value,
            time_in(change.at),
            None if change.mod_id is None else id_in(change.mod_id),
            None if change.game_id is None else id_in(change.game_id),
            change.name,
            change.sha256,
            change.size,
            time_in(change.date_update),
            change.reason,
        ],
    )


def _event_from_row(row: Sequence[Any]) -> Event:
    seq, kind, at, mod_id, game_id, name, sha256, size, date_update, reason = row
    at_time = time_out(at)
    assert at_time is not None
    return Event(
        seq=seq,
        change=Change(
            kind=EventKind(kind),
            at=at_time,
            mod_id=None if mod_id is None else id_out(mod_id),
            game_id=None if game_id is None else id_out(game_id),
            name=name,
            sha256=sha256,
            size=size,
            date_update=time_out(date_update),
            reason=reason,
        ),
    )


def _events_trimmed(db: Database) -> int:
    row = db.execute("SELECT value FROM flags WHERE name = ?", [_EVENTS_TRIMMED]).fetchone()
    return int(row[0]) if row is not None else 0


class SqliteStorage:
    """The catalog, the queue and the statistics in one SQLite file.

    Several processes may open the same file: writes are transactions that SQLite
    serializes, claims are atomic, counters are incremented in SQL. ``readers`` is the
    number of threads (each with its own connection) that serve reads in this process.
    """

    def __init__(self, path: Path | str, *, readers: int = 4) -> None:
        self.path = Path(path)
        self._connections = Connections(self.path, readers=readers)
        self._work = LocalWorkSignal()

    def __repr__(self) -> str:
        return f"SqliteStorage({str(self.path)!r})"

    async def open(self) -> None:
        """Create the file or bring its schema up to date; start the threads."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self._connections.start(self._prepare, prepare_reader)

    @staticmethod
    def _prepare(db: Database) -> None:
        if not db.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')").fetchone()[0]:
            raise StorageError("this SQLite has no FTS5, which the catalog search needs")
        schema.create(db)
        dense.prepare(db)

    async def close(self) -> None:
        await self._connections.stop()

    def catalog_version(self) -> int | None:
        """A token that changes with every write, by any process, but the statistics'
        counters and delay samples (``None`` when it cannot be told): an answer read after
        the token was taken is current while the token stays the same
        (``openworkshop.ports.Versioned``, ``Connections.version``)."""
        return self._connections.version()

    async def _read(self, work: Any) -> Any:
        return await self._connections.read(work)

    async def _write(self, work: Any, *, quiet: bool = False) -> Any:
        return await self._connections.write(work, quiet=quiet)

    # --- mods -----------------------------------------------------------------------------

    @staticmethod
    def _mods_by_id(db: Database, ids: Sequence[int]) -> dict[int, Mod]:
        """Stored ids -> mods (missing ones left out)."""
        out: dict[int, Mod] = {}
        for part in chunks(ids):
            for row in db.execute(
                f"SELECT {MOD_SELECT} FROM mods WHERE id IN ({marks(len(part))})", list(part)
            ):
                out[row[0]] = mod_from_row(row)
        return out

    async def get_mod(self, mod_id: int) -> Mod | None:
        def work(db: Database) -> Mod | None:
            row = db.execute(
                f"SELECT {MOD_SELECT} FROM mods WHERE id = ?", [id_in(mod_id)]
            ).fetchone()
            return None if row is None else mod_from_row(row)

        return await self._read(work)

    async def get_mods(self, ids: Sequence[int]) -> dict[int, Mod]:
        wanted = unique(ids)

        def work(db: Database) -> dict[int, Mod]:
            found = self._mods_by_id(db, [id_in(i) for i in wanted])
            return {i: found[id_in(i)] for i in wanted if id_in(i) in found}

        return await self._read(work)

    async def put_mod(self, mod: Mod, *, expect: ModState | None) -> bool:
        return await self.apply(Transition(mod_id=mod.id, expect=expect, after=mod))

    async def apply(self, transition: Transition) -> bool:
        """One transaction: the compare-and-set on the row, then what comes with it."""
        after = transition.after
        words = None if after is None else name_words(after.name)
        params = None if after is None else {**mod_params(after), "name_words": words}
        ident = id_in(transition.mod_id)
        expect = transition.expect
        page = transition.page
        failure = transition.failure

        def work(db: Database) -> bool:
            row = db.execute(f"SELECT {MOD_SELECT} FROM mods WHERE id = ?", [ident]).fetchone()
            current = None if row is None else mod_from_row(row)
            if after is None:
                written = _delete_mod(db, ident, expect)
            else:
                assert params is not None and words is not None
                written = _write_mod(db, after, params, words, expect)
            if not written:
                return False
            if page is not None:
                game = None if after is None or after.game_id is None else id_in(after.game_id)
                _replace_tags(db, ident, game, unique(page.tags))
                _replace_dependencies(db, ident, page.dependencies)
                _replace_resources(db, ident, page.resources, page.at)
            if after is None or after.state is not ModState.DOWNLOADING:
                db.execute("DELETE FROM progress WHERE mod_id = ?", [ident])
            if failure is not None:
                _put_failure(db, failure)
            elif transition.clears_failure:
                db.execute("DELETE FROM failures WHERE mod_id = ?", [ident])
            _record(db, mod_change(current, after, failure=failure, at=transition.at))
            _fold_now_and_then(db)
            return True

        return await self._write(work)

    async def claim(
        self, state: ModState, limit: int, *, now: dt.datetime, lease_until: dt.datetime
    ) -> list[Mod]:
        at, until = time_in(now), time_in(lease_until)
        if state is ModState.QUEUED:
            due = (
                "(state = 3 AND (not_before IS NULL OR not_before <= :now))"
                " OR (state = 2 AND (lease_until IS NULL OR lease_until < :now))"
            )
            change = "state = 2, lease_until = ?"
        elif state is ModState.AVAILABLE:
            due = "state = 1 AND (lease_until IS NULL OR lease_until < :now)"
            change = "lease_until = ?"
        else:
            raise ValueError(f"only QUEUED and AVAILABLE mods are claimed, not {state!r}")

        def work(db: Database) -> list[Mod]:
            if limit <= 0:
                return []
            ids = [
                row[0]
                for row in db.execute(
                    f"SELECT id FROM mods WHERE {due} ORDER BY date_queued, id LIMIT :limit",
                    {"now": at, "limit": limit},
                )
            ]
            for part in chunks(ids):
                db.execute(
                    f"UPDATE mods SET {change} WHERE id IN ({marks(len(part))})", [until, *part]
                )
                db.execute(f"DELETE FROM progress WHERE mod_id IN ({marks(len(part))})", part)
            found = self._mods_by_id(db, ids)
            return [found[i] for i in ids]

        return await self._write(work)

    async def renew(self, ids: Sequence[int], *, lease_until: dt.datetime) -> None:
        stored = unique(id_in(i) for i in ids)
        until = time_in(lease_until)

        def work(db: Database) -> None:
            for part in chunks(stored):
                db.execute(
                    f"UPDATE mods SET lease_until = ? WHERE id IN ({marks(len(part))})",
                    [until, *part],
                )

        await self._write(work)

    async def add_download(self, mod_id: int, *, now: dt.datetime) -> None:
        params = [time_in(now), id_in(mod_id)]

        def work(db: Database) -> None:
            db.execute(
                "UPDATE mods SET downloads = downloads + 1, date_request = ? WHERE id = ?", params
            )

        await self._write(work)

    async def mod_states(self, ids: Sequence[int]) -> dict[int, ModState]:
        wanted = unique(ids)

        def work(db: Database) -> dict[int, ModState]:
            found: dict[int, int] = {}
            for part in chunks([id_in(i) for i in wanted]):
                found.update(
                    db.execute(
                        f"SELECT id, state FROM mods WHERE id IN ({marks(len(part))})", list(part)
                    ).fetchall()
                )
            return {i: ModState(found[id_in(i)]) for i in wanted if id_in(i) in found}

        return await self._read(work)

    async def queue_size(self) -> int:
        def work(db: Database) -> int:
            return db.execute("SELECT count(*) FROM mods WHERE state IN (2, 3)").fetchone()[0]

        return await self._read(work)

    async def archived(self) -> list[tuple[int, str]]:
        def work(db: Database) -> list[tuple[int, str]]:
            rows = db.execute(
                "SELECT id, archive_key FROM mods WHERE archive_key IS NOT NULL ORDER BY id"
            )
            return sorted((id_out(ident), key) for ident, key in rows)

        return await self._read(work)

    # --- catalog ----------------------------------------------------------------------------

    async def list_mods(self, query: ModCriteria) -> Page[Mod]:
        def work(db: Database) -> Page[Mod]:
            total, ids = mod_page(db, query)
            found = self._mods_by_id(db, ids)
            return _page_of(total, query.page, [found[i] for i in ids])

        return await self._read(work)

    async def set_mod_tags(self, mod_id: int, game_id: int | None, names: Sequence[str]) -> None:
        ident = id_in(mod_id)
        game = None if game_id is None else id_in(game_id)
        wanted = unique(names)

        def work(db: Database) -> None:
            if _replace_tags(db, ident, game, wanted):
                _fold_now_and_then(db)

        await self._write(work)

    async def set_dependencies(self, mod_id: int, ids: Sequence[int]) -> None:
        ident = id_in(mod_id)
        await self._write(lambda db: _replace_dependencies(db, ident, ids))

    async def dependencies(self, mod_id: int, limit: int) -> tuple[list[int], int]:
        ident = id_in(mod_id)

        def work(db: Database) -> tuple[list[int], int]:
            total = db.execute(
                "SELECT count(*) FROM dependencies WHERE mod_id = ?", [ident]
            ).fetchone()[0]
            rows = db.execute(
                "SELECT dependency_id FROM dependencies WHERE mod_id = ? ORDER BY position LIMIT ?",
                [ident, max(limit, 0)],
            )
            return [id_out(row[0]) for row in rows], total

        return await self._read(work)

    async def set_resources(
        self, mod_id: int, resources: Sequence[tuple[ResourceType, str]], *, now: dt.datetime
    ) -> None:
        ident = id_in(mod_id)
        await self._write(lambda db: _replace_resources(db, ident, resources, now))

    async def list_resources(
        self, mod_ids: Sequence[int], types: Sequence[ResourceType], page: Paging
    ) -> Page[Resource]:
        owners = unique(id_in(i) for i in mod_ids)
        kinds = unique(ResourceType(t).value for t in types)

        def work(db: Database) -> Page[Resource]:
            if not owners:
                return _page_of(0, page, [])
            where = f"owner_id IN ({marks(len(owners))})"
            params: list[Any] = list(owners)
            if kinds:
                where += f" AND type IN ({marks(len(kinds))})"
                params += kinds
            total = db.execute(f"SELECT count(*) FROM resources WHERE {where}", params).fetchone()[
                0
            ]
            rows = db.execute(
                f"SELECT {RESOURCE_COLUMNS} FROM resources WHERE {where} ORDER BY id "
                "LIMIT ? OFFSET ?",
                [*params, page.page_size, page.offset],
            )
            return _page_of(total, page, [resource_from_row(row) for row in rows])

        return await self._read(work)

    async def get_game(self, game_id: int) -> Game | None:
        def work(db: Database) -> Game | None:
            row = db.execute(
                f"SELECT {GAME_SELECT} FROM games WHERE id = ?", [id_in(game_id)]
            ).fetchone()
            return None if row is None else game_from_row(row)

        return await self._read(work)

    async def put_game(self, game: Game, genres: Sequence[Genre]) -> None:
        ident = id_in(game.id)
        values = {
            "id": ident,
            "name": game.name,
            "type": game.type,
            "logo": game.logo,
            "source": game.source,
            "creation_date": time_in(game.creation_date),
            "short_description": game.short_description,
            "description": game.description,
        }
        genre_rows = list({id_in(g.id): g.name for g in genres}.items())

        def work(db: Database) -> None:
            known = db.execute("SELECT 1 FROM games WHERE id = ?", [ident]).fetchone()
            _record(db, game_change(known is not None, game))
            db.execute(
                """
                INSERT INTO games (id, name, type, logo, source, creation_date,
                    short_description, description, mods_count, mods_downloads)
                VALUES (:id, :name, :type, :logo, :source, :creation_date,
                    :short_description, :description,
                    (SELECT coalesce(sum(mods), 0) FROM mod_counts WHERE game_id = :id),
                    (SELECT coalesce(sum(downloads), 0) FROM mod_counts WHERE game_id = :id))
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type,
                    logo = excluded.logo, source = excluded.source,
                    creation_date = excluded.creation_date,
                    short_description = excluded.short_description,
                    description = excluded.description
                """,
                values,
            )
            db.conn.executemany(
                "INSERT INTO genres (id, name) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                genre_rows,
            )
            db.execute("DELETE FROM game_genres WHERE game_id = ?", [ident])
            db.conn.executemany(
                "INSERT INTO game_genres (game_id, genre_id) VALUES (?, ?)",
                [(ident, genre) for genre, _ in genre_rows],
            )

        await self._write(work)

    async def list_games(self, query: GameCriteria) -> Page[Game]:
        def work(db: Database) -> Page[Game]:
            total, ids = game_page(db, query)
            found = {}
            if ids:
                for row in db.execute(
                    f"SELECT {GAME_SELECT} FROM games WHERE id IN ({marks(len(ids))})", ids
                ):
                    found[row[0]] = game_from_row(row)
            return _page_of(total, query.page, [found[i] for i in ids])

        return await self._read(work)

    async def list_tags(self, game_id: int, page: Paging) -> Page[Tag]:
        game = id_in(game_id)

        def work(db: Database) -> Page[Tag]:
            total = db.execute("SELECT count(*) FROM tags WHERE game_id = ?", [game]).fetchone()[0]
            rows = db.execute(
                "SELECT id, name FROM tags WHERE game_id = ? ORDER BY id LIMIT ? OFFSET ?",
                [game, page.page_size, page.offset],
            )
            return _page_of(total, page, [Tag(id=ident, name=name) for ident, name in rows])

        return await self._read(work)

    async def mod_tags(
        self, mod_ids: Sequence[int], tag_ids: Sequence[int]
    ) -> dict[int, list[Tag]]:
        return await self._read(lambda db: _linked(db, _MOD_TAGS, mod_ids, tag_ids, Tag))

    async def list_genres(self, page: Paging) -> Page[Genre]:
        def work(db: Database) -> Page[Genre]:
            total = db.execute("SELECT count(*) FROM genres").fetchone()[0]
            rows = db.execute(
                "SELECT id, name FROM genres ORDER BY id LIMIT ? OFFSET ?",
                [page.page_size, page.offset],
            )
            return _page_of(
                total, page, [Genre(id=id_out(ident), name=name) for ident, name in rows]
            )

        return await self._read(work)

    async def game_genres(
        self, game_ids: Sequence[int], genre_ids: Sequence[int]
    ) -> dict[int, list[Genre]]:
        return await self._read(lambda db: _linked(db, _GAME_GENRES, game_ids, genre_ids, Genre))

    # --- failures ---------------------------------------------------------------------------

    async def get_failure(self, mod_id: int) -> Failure | None:
        def work(db: Database) -> Failure | None:
            row = db.execute(
                "SELECT mod_id, reason, attempts, date, detail FROM failures WHERE mod_id = ?",
                [id_in(mod_id)],
            ).fetchone()
            return None if row is None else failure_from_row(row)

        return await self._read(work)

    async def get_failures(self, ids: Sequence[int]) -> dict[int, Failure]:
        wanted = unique(ids)

        def work(db: Database) -> dict[int, Failure]:
            found: dict[int, Failure] = {}
            for part in chunks([id_in(i) for i in wanted]):
                for row in db.execute(
                    "SELECT mod_id, reason, attempts, date, detail FROM failures "
                    f"WHERE mod_id IN ({marks(len(part))})",
                    list(part),
                ):
                    failure = failure_from_row(row)
                    found[failure.mod_id] = failure
            return found

        return await self._read(work)

    # --- events -------------------------------------------------------------------------------

    async def read_events(self, after: int, limit: int) -> EventBatch:
        def work(db: Database) -> EventBatch:
            rows = db.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                [after, max(limit, 0)],
            ).fetchall()
            latest = db.execute(
                "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'events'"
            ).fetchone()[0]
            return EventBatch(
                events=[_event_from_row(r) for r in rows],
                latest=int(latest),
                trimmed=_events_trimmed(db),
            )

        return await self._read(work)

    async def last_mod_events(self, ids: Sequence[int]) -> dict[int, Event]:
        wanted = unique(ids)

        def work(db: Database) -> dict[int, Event]:
            found: dict[int, Event] = {}
            for part in chunks([id_in(i) for i in wanted]):
                for row in db.execute(
                    f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq IN (SELECT max(seq) "
                    f"FROM events WHERE mod_id IN ({marks(len(part))}) GROUP BY mod_id)",
                    list(part),
                ):
                    event = _event_from_row(row)
                    assert event.change.mod_id is not None
                    found[event.change.mod_id] = event
            return found

        return await self._read(work)

    async def trim_events(self, before: dt.datetime) -> int:
        until = time_in(before)

        def work(db: Database) -> int:
            last = db.execute("SELECT max(seq) FROM events WHERE at < ?", [until]).fetchone()[0]
            if last is None:
                return 0
            cursor = db.execute("DELETE FROM events WHERE seq <= ?", [last])
            db.execute(
                "INSERT INTO flags (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                "SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                [_EVENTS_TRIMMED, str(last)],
            )
            return int(cursor.rowcount)

        return await self._write(work)

    # --- statistics and flags ---------------------------------------------------------------

    async def count(self, type: str, *, at: dt.datetime, n: int = 1) -> None:
        when = utc(at)
        day, hour = when.date().isoformat(), when.hour

        def work(db: Database) -> None:
            db.execute(
                "INSERT INTO stats_hours (day, hour, type, count) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (day, hour, type) DO UPDATE SET count = count + excluded.count",
                [day, hour, type, n],
            )
            db.execute(
                "INSERT INTO stats_days (day, type, count) VALUES (?, ?, ?) "
                "ON CONFLICT (day, type) DO UPDATE SET count = count + excluded.count",
                [day, type, n],
            )

        await self._write(work, quiet=True)  # no kept answer shows it

    async def hour_stats(self, day: dt.date, start_hour: int, end_hour: int) -> list[StatRow]:
        start = _day_start(day)

        def work(db: Database) -> list[StatRow]:
            rows = db.execute(
                "SELECT hour, type, count FROM stats_hours WHERE day = ? AND hour BETWEEN ? AND ? "
                "AND count > 0 ORDER BY hour, type",
                [day.isoformat(), start_hour, end_hour],
            )
            return [
                StatRow(type=kind, count=count, at=start + dt.timedelta(hours=hour))
                for hour, kind, count in rows
            ]

        return await self._read(work)

    async def day_stats(self, start: dt.date, end: dt.date) -> list[StatRow]:
        def work(db: Database) -> list[StatRow]:
            rows = db.execute(
                "SELECT day, type, count FROM stats_days WHERE day BETWEEN ? AND ? "
                "AND count > 0 ORDER BY day, type",
                [start.isoformat(), end.isoformat()],
            )
            return [
                StatRow(type=kind, count=count, at=_day_start(dt.date.fromisoformat(day)))
                for day, kind, count in rows
            ]

        return await self._read(work)

    async def add_delay(self, kind: str, ms: int, *, at: dt.datetime) -> None:
        when = time_in(at)

        def work(db: Database) -> None:
            cursor = db.execute(
                "INSERT INTO delays (kind, ms, at) VALUES (?, ?, ?)", [kind, ms, when]
            )
            if (cursor.lastrowid or 0) % 1000 == 0:  # now and then, forget old samples
                db.execute(
                    "DELETE FROM delays WHERE kind = ? AND id <= (SELECT id FROM delays "
                    "WHERE kind = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    [kind, kind, _DELAYS_KEPT],
                )

        await self._write(work, quiet=True)  # no kept answer shows it

    async def delays(self, kind: str, last: int) -> list[int]:
        def work(db: Database) -> list[int]:
            rows = db.execute(
                "SELECT ms FROM delays WHERE kind = ? ORDER BY id DESC LIMIT ?",
                [kind, max(last, 0)],
            )
            return [row[0] for row in rows]

        return await self._read(work)

    async def summary(self) -> CatalogSummary:
        def work(db: Database) -> CatalogSummary:
            def one(sql: str, *params: Any) -> int:
                return int(db.execute(sql, params).fetchone()[0] or 0)

            return CatalogSummary(
                mods=one("SELECT sum(mods) FROM mod_counts"),
                games=one("SELECT count(*) FROM games"),
                genres=one("SELECT count(*) FROM genres"),
                mods_tags=one("SELECT count(*) FROM tags"),
                mods_dependencies=one("SELECT count(DISTINCT mod_id) FROM dependencies"),
                statistics_days=one("SELECT count(DISTINCT day) FROM stats_days"),
                mods_sent_count=one(
                    "SELECT sum(count) FROM stats_days WHERE type = ?", _FILES_SENT
                ),
            )

        return await self._read(work)

    async def get_flag(self, name: str) -> str | None:
        def work(db: Database) -> str | None:
            row = db.execute("SELECT value FROM flags WHERE name = ?", [name]).fetchone()
            return None if row is None else row[0]

        return await self._read(work)

    async def set_flag(self, name: str, value: str | None) -> None:
        def work(db: Database) -> None:
            if value is None:
                db.execute("DELETE FROM flags WHERE name = ?", [name])
            else:
                db.execute(
                    "INSERT INTO flags (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    [name, value],
                )

        await self._write(work)

    async def take_call_slot(self, minute: dt.datetime, limit: int) -> bool:
        start = utc(minute).replace(second=0, microsecond=0).isoformat()

        def work(db: Database) -> bool:
            row = db.execute("SELECT value FROM flags WHERE name = ?", [_CALL_SLOTS]).fetchone()
            held, _, taken = (row[0] if row else "").partition(" ")
            used = int(taken) if held == start and taken.isdigit() else 0
            if used >= limit:
                return False
            db.execute(
                "INSERT INTO flags (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [_CALL_SLOTS, f"{start} {used + 1}"],
            )
            return True

        return await self._write(work)

    # --- bulk loading (not part of the port) ------------------------------------------------

    async def bulk_load(
        self,
        *,
        games: Iterable[tuple[Game, Sequence[Genre]]] = (),
        mods: Iterable[Mod] = (),
        tags: Mapping[int, Sequence[str]] | None = None,
        dependencies: Mapping[int, Sequence[int]] | None = None,
    ) -> None:
        """Load a large catalog in one transaction, much faster than through the port.

        ``tags`` maps a mod id to its tag names (tags of the mod's game, created on first
        use). Indexes and triggers are set aside during the load and rebuilt after it, with
        every counter and search index recomputed. Meant for an offline store (seeding,
        imports, benchmarks): other processes see the catalog only once it is complete.
        """
        from openworkshop_sqlite.loading import load

        await self._write(
            lambda db: load(
                db,
                games=games,
                mods=mods,
                tags={} if tags is None else tags,
                dependencies={} if dependencies is None else dependencies,
            )
        )

    # --- what Steam said of items ---------------------------------------------------------

    async def remember_items(self, items: Sequence[KnownItem]) -> None:
        rows = [
            (
                id_in(item.id),
                int(item.found),
                item.name,
                item.size,
                int(item.is_collection),
                None if item.children is None else json.dumps(list(item.children)),
                time_in(item.checked),
            )
            for item in items
        ]

        def work(db: Database) -> None:
            db.conn.executemany(
                "INSERT INTO known_items (id, found, name, size, is_collection, children, "
                "checked) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "found = excluded.found, name = excluded.name, size = excluded.size, "
                "is_collection = excluded.is_collection, children = excluded.children, "
                "checked = excluded.checked",
                rows,
            )

        if rows:
            await self._write(work)

    async def known_items(self, ids: Sequence[int]) -> dict[int, KnownItem]:
        wanted = unique(ids)

        def work(db: Database) -> dict[int, KnownItem]:
            found: dict[int, KnownItem] = {}
            for batch in chunks(wanted):
                for row in db.execute(
                    "SELECT id, found, name, size, is_collection, children, checked "
                    f"FROM known_items WHERE id IN ({marks(len(batch))})",
                    [id_in(i) for i in batch],
                ):
                    checked = time_out(row[6])
                    assert checked is not None
                    found[id_out(row[0])] = KnownItem(
                        id=id_out(row[0]),
                        found=bool(row[1]),
                        name=row[2],
                        size=row[3],
                        is_collection=bool(row[4]),
                        children=None if row[5] is None else tuple(json.loads(row[5])),
                        checked=checked,
                    )
            return found

        return await self._read(work) if wanted else {}

    # --- the work signal ----------------------------------------------------------------
    # SQLite has no channel between processes: the workers of this process are woken, and
    # those of other processes on the file find the work at their next look (every second).

    async def signal_work(self) -> None:
        await self._work.signal_work()

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
            for r in records
        ]

        def work(db: Database) -> None:
            # only for a mod in state 2: a late write after its transition is dropped
            db.conn.executemany(
                "INSERT INTO progress (mod_id, phase, done, total, started, updated) "
                "SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS "
                "(SELECT 1 FROM mods WHERE id = ?1 AND state = 2) "
                "ON CONFLICT (mod_id) DO UPDATE SET phase = excluded.phase, "
                "done = excluded.done, total = excluded.total, started = excluded.started, "
                "updated = excluded.updated",
                rows,
            )

        if rows:
            await self._write(work)

    async def progress_records(self, ids: Sequence[int]) -> dict[int, Progress]:
        wanted = unique(ids)

        def work(db: Database) -> dict[int, Progress]:
            found: dict[int, Progress] = {}
            for batch in chunks(wanted):
                for row in db.execute(
                    "SELECT mod_id, phase, done, total, started, updated FROM progress "
                    f"WHERE mod_id IN ({marks(len(batch))})",
                    [id_in(i) for i in batch],
                ):
                    started, updated = time_out(row[4]), time_out(row[5])
                    assert started is not None and updated is not None
                    found[id_out(row[0])] = Progress(
                        mod_id=id_out(row[0]),
                        phase=Phase(row[1]),
                        done=row[2],
                        total=row[3],
                        started=started,
                        updated=updated,
                    )
            return found

        return await self._read(work) if wanted else {}

    async def queue_positions(self, ids: Sequence[int]) -> dict[int, int]:
        wanted = unique(ids)

        def work(db: Database) -> dict[int, int]:
            found: dict[int, int] = {}
            for batch in chunks(wanted):
                # each a range count on mods_by_state (state, date_queued, id)
                for row in db.execute(
                    "SELECT m.id, (SELECT count(*) FROM mods o WHERE o.state = 3 AND "
                    "(o.date_queued < m.date_queued OR (o.date_queued IS m.date_queued "
                    "AND o.id < m.id) OR (o.date_queued IS NULL AND m.date_queued IS NOT NULL)"
                    ")) FROM mods m "
                    f"WHERE m.state = 3 AND m.id IN ({marks(len(batch))})",
                    [id_in(i) for i in batch],
                ):
                    found[id_out(row[0])] = row[1] + 1
            return found

        return await self._read(work) if wanted else {}
