"""What a user may name to install: mod ids, collection ids and Workshop URLs, parsed
locally (a URL is never fetched)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

__all__ = ["parse_targets"]

_MAX_ID = 2**64 - 1
_STEAM_HOSTS = {"steamcommunity.com", "www.steamcommunity.com"}
_PATHS = {"/sharedfiles/filedetails", "/workshop/filedetails"}


def _id(text: str, what: str) -> int:
    if not re.fullmatch(r"[0-9]+", text) or not 0 < int(text) <= _MAX_ID:
        raise ValueError(f"{what} is not a Workshop id: {text!r}")
    return int(text)


def parse_targets(values: Iterable[str]) -> list[int]:
    """Ids from ``2009463077``, ``1,2,3``, ``[1,2]`` or
    ``https://steamcommunity.com/sharedfiles/filedetails/?id=N``, in order, without repeats.
    A collection's id is an id like any other: the server tells what it holds."""
    ids: list[int] = []
    for value in values:
        value = value.strip()
        if value.startswith(("http://", "https://")):
            parts = urlsplit(value)
            if parts.hostname not in _STEAM_HOSTS or parts.path.rstrip("/") not in _PATHS:
                raise ValueError(f"not a Steam Workshop item URL: {value}")
            found = parse_qs(parts.query).get("id")
            if not found:
                raise ValueError(f"the Workshop URL has no id: {value}")
            ids.append(_id(found[0], "the URL's id"))
            continue
        for part in value.strip("[]").split(","):
            if part.strip():
                ids.append(_id(part.strip(), "the argument"))
    return list(dict.fromkeys(ids))
