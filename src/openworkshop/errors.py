"""Every error the core raises, under one root.

An error a client can see carries the original Open Workshop API's ``message`` and ``error_id``; an adapter maps
the *type* to its transport (the HTTP adapter: to a status code) and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

__all__ = [
    "AlreadyProcessing",
    "AlreadyUpToDate",
    "ArchiveError",
    "CheckedRecently",
    "ConflictingRequest",
    "CursorExpired",
    "DetailedError",
    "EndHourOutOfRange",
    "FilterTooComplex",
    "IllegalTransition",
    "InvalidParameter",
    "ListSizeOutOfRange",
    "ModDamaged",
    "ModNotFound",
    "ModNotOnServer",
    "ModNotOnSteam",
    "ModStillLoading",
    "ModTooLarge",
    "NotReady",
    "NotUpdatable",
    "PageSizeOutOfRange",
    "ParameterProblem",
    "PlanTooLarge",
    "StartHourOutOfRange",
    "SteamConfigurationError",
    "StorageCorrupt",
    "StorageError",
    "StorageFull",
    "StorageUnavailable",
    "TooManyMods",
    "UpstreamError",
    "UpstreamRateLimited",
    "UpstreamUnavailable",
    "WorkshopError",
]


class WorkshopError(Exception):
    """Root of every error raised by Open Workshop."""


class ApiError(WorkshopError):
    """An error a client sees, with the original's message and error_id."""

    message: ClassVar[str] = "internal error"
    error_id: ClassVar[int] = 0
    when: ClassVar[str] = ""
    """When a client gets it, in the API's terms: docs/http.md's Errors table is generated
    from it (with ``message``, ``error_id`` and the adapter's status)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message is not None:
            self.message = message  # type: ignore[misc]

    def body(self) -> dict[str, object]:
        """The JSON body the original API defines for this error."""
        return {"message": self.message, "error_id": self.error_id}


class DetailedError(ApiError):
    """An error whose body names what was wrong, one entry per offending thing, in
    ``details`` (left out of :meth:`body` when empty; the HTTP adapter then adds ``[]``)."""

    def __init__(self, message: str | None = None, *, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.details = list(details)

    def body(self) -> dict[str, object]:
        body = super().body()
        if self.details:
            body["details"] = self.details
        return body


# --- /download/steam/{id}, /download/{id}, /update/steam/{id} ---------------------------


class NotReady(ApiError):
    """The server cannot download at all (no steamcmd), and does not have the mod."""

    message = "the server is not ready to process requests"
    error_id = 1
    when = "no steamcmd, and the server does not have the mod (the original's 103)"


class ModNotFound(ApiError, LookupError):
    """Steam's details say the mod is missing, private or banned (within the failure
    cool-off), and the server does not have it. No other failure is "not found"."""

    message = "this mod was not found"
    error_id = 2
    when = "`/download/steam`: Steam's details said, within the last update cooldown, that it is missing, private or banned; no other failure. Adds `reason`: `not_found` or `banned`"

    def __init__(self, reason: str | None = None) -> None:
        super().__init__()
        self.reason = reason

    def body(self) -> dict[str, object]:
        body = super().body()
        if self.reason:
            body["reason"] = self.reason
        return body


class AlreadyProcessing(ApiError):
    """The mod is already queued or downloading.

    ``reason`` names the last failure of a mod that waits out its failure cool-off."""

    message = "your request is already being processed"
    error_id = 3
    when = "`/download/steam`: the mod is queued or downloading (the original's 102). Adds `unsuccessful_attempts` and `reason` while it waits out a failure's cool-off"

    def __init__(self, reason: str | None = None) -> None:
        super().__init__()
        self.reason = reason

    def body(self) -> dict[str, object]:
        body = super().body()
        if self.reason:
            body["unsuccessful_attempts"] = True
            body["reason"] = self.reason
        return body


class ModNotOnServer(ApiError, LookupError):
    """``/download/{id}`` of a mod the server does not have."""

    message = "the mod is not on the server"
    error_id = 1
    when = "`/download`: the server does not have the mod"


class ModDamaged(ApiError):
    """The mod's row existed but its archive was missing; the row was removed."""

    message = "the mod is damaged"
    error_id = 2
    when = "`/download`: its archive was missing; the record is removed"


class ModStillLoading(ApiError):
    """``/download/{id}`` of a mod still in state 3 or 2 with no earlier version."""

    message = "this mod is still loading"
    error_id = 3
    when = "`/download`: state 3 or 2, no earlier version"


class NotUpdatable(ApiError, LookupError):
    """``/update/steam/{id}`` of a mod that is not in state 0 here."""

    message = "mod not found on locale"
    error_id = 1
    when = "`/update/steam`: not in condition 0 here"


class CheckedRecently(ApiError):
    """The update cooldown has not passed since the last check against Steam."""

    message = "check for relevance was made earlier"
    error_id = 2
    when = "`/update/steam` within the update cooldown (3 h)"

    def __init__(self, retry_after: float = 0.0) -> None:
        super().__init__()
        self.retry_after = retry_after


class ModNotOnSteam(ApiError, LookupError):
    """Steam no longer knows a mod the server has."""

    message = "mod not found on steam"
    error_id = 3
    when = "`/update/steam`: Steam's details say it is missing, private or banned"


class AlreadyUpToDate(ApiError):
    """The mod already has Steam's latest version."""

    message = "mod already update"
    error_id = 4
    when = "`/update/steam`: Steam has nothing newer"


# --- /plan -----------------------------------------------------------------------------


class PlanTooLarge(DetailedError):
    """An install plan would hold more mods than the bound (500): asked for, or pulled in by
    required items and collections."""

    message = "an install plan holds at most 500 mods"
    error_id = 413
    when = "`/plan`: more than 500 mods asked for, or in the closure under required items and collections"


# --- query validation ---------------------------------------------------------------


class ParameterProblem(DetailedError, ValueError):
    """A request parameter is malformed or out of range."""


class PageSizeOutOfRange(ParameterProblem):
    """``page_size`` is outside 1..50."""

    message = "incorrect page size"
    error_id = 1
    when = "`page_size` outside 1–50"


class FilterTooComplex(ParameterProblem):
    """The filters together name more elements than the endpoint's limit."""

    error_id = 2
    when = "each list counted as sent, repeats included"

    def __init__(self, limit: int, *, details: Sequence[str] = ()) -> None:
        super().__init__(
            f"the maximum complexity of filters is {limit} elements in sum", details=details
        )
        self.limit = limit


class ListSizeOutOfRange(ParameterProblem):
    """``/condition/mod/{ids}`` with fewer than 1 or more than 50 ids."""

    message = "the size of the array is not correct"
    error_id = 1
    when = "`/condition/mod`, `/list/resources_mods`: not 1–50 ids as sent"


class StartHourOutOfRange(ParameterProblem):
    message = "start_hour exits 24 hour format"
    error_id = 1
    when = "`/statistics/hour`: `start_hour` outside 0–23"


class EndHourOutOfRange(ParameterProblem):
    message = "end_hour exits 24 hour format"
    error_id = 2
    when = "`/statistics/hour`: `end_hour` outside 0–23"


class ConflictingRequest(ParameterProblem):
    """A range whose start lies after its end."""

    message = "conflicting request"
    error_id = 3
    when = "`/statistics/hour`, `/statistics/day`: start after end"


class InvalidParameter(ParameterProblem):
    """A value that cannot be read (not a number, not a list, unknown sort...)."""

    message = "invalid parameters"
    error_id = 4
    when = "a malformed value: not a number, id or list (a nested list too), unknown sort, bad date or boolean, a NUL character, unknown parameter"


class TooManyMods(ParameterProblem):
    """``POST /check/mods`` with more mods than one check takes."""

    message = "too many mods in one check"
    error_id = 413
    when = "`POST /check/mods`: more than 1,000 mods; `details` says how many were sent"


# --- the events feed --------------------------------------------------------------------


class CursorExpired(DetailedError):
    """A cursor of the events feed that the log can no longer continue from."""

    message = "this cursor is older than the events the server keeps: resync from /list/mods/"
    error_id = 410
    when = "`/events`: `after` points before the oldest event kept (the retention window, `OPENWORKSHOP_EVENT_RETENTION`) or past the newest (another server's log); read the catalog again from `/list/mods/`, then follow the feed from the `next` of a request without `after`"


# --- internal errors (never shown to a client as such) ------------------------------


class IllegalTransition(WorkshopError, ValueError):
    """A mod was asked to move between two states that have no edge between them."""

    def __init__(self, source: object, target: object) -> None:
        super().__init__(f"illegal mod state transition {source!r} -> {target!r}")
        self.source = source
        self.target = target


class UpstreamError(WorkshopError):
    """Steam could not answer; ``transient`` says whether trying again may help."""

    transient: ClassVar[bool] = True


class UpstreamUnavailable(UpstreamError, ConnectionError):
    """Timeout, refused or reset connection, 5xx, or an answer that cannot be read."""


class UpstreamRateLimited(UpstreamError):
    """Steam said to slow down (HTTP 429, ``Rate Limit Exceeded``)."""

    def __init__(self, message: str = "rate limited by Steam", retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class SteamConfigurationError(UpstreamError):
    """The configuration is wrong (e.g. Steam rejected the Web API key); retrying cannot help."""

    transient = False


class StorageError(WorkshopError):
    """The storage backend failed; ``transient`` says whether trying again later may help.

    A plain StorageError is a write the storage refused (a value it cannot store, a broken
    constraint): trying the same write again cannot help.
    """

    transient: ClassVar[bool] = False


class StorageUnavailable(StorageError):
    """The storage cannot answer now (locked, busy, an I/O error): try again later."""

    transient = True


class StorageFull(StorageUnavailable):
    """The disk (or the database's size limit) is full: writes fail until space returns."""


class StorageCorrupt(StorageError):
    """The database file is damaged or is not a database: an operator must look."""


class ArchiveError(WorkshopError, OSError):
    """An archive could not be written or read."""


class ModTooLarge(ArchiveError):
    """A mod's files come to more than the limit (``OPENWORKSHOP_MAX_MOD_SIZE``) unpacked."""
