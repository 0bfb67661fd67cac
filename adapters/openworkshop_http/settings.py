"""The HTTP adapter's settings: where and how ``openworkshop serve`` listens, its data folder,
and what it knows of the reverse proxy in front of it (docs/deploy.md).

The core's settings are :class:`openworkshop.Settings`; ``wiring.ServerSettings`` composes
both with the Steam adapter's.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from openworkshop.settings import SettingsError, duration, one_of, setting
from openworkshop_http.servers import DEFAULT_SERVER, SERVERS

__all__ = ["DATABASE_SCHEMES", "HttpSettings"]


DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
"""What ``OPENWORKSHOP_DATABASE`` may start with."""


def _check_database(
    instance: object, attribute: attrs.Attribute[str | None], value: str | None
) -> None:
    if value is None:
        return
    if not value.startswith(DATABASE_SCHEMES):
        raise SettingsError(
            f"OPENWORKSHOP_DATABASE: {value!r} is no database URL: sqlite:///path/to/file "
            "or postgresql://user@host/database"
        )
    if value.startswith("sqlite:///") and not value.removeprefix("sqlite:///"):
        raise SettingsError("OPENWORKSHOP_DATABASE: sqlite:/// needs a file's path after it")


def _check_port(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 65535:
        raise SettingsError(f"port {value}: a port is a number from 0 to 65535")


@attrs.frozen(kw_only=True)
class HttpSettings:
    """The server's address, data folder, database, ASGI server and proxy settings."""

    host: str = setting(env="OPENWORKSHOP_HOST", default="127.0.0.1", help="Address to listen on.")
    port: int = setting(
        env="OPENWORKSHOP_PORT",
        default=8000,
        help="Port to listen on (0 picks a free one).",
        validator=_check_port,
    )
    data_dir: Path = setting(
        env="OPENWORKSHOP_DATA_DIR",
        default=Path("openworkshop-data"),
        help="Folder for the SQLite database, the archives and steamcmd's downloads.",
    )
    database: str | None = setting(
        env="OPENWORKSHOP_DATABASE",
        default=None,
        help="Where the catalog, the queue and the statistics live, as a URL: "
        "`sqlite:///path/to/file.sqlite3` (`sqlite:////abs/path` for an absolute one) or "
        "`postgresql://user:password@host:5432/database` (a libpq URL; several server "
        "processes, on several machines, may share it; docs/storage.md). Unset: the SQLite "
        "file `openworkshop.sqlite3` in the data folder. The `--database` flag overrides it.",
        validator=_check_database,
    )
    server: str = setting(
        env="OPENWORKSHOP_SERVER",
        default=DEFAULT_SERVER,
        help=f"ASGI server: {' or '.join(f'`{s}`' for s in SERVERS)} (docs/http.md); "
        "the `--server` flag overrides it.",
        validator=one_of(SERVERS),
    )
    ssl_certfile: Path | None = setting(
        env="OPENWORKSHOP_SSL_CERTFILE",
        default=None,
        help="Certificate (PEM) to serve HTTPS with, together with `ssl_keyfile`; unset "
        "serves plain HTTP.",
    )
    ssl_keyfile: Path | None = setting(
        env="OPENWORKSHOP_SSL_KEYFILE",
        default=None,
        help="Private key of that certificate.",
    )
    client_rate: int = setting(
        env="OPENWORKSHOP_CLIENT_RATE",
        default=30,
        help="Requests per minute one client may make to endpoints that can call Valve.",
    )
    accel_redirect: str | None = setting(
        env="OPENWORKSHOP_ACCEL_REDIRECT",
        default=None,
        help="URL prefix for X-Accel-Redirect (behind nginx); unset sends files directly.",
    )
    trusted_proxies: str = setting(
        env="OPENWORKSHOP_TRUSTED_PROXIES",
        default="none",
        help="Comma-separated addresses of reverse proxies whose X-Forwarded-For names the "
        "client (for the per-client rate limit); `none` (the default) trusts no proxy, so "
        "no client can pick its address with the header. Behind nginx on the same machine: "
        "`127.0.0.1` (docs/deploy.md).",
    )
    answer_cache_mb: int = setting(
        env="OPENWORKSHOP_ANSWER_CACHE_MB",
        default=8,
        help="Megabytes of `/list/mods/` and `/info/mod/` bodies kept in memory and sent again "
        "while the database has had no write since, by any process, but the statistics' "
        'counters; 0 builds every answer (docs/http.md, "Kept answers").',
    )
    events_heartbeat: float = duration(
        env="OPENWORKSHOP_EVENTS_HEARTBEAT",
        default=15.0,
        help="Seconds without an event after which a `text/event-stream` of `/events` sends a "
        "`: heartbeat` comment (keeps proxies from closing an idle stream).",
    )
    events_poll: float = duration(
        env="OPENWORKSHOP_EVENTS_POLL",
        default=1.0,
        help="Seconds between two reads of the events feed by an open `text/event-stream` "
        "(the worker writing the events may be another process).",
    )
    progress_heartbeat: float = duration(
        env="OPENWORKSHOP_PROGRESS_HEARTBEAT",
        default=15.0,
        help="Seconds without a change after which a `text/event-stream` of `/progress` sends "
        "a `: heartbeat` comment.",
    )
    progress_poll: float = duration(
        env="OPENWORKSHOP_PROGRESS_POLL",
        default=0.5,
        help="Seconds between two reads of the mods' progress by an open `text/event-stream` "
        "of `/progress` (the worker writing it may be another process).",
    )
