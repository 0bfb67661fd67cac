"""Kept answers: the bodies of the catalog's hottest reads (``/list/mods/`` with its
searches, ``/info/mod/{id}``, and the web pages' catalog in each language), sent again while
the storage's version token is unchanged.

Never stale: the token (``Workshop.catalog_version``, SQLite's ``PRAGMA data_version``) is
taken *before* the answer's reads, and changes with every transaction any process commits
to the database; a body is sent again only under the token it was built after. A write
(a new mod, a changed one, a download counted) empties the store at the next request. Only
what the storage holds goes into these answers: an answer that shows anything else (a
mod being downloaded, a failure) is not kept. A store without a token keeps nothing.

Bounded: least recently used bodies go first past ``max_bytes``.

The handlers keep what they build (``AnswerCache.put``); the app (``app.OpenWorkshopApp``)
answers a ``GET`` it holds ahead of its middleware and routing, before any request object
or parameter is made: it counts the request in the statistics as the handler would, logs it
as the access log does, and sends the body with the CORS headers every answer has.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Final

from starlette.types import Scope

__all__ = ["CONTENT_TYPE", "ENTRY_OVERHEAD", "JSON_TYPE", "AnswerCache", "Kept"]

JSON_TYPE: Final = "application/json"
ENTRY_OVERHEAD: Final = 3_000
"""Bytes of the process's RSS an entry costs beyond its body and key, counted against
``max_bytes``. The objects themselves take about 200 (10,000 ``/info/mod`` answers of 100
bytes: 1.9 MB by tracemalloc), but kept among a busy server's short-lived objects they pin
the allocator's pools: the same 10,000 answers raised the server's RSS by 35-40 MB in
``bench/http.py`` (docs/http.md, "Memory"). Counted so, 8 MB holds about 2,500 small
answers, or 1,000 listings of 50 rows."""


class AnswerCache:
    """Bodies by the request's path and query string, under one version token."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._largest = max_bytes // 8
        self._version: Hashable | None = None
        self._bodies: OrderedDict[str, Kept] = OrderedDict()
        self._size = 0
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(scope: Scope, variant: str = "") -> str:
        """The request's path and query string (and ``variant``: a page's language)."""
        return f"{variant}{scope['path']}?{scope['query_string'].decode('latin-1')}"

    def get(self, key: str, version: Hashable | None) -> Kept | None:
        """The body kept for ``key`` if it was built under ``version``, the statistics type
        its request is counted under (``None``: not counted), and its headers."""
        if version is None or version != self._version:
            self.misses += 1
            return None
        kept = self._bodies.get(key)
        if kept is None:
            self.misses += 1
            return None
        self._bodies.move_to_end(key)
        self.hits += 1
        return kept

    def put(
        self,
        key: str,
        version: Hashable | None,
        body: bytes,
        counted_as: str | None,
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        """Keep ``body``, built from reads made after ``version`` was taken, for a request
        counted under ``counted_as``, with ``headers`` (default: the JSON content type)."""
        if version is None or self.max_bytes <= 0 or len(body) > self._largest:
            return
        if version != self._version:
            self._bodies.clear()
            self._size = 0
            self._version = version
        old = self._bodies.pop(key, None)
        if old is not None:
            self._size -= len(old[0]) + len(key) + ENTRY_OVERHEAD
        self._bodies[key] = (body, counted_as, tuple(headers) or (CONTENT_TYPE,))
        self._size += len(body) + len(key) + ENTRY_OVERHEAD
        while self._size > self.max_bytes:
            gone_key, (gone, _, _) = self._bodies.popitem(last=False)
            self._size -= len(gone) + len(gone_key) + ENTRY_OVERHEAD

    def __len__(self) -> int:
        return len(self._bodies)


CONTENT_TYPE: Final = (b"content-type", JSON_TYPE.encode())

Kept = tuple[bytes, str | None, tuple[tuple[bytes, bytes], ...]]
"""A kept answer: its body, the statistics type it counts under, its headers."""
