"""The one table from the core's error types to HTTP status codes, and the error responses.

Every error body has the original's shape ``{"message": ..., "error_id": ...}``; every 4xx and 5xx
adds a ``"details"`` list (empty when there is nothing to add), so a client needs one parser.
Errors the original API does not define (an unknown path, a wrong method, the per-client rate limit,
Steam being unreachable, a storage that cannot write now, a bug) carry the HTTP status as their
``error_id``: it cannot collide with the original's ids, which are all below 5.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Final, TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from openworkshop.errors import (
    AlreadyProcessing,
    AlreadyUpToDate,
    ApiError,
    CheckedRecently,
    ConflictingRequest,
    CursorExpired,
    DetailedError,
    EndHourOutOfRange,
    FilterTooComplex,
    InvalidParameter,
    ListSizeOutOfRange,
    ModDamaged,
    ModNotFound,
    ModNotOnServer,
    ModNotOnSteam,
    ModStillLoading,
    NotReady,
    NotUpdatable,
    PageSizeOutOfRange,
    PlanTooLarge,
    StartHourOutOfRange,
    StorageError,
    StorageUnavailable,
    TooManyMods,
    UpstreamError,
)
from openworkshop_http.encoding import JSONResponse

__all__ = [
    "CORS_HEADERS",
    "RETRY_AFTER",
    "STATUS",
    "HttpError",
    "InternalError",
    "MethodNotAllowed",
    "RangeNotSatisfiable",
    "RouteNotFound",
    "SteamUnavailable",
    "StorageBusy",
    "TooManyRequests",
    "error_response",
    "exception_handlers",
]

log = logging.getLogger("openworkshop.http")

T = TypeVar("T")

CORS_HEADERS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Type,Content-Disposition",
}
"""On every response (api.md, decision 9)."""

POLL_AFTER: Final = 1
"""Seconds a client should wait before asking again about a mod in the queue."""
NOT_READY_RETRY: Final = 30
UPSTREAM_RETRY: Final = 60
STORAGE_RETRY: Final = 30
"""Seconds before asking again when the storage cannot write (a full disk, a locked file)."""


# --- errors only the HTTP layer knows ---------------------------------------------------


class HttpError(DetailedError):
    """An error of the HTTP layer, with the ``details`` it names (every one is a 4xx or 5xx,
    so its body always carries them: :func:`error_response`)."""


class RouteNotFound(HttpError, LookupError):
    """No endpoint at this path."""

    message = "unknown path"
    error_id = 404
    when = "no such endpoint"


class MethodNotAllowed(HttpError):
    """The path exists, the method does not."""

    message = "method not allowed"
    error_id = 405
    when = "a method the endpoint does not take (GET or HEAD; POST for `/check/mods`); `Allow` names the methods"


class TooManyRequests(HttpError):
    """A client asked an endpoint that can call Valve more often than ``client_rate``."""

    message = "too many requests"
    error_id = 429
    when = "the per-client limit on `/download/steam`, `/update/steam` and `POST /check/mods?refresh=true`"

    def __init__(self, retry_after: float, per_minute: int) -> None:
        super().__init__(
            details=[
                f"at most {per_minute} requests a minute to /download/steam/, "
                "/update/steam/ and /check/mods?refresh=true from one client"
            ]
        )
        self.retry_after = retry_after


class RangeNotSatisfiable(HttpError):
    """A ``Range`` that starts past the end of the archive."""

    message = "range not satisfiable"
    error_id = 416
    when = "a `Range` starting past the end of the archive; `Content-Range` gives the size"

    def __init__(self, size: int) -> None:
        super().__init__(details=[f"the archive has {size} bytes"])
        self.size = size


class SteamUnavailable(HttpError):
    """Steam could not answer a request that needs it (``/update/steam/{id}``)."""

    message = "steam is not available, try again later"
    error_id = 503
    when = "`/update/steam` while Steam cannot answer"


class StorageBusy(HttpError):
    """The storage cannot take a write now (a full disk, a locked file): nothing was lost,
    try again later."""

    message = "the server cannot store data now, try again later"
    error_id = 503
    when = "any request that must write while the database's disk is full (SQLITE_FULL) or its file is locked or failing; nothing counted is lost"


class InternalError(HttpError):
    """A bug: never expected, always logged."""

    message = "internal server error"
    error_id = 500
    when = "a bug, or a damaged database file (logged; no traceback in the answer)"


STATUS: Final[dict[type[BaseException], int]] = {
    # /download/steam/{id}
    NotReady: 503,
    ModNotFound: 404,
    AlreadyProcessing: 202,
    # /download/{id}
    ModNotOnServer: 404,
    ModDamaged: 404,
    ModStillLoading: 202,
    # /update/steam/{id}
    NotUpdatable: 404,
    CheckedRecently: 425,
    ModNotOnSteam: 404,
    AlreadyUpToDate: 208,
    # parameters
    PageSizeOutOfRange: 413,
    FilterTooComplex: 413,
    ListSizeOutOfRange: 413,
    StartHourOutOfRange: 412,
    EndHourOutOfRange: 412,
    ConflictingRequest: 409,
    InvalidParameter: 422,
    # the launcher endpoints
    PlanTooLarge: 413,
    TooManyMods: 413,
    CursorExpired: 410,
    # the HTTP layer's own
    RouteNotFound: 404,
    MethodNotAllowed: 405,
    TooManyRequests: 429,
    RangeNotSatisfiable: 416,
    SteamUnavailable: 503,
    UpstreamError: 503,
    StorageBusy: 503,
    StorageUnavailable: 503,
    InternalError: 500,
}
"""Each error type's status code; a subclass takes its nearest ancestor's."""


RETRY_AFTER: Final[dict[type[BaseException], float]] = {
    AlreadyProcessing: POLL_AFTER,
    ModStillLoading: POLL_AFTER,
    CheckedRecently: 1,
    TooManyRequests: 1,
    NotReady: NOT_READY_RETRY,
    UpstreamError: UPSTREAM_RETRY,
    SteamUnavailable: UPSTREAM_RETRY,
    StorageUnavailable: STORAGE_RETRY,
    StorageBusy: STORAGE_RETRY,
}
"""The error types answered with ``Retry-After``: the error's own ``retry_after`` when it has
one (the cooldown left, the rate limit's wait, Steam's), else these seconds; a subclass takes
its nearest ancestor's."""


def nearest(table: Mapping[type[BaseException], T], cls: type[BaseException]) -> T | None:
    """The entry of ``cls`` or of its nearest ancestor in ``table``."""
    for ancestor in cls.__mro__:
        if ancestor in table:
            return table[ancestor]
    return None


def status_of(exc: BaseException) -> int:
    return nearest(STATUS, type(exc)) or 500


def _retry_after(exc: BaseException) -> float | None:
    seconds = nearest(RETRY_AFTER, type(exc))
    if seconds is None:
        return None
    return getattr(exc, "retry_after", None) or seconds


def error_response(exc: BaseException, headers: dict[str, str] | None = None) -> Response:
    """The JSON response for any error: the original's body, its status, ``Retry-After``."""
    status = status_of(exc)
    if isinstance(exc, ApiError):
        body = exc.body()
    elif isinstance(exc, UpstreamError):
        body = SteamUnavailable().body()
    elif isinstance(exc, StorageUnavailable):
        body = StorageBusy().body()
    else:
        body = InternalError().body()
    if status >= 400:
        body.setdefault("details", [])
    out = dict(headers or {})
    retry = _retry_after(exc)
    if retry is not None:
        out["Retry-After"] = str(max(1, math.ceil(retry)))
    if isinstance(exc, RangeNotSatisfiable):
        out["Content-Range"] = f"bytes */{exc.size}"
    return JSONResponse(body, status_code=status, headers=out)


async def _api_error(request: Request, exc: Exception) -> Response:
    return error_response(exc)


async def _upstream_error(request: Request, exc: Exception) -> Response:
    log.warning("steam could not answer %s: %s", request.url.path, exc)
    return error_response(exc)


async def _storage_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StorageError)
    if not exc.transient:  # a refused value or a damaged file: a bug or an operator's job
        log.error("storage failed on %s", request.url.path, exc_info=exc)
        return error_response(InternalError())
    log.warning("storage cannot answer %s now: %s", request.url.path, exc)
    return error_response(exc)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    path = request.url.path[:200]
    if exc.status_code == 404:
        return error_response(RouteNotFound(details=[f"no endpoint at {path}"]), headers)
    if exc.status_code == 405:
        allowed = headers.get("Allow", "GET, HEAD")
        details = [f"{request.method[:20]} is not allowed at {path}; allowed: {allowed}"]
        return error_response(MethodNotAllowed(details=details), headers)
    body = {"message": str(exc.detail).lower(), "error_id": exc.status_code, "details": []}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    # ServerErrorMiddleware sits outside every user middleware: add the CORS headers here.
    return error_response(InternalError(), dict(CORS_HEADERS))


def exception_handlers() -> dict[type[Exception] | int, object]:
    """Starlette's ``exception_handlers`` for the app."""
    return {
        HTTPException: _http_exception,
        ApiError: _api_error,
        UpstreamError: _upstream_error,
        StorageError: _storage_error,
        Exception: _server_error,
    }
