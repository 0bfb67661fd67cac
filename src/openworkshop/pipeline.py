"""The download pipeline: from a queued mod to an archive (state 1) and a parsed page (state 0).

A worker claims queued mods from storage (atomically, with a lease, so several processes can
share one queue), looks their details up in one call, registers new games with one store call
each, downloads them in steamcmd sessions of up to 25 items, packs each into a ZIP_BZIP2
archive off the event loop, and swaps it in. Failures retry with backoff or end for good;
an error nobody expected (a bug, a value the storage refuses) counts as a failed attempt like
any other, so no mod is fetched again and again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path

from openworkshop import statistics as stats
from openworkshop.archive import pack_folder
from openworkshop.domain import (
    DownloadItem,
    DownloadOutcome,
    Failure,
    FailureReason,
    Game,
    Genre,
    ItemDetails,
    ItemExtras,
    KnownItem,
    Mod,
    ResourceType,
)
from openworkshop.errors import (
    ArchiveError,
    ModTooLarge,
    SteamConfigurationError,
    StorageError,
    UpstreamError,
    UpstreamRateLimited,
    WorkshopError,
)
from openworkshop.owners import OWNERS, Owner, is_alive, owner_of, sweep_owners
from openworkshop.ports import (
    ArchiveStore,
    Clock,
    DownloadQueue,
    GameRegistry,
    ItemMemory,
    PageContent,
    ProgressBoard,
    SteamSource,
    Transition,
    WorkSignal,
)
from openworkshop.progress import Phase, Progress
from openworkshop.settings import Settings
from openworkshop.states import ModState
from openworkshop.upstream import Gathering, UpstreamGate

__all__ = ["Pipeline"]

log = logging.getLogger("openworkshop.pipeline")

MIN_TICK = 0.05
"""Seconds between two progress writes at the least, whatever ``progress_interval`` says."""


def archive_key(mod_id: int, time_updated: int, now: dt.datetime) -> str:
    """``<mod>/<time_updated>-<created>-<random>.zip``: new for every version, and saying
    when it was made."""
    return f"{mod_id}/{time_updated}-{int(now.timestamp())}-{uuid.uuid4().hex[:12]}.zip"


def is_newer(details: ItemDetails, mod: Mod) -> bool:
    """Whether Steam has a version the archive does not."""
    if mod.archive is None:
        return True
    if mod.time_updated is not None and details.time_updated > mod.time_updated:
        return True
    return bool(
        details.hcontent_file and mod.hcontent_file and details.hcontent_file != mod.hcontent_file
    )


class Pipeline:
    """Takes queued mods through download, packing and page parsing."""

    def __init__(
        self,
        *,
        queue: DownloadQueue,
        games: GameRegistry,
        steam: SteamSource,
        archives: ArchiveStore,
        clock: Clock,
        settings: Settings,
        gate: UpstreamGate,
        downloads_dir: Path | None,
        record: stats.Recorder,
        rng: random.Random | None = None,
        memory: ItemMemory | None = None,
        board: ProgressBoard | None = None,
        signal: WorkSignal | None = None,
    ) -> None:
        self.queue = queue
        self.board = board
        """Where the progress of the mods being downloaded is written (without one, none is)."""
        self.signal = signal
        """What wakes this worker when another process queues work (without one, it finds
        the work at its next look at the queue, every second)."""
        self.memory = memory
        """Where a collection met in the queue is remembered with its items (without one, a
        collection fails as ``not_found``)."""
        self.games = games
        self.steam = steam
        self.archives = archives
        self.clock = clock
        self.settings = settings
        self.gate = gate
        self.downloads_dir = downloads_dir
        """steamcmd's download folders go here; ``None`` until the owner sets it (the
        ``Workshop`` makes a temporary one in ``start()`` when it is given none)."""
        self._owner: Owner | None = None
        self.record = record
        self.rng = rng or random.Random()
        self.wakeup = asyncio.Event()
        self.gathering: Gathering = self._wait_window
        """What a round waits for before claiming queued mods (tests: an explicit gate)."""
        self.ticking: Callable[[], Awaitable[None]] = self._wait_tick
        """What the progress of a downloading batch waits for between two measurements and
        writes (``progress_interval``; tests: an explicit gate)."""
        self._games: dict[int, asyncio.Future[None]] = {}
        self._slots = max(1, settings.workers)
        self._sessions = asyncio.Semaphore(self._slots)

    @property
    def owner(self) -> Owner:
        """This process as the owner of its download folders (``<downloads>/<owner tag>``),
        made once the download folder is known (the lock is taken on first use)."""
        assert self.downloads_dir is not None, "the pipeline's download folder is not set"
        if self._owner is None or self._owner.root != self.downloads_dir:
            self._owner = Owner(self.downloads_dir)
        return self._owner

    # --- leases -----------------------------------------------------------------------

    def _lease(self) -> dt.datetime:
        return self.clock.now() + dt.timedelta(seconds=self.settings.lease)

    @contextlib.asynccontextmanager
    async def _holding(self, ids: Sequence[int]):  # type: ignore[no-untyped-def]
        """Renew the lease of ``ids`` while the body works on them."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.settings.lease / 3)
                with contextlib.suppress(Exception):
                    await self.queue.renew(ids, lease_until=self._lease())

        task = asyncio.create_task(renew())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- the loop ---------------------------------------------------------------------

    async def run(self) -> None:
        """Work until cancelled: up to ``workers`` batches at once, each claimed as soon as a
        slot is free, so requests that arrive while a batch downloads are not held back."""
        running: set[asyncio.Task[None]] = set()
        listening = asyncio.create_task(self._listen())
        try:
            while True:
                # cleared before claiming: a request or a finished batch that arrives while
                # claiming sets it again, so the wait below does not miss it
                self.wakeup.clear()
                try:
                    claimed = await self._next_batch() if len(running) < self._slots else []
                except asyncio.CancelledError:
                    raise
                except Exception:  # a storage failure must not kill the worker
                    log.exception("claiming work failed")
                    claimed = []
                if claimed:
                    task = asyncio.create_task(self._process(claimed))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    # its mods' pages are parsed next round, without waiting for the timeout
                    task.add_done_callback(lambda _: self.wakeup.set())
                    continue
                waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(self.wakeup.wait())}
                waiters |= set(running)  # type: ignore[arg-type]
                await asyncio.wait(waiters, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters - set(running):
                    waiter.cancel()
        finally:
            listening.cancel()
            for task in running:
                task.cancel()
            await asyncio.gather(listening, *running, return_exceptions=True)

    async def _listen(self) -> None:
        """Wake the loop when the storage says work was queued (by any process)."""
        if self.signal is None:
            return
        while True:
            try:
                if await self.signal.wait_for_work(30.0):
                    self.wakeup.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the channel broke: the loop still looks every second
                log.warning("waiting for work failed: %s", _describe(exc))
                await asyncio.sleep(1.0)

    async def queued(self) -> None:
        """Work was queued: wake this worker, and (through the storage) the others."""
        self.wakeup.set()
        if self.signal is not None:
            try:
                await self.signal.signal_work()
            except Exception as exc:  # they look at the queue every second anyway
                log.warning("signalling the work failed: %s", _describe(exc))

    async def _next_batch(self) -> list[Mod]:
        """Queued mods to download (after the gathering window); failing that, the pages
        left unparsed are parsed here. Nothing while upstream calls are paused."""
        if await self.gate.paused_until() is not None:
            return []
        await self.gathering()
        claimed = await self.queue.claim(
            ModState.QUEUED,
            self.steam.max_details_batch,
            now=self.clock.now(),
            lease_until=self._lease(),
        )
        if not claimed:
            await self._parse_left_pages()
        return claimed

    async def _wait_window(self) -> None:
        if self.settings.gather_window > 0:
            # let requests that arrive close together share the calls
            await asyncio.sleep(self.settings.gather_window)

    async def _wait_tick(self) -> None:
        await asyncio.sleep(max(self.settings.progress_interval, MIN_TICK))

    async def _parse_left_pages(self) -> bool:
        """Pages left unparsed by a failure or a dead worker; returns whether there were any."""
        pending = await self.queue.claim(
            ModState.AVAILABLE, 50, now=self.clock.now(), lease_until=self._lease()
        )
        for mod in pending:
            await self._enrich(mod, None)
        return bool(pending)

    async def _process(self, claimed: list[Mod]) -> None:
        try:
            async with self._holding([m.id for m in claimed]):
                await self._download_batch(claimed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in one batch must not stop the others
            log.exception("a download batch failed")
            await self._count_attempt(claimed, exc)

    async def _count_attempt(self, claimed: Sequence[Mod], exc: Exception) -> None:
        """An unexpected error is a failed attempt of every mod the batch still holds: it
        retries with backoff and ends failed after ``max_attempts``, instead of being taken
        over (and downloaded again) each time its lease runs out."""
        try:
            current = await self.queue.get_mods([m.id for m in claimed])
            for mod in current.values():
                if mod.state is ModState.DOWNLOADING:
                    await self._fail(mod, _reason_of_error(exc), _describe(exc))
        except Exception:
            log.exception("could not count the failed attempt; the lease will run out")

    async def step(self) -> bool:
        """One round, in the caller's task: a batch of queued mods, then pages still to
        parse. Returns whether there was anything to do (for tests and embedding)."""
        claimed = await self._next_batch()
        if claimed:
            await self._process(claimed)
            await self._parse_left_pages()
        return bool(claimed)

    async def sweep(self) -> int:
        """Remove download folders whose owner is dead for certain (a crash, a kill: its
        lock is free); return how many."""

        def _sweep() -> int:
            if self.downloads_dir is None or not self.downloads_dir.is_dir():
                return 0
            removed = 0
            for folder in self.downloads_dir.iterdir():
                if folder.name == OWNERS or not folder.is_dir():
                    continue
                if not is_alive(self.downloads_dir, owner_of(folder.name)):
                    shutil.rmtree(folder, ignore_errors=True)
                    removed += 1
            sweep_owners(self.downloads_dir)
            return removed

        return await asyncio.to_thread(_sweep)

    async def drain(self, rounds: int = 100) -> None:
        """Run steps until nothing is left to do (for tests and embedding)."""
        for _ in range(rounds):
            if not await self.step():
                return

    # --- a batch ----------------------------------------------------------------------

    async def _download_batch(self, mods: list[Mod]) -> None:
        ids = [m.id for m in mods]
        try:
            found = await self.gate.call(lambda: self.steam.details(ids))
        except UpstreamError as exc:
            await self._retry_all(mods, _reason_of(exc), str(exc))
            return
        try:
            collections = await self._collections(mods, found)
        except UpstreamError as exc:
            await self._retry_all(mods, _reason_of(exc), str(exc))
            return
        to_fetch: list[tuple[Mod, ItemDetails]] = []
        for mod in mods:
            details = found.get(mod.id)
            if mod.id not in found:  # no verdict at all: not a "not found"
                await self._fail(mod, FailureReason.UNKNOWN, "Steam's answer left this item out")
            elif details is None:
                await self._fail(mod, FailureReason.NOT_FOUND, "Steam does not list this item")
            elif details.may_be_collection and mod.id in collections:
                await self._expand(mod, details, collections[mod.id])
            elif details.is_collection:
                await self._fail(mod, FailureReason.NOT_FOUND, "a collection, not a mod")
            elif details.banned:
                await self._fail(mod, FailureReason.BANNED, "banned on Steam")
            elif details.file_size > self.settings.max_mod_size:
                detail = (
                    f"Steam says the mod is {details.file_size} bytes, more than the limit of "
                    f"{self.settings.max_mod_size} (OPENWORKSHOP_MAX_MOD_SIZE)"
                )
                await self._fail(mod, FailureReason.TOO_LARGE, detail)
            elif mod.archive is not None and not is_newer(details, mod):
                # an update that turned out to be the version we have: abandoned like a
                # failed update, back to serving the archive
                await self.queue.apply(Transition.of(mod, mod.failed(now=self.clock.now())))
            else:
                to_fetch.append((mod, details))
        await self._register_games({d.app_id for _, d in to_fetch})
        groups = [
            to_fetch[i : i + self.steam.max_download_batch]
            for i in range(0, len(to_fetch), self.steam.max_download_batch)
        ]
        await asyncio.gather(*(self._download_group(group) for group in groups))

    async def _collections(
        self, mods: Sequence[Mod], found: Mapping[int, ItemDetails | None]
    ) -> dict[int, tuple[int, ...]]:
        """The items of those queued ids that are collections: one batched
        ``collection_children`` call for the items that may be one (none for mods with
        content, which never are)."""
        if self.memory is None:
            return {}
        candidates = [
            m.id for m in mods if (d := found.get(m.id)) is not None and d.may_be_collection
        ]
        if not candidates:
            return {}
        answer = await self.gate.call(lambda: self.steam.collection_children(candidates))
        return {i: items for i in candidates if (items := answer.get(i)) is not None}

    async def _expand(self, mod: Mod, details: ItemDetails, items: tuple[int, ...]) -> None:
        """A collection is not a mod (never given to steamcmd): it is remembered with its
        items, each item the server lacks is queued, and its own row goes (no failure)."""
        assert self.memory is not None
        now = self.clock.now()
        await self.memory.remember_items(
            [
                KnownItem(
                    id=mod.id, name=details.title, is_collection=True, children=items, checked=now
                )
            ]
        )
        present = await self.queue.get_mods(items)
        for item in items:
            if item not in present:
                await self.queue.apply(Transition.of(None, Mod.requested(item, now=now)))
        await self.queue.apply(Transition.of(mod, mod.failed(now=now)))
        await self.queued()

    async def _download_group(self, group: list[tuple[Mod, ItemDetails]]) -> None:
        assert self.downloads_dir is not None, "the pipeline's download folder is not set"
        folder = self.downloads_dir / await asyncio.to_thread(self.owner.tag)
        items = [DownloadItem(app_id=d.app_id, mod_id=m.id, file_url=d.file_url) for m, d in group]
        meter = _Meter(self.clock, {m.id: d.file_size or None for m, d in group})
        reporting = asyncio.create_task(self._report(meter, items, folder))
        try:
            try:
                async with self._sessions:
                    outcomes = await self.gate.call(lambda: self.steam.download(items, folder))
            except UpstreamError as exc:
                await self._retry_all([m for m, _ in group], _reason_of(exc), str(exc))
                return
            if any(o.reason is FailureReason.RATE_LIMITED for o in outcomes.values()):
                await self.gate.pause()
            await asyncio.gather(
                *(self._finish(mod, details, outcomes.get(mod.id), meter) for mod, details in group)
            )
        finally:  # steamcmd's folder goes, whatever happened
            reporting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporting
            await asyncio.to_thread(shutil.rmtree, folder, True)

    async def _report(self, meter: _Meter, items: Sequence[DownloadItem], folder: Path) -> None:
        """After each tick, write the group's progress: the bytes steamcmd has written of
        each item still downloading (``SteamSource.measure``, no call to Valve), and what
        the packing of the others has read. Only what changed is written."""
        if self.board is None:
            return
        while True:
            await self.ticking()
            downloading = [i for i in items if meter.phase(i.mod_id) is Phase.DOWNLOADING]
            if downloading:
                try:
                    meter.measured(await self.steam.measure(downloading, folder))
                except Exception as exc:  # a figure missing is no reason to stop the batch
                    log.warning("measuring the downloads failed: %s", _describe(exc))
            records = meter.changed()
            if records:
                try:
                    await self.board.record_progress(records)
                except Exception as exc:
                    log.warning("progress could not be written: %s", _describe(exc))
                    meter.unwritten(records)

    async def _finish(
        self,
        mod: Mod,
        details: ItemDetails,
        outcome: DownloadOutcome | None,
        meter: _Meter,
    ) -> None:
        if outcome is None or outcome.path is None:
            reason = outcome.reason if outcome is not None else FailureReason.UNKNOWN
            detail = outcome.detail if outcome is not None else "no result from the download"
            if reason is FailureReason.NOT_FOUND:
                # Steam's details list the item: only they may say it does not exist
                reason = FailureReason.FILE_NOT_FOUND
            await self._fail(mod, reason or FailureReason.UNKNOWN, detail)
            return
        path = outcome.path
        key = archive_key(mod.id, details.time_updated, self.clock.now())
        try:
            limit = self.settings.max_mod_size
            told = meter.packing(mod.id)
            packed = await self.archives.put(key, lambda out: _pack(path, out, limit, told))
        except ModTooLarge as exc:
            await self._fail(mod, FailureReason.TOO_LARGE, str(exc))
            return
        except ArchiveError as exc:  # a full disk among them: retried, never "not found"
            await self._fail(mod, FailureReason.IO_ERROR, str(exc))
            return
        except Exception as exc:
            log.exception("packing mod %s failed", mod.id)
            await self._fail(mod, _reason_of_error(exc), _describe(exc))
            return
        finally:
            await asyncio.to_thread(shutil.rmtree, path, True)
        now = self.clock.now()
        first = mod.archive is None
        done = mod.archived(details, packed, now=now, lease_until=self._lease())
        try:
            recorded = await self.queue.apply(Transition.of(mod, done, clears_failure=True))
        except Exception as exc:  # e.g. a text the storage cannot hold: no orphan archive
            await self.archives.remove(key)
            log.warning("mod %s could not be recorded: %s", mod.id, exc)
            await self._fail(mod, _reason_of_error(exc), _describe(exc))
            return
        if not recorded:
            # another worker took the mod over (our lease ran out): keep its work, drop ours
            await self.archives.remove(key)
            return
        if mod.archive is not None:
            await self.archives.remove(mod.archive.key)
        await self.record.count(stats.DOWNLOAD_OK)
        if first and mod.date_queued is not None:
            waited = (now - mod.date_queued).total_seconds() * 1000
            await self.record.delay("full", max(1, round(waited)))
        await self._enrich(done, details)

    # --- page details -------------------------------------------------------------------

    async def _enrich(self, mod: Mod, details: ItemDetails | None) -> None:
        """State 1 → 0: tags, dependencies and screenshots from the page (or the keyed API).
        ``details``: what Steam said in this round (``None`` for a page left by an earlier
        one: only the page then).

        Any failure is a failed attempt of the page (backoff, then READY without it)."""
        try:
            await self._enrich_once(mod, details)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("the page of mod %s could not be stored", mod.id)
            await self._enrich_later(mod, _describe(exc))

    async def _enrich_once(self, mod: Mod, details: ItemDetails | None) -> None:
        preview_url = details.preview_url if details is not None else ""
        tags = details.tags if details is not None else ()
        extras: ItemExtras | None
        try:
            if details is not None and details.extras is not None:
                extras = details.extras
            else:
                extras = await self.gate.call(
                    lambda: self.steam.extras(mod.id, preview_url=preview_url)
                )
        except UpstreamError as exc:
            await self._enrich_later(mod, str(exc))
            return
        extras = extras or ItemExtras(tags=tags)
        if mod.game_id is not None:  # its store call may have failed with the batch's
            await self._register_game(mod.game_id)
        resources: list[tuple[ResourceType, str]] = []
        if preview_url:
            resources.append((ResourceType.LOGO, preview_url))
        resources += [(ResourceType.SCREENSHOT, url) for url in extras.screenshots]
        page = PageContent(
            tags=tuple(extras.tags or tags),
            dependencies=tuple(d for d in extras.dependencies if d != mod.id),
            resources=tuple(resources),
            at=self.clock.now(),
        )
        await self.queue.apply(Transition.of(mod, mod.enriched(), page=page))

    async def _enrich_later(self, mod: Mod, detail: str) -> None:
        attempts = mod.attempts + 1
        if attempts >= self.settings.max_attempts:
            log.warning("giving up on the page of mod %s: %s", mod.id, detail)
            await self.queue.apply(Transition.of(mod, mod.enriched()))
            return
        later = self.clock.now() + dt.timedelta(seconds=self._backoff(attempts))
        await self.queue.apply(
            Transition.of(mod, mod.page_postponed(attempts=attempts, until=later))
        )

    # --- games ------------------------------------------------------------------------

    async def _register_games(self, app_ids: Iterable[int]) -> None:
        await asyncio.gather(*(self._register_game(a) for a in app_ids))

    async def _register_game(self, app_id: int) -> None:
        """One store call per new game, shared by every batch that needs it."""
        pending = self._games.get(app_id)
        if pending is not None:
            await asyncio.shield(pending)
            return
        if await self.games.get_game(app_id) is not None:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._games[app_id] = future
        try:
            try:
                app = await self.gate.call(lambda: self.steam.app(app_id))
            except UpstreamError as exc:
                log.warning("store details of app %s failed: %s", app_id, exc)
                return  # registered by a later batch
            now = self.clock.now()
            if app is None:
                game = Game(id=app_id, name=str(app_id), creation_date=now)
                genres: list[Genre] = []
            else:
                game = Game(
                    id=app_id,
                    name=app.name,
                    type="game" if app.type == "game" else "app",
                    logo=app.header_image,
                    short_description=app.short_description,
                    description=app.description,
                    creation_date=now,
                )
                genres = [Genre(id=i, name=n) for i, n in app.genres]
            await self.games.put_game(game, genres)
        finally:
            future.set_result(None)
            self._games.pop(app_id, None)

    # --- failures ---------------------------------------------------------------------

    def _backoff(self, attempts: int) -> float:
        base = self.settings.retry_base * 2.0 ** max(0, attempts - 1)
        return base * (0.5 + self.rng.random())

    async def _retry_all(self, mods: Sequence[Mod], reason: FailureReason, detail: str) -> None:
        await asyncio.gather(*(self._fail(m, reason, detail) for m in mods))

    async def _fail(self, mod: Mod, reason: FailureReason, detail: str) -> None:
        """A transient failure goes back to the queue with backoff while attempts remain;
        otherwise the failure is final: the mod leaves the catalog (or, for a failed update,
        goes back to serving its previous archive) and the reason is kept."""
        attempts = mod.attempts + 1
        now = self.clock.now()
        if reason.transient and attempts < self.settings.max_attempts:
            later = now + dt.timedelta(seconds=self._backoff(attempts))
            await self.queue.apply(
                Transition.of(mod, mod.retried(attempts=attempts, not_before=later))
            )
            return
        await self.record.count(stats.DOWNLOAD_ERROR)
        # a detail is for people: one the storage cannot hold must not lose the failure
        text = detail[:500].encode("utf-8", "replace").decode("utf-8")
        failure = Failure(mod_id=mod.id, reason=reason, attempts=attempts, date=now, detail=text)
        await self.queue.apply(Transition.of(mod, mod.failed(now=now), failure=failure))


def _pack(folder: Path, out: object, max_size: int, progress: Callable[[int, int], None]) -> None:
    pack_folder(folder, out, max_size=max_size, progress=progress)  # type: ignore[arg-type]


class _Meter:
    """The progress of one download group, as its worker sees it: each mod's phase, bytes
    done and total, and when its phase began. Packing threads update it (one assignment of
    an immutable tuple each); ``changed`` gives the records to write."""

    def __init__(self, clock: Clock, totals: Mapping[int, int | None]) -> None:
        self._clock = clock
        now = clock.now()
        self._state: dict[int, tuple[Phase, int, int | None, dt.datetime]] = {
            mod_id: (Phase.DOWNLOADING, 0, total, now) for mod_id, total in totals.items()
        }
        self._written: dict[int, tuple[Phase, int, int | None]] = {}
        self._idle_since: dict[int, dt.datetime] = dict.fromkeys(totals, now)
        """When each download was last seen with no bytes yet: its rate counts from then
        (steamcmd fetches a session's items one after the other)."""

    def phase(self, mod_id: int) -> Phase:
        return self._state[mod_id][0]

    def measured(self, sizes: Mapping[int, int]) -> None:
        now = self._clock.now()
        for mod_id, size in sizes.items():
            phase, _, total, _ = self._state[mod_id]
            if phase is not Phase.DOWNLOADING:
                continue
            if size <= 0:
                self._idle_since[mod_id] = now
                continue
            self._state[mod_id] = (phase, size, total, self._idle_since[mod_id])

    def packing(self, mod_id: int) -> Callable[[int, int], None]:
        """The mod's download is over and its packing starts: what to tell of it."""
        started = self._clock.now()
        self._state[mod_id] = (Phase.PACKING, 0, None, started)

        def told(done: int, total: int) -> None:
            self._state[mod_id] = (Phase.PACKING, done, total, started)

        return told

    def changed(self) -> list[Progress]:
        now = self._clock.now()
        records = []
        for mod_id, (phase, done, total, started) in list(self._state.items()):
            if self._written.get(mod_id) == (phase, done, total):
                continue
            self._written[mod_id] = (phase, done, total)
            records.append(
                Progress(
                    mod_id=mod_id,
                    phase=phase,
                    done=done,
                    total=total,
                    started=started,
                    updated=now,
                )
            )
        return records

    def unwritten(self, records: Sequence[Progress]) -> None:
        """Records the storage did not take: written again next time."""
        for record in records:
            self._written.pop(record.mod_id, None)


def _reason_of(exc: UpstreamError) -> FailureReason:
    if isinstance(exc, UpstreamRateLimited):
        return FailureReason.RATE_LIMITED
    if isinstance(exc, SteamConfigurationError):
        return FailureReason.LOGIN_REQUIRED
    return FailureReason.NO_CONNECTION


def _reason_of_error(exc: BaseException) -> FailureReason:
    """The reason recorded for an error the pipeline did not expect at that step."""
    if isinstance(exc, UpstreamError):
        return _reason_of(exc)
    if isinstance(exc, ArchiveError) or (isinstance(exc, StorageError) and exc.transient):
        return FailureReason.IO_ERROR
    return FailureReason.UNKNOWN


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return text if isinstance(exc, WorkshopError) and text else f"{type(exc).__name__}: {text}"
