"""The events feed: what changed on the server, in order (``GET /events``).

An event is recorded by the storage in the same write as the change that causes it: a
mod's :class:`~openworkshop.ports.Transition` (``DownloadQueue.apply``) or a new game
(``put_game``), so a crash can never keep one without the other. Which change of a mod's row
is which event is decided here, once, from the row as stored and the row as it becomes
(:func:`mod_change`); both stores call it inside their write.

- ``mod_added``: a mod got its first archive (or one again, after it was damaged);
- ``mod_updated``: a mod's archive was replaced by a new version's;
- ``mod_removed``: a mod that had an archive left the catalog with a failure (``reason``);
- ``mod_damaged``: a mod's archive vanished, and its row went (or lost the archive);
- ``game_added``: a game was registered.

Each recorded event has a sequence number, increasing by one per event, that the API hands
out as an opaque cursor (:func:`encode_cursor`). Events older than the retention window are
trimmed; a client whose cursor points before the oldest one kept is told to resync.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Final

import attrs

from openworkshop.domain import Failure, Game, Mod

__all__ = [
    "CURSOR_PATTERN",
    "Change",
    "Event",
    "EventBatch",
    "EventKind",
    "decode_cursor",
    "encode_cursor",
    "game_change",
    "mod_change",
]


class EventKind(str, Enum):
    MOD_ADDED = "mod_added"
    MOD_UPDATED = "mod_updated"
    MOD_REMOVED = "mod_removed"
    MOD_DAMAGED = "mod_damaged"
    GAME_ADDED = "game_added"

    @property
    def gone(self) -> bool:
        """Whether the mod is no longer on the server after this event."""
        return self in (EventKind.MOD_REMOVED, EventKind.MOD_DAMAGED)


@attrs.frozen(kw_only=True)
class Change:
    """What one write changed, as an event before the storage numbers it."""

    kind: EventKind
    at: dt.datetime
    mod_id: int | None = None
    game_id: int | None = None
    name: str = ""
    sha256: str | None = None
    """The new archive's (``mod_added``, ``mod_updated``)."""
    size: int | None = None
    """The new archive's size in bytes (what a client downloads)."""
    date_update: dt.datetime | None = None
    """Steam's date of the version archived."""
    reason: str | None = None
    """Why it left (``mod_removed``: the failure's reason; ``mod_damaged``: ``damaged``)."""


@attrs.frozen(kw_only=True)
class Event:
    """A recorded change: ``seq`` is its place in the log (1, 2, 3 … never reused)."""

    seq: int
    change: Change


@attrs.frozen(kw_only=True)
class EventBatch:
    """What :meth:`EventLog.read_events` answers."""

    events: list[Event]
    latest: int
    """The newest event's ``seq`` ever recorded (0: none yet)."""
    trimmed: int
    """Every event up to this ``seq`` has been trimmed (0: none)."""


def _when(*candidates: dt.datetime | None) -> dt.datetime:
    for value in candidates:
        if value is not None:
            return value
    return dt.datetime.now(dt.UTC)  # a catalog written row by row, with no time of its own


def mod_change(
    current: Mod | None,
    after: Mod | None,
    *,
    failure: Failure | None = None,
    at: dt.datetime | None = None,
) -> Change | None:
    """The event of a mod's row going from ``current`` (as stored) to ``after`` (``None``:
    removed), or ``None`` when a client of the feed has nothing to learn from it."""
    old = None if current is None else current.archive
    new = None if after is None else after.archive
    if new is not None and (old is None or new.key != old.key):
        assert after is not None
        return Change(
            kind=EventKind.MOD_ADDED if old is None else EventKind.MOD_UPDATED,
            at=_when(at, after.date_checked),
            mod_id=after.id,
            game_id=after.game_id,
            name=after.name,
            sha256=new.sha256,
            size=new.size,
            date_update=after.date_update,
        )
    if old is not None and new is None:
        assert current is not None
        if failure is not None:
            kind, reason = EventKind.MOD_REMOVED, failure.reason.value
        else:
            kind, reason = EventKind.MOD_DAMAGED, "damaged"
        return Change(
            kind=kind,
            at=_when(at, None if failure is None else failure.date),
            mod_id=current.id,
            game_id=current.game_id,
            name=current.name,
            reason=reason,
        )
    return None


def game_change(known: bool, game: Game) -> Change | None:
    """The event of ``put_game``: ``game_added`` for a game not ``known`` before."""
    if known:
        return None
    return Change(
        kind=EventKind.GAME_ADDED, at=_when(game.creation_date), game_id=game.id, name=game.name
    )


# --- cursors ---------------------------------------------------------------------------

CURSOR_PATTERN: Final = r"^c(0|[1-9a-z][0-9a-z]{0,11})$"
"""Every cursor's spelling: ``c`` and the sequence number in base 36 (no leading zero), at
most 12 digits (below 2**63). Clients keep it as it is: its meaning may change."""
_CURSOR: Final = re.compile(CURSOR_PATTERN)
_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"


def encode_cursor(seq: int) -> str:
    """The opaque text a client holds for "every event up to ``seq``"."""
    if seq < 0:
        raise ValueError("a cursor counts events: 0 or more")
    digits = ""
    while True:
        seq, digit = divmod(seq, 36)
        digits = _DIGITS[digit] + digits
        if seq == 0:
            return "c" + digits


def decode_cursor(text: str) -> int | None:
    """The ``seq`` of a cursor (:data:`CURSOR_PATTERN`), or ``None`` for anything else."""
    if not _CURSOR.fullmatch(text):
        return None
    return int(text[1:], 36)
