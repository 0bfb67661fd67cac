"""Statistics types, their translations, and the choice of language from ``Accept-Language``."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Final

from openworkshop.errors import StorageError
from openworkshop.ports import Clock, StatisticsStore

__all__ = [
    "ENDPOINT_TYPES",
    "EVENT_TYPES",
    "FALLBACK_TEXT",
    "TYPE_MAP",
    "Recorder",
    "choose_language",
    "type_map",
]

ENDPOINT_TYPES: Final = (
    "/",
    "/download/steam/",
    "/download/",
    "/update/steam/",
    "/list/mods/",
    "/list/games/",
    "/list/tags/",
    "/list/tags/mods/",
    "/list/genres/",
    "/list/genres/games/",
    "/list/resources_mods/",
    "/info/mod/",
    "/info/game/",
    "/info/queue/size/",
    "/condition/mod/",
    "/statistics/delay/",
    "/statistics/hour/",
    "/statistics/day/",
    "/statistics/info/all/",
    "/statistics/info/type_map/",
)
"""One counter per endpoint (the original's names, with a trailing slash)."""

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


def _build(language: str) -> dict[str, str]:
    out = {t: _ENDPOINT_TEXT[language].format(t) for t in ENDPOINT_TYPES}
    out.update(_EVENT_TEXT[language])
    return out


TYPE_MAP: Final = {language: _build(language) for language in LANGUAGES}


def choose_language(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header; ``ru`` when none fits.

    Malformed parts are skipped, never an error (a client cannot fix its browser's header).
    """
    if not accept_language:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language[:1000].split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if not tag or not 0 < quality <= 1:
            continue
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE


def type_map(language: str) -> dict[str, str]:
    """Every statistics type translated into ``language``."""
    return dict(TYPE_MAP.get(language, TYPE_MAP[DEFAULT_LANGUAGE]))


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
