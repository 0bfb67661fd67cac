"""``openworkshop update`` against a real server that has ``POST /check/mods``: one bulk check
for every installed mod (no per-mod ``HEAD``), and only the mod with a new version fetched.
The requests are counted by the recording proxy between the command and the server."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx
import pytest

from openworkshop_client import Client, Manifest
from openworkshop_client.server import ServerApi
from tests.client.conftest import BULK, Server, files_in, files_of, server_etag
from tests.client.proxy import Proxy

pytestmark = pytest.mark.anyio

SCRIPT = Path(sys.executable).with_name("openworkshop")


async def _new_version_on_the_server(server: Server, mod_id: int) -> str:
    """Publish a new version of the mod on the fake Steam and have the server fetch it;
    the old sha256."""
    old = server_etag(server, mod_id)
    item = server.catalog.items[mod_id]
    server.catalog.publish_update(
        mod_id,
        files={"About/About.xml": "<ModMetaData><name>bulk v2</name></ModMetaData>\n"},
        time_updated=item.details.time_updated + 5000,
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        asked = await http.get(f"/update/steam/{mod_id}")
        assert asked.status_code == 202, asked.text
        deadline = time.monotonic() + 60
        while (await http.head(f"/download/{mod_id}")).headers.get("etag", "").strip('"') == old:
            assert time.monotonic() < deadline, "the server did not fetch the new version"
            await asyncio.sleep(0.1)
    return old


async def test_update_sends_one_bulk_check_and_replaces_exactly_that_mod(
    server: Server, proxy: Proxy, tmp_path: Path
) -> None:
    folder = tmp_path / "mods"
    changed, *kept = BULK
    async with Client(server.url) as client:
        await client.install(list(BULK), into=folder)
    inodes = {i: (folder / str(i) / "About" / "About.xml").stat().st_ino for i in kept}
    old = await _new_version_on_the_server(server, changed)

    run = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "update",
        str(folder),
        "--server",
        proxy.url,
        "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(run.communicate(), 300)
    assert run.returncode == 0, err.decode()

    checks = [s for s in proxy.sent if s.method == "POST" and s.path.startswith("/check/mods")]
    assert [(s.path, s.status) for s in checks] == [("/check/mods", 200)]
    # no per-mod check (the fallback HEADs every installed mod); the install of the new
    # version may ask for its own archive's headers
    assert {s.mod_id for s in proxy.sent if s.method == "HEAD"} <= {changed}
    assert [s.mod_id for s in proxy.downloads()] == [changed]
    result = json.loads(out.decode().splitlines()[-1])
    assert [m["id"] for m in result["updated"]] == [changed], result

    assert files_in(folder / str(changed)) == files_of(server.catalog, changed)
    for mod_id in kept:
        assert (folder / str(mod_id) / "About" / "About.xml").stat().st_ino == inodes[mod_id]
    manifest = Manifest.load(folder)
    assert manifest.mods[changed].sha256 == server_etag(server, changed) != old


async def test_the_check_answer_is_read_as_the_server_writes_it(
    server: Server, tmp_path: Path
) -> None:
    """``ServerApi.check`` against the real endpoint: each state with its fields."""
    folder = tmp_path / "mods"
    mod_id = BULK[2]
    async with Client(server.url) as client:
        await client.install([mod_id], into=folder)
    sha = server_etag(server, mod_id)
    async with Client(server.url) as client:
        api: ServerApi = client.api
        found = await api.check({mod_id: sha, BULK[1]: "0" * 64, 4999999999: sha})
    assert found is not None and "check" not in api.missing
    assert found[mod_id].state == "current" and found[mod_id].sha256 == sha
    assert found[BULK[1]].state == "outdated"
    assert found[BULK[1]].sha256 == server_etag(server, BULK[1])
    assert found[BULK[1]].size and found[BULK[1]].version
    assert found[4999999999].state == "missing" and found[4999999999].sha256 is None
