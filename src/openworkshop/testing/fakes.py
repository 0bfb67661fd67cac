"""In-memory fakes of the Steam source, the archive store and the clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import hashlib
import io
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

import attrs

from openworkshop.domain import (
    AppDetails,
    Archive,
    DownloadItem,
    DownloadOutcome,
    FailureReason,
    ItemDetails,
    ItemExtras,
)
from openworkshop.errors import ArchiveError, UpstreamError, UpstreamUnavailable
from openworkshop.testing.catalog import SteamCatalog

__all__ = ["FakeClock", "FakeSteamSource", "Hold", "MemoryArchiveStore"]

_REASONS = {
    "Access Denied": FailureReason.ACCESS_DENIED,
    "File Not Found": FailureReason.NOT_FOUND,
    "Timeout": FailureReason.TIMEOUT,
    "No Connection": FailureReason.NO_CONNECTION,
    "I/O Operation Failed": FailureReason.IO_ERROR,
    "Rate Limit Exceeded": FailureReason.RATE_LIMITED,
    "Failure": FailureReason.UNKNOWN,
}


class FakeClock:
    """A clock that moves only when told to, or when someone sleeps on it."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
        self._mono = 1000.0

    def now(self) -> dt.datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += dt.timedelta(seconds=seconds)
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)
        await asyncio.sleep(0)


@attrs.frozen
class Hold:
    """A download stopped partway (:meth:`FakeSteamSource.hold`)."""

    at: float
    reached: asyncio.Event = attrs.field(factory=asyncio.Event)
    """Set once the first part is on disk."""
    go: asyncio.Event = attrs.field(factory=asyncio.Event)
    """Set it to let the download finish."""


class FakeSteamSource:
    """The Steam source port, answering from a :class:`SteamCatalog` in memory.

    ``calls`` counts each kind of upstream call (``details``, ``app``, ``extras``, ``download``
    sessions); ``fail_next`` and ``fault_rate`` inject failures.
    """

    max_details_batch = 100
    max_download_batch = 25

    def __init__(
        self,
        catalog: SteamCatalog | None = None,
        *,
        can_download: bool = True,
        with_key: bool = False,
        login_delay: float = 0.0,
        fault_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.catalog = catalog if catalog is not None else SteamCatalog()
        self.can_download = can_download
        self.with_key = with_key
        self.login_delay = login_delay
        self.fault_rate = fault_rate
        self.calls: Counter[str] = Counter()
        self.downloaded: list[list[int]] = []
        self._rng = random.Random(seed)
        self._next_errors: dict[str, list[UpstreamError | FailureReason]] = {}
        self._holds: dict[int, Hold] = {}

    def fail_next(self, call: str, error: UpstreamError | FailureReason, times: int = 1) -> None:
        """Make the next ``times`` calls of a kind fail: raise ``error``, or (for downloads)
        fail every item with a :class:`FailureReason`."""
        self._next_errors.setdefault(call, []).extend([error] * times)

    def _fault(self, call: str) -> UpstreamError | FailureReason | None:
        pending = self._next_errors.get(call)
        if pending:
            return pending.pop(0)
        if self.fault_rate and self._rng.random() < self.fault_rate:
            if call == "download":
                return self._rng.choice(
                    [FailureReason.TIMEOUT, FailureReason.NO_CONNECTION, FailureReason.UNKNOWN]
                )
            return UpstreamUnavailable(f"injected fault in {call}")
        return None

    def _raise_fault(self, call: str) -> None:
        fault = self._fault(call)
        if isinstance(fault, UpstreamError):
            raise fault

    async def details(self, ids: Sequence[int]) -> Mapping[int, ItemDetails | None]:
        if len(ids) > self.max_details_batch:
            raise ValueError(
                f"{len(ids)} ids in one details call; at most {self.max_details_batch}"
            )
        self.calls["details"] += 1
        await asyncio.sleep(0)
        self._raise_fault("details")
        out: dict[int, ItemDetails | None] = {}
        for mod_id in ids:
            item = self.catalog.items.get(mod_id)
            if item is None or not item.visible:
                out[mod_id] = None
            elif self.with_key:
                extras = ItemExtras(
                    # a collection's children are its items, not required items
                    dependencies=() if item.details.is_collection else item.dependencies,
                    screenshots=item.screenshots,
                    tags=item.details.tags,
                    description=item.details.description,
                )
                out[mod_id] = attrs.evolve(item.details, extras=extras)
            else:
                out[mod_id] = item.details
        return out

    async def app(self, app_id: int) -> AppDetails | None:
        self.calls["app"] += 1
        await asyncio.sleep(0)
        self._raise_fault("app")
        app = self.catalog.apps.get(app_id)
        return None if app is None else app.details

    async def collection_children(self, ids: Sequence[int]) -> Mapping[int, tuple[int, ...] | None]:
        """As GetCollectionDetails answers level by level: one call per level of nesting
        (of up to ``max_details_batch`` ids), each collection expanded once."""
        wanted = list(dict.fromkeys(ids))
        known: dict[int, tuple[int, ...] | None] = {}
        pending = wanted
        while pending:
            for start in range(0, len(pending), self.max_details_batch):
                self.calls["collection"] += 1
                await asyncio.sleep(0)
                self._raise_fault("collection")
                for cid in pending[start : start + self.max_details_batch]:
                    item = self.catalog.items.get(cid)
                    ok = item is not None and item.visible and item.details.is_collection
                    known[cid] = item.dependencies if ok and item is not None else None
            pending = list(
                dict.fromkeys(
                    child
                    for children in known.values()
                    for child in children or ()
                    if child not in known and self._is_collection(child)
                )
            )

        def expand(cid: int, seen: frozenset[int]) -> list[int]:
            members: list[int] = []
            for child in known.get(cid) or ():
                if not self._is_collection(child):
                    members.append(child)
                elif child not in seen:
                    members.extend(expand(child, seen | {child}))
            return members

        return {
            cid: None if known[cid] is None else tuple(dict.fromkeys(expand(cid, frozenset({cid}))))
            for cid in wanted
        }

    def _is_collection(self, mod_id: int) -> bool:
        item = self.catalog.items.get(mod_id)
        return item is not None and item.details.is_collection

    def hold(self, mod_id: int, at: float = 0.5) -> Hold:
        """Make the next download of ``mod_id`` stop once it has written the fraction ``at``
        of the item's bytes (``reached`` is set then) and go on when the test sets ``go``:
        a slow download a test can look at halfway, without a clock."""
        held = self._holds[mod_id] = Hold(at=at)
        return held

    async def measure(self, items: Sequence[DownloadItem], folder: Path) -> Mapping[int, int]:
        def work() -> dict[int, int]:
            sizes = {}
            for item in items:
                target = _content(folder, item)
                sizes[item.mod_id] = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
            return sizes

        return await asyncio.to_thread(work)

    async def extras(self, mod_id: int, *, preview_url: str = "") -> ItemExtras | None:
        self.calls["extras"] += 1
        await asyncio.sleep(0)
        self._raise_fault("extras")
        found = self.catalog.items.get(mod_id)
        if found is None or not found.visible:
            return None
        return ItemExtras(
            dependencies=found.dependencies,
            screenshots=found.screenshots,
            tags=found.details.tags,
            description=found.details.description,
        )

    async def download(
        self, items: Sequence[DownloadItem], folder: Path
    ) -> Mapping[int, DownloadOutcome]:
        if len(items) > self.max_download_batch:
            raise ValueError(
                f"{len(items)} items in one session; at most {self.max_download_batch}"
            )
        self.calls["download"] += 1
        self.downloaded.append([i.mod_id for i in items])
        if self.login_delay:
            await asyncio.sleep(self.login_delay)
        fault = self._fault("download")
        if isinstance(fault, UpstreamError):
            raise fault
        outcomes: dict[int, DownloadOutcome] = {}
        for want in items:
            item = self.catalog.items.get(want.mod_id)
            app = self.catalog.apps.get(want.app_id)
            reason: FailureReason | None = None
            if isinstance(fault, FailureReason):
                reason = fault
            elif item is None:
                reason = FailureReason.NOT_FOUND
            elif not item.visible:
                reason = FailureReason.ACCESS_DENIED
            elif item.download_error is not None:
                reason = _REASONS.get(item.download_error, FailureReason.UNKNOWN)
            elif app is not None and not app.anonymous:
                reason = FailureReason.UNKNOWN
            if reason is not None or item is None:
                outcomes[want.mod_id] = DownloadOutcome(
                    mod_id=want.mod_id, reason=reason or FailureReason.NOT_FOUND
                )
                continue
            target = _content(folder, want)
            held = self._holds.pop(want.mod_id, None)
            if held is None:
                await asyncio.to_thread(item.materialize, target)
            else:
                part = int(item.content_size() * held.at)
                await asyncio.to_thread(item.write_part, target, 0, part)
                held.reached.set()
                await held.go.wait()
                await asyncio.to_thread(item.write_part, target, part)
            outcomes[want.mod_id] = DownloadOutcome(mod_id=want.mod_id, path=target)
        return outcomes


def _content(folder: Path, item: DownloadItem) -> Path:
    return folder / "steamapps/workshop/content" / str(item.app_id) / str(item.mod_id)


class MemoryArchiveStore:
    """Archives kept as bytes in memory; ``put`` is atomic (visible only when complete).

    ``fail_next_put`` (or ``failing_puts``, a count) makes writes fail as on a full disk."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._live: set[str] = set()
        self.fail_next_put = False
        self.failing_puts = 0

    async def put(self, key: str, build: Callable[[IO[bytes]], None]) -> Archive:
        buffer = io.BytesIO()

        def _build() -> None:
            if self.fail_next_put or self.failing_puts > 0:
                self.fail_next_put = False
                self.failing_puts = max(0, self.failing_puts - 1)
                raise OSError(errno.ENOSPC, "No space left on device")
            build(buffer)

        try:
            await asyncio.to_thread(_build)
        except ArchiveError:
            raise  # ModTooLarge among them: the packer's own verdict, kept as it is
        except OSError as exc:
            raise ArchiveError(f"cannot write archive {key}: {exc}") from exc
        data = buffer.getvalue()
        self._live.add(key)
        self._blobs[key] = data
        return Archive(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    async def exists(self, key: str) -> bool:
        return key in self._blobs

    async def remove(self, key: str) -> None:
        self._blobs.pop(key, None)

    async def size(self, key: str) -> int | None:
        data = self._blobs.get(key)
        return None if data is None else len(data)

    def local_path(self, key: str) -> Path | None:
        return None

    def open(self, key: str) -> IO[bytes]:
        try:
            return io.BytesIO(self._blobs[key])
        except KeyError as exc:
            raise ArchiveError(f"archive {key} is missing") from exc

    async def keys(self) -> list[str]:
        return sorted(self._blobs)

    async def live_writes(self) -> set[str]:
        return set(self._live)

    def writers_died(self) -> None:
        """The processes that stored the archives so far are gone (a crash, a kill)."""
        self._live.clear()

    async def sweep(self) -> int:
        return 0

    def damage(self, key: str) -> None:
        """Lose an archive behind the catalog's back (a disk problem, a careless admin)."""
        self._blobs.pop(key, None)
