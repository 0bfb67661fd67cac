"""A catalog of workshop items and apps for fake Steams, built in code or loaded from JSON.

The in-memory :class:`~openworkshop.testing.FakeSteamSource` and the HTTP fake Steam of the
Steam adapter both serve from one :class:`SteamCatalog`, so a test written against one holds
against the other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import attrs

from openworkshop.convert import converter
from openworkshop.domain import AppDetails, ItemDetails

__all__ = ["CatalogApp", "CatalogItem", "SteamCatalog", "blob_bytes"]

_CHUNK = 1 << 16


def blob_bytes(seed: str, size: int) -> Iterator[bytes]:
    """Deterministic pseudo-random bytes (SHAKE-256 of ``seed``), in chunks."""
    shake = hashlib.shake_256(seed.encode())
    # shake digests cannot stream, so derive chunk i from seed + i
    done = 0
    index = 0
    while done < size:
        n = min(_CHUNK, size - done)
        yield hashlib.shake_256(shake.digest(16) + index.to_bytes(8, "big")).digest(n)
        done += n
        index += 1


def _opened(path: Path, *, anew: bool) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb" if anew else "ab")


@attrs.frozen(kw_only=True)
class CatalogItem:
    """A workshop item: what the Web API says, what its page adds, and its files."""

    details: ItemDetails
    files: dict[str, str] = attrs.field(factory=dict)
    """Text files: relative path → content."""
    blobs: dict[str, int] = attrs.field(factory=dict)
    """Binary files of deterministic bytes: relative path → size."""
    dependencies: tuple[int, ...] = ()
    screenshots: tuple[str, ...] = ()
    visibility: int = 0
    """0 public, 1 friends-only, 2 private, 3 unlisted. 1 and 2 look missing to anonymous callers."""
    download_error: str | None = None
    """steamcmd's EResult text for a failing download (``Access Denied``, ``Timeout`` ...)."""

    @property
    def id(self) -> int:
        return self.details.id

    @property
    def visible(self) -> bool:
        return self.visibility in (0, 3)

    def iter_files(self) -> Iterator[tuple[str, Iterator[bytes]]]:
        """Every file of the item: relative path and its bytes in chunks."""
        for path, text in sorted(self.files.items()):
            yield path, iter([text.encode()])
        for path, size in sorted(self.blobs.items()):
            yield path, blob_bytes(f"{self.id}/{path}/{self.details.time_updated}", size)

    def materialize(self, folder: Path) -> int:
        """Write the item's files under ``folder``; return the bytes written."""
        return self.write_part(folder, 0)

    def write_part(self, folder: Path, start: int, stop: int | None = None) -> int:
        """Write bytes ``start`` to ``stop`` (``None``: the end) of the item's files, taken
        one after the other in :meth:`iter_files` order, under ``folder``, as a download
        that stops and goes on does: a file whose first byte is in the part is written
        anew, one begun by an earlier part is appended to. Return the bytes written."""
        written = 0
        offset = 0
        for rel, chunks in self.iter_files():
            first = offset
            out = None
            try:
                for chunk in chunks:
                    lo, hi = offset, offset + len(chunk)
                    offset = hi
                    a, b = max(lo, start), hi if stop is None else min(hi, stop)
                    if a >= b:
                        continue
                    if out is None:
                        out = _opened(folder / rel, anew=a == first)
                    out.write(chunk[a - lo : b - lo])
                    written += b - a
                if (
                    out is None
                    and first == offset
                    and start <= first
                    and (stop is None or first < stop)
                ):
                    _opened(folder / rel, anew=True).close()  # an empty file of this part
            finally:
                if out is not None:
                    out.close()
        return written

    def content_size(self) -> int:
        return sum(len(t.encode()) for t in self.files.values()) + sum(self.blobs.values())


@attrs.frozen(kw_only=True)
class CatalogApp:
    details: AppDetails
    anonymous: bool = True
    """Whether anonymous steamcmd sessions may download this app's workshop items."""


@attrs.define
class SteamCatalog:
    """Items and apps a fake Steam serves. Mutable, so a test can publish an update."""

    items: dict[int, CatalogItem] = attrs.field(factory=dict)
    apps: dict[int, CatalogApp] = attrs.field(factory=dict)

    def add_item(self, item: CatalogItem) -> CatalogItem:
        self.items[item.id] = item
        return item

    def add_app(self, app: CatalogApp) -> CatalogApp:
        self.apps[app.details.id] = app
        return app

    def publish_update(self, mod_id: int, *, files: dict[str, str], time_updated: int) -> None:
        """Replace an item's files with a newer version, as its author would."""
        item = self.items[mod_id]
        details = attrs.evolve(
            item.details,
            time_updated=time_updated,
            hcontent_file=str(int(item.details.hcontent_file or "0") + 1),
            file_size=sum(len(t.encode()) for t in files.values()) + sum(item.blobs.values()),
        )
        self.items[mod_id] = attrs.evolve(item, details=details, files=files)

    def to_json(self) -> str:
        data = {
            "items": [converter.unstructure(i) for i in self.items.values()],
            "apps": [converter.unstructure(a) for a in self.apps.values()],
        }
        return json.dumps(data, indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SteamCatalog:
        data: dict[str, Any] = json.loads(text)
        catalog = cls()
        for raw in data.get("items", []):
            catalog.add_item(converter.structure(raw, CatalogItem))
        for raw in data.get("apps", []):
            catalog.add_app(converter.structure(raw, CatalogApp))
        return catalog

    @classmethod
    def load(cls, path: Path) -> SteamCatalog:
        return cls.from_json(path.read_text(encoding="utf-8"))
