"""Every endpoint of the API, each declared once: its path, handler, statistics type, the
parameters class that reads its request, its success responses and the errors it answers.

``app.py`` routes from this table, ``openapi.py`` writes the OpenAPI document from it (the
parameters from the ``Param`` declarations of ``openworkshop.query``; each error's status
from ``errors.STATUS``, its text from the error class's ``message`` and ``error_id``), and
``docs/http.md``'s parameter tables are generated from it (``reference.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from openworkshop import query
from openworkshop.errors import (
    AlreadyProcessing,
    AlreadyUpToDate,
    ApiError,
    CheckedRecently,
    ConflictingRequest,
    CursorExpired,
    EndHourOutOfRange,
    ListSizeOutOfRange,
    ModDamaged,
    ModNotFound,
    ModNotOnServer,
    ModNotOnSteam,
    ModStillLoading,
    NotReady,
    NotUpdatable,
    PlanTooLarge,
    StartHourOutOfRange,
    TooManyMods,
)
from openworkshop.query import CHECK_LIMIT, Param
from openworkshop_http.errors import SteamUnavailable, TooManyRequests

__all__ = ["ENDPOINTS", "STATISTICS_TYPES", "Body", "Endpoint", "Header", "Ok"]

JSON = dict[str, Any]


@attrs.frozen(kw_only=True)
class Ok:
    """A success answer: a JSON body of ``schema`` (a schema, or the name of one of
    ``openapi.py``'s components), or an archive (``archive=True``), or a redirect."""

    description: str
    schema: JSON | str | None = None
    retry_after: bool = False
    """Sent with ``Retry-After`` (a queued mod: when to ask again)."""
    stream: str = ""
    """Also answered as Server-Sent Events (``Accept: text/event-stream``): what they are."""


@attrs.frozen(kw_only=True)
class Body:
    """The JSON request body an endpoint reads (a schema, or the name of a component)."""

    description: str
    schema: JSON | str


@attrs.frozen(kw_only=True)
class Header:
    """A request header the endpoint reads."""

    name: str
    help: str


RANGE: Final = Header(
    name="Range",
    help="`bytes=start-end`: a part of the archive (206). Several ranges "
    "(`bytes=0-99,200-299`) are one `multipart/byteranges` answer (206), or the whole "
    "archive (200) from a store with no local file. A malformed range is ignored; one "
    "that starts past the end is 416.",
)
IF_NONE_MATCH: Final = Header(
    name="If-None-Match", help="The ETag of a copy the client has: 304 if it is still current."
)
ACCEPT_LANGUAGE: Final = Header(name="Accept-Language", help="e.g. `en-US,en;q=0.9,ru;q=0.8`")


@attrs.frozen(kw_only=True)
class Endpoint:
    """One endpoint of the original Open Workshop API (served at its path with and without a
    trailing slash)."""

    path: str
    method: str = "GET"
    """``GET`` (and ``HEAD``, unless ``action``), or ``POST`` with a JSON body: the
    parameters class's ``body`` parameters, or ``body``."""
    handler: str
    """The name of the ``Endpoints`` method that answers it."""
    body: Body | None = None
    """A ``POST``'s JSON body when its fields are not parameters of the parameters class
    (declared as ``body`` parameters, they make the schema themselves)."""
    summary: str
    description: str = ""
    tag: str
    params: type | None = None
    """The ``openworkshop.query`` class that reads its parameters (its ``Param``s)."""
    path_param: Param | None = None
    """The path's parameter, when no parameters class declares it."""
    headers: tuple[Header, ...] = ()
    ok: Mapping[int, Ok] = attrs.field(factory=dict)
    archive: bool = False
    """Answers with an archive: 200, 206, 304 and 416 as ``responses.py`` sends them."""
    redirect: bool = False
    errors: Mapping[type[ApiError], str] = attrs.field(factory=dict)
    """The errors it answers beyond those of its parameters, each with when."""
    launcher: bool = False
    """Not in the original Open Workshop API: one of the endpoints added for launchers."""
    action: bool = False
    """May queue work or call Steam: GET only (a HEAD must not do that as a side effect)."""
    statistics: str = attrs.field(
        default=attrs.Factory(lambda self: _statistics_type(self.path), takes_self=True)
    )
    """The statistics type each request is counted under: the original's, the path up to
    its first parameter, with a trailing slash (``/list/tags/{game_id}``: ``/list/tags/``)."""

    @property
    def parameters(self) -> tuple[Param, ...]:
        """Every parameter, the path's first."""
        own = (self.path_param,) if self.path_param is not None else ()
        return own + (query.parameters(self.params) if self.params is not None else ())


def _statistics_type(path: str) -> str:
    return path.split("{")[0].rstrip("/") + "/"


_RATE_LIMITED: Final = "the per-client limit on the endpoints that can call Valve"

ENDPOINTS: Final = (
    Endpoint(
        path="/",
        handler="root",
        summary="Redirect to /docs",
        tag="docs",
        redirect=True,
    ),
    Endpoint(
        path="/download/steam/{mod_id}",
        handler="download_steam",
        summary="Download a mod, asking Steam for it if the server does not have it",
        description="The archive if the server has the mod; otherwise the mod is queued (202) "
        "and the client polls `/info/mod/{mod_id}` or `/condition/mod/[...]` until its "
        "condition is 1 or 0. A cached mod last checked more than the update cooldown ago is "
        "compared with Steam and queued again if Steam has a newer version (`updating: true`). "
        "A Steam collection the server knows (from `/plan`, `/info/collection` or an earlier "
        "request) is never downloaded itself: every item of it the server lacks is queued, "
        "and the 202 lists them (`collection`, `items`, `queued`).",
        tag="download",
        path_param=query.MOD_ID,
        headers=(RANGE, IF_NONE_MATCH),
        archive=True,
        ok={
            202: Ok(
                schema="Queued",
                description="`request added to queue` (error_id 0).",
                retry_after=True,
            )
        },
        errors={
            AlreadyProcessing: "the mod is queued or downloading",
            ModNotFound: "with the `reason`",
            TooManyRequests: _RATE_LIMITED,
            NotReady: "it cannot download at all (no steamcmd)",
        },
        action=True,
    ),
    Endpoint(
        path="/download/{mod_id}",
        handler="download",
        summary="Download a mod the server has",
        description="The fastest download; never asks Steam. During an update the previous "
        "version is served until the new one replaces it.",
        tag="download",
        path_param=query.MOD_ID,
        headers=(RANGE, IF_NONE_MATCH),
        archive=True,
        errors={
            ModStillLoading: "",
            ModNotOnServer: "",
            ModDamaged: "its archive was missing and its record was removed",
        },
    ),
    Endpoint(
        path="/update/steam/{mod_id}",
        handler="update_steam",
        summary="Check Steam for a newer version of a mod",
        description="For a mod in condition 0. The check is made at most once per cooldown "
        "(3 hours).",
        tag="download",
        path_param=query.MOD_ID,
        ok={
            202: Ok(
                schema="UpdateQueued", description="The newer version is queued.", retry_after=True
            )
        },
        errors={
            AlreadyUpToDate: "",
            NotUpdatable: "not in condition 0 here",
            ModNotOnSteam: "",
            CheckedRecently: "",
            TooManyRequests: _RATE_LIMITED,
            SteamUnavailable: "Steam could not answer",
        },
        action=True,
    ),
    Endpoint(
        path="/list/mods/",
        handler="list_mods",
        summary="List the mods the server has",
        description="Mods in condition 1 or 0, filtered, sorted and paged. `offeset` (the "
        "README's spelling) and `offset` carry the same number.",
        tag="catalog",
        params=query.ModListQuery,
        ok={200: Ok(schema="ModPage", description="One page of mods.")},
    ),
    Endpoint(
        path="/list/games/",
        handler="list_games",
        summary="List the games the server has mods for",
        description="Filtered, sorted and paged.",
        tag="catalog",
        params=query.GameListQuery,
        ok={200: Ok(schema="GamePage", description="One page of games.")},
    ),
    Endpoint(
        path="/list/tags/{game_id}",
        handler="list_tags",
        summary="List the tags of a game's mods",
        description="Paged.",
        tag="catalog",
        path_param=query.GAME_ID,
        params=query.PageQuery,
        ok={200: Ok(schema="NamedPage", description="One page of tags.")},
    ),
    Endpoint(
        path="/list/tags/mods/{mods_ids_list}",
        handler="mod_tags",
        summary="Tags of each of some mods",
        description="Only the mods that have tags appear.",
        tag="catalog",
        params=query.ModTagsQuery,
        ok={200: Ok(schema="Associations", description="`{mod id: [tags]}`.")},
    ),
    Endpoint(
        path="/list/genres",
        handler="list_genres",
        summary="List the genres of games",
        description="Paged.",
        tag="catalog",
        params=query.PageQuery,
        ok={200: Ok(schema="NamedPage", description="One page of genres.")},
    ),
    Endpoint(
        path="/list/genres/games/{games_ids_list}",
        handler="game_genres",
        summary="Genres of each of some games",
        description="Only the games that have genres appear.",
        tag="catalog",
        params=query.GameGenresQuery,
        ok={200: Ok(schema="Associations", description="`{game id: [genres]}`.")},
    ),
    Endpoint(
        path="/list/resources_mods/{mods_list_id}",
        handler="list_resources",
        summary="Logos and screenshots of some mods",
        description="Paged.",
        tag="catalog",
        params=query.ResourcesQuery,
        ok={200: Ok(schema="ResourcePage", description="One page of resources.")},
        errors={ListSizeOutOfRange: "1 to 50 mods"},
    ),
    Endpoint(
        path="/info/mod/{mod_id}",
        handler="mod_info",
        summary="A mod and its condition",
        description="`result` is null when the server does not have the mod; "
        "`unsuccessful_attempts` and `failure` then tell why a request for it failed.",
        tag="catalog",
        params=query.ModInfoQuery,
        ok={200: Ok(schema="ModInfo", description="The mod, or null.")},
    ),
    Endpoint(
        path="/info/game/{game_id}",
        handler="game_info",
        summary="A game",
        description="`result` is null when the server does not know the game.",
        tag="catalog",
        params=query.GameInfoQuery,
        ok={200: Ok(schema="GameInfo", description="The game, or null.")},
    ),
    Endpoint(
        path="/info/queue/size",
        handler="queue_size",
        summary="How many mods are waiting or downloading",
        description="-1 when the queue cannot be counted.",
        tag="catalog",
        ok={200: Ok(schema={"type": "integer", "minimum": -1}, description="The queue's size.")},
    ),
    Endpoint(
        path="/condition/mod/{ids_array}",
        handler="conditions",
        summary="Conditions of some mods",
        description="Only the mods the server has appear (a mod answered with 202 appears at "
        "once, condition 3).",
        tag="catalog",
        params=query.ConditionQuery,
        ok={200: Ok(schema="Conditions", description="`{mod id: condition}`.")},
        errors={ListSizeOutOfRange: "1 to 50 ids"},
    ),
    Endpoint(
        path="/plan/{ids_array}",
        handler="plan",
        summary="An install plan: the mods asked for and everything they require",
        description="The closure of the mods (or collections: their items) under their "
        "required items, recursively, ordered so that every dependency comes before what "
        "requires it. Cycles are reported (`cycles`) and broken by leaving out the "
        "requirement that closes each. What the server has parsed, and what Steam said within "
        "the update cooldown, costs Valve nothing; anything else is looked up in batched "
        "calls, one per level. Without a Web API key a mod's required items are known once "
        "the server has its page: such entries have `dependencies: null` and `complete` is "
        "false (ask again once they are in condition 0). Our addition, for launchers.",
        tag="launcher",
        params=query.PlanQuery,
        ok={200: Ok(schema="Plan", description="The plan, dependencies first.")},
        errors={
            PlanTooLarge: "",
            TooManyRequests: _RATE_LIMITED,
            NotReady: "`queue=true`, and it cannot download at all (no steamcmd)",
            SteamUnavailable: "Steam could not answer for mods the server does not know",
        },
        action=True,
        launcher=True,
    ),
    Endpoint(
        path="/plan",
        method="POST",
        handler="plan_body",
        summary="An install plan, for long lists: the ids in a JSON body",
        description='The same as `GET /plan/{ids_array}`, with the body `{"ids": [...], '
        '"queue": false}`. Our addition, for launchers.',
        tag="launcher",
        params=query.PlanBody,
        ok={200: Ok(schema="Plan", description="The plan, dependencies first.")},
        errors={
            PlanTooLarge: "",
            TooManyRequests: _RATE_LIMITED,
            NotReady: "`queue: true`, and it cannot download at all (no steamcmd)",
            SteamUnavailable: "Steam could not answer for mods the server does not know",
        },
        action=True,
        launcher=True,
        statistics="/plan/",
    ),
    Endpoint(
        path="/info/collection/{collection_id}",
        handler="collection_info",
        summary="A Steam collection's items and their conditions",
        description="`result` is null when Steam says the id is not a (visible) collection. "
        "What Steam said is kept for the update cooldown: asking again costs Valve nothing. "
        "`/download/steam/{collection_id}` queues its items. Our addition, for launchers.",
        tag="launcher",
        params=query.CollectionQuery,
        ok={200: Ok(schema="CollectionInfo", description="The collection, or null.")},
        errors={TooManyRequests: _RATE_LIMITED, SteamUnavailable: "Steam could not answer"},
        launcher=True,
    ),
    Endpoint(
        path="/statistics/delay",
        handler="delay",
        summary="Average processing delays, in ms",
        description="Over the last 20 samples: `fast` (answered from the cache) and `full` "
        "(from the request to condition 1). 0 when there are no samples.",
        tag="statistics",
        ok={200: Ok(schema="Delay", description="The averages.")},
    ),
    Endpoint(
        path="/statistics/hour",
        handler="hour",
        summary="Counters per hour of one day",
        description="Every type counted in each hour from start_hour to end_hour inclusive.",
        tag="statistics",
        params=query.HourStatsQuery,
        ok={200: Ok(schema={"type": "array", "items": "HourRow"}, description="The counters.")},
        errors={
            ConflictingRequest: "start_hour > end_hour",
            StartHourOutOfRange: "",
            EndHourOutOfRange: "",
        },
    ),
    Endpoint(
        path="/statistics/day",
        handler="day",
        summary="Counters per day",
        description="Every type counted on each day from start_date to end_date inclusive.",
        tag="statistics",
        params=query.DayStatsQuery,
        ok={200: Ok(schema={"type": "array", "items": "DayRow"}, description="The counters.")},
        errors={ConflictingRequest: "start_date > end_date"},
    ),
    Endpoint(
        path="/statistics/info/all",
        handler="summary",
        summary="Totals of the catalog",
        tag="statistics",
        ok={200: Ok(schema="Summary", description="The totals.")},
    ),
    Endpoint(
        path="/statistics/info/type_map",
        handler="type_map",
        summary="Translations of the statistics types",
        description="In the best language of `Accept-Language` among `ru` and `en`; `ru` "
        "otherwise.",
        tag="statistics",
        headers=(ACCEPT_LANGUAGE,),
        ok={200: Ok(schema="TypeMap", description="The translations.")},
    ),
    Endpoint(
        path="/events",
        handler="events",
        summary="What changed on the server, in order",
        description="The events feed: `mod_added` (a mod's first archive), `mod_updated` (a "
        "new version's archive: its sha256, size and date_update), `mod_removed` (it left the "
        "catalog with a failure: `reason`), `mod_damaged` (its archive vanished) and "
        "`game_added`, oldest first, each with its cursor (`id`). Keep `next` and ask again "
        "with `after=next`: one request per interval keeps a copy of the catalog in sync. "
        "Events are kept for the retention window (`OPENWORKSHOP_EVENT_RETENTION`, 7 days); "
        "a cursor older than that is 410: read the catalog again from `/list/mods/`. With "
        "`Accept: text/event-stream` the answer is a stream that stays open: each event as "
        "it happens (`id:` its cursor, so a reconnecting client's `Last-Event-ID` resumes "
        "after it; `event:` its type; `data:` the event as JSON), and a `: heartbeat` comment "
        "line when nothing happened for a while.",
        tag="launcher",
        params=query.EventsQuery,
        headers=(
            Header(
                name="Last-Event-ID",
                help="With `text/event-stream`: the `id` of the last event received; the "
                "stream resumes after it (as `after` does; `after` wins when both are sent).",
            ),
        ),
        ok={
            200: Ok(
                schema="EventPage",
                description="The events after the cursor, the cursor to continue from "
                "(`next`) and whether more are waiting (`more`).",
                stream="`text/event-stream`: every event after the cursor, then each one as "
                "it happens, until the client goes away.",
            )
        },
        errors={CursorExpired: "the cursor is older than the events kept"},
        launcher=True,
    ),
    Endpoint(
        path="/progress/{ids_array}",
        handler="progress",
        summary="Live progress of some mods, as Server-Sent Events",
        description="Where each mod is on its way to the catalog, as `/info/mod`'s "
        "`progress` gives it: `queued` with its `position`, `downloading` with the bytes "
        "steamcmd has written (`done`) of the size Steam gives (`total`), `packing` with "
        "the bytes packed of the files' size, `parsing` (the archive can be downloaded), "
        "then `ready`, `failed` (with the failure's `reason`) or `missing` (the server "
        "neither has nor fetches it: ask `/download/steam/{mod_id}` first); `eta` is the "
        "seconds the rest of the phase takes at its rate so far. With `Accept: "
        "text/event-stream` the answer is a stream: an event for each mod at once, then one "
        "each time a mod's progress changes (read every `OPENWORKSHOP_PROGRESS_POLL` "
        "seconds, from storage: the worker may be another process), a `: heartbeat` comment "
        "when nothing changed for a while, and the end of the stream once every mod listed "
        "is `ready`, `failed` or `missing`. Without it, the progress of each mod now, as "
        "JSON. Asking costs Valve nothing. Our addition, for launchers.",
        tag="launcher",
        params=query.ProgressQuery,
        ok={
            200: Ok(
                schema="ProgressMap",
                description="`{mod id: progress}` for every id asked for.",
                stream="`text/event-stream`: `event: progress`, `data:` a mod's progress "
                "with its `id`, for each mod at once and at each change, until every mod "
                "is `ready`, `failed` or `missing`.",
            )
        },
        errors={ListSizeOutOfRange: "1 to 50 ids"},
        launcher=True,
    ),
    Endpoint(
        path="/check/mods",
        handler="check_mods",
        method="POST",
        summary="Which of a client's mods have a newer version on the server",
        description=f"Up to {CHECK_LIMIT:,} mods in one request, answered from the catalog "
        "alone (never a call to Valve): for each id, `current` (the client's version is the "
        "server's archive), `outdated` (with the server's `sha256`, `size` and "
        "`date_update`), `missing` (the server has no archive of it) or `removed` (the "
        "server knows it is gone: refused by Steam for good, removed or damaged; with the "
        "`reason`). With `refresh=true`, each listed mod last compared with Steam more than "
        "the update cooldown (3 hours) ago gets an update check (batched, as "
        "`/download/steam` makes them; `checking: true` in its answer): a newer version is "
        "queued, and a later check or the events feed shows it.",
        tag="launcher",
        params=query.CheckQuery,
        body=Body(
            description="A JSON object: each mod id (a string) with the version the client "
            "has: the sha256 of its archive (64 hex digits, the download's ETag) or its "
            "`date_update` (`YYYY-MM-DD HH:MM:SS` as `/info/mod` gives it, or ISO 8601).",
            schema="CheckRequest",
        ),
        ok={200: Ok(schema="CheckAnswer", description="`{mod id: answer}` for every id sent.")},
        errors={
            TooManyMods: f"more than {CHECK_LIMIT:,} mods",
            TooManyRequests: "with `refresh=true`: " + _RATE_LIMITED,
        },
        launcher=True,
    ),
)
"""Every endpoint: those of the original Open Workshop API, then the launchers' (``launcher``)."""

STATISTICS_TYPES: Final = tuple(dict.fromkeys(endpoint.statistics for endpoint in ENDPOINTS))
"""One counter per endpoint (the original's names, with a trailing slash); ``GET`` and
``POST /plan`` share theirs."""
