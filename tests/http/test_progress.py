"""Live progress over HTTP, in process: ``/progress/{ids}`` as JSON and ``/info/mod``'s
``progress`` for each phase a test can hold a mod in (the streamed form is read from a real
server process in tests/client/test_progress.py)."""

from __future__ import annotations

import asyncio

import pytest

from openworkshop.testing.sample import PRIVATE_MOD_ID
from tests.gathering import AllRequestsIn, Ticks
from tests.http.conftest import Api, MakeApi

pytestmark = pytest.mark.anyio


async def test_progress_as_json_for_every_phase(make_api: MakeApi) -> None:
    api = await make_api()
    first, second = api.mod_ids()[:2]
    ticks = Ticks()
    api.workshop.pipeline.ticking = ticks.wait
    hold = api.steam.hold(first, at=0.5)
    assert (await api.client.get(f"/download/steam/{first}")).status_code == 202
    await asyncio.wait_for(hold.reached.wait(), 60)
    await ticks.parked()
    api.clock.advance(4)
    await ticks.step()
    answer = await api.client.get(f"/progress/[{first},{second},1]")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    size = api.catalog.items[first].details.file_size
    assert body[str(first)] == {
        "phase": "downloading",
        "condition": 2,
        "position": None,
        "done": size // 2,
        "total": size,
        "eta": pytest.approx(4.0, abs=0.1),
    }
    assert body[str(second)] == {
        "phase": "missing",
        "condition": None,
        "position": None,
        "done": None,
        "total": None,
        "eta": None,
    }
    assert body["1"]["phase"] == "missing"
    info = (await api.client.get(f"/info/mod/{first}")).json()
    assert info["progress"] == body[str(first)]
    assert info["result"]["condition"] == 2
    hold.go.set()
    await api.workshop.wait_until([first], [0], timeout=60)
    assert (await api.client.get(f"/progress/{first}")).json()[str(first)]["phase"] == "ready"
    assert "progress" not in (await api.client.get(f"/info/mod/{first}")).json()


async def test_queued_mods_know_their_place_and_failures_their_reason(api: Api) -> None:
    gate = AllRequestsIn()  # the worker claims nothing until the test has looked
    api.workshop.pipeline.gathering = gate.wait
    ids = api.mod_ids()[:3]
    for mod_id in ids:
        api.clock.advance(1)
        assert (await api.client.get(f"/download/steam/{mod_id}")).status_code == 202
    body = (await api.client.get("/progress/" + ",".join(map(str, ids)))).json()
    assert [body[str(i)]["position"] for i in ids] == [1, 2, 3]
    assert {body[str(i)]["phase"] for i in ids} == {"queued"}
    info = (await api.client.get(f"/info/mod/{ids[2]}")).json()
    assert info["progress"]["position"] == 3
    assert (await api.client.get(f"/download/steam/{PRIVATE_MOD_ID}")).status_code in (202, 404)
    gate.open()
    await api.workshop.wait_until([*ids, PRIVATE_MOD_ID], [0], timeout=60)
    body = (await api.client.get(f"/progress/[{PRIVATE_MOD_ID},{ids[0]}]")).json()
    assert body[str(PRIVATE_MOD_ID)]["phase"] == "failed"
    assert body[str(PRIVATE_MOD_ID)]["reason"] == "not_found"
    assert body[str(ids[0])]["phase"] == "ready"
