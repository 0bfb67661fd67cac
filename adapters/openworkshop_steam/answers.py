"""Reading Steam's answers defensively: numbers that may be strings, JSON that may be garbage,
text that may be invalid UTF-8 or carry lone surrogates and control characters.

Any error met while reading becomes :class:`~openworkshop.errors.UpstreamUnavailable`, so no
foreign ``KeyError`` or ``ValueError`` leaves the adapter. Every string that leaves it went
through :func:`openworkshop.text.clean_text`: bodies are decoded with replacement
(:func:`decode_body`) and every field read with :func:`as_str`. Error messages never quote a
reply: they may become a mod's public failure detail, so the excerpt goes to the log.
"""

from __future__ import annotations

import codecs
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from openworkshop.errors import UpstreamUnavailable
from openworkshop.text import clean_text

__all__ = ["as_bool", "as_int", "as_str", "decode_body", "excerpt", "read_json", "reading"]

log = logging.getLogger(__name__)


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn any error met while reading an answer from ``what`` into UpstreamUnavailable."""
    try:
        yield
    except UpstreamUnavailable:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        # the error names the value that did not fit: the log gets it, the message not
        log.warning("unreadable answer from %s: %r", what, exc)
        raise UpstreamUnavailable(f"unreadable answer from {what}") from exc


def decode_body(body: bytes, charset: str | None = None) -> str:
    """A reply's text, leniently: invalid bytes become U+FFFD, an unknown charset is read
    as UTF-8, and the result is :func:`~openworkshop.text.clean_text`-ed."""
    encoding = "utf-8"
    if charset:
        with suppress(LookupError):
            encoding = codecs.lookup(charset).name
    if encoding == "utf-8" and body.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    return clean_text(body.decode(encoding, "replace"))


def excerpt(body: bytes, size: int = 200) -> str:
    """The start of a reply, for the log (never for an error message)."""
    return " ".join(decode_body(body[:size]).split())


def read_json(body: bytes, what: str) -> Any:
    """Decode a JSON body, invalid UTF-8 replaced (one bad title must not fail a batch);
    garbage or a truncated body becomes UpstreamUnavailable with a fixed message."""
    try:
        return json.loads(decode_body(body), strict=False)
    except ValueError as exc:
        log.warning("%s answered something that is not JSON: %r", what, excerpt(body, 80))
        raise UpstreamUnavailable(f"{what} answered something that is not JSON") from exc


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
    """A string field, cleaned (:func:`~openworkshop.text.clean_text`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a string, got {value!r}")


def as_bool(value: Any) -> bool:
    """``banned`` is 0/1 in v1 and true/false in the service API."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value)
