"""The mod state machine: every pair of states, and failure from every state."""

from __future__ import annotations

import itertools

import pytest

from openworkshop.errors import IllegalTransition
from openworkshop.states import ModState, check_failure, check_transition

LEGAL = {
    (ModState.QUEUED, ModState.DOWNLOADING),
    (ModState.DOWNLOADING, ModState.AVAILABLE),
    (ModState.AVAILABLE, ModState.READY),
    (ModState.DOWNLOADING, ModState.QUEUED),
    (ModState.READY, ModState.QUEUED),
}


def test_numbers_are_the_seeds() -> None:
    """0 loaded, 1 downloadable but not fully validated, 2 downloading, 3 queued."""
    assert [
        int(s) for s in (ModState.READY, ModState.AVAILABLE, ModState.DOWNLOADING, ModState.QUEUED)
    ] == [0, 1, 2, 3]


@pytest.mark.parametrize(("source", "target"), list(itertools.product(ModState, ModState)))
def test_every_pair(source: ModState, target: ModState) -> None:
    """Exactly the pipeline's edges are legal; every other pair raises IllegalTransition."""
    if (source, target) in LEGAL:
        assert check_transition(source, target) is target
    else:
        with pytest.raises(IllegalTransition) as info:
            check_transition(source, target)
        assert info.value.source is source and info.value.target is target


@pytest.mark.parametrize("source", list(ModState))
@pytest.mark.parametrize("has_archive", [False, True])
def test_failure_from_every_state(source: ModState, has_archive: bool) -> None:
    """Only queued or downloading mods can fail; a failed update keeps serving its archive."""
    if source in (ModState.QUEUED, ModState.DOWNLOADING):
        expected = ModState.READY if has_archive else None
        assert check_failure(source, has_archive=has_archive) is expected
    else:
        with pytest.raises(IllegalTransition):
            check_failure(source, has_archive=has_archive)


def test_downloadable_states() -> None:
    """A mod can be downloaded in states 1 and 0 only."""
    assert {s for s in ModState if s.downloadable} == {ModState.READY, ModState.AVAILABLE}
