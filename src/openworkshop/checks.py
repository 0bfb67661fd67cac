"""The bulk update check (``POST /check/mods``): what the server says of each mod a client
has, from the catalog alone (never a call to Valve).

- ``current``: the client's version is the server's archive (the same sha256, or a
  ``date_update`` not older than the archived version's);
- ``outdated``: the server has another archive: its sha256, size and date_update come along;
- ``missing``: the server has no archive of it (never had one, or is fetching its first);
- ``removed``: the server had it or tried to, and knows it is gone: Steam refused it for good
  (a permanent failure, with its ``reason``), or it left the catalog (removed or damaged).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

import attrs

from openworkshop.domain import Archive, Failure, Mod
from openworkshop.events import Event

__all__ = ["CheckState", "ModCheck", "check_mod"]


class CheckState(str, Enum):
    CURRENT = "current"
    OUTDATED = "outdated"
    MISSING = "missing"
    REMOVED = "removed"


@attrs.frozen(kw_only=True)
class ModCheck:
    """One mod's answer."""

    state: CheckState
    archive: Archive | None = None
    """The server's archive (``current`` and ``outdated``)."""
    date_update: dt.datetime | None = None
    reason: str | None = None
    """Why it is ``removed``: a failure's reason, or ``damaged``."""
    checking: bool = False
    """An update check against Steam was queued for it (``refresh=true``)."""


def check_mod(
    version: str | dt.datetime,
    mod: Mod | None,
    *,
    failure: Failure | None = None,
    last_event: Event | None = None,
) -> ModCheck:
    """The answer for a client holding ``version`` (a sha256 or a date_update) of a mod whose
    row is ``mod``, with its last final ``failure`` and the newest event of it kept."""
    archive = None if mod is None else mod.archive
    if mod is not None and archive is not None:
        if isinstance(version, str):
            same = version == archive.sha256
        else:
            same = mod.date_update is None or version >= mod.date_update
        state = CheckState.CURRENT if same else CheckState.OUTDATED
        return ModCheck(state=state, archive=archive, date_update=mod.date_update)
    if failure is not None and not failure.reason.transient:
        return ModCheck(state=CheckState.REMOVED, reason=failure.reason.value)
    if mod is None and last_event is not None and last_event.change.kind.gone:
        return ModCheck(state=CheckState.REMOVED, reason=last_event.change.reason)
    return ModCheck(state=CheckState.MISSING)
