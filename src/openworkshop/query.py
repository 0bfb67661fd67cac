"""Validated query objects for every listing and lookup of the API.

Each ``from_params`` reads the raw parameters of a request (a mapping of name to the list
of values sent, as any web framework gives them) with the seed's rules and the decisions of
``api.md``: lists as JSON arrays or ``a=1&a=2`` or ``a=1,2``; booleans ``true/false/1/0``;
an empty value counts as absent. Malformed input raises :class:`InvalidParameter` naming
every offending parameter (a value with a NUL character, a list nested in a list);
out-of-range input raises the seed's own error. The seed's limits on lists count the
elements as sent, repeats included (the original counted them before any de-duplication);
the query objects hold each id once.

Each parameter is declared once, as a :class:`Param` in the metadata of the query class's
field that holds it (name as sent, kind, default, range, limit, help text, other names);
the reading here, the OpenAPI document and the parameter tables of docs/http.md are all
derived from those declarations (:func:`parameters`). Limits over several lists are
declared on the class (:class:`Limit`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
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
    FilterTooComplex,
    InvalidParameter,
    ListSizeOutOfRange,
    PageSizeOutOfRange,
    PlanTooLarge,
    StartHourOutOfRange,
    TooManyMods,
)
from openworkshop.events import CURSOR_PATTERN, decode_cursor
from openworkshop.plans import PLAN_LIMIT

__all__ = [
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
    "parameters",
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


# --- declarations ---------------------------------------------------------------------


class Kind(Enum):
    """How a parameter's text is read (and documented)."""

    INTEGER = "integer"
    PAGE_SIZE = "page_size"
    """An integer whose range is the seed's 413, checked after the malformed ones."""
    BOOLEAN = "boolean"
    TEXT = "text"
    DATE = "date"
    SORT = "sort"
    IDS = "ids"
    """A list of ids (0 to 2**64 - 1)."""
    STEAM_IDS = "steam_ids"
    NAMES = "names"
    """A list of names of letters, digits and ``_.-`` (:data:`SOURCE_PATTERN`)."""
    RESOURCE_TYPES = "resource_types"
    STEAM_ID = "steam_id"
    """A path's Steam id."""
    STEAM_ID_LIST = "steam_id_list"
    """A path's list of Steam ids."""


LIST_KINDS: Final = frozenset({Kind.IDS, Kind.STEAM_IDS, Kind.NAMES, Kind.RESOURCE_TYPES})


@attrs.frozen(kw_only=True)
class Param:
    """One parameter of a request, as the API names and documents it."""

    name: str
    kind: Kind
    help: str
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    max_items: int | None = None
    """A list's own limit (counted as sent)."""
    what: str = ""
    """What one element of a list is, for the error's details (``an id``)."""
    sorts: Mapping[str, Enum] = attrs.field(factory=dict)
    """Every accepted sort name (the enum's values and the aliases) with its member."""
    aliases: tuple[Param, ...] = ()
    """Other parameters read into the same field (``game`` for ``games``)."""
    single: bool = False
    """Documented as one value (an alias that takes one element)."""
    pattern: str | None = None
    """A text's documented spelling (a regular expression), when it has one."""
    location: str = "query"

    @property
    def choices(self) -> tuple[str, ...]:
        """The documented values of a sort: every name, then each reversed by ``i``."""
        names = tuple(self.sorts)
        return names + tuple("i" + n for n in names)


@attrs.frozen
class Limit:
    """The seed's limit on the elements of some lists together, counted as sent."""

    total: int
    names: tuple[str, ...]


_PARAM: Final = "openworkshop.param"
_GROUP: Final = "openworkshop.group"


def param(declaration: Param, *, default: Any = attrs.NOTHING) -> Any:
    """A query class's field holding one parameter (``default``: the field's, when it is not
    the parameter's)."""
    value = declaration.default if default is attrs.NOTHING else default
    return attrs.field(default=value, metadata={_PARAM: declaration})


def group(cls: type) -> Any:
    """A query class's field holding a group of parameters read from the same request."""
    return attrs.field(default=cls(), metadata={_GROUP: cls})


def parameters(cls: type) -> tuple[Param, ...]:
    """Every parameter a query class reads, its path's first, in declaration order."""
    out: list[Param] = []
    path = getattr(cls, "path", None)
    if isinstance(path, Param):
        out.append(path)
    for field in attrs.fields(cls):
        if _GROUP in field.metadata:
            out += parameters(field.metadata[_GROUP])
        elif _PARAM in field.metadata:
            declared: Param = field.metadata[_PARAM]
            out += [declared, *declared.aliases]
    return tuple(out)


def limits(cls: type) -> tuple[Limit, ...]:
    return tuple(getattr(cls, "limits", ()))


def _query_names(cls: type) -> frozenset[str]:
    return frozenset(p.name for p in parameters(cls) if p.location == "query")


# --- reading raw parameters ------------------------------------------------------------

E = TypeVar("E")
C = TypeVar("C", ModCriteria, GameCriteria)


class _Reader:
    """Reads parameters one by one, collecting every problem before raising."""

    def __init__(self, params: Params, known: frozenset[str]) -> None:
        self.params = params
        self.problems: list[str] = []
        self.sent: dict[str, int] = {}
        """How many elements each list had as sent, repeats included (the seed's limits
        count these)."""
        if not known.issuperset(params):
            for name in sorted(set(params) - known):
                self.problems.append(f"{name}: unknown parameter")

    def values(self, name: str) -> list[str]:
        """Every non-empty value sent for ``name``; none if one has a NUL character (no text
        of the API has one, and SQLite would end the text there)."""
        sent = self.params.get(name)
        if not sent:
            return []
        values = [v for v in sent if v]
        for value in values:
            if "\x00" in value:
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

    def sort(self, sorts: Mapping[str, Any], default: Any) -> tuple[Any, bool]:
        """A sort by name (an alias too); ``i`` before it reverses it."""
        raw = self.raw("sort")
        if raw is None:
            return default, False
        descending = False
        name = raw
        if name.startswith("i") and not name.startswith("I"):
            descending, name = True, name[1:]
        choice = sorts.get(name)
        if choice is None:
            names = ", ".join(dict.fromkeys(e.value for e in sorts.values()))
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
            raise InvalidParameter(details=self.problems)


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
        raise InvalidParameter(details=[f"{name}: not a list: {raw[:40]!r}"])
    ids = []
    bad = []
    for element in items:
        value = parse_id(element)
        if value is None:
            bad.append(f"{name}: not a Steam id: {element[:40]!r}")
        else:
            ids.append(value)
    if bad:
        raise InvalidParameter(details=bad[:20])
    return ids


def require_id(raw: str, name: str) -> int:
    """A single Steam id from a path; InvalidParameter if malformed."""
    value = parse_id(raw)
    if value is None:
        raise InvalidParameter(details=[f"{name}: not a Steam id: {raw[:40]!r}"])
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


_ELEMENT: Final[dict[Kind, Callable[[str], Any]]] = {
    Kind.IDS: _small_int,
    Kind.STEAM_IDS: parse_id,
    Kind.NAMES: _source,
    Kind.RESOURCE_TYPES: _resource_type,
}


Step = Callable[["_Reader"], Any]


def _step(declared: Param) -> Step:
    """The function that reads one parameter (made once per declaration)."""
    kind = declared.kind
    name = declared.name
    default = declared.default
    if kind in LIST_KINDS:
        element = _ELEMENT[kind]
        what = declared.what
        if not declared.aliases:
            return lambda reader: reader.list(name, element, what)
        others = tuple((alias.name, alias.what) for alias in declared.aliases)

        def merged(reader: _Reader) -> tuple[Any, ...]:
            value = reader.list(name, element, what)
            sent = reader.sent[name]
            for other, other_what in others:
                if other in reader.params:
                    value += reader.list(other, element, other_what)
                    sent += reader.sent[other]
            reader.sent[name] = sent
            return tuple(dict.fromkeys(value))

        return merged
    if kind is Kind.BOOLEAN:
        return lambda reader: reader.boolean(name, default)
    if kind is Kind.PAGE_SIZE:
        return lambda reader: reader.page_size()
    if kind is Kind.INTEGER:
        low = 0 if declared.minimum is None else declared.minimum
        high = MAX_PAGE if declared.maximum is None else declared.maximum
        return lambda reader: reader.integer(name, default, minimum=low, maximum=high)
    if kind is Kind.TEXT:
        return lambda reader: reader.text(name)
    if kind is Kind.DATE:
        return lambda reader: reader.date(name)
    if kind is Kind.SORT:
        sorts = declared.sorts
        return lambda reader: reader.sort(sorts, default)
    raise AssertionError(f"{name}: {kind} is not a query parameter")


@attrs.frozen
class _Plan:
    """How a class reads its fields: each field's step, made once per class."""

    known: frozenset[str]
    steps: tuple[tuple[str, str | None, Any, Step], ...]
    """Each field, the parameter it reads (None: always read, e.g. a group), the value when
    that parameter is not sent, and the step that reads it."""
    sort: Step | None
    """A sort fills two fields, ``sort`` and ``descending``."""

    def read(self, reader: _Reader) -> dict[str, Any]:
        params = reader.params
        values = {
            field: step(reader) if name is None or name in params else absent
            for field, name, absent, step in self.steps
        }
        if self.sort is not None:
            values["sort"], values["descending"] = self.sort(reader)
        return values


_PLANS: dict[type, _Plan] = {}


def _group_step(cls: type) -> Step:
    inner = _plan(cls)
    return lambda reader: cls(**inner.read(reader))


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        steps: list[tuple[str, str | None, Any, Step]] = []
        sort: Step | None = None
        for field in attrs.fields(cls):
            if _GROUP in field.metadata:
                steps.append((field.name, None, None, _group_step(field.metadata[_GROUP])))
            elif _PARAM in field.metadata:
                declared: Param = field.metadata[_PARAM]
                if declared.kind is Kind.SORT:
                    sort = _step(declared)
                    continue
                absent = () if declared.kind in LIST_KINDS else declared.default
                if declared.kind is Kind.PAGE_SIZE:
                    absent = DEFAULT_PAGE_SIZE
                name = None if declared.aliases else declared.name
                steps.append((field.name, name, absent, _step(declared)))
        plan = _PLANS[cls] = _Plan(_query_names(cls), tuple(steps), sort)
    return plan


def _read_fields(cls: type, reader: _Reader) -> dict[str, Any]:
    """The values of a class's fields as its declarations read them."""
    return _plan(cls).read(reader)


def _reader(cls: type, params: Params) -> _Reader:
    return _Reader(params, _plan(cls).known)


def _check_limits(cls: type, reader: _Reader) -> None:
    """The class's limits on lists, counted as sent (after every malformed value)."""
    sent = reader.sent
    for limit in limits(cls):
        _check_complexity(limit.total, **{name: sent.get(name, 0) for name in limit.names})


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
        reader = _reader(cls, params)
        query = cls(**_read_fields(cls, reader))
        reader.done()
        _check_page_size(query.page_size)
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
    descending: bool = False
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
        reader = _reader(cls, params)
        values = _read_fields(cls, reader)
        q = values["q"]
        if q is not None and not q.strip():
            values["q"] = q = None
        if values["sort"] is None:
            values["sort"] = ModSort.RELEVANCE if q else ModSort.DOWNLOADS
        elif values["sort"] is ModSort.RELEVANCE and not q:
            reader._complain("sort", "RELEVANCE needs q")
        query = cls(**values)
        reader.done()
        _check_page_size(query.page.page_size)
        _check_limits(cls, reader)
        allowed = reader.sent.get("allowed_ids", 0)
        if allowed > ID_LIST_LIMIT:
            raise FilterTooComplex(ID_LIST_LIMIT, details=[f"allowed_ids: {allowed} ids"])
        return query


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
    descending: bool = False
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
        reader = _reader(cls, params)
        query = cls(**_read_fields(cls, reader))
        reader.done()
        _check_page_size(query.page.page_size)
        _check_limits(cls, reader)
        return query


def _criteria(query: object, criteria: type[C]) -> C:
    """The criteria a listing query carries: each field of ``criteria`` taken from the query
    by name (a field added to the criteria is read with it, never left at its default)."""
    return criteria(**{f.name: getattr(query, f.name) for f in attrs.fields(criteria)})


def _only_ids(what: str) -> Any:
    return _flag("only_ids", f"{what} ids instead of `{{id, name}}` objects.")


def _associations(cls: Any, raw: str, params: Params) -> Any:
    """``/list/tags/mods`` and ``/list/genres/games``: ids in the path, one filter."""
    sent_ids = _sent_ids(raw, cls.path.name)
    reader = _reader(cls, params)
    reader.sent[cls.path.name] = len(sent_ids)
    ids = attrs.fields(cls)[0].name
    query = cls(**{ids: tuple(dict.fromkeys(sent_ids))}, **_read_fields(cls, reader))
    reader.done()
    _check_limits(cls, reader)
    return query


@attrs.frozen(kw_only=True)
class ModTagsQuery:
    """``/list/tags/mods/{mods_ids_list}``."""

    path: ClassVar = _path_ids("mods_ids_list", "mod")
    limits: ClassVar = (Limit(ASSOCIATION_LIMIT, ("mods_ids_list", "tags")),)

    mod_ids: tuple[int, ...]
    tag_ids: tuple[int, ...] = _ids("tags", "Only these tags.")
    only_ids: bool = _only_ids("Tag")

    @classmethod
    def from_params(cls, mods_ids_list: str, params: Params) -> ModTagsQuery:
        query: ModTagsQuery = _associations(cls, mods_ids_list, params)
        return query


@attrs.frozen(kw_only=True)
class GameGenresQuery:
    """``/list/genres/games/{games_ids_list}``."""

    path: ClassVar = _path_ids("games_ids_list", "game")
    limits: ClassVar = (Limit(ASSOCIATION_LIMIT, ("games_ids_list", "genres")),)

    game_ids: tuple[int, ...]
    genre_ids: tuple[int, ...] = _ids("genres", "Only these genres.")
    only_ids: bool = _only_ids("Genre")

    @classmethod
    def from_params(cls, games_ids_list: str, params: Params) -> GameGenresQuery:
        query: GameGenresQuery = _associations(cls, games_ids_list, params)
        return query


def _id_count(declared: Param, count: int) -> None:
    """A path's list of ids: 1 to its limit as sent, else the seed's 413 error_id 1."""
    if not 1 <= count <= (declared.max_items or ID_LIST_LIMIT):
        raise ListSizeOutOfRange(
            details=[f"{declared.name}: {count} ids, 1 to {declared.max_items}"]
        )


@attrs.frozen(kw_only=True)
class ResourcesQuery:
    """``/list/resources_mods/{mods_list_id}``."""

    path: ClassVar = _path_ids("mods_list_id", "mod", ID_LIST_LIMIT)
    limits: ClassVar = (Limit(LIST_FILTER_LIMIT, ("types_resources",)),)

    mod_ids: tuple[int, ...]
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
        mod_ids = _sent_ids(mods_list_id, cls.path.name)
        reader = _reader(cls, params)
        values = _read_fields(cls, reader)
        reader.done()
        _check_page_size(values["page"].page_size)
        _check_limits(cls, reader)
        _id_count(cls.path, len(mod_ids))
        return cls(mod_ids=tuple(dict.fromkeys(mod_ids)), **values)


@attrs.frozen(kw_only=True)
class ModInfoQuery:
    """``/info/mod/{mod_id}``."""

    path: ClassVar = MOD_ID

    mod_id: int
    dependencies: bool = _flag(
        "dependencies", "Add `dependencies` (at most 20) and `dependencies_count`."
    )
    game: bool = _flag("game", "Add `result.game` = `{id, name}`.")
    fields: ModFields = group(ModFields)

    @classmethod
    def from_params(cls, mod_id: str, params: Params) -> ModInfoQuery:
        ident = require_id(mod_id, cls.path.name)
        reader = _reader(cls, params)
        query = cls(mod_id=ident, **_read_fields(cls, reader))
        reader.done()
        return query


@attrs.frozen(kw_only=True)
class GameInfoQuery:
    """``/info/game/{game_id}``."""

    path: ClassVar = GAME_ID

    game_id: int
    fields: GameFields = group(GameFields)

    @classmethod
    def from_params(cls, game_id: str, params: Params) -> GameInfoQuery:
        ident = require_id(game_id, cls.path.name)
        reader = _reader(cls, params)
        query = cls(game_id=ident, **_read_fields(cls, reader))
        reader.done()
        return query


@attrs.frozen(kw_only=True)
class ConditionQuery:
    """``/condition/mod/{ids_array}``: 1 to 50 ids."""

    path: ClassVar = _path_ids("ids_array", "mod", ID_LIST_LIMIT)

    mod_ids: tuple[int, ...]

    @classmethod
    def from_params(cls, ids_array: str, params: Params) -> ConditionQuery:
        _reader(cls, params).done()
        items = _split_list(ids_array)
        if items is not None:
            _id_count(cls.path, len(items))
        return cls(mod_ids=parse_id_list(ids_array, cls.path.name))


@attrs.frozen(kw_only=True)
class ProgressQuery(ConditionQuery):
    """``/progress/{ids_array}``: 1 to 50 ids, as ``/condition/mod`` takes them."""


def _hour(name: str, default: int, text: str) -> Any:
    return param(
        Param(name=name, kind=Kind.INTEGER, default=default, minimum=0, maximum=23, help=text)
    )


_ANY_HOUR: Final = 10**9
"""How far an hour is read as a number: outside 0..23 it is the seed's 412, not a 422."""


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
        reader = _reader(cls, params)
        day = reader.date("select_date")
        start = reader.integer("start_hour", 0, minimum=-_ANY_HOUR, maximum=_ANY_HOUR)
        end = reader.integer("end_hour", 23, minimum=-_ANY_HOUR, maximum=_ANY_HOUR)
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

    start: dt.date | None = param(
        Param(name="start_date", kind=Kind.DATE, help="First day; default end_date − 7 days.")
    )
    end: dt.date | None = param(
        Param(name="end_date", kind=Kind.DATE, help="Last day; default today (UTC).")
    )

    @classmethod
    def from_params(cls, params: Params) -> DayStatsQuery:
        reader = _reader(cls, params)
        values = _read_fields(cls, reader)
        reader.done()
        start, end = values["start"], values["end"]
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

    mod_ids: tuple[int, ...]
    queue: bool = _flag("queue", _QUEUE_HELP)

    @classmethod
    def from_params(cls, ids_array: str, params: Params) -> PlanQuery:
        reader = _reader(cls, params)
        queue = reader.boolean("queue", False)
        reader.done()
        return cls(mod_ids=_plan_ids(_sent_ids(ids_array, cls.path.name), "ids_array"), queue=queue)


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
        _Reader(params, frozenset()).done()  # no query parameters
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

    collection_id: int

    @classmethod
    def from_params(cls, collection_id: str, params: Params) -> CollectionQuery:
        ident = require_id(collection_id, cls.path.name)
        _reader(cls, params).done()
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
        reader = _reader(cls, params)
        values = _read_fields(cls, reader)
        raw = values["after"]
        if raw is not None:
            values["after"] = decode_cursor(raw)
            if values["after"] is None:
                reader._complain("after", f"not a cursor of this server: {raw[:40]!r}")
        reader.done()
        return cls(**values)


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
        reader = _reader(cls, params)
        values = _read_fields(cls, reader)
        if not isinstance(body, dict):
            reader._complain("body", "not a JSON object of {mod id: sha256 or date_update}")
            reader.done()
        assert isinstance(body, dict)
        if len(body) > CHECK_LIMIT:
            raise TooManyMods(
                details=[f"{len(body)} mods sent; at most {CHECK_LIMIT} in one check"]
            )
        versions: dict[int, str | dt.datetime] = {}
        for key, value in body.items():
            mod_id = parse_id(key)
            if mod_id is None:
                reader._complain(f"{key[:40]!r}", "not a Steam id")
                continue
            version = _version(value)
            if version is None:
                shown = value[:70] if isinstance(value, str) else json.dumps(value)[:70]
                reader._complain(key, f"not a sha256 (64 hex digits) or a date_update: {shown!r}")
                continue
            versions[mod_id] = version
        reader.done()
        return cls(versions=versions, refresh=values["refresh"])


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
