"""``Workshop``: every use case behind the API, over the ports.

It knows nothing of HTTP: each method takes the core's criteria (``criteria.py``) or validated query objects (``query.py``) and
returns the core's values or raises the core's errors. ``views.py`` turns results into the
original Open Workshop API's JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import tempfile
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from pathlib import Path
from typing import IO

import attrs

from openworkshop import statistics as stats
from openworkshop.checks import ModCheck, check_mod
from openworkshop.clock import SystemClock
from openworkshop.criteria import GameCriteria, ModCriteria, Paging
from openworkshop.domain import Archive, Failure, Game, Genre, Mod, Resource, Tag
from openworkshop.errors import (
    AlreadyProcessing,
    AlreadyUpToDate,
    CheckedRecently,
    CursorExpired,
    ModDamaged,
    ModNotFound,
    ModNotOnServer,
    ModNotOnSteam,
    ModStillLoading,
    NotReady,
    NotUpdatable,
    StorageError,
    UpstreamError,
)
from openworkshop.events import Event, encode_cursor
from openworkshop.pipeline import Pipeline, is_newer
from openworkshop.plans import CollectionInfo, CollectionItem, Plan, Planner
from openworkshop.ports import (
    ArchiveStore,
    CatalogReader,
    CatalogSummary,
    Clock,
    DownloadQueue,
    EventLog,
    ItemMemory,
    Page,
    ProgressBoard,
    StatisticsStore,
    StatRow,
    SteamSource,
    Storage,
    Transition,
    Versioned,
)
from openworkshop.progress import ModProgress, mod_progress
from openworkshop.query import (
    CheckQuery,
    CollectionQuery,
    ConditionQuery,
    DayStatsQuery,
    EventsQuery,
    GameGenresQuery,
    GameInfoQuery,
    HourStatsQuery,
    ModInfoQuery,
    ModTagsQuery,
    PlanQuery,
    ProgressQuery,
    ResourcesQuery,
)
from openworkshop.settings import Settings
from openworkshop.states import ModState
from openworkshop.upstream import DetailsBatcher, UpstreamGate

__all__ = [
    "ArchiveHandle",
    "CollectionInfo",
    "CollectionQueued",
    "EventPage",
    "ModInfo",
    "Queued",
    "Workshop",
]

log = logging.getLogger("openworkshop")

DEPENDENCIES_SHOWN = 20
DELAY_SAMPLES = 20
FLUSH_EVERY = 2.0
TRIM_EVERY = 60.0
"""Seconds between two trims of the events feed."""


@attrs.frozen(kw_only=True)
class Queued:
    """A request was added to the queue (``/download/steam`` answers 202)."""

    mod_id: int
    unsuccessful_attempts: bool
    updating: bool
    reason: str | None = None
    """The last failure's reason (``access_denied``, ``timeout`` …) when there was one."""

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "message": "request added to queue",
            "error_id": 0,
            "unsuccessful_attempts": self.unsuccessful_attempts,
            "updating": self.updating,
        }
        if self.reason is not None:
            body["reason"] = self.reason
        return body


@attrs.frozen(kw_only=True)
class CollectionQueued:
    """``/download/steam/{collection_id}``: every item the server lacked is queued (202)."""

    collection: CollectionInfo
    queued: tuple[int, ...]

    def body(self) -> dict[str, object]:
        return {
            "message": "request added to queue",
            "error_id": 0,
            "unsuccessful_attempts": False,
            "updating": False,
            "collection": self.collection.id,
            "items": [
                {"id": i.id, "condition": None if i.condition is None else int(i.condition)}
                for i in self.collection.items
            ],
            "queued": list(self.queued),
        }


@attrs.frozen(kw_only=True)
class ArchiveHandle:
    """A cached mod ready to send: its archive and how to reach the bytes."""

    mod: Mod
    archive: Archive
    path: Path | None
    """A local file (for zero-copy sending), when the store has one."""
    store: ArchiveStore

    @property
    def filename(self) -> str:
        return f"{self.mod.name or self.mod.id}.zip"

    @property
    def etag(self) -> str:
        return f'"{self.archive.sha256}"'

    def open(self) -> IO[bytes]:
        """Open the archive (blocking: call it off the event loop)."""
        return self.store.open(self.archive.key)


@attrs.frozen(kw_only=True)
class EventPage:
    """One answer of the events feed: the events, the cursor to continue from, and whether
    more events are waiting after it."""

    events: list[Event]
    next: int
    more: bool

    @property
    def cursor(self) -> str:
        return encode_cursor(self.next)


@attrs.frozen(kw_only=True)
class ModInfo:
    mod: Mod | None
    dependencies: tuple[list[int], int] | None
    game: Game | None
    failure: Failure | None
    progress: ModProgress | None = None
    """While the mod is on its way (conditions 3, 2 and 1)."""


class Workshop:
    """The mirror: takes its ports as keyword arguments, does no I/O until started.

    ``storage`` plays every storage role (``ports.Storage``); each component gets only its
    own: the ``Pipeline`` the queue and the games, the ``UpstreamGate`` the shared flags,
    the ``Recorder`` the statistics.

    ``async with Workshop(...)`` (or ``await start()`` / ``await stop()``) opens the storage,
    reconciles rows with archives, and runs the download workers (``workers=False`` for a
    process that only serves).
    """

    def __init__(
        self,
        *,
        storage: Storage,
        steam: SteamSource,
        archives: ArchiveStore,
        clock: Clock | None = None,
        settings: Settings | None = None,
        downloads_dir: Path | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.storage = storage
        self.steam = steam
        self.archives = archives
        self.clock: Clock = SystemClock() if clock is None else clock
        self.settings = Settings() if settings is None else settings
        # each use case asks for its role of the storage only
        self.queue: DownloadQueue = storage
        """The download queue: the download use cases and ``reconcile``."""
        self.catalog: CatalogReader = storage
        """The catalog's read model (an HTTP adapter may read it directly)."""
        self.statistics: StatisticsStore = storage
        """Counters and samples, read here (written by ``record``, the ``Recorder``)."""
        self.memory: ItemMemory = storage
        """What Steam said of items the catalog lacks (plans, collections)."""
        self.event_log: EventLog = storage
        """The events feed (written by the queue's and the games' writes themselves)."""
        self.board: ProgressBoard = storage
        """Live progress of the mods being downloaded (written by the pipeline)."""
        self._version: Callable[[], Hashable | None] | None = (
            storage.catalog_version if isinstance(storage, Versioned) else None
        )
        self._refreshing: set[asyncio.Task[None]] = set()
        self._own_tmp: tempfile.TemporaryDirectory[str] | None = None
        self.downloads_dir: Path | None = downloads_dir
        """steamcmd's download folders; without one, a temporary folder made by ``start()``."""
        self.record = stats.Recorder(storage, self.clock)
        self.gate = UpstreamGate(
            flags=storage,
            clock=self.clock,
            per_minute=self.settings.upstream_per_minute,
            pause=self.settings.rate_limit_pause,
        )
        self.batcher = DetailsBatcher(
            steam=steam, gate=self.gate, window=min(self.settings.gather_window, 0.05)
        )
        self.pipeline = Pipeline(
            queue=storage,
            games=storage,
            steam=steam,
            archives=archives,
            clock=self.clock,
            settings=self.settings,
            gate=self.gate,
            downloads_dir=downloads_dir,
            record=self.record,
            rng=rng,
            memory=storage,
            board=storage,
            signal=storage,
        )
        self.planner = Planner(
            queue=storage,
            catalog=storage,
            memory=storage,
            steam=steam,
            gate=self.gate,
            batcher=self.batcher,
            clock=self.clock,
            cooldown=self.settings.update_cooldown,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self.started = False

    # --- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Workshop:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, *, workers: bool = True) -> None:
        await self.storage.open()
        if self.downloads_dir is None:
            self._own_tmp = tempfile.TemporaryDirectory(prefix="openworkshop-")
            self.downloads_dir = Path(self._own_tmp.name)
        self.pipeline.downloads_dir = self.downloads_dir
        self.downloads_dir.mkdir(parents=True, exist_ok=True)
        await self.archives.sweep()
        await self.pipeline.sweep()
        await self.reconcile()
        await self.record.count(stats.START)
        await self.record.flush()
        if workers and self.steam.can_download:
            self._tasks.append(asyncio.create_task(self.pipeline.run()))
        self._tasks.append(asyncio.create_task(self._flush_forever()))
        self._tasks.append(asyncio.create_task(self._trim_forever()))
        self.started = True

    async def stop(self) -> None:
        for task in [*self._tasks, *self._refreshing]:
            task.cancel()
        for task in list(self._refreshing):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        try:
            await self.record.flush()
        except Exception:
            log.exception("statistics not written at shutdown")
        await self.storage.close()
        if self._own_tmp is not None:
            self._own_tmp.cleanup()
            self._own_tmp = None
            self.downloads_dir = self.pipeline.downloads_dir = None
        self.started = False

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self.record.flush()
            except Exception:
                log.exception("could not write statistics")

    async def _trim_forever(self) -> None:
        while True:
            try:
                await self.trim_events()
            except Exception:
                log.exception("could not trim the events feed")
            await asyncio.sleep(TRIM_EVERY)

    async def trim_events(self) -> int:
        """Forget the events older than the retention window; how many."""
        before = self.clock.now() - dt.timedelta(seconds=self.settings.event_retention)
        return await self.event_log.trim_events(before)

    async def reconcile(self) -> tuple[int, int]:
        """Rows whose archive is gone are removed (damaged); archives no row claims are
        removed. Returns (rows removed, archives removed)."""
        claimed = await self.queue.archived()
        keys = set(await self.archives.keys())
        rows_removed = 0
        for mod_id, key in claimed:
            if key not in keys:
                mod = await self.queue.get_mod(mod_id)
                if mod is not None and mod.archive is not None and mod.archive.key == key:
                    await self._forget_damaged(mod)
                    rows_removed += 1
        # an archive stored by a live writer may not be in its row yet; a dead writer's is
        # an orphan (asked before reading the rows again: a writer that recorded its row and
        # died in between is seen in them)
        live = await self.archives.live_writes()
        claimed_keys = {key for _, key in await self.queue.archived()}
        orphans = keys - claimed_keys - live
        for key in orphans:
            await self.archives.remove(key)
        return rows_removed, len(orphans)

    async def _forget_damaged(self, mod: Mod) -> None:
        await self.queue.apply(Transition.of(mod, mod.damaged(), at=self.clock.now()))
        await self.record.count(stats.DAMAGED_MOD)

    # --- downloads ----------------------------------------------------------------------

    async def request_download(self, mod_id: int) -> ArchiveHandle | Queued | CollectionQueued:
        """``/download/steam/{id}``: the cached archive, or the mod queued for download.

        A cached mod checked within the update cooldown costs Steam nothing. After a failed
        attempt the mod is queued again (``unsuccessful_attempts`` and the ``reason``), but a
        permanent failure's mod waits out the failure cool-off (the update cooldown, from the
        failure) before any call to Steam: however many requests come, one attempt per
        cool-off. Only Steam's own verdict (its details: missing, private, banned) answers
        ModNotFound, for the cool-off. Raises AlreadyProcessing, ModNotFound, NotReady.
        """
        started = time.perf_counter()
        now = self.clock.now()
        mod = await self.queue.get_mod(mod_id)
        if mod is not None and mod.state in (ModState.QUEUED, ModState.DOWNLOADING):
            raise AlreadyProcessing(reason=await self._waiting_for(mod, now))
        if mod is not None and mod.archive is not None:
            if mod.state is ModState.READY and self.steam.can_download and self._stale(mod, now):
                queued = await self._check_for_update(mod, now)
                if queued is not None:
                    return queued
            handle = await self._handle(mod)
            await self.record.delay("fast", max(1, round((time.perf_counter() - started) * 1000)))
            return handle
        if mod is None:
            collection = await self._known_collection(mod_id, now)
            if collection is not None:
                return await self._queue_collection(collection, now)
        return await self._request_new(mod_id, now)

    async def _request_new(self, mod_id: int, now: dt.datetime) -> Queued:
        """Queue a mod the server does not have (after a failure, as its reason says)."""
        failure = await self.queue.get_failure(mod_id)
        not_before = None
        if failure is not None:
            not_before = self.retry_after_failure(failure)
            if not_before <= now:
                not_before = None
            elif failure.reason.missing:
                raise ModNotFound(reason=failure.reason.value)
        if not self.steam.can_download:
            raise NotReady()
        fresh = Mod.requested(mod_id, now=now, not_before=not_before)
        if not await self.queue.apply(Transition.of(None, fresh)):
            raise AlreadyProcessing()
        await self.pipeline.queued()
        return Queued(
            mod_id=mod_id,
            unsuccessful_attempts=failure is not None,
            updating=False,
            reason=None if failure is None else failure.reason.value,
        )

    async def _known_collection(self, mod_id: int, now: dt.datetime) -> CollectionInfo | None:
        """A collection Steam described within the update cooldown (a plan, a look-up or
        the pipeline met it), with its items: asking for it again costs Valve nothing."""
        known = (await self.memory.known_items([mod_id])).get(mod_id)
        if known is None or not known.is_collection or known.children is None:
            return None
        if (now - known.checked).total_seconds() >= self.settings.update_cooldown:
            return None
        return await self._collection_info(mod_id, known.name, known.children)

    async def _collection_info(
        self, collection_id: int, name: str, items: Sequence[int]
    ) -> CollectionInfo:
        rows = await self.queue.get_mods(items)
        return CollectionInfo(
            id=collection_id,
            name=name,
            items=tuple(
                CollectionItem(
                    id=i,
                    condition=rows[i].state if i in rows else None,
                    name=rows[i].name if i in rows else "",
                )
                for i in items
            ),
        )

    async def _queue_collection(
        self, collection: CollectionInfo, now: dt.datetime
    ) -> CollectionQueued:
        """Queue every item of a collection the server does not have (a collection is not a
        mod: it is never given to steamcmd)."""
        if not self.steam.can_download:
            raise NotReady()
        queued = await self._queue_missing(
            [i.id for i in collection.items if i.condition is None], now
        )
        fresh = await self._collection_info(
            collection.id, collection.name, [i.id for i in collection.items]
        )
        return CollectionQueued(collection=fresh, queued=queued)

    async def _queue_missing(self, ids: Sequence[int], now: dt.datetime) -> tuple[int, ...]:
        """Queue each of ``ids`` the server lacks (one wake-up of the worker for all); those
        a failure's cool-off or a concurrent request keeps out are left as they are."""
        queued: list[int] = []
        for mod_id in ids:
            try:
                await self._request_new(mod_id, now)
            except (AlreadyProcessing, ModNotFound):
                continue
            queued.append(mod_id)
        return tuple(queued)

    # --- install plans and collections ----------------------------------------------------

    async def plan(self, query: PlanQuery) -> Plan:
        """``/plan``: the closure of the mods (and collections) under their required items,
        dependencies first; with ``queue``, every mod of it the server lacks (and Steam
        lists) is queued. Raises PlanTooLarge, and NotReady for ``queue`` without steamcmd."""
        plan = await self.planner.plan(query.mod_ids)
        if not query.queue:
            return plan
        if not self.steam.can_download:
            raise NotReady()
        lacking = [e.id for e in plan.entries if e.condition is None and not e.missing]
        queued = await self._queue_missing(lacking, self.clock.now())
        if not queued:
            return attrs.evolve(plan, queued=queued)
        again = await self.queue.get_mods(queued)
        entries = tuple(
            attrs.evolve(e, condition=again[e.id].state) if e.id in again else e
            for e in plan.entries
        )
        return attrs.evolve(plan, entries=entries, queued=queued)

    async def collection_info(self, query: CollectionQuery) -> CollectionInfo | None:
        """``/info/collection/{id}``: its items and their conditions; ``None`` when Steam
        says it is not a (visible) collection. Costs Valve nothing within the cooldown."""
        items = await self.planner.collection(query.collection_id)
        if items is None:
            return None
        known = (await self.memory.known_items([query.collection_id])).get(query.collection_id)
        return await self._collection_info(query.collection_id, known.name if known else "", items)

    def retry_after_failure(self, failure: Failure) -> dt.datetime:
        """When a mod may cost Steam a call again after its final failure: at once after a
        transient one (it already used its retries with backoff), after the failure cool-off
        (the update cooldown) after a permanent one."""
        if failure.reason.transient:
            return failure.date
        return failure.date + dt.timedelta(seconds=self.settings.update_cooldown)

    async def _waiting_for(self, mod: Mod, now: dt.datetime) -> str | None:
        """The last failure's reason of a queued mod that waits out its cool-off."""
        if mod.state is not ModState.QUEUED or mod.not_before is None or mod.not_before <= now:
            return None
        failure = await self.queue.get_failure(mod.id)
        return None if failure is None else failure.reason.value

    def _stale(self, mod: Mod, now: dt.datetime) -> bool:
        if mod.date_checked is None:
            return True
        return (now - mod.date_checked).total_seconds() >= self.settings.update_cooldown

    async def _check_for_update(self, mod: Mod, now: dt.datetime) -> Queued | None:
        """Compare a cached mod with Steam; queue the newer version if there is one.

        If Steam cannot answer, the cached archive is served (and checked next time)."""
        try:
            details = await self.batcher.get(mod.id)
        except UpstreamError as exc:
            log.info("update check of %s skipped: %s", mod.id, exc)
            return None
        if details is not None and is_newer(details, mod):
            if await self._requeue(mod, now):
                await self.record.count(stats.UPDATING_MOD)
                return Queued(mod_id=mod.id, unsuccessful_attempts=False, updating=True)
            raise AlreadyProcessing()
        await self.queue.apply(Transition.of(mod, mod.checked(now=now)))
        return None

    async def _requeue(self, mod: Mod, now: dt.datetime) -> bool:
        done = await self.queue.apply(Transition.of(mod, mod.requeued(now=now)))
        if done:
            await self.pipeline.queued()
        return done

    async def _handle(self, mod: Mod) -> ArchiveHandle:
        assert mod.archive is not None
        if not await self.archives.exists(mod.archive.key):
            await self._forget_damaged(mod)
            raise ModDamaged()
        return ArchiveHandle(
            mod=mod,
            archive=mod.archive,
            path=self.archives.local_path(mod.archive.key),
            store=self.archives,
        )

    async def cached(self, mod_id: int) -> ArchiveHandle:
        """``/download/{id}``: the archive the server has, never a call to Steam.

        During an update the previous version is served until the new one replaces it.
        Raises ModNotOnServer, ModStillLoading, ModDamaged.
        """
        mod = await self.queue.get_mod(mod_id)
        if mod is None:
            await self.record.count(stats.MOD_NOT_FOUND_LOCAL)
            raise ModNotOnServer()
        if mod.archive is None:
            raise ModStillLoading()
        return await self._handle(mod)

    async def sent(self, handle: ArchiveHandle) -> None:
        """Count one archive sent to a client (kept for later if the storage is full)."""
        await self.record.download(handle.mod.id)

    async def request_update(self, mod_id: int) -> Queued:
        """``/update/steam/{id}``. Raises NotUpdatable, CheckedRecently, ModNotOnSteam,
        AlreadyUpToDate, or UpstreamError when Steam cannot answer."""
        now = self.clock.now()
        mod = await self.queue.get_mod(mod_id)
        if mod is None or mod.state is not ModState.READY:
            raise NotUpdatable()
        if not self._stale(mod, now):
            assert mod.date_checked is not None
            waited = (now - mod.date_checked).total_seconds()
            raise CheckedRecently(retry_after=self.settings.update_cooldown - waited)
        details = await self.batcher.get(mod.id, wait=False)
        if details is None or details.banned:  # Steam's own verdict, nothing else
            await self.queue.apply(Transition.of(mod, mod.checked(now=now)))
            raise ModNotOnSteam()
        if not is_newer(details, mod):
            await self.queue.apply(Transition.of(mod, mod.checked(now=now)))
            raise AlreadyUpToDate()
        if not await self._requeue(mod, now):
            raise AlreadyProcessing()
        await self.record.count(stats.UPDATING_MOD)
        return Queued(mod_id=mod.id, unsuccessful_attempts=False, updating=True)

    # --- the launcher endpoints: the events feed, the bulk update check ---------------------

    async def events(self, query: EventsQuery) -> EventPage:
        """``/events``: up to ``limit`` events after the cursor, oldest first. Raises
        CursorExpired for a cursor before the oldest event kept or past the newest."""
        after = 0 if query.after is None else query.after
        batch = await self.event_log.read_events(after, query.limit)
        if query.after is not None and not batch.trimmed <= query.after <= batch.latest:
            kept = f"events {batch.trimmed + 1} to {batch.latest}" if batch.latest else "none"
            raise CursorExpired(
                details=[f"the cursor continues after event {query.after}; kept: {kept}"]
            )
        if batch.events:
            last = batch.events[-1].seq
        else:
            last = after if query.after is not None else max(batch.latest, batch.trimmed)
        return EventPage(events=batch.events, next=last, more=last < batch.latest)

    async def check_mods(self, query: CheckQuery) -> dict[int, ModCheck]:
        """``POST /check/mods``: each mod's answer from the catalog, never a call to Valve.
        With ``refresh``, the mods last checked more than the update cooldown ago get an
        update check in the background (batched, as ``/download/steam`` does it)."""
        ids = list(query.versions)
        mods = await self.queue.get_mods(ids)
        lacking = [i for i in ids if i not in mods or mods[i].archive is None]
        failures = await self.queue.get_failures(lacking) if lacking else {}
        gone = [i for i in lacking if i not in mods]
        last = await self.event_log.last_mod_events(gone) if gone else {}
        now = self.clock.now()
        out: dict[int, ModCheck] = {}
        for mod_id, version in query.versions.items():
            mod = mods.get(mod_id)
            answer = check_mod(
                version, mod, failure=failures.get(mod_id), last_event=last.get(mod_id)
            )
            if (
                query.refresh
                and mod is not None
                and mod.state is ModState.READY
                and self.steam.can_download
                and self._stale(mod, now)
            ):
                self._refresh(mod, now)
                answer = attrs.evolve(answer, checking=True)
            out[mod_id] = answer
        return out

    def _refresh(self, mod: Mod, now: dt.datetime) -> None:
        async def check() -> None:
            try:
                await self._check_for_update(mod, now)
            except AlreadyProcessing:
                pass  # someone else queued it meanwhile
            except Exception:
                log.exception("update check of %s failed", mod.id)

        task = asyncio.create_task(check())
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    async def refreshed(self) -> None:
        """Wait for the update checks ``check_mods(refresh=True)`` queued (for embedding
        and tests)."""
        while self._refreshing:
            await asyncio.gather(*self._refreshing, return_exceptions=True)

    # --- catalog --------------------------------------------------------------------------

    def catalog_version(self) -> Hashable | None:
        """The storage's version token (``ports.Versioned``), ``None`` when it has none: an
        answer of the catalog use cases built after taking it is current while it is the
        same. Everything those answers show comes from the storage."""
        return None if self._version is None else self._version()

    async def list_mods(self, criteria: ModCriteria) -> Page[Mod]:
        return await self.catalog.list_mods(criteria)

    async def list_games(self, criteria: GameCriteria) -> Page[Game]:
        return await self.catalog.list_games(criteria)

    async def list_tags(self, game_id: int, page: Paging) -> Page[Tag]:
        return await self.catalog.list_tags(game_id, page)

    async def mod_tags(self, query: ModTagsQuery) -> dict[int, list[Tag]]:
        return await self.catalog.mod_tags(query.mod_ids, query.tag_ids)

    async def list_genres(self, page: Paging) -> Page[Genre]:
        return await self.catalog.list_genres(page)

    async def game_genres(self, query: GameGenresQuery) -> dict[int, list[Genre]]:
        return await self.catalog.game_genres(query.game_ids, query.genre_ids)

    async def list_resources(self, query: ResourcesQuery) -> Page[Resource]:
        return await self.catalog.list_resources(query.mod_ids, query.types, query.page)

    async def mod_info(self, query: ModInfoQuery) -> ModInfo:
        mod = await self.catalog.get_mod(query.mod_id)
        dependencies = None
        game = None
        failure = None
        if mod is not None and query.dependencies:
            dependencies = await self.catalog.dependencies(mod.id, DEPENDENCIES_SHOWN)
        if mod is not None and query.game and mod.game_id is not None:
            game = await self.catalog.get_game(mod.game_id)
        if mod is None or mod.attempts or not mod.state.downloadable:
            # a queued mod may be waiting out a failure's cool-off: say which
            failure = await self.catalog.get_failure(query.mod_id)
        progress = None
        if mod is not None and mod.state is not ModState.READY:
            progress = (await self._progress_of([mod.id], {mod.id: mod}, {}))[mod.id]
        return ModInfo(
            mod=mod, dependencies=dependencies, game=game, failure=failure, progress=progress
        )

    async def progress(self, query: ProgressQuery) -> dict[int, ModProgress]:
        """Where each mod is on its way to the catalog (``progress.py``)."""
        ids = query.mod_ids
        mods = await self.queue.get_mods(ids)
        missing = [i for i in ids if i not in mods]
        failures = await self.queue.get_failures(missing) if missing else {}
        return await self._progress_of(ids, mods, failures)

    async def _progress_of(
        self, ids: Sequence[int], mods: dict[int, Mod], failures: dict[int, Failure]
    ) -> dict[int, ModProgress]:
        queued = [i for i, m in mods.items() if m.state is ModState.QUEUED]
        working = [i for i, m in mods.items() if m.state is ModState.DOWNLOADING]
        positions = await self.board.queue_positions(queued) if queued else {}
        records = await self.board.progress_records(working) if working else {}
        return {
            i: mod_progress(
                i,
                mods.get(i),
                record=records.get(i),
                position=positions.get(i),
                failure=failures.get(i),
            )
            for i in ids
        }

    async def game_info(self, query: GameInfoQuery) -> Game | None:
        return await self.catalog.get_game(query.game_id)

    async def conditions(self, query: ConditionQuery) -> dict[int, ModState]:
        return await self.catalog.mod_states(query.mod_ids)

    async def queue_size(self) -> int:
        return await self.queue.queue_size()

    # --- statistics -------------------------------------------------------------------------

    async def count_request(self, endpoint: str) -> None:
        """Count one request to an endpoint (its statistics type, e.g. ``/list/mods/``)."""
        await self.record.count(endpoint)

    async def _flush_for_reading(self) -> None:
        """Write the buffered counts before statistics are read; a storage that cannot take
        them now (a full disk) keeps them buffered, and the read goes on without them."""
        try:
            await self.record.flush()
        except StorageError as exc:
            if not exc.transient:
                raise
            log.warning("statistics kept in memory for now: %s", exc)

    async def delay_stats(self) -> dict[str, int]:
        """Average of the last 20 samples of each kind, in ms; 0 when there are none."""
        await self._flush_for_reading()
        out = {}
        for kind in ("fast", "full"):
            samples = await self.statistics.delays(kind, DELAY_SAMPLES)
            out[kind] = round(sum(samples) / len(samples)) if samples else 0
        return out

    async def hour_stats(self, query: HourStatsQuery) -> list[StatRow]:
        await self._flush_for_reading()
        day = query.day or self.clock.now().date()
        return await self.statistics.hour_stats(day, query.start_hour, query.end_hour)

    async def day_stats(self, query: DayStatsQuery) -> list[StatRow]:
        await self._flush_for_reading()
        start, end = query.resolve(self.clock.now().date())
        return await self.statistics.day_stats(start, end)

    async def summary(self) -> CatalogSummary:
        await self._flush_for_reading()
        return await self.statistics.summary()

    @staticmethod
    def type_map(language: str, request_types: Iterable[str]) -> dict[str, str]:
        """Every statistics type in ``language``: the ``request_types`` an adapter counts
        (one per endpoint, :meth:`count_request`) and the core's events."""
        return stats.type_map(language, request_types)

    # --- for embedding and tests ----------------------------------------------------------

    async def wait_until(
        self, mod_ids: Sequence[int], states: Sequence[ModState], timeout: float
    ) -> dict[int, ModState | None]:
        """Poll until every mod is in one of ``states`` or gone; returns their states."""
        deadline = time.monotonic() + timeout
        while True:
            found = await self.catalog.mod_states(mod_ids)
            current = {i: found.get(i) for i in mod_ids}
            if all(s is None or s in states for s in current.values()):
                return current
            if time.monotonic() > deadline:
                return current
            await asyncio.sleep(0.02)
