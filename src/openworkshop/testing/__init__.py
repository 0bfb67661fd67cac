"""In-memory implementations of every port, for tests and for launchers that embed the library.

They are product, not scaffolding: same behaviour as the real adapters, in one process.
"""

from openworkshop.testing.catalog import CatalogApp, CatalogItem, SteamCatalog
from openworkshop.testing.fakes import FakeClock, FakeSteamSource, Hold, MemoryArchiveStore
from openworkshop.testing.sample import sample_catalog
from openworkshop.testing.storage import MemoryStorage

__all__ = [
    "CatalogApp",
    "CatalogItem",
    "FakeClock",
    "FakeSteamSource",
    "Hold",
    "MemoryArchiveStore",
    "MemoryStorage",
    "SteamCatalog",
    "sample_catalog",
]
