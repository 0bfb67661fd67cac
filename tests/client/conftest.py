"""A real Open Workshop server process (``openworkshop serve``) against the fake Steam and
fake steamcmd, serving a catalog made for the client's tests; and a recording proxy in
front of it (``proxy.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import attrs
import httpx
import pytest

from openworkshop.domain import ItemDetails
from openworkshop.testing import SteamCatalog, sample_catalog
from openworkshop.testing.catalog import CatalogItem
from openworkshop_steam.fake import RunningFakeSteam, start_fake_steam
from tests.client.proxy import Proxy, running_proxy
from tests.http.conftest import free_port, openworkshop_process

APP = 294100
CHAIN = (4000000001, 4000000002, 4000000003)
"""The first requires the second, which requires the third."""
UPDATED = 4000000004
UNCHANGED = 4000000005
BIG = 4000000010
SLOW = 4000000011
CORRUPT = 4000000012
HOSTILE = 4000000013
KEPT = 4000000014
CANCELLED = 4000000015
CLI = (4000000016, 4000000017)
COLLECTION = 4000000020
PARALLEL = (4000000030, 4000000031, 4000000032)
DISK_FULL = 4000000040
PLAN_CHAIN = (4000000051, 4000000052, 4000000053)
"""Like ``CHAIN``, for the ``/plan`` tests (another module's tests install ``CHAIN``)."""
PLAN_COLLECTION = 4000000060
"""A collection of two mods and a nested collection of one more."""
PLAN_NESTED = 4000000063
PLAN_ITEMS = (4000000061, 4000000062, 4000000064)
BULK = (4000000070, 4000000071, 4000000072)
"""For the bulk update check: the first gets a new version, the others do not."""


def _item(
    mod_id: int, *, deps: tuple[int, ...] = (), blob: int = 3000, **extra: object
) -> CatalogItem:
    files = {"About/About.xml": f"<ModMetaData><name>mod {mod_id}</name></ModMetaData>\n"}
    return CatalogItem(
        details=ItemDetails(
            id=mod_id,
            app_id=APP,
            title=f"Client test mod {mod_id}",
            file_size=blob + len(files["About/About.xml"]),
            hcontent_file="1",
            time_created=1600000000,
            time_updated=1600000000 + mod_id % 1000,
            **extra,  # type: ignore[arg-type]
        ),
        files=files,
        blobs={"Textures/atlas.bin": blob},
        dependencies=deps,
    )


def client_catalog() -> SteamCatalog:
    catalog = sample_catalog()
    catalog.add_item(_item(CHAIN[0], deps=(CHAIN[1],)))
    catalog.add_item(_item(CHAIN[1], deps=(CHAIN[2],)))
    catalog.add_item(_item(CHAIN[2]))
    for mod_id in (UPDATED, UNCHANGED, CORRUPT, HOSTILE, KEPT, DISK_FULL, *CLI, *BULK):
        catalog.add_item(_item(mod_id))
    catalog.add_item(_item(BIG, blob=3_000_000))
    catalog.add_item(_item(SLOW, blob=500_000))
    catalog.add_item(_item(CANCELLED, blob=500_000))
    for mod_id in PARALLEL:
        catalog.add_item(_item(mod_id, blob=100_000))
    catalog.add_item(_item(COLLECTION, deps=(UPDATED, UNCHANGED), blob=0, is_collection=True))
    catalog.add_item(_item(PLAN_CHAIN[0], deps=(PLAN_CHAIN[1],)))
    catalog.add_item(_item(PLAN_CHAIN[1], deps=(PLAN_CHAIN[2],)))
    catalog.add_item(_item(PLAN_CHAIN[2]))
    for mod_id in PLAN_ITEMS:
        catalog.add_item(_item(mod_id))
    catalog.add_item(_item(PLAN_NESTED, deps=(PLAN_ITEMS[2],), blob=0, is_collection=True))
    catalog.add_item(
        _item(
            PLAN_COLLECTION,
            deps=(PLAN_ITEMS[0], PLAN_NESTED, PLAN_ITEMS[1]),
            blob=0,
            is_collection=True,
        )
    )
    return catalog


def files_of(catalog: SteamCatalog, mod_id: int) -> dict[str, bytes]:
    return {p: b"".join(c) for p, c in catalog.items[mod_id].iter_files()}


def files_in(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@attrs.define
class SteamThread:
    """The fake Steam in its own thread and event loop, so a test's loop never stalls it."""

    catalog: SteamCatalog
    folder: Path
    steamcmd: dict[str, str | float | bool] = attrs.field(factory=dict)
    """More settings of the fake steamcmd (``gate=folder``: docs/steam.md)."""
    loop: asyncio.AbstractEventLoop | None = None
    running: RunningFakeSteam | None = None
    thread: threading.Thread | None = None

    def start(self) -> RunningFakeSteam:
        ready = threading.Event()

        def main() -> None:
            loop = self.loop = asyncio.new_event_loop()
            self.running = loop.run_until_complete(
                start_fake_steam(
                    catalog=self.catalog,
                    steamcmd_dir=self.folder,
                    login_delay=0.05,
                    **self.steamcmd,
                )
            )
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.running.stop())
            loop.close()

        self.thread = threading.Thread(target=main, name="fake-steam", daemon=True)
        self.thread.start()
        assert ready.wait(60), "the fake Steam did not start"
        assert self.running is not None
        return self.running

    def stop(self) -> None:
        assert self.loop is not None and self.thread is not None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@attrs.frozen
class Server:
    url: str
    port: int
    catalog: SteamCatalog


@contextlib.contextmanager
def fake_steam_server(
    folder: Path,
    catalog: SteamCatalog,
    *,
    env: dict[str, str] | None = None,
    steamcmd: dict[str, str | float | bool] | None = None,
) -> Iterator[Server]:
    """``openworkshop serve`` on 127.0.0.1 over ``catalog`` with the fake Steam (in its own
    thread) and fake steamcmd (``steamcmd``: more of its settings); no rate limit; ``env``
    adds settings."""
    steam = SteamThread(catalog, folder / "fake-steamcmd", steamcmd=steamcmd or {})
    running = steam.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = {
        **running.environment(),
        "OPENWORKSHOP_CLIENT_RATE": "0",
        "OPENWORKSHOP_GATHER_WINDOW": "0.05",
        "OPENWORKSHOP_DATA_DIR": str(folder / "data"),
        "OPENWORKSHOP_PORT": str(port),
        **(env or {}),
    }
    try:
        with openworkshop_process(
            ["serve", "--log-level", "warning"],
            settings,
            ready_url=url + "/info/queue/size",
            log=folder / "server.log",
        ):
            yield Server(url, port, catalog)
    finally:
        steam.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The client tests' server (:func:`fake_steam_server`) with no update cooldown (a test
    can make the server fetch a new version at once)."""
    folder = tmp_path_factory.mktemp("client-server")
    with fake_steam_server(
        folder, client_catalog(), env={"OPENWORKSHOP_UPDATE_COOLDOWN": "0"}
    ) as running:
        yield running


LAUNCHER_PATHS = ("/plan", "/info/collection", "/progress")
"""The launcher endpoints the ``proxy`` hides: through it the server looks like one of the
original Open Workshop API, so the client's fallback is what those tests exercise."""


@pytest.fixture
async def proxy(server: Server) -> AsyncIterator[Proxy]:
    """A recording proxy in front of the server that hides the launcher endpoints."""
    async with running_proxy(server.port, hidden=LAUNCHER_PATHS) as running:
        yield running


@pytest.fixture
async def launcher_proxy(server: Server) -> AsyncIterator[Proxy]:
    """A recording proxy that hides nothing: the client uses ``/plan``."""
    async with running_proxy(server.port) as running:
        yield running


def server_etag(server: Server, mod_id: int) -> str:
    return httpx.head(f"{server.url}/download/{mod_id}").headers["etag"].strip('"')
