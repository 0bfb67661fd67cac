"""The original Open Workshop API's JSON shapes, built from the core's values.

Every adapter that speaks the original Open Workshop API (the bundled HTTP server, a launcher embedding the
library) uses these, so the field groups, key names and date formats are the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import attrs

from openworkshop.checks import ModCheck
from openworkshop.domain import Failure, Game, Genre, Mod, Resource, Tag
from openworkshop.events import Event, encode_cursor
from openworkshop.plans import CollectionInfo, Plan, PlanEntry
from openworkshop.ports import CatalogSummary, Page, StatRow
from openworkshop.progress import ModProgress
from openworkshop.query import GameFields, ModFields

__all__ = [
    "GAME_GROUPS",
    "GAME_KEYS",
    "MOD_GROUPS",
    "Key",
    "catalog_summary",
    "collection_info",
    "event_page",
    "event_row",
    "failure_body",
    "game_info",
    "game_list",
    "genre_list",
    "mod_check",
    "mod_checks",
    "mod_info",
    "mod_list",
    "plan",
    "plan_entry",
    "progress_map",
    "progress_row",
    "resource_list",
    "stat_days",
    "stat_hours",
    "tag_list",
    "update_queued",
]

JSON = dict[str, Any]


def seconds(value: dt.datetime | None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS`` in UTC (mod dates)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def micros(value: dt.datetime | None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC (where the original shows ``.MS``)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# --- the field groups: each group's keys, declared once -------------------------------


@attrs.frozen
class Key:
    """One JSON key of a mod or game row: the value's attribute it shows, and how."""

    name: str
    type: str = "string"
    """``string``, ``integer``, ``seconds`` (:func:`seconds`, or null) or ``micros``
    (:func:`micros`, or null); ``openapi.py`` gives each its schema."""
    help: str = ""
    max_length: int | None = None
    attribute: str = attrs.field(default=attrs.Factory(lambda self: self.name, takes_self=True))


MOD_GROUPS: Final[Mapping[str, tuple[Key, ...]]] = {
    "general": (Key("name"), Key("size", "integer"), Key("source"), Key("downloads", "integer")),
    "description": (Key("description"),),
    "short_description": (Key("short_description", max_length=256),),
    "dates": (Key("date_creation", "seconds"), Key("date_update", "seconds")),
}
"""The keys of a mod row (after its ``id``) by the ``ModFields`` flag that asks for them, in
the order they are written."""

GAME_KEYS: Final[tuple[Key, ...]] = (
    Key("name"),
    Key("type", help="`game` or `app`"),
    Key("logo", help="URL of the game's logo"),
    Key("source"),
)
"""The keys every game row has (after its ``id``)."""

GAME_GROUPS: Final[Mapping[str, tuple[Key, ...]]] = {
    "short_description": (Key("short_description"),),
    "description": (Key("description"),),
    "statistics": (Key("mods_downloads", "integer"), Key("mods_count", "integer")),
    "dates": (Key("creation_date", "micros"),),
}
"""The keys of a game row by the ``GameFields`` flag that asks for them, in order."""

_FORMATS: Final[Mapping[str, Callable[[Any], Any]]] = {"seconds": seconds, "micros": micros}

Row = Callable[[Any], JSON]


def _builder(keys: Sequence[Key]) -> Row:
    """A function writing a row of ``keys`` as one dict display, generated from the keys (as
    attrs and cattrs generate theirs): the listing's rows cost one call each, no loop over
    the keys. Made once per choice of groups."""
    parts = []
    for key in keys:
        assert key.attribute.isidentifier(), key
        value = f"value.{key.attribute}"
        parts.append(
            f"{key.name!r}: " + (f"{key.type}({value})" if key.type in _FORMATS else value)
        )
    source = "def row(value):\n    return {" + ", ".join(parts) + "}\n"
    namespace: dict[str, Any] = dict(_FORMATS)
    exec(compile(source, "<openworkshop.views row>", "exec"), namespace)
    built: Row = namespace["row"]
    return built


_ID: Final = Key("id", "integer")
_ROWS: dict[tuple[object, bool], Row] = {}


def _row(
    fields: ModFields | GameFields,
    with_id: bool,
    base: tuple[Key, ...],
    groups: Mapping[str, tuple[Key, ...]],
) -> Row:
    try:
        return _ROWS[fields, with_id]
    except KeyError:
        keys = ((_ID,) if with_id else ()) + base
        keys += tuple(
            key for flag, group in groups.items() if getattr(fields, flag) for key in group
        )
        built = _ROWS[fields, with_id] = _builder(keys)
        return built


def _mod_row(fields: ModFields, with_id: bool) -> Row:
    return _row(fields, with_id, (), MOD_GROUPS)


def _game_row(fields: GameFields, with_id: bool) -> Row:
    return _row(fields, with_id, GAME_KEYS, GAME_GROUPS)


def _paged(page: Page[Any], results: list[JSON], *, offeset: bool = False) -> JSON:
    """A page in the original's envelope. ``offeset`` (README's spelling, beside the ``offset``
    the original server sent) only where the README shows it: /list/mods and /list/games."""
    body: JSON = {"database_size": page.total}
    if offeset:
        body["offeset"] = page.offset
    body["offset"] = page.offset
    body["results"] = results
    return body


def mod_list(page: Page[Mod], fields: ModFields) -> JSON:
    """``/list/mods/``: ``offeset`` as the README spells it, and ``offset`` as the server sent."""
    row = _mod_row(fields, with_id=True)
    return _paged(page, [row(m) for m in page.items], offeset=True)


def update_queued() -> JSON:
    """``/update/steam/{id}`` queued the newer version (202); the original's own wording, which
    differs from ``/download/steam/{id}``'s (:meth:`Queued.body`)."""
    return {"message": "task of updating is set", "error_id": 0}


def failure_body(failure: Failure) -> JSON:
    return {
        "reason": failure.reason.value,
        "attempts": failure.attempts,
        "date": seconds(failure.date),
        "detail": failure.detail,
    }


def mod_info(
    mod: Mod | None,
    fields: ModFields,
    *,
    dependencies: tuple[list[int], int] | None = None,
    game: Game | None = None,
    with_game: bool = False,
    failure: Failure | None = None,
    progress: ModProgress | None = None,
) -> JSON:
    """``/info/mod/{id}``: ``result`` is the mod or null; ``failure`` tells why it is not here;
    ``progress`` where it is on its way (conditions 3, 2 and 1)."""
    body: JSON = {"result": None}
    if mod is not None:
        result = _mod_row(fields, with_id=False)(mod)
        result["condition"] = int(mod.state)
        if with_game:
            result["game"] = (
                {"id": game.id, "name": game.name}
                if game is not None
                else ({"id": mod.game_id, "name": None} if mod.game_id is not None else None)
            )
        body["result"] = result
        if dependencies is not None:
            ids, count = dependencies
            body["dependencies"] = ids
            body["dependencies_count"] = count
    if failure is not None:
        body["unsuccessful_attempts"] = True
        body["failure"] = failure_body(failure)
    if progress is not None:
        body["progress"] = progress_row(progress, with_id=False)
    return body


def progress_row(progress: ModProgress, *, with_id: bool = True) -> JSON:
    """A mod's progress (``/info/mod``'s ``progress``, an event of ``/progress``)."""
    row: JSON = {"id": progress.mod_id} if with_id else {}
    row.update(
        phase=progress.phase.value,
        condition=None if progress.condition is None else int(progress.condition),
        position=progress.position,
        done=progress.done,
        total=progress.total,
        eta=progress.eta,
    )
    if progress.reason is not None:
        row["reason"] = progress.reason
    return row


def progress_map(found: Mapping[int, ModProgress]) -> JSON:
    """``/progress/{ids}`` as JSON: ``{id: progress}``."""
    return {str(i): progress_row(p, with_id=False) for i, p in found.items()}


def game_list(page: Page[Game], fields: GameFields) -> JSON:
    row = _game_row(fields, with_id=True)
    return _paged(page, [row(g) for g in page.items], offeset=True)


def game_info(game: Game | None, fields: GameFields) -> JSON:
    return {"result": None if game is None else _game_row(fields, with_id=False)(game)}


def _named(page: Page[Tag] | Page[Genre]) -> JSON:
    return _paged(page, [{"id": item.id, "name": item.name} for item in page.items])


def tag_list(page: Page[Tag]) -> JSON:
    return _named(page)


def genre_list(page: Page[Genre]) -> JSON:
    return _named(page)


def associations(found: Mapping[int, Sequence[Tag | Genre]], only_ids: bool) -> JSON:
    """``/list/tags/mods/...`` and ``/list/genres/games/...``: ``{"<id>": [...]}``."""
    if only_ids:
        return {str(k): [item.id for item in v] for k, v in found.items()}
    return {str(k): [{"id": item.id, "name": item.name} for item in v] for k, v in found.items()}


def resource_list(page: Page[Resource]) -> JSON:
    results = [
        {
            "date_event": micros(r.date_event),
            "id": r.id,
            "url": r.url,
            "type": r.type.value,
            "owner_id": r.owner_id,
        }
        for r in page.items
    ]
    return _paged(page, results)


def stat_hours(rows: Sequence[StatRow]) -> list[JSON]:
    return [{"count": r.count, "type": r.type, "date_time": micros(r.at)} for r in rows]


def stat_days(rows: Sequence[StatRow]) -> list[JSON]:
    return [{"count": r.count, "type": r.type, "date": r.at.date().isoformat()} for r in rows]


def catalog_summary(summary: CatalogSummary) -> JSON:
    """``/statistics/info/all``: each total under its field's name."""
    return {field.name: getattr(summary, field.name) for field in attrs.fields(CatalogSummary)}


# --- the launcher endpoints ---------------------------------------------------------------


def plan_entry(entry: PlanEntry) -> JSON:
    """One mod of ``/plan``: what a launcher needs to install it, and where it came from."""
    return {
        "id": entry.id,
        "name": entry.name,
        "condition": None if entry.condition is None else int(entry.condition),
        "size": entry.size,
        "sha256": entry.sha256,
        "date_update": seconds(entry.date_update),
        "dependencies": None if entry.dependencies is None else list(entry.dependencies),
        "parent": entry.parent,
        "collection": entry.collection,
        "missing": entry.missing,
    }


def plan(result: Plan) -> JSON:
    """``/plan``: the entries, dependencies first; the cycles broken; the collections met;
    the mods queued; whether every entry's dependencies are known."""
    return {
        "results": [plan_entry(e) for e in result.entries],
        "cycles": [{"ids": list(c.ids), "broken": list(c.broken)} for c in result.cycles],
        "collections": {str(k): list(v) for k, v in result.collections.items()},
        "queued": list(result.queued),
        "complete": result.complete,
    }


def collection_info(info: CollectionInfo | None) -> JSON:
    """``/info/collection/{id}``: its items with their conditions (``None``: not here), or a
    null result when it is not a collection."""
    if info is None:
        return {"result": None}
    return {
        "result": {
            "id": info.id,
            "name": info.name,
            "items": [
                {
                    "id": i.id,
                    "name": i.name,
                    "condition": None if i.condition is None else int(i.condition),
                }
                for i in info.items
            ],
        }
    }


def event_row(event: Event) -> JSON:
    """One event of the feed: its cursor (``id``), type, time, and what it is about."""
    change = event.change
    row: JSON = {
        "id": encode_cursor(event.seq),
        "type": change.kind.value,
        "at": micros(change.at),
    }
    if change.mod_id is not None:
        row["mod_id"] = change.mod_id
    if change.game_id is not None:
        row["game_id"] = change.game_id
    row["name"] = change.name
    if change.sha256 is not None:
        row.update(sha256=change.sha256, size=change.size, date_update=seconds(change.date_update))
    if change.reason is not None:
        row["reason"] = change.reason
    return row


def event_page(events: Sequence[Event], cursor: str, more: bool) -> JSON:
    """``/events``: the events, the cursor to continue from, whether more are waiting."""
    return {"events": [event_row(e) for e in events], "next": cursor, "more": more}


def mod_check(answer: ModCheck) -> JSON:
    """One mod's answer of ``POST /check/mods``."""
    row: JSON = {"state": answer.state.value}
    if answer.archive is not None:
        row.update(
            sha256=answer.archive.sha256,
            size=answer.archive.size,
            date_update=seconds(answer.date_update),
        )
    if answer.reason is not None:
        row["reason"] = answer.reason
    if answer.checking:
        row["checking"] = True
    return row


def mod_checks(answers: Mapping[int, ModCheck]) -> JSON:
    """``POST /check/mods``: ``{mod id: answer}``."""
    return {str(mod_id): mod_check(answer) for mod_id, answer in answers.items()}
