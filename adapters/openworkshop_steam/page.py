"""The workshop item page (``/sharedfiles/filedetails/?id=N``), read with parsel.

Steam serves no API for required items and screenshots without a key, so the page is read
for them, using only markers that public scrapers match (docs/steam.md, "The workshop page"):
``#RequiredItems a[href]``, ``var rgFullScreenshotURLs``, ``#previewImageMain``,
``.workshopTags a``, ``.workshopItemDescription``. A missing, removed or private item is an
error shell served with HTTP 200 (``<title>Steam Community :: Error</title>``): that is "not
found", not a page of empty fields. The text read, and every text taken from it (character
references such as ``&#1;`` included), goes through :func:`openworkshop.text.clean_text`.
"""

from __future__ import annotations

import html
import logging
import re

import attrs
from parsel import Selector

from openworkshop.domain import ItemExtras
from openworkshop.errors import UpstreamUnavailable
from openworkshop.text import clean_text
from openworkshop_steam.images import canonical_image_url, same_image

__all__ = ["WorkshopPage", "parse_workshop_page"]

log = logging.getLogger(__name__)

_ERROR_TITLE = "Steam Community :: Error"
_ID_IN_URL = re.compile(r"[?&]id=(\d+)")
_FULL_SCREENSHOTS = re.compile(r"var\s+rgFullScreenshotURLs\s*=\s*\[(.*?)\]\s*;", re.S)
_SCREENSHOT_URL = re.compile(r"""['"]url['"]\s*:\s*(['"])(.*?)\1""", re.S)
_ENLARGED = re.compile(r"""ShowEnlargedImagePreview\(\s*(['"])(.*?)\1\s*\)""", re.S)
_APP_IN_URL = re.compile(r"/app/(\d+)")


@attrs.frozen(kw_only=True)
class WorkshopPage:
    """What a workshop page shows, as far as the mirror cares."""

    title: str = ""
    app_id: int | None = None
    dependencies: tuple[int, ...] = ()
    """Required workshop items, in page order."""
    required_apps: tuple[int, ...] = ()
    """Required DLC (store app ids)."""
    images: tuple[str, ...] = ()
    """Every image of the gallery in order (the main preview first), bare URLs."""
    tags: tuple[str, ...] = ()
    description: str | None = None
    """The description as the page renders it (HTML)."""
    collection_items: tuple[int, ...] = ()
    """The members, when the page is a collection's."""
    gated: bool = False
    """An age or content gate stands in front of the details."""

    def extras(self, preview_url: str = "") -> ItemExtras:
        """The item's extras; the main preview (the item's logo) is not a screenshot."""
        return ItemExtras(
            dependencies=self.dependencies,
            screenshots=tuple(url for url in self.images if not same_image(url, preview_url)),
            tags=self.tags,
            description=self.description,
        )


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(clean for v in values if (clean := clean_text(v))))


def _ids(hrefs: list[str]) -> tuple[int, ...]:
    ids: list[int] = []
    for href in hrefs:
        match = _ID_IN_URL.search(html.unescape(href))
        if match and int(match.group(1)) not in ids:
            ids.append(int(match.group(1)))
    return tuple(ids)


def _images(page: Selector, text: str) -> tuple[str, ...]:
    gallery = _FULL_SCREENSHOTS.search(text)
    if gallery:
        urls = [m.group(2) for m in _SCREENSHOT_URL.finditer(gallery.group(1))]
        if urls:
            return _unique([canonical_image_url(u) for u in urls])
    enlarged = [m.group(2) for m in _ENLARGED.finditer(text)]
    if enlarged:
        return _unique([canonical_image_url(u) for u in enlarged])
    for query in ("#previewImageMain::attr(src)", "#previewImage::attr(src)"):
        urls = page.css(query).getall()
        if urls:
            return _unique([canonical_image_url(u) for u in urls])
    return _unique(
        [canonical_image_url(u) for u in page.css('link[rel="image_src"]::attr(href)').getall()]
    )


def _collection_items(page: Selector) -> tuple[int, ...]:
    ids: list[int] = []
    for node in page.css("#mainContentsCollection .collectionItem"):
        raw = (node.attrib.get("id") or "").removeprefix("sharedfile_")
        if raw.isdigit():
            ids.append(int(raw))
        else:
            ids.extend(_ids(node.css(".collectionItemDetails a::attr(href)").getall()))
    return tuple(dict.fromkeys(ids))


def _text(selector: Selector, query: str) -> str:
    return clean_text(" ".join(" ".join(selector.css(query).getall()).split()))


def parse_workshop_page(text: str) -> WorkshopPage | None:
    """Read a workshop page; ``None`` for Steam's error shell (missing, removed, private).

    Raises UpstreamUnavailable when the text is neither a workshop page nor the error shell
    (a captive portal, a truncated body, a redesign we do not know).
    """
    text = clean_text(text)
    page = Selector(text=text, type="html")
    title = _text(page, "head > title::text")
    if title == _ERROR_TITLE or page.css(".error_ctn #message"):
        return None
    gated = bool(page.css(".adult_content_age_gate, .contentcheck_desc_ctn"))
    known = page.css(
        ".workshopItemTitle, .workshopItemDescription, #RequiredItems, #mainContentsCollection"
    )
    if not known and not gated:
        log.warning("the workshop page is not one we can read (title %r)", title)
        raise UpstreamUnavailable("the workshop page is not one we can read")
    description_node = page.css(".workshopItemDescription")
    description = None
    if description_node:
        # the inner HTML: the page renders the author's BBCode
        inner = description_node[0].xpath("node()").getall()
        description = clean_text("".join(inner).strip())
    app_ids = [
        int(m.group(1))
        for href in page.css(".breadcrumbs a::attr(href)").getall()
        if (m := _APP_IN_URL.search(href))
    ]
    data_appid = page.css("[data-appid]::attr(data-appid)").get()
    app_id = (
        app_ids[0]
        if app_ids
        else (int(data_appid) if data_appid and data_appid.isdigit() else None)
    )
    header_title = _text(page, ".workshopItemDetailsHeader .workshopItemTitle::text")
    return WorkshopPage(
        title=header_title or title.removeprefix("Steam Workshop::"),
        app_id=app_id,
        dependencies=_ids(page.css("#RequiredItems a::attr(href)").getall()),
        required_apps=tuple(
            int(m.group(1))
            for href in page.css(".requiredDLCItem a::attr(href)").getall()
            if (m := _APP_IN_URL.search(href))
        ),
        images=_images(page, text),
        tags=_unique([" ".join(t.split()) for t in page.css(".workshopTags a::text").getall()]),
        description=description,
        collection_items=_collection_items(page),
        gated=gated,
    )
