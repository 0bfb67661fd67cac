"""``/plan`` (GET and POST), ``/info/collection`` and ``/download/steam`` of a collection
over HTTP: the shapes docs/http.md describes, queueing, and the documented schemas."""

from __future__ import annotations

import pytest

from openworkshop import ModState
from openworkshop.testing import SteamCatalog, sample_catalog
from openworkshop_http.openapi import openapi_document
from tests.gathering import AllRequestsIn
from tests.http.conftest import Api, MakeApi, assert_error
from tests.steam.catalogs import make_item

pytestmark = pytest.mark.anyio

TOP, MIDDLE, BOTTOM = 9_000_000_001, 9_000_000_002, 9_000_000_003
COLLECTION = 9_100_000_001
KEYS = {
    "id",
    "name",
    "condition",
    "size",
    "sha256",
    "date_update",
    "dependencies",
    "parent",
    "collection",
    "missing",
}


def plan_catalog() -> SteamCatalog:
    catalog = sample_catalog(mods_per_game=1)
    catalog.add_item(make_item(TOP, dependencies=(MIDDLE,)))
    catalog.add_item(make_item(MIDDLE, dependencies=(BOTTOM,)))
    catalog.add_item(make_item(BOTTOM))
    catalog.add_item(make_item(COLLECTION, is_collection=True, dependencies=(TOP, BOTTOM)))
    return catalog


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    made = await make_api(catalog=plan_catalog())
    made.steam.with_key = True
    return made


async def test_get_and_post_answer_the_same_plan(api: Api) -> None:
    """Dependencies first, each entry with the documented keys; POST with a JSON body gives
    the same answer; nothing is queued without ``queue``."""
    answer = await api.client.get(f"/plan/[{TOP}]")
    assert answer.status_code == 200
    body = answer.json()
    assert [e["id"] for e in body["results"]] == [BOTTOM, MIDDLE, TOP]
    assert all(set(e) == KEYS for e in body["results"])
    top = body["results"][-1]
    assert top["parent"] is None and top["dependencies"] == [MIDDLE]
    assert top["condition"] is None and top["sha256"] is None and top["name"] == f"Item {TOP}"
    assert body["results"][0]["parent"] == MIDDLE
    assert (body["cycles"], body["queued"], body["complete"]) == ([], [], True)
    posted = await api.client.post("/plan", json={"ids": [str(TOP)]})
    assert posted.status_code == 200 and posted.json() == body
    assert await api.workshop.catalog.mod_states([TOP, MIDDLE, BOTTOM]) == {}


async def test_queue_true_queues_the_plan_and_a_ready_plan_names_sha256(api: Api) -> None:
    """``queue=true`` queues every mod the server lacks (condition 3 at once); once they are
    downloaded the plan carries each archive's sha256 and date_update."""
    gate = AllRequestsIn()
    api.workshop.pipeline.gathering = gate.wait  # the worker waits until the answer is read
    answer = await api.client.get(f"/plan/{TOP}?queue=true")
    body = answer.json()
    assert sorted(body["queued"]) == sorted([TOP, MIDDLE, BOTTOM])
    assert {e["condition"] for e in body["results"]} == {int(ModState.QUEUED)}
    gate.open()
    states = await api.workshop.wait_until([TOP, MIDDLE, BOTTOM], [ModState.READY], timeout=30)
    assert set(states.values()) == {ModState.READY}
    ready = (await api.client.get(f"/plan/{TOP}")).json()
    for entry in ready["results"]:
        assert entry["condition"] == 0 and len(entry["sha256"]) == 64 and entry["date_update"]
        head = await api.client.head(f"/download/{entry['id']}")
        assert head.headers["etag"] == f'"{entry["sha256"]}"'


async def test_a_collection_over_http(api: Api) -> None:
    """``/info/collection`` lists the items with their conditions (null for a mod, not a
    collection); ``/download/steam/{collection}`` queues them and answers 202 with the list;
    a plan from the collection starts with its items' requirements."""
    gate = AllRequestsIn()
    api.workshop.pipeline.gathering = gate.wait
    info = (await api.client.get(f"/info/collection/{COLLECTION}")).json()
    assert info == {
        "result": {
            "id": COLLECTION,
            "name": f"Item {COLLECTION}",
            "items": [
                {"id": TOP, "name": "", "condition": None},
                {"id": BOTTOM, "name": "", "condition": None},
            ],
        }
    }
    assert (await api.client.get(f"/info/collection/{TOP}")).json() == {"result": None}
    queued = await api.client.get(f"/download/steam/{COLLECTION}")
    assert queued.status_code == 202 and "retry-after" in queued.headers
    body = queued.json()
    assert body["message"] == "request added to queue" and body["collection"] == COLLECTION
    assert body["items"] == [{"id": TOP, "condition": 3}, {"id": BOTTOM, "condition": 3}]
    assert body["queued"] == [TOP, BOTTOM]
    plan = (await api.client.get(f"/plan/[{COLLECTION}]")).json()
    assert [e["id"] for e in plan["results"]] == [BOTTOM, MIDDLE, TOP]
    assert plan["collections"] == {str(COLLECTION): [TOP, BOTTOM]}
    assert [e["collection"] for e in plan["results"]] == [COLLECTION, None, COLLECTION]
    gate.open()


async def test_more_than_500_mods_is_413(api: Api, make_api: MakeApi) -> None:
    ids = ",".join(str(i) for i in range(1, 502))
    assert_error(await api.client.get(f"/plan/[{ids}]"), 413, 413)


async def test_queue_without_steamcmd_is_not_ready(make_api: MakeApi) -> None:
    api = await make_api(catalog=plan_catalog(), can_download=False)
    assert_error(await api.client.get(f"/plan/{TOP}?queue=true"), 503, 1)
    assert (await api.client.get(f"/plan/{TOP}")).status_code == 200


def test_the_document_describes_the_launcher_endpoints() -> None:
    paths = openapi_document()["paths"]
    assert set(paths["/plan"]) == {"post"}
    assert paths["/plan"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "required"
    ] == ["ids"]
    assert set(paths["/plan/{ids_array}"]) == {"get"}
    assert "413" in paths["/plan/{ids_array}"]["get"]["responses"]
    assert "/info/collection/{collection_id}" in paths


async def test_a_browser_may_post_a_plan(api: Api) -> None:
    """The CORS preflight of ``POST /plan`` with a JSON body allows it."""
    answer = await api.client.options(
        "/plan",
        headers={
            "Origin": "https://launcher.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert answer.status_code == 204
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert answer.headers["access-control-allow-headers"] == "content-type"
