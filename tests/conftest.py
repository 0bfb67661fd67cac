"""Fixtures shared by every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
"""The project's shared folder (Steam facts and fixtures), beside the checkout."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def shared_dir() -> Path:
    assert SHARED.is_dir(), f"the shared folder is missing at {SHARED}"
    return SHARED
