"""Validated query objects for every listing and lookup of the API.

Each ``from_params`` reads the raw parameters of a request (a mapping of name to the list
of values sent, as any web framework gives them) with the seed's rules and the decisions of
``api.md``: lists as JSON arrays or ``a=1&a=2`` or ``a=1,2``; booleans ``true/false/1/0``;
an empty value counts as absent. Malformed input raises :class:`InvalidParameter` naming
every offending parameter (a value with a NUL character, a list nested in a list);
out-of-range input raises the seed's own error. The seed's limits on lists count the
elements as sent, repeats included (the original counted them before any de-duplication);
the query objects hold each id once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, Final, TypeVar

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
    FilterTooComplex,
    InvalidParameter,
    ListSizeOutOfRange,
    PageSizeOutOfRange,
    StartHourOutOfRange,
)

__all__ = [
    "ConditionQuery",
    "DayStatsQuery",
    "GameFields",
    "GameGenresQuery",
    "GameInfoQuery",
    "GameListQuery",
    "GameSort",
    "HourStatsQuery",
    "ModFields",
    "ModInfoQuery",
    "ModListQuery",
    "ModSort",
    "ModTagsQuery",
    "PageQuery",
    "Params",
    "ResourcesQuery",
    "parse_id",
    "parse_id_list",
]

Params = Mapping[str, Sequence[str]]
"""Raw request parameters: each name with every value sent for it."""

MAX_PAGE_SIZE: Final = 50
LIST_FILTER_LIMIT: Final = 30
"""The seed's limit on tags + games + primary_sources (mods), type_app + genres +
primary_sources (games), and types_resources."""
ASSOCIATION_LIMIT: Final = 80
"""The seed's limit on ids + filter ids of /list/tags/mods and /list/genres/games."""
ID_LIST_LIMIT: Final = 50
"""Ids in one path list (/condition/mod, /list/resources_mods) and in allowed_ids."""
MAX_NAME_LENGTH: Final = 256
SOURCE_PATTERN: Final = r"^[A-Za-z0-9_.-]{1,64}$"
"""A source or app type name (``steam``, ``game``): letters, digits, ``_.-``."""
_SOURCE: Final = re.compile(SOURCE_PATTERN)
MAX_PAGE: Final = 10**9


MOD_SORT_ALIASES: Final = {
    "CREATION_DATE": ModSort.DATE_CREATION,
    "UPDATE_DATE": ModSort.DATE_UPDATE,
    "REQUEST_DATE": ModSort.DATE_REQUEST,
    "MOD_DOWNLOADS": ModSort.DOWNLOADS,
}


GAME_SORT_ALIASES: Final = {"MOD_DOWNLOADS": GameSort.MODS_DOWNLOADS}


# --- reading raw parameters ------------------------------------------------------------

E = TypeVar("E")


class _Reader:
    """Reads parameters one by one, collecting every problem before raising."""

    def __init__(self, params: Params, known: Iterable[str]) -> None:
        self.params = params
        self.problems: list[str] = []
        self.sent: dict[str, int] = {}
        """How many elements each list had as sent, repeats included (the seed's limits
        count these)."""
        unknown = sorted(set(params) - set(known))
        for name in unknown:
            self.problems.append(f"{name}: unknown parameter")

    def values(self, name: str) -> list[str]:
        """Every non-empty value sent for ``name``; none if one has a NUL character (no text
        of the API has one, and SQLite would end the text there)."""
        values = [v for v in self.params.get(name, ()) if v != ""]
        if any("\x00" in v for v in values):
            self._complain(name, "contains a NUL character")
            return []
        return values

    def raw(self, name: str) -> str | None:
        values = self.values(name)
        if not values:
            return None
        if len(values) > 1:
            self._complain(name, "given more than once")
            return None
        return values[0]

    def _complain(self, name: str, what: str) -> None:
        self.problems.append(f"{name}: {what}")

    def integer(self, name: str, default: int, *, minimum: int = 0, maximum: int = MAX_PAGE) -> int:
        raw = self.raw(name)
        if raw is None:
            return default
        value = _to_int(raw)
        if value is None:
            self._complain(name, f"not an integer: {raw[:40]!r}")
            return default
        if not minimum <= value <= maximum:
            self._complain(name, f"must be between {minimum} and {maximum}")
            return default
        return value

    def page_size(self) -> int:
        """page_size: malformed is 422; out of 1..50 is the seed's 413 (checked later)."""
        raw = self.raw("page_size")
        if raw is None:
            return DEFAULT_PAGE_SIZE
        value = _to_int(raw)
        if value is None:
            self._complain("page_size", f"not an integer: {raw[:40]!r}")
            return DEFAULT_PAGE_SIZE
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.raw(name)
        if raw is None:
            return default
        value = _BOOLEANS.get(raw.strip().lower())
        if value is None:
            self._complain(name, f"not a boolean (true/false/1/0): {raw[:40]!r}")
            return default
        return value

    def text(self, name: str) -> str | None:
        raw = self.raw(name)
        if raw is None:
            return None
        if len(raw) > MAX_NAME_LENGTH:
            self._complain(name, f"longer than {MAX_NAME_LENGTH} characters")
            return None
        return raw

    def list(self, name: str, item: Callable[[str], E | None], what: str) -> tuple[E, ...]:
        out: list[E] = []
        sent = 0
        for raw in self.values(name):
            items = _split_list(raw)
            if items is None:
                self._complain(name, f"not a list: {raw[:40]!r}")
                continue
            sent += len(items)
            for element in items:
                parsed = item(element)
                if parsed is None:
                    self._complain(name, f"not {what}: {element[:40]!r}")
                else:
                    out.append(parsed)
        self.sent[name] = sent
        return tuple(dict.fromkeys(out))  # keep order, drop repeats

    def sort(self, enum: type[Enum], aliases: Mapping[str, Any], default: Any) -> tuple[Any, bool]:
        raw = self.raw("sort")
        if raw is None:
            return default, False
        descending = False
        name = raw
        if name.startswith("i") and not name.startswith("I"):
            descending, name = True, name[1:]
        choice = aliases.get(name)
        if choice is None:
            try:
                choice = enum(name)
            except ValueError:
                names = ", ".join(e.value for e in enum)
                self._complain("sort", f"unknown sort {raw[:40]!r}; one of {names}, each with i")
                return default, False
        return choice, descending

    def date(self, name: str) -> dt.date | None:
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            self._complain(name, f"not a date YYYY-MM-DD: {raw[:40]!r}")
            return None

    def done(self) -> None:
        if self.problems:
            raise InvalidParameter("invalid parameters", details=self.problems)


_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}


def _to_int(raw: str) -> int | None:
    """Plain decimal digits with an optional minus sign, nothing around them."""
    text = raw
    sign = 1
    if text.startswith("-"):
        sign, text = -1, text[1:]
    if not text.isascii() or not text.isdigit() or len(text) > 30:
        return None
    return sign * int(text)


def _split_list(raw: str) -> list[str] | None:
    """A JSON array of numbers and strings, or comma-separated values, or a single value;
    ``None`` for anything else (an array nested however deep among them)."""
    text = raw.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # arrays nested ~1000 deep exhaust the stack
            return None
        if not isinstance(value, list):
            return None
        out = []
        for element in value:
            if isinstance(element, bool) or not isinstance(element, int | str):
                return None
            out.append(str(element))
        return out
    return [part.strip() for part in text.split(",") if part.strip() != ""]


def parse_id(raw: str) -> int | None:
    """A Steam id (unsigned 64-bit, plain digits, nothing around them) or ``None``."""
    text = raw
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        return None
    value = int(text)
    return value if value <= MAX_STEAM_ID else None


def parse_id_list(raw: str, name: str) -> tuple[int, ...]:
    """A path list of Steam ids (JSON array or comma-separated), each once; InvalidParameter
    if bad."""
    return tuple(dict.fromkeys(_sent_ids(raw, name)))


def _sent_ids(raw: str, name: str) -> list[int]:
    """The Steam ids of a path list as sent, repeats included; InvalidParameter if bad."""
    items = _split_list(raw)
    if items is None:
        raise InvalidParameter("invalid parameters", details=[f"{name}: not a list: {raw[:40]!r}"])
    ids = []
    bad = []
    for element in items:
        value = parse_id(element)
        if value is None:
            bad.append(f"{name}: not a Steam id: {element[:40]!r}")
        else:
            ids.append(value)
    if bad:
        raise InvalidParameter("invalid parameters", details=bad[:20])
    return ids


def require_id(raw: str, name: str) -> int:
    """A single Steam id from a path; InvalidParameter if malformed."""
    value = parse_id(raw)
    if value is None:
        raise InvalidParameter(
            "invalid parameters", details=[f"{name}: not a Steam id: {raw[:40]!r}"]
        )
    return value


def _small_int(raw: str) -> int | None:
    value = _to_int(raw)
    return value if value is not None and 0 <= value <= MAX_STEAM_ID else None


def _source(raw: str) -> str | None:
    text = raw.strip()
    return text if _SOURCE.fullmatch(text) else None


def _resource_type(raw: str) -> ResourceType | None:
    try:
        return ResourceType(raw.strip())
    except ValueError:
        return None


def _check_page_size(page_size: int) -> None:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise PageSizeOutOfRange()


def _check_complexity(limit: int, **sent: int) -> None:
    """The seed's limit on the elements of some lists together, counted as sent."""
    total = sum(sent.values())
    if total > limit:
        sizes = ", ".join(f"{k}: {n}" for k, n in sent.items())
        raise FilterTooComplex(limit, details=[f"{sizes} (sum {total})"])


# --- query objects ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PageQuery(Paging):
    """``page_size`` and ``page`` of a request: a :class:`Paging` read from parameters."""

    @classmethod
    def from_params(cls, params: Params) -> PageQuery:
        reader = _Reader(params, ("page_size", "page"))
        query = cls._read(reader)
        reader.done()
        _check_page_size(query.page_size)
        return query

    @classmethod
    def _read(cls, reader: _Reader) -> PageQuery:
        return cls(page_size=reader.page_size(), page=reader.integer("page", 0))


@attrs.frozen(kw_only=True)
class ModFields:
    """Which groups of fields a mod row carries."""

    general: bool = True
    short_description: bool = False
    description: bool = False
    dates: bool = False

    @classmethod
    def _read(cls, reader: _Reader) -> ModFields:
        return cls(
            general=reader.boolean("general", True),
            short_description=reader.boolean("short_description", False),
            description=reader.boolean("description", False),
            dates=reader.boolean("dates", False),
        )


_MOD_FIELD_NAMES: Final = ("general", "short_description", "description", "dates")


@attrs.frozen(kw_only=True)
class ModListQuery:
    """``/list/mods/``."""

    page: PageQuery = PageQuery()
    sort: ModSort = ModSort.DOWNLOADS
    descending: bool = False
    tags: tuple[int, ...] = ()
    games: tuple[int, ...] = ()
    allowed_ids: tuple[int, ...] = ()
    exclude_dependent: bool = False
    """``dependencies=true``: leave out mods that depend on other mods."""
    primary_sources: tuple[str, ...] = ()
    name: str | None = None
    """Substring of the name, case-insensitive."""
    q: str | None = None
    """Ranked full-text search over name, descriptions and tags (our addition)."""
    fields: ModFields = ModFields()

    @property
    def criteria(self) -> ModCriteria:
        """What storage is asked for: the filters, the order and the page, without the view."""
        return ModCriteria(
            page=self.page,
            sort=self.sort,
            descending=self.descending,
            tags=self.tags,
            games=self.games,
            allowed_ids=self.allowed_ids,
            exclude_dependent=self.exclude_dependent,
            primary_sources=self.primary_sources,
            name=self.name,
            q=self.q,
        )

    @classmethod
    def from_params(cls, params: Params) -> ModListQuery:
        reader = _Reader(
            params,
            (
                "page_size", "page", "sort", "tags", "games", "game", "allowed_ids",
                "dependencies", "primary_sources", "name", "q", *_MOD_FIELD_NAMES,
            ),
        )  # fmt: skip
        page = PageQuery._read(reader)
        q = reader.text("q")
        if q is not None and not q.strip():
            q = None
        sort, descending = reader.sort(ModSort, MOD_SORT_ALIASES, None)
        if sort is None:
            sort, descending = (ModSort.RELEVANCE, False) if q else (ModSort.DOWNLOADS, False)
        elif sort is ModSort.RELEVANCE and not q:
            reader._complain("sort", "RELEVANCE needs q")
        games = reader.list("games", _small_int, "an id")
        game = reader.list("game", _small_int, "an id")
        query = cls(
            page=page,
            sort=sort,
            descending=descending,
            tags=reader.list("tags", _small_int, "an id"),
            games=tuple(dict.fromkeys(games + game)),
            allowed_ids=reader.list("allowed_ids", parse_id, "a Steam id"),
            exclude_dependent=reader.boolean("dependencies", False),
            primary_sources=reader.list("primary_sources", _source, "a source name"),
            name=reader.text("name"),
            q=q,
            fields=ModFields._read(reader),
        )
        reader.done()
        _check_page_size(page.page_size)
        sent = reader.sent
        _check_complexity(
            LIST_FILTER_LIMIT,
            tags=sent["tags"],
            games=sent["games"] + sent["game"],
            primary_sources=sent["primary_sources"],
        )
        if sent["allowed_ids"] > ID_LIST_LIMIT:
            raise FilterTooComplex(
                ID_LIST_LIMIT, details=[f"allowed_ids: {sent['allowed_ids']} ids"]
            )
        return query


@attrs.frozen(kw_only=True)
class GameFields:
    short_description: bool = False
    description: bool = False
    dates: bool = False
    statistics: bool = False

    @classmethod
    def _read(cls, reader: _Reader) -> GameFields:
        return cls(
            short_description=reader.boolean("short_description", False),
            description=reader.boolean("description", False),
            dates=reader.boolean("dates", False),
            statistics=reader.boolean("statistics", False),
        )


_GAME_FIELD_NAMES: Final = ("short_description", "description", "dates", "statistics")


@attrs.frozen(kw_only=True)
class GameListQuery:
    """``/list/games/``."""

    page: PageQuery = PageQuery()
    sort: GameSort = GameSort.MODS_DOWNLOADS
    descending: bool = False
    type_app: tuple[str, ...] = ()
    genres: tuple[int, ...] = ()
    primary_sources: tuple[str, ...] = ()
    name: str | None = None
    fields: GameFields = GameFields()

    @property
    def criteria(self) -> GameCriteria:
        """What storage is asked for: the filters, the order and the page, without the view."""
        return GameCriteria(
            page=self.page,
            sort=self.sort,
            descending=self.descending,
            type_app=self.type_app,
            genres=self.genres,
            primary_sources=self.primary_sources,
            name=self.name,
        )

    @classmethod
    def from_params(cls, params: Params) -> GameListQuery:
        reader = _Reader(
            params,
            (
                "page_size", "page", "sort", "type_app", "genres", "primary_sources", "name",
                *_GAME_FIELD_NAMES,
            ),
        )  # fmt: skip
        page = PageQuery._read(reader)
        sort, descending = reader.sort(GameSort, GAME_SORT_ALIASES, GameSort.MODS_DOWNLOADS)
        query = cls(
            page=page,
            sort=sort,
            descending=descending,
            type_app=reader.list("type_app", _source, "an app type"),
            genres=reader.list("genres", _small_int, "an id"),
            primary_sources=reader.list("primary_sources", _source, "a source name"),
            name=reader.text("name"),
            fields=GameFields._read(reader),
        )
        reader.done()
        _check_page_size(page.page_size)
        sent = reader.sent
        _check_complexity(
            LIST_FILTER_LIMIT,
            type_app=sent["type_app"],
            genres=sent["genres"],
            primary_sources=sent["primary_sources"],
        )
        return query


@attrs.frozen(kw_only=True)
class ModTagsQuery:
    """``/list/tags/mods/{mods_ids_list}``."""

    mod_ids: tuple[int, ...]
    tag_ids: tuple[int, ...] = ()
    only_ids: bool = False

    @classmethod
    def from_params(cls, mods_ids_list: str, params: Params) -> ModTagsQuery:
        mod_ids = _sent_ids(mods_ids_list, "mods_ids_list")
        reader = _Reader(params, ("tags", "only_ids"))
        query = cls(
            mod_ids=tuple(dict.fromkeys(mod_ids)),
            tag_ids=reader.list("tags", _small_int, "an id"),
            only_ids=reader.boolean("only_ids", False),
        )
        reader.done()
        _check_complexity(ASSOCIATION_LIMIT, mods_ids_list=len(mod_ids), tags=reader.sent["tags"])
        return query


@attrs.frozen(kw_only=True)
class GameGenresQuery:
    """``/list/genres/games/{games_ids_list}``."""

    game_ids: tuple[int, ...]
    genre_ids: tuple[int, ...] = ()
    only_ids: bool = False

    @classmethod
    def from_params(cls, games_ids_list: str, params: Params) -> GameGenresQuery:
        game_ids = _sent_ids(games_ids_list, "games_ids_list")
        reader = _Reader(params, ("genres", "only_ids"))
        query = cls(
            game_ids=tuple(dict.fromkeys(game_ids)),
            genre_ids=reader.list("genres", _small_int, "an id"),
            only_ids=reader.boolean("only_ids", False),
        )
        reader.done()
        _check_complexity(
            ASSOCIATION_LIMIT, games_ids_list=len(game_ids), genres=reader.sent["genres"]
        )
        return query


@attrs.frozen(kw_only=True)
class ResourcesQuery:
    """``/list/resources_mods/{mods_list_id}``."""

    mod_ids: tuple[int, ...]
    types: tuple[ResourceType, ...] = ()
    page: PageQuery = PageQuery()

    @classmethod
    def from_params(cls, mods_list_id: str, params: Params) -> ResourcesQuery:
        mod_ids = _sent_ids(mods_list_id, "mods_list_id")
        reader = _Reader(params, ("page_size", "page", "types_resources"))
        page = PageQuery._read(reader)
        types = reader.list("types_resources", _resource_type, "logo or screenshot")
        reader.done()
        _check_page_size(page.page_size)
        _check_complexity(LIST_FILTER_LIMIT, types_resources=reader.sent["types_resources"])
        if not 1 <= len(mod_ids) <= ID_LIST_LIMIT:
            raise ListSizeOutOfRange(details=[f"mods_list_id: {len(mod_ids)} ids, 1 to 50"])
        return cls(mod_ids=tuple(dict.fromkeys(mod_ids)), types=types, page=page)


@attrs.frozen(kw_only=True)
class ModInfoQuery:
    """``/info/mod/{mod_id}``."""

    mod_id: int
    dependencies: bool = False
    game: bool = False
    fields: ModFields = ModFields()

    @classmethod
    def from_params(cls, mod_id: str, params: Params) -> ModInfoQuery:
        ident = require_id(mod_id, "mod_id")
        reader = _Reader(params, ("dependencies", "game", *_MOD_FIELD_NAMES))
        query = cls(
            mod_id=ident,
            dependencies=reader.boolean("dependencies", False),
            game=reader.boolean("game", False),
            fields=ModFields._read(reader),
        )
        reader.done()
        return query


@attrs.frozen(kw_only=True)
class GameInfoQuery:
    """``/info/game/{game_id}``."""

    game_id: int
    fields: GameFields = GameFields()

    @classmethod
    def from_params(cls, game_id: str, params: Params) -> GameInfoQuery:
        ident = require_id(game_id, "game_id")
        reader = _Reader(params, _GAME_FIELD_NAMES)
        query = cls(game_id=ident, fields=GameFields._read(reader))
        reader.done()
        return query


@attrs.frozen(kw_only=True)
class ConditionQuery:
    """``/condition/mod/{ids_array}``: 1 to 50 ids."""

    mod_ids: tuple[int, ...]

    @classmethod
    def from_params(cls, ids_array: str, params: Params) -> ConditionQuery:
        _Reader(params, ()).done()
        items = _split_list(ids_array)
        if items is not None and not 1 <= len(items) <= ID_LIST_LIMIT:
            raise ListSizeOutOfRange(details=[f"ids_array: {len(items)} ids, 1 to 50"])
        return cls(mod_ids=parse_id_list(ids_array, "ids_array"))


@attrs.frozen(kw_only=True)
class HourStatsQuery:
    """``/statistics/hour``; ``day`` None means today."""

    day: dt.date | None = None
    start_hour: int = 0
    end_hour: int = 23

    @classmethod
    def from_params(cls, params: Params) -> HourStatsQuery:
        reader = _Reader(params, ("select_date", "start_hour", "end_hour"))
        day = reader.date("select_date")
        start = reader.integer("start_hour", 0, minimum=-(10**9), maximum=10**9)
        end = reader.integer("end_hour", 23, minimum=-(10**9), maximum=10**9)
        reader.done()
        if not 0 <= start <= 23:
            raise StartHourOutOfRange()
        if not 0 <= end <= 23:
            raise EndHourOutOfRange()
        if start > end:
            raise ConflictingRequest()
        return cls(day=day, start_hour=start, end_hour=end)


@attrs.frozen(kw_only=True)
class DayStatsQuery:
    """``/statistics/day``; ``end`` None means today, ``start`` None means end - 7 days."""

    start: dt.date | None = None
    end: dt.date | None = None

    @classmethod
    def from_params(cls, params: Params) -> DayStatsQuery:
        reader = _Reader(params, ("start_date", "end_date"))
        start = reader.date("start_date")
        end = reader.date("end_date")
        reader.done()
        if start is not None and end is not None and start > end:
            raise ConflictingRequest()
        return cls(start=start, end=end)

    def resolve(self, today: dt.date) -> tuple[dt.date, dt.date]:
        end = self.end or today
        week = dt.timedelta(days=7)
        start = self.start or (end - week if end - dt.date.min >= week else dt.date.min)
        if start > end:
            raise ConflictingRequest()
        return start, end
