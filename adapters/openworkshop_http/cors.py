"""CORS as the original server sent it: the same two headers on every response, whatever the
request's ``Origin`` (web launchers depend on it), and an answer to preflight requests."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openworkshop_http.errors import CORS_HEADERS

__all__ = ["CORSHeaders"]

PREFLIGHT_MAX_AGE = "600"


class CORSHeaders:
    """ASGI middleware: ``Access-Control-Allow-Origin: *`` and
    ``Access-Control-Expose-Headers: Content-Type,Content-Disposition`` on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            preflight = {
                **CORS_HEADERS,
                "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",  # POST /plan
                "Access-Control-Allow-Headers": headers.get("access-control-request-headers", "*")[
                    :1000
                ],
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            }
            await Response(status_code=204, headers=preflight)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in CORS_HEADERS.items():
                    out[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)
