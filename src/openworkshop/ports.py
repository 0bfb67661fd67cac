"""The ports: what the core needs from the outside world, and nothing more.

Adapters implement these; ``openworkshop.testing`` has an in-memory implementation of each.
Every method that may block is ``async``. No port may hold state that only one process can
hold: several server processes may share one storage and one archive store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import IO, Generic, Protocol, TypeVar, runtime_checkable

import attrs

from openworkshop.criteria import GameCriteria, ModCriteria, Paging
from openworkshop.domain import (
    AppDetails,
    Archive,
    DownloadItem,
    DownloadOutcome,
    Failure,
    Game,
    Genre,
    ItemDetails,
    ItemExtras,
    KnownItem,
    Mod,
    Resource,
    ResourceType,
    Tag,
)
from openworkshop.events import Event, EventBatch
from openworkshop.progress import Progress
from openworkshop.states import ModState

__all__ = [
    "ArchiveStore",
    "CatalogReader",
    "CatalogSummary",
    "CatalogWriter",
    "Clock",
    "DownloadQueue",
    "EventLog",
    "GameRegistry",
    "ItemMemory",
    "Lifecycle",
    "Page",
    "PageContent",
    "ProgressBoard",
    "SharedFlags",
    "StatRow",
    "StatisticsStore",
    "SteamSource",
    "Storage",
    "Transition",
    "Versioned",
    "WorkSignal",
]


T = TypeVar("T")


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a listing: the total matching, the offset, and the items."""

    total: int
    offset: int
    items: list[T]


@attrs.frozen(kw_only=True)
class StatRow:
    """A statistics counter for one hour or one day."""

    type: str
    count: int
    at: dt.datetime
    """The start of the hour (for hourly rows) or of the day (for daily rows), UTC."""


@attrs.frozen(kw_only=True)
class CatalogSummary:
    """What ``/statistics/info/all`` reports."""

    mods: int
    games: int
    genres: int
    mods_tags: int
    mods_dependencies: int
    statistics_days: int
    mods_sent_count: int


@attrs.frozen(kw_only=True)
class PageContent:
    """What a mod's page (or the keyed API) adds: written with the transition to READY."""

    tags: tuple[str, ...] = ()
    """Tag names, of the mod's game (created on first use)."""
    dependencies: tuple[int, ...] = ()
    """Ids the mod depends on, in Steam's order."""
    resources: tuple[tuple[ResourceType, str], ...] = ()
    """The logo and screenshots, URLs in order."""
    at: dt.datetime
    """When they were read (the resources' ``date_event``)."""


@attrs.frozen(kw_only=True)
class Transition:
    """One change of a mod's row, written by :meth:`DownloadQueue.apply` in ONE transaction.

    Compare-and-set: written only if the stored row is in state ``expect`` (``None``: there
    is no row yet). ``after`` is the row as it becomes (``downloads`` is never written: see
    :meth:`StatisticsStore.add_download`); ``None`` removes the row with its tags,
    dependencies and resources. With ``page``, the mod's tags, dependencies and resources
    are replaced; with ``failure``, the failure is kept (for ``/info/mod`` and the next
    request); ``clears_failure`` forgets the last one. The event it causes, if any
    (``events.mod_change`` of the stored row and ``after``), is recorded in the same write,
    stamped ``at`` (when it happened; without it, from the rows).
    """

    mod_id: int
    expect: ModState | None
    after: Mod | None
    page: PageContent | None = None
    failure: Failure | None = None
    clears_failure: bool = False
    at: dt.datetime | None = None

    def __attrs_post_init__(self) -> None:
        if self.after is not None and self.after.id != self.mod_id:
            raise ValueError(f"a transition of mod {self.mod_id} cannot write mod {self.after.id}")
        if self.failure is not None and self.failure.mod_id != self.mod_id:
            raise ValueError(f"a transition of mod {self.mod_id} cannot keep another's failure")

    @classmethod
    def of(
        cls,
        before: Mod | None,
        after: Mod | None,
        *,
        page: PageContent | None = None,
        failure: Failure | None = None,
        clears_failure: bool = False,
        at: dt.datetime | None = None,
    ) -> Transition:
        """``before`` (the row as read; ``None``: none yet) becomes ``after``."""
        source = before if before is not None else after
        assert source is not None, "a transition changes a mod"
        return cls(
            mod_id=source.id,
            expect=None if before is None else before.state,
            after=after,
            page=page,
            failure=failure,
            clears_failure=clears_failure,
            at=at,
        )


@runtime_checkable
class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going back."""

    async def sleep(self, seconds: float) -> None:
        """Wait (a fake clock may advance instead)."""


@runtime_checkable
class SteamSource(Protocol):
    """Valve's servers. Every call here costs the mirror its standing: the core batches."""

    max_details_batch: int
    """How many ids one :meth:`details` call may take (100 for GetPublishedFileDetails)."""
    max_download_batch: int
    """How many items one :meth:`download` call (one steamcmd login) may take (25)."""
    can_download: bool
    """False when downloading is impossible (no steamcmd found): the server is 'not ready'."""

    async def details(self, ids: Sequence[int]) -> Mapping[int, ItemDetails | None]:
        """Details of many items in one upstream call; ``None`` for missing/private ones.

        Raises UpstreamUnavailable, UpstreamRateLimited or SteamConfigurationError.
        """

    async def app(self, app_id: int) -> AppDetails | None:
        """A game's store details; ``None`` for an unknown app."""

    async def collection_children(self, ids: Sequence[int]) -> Mapping[int, tuple[int, ...] | None]:
        """The items of each collection, nested collections expanded (each once), in
        Steam's order, in batched calls; ``None`` for an id that is not a visible collection."""

    async def extras(self, mod_id: int, *, preview_url: str = "") -> ItemExtras | None:
        """What the workshop page of ``mod_id`` adds (dependencies, screenshots, tags,
        description); ``preview_url``, the item's logo when known, is not a screenshot.

        ``None`` when the page says the item does not exist. (The keyed details carry the
        extras already: ``ItemDetails.extras``; the caller asks only when they do not.)
        """

    async def download(
        self, items: Sequence[DownloadItem], folder: Path
    ) -> Mapping[int, DownloadOutcome]:
        """Fetch items into ``folder`` in one session; one outcome per item.

        A folder that came back is the item's files, complete; the caller removes it.
        """

    async def measure(self, items: Sequence[DownloadItem], folder: Path) -> Mapping[int, int]:
        """Bytes of each item on disk so far in ``folder``, while :meth:`download` fetches
        them there (what steamcmd has written of it: its download and content folders).
        Never a call to Valve."""


@runtime_checkable
class ArchiveStore(Protocol):
    """Where the ZIP archives live. ``put`` is atomic: an archive is whole or absent."""

    async def put(self, key: str, build: Callable[[IO[bytes]], None]) -> Archive:
        """Write an archive under ``key``: ``build`` writes its bytes (run off the event loop);
        the store hashes them while they are written and makes them visible under ``key``
        only once complete. A failure leaves nothing behind."""

    async def exists(self, key: str) -> bool: ...

    async def remove(self, key: str) -> None:
        """Remove an archive; removing a missing one is not an error."""

    async def size(self, key: str) -> int | None: ...

    def local_path(self, key: str) -> Path | None:
        """A filesystem path to the archive if the store has one (for zero-copy sending)."""

    def open(self, key: str) -> IO[bytes]:
        """Open the archive for reading (blocking; call it off the event loop)."""

    async def keys(self) -> list[str]:
        """Every complete archive's key."""

    async def live_writes(self) -> set[str]:
        """Keys of archives stored by a writer that is still alive, which may not be in its
        row yet; any other archive that no row claims is an orphan."""

    async def sweep(self) -> int:
        """Remove leftovers of interrupted writes; return how many."""


@runtime_checkable
class Lifecycle(Protocol):
    async def open(self) -> None:
        """Prepare the store (create or migrate the schema)."""

    async def close(self) -> None: ...


@runtime_checkable
class Versioned(Protocol):
    """An optional role: a cheap token of the stored data's version, for keeping answers.

    ``catalog_version`` must change with every write that any process commits, except
    those no catalog answer shows (the statistics' request counters and delay samples; a
    store may change it more often), and return ``None`` when it cannot tell. An answer built from
    reads made *after* taking the token is current for as long as the token is unchanged.
    It is called on the event loop: it must not wait (no I/O that can block)."""

    def catalog_version(self) -> Hashable | None: ...


@runtime_checkable
class DownloadQueue(Protocol):
    """The work queue: a mod's row is its piece of work. Every change of state is one
    compare-and-set :meth:`apply`; workers take rows with :meth:`claim` (with a lease) and
    keep them with :meth:`renew`. Used by the pipeline and the service's download use cases."""

    async def get_mod(self, mod_id: int) -> Mod | None: ...

    async def get_mods(self, ids: Sequence[int]) -> dict[int, Mod]: ...

    async def apply(self, transition: Transition) -> bool:
        """Write one transition in one transaction if the row is in ``transition.expect``;
        returns whether it was written (nothing is written otherwise)."""

    async def claim(
        self, state: ModState, limit: int, *, now: dt.datetime, lease_until: dt.datetime
    ) -> list[Mod]:
        """Atomically take up to ``limit`` mods for work, oldest request first.

        ``QUEUED``: mods due (``not_before`` unset or passed) are moved to ``DOWNLOADING``;
        mods in ``DOWNLOADING`` whose lease expired or is unset (their worker died) are
        taken again.
        ``AVAILABLE``: mods whose lease is unset or expired (pages still to parse).
        Taken mods carry ``lease_until`` (:meth:`Mod.claimed`); two claimers never get the
        same mod.
        """

    async def renew(self, ids: Sequence[int], *, lease_until: dt.datetime) -> None:
        """Extend the lease of mods a live worker is still working on."""

    async def get_failure(self, mod_id: int) -> Failure | None:
        """The last final failure of a mod (kept after its row is gone)."""

    async def get_failures(self, ids: Sequence[int]) -> dict[int, Failure]:
        """The last final failure of each of the mods that has one."""

    async def queue_size(self) -> int:
        """Mods waiting or downloading."""

    async def archived(self) -> list[tuple[int, str]]:
        """(mod id, archive key) of every mod that claims an archive."""


@runtime_checkable
class CatalogReader(Protocol):
    """The catalog's read model: listings and lookups. The service's catalog use cases
    read it; an HTTP adapter may read it directly. Filters and sorts arrive as the core's
    criteria (``criteria.py``)."""

    async def get_mod(self, mod_id: int) -> Mod | None: ...

    async def mod_states(self, ids: Sequence[int]) -> dict[int, ModState]: ...

    async def get_failure(self, mod_id: int) -> Failure | None: ...

    async def list_mods(self, criteria: ModCriteria) -> Page[Mod]:
        """Downloadable mods (states 1 and 0) matching the criteria, sorted and paged."""

    async def dependencies(self, mod_id: int, limit: int) -> tuple[list[int], int]:
        """Up to ``limit`` ids the mod depends on, and how many there are in all."""

    async def list_resources(
        self, mod_ids: Sequence[int], types: Sequence[ResourceType], page: Paging
    ) -> Page[Resource]: ...

    async def get_game(self, game_id: int) -> Game | None:
        """The game with ``mods_count`` and ``mods_downloads`` over its downloadable mods."""

    async def list_games(self, criteria: GameCriteria) -> Page[Game]: ...

    async def list_tags(self, game_id: int, page: Paging) -> Page[Tag]: ...

    async def mod_tags(
        self, mod_ids: Sequence[int], tag_ids: Sequence[int]
    ) -> dict[int, list[Tag]]:
        """Tags of each mod (only ``tag_ids`` when given); mods without any are left out."""

    async def list_genres(self, page: Paging) -> Page[Genre]: ...

    async def game_genres(
        self, game_ids: Sequence[int], genre_ids: Sequence[int]
    ) -> dict[int, list[Genre]]:
        """Genres of each game (only ``genre_ids`` when given); games without any are left
        out."""


@runtime_checkable
class GameRegistry(Protocol):
    """The games the pipeline registers (one store call per new game)."""

    async def get_game(self, game_id: int) -> Game | None: ...

    async def put_game(self, game: Game, genres: Sequence[Genre]) -> None:
        """Insert or replace a game and its genres (genres are created on first use)."""


@runtime_checkable
class CatalogWriter(Protocol):
    """Writing a catalog row by row, outside the download pipeline: seeding, imports,
    tests. (The pipeline writes mods only through :meth:`DownloadQueue.apply`.)"""

    async def put_mod(self, mod: Mod, *, expect: ModState | None) -> bool:
        """Write ``mod`` if the stored row is in state ``expect`` (``None``: no row yet):
        the same write as ``apply(Transition(mod_id=mod.id, expect=expect, after=mod))``.
        ``downloads`` is never written here (see :meth:`StatisticsStore.add_download`)."""

    async def put_game(self, game: Game, genres: Sequence[Genre]) -> None: ...

    async def set_mod_tags(self, mod_id: int, game_id: int | None, names: Sequence[str]) -> None:
        """Replace the mod's tags; tags are per game and created on first use."""

    async def set_dependencies(self, mod_id: int, ids: Sequence[int]) -> None: ...

    async def set_resources(
        self, mod_id: int, resources: Sequence[tuple[ResourceType, str]], *, now: dt.datetime
    ) -> None:
        """Replace the mod's logo and screenshots (URLs kept in order)."""


@runtime_checkable
class StatisticsStore(Protocol):
    """Counters, delay samples and the catalog summary. Written additively (several
    processes share them) by the statistics ``Recorder``; read by the service."""

    async def count(self, type: str, *, at: dt.datetime, n: int = 1) -> None:
        """Add ``n`` to the type's counter for the hour and for the day of ``at``."""

    async def add_download(self, mod_id: int, *, now: dt.datetime) -> None:
        """Count one download of the mod's archive and set its last request date."""

    async def add_delay(self, kind: str, ms: int, *, at: dt.datetime) -> None:
        """Record one processing delay sample (``fast`` or ``full``)."""

    async def hour_stats(self, day: dt.date, start_hour: int, end_hour: int) -> list[StatRow]: ...

    async def day_stats(self, start: dt.date, end: dt.date) -> list[StatRow]: ...

    async def delays(self, kind: str, last: int) -> list[int]:
        """The ``last`` most recent samples of a kind."""

    async def summary(self) -> CatalogSummary: ...


@runtime_checkable
class SharedFlags(Protocol):
    """Small values every process on this storage shares: the upstream pause, and the
    per-minute ceiling on calls to Valve. Used by the ``UpstreamGate``."""

    async def get_flag(self, name: str) -> str | None: ...

    async def set_flag(self, name: str, value: str | None) -> None: ...

    async def take_call_slot(self, minute: dt.datetime, limit: int) -> bool:
        """Atomically take one of ``limit`` call slots of the minute starting at ``minute``
        (every process on this storage counting together); ``False`` when all are taken.
        Slots of earlier minutes are forgotten."""


@runtime_checkable
class ItemMemory(Protocol):
    """What Steam said of items the catalog may lack (collections and their items, required
    items, "not listed"), so a second install plan or collection look-up within the update
    cooldown costs Valve nothing. Used by the ``Planner`` and the pipeline."""

    async def remember_items(self, items: Sequence[KnownItem]) -> None:
        """Insert or replace each item's record."""

    async def known_items(self, ids: Sequence[int]) -> dict[int, KnownItem]:
        """The records of those ids that have one (however old: the caller judges)."""


@runtime_checkable
class EventLog(Protocol):
    """The events feed (``events.py``): recorded by ``DownloadQueue.apply`` and ``put_game``
    in the same write as their change, numbered 1, 2, 3 …; read after a cursor; trimmed
    past the retention window."""

    async def read_events(self, after: int, limit: int) -> EventBatch:
        """Up to ``limit`` events with ``seq`` above ``after``, oldest first."""

    async def last_mod_events(self, ids: Sequence[int]) -> dict[int, Event]:
        """The newest event kept of each of the mods that has one."""

    async def trim_events(self, before: dt.datetime) -> int:
        """Forget the events up to the newest one that happened before ``before`` (the log
        stays one unbroken run); how many. ``trimmed`` of later reads covers them."""


@runtime_checkable
class ProgressBoard(Protocol):
    """Live progress of the mods being downloaded (``progress.py``), kept in storage so that
    an API node sees what a worker in another process does. A mod's record lives only while
    it is in ``DOWNLOADING``: :meth:`DownloadQueue.claim` and every
    :meth:`DownloadQueue.apply` that moves it out of that state remove it in the same write,
    so a dead worker's last figures never outlive its claim. Written by the pipeline (at most
    once per ``progress_interval``), read by the service."""

    async def record_progress(self, records: Sequence[Progress]) -> None:
        """Insert or replace each record, only for mods in ``DOWNLOADING`` now (a late write
        after the mod moved on is dropped, not kept as a record that lies)."""

    async def progress_records(self, ids: Sequence[int]) -> dict[int, Progress]:
        """The records of those ids that have one."""

    async def queue_positions(self, ids: Sequence[int]) -> dict[int, int]:
        """The place of each of those mods in ``QUEUED`` in the order workers claim them
        (oldest request first, then id): 1 for the first."""


@runtime_checkable
class WorkSignal(Protocol):
    """Wakes the workers of every process on the storage when work is queued, so a worker
    in another process than the request's starts at once instead of at its next look at
    the queue (PostgreSQL: ``LISTEN``/``NOTIFY``; a store with no such channel wakes the
    workers of its own process only, and the others look every second)."""

    async def signal_work(self) -> None:
        """Work was queued (call it after the write that queued it)."""

    async def wait_for_work(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a signal; whether one came. Signals sent while
        nobody waited are not lost: the next wait returns at once."""


@runtime_checkable
class Storage(
    Lifecycle,
    DownloadQueue,
    CatalogReader,
    GameRegistry,
    CatalogWriter,
    StatisticsStore,
    SharedFlags,
    ItemMemory,
    EventLog,
    ProgressBoard,
    WorkSignal,
    Protocol,
):
    """Every storage role in one object, for wiring: an adapter implements them all (the
    SQLite file, the in-memory store); each part of the core asks only for its own."""
