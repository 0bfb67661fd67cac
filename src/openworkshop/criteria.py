"""What a listing asks of the catalog: plain values of the core, with no trace of HTTP.

The API's parameter declarations (``query.py``) read a request into these; a launcher that
embeds the core builds them directly. Storage receives only these values, never a parsed
request: view flags (which fields a row carries) stay with the caller.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

import attrs

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "GameCriteria",
    "GameSort",
    "ModCriteria",
    "ModSort",
    "Paging",
]

DEFAULT_PAGE_SIZE: Final = 10


class ModSort(str, Enum):
    NAME = "NAME"
    SIZE = "SIZE"
    DATE_CREATION = "DATE_CREATION"
    DATE_UPDATE = "DATE_UPDATE"
    DATE_REQUEST = "DATE_REQUEST"
    SOURCE = "SOURCE"
    DOWNLOADS = "DOWNLOADS"
    RELEVANCE = "RELEVANCE"
    """Our addition (the default when ``q`` is given): the mods with every word of ``q`` in
    their name first, then the others; the most downloaded first in each."""


class GameSort(str, Enum):
    NAME = "NAME"
    TYPE = "TYPE"
    CREATION_DATE = "CREATION_DATE"
    MODS_DOWNLOADS = "MODS_DOWNLOADS"
    MODS_COUNT = "MODS_COUNT"
    SOURCE = "SOURCE"


@attrs.frozen(kw_only=True)
class Paging:
    """Which page of a listing: ``page_size`` rows from row ``page * page_size``."""

    page_size: int = DEFAULT_PAGE_SIZE
    page: int = 0

    @property
    def offset(self) -> int:
        return self.page_size * self.page


@attrs.frozen(kw_only=True)
class ModCriteria:
    """Which downloadable mods (states 1 and 0) to list, in which order."""

    page: Paging = Paging()
    sort: ModSort = ModSort.DOWNLOADS
    descending: bool = False
    tags: tuple[int, ...] = ()
    """Mods carrying every one of these tags."""
    games: tuple[int, ...] = ()
    """Mods of any of these games."""
    allowed_ids: tuple[int, ...] = ()
    """Only these mods."""
    exclude_dependent: bool = False
    """Leave out mods that depend on other mods."""
    primary_sources: tuple[str, ...] = ()
    name: str | None = None
    """Substring of the name, case-insensitive."""
    q: str | None = None
    """Ranked full-text search over name, descriptions and tags."""


@attrs.frozen(kw_only=True)
class GameCriteria:
    """Which games to list, in which order."""

    page: Paging = Paging()
    sort: GameSort = GameSort.MODS_DOWNLOADS
    descending: bool = False
    type_app: tuple[str, ...] = ()
    genres: tuple[int, ...] = ()
    """Games of every one of these genres."""
    primary_sources: tuple[str, ...] = ()
    name: str | None = None
    """Substring of the name, case-insensitive."""
