"""Statistics types and their translations."""

from __future__ import annotations

import pytest

from openworkshop.statistics import EVENT_TYPES, type_map


def test_every_type_is_translated() -> None:
    """Every counter type the original kept, in both languages: the request types an adapter
    gives and the core's events; any other language is Russian."""
    requests = ("/list/mods/", "/info/mod/")
    for language in ("ru", "en"):
        translated = type_map(language, requests)
        assert set(translated) == set(requests) | set(EVENT_TYPES)
        assert all(translated.values())
    assert type_map("de", requests) == type_map("ru", requests)


@pytest.mark.anyio
async def test_recorder_buffers_until_flush() -> None:
    """Counts and delay samples reach storage only on flush (no write per request), in order."""
    from openworkshop.statistics import Recorder
    from openworkshop.testing import FakeClock, MemoryStorage

    storage = MemoryStorage()
    recorder = Recorder(storage, FakeClock())
    await recorder.count("files_sent")
    await recorder.delay("fast", 3)
    await recorder.delay("fast", 5)
    assert await storage.delays("fast", 20) == []
    assert (await storage.summary()).mods_sent_count == 0
    await recorder.flush()
    assert await storage.delays("fast", 20) == [5, 3]  # newest first
    assert (await storage.summary()).mods_sent_count == 1
