"""Query validation: every error of the original Open Workshop API with its error_id, and the
api.md decisions."""

from __future__ import annotations

import datetime as dt

import pytest

from openworkshop.domain import ResourceType
from openworkshop.errors import (
    ConflictingRequest,
    EndHourOutOfRange,
    FilterTooComplex,
    InvalidParameter,
    ListSizeOutOfRange,
    PageSizeOutOfRange,
    StartHourOutOfRange,
)
from openworkshop.query import (
    ConditionQuery,
    DayStatsQuery,
    GameGenresQuery,
    GameInfoQuery,
    GameListQuery,
    GameSort,
    HourStatsQuery,
    ModInfoQuery,
    ModListQuery,
    ModSort,
    ModTagsQuery,
    PageQuery,
    ResourcesQuery,
    parameters,
)


def p(**kwargs: str | list[str]) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in kwargs.items()}


def test_mod_list_defaults() -> None:
    """No parameters: page 0 of 10, sorted by downloads ascending, general fields only."""
    q = ModListQuery.from_params({})
    assert (q.page.page_size, q.page.page, q.page.offset) == (10, 0, 0)
    assert (q.sort, q.descending) == (ModSort.DOWNLOADS, False)
    assert q.fields.general and not (
        q.fields.description or q.fields.short_description or q.fields.dates
    )
    assert not q.exclude_dependent


@pytest.mark.parametrize("size", ["0", "51", "-3", "1000"])
@pytest.mark.parametrize("cls", [ModListQuery, GameListQuery, PageQuery])
def test_page_size_out_of_range(cls, size: str) -> None:  # type: ignore[no-untyped-def]
    """413-family error_id 1, 'incorrect page size'."""
    with pytest.raises(PageSizeOutOfRange) as info:
        cls.from_params(p(page_size=size))
    assert info.value.body() == {"message": "incorrect page size", "error_id": 1}


def test_page_size_out_of_range_on_resources() -> None:
    with pytest.raises(PageSizeOutOfRange):
        ResourcesQuery.from_params("[1]", p(page_size="51"))


def test_offset_is_page_size_times_page() -> None:
    q = ModListQuery.from_params(p(page_size="50", page="3"))
    assert q.page.offset == 150


def test_mod_filters_complexity() -> None:
    """tags + games + primary_sources above 30 → error_id 2 with the original's message."""
    params = p(
        tags=str(list(range(1, 21))), games="[1,2,3,4,5,6,7,8,9,10]", primary_sources="steam"
    )
    with pytest.raises(FilterTooComplex) as info:
        ModListQuery.from_params(params)
    body = info.value.body()
    assert body["message"] == "the maximum complexity of filters is 30 elements in sum"
    assert body["error_id"] == 2
    # exactly 30 is allowed
    ok = ModListQuery.from_params(p(tags=str(list(range(1, 21))), games=str(list(range(1, 11)))))
    assert len(ok.tags) + len(ok.games) == 30


def test_game_filters_complexity() -> None:
    with pytest.raises(FilterTooComplex) as info:
        GameListQuery.from_params(p(genres=str(list(range(31)))))
    assert info.value.error_id == 2 and "30 elements" in info.value.message


def test_association_complexity_is_80() -> None:
    ids = str(list(range(1, 71)))
    with pytest.raises(FilterTooComplex) as info:
        ModTagsQuery.from_params(ids, p(tags=str(list(range(1, 12)))))
    assert info.value.message == "the maximum complexity of filters is 80 elements in sum"
    with pytest.raises(FilterTooComplex):
        GameGenresQuery.from_params(ids, p(genres=str(list(range(1, 12)))))
    assert len(ModTagsQuery.from_params(ids, p(tags="[1,2,3]")).mod_ids) == 70


def test_types_resources_limit_is_30() -> None:
    """The README names 20 and 30; the message's 30 holds, counted as sent (only two types
    exist, so a limit on distinct values could never be reached)."""
    q = ResourcesQuery.from_params("[1,2]", p(types_resources="logo,screenshot"))
    assert q.types == (ResourceType.LOGO, ResourceType.SCREENSHOT)
    thirty = ResourcesQuery.from_params("[1]", p(types_resources=",".join(["logo"] * 30)))
    assert thirty.types == (ResourceType.LOGO,)
    with pytest.raises(FilterTooComplex) as info:
        ResourcesQuery.from_params("[1]", p(types_resources=",".join(["logo"] * 31)))
    assert info.value.details == ["types_resources: 31 (sum 31)"]
    with pytest.raises(InvalidParameter):
        ResourcesQuery.from_params("[1]", p(types_resources="banner"))


def _spelled(form: str, elements: list[str]) -> list[str]:
    """A list parameter's values in one of the three accepted forms."""
    if form == "json":
        return ["[" + ",".join(e if e.isdigit() else f'"{e}"' for e in elements) + "]"]
    if form == "repeated":
        return elements
    return [",".join(elements)]


LIST_FORMS = ["json", "repeated", "comma"]


@pytest.mark.parametrize("form", LIST_FORMS)
@pytest.mark.parametrize(
    ("cls", "name", "element", "limit"),
    [(ModListQuery, "tags", "1", 30), (ModListQuery, "games", "1", 30),
     (ModListQuery, "game", "1", 30), (ModListQuery, "primary_sources", "steam", 30),
     (ModListQuery, "allowed_ids", "1", 50), (GameListQuery, "genres", "1", 30),
     (GameListQuery, "type_app", "game", 30), (GameListQuery, "primary_sources", "steam", 30)],
)  # fmt: skip
def test_list_limits_count_repeats(
    cls: type[ModListQuery] | type[GameListQuery], name: str, element: str, limit: int, form: str
) -> None:
    """The original's limits count the list as sent, before repeats are dropped: one element
    over is 413 error_id 2 in every form; at the limit the query holds the element once."""
    at_limit = cls.from_params({name: _spelled(form, [element] * limit)})
    assert at_limit == cls.from_params({name: _spelled(form, [element])})
    with pytest.raises(FilterTooComplex) as info:
        cls.from_params({name: _spelled(form, [element] * (limit + 1))})
    assert info.value.error_id == 2 and info.value.limit == limit


@pytest.mark.parametrize("form", LIST_FORMS)
def test_ten_thousand_repeated_tags_are_too_complex(form: str) -> None:
    """``tags=[1,1,1,…]`` with 10,000 elements: the original's 413, not a one-tag list."""
    with pytest.raises(FilterTooComplex) as info:
        ModListQuery.from_params({"tags": _spelled(form, ["1"] * 10_000)})
    assert info.value.details == ["tags: 10000, games: 0, primary_sources: 0 (sum 10000)"]


def test_game_and_games_count_together() -> None:
    """``game`` is ``games``: both count towards the 30, repeats included."""
    params = p(games=str([7] * 20), game=["7"] * 10)
    assert ModListQuery.from_params(params).games == (7,)
    with pytest.raises(FilterTooComplex):
        ModListQuery.from_params({**params, "tags": ["1"]})


@pytest.mark.parametrize("form", ["json", "comma"])
def test_path_lists_count_repeats(form: str) -> None:
    """Ids in a path count as sent too: 80 for the association lists (with their filter),
    1 to 50 for /list/resources_mods and /condition/mod."""
    ids = ["5"] * 80
    path = _spelled(form, ids)[0]
    assert ModTagsQuery.from_params(path, {}).mod_ids == (5,)
    assert GameGenresQuery.from_params(path, {}).game_ids == (5,)
    with pytest.raises(FilterTooComplex):
        ModTagsQuery.from_params(path, p(tags="1"))
    with pytest.raises(FilterTooComplex):
        GameGenresQuery.from_params(path, p(genres="1"))
    with pytest.raises(FilterTooComplex):
        ModTagsQuery.from_params(_spelled(form, ids[:70])[0], p(tags=str([1] * 11)))
    fifty, fifty_one = _spelled(form, ids[:50])[0], _spelled(form, ids[:51])[0]
    assert ResourcesQuery.from_params(fifty, {}).mod_ids == (5,)
    assert ConditionQuery.from_params(fifty, {}).mod_ids == (5,)
    with pytest.raises(ListSizeOutOfRange):
        ResourcesQuery.from_params(fifty_one, {})
    with pytest.raises(ListSizeOutOfRange):
        ConditionQuery.from_params(fifty_one, {})


@pytest.mark.parametrize("raw", ["N\x97`", "st eam", "s" * 65, "dampf\u00fc", "a/b", "\u0661"])
def test_sources_and_app_types_follow_the_documented_pattern(raw: str) -> None:
    """primary_sources and type_app are names of letters, digits and ``_.-`` (as
    /openapi.json says); anything else is malformed, not a filter that finds nothing."""
    for read, name in [
        (ModListQuery, "primary_sources"),
        (GameListQuery, "primary_sources"),
        (GameListQuery, "type_app"),
    ]:
        with pytest.raises(InvalidParameter) as info:
            read.from_params({name: [raw]})
        assert info.value.details[0].startswith(f"{name}: not a")
    ok = GameListQuery.from_params(p(primary_sources="steam,local-1.x_Y", type_app=["game"]))
    assert ok.primary_sources == ("steam", "local-1.x_Y") and ok.type_app == ("game",)


TEXT_PARAMETERS = [
    (ModListQuery.from_params, "name", "ab\x00cd"),
    (ModListQuery.from_params, "q", "ab\x00cd"),
    (ModListQuery.from_params, "primary_sources", "st\x00eam"),
    (ModListQuery.from_params, "sort", "NAME\x00"),
    (ModListQuery.from_params, "tags", "[1]\x00"),
    (ModListQuery.from_params, "page", "1\x00"),
    (GameListQuery.from_params, "name", "ab\x00cd"),
    (GameListQuery.from_params, "type_app", "game\x00"),
    (GameListQuery.from_params, "primary_sources", "\x00"),
    (DayStatsQuery.from_params, "start_date", "2026-01-01\x00"),
    (lambda params: ModInfoQuery.from_params("1", params), "game", "true\x00"),
]


@pytest.mark.parametrize(
    ("read", "name", "value"),
    TEXT_PARAMETERS,
    ids=[f"{i}-{name}" for i, (_, name, _) in enumerate(TEXT_PARAMETERS)],
)
def test_a_nul_character_is_malformed(read, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """A NUL in any parameter is 422 error_id 4 naming it (it reached SQLite as a 500)."""
    with pytest.raises(InvalidParameter) as info:
        read({name: [value]})
    assert info.value.error_id == 4
    assert info.value.details == [f"{name}: contains a NUL character"]


@pytest.mark.parametrize("depth", [2, 999, 100_000])
def test_nested_json_lists_are_malformed(depth: int) -> None:
    """A list inside a list, however deep, is "not a list" (999 levels were a RecursionError)."""
    nested = "[" * depth + "1" + "]" * depth
    with pytest.raises(InvalidParameter) as info:
        ModListQuery.from_params(p(tags=nested))
    assert info.value.details[0].startswith("tags: not a list")
    for read in (ModTagsQuery.from_params, ResourcesQuery.from_params):
        with pytest.raises(InvalidParameter) as info:
            read(nested, {})
        assert "not a list" in info.value.details[0]
    with pytest.raises(InvalidParameter):
        ConditionQuery.from_params(nested, {})


@pytest.mark.parametrize("count", [0, 51])
def test_condition_list_size(count: int) -> None:
    """/condition/mod takes 1 to 50 ids: error_id 1 'the size of the array is not correct'."""
    with pytest.raises(ListSizeOutOfRange) as info:
        ConditionQuery.from_params(str(list(range(1, count + 1))), {})
    assert info.value.body()["message"] == "the size of the array is not correct"
    assert info.value.error_id == 1


def test_condition_accepts_json_and_comma_lists() -> None:
    assert ConditionQuery.from_params("[2955709750, 3024527775]", {}).mod_ids == (
        2955709750,
        3024527775,
    )
    assert ConditionQuery.from_params("2955709750,3024527775", {}).mod_ids == (
        2955709750,
        3024527775,
    )


@pytest.mark.parametrize(
    ("start", "end", "error", "error_id"),
    [("24", "23", StartHourOutOfRange, 1), ("-1", "5", StartHourOutOfRange, 1),
     ("0", "24", EndHourOutOfRange, 2), ("5", "4", ConflictingRequest, 3)],
)  # fmt: skip
def test_hour_stats_errors(start: str, end: str, error: type, error_id: int) -> None:
    with pytest.raises(error) as info:
        HourStatsQuery.from_params(p(start_hour=start, end_hour=end))
    assert info.value.error_id == error_id  # type: ignore[attr-defined]


def test_hour_stats_messages_are_the_seeds() -> None:
    assert StartHourOutOfRange().message == "start_hour exits 24 hour format"
    assert EndHourOutOfRange().message == "end_hour exits 24 hour format"
    assert ConflictingRequest().message == "conflicting request"


def test_hour_stats_same_hour_and_date() -> None:
    q = HourStatsQuery.from_params(p(select_date="2026-03-01", start_hour="7", end_hour="7"))
    assert (q.day, q.start_hour, q.end_hour) == (dt.date(2026, 3, 1), 7, 7)


def test_day_stats_defaults_and_conflict() -> None:
    """Default: the last 7 days up to today; a start after the end conflicts (error_id 3)."""
    today = dt.date(2026, 5, 10)
    assert DayStatsQuery.from_params({}).resolve(today) == (dt.date(2026, 5, 3), today)
    with pytest.raises(ConflictingRequest):
        DayStatsQuery.from_params(p(start_date="2026-05-02", end_date="2026-05-01"))


def test_day_stats_default_start_stops_at_year_one() -> None:
    """end_date=0001-01-01: the week before it starts at the first day there is (it was an
    OverflowError, a 500)."""
    today = dt.date(2026, 5, 10)
    first = dt.date.min
    assert DayStatsQuery.from_params(p(end_date="0001-01-01")).resolve(today) == (first, first)
    eighth = dt.date(1, 1, 8)
    assert DayStatsQuery.from_params(p(end_date="0001-01-08")).resolve(today) == (first, eighth)


@pytest.mark.parametrize(
    "params",
    [
        p(page="abc"), p(page="-1"), p(page_size="1.5"), p(tags="[1,"), p(tags="[1, \"x\"]"),
        p(tags='{"a": 1}'), p(sort="POPULARITY"), p(sort="iBOGUS"), p(dependencies="maybe"),
        p(general="yes"), p(allowed_ids="-5"), p(allowed_ids=str(2**64)), p(unknown="1"),
        p(page=["1", "2"]), p(name="x" * 300),
    ],
)  # fmt: skip
def test_malformed_mod_list_params(params: dict[str, list[str]]) -> None:
    """Malformed input is an error naming the parameter, never a silent default."""
    with pytest.raises(InvalidParameter) as info:
        ModListQuery.from_params(params)
    body = info.value.body()
    assert body["error_id"] == 4
    name = next(iter(params))
    assert any(d.startswith(f"{name}:") for d in body["details"])  # type: ignore[union-attr]


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(InvalidParameter) as info:
        ModListQuery.from_params(p(page="x", sort="NOPE", tags="[a]"))
    assert len(info.value.details) == 3


def test_list_forms_and_booleans() -> None:
    """JSON arrays, repeated parameters and comma lists; true/false/1/0 in any case."""
    a = ModListQuery.from_params(p(tags="[1,2]"))
    b = ModListQuery.from_params(p(tags=["1", "2"]))
    c = ModListQuery.from_params(p(tags="1,2"))
    assert a.tags == b.tags == c.tags == (1, 2)
    assert ModListQuery.from_params(p(dependencies="TRUE")).exclude_dependent
    assert not ModListQuery.from_params(p(general="0")).fields.general
    assert ModListQuery.from_params(p(dates="1")).fields.dates


def test_empty_parameters_count_as_absent() -> None:
    """name=&sort=&dependencies= as web forms send them."""
    q = ModListQuery.from_params(p(name="", sort="", dependencies=""))
    assert q == ModListQuery.from_params({})


@pytest.mark.parametrize(
    ("raw", "sort", "descending"),
    [("NAME", ModSort.NAME, False), ("iNAME", ModSort.NAME, True), ("SIZE", ModSort.SIZE, False),
     ("iDATE_CREATION", ModSort.DATE_CREATION, True), ("DATE_UPDATE", ModSort.DATE_UPDATE, False),
     ("DATE_REQUEST", ModSort.DATE_REQUEST, False), ("iSOURCE", ModSort.SOURCE, True),
     ("iDOWNLOADS", ModSort.DOWNLOADS, True), ("CREATION_DATE", ModSort.DATE_CREATION, False),
     ("iUPDATE_DATE", ModSort.DATE_UPDATE, True), ("REQUEST_DATE", ModSort.DATE_REQUEST, False),
     ("iMOD_DOWNLOADS", ModSort.DOWNLOADS, True)],
)  # fmt: skip
def test_mod_sorts_and_aliases(raw: str, sort: ModSort, descending: bool) -> None:
    q = ModListQuery.from_params(p(sort=raw))
    assert (q.sort, q.descending) == (sort, descending)


@pytest.mark.parametrize(
    ("raw", "sort", "descending"),
    [("NAME", GameSort.NAME, False), ("iTYPE", GameSort.TYPE, True),
     ("CREATION_DATE", GameSort.CREATION_DATE, False), ("iMODS_DOWNLOADS", GameSort.MODS_DOWNLOADS, True),
     ("MODS_COUNT", GameSort.MODS_COUNT, False), ("iSOURCE", GameSort.SOURCE, True),
     ("MOD_DOWNLOADS", GameSort.MODS_DOWNLOADS, False)],
)  # fmt: skip
def test_game_sorts(raw: str, sort: GameSort, descending: bool) -> None:
    q = GameListQuery.from_params(p(sort=raw))
    assert (q.sort, q.descending) == (sort, descending)


def test_game_param_is_games_alias() -> None:
    """game=<appid> (the original's bots) is games=[<appid>]."""
    assert ModListQuery.from_params(p(game="294100")).games == (294100,)


def test_q_sorts_by_relevance_unless_told() -> None:
    assert ModListQuery.from_params(p(q="harmony")).sort is ModSort.RELEVANCE
    assert ModListQuery.from_params(p(q="harmony", sort="NAME")).sort is ModSort.NAME
    with pytest.raises(InvalidParameter):
        ModListQuery.from_params(p(sort="RELEVANCE"))


@pytest.mark.parametrize(
    "raw", ["-1", "18446744073709551616", "12a", "1e5", "", "٣", " 1", "1 ", "+1", "0x10"]
)
def test_bad_ids_are_malformed(raw: str) -> None:
    """Steam ids are unsigned 64-bit plain digits; anything else is malformed, not unknown."""
    with pytest.raises(InvalidParameter):
        ModInfoQuery.from_params(raw, {})
    with pytest.raises(InvalidParameter):
        GameInfoQuery.from_params(raw, {})


def test_largest_id_is_fine() -> None:
    assert ModInfoQuery.from_params(str(2**64 - 1), {}).mod_id == 2**64 - 1


def test_huge_lists_are_refused() -> None:
    """10,000 ids: a clear error, not a slow query."""
    ids = str(list(range(1, 10001)))
    with pytest.raises(ListSizeOutOfRange):
        ConditionQuery.from_params(ids, {})
    with pytest.raises(FilterTooComplex):
        ModListQuery.from_params(p(allowed_ids=ids))
    with pytest.raises(FilterTooComplex):
        ModTagsQuery.from_params(ids, {})
    with pytest.raises(ListSizeOutOfRange):
        ResourcesQuery.from_params(ids, {})


def test_info_flags() -> None:
    q = ModInfoQuery.from_params("5", p(dependencies="true", game="1", description="true"))
    assert q.dependencies and q.game and q.fields.description and q.fields.general
    g = GameInfoQuery.from_params("5", p(statistics="true", dates="false"))
    assert g.fields.statistics and not g.fields.dates


def test_every_problem_in_declaration_order() -> None:
    """The converter reads every field and ``cattrs.transform_error`` makes the details: the
    unknown parameters first (sorted), then each problem in the order the parameters are
    declared, every element of a list named."""
    with pytest.raises(InvalidParameter) as info:
        ModListQuery.from_params(
            p(zz="1", page="x", sort="NOPE", tags=["[1,", "2,a,b"], general="maybe", aa="2")
        )
    sorts = "NAME, SIZE, DATE_CREATION, DATE_UPDATE, DATE_REQUEST, SOURCE, DOWNLOADS, RELEVANCE"
    assert info.value.details == [
        "aa: unknown parameter",
        "zz: unknown parameter",
        "page: not an integer: 'x'",
        f"sort: unknown sort 'NOPE'; one of {sorts}, each with i",
        "tags: not a list: '[1,'",
        "tags: not an id: 'a'",
        "tags: not an id: 'b'",
        "general: not a boolean (true/false/1/0): 'maybe'",
    ]


def test_game_is_named_as_sent() -> None:
    """An alias is read into its parameter's field, but its problems carry its own name."""
    with pytest.raises(InvalidParameter) as info:
        ModListQuery.from_params(p(games="1,x", game="y"))
    assert info.value.details == ["games: not an id: 'x'", "game: not an id: 'y'"]


def test_a_malformed_path_is_reported_alone() -> None:
    """The path names what is asked for: its problems come alone, before the query's (at
    most 20 for a list)."""
    with pytest.raises(InvalidParameter) as info:
        ModInfoQuery.from_params("x", p(game="maybe", full="1"))
    assert info.value.details == ["mod_id: not a Steam id: 'x'"]
    with pytest.raises(InvalidParameter) as info:
        ModTagsQuery.from_params("[1," + ",".join(['"a"'] * 30) + "]", p(tags="x"))
    assert info.value.details == ["mods_ids_list: not a Steam id: 'a'"] * 20


def test_relevance_needs_q_alongside_other_problems() -> None:
    """A rule over two fields is checked even when another value is malformed."""
    with pytest.raises(InvalidParameter) as info:
        ModListQuery.from_params(p(sort="RELEVANCE", q="x" * 300, page="x"))
    assert info.value.details == [
        "page: not an integer: 'x'",
        "q: longer than 256 characters",
        "sort: RELEVANCE needs q",
    ]


READERS = [
    PageQuery.from_params,
    ModListQuery.from_params,
    GameListQuery.from_params,
    lambda params: ModTagsQuery.from_params("[1]", params),
    lambda params: GameGenresQuery.from_params("[1]", params),
    lambda params: ResourcesQuery.from_params("[1]", params),
    lambda params: ModInfoQuery.from_params("1", params),
    lambda params: GameInfoQuery.from_params("1", params),
    HourStatsQuery.from_params,
    DayStatsQuery.from_params,
]


@pytest.mark.parametrize("read", READERS)
def test_each_declared_default_reads_as_absent(read) -> None:  # type: ignore[no-untyped-def]
    """Sending a parameter's declared default (integers, booleans) gives the query of no
    parameters: the declarations are what the reading uses."""
    plain = read({})
    query = type(plain)
    checked = 0
    for declared in parameters(query):
        if declared.location != "query" or isinstance(declared.default, tuple):
            continue
        if isinstance(declared.default, bool):
            sent = str(declared.default).lower()
        elif isinstance(declared.default, int):
            sent = str(declared.default)
        else:
            continue
        assert read({declared.name: [sent]}) == plain, declared.name
        checked += 1
    assert checked or query is DayStatsQuery
