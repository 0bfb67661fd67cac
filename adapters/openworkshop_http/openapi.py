"""The OpenAPI 3.0 document of the API, generated.

Its paths come from the endpoint table (``api.py``): each parameter from its ``Param``
declaration in ``openworkshop.query`` (types, ranges, sorts, limits, help text), each error
response from the error classes the endpoint answers (their ``message`` and ``error_id``,
their status from ``errors.STATUS``, ``Retry-After`` from ``errors.RETRY_AFTER``); the
response bodies' schemas are declared once below. Swagger UI at ``/docs`` renders it and
schemathesis checks the server against it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any, Final

import attrs

from openworkshop import query
from openworkshop.checks import CheckState
from openworkshop.domain import MAX_STEAM_ID, ResourceType
from openworkshop.errors import (
    ApiError,
    FilterTooComplex,
    InvalidParameter,
    PageSizeOutOfRange,
)
from openworkshop.events import EventKind
from openworkshop.ports import CatalogSummary
from openworkshop.progress import Phase
from openworkshop.query import CHECK_LIMIT, MAX_NAME_LENGTH, SOURCE_PATTERN, Kind, ModFields, Param
from openworkshop.states import ModState
from openworkshop.views import GAME_GROUPS, GAME_KEYS, MOD_GROUPS, Key
from openworkshop_http.api import ENDPOINTS, Endpoint, Header, Ok
from openworkshop_http.errors import RETRY_AFTER, STATUS, nearest

__all__ = ["openapi_document"]

JSON = dict[str, Any]

UINT64: Final[JSON] = {"type": "integer", "minimum": 0, "maximum": MAX_STEAM_ID}
_ID_TEXT: Final = r"(0|[1-9][0-9]{0,18}|1[0-7][0-9]{18})"
"""A Steam id as JSON writes it: no leading zero, below 2**64 (the few ids from 18 * 10**18 to
2**64 - 1 are accepted too but left out of the pattern)."""
ID_LIST_PATTERN: Final = rf"^(\[{_ID_TEXT}(,{_ID_TEXT})*\]|{_ID_TEXT}(,{_ID_TEXT})*)$"

_DESCRIPTION: Final = """\
A Steam Workshop mirror. Ask for a mod with `/download/steam/{mod_id}`: the server downloads it
for itself once, then anyone can download its ZIP archive from the server, and find it in the
catalog (`/list/mods/`).

Conventions (see docs/http.md):
* Lists are JSON arrays, in the query (`tags=[1,2]`) and in paths (`/condition/mod/[1,2]`);
  `tags=1&tags=2` and `tags=1,2` work too. Booleans are `true/false/1/0`. An empty parameter
  counts as absent; an unknown one is an error.
* Every error has the body `{"message": ..., "error_id": ..., "details": [...]}`. A malformed
  value is 422; the original API's own limits keep its codes (413, 412, 409, 425).
* Every path works with and without a trailing slash. Every response carries
  `Access-Control-Allow-Origin: *`.
* Mod states (`condition`): 0 done, 1 downloadable while its page is parsed, 2 downloading,
  3 queued.
"""


def _ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: JSON, required: list[str] | None = None, **extra: Any) -> JSON:
    schema: JSON = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def _string(**extra: Any) -> JSON:
    return {"type": "string", **extra}


def _nullable(schema: JSON) -> JSON:
    return {**schema, "nullable": True}


INT: Final[JSON] = {"type": "integer"}
BOOL: Final[JSON] = {"type": "boolean"}
SECONDS: Final[JSON] = _string(
    description="`YYYY-MM-DD HH:MM:SS`, UTC", pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
)
MICROS: Final[JSON] = _string(
    description="`YYYY-MM-DD HH:MM:SS.ffffff`, UTC",
    pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$",
)


_SUMMARY: Final = tuple(field.name for field in attrs.fields(CatalogSummary))
_IDS: Final[JSON] = {"type": "array", "items": UINT64}
_CONDITION: Final[JSON] = {
    "type": "integer",
    "enum": [int(s) for s in ModState],
    "nullable": True,
    "description": "The server's state of the mod; null: the server does not have it.",
}
_PLAN_ENTRY: Final[JSON] = _obj(
    {
        "id": UINT64,
        "name": _string(),
        "condition": _CONDITION,
        "size": _nullable({**INT, "description": "Bytes, unpacked (Steam's file_size)."}),
        "sha256": _nullable(_string(description="The archive's, when the server has one.")),
        "date_update": _nullable(SECONDS),
        "dependencies": _nullable(
            {**_IDS, "description": "Its required items in Steam's order; null until known."}
        ),
        "parent": _nullable(
            {**UINT64, "description": "Null when asked for; else the first mod that needs it."}
        ),
        "collection": _nullable({**UINT64, "description": "The collection it came from."}),
        "missing": {**BOOL, "description": "Steam does not list it (missing, private, banned)."},
    },
    [
        "id",
        "name",
        "condition",
        "size",
        "sha256",
        "date_update",
        "dependencies",
        "parent",
        "collection",
        "missing",
    ],
)


def _key(key: Key) -> JSON:
    """A row's key as ``views`` declares it (its group's table)."""
    schema: JSON = {
        "string": _string(),
        "integer": INT,
        "seconds": _nullable(SECONDS),
        "micros": _nullable(MICROS),
    }[key.type]
    if key.help:
        schema = {**schema, "description": key.help}
    if key.max_length is not None:
        schema = {**schema, "maxLength": key.max_length}
    return schema


def _keys(keys: Iterable[Key]) -> JSON:
    return {key.name: _key(key) for key in keys}


def _groups(groups: Mapping[str, object], defaults: object) -> str:
    """The groups' names, as the row's description lists them (the flags on by default)."""
    return ", ".join(
        f"`{name}`" + (" (default on)" if getattr(defaults, name) else "") for name in groups
    )


def _schemas() -> JSON:
    named = _obj({"id": INT, "name": _string()}, ["id", "name"])
    mod_fields = _keys(key for group in MOD_GROUPS.values() for key in group)
    game_fields = _keys((*GAME_KEYS, *(key for group in GAME_GROUPS.values() for key in group)))
    game_required = [key.name for key in GAME_KEYS]
    page = {"database_size": INT, "offeset": INT, "offset": INT}
    return {
        "Error": _obj(
            {
                "message": _string(),
                "error_id": INT,
                "details": {
                    "type": "array",
                    "items": _string(),
                    "description": "What was wrong, one entry per offending parameter.",
                },
                "reason": _string(description="Why the mod could not be downloaded."),
            },
            ["message", "error_id"],
        ),
        "Queued": _obj(
            {
                "message": _string(enum=["request added to queue"]),
                "error_id": {"type": "integer", "enum": [0]},
                "unsuccessful_attempts": BOOL,
                "updating": BOOL,
                "reason": _string(description="The last failure's reason, after one."),
                "collection": {
                    **UINT64,
                    "description": "For a Steam collection: its id (the rest lists its items).",
                },
                "items": {
                    "type": "array",
                    "items": _obj({"id": UINT64, "condition": _CONDITION}, ["id", "condition"]),
                },
                "queued": _IDS,
            },
            ["message", "error_id", "unsuccessful_attempts", "updating"],
        ),
        "UpdateQueued": _obj(
            {
                "message": _string(enum=["task of updating is set"]),
                "error_id": {"type": "integer", "enum": [0]},
            },
            ["message", "error_id"],
        ),
        "Mod": _obj(
            {"id": UINT64, **mod_fields},
            ["id"],
            description="Fields by group: " + _groups(MOD_GROUPS, ModFields()) + ".",
        ),
        "ModPage": _obj(
            {**page, "results": {"type": "array", "items": _ref("Mod")}},
            ["database_size", "offeset", "offset", "results"],
        ),
        "Game": _obj({"id": UINT64, **game_fields}, ["id", *game_required]),
        "GamePage": _obj(
            {**page, "results": {"type": "array", "items": _ref("Game")}},
            ["database_size", "offeset", "offset", "results"],
        ),
        "Named": named,
        "NamedPage": _obj(
            {
                "database_size": INT,
                "offset": INT,
                "results": {"type": "array", "items": _ref("Named")},
            },
            ["database_size", "offset", "results"],
        ),
        "Associations": {
            "type": "object",
            "description": "Each requested id that has any, with its items (ids only with "
            "`only_ids=true`).",
            "additionalProperties": {
                "type": "array",
                "items": {"oneOf": [INT, _ref("Named")]},
            },
        },
        "Resource": _obj(
            {
                "date_event": MICROS,
                "id": INT,
                "url": _string(),
                "type": _string(enum=["logo", "screenshot"]),
                "owner_id": UINT64,
            },
            ["date_event", "id", "url", "type", "owner_id"],
        ),
        "ResourcePage": _obj(
            {
                "database_size": INT,
                "offset": INT,
                "results": {"type": "array", "items": _ref("Resource")},
            },
            ["database_size", "offset", "results"],
        ),
        "ModInfo": _obj(
            {
                "result": _nullable(
                    _obj(
                        {
                            **mod_fields,
                            "condition": {"type": "integer", "enum": [int(s) for s in ModState]},
                            "game": _nullable(
                                _obj({"id": UINT64, "name": _nullable(_string())}, ["id"])
                            ),
                        },
                        ["condition"],
                    )
                ),
                "dependencies": {"type": "array", "items": UINT64, "maxItems": 20},
                "dependencies_count": INT,
                "unsuccessful_attempts": BOOL,
                "failure": _obj(
                    {
                        "reason": _string(),
                        "attempts": INT,
                        "date": _nullable(SECONDS),
                        "detail": _string(),
                    }
                ),
                "progress": _ref("Progress"),
            },
            ["result"],
        ),
        "Progress": _obj(
            {
                "phase": _string(enum=[p.value for p in Phase]),
                "condition": _nullable({"type": "integer", "enum": [int(s) for s in ModState]}),
                "position": _nullable(
                    {**INT, "description": "`queued`: its place in the queue, 1 = next."}
                ),
                "done": _nullable(
                    {
                        **INT,
                        "description": "`downloading`: bytes on disk so far; `packing`: bytes "
                        "packed so far.",
                    }
                ),
                "total": _nullable(
                    {
                        **INT,
                        "description": "`downloading`: the size Steam gives; `packing`: the "
                        "files' unpacked size; null when not known.",
                    }
                ),
                "eta": _nullable(
                    {
                        "type": "number",
                        "description": "Seconds the rest of the phase takes at its rate so "
                        "far; null until known.",
                    }
                ),
                "reason": _string(description="`failed`: the failure's reason."),
            },
            ["phase", "condition", "position", "done", "total", "eta"],
            description="Where a mod is on its way: `queued` (condition 3), `downloading` "
            "and `packing` (2), `parsing` (1: its archive can be downloaded), then `ready` "
            "(0), `failed` (with `reason`) or `missing` (the server neither has nor fetches "
            "it).",
        ),
        "ProgressMap": {
            "type": "object",
            "description": "Each requested mod id with its progress.",
            "additionalProperties": _ref("Progress"),
        },
        "GameInfo": _obj(
            {"result": _nullable(_obj(game_fields, game_required))},
            ["result"],
        ),
        "Conditions": {
            "type": "object",
            "description": "Each requested mod the server has, with its state.",
            "additionalProperties": {"type": "integer", "enum": [int(s) for s in ModState]},
        },
        "Plan": _obj(
            {
                "results": {"type": "array", "items": _PLAN_ENTRY},
                "cycles": {
                    "type": "array",
                    "description": "Each ring of mods requiring each other: `ids` in the "
                    "order met (each requires the next, the last the first), `broken` the "
                    "requirement left out to order them.",
                    "items": _obj(
                        {"ids": _IDS, "broken": {**_IDS, "minItems": 2, "maxItems": 2}},
                        ["ids", "broken"],
                    ),
                },
                "collections": {
                    "type": "object",
                    "description": "Each collection met, with its items.",
                    "additionalProperties": _IDS,
                },
                "queued": {**_IDS, "description": "The mods this request queued."},
                "complete": {
                    **BOOL,
                    "description": "Whether every entry's dependencies are known.",
                },
            },
            ["results", "cycles", "collections", "queued", "complete"],
        ),
        "CollectionInfo": _obj(
            {
                "result": _nullable(
                    _obj(
                        {
                            "id": UINT64,
                            "name": _string(),
                            "items": {
                                "type": "array",
                                "items": _obj(
                                    {"id": UINT64, "name": _string(), "condition": _CONDITION},
                                    ["id", "name", "condition"],
                                ),
                            },
                        },
                        ["id", "name", "items"],
                    )
                )
            },
            ["result"],
        ),
        "Delay": _obj({"fast": INT, "full": INT}, ["fast", "full"]),
        "HourRow": _obj(
            {"count": INT, "type": _string(), "date_time": MICROS}, ["count", "type", "date_time"]
        ),
        "DayRow": _obj(
            {"count": INT, "type": _string(), "date": _string(format="date")},
            ["count", "type", "date"],
        ),
        "Summary": _obj({name: INT for name in _SUMMARY}, list(_SUMMARY)),
        "TypeMap": _obj(
            {
                "language": _string(enum=["ru", "en"]),
                "result": {"type": "object", "additionalProperties": _string()},
            },
            ["language", "result"],
        ),
        **_launcher_schemas(),
    }


_CHECK_DATE: Final = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
"""A date_update as ``/info/mod`` writes it (days to the 28th: every match is a date)."""


def _launcher_schemas() -> JSON:
    """The bodies of the launcher endpoints (``/events``, ``POST /check/mods``)."""
    version = {
        "sha256": _string(pattern="^[0-9a-f]{64}$", description="The archive's sha256."),
        "size": {**INT, "description": "The archive's size in bytes."},
        "date_update": _nullable(SECONDS),
    }
    return {
        "Event": _obj(
            {
                "id": _string(description="The event's cursor: `after` continues after it."),
                "type": _string(enum=[k.value for k in EventKind]),
                "at": MICROS,
                "mod_id": UINT64,
                "game_id": UINT64,
                "name": _string(),
                **version,
                "reason": _string(
                    description="`mod_removed`: the failure's reason; `mod_damaged`: `damaged`."
                ),
            },
            ["id", "type", "at", "name"],
            description="`mod_added` and `mod_updated` carry the new archive's `sha256`, "
            "`size` and `date_update`; the mod events carry `mod_id` and `game_id`, "
            "`game_added` its `game_id`.",
        ),
        "EventPage": _obj(
            {
                "events": {"type": "array", "items": _ref("Event")},
                "next": _string(description="The cursor to ask with next (`after`)."),
                "more": {**BOOL, "description": "More events are waiting after `next`."},
            },
            ["events", "next", "more"],
        ),
        "CheckRequest": {
            "type": "object",
            "description": "Each mod id (a Steam id in decimal digits: any other key is "
            "422) with the client's version of it.",
            "additionalProperties": {
                "oneOf": [
                    _string(pattern="^[0-9a-fA-F]{64}$", description="The archive's sha256."),
                    _string(
                        pattern=_CHECK_DATE,
                        description="The date_update, `YYYY-MM-DD HH:MM:SS` (UTC); ISO 8601 "
                        "is read too.",
                    ),
                ]
            },
            "maxProperties": CHECK_LIMIT,
            "example": {"2955709750": "0" * 64, "3024527775": "2024-05-01 12:00:00"},
        },
        "CheckAnswer": {
            "type": "object",
            "description": "Each id sent, with what the server says of it.",
            "additionalProperties": _obj(
                {
                    "state": _string(enum=[c.value for c in CheckState]),
                    **version,
                    "reason": _string(description="`removed`: why."),
                    "checking": {**BOOL, "description": "An update check was queued."},
                },
                ["state"],
                description="`current` and `outdated` carry the server's archive.",
            ),
        },
    }


# --- parameters: from the declarations --------------------------------------------------

_ITEMS: Final[dict[Kind, JSON]] = {
    Kind.IDS: UINT64,
    Kind.STEAM_IDS: UINT64,
    Kind.NAMES: _string(pattern=SOURCE_PATTERN),
    Kind.RESOURCE_TYPES: _string(enum=[t.value for t in ResourceType]),
}
_LIST_FORMS: Final = " A JSON array (`[1,2]`), repeated (`x=1&x=2`) or comma-separated."


def _range(declared: Param) -> JSON:
    schema: JSON = {"type": "integer"}
    if declared.minimum is not None:
        schema["minimum"] = declared.minimum
    if declared.maximum is not None:
        schema["maximum"] = declared.maximum
    schema["default"] = declared.default
    return schema


def _schema(declared: Param, max_items: int | None) -> JSON:
    kind = declared.kind
    if kind in query.LIST_KINDS:
        if declared.single:
            return _ITEMS[kind]
        schema: JSON = {"type": "array", "items": _ITEMS[kind]}
        if max_items is not None:
            schema["maxItems"] = max_items
        return schema
    if kind in (Kind.INTEGER, Kind.PAGE_SIZE):
        return _range(declared)
    if kind is Kind.BOOLEAN:
        return {**BOOL, "default": declared.default}
    if kind is Kind.TEXT:
        if declared.pattern is not None:
            return _string(pattern=declared.pattern)
        return _string(maxLength=MAX_NAME_LENGTH)
    if kind is Kind.DATE:
        return _string(format="date")
    if kind is Kind.SORT:
        return _string(enum=list(declared.choices))
    if kind is Kind.STEAM_ID:
        return UINT64
    if kind is Kind.STEAM_ID_LIST:
        return _string(pattern=ID_LIST_PATTERN)
    raise AssertionError(kind)


def _own_limit(declared: Param, params: type | None) -> int | None:
    """A list's documented ``maxItems``: its own limit, or a limit that counts it alone."""
    if declared.max_items is not None:
        return declared.max_items
    for limit in query.limits(params) if params is not None else ():
        if limit.names == (declared.name,):
            return limit.total
    return None


def _parameter(declared: Param, params: type | None) -> JSON:
    schema = _schema(declared, _own_limit(declared, params))
    if declared.location == "path":
        example: object = (
            "[2955709750,3024527775]" if declared.kind is Kind.STEAM_ID_LIST else 2955709750
        )
        return {"name": declared.name, "in": "path", "required": True, "schema": schema,
                "description": declared.help, "example": example}  # fmt: skip
    out: JSON = {"name": declared.name, "in": "query", "required": False,
                 "allowEmptyValue": True, "schema": schema}  # fmt: skip
    # an optional query parameter; sent empty (``name=``), it counts as absent
    if declared.kind in query.LIST_KINDS and not declared.single:
        out.update(description=declared.help + _LIST_FORMS, style="form", explode=True)
    else:
        out["description"] = declared.help
    return out


def _header(header: Header) -> JSON:
    return {"name": header.name, "in": "header", "required": False, "schema": _string(),
            "description": header.help}  # fmt: skip


# --- responses: from the error classes and the status table -------------------------------


def _json(schema: JSON, description: str, headers: JSON | None = None) -> JSON:
    response: JSON = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _error(description: str, headers: JSON | None = None) -> JSON:
    return _json(_ref("Error"), description, headers)


RETRY_AFTER_HEADER: Final[JSON] = {
    "Retry-After": {
        "description": "Seconds to wait before asking again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
DEFAULT: Final = _error(
    "Any other error, in the same shape: 404 unknown path, 405 method not allowed, "
    "500 internal error (error_id is the HTTP status)."
)

_ARCHIVE_HEADERS: Final[JSON] = {
    "ETag": {"description": "The archive's sha256, quoted.", "required": True, "schema": _string()},
    "Content-Disposition": {
        "description": '`attachment; filename="<name>.zip"`, or '
        "`attachment; filename*=UTF-8''<name>.zip` for a non-ASCII name.",
        "required": True,
        "schema": _string(),
    },
    "Accept-Ranges": {"schema": _string(enum=["bytes"])},
}


def _archive_responses() -> JSON:
    binary = {"schema": _string(format="binary")}
    return {
        "200": {
            "description": "The mod's ZIP archive (entries compressed with ZIP_BZIP2).",
            "content": {"application/zip": binary},
            "headers": _ARCHIVE_HEADERS,
        },
        "206": {
            "description": "The requested part of the archive: one range as `application/zip` "
            "with `Content-Range`; several as `multipart/byteranges`, each part with its own "
            "`Content-Type: application/zip` and `Content-Range` (RFC 9110, 14.6).",
            "content": {"application/zip": binary, "multipart/byteranges": binary},
            "headers": {
                **_ARCHIVE_HEADERS,
                "Content-Range": {
                    "description": "`bytes start-end/size`, for a single range.",
                    "schema": _string(pattern=r"^bytes [0-9]+-[0-9]+/[0-9]+$"),
                },
            },
        },
        "304": {"description": "The client's copy (If-None-Match) is current."},
        "416": _error(
            "The range starts past the end of the archive.",
            {
                "Content-Range": {
                    "description": "`bytes */size`: the archive's size.",
                    "required": True,
                    "schema": _string(pattern=r"^bytes \*/[0-9]+$"),
                }
            },
        ),
    }


def _says(error: ApiError | type[ApiError], when: str) -> str:
    """An error as a response's description names it: its message, error_id and when."""
    text = f"`{error.message}` (error_id {error.error_id})"
    return f"{text}: {when}" if when else text


def _errors(endpoint: Endpoint) -> list[tuple[type[ApiError], ApiError | type[ApiError], str]]:
    """Every error the endpoint answers: those its parameters' declarations imply (a
    malformed value, a page size, the limits on lists), then its own."""
    out: list[tuple[type[ApiError], ApiError | type[ApiError], str]] = []
    parameters = endpoint.parameters
    if any(p.kind is Kind.PAGE_SIZE for p in parameters):
        out.append((PageSizeOutOfRange, PageSizeOutOfRange(), "`page_size` outside 1–50"))
    if endpoint.params is not None:
        for limit in query.limits(endpoint.params):
            out.append((FilterTooComplex, FilterTooComplex(limit.total), " + ".join(limit.names)))
    for declared in parameters:
        if declared.max_items is not None and declared.kind in query.LIST_KINDS:
            when = f"more than {declared.max_items} {declared.name}"
            out.append((FilterTooComplex, FilterTooComplex(declared.max_items), when))
    for cls, when in endpoint.errors.items():
        out.append((cls, cls, when))
    if parameters:
        out.append((InvalidParameter, InvalidParameter(), "a malformed parameter; `details` "
                    "names each one"))  # fmt: skip
    return out


def _responses(endpoint: Endpoint) -> JSON:
    responses: JSON = _archive_responses() if endpoint.archive else {}
    if endpoint.redirect:
        responses["307"] = {
            "description": "To the API documentation.",
            "headers": {"Location": {"required": True, "schema": _string()}},
        }
    texts: dict[int, list[str]] = {}
    retry: dict[int, bool] = {}
    ok_schemas: dict[int, JSON] = {}
    streams: dict[int, str] = {}
    for status, ok in endpoint.ok.items():
        ok_schemas[status] = _body(ok)
        texts.setdefault(status, []).append(ok.description)
        retry[status] = ok.retry_after
        if ok.stream:
            streams[status] = ok.stream
    errors = _errors(endpoint)
    for cls, error, when in errors:
        status = nearest(STATUS, cls) or 500
        texts.setdefault(status, []).append(_says(error, when))
        retry[status] = retry.get(status, True) and nearest(RETRY_AFTER, cls) is not None
    for status in sorted(texts):
        description = " Or ".join(_sentence(t) for t in texts[status])
        headers = RETRY_AFTER_HEADER if retry[status] else None
        if status in ok_schemas and any(nearest(STATUS, c) == status for c, _, _ in errors):
            schema: JSON = {"anyOf": [ok_schemas[status], _ref("Error")]}
        else:
            schema = ok_schemas.get(status, _ref("Error"))
        responses[str(status)] = _json(schema, description, headers)
        if status in streams:
            responses[str(status)]["description"] += " Or, asked for, " + streams[status]
            responses[str(status)]["content"]["text/event-stream"] = {"schema": _string()}
    responses["default"] = DEFAULT
    return dict(sorted(responses.items(), key=lambda item: item[0]))


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:] if text.startswith(("a ", "the ")) else text
    return text if text.endswith(".") else text + "."


def _body(ok: Ok) -> JSON:
    schema = ok.schema
    if isinstance(schema, str):
        return _ref(schema)
    assert schema is not None
    if isinstance(schema.get("items"), str):
        return {**schema, "items": _ref(schema["items"])}
    return schema


def _operation(endpoint: Endpoint) -> JSON:
    out: JSON = {"summary": endpoint.summary}
    if endpoint.description:
        out["description"] = endpoint.description
    out["tags"] = [endpoint.tag]
    sent = [p for p in endpoint.parameters if p.location != "body"]
    parameters = [_parameter(p, endpoint.params) for p in sent]
    parameters += [_header(h) for h in endpoint.headers]
    if parameters:
        out["parameters"] = parameters
    body = [p for p in endpoint.parameters if p.location == "body"]
    if body:
        out["requestBody"] = _request_body(body)
    elif endpoint.body is not None:
        declared = endpoint.body.schema
        out["requestBody"] = {
            "required": True,
            "description": endpoint.body.description,
            "content": {
                "application/json": {
                    "schema": _ref(declared) if isinstance(declared, str) else declared
                }
            },
        }
    out["responses"] = _responses(endpoint)
    return {endpoint.method.lower(): out}


def _request_body(fields: Iterable[Param]) -> JSON:
    """A JSON object body whose properties are the body parameters' declarations."""
    properties: JSON = {}
    for declared in fields:
        schema = _schema(declared, declared.max_items)
        if declared.kind in query.LIST_KINDS:
            schema["minItems"] = 1
        properties[declared.name] = {**schema, "description": declared.help}
    schema = _obj(properties, [n for n in properties if n == "ids"], additionalProperties=False)
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _paths() -> JSON:
    paths: JSON = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(endpoint.path, {}).update(_operation(endpoint))
    return paths


def _version() -> str:
    try:
        return metadata.version("open-workshop")
    except metadata.PackageNotFoundError:
        return "0"


_DOCUMENT: JSON | None = None


def openapi_document() -> JSON:
    """The OpenAPI document (a fresh copy: callers may change it)."""
    global _DOCUMENT
    if _DOCUMENT is None:
        _DOCUMENT = {
            "openapi": "3.0.3",
            "info": {
                "title": "Open Workshop",
                "version": _version(),
                "description": _DESCRIPTION,
                "license": {"name": "MIT"},
            },
            "tags": [
                {"name": "download", "description": "Mods from Steam, through the server."},
                {"name": "catalog", "description": "What the server has."},
                {"name": "statistics", "description": "How the server is used."},
                {
                    "name": "launcher",
                    "description": "Beyond the original Open Workshop API: what launchers "
                    "and second mirrors need: install plans, collections, the events feed, "
                    "the bulk update check.",
                },
                {"name": "docs", "description": "This documentation."},
            ],
            "paths": _paths(),
            "components": {"schemas": _schemas()},
        }
    return copy.deepcopy(_DOCUMENT)
