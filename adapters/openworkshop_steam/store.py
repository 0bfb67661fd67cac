"""The store's ``api/appdetails``: one app per request (docs/steam.md).

``{"N": {"success": true, "data": {…}}}``, or ``{"N": {"success": false}}`` for an unknown or
delisted app. Genre ids are strings (``"1"``) while category ids are ints.
"""

from __future__ import annotations

from typing import Any

from openworkshop.domain import AppDetails
from openworkshop.errors import UpstreamUnavailable
from openworkshop_steam.answers import as_int, as_str, reading

__all__ = ["appdetails_params", "parse_appdetails"]


def appdetails_params(app_id: int, language: str = "english") -> list[tuple[str, str]]:
    """Query of ``api/appdetails`` for one app (several work only with a price filter)."""
    return [("appids", str(app_id)), ("l", language)]


def parse_appdetails(payload: Any, app_id: int) -> AppDetails | None:
    """The app's details, or ``None`` when the store says ``success: false``."""
    what = "store appdetails"
    if not isinstance(payload, dict):
        # the store answers a bare ``null`` to requests it does not understand
        kind = "null" if payload is None else type(payload).__name__
        raise UpstreamUnavailable(f"{what} answered {kind}, not an object, for app {app_id}")
    with reading(what):
        entry = payload[str(app_id)]
        if not entry.get("success"):
            return None
        data = entry["data"]
        if not isinstance(data, dict):
            raise TypeError(f"data is {type(data).__name__}, not an object")
        genres = tuple(
            (as_int(genre["id"]), as_str(genre.get("description")))
            for genre in data.get("genres") or ()
        )
        return AppDetails(
            id=as_int(data.get("steam_appid") or app_id),
            name=as_str(data.get("name")),
            type=as_str(data.get("type")) or "game",
            header_image=as_str(data.get("header_image")),
            short_description=as_str(data.get("short_description")),
            description=as_str(data.get("detailed_description") or data.get("about_the_game")),
            genres=genres,
        )
