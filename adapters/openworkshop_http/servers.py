"""Running the app in an ASGI server, in the current event loop: granian (the default) or
uvicorn.

granian is the default because it serves users better on this workload (see docs/http.md for
the figures): it implements the ASGI ``http.response.pathsend`` extension, so an archive is
sent by its Rust I/O threads straight from the file, at several times uvicorn's throughput,
while the JSON endpoints answer at about the same rate. uvicorn stays available
(``--server uvicorn``) for platforms without granian wheels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from pathlib import Path
from typing import Final

from starlette.types import ASGIApp

__all__ = ["DEFAULT_SERVER", "SERVERS", "check_address", "serve"]

SERVERS: Final = ("granian", "uvicorn")
DEFAULT_SERVER: Final = "granian"
MAX_REQUEST_HEAD: Final = 64 * 1024
"""Request line and headers accepted (JSON lists of ids make long URLs)."""


def check_address(host: str, port: int) -> None:
    """Raise OSError naming ``host:port`` if a server could not listen there (in use, not an
    address of this machine, a privileged port), before anything else is started."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
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
        http1_settings=HTTP1Settings(max_buffer_size=MAX_REQUEST_HEAD + 8192),
        log_level=LogLevels(log_level),
        ssl_cert=certfile,
        ssl_key=keyfile,
        ssl_protocol_min=SSLProtocols.tls12,
    )
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
        log_level=log_level,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        server_header=False,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD,
    )
    await uvicorn.Server(config).serve()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
