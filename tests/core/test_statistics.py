"""Statistics types and their translations."""

from __future__ import annotations

import pytest

from openworkshop.statistics import ENDPOINT_TYPES, EVENT_TYPES, TYPE_MAP, choose_language


@pytest.mark.parametrize(
    ("header", "language"),
    [(None, "ru"), ("", "ru"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("de-DE, fr;q=0.8", "ru"),
     ("de, en;q=0.5, ru;q=0.4", "en"), ("ru;q=0.3, en;q=0.7", "en"), ("en;q=0, ru;q=0.1", "ru"),
     ("en;q=abc", "ru"), (";;;,,,", "ru"), ("*", "ru"), ("EN-gb", "en"), ("x" * 5000, "ru"),
     ("ru, en", "ru"), ("en;q=1.5", "ru")],
)  # fmt: skip
def test_language_by_quality(header: str | None, language: str) -> None:
    """Accept-Language quality order picks ru or en; anything else falls back to ru."""
    assert choose_language(header) == language


def test_every_type_is_translated() -> None:
    """Every counter type the original kept, in both languages."""
    for language in ("ru", "en"):
        assert set(TYPE_MAP[language]) == set(ENDPOINT_TYPES) | set(EVENT_TYPES)
        assert all(TYPE_MAP[language].values())
    assert len(ENDPOINT_TYPES) == 20 and all(t.endswith("/") for t in ENDPOINT_TYPES)


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
