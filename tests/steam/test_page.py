"""The workshop page parser, on the reconstructed pages in tests/steam/fixtures/pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openworkshop.domain import ItemExtras
from openworkshop.errors import UpstreamUnavailable
from openworkshop_steam.answers import decode_body
from openworkshop_steam.images import canonical_image_url, same_image
from openworkshop_steam.page import parse_workshop_page


def page(captures: Path, name: str) -> str:
    return (captures / "pages" / name).read_text(encoding="utf-8")


def test_item_page(captures: Path) -> None:
    """Required items, the gallery (rgFullScreenshotURLs, unescaped), tags, description."""
    parsed = parse_workshop_page(page(captures, "RECONSTRUCTED_item_multi_image.html"))
    assert parsed is not None
    assert parsed.title == "Harmony"
    assert parsed.app_id == 294100
    assert parsed.dependencies == (818773962,)
    assert parsed.required_apps == (1149640,)
    assert parsed.images == (
        "https://images.steamusercontent.com/ugc/1111/AAAA/",
        "https://images.steamusercontent.com/ugc/2222/BBBB/",
    )
    assert parsed.tags == ("Mod", "1.5")
    assert parsed.description is not None
    assert parsed.description.startswith("Rendered BBCode HTML, e.g. <b>bold</b><br>")
    assert parsed.collection_items == ()


def test_item_page_extras_leave_out_the_preview(captures: Path) -> None:
    """The main preview is the item's logo; the screenshots are the other images."""
    parsed = parse_workshop_page(page(captures, "RECONSTRUCTED_item_multi_image.html"))
    assert parsed is not None
    extras = parsed.extras("https://images.steamusercontent.com/ugc/1111/AAAA/")
    assert extras == ItemExtras(
        dependencies=(818773962,),
        screenshots=("https://images.steamusercontent.com/ugc/2222/BBBB/",),
        tags=("Mod", "1.5"),
        description=parsed.description,
    )


def test_single_image_variant(captures: Path) -> None:
    """Without a gallery the image comes from the enlarge link or #previewImageMain."""
    text = page(captures, "RECONSTRUCTED_item_multi_image.html")
    single = re.search(
        r"<!-- single-image variant instead of the gallery above:\n(.*?)\n-->", text, re.S
    )
    assert single is not None
    gallery = re.compile(r'<div id="highlight_player_area">.*?</script>', re.S)
    variant = gallery.sub(lambda _: single.group(1), text)
    parsed = parse_workshop_page(variant)
    assert parsed is not None
    assert parsed.images == ("https://images.steamusercontent.com/ugc/1111/AAAA/",)
    without_link = variant.replace("ShowEnlargedImagePreview", "Other")
    parsed = parse_workshop_page(without_link)
    assert parsed is not None
    assert parsed.images == ("https://images.steamusercontent.com/ugc/1111/AAAA/",)
    assert parsed.extras("https://images.steamusercontent.com/ugc/1111/AAAA/").screenshots == ()


def test_error_shell_is_not_found(captures: Path) -> None:
    """Steam serves missing and private items as an HTTP 200 error shell: None."""
    assert parse_workshop_page(page(captures, "RECONSTRUCTED_error_page.html")) is None


def test_collection_page(captures: Path) -> None:
    parsed = parse_workshop_page(page(captures, "RECONSTRUCTED_collection.html"))
    assert parsed is not None
    assert parsed.title == "My RimWorld Collection"
    assert parsed.collection_items == (2009463077, 818773962)
    assert parsed.dependencies == ()


@pytest.mark.parametrize(
    "text",
    ["", "<html><head><title>Sign In</title></head><body>captive portal</body></html>", "{}"],
)
def test_unknown_page_is_unavailable(text: str) -> None:
    """Neither a workshop page nor the error shell: we cannot tell, so it is an upstream error."""
    with pytest.raises(UpstreamUnavailable):
        parse_workshop_page(text)


def test_canonical_image_urls() -> None:
    url = "https://images.steamusercontent.com/ugc/1/A/?imw=5000&amp;imh=5000&amp;ima=fit&amp;impolicy=Letterbox&amp;imcolor=%23000000&amp;letterbox=false"
    assert canonical_image_url(url) == "https://images.steamusercontent.com/ugc/1/A/"
    assert canonical_image_url("https://x/y?a=1&imw=3") == "https://x/y?a=1"
    assert same_image("https://x/ugc/1/A/?imw=2", "https://x/ugc/1/A")
    assert not same_image("", "")


def test_hostile_text_is_cleaned() -> None:
    """NUL and controls in the HTML, character references to them, lone surrogates, and
    invalid UTF-8 bytes (decoded with replacement): clean texts, no foreign error."""
    body = (
        b"<html><head><title>Steam Workshop::Bad\x00Title</title></head><body>"
        b'<div class="workshopItemDetailsHeader"><div class="workshopItemTitle">'
        b"Bad&#1;Title \xff\xfe</div></div>"
        b'<div class="workshopTags"><a href="?requiredtags%5B%5D=Mod">M&#0;od\x07</a></div>'
        b'<div class="workshopItemDescription" id="highlightContent">desc&#x1b; \x0b'
        b"\xed\xa0\xbd</div></body></html>"
    )
    parsed = parse_workshop_page(decode_body(body, "UTF-8"))
    assert parsed is not None
    assert parsed.title == "BadTitle \ufffd\ufffd"
    assert parsed.tags == ("M\ufffdod",)
    assert parsed.description is not None and parsed.description.startswith("desc ")
    for text in (parsed.title, parsed.description, *parsed.tags):
        text.encode("utf-8")
        assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in text), repr(text)
    # the parser is public: a str with a lone surrogate and NUL is cleaned too
    parsed = parse_workshop_page(
        '<html><body><div class="workshopItemDetailsHeader"><div class="workshopItemTitle">'
        "a\ud83d\x00b</div></div></body></html>"
    )
    assert parsed is not None and parsed.title == "a\ufffdb"


def test_unknown_charset_is_read_as_utf8() -> None:
    assert decode_body("caf\u00e9".encode(), "no-such-charset") == "caf\u00e9"
    assert decode_body(b"\xef\xbb\xbfbom", None) == "bom"
