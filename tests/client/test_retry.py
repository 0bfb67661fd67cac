"""429 and 503 are waited out for as long as the server's ``Retry-After`` says, against a real
server that cannot download (no steamcmd: 503) and allows one request a minute (then 429)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openworkshop_client import Client, ServerError, ServerUnreachable
from openworkshop_client.server import RETRIES
from openworkshop_http.errors import UPSTREAM_RETRY
from tests.http.conftest import free_port, openworkshop_process

pytestmark = pytest.mark.anyio
CLOSED = "http://127.0.0.1:9"  # nothing listens; nothing reaches Valve


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("limited")
    port = free_port()
    env = {
        "OPENWORKSHOP_STEAMCMD": str(folder / "no-steamcmd"),
        "OPENWORKSHOP_STEAM_API_URL": CLOSED,
        "OPENWORKSHOP_STEAM_COMMUNITY_URL": CLOSED,
        "OPENWORKSHOP_STEAM_STORE_URL": CLOSED,
        "OPENWORKSHOP_DATA_DIR": str(folder / "data"),
        "OPENWORKSHOP_PORT": str(port),
        "OPENWORKSHOP_CLIENT_RATE": "1",
    }
    url = f"http://127.0.0.1:{port}"
    with openworkshop_process(
        ["serve", "--log-level", "warning"], env, ready_url=url + "/info/queue/size",
        log=folder / "server.log",
    ):  # fmt: skip
        yield url


async def test_retry_after_is_honoured(limited_server: str, tmp_path: Path) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # records the wait instead of sleeping it
        waits.append(seconds)

    async with Client(limited_server, sleep=sleep) as client:
        with pytest.raises(ServerError) as raised:
            await client.install([2009463077], into=tmp_path / "mods")
    # /plan: 503 (Steam cannot be reached, Retry-After 60), then 429 for the rest of the
    # minute (/plan may call Valve: it counts under the per-client limit), each waited
    assert waits[0] == UPSTREAM_RETRY
    assert len(waits) == RETRIES and all(0 < w <= 60 for w in waits[1:])
    assert raised.value.status == 429 and raised.value.message == "too many requests"
    assert not (tmp_path / "mods" / "2009463077").exists()


async def test_an_unreachable_server_is_named(tmp_path: Path) -> None:
    async with Client(CLOSED) as client:
        with pytest.raises(ServerUnreachable, match=r"127\.0\.0\.1:9 cannot be reached"):
            await client.install([1], into=tmp_path / "mods")
