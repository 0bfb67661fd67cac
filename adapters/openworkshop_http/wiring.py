"""Putting a server together: the storage (SQLite by default, PostgreSQL by URL), archives on disk and a Steam source, all in
one data folder; and the same wired to the shipped fake Steam for ``openworkshop demo``.

This module is where the adapters meet (they do not import each other).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from openworkshop import FileArchiveStore, Settings, Workshop
from openworkshop.errors import WorkshopError
from openworkshop.ports import Transition
from openworkshop.settings import (
    check_environment,
    read_settings,
    settings_table,
    split_overrides,
)
from openworkshop.states import ModState
from openworkshop.testing import SteamCatalog, sample_catalog
from openworkshop_client.settings import ClientSettings
from openworkshop_http.settings import HttpSettings

if TYPE_CHECKING:
    from openworkshop_steam import SteamSettings

__all__ = [
    "DATABASE_NAME",
    "FOREIGN_PREFIXES",
    "DataFolderError",
    "Demo",
    "ServerSettings",
    "StateLog",
    "demo_workshop",
    "describe_database",
    "prepare_data_dir",
    "server_workshop",
    "settings_classes",
    "settings_reference",
    "storage_for",
    "with_settings_reference",
]

log = logging.getLogger("openworkshop.downloads")

DATABASE_NAME = "openworkshop.sqlite3"
STEAM_SETTINGS_PREFIX = "OPENWORKSHOP_STEAM"
FOREIGN_PREFIXES = ("OPENWORKSHOP_FAKE_",)
"""``OPENWORKSHOP_*`` names no settings class reads and that pass the check: the knobs of the
shipped fake steamcmd (docs/steam.md)."""


def _steam_settings_class() -> type[SteamSettings]:
    # imported when used: the Steam adapter (aiohttp, parsel) is not loaded for the client
    from openworkshop_steam import SteamSettings

    return SteamSettings


def settings_classes() -> tuple[type, ...]:
    """Every settings class of the ``openworkshop`` command, in the order docs/settings.md
    lists them: the server's three, and the launcher client's (its ``OPENWORKSHOP_URL`` is
    no typo when the server starts in the same shell)."""
    return (HttpSettings, Settings, _steam_settings_class(), ClientSettings)


@attrs.frozen(kw_only=True)
class ServerSettings:
    """Every setting of ``openworkshop serve`` and ``demo``: the core's and each adapter's."""

    http: HttpSettings = attrs.field(factory=HttpSettings)
    core: Settings = attrs.field(factory=Settings)
    steam: SteamSettings = attrs.field(factory=lambda: _steam_settings_class()())

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> ServerSettings:
        """Each class's settings from ``environ``, then ``overrides`` (by field name, ``None``
        ones skipped). An ``OPENWORKSHOP_*`` name that no class declares (a typo) is refused
        with the closest name."""
        check_environment(environ, settings_classes(), elsewhere=FOREIGN_PREFIXES)
        classes = (HttpSettings, Settings, _steam_settings_class())
        parts = split_overrides(overrides, classes)
        http, core, steam = (
            read_settings(c, environ, o) for c, o in zip(classes, parts, strict=True)
        )
        return cls(http=http, core=core, steam=steam)


REFERENCE_START = "<!-- generated: settings tables (do not edit by hand) -->\n"
REFERENCE_END = "<!-- end of the generated settings tables -->\n"


def settings_reference() -> str:
    """The tables of docs/settings.md: one per settings class, from their declarations."""
    sections = []
    for cls in settings_classes():
        package = cls.__module__.split(".")[0]
        title = (cls.__doc__ or "").strip().splitlines()[0]
        sections.append(f"## `{package}.{cls.__name__}`\n\n{title}\n\n{settings_table(cls)}")
    return "\n".join(sections)


def with_settings_reference(text: str) -> str:
    """``text`` (docs/settings.md) with the generated tables between its two markers."""
    head, start, rest = text.partition(REFERENCE_START)
    _, end, tail = rest.partition(REFERENCE_END)
    if not start or not end:
        raise ValueError("the settings reference markers are missing")
    return f"{head}{start}\n{settings_reference()}\n{end}{tail}"


def _steam_source(settings: ServerSettings) -> Any:
    from openworkshop_steam import SteamWebSource

    return SteamWebSource.from_settings(
        settings.steam, max_download_size=settings.core.max_mod_size
    )


def storage_for(database: str | None, data_dir: Path) -> Any:
    """The store ``OPENWORKSHOP_DATABASE`` names (``HttpSettings.database``): SQLite at a
    ``sqlite:///`` path, PostgreSQL at a ``postgresql://`` URL, or (unset) the SQLite file in
    the data folder. Nothing is opened here."""
    if database is None or database.startswith("sqlite:///"):
        from openworkshop_sqlite import SqliteStorage

        path = data_dir / DATABASE_NAME if database is None else Path(database[len("sqlite:///") :])
        return SqliteStorage(path)
    from openworkshop_postgres import PostgresStorage

    return PostgresStorage(database)


def describe_database(database: str | None, data_dir: Path) -> str:
    """Where the catalog lives, for the start banner (a PostgreSQL URL without its password)."""
    if database is None or database.startswith("sqlite:///"):
        path = data_dir / DATABASE_NAME if database is None else Path(database[len("sqlite:///") :])
        return f"SQLite {path.resolve()}"
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(database)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
        return f"PostgreSQL {host}{port}{parts.path or '/'}"
    except ValueError:
        return "PostgreSQL"


class DataFolderError(WorkshopError, OSError):
    """The data folder cannot be created, or written to."""


def prepare_data_dir(data_dir: Path) -> None:
    """Create ``data_dir`` if needed and check it can be written; else raise DataFolderError
    naming the folder and the reason."""
    where = data_dir.resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except FileExistsError:
        raise DataFolderError(f"data folder {where}: it is a file, not a folder") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        culprit = f" ({exc.filename})" if exc.filename and Path(exc.filename) != where else ""
        raise DataFolderError(f"data folder {where}: {reason}{culprit}") from None
    if not os.access(data_dir, os.R_OK | os.X_OK):
        raise DataFolderError(f"data folder {where}: cannot be read")


class StateLog:
    """A storage that logs each download state change it writes (``openworkshop.downloads``,
    INFO): a new row, each change of state, a removal, a failure; one line per transition
    written (``apply``) and per mod a worker claims. Everything else passes through
    unchanged."""

    def __init__(self, storage: Any) -> None:
        self._storage = storage

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    async def apply(self, transition: Transition) -> bool:
        written = bool(await self._storage.apply(transition))
        if not written:
            return False
        mod_id, expect, after = transition.mod_id, transition.expect, transition.after
        failure = transition.failure
        if failure is not None:
            detail = f" ({failure.detail})" if failure.detail else ""
            log.info(
                "mod %s: failed, %s after %s attempts%s",
                mod_id,
                failure.reason.value,
                failure.attempts,
                detail[:300],
            )
        if after is None:
            log.info("mod %s: removed", mod_id)
        elif after.state is not expect:
            before = "new" if expect is None else expect.name.lower()
            log.info("mod %s: %s -> %s", mod_id, before, after.state.name.lower())
        return True

    async def claim(self, state: ModState, limit: int, **kwargs: Any) -> Sequence[Any]:
        taken = await self._storage.claim(state, limit, **kwargs)
        if state is ModState.QUEUED:
            for mod in taken:
                log.info("mod %s: queued -> downloading", mod.id)
        return taken


@contextlib.asynccontextmanager
async def server_workshop(
    settings: ServerSettings, *, workers: bool = True
) -> AsyncIterator[Workshop]:
    """A started ``Workshop`` over ``settings.http.data_dir`` (created on first start): the
    store ``settings.http.database`` names (by default SQLite in ``openworkshop.sqlite3``),
    archives in ``archives/``, steamcmd's downloads in ``downloads/``, and Steam as the
    settings say. ``workers=False``: it serves only, and the downloads are left to other
    processes on the same storage (``openworkshop worker``)."""
    data_dir = settings.http.data_dir
    prepare_data_dir(data_dir)
    steam = _steam_source(settings)
    workshop = Workshop(
        storage=StateLog(storage_for(settings.http.database, data_dir)),
        steam=steam,
        archives=FileArchiveStore(data_dir / "archives"),
        settings=settings.core,
        downloads_dir=data_dir / "downloads",
    )
    try:
        await workshop.start(workers=workers)
        try:
            yield workshop
        finally:
            await workshop.stop()
    finally:
        await steam.close()


@attrs.frozen(kw_only=True)
class Demo:
    """A running demo: its workshop, settings, the fake Steam's URL and the catalog served."""

    workshop: Workshop
    settings: ServerSettings
    steam_url: str
    catalog: SteamCatalog


@contextlib.asynccontextmanager
async def demo_workshop(
    data_dir: Path,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    login_delay: float = 0.2,
) -> AsyncIterator[Demo]:
    """``server_workshop`` wired to the fake Steam of the Steam adapter (an HTTP server in this
    event loop and a fake steamcmd), serving the sample catalog.

    Settings are read from ``environ`` as for ``serve``, except every Steam setting
    (``OPENWORKSHOP_STEAM*``: URLs, steamcmd, key, account), which comes from the fake only:
    nothing reaches Valve."""
    from openworkshop_steam.fake import start_fake_steam

    catalog = sample_catalog()
    running = await start_fake_steam(
        catalog=catalog, steamcmd_dir=data_dir / "fake-steamcmd", login_delay=login_delay
    )
    try:
        kept = {k: v for k, v in (environ or {}).items() if not k.startswith(STEAM_SETTINGS_PREFIX)}
        values = {"data_dir": data_dir, "gather_window": 0.05, **(overrides or {})}
        settings = ServerSettings.from_env({**kept, **running.environment()}, **values)
        async with server_workshop(settings) as workshop:
            yield Demo(
                workshop=workshop,
                settings=settings,
                steam_url=running.steam.base_url,
                catalog=catalog,
            )
    finally:
        await running.stop()


if __name__ == "__main__":  # python -m openworkshop_http.wiring docs/settings.md
    import sys

    doc = Path(sys.argv[1])
    doc.write_text(with_settings_reference(doc.read_text(encoding="utf-8")), encoding="utf-8")
