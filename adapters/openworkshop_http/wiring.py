"""Putting a server together: the SQLite storage, archives on disk and a Steam source, all in
one data folder; and the same wired to the shipped fake Steam for ``openworkshop demo``.

This module is where the adapters meet (they do not import each other).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from openworkshop import FileArchiveStore, Settings, Workshop
from openworkshop.testing import SteamCatalog, sample_catalog

__all__ = ["DATABASE_NAME", "Demo", "demo_workshop", "server_workshop"]

DATABASE_NAME = "openworkshop.sqlite3"
STEAM_SETTINGS_PREFIX = "OPENWORKSHOP_STEAM"


def _steam_source(settings: Settings) -> Any:
    from openworkshop_steam import SteamWebSource

    return SteamWebSource.from_settings(settings)


def _storage(path: Path) -> Any:
    from openworkshop_sqlite import SqliteStorage

    return SqliteStorage(path)


@contextlib.asynccontextmanager
async def server_workshop(settings: Settings) -> AsyncIterator[Workshop]:
    """A started ``Workshop`` over ``settings.data_dir`` (created on first start): SQLite in
    ``openworkshop.sqlite3``, archives in ``archives/``, steamcmd's downloads in
    ``downloads/``, and Steam as the settings say."""
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    steam = _steam_source(settings)
    workshop = Workshop(
        storage=_storage(data_dir / DATABASE_NAME),
        steam=steam,
        archives=FileArchiveStore(data_dir / "archives"),
        settings=settings,
        downloads_dir=data_dir / "downloads",
    )
    try:
        async with workshop:
            yield workshop
    finally:
        await steam.close()


@attrs.frozen(kw_only=True)
class Demo:
    """A running demo: its workshop, settings, the fake Steam's URL and the catalog served."""

    workshop: Workshop
    settings: Settings
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
        settings = Settings.from_env({**kept, **running.environment()}, **values)
        async with server_workshop(settings) as workshop:
            yield Demo(
                workshop=workshop,
                settings=settings,
                steam_url=running.steam.base_url,
                catalog=catalog,
            )
    finally:
        await running.stop()
