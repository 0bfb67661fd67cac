"""The Steam adapter's settings: which Steam to talk to, the steamcmd it runs, and the account
and key it may use (the ``OPENWORKSHOP_STEAM*`` names, and the legacy download hosts).

:meth:`SteamWebSource.from_settings <openworkshop_steam.SteamWebSource.from_settings>` builds
a source from them.
"""

from __future__ import annotations

import attrs

from openworkshop.settings import duration, setting

__all__ = ["SteamSettings"]


@attrs.frozen(kw_only=True)
class SteamSettings:
    """Steam's URLs, steamcmd, the optional Web API key and account."""

    steam_api_url: str = setting(
        env="OPENWORKSHOP_STEAM_API_URL",
        default="https://api.steampowered.com",
        help="Base URL of Steam's Web API.",
    )
    steam_community_url: str = setting(
        env="OPENWORKSHOP_STEAM_COMMUNITY_URL",
        default="https://steamcommunity.com",
        help="Base URL of the Steam Community (workshop pages).",
    )
    steam_store_url: str = setting(
        env="OPENWORKSHOP_STEAM_STORE_URL",
        default="https://store.steampowered.com",
        help="Base URL of the Steam store (appdetails).",
    )
    steamcmd: str = setting(
        env="OPENWORKSHOP_STEAMCMD",
        default="steamcmd",
        help="Path or name of the steamcmd executable.",
    )
    steam_api_key: str | None = setting(
        env="OPENWORKSHOP_STEAM_API_KEY",
        default=None,
        secret=True,
        help="Steam Web API key (optional): details, required items and screenshots in one "
        "batched call, so no workshop page is fetched.",
    )
    steam_username: str | None = setting(
        env="OPENWORKSHOP_STEAM_USERNAME",
        default=None,
        help="Steam account for games that refuse anonymous downloads (optional).",
    )
    steam_password: str | None = setting(
        env="OPENWORKSHOP_STEAM_PASSWORD",
        default=None,
        secret=True,
        help="Password of that account; passed to steamcmd in a 0600 runscript, never on "
        "a command line.",
    )
    steamcmd_timeout: float = duration(
        env="OPENWORKSHOP_STEAMCMD_TIMEOUT",
        default=1800.0,
        help="Seconds one steamcmd session may run before it is killed.",
    )
    legacy_hosts: str = setting(
        env="OPENWORKSHOP_LEGACY_HOSTS",
        default="steamusercontent.com,steamusercontent-a.akamaihd.net",
        help="Comma-separated hosts, each with its subdomains, a legacy item's `file_url` may "
        "be downloaded from (Valve's UGC hosts: `cloud-N.steamusercontent.com`, "
        "`steamusercontent-a.akamaihd.net`); the hosts of the three Steam URLs above are "
        "allowed too. Redirects are followed only to allowed hosts.",
    )
