"""The size limit of one mod (``max_mod_size``): refused before downloading when Steam says
it is larger, refused when packing when its files turn out larger; either way for good."""

from __future__ import annotations

import attrs
import pytest

from openworkshop import FailureReason, Settings, Workshop
from openworkshop.testing import FakeClock, FakeSteamSource, SteamCatalog

from .conftest import settle

pytestmark = pytest.mark.anyio

LIMIT = 50_000


@pytest.fixture
def settings() -> Settings:
    return Settings(gather_window=0.0, max_attempts=3, retry_base=1.0, max_mod_size=LIMIT)


def visible(catalog: SteamCatalog) -> list[int]:
    return [i for i, item in catalog.items.items() if item.visible and not item.download_error]


async def test_a_mod_steam_says_is_too_large_is_not_downloaded(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    mod_id = visible(catalog)[0]
    item = catalog.items[mod_id]
    catalog.items[mod_id] = attrs.evolve(
        item, details=attrs.evolve(item.details, file_size=LIMIT + 1)
    )
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    assert steam.calls["download"] == 0
    assert await workshop.storage.get_mod(mod_id) is None
    failure = await workshop.storage.get_failure(mod_id)
    assert failure is not None and failure.reason is FailureReason.TOO_LARGE
    assert failure.attempts == 1  # final at once: a retry would be as large
    assert f"more than the limit of {LIMIT} (OPENWORKSHOP_MAX_MOD_SIZE)" in failure.detail


async def test_a_mod_whose_files_are_too_large_is_not_packed(
    workshop: Workshop, catalog: SteamCatalog, steam: FakeSteamSource, clock: FakeClock
) -> None:
    """Steam's ``file_size`` said little, the files say more: packing refuses it."""
    mod_id = visible(catalog)[1]
    item = catalog.items[mod_id]
    catalog.items[mod_id] = attrs.evolve(
        item, blobs={"big.bin": LIMIT + 1}, details=attrs.evolve(item.details, file_size=10)
    )
    await workshop.request_download(mod_id)
    await settle(workshop, clock)
    assert steam.calls["download"] == 1
    assert await workshop.storage.get_mod(mod_id) is None
    assert await workshop.archives.keys() == []
    failure = await workshop.storage.get_failure(mod_id)
    assert failure is not None and failure.reason is FailureReason.TOO_LARGE
    assert "unpacked, more than the limit" in failure.detail
