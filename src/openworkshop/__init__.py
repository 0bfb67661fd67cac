"""Open Workshop: a Steam Workshop mirror as a library.

The core is framework-agnostic: domain values, the mod state machine, the ports (Steam
source, storage, archive store, clock), the query objects and the ``Workshop`` service.
Adapters (HTTP, SQLite, Steam) live in their own packages; ``openworkshop.testing`` has
in-memory implementations of every port.
"""

from openworkshop.archive import FileArchiveStore, pack_folder
from openworkshop.clock import SystemClock
from openworkshop.criteria import GameCriteria, GameSort, ModCriteria, ModSort, Paging
from openworkshop.domain import (
    AppDetails,
    Archive,
    DownloadItem,
    DownloadOutcome,
    Failure,
    FailureReason,
    Game,
    Genre,
    ItemDetails,
    ItemExtras,
    Mod,
    Resource,
    ResourceType,
    Tag,
)
from openworkshop.errors import ApiError, WorkshopError
from openworkshop.ports import ArchiveStore, Clock, Page, SteamSource, Storage
from openworkshop.service import ArchiveHandle, ModInfo, Queued, Workshop
from openworkshop.settings import Settings
from openworkshop.states import ModState

__all__ = [
    "ApiError",
    "AppDetails",
    "Archive",
    "ArchiveHandle",
    "ArchiveStore",
    "Clock",
    "DownloadItem",
    "DownloadOutcome",
    "Failure",
    "FailureReason",
    "FileArchiveStore",
    "Game",
    "GameCriteria",
    "GameSort",
    "Genre",
    "ItemDetails",
    "ItemExtras",
    "Mod",
    "ModCriteria",
    "ModInfo",
    "ModSort",
    "ModState",
    "Page",
    "Paging",
    "Queued",
    "Resource",
    "ResourceType",
    "Settings",
    "SteamSource",
    "Storage",
    "SystemClock",
    "Tag",
    "Workshop",
    "WorkshopError",
    "pack_folder",
]
