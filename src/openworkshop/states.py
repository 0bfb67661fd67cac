"""The mod state machine.

The numbers are the original Open Workshop API's: a request queues a mod (3), a worker takes it (2), its archive
is stored and it can be downloaded while its page is parsed (1), then it is done (0).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from openworkshop.errors import IllegalTransition

__all__ = ["FAILABLE", "TRANSITIONS", "ModState", "check_failure", "check_transition"]


class ModState(IntEnum):
    """A mod's condition as the API reports it."""

    READY = 0
    AVAILABLE = 1
    DOWNLOADING = 2
    QUEUED = 3

    @property
    def downloadable(self) -> bool:
        """Whether a mod in this state has an archive of its current version."""
        return self in (ModState.READY, ModState.AVAILABLE)


TRANSITIONS: Final[frozenset[tuple[ModState, ModState]]] = frozenset(
    {
        # a worker claims a queued mod
        (ModState.QUEUED, ModState.DOWNLOADING),
        # its archive is stored: downloadable while the page is parsed
        (ModState.DOWNLOADING, ModState.AVAILABLE),
        # the page is parsed
        (ModState.AVAILABLE, ModState.READY),
        # a transient failure, or a worker that died: back into the queue
        (ModState.DOWNLOADING, ModState.QUEUED),
        # an update re-enters the pipeline; the old archive stays servable meanwhile
        (ModState.READY, ModState.QUEUED),
    }
)
"""Every legal (source, target) pair. Failure is not a state: see :func:`check_failure`."""

FAILABLE: Final[frozenset[ModState]] = frozenset({ModState.QUEUED, ModState.DOWNLOADING})
"""States from which a download can fail."""


def check_transition(source: ModState, target: ModState) -> ModState:
    """Return ``target`` if a mod in ``source`` may move there, else raise IllegalTransition."""
    if (source, target) not in TRANSITIONS:
        raise IllegalTransition(source, target)
    return target


def check_failure(source: ModState, *, has_archive: bool) -> ModState | None:
    """Where a mod goes when its download fails for good.

    A mod with an archive of an earlier version (a failed update) goes back to READY and keeps
    serving it; a mod without one leaves the catalog (``None``): no row may claim a file.
    """
    if source not in FAILABLE:
        raise IllegalTransition(source, "failed")
    return ModState.READY if has_archive else None
