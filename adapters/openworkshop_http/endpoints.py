"""The handlers: read the request into the core's query objects, ask the ``Workshop``, answer
with the body ``openworkshop.views`` builds. Errors are raised, and ``errors.py`` answers them.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any, Final
from urllib.parse import quote

import anyio
import attrs
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from openworkshop import ArchiveHandle, Queued, Workshop, views
from openworkshop.errors import ArchiveError, ModDamaged, StorageError, TooManyMods
from openworkshop.progress import Phase
from openworkshop.query import (
    GAME_ID,
    MOD_ID,
    CheckQuery,
    CollectionQuery,
    ConditionQuery,
    DayStatsQuery,
    EventsQuery,
    GameGenresQuery,
    GameInfoQuery,
    GameListQuery,
    HourStatsQuery,
    ModInfoQuery,
    ModListQuery,
    ModTagsQuery,
    PageQuery,
    PlanBody,
    PlanQuery,
    ProgressQuery,
    ResourcesQuery,
    read_path,
)
from openworkshop.service import CollectionQueued
from openworkshop_http.api import ENDPOINTS, STATISTICS_TYPES
from openworkshop_http.encoding import JSONResponse, dumps
from openworkshop_http.errors import POLL_AFTER, TooManyRequests
from openworkshop_http.kept import JSON_TYPE, AnswerCache
from openworkshop_http.language import choose_language
from openworkshop_http.ratelimit import ClientRateLimit
from openworkshop_http.responses import (
    ZIP,
    ArchiveFileResponse,
    ArchiveStreamResponse,
    archive_headers,
    etag_matches,
    parse_single_range,
    sends_first_byte,
)
from openworkshop_http.settings import HttpSettings

__all__ = ["Endpoints", "client_address", "query_params"]

EVENT_STREAM: Final = "text/event-stream"
MAX_CHECK_BODY: Final = 1 << 20
"""Bytes of a ``POST /check/mods`` body read at most (1,000 mods take about 100 KB)."""


def wants_stream(request: Request) -> bool:
    """Whether the client asked for Server-Sent Events (``Accept: text/event-stream``)."""
    accept = request.headers.get("accept", "")
    return any(part.split(";")[0].strip() == EVENT_STREAM for part in accept.split(","))


def sse_message(event: str, row: dict[str, Any], *, cursor: str | None = None) -> bytes:
    """One message of a ``text/event-stream``: its ``id`` (a cursor to resume after, when
    the stream has one), its ``event`` type and its JSON ``data``."""
    data = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    head = "" if cursor is None else f"id: {cursor}\n"
    return f"{head}event: {event}\ndata: {data}\n\n".encode()


def event_stream(messages: AsyncIterator[bytes]) -> StreamingResponse:
    """A ``text/event-stream`` answer, uncached and unbuffered by a proxy (nginx)."""
    return StreamingResponse(
        messages,
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


HEARTBEAT: Final = b": heartbeat\n\n"
_FINAL: Final = frozenset(p.value for p in Phase if p.final)


def query_params(request: Request) -> dict[str, list[str]]:
    """The query string as the core's query objects read it: each name with every value."""
    out: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        out.setdefault(name, []).append(value)
    return out


def accel_uri(prefix: str, key: str) -> str:
    """The internal URI nginx serves an archive at: ``prefix`` + the store's key, quoted."""
    return prefix.rstrip("/") + "/" + quote(key, safe="/")


def client_address(request: Request, trusted_proxies: frozenset[str]) -> str:
    """The client's address: the peer's, or behind a trusted proxy the last address in
    ``X-Forwarded-For`` that is not a trusted proxy's."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if peer not in trusted_proxies or not forwarded:
        return peer
    for hop in reversed(forwarded.split(",")):
        hop = hop.strip()
        if hop and hop not in trusted_proxies:
            return hop[:100]
    return peer


class Endpoints:
    """Every endpoint of the API, over one ``Workshop``."""

    def __init__(self, workshop: Workshop, settings: HttpSettings) -> None:
        self.workshop = workshop
        self.settings = settings
        self.limit = ClientRateLimit(settings.client_rate, workshop.clock.monotonic)
        self.trusted_proxies = frozenset(
            a.strip() for a in settings.trusted_proxies.split(",") if a.strip()
        )
        self.kept = AnswerCache(settings.answer_cache_mb << 20)
        """The kept answers (kept.py): filled here, sent by the ``KeptAnswers`` middleware."""
        self.counted_as = {e.handler: e.statistics for e in ENDPOINTS}

    # --- downloads ------------------------------------------------------------------------

    def _check_rate(self, request: Request) -> None:
        wait = self.limit.take(client_address(request, self.trusted_proxies))
        if wait is not None:
            raise TooManyRequests(wait, self.limit.per_minute)

    async def download_steam(self, request: Request) -> Response:
        mod_id = read_path(MOD_ID, request.path_params["mod_id"])
        self._check_rate(request)
        answer = await self.workshop.request_download(mod_id)
        if isinstance(answer, Queued | CollectionQueued):
            return JSONResponse(answer.body(), 202, headers={"Retry-After": str(POLL_AFTER)})
        return await self._archive(request, answer)

    async def download(self, request: Request) -> Response:
        mod_id = read_path(MOD_ID, request.path_params["mod_id"])
        return await self._archive(request, await self.workshop.cached(mod_id))

    async def update_steam(self, request: Request) -> Response:
        mod_id = read_path(MOD_ID, request.path_params["mod_id"])
        self._check_rate(request)
        await self.workshop.request_update(mod_id)
        return JSONResponse(views.update_queued(), 202, headers={"Retry-After": str(POLL_AFTER)})

    async def _archive(
        self, request: Request, handle: ArchiveHandle, *, again: bool = True
    ) -> Response:
        """Send an archive: 304 for a matching ``If-None-Match``; a hand-off to nginx; the
        local file; or a stream. An archive replaced by a newer version (or lost) between the
        lookup and the send is looked up once more."""
        headers = archive_headers(handle)
        if etag_matches(request.headers.get("if-none-match"), handle.etag):
            return Response(status_code=304, headers=headers)
        is_get = request.method != "HEAD"
        range_header = request.headers.get("range")
        if_range = request.headers.get("if-range")
        if if_range is not None and if_range.strip() != handle.etag:
            range_header = None
        count = BackgroundTask(self.workshop.sent, handle)

        if self.settings.accel_redirect and handle.path is not None:
            # nginx sends the file (answering Range itself, adding Accept-Ranges); it keeps
            # Content-Type, Content-Disposition and Cache-Control from this answer, and the
            # ETag through $upstream_http_etag (docs/deploy.md)
            prefix = self.settings.accel_redirect
            headers["X-Accel-Redirect"] = accel_uri(prefix, handle.archive.key)
            first = sends_first_byte(range_header, handle.archive.size)
            counted = count if is_get and first else None
            return Response(b"", media_type=ZIP, headers=headers, background=counted)

        if handle.path is not None:
            try:
                stat = await anyio.to_thread.run_sync(os.stat, handle.path)
            except FileNotFoundError:
                if not again:
                    raise ModDamaged() from None
                return await self._archive(
                    request, await self.workshop.cached(handle.mod.id), again=False
                )
            counted = count if is_get and sends_first_byte(range_header, stat.st_size) else None
            return ArchiveFileResponse(
                handle.path, media_type=ZIP, headers=headers, stat_result=stat, background=counted
            )

        byte_range = parse_single_range(range_header, handle.archive.size)
        try:
            source = await anyio.to_thread.run_sync(handle.open)
        except ArchiveError:
            if not again:
                raise ModDamaged() from None
            return await self._archive(
                request, await self.workshop.cached(handle.mod.id), again=False
            )
        first = byte_range is None or byte_range[0] == 0
        counted = count if is_get and first else None
        return ArchiveStreamResponse(
            source, handle.archive.size, headers=headers, byte_range=byte_range, background=counted
        )

    # --- catalog --------------------------------------------------------------------------

    async def list_mods(self, request: Request) -> Response:
        version = self.workshop.catalog_version()  # before any read (kept.py)
        query = ModListQuery.from_params(query_params(request))
        body = dumps(views.mod_list(await self.workshop.list_mods(query.criteria), query.fields))
        self.kept.put(AnswerCache.key(request.scope), version, body, self.counted_as["list_mods"])
        return Response(body, media_type=JSON_TYPE)

    async def list_games(self, request: Request) -> Response:
        query = GameListQuery.from_params(query_params(request))
        return JSONResponse(
            views.game_list(await self.workshop.list_games(query.criteria), query.fields)
        )

    async def list_tags(self, request: Request) -> Response:
        game_id = read_path(GAME_ID, request.path_params["game_id"])
        page = PageQuery.from_params(query_params(request))
        return JSONResponse(views.tag_list(await self.workshop.list_tags(game_id, page)))

    async def mod_tags(self, request: Request) -> Response:
        return await self._associations(request, ModTagsQuery, self.workshop.mod_tags)

    async def _associations(self, request: Request, read: Any, fetch: Any) -> Response:
        """``/list/tags/mods/{ids}`` and ``/list/genres/games/{ids}``: the query class that
        reads the ids in the path and the filter, and the use case that answers it."""
        query = read.from_params(request.path_params[read.path.name], query_params(request))
        return JSONResponse(views.associations(await fetch(query), query.only_ids))

    async def list_genres(self, request: Request) -> Response:
        page = PageQuery.from_params(query_params(request))
        return JSONResponse(views.genre_list(await self.workshop.list_genres(page)))

    async def game_genres(self, request: Request) -> Response:
        return await self._associations(request, GameGenresQuery, self.workshop.game_genres)

    async def list_resources(self, request: Request) -> Response:
        raw = request.path_params["mods_list_id"]
        query = ResourcesQuery.from_params(raw, query_params(request))
        return JSONResponse(views.resource_list(await self.workshop.list_resources(query)))

    async def mod_info(self, request: Request) -> Response:
        version = self.workshop.catalog_version()  # before any read (kept.py)
        query = ModInfoQuery.from_params(request.path_params["mod_id"], query_params(request))
        info = await self.workshop.mod_info(query)
        body = dumps(
            views.mod_info(
                info.mod,
                query.fields,
                dependencies=info.dependencies,
                game=info.game,
                with_game=query.game,
                failure=info.failure,
                progress=info.progress,
            )
        )
        # only a mod at rest: a queued or downloading one (or a failure) is not kept
        if info.mod is not None and info.mod.state.downloadable and info.failure is None:
            self.kept.put(
                AnswerCache.key(request.scope), version, body, self.counted_as["mod_info"]
            )
        return Response(body, media_type=JSON_TYPE)

    async def game_info(self, request: Request) -> Response:
        query = GameInfoQuery.from_params(request.path_params["game_id"], query_params(request))
        return JSONResponse(views.game_info(await self.workshop.game_info(query), query.fields))

    async def queue_size(self, request: Request) -> Response:
        try:
            size = await self.workshop.queue_size()
        except StorageError:
            size = -1  # the original's answer when the queue cannot be counted
        return JSONResponse(size)

    async def conditions(self, request: Request) -> Response:
        query = ConditionQuery.from_params(request.path_params["ids_array"], query_params(request))
        states = await self.workshop.conditions(query)
        return JSONResponse({str(mod_id): int(state) for mod_id, state in states.items()})

    # --- the launcher endpoints ------------------------------------------------------------

    async def plan(self, request: Request) -> Response:
        query = PlanQuery.from_params(request.path_params["ids_array"], query_params(request))
        self._check_rate(request)  # it may call Valve for mods the server does not know
        return JSONResponse(views.plan(await self.workshop.plan(query)))

    async def plan_body(self, request: Request) -> Response:
        query = PlanBody.from_json(await request.body(), query_params(request))
        self._check_rate(request)
        return JSONResponse(views.plan(await self.workshop.plan(query)))

    async def collection_info(self, request: Request) -> Response:
        raw = request.path_params["collection_id"]
        query = CollectionQuery.from_params(raw, query_params(request))
        self._check_rate(request)
        return JSONResponse(views.collection_info(await self.workshop.collection_info(query)))

    async def events(self, request: Request) -> Response:
        params = query_params(request)
        stream = wants_stream(request)
        last_seen = request.headers.get("last-event-id")
        if stream and last_seen and "after" not in params:
            params = {**params, "after": [last_seen]}
        query = EventsQuery.from_params(params)
        page = await self.workshop.events(query)  # a cursor gone is 410 before any stream
        if not stream:
            return JSONResponse(views.event_page(page.events, page.cursor, page.more))
        return event_stream(self._tail(query, page))

    async def _tail(self, query: EventsQuery, page: Any) -> AsyncIterator[bytes]:
        """Every event after the cursor, then each new one, read every ``events_poll``
        seconds; a heartbeat after ``events_heartbeat`` quiet ones. Ends when the client
        goes away (the server cancels it)."""
        yield b"retry: 1000\n\n"
        quiet_since = time.monotonic()
        while True:
            for event in page.events:
                row = views.event_row(event)
                yield sse_message(row["type"], row, cursor=row["id"])
            if page.events:
                quiet_since = time.monotonic()
            if not page.more:
                await asyncio.sleep(self.settings.events_poll)
                if time.monotonic() - quiet_since >= self.settings.events_heartbeat:
                    yield HEARTBEAT
                    quiet_since = time.monotonic()
            page = await self.workshop.events(attrs.evolve(query, after=page.next))

    async def progress(self, request: Request) -> Response:
        query = ProgressQuery.from_params(request.path_params["ids_array"], query_params(request))
        found = await self.workshop.progress(query)
        if not wants_stream(request):
            return JSONResponse(views.progress_map(found))
        return event_stream(self._follow(query, found))

    async def _follow(self, query: ProgressQuery, found: dict[int, Any]) -> AsyncIterator[bytes]:
        """Each mod's progress at once, then at each change, read every ``progress_poll``
        seconds; a heartbeat after ``progress_heartbeat`` quiet ones; the end once every mod
        is ready, failed or missing (or when the client goes away: the server cancels it)."""
        yield b"retry: 1000\n\n"
        sent: dict[int, dict[str, Any]] = {}
        quiet_since = time.monotonic()
        while True:
            for mod_id, progress in found.items():
                row = views.progress_row(progress)
                if sent.get(mod_id) != row:
                    sent[mod_id] = row
                    quiet_since = time.monotonic()
                    yield sse_message("progress", row)
            going = tuple(i for i in query.mod_ids if sent[i]["phase"] not in _FINAL)
            if not going:
                return
            await asyncio.sleep(self.settings.progress_poll)
            if time.monotonic() - quiet_since >= self.settings.progress_heartbeat:
                yield HEARTBEAT
                quiet_since = time.monotonic()
            found = await self.workshop.progress(attrs.evolve(query, mod_ids=going))

    async def check_mods(self, request: Request) -> Response:
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_CHECK_BODY:
                raise TooManyMods(details=[f"the body is larger than {MAX_CHECK_BODY} bytes"])
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, RecursionError):
            body = None
        query = CheckQuery.from_request(query_params(request), body)
        if query.refresh:  # may call Valve (batched, within the cooldown): rate-limited
            self._check_rate(request)
        return JSONResponse(views.mod_checks(await self.workshop.check_mods(query)))

    # --- statistics -------------------------------------------------------------------------

    async def delay(self, request: Request) -> Response:
        return JSONResponse(await self.workshop.delay_stats())

    async def hour(self, request: Request) -> Response:
        query = HourStatsQuery.from_params(query_params(request))
        return JSONResponse(views.stat_hours(await self.workshop.hour_stats(query)))

    async def day(self, request: Request) -> Response:
        query = DayStatsQuery.from_params(query_params(request))
        return JSONResponse(views.stat_days(await self.workshop.day_stats(query)))

    async def summary(self, request: Request) -> Response:
        return JSONResponse(views.catalog_summary(await self.workshop.summary()))

    async def type_map(self, request: Request) -> Response:
        language = choose_language(request.headers.get("accept-language"))
        result = self.workshop.type_map(language, STATISTICS_TYPES)
        return JSONResponse({"language": language, "result": result})

    async def root(self, request: Request) -> Response:
        return RedirectResponse(request.scope.get("root_path", "") + "/docs", status_code=307)
