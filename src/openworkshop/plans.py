"""Install plans: the closure of some mods under their required items and collections,
dependencies first.

A launcher asks for mods (or collections); the plan is every mod they need, each dependency
before the mods that require it. What the catalog holds costs nothing: a mod the server has
parsed (state 0) brings its stored dependencies. What Steam said before, within the update
cooldown, costs nothing either (``ItemMemory``). Anything else is asked of Steam level by
level: one batched details call per level of the closure (``DetailsBatcher``, at most 100
ids a call), and one batched ``collection_children`` call per level for the items that may
be collections. The keyed details bring a mod's required items; without a key they come with
its page, once the server has fetched it: such entries have ``dependencies`` ``None`` and
the plan is not ``complete`` until then.

Cycles are found while ordering (a depth-first walk in request order, each mod's
dependencies in Steam's order), reported with the ids that form each, and broken by leaving
out the edge that closes it. The plan is bounded (:data:`PLAN_LIMIT`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import attrs

from openworkshop.domain import ItemDetails, KnownItem, Mod
from openworkshop.errors import PlanTooLarge
from openworkshop.ports import CatalogReader, Clock, DownloadQueue, ItemMemory, SteamSource
from openworkshop.states import ModState
from openworkshop.upstream import DetailsBatcher, UpstreamGate

__all__ = [
    "PLAN_LIMIT",
    "CollectionInfo",
    "CollectionItem",
    "Cycle",
    "Plan",
    "PlanEntry",
    "Planner",
]

PLAN_LIMIT = 500
"""The most mods one plan holds (asked for, or pulled in): past it, ``PlanTooLarge``."""


@attrs.frozen(kw_only=True)
class PlanEntry:
    """One mod of a plan."""

    id: int
    name: str = ""
    condition: ModState | None = None
    """The server's state of the mod; ``None``: the server does not have it."""
    size: int | None = None
    sha256: str | None = None
    date_update: dt.datetime | None = None
    dependencies: tuple[int, ...] | None = None
    """Its required items, in Steam's order; ``None`` until known (its page not read yet)."""
    parent: int | None = None
    """``None`` for a mod asked for (or an item of a collection asked for); else the first
    mod that pulled it in."""
    collection: int | None = None
    """The collection it came from, when it came from one."""
    missing: bool = False
    """Steam does not list it (missing, private, banned): it cannot be installed."""


@attrs.frozen(kw_only=True)
class Cycle:
    """Mods that require each other in a ring; ``broken`` is the edge left out."""

    ids: tuple[int, ...]
    """In the order the walk met them: each requires the next, the last the first."""
    broken: tuple[int, int]
    """(mod, dependency): the requirement the plan ignores to order the ring."""


@attrs.frozen(kw_only=True)
class Plan:
    entries: tuple[PlanEntry, ...]
    cycles: tuple[Cycle, ...] = ()
    collections: dict[int, tuple[int, ...]] = attrs.field(factory=dict)
    """Each collection met (asked for, or required): its items."""
    queued: tuple[int, ...] = ()
    """The mods this request queued (``queue=true``)."""

    @property
    def complete(self) -> bool:
        """Whether every entry's dependencies are known (else ask again once the server
        has fetched those whose are not)."""
        return all(e.dependencies is not None or e.missing for e in self.entries)


@attrs.frozen(kw_only=True)
class CollectionItem:
    """One item of a collection and the server's state of it (``None``: not there)."""

    id: int
    condition: ModState | None
    name: str = ""


@attrs.frozen(kw_only=True)
class CollectionInfo:
    """``/info/collection/{id}``: a collection's items, in Steam's order."""

    id: int
    name: str
    items: tuple[CollectionItem, ...]


@attrs.frozen(kw_only=True)
class _Node:
    mod: Mod | None
    known: KnownItem | None
    dependencies: tuple[int, ...] | None
    collection: tuple[int, ...] | None = None
    """The items, when this is a collection."""


class Planner:
    """Builds plans (and looks collections up) over the catalog, the item memory and Steam."""

    def __init__(
        self,
        *,
        queue: DownloadQueue,
        catalog: CatalogReader,
        memory: ItemMemory,
        steam: SteamSource,
        gate: UpstreamGate,
        batcher: DetailsBatcher,
        clock: Clock,
        cooldown: float,
    ) -> None:
        self.queue = queue
        self.catalog = catalog
        self.memory = memory
        self.steam = steam
        self.gate = gate
        self.batcher = batcher
        self.clock = clock
        self.cooldown = cooldown

    # --- looking items up ---------------------------------------------------------------

    def _fresh(self, item: KnownItem, now: dt.datetime) -> bool:
        return (now - item.checked).total_seconds() < self.cooldown

    async def _describe(self, ids: Sequence[int]) -> dict[int, _Node]:
        """What is known of each id: from the catalog (a parsed mod's dependencies), the
        item memory within the cooldown, else from Steam in batched calls (remembered)."""
        now = self.clock.now()
        rows = await self.queue.get_mods(ids)
        memory = await self.memory.known_items(ids)
        nodes: dict[int, _Node] = {}
        ask: list[int] = []
        for mod_id in ids:
            row = rows.get(mod_id)
            known = memory.get(mod_id)
            if known is not None and not self._fresh(known, now):
                known = None
            if row is not None and row.state is ModState.READY:
                deps, _ = await self.catalog.dependencies(mod_id, PLAN_LIMIT + 1)
                nodes[mod_id] = _Node(mod=row, known=known, dependencies=tuple(deps))
            elif known is not None:
                nodes[mod_id] = _Node(
                    mod=row,
                    known=known,
                    dependencies=None if known.is_collection else known.children,
                    collection=known.children if known.is_collection else None,
                )
            elif row is not None:  # being fetched: its required items come with its page
                nodes[mod_id] = _Node(mod=row, known=None, dependencies=None)
            else:
                ask.append(mod_id)
        if ask:
            learned = await self._ask_steam(ask, now)
            await self.memory.remember_items(list(learned.values()))
            for mod_id, item in learned.items():
                nodes[mod_id] = _Node(
                    mod=None,
                    known=item,
                    dependencies=None if item.is_collection else item.children,
                    collection=item.children if item.is_collection else None,
                )
        return nodes

    async def _ask_steam(self, ids: Sequence[int], now: dt.datetime) -> dict[int, KnownItem]:
        """One batched details call (the batcher merges these with every other look-up of
        the moment), then one batched collection call for the items that may be one."""
        found = await asyncio.gather(*(self.batcher.get(mod_id) for mod_id in ids))
        details = dict(zip(ids, found, strict=True))
        candidates = [i for i, d in details.items() if d is not None and d.may_be_collection]
        members = await self.collections_of(candidates) if candidates else {}
        return {mod_id: _known(mod_id, details[mod_id], members.get(mod_id), now) for mod_id in ids}

    async def collections_of(self, ids: Sequence[int]) -> dict[int, tuple[int, ...] | None]:
        """``SteamSource.collection_children`` through the gate (batched by the source)."""
        wanted = list(ids)
        answer = await self.gate.call(lambda: self.steam.collection_children(wanted))
        return {i: answer.get(i) for i in wanted}

    async def collection(self, collection_id: int) -> tuple[int, ...] | None:
        """The items of a collection (from memory within the cooldown, else Steam); ``None``
        when it is not one (or the server holds it as a mod)."""
        node = (await self._describe([collection_id]))[collection_id]
        return node.collection

    # --- the plan -----------------------------------------------------------------------

    async def plan(self, ids: Sequence[int]) -> Plan:
        """The closure of ``ids`` (mods or collections) under required items, dependencies
        first. Raises PlanTooLarge past :data:`PLAN_LIMIT` mods."""
        roots = list(dict.fromkeys(ids))
        if len(roots) > PLAN_LIMIT:
            raise PlanTooLarge(details=[f"{len(roots)} ids asked for"])
        nodes: dict[int, _Node] = {}
        parent: dict[int, int | None] = dict.fromkeys(roots)
        from_collection: dict[int, int] = {}
        frontier = roots
        while frontier:
            nodes.update(await self._describe([i for i in frontier if i not in nodes]))
            following: list[int] = []
            for mod_id in frontier:
                node = nodes[mod_id]
                if node.collection is not None:
                    # a collection's items stand where it stands
                    pulled = node.collection
                    by = parent[mod_id]
                else:
                    pulled = node.dependencies or ()
                    by = mod_id
                for child in pulled:
                    if child not in parent:
                        parent[child] = by
                        if node.collection is not None:
                            from_collection[child] = mod_id
                        following.append(child)
            mods = sum(1 for i in parent if i not in nodes or nodes[i].collection is None)
            if mods > PLAN_LIMIT:
                raise PlanTooLarge(details=[f"more than {PLAN_LIMIT} mods in the closure"])
            frontier = following
        order, cycles = _ordered(roots, nodes)
        entries = tuple(
            _entry(mod_id, nodes[mod_id], parent[mod_id], from_collection.get(mod_id))
            for mod_id in order
        )
        collections = {i: n.collection for i, n in nodes.items() if n.collection is not None}
        return Plan(entries=entries, cycles=tuple(cycles), collections=collections)


def _known(
    mod_id: int, details: ItemDetails | None, members: tuple[int, ...] | None, now: dt.datetime
) -> KnownItem:
    if details is None or details.banned:
        return KnownItem(id=mod_id, found=False, checked=now)
    if members is not None:
        return KnownItem(
            id=mod_id, name=details.title, is_collection=True, children=members, checked=now
        )
    return KnownItem(
        id=mod_id,
        name=details.title,
        size=details.file_size,
        children=None if details.extras is None else details.extras.dependencies,
        checked=now,
    )


def _ordered(roots: Sequence[int], nodes: dict[int, _Node]) -> tuple[list[int], list[Cycle]]:
    """Depth-first post-order from the roots in order (collections replaced by their items,
    dependencies in Steam's order): each dependency before what requires it. An edge back
    to a mod still being walked closes a cycle: reported, and left out."""
    order: list[int] = []
    done: set[int] = set()
    walking: list[int] = []
    on_path: set[int] = set()
    cycles: list[Cycle] = []

    def edges(mod_id: int, seen: frozenset[int] = frozenset()) -> list[int]:
        node = nodes.get(mod_id)
        if node is None:
            return []
        out: list[int] = []
        for child in node.collection if node.collection is not None else node.dependencies or ():
            child_node = nodes.get(child)
            if child_node is not None and child_node.collection is not None:
                if child not in seen:
                    out += edges(child, seen | {child})
            else:
                out.append(child)
        return out

    def visit(mod_id: int) -> None:
        # an explicit stack: a chain of 500 mods must not hit the recursion limit
        stack: list[tuple[int, list[int]]] = [(mod_id, edges(mod_id))]
        walking.append(mod_id)
        on_path.add(mod_id)
        while stack:
            current, pending = stack[-1]
            if pending:
                child = pending.pop(0)
                if child in done or child not in nodes:
                    continue
                if child in on_path:
                    ring = tuple(walking[walking.index(child) :])
                    cycles.append(Cycle(ids=ring, broken=(current, child)))
                    continue
                walking.append(child)
                on_path.add(child)
                stack.append((child, edges(child)))
                continue
            stack.pop()
            walking.pop()
            on_path.discard(current)
            done.add(current)
            order.append(current)

    for root in roots:
        for start in edges(root) if _is_collection(nodes, root) else [root]:
            if start not in done and start in nodes:
                visit(start)
    return order, cycles


def _is_collection(nodes: dict[int, _Node], mod_id: int) -> bool:
    node = nodes.get(mod_id)
    return node is not None and node.collection is not None


def _entry(mod_id: int, node: _Node, parent: int | None, collection: int | None) -> PlanEntry:
    mod, known = node.mod, node.known
    name = mod.name if mod is not None and mod.name else (known.name if known else "")
    size: int | None = None
    if mod is not None and mod.state.downloadable:
        size = mod.size
    elif known is not None and known.found:
        size = known.size
    return PlanEntry(
        id=mod_id,
        name=name,
        condition=None if mod is None else mod.state,
        size=size,
        sha256=None if mod is None or mod.archive is None else mod.archive.sha256,
        date_update=None if mod is None else mod.date_update,
        dependencies=node.dependencies,
        parent=parent,
        collection=collection,
        missing=mod is None and known is not None and not known.found,
    )
