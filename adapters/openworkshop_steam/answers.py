"""Reading Steam's answers defensively: numbers that may be strings, JSON that may be garbage.

Any error met while reading becomes :class:`~openworkshop.errors.UpstreamUnavailable`, so no
foreign ``KeyError`` or ``ValueError`` leaves the adapter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from openworkshop.errors import UpstreamUnavailable

__all__ = ["as_bool", "as_int", "as_str", "read_json", "reading"]


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn any error met while reading an answer from ``what`` into UpstreamUnavailable."""
    try:
        yield
    except UpstreamUnavailable:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise UpstreamUnavailable(f"unreadable answer from {what}: {exc!r}") from exc


def read_json(body: bytes, what: str) -> Any:
    """Decode a JSON body; garbage or a truncated body becomes UpstreamUnavailable."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        excerpt = body[:80].decode("utf-8", "replace")
        raise UpstreamUnavailable(
            f"{what} answered something that is not JSON: {excerpt!r}"
        ) from exc


def as_int(value: Any) -> int:
    """An integer Steam may send as a number or as a string (``"1000481"``)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value.strip() or "0")
    if value is None:
        return 0
    raise TypeError(f"expected an integer, got {value!r}")


def as_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a string, got {value!r}")


def as_bool(value: Any) -> bool:
    """``banned`` is 0/1 in v1 and true/false in the service API."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value)
