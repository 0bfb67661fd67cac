"""The seed's JSON shapes, built from the core's values.

Every adapter that speaks the seed's API (the bundled HTTP server, a launcher embedding the
library) uses these, so the field groups, key names and date formats are the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from openworkshop.domain import Failure, Game, Genre, Mod, Resource, Tag
from openworkshop.ports import CatalogSummary, Page, StatRow
from openworkshop.query import GameFields, ModFields

__all__ = [
    "catalog_summary",
    "failure_body",
    "game_info",
    "game_list",
    "genre_list",
    "mod_info",
    "mod_list",
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
    """``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC (where the seed shows ``.MS``)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _paged(page: Page[Any], results: list[JSON], *, offeset: bool = False) -> JSON:
    """A page in the seed's envelope. ``offeset`` (README's spelling, beside the ``offset``
    the original server sent) only where the README shows it: /list/mods and /list/games."""
    body: JSON = {"database_size": page.total}
    if offeset:
        body["offeset"] = page.offset
    body["offset"] = page.offset
    body["results"] = results
    return body


def _mod_fields(mod: Mod, fields: ModFields) -> JSON:
    row: JSON = {}
    if fields.general:
        row.update(name=mod.name, size=mod.size, source=mod.source, downloads=mod.downloads)
    if fields.description:
        row["description"] = mod.description
    if fields.short_description:
        row["short_description"] = mod.short_description
    if fields.dates:
        row["date_creation"] = seconds(mod.date_creation)
        row["date_update"] = seconds(mod.date_update)
    return row


def mod_list(page: Page[Mod], fields: ModFields) -> JSON:
    """``/list/mods/``: ``offeset`` as the README spells it, and ``offset`` as the server sent."""
    return _paged(page, [{"id": m.id, **_mod_fields(m, fields)} for m in page.items], offeset=True)


def update_queued() -> JSON:
    """``/update/steam/{id}`` queued the newer version (202); the seed's own wording, which
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
) -> JSON:
    """``/info/mod/{id}``: ``result`` is the mod or null; ``failure`` tells why it is not here."""
    body: JSON = {"result": None}
    if mod is not None:
        result = _mod_fields(mod, fields)
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
    return body


def _game_fields(game: Game, fields: GameFields) -> JSON:
    row: JSON = {"name": game.name, "type": game.type, "logo": game.logo, "source": game.source}
    if fields.short_description:
        row["short_description"] = game.short_description
    if fields.description:
        row["description"] = game.description
    if fields.statistics:
        row["mods_downloads"] = game.mods_downloads
        row["mods_count"] = game.mods_count
    if fields.dates:
        row["creation_date"] = micros(game.creation_date)
    return row


def game_list(page: Page[Game], fields: GameFields) -> JSON:
    return _paged(page, [{"id": g.id, **_game_fields(g, fields)} for g in page.items], offeset=True)


def game_info(game: Game | None, fields: GameFields) -> JSON:
    return {"result": None if game is None else _game_fields(game, fields)}


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
