"""The language of /statistics/info/type_map, from Accept-Language; every statistics type
translated."""

from __future__ import annotations

import pytest

from openworkshop.statistics import EVENT_TYPES, type_map
from openworkshop_http.api import STATISTICS_TYPES
from openworkshop_http.language import choose_language


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
        translated = type_map(language, STATISTICS_TYPES)
        assert set(translated) == set(STATISTICS_TYPES) | set(EVENT_TYPES)
        assert all(translated.values())
