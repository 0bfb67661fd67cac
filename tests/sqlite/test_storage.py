"""The SQLite file itself: durability, schema versions, pragmas, threads, errors, bulk loads."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
from sqlite_utils import Database

import openworkshop_sqlite.connections as connections
from openworkshop.criteria import GameCriteria, ModCriteria, ModSort, Paging
from openworkshop.domain import (
    Archive,
    Failure,
    FailureReason,
    Game,
    Genre,
    Mod,
    ResourceType,
)
from openworkshop.errors import StorageError
from openworkshop.ports import Storage, Transition
from openworkshop.states import ModState
from openworkshop_sqlite import SqliteStorage, dense
from openworkshop_sqlite import storage as storage_module
from openworkshop_sqlite.schema import SCHEMA, VERSION
from openworkshop_sqlite.search import FILTER_FACETS
from tests.sqlite.audit import audit

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    store = SqliteStorage(tmp_path / "db.sqlite3")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def fill(storage: Storage) -> None:
    """A bit of everything the storage holds."""
    await storage.put_game(
        Game(id=10, name="RimWorld", creation_date=T0), [Genre(id=1, name="Indie")]
    )
    for i in range(1, 6):
        await storage.put_mod(
            Mod(
                id=i,
                name=f"Better thing {i}",
                game_id=10,
                state=ModState.READY if i < 5 else ModState.QUEUED,
                downloads=i,
                date_creation=T0,
                archive=Archive(key=f"10/{i}.zip", size=i, sha256="0" * 64),
            ),
            expect=None,
        )
        await storage.set_mod_tags(i, 10, ["Mod", f"T{i % 2}"])
    await storage.set_dependencies(1, [2, 3])
    await storage.set_resources(1, [(ResourceType.LOGO, "http://x/l.png")], now=T0)
    # a failure outlives its mod's row: a queued mod 9 fails for good and leaves
    queued = Mod(id=9, state=ModState.QUEUED)
    assert await storage.put_mod(queued, expect=None)
    failure = Failure(mod_id=9, reason=FailureReason.NOT_FOUND, attempts=1, date=T0)
    assert await storage.apply(Transition.of(queued, None, failure=failure))
    await storage.count("files_sent", at=T0, n=3)
    await storage.add_delay("fast", 12, at=T0)
    await storage.set_flag("paused_until", "x")
    await storage.add_download(2, now=T0)


async def snapshot(storage: Storage) -> tuple[object, ...]:
    """Everything a client could read back."""
    return (
        await storage.get_mods(range(1, 7)),
        await storage.list_mods(ModCriteria(q="better", sort=ModSort.NAME)),
        await storage.list_mods(ModCriteria(name="thing", tags=(1, 2))),
        await storage.get_game(10),
        await storage.list_games(GameCriteria(name="rim")),
        await storage.list_tags(10, Paging()),
        await storage.mod_tags([1, 2, 3], []),
        await storage.game_genres([10], []),
        await storage.dependencies(1, 10),
        await storage.list_resources([1], [], Paging()),
        await storage.get_failure(9),
        await storage.day_stats(T0.date(), T0.date()),
        await storage.hour_stats(T0.date(), 0, 23),
        await storage.delays("fast", 5),
        await storage.summary(),
        await storage.get_flag("paused_until"),
        await storage.queue_size(),
    )


async def test_reopening_keeps_everything(tmp_path: Path) -> None:
    """Close and open the file again: every read answers as before."""
    path = tmp_path / "db.sqlite3"
    first = SqliteStorage(path)
    await first.open()
    await fill(first)
    before = await snapshot(first)
    await first.close()
    second = SqliteStorage(path)
    await second.open()
    assert await snapshot(second) == before
    await second.close()
    assert audit(path) == []


async def test_implements_the_storage_port(storage: SqliteStorage) -> None:
    """Every method of the Storage protocol is there (the core wires it as a Storage)."""
    assert isinstance(storage, Storage)


async def test_file_is_in_wal_mode_at_the_latest_version(storage: SqliteStorage) -> None:
    """WAL journal (readers never wait for the writer) and user_version = the schema's."""
    with sqlite3.connect(storage.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA user_version").fetchone() == (VERSION,)
    assert VERSION == 7


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5])
async def test_a_file_of_a_development_schema_is_refused_as_it_is(
    tmp_path: Path, version: int
) -> None:
    """Versions 1 to 5 were development builds, squashed into version 6: such a file is
    refused with a message naming its version and what to do, and left as it was."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE mods (id INTEGER PRIMARY KEY, state INTEGER NOT NULL)")
        conn.execute("INSERT INTO mods VALUES (1, 0)")
        conn.execute(f"PRAGMA user_version = {version}")
    storage = SqliteStorage(path)
    with pytest.raises(StorageError, match=f"schema version {version}, from a development") as e:
        await storage.open()
    assert "move the file away" in str(e.value)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (version,)
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        assert tables == [("mods",)]
        assert conn.execute("SELECT * FROM mods").fetchall() == [(1, 0)]


async def test_a_file_of_schema_6_is_migrated_with_its_rows(tmp_path: Path) -> None:
    """Schema 6 (the first release) lacks ``known_items``, ``progress`` and the events feed:
    opening it adds them and sets the current version; its rows stay as they were, and changes from
    then on are recorded."""
    from openworkshop.domain import KnownItem
    from openworkshop.progress import Phase, Progress
    from openworkshop_sqlite.schema import MIGRATIONS

    path = tmp_path / "v6.sqlite3"
    first = SqliteStorage(path)
    await first.open()
    await fill(first)
    await first.put_mod(Mod(id=1001, name="Kept", state=ModState.READY), expect=None)
    await first.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE known_items")
        conn.execute("DROP TABLE progress")
        conn.execute("DROP TABLE events")
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'events'")
        conn.execute("PRAGMA user_version = 6")
    assert set(MIGRATIONS) == {6}
    again = SqliteStorage(path)
    await again.open()
    try:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone() == (VERSION,)
        assert (await again.get_mod(1)) is not None
        item = KnownItem(id=5, children=(1,), checked=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        await again.remember_items([item])
        assert await again.known_items([5]) == {5: item}
        kept = await again.get_mod(1001)
        assert kept is not None and kept.name == "Kept"
        archive = Archive(key="1001/a.zip", size=3, sha256="c" * 64)
        assert await again.put_mod(attrs.evolve(kept, archive=archive), expect=ModState.READY)
        assert [e.seq for e in (await again.read_events(0, 10)).events] == [1]
        queued = Mod(id=1002, name="Queued", state=ModState.QUEUED)
        await again.put_mod(queued, expect=None)
        taken = await again.claim(
            ModState.QUEUED,
            100,
            now=dt.datetime.now(dt.UTC),
            lease_until=dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
        )
        assert 1002 in {m.id for m in taken}
        moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        record = Progress(
            mod_id=1002, phase=Phase.DOWNLOADING, done=1, started=moment, updated=moment
        )
        await again.record_progress([record])
        assert await again.progress_records([1002]) == {1002: record}
    finally:
        await again.close()


async def test_a_file_of_the_schema_opens_again_and_audits_clean(tmp_path: Path) -> None:
    """A file the schema created opens as it is: nothing is created again, its rows read
    back, the audit finds nothing."""
    path = tmp_path / "db.sqlite3"
    first = SqliteStorage(path)
    await first.open()
    await fill(first)
    await first.close()

    def objects() -> list[tuple[str, str, str]]:
        with sqlite3.connect(path) as conn:
            return conn.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY name"
            ).fetchall()

    created = objects()
    assert len([sql for _, _, sql in created if sql]) > len(SCHEMA)  # (with FTS5's own)
    second = SqliteStorage(path)
    await second.open()
    assert [m.id for m in (await second.list_mods(ModCriteria(q="better"))).items] == [1, 2, 3, 4]
    await second.close()
    assert objects() == created
    assert audit(path) == []


@pytest.mark.parametrize("rewrite", [0.5, 0.0], ids=["entries-rewritten", "index-rebuilt"])
async def test_a_bulk_load_marks_the_dense_words_of_every_mod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rewrite: float
) -> None:
    """A bulk load cleans the indexed texts of the marker characters, makes the common
    words dense and marks every mod, listed or not, at once."""
    monkeypatch.setattr(dense, "MIN_MODS", 10)
    monkeypatch.setattr(dense, "REWRITE", rewrite)
    path = tmp_path / "bulk.sqlite3"
    forged = FILTER_FACETS["game"].token(20)  # a game's token, spelt in a description
    mods = [
        Mod(id=ident, name=f"Rail {ident}", game_id=10 + 10 * (ident % 3 == 0),
            state=ModState((ident % 5 == 4 and 2) or 0), downloads=ident,
            description=("the " if ident % 8 else "") + ("red" if ident % 2 else forged))
        for ident in range(1, 41)
    ]  # fmt: skip
    storage = SqliteStorage(path)
    await storage.open()
    await storage.bulk_load(games=[], mods=mods, tags={}, dependencies={})
    listed = [i for i in range(1, 41) if i % 5 != 4]
    with_the = [i for i in listed if i % 8]
    for q, games, expected in (
        ("the", (), with_the),
        ("THE rail", (), with_the),
        ("the", (20,), [i for i in with_the if i % 3 == 0]),
        ("rail", (20,), [i for i in listed if i % 3 == 0]),
    ):
        query = ModCriteria(q=q, games=games, sort=ModSort.DOWNLOADS, page=Paging(page_size=50))
        page = await storage.list_mods(query)
        assert (page.total, [m.id for m in page.items]) == (len(expected), expected), q
    await storage.close()
    with sqlite3.connect(path) as conn:
        dense_terms = conn.execute("SELECT term, ready FROM dense_terms").fetchall()
        assert dense_terms == [("rail", 1), ("the", 1)]  # (q "the rail": no word left)
        lacking = {i for (i,) in conn.execute("SELECT id FROM mods WHERE gaps != ''")}
    assert lacking == {i for i in range(1, 41) if i % 8 == 0}  # (listed or not)
    assert audit(path) == []


async def test_a_file_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    """A schema version this release does not know is an error, not a guess."""
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {VERSION + 1}")
    storage = SqliteStorage(path)
    with pytest.raises(StorageError, match="newer"):
        await storage.open()


async def test_sqlite_errors_become_storage_errors(tmp_path: Path) -> None:
    """A file that is not a database, a folder, a closed store: StorageError each time."""
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(StorageError):
        await SqliteStorage(garbage).open()
    (tmp_path / "folder").mkdir()
    with pytest.raises(StorageError):
        await SqliteStorage(tmp_path / "folder").open()
    closed = SqliteStorage(tmp_path / "closed.sqlite3")
    await closed.open()
    await closed.close()
    with pytest.raises(StorageError):
        await closed.get_mod(1)
    with pytest.raises(StorageError):
        await closed.set_flag("a", "b")


async def test_blocking_calls_stay_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every statement runs on a worker thread, writes all on the one writer thread."""
    seen: list[tuple[int, str]] = []
    real_connect = connections.connect

    def traced(path: Path) -> Database:
        db = real_connect(path)
        db.conn.set_trace_callback(lambda sql: seen.append((threading.get_ident(), sql)))
        return db

    monkeypatch.setattr(connections, "connect", traced)
    storage = SqliteStorage(tmp_path / "db.sqlite3", readers=3)
    await storage.open()
    await fill(storage)
    await snapshot(storage)
    await storage.close()
    loop_thread = threading.get_ident()
    assert seen and all(thread != loop_thread for thread, _ in seen)
    writers = {thread for thread, sql in seen if sql.lstrip().upper().startswith("BEGIN IMMEDIATE")}
    assert len(writers) == 1


async def test_bulk_load_answers_like_the_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalog loaded in bulk reads back exactly as one written through the port (with
    a dense word, "mod", marked by both)."""
    monkeypatch.setattr(dense, "MIN_MODS", 10)
    monkeypatch.setattr(storage_module, "_FOLD_AFTER", 16)
    mods = [
        Mod(id=i, name=f"Mod {i} {'red' if i % 2 else 'blue'}", game_id=10 + i % 3,
            state=ModState(i % 4), downloads=i * 7 % 11, size=i, source="steam")
        for i in range(1, 120)
    ]  # fmt: skip
    tags = {m.id: [f"t{m.id % 5}", f"u{m.id % 3}"] for m in mods}
    deps = {m.id: [m.id + 1] for m in mods if m.id % 4 == 0}
    games = [(Game(id=g, name=f"Game {g}"), [Genre(id=g, name=f"G{g}")]) for g in (10, 11, 12)]

    by_port = SqliteStorage(tmp_path / "port.sqlite3")
    await by_port.open()
    for game, genres in games:
        await by_port.put_game(game, genres)
    for m in mods:
        await by_port.put_mod(m, expect=None)
        await by_port.set_mod_tags(m.id, m.game_id, tags[m.id])
    for ident, dependencies in deps.items():
        await by_port.set_dependencies(ident, dependencies)

    in_bulk = SqliteStorage(tmp_path / "bulk.sqlite3")
    await in_bulk.open()
    await in_bulk.bulk_load(games=games, mods=mods, tags=tags, dependencies=deps)

    queries = [
        ModCriteria(),
        ModCriteria(sort=ModSort.NAME, descending=True, page=Paging(page_size=7, page=3)),
        ModCriteria(q="red", sort=ModSort.RELEVANCE),
        ModCriteria(q="mod", sort=ModSort.RELEVANCE, page=Paging(page_size=5, page=2)),
        ModCriteria(q="blue MOD", sort=ModSort.DOWNLOADS, games=(10, 12)),
        ModCriteria(name="od 1", games=(11,)),
        ModCriteria(exclude_dependent=True, sort=ModSort.SIZE),
    ]
    for store in (by_port, in_bulk):
        tag_ids = [t.id for t in (await store.list_tags(11, Paging())).items]
        queries.append(ModCriteria(tags=tuple(tag_ids[:2])))
    results = []
    for store in (by_port, in_bulk):
        results.append(
            [await store.list_mods(q) for q in queries]
            + [await store.summary(), await store.get_game(11), await store.mod_tags([4, 5], [])]
        )
        await store.close()
    assert results[0] == results[1]
    for name in ("bulk", "port"):
        with sqlite3.connect(tmp_path / f"{name}.sqlite3") as conn:
            assert ("mod", 1) in conn.execute("SELECT term, ready FROM dense_terms").fetchall(), (
                name
            )
    assert audit(tmp_path / "bulk.sqlite3") == []
    assert audit(tmp_path / "port.sqlite3") == []


async def test_call_slots_are_shared_by_every_store_on_the_file(tmp_path: Path) -> None:
    """Two stores on one file (two processes, in production) share a minute's slots: the
    ceiling on calls to Valve holds across processes."""
    first = SqliteStorage(tmp_path / "shared.sqlite3")
    second = SqliteStorage(tmp_path / "shared.sqlite3")
    await first.open()
    await second.open()
    try:
        minute = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
        taken = [await store.take_call_slot(minute, 3) for store in (first, second) * 2]
        assert taken == [True, True, True, False]
        assert await second.take_call_slot(minute + dt.timedelta(minutes=1), 3)
    finally:
        await first.close()
        await second.close()


async def test_the_events_feed_keeps_its_order_across_a_restart(tmp_path: Path) -> None:
    """Events recorded before a restart read back in order, later ones follow them, and the
    numbers of trimmed events are not given again after reopening."""
    path = tmp_path / "events.sqlite3"
    first = SqliteStorage(path)
    await first.open()
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for ident in (1, 2):
        archive = Archive(key=f"{ident}/a.zip", size=ident, sha256=f"{ident}" * 64)
        stamped = Mod(id=ident, state=ModState.READY, archive=archive, date_checked=t0)
        await first.put_mod(stamped, expect=None)
    assert await first.trim_events(t0 + dt.timedelta(seconds=1)) == 2
    await first.close()
    again = SqliteStorage(path)
    await again.open()
    try:
        await again.put_game(Game(id=7, name="g", creation_date=t0), [])
        batch = await again.read_events(0, 10)
        assert ([e.seq for e in batch.events], batch.trimmed, batch.latest) == ([3], 2, 3)
    finally:
        await again.close()
