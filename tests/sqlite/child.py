"""A process writing to a shared database file, for the adapter's multi-process tests.

Usage: ``python child.py <command> <database> [arguments]``; see the commands below.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from openworkshop.domain import Mod
from openworkshop.states import ModState
from openworkshop_sqlite import SqliteStorage

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def wait_for(go: Path) -> None:
    """Start together with the other children: say ready, wait until the parent creates
    ``go``."""
    go.with_name(f"ready-{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.005)


async def downloads(path: Path, go: Path, mod_id: int, times: int) -> None:
    """Count ``times`` downloads of one mod and as many ``files_sent``."""
    storage = SqliteStorage(path, readers=1)
    await storage.open()
    wait_for(go)
    for _ in range(times):
        await storage.add_download(mod_id, now=T0)
        await storage.count("files_sent", at=T0)
    await storage.close()


async def claim(path: Path, go: Path) -> None:
    """Claim queued mods a few at a time until none is left; print what was taken."""
    storage = SqliteStorage(path, readers=1)
    await storage.open()
    wait_for(go)
    taken: list[int] = []
    far = T0 + dt.timedelta(days=1)
    while batch := await storage.claim(ModState.QUEUED, 3, now=T0, lease_until=far):
        taken += [m.id for m in batch]
        await asyncio.sleep(0.001)  # the work between claims
    await storage.close()
    print(json.dumps(taken))


async def churn(path: Path, batch: int, base: int) -> None:
    """Write forever: bulk loads of ``batch`` mods with ids from ``base`` (one long
    transaction each) between small writes. Prints ``loading <k>`` before each load, so the
    parent can kill it in one."""
    storage = SqliteStorage(path, readers=1)
    await storage.open()
    for k in range(1_000_000):
        first = base + k * batch
        mods = [
            Mod(id=first + i, name=f"Batch {k} mod {i}", game_id=10, state=ModState.READY)
            for i in range(batch)
        ]
        print(f"loading {k}", flush=True)
        await storage.bulk_load(
            mods=mods, tags={m.id: ["churn", f"k{k % 5}"] for m in mods},
            dependencies={first: [1]},
        )  # fmt: skip
        await storage.add_download(first, now=T0)
        await storage.put_mod(Mod(id=k + 1, name=f"small {k}", game_id=10), expect=None)
        await storage.set_mod_tags(k + 1, 10, [f"k{k % 5}"])


def main() -> None:
    command, path = sys.argv[1], Path(sys.argv[2])
    if command == "downloads":
        asyncio.run(downloads(path, Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
    elif command == "claim":
        asyncio.run(claim(path, Path(sys.argv[3])))
    elif command == "churn":
        asyncio.run(churn(path, int(sys.argv[3]), int(sys.argv[4])))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
