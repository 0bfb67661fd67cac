"""The typed progress events a :class:`~openworkshop_client.Client` reports, one per step of a
mod's way from the server into the mods folder.

Every event names its mod; the phases of one mod only move forward
(:attr:`Event.phase` orders them), and each mod ends with :class:`Done` or :class:`Failed`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

import attrs

__all__ = [
    "Done",
    "Event",
    "Extracting",
    "Failed",
    "Phase",
    "Progress",
    "Queued",
    "Removed",
    "ServerDownloading",
    "Skipped",
    "Transferring",
    "Verifying",
]


class Phase(IntEnum):
    """The order of a mod's steps; a mod's events never go back to an earlier phase."""

    QUEUED = 1
    SERVER_DOWNLOADING = 2
    TRANSFERRING = 3
    VERIFYING = 4
    EXTRACTING = 5
    DONE = 6


@attrs.frozen(kw_only=True)
class Event:
    mod_id: int
    phase: Phase = attrs.field(init=False, default=Phase.QUEUED)


@attrs.frozen(kw_only=True)
class Queued(Event):
    """The server has the mod in its queue (``position``: mods ahead of it, when known)."""

    position: int | None = None
    phase: Phase = attrs.field(init=False, default=Phase.QUEUED)


@attrs.frozen(kw_only=True)
class ServerDownloading(Event):
    """The server is fetching the mod from Steam (bytes when the server reports them)."""

    done: int | None = None
    total: int | None = None
    phase: Phase = attrs.field(init=False, default=Phase.SERVER_DOWNLOADING)


@attrs.frozen(kw_only=True)
class Transferring(Event):
    """The archive is coming from the server to this machine: ``done`` of ``total`` bytes."""

    done: int
    total: int | None
    phase: Phase = attrs.field(init=False, default=Phase.TRANSFERRING)


@attrs.frozen(kw_only=True)
class Verifying(Event):
    """The archive's sha256 is being compared with the server's."""

    phase: Phase = attrs.field(init=False, default=Phase.VERIFYING)


@attrs.frozen(kw_only=True)
class Extracting(Event):
    phase: Phase = attrs.field(init=False, default=Phase.EXTRACTING)


@attrs.frozen(kw_only=True)
class Done(Event):
    """The mod is in place (``sha256`` of its archive), or was removed or already current."""

    sha256: str = ""
    phase: Phase = attrs.field(init=False, default=Phase.DONE)


@attrs.frozen(kw_only=True)
class Skipped(Done):
    """Nothing to do: the folder already holds this version."""


@attrs.frozen(kw_only=True)
class Removed(Done):
    """The mod's folder and manifest entry are gone."""


@attrs.frozen(kw_only=True)
class Failed(Event):
    """The mod cannot be installed: ``reason`` is the server's (``access_denied``,
    ``not_found`` ...) or the client's (``checksum``, ``unsafe_archive``, ``disk_full``)."""

    reason: str
    message: str
    phase: Phase = attrs.field(init=False, default=Phase.DONE)


Progress = Callable[[Event], None]
"""A progress callback: called in the event loop, it must not block."""
