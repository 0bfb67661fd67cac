"""``create_app``: the Starlette application over one ``Workshop``."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openworkshop import Workshop
from openworkshop.errors import NotReady
from openworkshop_http.api import ENDPOINTS, STATISTICS_TYPES
from openworkshop_http.cors import CORSHeaders
from openworkshop_http.docs import STATIC_PREFIX, docs_page, openapi_endpoint, swagger_assets
from openworkshop_http.endpoints import Endpoints
from openworkshop_http.errors import CORS_HEADERS, HttpError, error_response, exception_handlers
from openworkshop_http.kept import AnswerCache
from openworkshop_http.language import choose_language
from openworkshop_http.openapi import openapi_document
from openworkshop_http.settings import HttpSettings
from openworkshop_web import PREFIX as WEB_PREFIX
from openworkshop_web import web_routes

__all__ = ["ENDPOINTS", "AccessLog", "OpenWorkshopApp", "create_app", "downloads_off"]

access_log = logging.getLogger("openworkshop.access")

Handler = Callable[[Request], Awaitable[Response]]


def _spellings(path: str) -> list[str]:
    """A path with and without its trailing slash (api.md: both, no redirect)."""
    if path == "/":
        return [path]
    bare = path.rstrip("/")
    return [bare, bare + "/"]


def _get_only(handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        if request.method != "GET":
            raise HTTPException(405, headers={"Allow": "GET"})
        return await handler(request)

    endpoint.__name__ = handler.__name__
    return endpoint


def _counted(workshop: Workshop, name: str, handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        await workshop.count_request(name)
        return await handler(request)

    endpoint.__name__ = handler.__name__
    return endpoint


def routes(endpoints: Endpoints) -> list[BaseRoute]:
    workshop = endpoints.workshop
    out: list[BaseRoute] = []
    for endpoint in ENDPOINTS:
        handler = _counted(workshop, endpoint.statistics, getattr(endpoints, endpoint.handler))
        if endpoint.action and endpoint.method == "GET":
            handler = _get_only(handler)  # a HEAD (Starlette adds one to GETs) must not queue
        for spelling in _spellings(endpoint.path):
            out.append(Route(spelling, handler, methods=[endpoint.method]))
    openapi = openapi_endpoint(openapi_document())
    out += [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs_page, methods=["GET"]),
        Route("/docs/", docs_page, methods=["GET"]),
        Mount(STATIC_PREFIX, app=swagger_assets()),
    ]
    # the web pages (docs/web.md): not endpoints of the original API, so not counted

    def keep_page(request: Request, version: Hashable | None, page: Response) -> None:
        key = AnswerCache.key(request.scope, _page_language(request.scope))
        headers = [(k, v) for k, v in page.raw_headers if k != b"content-length"]
        endpoints.kept.put(key, version, bytes(page.body), None, headers)

    out += web_routes(
        workshop,
        endpoints._check_rate,
        language=choose_language,
        request_types=STATISTICS_TYPES,
        keep=keep_page,
    )
    return out


def _page_language(scope: Scope) -> str:
    """A page's language, as the pages choose it (``Accept-Language``): part of its key."""
    for name, value in scope["headers"]:
        if name == b"accept-language":
            return choose_language(value.decode("latin-1"))
    return choose_language(None)


def downloads_off(steamcmd: str | None) -> str:
    """Why ``/download/steam/`` answers 503: the one text for the start-up log and the body
    (``steamcmd``: the executable the Steam adapter looked for, when known)."""
    named = "steamcmd" if steamcmd is None else f"steamcmd ({steamcmd!r})"
    return (
        f"downloads are off: {named} was not found; install it "
        "(docs/deploy.md) or set OPENWORKSHOP_STEAMCMD to its path. Mods already cached "
        "are still served."
    )


class DownloadsOff(HttpError, NotReady):
    """``NotReady`` with the reason in its ``details``."""


class AccessLog:
    """One line per request on the ``openworkshop.access`` logger (INFO): client, method,
    path and query, status, bytes of body sent and milliseconds until the last byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, sent = 0, 0

        async def counting(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            log_access(scope, status, sent, started)


def log_access(scope: Scope, status: int, sent: int, started: float) -> None:
    """The access log's line for one request (``started``: ``time.perf_counter()``)."""
    client = scope.get("client") or ("-", 0)
    query = scope.get("query_string", b"").decode("latin-1")
    target = scope["path"] + (f"?{query}" if query else "")
    access_log.info(
        '%s "%s %s" %s %d %.1fms',
        client[0],
        scope["method"],
        target[:2000],
        status or "-",
        sent,
        (time.perf_counter() - started) * 1000,
    )


_CORS: Final = [(k.lower().encode(), v.encode()) for k, v in CORS_HEADERS.items()]


class OpenWorkshopApp(Starlette):
    """The Starlette app, which sends a kept answer (``kept.py``) ahead of its middleware and
    routing: counted in the statistics, logged and with the CORS headers as any answer is."""

    kept: AnswerCache | None = None
    workshop: Workshop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kept, workshop = self.kept, self.workshop
        if (
            kept is not None
            and workshop is not None
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and len(kept)
        ):
            variant = _page_language(scope) if scope["path"].startswith(WEB_PREFIX) else ""
            hit = kept.get(AnswerCache.key(scope, variant), workshop.catalog_version())
            if hit is not None:
                started = time.perf_counter()
                body, counted_as, kept_headers = hit
                if counted_as is not None:  # the pages are not counted
                    await workshop.count_request(counted_as)
                headers = [(b"content-length", b"%d" % len(body)), *kept_headers, *_CORS]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                if access_log.isEnabledFor(logging.INFO):
                    log_access(scope, 200, len(body), started)
                return
        await super().__call__(scope, receive, send)


def create_app(
    workshop: Workshop,
    settings: HttpSettings,
    *,
    steamcmd: str | None = None,
    manage_lifespan: bool = True,
) -> Starlette:
    """The HTTP API over ``workshop``.

    ``steamcmd`` is the executable the Steam source looks for, named when downloads are off.
    With ``manage_lifespan`` (the default) the app starts the workshop when the server starts
    and stops it when the server stops; pass ``False`` when the caller runs it already.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_lifespan:
            await workshop.start()
        try:
            yield
        finally:
            if manage_lifespan:
                await workshop.stop()

    async def not_ready(request: Request, exc: Exception) -> Response:
        return error_response(DownloadsOff(details=[downloads_off(steamcmd)]))

    handlers = {**exception_handlers(), NotReady: not_ready}
    endpoints = Endpoints(workshop, settings)
    app = OpenWorkshopApp(
        routes=routes(endpoints),
        middleware=[
            Middleware(AccessLog),
            Middleware(CORSHeaders),
        ],
        exception_handlers=handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.workshop = workshop
    app.state.settings = settings
    app.state.kept = app.kept = endpoints.kept  # the kept answers (kept.py)
    app.workshop = workshop
    return app
