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
    """Downloads, renames, state changes, tags and deletions: q, name and every sort still
    answer like the memory store."""
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
        )
        tags = rng.sample(WORDS, rng.randint(0, 2))
        for store in stores:
            if action < 0.35:
                await store.add_download(ident, now=when)
            elif action < 0.45:
                await store.set_mod_tags(ident, current.game_id, tags)
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
        if sort is ModSort.RELEVANCE or query_rng.random() < 0.5:
            fields["q"] = query_rng.choice([*WORDS, "mod", "red blue", "Continued"])
        else:
            fields["name"] = query_rng.choice(["re", "red", "ail", "[1.5]", "(cont", "e"])
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
