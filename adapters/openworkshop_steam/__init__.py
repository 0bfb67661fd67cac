"""The Steam adapter: Steam's Web API, store, workshop pages and steamcmd.

:class:`SteamWebSource` implements the core's :class:`~openworkshop.ports.SteamSource`
(aiohttp, parsel, steamcmd). Its twin, the fake Steam, is in :mod:`openworkshop_steam.fake`.
The parsers are public too, for launchers that read Steam's answers themselves.
"""

from openworkshop_steam.page import WorkshopPage, parse_workshop_page
from openworkshop_steam.settings import SteamSettings
from openworkshop_steam.source import DEFAULT_USER_AGENT, SteamWebSource
from openworkshop_steam.steamcmd import SteamcmdOutput, failure_reason, parse_output
from openworkshop_steam.store import parse_appdetails
from openworkshop_steam.webapi import (
    parse_collection_details,
    parse_published_file_details,
    parse_service_details,
)

__all__ = [
    "DEFAULT_USER_AGENT",
    "SteamSettings",
    "SteamWebSource",
    "SteamcmdOutput",
    "WorkshopPage",
    "failure_reason",
    "parse_appdetails",
    "parse_collection_details",
    "parse_output",
    "parse_published_file_details",
    "parse_service_details",
    "parse_workshop_page",
]
