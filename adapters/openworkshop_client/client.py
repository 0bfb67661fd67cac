"""``Client``: what a launcher embeds to plan, install, update and remove mods from any Open
Workshop server, with typed progress events.

A client holds one HTTP session and nothing global; every operation takes the mods folder
it works on. Installing has two halves: everything that can take long or fail (asking the
server, transfers, checks, extraction into ``.openworkshop/tmp-*``) happens first; then the
new folders are renamed into place, dependencies first, and the manifest is replaced, with
no ``await`` in between. A cancelled or failed install leaves the mods and the manifest as
they were (a partial download stays in ``.openworkshop/partial`` to be resumed).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import aiohttp
import attrs

from openworkshop_client.errors import (
    ClientError,
    InstallFailed,
    ModRefused,
    ModRequired,
    NotInstalled,
)
from openworkshop_client.events import (
    Done,
    Event,
    Extracting,
    Failed,
    Progress,
    Queued,
    Removed,
    ServerDownloading,
    Skipped,
    Transferring,
    Verifying,
)
from openworkshop_client.extract import extract_archive
from openworkshop_client.manifest import InstalledMod, Manifest, state_dir
from openworkshop_client.server import PlanEntry, ServerApi, Sleep, etag_sha256
from openworkshop_client.transfer import StillLoading, fetch_archive

__all__ = ["Client", "ModStatus", "Plan"]

READY = (0, 1)
"""Conditions in which the server can send a mod's archive."""
PARSED = 0
"""The condition in which the original API knows a mod's dependencies."""
SERVER_PHASES = {"queued": 3, "downloading": 2, "packing": 2, "parsing": 1, "ready": 0, "done": 0}
"""``/progress`` phases as the original API's conditions."""
COLLECTION_HINT = (
    "if {mod_id} is a collection: this server has only the original Open Workshop API, "
    "which cannot expand collections; name the collection's mods instead"
)

MAX_PLAN_ROUNDS = 50
"""How many times a plan is asked for while the server learns required items (one round per
level of an unknown chain, without a Web API key)."""
STEAM_LACKS = "Steam does not list it (missing, private or banned)"

P = ParamSpec("P")
T = TypeVar("T")


def _ignore(event: Event) -> None:
    pass


@attrs.frozen
class Plan:
    """The mods an install needs, each dependency before the mods that require it."""

    entries: tuple[PlanEntry, ...]

    @property
    def ids(self) -> list[int]:
        return [e.id for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)


@attrs.frozen
class ModStatus:
    """An installed mod and what the server says of it: ``current``, ``outdated``,
    ``missing`` (the server lacks it now), ``removed`` or ``unknown`` (not asked)."""

    mod: InstalledMod
    state: str
    server_sha256: str | None = None


@attrs.frozen
class _Staged:
    entry: PlanEntry
    folder: Path | None
    """The extracted new version; ``None`` when the installed one is current."""
    sha256: str
    size: int


def _order(entries: dict[int, PlanEntry], roots: Sequence[int]) -> list[PlanEntry]:
    """Dependencies first (depth-first post-order from the roots, cycles cut)."""
    ordered: list[PlanEntry] = []
    seen: set[int] = set()

    def visit(mod_id: int) -> None:
        if mod_id in seen or mod_id not in entries:
            return
        seen.add(mod_id)
        for dep in entries[mod_id].dependencies:
            visit(dep)
        ordered.append(entries[mod_id])

    for root in roots:
        visit(root)
    for mod_id in entries:
        visit(mod_id)
    return ordered


class Client:
    """An Open Workshop client for the server at ``server_url``.

    ``max_transfers`` archives travel at once; ``poll_max`` bounds the wait between two
    polls of the server's queue. Use as ``async with Client(url) as client:`` (or call
    :meth:`close`)."""

    def __init__(
        self,
        server_url: str,
        *,
        max_transfers: int = 4,
        poll_max: float = 10.0,
        timeout: float = 60.0,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_transfers < 1:
            raise ValueError("max_transfers must be at least 1")
        self.server_url = server_url.rstrip("/")
        self.max_transfers = max_transfers
        self.poll_max = poll_max
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._own_session = session is None
        self._session = session
        self._sleep = sleep
        self._api: ServerApi | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Cancel the operations still running for ``events`` and close the session."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, ClientError):
                await task
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None
        self._api = None

    @property
    def api(self) -> ServerApi:
        if self._api is None:
            if self._session is None:
                self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._api = ServerApi(self.server_url, self._session, self._sleep)
        return self._api

    # --- events as an async iterator ------------------------------------------------------

    async def events(
        self, operation: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> AsyncIterator[Event]:
        """Run ``operation`` (``client.install`` ...) and yield its events as they happen;
        its error is raised at the end. Leaving the loop early cancels the operation (when
        the iterator is closed: ``async with contextlib.aclosing(...)``, or at ``close``)."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        task = asyncio.ensure_future(operation(*args, progress=queue.put_nowait, **kwargs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (event := await queue.get()) is not None:
                yield event
            await task
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._tasks.discard(task)

    # --- plan -----------------------------------------------------------------------------

    async def plan(self, ids: Iterable[int], *, progress: Progress | None = None) -> Plan:
        """Every mod ``ids`` need, dependencies first, each one on the server and ready to be
        sent. The server is asked to fetch what it lacks (the original API learns a mod's
        dependencies only once it has the mod). Raises ``InstallFailed`` with the server's
        reasons for mods that cannot be had."""
        report = progress or _ignore
        roots = list(dict.fromkeys(ids))
        if not roots:
            return Plan(())
        answer = await self.api.plan(roots)
        if answer is None:
            return await self._plan_original(roots, report)
        for _ in range(MAX_PLAN_ROUNDS):
            failures: dict[int, ClientError] = {}
            for entry in answer.entries:
                if entry.missing:
                    failures[entry.id] = ModRefused(entry.id, "not_found", STEAM_LACKS)
                    report(Failed(mod_id=entry.id, reason="not_found", message=STEAM_LACKS))
            if failures:
                raise InstallFailed(failures)
            # a mod whose required items are not known yet is waited for until its page is
            # read (condition 0); then the plan is asked for again
            wanted = READY if answer.complete else (PARSED,)
            lacking = [e.id for e in answer.entries if e.condition not in wanted]
            if not lacking:
                return Plan(answer.entries)
            failures = await self._wait_until(lacking, wanted, report)
            if failures:
                raise InstallFailed(failures)
            fresh = await self.api.plan(roots)
            if fresh is None:  # the server went back to the original API meanwhile
                return await self._plan_original(roots, report)
            answer = fresh
        raise InstallFailed(
            {r: ModRefused(r, "unknown", "the server's plan did not settle") for r in roots}
        )

    async def _plan_original(self, roots: list[int], report: Progress) -> Plan:
        """The plan from the original API: ``/info/mod?dependencies=true`` level by level,
        asking for each mod the server lacks and polling until it is parsed."""
        entries: dict[int, PlanEntry] = {}
        parents: dict[int, int | None] = dict.fromkeys(roots)
        failures: dict[int, ClientError] = {}
        todo = list(roots)
        while todo:
            infos = await asyncio.gather(*(self.api.info_mod(i) for i in todo))
            lacking = [
                i
                for i, info in zip(todo, infos, strict=True)
                if (info.get("result") or {}).get("condition") != PARSED
            ]
            failures.update(await self._wait_until(lacking, (PARSED,), report))
            again = [i for i in lacking if i not in failures]
            infos = [info for i, info in zip(todo, infos, strict=True) if i not in lacking]
            infos += await asyncio.gather(*(self.api.info_mod(i) for i in again))
            done = [i for i in todo if i not in lacking] + again
            todo = []
            for mod_id, info in zip(done, infos, strict=True):
                result = info.get("result") or {}
                deps = tuple(int(d) for d in info.get("dependencies") or ())
                entries[mod_id] = PlanEntry(
                    id=mod_id,
                    name=str(result.get("name") or ""),
                    condition=result.get("condition"),
                    size=result.get("size"),
                    version=str(result.get("date_update") or ""),
                    parent=parents[mod_id],
                    dependencies=deps,
                )
                for dep in deps:
                    if dep not in parents:
                        parents[dep] = mod_id
                        todo.append(dep)
        for mod_id in roots:
            error = failures.get(mod_id)
            if isinstance(error, ModRefused) and error.reason in ("not_found", "unknown"):
                hint = COLLECTION_HINT.format(mod_id=mod_id)
                failures[mod_id] = ModRefused(mod_id, error.reason, "; ".join([error.detail, hint]))
        if failures:
            raise InstallFailed(failures)
        return Plan(tuple(_order(entries, roots)))

    async def _wait_until(
        self, ids: Sequence[int], wanted: Sequence[int], report: Progress
    ) -> dict[int, ClientError]:
        """Ask the server for each of ``ids`` and wait until each is in a ``wanted``
        condition; the mods that failed, with the server's reason."""
        failures: dict[int, ClientError] = {}
        waiting: set[int] = set()
        last: dict[int, int] = {}
        interval = 1.0
        for mod_id in ids:
            answer = await self.api.request_download(mod_id)
            if answer.status == 404:
                failures[mod_id] = await self._refusal(mod_id, answer.body)
                report(
                    Failed(
                        mod_id=mod_id, reason=failures[mod_id].reason, message=str(failures[mod_id])
                    )
                )
                continue
            if answer.status == 202:
                report(Queued(mod_id=mod_id))
                last[mod_id] = 3
                with contextlib.suppress(ValueError):
                    interval = float(answer.headers.get("Retry-After", interval))
            waiting.add(mod_id)
        base = interval
        if waiting:
            failures.update(await self._follow(waiting, wanted, report))
        while waiting:
            conditions = await self.api.conditions(sorted(waiting))
            changed = False
            for mod_id in sorted(waiting):
                condition = conditions.get(mod_id)
                if condition in wanted:
                    waiting.discard(mod_id)
                    continue
                if condition is None:
                    # the server dropped it: a failed download (the reason is in /info/mod)
                    waiting.discard(mod_id)
                    failures[mod_id] = await self._refusal(mod_id)
                    error = failures[mod_id]
                    report(Failed(mod_id=mod_id, reason=error.reason, message=str(error)))
                    continue
                if last.get(mod_id) != condition:
                    changed = True
                    last[mod_id] = condition
                    report(
                        Queued(mod_id=mod_id)
                        if condition == 3
                        else ServerDownloading(mod_id=mod_id)
                    )
            if waiting:
                interval = base if changed else min(interval * 1.5, self.poll_max)
                await self._sleep(interval)
        return failures

    async def _follow(
        self, waiting: set[int], wanted: Sequence[int], report: Progress
    ) -> dict[int, ClientError]:
        """Follow ``GET /progress`` while the server streams it (launcher endpoint), taking
        the mods it reports ready or failed out of ``waiting``; what remains is polled."""
        stream = await self.api.progress(sorted(waiting))
        failures: dict[int, ClientError] = {}
        if stream is None:
            return failures
        async with contextlib.aclosing(stream):
            async for event in stream:
                if event.id not in waiting:
                    continue
                condition = SERVER_PHASES.get(event.phase)
                if event.phase == "failed":
                    waiting.discard(event.id)
                    failures[event.id] = ModRefused(event.id, event.reason or "unknown")
                    error = failures[event.id]
                    report(Failed(mod_id=event.id, reason=error.reason, message=str(error)))
                elif condition in wanted:
                    waiting.discard(event.id)
                elif event.phase == "missing":
                    continue  # the server lost it: the polling below asks why
                elif event.phase == "queued":
                    ahead = None if event.position is None else max(0, event.position - 1)
                    report(Queued(mod_id=event.id, position=ahead))
                else:
                    report(ServerDownloading(mod_id=event.id, done=event.done, total=event.total))
                if not waiting:
                    break
        return failures

    async def _refusal(self, mod_id: int, answer: Any = None) -> ClientError:
        """Why the server will not have the mod: the 404's ``reason``, else ``/info/mod``'s
        ``failure``."""
        if isinstance(answer, dict) and answer.get("reason"):
            reason, detail = str(answer["reason"]), str(answer.get("message") or "")
        else:
            info = await self.api.info_mod(mod_id)
            if info.get("result") is not None:
                return ModRefused(mod_id, "unknown", "the server keeps it in another state")
            failure = info.get("failure") or {}
            reason = str(failure.get("reason") or "not_found")
            detail = str(failure.get("detail") or "")
        return ModRefused(mod_id, reason, detail)

    # --- install --------------------------------------------------------------------------

    async def install(
        self, ids: Iterable[int], *, into: Path | str, progress: Progress | None = None
    ) -> list[InstalledMod]:
        """Install ``ids`` and everything they require into the mods folder ``into``; the
        mods installed or already current, dependencies first."""
        return await self._install(list(ids), Path(into), progress or _ignore, direct=None)

    async def _install(
        self, ids: list[int], folder: Path, report: Progress, direct: set[int] | None
    ) -> list[InstalledMod]:
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        manifest = Manifest.load(folder)
        plan = await self.plan(ids, progress=report)
        staged: dict[int, _Staged] = {}
        try:
            failures = await self._stage(plan, manifest, staged, report)
            if failures:
                raise InstallFailed(failures)
            # a collection's items stand where it stood: asked for
            asked = (
                set(ids) | {e.id for e in plan.entries if e.parent is None}
                if direct is None
                else direct
            )
            return self._commit(plan, manifest, staged, asked, report)
        finally:
            for item in staged.values():
                if item.folder is not None and item.folder.exists():
                    shutil.rmtree(item.folder, ignore_errors=True)

    async def _stage(
        self,
        plan: Plan,
        manifest: Manifest,
        staged: dict[int, _Staged],
        report: Progress,
    ) -> dict[int, ClientError]:
        """Fetch, check and extract every mod of the plan that changed, ``max_transfers`` at
        a time, into ``staged``; the failures."""
        gate = asyncio.Semaphore(self.max_transfers)
        failures: dict[int, ClientError] = {}

        async def one(entry: PlanEntry) -> None:
            async with gate:
                try:
                    staged[entry.id] = await self._stage_one(entry, manifest, report)
                except ClientError as exc:
                    failures[entry.id] = exc
                    report(Failed(mod_id=entry.id, reason=exc.reason, message=str(exc)))

        await asyncio.gather(*(one(e) for e in plan.entries))
        return failures

    async def _stage_one(self, entry: PlanEntry, manifest: Manifest, report: Progress) -> _Staged:
        mod_id = entry.id
        installed = manifest.mods.get(mod_id)
        if installed is not None and manifest.mod_folder(mod_id).is_dir():
            if entry.sha256 == installed.sha256:  # the plan named the version installed
                return _Staged(entry, None, installed.sha256, installed.size)
            head = await self.api.head_archive(mod_id, installed.sha256)
            if head.status in (304, 202):  # the same archive, or nothing newer to send yet
                return _Staged(entry, None, installed.sha256, installed.size)
        work = state_dir(manifest.folder)
        while True:
            try:
                fetched = await fetch_archive(
                    self.api,
                    mod_id,
                    work / "partial",
                    lambda done, total: report(Transferring(mod_id=mod_id, done=done, total=total)),
                    lambda: report(Verifying(mod_id=mod_id)),
                )
                break
            except StillLoading as wait:
                await self._sleep(wait.retry_after)
        report(Extracting(mod_id=mod_id))
        target = work / f"tmp-{mod_id}-{uuid.uuid4().hex[:8]}"
        try:
            await asyncio.to_thread(extract_archive, fetched.path, target)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        fetched.path.unlink(missing_ok=True)
        fetched.path.with_suffix(".etag").unlink(missing_ok=True)
        return _Staged(entry, target, fetched.sha256, fetched.size)

    def _commit(
        self,
        plan: Plan,
        manifest: Manifest,
        staged: dict[int, _Staged],
        direct: set[int],
        report: Progress,
    ) -> list[InstalledMod]:
        """Rename the staged folders into place, dependencies first, and save the manifest.
        Synchronous: a cancellation cannot stop it halfway."""
        trash: list[Path] = []
        installed: list[InstalledMod] = []
        work = state_dir(manifest.folder)
        for entry in plan.entries:
            item = staged[entry.id]
            previous = manifest.mods.get(entry.id)
            if item.folder is not None:
                target = manifest.mod_folder(entry.id)
                if target.exists():
                    old = work / f"old-{entry.id}-{uuid.uuid4().hex[:8]}"
                    target.rename(old)
                    trash.append(old)
                item.folder.rename(target)
            mod = InstalledMod(
                id=entry.id,
                sha256=item.sha256,
                name=entry.name or (previous.name if previous else ""),
                version=entry.version or (previous.version if previous else ""),
                size=item.size,
                dependencies=entry.dependencies,
                direct=entry.id in direct or bool(previous and previous.direct),
            )
            manifest.mods[entry.id] = mod
            installed.append(mod)
        manifest.save()
        for old in trash:
            shutil.rmtree(old, ignore_errors=True)
        for entry in plan.entries:
            item = staged[entry.id]
            done = Skipped if item.folder is None else Done
            report(done(mod_id=entry.id, sha256=item.sha256))
        return installed

    # --- update, status, remove -----------------------------------------------------------

    async def _check(self, manifest: Manifest) -> dict[int, tuple[str, str | None]]:
        """What the server says of each installed mod: state and its archive's sha256; one
        ``POST /check/mods``, or a conditional ``HEAD /download/{id}`` per mod."""
        mods = list(manifest)
        if not mods:
            return {}
        checked = await self.api.check({m.id: m.sha256 for m in mods})
        if checked is not None:
            return {i: (r.state, r.sha256) for i, r in checked.items()}
        gate = asyncio.Semaphore(self.max_transfers)

        async def one(mod: InstalledMod) -> tuple[int, tuple[str, str | None]]:
            async with gate:
                head = await self.api.head_archive(mod.id, mod.sha256)
            if head.status == 304:
                return mod.id, ("current", mod.sha256)
            if head.status == 200:
                return mod.id, ("outdated", etag_sha256(head.headers.get("ETag")))
            if head.status == 202:
                return mod.id, ("current", mod.sha256)
            return mod.id, ("missing", None)

        return dict(await asyncio.gather(*(one(m) for m in mods)))

    async def status(self, folder: Path | str, *, check: bool = True) -> list[ModStatus]:
        """The installed mods, each with what the server says of it (``check=False``: the
        manifest alone)."""
        manifest = Manifest.load(Path(folder))
        states = await self._check(manifest) if check else {}
        return [
            ModStatus(m, *states.get(m.id, ("unknown", None)))
            for m in sorted(manifest, key=lambda m: m.id)
        ]

    async def update(
        self, folder: Path | str, *, progress: Progress | None = None
    ) -> list[InstalledMod]:
        """Bring every installed mod to the server's version: one check, then only the mods
        that changed are fetched (with any new dependency). The mods replaced."""
        folder = Path(folder)
        report = progress or _ignore
        manifest = Manifest.load(folder)
        states = await self._check(manifest)
        outdated = [i for i, (state, _) in states.items() if state == "outdated"]
        for mod_id, (state, _) in states.items():
            if state != "outdated":
                report(Skipped(mod_id=mod_id, sha256=manifest.mods[mod_id].sha256))
        if not outdated:
            return []
        direct = {m.id for m in manifest if m.direct}
        before = {m.id: m.sha256 for m in manifest}
        done = await self._install(outdated, folder, report, direct=direct)
        return [m for m in done if before.get(m.id) != m.sha256]

    async def remove(
        self,
        ids: Iterable[int],
        folder: Path | str,
        *,
        force: bool = False,
        progress: Progress | None = None,
    ) -> list[int]:
        """Remove installed mods (their folders and manifest entries). Refuses mods other
        installed mods require, unless ``force``."""
        report = progress or _ignore
        manifest = Manifest.load(Path(folder))
        wanted = list(dict.fromkeys(ids))
        absent = [i for i in wanted if i not in manifest.mods]
        if absent:
            raise NotInstalled(absent)
        needed = {
            i: by for i in wanted if (by := [m for m in manifest.required_by(i) if m not in wanted])
        }
        if needed and not force:
            raise ModRequired(needed)
        work = state_dir(manifest.folder)
        trash = []
        for mod_id in wanted:
            target = manifest.mod_folder(mod_id)
            if target.exists():
                old = work / f"old-{mod_id}-{uuid.uuid4().hex[:8]}"
                target.rename(old)
                trash.append(old)
            del manifest.mods[mod_id]
        manifest.save()
        for old in trash:
            shutil.rmtree(old, ignore_errors=True)
        for mod_id in wanted:
            report(Removed(mod_id=mod_id))
        return wanted
