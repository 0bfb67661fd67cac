"""The client on the launcher endpoints (``/plan``) of a real server process with the fake
Steam: a dependency chain installed dependencies first, a collection installed as its items
(from the library and from the command line), long lists in a ``POST /plan`` body."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from openworkshop_client import Client, Done, Event, Manifest
from tests.client.conftest import (
    PLAN_CHAIN,
    PLAN_COLLECTION,
    PLAN_ITEMS,
    PLAN_NESTED,
    Server,
    files_in,
    files_of,
    server_etag,
)
from tests.client.proxy import Proxy

pytestmark = pytest.mark.anyio

SCRIPT = Path(sys.executable).with_name("openworkshop")


def _paths(proxy: Proxy) -> list[str]:
    return [s.path for s in proxy.sent]


async def test_install_uses_the_plan_and_puts_dependencies_first(
    server: Server, launcher_proxy: Proxy, tmp_path: Path
) -> None:
    """The top of a chain of three: the client asks ``/plan`` (never the original API's
    ``/info/mod``), lets the server learn each level's required items (no Web API key: they
    come with each page), and installs the three dependencies first, with the server's
    sha256 and date in the manifest."""
    events: list[Event] = []
    folder = tmp_path / "mods"
    async with Client(launcher_proxy.url) as client:
        installed = await client.install([PLAN_CHAIN[0]], into=folder, progress=events.append)
    assert [m.id for m in installed] == [PLAN_CHAIN[2], PLAN_CHAIN[1], PLAN_CHAIN[0]]
    assert [e.mod_id for e in events if isinstance(e, Done)] == [
        PLAN_CHAIN[2],
        PLAN_CHAIN[1],
        PLAN_CHAIN[0],
    ]
    paths = _paths(launcher_proxy)
    assert any(p.startswith("/plan/") for p in paths)
    assert not any(p.startswith("/info/mod") for p in paths)
    manifest = Manifest.load(folder)
    for mod_id in PLAN_CHAIN:
        assert files_in(folder / str(mod_id)) == files_of(server.catalog, mod_id)
        assert manifest.mods[mod_id].sha256 == server_etag(server, mod_id)
        assert manifest.mods[mod_id].version
    assert manifest.mods[PLAN_CHAIN[0]].direct and not manifest.mods[PLAN_CHAIN[2]].direct
    assert manifest.mods[PLAN_CHAIN[1]].dependencies == (PLAN_CHAIN[2],)


def test_install_of_a_collection_installs_its_items(server: Server, tmp_path: Path) -> None:
    """``openworkshop install <collection id>``: the server expands the collection (a nested
    one too) through ``/plan``; each item is installed as asked for; the collection itself
    is never a folder or a manifest entry."""
    folder = tmp_path / "mods"
    done = subprocess.run(
        [str(SCRIPT), "install", str(PLAN_COLLECTION), "--into", str(folder),
         "--server", server.url, "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert {m["id"] for m in events[-1]["installed"]} == set(PLAN_ITEMS)
    manifest = Manifest.load(folder)
    assert set(manifest.mods) == set(PLAN_ITEMS)
    assert all(manifest.mods[i].direct for i in PLAN_ITEMS)
    for mod_id in PLAN_ITEMS:
        assert files_in(folder / str(mod_id)) == files_of(server.catalog, mod_id)
    assert not (folder / str(PLAN_COLLECTION)).exists()
    assert not (folder / str(PLAN_NESTED)).exists()


async def test_a_long_list_is_planned_in_a_post_body(server: Server, launcher_proxy: Proxy) -> None:
    """Past 50 ids the plan goes in one ``POST /plan`` body; ids Steam does not list come
    back marked missing."""
    ids = [PLAN_ITEMS[0], *range(5_000_000_001, 5_000_000_061)]
    async with Client(launcher_proxy.url) as client:
        plan = await client.api.plan(ids)
    assert plan is not None
    assert [(s.method, s.path) for s in launcher_proxy.sent] == [("POST", "/plan")]
    entries = {e.id: e for e in plan.entries}
    assert set(entries) == set(ids)
    assert not entries[PLAN_ITEMS[0]].missing
    assert all(entries[i].missing for i in ids[1:])
