"""Statistics: the event types the core counts, the translations of every type, and the
buffered :class:`Recorder`.

The types of requests (one per endpoint) belong to the adapter that serves them (the HTTP
adapter's endpoint table); :func:`type_map` translates those it is given with the events.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Final

from openworkshop.errors import StorageError
from openworkshop.ports import Clock, StatisticsStore

__all__ = [
    "DEFAULT_LANGUAGE",
    "EVENT_TYPES",
    "FALLBACK_TEXT",
    "LANGUAGES",
    "Recorder",
    "type_map",
]

START = "start"
FILES_SENT = "files_sent"
MOD_NOT_FOUND_LOCAL = "mod_not_found_local"
DAMAGED_MOD = "damaged_mod"
UPDATING_MOD = "updating_mod"
DOWNLOAD_OK = "download_from_steam_ok"
DOWNLOAD_ERROR = "download_from_steam_error"

EVENT_TYPES: Final = (
    START,
    FILES_SENT,
    MOD_NOT_FOUND_LOCAL,
    DAMAGED_MOD,
    UPDATING_MOD,
    DOWNLOAD_OK,
    DOWNLOAD_ERROR,
)

log = logging.getLogger("openworkshop.statistics")

FALLBACK_TEXT: Final = {"ru": "Нет перевода 0_о", "en": "No translation 0_o"}

_ENDPOINT_TEXT: Final = {
    "ru": "Запросы к {}",
    "en": "Requests to {}",
}

_EVENT_TEXT: Final = {
    "ru": {
        START: "Запуск сервера",
        FILES_SENT: "Отправлено файлов",
        MOD_NOT_FOUND_LOCAL: "Мод не найден на сервере",
        DAMAGED_MOD: "Повреждённые моды",
        UPDATING_MOD: "Обновления модов",
        DOWNLOAD_OK: "Успешные загрузки из Steam",
        DOWNLOAD_ERROR: "Ошибки загрузки из Steam",
    },
    "en": {
        START: "Server starts",
        FILES_SENT: "Files sent",
        MOD_NOT_FOUND_LOCAL: "Mod not found on the server",
        DAMAGED_MOD: "Damaged mods",
        UPDATING_MOD: "Mod updates",
        DOWNLOAD_OK: "Successful downloads from Steam",
        DOWNLOAD_ERROR: "Failed downloads from Steam",
    },
}

LANGUAGES: Final = ("ru", "en")
DEFAULT_LANGUAGE: Final = "ru"


def type_map(language: str, request_types: Iterable[str]) -> dict[str, str]:
    """Every statistics type translated into ``language`` (``ru`` for any other): the types
    of requests given (one per endpoint) and the core's events."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    out = {t: _ENDPOINT_TEXT[language].format(t) for t in request_types}
    out.update(_EVENT_TEXT[language])
    return out


class Recorder:
    """Buffers counters in memory and adds them to storage in one go.

    Counting every request (or sampling its delay) with a write would put the single SQLite
    writer on every request's path; buffered counts and samples are flushed every few
    seconds, before any statistics are read, and on shutdown. Sums are additive and samples
    carry their own time, so several processes can share a store. Whatever the storage cannot
    take now (a full disk) stays buffered for the next flush: no count is dropped.
    """

    def __init__(self, storage: StatisticsStore, clock: Clock) -> None:
        self._storage = storage
        self._clock = clock
        self._pending: Counter[tuple[str, dt.datetime]] = Counter()
        self._samples: list[tuple[str, int, dt.datetime]] = []
        self._downloads: list[tuple[int, dt.datetime]] = []

    async def download(self, mod_id: int) -> None:
        """One archive of ``mod_id`` sent: its ``downloads`` (written at once, so the catalog
        shows it; kept for the next flush if the storage cannot take it now) and
        ``files_sent``."""
        self._downloads.append((mod_id, self._clock.now()))
        await self.count(FILES_SENT)
        try:
            await self._write_downloads()
        except StorageError as exc:
            if not exc.transient:
                raise
            log.warning("%d download(s) kept in memory for now: %s", len(self._downloads), exc)

    async def _write_downloads(self) -> None:
        downloads, self._downloads = self._downloads, []
        try:
            while downloads:
                mod_id, at = downloads[0]
                try:
                    await self._storage.add_download(mod_id, now=at)
                except StorageError as exc:
                    if exc.transient:
                        raise
                    log.error("a download of mod %s cannot be counted: %s", mod_id, exc)
                downloads.pop(0)
        finally:
            self._downloads[:0] = downloads  # what was not written waits, oldest first

    async def count(self, type: str, n: int = 1) -> None:
        hour = self._clock.now().replace(minute=0, second=0, microsecond=0)
        self._pending[(type, hour)] += n

    async def delay(self, kind: str, ms: int) -> None:
        self._samples.append((kind, ms, self._clock.now()))

    async def flush(self) -> None:
        await self._write_downloads()
        samples, self._samples = self._samples, []
        try:
            while samples:
                kind, ms, at = samples[0]
                await self._storage.add_delay(kind, ms, at=at)
                samples.pop(0)
        finally:
            self._samples[:0] = samples  # what was not written waits, oldest first
        pending, self._pending = self._pending, Counter()
        try:
            for key in sorted(pending):
                type, hour = key
                await self._storage.count(type, at=hour, n=pending[key])
                del pending[key]
        finally:
            self._pending.update(pending)  # what was not written waits for the next flush
