"""A small launcher embedding the Open Workshop client: it installs mods into a mods folder,
showing each mod's progress, and keeps them up to date.

Run against any Open Workshop server, e.g. the offline demo (`openworkshop demo`):

    python examples/launcher.py http://127.0.0.1:8000 ./mods 2000648800
    python examples/launcher.py http://127.0.0.1:8000 ./mods --update
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from openworkshop_client import (
    Client,
    ClientError,
    Done,
    Event,
    Failed,
    Queued,
    ServerDownloading,
    Skipped,
    Transferring,
    parse_targets,
)


def show(event: Event) -> None:
    """What a launcher's UI would draw; here, one line per step."""
    match event:
        case Queued(position=position):
            where = f" ({position} ahead)" if position is not None else ""
            print(f"  {event.mod_id}: waiting in the server's queue{where}")
        case ServerDownloading():
            print(f"  {event.mod_id}: the server is fetching it from Steam")
        case Transferring(done=done, total=total) if done == total:
            print(f"  {event.mod_id}: received {done} bytes")
        case Skipped():
            print(f"  {event.mod_id}: up to date")
        case Done(sha256=sha256):
            print(f"  {event.mod_id}: installed ({sha256[:12]})")
        case Failed(message=message):
            print(f"  {event.mod_id}: {message}")


async def launch(server: str, folder: Path, mods: list[int], update: bool) -> int:
    async with Client(server, max_transfers=3) as client:
        try:
            if update:
                changed = await client.update(folder, progress=show)
                print(f"{len(changed)} mods updated")
            else:
                # the same operation as an async iterator of events
                async for event in client.events(client.install, mods, into=folder):
                    show(event)
            for status in await client.status(folder):
                print(f"{status.mod.id}  {status.state:9} {status.mod.name}")
        except ClientError as error:
            print(f"cannot start the game's mods: {error}", file=sys.stderr)
            return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("server", help="the Open Workshop server's URL")
    parser.add_argument("folder", type=Path, help="the game's mods folder")
    parser.add_argument("mods", nargs="*", help="mod ids or Workshop URLs to install")
    parser.add_argument("--update", action="store_true", help="update the installed mods")
    args = parser.parse_args()
    return asyncio.run(launch(args.server, args.folder, parse_targets(args.mods), args.update))


if __name__ == "__main__":
    sys.exit(main())
