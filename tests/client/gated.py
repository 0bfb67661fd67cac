"""A real ``openworkshop serve`` whose fake steamcmd writes each item in two parts and waits,
between them, until the test opens the item's gate file: a slow download a test (of the
client, of the web pages) follows step by step, without a clock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import attrs

from openworkshop.testing import SteamCatalog
from tests.client.conftest import fake_steam_server


@attrs.frozen
class Gated:
    url: str
    port: int
    catalog: SteamCatalog
    gate: Path

    def open(self, mod_id: int) -> None:
        """Let the fake steamcmd write the second half of ``mod_id``."""
        (self.gate / f"{mod_id}-2").touch()


@contextlib.contextmanager
def gated_server(folder: Path, catalog: SteamCatalog) -> Iterator[Gated]:
    """The server on 127.0.0.1 over ``catalog``, progress written and read every 0.05 s."""
    gate = folder / "gate"
    gate.mkdir()
    env = {
        "OPENWORKSHOP_PROGRESS_INTERVAL": "0.05",
        "OPENWORKSHOP_PROGRESS_POLL": "0.05",
        "OPENWORKSHOP_PROGRESS_HEARTBEAT": "0.2",
    }
    with fake_steam_server(folder, catalog, env=env, steamcmd={"gate": str(gate)}) as server:
        yield Gated(server.url, server.port, catalog, gate)
