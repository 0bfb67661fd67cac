"""Fixtures for the Steam adapter's tests: the fake Steam on loopback, the fake steamcmd as a
real subprocess, and catalogs built for each behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from openworkshop.domain import AppDetails
from openworkshop.testing import CatalogApp, SteamCatalog, sample_catalog
from openworkshop_steam import SteamWebSource
from openworkshop_steam.fake import FakeSteam, install_fake_steamcmd, read_sessions

API_KEY = "0123456789ABCDEF0123456789ABCDEF"
CAPTURES = Path(__file__).resolve().parent / "fixtures"
"""Steam's answers as captured (or, for pages, reconstructed), with their provenance in
``SOURCES.md`` and ``pages/README.md``."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def captures() -> Path:
    """The folder of Steam's captured answers: ``webapi/``, ``store/``, ``steamcmd/``, ``pages/``."""
    return CAPTURES


@pytest.fixture
def catalog() -> SteamCatalog:
    """The sample catalog with 50 mods per game (152 items), and one game that refuses
    anonymous downloads."""
    catalog = sample_catalog(mods_per_game=50)
    catalog.add_app(CatalogApp(details=AppDetails(id=107410, name="Arma 3"), anonymous=False))
    return catalog


@pytest.fixture
async def fake(catalog: SteamCatalog) -> AsyncIterator[FakeSteam]:
    async with FakeSteam(catalog, api_keys={API_KEY}, seed=1) as fake:
        yield fake


@pytest.fixture
def session_log(tmp_path: Path) -> Path:
    return tmp_path / "steamcmd-sessions.jsonl"


@pytest.fixture
def sessions(session_log: Path) -> Callable[[], list[dict[str, Any]]]:
    """The steamcmd sessions run so far (one per process), as the fake steamcmd logged them."""
    return lambda: read_sessions(session_log)


@pytest.fixture
def steamcmd(fake: FakeSteam, tmp_path: Path, session_log: Path) -> Path:
    """A fake steamcmd reading the fake Steam's live catalog; quick logins."""
    return install_fake_steamcmd(
        tmp_path / "steamcmd",
        catalog=fake.catalog_url,
        login_delay=0.02,
        item_delay=0,
        session_log=str(session_log),
    )


@pytest.fixture
def make_source(fake: FakeSteam, steamcmd: Path) -> Callable[..., SteamWebSource]:
    """A SteamWebSource aimed at the fake; keyword arguments override the defaults."""
    made: list[SteamWebSource] = []

    def make(**overrides: Any) -> SteamWebSource:
        kwargs: dict[str, Any] = {
            "api_url": fake.api_url,
            "community_url": fake.community_url,
            "store_url": fake.store_url,
            "steamcmd": str(steamcmd),
            "http_timeout": 5.0,
            "steamcmd_timeout": 30.0,
        }
        kwargs.update(overrides)
        source = SteamWebSource(**kwargs)
        made.append(source)
        return source

    return make


@pytest.fixture
async def source(make_source: Callable[..., SteamWebSource]) -> AsyncIterator[SteamWebSource]:
    async with make_source() as source:
        yield source
