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
