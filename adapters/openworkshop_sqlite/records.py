"""Rows to values and back: ids, times and the mod row.

SQLite integers are signed 64-bit; Steam ids are unsigned. An id at or above 2**63 is stored
as its two's complement (``id - 2**64``), so every id a real Steam hands out (well below 2**63)
is stored as itself and the file stays readable. Times are stored as integer microseconds
since the Unix epoch, UTC, and come back timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final, TypeVar

from openworkshop.clock import utc
from openworkshop.domain import Archive, Failure, FailureReason, Game, Mod, Resource, ResourceType
from openworkshop.states import ModState

__all__ = [
    "GAME_COLUMNS",
    "GAME_SELECT",
    "MOD_COLUMNS",
    "MOD_SELECT",
    "RESOURCE_COLUMNS",
    "chunks",
    "failure_from_row",
    "game_from_row",
    "id_in",
    "id_out",
    "marks",
    "mod_from_row",
    "mod_params",
    "resource_from_row",
    "time_in",
    "time_out",
    "unique",
]

_SIGNED_LIMIT: Final = 2**63
_UNSIGNED_SPAN: Final = 2**64
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND: Final = dt.timedelta(microseconds=1)

T = TypeVar("T")


def id_in(value: int) -> int:
    """A Steam id (unsigned 64-bit) as SQLite stores it (signed 64-bit)."""
    return value - _UNSIGNED_SPAN if value >= _SIGNED_LIMIT else value


def id_out(value: int) -> int:
    """The Steam id behind a stored integer."""
    return value + _UNSIGNED_SPAN if value < 0 else value


def time_in(value: dt.datetime | None) -> int | None:
    """Microseconds since the epoch (naive values are taken to be UTC)."""
    if value is None:
        return None
    return (utc(value) - _EPOCH) // _MICROSECOND


def time_out(value: int | None) -> dt.datetime | None:
    if value is None:
        return None
    # a timedelta times an int is exact, and 2.6x faster than timedelta(microseconds=...)
    # (7% of a listing's time went here: bench/profile.py)
    return _EPOCH + _MICROSECOND * value


def marks(count: int) -> str:
    """``?, ?, ?`` for ``count`` parameters."""
    return ", ".join("?" * count)


def chunks(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """Slices of at most ``size`` items (SQLite caps the parameters of one statement)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def unique(items: Iterable[T]) -> list[T]:
    """Items in order, repeats dropped."""
    return list(dict.fromkeys(items))


# --- mods ---------------------------------------------------------------------------

MOD_COLUMNS: Final = (
    "id",
    "game_id",
    "state",
    "name",
    "size",
    "source",
    "downloads",
    "date_creation",
    "date_update",
    "date_request",
    "date_checked",
    "date_queued",
    "time_updated",
    "hcontent_file",
    "archive_key",
    "archive_size",
    "archive_sha256",
    "attempts",
    "not_before",
    "lease_until",
    "short_description",
    "description",
)
"""The columns a :class:`Mod` is read from, in row order."""

MOD_SELECT: Final = ", ".join(MOD_COLUMNS)


def mod_params(mod: Mod) -> dict[str, Any]:
    """Named parameters for every column of ``MOD_COLUMNS``."""
    archive = mod.archive
    return {
        "id": id_in(mod.id),
        "game_id": None if mod.game_id is None else id_in(mod.game_id),
        "state": int(mod.state),
        "name": mod.name,
        "size": mod.size,
        "source": mod.source,
        "downloads": mod.downloads,
        "date_creation": time_in(mod.date_creation),
        "date_update": time_in(mod.date_update),
        "date_request": time_in(mod.date_request),
        "date_checked": time_in(mod.date_checked),
        "date_queued": time_in(mod.date_queued),
        "time_updated": mod.time_updated,
        "hcontent_file": mod.hcontent_file,
        "archive_key": None if archive is None else archive.key,
        "archive_size": None if archive is None else archive.size,
        "archive_sha256": None if archive is None else archive.sha256,
        "attempts": mod.attempts,
        "not_before": time_in(mod.not_before),
        "lease_until": time_in(mod.lease_until),
        "short_description": mod.short_description,
        "description": mod.description,
    }


_STATES: Final = {int(state): state for state in ModState}
"""Stored state numbers to states, without the enum's lookup (a listing reads 50 rows)."""


def mod_from_row(row: Sequence[Any]) -> Mod:
    (
        ident,
        game_id,
        state,
        name,
        size,
        source,
        downloads,
        date_creation,
        date_update,
        date_request,
        date_checked,
        date_queued,
        time_updated,
        hcontent_file,
        archive_key,
        archive_size,
        archive_sha256,
        attempts,
        not_before,
        lease_until,
        short_description,
        description,
    ) = row
    archive = (
        None
        if archive_key is None
        else Archive(key=archive_key, size=archive_size, sha256=archive_sha256)
    )
    return Mod(
        id=id_out(ident),
        name=name,
        game_id=None if game_id is None else id_out(game_id),
        state=_STATES.get(state) or ModState(state),
        size=size,
        source=source,
        downloads=downloads,
        short_description=short_description,
        description=description,
        date_creation=time_out(date_creation),
        date_update=time_out(date_update),
        date_request=time_out(date_request),
        date_checked=time_out(date_checked),
        date_queued=time_out(date_queued),
        time_updated=time_updated,
        hcontent_file=hcontent_file,
        archive=archive,
        attempts=attempts,
        not_before=time_out(not_before),
        lease_until=time_out(lease_until),
    )


# --- games, resources, failures -------------------------------------------------------

GAME_COLUMNS: Final = (
    "id",
    "name",
    "type",
    "logo",
    "source",
    "creation_date",
    "mods_count",
    "mods_downloads",
    "short_description",
    "description",
)
GAME_SELECT: Final = ", ".join(GAME_COLUMNS)


def game_from_row(row: Sequence[Any]) -> Game:
    (
        ident,
        name,
        type_,
        logo,
        source,
        creation_date,
        mods_count,
        mods_downloads,
        short_description,
        description,
    ) = row
    return Game(
        id=id_out(ident),
        name=name,
        type=type_,
        logo=logo,
        short_description=short_description,
        description=description,
        source=source,
        creation_date=time_out(creation_date),
        mods_count=mods_count,
        mods_downloads=mods_downloads,
    )


RESOURCE_COLUMNS: Final = "id, owner_id, type, url, date_event"


def resource_from_row(row: Sequence[Any]) -> Resource:
    ident, owner_id, type_, url, date_event = row
    when = time_out(date_event)
    assert when is not None
    return Resource(
        id=ident, owner_id=id_out(owner_id), type=ResourceType(type_), url=url, date_event=when
    )


def failure_from_row(row: Sequence[Any]) -> Failure:
    mod_id, reason, attempts, date, detail = row
    when = time_out(date)
    assert when is not None
    return Failure(
        mod_id=id_out(mod_id),
        reason=FailureReason(reason),
        attempts=attempts,
        date=when,
        detail=detail,
    )
