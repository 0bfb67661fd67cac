"""A request's parameters: declared once, structured by the project's one cattrs converter.

A query class (``openworkshop.query``) declares each parameter it reads as a :class:`Param` in
the metadata of the field that holds it (:func:`param`: name as sent, kind, default, range,
limit, help text, other names), the groups read from the same request (:func:`group`), the
path's value (:func:`path_field`) and the limits over several lists (:class:`Limit`). The OpenAPI
document, the parameter tables of docs/http.md and the reading are all derived from these
declarations (:func:`parameters`).

Reading: the raw parameters (each name with every value sent, as any web framework gives
them) are laid out by field (a group's under its field, an alias's with its parameter); the
converter (``openworkshop.convert``) has a structure hook for every query class, made from
its declarations with ``cattrs.gen.make_dict_structure_fn``: each field read by the hook of
its parameter's kind. A hook raises :class:`ParamError` (``name: what``) for a malformed
value, an ``IterableValidationError`` of them for a list's; cattrs collects every field's,
and ``cattrs.transform_error`` turns them into the ``details`` of ``InvalidParameter``: every
problem at once. Lists are structured as sent, repeats included (the original's limits count
those); :func:`finish` checks the limits and then keeps each element once.

The rules of the original Open Workshop API and of ``api.md``: lists as JSON arrays or
``a=1&a=2`` or ``a=1,2``; booleans ``true/false/1/0``; an empty value counts as absent; a
value with a NUL character, a list nested in a list, an unknown parameter are malformed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, Final

import attrs
import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, override

from openworkshop.convert import converter
from openworkshop.domain import MAX_STEAM_ID, ResourceType
from openworkshop.errors import (
    FilterTooComplex,
    InvalidParameter,
    ListSizeOutOfRange,
    PageSizeOutOfRange,
)

__all__ = [
    "LIST_KINDS",
    "MAX_NAME_LENGTH",
    "MAX_PAGE",
    "SOURCE_PATTERN",
    "Kind",
    "Limit",
    "Param",
    "ParamError",
    "Params",
    "check_known",
    "finish",
    "group",
    "limits",
    "param",
    "parameters",
    "parse_id",
    "path_field",
    "read_field",
    "read_path",
    "read_query",
    "sort_order",
    "split_list",
    "structure",
    "structured",
]

Params = Mapping[str, Sequence[str]]
"""Raw request parameters: each name with every value sent for it."""

MAX_NAME_LENGTH: Final = 256
SOURCE_PATTERN: Final = r"^[A-Za-z0-9_.-]{1,64}$"
"""A source or app type name (``steam``, ``game``): letters, digits, ``_.-``."""
_SOURCE: Final = re.compile(SOURCE_PATTERN)
MAX_PAGE: Final = 10**9


# --- declarations ---------------------------------------------------------------------


class Kind(Enum):
    """How a parameter's text is read (and documented)."""

    INTEGER = "integer"
    PAGE_SIZE = "page_size"
    """An integer whose range is the original's 413, checked after the malformed ones."""
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
    """What one element of a list is (or what a text is read into), for the error's
    details (``an id``)."""
    sorts: Mapping[str, Enum] = attrs.field(factory=dict)
    """Every accepted sort name (the enum's values and the aliases) with its member."""
    aliases: tuple[Param, ...] = ()
    """Other parameters read into the same field (``game`` for ``games``)."""
    single: bool = False
    """Documented as one value (an alias that takes one element)."""
    pattern: str | None = None
    """A text's documented spelling (a regular expression), when it has one."""
    parse: Callable[[str], Any] | None = None
    """What a text is read into (``None`` from it: not ``what``), when not kept as text."""
    read_range: tuple[int, int] | None = None
    """How far an integer is read as a number when the documented range (``minimum`` to
    ``maximum``) is the query class's own error, checked after the malformed ones."""
    location: str = "query"

    @property
    def choices(self) -> tuple[str, ...]:
        """The documented values of a sort: every name, then each reversed by ``i``."""
        names = tuple(self.sorts)
        return names + tuple("i" + n for n in names)


@attrs.frozen
class Limit:
    """The original's limit on the elements of some lists together, counted as sent."""

    total: int
    names: tuple[str, ...]


_PARAM: Final = "openworkshop.param"
_GROUP: Final = "openworkshop.group"
_PATH: Final = "openworkshop.path"
_ORDER: Final = "openworkshop.order"


def param(declaration: Param, *, default: Any = attrs.NOTHING) -> Any:
    """A query class's field holding one parameter (``default``: the field's, when it is not
    the parameter's)."""
    value = declaration.default if default is attrs.NOTHING else default
    return attrs.field(default=value, metadata={_PARAM: declaration})


def group(cls: type) -> Any:
    """A query class's field holding a group of parameters read from the same request."""
    return attrs.field(default=cls(), metadata={_GROUP: cls})


def path_field() -> Any:
    """A query class's field holding its path's value (the class's ``path`` declaration)."""
    return attrs.field(metadata={_PATH: True})


def sort_order() -> Any:
    """A query class's field holding whether its sort is reversed (``i`` before the name)."""
    return attrs.field(default=False, metadata={_ORDER: True})


def parameters(cls: type) -> tuple[Param, ...]:
    """Every parameter a query class reads, its path's first, in declaration order."""
    out: list[Param] = []
    declared_path = getattr(cls, "path", None)
    if isinstance(declared_path, Param):
        out.append(declared_path)
    for field in attrs.fields(cls):
        if _GROUP in field.metadata:
            out += parameters(field.metadata[_GROUP])
        elif _PARAM in field.metadata:
            declared: Param = field.metadata[_PARAM]
            out += [declared, *declared.aliases]
    return tuple(out)


def limits(cls: type) -> tuple[Limit, ...]:
    return tuple(getattr(cls, "limits", ()))


# --- values ---------------------------------------------------------------------------


class ParamError(ValueError):
    """One problem with one parameter; its text is a detail of the error: ``name: what``."""

    def __init__(self, name: str, what: str) -> None:
        super().__init__(f"{name}: {what}")


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


def split_list(raw: str) -> list[str] | None:
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


_ELEMENT: Final[dict[Kind, Callable[[str], Any]]] = {
    Kind.IDS: _small_int,
    Kind.STEAM_IDS: parse_id,
    Kind.NAMES: _source,
    Kind.RESOURCE_TYPES: _resource_type,
}


# --- the hooks: one per declaration, by kind ----------------------------------------------

Hook = Callable[[Any, Any], Any]
"""A structure hook: a field's raw values (and the field's type, unused) to its value."""


def _given(name: str, sent: Sequence[str]) -> list[str]:
    """Every non-empty value sent; a NUL character in one is malformed (no text of the API
    has one, and SQLite would end the text there)."""
    values = [v for v in sent if v]
    for value in values:
        if "\x00" in value:
            raise ParamError(name, "contains a NUL character")
    return values


def _single(name: str, sent: Sequence[str]) -> str | None:
    values = _given(name, sent)
    if not values:
        return None
    if len(values) > 1:
        raise ParamError(name, "given more than once")
    return values[0]


def _integer(name: str, default: Any, minimum: int, maximum: int | None) -> Hook:
    """``maximum`` None: any integer (a page size: its range is checked later)."""

    def read(sent: Sequence[str], _: Any) -> Any:
        raw = _single(name, sent)
        if raw is None:
            return default
        value = _to_int(raw)
        if value is None:
            raise ParamError(name, f"not an integer: {raw[:40]!r}")
        if maximum is not None and not minimum <= value <= maximum:
            raise ParamError(name, f"must be between {minimum} and {maximum}")
        return value

    return read


def _boolean(name: str, default: Any) -> Hook:
    def read(sent: Sequence[str], _: Any) -> Any:
        raw = _single(name, sent)
        if raw is None:
            return default
        value = _BOOLEANS.get(raw.strip().lower())
        if value is None:
            raise ParamError(name, f"not a boolean (true/false/1/0): {raw[:40]!r}")
        return value

    return read


def _parsed(name: str, parse: Callable[[str], Any], what: str) -> Callable[[str], Any]:
    """One text read by ``parse`` (``None`` from it: malformed, not ``what``)."""

    def read(raw: str) -> Any:
        value = parse(raw)
        if value is None:
            raise ParamError(name, f"not {what}: {raw[:40]!r}")
        return value

    return read


def _text(name: str, parse: Callable[[str], Any] | None, what: str) -> Hook:
    parsed = None if parse is None else _parsed(name, parse, what)

    def read(sent: Sequence[str], _: Any) -> Any:
        raw = _single(name, sent)
        if raw is None:
            return None
        if len(raw) > MAX_NAME_LENGTH:
            raise ParamError(name, f"longer than {MAX_NAME_LENGTH} characters")
        return raw if parsed is None else parsed(raw)

    return read


def _date(name: str) -> Hook:
    def read(sent: Sequence[str], _: Any) -> Any:
        raw = _single(name, sent)
        if raw is None:
            return None
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise ParamError(name, f"not a date YYYY-MM-DD: {raw[:40]!r}") from None

    return read


def _sort(name: str, sorts: Mapping[str, Enum], default: Any) -> Hook:
    """A sort by name (an alias too); ``i`` before it reverses it (:func:`_descending`)."""
    names = ", ".join(dict.fromkeys(e.value for e in sorts.values()))

    def read(sent: Sequence[str], _: Any) -> Any:
        raw = _single(name, sent)
        if raw is None:
            return default
        choice = sorts.get(raw[1:] if raw.startswith("i") else raw)
        if choice is None:
            raise ParamError(name, f"unknown sort {raw[:40]!r}; one of {names}, each with i")
        return choice

    return read


def _descending(sent: Sequence[str], _: Any) -> bool:
    """Whether a sort is reversed; its problems are the sort's own (:func:`_sort`)."""
    values = [v for v in sent if v]
    return len(values) == 1 and values[0].startswith("i")


def _elements(
    element: Callable[[str], Any], items: Sequence[str], problems: list[Exception]
) -> list[Any]:
    """Each element read by ``element``; each malformed one's problem added to ``problems``."""
    out = []
    for item in items:
        try:
            out.append(element(item))
        except ParamError as problem:
            problems.append(problem)
    return out


def _list(name: str, parse: Callable[[str], Any], what: str) -> Hook:
    """A list as sent, repeats included; every malformed element named."""
    element = _parsed(name, parse, what)

    def read(sent: Sequence[str], _: Any) -> tuple[Any, ...]:
        out: list[Any] = []
        problems: list[Exception] = []
        for raw in _given(name, sent):
            items = split_list(raw)
            if items is None:
                problems.append(ParamError(name, f"not a list: {raw[:40]!r}"))
            else:
                out += _elements(element, items, problems)
        if problems:
            raise IterableValidationError(name, problems, tuple)
        return tuple(out)

    return read


def _merged(readers: Sequence[tuple[str, Hook]]) -> Hook:
    """A list and its aliases (``games`` and ``game``): one field, as sent by every name."""

    def read(by_name: Mapping[str, Sequence[str]], _: Any) -> tuple[Any, ...]:
        out: tuple[Any, ...] = ()
        problems: list[Exception] = []
        for name, hook in readers:
            sent = by_name.get(name)
            if sent is None:
                continue
            try:
                out += hook(sent, None)
            except IterableValidationError as error:
                problems += error.exceptions
            except ParamError as error:
                problems.append(error)
        if problems:
            raise IterableValidationError(readers[0][0], problems, tuple)
        return out

    return read


_PATH_DETAILS: Final = 20
"""The most problems one path list reports."""


def _steam_id(name: str) -> Hook:
    element = _parsed(name, parse_id, "a Steam id")
    return lambda raw, _: element(raw)


def _steam_id_list(name: str) -> Hook:
    """A path's list of Steam ids (JSON array or comma-separated), as sent."""
    element = _parsed(name, parse_id, "a Steam id")

    def read(raw: str, _: Any) -> tuple[int, ...]:
        items = split_list(raw)
        if items is None:
            raise ParamError(name, f"not a list: {raw[:40]!r}")
        problems: list[Exception] = []
        ids = _elements(element, items, problems)
        if problems:
            raise IterableValidationError(name, problems[:_PATH_DETAILS], tuple)
        return tuple(ids)

    return read


def _hook(declared: Param) -> Hook:
    """The structure hook of one declaration."""
    kind, name, default = declared.kind, declared.name, declared.default
    if kind in LIST_KINDS:
        own = _list(name, _ELEMENT[kind], declared.what)
        if not declared.aliases:
            return own
        others = [(a.name, _list(a.name, _ELEMENT[a.kind], a.what)) for a in declared.aliases]
        return _merged([(name, own), *others])
    if kind is Kind.BOOLEAN:
        return _boolean(name, default)
    if kind is Kind.PAGE_SIZE:
        return _integer(name, default, 0, None)
    if kind is Kind.INTEGER:
        low, high = declared.read_range or (declared.minimum or 0, declared.maximum or MAX_PAGE)
        return _integer(name, default, low, high)
    if kind is Kind.TEXT:
        return _text(name, declared.parse, declared.what)
    if kind is Kind.DATE:
        return _date(name)
    if kind is Kind.SORT:
        return _sort(name, declared.sorts, default)
    if kind is Kind.STEAM_ID:
        return _steam_id(name)
    if kind is Kind.STEAM_ID_LIST:
        return _steam_id_list(name)
    raise AssertionError(f"{name}: no hook for {kind}")


def _read(value: Any, _: Any) -> Any:
    """A path's value, read before the query (:func:`read_path`)."""
    return value


def details(error: BaseException) -> list[str]:
    """The ``details`` of ``InvalidParameter``: each problem's ``name: what``, by
    ``cattrs.transform_error`` (whose `` @ path`` is left off: the name is the path a client
    knows; the paths here are attribute names and indexes, never a client's text)."""
    return [line.rsplit(" @ ", 1)[0] for line in cattrs.transform_error(error, "", _describe)]


def _describe(error: BaseException, _: Any) -> str:
    if isinstance(error, ParamError):
        return str(error)
    raise error  # not a parameter's problem but a bug: never a 422


# --- one plan per query class --------------------------------------------------------------


def _is_query(cls: Any) -> bool:
    """A class with declared parameters (a query class or a group)."""
    return (
        isinstance(cls, type)
        and attrs.has(cls)
        and any(
            _PARAM in f.metadata or _GROUP in f.metadata or _PATH in f.metadata
            for f in attrs.fields(cls)
        )
    )


def _path_of(cls: type) -> Param | None:
    declared = getattr(cls, "path", None)
    return declared if isinstance(declared, Param) else None


def _make_hook(cls: type) -> Hook:
    """The converter's structure hook of a query class, from its declarations."""
    overrides: dict[str, Any] = {}
    for field in attrs.fields(cls):
        meta = field.metadata
        if _PARAM in meta:
            declared: Param = meta[_PARAM]
            if declared.location == "body":
                overrides[field.name] = override(omit=True)
            else:
                overrides[field.name] = override(rename=declared.name, struct_hook=_hook(declared))
        elif _GROUP in meta:
            overrides[field.name] = override(rename=field.name)
        elif _PATH in meta:
            overrides[field.name] = override(rename=field.name, struct_hook=_read)
        elif _ORDER in meta:
            sort = next(f.metadata[_PARAM] for f in attrs.fields(cls) if _is_sort(f))
            overrides[field.name] = override(rename=sort.name, struct_hook=_descending)
        else:
            overrides[field.name] = override(omit=True)
    return make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=False, **overrides)


def _is_sort(field: attrs.Attribute[Any]) -> bool:
    return _PARAM in field.metadata and field.metadata[_PARAM].kind is Kind.SORT


converter.register_structure_hook_factory(_is_query, _make_hook)


@attrs.frozen
class _Plan:
    """What reading a query class takes, made once per class from its declarations."""

    hook: Hook
    """The converter's structure hook for the class."""
    layout: Mapping[str, tuple[str, ...]]
    """Each query parameter's place in what the hook is given: its field's key, under its
    group's; an alias's under its parameter's."""
    fields: Mapping[str, tuple[str, Any, Hook]]
    """Each parameter's field: its key, its value when absent and its hook."""
    page_size: tuple[tuple[str, ...], Param] | None
    """The attributes leading to the page size and its declaration, if the class has one."""
    counted: Mapping[str, str]
    """Each list's field by parameter name (the limits count them as sent)."""
    own_limits: tuple[tuple[str, Param], ...]
    """Each list with a limit of its own, by field."""
    lists: tuple[str, ...]
    """The fields holding lists: each element once after the limits."""
    path: tuple[str, Param, Hook] | None
    """The field holding the path's value, its declaration and its hook."""
    finishes: bool
    """Whether :func:`finish` has anything to check or change."""

    def nest(self, params: Params) -> tuple[dict[str, Any], list[str]]:
        """The parameters laid out by field, and every unknown one's problem."""
        out: dict[str, Any] = {}
        unknown: list[str] = []
        layout = self.layout
        for name, sent in params.items():
            where = layout.get(name)
            if where is None:
                unknown.append(name)
            elif len(where) == 1:
                out[where[0]] = sent
            else:
                inner = out.get(where[0])
                if inner is None:
                    inner = out[where[0]] = {}
                inner[where[1]] = sent
        if unknown:
            unknown = [f"{name}: unknown parameter" for name in sorted(unknown)]
        return out, unknown


def _layout(cls: type, prefix: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for field in attrs.fields(cls):
        meta = field.metadata
        places: dict[str, tuple[str, ...]] = {}
        if _GROUP in meta:
            places = _layout(meta[_GROUP], (*prefix, field.name))
        elif _PARAM in meta and meta[_PARAM].location == "query":
            declared: Param = meta[_PARAM]
            if declared.aliases:
                for one in (declared, *declared.aliases):
                    places[one.name] = (*prefix, declared.name, one.name)
            else:
                places[declared.name] = (*prefix, declared.name)
        if set(places) & set(out):
            raise AssertionError(f"{cls.__name__}: {set(places) & set(out)} declared twice")
        out.update(places)
    return out


def _page_size_of(cls: type) -> tuple[tuple[str, ...], Param] | None:
    for field in attrs.fields(cls):
        meta = field.metadata
        if _PARAM in meta and meta[_PARAM].kind is Kind.PAGE_SIZE:
            return (field.name,), meta[_PARAM]
        if _GROUP in meta and (inner := _page_size_of(meta[_GROUP])) is not None:
            return (field.name, *inner[0]), inner[1]
    return None


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        fields: dict[str, tuple[str, Any, Hook]] = {}
        counted: dict[str, str] = {}
        own: list[tuple[str, Param]] = []
        lists: list[str] = []
        declared_path = _path_of(cls)
        path: tuple[str, Param, Hook] | None = None
        for field in attrs.fields(cls):
            meta = field.metadata
            if _PATH in meta and declared_path is not None:
                path = (field.name, declared_path, _hook(declared_path))
                counted[declared_path.name] = field.name
                if declared_path.kind is Kind.STEAM_ID_LIST:
                    lists.append(field.name)
                    if declared_path.max_items is not None:
                        own.append((field.name, declared_path))
            elif _PARAM in meta:
                declared: Param = meta[_PARAM]
                fields[field.name] = (declared.name, field.default, _hook(declared))
                if declared.kind in LIST_KINDS:
                    counted[declared.name] = field.name
                    lists.append(field.name)
                    if declared.max_items is not None:
                        own.append((field.name, declared))
        page_size = _page_size_of(cls)
        plan = _PLANS[cls] = _Plan(
            hook=converter.get_structure_hook(cls),
            layout=_layout(cls),
            fields=fields,
            page_size=page_size,
            counted=counted,
            own_limits=tuple(own),
            lists=tuple(lists),
            path=path,
            finishes=bool(page_size or limits(cls) or own or lists),
        )
    return plan


# --- reading ----------------------------------------------------------------------------


def structure(cls: type, params: Params, **read: Any) -> tuple[Any, list[str]]:
    """A query class from raw parameters by the converter: the query (``None`` if a value
    is malformed) and every problem (``name: what``; none: the query is whole). ``read``:
    the path's value, already read (:func:`read_path`)."""
    plan = _plan(cls)
    nested, problems = plan.nest(params)
    if read:
        nested.update(read)
    try:
        return plan.hook(nested, cls), problems
    except ClassValidationError as error:
        return None, problems + details(error)


def structured(cls: type, params: Params, **read: Any) -> Any:
    """:func:`structure`, raising ``InvalidParameter`` with every problem."""
    query, problems = structure(cls, params, **read)
    if problems:
        raise InvalidParameter(details=problems)
    return query


def check_known(cls: type, params: Params) -> None:
    """Only parameters the class reads (for a class that reads none but its path or body)."""
    _, problems = _plan(cls).nest(params)
    if problems:
        raise InvalidParameter(details=problems)


def read_field(cls: type, name: str, params: Params) -> Any:
    """One field's value as its hook reads it; ``None`` if malformed (for a rule over
    several fields when some other value is malformed)."""
    key, absent, hook = _plan(cls).fields[name]
    sent = params.get(key)
    if sent is None:
        return absent
    try:
        return hook(sent, None)
    except (ParamError, IterableValidationError):
        return None


_PATH_HOOKS: dict[int, Hook] = {}


def read_path(declared: Param, raw: str, hook: Hook | None = None) -> Any:
    """A path's value (a Steam id, or a list of them as sent) through its declaration's hook;
    ``InvalidParameter`` naming it."""
    if hook is None:
        hook = _PATH_HOOKS.get(id(declared))
        if hook is None:
            hook = _PATH_HOOKS[id(declared)] = _hook(declared)
    try:
        return hook(raw, None)
    except (ParamError, IterableValidationError) as error:
        raise InvalidParameter(details=details(error)) from None


def read_query(cls: type, params: Params, raw_path: str | None = None) -> Any:
    """A whole query: its path's value first (its problems alone: the path names what is
    asked for), then its parameters (every problem at once), then :func:`finish`."""
    plan = _plan(cls)
    if plan.path is None:
        query = structured(cls, params)
    else:
        field, declared, hook = plan.path
        assert raw_path is not None
        query = structured(cls, params, **{field: read_path(declared, raw_path, hook)})
    return finish(query) if plan.finishes else query


def finish(query: Any) -> Any:
    """The rules over a whole query, after every malformed value: the page size (the
    original's 413 error_id 1), the limits on lists together and of their own (413 error_id
    2; a path's: error_id 1), all counted as sent; then each list's elements once."""
    cls = type(query)
    plan = _plan(cls)
    if not plan.finishes:
        return query
    if plan.page_size is not None:
        attributes, declared = plan.page_size
        size = query
        for attribute in attributes:
            size = getattr(size, attribute)
        if not (declared.minimum or 0) <= size <= (declared.maximum or MAX_PAGE):
            raise PageSizeOutOfRange()
    for limit in limits(cls):
        sent = {name: len(getattr(query, plan.counted[name])) for name in limit.names}
        total = sum(sent.values())
        if total > limit.total:
            sizes = ", ".join(f"{k}: {n}" for k, n in sent.items())
            raise FilterTooComplex(limit.total, details=[f"{sizes} (sum {total})"])
    for field, declared in plan.own_limits:
        count = len(getattr(query, field))
        assert declared.max_items is not None
        if declared.location == "path":
            if not 1 <= count <= declared.max_items:
                raise ListSizeOutOfRange(
                    details=[f"{declared.name}: {count} ids, 1 to {declared.max_items}"]
                )
        elif count > declared.max_items:
            raise FilterTooComplex(declared.max_items, details=[f"{declared.name}: {count} ids"])
    once: dict[str, Any] = {}
    for field in plan.lists:
        sent = getattr(query, field)
        unique = tuple(dict.fromkeys(sent))
        if len(unique) != len(sent):
            once[field] = unique
    return attrs.evolve(query, **once) if once else query
