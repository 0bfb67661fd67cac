"""Running the app in an ASGI server, in the current event loop: uvicorn (the default) or
granian.

uvicorn is the default because its HTTP/1 parser (h11) takes every request line a launcher
of the original Open Workshop API sends, including a raw ``"`` in a query string
(``/list/mods/?primary_sources=["steam"]``), which granian's parser (Rust's ``httparse``)
refuses with an empty 400 before the app sees it, and which no granian option changes.
granian (``--server granian``) sends archives several times faster through the ASGI
``http.response.pathsend`` extension (figures in docs/http.md), for mirrors whose clients
percent-encode their URLs.

Both are set up so idle or slow connections cannot lock new clients out (docs/deploy.md,
"Connection limits"): a deep listen backlog, no cap on open connections below the file
descriptor limit (granian: ``BACKPRESSURE``), idle keep-alive connections closed after
``KEEP_ALIVE_TIMEOUT`` and request heads that take longer than ``HEADER_TIMEOUT`` dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from pathlib import Path
from typing import Any, Final

from starlette.types import ASGIApp

__all__ = [
    "BACKLOG",
    "BACKPRESSURE",
    "DEFAULT_SERVER",
    "HEADER_TIMEOUT",
    "KEEP_ALIVE_TIMEOUT",
    "SERVERS",
    "check_address",
    "configure_logging",
    "serve",
]

SERVERS: Final = ("uvicorn", "granian")
DEFAULT_SERVER: Final = "uvicorn"
MAX_REQUEST_HEAD: Final = 64 * 1024
"""Request line and headers accepted (JSON lists of ids make long URLs)."""
BACKLOG: Final = 2048
"""Connections the kernel queues before the server accepts them."""
BACKPRESSURE: Final = 2048
"""granian: connections served at once; past it granian stops accepting (uvicorn has no such
cap: an idle connection costs it a file descriptor and a few kB)."""
KEEP_ALIVE_TIMEOUT: Final = 5
"""Seconds an idle keep-alive connection is kept after its last response."""
HEADER_TIMEOUT: Final = 10
"""Seconds a client has to send a whole request head (from connecting, or from the last
response): a connection that sends nothing, or dribbles its headers, is closed."""

log = logging.getLogger("openworkshop.http")


def check_address(host: str, port: int) -> int:
    """Raise OSError naming ``host:port`` if a server could not listen there (in use, not an
    address of this machine, a privileged port), before anything else is started.

    Returns the port: with ``port`` 0, a free one the system picked."""
    if not 0 <= port <= 65535:
        raise OSError(f"cannot listen on {host}:{port}: a port is a number from 0 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
            return int(probe.getsockname()[1])
    except OSError as exc:
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def serve(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
    server: str = DEFAULT_SERVER,
    log_level: str = "info",
) -> None:
    """Serve ``app`` on ``host:port`` (HTTPS with a certificate and key) until SIGINT/SIGTERM.

    The app's lifespan runs inside: it starts and stops the workshop.
    """
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise ValueError("HTTPS needs both --ssl-certfile and --ssl-keyfile")
    if server == "granian":
        await _granian(app, host, port, ssl_certfile, ssl_keyfile, log_level)
    elif server == "uvicorn":
        await _uvicorn(app, host, port, ssl_certfile, ssl_keyfile, log_level)
    else:
        raise ValueError(f"unknown server {server!r}; one of {', '.join(SERVERS)}")


class _EmbeddedNotice(logging.Filter):
    """granian warns "Embedded server is experimental!" on every start; say once, in one
    line, why this mode is used, instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() == "Embedded server is experimental!":
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = (
                "granian runs embedded (its 'experimental' mode) so that the workshop's "
                "download workers share the server's event loop"
            )
            record.args = ()
        return True


async def _granian(
    app: ASGIApp,
    host: str,
    port: int,
    certfile: Path | None,
    keyfile: Path | None,
    log_level: str,
) -> None:
    from granian.constants import Interfaces, SSLProtocols
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server.embed import Server

    server = Server(
        app,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        backlog=BACKLOG,
        backpressure=BACKPRESSURE,
        http1_settings=HTTP1Settings(
            max_buffer_size=MAX_REQUEST_HEAD + 8192,
            # hyper counts it from the first byte of a request and from the end of the last
            # response, so it is the keep-alive timeout too
            header_read_timeout=HEADER_TIMEOUT * 1000,
        ),
        log_level=LogLevels(log_level),
        ssl_cert=certfile,
        ssl_key=keyfile,
        ssl_protocol_min=SSLProtocols.tls12,
    )
    logging.getLogger("_granian").addFilter(_EmbeddedNotice())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, server.stop)
    try:
        await server.serve()
    except RuntimeError as exc:  # granian reports socket errors as RuntimeError
        raise OSError(f"cannot serve on {host}:{port}: {exc}") from None
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)


def _h11_with_header_timeout() -> type[Any]:
    """uvicorn's h11 protocol, closing a connection whose request head has not arrived
    ``HEADER_TIMEOUT`` seconds after it connected or after its last response (uvicorn
    itself only times out idle connections after a response)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimedH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            self._head_timer = self.loop.call_later(HEADER_TIMEOUT, self._head_timed_out)

        def _head_timed_out(self) -> None:
            self._head_timer = None
            # their_state leaves IDLE once a whole request head is in
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

    return TimedH11Protocol


async def _uvicorn(
    app: ASGIApp,
    host: str,
    port: int,
    certfile: Path | None,
    keyfile: Path | None,
    log_level: str,
) -> None:
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        http=_h11_with_header_timeout(),
        log_level=log_level,
        access_log=False,  # the app logs each request (openworkshop.access)
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        server_header=False,
        backlog=BACKLOG,
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD,
    )
    await uvicorn.Server(config).serve()


def configure_logging(level: str) -> None:
    """Log lines with a time, a level and the logger's name, at ``level`` and above."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
