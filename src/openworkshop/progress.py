"""Live progress of a mod on its way to the catalog: what ``/info/mod`` and ``/progress`` show.

A mod's phase follows from its state, and while it downloads, from what its worker last wrote
on the ``ProgressBoard`` (a :class:`Progress` record, kept in storage so that a worker in
another process is seen too):

- ``queued`` (condition 3): waiting, with its ``position`` in the queue (1: next);
- ``downloading`` (condition 2): steamcmd fetching it: ``done`` bytes on disk of ``total``,
  the size Steam's details give;
- ``packing`` (condition 2): its files packed into the archive: ``done`` bytes read of
  ``total``, their unpacked size;
- ``parsing`` (condition 1): the archive can be downloaded; its page is being read;
- ``ready`` (condition 0), ``failed`` (gone, with the failure's ``reason``) and ``missing``
  (the server neither has it nor is fetching it) end the stream.

``eta`` is the seconds the rest of the current phase takes at the rate seen since it began,
``None`` until the rate is known.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from openworkshop.domain import Failure, Mod
from openworkshop.states import ModState

__all__ = ["ModProgress", "Phase", "Progress", "mod_progress"]


class Phase(enum.StrEnum):
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    PACKING = "packing"
    PARSING = "parsing"
    READY = "ready"
    FAILED = "failed"
    MISSING = "missing"

    @property
    def final(self) -> bool:
        """Whether nothing more will happen to the mod (a stream of it ends)."""
        return self in (Phase.READY, Phase.FAILED, Phase.MISSING)


WORKING: frozenset[Phase] = frozenset({Phase.DOWNLOADING, Phase.PACKING})
"""The phases a worker writes on the board."""


@attrs.frozen(kw_only=True)
class Progress:
    """What a worker last wrote of a mod it works on (``ProgressBoard``)."""

    mod_id: int
    phase: Phase = attrs.field()
    done: int = 0
    """Bytes downloaded (``downloading``) or packed (``packing``)."""
    total: int | None = None
    """Bytes the phase comes to, when known."""
    started: dt.datetime
    """When the phase began (its rate is measured from then)."""
    updated: dt.datetime

    @phase.validator
    def _working(self, attribute: object, value: Phase) -> None:
        if value not in WORKING:
            raise ValueError(f"a worker writes only {sorted(WORKING)}, not {value}")

    def eta(self) -> float | None:
        """Seconds the rest of the phase takes at the rate seen since it began."""
        if self.total is None or self.done <= 0:
            return None
        elapsed = (self.updated - self.started).total_seconds()
        if elapsed <= 0:
            return None
        left = max(0, self.total - self.done)
        return round(left * elapsed / self.done, 1)


@attrs.frozen(kw_only=True)
class ModProgress:
    """A mod's progress as the API shows it."""

    mod_id: int
    phase: Phase
    condition: ModState | None = None
    position: int | None = None
    done: int | None = None
    total: int | None = None
    eta: float | None = None
    reason: str | None = None
    """Why it failed (``failed``): a failure reason of ``/info/mod``."""


def mod_progress(
    mod_id: int,
    mod: Mod | None,
    *,
    record: Progress | None = None,
    position: int | None = None,
    failure: Failure | None = None,
) -> ModProgress:
    """The progress of ``mod_id`` from its row (``None``: no row), its board record, its
    place in the queue and its last failure."""
    if mod is None:
        if failure is not None:
            return ModProgress(mod_id=mod_id, phase=Phase.FAILED, reason=failure.reason.value)
        return ModProgress(mod_id=mod_id, phase=Phase.MISSING)
    state = mod.state
    if state is ModState.READY:
        return ModProgress(mod_id=mod_id, phase=Phase.READY, condition=state)
    if state is ModState.AVAILABLE:
        return ModProgress(mod_id=mod_id, phase=Phase.PARSING, condition=state)
    if state is ModState.QUEUED:
        return ModProgress(
            mod_id=mod_id, phase=Phase.QUEUED, condition=state, position=position, done=0
        )
    if record is None:  # claimed; its details are being asked for
        return ModProgress(mod_id=mod_id, phase=Phase.DOWNLOADING, condition=state, done=0)
    return ModProgress(
        mod_id=mod_id,
        phase=record.phase,
        condition=state,
        done=record.done if record.total is None else min(record.done, record.total),
        total=record.total,
        eta=record.eta(),
    )
