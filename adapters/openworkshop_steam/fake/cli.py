"""``openworkshop fake-steam``: the fake Steam and a fake steamcmd, for launchers and demos."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import attrs

from openworkshop.testing.catalog import SteamCatalog
from openworkshop.testing.sample import sample_catalog
from openworkshop_steam.fake.server import FakeSteam

__all__ = ["RunningFakeSteam", "main", "run_fake_steam", "start_fake_steam"]


@attrs.define
class RunningFakeSteam:
    """A started fake Steam and the fake steamcmd that downloads from it."""

    steam: FakeSteam
    steamcmd: Path
    session_log: Path

    def environment(self) -> dict[str, str]:
        """Every ``OPENWORKSHOP_*`` setting that points an Open Workshop server at the fakes."""
        return {**self.steam.environment(), "OPENWORKSHOP_STEAMCMD": str(self.steamcmd)}

    async def stop(self) -> None:
        await self.steam.stop()


async def start_fake_steam(
    *,
    catalog: SteamCatalog | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    steamcmd_dir: Path | None = None,
    login_delay: float = 1.5,
    api_keys: Sequence[str] = (),
    **steamcmd: str | float | bool,
) -> RunningFakeSteam:
    """Start the fake Steam (in this event loop) and install a fake steamcmd for it
    (``steamcmd``: more of its settings, e.g. ``gate=folder``; docs/steam.md).

    ``steamcmd_dir`` defaults to a new temporary folder; the steamcmd there reads the live
    catalog from the server, so ``catalog.publish_update`` reaches both. Stop with
    ``await running.stop()``.
    """
    steam = await FakeSteam(catalog, host=host, port=port, api_keys=api_keys).start()
    folder = steamcmd_dir or Path(tempfile.mkdtemp(prefix="openworkshop-fake-steamcmd-"))
    session_log = folder / "sessions.jsonl"
    installed = steam.install_steamcmd(
        folder, login_delay=login_delay, session_log=str(session_log), **steamcmd
    )
    return RunningFakeSteam(steam=steam, steamcmd=installed, session_log=session_log)


def run_fake_steam(
    host: str = "127.0.0.1",
    port: int = 8765,
    catalog_path: Path | None = None,
    *,
    steamcmd_dir: Path | None = None,
    login_delay: float = 1.5,
    api_keys: Sequence[str] = (),
) -> None:
    """Run the fake Steam on ``host:port`` until interrupted (Ctrl-C), printing how to use it.

    Serves ``catalog_path`` (a ``SteamCatalog`` JSON file) or the sample catalog, and writes
    a fake ``steamcmd`` into ``steamcmd_dir`` (default: a temporary folder). Prints the
    ``OPENWORKSHOP_*`` variables that point a server at it, and where the fake steamcmd logs
    its sessions. ``api_keys`` are the Web API keys the fake accepts.
    """
    catalog = SteamCatalog.load(catalog_path) if catalog_path else sample_catalog()

    async def serve() -> None:
        running = await start_fake_steam(
            catalog=catalog,
            host=host,
            port=port,
            steamcmd_dir=steamcmd_dir,
            login_delay=login_delay,
            api_keys=api_keys,
        )
        try:
            print(
                f"Fake Steam on {running.steam.base_url}: {len(catalog.items)} items, "
                f"{len(catalog.apps)} apps. Not Valve's. Ctrl-C stops it."
            )
            print("Point Open Workshop at it with:")
            for key, value in running.environment().items():
                print(f"  export {key}={value}")
            if api_keys:
                print(f"  export OPENWORKSHOP_STEAM_API_KEY={api_keys[0]}")
            print(f"steamcmd sessions are logged to {running.session_log} (one JSON line each);")
            print(f"call counters: {running.steam.base_url}/_fake/calls")
            sys.stdout.flush()
            await asyncio.Event().wait()
        finally:
            await running.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


def main(argv: Sequence[str] | None = None) -> int:
    """``openworkshop fake-steam [--host H] [--port P] [--catalog FILE] …``"""
    parser = argparse.ArgumentParser(
        prog="openworkshop fake-steam",
        description="Run a fake Steam (Web API, store, workshop pages) and a fake steamcmd.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--catalog", type=Path, help="a SteamCatalog JSON file (default: sample)")
    parser.add_argument("--steamcmd-dir", type=Path, help="where to write the fake steamcmd")
    parser.add_argument("--login-delay", type=float, default=1.5, help="seconds per login")
    parser.add_argument("--api-key", action="append", default=[], help="a Web API key to accept")
    args = parser.parse_args(argv)
    run_fake_steam(
        args.host,
        args.port,
        args.catalog,
        steamcmd_dir=args.steamcmd_dir,
        login_delay=args.login_delay,
        api_keys=args.api_key,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
