"""/list/mods/ on SQLite: the same answers as the in-memory store, from an index."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import sqlite3
from pathlib import Path
from typing import Any

import attrs
import pytest

from openworkshop.criteria import ModCriteria, ModSort, Paging
from openworkshop.domain import Game, Mod
from openworkshop.ports import Storage, Transition
from openworkshop.states import ModState
from openworkshop.testing import MemoryStorage
from openworkshop_sqlite import SqliteStorage, dense, listing
from openworkshop_sqlite import storage as storage_module
from openworkshop_sqlite.connections import connect
from openworkshop_sqlite.listing import mod_page, prepare_reader
from openworkshop_sqlite.search import FILTER_FACETS, MARK, SORT_FACETS, gap_token
from tests.sqlite.audit import audit

pytestmark = pytest.mark.anyio

# words whose English stems are all different, so stemming cannot change a match
WORDS = ["red", "blue", "green", "fast", "slow", "tiny", "huge", "alpha", "beta", "gamma",
         "delta", "zulu", "rail", "ship"]  # fmt: skip
GAMES = (10, 20, 30, 40)
SORTS = [s for s in ModSort if s is not ModSort.RELEVANCE]
FORGED = [
    # texts that spell the private tokens of the q index: a game, a bucket, a gap
    FILTER_FACETS["game"].token(20),
    FILTER_FACETS["has_deps"].token(1),
    *(level.token(4) for level in SORT_FACETS["DOWNLOADS"].levels()),
    gap_token("the"),
    gap_token("red") + " " + MARK + "red",
]
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


async def build(storage: Storage, rng: random.Random, *, foreign: bool) -> dict[int, list[int]]:
    """A random catalog: skewed games, mixed states, many-tag games, dependencies.
    Returns each game's tag ids."""
    for game in GAMES:
        await storage.put_game(Game(id=game, name=f"Game {game}"), [])
    for ident in range(1, 401):
        game = rng.choices(GAMES, weights=(8, 4, 2, 1))[0]
        words = rng.sample(WORDS, rng.randint(1, 3))
        name = " ".join(w.title() if rng.random() < 0.5 else w for w in words)
        if rng.random() < 0.75:
            name += " mod"
        await storage.put_mod(
            Mod(
                id=ident,
                name=f"{name} {ident}",
                game_id=game,
                state=rng.choices(list(ModState), weights=(6, 2, 1, 1))[0],
                # small values (buckets of one value) and large ones (rounded buckets)
                size=rng.choice((rng.randint(0, 5), rng.randint(0, 10**7))),
                downloads=rng.choice((rng.randint(0, 9), rng.randint(100, 999))),
                source=rng.choice(("steam", "steam", "local")),
                # "the" in most texts: a dense term, asked for by its gaps
                description=" ".join(rng.sample(WORDS, 2))
                + (" the" if rng.random() < 0.9 else "")
                + (f" {rng.choice(FORGED)}" if rng.random() < 0.05 else ""),
                date_update=None
                if rng.random() < 0.3
                else T0 + dt.timedelta(days=rng.randint(0, 9), hours=rng.randint(0, 23)),
            ),
            expect=None,
        )
        # game 40 has 70 tags: its later ones are past the mask's 63 bits
        pool = [f"t{i}" for i in range(70 if game == 40 else 6)]
        tag_game = rng.choice(GAMES) if foreign and rng.random() < 0.05 else game
        await storage.set_mod_tags(ident, tag_game, rng.sample(pool, rng.randint(0, 5)))
        if rng.random() < 0.2:
            await storage.set_dependencies(ident, [rng.randint(1, 400)])
    tags = {}
    for game in GAMES:
        page = 0
        tags[game] = []
        while items := (await storage.list_tags(game, Paging(page_size=50, page=page))).items:
            tags[game] += [t.id for t in items]
            page += 1
    return tags


def random_query(rng: random.Random, tags: dict[int, list[int]]) -> ModCriteria:
    fields: dict[str, Any] = {
        "sort": rng.choice(SORTS),
        "descending": rng.random() < 0.5,
        "page": Paging(page_size=rng.choice((1, 5, 10, 50)), page=rng.choice((0, 0, 1, 3))),
    }
    if rng.random() < 0.4:
        fields["games"] = tuple(rng.sample(GAMES, rng.randint(1, 3)))
    if rng.random() < 0.4:
        game = rng.choice(GAMES)
        fields["tags"] = tuple(rng.sample(tags[game], min(len(tags[game]), rng.randint(1, 3))))
        if rng.random() < 0.1:
            fields["tags"] += (rng.choice(tags[rng.choice(GAMES)]),)
    if rng.random() < 0.2:
        fields["primary_sources"] = ("local",)
    if rng.random() < 0.2:
        fields["exclude_dependent"] = True
    if rng.random() < 0.1:
        fields["allowed_ids"] = tuple(rng.sample(range(1, 420), 20))
    if rng.random() < 0.4:
        fields["name"] = rng.choice(["mod", "od", "m", "a", "Ta", "ail", "RED ", "e g", "zz"])
    if rng.random() < 0.3:
        fields["q"] = " ".join(rng.sample([*WORDS, "mod", "the", "The"], rng.randint(1, 2)))
        if rng.random() < 0.3:
            fields["sort"] = ModSort.RELEVANCE
    return ModCriteria(**fields)


Catalog = tuple[MemoryStorage, Path, dict[int, list[int]]]


@pytest.fixture(scope="module")
def catalogs(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Catalog]:
    """The same random catalog in memory and in a file; with and without foreign tags."""

    async def make(foreign: bool) -> Catalog:
        memory = MemoryStorage()
        path = tmp_path_factory.mktemp("listing") / "db.sqlite3"
        sqlite = SqliteStorage(path)
        await sqlite.open()
        tags = await build(memory, random.Random(5), foreign=foreign)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(dense, "MIN_MODS", 100)  # (a catalog this small has none)
            assert await build(sqlite, random.Random(5), foreign=foreign) == tags
        await sqlite.close()
        with sqlite3.connect(path) as conn:
            assert ("the", 1) in conn.execute("SELECT term, ready FROM dense_terms").fetchall()
        return memory, path, tags

    return {foreign: asyncio.run(make(foreign)) for foreign in (False, True)}


@pytest.fixture(params=[False, True], ids=["own-tags", "foreign-tags"])
def catalog(request: pytest.FixtureRequest, catalogs: dict[bool, Catalog]) -> Catalog:
    return catalogs[request.param]


def force(plan: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the planner take the paths large catalogs take, on a small one."""
    if plan == "walk-always":
        monkeypatch.setattr(listing, "_FETCH_COST", 10**9)
    if plan.startswith("bucket"):
        monkeypatch.setattr(listing, "_FETCH_ALL", 0)
        monkeypatch.setattr(listing, "_MIN_GROUP", 1)
        monkeypatch.setattr(listing, "_unbucketed", None)  # the buckets must be in step
    if plan == "bucket-by-bucket":
        monkeypatch.setattr(listing, "_GROUP_SHARE", 0.001)
        monkeypatch.setattr(listing, "_FETCH_BUDGET", 0)
        monkeypatch.setattr(storage_module, "_FOLD_AFTER", 1)  # term counts folded at once


async def answer_alike(memory: MemoryStorage, sqlite: SqliteStorage, query: ModCriteria) -> None:
    expected = await memory.list_mods(query)
    got = await sqlite.list_mods(query)
    assert (got.total, [m.id for m in got.items]) == (
        expected.total,
        [m.id for m in expected.items],
    ), query


@pytest.mark.parametrize("plan", ["planned", "walk-always", "buckets", "bucket-by-bucket"])
async def test_answers_like_the_memory_store(
    catalog: Catalog, plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hundreds of random filter/sort/page combinations: same total, same page, same order
    (also with full-text matches always checked along a sort index, and with q always
    paged through the smallest groups of facet buckets: the paths large catalogs take)."""
    force(plan, monkeypatch)
    memory, path, tags = catalog
    sqlite = SqliteStorage(path)
    await sqlite.open()
    rng = random.Random(11)
    for _ in range(400):
        await answer_alike(memory, sqlite, random_query(rng, tags))
    await sqlite.close()
    assert audit(path) == []


def plans(path: Path, query: ModCriteria) -> list[tuple[str, list[str]]]:
    """Every query list_mods runs for ``query``, with its query plan's lines."""
    statements: list[tuple[str, Any]] = []
    db = connect(path)
    prepare_reader(db)  # as the storage does for each reader
    db.execute("BEGIN")
    with db.tracer(lambda sql, params: statements.append((sql, params))):
        mod_page(db, query)
    out = []
    for sql, params in statements:
        if sql.lstrip().startswith(("SELECT", "INSERT")):
            rows = db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            out.append((sql, [row[-1] for row in rows]))
    db.execute("ROLLBACK")
    db.conn.close()
    return out


def no_table_scan(lines: list[str]) -> bool:
    """No line reads the mods table whole."""
    return not any(re.match(r"SCAN (m|mods)\b", line) and "INDEX" not in line for line in lines)


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize(
    "fields",
    [{}, {"games": (10,)}, {"tags": "two"}, {"page": Paging(page_size=10, page=3)}],
    ids=["all", "game", "tags", "page"],
)
def test_every_sort_and_filter_walks_an_index(
    catalog: Catalog, sort: ModSort, fields: dict[str, Any]
) -> None:
    """Sorts, game and tag filters read a covering index in order: no table scan, no sort."""
    _, path, tags = catalog
    if fields.get("tags") == "two":
        fields = {"tags": tuple(tags[10][:2])}
        with sqlite3.connect(path) as conn:
            (foreign,) = conn.execute("SELECT count(*) FROM mods WHERE foreign_tags > 0").fetchone()
        if foreign:  # no mask: the rarest tag's mods are fetched by id
            for descending in (False, True):
                query = ModCriteria(sort=sort, descending=descending, **fields)
                assert all(no_table_scan(lines) for _, lines in plans(path, query))
            return
    for descending in (False, True):
        query = ModCriteria(sort=sort, descending=descending, **fields)
        on_mods = [lines for sql, lines in plans(path, query) if "SELECT m.id" in sql]
        assert on_mods
        for lines in on_mods:
            assert "TEMP B-TREE" not in " ".join(lines), lines
            assert lines[0].startswith(("SEARCH m", "SCAN m")), lines
            assert "COVERING INDEX" in lines[0], lines


def test_name_and_q_are_served_by_their_indexes(catalog: Catalog) -> None:
    """name (3+ characters) and q read the FTS5 indexes, never the whole table."""
    _, path, _ = catalog
    for query in (
        ModCriteria(name="mod", page=Paging(page_size=1)),  # common: walks an index
        ModCriteria(name="zulu"),  # rare: takes the matches, sorts them
        ModCriteria(q="zulu"),
        ModCriteria(q="zulu rail", sort=ModSort.RELEVANCE),
    ):
        statements = plans(path, query)
        joined = " | ".join(line for _, lines in statements for line in lines)
        assert "VIRTUAL TABLE INDEX" in joined, joined
        assert all(no_table_scan(lines) for _, lines in statements), joined


def test_counting_a_plain_listing_reads_no_rows(tmp_path: Path) -> None:
    """The total of an unfiltered or game/source-filtered listing comes from the counters."""
    path = tmp_path / "db.sqlite3"

    async def make() -> None:
        store = SqliteStorage(path)
        await store.open()
        await store.close()

    asyncio.run(make())
    for query in (ModCriteria(), ModCriteria(games=(1, 2), primary_sources=("steam",))):
        (sql, _), *_ = plans(path, query)
        assert "FROM mod_counts" in sql or "FROM facet_buckets" in sql, sql
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM mods").fetchone() == (0,)


@pytest.mark.parametrize("plan", ["planned", "bucket-by-bucket"])
async def test_search_follows_every_write(
    tmp_path: Path, plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Downloads crossing bucket bounds, requests on new days, renames, state changes and
    deletions keep the search indexes and the facet buckets in step with the rows: q and
    name still answer like the memory store, and the file audits clean."""
    force(plan, monkeypatch)
    memory, sqlite = MemoryStorage(), SqliteStorage(tmp_path / "db.sqlite3")
    await sqlite.open()
    rng = random.Random(8)
    stores: tuple[Storage, ...] = (memory, sqlite)
    for ident in range(1, 61):
        mod = Mod(
            id=ident,
            name=" ".join(rng.sample(WORDS, 2)) + rng.choice(("", " [1.5]", " (Continued)")),
            game_id=rng.choice(GAMES),
            state=rng.choice((ModState.READY, ModState.AVAILABLE, ModState.QUEUED)),
            downloads=rng.choice((7, 8, 9, 97, 98, 99, 998, 999)),  # next to bucket bounds
            size=rng.randint(0, 10**6),
            date_request=T0 + dt.timedelta(hours=rng.randint(0, 47)),
        )
        for store in stores:
            await store.put_mod(mod, expect=None)
    for _ in range(300):
        ident = rng.randint(1, 60)
        current = await memory.get_mod(ident)
        if current is None:
            continue
        action = rng.random()
        when = T0 + dt.timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23))
        changed = attrs.evolve(
            current,
            name=f"{rng.choice(WORDS)} {current.name}"[:60],
            state=rng.choice(list(ModState)),
            size=rng.randint(0, 10**7),
        )
        for store in stores:
            if action < 0.4:
                await store.add_download(ident, now=when)
            elif action < 0.55:  # a request's date alone
                stamped = attrs.evolve(current, date_request=when)
                assert await store.put_mod(stamped, expect=current.state)
            elif action < 0.95:
                assert await store.put_mod(changed, expect=current.state)
            else:
                gone = Transition(mod_id=ident, expect=current.state, after=None)
                assert await store.apply(gone)
    query_rng = random.Random(12)
    for _ in range(150):
        sort = query_rng.choice(list(ModSort))
        fields: dict[str, Any] = {
            "sort": sort,
            "descending": query_rng.random() < 0.5,
            "page": Paging(
                page_size=query_rng.choice((1, 5, 50)), page=query_rng.choice((0, 1, 2))
            ),
        }
        if sort is ModSort.RELEVANCE or query_rng.random() < 0.5:
            fields["q"] = query_rng.choice([*WORDS, "mod", "red blue"])
        else:
            fields["name"] = query_rng.choice(["re", "red", "ail", "[1.5]", "(cont", "e"])
        await answer_alike(memory, sqlite, ModCriteria(**fields))
    await sqlite.close()
    assert audit(tmp_path / "db.sqlite3") == []


@pytest.mark.parametrize("plan", ["planned", "bucket-by-bucket"])
async def test_a_word_becomes_dense_while_the_catalog_changes(
    tmp_path: Path, plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word spreading to most texts becomes dense, and its gaps are marked a few mods at
    each fold, listed or not, through texts and tags: q answers like the memory store
    before, during and after, and the file audits clean at every step."""
    force(plan, monkeypatch)
    monkeypatch.setattr(dense, "MIN_MODS", 20)
    monkeypatch.setattr(dense, "BATCH", 7)
    monkeypatch.setattr(storage_module, "_FOLD_AFTER", 8)
    path = tmp_path / "db.sqlite3"
    memory, sqlite = MemoryStorage(), SqliteStorage(path)
    await sqlite.open()
    rng = random.Random(3)
    others = [w for w in WORDS if w != "alpha"]
    states: set[int] = set()
    for step in range(1, 201):
        ident = rng.randint(1, 40)
        spread = step / 80  # the share of new texts holding "alpha"
        mod = Mod(
            id=ident,
            name=" ".join(rng.sample(others, 2)) + (" Alpha" if rng.random() < 0.1 else ""),
            game_id=rng.choice(GAMES),
            state=rng.choice((ModState.READY, ModState.AVAILABLE, ModState.QUEUED)),
            downloads=rng.randint(0, 300),
            description=" ".join(rng.sample(others, 2))
            + (" alpha" if rng.random() < spread else ""),
        )
        current = await memory.get_mod(ident)
        for store in (memory, sqlite):
            assert await store.put_mod(mod, expect=None if current is None else current.state)
        if rng.random() < 0.2:
            tags = ["alpha"] if rng.random() < spread else ["tag"]
            for store in (memory, sqlite):
                await store.set_mod_tags(ident, mod.game_id, tags)
        if step % 10 == 0:
            for q in ("alpha", "alpha red", "Alpha blue gamma", "ALPHA"):
                for sort, descending in (
                    (ModSort.RELEVANCE, False),
                    (ModSort.RELEVANCE, True),
                    (ModSort.DOWNLOADS, True),
                    (ModSort.NAME, False),
                ):
                    query = ModCriteria(q=q, sort=sort, descending=descending)
                    await answer_alike(memory, sqlite, query)
                    await answer_alike(memory, sqlite, attrs.evolve(query, games=(10, 20)))
            with sqlite3.connect(path) as conn:
                states |= {
                    ready
                    for (ready,) in conn.execute(
                        "SELECT ready FROM dense_terms WHERE term = 'alpha'"
                    )
                }
            assert audit(path) == []
    await sqlite.close()
    assert states == {0, 1}, "marked over several folds, then ready"
