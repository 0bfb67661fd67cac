"""/list/mods/ on PostgreSQL: the same answers as the in-memory store (the reference), on the
random catalog and the random queries of the SQLite store's comparison."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest

from openworkshop.criteria import GameCriteria, GameSort, ModCriteria, ModSort, Paging
from openworkshop.domain import Game, Mod
from openworkshop.ports import Storage, Transition
from openworkshop.states import ModState
from openworkshop.testing import MemoryStorage
from openworkshop_postgres import PostgresStorage
from tests.sqlite.test_listing import GAMES, WORDS, build, random_query

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
async def postgres(postgres_url: str, postgres_schema: str) -> AsyncIterator[PostgresStorage]:
    store = PostgresStorage(postgres_url, schema=postgres_schema)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def answer_alike(memory: Storage, postgres: Storage, query: ModCriteria) -> None:
    expected = await memory.list_mods(query)
    got = await postgres.list_mods(query)
    assert (got.total, [m.id for m in got.items]) == (
        expected.total,
        [m.id for m in expected.items],
    ), query


@pytest.mark.parametrize("foreign", [False, True], ids=["own-tags", "foreign-tags"])
async def test_answers_like_the_memory_store(postgres: PostgresStorage, foreign: bool) -> None:
    """Hundreds of random filter/sort/page combinations (RELEVANCE with q among them): same
    total, same page, same order."""
    memory = MemoryStorage()
    tags = await build(memory, random.Random(5), foreign=foreign)
    assert await build(postgres, random.Random(5), foreign=foreign) == tags
    rng = random.Random(11)
    for _ in range(400):
        await answer_alike(memory, postgres, random_query(rng, tags))


async def test_search_follows_every_write(postgres: PostgresStorage) -> None:
    """Downloads, renames, state, game and source changes, tags, dependencies and deletions:
    q, name, every sort and the totals kept by the counters still answer like the memory
    store."""
    memory = MemoryStorage()
    rng = random.Random(8)
    stores: tuple[Storage, ...] = (memory, postgres)
    for ident in range(1, 61):
        mod = Mod(
            id=ident,
            name=" ".join(rng.sample(WORDS, 2)) + rng.choice(("", " [1.5]", " (Continued)")),
            game_id=rng.choice(GAMES),
            state=rng.choice((ModState.READY, ModState.AVAILABLE, ModState.QUEUED)),
            downloads=rng.choice((7, 8, 9, 97, 98, 99, 998, 999)),
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
            source=rng.choice(("steam", "local")),
            game_id=rng.choice((*GAMES, None)),
        )
        tags = rng.sample(WORDS, rng.randint(0, 2))
        deps = rng.sample(range(1, 61), rng.randint(0, 1))
        for store in stores:
            if action < 0.35:
                await store.add_download(ident, now=when)
            elif action < 0.4:
                await store.set_mod_tags(ident, current.game_id, tags)
            elif action < 0.45:
                await store.set_dependencies(ident, deps)
            elif action < 0.55:
                stamped = attrs.evolve(current, date_request=when)
                assert await store.put_mod(stamped, expect=current.state)
            elif action < 0.95:
                assert await store.put_mod(changed, expect=current.state)
            else:
                gone = Transition(mod_id=ident, expect=current.state, after=None)
                assert await store.apply(gone)
    query_rng = random.Random(12)
    for _ in range(200):
        sort = query_rng.choice(list(ModSort))
        fields: dict[str, Any] = {
            "sort": sort,
            "descending": query_rng.random() < 0.5,
            "page": Paging(
                page_size=query_rng.choice((1, 5, 50)), page=query_rng.choice((0, 1, 2))
            ),
        }
        if sort is ModSort.RELEVANCE or query_rng.random() < 0.4:
            fields["q"] = query_rng.choice([*WORDS, "mod", "red blue", "Continued"])
        elif query_rng.random() < 0.5:
            fields["name"] = query_rng.choice(["re", "red", "ail", "[1.5]", "(cont", "e"])
        elif query_rng.random() < 0.3:  # one tag alone: its total from tag_counts
            game = query_rng.choice(GAMES)
            theirs = (await memory.list_tags(game, Paging(page_size=100))).items
            ours = {
                t.name: t.id for t in (await postgres.list_tags(game, Paging(page_size=100))).items
            }
            if theirs:
                tag = query_rng.choice(theirs)
                query = ModCriteria(**fields, tags=(tag.id,))
                expected = await memory.list_mods(query)
                got = await postgres.list_mods(attrs.evolve(query, tags=(ours[tag.name],)))
                assert (got.total, [m.id for m in got.items]) == (
                    expected.total,
                    [m.id for m in expected.items],
                ), query
            continue
        else:  # totals from the counters
            if query_rng.random() < 0.5:
                fields["games"] = tuple(query_rng.sample(GAMES, 2))
            if query_rng.random() < 0.5:
                fields["primary_sources"] = (query_rng.choice(("steam", "local")),)
            fields["exclude_dependent"] = query_rng.random() < 0.5
        await answer_alike(memory, postgres, ModCriteria(**fields))


async def test_games_list_like_the_memory_store(postgres: PostgresStorage) -> None:
    """Every game sort (counts and downloads over the listed mods), both directions, names
    in mixed case and beyond ASCII, a name filter."""
    memory = MemoryStorage()
    rng = random.Random(4)
    names = ["alpha", "Beta", "beta", "Ärger", "zulu", "_under", "Zeta", "ßtraße", "éclair"]
    for i, name in enumerate(names, start=1):
        game = Game(
            id=i,
            name=name,
            type=rng.choice(("game", "app")),
            source=rng.choice(("steam", "local")),
            creation_date=None if i % 3 == 0 else T0 + dt.timedelta(days=i % 4),
        )
        for store in (memory, postgres):
            await store.put_game(game, [])
    for ident in range(1, 80):
        mod = Mod(
            id=ident,
            name=f"m{ident}",
            game_id=rng.randint(1, len(names)),
            state=rng.choice(list(ModState)),
            downloads=rng.randint(0, 5),
        )
        for store in (memory, postgres):
            await store.put_mod(mod, expect=None)
    for sort in GameSort:
        for descending in (False, True):
            for name in (None, "e", "BETA", "ss"):
                query = GameCriteria(
                    sort=sort, descending=descending, name=name, page=Paging(page_size=50)
                )
                expected, got = await memory.list_games(query), await postgres.list_games(query)
                assert (got.total, got.items) == (expected.total, expected.items), query


async def test_a_bulk_load_answers_like_the_port(postgres: PostgresStorage) -> None:
    """``bulk_load`` (COPY, the indexes built after) makes the same catalog as writing it
    through the port: the same tags and the same answers; writes go on after it."""
    rng = random.Random(21)
    memory = MemoryStorage()
    games = [(Game(id=g, name=f"Game {g}"), []) for g in GAMES]
    mods: list[Mod] = []
    tags: dict[int, list[str]] = {}
    deps: dict[int, list[int]] = {}
    for ident in range(1, 301):
        game = rng.choice(GAMES)
        mods.append(
            Mod(
                id=ident,
                name=" ".join(rng.sample(WORDS, rng.randint(1, 3))) + f" {ident}",
                game_id=game,
                state=rng.choices(list(ModState), weights=(6, 2, 1, 1))[0],
                size=rng.randint(0, 10**6),
                downloads=rng.randint(0, 50),
                source=rng.choice(("steam", "local")),
                description=" ".join(rng.sample(WORDS, 3)),
                date_update=None if rng.random() < 0.3 else T0 + dt.timedelta(hours=ident),
            )
        )
        tags[ident] = rng.sample([f"t{i}" for i in range(8)], rng.randint(0, 4))
        if rng.random() < 0.2:
            deps[ident] = [rng.randint(1, 300)]
    for game, genres in games:
        await memory.put_game(game, genres)
    for m in mods:
        await memory.put_mod(m, expect=None)
        await memory.set_mod_tags(m.id, m.game_id, tags[m.id])
        if m.id in deps:
            await memory.set_dependencies(m.id, deps[m.id])
    await postgres.bulk_load(games=games, mods=mods, tags=tags, dependencies=deps)
    by_game: dict[int, list[int]] = {}
    for game in GAMES:
        page = await postgres.list_tags(game, Paging(page_size=50))
        expected = await memory.list_tags(game, Paging(page_size=50))
        assert sorted(t.name for t in page.items) == sorted(t.name for t in expected.items)
        by_game[game] = [t.id for t in page.items]
    # (tag ids may differ between the two: compare the tag filters by name)
    names = {
        t.id: t.name
        for g in GAMES
        for t in (await postgres.list_tags(g, Paging(page_size=50))).items
    }
    memory_ids = {
        (g, t.name): t.id
        for g in GAMES
        for t in (await memory.list_tags(g, Paging(page_size=50))).items
    }
    query_rng = random.Random(3)
    for _ in range(200):
        query = random_query(query_rng, by_game)
        translated = attrs.evolve(
            query,
            tags=tuple(
                memory_ids[(g, names[t])] for t in query.tags for g in GAMES if t in by_game[g]
            ),
        )
        expected = await memory.list_mods(translated)
        got = await postgres.list_mods(query)
        assert (got.total, [m.id for m in got.items]) == (
            expected.total,
            [m.id for m in expected.items],
        ), query
    await postgres.set_mod_tags(1, mods[0].game_id, ["brand new"])
    assert "brand new" in [t.name for t in (await postgres.mod_tags([1], []))[1]]
    assert (await postgres.summary()).mods == (await memory.summary()).mods
