"""The catalog read model's promises (``CatalogReader``, written through ``CatalogWriter`` and
``GameRegistry``), held by every store: listings, tags, genres, games, resources."""

from __future__ import annotations

import pytest

from openworkshop.criteria import GameCriteria, GameSort, ModCriteria, ModSort, Paging
from openworkshop.domain import MAX_STEAM_ID, Game, Genre, ResourceType, Tag
from openworkshop.ports import Storage, Transition
from tests.contract.support import (
    AVAILABLE,
    DOWNLOADING,
    QUEUED,
    READY,
    at,
    listed,
    mod,
    mods_query,
    put,
)

pytestmark = pytest.mark.anyio


async def test_list_mods_lists_downloadable_mods_only(storage: Storage) -> None:
    """States 1 and 0 are listed; queued and downloading mods are not."""
    await put(
        storage,
        mod(1, state=READY),
        mod(2, state=AVAILABLE),
        mod(3, state=QUEUED),
        mod(4, state=DOWNLOADING),
    )
    page = await storage.list_mods(mods_query(sort=ModSort.SIZE))
    assert (page.total, [m.id for m in page.items]) == (2, [1, 2])


SORTED = [
    mod(1, name="beta", size=30, downloads=5, source="steam", date_creation=at(3)),
    mod(2, name="Alpha", size=10, downloads=5, source="local", date_creation=None),
    mod(3, name="alpha", size=30, downloads=9, source="steam", date_creation=at(1)),
    mod(4, name="Gamma", size=20, downloads=0, source="local", date_creation=at(3)),
    mod(5, name="_under", size=20, downloads=1, source="steam", date_creation=None),
]


@pytest.mark.parametrize(
    ("sort", "ascending"),
    [
        (ModSort.NAME, [5, 2, 3, 1, 4]),
        (ModSort.SIZE, [2, 4, 5, 1, 3]),
        (ModSort.DOWNLOADS, [4, 5, 1, 2, 3]),
        (ModSort.SOURCE, [2, 4, 1, 3, 5]),
        (ModSort.DATE_CREATION, [2, 5, 3, 1, 4]),
        (ModSort.DATE_UPDATE, [1, 2, 3, 4, 5]),
        (ModSort.DATE_REQUEST, [1, 2, 3, 4, 5]),
    ],
)
async def test_list_mods_sorts_both_ways(
    storage: Storage, sort: ModSort, ascending: list[int]
) -> None:
    """Each sort, ties by id in the same direction, NULLs first ascending, last descending."""
    await put(storage, *SORTED)
    assert await listed(storage, sort=sort) == ascending
    assert await listed(storage, sort=sort, descending=True) == ascending[::-1]


async def test_list_mods_name_sort_folds_ascii_only(storage: Storage) -> None:
    """NAME sorts ASCII case-insensitively and other letters by code point (NOCASE)."""
    await put(storage, mod(1, name="b"), mod(2, name="Ä"), mod(3, name="A"), mod(4, name="ä"))
    assert await listed(storage, sort=ModSort.NAME) == [3, 1, 2, 4]


async def test_list_mods_pages(storage: Storage) -> None:
    """total counts every match; offset is page_size * page; the last page is short."""
    await put(storage, *(mod(i, downloads=i) for i in range(1, 24)))
    page = await storage.list_mods(ModCriteria(page=Paging(page_size=10, page=2)))
    assert (page.total, page.offset, [m.id for m in page.items]) == (23, 20, [21, 22, 23])
    beyond = await storage.list_mods(ModCriteria(page=Paging(page_size=10, page=5)))
    assert (beyond.total, beyond.offset, beyond.items) == (23, 50, [])


async def test_list_mods_simple_filters(storage: Storage) -> None:
    """games, allowed_ids, primary_sources and dependencies=true filter, combined by AND."""
    await put(
        storage,
        mod(1, game_id=10, source="steam"),
        mod(2, game_id=20, source="steam"),
        mod(3, game_id=20, source="local"),
        mod(4, game_id=30, source="local"),
        mod(5, game_id=None, source="steam"),
        mod(6, game_id=10, source="steam", state=QUEUED),
    )
    await storage.set_dependencies(2, [1])
    await storage.set_dependencies(4, [])
    await storage.set_dependencies(7, [1])  # no row
    assert await listed(storage, sort=ModSort.SIZE, games=(10, 20)) == [1, 2, 3]
    assert await listed(storage, sort=ModSort.SIZE, games=(99,)) == []
    assert await listed(storage, sort=ModSort.SIZE, allowed_ids=(4, 6, 2, 99)) == [2, 4]
    assert await listed(storage, sort=ModSort.SIZE, primary_sources=("local",)) == [3, 4]
    assert await listed(storage, sort=ModSort.SIZE, exclude_dependent=True) == [1, 3, 4, 5]
    assert await listed(
        storage, sort=ModSort.SIZE, games=(20, 30), primary_sources=("local", "x"),
        exclude_dependent=True,
    ) == [3, 4]  # fmt: skip
    page = await storage.list_mods(mods_query(games=(20,), primary_sources=("steam",)))
    assert page.total == 1


async def test_list_mods_needs_every_tag(storage: Storage) -> None:
    """tags: a mod must have all of them; an unknown tag matches nothing."""
    await put(storage, mod(1), mod(2), mod(3), mod(4, game_id=20))
    await storage.set_mod_tags(1, 10, ["A", "B", "C"])
    await storage.set_mod_tags(2, 10, ["A", "C"])
    await storage.set_mod_tags(3, 10, ["B"])
    await storage.set_mod_tags(4, 20, ["A"])
    tags = {t.name: t.id for t in (await storage.list_tags(10, Paging())).items}
    other = (await storage.list_tags(20, Paging())).items[0].id
    assert await listed(storage, sort=ModSort.SIZE, tags=(tags["A"],)) == [1, 2]
    assert await listed(storage, sort=ModSort.SIZE, tags=(tags["C"], tags["A"])) == [1, 2]
    assert await listed(storage, sort=ModSort.SIZE, tags=(tags["A"], tags["B"])) == [1]
    assert await listed(storage, sort=ModSort.SIZE, tags=(tags["A"], other)) == []
    assert await listed(storage, sort=ModSort.SIZE, tags=(other,)) == [4]
    assert await listed(storage, sort=ModSort.SIZE, tags=(tags["A"],), games=(20,)) == []
    assert await listed(storage, sort=ModSort.SIZE, tags=(99999,)) == []
    assert await listed(storage, sort=ModSort.SIZE, tags=(MAX_STEAM_ID,)) == []
    page = await storage.list_mods(mods_query(tags=(tags["A"],), games=(10, 20)))
    assert page.total == 2


async def test_tags_beyond_the_sixty_third_of_a_game(storage: Storage) -> None:
    """A game with many tags filters by every one of them, early or late."""
    names = [f"t{i}" for i in range(70)]
    await put(storage, mod(1), mod(2), mod(3))
    await storage.set_mod_tags(1, 10, names)
    await storage.set_mod_tags(2, 10, names[:2] + names[65:67])
    await storage.set_mod_tags(3, 10, names[1:3])
    ids = {t.name: t.id for t in (await storage.list_tags(10, Paging(page_size=50, page=0))).items}
    ids |= {t.name: t.id for t in (await storage.list_tags(10, Paging(page_size=50, page=1))).items}
    assert await listed(storage, sort=ModSort.SIZE, tags=(ids["t65"],)) == [1, 2]
    assert await listed(storage, sort=ModSort.SIZE, tags=(ids["t1"], ids["t66"])) == [1, 2]
    assert await listed(storage, sort=ModSort.SIZE, tags=(ids["t2"], ids["t1"])) == [1, 3]
    assert await listed(storage, sort=ModSort.SIZE, tags=(ids["t69"], ids["t0"])) == [1]


async def test_tags_set_under_another_game(storage: Storage) -> None:
    """A mod tagged with another game's tags still matches those tags."""
    await put(storage, mod(1, game_id=10), mod(2, game_id=20))
    await storage.set_mod_tags(1, 10, ["A", "B"])
    await storage.set_mod_tags(2, 10, ["A", "B"])  # tags of game 10 on a mod of game 20
    a, b = (await storage.list_tags(10, Paging())).items
    assert await listed(storage, sort=ModSort.SIZE, tags=(a.id, b.id)) == [1, 2]
    assert await listed(storage, sort=ModSort.SIZE, tags=(a.id,), games=(20,)) == [2]


async def test_tags_set_before_the_mod_exists(storage: Storage) -> None:
    """Tags and dependencies written before the mod's row count once it is written."""
    await storage.set_mod_tags(1, 10, ["A"])
    await storage.set_dependencies(1, [5])
    await put(storage, mod(1, name="Late"))
    (tag,) = (await storage.list_tags(10, Paging())).items
    assert await listed(storage, tags=(tag.id,)) == [1]
    assert await listed(storage, exclude_dependent=True) == []
    assert await listed(storage, q="a") == [1]


async def test_name_filter_is_a_case_insensitive_substring(storage: Storage) -> None:
    """name: any substring, any case, any length; %, _ and quotes are literal."""
    await put(
        storage,
        mod(1, name="Better Trains"),
        mod(2, name="BETTER-TRAINS 100%"),
        mod(3, name="Ёлка и ЁЖИК"),
        mod(4, name="snake_case"),
        mod(5, name='say "hi"'),
        mod(6, name="Bet"),
    )
    assert await listed(storage, sort=ModSort.SIZE, name="better") == [1, 2]
    assert await listed(storage, sort=ModSort.SIZE, name="TER-TR") == [2]
    assert await listed(storage, sort=ModSort.SIZE, name="r t") == [1]
    assert await listed(storage, sort=ModSort.SIZE, name="et") == [1, 2, 6]
    assert await listed(storage, sort=ModSort.SIZE, name="B") == [1, 2, 6]
    assert await listed(storage, sort=ModSort.SIZE, name="%") == [2]
    assert await listed(storage, sort=ModSort.SIZE, name="_") == [4]
    assert await listed(storage, sort=ModSort.SIZE, name="e_c") == [4]
    assert await listed(storage, sort=ModSort.SIZE, name='"hi"') == [5]
    assert await listed(storage, sort=ModSort.SIZE, name="ёлка") == [3]
    assert await listed(storage, sort=ModSort.SIZE, name="ёж") == [3]
    assert await listed(storage, sort=ModSort.SIZE, name="ЁЛ") == [3]
    assert await listed(storage, sort=ModSort.SIZE, name="trainz") == []
    page = await storage.list_mods(mods_query(name="better"))
    assert page.total == 2


async def test_q_needs_every_word_and_ranks(storage: Storage) -> None:
    """q: every word must appear (name, descriptions or tags); name matches rank first."""
    await put(
        storage,
        mod(1, name="Harmony", description="a library of patches for trains"),
        mod(2, name="Trains of the north"),
        mod(3, name="Faster trains", short_description="trains, trains"),
        mod(4, name="Boats"),
        mod(5, name="Cargo", description="nothing here"),
    )
    await storage.set_mod_tags(5, 10, ["Trains"])
    by_rank = await listed(storage, q="trains", sort=ModSort.RELEVANCE)
    assert set(by_rank) == {1, 2, 3, 5}
    assert by_rank[0] == 3 and by_rank[-1] == 1
    worst_first = await listed(storage, q="trains", sort=ModSort.RELEVANCE, descending=True)
    assert worst_first == by_rank[::-1]
    assert await listed(storage, q="TRAINS north", sort=ModSort.SIZE) == [2]
    assert await listed(storage, q="trains boats", sort=ModSort.SIZE) == []
    assert await listed(storage, q="trains", sort=ModSort.NAME) == [5, 3, 1, 2]
    page = await storage.list_mods(mods_query(q="trains", page=Paging(page_size=2)))
    assert (page.total, len(page.items)) == (4, 2)


async def test_q_follows_renames_retags_and_states(storage: Storage) -> None:
    """The search sees a mod's latest name and tags, and only while it is listed."""
    await put(storage, mod(1, name="Old name"))
    await storage.set_mod_tags(1, 10, ["Alpha"])
    assert await listed(storage, q="alpha") == [1]
    await storage.set_mod_tags(1, 10, ["Beta"])
    assert await listed(storage, q="alpha") == []
    assert await listed(storage, q="beta") == [1]
    assert await storage.put_mod(mod(1, name="New name"), expect=READY)
    assert await listed(storage, q="old") == []
    assert await listed(storage, name="new n") == [1]
    assert await storage.put_mod(mod(1, name="New name", state=QUEUED), expect=READY)
    assert await listed(storage, q="new") == []
    assert await listed(storage, name="new") == []
    assert await storage.put_mod(mod(1, name="New name", state=AVAILABLE), expect=QUEUED)
    assert await listed(storage, q="new") == [1]
    assert await storage.apply(Transition(mod_id=1, expect=AVAILABLE, after=None))
    assert await listed(storage, q="new") == []


NASTY = [
    '"better-trains"', "better-trains", "AND", "OR", "NOT", "a AND b", "*", "**", "trains*",
    "NEAR(", "NEAR(a b)", '"', '""', "'", "''", "(", ")", "^", "-", ":", "name:x", "{a b}",
    "a + b", "\\", "%", "_", "\x00", "ё", "🚂", "a\"b'c", " ", "e" * 256,
    "foo_bar", "x\u0301y", "\ue000d0", "\ue001abc", "[1.5]", "a\u00a0b", "ǅ", "\u3000",
]  # fmt: skip


@pytest.mark.parametrize("text", NASTY)
async def test_user_text_is_never_syntax(storage: Storage, text: str) -> None:
    """No text given as name or q raises: it is looked for, literally."""
    await put(storage, mod(1, name=f"x {text} y"), mod(2, name="better trains"))
    by_name = await storage.list_mods(mods_query(name=text))
    assert 1 in [m.id for m in by_name.items] or not text.strip("\x00")
    await storage.list_mods(mods_query(q=text))
    await storage.list_mods(mods_query(q=text, sort=ModSort.DOWNLOADS, descending=True))
    await storage.list_games(GameCriteria(name=text))


async def test_filters_and_sort_combine(storage: Storage) -> None:
    """Tags, name, q, game, source and a sort answer together."""
    for i in range(1, 41):
        await put(
            storage,
            mod(
                i,
                name=f"{'Red' if i % 2 else 'Blue'} car {i}",
                downloads=i % 7,
                source="steam" if i % 3 else "local",
                game_id=10 if i <= 30 else 20,
            ),
        )
        await storage.set_mod_tags(
            i, 10 if i <= 30 else 20, ["all"] + (["five"] if i % 5 == 0 else [])
        )
    tags = {t.name: t.id for t in (await storage.list_tags(10, Paging())).items}
    expected = sorted(
        (i for i in range(1, 31) if i % 2 and i % 5 == 0 and i % 3),
        key=lambda i: (-(i % 7), -i),
    )
    got = await listed(
        storage,
        tags=(tags["all"], tags["five"]),
        name="red",
        q="car",
        games=(10,),
        primary_sources=("steam",),
        sort=ModSort.DOWNLOADS,
        descending=True,
    )
    assert got == expected


# --- tags, genres, games ------------------------------------------------------------------


async def test_set_mod_tags_replaces_and_creates_per_game(storage: Storage) -> None:
    """Tags are created once per (game, name); setting again replaces a mod's set."""
    await put(storage, mod(1), mod(2))
    await storage.set_mod_tags(1, 10, ["B", "A", "B"])
    await storage.set_mod_tags(2, 20, ["A"])
    await storage.set_mod_tags(1, 10, ["A", "C"])
    tags10 = (await storage.list_tags(10, Paging())).items
    assert tags10 == [Tag(id=1, name="B"), Tag(id=2, name="A"), Tag(id=4, name="C")]
    assert (await storage.list_tags(20, Paging())).items == [Tag(id=3, name="A")]
    assert await storage.mod_tags([1, 2, 3], []) == {
        1: [Tag(id=2, name="A"), Tag(id=4, name="C")],
        2: [Tag(id=3, name="A")],
    }
    await storage.set_mod_tags(1, 10, [])
    assert await storage.mod_tags([1], []) == {}


async def test_mod_tags_filters_by_tag_ids(storage: Storage) -> None:
    """Only the asked tags come back; mods left with none are left out."""
    await put(storage, mod(1), mod(2))
    await storage.set_mod_tags(1, 10, ["A", "B", "C"])
    await storage.set_mod_tags(2, 10, ["C"])
    assert await storage.mod_tags([2, 1], [3, 1]) == {
        2: [Tag(id=3, name="C")],
        1: [Tag(id=1, name="A"), Tag(id=3, name="C")],
    }
    assert await storage.mod_tags([1, 2], [2]) == {1: [Tag(id=2, name="B")]}


async def test_list_tags_pages_in_id_order(storage: Storage) -> None:
    """A game's tags, by id, paged; other games' tags are not listed."""
    await put(storage, mod(1))
    await storage.set_mod_tags(1, 10, [f"t{i}" for i in range(12)])
    await storage.set_mod_tags(2, 11, ["other"])
    page = await storage.list_tags(10, Paging(page_size=5, page=2))
    assert (page.total, page.offset, [t.name for t in page.items]) == (12, 10, ["t10", "t11"])
    assert (await storage.list_tags(12, Paging())).total == 0


async def test_games_count_their_downloadable_mods(storage: Storage) -> None:
    """mods_count and mods_downloads follow inserts, downloads, state changes and deletes."""
    await put(
        storage, mod(1, game_id=10, downloads=4), mod(2, game_id=10, state=QUEUED, downloads=9)
    )
    await storage.put_game(Game(id=10, name="RimWorld", mods_count=999), [])
    game = await storage.get_game(10)
    assert game is not None and (game.mods_count, game.mods_downloads) == (1, 4)
    await put(storage, mod(3, game_id=10, state=AVAILABLE, downloads=1), mod(4, game_id=20))
    await storage.add_download(1, now=at(1))
    await storage.add_download(2, now=at(1))
    assert await storage.put_mod(mod(2, game_id=10, state=READY), expect=QUEUED)
    game = await storage.get_game(10)
    assert game is not None and (game.mods_count, game.mods_downloads) == (3, 16)
    assert await storage.put_mod(mod(1, game_id=20, state=READY), expect=READY)  # moved game
    assert await storage.put_mod(mod(3, game_id=10, state=QUEUED), expect=AVAILABLE)  # update
    assert await storage.apply(Transition(mod_id=2, expect=READY, after=None))
    game = await storage.get_game(10)
    assert game is not None and (game.mods_count, game.mods_downloads) == (0, 0)
    await storage.put_game(Game(id=20, name="Other"), [])
    other = await storage.get_game(20)
    assert other is not None and (other.mods_count, other.mods_downloads) == (2, 5)
    assert await storage.get_game(30) is None


async def test_put_game_replaces_the_game_and_its_genres(storage: Storage) -> None:
    """A game is upserted whole; its genres replaced; genres created by their ids."""
    when = at(0)
    await storage.put_game(
        Game(id=10, name="A", type="app", logo="l", short_description="s", description="d",
             source="local", creation_date=when),
        [Genre(id=28, name="Simulation"), Genre(id=1, name="Indie")],
    )  # fmt: skip
    await storage.put_game(Game(id=11, name="B"), [Genre(id=1, name="Indie")])
    game = await storage.get_game(10)
    assert game == Game(
        id=10, name="A", type="app", logo="l", short_description="s", description="d",
        source="local", creation_date=when,
    )  # fmt: skip
    assert await storage.game_genres([10, 11, 12], []) == {
        10: [Genre(id=1, name="Indie"), Genre(id=28, name="Simulation")],
        11: [Genre(id=1, name="Indie")],
    }
    await storage.put_game(Game(id=10, name="A2"), [Genre(id=2, name="Strategy")])
    game = await storage.get_game(10)
    assert game is not None and (game.name, game.type, game.creation_date) == ("A2", "game", None)
    assert await storage.game_genres([10], []) == {10: [Genre(id=2, name="Strategy")]}
    assert await storage.game_genres([10, 11], [1]) == {11: [Genre(id=1, name="Indie")]}
    genres = await storage.list_genres(Paging(page_size=2, page=1))
    assert (genres.total, genres.items) == (3, [Genre(id=28, name="Simulation")])


async def test_list_games_filters_and_sorts(storage: Storage) -> None:
    """type_app, genres (all of them), sources and name filter; each sort both ways."""
    games = [
        (Game(id=1, name="Stellaris", type="game", source="steam", creation_date=at(2)), [2, 28]),
        (Game(id=2, name="rimworld", type="game", source="steam", creation_date=at(1)), [1, 2]),
        (Game(id=3, name="Editor", type="app", source="local", creation_date=None), [1]),
        (Game(id=4, name="RimWorld Tools", type="app", source="steam", creation_date=at(1)), []),
    ]
    for game, genres in games:
        await storage.put_game(game, [Genre(id=g, name=f"g{g}") for g in genres])
    await put(
        storage,
        mod(10, game_id=2, downloads=5),
        mod(11, game_id=2),
        mod(12, game_id=4, downloads=9),
    )

    async def ids(**fields: object) -> list[int]:
        query = GameCriteria(page=Paging(page_size=50), **fields)  # type: ignore[arg-type]
        return [g.id for g in (await storage.list_games(query)).items]

    assert await ids(sort=GameSort.NAME) == [3, 2, 4, 1]
    assert await ids(sort=GameSort.TYPE) == [3, 4, 1, 2]
    assert await ids(sort=GameSort.CREATION_DATE) == [3, 2, 4, 1]
    assert await ids(sort=GameSort.MODS_DOWNLOADS, descending=True) == [4, 2, 3, 1]
    assert await ids(sort=GameSort.MODS_COUNT, descending=True) == [2, 4, 3, 1]
    assert await ids(sort=GameSort.SOURCE) == [3, 1, 2, 4]
    assert await ids(sort=GameSort.SOURCE, descending=True) == [4, 2, 1, 3]
    assert await ids(sort=GameSort.NAME, type_app=("app",)) == [3, 4]
    assert await ids(sort=GameSort.NAME, genres=(1, 2)) == [2]
    assert await ids(sort=GameSort.NAME, genres=(1,)) == [3, 2]
    assert await ids(sort=GameSort.NAME, primary_sources=("local", "x")) == [3]
    assert await ids(sort=GameSort.NAME, name="RIMWORLD") == [2, 4]
    assert await ids(sort=GameSort.NAME, name="ed") == [3]
    page = await storage.list_games(GameCriteria(page=Paging(page_size=1, page=2)))
    assert (page.total, page.offset, [g.id for g in page.items]) == (4, 2, [2])
    assert page.items[0].mods_count == 2 and page.items[0].mods_downloads == 5


async def test_dependencies_keep_order_and_count(storage: Storage) -> None:
    """The first `limit` dependencies in the order given, and how many in all."""
    await storage.set_dependencies(1, [30, 10, 20, 10])
    assert await storage.dependencies(1, 2) == ([30, 10], 3)
    assert await storage.dependencies(1, 20) == ([30, 10, 20], 3)
    await storage.set_dependencies(1, [MAX_STEAM_ID])
    assert await storage.dependencies(1, 20) == ([MAX_STEAM_ID], 1)
    assert await storage.dependencies(2, 20) == ([], 0)


async def test_resources_are_replaced_filtered_and_paged(storage: Storage) -> None:
    """A mod's resources are replaced in order with new ids; listed by owner, type, id."""
    await storage.set_resources(
        1, [(ResourceType.LOGO, "l1"), (ResourceType.SCREENSHOT, "s1")], now=at(0)
    )
    await storage.set_resources(2, [(ResourceType.SCREENSHOT, "s2")], now=at(1))
    await storage.set_resources(
        1, [(ResourceType.LOGO, "L1"), (ResourceType.SCREENSHOT, "S1")], now=at(2)
    )
    page = await storage.list_resources([1, 2], [], Paging())
    assert [(r.id, r.owner_id, r.type, r.url, r.date_event) for r in page.items] == [
        (3, 2, ResourceType.SCREENSHOT, "s2", at(1)),
        (4, 1, ResourceType.LOGO, "L1", at(2)),
        (5, 1, ResourceType.SCREENSHOT, "S1", at(2)),
    ]
    shots = await storage.list_resources(
        [1, 2, 3], [ResourceType.SCREENSHOT], Paging(page_size=1, page=1)
    )
    assert (shots.total, shots.offset, [r.url for r in shots.items]) == (2, 1, ["S1"])
    assert (await storage.list_resources([], [], Paging())).total == 0
