"""Catalog benchmark: /list/mods/ on the SQLite adapter against the original server's queries.

    .venv/bin/python bench/catalog.py [--mods 1000000] [--samples 100] [--original-samples 5]
        [--storage postgres [--postgres-url URL]]

Builds a synthetic catalog (``--mods`` mods, 2,000 games, 20,000 tags, 5 tags per mod, names
made of realistic words, skewed like a real workshop: a few games hold most mods, a few tags
most links) twice in the same run, from the same data:

- through ``SqliteStorage.bulk_load`` (the adapter's schema, indexes and counters), and
- in the original server's schema (SQLAlchemy tables with no index on the association
  tables), queried the way it queried: ``lower(name) LIKE lower('%x%')``, one correlated
  ``EXISTS`` per tag and per game, ``count(*)`` over the filtered subquery, ``ORDER BY``
  with ``LIMIT/OFFSET``.

Then, for each query shape of ``/list/mods/``, prints p50/p95 of ``SqliteStorage.list_mods``
(random parameters per sample, drawn the way clients ask: popular games and tags more often,
names and words taken from existing mods) next to the original's pattern on the same
queries, and checks that both return the same total and page. Also prints build times and
file sizes. Asserts nothing. Targets (issue 3): every shape p95 <= 15 ms; >= 20x the
original on substring and multi-tag filters.

With ``--storage postgres`` the same catalog is also loaded into PostgreSQL
(``PostgresStorage.bulk_load``: COPY, indexes built after) and every shape's queries run on
it too, printed beside SQLite's in the same run (target, issue 14: every shape p95 <= 50 ms),
with its answers checked against SQLite's. The PostgreSQL server is ``--postgres-url``, or a
throwaway cluster of Debian's binaries started for the run (``openworkshop_postgres.cluster``,
``shared_buffers=1GB``, ``fsync=off``) and removed after it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import math
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from openworkshop.criteria import ModCriteria, ModSort, Paging
from openworkshop.domain import Game, Genre, Mod
from openworkshop.states import ModState
from openworkshop_sqlite import SqliteStorage

WORDS = """
Better More Expanded Vanilla Extended Realistic Simple Advanced Improved Enhanced Ultimate
Mod Pack Patch Fix Fixes Overhaul Rework Redux Remastered Reloaded Revived Continued
Trains Cars Trucks Ships Planes Tanks Weapons Armor Guns Swords Bows Shields Helmets
Hair Faces Bodies Clothes Apparel Outfits Uniforms Races Species Animals Creatures Monsters
Factions Traders Quests Events Storytellers Scenarios Maps Biomes Terrain Weather Seasons
Farming Cooking Crafting Mining Building Furniture Decorations Lighting Textures Graphics
Interface UI HUD Menu Icons Fonts Sounds Music Voices Translation Localization Russian
German French Chinese Japanese Spanish Polish Korean Medieval Fantasy SciFi Space Modern
Military Industrial Tribal Royal Imperial Ancient Cyber Steam Nuclear Electric Solar Power
Storage Logistics Conveyor Belts Factory Production Trade Economy Money Market Caravan
Combat Melee Ranged Tactics AI Behavior Pathing Performance Optimization Tweaks Balance
Difficulty Hardcore Casual Cheats Debug Tools Utility Library Framework Core API Harmony
Compatibility Addon Extension Integration Bridge Plus Lite Mini Micro Mega Giant Tiny
Small Big Huge Epic Legendary Rare Common Unique Custom Random Procedural Dynamic Smart
Auto Quick Fast Slow Easy Hard Dark Light Red Blue Green Black White Golden Silver Iron
Steel Wood Stone Glass Plastic Concrete Water Fire Ice Earth Wind Blood Bone Flesh
Zombies Vampires Werewolves Dragons Elves Dwarves Orcs Goblins Robots Androids Mechs
Aliens Insects Spiders Wolves Bears Horses Dogs Cats Birds Fish Plants Trees Flowers
Crops Seeds Fruits Vegetables Meat Drinks Alcohol Drugs Medicine Surgery Prosthetics
Implants Genes Psychic Magic Spells Runes Alchemy Potions Artifacts Relics Treasure Loot
Dungeon Castle Village City Town Colony Base Outpost Station Ship Vehicle Vehicles Roads
Rails Bridges Walls Doors Windows Floors Roofs Tiles Rooms Beds Tables Chairs Kitchen
Workshop Laboratory Hospital Prison Barracks Temple Church Shrine Graveyard Ruins Caves
Mountains Rivers Lakes Oceans Islands Deserts Forests Jungles Swamps Tundra Arctic
Day Night Time Clock Calendar Camera Zoom Map Minimap Radar Compass Markers Notifications
Alerts Messages Log History Stats Statistics Numbers Info Details Tooltips Hotkeys Keys
Controls Mouse Gamepad Settings Options Presets Profiles Saves Backup Loader Manager
Organizer Sorter Filter Search Finder Helper Assistant Companion Pets Followers Party
Team Squad Army Navy Air Force Police Rescue Medic Engineer Scientist Pirate Ninja Samurai
Knight Wizard Witch Priest Hunter Ranger Rogue Thief Assassin Warrior Barbarian Paladin
""".split()  # noqa: SIM905 (a paragraph of words reads better than a list)
TAG_WORDS = """
Mod Item Map Scenario Translation Texture Model Sound Music UI Gameplay Balance Fixes
Graphics Overhaul Weapons Armor Vehicles Characters Creatures Buildings Quality-of-Life
Cheats Utilities Library Framework Compatibility Multiplayer Singleplayer Server Client
Campaign Missions Units Factions Races Species Events Storyteller Biomes Furniture Apparel
Hair Faces Animations Effects Lighting Weather Economy Trade Industry Farming Cooking
Crafting Medical Combat Melee Ranged Magic Sci-Fi Fantasy Medieval Modern Horror Comedy
""".split()  # noqa: SIM905
STOPWORDS = (  # noqa: SIM905
    "the a an and or of to in on for with this that it is are be can you your will all "
    "from by as at not no adds new more mod also into when which only if more"
).split()
SYLLABLES = "ka ri mo dub vex ra tor zan el ix um bra lo qui ne sha pol dor fen gri hal".split()  # noqa: SIM905
GAMES = 2_000
TAGS = 20_000
TAGS_PER_MOD = 5
MAX_TAGS_PER_GAME = 60
PAGE_SIZE = 50
T0 = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
SPAN = 11 * 365 * 86400


# --- the synthetic catalog ----------------------------------------------------------------------


def zipf_weights(n: int, s: float) -> list[float]:
    return [1 / (rank**s) for rank in range(1, n + 1)]


class Catalog:
    """The generated data, deterministic for a seed."""

    def __init__(self, mods: int, seed: int = 1) -> None:
        self.size = mods
        self.seed = seed
        rng = random.Random(seed)
        self.game_weights = zipf_weights(GAMES, 1.0)
        self.game_ids = [100_000 + i * 10 for i in range(GAMES)]
        self.game_names = [" ".join(rng.sample(WORDS, rng.randint(1, 3))) for _ in range(GAMES)]
        # tags per game grow with the game's size, capped, 20,000 in all
        roots = [math.sqrt(w) for w in self.game_weights]
        low, high = 0.0, 1e6
        for _ in range(60):
            scale = (low + high) / 2
            counts = [max(3, min(MAX_TAGS_PER_GAME, round(scale * r))) for r in roots]
            low, high = (scale, high) if sum(counts) < TAGS else (low, scale)
        self.tag_names: list[list[str]] = []
        for count in counts:
            names = rng.sample(TAG_WORDS, min(count, len(TAG_WORDS)))
            names += [f"{rng.choice(TAG_WORDS)} {i}" for i in range(count - len(names))]
            self.tag_names.append(names)
        self.brands = [
            "".join(rng.sample(SYLLABLES, rng.randint(2, 3))).title() for _ in range(30_000)
        ]
        self.word_cum = list(itertools.accumulate(zipf_weights(len(WORDS), 0.7)))
        # descriptions: half function words, half content words from a long-tailed vocabulary
        # in which the words frequent in names are not necessarily frequent
        self.prose = WORDS + self.brands[:5_000]
        rng.shuffle(self.prose)
        self.prose_cum = list(itertools.accumulate(zipf_weights(len(self.prose), 1.0)))
        self.game_cum = list(itertools.accumulate(self.game_weights))

    def prose_text(self, rng: random.Random, words: int) -> str:
        content = rng.choices(self.prose, cum_weights=self.prose_cum, k=words // 2)
        return " ".join(
            word
            for pair in zip(rng.choices(STOPWORDS, k=words // 2), content, strict=True)
            for word in pair
        )

    def mods(self) -> Iterator[tuple[Mod, list[str], list[int]]]:
        """Each mod with its tag names and dependencies."""
        rng = random.Random(self.seed + 1)
        tag_cums: dict[int, list[float]] = {}
        states = (
            [ModState.READY] * 196
            + [ModState.AVAILABLE] * 2
            + [ModState.QUEUED]
            + [ModState.DOWNLOADING]
        )
        for ident in range(1, self.size + 1):
            g = rng.choices(range(GAMES), cum_weights=self.game_cum)[0]
            words = rng.choices(WORDS, cum_weights=self.word_cum, k=rng.randint(1, 3))
            if rng.random() < 0.5:
                words.insert(0, rng.choice(self.brands))
            if rng.random() < 0.1:
                words.insert(0, rng.choice(("[1.5]", "[1.4]", "(Continued)", "2.0")))
            created = rng.randrange(SPAN)
            names = self.tag_names[g]
            cum = tag_cums.get(g)
            if cum is None:
                cum = tag_cums[g] = list(itertools.accumulate(zipf_weights(len(names), 1.0)))
            picked: dict[str, None] = {}
            while len(picked) < min(TAGS_PER_MOD, len(names)):
                picked[rng.choices(names, cum_weights=cum)[0]] = None
            deps = (
                rng.sample(range(1, self.size + 1), rng.randint(1, 3))
                if rng.random() < 0.15
                else []
            )
            mod = Mod(
                id=ident,
                name=" ".join(words),
                game_id=self.game_ids[g],
                state=rng.choice(states),
                size=int(rng.lognormvariate(15, 2)),
                source="steam" if rng.random() < 0.97 else "local",
                downloads=int(rng.paretovariate(1.1)) - 1,
                short_description=self.prose_text(rng, 12),
                description=self.prose_text(rng, 60),
                date_creation=T0 + dt.timedelta(seconds=created),
                date_update=T0 + dt.timedelta(seconds=created + rng.randrange(SPAN - created + 1)),
                date_request=None
                if rng.random() < 0.2
                else T0 + dt.timedelta(seconds=rng.randrange(SPAN)),
            )
            yield mod, list(picked), deps


async def build_ours(catalog: Catalog, path: Path) -> tuple[float, dict[str, Any]]:
    """Bulk-load the catalog; return the seconds it took and what queries are drawn from."""
    tags: dict[int, list[str]] = {}
    deps: dict[int, list[int]] = {}
    facts: dict[str, Any] = {"names": [], "listed": []}

    def mods() -> Iterator[Mod]:
        for mod, names, dependencies in catalog.mods():
            tags[mod.id] = names
            if dependencies:
                deps[mod.id] = dependencies
            if mod.state.downloadable:
                facts["listed"].append(mod.id)
                if mod.id % 10 == 0:
                    facts["names"].append(mod.name)
            yield mod

    games = [
        (Game(id=g, name=n), [Genre(id=1 + i % 30, name=f"Genre {1 + i % 30}")])
        for i, (g, n) in enumerate(zip(catalog.game_ids, catalog.game_names, strict=True))
    ]
    storage = SqliteStorage(path)
    await storage.open()
    started = time.perf_counter()
    # the generator fills tags and deps as it goes: the loader reads a mod's entries only
    # after it took the mod
    await storage.bulk_load(games=games, mods=mods(), tags=tags, dependencies=deps)
    seconds = time.perf_counter() - started
    await storage.close()
    return seconds, facts


def build_original(catalog: Catalog, path: Path, tag_ids: dict[tuple[int, str], int]) -> float:
    """The original server's tables (backend/tools/sql_data_client.py), same data.

    One concession: the original's association tables had no key at all, so SQLite ran each
    correlated ``EXISTS`` as a scan of the whole link table per mod (mods x links: days per
    query at 1,000,000 mods). Here they get the composite primary key any relational schema
    would give them, so each ``EXISTS`` is one index probe per mod: the baseline is faster
    than what the original ran, never slower.
    """
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(
        """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = OFF;
        CREATE TABLE games (id INTEGER PRIMARY KEY, name VARCHAR, type VARCHAR, logo VARCHAR,
            short_description VARCHAR, description VARCHAR, mods_downloads INTEGER,
            creation_date DATETIME, source VARCHAR);
        CREATE TABLE mods (id INTEGER PRIMARY KEY, name VARCHAR, description VARCHAR,
            size INTEGER, condition INTEGER, date_creation DATETIME, date_update DATETIME,
            date_request DATETIME, source VARCHAR, downloads INTEGER, resources_id INTEGER);
        CREATE TABLE tags_for_mods (id INTEGER PRIMARY KEY, name VARCHAR);
        CREATE TABLE unity_mods_tags (mod_id INTEGER, tag_id INTEGER,
            PRIMARY KEY (mod_id, tag_id));
        CREATE TABLE unity_games_mods (game_id INTEGER, mod_id INTEGER,
            PRIMARY KEY (mod_id, game_id));
        CREATE TABLE unity_mods_dependencies (mod_id INTEGER, dependence INTEGER,
            PRIMARY KEY (mod_id, dependence));
        """
    )
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO games (id, name, type, source) VALUES (?, ?, 'game', 'steam')",
        zip(catalog.game_ids, catalog.game_names, strict=True),
    )
    conn.executemany(
        "INSERT INTO tags_for_mods (id, name) VALUES (?, ?)",
        ((ident, name) for (_, name), ident in tag_ids.items()),
    )

    def when(value: dt.datetime | None) -> str | None:
        return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")

    iterator = catalog.mods()
    while batch := list(itertools.islice(iterator, 50_000)):
        conn.executemany(
            "INSERT INTO mods VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [
                (m.id, m.name, m.description, m.size, int(m.state), when(m.date_creation),
                 when(m.date_update), when(m.date_request), m.source, m.downloads)
                for m, _, _ in batch
            ],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO unity_mods_tags VALUES (?, ?)",
            [(m.id, tag_ids[(m.game_id, n)]) for m, names, _ in batch for n in names],
        )
        conn.executemany(
            "INSERT INTO unity_games_mods VALUES (?, ?)", [(m.game_id, m.id) for m, _, _ in batch]
        )
        conn.executemany(
            "INSERT INTO unity_mods_dependencies VALUES (?, ?)",
            [(m.id, d) for m, _, deps in batch for d in deps],
        )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


# --- the original's query pattern ----------------------------------------------------------------

_ORIGINAL_SORTS = {
    ModSort.NAME: "mods.name COLLATE NOCASE",
    ModSort.SIZE: "mods.size",
    ModSort.DATE_CREATION: "mods.date_creation",
    ModSort.DATE_UPDATE: "mods.date_update",
    ModSort.DATE_REQUEST: "mods.date_request",
    ModSort.SOURCE: "mods.source",
    ModSort.DOWNLOADS: "mods.downloads",
}


def original_list(conn: sqlite3.Connection, query: ModCriteria) -> tuple[int, list[int]]:
    """What the original's SQLAlchemy code sent, plus the state filter api.md asks for."""
    where = ["mods.condition < 2"]
    params: list[Any] = []
    for tag in query.tags:  # Mod.tags.any(ModTag.id == tag_id)
        where.append(
            "EXISTS (SELECT 1 FROM unity_mods_tags, tags_for_mods WHERE mods.id = "
            "unity_mods_tags.mod_id AND tags_for_mods.id = unity_mods_tags.tag_id AND "
            "tags_for_mods.id = ?)"
        )
        params.append(tag)
    for game in query.games:  # Mod.games.any(Game.id == game_id)
        where.append(
            "EXISTS (SELECT 1 FROM unity_games_mods, games WHERE mods.id = "
            "unity_games_mods.mod_id AND games.id = unity_games_mods.game_id AND games.id = ?)"
        )
        params.append(game)
    if query.allowed_ids:
        where.append(f"mods.id IN ({', '.join('?' * len(query.allowed_ids))})")
        params += query.allowed_ids
    if query.primary_sources:
        where.append(f"mods.source IN ({', '.join('?' * len(query.primary_sources))})")
        params += query.primary_sources
    join = ""
    if query.exclude_dependent:  # outerjoin(mods_dependencies).filter(mod_id == None)
        join = "LEFT OUTER JOIN unity_mods_dependencies ON mods.id = unity_mods_dependencies.mod_id"
        where.append("unity_mods_dependencies.mod_id IS NULL")
    if query.name:  # Mod.name.ilike(f'%{name}%')
        where.append("lower(mods.name) LIKE lower(?)")
        params.append(f"%{query.name}%")
    clause = " AND ".join(where)
    total = conn.execute(
        f"SELECT count(*) FROM (SELECT mods.id FROM mods {join} WHERE {clause})", params
    ).fetchone()[0]
    direction = "DESC" if query.descending else "ASC"
    order = f"{_ORIGINAL_SORTS[query.sort]} {direction}, mods.id {direction}"
    rows = conn.execute(
        f"SELECT mods.* FROM mods {join} WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, query.page.page_size, query.page.offset],
    ).fetchall()
    return total, [row[0] for row in rows]


# --- the query shapes --------------------------------------------------------------------------------


class Shapes:
    """Random queries of each shape, drawn the way clients ask."""

    def __init__(self, catalog: Catalog, facts: dict[str, Any], tags: dict[int, list[int]]):
        self.catalog = catalog
        self.facts = facts
        self.tags = tags  # game id -> tag ids, most used first
        self.rng = random.Random(7)

    def game(self, min_tags: int = 0) -> int:
        while True:
            g = self.rng.choices(range(GAMES), cum_weights=self.catalog.game_cum)[0]
            if len(self.tags.get(self.catalog.game_ids[g], ())) >= min_tags:
                return self.catalog.game_ids[g]

    def tags_of(self, count: int) -> tuple[int, ...]:
        tags = self.tags[self.game(count)]
        cum = list(itertools.accumulate(zipf_weights(len(tags), 1.0)))
        picked: dict[int, None] = {}
        while len(picked) < count:
            picked[self.rng.choices(tags, cum_weights=cum)[0]] = None
        return tuple(picked)

    def word(self) -> str:
        """A word or a piece of a word of an existing mod's name."""
        name = self.rng.choice(self.facts["names"])
        word = self.rng.choice([w for w in name.split() if len(w) >= 3] or [name])
        if len(word) > 5 and self.rng.random() < 0.5:
            start = self.rng.randrange(len(word) - 3)
            word = word[start : start + self.rng.randint(3, len(word) - start)]
        return word.lower() if self.rng.random() < 0.5 else word

    def all(self) -> dict[str, Callable[[], ModCriteria]]:
        page = Paging(page_size=PAGE_SIZE)
        shapes: dict[str, Callable[[], ModCriteria]] = {}
        for sort in _ORIGINAL_SORTS:
            for descending in (False, True):
                label = f"sort={'i' if descending else ''}{sort.value}"
                shapes[label] = lambda s=sort, d=descending: ModCriteria(
                    page=page, sort=s, descending=d
                )
        shapes["page=1000"] = lambda: ModCriteria(page=Paging(page_size=PAGE_SIZE, page=1000))
        shapes["page=1000 sort=iDOWNLOADS"] = lambda: ModCriteria(
            page=Paging(page_size=PAGE_SIZE, page=1000), descending=True
        )
        shapes["games=[g]"] = lambda: ModCriteria(page=page, games=(self.game(),))
        shapes["games=[g] sort=NAME"] = lambda: ModCriteria(
            page=page, games=(self.game(),), sort=ModSort.NAME
        )
        for count in (1, 3, 10):
            shapes[f"tags x{count}"] = lambda c=count: ModCriteria(page=page, tags=self.tags_of(c))
        shapes["tags x3 sort=iDATE_UPDATE"] = lambda: ModCriteria(
            page=page, tags=self.tags_of(3), sort=ModSort.DATE_UPDATE, descending=True
        )
        shapes["name=<substring>"] = lambda: ModCriteria(page=page, name=self.word())
        shapes["name=<substring> sort=NAME"] = lambda: ModCriteria(
            page=page, name=self.word(), sort=ModSort.NAME
        )
        shapes["q=<words> (RELEVANCE)"] = lambda: ModCriteria(
            page=page,
            q=" ".join(self.word() for _ in range(self.rng.randint(1, 2))),
            sort=ModSort.RELEVANCE,  # what /list/mods/?q= sorts by unless told
        )
        shapes["q=<words> sort=iDOWNLOADS"] = lambda: ModCriteria(
            page=page, q=self.word(), sort=ModSort.DOWNLOADS, descending=True
        )
        shapes["primary_sources"] = lambda: ModCriteria(
            page=page, primary_sources=(self.rng.choice(("steam", "local")),)
        )
        shapes["allowed_ids (50)"] = lambda: ModCriteria(
            page=page, allowed_ids=tuple(self.rng.sample(self.facts["listed"], 50))
        )
        shapes["dependencies=true"] = lambda: ModCriteria(page=page, exclude_dependent=True)
        return shapes


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return p50, p95


async def build_postgres(catalog: Catalog, url: str) -> tuple[float, str]:
    """Bulk-load the same catalog into PostgreSQL; the seconds it took and its size."""
    from openworkshop_postgres import PostgresStorage

    tags: dict[int, list[str]] = {}
    deps: dict[int, list[int]] = {}

    def mods() -> Iterator[Mod]:
        for mod, names, dependencies in catalog.mods():
            tags[mod.id] = names
            if dependencies:
                deps[mod.id] = dependencies
            yield mod

    games = [
        (Game(id=g, name=n), [Genre(id=1 + i % 30, name=f"Genre {1 + i % 30}")])
        for i, (g, n) in enumerate(zip(catalog.game_ids, catalog.game_names, strict=True))
    ]
    storage = PostgresStorage(url)
    await storage.open()
    started = time.perf_counter()
    await storage.bulk_load(games=games, mods=mods(), tags=tags, dependencies=deps)
    seconds = time.perf_counter() - started
    await storage.close()
    import psycopg

    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        row = await cursor.fetchone()
    return seconds, str(row[0] if row else "?")


async def postgres_tags(url: str, sqlite_path: Path) -> dict[int, int]:
    """SQLite's tag ids -> PostgreSQL's, by (game, name)."""
    import psycopg

    conn = sqlite3.connect(sqlite_path)
    theirs = {(g, n): i for i, g, n in conn.execute("SELECT id, game_id, name FROM tags")}
    conn.close()
    async with await psycopg.AsyncConnection.connect(url) as pg:
        cursor = await pg.execute("SELECT id, game_id, name FROM tags")
        rows = await cursor.fetchall()
    return {theirs[(g, n)]: i for i, g, n in rows if (g, n) in theirs}


async def measure(
    args: argparse.Namespace, ours: Path, original: Path, shapes: Shapes, postgres_url: str | None
) -> None:
    storage = SqliteStorage(ours)
    await storage.open()
    pg_storage = None
    pg_tag: dict[int, int] = {}
    if postgres_url is not None:
        from openworkshop_postgres import PostgresStorage

        pg_storage = PostgresStorage(postgres_url)
        await pg_storage.open()
        pg_tag = await postgres_tags(postgres_url, ours)
    conn = sqlite3.connect(original)
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA mmap_size = 1073741824")
    pg_head = f" {'pg p50':>8} {'p95':>8}" if pg_storage is not None else ""
    print(
        f"\n{'shape':32} {'ours p50':>9} {'p95':>8}{pg_head} {'orig p50':>10} {'p95':>9} "
        f"{'x p50':>7}  matches p50 / max"
    )
    mismatches = 0
    pg_mismatches = 0
    for label, make in shapes.all().items():
        queries = [make() for _ in range(args.samples)]
        for query in queries[:5]:  # warm the caches
            await storage.list_mods(query)
        ours_ms: list[float] = []
        totals: list[int] = []
        for query in queries:
            started = time.perf_counter()
            page = await storage.list_mods(query)
            ours_ms.append((time.perf_counter() - started) * 1000)
            totals.append(page.total)
        pg_cell = ""
        if pg_storage is not None:
            pg_queries = [
                attrs.evolve(q, tags=tuple(pg_tag.get(t, -1) for t in q.tags)) for q in queries
            ]
            for query in pg_queries[:5]:
                await pg_storage.list_mods(query)
            pg_ms: list[float] = []
            for query, pg_query in zip(queries, pg_queries, strict=True):
                started = time.perf_counter()
                page = await pg_storage.list_mods(pg_query)
                pg_ms.append((time.perf_counter() - started) * 1000)
                expected = await storage.list_mods(query)
                if (page.total, [m.id for m in page.items]) != (
                    expected.total,
                    [m.id for m in expected.items],
                ):
                    pg_mismatches += 1
                    if pg_mismatches <= 5:
                        print(
                            f"  PG MISMATCH {label} {query}: SQLite {expected.total} "
                            f"{[m.id for m in expected.items][:5]}, PostgreSQL {page.total} "
                            f"{[m.id for m in page.items][:5]}"
                        )
            g50, g95 = quantiles(pg_ms)
            pg_cell = f" {g50:>8.2f} {g95:>8.2f}"
            if g95 > 50:
                pg_cell += "!"
        original_ms: list[float] = []
        if not label.startswith("q="):  # the original had no full-text search
            for query in queries[: args.original_samples]:
                started = time.perf_counter()
                total, ids = original_list(conn, query)
                original_ms.append((time.perf_counter() - started) * 1000)
                page = await storage.list_mods(query)
                if (total, ids) != (page.total, [m.id for m in page.items]):
                    mismatches += 1
                    print(f"  MISMATCH {label}: original {total} {ids[:5]}, ours {page.total}")
        p50, p95 = quantiles(ours_ms)
        if original_ms:
            o50, o95 = quantiles(original_ms)
            versus = f"{o50:>10.1f} {o95:>9.1f} {o50 / p50:>6.0f}x"
        else:
            versus = f"{'n/a':>10} {'':>9} {'':>7}"
        flag = "" if p95 <= 15 else "  > 15 ms"
        matched = f"{statistics.median(totals):>9,.0f} / {max(totals):,}"
        print(f"{label:32} {p50:>9.2f} {p95:>8.2f}{pg_cell} {versus}  {matched}{flag}", flush=True)
    print(f"\nresults checked against the original's pattern: {mismatches} mismatches")
    if pg_storage is not None:
        print(
            f"PostgreSQL's results checked against SQLite's: {pg_mismatches} mismatches "
            "(! marks a p95 over 50 ms)"
        )
        await pg_storage.close()
    conn.close()
    await storage.close()


def tag_ids_of(path: Path) -> tuple[dict[tuple[int, str], int], dict[int, list[int]]]:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT id, game_id, name FROM tags ORDER BY id").fetchall()
    conn.close()
    by_key = {(game, name): ident for ident, game, name in rows}
    by_game: dict[int, list[int]] = {}
    for ident, game, _ in rows:
        by_game.setdefault(game, []).append(ident)
    return by_key, by_game


def size_of(path: Path) -> str:
    total = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
    return f"{total / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mods", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=100, help="queries per shape (ours)")
    parser.add_argument(
        "--original-samples", type=int, default=5, help="of those, run on the original's pattern"
    )
    parser.add_argument("--dir", type=Path, default=None, help="keep the databases here")
    parser.add_argument(
        "--storage",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="postgres: also measure PostgresStorage beside SQLite, on the same catalog",
    )
    parser.add_argument(
        "--postgres-url", default=None, help="an empty database (default: a throwaway cluster)"
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        postgres_url = None
        if args.storage == "postgres":
            postgres_url = args.postgres_url or stack.enter_context(_throwaway_cluster())
        _main(args, postgres_url)


@contextlib.contextmanager
def _throwaway_cluster() -> Iterator[str]:
    from openworkshop_postgres.cluster import find_bin, running_cluster

    bin_dir = find_bin()
    if bin_dir is None:
        sys.exit("--storage postgres: no PostgreSQL installed (apt-get install postgresql)")
    # (a server given memory, as one serving a catalog this size would be)
    settings = {"shared_buffers": "1GB", "effective_cache_size": "4GB", "work_mem": "16MB"}
    with running_cluster(bin_dir, settings=settings) as cluster:
        yield cluster.url


def _main(args: argparse.Namespace, postgres_url: str | None) -> None:
    folder = args.dir or Path(tempfile.mkdtemp(prefix="ow-bench-catalog-"))
    folder.mkdir(parents=True, exist_ok=True)
    ours, original = folder / "catalog.sqlite3", folder / "original.sqlite3"
    for path in (ours, original):
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
    print(f"catalog: {args.mods:,} mods, {GAMES:,} games, {TAGS:,} tags, in {folder}")
    print(
        f"python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
    )

    catalog = Catalog(args.mods)
    seconds, facts = asyncio.run(build_ours(catalog, ours))
    print(f"built (SqliteStorage.bulk_load, data generated on the fly): {seconds:,.1f} s, "
          f"{size_of(ours)}")  # fmt: skip
    tag_ids, by_game = tag_ids_of(ours)
    seconds = build_original(catalog, original, tag_ids)
    print(f"built the original's tables: {seconds:,.1f} s, {size_of(original)}")

    if postgres_url is not None:
        seconds, size = asyncio.run(build_postgres(catalog, postgres_url))
        print(f"built PostgreSQL (PostgresStorage.bulk_load, COPY): {seconds:,.1f} s, {size}")
        import psycopg

        with psycopg.connect(postgres_url) as pg:
            version = pg.execute("SHOW server_version").fetchone()
        print(f"PostgreSQL {version[0] if version else '?'}")

    asyncio.run(measure(args, ours, original, Shapes(catalog, facts, by_game), postgres_url))
    if args.dir is None:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
