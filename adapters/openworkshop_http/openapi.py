"""The OpenAPI 3.0 document of the API, written as data.

It describes every endpoint of the seed with every parameter (types, ranges, sorts) and every
response (status codes with their bodies), so Swagger UI at ``/docs`` can try them and
schemathesis can check the server against it.
"""

from __future__ import annotations

import copy
from importlib import metadata
from typing import Any, Final

from openworkshop.domain import MAX_STEAM_ID
from openworkshop.query import (
    ASSOCIATION_LIMIT,
    GAME_SORT_ALIASES,
    ID_LIST_LIMIT,
    LIST_FILTER_LIMIT,
    MAX_NAME_LENGTH,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MOD_SORT_ALIASES,
    SOURCE_PATTERN,
    GameSort,
    ModSort,
)
from openworkshop.states import ModState

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
  value is 422; the seed's own limits keep the seed's codes (413, 412, 409, 425).
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


def _schemas() -> JSON:
    named = _obj({"id": INT, "name": _string()}, ["id", "name"])
    mod_general = {"name": _string(), "size": INT, "source": _string(), "downloads": INT}
    mod_optional = {
        "description": _string(),
        "short_description": _string(maxLength=256),
        "date_creation": _nullable(SECONDS),
        "date_update": _nullable(SECONDS),
    }
    game_fields = {
        "name": _string(),
        "type": _string(description="`game` or `app`"),
        "logo": _string(description="URL of the game's logo"),
        "source": _string(),
        "short_description": _string(),
        "description": _string(),
        "mods_downloads": INT,
        "mods_count": INT,
        "creation_date": _nullable(MICROS),
    }
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
            {"id": UINT64, **mod_general, **mod_optional},
            ["id"],
            description="Fields by group: `general` (default on), `description`, "
            "`short_description`, `dates`.",
        ),
        "ModPage": _obj(
            {**page, "results": {"type": "array", "items": _ref("Mod")}},
            ["database_size", "offeset", "offset", "results"],
        ),
        "Game": _obj({"id": UINT64, **game_fields}, ["id", "name", "type", "logo", "source"]),
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
                            **mod_general,
                            **mod_optional,
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
            },
            ["result"],
        ),
        "GameInfo": _obj(
            {"result": _nullable(_obj(game_fields, ["name", "type", "logo", "source"]))},
            ["result"],
        ),
        "Conditions": {
            "type": "object",
            "description": "Each requested mod the server has, with its state.",
            "additionalProperties": {"type": "integer", "enum": [int(s) for s in ModState]},
        },
        "Delay": _obj({"fast": INT, "full": INT}, ["fast", "full"]),
        "HourRow": _obj(
            {"count": INT, "type": _string(), "date_time": MICROS}, ["count", "type", "date_time"]
        ),
        "DayRow": _obj(
            {"count": INT, "type": _string(), "date": _string(format="date")},
            ["count", "type", "date"],
        ),
        "Summary": _obj(
            {
                name: INT
                for name in (
                    "mods",
                    "games",
                    "genres",
                    "mods_tags",
                    "mods_dependencies",
                    "statistics_days",
                    "mods_sent_count",
                )
            },
            [
                "mods",
                "games",
                "genres",
                "mods_tags",
                "mods_dependencies",
                "statistics_days",
                "mods_sent_count",
            ],
        ),
        "TypeMap": _obj(
            {
                "language": _string(enum=["ru", "en"]),
                "result": {"type": "object", "additionalProperties": _string()},
            },
            ["language", "result"],
        ),
    }


# --- parameters -------------------------------------------------------------------------


def _query(name: str, schema: JSON, description: str, **extra: Any) -> JSON:
    """An optional query parameter; sent empty (``name=``), it counts as absent."""
    return {"name": name, "in": "query", "required": False, "allowEmptyValue": True,
            "schema": schema, "description": description, **extra}  # fmt: skip


def _path(name: str, schema: JSON, description: str, **extra: Any) -> JSON:
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description, **extra}  # fmt: skip


def _id_path(name: str, what: str) -> JSON:
    return _path(name, UINT64, f"Steam id of the {what} (unsigned 64-bit).", example=2955709750)


def _id_list_path(name: str, what: str, limit: int) -> JSON:
    return _path(
        name,
        _string(pattern=ID_LIST_PATTERN),
        f"JSON array of {what} ids, e.g. `[2955709750,3024527775]` (or `2955709750,3024527775`).",
        example="[2955709750,3024527775]",
    )


def _list(name: str, items: JSON, description: str, max_items: int | None = None) -> JSON:
    schema: JSON = {"type": "array", "items": items}
    if max_items is not None:
        schema["maxItems"] = max_items
    return _query(
        name,
        schema,
        description + " A JSON array (`[1,2]`), repeated (`x=1&x=2`) or comma-separated.",
        style="form",
        explode=True,
    )


def _flag(name: str, description: str, default: bool = False) -> JSON:
    return _query(name, {**BOOL, "default": default}, description)


PAGE_SIZE: Final = _query(
    "page_size",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 10},
    "Items per page, 1 to 50 (outside: 413, error_id 1).",
)
PAGE: Final = _query(
    "page",
    {"type": "integer", "minimum": 0, "maximum": MAX_PAGE, "default": 0},
    "Page number from 0; offset = page_size × page.",
)


def _sorts(enum: type[ModSort] | type[GameSort], aliases: dict[str, Any]) -> list[str]:
    names = [e.value for e in enum] + list(aliases)
    return names + ["i" + n for n in names]


def _mod_field_flags() -> list[JSON]:
    return [
        _flag("general", "Add name, size, source and downloads.", True),
        _flag("short_description", "Add the short description (at most 256 characters)."),
        _flag("description", "Add the full description."),
        _flag("dates", "Add date_creation and date_update."),
    ]


def _game_field_flags() -> list[JSON]:
    return [
        _flag("short_description", "Add the short description."),
        _flag("description", "Add the description."),
        _flag("dates", "Add creation_date."),
        _flag("statistics", "Add mods_downloads and mods_count."),
    ]


# --- responses --------------------------------------------------------------------------


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


RETRY_AFTER: Final[JSON] = {
    "Retry-After": {
        "description": "Seconds to wait before asking again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
INVALID: Final = _error("A malformed parameter (error_id 4); `details` names each one.")
TOO_COMPLEX_30: Final = f"the maximum complexity of filters is {LIST_FILTER_LIMIT} elements in sum"
TOO_COMPLEX_80: Final = f"the maximum complexity of filters is {ASSOCIATION_LIMIT} elements in sum"
PAGE_TOO_BIG: Final = "`incorrect page size` (error_id 1)"
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
_ARCHIVE_REQUEST_HEADERS: Final = [
    {
        "name": "Range",
        "in": "header",
        "required": False,
        "schema": _string(),
        "description": "`bytes=start-end`: a part of the archive (206). Several ranges "
        "(`bytes=0-99,200-299`) are one `multipart/byteranges` answer (206), or the whole "
        "archive (200) from a store with no local file. A malformed range is ignored; one "
        "that starts past the end is 416.",
    },
    {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "schema": _string(),
        "description": "The ETag of a copy the client has: 304 if it is still current.",
    },
]


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


def _operation(
    summary: str,
    description: str,
    tag: str,
    parameters: list[JSON],
    responses: JSON,
) -> JSON:
    out: JSON = {"summary": summary, "description": description, "tags": [tag]}
    if parameters:
        out["parameters"] = parameters
    out["responses"] = {**responses, "default": DEFAULT}
    return {"get": out}


def _paths() -> JSON:
    mod_sorts = _sorts(ModSort, MOD_SORT_ALIASES)
    game_sorts = _sorts(GameSort, GAME_SORT_ALIASES)
    rate_limited = _error(
        "Too many requests from this client to the endpoints that can call Valve.",
        RETRY_AFTER,
    )
    return {
        "/": {
            "get": {
                "summary": "Redirect to /docs",
                "tags": ["docs"],
                "responses": {
                    "307": {
                        "description": "To the API documentation.",
                        "headers": {"Location": {"required": True, "schema": _string()}},
                    },
                    "default": DEFAULT,
                },
            }
        },
        "/download/steam/{mod_id}": _operation(
            "Download a mod, asking Steam for it if the server does not have it",
            "The archive if the server has the mod; otherwise the mod is queued (202) and the "
            "client polls `/info/mod/{mod_id}` or `/condition/mod/[...]` until its condition is "
            "1 or 0. A cached mod last checked more than the update cooldown ago is compared "
            "with Steam and queued again if Steam has a newer version (`updating: true`).",
            "download",
            [_id_path("mod_id", "mod"), *_ARCHIVE_REQUEST_HEADERS],
            {
                **_archive_responses(),
                "202": _json(
                    {"anyOf": [_ref("Queued"), _ref("Error")]},
                    "`request added to queue` (error_id 0), or `your request is already being "
                    "processed` (error_id 3).",
                    RETRY_AFTER,
                ),
                "404": _error("`this mod was not found` (error_id 2), with the `reason`."),
                "422": INVALID,
                "429": rate_limited,
                "503": _error(
                    "`the server is not ready to process requests` (error_id 1): it cannot "
                    "download at all (no steamcmd).",
                    RETRY_AFTER,
                ),
            },
        ),
        "/download/{mod_id}": _operation(
            "Download a mod the server has",
            "The fastest download; never asks Steam. During an update the previous version is "
            "served until the new one replaces it.",
            "download",
            [_id_path("mod_id", "mod"), *_ARCHIVE_REQUEST_HEADERS],
            {
                **_archive_responses(),
                "202": _error("`this mod is still loading` (error_id 3).", RETRY_AFTER),
                "404": _error(
                    "`the mod is not on the server` (error_id 1), or `the mod is damaged` "
                    "(error_id 2): its archive was missing and its record was removed."
                ),
                "422": INVALID,
            },
        ),
        "/update/steam/{mod_id}": _operation(
            "Check Steam for a newer version of a mod",
            "For a mod in condition 0. The check is made at most once per cooldown (3 hours).",
            "download",
            [_id_path("mod_id", "mod")],
            {
                "202": _json(_ref("UpdateQueued"), "The newer version is queued.", RETRY_AFTER),
                "208": _json(_ref("Error"), "`mod already update` (error_id 4)."),
                "404": _error(
                    "`mod not found on locale` (error_id 1: not in condition 0 here), or `mod "
                    "not found on steam` (error_id 3)."
                ),
                "422": INVALID,
                "425": _error("`check for relevance was made earlier` (error_id 2).", RETRY_AFTER),
                "429": rate_limited,
                "503": _error("Steam could not answer; try again later.", RETRY_AFTER),
            },
        ),
        "/list/mods/": _operation(
            "List the mods the server has",
            "Mods in condition 1 or 0, filtered, sorted and paged. `offeset` (the README's "
            "spelling) and `offset` carry the same number.",
            "catalog",
            [
                PAGE_SIZE,
                PAGE,
                _query(
                    "sort",
                    _string(enum=mod_sorts),
                    "Sort; the `i` prefix reverses it. Default DOWNLOADS (RELEVANCE with `q`).",
                ),
                _list("tags", UINT64, "Tag ids every listed mod has."),
                _list("games", UINT64, "Game ids."),
                _query("game", UINT64, "One game id (same as `games=[id]`)."),
                _list("allowed_ids", UINT64, "Only these mods (at most 50).", ID_LIST_LIMIT),
                _flag("dependencies", "Leave out mods that depend on other mods."),
                _list("primary_sources", _string(pattern=SOURCE_PATTERN), "Sources, e.g. `steam`."),
                _query("name", _string(maxLength=MAX_NAME_LENGTH), "Part of the name."),
                _query(
                    "q",
                    _string(maxLength=MAX_NAME_LENGTH),
                    "Full-text search over name, descriptions and tags, every word required "
                    "(our addition). RELEVANCE: mods with every word in the name first, then "
                    "the others, the most downloaded first in each.",
                ),
                *_mod_field_flags(),
            ],
            {
                "200": _json(_ref("ModPage"), "One page of mods."),
                "413": _error(
                    f"{PAGE_TOO_BIG}, or `{TOO_COMPLEX_30}` (error_id 2): tags + games + "
                    "primary_sources, or more than 50 allowed_ids."
                ),
                "422": INVALID,
            },
        ),
        "/list/games/": _operation(
            "List the games the server has mods for",
            "Filtered, sorted and paged.",
            "catalog",
            [
                PAGE_SIZE,
                PAGE,
                _query(
                    "sort",
                    _string(enum=game_sorts),
                    "Sort; the `i` prefix reverses it. Default MODS_DOWNLOADS.",
                ),
                _list("type_app", _string(pattern=SOURCE_PATTERN), "`game` or `app`."),
                _list("genres", UINT64, "Genre ids."),
                _list("primary_sources", _string(pattern=SOURCE_PATTERN), "Sources, e.g. `steam`."),
                _query("name", _string(maxLength=MAX_NAME_LENGTH), "Part of the name."),
                *_game_field_flags(),
            ],
            {
                "200": _json(_ref("GamePage"), "One page of games."),
                "413": _error(
                    f"{PAGE_TOO_BIG}, or `{TOO_COMPLEX_30}` (error_id 2): type_app + genres + "
                    "primary_sources."
                ),
                "422": INVALID,
            },
        ),
        "/list/tags/{game_id}": _operation(
            "List the tags of a game's mods",
            "Paged.",
            "catalog",
            [_id_path("game_id", "game"), PAGE_SIZE, PAGE],
            {
                "200": _json(_ref("NamedPage"), "One page of tags."),
                "413": _error(PAGE_TOO_BIG),
                "422": INVALID,
            },
        ),
        "/list/tags/mods/{mods_ids_list}": _operation(
            "Tags of each of some mods",
            "Only the mods that have tags appear.",
            "catalog",
            [
                _id_list_path("mods_ids_list", "mod", ASSOCIATION_LIMIT),
                _list("tags", UINT64, "Only these tags."),
                _flag("only_ids", "Tag ids instead of `{id, name}` objects."),
            ],
            {
                "200": _json(_ref("Associations"), "`{mod id: [tags]}`."),
                "413": _error(f"`{TOO_COMPLEX_80}` (error_id 2): mods + tags."),
                "422": INVALID,
            },
        ),
        "/list/genres": _operation(
            "List the genres of games",
            "Paged.",
            "catalog",
            [PAGE_SIZE, PAGE],
            {
                "200": _json(_ref("NamedPage"), "One page of genres."),
                "413": _error(PAGE_TOO_BIG),
                "422": INVALID,
            },
        ),
        "/list/genres/games/{games_ids_list}": _operation(
            "Genres of each of some games",
            "Only the games that have genres appear.",
            "catalog",
            [
                _id_list_path("games_ids_list", "game", ASSOCIATION_LIMIT),
                _list("genres", UINT64, "Only these genres."),
                _flag("only_ids", "Genre ids instead of `{id, name}` objects."),
            ],
            {
                "200": _json(_ref("Associations"), "`{game id: [genres]}`."),
                "413": _error(f"`{TOO_COMPLEX_80}` (error_id 2): games + genres."),
                "422": INVALID,
            },
        ),
        "/list/resources_mods/{mods_list_id}": _operation(
            "Logos and screenshots of some mods",
            "Paged.",
            "catalog",
            [
                _id_list_path("mods_list_id", "mod", ID_LIST_LIMIT),
                PAGE_SIZE,
                PAGE,
                _list(
                    "types_resources",
                    _string(enum=["logo", "screenshot"]),
                    "Only these types.",
                    LIST_FILTER_LIMIT,
                ),
            ],
            {
                "200": _json(_ref("ResourcePage"), "One page of resources."),
                "413": _error(
                    f"{PAGE_TOO_BIG}, `{TOO_COMPLEX_30}` (error_id 2), or `the size of the "
                    "array is not correct` (error_id 1): 1 to 50 mods."
                ),
                "422": INVALID,
            },
        ),
        "/info/mod/{mod_id}": _operation(
            "A mod and its condition",
            "`result` is null when the server does not have the mod; `unsuccessful_attempts` "
            "and `failure` then tell why a request for it failed.",
            "catalog",
            [
                _id_path("mod_id", "mod"),
                _flag("dependencies", "Add `dependencies` (at most 20) and `dependencies_count`."),
                _flag("game", "Add `result.game` = `{id, name}`."),
                *_mod_field_flags(),
            ],
            {"200": _json(_ref("ModInfo"), "The mod, or null."), "422": INVALID},
        ),
        "/info/game/{game_id}": _operation(
            "A game",
            "`result` is null when the server does not know the game.",
            "catalog",
            [_id_path("game_id", "game"), *_game_field_flags()],
            {"200": _json(_ref("GameInfo"), "The game, or null."), "422": INVALID},
        ),
        "/info/queue/size": _operation(
            "How many mods are waiting or downloading",
            "-1 when the queue cannot be counted.",
            "catalog",
            [],
            {"200": _json({"type": "integer", "minimum": -1}, "The queue's size.")},
        ),
        "/condition/mod/{ids_array}": _operation(
            "Conditions of some mods",
            "Only the mods the server has appear (a mod answered with 202 appears at once, "
            "condition 3).",
            "catalog",
            [_id_list_path("ids_array", "mod", ID_LIST_LIMIT)],
            {
                "200": _json(_ref("Conditions"), "`{mod id: condition}`."),
                "413": _error("`the size of the array is not correct` (error_id 1): 1 to 50 ids."),
                "422": INVALID,
            },
        ),
        "/statistics/delay": _operation(
            "Average processing delays, in ms",
            "Over the last 20 samples: `fast` (answered from the cache) and `full` (from the "
            "request to condition 1). 0 when there are no samples.",
            "statistics",
            [],
            {"200": _json(_ref("Delay"), "The averages.")},
        ),
        "/statistics/hour": _operation(
            "Counters per hour of one day",
            "Every type counted in each hour from start_hour to end_hour inclusive.",
            "statistics",
            [
                _query("select_date", _string(format="date"), "The day (UTC); default today."),
                _query(
                    "start_hour",
                    {"type": "integer", "minimum": 0, "maximum": 23, "default": 0},
                    "From this hour.",
                ),
                _query(
                    "end_hour",
                    {"type": "integer", "minimum": 0, "maximum": 23, "default": 23},
                    "To this hour.",
                ),
            ],
            {
                "200": _json({"type": "array", "items": _ref("HourRow")}, "The counters."),
                "409": _error("`conflicting request` (error_id 3): start_hour > end_hour."),
                "412": _error(
                    "`start_hour exits 24 hour format` (error_id 1) or `end_hour exits 24 "
                    "hour format` (error_id 2)."
                ),
                "422": INVALID,
            },
        ),
        "/statistics/day": _operation(
            "Counters per day",
            "Every type counted on each day from start_date to end_date inclusive.",
            "statistics",
            [
                _query(
                    "start_date", _string(format="date"), "First day; default end_date − 7 days."
                ),
                _query("end_date", _string(format="date"), "Last day; default today (UTC)."),
            ],
            {
                "200": _json({"type": "array", "items": _ref("DayRow")}, "The counters."),
                "409": _error("`conflicting request` (error_id 3): start_date > end_date."),
                "422": INVALID,
            },
        ),
        "/statistics/info/all": _operation(
            "Totals of the catalog",
            "",
            "statistics",
            [],
            {"200": _json(_ref("Summary"), "The totals.")},
        ),
        "/statistics/info/type_map": _operation(
            "Translations of the statistics types",
            "In the best language of `Accept-Language` among `ru` and `en`; `ru` otherwise.",
            "statistics",
            [
                {
                    "name": "Accept-Language",
                    "in": "header",
                    "required": False,
                    "schema": _string(),
                    "description": "e.g. `en-US,en;q=0.9,ru;q=0.8`",
                }
            ],
            {"200": _json(_ref("TypeMap"), "The translations.")},
        ),
    }


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
                {"name": "docs", "description": "This documentation."},
            ],
            "paths": _paths(),
            "components": {"schemas": _schemas()},
        }
    return copy.deepcopy(_DOCUMENT)
