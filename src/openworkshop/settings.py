"""Every setting, with its default and help, read from the environment in this one place.

Settings are data (as in datasette): ``SETTINGS`` lists each one, and ``docs/settings.md`` is
checked against it by a test, so none goes undocumented.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from openworkshop.errors import WorkshopError

__all__ = ["DURATIONS", "OTHER_VARIABLES", "SETTINGS", "Setting", "Settings", "SettingsError"]


class SettingsError(WorkshopError, ValueError):
    """A setting has a value that cannot be used."""


@attrs.frozen(kw_only=True)
class Setting:
    name: str
    env: str
    default: Any
    help: str


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(
        name="host", env="OPENWORKSHOP_HOST", default="127.0.0.1", help="Address to listen on."
    ),
    Setting(name="port", env="OPENWORKSHOP_PORT", default=8000, help="Port to listen on."),
    Setting(
        name="data_dir",
        env="OPENWORKSHOP_DATA_DIR",
        default=Path("openworkshop-data"),
        help="Folder for the SQLite database, the archives and steamcmd's downloads.",
    ),
    Setting(
        name="steam_api_url",
        env="OPENWORKSHOP_STEAM_API_URL",
        default="https://api.steampowered.com",
        help="Base URL of Steam's Web API.",
    ),
    Setting(
        name="steam_community_url",
        env="OPENWORKSHOP_STEAM_COMMUNITY_URL",
        default="https://steamcommunity.com",
        help="Base URL of the Steam Community (workshop pages).",
    ),
    Setting(
        name="steam_store_url",
        env="OPENWORKSHOP_STEAM_STORE_URL",
        default="https://store.steampowered.com",
        help="Base URL of the Steam store (appdetails).",
    ),
    Setting(
        name="steamcmd",
        env="OPENWORKSHOP_STEAMCMD",
        default="steamcmd",
        help="Path or name of the steamcmd executable.",
    ),
    Setting(
        name="steam_api_key",
        env="OPENWORKSHOP_STEAM_API_KEY",
        default=None,
        help="Steam Web API key (optional): details, required items and screenshots in one "
        "batched call, so no workshop page is fetched.",
    ),
    Setting(
        name="steam_username",
        env="OPENWORKSHOP_STEAM_USERNAME",
        default=None,
        help="Steam account for games that refuse anonymous downloads (optional).",
    ),
    Setting(
        name="steam_password",
        env="OPENWORKSHOP_STEAM_PASSWORD",
        default=None,
        help="Password of that account; passed to steamcmd in a 0600 runscript, never on "
        "a command line.",
    ),
    Setting(
        name="update_cooldown",
        env="OPENWORKSHOP_UPDATE_COOLDOWN",
        default=3 * 3600.0,
        help="Seconds between two checks of one mod against Steam.",
    ),
    Setting(
        name="gather_window",
        env="OPENWORKSHOP_GATHER_WINDOW",
        default=0.25,
        help="Seconds a worker waits for more requests to batch together.",
    ),
    Setting(
        name="workers",
        env="OPENWORKSHOP_WORKERS",
        default=2,
        help="Download batches worked on at once in one process.",
    ),
    Setting(
        name="max_attempts",
        env="OPENWORKSHOP_MAX_ATTEMPTS",
        default=4,
        help="Attempts of one mod before a transient failure counts as final.",
    ),
    Setting(
        name="retry_base",
        env="OPENWORKSHOP_RETRY_BASE",
        default=5.0,
        help="First retry delay in seconds; doubles each attempt, with jitter.",
    ),
    Setting(
        name="rate_limit_pause",
        env="OPENWORKSHOP_RATE_LIMIT_PAUSE",
        default=300.0,
        help="Seconds all upstream work pauses after Steam signals rate limiting.",
    ),
    Setting(
        name="upstream_per_minute",
        env="OPENWORKSHOP_UPSTREAM_PER_MINUTE",
        default=60,
        help="Ceiling on calls to Valve per minute, per process.",
    ),
    Setting(
        name="steamcmd_timeout",
        env="OPENWORKSHOP_STEAMCMD_TIMEOUT",
        default=1800.0,
        help="Seconds one steamcmd session may run before it is killed.",
    ),
    Setting(
        name="max_mod_size",
        env="OPENWORKSHOP_MAX_MOD_SIZE",
        default=20 << 30,
        help="Bytes one mod may come to unpacked (20 GiB); a larger one fails for good, "
        "so a zip bomb or a runaway legacy download cannot fill the disk.",
    ),
    Setting(
        name="legacy_hosts",
        env="OPENWORKSHOP_LEGACY_HOSTS",
        default="steamusercontent.com,steamusercontent-a.akamaihd.net",
        help="Comma-separated hosts (each with its subdomains) a legacy item's `file_url` "
        "may be downloaded from, besides the configured Steam URLs' hosts.",
    ),
    Setting(
        name="lease",
        env="OPENWORKSHOP_LEASE",
        default=30.0,
        help="Seconds a worker holds a mod before another process may take it over.",
    ),
    Setting(
        name="client_rate",
        env="OPENWORKSHOP_CLIENT_RATE",
        default=30,
        help="Requests per minute one client may make to endpoints that can call Valve.",
    ),
    Setting(
        name="accel_redirect",
        env="OPENWORKSHOP_ACCEL_REDIRECT",
        default=None,
        help="URL prefix for X-Accel-Redirect (behind nginx); unset sends files directly.",
    ),
    Setting(
        name="trusted_proxies",
        env="OPENWORKSHOP_TRUSTED_PROXIES",
        default="none",
        help="Comma-separated addresses of reverse proxies whose X-Forwarded-For names the "
        "client (for the per-client rate limit); `none` (the default) trusts no proxy, so "
        "no client can pick its address with the header.",
    ),
)

OTHER_VARIABLES: Final = ("OPENWORKSHOP_SERVER", "OPENWORKSHOP_FAKE_")
"""``OPENWORKSHOP_*`` names read elsewhere: the command's ``--server`` default, and the
knobs of the shipped fake steamcmd (a prefix). Any other unknown name is refused."""

DURATIONS: Final = frozenset(
    {
        "update_cooldown",
        "gather_window",
        "retry_base",
        "rate_limit_pause",
        "steamcmd_timeout",
        "lease",
    }
)
"""Settings in seconds: none may be negative."""

_ENVS: Final = {s.env: s for s in SETTINGS}


def _check_names(environ: Mapping[str, str]) -> None:
    for name in environ:
        if not name.startswith("OPENWORKSHOP_") or name in _ENVS:
            continue
        if any(name.startswith(other) for other in OTHER_VARIABLES):
            continue
        close = difflib.get_close_matches(name, list(_ENVS), n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else "; see docs/settings.md"
        raise SettingsError(f"{name}: no such setting{hint}")


def _check_port(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 65535:
        raise SettingsError(f"port {value}: a port is a number from 0 to 65535")


def _check_duration(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if math.isnan(value) or value < 0:
        env = next(s.env for s in SETTINGS if s.name == attribute.name)
        raise SettingsError(f"{env} ({attribute.name}): {value} seconds; must be 0 or more")


def _convert(setting: Setting, raw: str) -> Any:
    default = setting.default
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw)
    except ValueError as exc:
        raise SettingsError(f"{setting.env}: cannot read {raw!r}: {exc}") from None
    return raw or None


@attrs.frozen(kw_only=True)
class Settings:
    """The server's configuration. Build it in code, or with :meth:`from_env`."""

    host: str = "127.0.0.1"
    port: int = attrs.field(default=8000, validator=_check_port)
    data_dir: Path = Path("openworkshop-data")
    steam_api_url: str = "https://api.steampowered.com"
    steam_community_url: str = "https://steamcommunity.com"
    steam_store_url: str = "https://store.steampowered.com"
    steamcmd: str = "steamcmd"
    steam_api_key: str | None = attrs.field(default=None, repr=False)
    steam_username: str | None = None
    steam_password: str | None = attrs.field(default=None, repr=False)
    update_cooldown: float = attrs.field(default=3 * 3600.0, validator=_check_duration)
    gather_window: float = attrs.field(default=0.25, validator=_check_duration)
    workers: int = 2
    max_attempts: int = 4
    retry_base: float = attrs.field(default=5.0, validator=_check_duration)
    rate_limit_pause: float = attrs.field(default=300.0, validator=_check_duration)
    upstream_per_minute: int = 60
    steamcmd_timeout: float = attrs.field(default=1800.0, validator=_check_duration)
    max_mod_size: int = 20 << 30
    legacy_hosts: str = "steamusercontent.com,steamusercontent-a.akamaihd.net"
    lease: float = attrs.field(default=30.0, validator=_check_duration)
    client_rate: int = 30
    accel_redirect: str | None = None
    trusted_proxies: str = "none"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Settings from environment variables (``OPENWORKSHOP_*``), then ``overrides``.

        An ``OPENWORKSHOP_*`` name that is no setting (a typo) is refused."""
        _check_names(environ)
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = environ.get(setting.env)
            if raw is not None and raw != "":
                values[setting.name] = _convert(setting, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
