"""The Storage port's promises, held by every implementation (in memory and SQLite)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from openworkshop.criteria import GameCriteria, GameSort, ModCriteria, ModSort, Paging
from openworkshop.domain import (
    MAX_STEAM_ID,
    Archive,
    Failure,
    FailureReason,
    Game,
    Genre,
    Mod,
    ResourceType,
    Tag,
)
from openworkshop.ports import CatalogSummary, Storage, Transition
from openworkshop.states import ModState

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
READY, AVAILABLE, DOWNLOADING, QUEUED = (
    ModState.READY,
    ModState.AVAILABLE,
    ModState.DOWNLOADING,
    ModState.QUEUED,
)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def mod(ident: int, **fields: object) -> Mod:
    fields.setdefault("name", f"Mod {ident}")
    fields.setdefault("game_id", 10)
    fields.setdefault("state", READY)
    return Mod(id=ident, **fields)  # type: ignore[arg-type]


async def put(storage: Storage, *mods: Mod) -> None:
    for m in mods:
        assert await storage.put_mod(m, expect=None)


def mods_query(**fields: object) -> ModCriteria:
    fields.setdefault("page", Paging(page_size=50))
    return ModCriteria(**fields)  # type: ignore[arg-type]


async def listed(storage: Storage, **fields: object) -> list[int]:
    return [m.id for m in (await storage.list_mods(mods_query(**fields))).items]


# --- mods -----------------------------------------------------------------------------------


async def test_missing_mod_is_none(storage: Storage) -> None:
    """get_mod of an unknown id is None; get_mods and mod_states leave unknown ids out."""
    await put(storage, mod(1))
    assert await storage.get_mod(2) is None
    assert list(await storage.get_mods([2, 1, 3])) == [1]
    assert await storage.mod_states([3, 1]) == {1: READY}


async def test_mod_round_trips_every_field(storage: Storage) -> None:
    """Every field of a mod comes back as written, times as aware UTC."""
    full = Mod(
        id=MAX_STEAM_ID,
        name="Трейны «Better» — 1.5",
        game_id=2**63,
        state=AVAILABLE,
        size=2**40,
        source="local",
        downloads=7,
        short_description="short",
        description="long " * 100,
        date_creation=at(1),
        date_update=at(2),
        date_request=at(3),
        date_checked=at(4),
        date_queued=at(5),
        time_updated=1_700_000_000,
        hcontent_file="8765432109876543210",
        archive=Archive(key="294100/1.zip", size=123, sha256="ab" * 32),
        attempts=2,
        not_before=at(6),
        lease_until=dt.datetime(2026, 3, 1, 14, 0, 0, 123456, tzinfo=dt.UTC),
    )
    await put(storage, full)
    got = await storage.get_mod(MAX_STEAM_ID)
    assert got == full
    assert got is not None and got.date_creation is not None
    assert got.date_creation.utcoffset() == dt.timedelta(0)
    bare = Mod(id=5)
    await put(storage, bare)
    assert await storage.get_mod(5) == bare
    assert (await storage.get_mods([MAX_STEAM_ID, 5])) == {MAX_STEAM_ID: full, 5: bare}


async def test_put_mod_inserts_only_when_absent(storage: Storage) -> None:
    """expect=None writes a new row only; an existing one is left alone."""
    assert await storage.put_mod(mod(1, name="first"), expect=None)
    assert not await storage.put_mod(mod(1, name="second"), expect=None)
    got = await storage.get_mod(1)
    assert got is not None and got.name == "first"


async def test_put_mod_compares_and_sets_on_state(storage: Storage) -> None:
    """An update is written only if the stored state is the expected one."""
    await put(storage, mod(1, state=QUEUED))
    assert not await storage.put_mod(mod(1, state=READY, name="x"), expect=DOWNLOADING)
    assert not await storage.put_mod(mod(2, state=READY), expect=QUEUED)
    assert await storage.get_mod(2) is None
    assert await storage.put_mod(mod(1, state=DOWNLOADING, name="y"), expect=QUEUED)
    got = await storage.get_mod(1)
    assert got is not None and (got.state, got.name) == (DOWNLOADING, "y")


async def test_put_mod_never_writes_downloads(storage: Storage) -> None:
    """Inserting keeps the given count; an update keeps the stored one."""
    await put(storage, mod(1, downloads=5))
    await storage.add_download(1, now=at(1))
    assert await storage.put_mod(mod(1, downloads=0, name="renamed"), expect=READY)
    got = await storage.get_mod(1)
    assert got is not None and (got.downloads, got.name) == (6, "renamed")


async def test_removal_takes_its_associations_only(storage: Storage) -> None:
    """A removed mod takes its tag links, dependencies and resources; failures, tags stay."""
    await put(storage, mod(1), mod(2))
    await storage.set_mod_tags(1, 10, ["A", "B"])
    await storage.set_mod_tags(2, 10, ["A"])
    await storage.set_dependencies(1, [2])
    await storage.set_resources(1, [(ResourceType.LOGO, "http://x/1.png")], now=at(0))
    failure = Failure(mod_id=1, reason=FailureReason.TIMEOUT, attempts=1, date=at(0))
    assert await storage.apply(Transition(mod_id=1, expect=READY, after=mod(1), failure=failure))
    assert await storage.apply(Transition(mod_id=1, expect=READY, after=None))
    assert not await storage.apply(Transition(mod_id=1, expect=READY, after=None))
    assert await storage.get_mod(1) is None
    assert await storage.mod_tags([1, 2], []) == {2: [Tag(id=1, name="A")]}
    assert await storage.dependencies(1, 10) == ([], 0)
    assert (await storage.list_resources([1], [], Paging())).total == 0
    assert await storage.get_failure(1) is not None
    assert [t.name for t in (await storage.list_tags(10, Paging())).items] == ["A", "B"]


async def test_removal_with_expected_state(storage: Storage) -> None:
    """With expect, a mod in another state is kept."""
    await put(storage, mod(1, state=QUEUED))
    assert not await storage.apply(Transition(mod_id=1, expect=READY, after=None))
    assert await storage.get_mod(1) is not None
    assert await storage.apply(Transition(mod_id=1, expect=QUEUED, after=None))


async def test_claim_queued_takes_due_mods_oldest_first(storage: Storage) -> None:
    """Due queued mods and expired downloads, by request date then id; backoff respected."""
    await put(
        storage,
        mod(1, state=QUEUED, date_queued=at(3)),
        mod(2, state=QUEUED, date_queued=at(1)),
        mod(3, state=QUEUED, date_queued=at(1)),
        mod(4, state=QUEUED, date_queued=at(0), not_before=at(30)),  # backing off
        mod(5, state=DOWNLOADING, date_queued=at(2), lease_until=at(5)),  # worker died
        mod(6, state=DOWNLOADING, date_queued=at(0), lease_until=at(60)),  # alive
        mod(7, state=AVAILABLE, date_queued=at(0)),
        mod(8, state=QUEUED, date_queued=at(9), not_before=at(10)),  # due exactly now
    )
    taken = await storage.claim(QUEUED, 10, now=at(10), lease_until=at(20))
    assert [m.id for m in taken] == [2, 3, 5, 1, 8]
    assert all(m.state is DOWNLOADING and m.lease_until == at(20) for m in taken)
    assert (await storage.get_mod(2)) == taken[0]
    assert await storage.claim(QUEUED, 10, now=at(11), lease_until=at(21)) == []
    again = await storage.claim(QUEUED, 10, now=at(31), lease_until=at(40))
    assert [m.id for m in again] == [4, 2, 3, 5, 1, 8]
    assert (await storage.mod_states([7])) == {7: AVAILABLE}


async def test_claim_respects_the_limit(storage: Storage) -> None:
    """At most `limit` mods are taken; the rest stay queued for the next claim."""
    await put(storage, *(mod(i, state=QUEUED, date_queued=at(i)) for i in range(1, 6)))
    first = await storage.claim(QUEUED, 2, now=at(10), lease_until=at(20))
    second = await storage.claim(QUEUED, 2, now=at(10), lease_until=at(20))
    assert [m.id for m in first] == [1, 2]
    assert [m.id for m in second] == [3, 4]
    assert await storage.claim(QUEUED, 0, now=at(10), lease_until=at(20)) == []
    assert await storage.queue_size() == 5


async def test_claim_available_leases_without_changing_state(storage: Storage) -> None:
    """Pages to parse: unleased or expired AVAILABLE mods get a lease, state unchanged."""
    await put(
        storage,
        mod(1, state=AVAILABLE, date_queued=at(2)),
        mod(2, state=AVAILABLE, date_queued=at(1), lease_until=at(50)),
        mod(3, state=AVAILABLE, date_queued=at(3), lease_until=at(5)),
        mod(4, state=QUEUED, date_queued=at(0)),
    )
    taken = await storage.claim(AVAILABLE, 10, now=at(10), lease_until=at(20))
    assert [(m.id, m.state, m.lease_until) for m in taken] == [
        (1, AVAILABLE, at(20)),
        (3, AVAILABLE, at(20)),
    ]
    assert await storage.claim(AVAILABLE, 10, now=at(10), lease_until=at(20)) == []


async def test_renew_extends_leases(storage: Storage) -> None:
    """A renewed lease keeps the mod from being taken again."""
    await put(storage, mod(1, state=QUEUED), mod(2, state=QUEUED))
    await storage.claim(QUEUED, 10, now=at(0), lease_until=at(5))
    await storage.renew([1, 99], lease_until=at(60))
    retaken = await storage.claim(QUEUED, 10, now=at(10), lease_until=at(20))
    assert [m.id for m in retaken] == [2]
    got = await storage.get_mod(1)
    assert got is not None and got.lease_until == at(60)


async def test_downloads_and_request_dates(storage: Storage) -> None:
    """add_download counts and stamps the request; unknown ids ignored."""
    await put(storage, mod(1, downloads=3))
    await storage.add_download(1, now=at(1))
    await storage.add_download(1, now=at(2))
    await storage.add_download(99, now=at(2))
    got = await storage.get_mod(1)
    assert got is not None and (got.downloads, got.date_request) == (5, at(2))


async def test_queue_size_and_archived(storage: Storage) -> None:
    """The queue is waiting plus downloading mods; archived lists mods claiming a file."""
    archive = Archive(key="k1", size=1, sha256="00")
    await put(
        storage,
        mod(1, state=QUEUED),
        mod(2, state=DOWNLOADING),
        mod(3, state=READY, archive=archive),
        mod(4, state=QUEUED, archive=attrs.evolve(archive, key="k4")),  # an update
        mod(5, state=AVAILABLE),
    )
    assert await storage.queue_size() == 3
    assert sorted(await storage.archived()) == [(3, "k1"), (4, "k4")]


# --- listing mods ---------------------------------------------------------------------------


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


# --- failures, statistics, flags ------------------------------------------------------------


async def test_failures_are_upserted_and_cleared(storage: Storage) -> None:
    """One failure per mod, the latest kept, until a transition clears it."""
    first = Failure(mod_id=MAX_STEAM_ID, reason=FailureReason.TIMEOUT, attempts=1, date=at(0))
    second = Failure(
        mod_id=MAX_STEAM_ID, reason=FailureReason.ACCESS_DENIED, attempts=2, date=at(1),
        detail="Access Denied",
    )  # fmt: skip
    assert await storage.get_failure(MAX_STEAM_ID) is None
    row = mod(MAX_STEAM_ID, state=QUEUED)
    await put(storage, row)
    assert await storage.apply(Transition.of(row, row, failure=first))
    assert await storage.apply(Transition.of(row, row, failure=second))
    assert await storage.get_failure(MAX_STEAM_ID) == second
    assert await storage.apply(Transition.of(row, row, clears_failure=True))
    assert await storage.apply(Transition.of(row, row, clears_failure=True))
    assert await storage.get_failure(MAX_STEAM_ID) is None


async def test_counters_by_hour_and_day(storage: Storage) -> None:
    """count adds to the hour and the day of its moment; zero rows are not reported."""
    day = dt.date(2026, 3, 1)
    await storage.count("/list/mods/", at=dt.datetime(2026, 3, 1, 5, 59, 59, tzinfo=dt.UTC))
    await storage.count("/list/mods/", at=dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC), n=2)
    await storage.count("start", at=dt.datetime(2026, 3, 1, 4, 10, tzinfo=dt.UTC))
    await storage.count("files_sent", at=dt.datetime(2026, 3, 1, 23, 10, tzinfo=dt.UTC), n=4)
    await storage.count("files_sent", at=dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC))
    moscow = dt.timezone(dt.timedelta(hours=3))
    await storage.count("start", at=dt.datetime(2026, 3, 3, 1, 0, tzinfo=moscow))  # 2nd, 22:00 UTC
    await storage.count("zero", at=dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC), n=0)

    def hour(h: int, d: dt.date = day) -> dt.datetime:
        return dt.datetime(d.year, d.month, d.day, h, tzinfo=dt.UTC)

    rows = await storage.hour_stats(day, 0, 23)
    assert [(r.at, r.type, r.count) for r in rows] == [
        (hour(4), "start", 1),
        (hour(5), "/list/mods/", 3),
        (hour(23), "files_sent", 4),
    ]
    assert [r.type for r in await storage.hour_stats(day, 5, 5)] == ["/list/mods/"]
    assert await storage.hour_stats(day, 6, 22) == []
    second = dt.date(2026, 3, 2)
    assert [(r.at, r.type) for r in await storage.hour_stats(second, 0, 23)] == [
        (hour(0, second), "files_sent"),
        (hour(22, second), "start"),
    ]
    days = await storage.day_stats(day, second)
    midnight = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert [(r.at, r.type, r.count) for r in days] == [
        (midnight, "/list/mods/", 3),
        (midnight, "files_sent", 4),
        (midnight, "start", 1),
        (midnight + dt.timedelta(days=1), "files_sent", 1),
        (midnight + dt.timedelta(days=1), "start", 1),
    ]
    assert await storage.day_stats(dt.date(2026, 3, 4), dt.date(2026, 3, 9)) == []


async def test_delays_newest_first(storage: Storage) -> None:
    """The last samples of a kind, newest first."""
    for ms in (10, 20, 30):
        await storage.add_delay("fast", ms, at=at(ms))
    await storage.add_delay("full", 999, at=at(0))
    assert await storage.delays("fast", 2) == [30, 20]
    assert await storage.delays("fast", 20) == [30, 20, 10]
    assert await storage.delays("full", 20) == [999]
    assert await storage.delays("none", 20) == []
    assert await storage.delays("fast", 0) == []


async def test_summary_counts_the_catalog(storage: Storage) -> None:
    """/statistics/info/all: downloadable mods, games, genres, tags, dependents, days, sent."""
    assert await storage.summary() == CatalogSummary(
        mods=0, games=0, genres=0, mods_tags=0, mods_dependencies=0, statistics_days=0,
        mods_sent_count=0,
    )  # fmt: skip
    await put(storage, mod(1), mod(2, state=AVAILABLE), mod(3, state=QUEUED))
    await storage.put_game(Game(id=10), [Genre(id=1, name="a"), Genre(id=2, name="b")])
    await storage.set_mod_tags(1, 10, ["x", "y"])
    await storage.set_mod_tags(3, 11, ["x"])
    await storage.set_dependencies(1, [2])
    await storage.set_dependencies(3, [1, 2])
    await storage.set_dependencies(2, [])
    await storage.count("files_sent", at=at(0), n=3)
    await storage.count("files_sent", at=at(60 * 24))
    await storage.count("start", at=at(60 * 48))
    assert await storage.summary() == CatalogSummary(
        mods=2, games=1, genres=2, mods_tags=3, mods_dependencies=2, statistics_days=3,
        mods_sent_count=4,
    )  # fmt: skip


async def test_flags_are_shared_values(storage: Storage) -> None:
    """A flag holds a string until set to None."""
    assert await storage.get_flag("paused_until") is None
    await storage.set_flag("paused_until", "2026-03-01T12:00:00+00:00")
    await storage.set_flag("paused_until", "later")
    assert await storage.get_flag("paused_until") == "later"
    await storage.set_flag("paused_until", None)
    await storage.set_flag("paused_until", None)
    assert await storage.get_flag("paused_until") is None
