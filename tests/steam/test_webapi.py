"""Parsers of the Web API's answers, on the real captures in tests/steam/fixtures/webapi."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from openworkshop.domain import ItemDetails, ItemExtras
from openworkshop.errors import UpstreamUnavailable
from openworkshop.text import clean_text
from openworkshop_steam.answers import read_json
from openworkshop_steam.webapi import (
    chunked,
    collection_form,
    details_form,
    parse_collection_details,
    parse_published_file_details,
    parse_service_details,
    service_details_params,
)


def load(captures: Path, name: str) -> Any:
    return json.loads((captures / "webapi" / name).read_text(encoding="utf-8"))


def test_v1_modern_answer(captures: Path) -> None:
    """The 2026 Stellaris capture: file_size a string, banned an int, tags as {"tag": …}."""
    payload = load(captures, "GetPublishedFileDetails.v1.stellaris_1780481482.json")
    item = parse_published_file_details(payload)[1780481482]
    assert item == ItemDetails(
        id=1780481482,
        app_id=281990,
        title="UI Overhaul Dynamic - Extended Topbar",
        description="A submod for UI Overhaul Dynamic.",
        file_size=1000481,
        file_url="",
        hcontent_file="3251727913824850130",
        preview_url="https://images.steamusercontent.com/ugc/1849297632027014653/"
        "241414117033498494E5E6DE5A03326392F9EC3C/",
        time_created=1561451540,
        time_updated=1781554278,
        tags=("Graphics", "Fixes", "Overhaul"),
        banned=False,
    )


def test_v1_legacy_answer(captures: Path) -> None:
    """The 2015 capture: file_size an int, and a file_url that makes it a legacy item."""
    payload = load(captures, "GetPublishedFileDetails.v1.legacy2015_spaceengineers_294534489.json")
    item = parse_published_file_details(payload)[294534489]
    assert item is not None
    assert item.file_size == 13985574
    assert item.file_url.startswith("http://cloud-4.steamusercontent.com/ugc/46504330037938199/")
    assert (item.app_id, item.tags) == (244850, ("mod", "Block"))


def test_v1_missing_or_private_is_none(captures: Path) -> None:
    """``result: 9`` with nothing else means missing, private or friends-only: None."""
    payload = load(captures, "GetPublishedFileDetails.v1.missing_or_private.json")
    assert parse_published_file_details(payload) == {9999: None}


def test_v1_numbers_as_strings(captures: Path) -> None:
    """Clients in the wild met numbers as strings: the same details come out."""
    payload = load(captures, "GetPublishedFileDetails.v1.stellaris_1780481482.json")
    raw = payload["response"]["publishedfiledetails"][0]
    stringly = {k: str(v) if isinstance(v, int) else v for k, v in raw.items()}
    variant = {"response": {**payload["response"], "publishedfiledetails": [stringly]}}
    assert parse_published_file_details(variant) == parse_published_file_details(payload)


def test_collection_answer(captures: Path) -> None:
    """Children in sortorder; filetype 2 marks a nested collection."""
    payload = load(captures, "GetCollectionDetails.v1.collection.json")
    assert parse_collection_details(payload) == {
        104604903: [(2419266395, False), (2419266500, False), (3533988679, True)]
    }


def test_collection_answer_for_an_item(captures: Path) -> None:
    """A plain item or a private collection: ``result: 9``, so None."""
    payload = load(captures, "GetCollectionDetails.v1.not_a_collection_or_private.json")
    assert parse_collection_details(payload) == {2009463077: None}


def test_service_item(captures: Path) -> None:
    """Proto names (consumer_appid, file_description), bool banned, uint64 as strings."""
    raw = load(captures, "IPublishedFileService.GetDetails.v1.distance_3274152841.item.json")
    item = parse_service_details({"response": {"publishedfiledetails": [raw]}})[3274152841]
    assert item is not None
    assert (item.app_id, item.file_size, item.banned) == (233610, 772518, False)
    assert item.description.startswith("You're inside the tower.")
    assert item.file_url.startswith("https://steamusercontent-a.akamaihd.net/ugc/")
    assert item.tags == ("level", "Sprint", "Advanced")
    assert item.extras == ItemExtras(
        dependencies=(), screenshots=(), tags=item.tags, description=item.description
    )


def test_service_children_and_previews(captures: Path) -> None:
    """A mod's children are its required items; image previews are its screenshots."""
    raw = load(captures, "IPublishedFileService.GetDetails.v1.distance_3274152841.item.json")
    raw = {
        **raw,
        "num_children": 2,
        "children": [
            {"publishedfileid": "22", "sortorder": 1, "file_type": 0},
            {"publishedfileid": "11", "sortorder": 0, "file_type": 0},
        ],
        "previews": [
            {"previewid": "1", "sortorder": 2, "url": "https://x/ugc/2/B/", "preview_type": 0},
            {"previewid": "2", "sortorder": 1, "youtubevideoid": "abc", "preview_type": 1},
            {"previewid": "3", "sortorder": 0, "url": "https://x/ugc/1/A/?imw=5000&imh=5000"},
        ],
    }
    item = parse_service_details({"response": {"publishedfiledetails": [raw]}})[3274152841]
    assert item is not None and item.extras is not None
    assert item.extras.dependencies == (11, 22)
    assert item.extras.screenshots == ("https://x/ugc/1/A/", "https://x/ugc/2/B/")


def test_service_collection_children_are_not_dependencies(captures: Path) -> None:
    """For a collection (file_type 2) the children are members, not required items."""
    raw = load(captures, "IPublishedFileService.GetDetails.v1.distance_3274152841.item.json")
    raw = {**raw, "file_type": 2, "children": [{"publishedfileid": "5", "file_type": 0}]}
    item = parse_service_details({"response": {"publishedfiledetails": [raw]}})[3274152841]
    assert item is not None and item.extras is not None
    assert item.is_collection and item.extras.dependencies == ()


def test_service_missing_item(captures: Path) -> None:
    payload = load(captures, "IPublishedFileService.GetDetails.v1.missing_item.json")
    assert parse_service_details(payload) == {1254141687: None}


def test_service_item_object_from_get_user_files(captures: Path) -> None:
    """GetUserFiles returns the same item object (short_description instead of the full one)."""
    payload = load(captures, "IPublishedFileService.GetUserFiles.v1.wallpaperengine_item.json")
    item = parse_service_details(payload)[2863985395]
    assert item is not None
    assert (item.app_id, item.file_size, item.file_url) == (431960, 523447204, "")
    assert item.description == "(see source)"
    assert item.tags[:2] == ("Wallpaper", "Video")


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"response": None},
        {"response": {"publishedfiledetails": "nope"}},
        {"response": {"publishedfiledetails": [{"result": 1}]}},
        {"response": {"publishedfiledetails": [{"publishedfileid": "x1", "result": 1}]}},
        {"response": {"publishedfiledetails": [{"publishedfileid": "1", "file_size": [1]}]}},
    ],
)
def test_unreadable_answers(payload: Any) -> None:
    """Any shape we cannot read is the core's UpstreamUnavailable, not a KeyError."""
    with pytest.raises(UpstreamUnavailable):
        parse_published_file_details(payload)
    with pytest.raises(UpstreamUnavailable):
        parse_service_details(payload)


def test_error_bodies_are_not_json(captures: Path) -> None:
    """Steam's error bodies are HTML: reading them as JSON is UpstreamUnavailable."""
    text = (captures / "webapi" / "webapi_error_bodies.txt").read_text()
    bodies = [line for line in text.splitlines() if line.startswith("<html>")]
    assert len(bodies) == 4
    for body in bodies:
        with pytest.raises(UpstreamUnavailable, match="not JSON"):
            read_json(body.encode(), "GetPublishedFileDetails")
    with pytest.raises(UpstreamUnavailable):
        read_json(b'{"response": {"result": 1, "publishedfile', "truncated")


def test_request_bodies() -> None:
    """The form is exactly what Steam wants: itemcount first, then indexed ids."""
    assert details_form([5, 6, 7]) == (
        "itemcount=3&publishedfileids[0]=5&publishedfileids[1]=6&publishedfileids[2]=7"
    )
    assert collection_form([9]) == "collectioncount=1&publishedfileids[0]=9"
    params = dict(service_details_params("K", [1, 2]))
    assert params["key"] == "K" and params["publishedfileids[1]"] == "2"
    assert params["includechildren"] == params["includeadditionalpreviews"] == "true"
    assert params["includetags"] == "true"


def test_chunked_keeps_order() -> None:
    assert [len(b) for b in chunked(range(250), 100)] == [100, 100, 50]
    assert [x for b in chunked(range(250), 100) for x in b] == list(range(250))


# --- hostile text ----------------------------------------------------------------------

HOSTILE_V1 = (
    b'{"response":{"result":1,"resultcount":1,"publishedfiledetails":[{"publishedfileid":"7",'
    b'"result":1,"consumer_app_id":294100,"file_size":"10","title":"Sad \\ud83d face\\u0000",'
    b'"description":"bad \xff\xfe bytes\\r\\nand a bell\\u0007 and a tab\\t",'
    b'"preview_url":"https://images.steamusercontent.com/ugc/1/\\udc00/",'
    b'"tags":[{"tag":"Mod\\u0001"},{"tag":"\\ud83d\\ude00"}]}]}}'
)


def encodable(*texts: str) -> bool:
    """What a database or a JSON encoder would be given: strict UTF-8 must take it."""
    for text in texts:
        text.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
        assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in text), repr(text)
    return True


def test_clean_text() -> None:
    """The one cleaning: lone surrogates become U+FFFD, C0 controls (NUL) go, tab and
    line breaks stay, a real emoji stays."""
    assert clean_text("a\ud83db\udc00c") == "a\ufffdb\ufffdc"
    assert clean_text("x\x00y\x01z\x1b\x7f") == "xyz"
    assert clean_text("line\r\nnext\ttab") == "line\r\nnext\ttab"
    assert clean_text("smile \U0001f600") == "smile \U0001f600"


def test_hostile_text_from_the_web_api_is_cleaned() -> None:
    """A lone ``\\ud83d`` escape, NUL, invalid UTF-8 bytes: the batch is read, not failed,
    and every text that leaves the parser is valid, storable Unicode."""
    item = parse_published_file_details(read_json(HOSTILE_V1, "GetPublishedFileDetails"))[7]
    assert item is not None
    assert item.title == "Sad \ufffd face"
    assert item.description == "bad \ufffd\ufffd bytes\r\nand a bell and a tab\t"
    assert item.tags == ("Mod", "\U0001f600")
    assert encodable(item.title, item.description, item.preview_url, *item.tags)


def test_hostile_text_from_the_service_api_is_cleaned() -> None:
    body = (
        b'{"response":{"publishedfiledetails":[{"publishedfileid":"8","result":1,'
        b'"consumer_appid":294100,"file_type":0,"title":"\\ud83d\xc3",'
        b'"file_description":"NUL\\u0000 here","children":[],'
        b'"previews":[{"url":"https://x/\\ud83d.png","sortorder":0,"preview_type":0}],'
        b'"tags":[{"tag":"T\\u0000ag","display_name":"T"}]}]}}'
    )
    item = parse_service_details(read_json(body, "IPublishedFileService/GetDetails"))[8]
    assert item is not None and item.extras is not None
    assert (item.title, item.description, item.tags) == ("\ufffd\ufffd", "NUL here", ("Tag",))
    assert item.extras.description == "NUL here"
    assert encodable(*item.extras.screenshots)


def test_a_reply_that_is_not_json_is_never_quoted() -> None:
    """The error may become a mod's public failure detail: it says what failed, not what
    Steam (or whatever answered) sent."""
    with pytest.raises(UpstreamUnavailable) as caught:
        read_json(b"<html>\xff\xfe user bob at 10.0.0.1:27017 SECRET</html>", "GetDetails")
    message = str(caught.value)
    assert message == "GetDetails answered something that is not JSON"


def test_unreadable_values_are_not_quoted() -> None:
    """A value that does not fit (here a file_size that is no number) fails the answer with
    a message that does not repeat it."""
    payload = {
        "response": {
            "publishedfiledetails": [
                {"publishedfileid": "1", "result": 1, "file_size": "bob@10.0.0.1:27017"}
            ]
        }
    }
    with pytest.raises(UpstreamUnavailable) as caught:
        parse_published_file_details(payload)
    assert str(caught.value) == "unreadable answer from GetPublishedFileDetails"


def test_both_detail_calls_read_one_item_alike() -> None:
    """The two detail calls spell the same fields differently (``consumer_app_id`` and
    ``consumer_appid``, ``description`` and ``file_description``, ``banned`` 0 and false);
    one item reads the same from either, the service adding only its extras."""
    common = {
        "publishedfileid": "42",
        "result": 1,
        "title": "A mod",
        "file_size": "1234",
        "hcontent_file": "99",
        "preview_url": "https://example.invalid/p.jpg",
        "time_created": 100,
        "time_updated": 200,
        "tags": [{"tag": "Maps"}],
    }
    v1 = {**common, "consumer_app_id": 0, "creator_app_id": 294100, "description": "d"}
    v1 |= {"banned": 0, "filetype": 0}
    service = {**common, "consumer_appid": 0, "creator_appid": 294100, "banned": False}
    service |= {"short_description": "d", "file_type": 0}
    old = parse_published_file_details({"response": {"publishedfiledetails": [v1]}})[42]
    new = parse_service_details({"response": {"publishedfiledetails": [service]}})[42]
    assert old is not None and new is not None and new.extras is not None
    assert old.extras is None and new.extras.description == "d"
    assert attrs.evolve(new, extras=None) == old
    assert (old.app_id, old.description, old.tags, old.is_collection) == (
        294100,
        "d",
        ("Maps",),
        False,
    )
