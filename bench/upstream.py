"""What 1,000 requests cost Valve: our pipeline next to the original server's pattern.

1,000 ``/download/steam`` requests over 200 distinct uncached mods from 50 concurrent
clients, against the fake Steam over loopback (real ``SteamWebSource``, real fake
``steamcmd`` subprocesses with a realistic login delay, SQLite storage, archives on disk).
Prints the upstream calls of each kind and the time until every mod is downloadable, with
and without a Steam Web API key, next to the original's pattern for the same requests:
one details call per request, one steamcmd login per mod (one mod at a time), one page per
mod.

    python bench/upstream.py [--requests 1000] [--mods 200] [--clients 50] [--login-delay 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py would shadow the standard library's http package for scripts run from here
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import asyncio
import random
import tempfile
import time

from openworkshop import FileArchiveStore, ModState, Settings, Workshop
from openworkshop.errors import AlreadyProcessing
from openworkshop.testing import SteamCatalog, sample_catalog
from openworkshop_steam import SteamWebSource
from openworkshop_steam.fake.cli import start_fake_steam
from openworkshop_steam.fake.steamcmd import read_sessions

API_KEY = "BENCHKEY0123456789ABCDEF01234567"


def build_catalog(mods: int) -> tuple[SteamCatalog, list[int]]:
    catalog = sample_catalog(mods_per_game=mods // 3 + 1, seed=11)
    ids = [i for i, item in catalog.items.items() if item.visible and not item.download_error]
    return catalog, ids[:mods]


def make_storage(path: Path):  # type: ignore[no-untyped-def]
    try:
        from openworkshop_sqlite import SqliteStorage
    except ImportError:  # the SQLite adapter is optional for this measurement
        from openworkshop.testing import MemoryStorage

        return MemoryStorage(), "memory"
    return SqliteStorage(path), "sqlite"


async def scenario(args: argparse.Namespace, *, with_key: bool) -> dict[str, float]:
    catalog, ids = build_catalog(args.mods)
    work = Path(tempfile.mkdtemp(prefix="ow-bench-upstream-"))
    running = await start_fake_steam(
        catalog=catalog,
        steamcmd_dir=work / "steamcmd",
        login_delay=args.login_delay,
        api_keys=[API_KEY],
    )
    fake = running.steam
    source = SteamWebSource(
        api_url=fake.api_url,
        community_url=fake.community_url,
        store_url=fake.store_url,
        steamcmd=str(running.steamcmd),
        api_key=API_KEY if with_key else None,
    )
    storage, storage_name = make_storage(work / "catalog.sqlite3")
    settings = Settings(gather_window=0.25, workers=2, upstream_per_minute=10_000)
    workshop = Workshop(
        storage=storage,
        steam=source,
        archives=FileArchiveStore(work / "archives"),
        settings=settings,
        downloads_dir=work / "downloads",
    )
    rng = random.Random(5)
    plan = [rng.choice(ids) for _ in range(args.requests)]
    for i, mod_id in enumerate(ids):  # every mod is asked for at least once
        plan[i * len(plan) // len(ids)] = mod_id
    per_client = [plan[c :: args.clients] for c in range(args.clients)]
    answered = {"queued": 0, "merged": 0, "served": 0}

    async def client(requests: list[int]) -> None:
        for mod_id in requests:
            await asyncio.sleep(rng.random() * 0.2)  # users arrive over a few seconds
            try:
                answer = await workshop.request_download(mod_id)
            except AlreadyProcessing:
                answered["merged"] += 1
            else:
                answered["queued" if hasattr(answer, "updating") else "served"] += 1

    await workshop.start()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(r) for r in per_client))
        while True:
            states = await workshop.storage.mod_states(ids)
            if len(states) == len(ids) and all(s.downloadable for s in states.values()):
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        await workshop.wait_until(ids, [ModState.READY], timeout=60)
    finally:
        await workshop.stop()
        await source.close()
        await running.stop()
    sessions = read_sessions(running.session_log)
    details = fake.calls["details"] + fake.calls["service_details"]
    return {
        "details": details,
        "store": fake.calls["appdetails"],
        "pages": fake.calls["page"],
        "sessions": len(sessions),
        "webapi_plus_logins": details + len(sessions),
        "total": details + fake.calls["appdetails"] + fake.calls["page"] + len(sessions),
        "seconds": elapsed,
        "games": len({catalog.items[i].details.app_id for i in ids}),
        "storage": storage_name,
        **answered,
    }


def original(args: argparse.Namespace, games: int) -> dict[str, float]:
    """The original server's pattern for the same requests, counted by its rules."""
    details = args.requests  # one GetPublishedFileDetails per /download/steam request
    logins = args.mods  # one steamcmd session per mod, one mod at a time
    pages = args.mods  # one workshop page per mod
    return {
        "details": details,
        "store": games,
        "pages": pages,
        "sessions": logins,
        "webapi_plus_logins": details + logins,
        "total": details + games + pages + logins,
        "seconds": logins * args.login_delay,  # lower bound: the logins alone, in sequence
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--mods", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--login-delay", type=float, default=2.0)
    args = parser.parse_args()
    keyless = asyncio.run(scenario(args, with_key=False))
    keyed = asyncio.run(scenario(args, with_key=True))
    base = original(args, int(keyless["games"]))
    print(
        f"{args.requests} requests, {args.mods} mods, {args.clients} clients, "
        f"login delay {args.login_delay}s, storage {keyless['storage']}"
    )
    print(
        f"answers without key: {keyless['queued']} queued, {keyless['merged']} merged, "
        f"{keyless['served']} served from cache"
    )
    rows = [
        ("details calls", "details"),
        ("store calls", "store"),
        ("workshop pages", "pages"),
        ("steamcmd sessions (logins)", "sessions"),
        ("Web API calls + logins", "webapi_plus_logins"),
        ("total upstream calls", "total"),
        ("seconds until all downloadable", "seconds"),
    ]
    print(f"{'':32}{'ours, no key':>14}{'ours, key':>12}{'original':>12}{'ratio':>9}")
    for label, key in rows:
        ratio = base[key] / keyless[key] if keyless[key] else float("inf")
        fmt = "{:>14.1f}{:>12.1f}{:>12.1f}" if key == "seconds" else "{:>14.0f}{:>12.0f}{:>12.0f}"
        print(f"{label:32}" + fmt.format(keyless[key], keyed[key], base[key]) + f"{ratio:>8.1f}×")
    print(
        "targets: Web API calls + logins ≥ 50× fewer "
        f"(no key {base['webapi_plus_logins'] / keyless['webapi_plus_logins']:.0f}×, "
        f"key {base['webapi_plus_logins'] / keyed['webapi_plus_logins']:.0f}×); "
        f"pages ≤ one per mod version ({keyless['pages']:.0f} for {args.mods}), none with a key "
        f"({keyed['pages']:.0f})"
    )
    print("(original seconds: a lower bound, its logins in sequence without any transfer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
