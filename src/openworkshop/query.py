"""Validated query objects for every listing and lookup of the API.

Each query class declares the parameters it reads once, in the metadata of its fields
(``openworkshop.params``: name as sent, kind, default, range, limit, help text, other names);
``from_params`` has the project's converter structure the raw parameters of a request (a
mapping of name to the list of values sent, as any web framework gives them) into it, with
the original Open Workshop API's rules and the decisions of ``api.md``. Malformed input
raises :class:`InvalidParameter` naming every offending parameter; out-of-range input raises
the original's own error. The original's limits on lists count the elements as sent, repeats
included (it counted them before any de-duplication); the query objects hold each id once.
The OpenAPI document and the parameter tables of docs/http.md are derived from the same
declarations (:func:`parameters`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final, TypeVar

import attrs

from openworkshop.criteria import (
    DEFAULT_PAGE_SIZE,
    GameCriteria,
    GameSort,
    ModCriteria,
    ModSort,
    Paging,
)
from openworkshop.domain import MAX_STEAM_ID, ResourceType
from openworkshop.errors import (
    ConflictingRequest,
    EndHourOutOfRange,
    InvalidParameter,
    ListSizeOutOfRange,
    PlanTooLarge,
    StartHourOutOfRange,
    TooManyMods,
)
from openworkshop.events import CURSOR_PATTERN, decode_cursor
from openworkshop.params import (
    LIST_KINDS,
    MAX_NAME_LENGTH,
    MAX_PAGE,
    SOURCE_PATTERN,
    Kind,
    Limit,
    Param,
    Params,
    check_known,
    finish,
    group,
    limits,
    param,
    parameters,
    parse_id,
    path_field,
    read_field,
    read_path,
    read_query,
    sort_order,
    split_list,
    structure,
    structured,
)
from openworkshop.plans import PLAN_LIMIT

__all__ = [
    "GAME_ID",
    "LIST_KINDS",
    "MAX_NAME_LENGTH",
    "MOD_ID",
    "SOURCE_PATTERN",
    "CheckQuery",
    "CollectionQuery",
    "ConditionQuery",
    "DayStatsQuery",
    "EventsQuery",
    "GameFields",
    "GameGenresQuery",
    "GameInfoQuery",
    "GameListQuery",
    "GameSort",
    "HourStatsQuery",
    "Kind",
    "Limit",
    "ModFields",
    "ModInfoQuery",
    "ModListQuery",
    "ModSort",
    "ModTagsQuery",
    "PageQuery",
    "Param",
    "Params",
    "PlanBody",
    "PlanQuery",
    "ProgressQuery",
    "ResourcesQuery",
    "limits",
    "parameters",
    "parse_id",
    "read_path",
]

MAX_PAGE_SIZE: Final = 50
LIST_FILTER_LIMIT: Final = 30
"""The original's limit on tags + games + primary_sources (mods), type_app + genres +
primary_sources (games), and types_resources."""
ASSOCIATION_LIMIT: Final = 80
"""The original's limit on ids + filter ids of /list/tags/mods and /list/genres/games."""
ID_LIST_LIMIT: Final = 50
"""Ids in one path list (/condition/mod, /list/resources_mods) and in allowed_ids."""
MOD_SORT_ALIASES: Final = {
    "CREATION_DATE": ModSort.DATE_CREATION,
    "UPDATE_DATE": ModSort.DATE_UPDATE,
    "REQUEST_DATE": ModSort.DATE_REQUEST,
    "MOD_DOWNLOADS": ModSort.DOWNLOADS,
}


GAME_SORT_ALIASES: Final = {"MOD_DOWNLOADS": GameSort.MODS_DOWNLOADS}


C = TypeVar("C", ModCriteria, GameCriteria)


def _page_size(text: str) -> Param:
    return Param(
        name="page_size",
        kind=Kind.PAGE_SIZE,
        default=DEFAULT_PAGE_SIZE,
        minimum=1,
        maximum=MAX_PAGE_SIZE,
        help=text,
    )


def _ids(name: str, text: str) -> Any:
    """A field holding a list of ids."""
    return param(Param(name=name, kind=Kind.IDS, default=(), what="an id", help=text))


def _names(name: str, what: str, text: str) -> Any:
    """A field holding a list of names (sources, app types)."""
    return param(Param(name=name, kind=Kind.NAMES, default=(), what=what, help=text))


def _flag(name: str, text: str, default: bool = False) -> Any:
    return param(Param(name=name, kind=Kind.BOOLEAN, default=default, help=text))


def _path_ids(name: str, what: str, limit: int | None = None) -> Param:
    """A path's list of Steam ids; ``limit``: 1 to that many, as sent (else 413 error_id 1)."""
    return Param(
        name=name,
        kind=Kind.STEAM_ID_LIST,
        location="path",
        max_items=limit,
        help=f"JSON array of {what} ids, e.g. `[2955709750,3024527775]` (or "
        "`2955709750,3024527775`).",
    )


def _path_id(name: str, what: str) -> Param:
    return Param(
        name=name,
        kind=Kind.STEAM_ID,
        location="path",
        help=f"Steam id of the {what} (unsigned 64-bit).",
    )


MOD_ID: Final = _path_id("mod_id", "mod")
GAME_ID: Final = _path_id("game_id", "game")


def _sources() -> Any:
    return _names("primary_sources", "a source name", "Sources, e.g. `steam`.")


def _name() -> Any:
    return param(Param(name="name", kind=Kind.TEXT, help="Part of the name."))


# --- query objects ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PageQuery(Paging):
    """``page_size`` and ``page`` of a request: a :class:`Paging` read from parameters."""

    page_size: int = param(_page_size("Items per page, 1 to 50 (outside: 413, error_id 1)."))
    page: int = param(
        Param(
            name="page",
            kind=Kind.INTEGER,
            default=0,
            minimum=0,
            maximum=MAX_PAGE,
            help="Page number from 0; offset = page_size × page.",
        )
    )

    @classmethod
    def from_params(cls, params: Params) -> PageQuery:
        query: PageQuery = read_query(cls, params)
        return query


@attrs.frozen(kw_only=True)
class ModFields:
    """Which groups of fields a mod row carries."""

    general: bool = _flag("general", "Add name, size, source and downloads.", True)
    short_description: bool = _flag(
        "short_description", "Add the short description (at most 256 characters)."
    )
    description: bool = _flag("description", "Add the full description.")
    dates: bool = _flag("dates", "Add date_creation and date_update.")


@attrs.frozen(kw_only=True)
class ModListQuery:
    """``/list/mods/``."""

    limits: ClassVar = (Limit(LIST_FILTER_LIMIT, ("tags", "games", "primary_sources")),)

    page: PageQuery = group(PageQuery)
    sort: ModSort = param(
        Param(
            name="sort",
            kind=Kind.SORT,
            sorts={**{e.value: e for e in ModSort}, **MOD_SORT_ALIASES},
            help="Sort; the `i` prefix reverses it. Default DOWNLOADS (RELEVANCE with `q`).",
        ),
        default=ModSort.DOWNLOADS,
    )
    descending: bool = sort_order()
    tags: tuple[int, ...] = _ids("tags", "Tag ids every listed mod has.")
    games: tuple[int, ...] = param(
        Param(
            name="games",
            kind=Kind.IDS,
            default=(),
            what="an id",
            help="Game ids.",
            aliases=(
                Param(
                    name="game",
                    kind=Kind.IDS,
                    what="an id",
                    single=True,
                    help="One game id (same as `games=[id]`).",
                ),
            ),
        )
    )
    allowed_ids: tuple[int, ...] = param(
        Param(
            name="allowed_ids",
            kind=Kind.STEAM_IDS,
            default=(),
            what="a Steam id",
            max_items=ID_LIST_LIMIT,
            help="Only these mods (at most 50).",
        )
    )
    exclude_dependent: bool = _flag("dependencies", "Leave out mods that depend on other mods.")
    """``dependencies=true``: leave out mods that depend on other mods."""
    primary_sources: tuple[str, ...] = _sources()
    name: str | None = _name()
    """Substring of the name, case-insensitive."""
    q: str | None = param(
        Param(
            name="q",
            kind=Kind.TEXT,
            help="Full-text search over name, descriptions and tags, every word required "
            "(our addition). RELEVANCE: mods with every word in the name first, then the "
            "others, the most downloaded first in each.",
        )
    )
    """Ranked full-text search over name, descriptions and tags (our addition)."""
    fields: ModFields = group(ModFields)

    @property
    def criteria(self) -> ModCriteria:
        """What storage is asked for: the filters, the order and the page, without the view."""
        return _criteria(self, ModCriteria)

    @classmethod
    def from_params(cls, params: Params) -> ModListQuery:
        query, problems = structure(cls, params)
        if query is None:  # what the rule on sort needs, each None if malformed
            q, sort = read_field(cls, "q", params), read_field(cls, "sort", params)
        else:
            q, sort = query.q, query.sort
        if q is not None and not q.strip():
            q = None
        if not any(params.get("sort", ())):  # absent or empty: by relevance with q
            sort = ModSort.RELEVANCE if q else ModSort.DOWNLOADS
        elif sort is ModSort.RELEVANCE and not q:
            problems.append("sort: RELEVANCE needs q")
        if problems:
            raise InvalidParameter(details=problems)
        if q != query.q or sort is not query.sort:
            query = attrs.evolve(query, q=q, sort=sort)
        done: ModListQuery = finish(query)
        return done


@attrs.frozen(kw_only=True)
class GameFields:
    short_description: bool = _flag("short_description", "Add the short description.")
    description: bool = _flag("description", "Add the description.")
    dates: bool = _flag("dates", "Add creation_date.")
    statistics: bool = _flag("statistics", "Add mods_downloads and mods_count.")


@attrs.frozen(kw_only=True)
class GameListQuery:
    """``/list/games/``."""

    limits: ClassVar = (Limit(LIST_FILTER_LIMIT, ("type_app", "genres", "primary_sources")),)

    page: PageQuery = group(PageQuery)
    sort: GameSort = param(
        Param(
            name="sort",
            kind=Kind.SORT,
            default=GameSort.MODS_DOWNLOADS,
            sorts={**{e.value: e for e in GameSort}, **GAME_SORT_ALIASES},
            help="Sort; the `i` prefix reverses it. Default MODS_DOWNLOADS.",
        )
    )
    descending: bool = sort_order()
    type_app: tuple[str, ...] = _names("type_app", "an app type", "`game` or `app`.")
    genres: tuple[int, ...] = _ids("genres", "Genre ids.")
    primary_sources: tuple[str, ...] = _sources()
    name: str | None = _name()
    fields: GameFields = group(GameFields)

    @property
    def criteria(self) -> GameCriteria:
        """What storage is asked for: the filters, the order and the page, without the view."""
        return _criteria(self, GameCriteria)

    @classmethod
    def from_params(cls, params: Params) -> GameListQuery:
        query: GameListQuery = read_query(cls, params)
        return query


def _criteria(query: object, criteria: type[C]) -> C:
    """The criteria a listing query carries: each field of ``criteria`` taken from the query
    by name (a field added to the criteria is read with it, never left at its default)."""
    return criteria(**{f.name: getattr(query, f.name) for f in attrs.fields(criteria)})


def _only_ids(what: str) -> Any:
    return _flag("only_ids", f"{what} ids instead of `{{id, name}}` objects.")


@attrs.frozen(kw_only=True)
class ModTagsQuery:
    """``/list/tags/mods/{mods_ids_list}``."""

    path: ClassVar = _path_ids("mods_ids_list", "mod")
    limits: ClassVar = (Limit(ASSOCIATION_LIMIT, ("mods_ids_list", "tags")),)

    mod_ids: tuple[int, ...] = path_field()
    tag_ids: tuple[int, ...] = _ids("tags", "Only these tags.")
    only_ids: bool = _only_ids("Tag")

    @classmethod
    def from_params(cls, mods_ids_list: str, params: Params) -> ModTagsQuery:
        query: ModTagsQuery = read_query(cls, params, mods_ids_list)
        return query


@attrs.frozen(kw_only=True)
class GameGenresQuery:
    """``/list/genres/games/{games_ids_list}``."""

    path: ClassVar = _path_ids("games_ids_list", "game")
    limits: ClassVar = (Limit(ASSOCIATION_LIMIT, ("games_ids_list", "genres")),)

    game_ids: tuple[int, ...] = path_field()
    genre_ids: tuple[int, ...] = _ids("genres", "Only these genres.")
    only_ids: bool = _only_ids("Genre")

    @classmethod
    def from_params(cls, games_ids_list: str, params: Params) -> GameGenresQuery:
        query: GameGenresQuery = read_query(cls, params, games_ids_list)
        return query


def _id_count(declared: Param, count: int) -> None:
    """A path's list of ids: 1 to its limit as sent, else the original's 413 error_id 1."""
    if not 1 <= count <= (declared.max_items or ID_LIST_LIMIT):
        raise ListSizeOutOfRange(
            details=[f"{declared.name}: {count} ids, 1 to {declared.max_items}"]
        )


@attrs.frozen(kw_only=True)
class ResourcesQuery:
    """``/list/resources_mods/{mods_list_id}``."""

    path: ClassVar = _path_ids("mods_list_id", "mod", ID_LIST_LIMIT)
    limits: ClassVar = (Limit(LIST_FILTER_LIMIT, ("types_resources",)),)

    mod_ids: tuple[int, ...] = path_field()
    page: PageQuery = group(PageQuery)
    types: tuple[ResourceType, ...] = param(
        Param(
            name="types_resources",
            kind=Kind.RESOURCE_TYPES,
            default=(),
            what="logo or screenshot",
            help="Only these types.",
        )
    )

    @classmethod
    def from_params(cls, mods_list_id: str, params: Params) -> ResourcesQuery:
        query: ResourcesQuery = read_query(cls, params, mods_list_id)
        return query


@attrs.frozen(kw_only=True)
class ModInfoQuery:
    """``/info/mod/{mod_id}``."""

    path: ClassVar = MOD_ID

    mod_id: int = path_field()
    dependencies: bool = _flag(
        "dependencies", "Add `dependencies` (at most 20) and `dependencies_count`."
    )
    game: bool = _flag("game", "Add `result.game` = `{id, name}`.")
    fields: ModFields = group(ModFields)

    @classmethod
    def from_params(cls, mod_id: str, params: Params) -> ModInfoQuery:
        query: ModInfoQuery = read_query(cls, params, mod_id)
        return query


@attrs.frozen(kw_only=True)
class GameInfoQuery:
    """``/info/game/{game_id}``."""

    path: ClassVar = GAME_ID

    game_id: int = path_field()
    fields: GameFields = group(GameFields)

    @classmethod
    def from_params(cls, game_id: str, params: Params) -> GameInfoQuery:
        query: GameInfoQuery = read_query(cls, params, game_id)
        return query


@attrs.frozen(kw_only=True)
class ConditionQuery:
    """``/condition/mod/{ids_array}``: 1 to 50 ids."""

    path: ClassVar = _path_ids("ids_array", "mod", ID_LIST_LIMIT)

    mod_ids: tuple[int, ...] = path_field()

    @classmethod
    def from_params(cls, ids_array: str, params: Params) -> ConditionQuery:
        check_known(cls, params)
        items = split_list(ids_array)
        if items is not None:  # the count before the ids: 51 of anything is too many
            _id_count(cls.path, len(items))
        return cls(mod_ids=tuple(dict.fromkeys(read_path(cls.path, ids_array))))


_ANY_HOUR: Final = 10**9
"""How far an hour is read as a number: outside 0..23 it is the original's 412, not a 422."""


@attrs.frozen(kw_only=True)
class ProgressQuery(ConditionQuery):
    """``/progress/{ids_array}``: 1 to 50 ids, as ``/condition/mod`` takes them."""


def _hour(name: str, default: int, text: str) -> Any:
    return param(
        Param(
            name=name,
            kind=Kind.INTEGER,
            default=default,
            minimum=0,
            maximum=23,
            read_range=(-_ANY_HOUR, _ANY_HOUR),
            help=text,
        )
    )


@attrs.frozen(kw_only=True)
class HourStatsQuery:
    """``/statistics/hour``; ``day`` None means today."""

    day: dt.date | None = param(
        Param(name="select_date", kind=Kind.DATE, help="The day (UTC); default today.")
    )
    start_hour: int = _hour("start_hour", 0, "From this hour.")
    end_hour: int = _hour("end_hour", 23, "To this hour.")

    @classmethod
    def from_params(cls, params: Params) -> HourStatsQuery:
        query: HourStatsQuery = structured(cls, params)
        if not 0 <= query.start_hour <= 23:
            raise StartHourOutOfRange()
        if not 0 <= query.end_hour <= 23:
            raise EndHourOutOfRange()
        if query.start_hour > query.end_hour:
            raise ConflictingRequest()
        return query


@attrs.frozen(kw_only=True)
class DayStatsQuery:
    """``/statistics/day``; ``end`` None means today, ``start`` None means end - 7 days."""

    start: dt.date | None = param(
        Param(name="start_date", kind=Kind.DATE, help="First day; default end_date − 7 days.")
    )
    end: dt.date | None = param(
        Param(name="end_date", kind=Kind.DATE, help="Last day; default today (UTC).")
    )

    @classmethod
    def from_params(cls, params: Params) -> DayStatsQuery:
        query: DayStatsQuery = structured(cls, params)
        if query.start is not None and query.end is not None and query.start > query.end:
            raise ConflictingRequest()
        return query

    def resolve(self, today: dt.date) -> tuple[dt.date, dt.date]:
        end = self.end or today
        week = dt.timedelta(days=7)
        start = self.start or (end - week if end - dt.date.min >= week else dt.date.min)
        if start > end:
            raise ConflictingRequest()
        return start, end


# --- install plans and collections (launcher endpoints) -----------------------------------

PLAN_BODY_LIMIT: Final = 1 << 20
"""The largest ``POST /plan`` body read (500 ids take about 11 KB)."""


def _plan_ids(ids: Sequence[int], name: str) -> tuple[int, ...]:
    """1 to ``PLAN_LIMIT`` ids as sent, each once."""
    if not ids:
        raise InvalidParameter(details=[f"{name}: at least one id"])
    if len(ids) > PLAN_LIMIT:
        raise PlanTooLarge(details=[f"{name}: {len(ids)} ids, at most {PLAN_LIMIT}"])
    return tuple(dict.fromkeys(ids))


_QUEUE_HELP: Final = (
    "Queue every mod of the plan the server does not have (and Steam lists), in one batch."
)


@attrs.frozen(kw_only=True)
class PlanQuery:
    """``GET /plan/{ids_array}``: mods or collections, 1 to 500 as sent."""

    path: ClassVar = Param(
        name="ids_array",
        kind=Kind.STEAM_ID_LIST,
        location="path",
        help="JSON array of mod or collection ids, e.g. `[2955709750,3024527775]` (or "
        "`2955709750,3024527775`); 1 to 500 as sent (more: 413).",
    )

    mod_ids: tuple[int, ...] = path_field()
    queue: bool = _flag("queue", _QUEUE_HELP)

    @classmethod
    def from_params(cls, ids_array: str, params: Params) -> PlanQuery:
        query: PlanQuery = structured(cls, params, mod_ids=())  # its parameters first
        ids = _plan_ids(read_path(cls.path, ids_array), cls.path.name)
        return attrs.evolve(query, mod_ids=ids)


@attrs.frozen(kw_only=True)
class PlanBody:
    """``POST /plan``: the same as ``GET /plan/{ids_array}``, in a JSON body (long lists)."""

    mod_ids: tuple[int, ...] = param(
        Param(
            name="ids",
            kind=Kind.STEAM_IDS,
            location="body",
            what="a Steam id",
            help="Mod or collection ids (numbers or digit strings), 1 to 500 as sent (more: 413).",
        ),
        default=(),
    )
    queue: bool = param(
        Param(name="queue", kind=Kind.BOOLEAN, location="body", default=False, help=_QUEUE_HELP)
    )

    @classmethod
    def from_json(cls, raw: bytes, params: Params) -> PlanQuery:
        """The body ``{"ids": [...], "queue": false}``; InvalidParameter for anything else."""
        check_known(cls, params)  # no query parameters
        if len(raw) > PLAN_BODY_LIMIT:
            raise InvalidParameter(details=[f"body: larger than {PLAN_BODY_LIMIT} bytes"])
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise InvalidParameter(details=["body: not JSON"]) from None
        if not isinstance(body, dict):
            raise InvalidParameter(details=['body: not an object {"ids": [...]}'])
        problems = [f"{key}: unknown parameter" for key in sorted(set(body) - {"ids", "queue"})]
        queue = body.get("queue", False)
        if not isinstance(queue, bool):
            problems.append("queue: not a boolean (true/false)")
        ids = body.get("ids")
        sent: list[int] = []
        if not isinstance(ids, list):
            problems.append("ids: not a list of ids")
        else:
            for element in ids:
                value = None
                if isinstance(element, int) and not isinstance(element, bool):
                    value = element if 0 <= element <= MAX_STEAM_ID else None
                elif isinstance(element, str):
                    value = parse_id(element)
                if value is None:
                    problems.append(f"ids: not a Steam id: {str(element)[:40]!r}")
                else:
                    sent.append(value)
        if problems:
            raise InvalidParameter(details=problems[:20])
        return PlanQuery(mod_ids=_plan_ids(sent, "ids"), queue=queue)


COLLECTION_ID: Final = _path_id("collection_id", "collection")


@attrs.frozen(kw_only=True)
class CollectionQuery:
    """``/info/collection/{collection_id}``."""

    path: ClassVar = COLLECTION_ID

    collection_id: int = path_field()

    @classmethod
    def from_params(cls, collection_id: str, params: Params) -> CollectionQuery:
        ident = read_path(cls.path, collection_id)
        check_known(cls, params)
        return cls(collection_id=ident)


# --- the launcher endpoints: the events feed and the bulk update check ---------------------

EVENTS_LIMIT: Final = 1000
"""The most events one ``/events`` answer carries."""
CHECK_LIMIT: Final = 1000
"""The most mods one ``POST /check/mods`` takes."""
_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")


@attrs.frozen(kw_only=True)
class EventsQuery:
    """``/events``: the events after a cursor (``after`` None: from the oldest kept)."""

    after: int | None = param(
        Param(
            name="after",
            kind=Kind.TEXT,
            pattern=CURSOR_PATTERN,
            parse=decode_cursor,
            what="a cursor of this server",
            help="The `next` cursor of an earlier answer (or the `id` of an event): only "
            "later events. Without it, from the oldest event kept. Opaque; a malformed one is "
            "422, one the log no longer reaches is 410.",
        )
    )
    limit: int = param(
        Param(
            name="limit",
            kind=Kind.INTEGER,
            default=100,
            minimum=1,
            maximum=EVENTS_LIMIT,
            help=f"The most events in one answer, 1 to {EVENTS_LIMIT}.",
        )
    )

    @classmethod
    def from_params(cls, params: Params) -> EventsQuery:
        query: EventsQuery = structured(cls, params)
        return query


@attrs.frozen(kw_only=True)
class CheckQuery:
    """``POST /check/mods``: each mod's version as the client has it, by id.

    A version is the sha256 of the archive the client has (64 hex digits) or its
    ``date_update`` (``YYYY-MM-DD HH:MM:SS`` as the API writes it, or ISO 8601; UTC unless
    it says otherwise)."""

    versions: Mapping[int, str | dt.datetime] = attrs.field(factory=dict)
    refresh: bool = _flag(
        "refresh",
        "Also queue an update check against Steam (batched) for each listed mod last "
        "checked more than the update cooldown ago.",
    )

    @classmethod
    def from_request(cls, params: Params, body: object) -> CheckQuery:
        """Reads the query string and the decoded JSON body (``None``: not JSON)."""
        query, problems = structure(cls, params)
        if not isinstance(body, dict):
            problems.append("body: not a JSON object of {mod id: sha256 or date_update}")
            raise InvalidParameter(details=problems)
        if len(body) > CHECK_LIMIT:
            raise TooManyMods(
                details=[f"{len(body)} mods sent; at most {CHECK_LIMIT} in one check"]
            )
        versions: dict[int, str | dt.datetime] = {}
        for key, value in body.items():
            mod_id = parse_id(key)
            if mod_id is None:
                problems.append(f"{key[:40]!r}: not a Steam id")
                continue
            version = _version(value)
            if version is None:
                shown = value[:70] if isinstance(value, str) else json.dumps(value)[:70]
                problems.append(f"{key}: not a sha256 (64 hex digits) or a date_update: {shown!r}")
                continue
            versions[mod_id] = version
        if problems:
            raise InvalidParameter(details=problems)
        checked: CheckQuery = attrs.evolve(query, versions=versions)
        return checked


def _version(value: object) -> str | dt.datetime | None:
    """A sha256 (lower-cased) or an aware UTC date; ``None`` for anything else."""
    if not isinstance(value, str) or len(value) > 64 or "\x00" in value:
        return None
    text = value.strip()
    if _SHA256.match(text.lower()):
        return text.lower()
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
