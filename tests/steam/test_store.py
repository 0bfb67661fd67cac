"""The store's appdetails parser, on the captures in tests/steam/fixtures/store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openworkshop.domain import AppDetails
from openworkshop.errors import UpstreamUnavailable
from openworkshop_steam.answers import read_json
from openworkshop_steam.store import appdetails_params, parse_appdetails


def test_known_app(captures: Path) -> None:
    """Genre ids come as strings and leave as ints; the detailed description is the HTML one."""
    payload = json.loads((captures / "store/appdetails.1361210.trimmed.json").read_text())
    app = parse_appdetails(payload, 1361210)
    assert app == AppDetails(
        id=1361210,
        name="Warhammer 40,000: Darktide",
        type="game",
        header_image="https://cdn.akamai.steamstatic.com/steam/apps/1361210/header.jpg?t=1703703101",
        short_description=payload["1361210"]["data"]["short_description"],
        description="<h1>Imperial Edition</h1><p>... (HTML, trimmed)</p>",
        genres=((1, "Action"), (25, "Adventure"), (23, "Indie")),
    )


def test_unknown_app(captures: Path) -> None:
    """``{"N": {"success": false}}`` is an unknown app: None."""
    payload = json.loads((captures / "store/appdetails.missing.json").read_text())
    assert parse_appdetails(payload, 99999999999) is None


@pytest.mark.parametrize(
    "payload", [None, [], {}, {"5": {"success": True}}, {"5": {"success": True, "data": []}}]
)
def test_unreadable(payload: object) -> None:
    """``null`` (the store's answer to a request it does not understand) and other shapes."""
    with pytest.raises(UpstreamUnavailable):
        parse_appdetails(payload, 5)


def test_one_app_per_request() -> None:
    assert appdetails_params(294100) == [("appids", "294100"), ("l", "english")]


def test_hostile_text_is_cleaned() -> None:
    """A lone surrogate, NUL and invalid UTF-8 in the store's answer: a clean app."""
    body = (
        b'{"294100":{"success":true,"data":{"type":"game","name":"Rim\\ud83dWorld\\u0000",'
        b'"steam_appid":294100,"short_description":"short \xff",'
        b'"detailed_description":"<p>long\\u0002</p>",'
        b'"genres":[{"id":"1","description":"Act\\udc00ion"}]}}}'
    )
    app = parse_appdetails(read_json(body, "store appdetails"), 294100)
    assert app == AppDetails(
        id=294100,
        name="Rim\ufffdWorld",
        type="game",
        short_description="short \ufffd",
        description="<p>long</p>",
        genres=((1, "Act\ufffdion"),),
    )
