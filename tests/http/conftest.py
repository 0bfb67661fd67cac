"""Fixtures for the HTTP adapter's tests: the app over a real ``Workshop`` (SQLite storage,
archives on disk, the in-memory fake Steam, a fake clock), reached through httpx's ASGI
transport; and helpers to start real server processes on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from openworkshop import FileArchiveStore, ModState, Settings, Workshop
from openworkshop.ports import ArchiveStore
from openworkshop.settings import split_overrides
from openworkshop.testing import (
    FakeClock,
    FakeSteamSource,
    MemoryArchiveStore,
    MemoryStorage,
    SteamCatalog,
    sample_catalog,
)
from openworkshop_http import HttpSettings, create_app
from openworkshop_sqlite import SqliteStorage

ERROR_KEYS = {"message", "error_id", "details"}


@attrs.define
class Api:
    """An app over a started workshop, and a client for it."""

    workshop: Workshop
    client: httpx.AsyncClient
    catalog: SteamCatalog
    steam: FakeSteamSource
    archives: ArchiveStore
    clock: FakeClock
    settings: Settings
    app: Any
    http: HttpSettings = attrs.field(factory=HttpSettings)

    def mod_ids(self) -> list[int]:
        """Ids of the sample catalog's ordinary mods (not the private or unfetchable one)."""
        from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID

        return [i for i in self.catalog.items if i not in (PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID)]

    async def cache(self, mod_ids: Sequence[int]) -> None:
        """Ask for the mods and wait until each is downloadable."""
        for mod_id in mod_ids:
            await self.workshop.request_download(mod_id)
        states = await self.workshop.wait_until(mod_ids, [ModState.READY], timeout=30)
        assert all(s is ModState.READY for s in states.values()), states

    def client_from(self, host: str) -> httpx.AsyncClient:
        """Another client, from another address."""
        transport = httpx.ASGITransport(app=self.app, client=(host, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")


MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(tmp_path: Path) -> AsyncIterator[MakeApi]:
    """Build an ``Api``: ``archives="file"|"memory"``, ``storage="sqlite"|"memory"``,
    ``can_download``, and any ``Settings`` or ``HttpSettings`` field as a keyword."""
    stack = contextlib.AsyncExitStack()
    count = 0

    async def make(
        *,
        archives: str = "file",
        storage: str = "sqlite",
        can_download: bool = True,
        catalog: SteamCatalog | None = None,
        **settings: Any,
    ) -> Api:
        nonlocal count
        count += 1
        folder = tmp_path / f"api{count}"
        catalog = catalog or sample_catalog()
        steam = FakeSteamSource(catalog, can_download=can_download)
        store: ArchiveStore = (
            FileArchiveStore(folder / "archives") if archives == "file" else MemoryArchiveStore()
        )
        clock = FakeClock()
        values = {"gather_window": 0.0, "retry_base": 0.01, "max_attempts": 1, **settings}
        core, served = split_overrides(values, [Settings, HttpSettings])
        config = Settings(**core)
        http = HttpSettings(data_dir=folder, **served)
        workshop = Workshop(
            storage=SqliteStorage(folder / "db.sqlite3")
            if storage == "sqlite"
            else MemoryStorage(),
            steam=steam,
            archives=store,
            clock=clock,
            settings=config,
            downloads_dir=folder / "downloads",
        )
        await stack.enter_async_context(workshop)
        app = create_app(workshop, http, manage_lifespan=False)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://testserver")
        )
        return Api(
            workshop=workshop,
            client=client,
            catalog=catalog,
            steam=steam,
            archives=store,
            clock=clock,
            settings=config,
            app=app,
            http=http,
        )

    async with stack:
        yield make


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    return await make_api()


def assert_error(response: httpx.Response, status: int, error_id: int | None = None) -> dict:
    """The response is an error in the original's shape, with ``details``, as JSON."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) >= ERROR_KEYS, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["error_id"], int)
    assert isinstance(body["details"], list)
    if error_id is not None:
        assert body["error_id"] == error_id, body
    assert response.headers["access-control-allow-origin"] == "*"
    return body


# --- real processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2, verify=False)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def sse_messages(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """The messages of a Server-Sent Events stream (each its fields: ``id``, ``event``,
    ``data``), comments and ``retry`` left out, until the stream ends."""
    fields: dict[str, str] = {}
    for line in lines:
        if line.startswith(":") or line.startswith("retry:"):
            continue
        if line == "":
            if fields:
                yield fields
                fields = {}
            continue
        name, _, value = line.partition(": ")
        fields[name] = value


def _wait_for_text(log: Path, text: bytes, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_bytes():
        if process.poll() is not None:
            raise AssertionError(f"the process exited with {process.returncode}: {log.read_text()}")
        assert time.monotonic() < deadline, f"{text!r} not in {log} within {timeout} s"
        time.sleep(0.05)


@contextlib.contextmanager
def openworkshop_process(
    args: Sequence[str],
    env: dict[str, str] | None = None,
    *,
    ready_url: str | None = None,
    ready_text: bytes | None = None,
    log: Path,
) -> Iterator[subprocess.Popen]:
    """``openworkshop ARGS`` as a real process (the console script), ready once ``ready_url``
    answers (or, for a process with no HTTP, ``ready_text`` is in its log); stopped with
    SIGTERM."""
    script = Path(sys.executable).with_name("openworkshop")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKSHOP_")}
    environment.update(env or {})
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(script), *args], env=environment, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            if ready_url is not None:
                wait_for_http(ready_url, process)
            if ready_text is not None:
                _wait_for_text(log, ready_text, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def running_demo(folder: Path, *, cached_within: float) -> Iterator[str]:
    """``openworkshop demo`` as a real process on 127.0.0.1 (the fake Steam, SQLite, archives
    on disk, the default server) in ``folder``, once its sample mods are cached (within
    ``cached_within`` seconds); its base URL. No rate limit, and no ceiling on calls to the
    (fake) Steam, so tools that explore the API are not stopped by them (a plan of ids never
    seen costs a details call each time)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["demo", "--port", str(port), "--data-dir", str(folder / "data")]
    with openworkshop_process(
        [*args, "--log-level", "warning"],
        {"OPENWORKSHOP_CLIENT_RATE": "0", "OPENWORKSHOP_UPSTREAM_PER_MINUTE": "1000000"},
        ready_url=base + "/info/queue/size",
        log=folder / "server.log",
    ):
        deadline = time.monotonic() + cached_within
        while httpx.get(base + "/info/queue/size").json() != 0:
            assert time.monotonic() < deadline, "the demo did not cache its sample mods"
            time.sleep(0.1)
        yield base


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo server shared by the tests that only read from it (:func:`running_demo`)."""
    with running_demo(tmp_path_factory.mktemp("demo"), cached_within=60) as base:
        yield base
