"""The catalog's values: mods, games, tags, genres, resources, failures, and what Steam says.

All are frozen attrs classes. A mod changes state only through its transition methods
(``claimed``, ``archived``, ``enriched``, ``requeued``, ``retried``, ``failed`` …), each
checked by the state machine (``states.py``) and returning the evolved value; other fields
change with ``attrs.evolve``.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path

import attrs

from openworkshop.errors import IllegalTransition
from openworkshop.states import ModState, check_failure, check_transition
from openworkshop.text import short_description

__all__ = [
    "MAX_STEAM_ID",
    "AppDetails",
    "Archive",
    "DownloadItem",
    "DownloadOutcome",
    "Failure",
    "FailureReason",
    "Game",
    "Genre",
    "ItemDetails",
    "ItemExtras",
    "KnownItem",
    "Mod",
    "Resource",
    "ResourceType",
    "Tag",
]

MAX_STEAM_ID = 2**64 - 1
"""Mod and game ids are Steam ids: unsigned 64-bit integers."""


class ResourceType(str, Enum):
    LOGO = "logo"
    SCREENSHOT = "screenshot"


class FailureReason(str, Enum):
    """Why a download failed, stable across Steam's changing wording."""

    ACCESS_DENIED = "access_denied"
    NOT_FOUND = "not_found"
    """Steam's details: missing, private or friends-only (never steamcmd's); also a
    collection when no ``ItemMemory`` is there to hold its items."""
    BANNED = "banned"
    """Steam's details: banned."""
    FILE_NOT_FOUND = "file_not_found"
    """The download found no file for an item Steam's details list (steamcmd's ``File Not
    Found``, a legacy file's 404)."""
    TIMEOUT = "timeout"
    NO_CONNECTION = "no_connection"
    RATE_LIMITED = "rate_limited"
    LOGIN_REQUIRED = "login_required"
    IO_ERROR = "io_error"
    TOO_LARGE = "too_large"
    """Over the size limit of one mod (``max_mod_size``): Steam's ``file_size``, the files
    before packing, or a legacy file as it streams. Final: trying again changes nothing."""
    UNKNOWN = "unknown"

    @property
    def transient(self) -> bool:
        """Whether trying again soon may succeed (retried with backoff)."""
        return self in _TRANSIENT

    @property
    def missing(self) -> bool:
        """Whether this is Steam's own verdict that the mod does not exist for us (its
        details: missing, private, banned): the only failures answered "not found"."""
        return self in _MISSING


_TRANSIENT = frozenset(
    {
        FailureReason.TIMEOUT,
        FailureReason.NO_CONNECTION,
        FailureReason.RATE_LIMITED,
        FailureReason.IO_ERROR,
        FailureReason.UNKNOWN,
    }
)
_MISSING = frozenset({FailureReason.NOT_FOUND, FailureReason.BANNED})


def _move(source: ModState, expected: ModState, target: ModState) -> ModState:
    """``target`` if a mod in ``source`` may take this edge (``expected`` → ``target``)."""
    if source is not expected:
        raise IllegalTransition(source, target)
    return check_transition(source, target)


def _utc(timestamp: int) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC) if timestamp > 0 else None


@attrs.frozen(kw_only=True)
class Archive:
    """A stored ZIP archive of one version of a mod."""

    key: str
    size: int
    sha256: str


@attrs.frozen(kw_only=True)
class Mod:
    """A mod the server has, or is fetching."""

    id: int
    name: str = ""
    game_id: int | None = None
    state: ModState = ModState.QUEUED
    size: int = 0
    """The mod's size in bytes, unpacked."""
    source: str = "steam"
    downloads: int = 0
    short_description: str = ""
    description: str = ""
    date_creation: dt.datetime | None = None
    date_update: dt.datetime | None = None
    date_request: dt.datetime | None = None
    """When a client last asked for it."""
    date_checked: dt.datetime | None = None
    """When it was last compared with Steam (the update cooldown counts from here)."""
    date_queued: dt.datetime | None = None
    """When the current piece of work was requested (for /statistics/delay)."""
    time_updated: int | None = None
    """Steam's ``time_updated`` of the archived version."""
    hcontent_file: str | None = None
    """Steam's ``hcontent_file`` (depot manifest id) of the archived version."""
    archive: Archive | None = None
    """The servable archive, kept through an update until the new one replaces it."""
    attempts: int = 0
    """Failed attempts of the current piece of work (reset when it succeeds)."""
    not_before: dt.datetime | None = None
    """A queued mod is not claimed before this moment (retry backoff)."""
    lease_until: dt.datetime | None = None
    """A worker holds the mod until then; an expired lease means the worker died."""

    # --- transitions: each returns the evolved mod, checked by the state machine ----------

    @classmethod
    def requested(
        cls, mod_id: int, *, now: dt.datetime, not_before: dt.datetime | None = None
    ) -> Mod:
        """A request for a mod the server lacks: a new row, queued."""
        return cls(
            id=mod_id,
            state=ModState.QUEUED,
            date_queued=now,
            date_request=now,
            not_before=not_before,
        )

    def claimed(self, *, lease_until: dt.datetime) -> Mod:
        """A worker takes the mod: queued → downloading (or, for a mod whose worker died or
        a page left unparsed, the same state under a new lease)."""
        if self.state is ModState.QUEUED:
            state = check_transition(self.state, ModState.DOWNLOADING)
        elif self.state in (ModState.DOWNLOADING, ModState.AVAILABLE):
            state = self.state  # taken over: the lease changes hands, the state does not
        else:
            raise IllegalTransition(self.state, ModState.DOWNLOADING)
        return attrs.evolve(self, state=state, lease_until=lease_until)

    def archived(
        self, item: ItemDetails, archive: Archive, *, now: dt.datetime, lease_until: dt.datetime
    ) -> Mod:
        """Its archive is stored: downloading → available (the page still to parse), with
        what Steam's details say of the version archived."""
        return attrs.evolve(
            self,
            state=check_transition(self.state, ModState.AVAILABLE),
            name=item.title,
            game_id=item.app_id,
            size=item.file_size or archive.size,
            description=item.description,
            short_description=short_description(item.description),
            date_creation=_utc(item.time_created),
            date_update=_utc(item.time_updated),
            date_checked=now,
            time_updated=item.time_updated,
            hcontent_file=item.hcontent_file or None,
            archive=archive,
            attempts=0,
            not_before=None,
            lease_until=lease_until,
        )

    def enriched(self) -> Mod:
        """The page is parsed (or given up on): available → ready."""
        return attrs.evolve(
            self,
            state=check_transition(self.state, ModState.READY),
            lease_until=None,
            attempts=0,
        )

    def page_postponed(self, *, attempts: int, until: dt.datetime) -> Mod:
        """The page could not be had now: the mod stays available (servable), its page is
        taken again once ``until`` has passed."""
        if self.state is not ModState.AVAILABLE:
            raise IllegalTransition(self.state, ModState.AVAILABLE)
        return attrs.evolve(self, attempts=attempts, lease_until=until)

    def requeued(self, *, now: dt.datetime) -> Mod:
        """Steam has a newer version: ready → queued (the old archive stays servable)."""
        return attrs.evolve(
            self,
            state=_move(self.state, ModState.READY, ModState.QUEUED),
            date_queued=now,
            date_checked=now,
            attempts=0,
            not_before=None,
            lease_until=None,
        )

    def retried(self, *, attempts: int, not_before: dt.datetime) -> Mod:
        """A transient failure with attempts left: downloading → queued, with a backoff."""
        return attrs.evolve(
            self,
            state=_move(self.state, ModState.DOWNLOADING, ModState.QUEUED),
            attempts=attempts,
            not_before=not_before,
            lease_until=None,
        )

    def failed(self, *, now: dt.datetime) -> Mod | None:
        """The download ended for good (or an update turned out to be the version we
        have): a failed update goes back to serving its archive; a mod without one leaves
        the catalog (``None``)."""
        target = check_failure(self.state, has_archive=self.archive is not None)
        if target is None:
            return None
        return attrs.evolve(
            self, state=target, attempts=0, not_before=None, lease_until=None, date_checked=now
        )

    def checked(self, *, now: dt.datetime) -> Mod:
        """Compared with Steam and found current: the update cooldown starts again."""
        return attrs.evolve(self, date_checked=now)

    def damaged(self) -> Mod | None:
        """Its archive is gone: a downloadable mod leaves the catalog (``None``); an update in
        flight keeps going, without a previous archive to fall back on."""
        return None if self.state.downloadable else attrs.evolve(self, archive=None)


@attrs.frozen(kw_only=True)
class Game:
    id: int
    name: str = ""
    type: str = "game"
    logo: str = ""
    short_description: str = ""
    description: str = ""
    source: str = "steam"
    creation_date: dt.datetime | None = None
    """When the game was registered on this server."""
    mods_count: int = 0
    mods_downloads: int = 0


@attrs.frozen(kw_only=True)
class Genre:
    id: int
    name: str


@attrs.frozen(kw_only=True)
class Tag:
    id: int
    name: str


@attrs.frozen(kw_only=True)
class Resource:
    id: int
    owner_id: int
    type: ResourceType
    url: str
    date_event: dt.datetime


@attrs.frozen(kw_only=True)
class Failure:
    """The last failed attempt to fetch a mod, kept after its row is gone."""

    mod_id: int
    reason: FailureReason
    attempts: int
    date: dt.datetime
    detail: str = ""


# --- what Steam says (the Steam source port's values) -----------------------------


@attrs.frozen(kw_only=True)
class ItemExtras:
    """What the workshop page (or the keyed service API) adds to an item's details."""

    dependencies: tuple[int, ...] = ()
    screenshots: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str | None = None


@attrs.frozen(kw_only=True)
class ItemDetails:
    """One workshop item as Steam describes it."""

    id: int
    app_id: int
    title: str
    description: str = ""
    file_size: int = 0
    file_url: str = ""
    """Set for legacy items, which are fetched over HTTP instead of steamcmd."""
    hcontent_file: str = ""
    preview_url: str = ""
    time_created: int = 0
    time_updated: int = 0
    tags: tuple[str, ...] = ()
    banned: bool = False
    is_collection: bool = False
    extras: ItemExtras | None = None
    """Present when the details call already gave what the page would (the keyed API)."""

    def version(self) -> tuple[int, str]:
        return (self.time_updated, self.hcontent_file)

    @property
    def may_be_collection(self) -> bool:
        """Whether only ``GetCollectionDetails`` can tell if this is a collection: the keyed
        details say so (``file_type`` 2); the keyless ones do not, and an item with no
        content (no depot manifest, no legacy file) is the one kind that can be one."""
        return self.is_collection or (
            self.extras is None and not self.hcontent_file and not self.file_url
        )


@attrs.frozen(kw_only=True)
class KnownItem:
    """What Steam said of an item the catalog may not hold, kept for the update cooldown so
    that asking again costs Valve nothing: its name and size, whether it is a collection
    (and its items) or a mod (and its required items), or that Steam does not list it."""

    id: int
    found: bool = True
    """False: Steam's details do not list it (missing, private, banned)."""
    name: str = ""
    size: int = 0
    is_collection: bool = False
    children: tuple[int, ...] | None = None
    """A collection's items (nested collections expanded, in order); a mod's required items
    (the keyed details'); ``None``: not known (a mod's come with its page)."""
    checked: dt.datetime
    """When Steam said so."""


@attrs.frozen(kw_only=True)
class AppDetails:
    """A game (app) as the store describes it."""

    id: int
    name: str
    type: str = "game"
    header_image: str = ""
    short_description: str = ""
    description: str = ""
    genres: tuple[tuple[int, str], ...] = ()


@attrs.frozen(kw_only=True)
class DownloadItem:
    """One item to fetch into a folder."""

    app_id: int
    mod_id: int
    file_url: str = ""


@attrs.frozen(kw_only=True)
class DownloadOutcome:
    """The result for one item of a download batch: a folder, or a reason."""

    mod_id: int
    path: Path | None = None
    reason: FailureReason | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.path is not None
