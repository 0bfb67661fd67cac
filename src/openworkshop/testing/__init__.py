"""In-memory implementations of every port, for tests and for launchers that embed the library.

They are product, not scaffolding: same behaviour as the real adapters, in one process.
"""

from openworkshop.testing.catalog import CatalogApp, CatalogItem, SteamCatalog
from openworkshop.testing.sample import sample_catalog

__all__ = ["CatalogApp", "CatalogItem", "SteamCatalog", "sample_catalog"]
