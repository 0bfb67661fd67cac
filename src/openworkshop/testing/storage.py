"""``MemoryStorage``: every storage role of the ports (``Storage``) in one process's memory.

Same rules as the SQLite adapter (the storage contract tests run on both). Every method holds
one lock for its whole body, so each is atomic as the port requires.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import attrs

from openworkshop.criteria import GameCriteria, GameSort, ModCriteria, ModSort, Paging
from openworkshop.domain import (
    Failure,
    Game,
    Genre,
    KnownItem,
    Mod,
    Resource,
    ResourceType,
    Tag,
)
from openworkshop.events import Change, Event, EventBatch, game_change, mod_change
from openworkshop.ports import CatalogSummary, Page, StatRow, Transition
from openworkshop.progress import Progress
from openworkshop.signals import LocalWorkSignal
from openworkshop.states import ModState

__all__ = ["MemoryStorage"]

_WORD = re.compile(r"\w+", re.UNICODE)


def _nocase(text: str) -> str:
    """SQLite's NOCASE: ASCII letters folded, everything else as is."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


class _Key:
    """A sort key where None sorts before any value (as NULL does in SQLite)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Key) -> bool:
        if self.value is None:
            return other.value is not None
        if other.value is None:
            return False
        return bool(self.value < other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


def _page(items: list[Any], page: Paging) -> Page[Any]:
    offset = page.offset
    return Page(total=len(items), offset=offset, items=items[offset : offset + page.page_size])


def _sorted(items: Iterable[Any], key: Callable[[Any], Any], descending: bool) -> list[Any]:
    return sorted(items, key=lambda i: (_Key(key(i)), _Key(i.id)), reverse=descending)


L = TypeVar("L")


def _linked(
    owners: Sequence[int],
    links: dict[int, list[int]],
    only: Sequence[int],
    item: Callable[[int], L],
) -> dict[int, list[L]]:
    """Each owner's linked items ordered by id (only ``only`` when given); owners without
    any are left out. Serves mod → tags and game → genres."""
    wanted = set(only)
    out: dict[int, list[L]] = {}
    for owner in owners:
        ids = sorted(i for i in links.get(owner, ()) if not wanted or i in wanted)
        if ids:
            out[owner] = [item(i) for i in ids]
    return out


class MemoryStorage:
    """The catalog, queue and statistics in memory. Nothing survives the process."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._mods: dict[int, Mod] = {}
        self._games: dict[int, Game] = {}
        self._genres: dict[int, Genre] = {}
        self._game_genres: dict[int, list[int]] = {}
        self._tags: dict[int, tuple[int | None, Tag]] = {}
        self._tag_ids: dict[tuple[int | None, str], int] = {}
        self._mod_tags: dict[int, list[int]] = {}
        self._deps: dict[int, list[int]] = {}
        self._resources: dict[int, Resource] = {}
        self._failures: dict[int, Failure] = {}
        self._hours: dict[tuple[dt.datetime, str], int] = defaultdict(int)
        self._days: dict[tuple[dt.date, str], int] = defaultdict(int)
        self._delays: dict[str, list[int]] = defaultdict(list)
        self._flags: dict[str, str] = {}
        self._slots: tuple[dt.datetime | None, int] = (None, 0)
        self._known: dict[int, KnownItem] = {}
        self._ids = itertools.count(1)
        self._events: list[Event] = []
        self._latest_event = 0
        self._trimmed_events = 0
        self._progress: dict[int, Progress] = {}
        self._work = LocalWorkSignal()

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    # --- mods -------------------------------------------------------------------------

    async def get_mod(self, mod_id: int) -> Mod | None:
        return self._mods.get(mod_id)

    async def get_mods(self, ids: Sequence[int]) -> dict[int, Mod]:
        return {i: self._mods[i] for i in ids if i in self._mods}

    def _expected(self, mod_id: int, expect: ModState | None) -> bool:
        current = self._mods.get(mod_id)
        return (
            current is None if expect is None else (current is not None and current.state is expect)
        )

    def _write_mod(self, mod: Mod) -> None:
        current = self._mods.get(mod.id)
        if current is not None:  # downloads are counted by add_download only
            mod = attrs.evolve(mod, downloads=current.downloads)
        self._mods[mod.id] = mod

    def _remove_mod(self, mod_id: int) -> None:
        del self._mods[mod_id]
        self._mod_tags.pop(mod_id, None)
        self._deps.pop(mod_id, None)
        self._replace_resources(mod_id, (), None)

    async def put_mod(self, mod: Mod, *, expect: ModState | None) -> bool:
        return await self.apply(Transition(mod_id=mod.id, expect=expect, after=mod))

    async def apply(self, transition: Transition) -> bool:
        async with self._lock:
            if not self._expected(transition.mod_id, transition.expect):
                return False
            after = transition.after
            self._record(
                mod_change(
                    self._mods.get(transition.mod_id),
                    after,
                    failure=transition.failure,
                    at=transition.at,
                )
            )
            if after is None:
                self._remove_mod(transition.mod_id)
            else:
                self._write_mod(after)
            if after is None or after.state is not ModState.DOWNLOADING:
                self._progress.pop(transition.mod_id, None)
            page = transition.page
            if page is not None:
                game_id = None if after is None else after.game_id
                self._replace_tags(transition.mod_id, game_id, page.tags)
                self._deps[transition.mod_id] = list(dict.fromkeys(page.dependencies))
                self._replace_resources(transition.mod_id, page.resources, page.at)
            if transition.failure is not None:
                self._failures[transition.mod_id] = transition.failure
            elif transition.clears_failure:
                self._failures.pop(transition.mod_id, None)
            return True

    async def claim(
        self, state: ModState, limit: int, *, now: dt.datetime, lease_until: dt.datetime
    ) -> list[Mod]:
        async with self._lock:
            if state is ModState.QUEUED:
                due = [
                    m
                    for m in self._mods.values()
                    if (
                        m.state is ModState.QUEUED and (m.not_before is None or m.not_before <= now)
                    )
                    or (
                        m.state is ModState.DOWNLOADING
                        and (m.lease_until is None or m.lease_until < now)
                    )
                ]
            elif state is ModState.AVAILABLE:
                due = [
                    m
                    for m in self._mods.values()
                    if m.state is ModState.AVAILABLE
                    and (m.lease_until is None or m.lease_until < now)
                ]
            else:
                raise ValueError(f"cannot claim mods in state {state!r}")
            due.sort(key=lambda m: (_Key(m.date_queued), m.id))
            taken = []
            for mod in due[:limit]:
                mod = mod.claimed(lease_until=lease_until)
                self._mods[mod.id] = mod
                self._progress.pop(mod.id, None)
                taken.append(mod)
            return taken

    async def renew(self, ids: Sequence[int], *, lease_until: dt.datetime) -> None:
        async with self._lock:
            for i in ids:
                if i in self._mods:
                    self._mods[i] = attrs.evolve(self._mods[i], lease_until=lease_until)

    async def add_download(self, mod_id: int, *, now: dt.datetime) -> None:
        async with self._lock:
            mod = self._mods.get(mod_id)
            if mod is not None:
                self._mods[mod_id] = attrs.evolve(
                    mod, downloads=mod.downloads + 1, date_request=now
                )

    async def mod_states(self, ids: Sequence[int]) -> dict[int, ModState]:
        return {i: self._mods[i].state for i in ids if i in self._mods}

    async def queue_size(self) -> int:
        waiting = (ModState.QUEUED, ModState.DOWNLOADING)
        return sum(1 for m in self._mods.values() if m.state in waiting)

    async def archived(self) -> list[tuple[int, str]]:
        return [(m.id, m.archive.key) for m in self._mods.values() if m.archive is not None]

    # --- catalog ----------------------------------------------------------------------

    def _mod_tag_names(self, mod_id: int) -> list[str]:
        return [self._tags[t][1].name for t in self._mod_tags.get(mod_id, ())]

    def _relevance(self, mod: Mod, terms: list[str]) -> tuple[int, int, int] | None:
        """None if a term is missing; else the sort key of RELEVANCE: the mods with every
        term in the name first, then the others; the most downloaded first in each."""
        in_name = _words(mod.name)
        words = in_name + _words(" ".join(self._mod_tag_names(mod.id)))
        words += _words(mod.short_description) + _words(mod.description)
        if not all(t in words for t in terms):
            return None
        tier = 0 if all(t in in_name for t in terms) else 1
        return (tier, -mod.downloads, -mod.id)

    async def list_mods(self, query: ModCriteria) -> Page[Mod]:
        mods = [m for m in self._mods.values() if m.state.downloadable]
        if query.games:
            games = set(query.games)
            mods = [m for m in mods if m.game_id in games]
        if query.allowed_ids:
            allowed = set(query.allowed_ids)
            mods = [m for m in mods if m.id in allowed]
        if query.tags:
            wanted = set(query.tags)
            mods = [m for m in mods if wanted <= set(self._mod_tags.get(m.id, ()))]
        if query.exclude_dependent:
            mods = [m for m in mods if not self._deps.get(m.id)]
        if query.primary_sources:
            sources = set(query.primary_sources)
            mods = [m for m in mods if m.source in sources]
        if query.name:
            needle = query.name.casefold()
            mods = [m for m in mods if needle in m.name.casefold()]
        rank: dict[int, tuple[int, int, int]] = {}
        if query.q:
            terms = _words(query.q)
            for mod in mods:
                score = self._relevance(mod, terms) if terms else None
                if score is not None:
                    rank[mod.id] = score
            mods = [m for m in mods if m.id in rank]
        keys: dict[ModSort, Callable[[Mod], Any]] = {
            ModSort.NAME: lambda m: _nocase(m.name),
            ModSort.SIZE: lambda m: m.size,
            ModSort.DATE_CREATION: lambda m: m.date_creation,
            ModSort.DATE_UPDATE: lambda m: m.date_update,
            ModSort.DATE_REQUEST: lambda m: m.date_request,
            ModSort.SOURCE: lambda m: m.source,
            ModSort.DOWNLOADS: lambda m: m.downloads,
            ModSort.RELEVANCE: lambda m: rank.get(m.id),
        }
        return _page(_sorted(mods, keys[query.sort], query.descending), query.page)

    def _replace_tags(self, mod_id: int, game_id: int | None, names: Iterable[str]) -> None:
        ids = []
        for name in dict.fromkeys(names):
            key = (game_id, name)
            if key not in self._tag_ids:
                tag_id = len(self._tag_ids) + 1
                self._tag_ids[key] = tag_id
                self._tags[tag_id] = (game_id, Tag(id=tag_id, name=name))
            ids.append(self._tag_ids[key])
        self._mod_tags[mod_id] = ids

    def _replace_resources(
        self,
        mod_id: int,
        resources: Iterable[tuple[ResourceType, str]],
        now: dt.datetime | None,
    ) -> None:
        for rid in [r.id for r in self._resources.values() if r.owner_id == mod_id]:
            del self._resources[rid]
        for kind, url in resources:
            assert now is not None
            rid = next(self._ids)
            self._resources[rid] = Resource(
                id=rid, owner_id=mod_id, type=kind, url=url, date_event=now
            )

    async def set_mod_tags(self, mod_id: int, game_id: int | None, names: Sequence[str]) -> None:
        async with self._lock:
            self._replace_tags(mod_id, game_id, names)

    async def set_dependencies(self, mod_id: int, ids: Sequence[int]) -> None:
        async with self._lock:
            self._deps[mod_id] = list(dict.fromkeys(ids))

    async def dependencies(self, mod_id: int, limit: int) -> tuple[list[int], int]:
        deps = self._deps.get(mod_id, [])
        return deps[:limit], len(deps)

    async def set_resources(
        self, mod_id: int, resources: Sequence[tuple[ResourceType, str]], *, now: dt.datetime
    ) -> None:
        async with self._lock:
            self._replace_resources(mod_id, resources, now)

    async def list_resources(
        self, mod_ids: Sequence[int], types: Sequence[ResourceType], page: Paging
    ) -> Page[Resource]:
        owners, kinds = set(mod_ids), set(types)
        found = [
            r
            for r in self._resources.values()
            if r.owner_id in owners and (not kinds or r.type in kinds)
        ]
        return _page(sorted(found, key=lambda r: r.id), page)

    def _with_stats(self, game: Game) -> Game:
        mods = [m for m in self._mods.values() if m.game_id == game.id and m.state.downloadable]
        return attrs.evolve(
            game, mods_count=len(mods), mods_downloads=sum(m.downloads for m in mods)
        )

    async def get_game(self, game_id: int) -> Game | None:
        game = self._games.get(game_id)
        return None if game is None else self._with_stats(game)

    async def put_game(self, game: Game, genres: Sequence[Genre]) -> None:
        async with self._lock:
            self._record(game_change(game.id in self._games, game))
            self._games[game.id] = game
            for genre in genres:
                self._genres[genre.id] = genre
            self._game_genres[game.id] = list(dict.fromkeys(g.id for g in genres))

    async def list_games(self, query: GameCriteria) -> Page[Game]:
        games = [self._with_stats(g) for g in self._games.values()]
        if query.type_app:
            types = set(query.type_app)
            games = [g for g in games if g.type in types]
        if query.genres:
            wanted = set(query.genres)
            games = [g for g in games if wanted <= set(self._game_genres.get(g.id, ()))]
        if query.primary_sources:
            sources = set(query.primary_sources)
            games = [g for g in games if g.source in sources]
        if query.name:
            needle = query.name.casefold()
            games = [g for g in games if needle in g.name.casefold()]
        keys: dict[GameSort, Callable[[Game], Any]] = {
            GameSort.NAME: lambda g: _nocase(g.name),
            GameSort.TYPE: lambda g: g.type,
            GameSort.CREATION_DATE: lambda g: g.creation_date,
            GameSort.MODS_DOWNLOADS: lambda g: g.mods_downloads,
            GameSort.MODS_COUNT: lambda g: g.mods_count,
            GameSort.SOURCE: lambda g: g.source,
        }
        return _page(_sorted(games, keys[query.sort], query.descending), query.page)

    async def list_tags(self, game_id: int, page: Paging) -> Page[Tag]:
        tags = [tag for owner, tag in self._tags.values() if owner == game_id]
        return _page(sorted(tags, key=lambda t: t.id), page)

    async def mod_tags(
        self, mod_ids: Sequence[int], tag_ids: Sequence[int]
    ) -> dict[int, list[Tag]]:
        return _linked(mod_ids, self._mod_tags, tag_ids, lambda t: self._tags[t][1])

    async def list_genres(self, page: Paging) -> Page[Genre]:
        return _page(sorted(self._genres.values(), key=lambda g: g.id), page)

    async def game_genres(
        self, game_ids: Sequence[int], genre_ids: Sequence[int]
    ) -> dict[int, list[Genre]]:
        return _linked(game_ids, self._game_genres, genre_ids, self._genres.__getitem__)

    # --- failures -------------------------------------------------------------------------

    async def get_failure(self, mod_id: int) -> Failure | None:
        return self._failures.get(mod_id)

    async def get_failures(self, ids: Sequence[int]) -> dict[int, Failure]:
        return {i: self._failures[i] for i in ids if i in self._failures}

    # --- events -----------------------------------------------------------------------------

    def _record(self, change: Change | None) -> None:
        if change is not None:
            self._latest_event += 1
            self._events.append(Event(seq=self._latest_event, change=change))

    async def read_events(self, after: int, limit: int) -> EventBatch:
        found = [e for e in self._events if e.seq > after][: max(limit, 0)]
        return EventBatch(events=found, latest=self._latest_event, trimmed=self._trimmed_events)

    async def last_mod_events(self, ids: Sequence[int]) -> dict[int, Event]:
        wanted = set(ids)
        out: dict[int, Event] = {}
        for event in self._events:
            if event.change.mod_id in wanted:
                out[event.change.mod_id] = event
        return out

    async def trim_events(self, before: dt.datetime) -> int:
        async with self._lock:
            old = [e.seq for e in self._events if e.change.at < before]
            if not old:
                return 0
            last = max(old)
            kept = [e for e in self._events if e.seq > last]
            gone = len(self._events) - len(kept)
            self._events = kept
            self._trimmed_events = max(self._trimmed_events, last)
            return gone

    # --- statistics and flags ---------------------------------------------------------------

    async def count(self, type: str, *, at: dt.datetime, n: int = 1) -> None:
        at = at.astimezone(dt.UTC)
        self._hours[(at.replace(minute=0, second=0, microsecond=0), type)] += n
        self._days[(at.date(), type)] += n

    async def hour_stats(self, day: dt.date, start_hour: int, end_hour: int) -> list[StatRow]:
        rows = [
            StatRow(type=t, count=c, at=hour)
            for (hour, t), c in self._hours.items()
            if hour.date() == day and start_hour <= hour.hour <= end_hour and c > 0
        ]
        return sorted(rows, key=lambda r: (r.at, r.type))

    async def day_stats(self, start: dt.date, end: dt.date) -> list[StatRow]:
        rows = [
            StatRow(type=t, count=c, at=dt.datetime.combine(day, dt.time(), dt.UTC))
            for (day, t), c in self._days.items()
            if start <= day <= end and c > 0
        ]
        return sorted(rows, key=lambda r: (r.at, r.type))

    async def add_delay(self, kind: str, ms: int, *, at: dt.datetime) -> None:
        self._delays[kind].append(ms)

    async def delays(self, kind: str, last: int) -> list[int]:
        return list(reversed(self._delays[kind][-last:])) if last > 0 else []

    async def summary(self) -> CatalogSummary:
        return CatalogSummary(
            mods=sum(1 for m in self._mods.values() if m.state.downloadable),
            games=len(self._games),
            genres=len(self._genres),
            mods_tags=len(self._tags),
            mods_dependencies=sum(1 for deps in self._deps.values() if deps),
            statistics_days=len({day for day, _ in self._days}),
            mods_sent_count=sum(c for (_, t), c in self._days.items() if t == "files_sent"),
        )

    async def get_flag(self, name: str) -> str | None:
        return self._flags.get(name)

    async def set_flag(self, name: str, value: str | None) -> None:
        if value is None:
            self._flags.pop(name, None)
        else:
            self._flags[name] = value

    async def take_call_slot(self, minute: dt.datetime, limit: int) -> bool:
        async with self._lock:
            if self._slots[0] != minute:
                self._slots = (minute, 0)
            if self._slots[1] >= limit:
                return False
            self._slots = (minute, self._slots[1] + 1)
            return True

    # --- what Steam said of items ---------------------------------------------------------

    async def remember_items(self, items: Sequence[KnownItem]) -> None:
        async with self._lock:
            for item in items:
                self._known[item.id] = item

    async def known_items(self, ids: Sequence[int]) -> dict[int, KnownItem]:
        return {i: self._known[i] for i in ids if i in self._known}

    # --- the work signal (this process only: the store is in its memory) ------------

    async def signal_work(self) -> None:
        await self._work.signal_work()

    async def wait_for_work(self, timeout: float) -> bool:
        return await self._work.wait_for_work(timeout)

    # --- live progress ----------------------------------------------------------------

    async def record_progress(self, records: Sequence[Progress]) -> None:
        async with self._lock:
            for record in records:
                mod = self._mods.get(record.mod_id)
                if mod is not None and mod.state is ModState.DOWNLOADING:
                    self._progress[record.mod_id] = record

    async def progress_records(self, ids: Sequence[int]) -> dict[int, Progress]:
        async with self._lock:
            return {i: self._progress[i] for i in ids if i in self._progress}

    async def queue_positions(self, ids: Sequence[int]) -> dict[int, int]:
        async with self._lock:
            wanted = {i for i in ids if (m := self._mods.get(i)) and m.state is ModState.QUEUED}
            if not wanted:
                return {}
            queued = sorted(
                (m for m in self._mods.values() if m.state is ModState.QUEUED),
                key=lambda m: (_Key(m.date_queued), m.id),
            )
            return {m.id: n for n, m in enumerate(queued, 1) if m.id in wanted}
