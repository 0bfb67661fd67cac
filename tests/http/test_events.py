"""The events feed and the bulk update check over HTTP: ``/events`` as JSON (in process) and
as Server-Sent Events read by a real HTTP client from a real server process (live events,
``Last-Event-ID``, the heartbeat, the end of a stream whose client went away);
``POST /check/mods`` for every case, with no call to Valve."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import pytest

from openworkshop.testing import sample_catalog
from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID
from tests.http.conftest import Api, assert_error, free_port, openworkshop_process, sse_messages

SSE = {"Accept": "text/event-stream"}


# --- in process -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_feed_as_json_pages_with_its_cursor(api: Api) -> None:
    first, second = api.mod_ids()[:2]
    await api.cache([first])  # one after the other: the feed's order is theirs
    await api.cache([second])
    whole = (await api.client.get("/events")).json()
    assert [(e["type"], e.get("mod_id")) for e in whole["events"]][-2:] == [
        ("mod_added", first),
        ("mod_added", second),
    ]
    assert whole["events"][0]["type"] == "game_added"
    assert whole["more"] is False and whole["next"] == whole["events"][-1]["id"]
    added = whole["events"][-1]
    etag = (await api.client.head(f"/download/{second}")).headers["etag"].strip('"')
    assert added["sha256"] == etag
    assert set(added) == {
        "id",
        "type",
        "at",
        "mod_id",
        "game_id",
        "name",
        "sha256",
        "size",
        "date_update",
    }

    one = (await api.client.get("/events", params={"limit": 1})).json()
    assert (one["events"], one["more"]) == (whole["events"][:1], True)
    rest = (await api.client.get("/events", params={"after": one["next"]})).json()
    assert rest["events"] == whole["events"][1:]
    after_all = (await api.client.get("/events", params={"after": whole["next"]})).json()
    assert after_all == {"events": [], "next": whole["next"], "more": False}


@pytest.mark.anyio
async def test_a_cursor_past_the_retention_window_is_410(api: Api) -> None:
    await api.cache(api.mod_ids()[:1])
    first = (await api.client.get("/events", params={"limit": 1})).json()
    api.clock.advance(api.settings.event_retention + 1)
    assert await api.workshop.trim_events() >= 2
    body = assert_error(
        await api.client.get("/events", params={"after": first["events"][0]["id"]}), 410, 410
    )
    assert "resync from /list/mods/" in body["message"]
    streamed = await api.client.get("/events", params={"after": first["next"]}, headers=SSE)
    assert_error(streamed, 410, 410)  # refused before any stream starts
    again = (await api.client.get("/events")).json()
    assert again["events"] == [] and again["more"] is False
    assert (await api.client.get("/events", params={"after": again["next"]})).status_code == 200


@pytest.mark.anyio
async def test_the_bulk_check_over_http(api: Api) -> None:
    current, outdated, waiting = api.mod_ids()[:3]
    await api.cache([current, outdated])
    calls = dict(api.steam.calls)
    sha = (await api.client.head(f"/download/{current}")).headers["etag"].strip('"')
    info = (await api.client.get(f"/info/mod/{outdated}", params={"dates": "true"})).json()
    date = info["result"]["date_update"]
    answer = await api.client.post(
        "/check/mods",
        json={str(current): sha.upper(), str(outdated): "0" * 64, str(waiting): date, "9": sha},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    out_sha = (await api.client.head(f"/download/{outdated}")).headers["etag"].strip('"')
    size = int((await api.client.head(f"/download/{outdated}")).headers["content-length"])
    assert body == {
        str(current): {
            "state": "current",
            "sha256": sha,
            "size": body[str(current)]["size"],
            "date_update": body[str(current)]["date_update"],
        },
        str(outdated): {"state": "outdated", "sha256": out_sha, "size": size, "date_update": date},
        str(waiting): {"state": "missing"},
        "9": {"state": "missing"},
    }
    by_date = await api.client.post("/check/mods", json={str(outdated): date})
    assert by_date.json()[str(outdated)]["state"] == "current"
    assert dict(api.steam.calls) == calls  # not one call to Valve
    empty = await api.client.post("/check/mods", json={})
    assert (empty.status_code, empty.json()) == (200, {})


@pytest.mark.anyio
async def test_refresh_marks_the_mods_it_checks(make_api: object) -> None:
    api: Api = await make_api(update_cooldown=60)  # type: ignore[operator]
    ids = api.mod_ids()[:2]
    await api.cache(ids)
    api.clock.advance(61)
    shas = {
        str(i): (await api.client.head(f"/download/{i}")).headers["etag"].strip('"') for i in ids
    }
    calls = api.steam.calls["details"]
    body = (await api.client.post("/check/mods?refresh=true", json=shas)).json()
    assert all(row["checking"] is True and row["state"] == "current" for row in body.values())
    await api.workshop.refreshed()
    assert api.steam.calls["details"] == calls + 1  # both in one batched call
    again = (await api.client.post("/check/mods?refresh=true", json=shas)).json()
    assert not any("checking" in row for row in again.values())  # within the cooldown now


# --- a real server process, read by a real HTTP client ---------------------------------------------


@attrs.frozen
class Demo:
    url: str
    log: Path
    left: int
    """The sample mod the demo does not request at start."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("events-demo")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "OPENWORKSHOP_CLIENT_RATE": "0",
        "OPENWORKSHOP_EVENTS_HEARTBEAT": "0.3",
        "OPENWORKSHOP_EVENTS_POLL": "0.05",
    }
    log = folder / "server.log"
    args = ["demo", "--port", str(port), "--data-dir", str(folder / "data"), "--log-level", "info"]
    with openworkshop_process(args, env, ready_url=url + "/info/queue/size", log=log):
        deadline = time.monotonic() + 90
        while httpx.get(url + "/info/queue/size").json() != 0:
            assert time.monotonic() < deadline, "the demo did not cache its sample mods"
            time.sleep(0.1)
        ids = [i for i in sample_catalog().items if i not in (PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID)]
        yield Demo(url, log, ids[-1])


def read_events(lines: Iterator[str], count: int) -> list[dict]:
    """The next ``count`` events of a stream (``id``, ``event`` and ``data`` checked)."""
    found: list[dict] = []
    for fields in sse_messages(lines):
        data = json.loads(fields["data"])
        assert (data["id"], data["type"]) == (fields["id"], fields["event"])
        found.append(data)
        if len(found) == count:
            return found
    raise AssertionError(f"the stream ended after {len(found)} events")


def test_the_stream_sends_what_is_kept_then_each_event_as_it_happens(demo: Demo) -> None:
    kept = httpx.get(demo.url + "/events").json()["events"]
    assert kept and not any(e.get("mod_id") == demo.left for e in kept)
    with (
        httpx.Client(timeout=60) as client,
        client.stream("GET", demo.url + "/events", headers=SSE) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert read_events(lines, len(kept)) == kept
        asked = httpx.get(f"{demo.url}/download/steam/{demo.left}")
        assert asked.status_code == 202, asked.text
        (live,) = read_events(lines, 1)
    assert (live["type"], live["mod_id"]) == ("mod_added", demo.left)
    assert httpx.get(demo.url + "/events", params={"after": kept[-1]["id"]}).json()["events"] == [
        live
    ]


def test_last_event_id_resumes_after_it(demo: Demo) -> None:
    kept = httpx.get(demo.url + "/events").json()["events"]
    headers = {**SSE, "Last-Event-ID": kept[1]["id"]}
    with (
        httpx.Client(timeout=60) as client,
        client.stream("GET", demo.url + "/events", headers=headers) as stream,
    ):
        assert read_events(stream.iter_lines(), len(kept) - 2) == kept[2:]


def test_a_quiet_stream_sends_heartbeats(demo: Demo) -> None:
    latest = httpx.get(demo.url + "/events", params={"limit": 1000}).json()["next"]
    with (
        httpx.Client(timeout=60) as client,
        client.stream("GET", demo.url + "/events", params={"after": latest}, headers=SSE) as stream,
    ):
        lines = stream.iter_lines()
        assert next(lines) == "retry: 1000"
        assert next(lines) == ""
        assert next(lines) == ": heartbeat"


def test_a_stream_ends_when_its_client_goes_away(demo: Demo) -> None:
    """The server's access log writes a request's line when its answer has ended: a stream
    whose client closed the connection is logged (the server stopped it), and the server
    answers on."""
    marker = "after=c0"
    with (
        httpx.Client(timeout=60) as client,
        client.stream("GET", demo.url + "/events?" + marker, headers=SSE) as stream,
    ):
        assert next(stream.iter_lines()) == "retry: 1000"
    deadline = time.monotonic() + 60
    while f"GET /events?{marker}" not in demo.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the stream went on after its client left"
        time.sleep(0.05)
    line = next(
        line for line in demo.log.read_text().splitlines() if f"GET /events?{marker}" in line
    )
    assert '" 200 ' in line
    assert httpx.get(demo.url + "/info/queue/size").status_code == 200


@pytest.mark.anyio
async def test_only_a_refreshing_check_counts_against_the_client_rate(make_api: object) -> None:
    """``refresh=true`` may call Valve, so it takes from the per-client limit; a plain check
    never does."""
    api: Api = await make_api(client_rate=1)  # type: ignore[operator]
    for _ in range(3):
        assert (await api.client.post("/check/mods", json={"1": "a" * 64})).status_code == 200
    assert (await api.client.post("/check/mods?refresh=true", json={})).status_code == 200
    limited = await api.client.post("/check/mods?refresh=true", json={})
    body = assert_error(limited, 429, 429)
    assert "/check/mods?refresh=true" in body["details"][0]
