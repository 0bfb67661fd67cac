"""Live progress from a real server process (``openworkshop serve``) whose fake steamcmd
writes each item in two parts and waits, between them, for the test to open a gate file:
``GET /progress`` read as Server-Sent Events by a real HTTP client (bytes that rise and stop
at half until the gate opens, then packing, parsing, ready, and the end of the stream), and
the client library following the same stream while it installs a mod (its progress events
carry the server's bytes; it never polls ``/condition/mod``). No wall-clock wait decides
anything: each step waits for what the stream says."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openworkshop.testing import SteamCatalog
from openworkshop_client import Client, Done, Event, Queued, ServerDownloading
from tests.client.conftest import _item, files_in, files_of
from tests.client.gated import Gated, gated_server
from tests.client.proxy import running_proxy
from tests.http.conftest import sse_messages

pytestmark = pytest.mark.anyio

STREAMED = 4000000100
INSTALLED = 4000000101
SIZE = 6 << 20
"""Large enough that each half is many writes of the fake steamcmd."""
SSE = {"Accept": "text/event-stream"}


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gated]:
    catalog = SteamCatalog()
    for mod_id in (STREAMED, INSTALLED):
        catalog.add_item(_item(mod_id, blob=SIZE))
    with gated_server(tmp_path_factory.mktemp("progress-server"), catalog) as running:
        yield running


def progress_events(lines: Iterator[str]) -> Iterator[dict]:
    """The ``progress`` events of a stream, until it ends."""
    for fields in sse_messages(lines):
        assert fields["event"] == "progress"
        yield json.loads(fields["data"])


def test_the_stream_rises_to_ready_and_ends(gated: Gated) -> None:
    total = gated.catalog.items[STREAMED].details.file_size
    assert total == gated.catalog.items[STREAMED].content_size()  # the fake waits at half
    answer = httpx.get(f"{gated.url}/download/steam/{STREAMED}")
    assert answer.status_code == 202, answer.text
    seen: list[dict] = []
    with (
        httpx.Client(timeout=120) as client,
        client.stream("GET", f"{gated.url}/progress/[{STREAMED}]", headers=SSE) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        for event in progress_events(stream.iter_lines()):
            assert event["id"] == STREAMED
            seen.append(event)
            if event["phase"] == "downloading" and event["done"] == total // 2:
                # the fake waits at half: the stream has shown it; let it go on
                assert event["total"] == total
                gated.open(STREAMED)
        # the loop ended: the server closed the stream once the mod was ready
    phases = [e["phase"] for e in seen]
    assert phases[-1] == "ready"
    assert seen[-1]["condition"] == 0
    order = ["queued", "downloading", "packing", "parsing", "ready"]
    assert [order.index(p) for p in phases] == sorted(order.index(p) for p in phases)
    downloaded = [e["done"] for e in seen if e["phase"] == "downloading"]
    assert downloaded == sorted(downloaded)  # bytes only rise
    assert total // 2 in downloaded
    assert (gated.gate / f"{STREAMED}-2").exists()
    # the same answer as JSON, now that it is done
    assert httpx.get(f"{gated.url}/progress/{STREAMED}").json()[str(STREAMED)]["phase"] == "ready"


def test_a_stream_of_a_mod_the_server_lacks_ends_at_once(gated: Gated) -> None:
    with (
        httpx.Client(timeout=60) as client,
        client.stream("GET", f"{gated.url}/progress/[12345]", headers=SSE) as stream,
    ):
        events = list(progress_events(stream.iter_lines()))
    assert [(e["id"], e["phase"]) for e in events] == [(12345, "missing")]


async def test_the_client_follows_the_stream_while_it_installs(
    gated: Gated, tmp_path: Path
) -> None:
    """``Client.install`` reports the server's bytes from ``/progress`` and never polls
    ``/condition/mod``; the installed files are the fake Steam's."""
    half = gated.catalog.items[INSTALLED].content_size() // 2
    events: asyncio.Queue[Event] = asyncio.Queue()
    seen: list[Event] = []
    async with running_proxy(gated.port) as proxy, Client(proxy.url) as client:
        install = asyncio.ensure_future(
            client.install([INSTALLED], into=tmp_path / "mods", progress=events.put_nowait)
        )
        while True:
            getting = asyncio.ensure_future(events.get())
            finished, _ = await asyncio.wait(
                {getting, install}, return_when=asyncio.FIRST_COMPLETED
            )
            if getting not in finished:
                getting.cancel()
                break
            event = getting.result()
            seen.append(event)
            if isinstance(event, ServerDownloading) and event.done == half:
                gated.open(INSTALLED)
        installed = await install
        while not events.empty():
            seen.append(events.get_nowait())
        paths = [s.path for s in proxy.sent]
    assert [m.id for m in installed] == [INSTALLED]
    assert files_in(tmp_path / "mods" / str(INSTALLED)) == files_of(gated.catalog, INSTALLED)
    downloading = [e for e in seen if isinstance(e, ServerDownloading) and e.mod_id == INSTALLED]
    assert any(e.done == half for e in downloading)
    steam_size = gated.catalog.items[INSTALLED].details.file_size
    fetched = [e.done for e in downloading if e.done is not None and e.total == steam_size]
    drops = sum(1 for a, b in itertools.pairwise(fetched) if b < a)
    assert drops <= 1, fetched  # bytes only rise: downloaded, then packed from 0
    assert isinstance(seen[-1], Done) and seen[-1].mod_id == INSTALLED  # ... to done
    total = gated.catalog.items[INSTALLED].details.file_size
    assert any(e.total == total for e in downloading)
    assert any(p.startswith("/progress/") for p in paths)
    assert not any(p.startswith("/condition/mod") for p in paths)
    assert not any(
        isinstance(e, Queued) and e.position is not None and e.position < 0 for e in seen
    )
