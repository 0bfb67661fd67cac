"""The fake Steam that ships with the Steam adapter: an HTTP server and a steamcmd.

- :class:`FakeSteam`: the Web API, store and community hosts on one loopback server,
  serving a :class:`~openworkshop.testing.catalog.SteamCatalog`, with call counters and
  fault injection.
- :func:`install_fake_steamcmd`: an executable fake ``steamcmd`` (settings: the ``ENV_*``
  variables of :mod:`openworkshop_steam.fake.steamcmd`); :func:`read_sessions` reads its
  session log.
- :func:`start_fake_steam` / :func:`run_fake_steam` / :func:`main`: both at once, in process
  or as ``openworkshop fake-steam``.
"""

from openworkshop_steam.fake.cli import RunningFakeSteam, main, run_fake_steam, start_fake_steam
from openworkshop_steam.fake.server import ENDPOINTS, FakeSteam, Fault, RecordedRequest
from openworkshop_steam.fake.steamcmd import (
    ENV_CATALOG,
    ENV_GLUED,
    ENV_GUARD,
    ENV_HANG,
    ENV_HOME,
    ENV_ITEM_DELAY,
    ENV_LOGIN_DELAY,
    ENV_PASSWORD,
    ENV_RATE_LIMIT,
    ENV_SELF_UPDATE,
    ENV_SESSION_LOG,
    install_fake_steamcmd,
    read_sessions,
)

__all__ = [
    "ENDPOINTS",
    "ENV_CATALOG",
    "ENV_GLUED",
    "ENV_GUARD",
    "ENV_HANG",
    "ENV_HOME",
    "ENV_ITEM_DELAY",
    "ENV_LOGIN_DELAY",
    "ENV_PASSWORD",
    "ENV_RATE_LIMIT",
    "ENV_SELF_UPDATE",
    "ENV_SESSION_LOG",
    "FakeSteam",
    "Fault",
    "RecordedRequest",
    "RunningFakeSteam",
    "install_fake_steamcmd",
    "main",
    "read_sessions",
    "run_fake_steam",
    "start_fake_steam",
]
