"""Several processes on one database: two ``openworkshop serve`` nodes (the first a worker too,
as by default; the second ``--no-worker``) and one ``openworkshop worker``, sharing one SQLite
file (or one PostgreSQL database) and one data folder, with
the fake Steam and a fake steamcmd that stops one large mod halfway until the test opens its
gate. 30 mods are requested across both nodes; the process downloading the large mod is
killed with SIGKILL mid-batch. Every mod still reaches condition 0 with the fake Steam's
bytes; only mods the killed process held are downloaded again (once its lease ran out);
details calls and steamcmd sessions stay within what each batch may cost; no archive served
is partial. Nothing waits on the clock for its outcome: each step waits for what the
servers say (with a deadline against a hang)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from openworkshop.testing import SteamCatalog
from openworkshop_steam.fake import read_sessions
from tests.client.conftest import SteamThread, _item
from tests.http.conftest import free_port, openworkshop_process

pytestmark = pytest.mark.slow

MODS = tuple(range(4100000001, 4100000031))
LARGE = MODS[7]
DEADLINE = 240.0


def _catalog() -> SteamCatalog:
    catalog = SteamCatalog()
    for mod_id in MODS:
        catalog.add_item(_item(mod_id, blob=(2 << 20) if mod_id == LARGE else 20_000))
    return catalog


def _until(what: str, check: object, deadline: float) -> object:
    while True:
        found = check()  # type: ignore[operator]
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _parent_of(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_two_nodes_and_a_worker_survive_a_killed_process(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, database: str
) -> None:
    folder = tmp_path_factory.mktemp("nodes")
    shared: dict[str, str] = {}
    if database == "postgres":  # every process on one PostgreSQL database
        import uuid

        import psycopg

        url = request.getfixturevalue("postgres_url")
        name = f"nodes_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
        shared["OPENWORKSHOP_DATABASE"] = url.replace("/postgres?", f"/{name}?")
    gate = folder / "gate"
    gate.mkdir()
    for mod_id in MODS:
        if mod_id != LARGE:
            (gate / f"{mod_id}-2").touch()
    catalog = _catalog()
    steam = SteamThread(catalog, folder / "fake-steamcmd", steamcmd={"gate": str(gate)})
    running = steam.start()
    fake = running.steam
    env = {
        **running.environment(),
        "OPENWORKSHOP_CLIENT_RATE": "0",
        "OPENWORKSHOP_GATHER_WINDOW": "0.3",
        "OPENWORKSHOP_LEASE": "6",
        "OPENWORKSHOP_PROGRESS_INTERVAL": "0.05",
        "OPENWORKSHOP_DATA_DIR": str(folder / "data"),
        **shared,
    }
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    killed: list[int] = []
    orphans: list[int] = []
    try:
        with contextlib.ExitStack() as stack:
            nodes = [
                stack.enter_context(
                    openworkshop_process(
                        ["serve", "--log-level", "info", *(["--no-worker"] if n else [])],
                        {**env, "OPENWORKSHOP_PORT": str(port)},
                        ready_url=url + "/info/queue/size",
                        log=folder / f"node{n}.log",
                    )
                )
                for n, (port, url) in enumerate(zip(ports, urls, strict=True))
            ]
            worker = stack.enter_context(
                openworkshop_process(
                    ["worker", "--log-level", "info"],
                    env,
                    ready_text=b" worker, data in ",
                    log=folder / "worker.log",
                )
            )
            processes = {p.pid: p for p in (*nodes, worker)}
            serving_only = nodes[1].pid
            for n, mod_id in enumerate(MODS):
                answer = httpx.get(f"{urls[n % 2]}/download/steam/{mod_id}", timeout=30)
                assert answer.status_code == 202, answer.text
            deadline = time.monotonic() + DEADLINE
            half = catalog.items[LARGE].content_size() // 2

            def halfway() -> bool:
                body = httpx.get(f"{urls[0]}/progress/{LARGE}", timeout=30).json()
                return body[str(LARGE)]["done"] == half

            _until("the large mod halfway", halfway, deadline)
            session = next(s for s in read_sessions(running.session_log) if LARGE in s["items"])
            owner = session["ppid"]
            assert owner == _parent_of(session["pid"])
            assert owner in (nodes[0].pid, worker.pid), (owner, list(processes))
            at_kill = (
                httpx.get(
                    f"{urls[1] if owner == nodes[0].pid else urls[0]}/condition/mod/"
                    + ",".join(map(str, MODS[:25])),
                    timeout=30,
                ).json()
                | httpx.get(
                    f"{urls[1] if owner == nodes[0].pid else urls[0]}/condition/mod/"
                    + ",".join(map(str, MODS[25:])),
                    timeout=30,
                ).json()
            )
            os.kill(owner, signal.SIGKILL)
            processes[owner].wait(30)
            killed.append(owner)
            orphans.append(session["pid"])  # its steamcmd waits at the gate, parentless
            held = {int(i) for i, state in at_kill.items() if state in (2, 3)}
            (gate / f"{LARGE}-2").touch()
            alive = [u for u, p in zip(urls, nodes, strict=True) if p.pid != owner]

            def all_ready() -> bool:
                found: dict[str, int] = {}
                for part in (MODS[:25], MODS[25:]):
                    found |= httpx.get(
                        f"{alive[0]}/condition/mod/" + ",".join(map(str, part)), timeout=30
                    ).json()
                return len(found) == len(MODS) and set(found.values()) == {0}

            _until("every mod in condition 0", all_ready, deadline)
            for mod_id in MODS:
                answer = httpx.get(f"{alive[0]}/download/{mod_id}", timeout=60)
                assert answer.status_code == 200, (mod_id, answer.status_code)
                body = answer.content
                assert answer.headers["etag"].strip('"') == hashlib.sha256(body).hexdigest()
                with zipfile.ZipFile(io.BytesIO(body)) as archive:
                    files = {name: archive.read(name) for name in archive.namelist()}
                expected = {p: b"".join(c) for p, c in catalog.items[mod_id].iter_files()}
                assert files == expected, mod_id
            sessions = read_sessions(running.session_log)
    finally:
        for pid in orphans:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        steam.stop()
    assert not any(r["ppid"] == serving_only for r in sessions)  # --no-worker: it never fetched
    fetched: dict[int, int] = {}
    for record in sessions:
        assert len(record["items"]) <= 25
        for mod_id in record["items"]:
            fetched[mod_id] = fetched.get(mod_id, 0) + 1
    assert set(fetched) == set(MODS)
    twice = {mod_id for mod_id, count in fetched.items() if count > 1}
    assert LARGE in twice and twice <= held, (twice, held)
    assert max(fetched.values()) == 2
    # what a single node pays for the same mods: each mod's details asked once (in calls of
    # up to 100 ids), and again only for a mod taken over; one page per mod version; one
    # login per session of at most 25 items (checked above), one session per batch and
    # steamcmd's item limit
    asked = [r.ids() for r in list(fake.requests) if r.endpoint == "details"]
    assert all(1 <= len(ids) <= 100 for ids in asked)
    counted = [i for ids in asked for i in ids]
    assert set(counted) == set(MODS)
    assert all(counted.count(i) == 1 for i in set(MODS) - held), asked
    assert all(counted.count(i) <= 2 for i in held), asked
    assert len(sessions) <= sum(-(-len(ids) // 25) for ids in asked), (len(sessions), asked)
    assert fake.calls["page"] <= len(MODS) + len(held), fake.calls
