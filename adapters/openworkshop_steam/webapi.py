"""Steam's Web API: the request bodies it wants and the answers it gives, as pure functions.

Two calls describe items (docs/steam.md, "How Steam behaves"):

- ``ISteamRemoteStorage/GetPublishedFileDetails/v1`` (no key): a form POST,
  ``itemcount=N&publishedfileids[0]=…``; ``file_size`` a string (an int in old answers),
  ``banned`` an int, ``result: 9`` for missing, private and friends-only items.
- ``IPublishedFileService/GetDetails/v1`` (needs a key): proto field names
  (``consumer_appid``, ``file_description``, ``file_type``), ``banned`` a bool, uint64 fields
  as strings, and with the ``include*`` flags the children (a mod's required items), the
  additional previews (screenshots) and the tags, so no workshop page has to be fetched.

Both are read by one parser over a key mapping (``_DetailsKeys``): they differ in key names,
and only the service's answer has extras, not in meaning.

Every parser raises :class:`~openworkshop.errors.UpstreamUnavailable` for an answer it cannot
read: a foreign ``KeyError`` or ``ValueError`` never leaves this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

import attrs

from openworkshop.domain import ItemDetails, ItemExtras
from openworkshop_steam.answers import as_bool, as_int, as_str, reading
from openworkshop_steam.images import canonical_image_url

__all__ = [
    "COLLECTION_FILE_TYPE",
    "RESULT_OK",
    "chunked",
    "collection_form",
    "details_form",
    "parse_collection_details",
    "parse_published_file_details",
    "parse_service_details",
    "service_details_params",
]

T = TypeVar("T")

RESULT_OK = 1
"""EResult OK; ``9`` (FileNotFound) is what Steam says for missing *and* private items."""
COLLECTION_FILE_TYPE = 2
"""EWorkshopFileType.Collection (``filetype`` in GetCollectionDetails, ``file_type`` in the
service API); ``0`` is a normal item."""
_IMAGE_PREVIEW = 0
"""``preview_type`` of an image in the service API's ``previews`` (1 is a YouTube video)."""


def _indexed(name: str, ids: Sequence[int]) -> list[tuple[str, str]]:
    return [(f"{name}[{i}]", str(mod_id)) for i, mod_id in enumerate(ids)]


def details_form(ids: Sequence[int]) -> str:
    """The form body of GetPublishedFileDetails: ``itemcount=N&publishedfileids[0]=…``.

    Brackets are left as they are, as in Steam's documentation; Steam reads both forms.
    """
    return urlencode([("itemcount", str(len(ids))), *_indexed("publishedfileids", ids)], safe="[]")


def collection_form(ids: Sequence[int]) -> str:
    """The form body of GetCollectionDetails: ``collectioncount=N&publishedfileids[0]=…``."""
    return urlencode(
        [("collectioncount", str(len(ids))), *_indexed("publishedfileids", ids)], safe="[]"
    )


def service_details_params(key: str, ids: Sequence[int]) -> list[tuple[str, str]]:
    """Query parameters of IPublishedFileService/GetDetails with everything a page would add."""
    return [
        ("key", key),
        *_indexed("publishedfileids", ids),
        ("includetags", "true"),
        ("includeadditionalpreviews", "true"),
        ("includechildren", "true"),
        ("includekvtags", "false"),
        ("includevotes", "false"),
        ("short_description", "false"),
        ("strip_description_bbcode", "false"),
    ]


def _tags(raw: Any) -> tuple[str, ...]:
    tags: list[str] = []
    for entry in raw or ():
        name = as_str(entry.get("tag") or entry.get("display_name"))
        if name and name not in tags:
            tags.append(name)
    return tuple(tags)


def _items(payload: Any, what: str, key: str = "publishedfiledetails") -> list[Mapping[str, Any]]:
    with reading(what):
        response = payload["response"]
        items = response.get(key, [])
        if not isinstance(items, list):
            raise TypeError(f"{key} is not a list")
        for item in items:
            if not isinstance(item, Mapping):
                raise TypeError(f"an entry of {key} is not an object: {item!r}")
        return items


@attrs.frozen(kw_only=True)
class _DetailsKeys:
    """Where one of the two detail calls keeps what an ``ItemDetails`` needs: the calls
    differ in key names (and only the service has extras), not in meaning."""

    what: str
    app_id: tuple[str, ...]
    """The consumer's app id, then the creator's (used when the first is 0 or missing)."""
    description: tuple[str, ...]
    file_type: tuple[str, ...]
    extras: bool
    """Whether the answer holds the children, previews and tags a workshop page would add."""


_PUBLISHED_FILE_KEYS: Final = _DetailsKeys(
    what="GetPublishedFileDetails",
    app_id=("consumer_app_id", "creator_app_id"),
    description=("description",),
    file_type=("file_type", "filetype"),
    extras=False,
)
_SERVICE_KEYS: Final = _DetailsKeys(
    what="IPublishedFileService/GetDetails",
    app_id=("consumer_appid", "creator_appid"),
    description=("file_description", "short_description"),
    file_type=("file_type",),
    extras=True,
)


def _in_order(entries: Any) -> list[Mapping[str, Any]]:
    """Children or previews of an answer in Steam's ``sortorder``."""
    return sorted(entries or (), key=lambda entry: as_int(entry.get("sortorder", 0)))


def _first(raw: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """The value of the first of ``keys`` that ``raw`` has, else ``None``."""
    return next((raw[key] for key in keys if key in raw), None)


def _first_set(raw: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """``raw.get(keys[0]) or raw.get(keys[1]) or …``: the first value that is set."""
    value = None
    for key in keys:
        value = raw.get(key)
        if value:
            break
    return value


def _parse_details(payload: Any, keys: _DetailsKeys) -> dict[int, ItemDetails | None]:
    found: dict[int, ItemDetails | None] = {}
    for raw in _items(payload, keys.what):
        with reading(keys.what):
            item_id = as_int(raw["publishedfileid"])
            if as_int(raw.get("result", RESULT_OK)) != RESULT_OK:
                found[item_id] = None
                continue
            file_type = _first(raw, keys.file_type)
            is_collection = file_type is not None and as_int(file_type) == COLLECTION_FILE_TYPE
            description = _first(raw, keys.description)
            tags = _tags(raw.get("tags"))
            found[item_id] = ItemDetails(
                id=item_id,
                app_id=as_int(_first_set(raw, keys.app_id)),
                title=as_str(raw.get("title")),
                description=as_str(description),
                file_size=as_int(raw.get("file_size")),
                file_url=as_str(raw.get("file_url")),
                hcontent_file=as_str(raw.get("hcontent_file")),
                preview_url=as_str(raw.get("preview_url")),
                time_created=as_int(raw.get("time_created")),
                time_updated=as_int(raw.get("time_updated")),
                tags=tags,
                banned=as_bool(raw.get("banned", False)),
                is_collection=is_collection,
                extras=_service_extras(raw, is_collection, tags, description)
                if keys.extras
                else None,
            )
    return found


def parse_published_file_details(payload: Any) -> dict[int, ItemDetails | None]:
    """Items of a GetPublishedFileDetails/v1 answer, by id; ``None`` for ``result != 1``."""
    return _parse_details(payload, _PUBLISHED_FILE_KEYS)


def _service_extras(
    raw: Mapping[str, Any], is_collection: bool, tags: tuple[str, ...], description: Any
) -> ItemExtras:
    dependencies: tuple[int, ...] = ()
    if not is_collection:
        children = _in_order(raw.get("children"))
        dependencies = tuple(as_int(child["publishedfileid"]) for child in children)
    screenshots = tuple(
        canonical_image_url(as_str(p["url"]))
        for p in _in_order(raw.get("previews"))
        if as_int(p.get("preview_type", _IMAGE_PREVIEW)) == _IMAGE_PREVIEW and p.get("url")
    )
    return ItemExtras(
        dependencies=dependencies,
        screenshots=screenshots,
        tags=tags,
        description=None if description is None else as_str(description),
    )


def parse_service_details(payload: Any) -> dict[int, ItemDetails | None]:
    """Items of an IPublishedFileService/GetDetails answer, with their extras filled in.

    Dependencies are the ``children`` of a normal item (``file_type`` 0); for a collection
    (``file_type`` 2) the children are its members, not required items, so they are left out
    here (see :func:`parse_collection_details`).
    """
    return _parse_details(payload, _SERVICE_KEYS)


def parse_collection_details(payload: Any) -> dict[int, list[tuple[int, bool]] | None]:
    """Children of each collection in a GetCollectionDetails answer, in ``sortorder``.

    Each child is ``(id, is_collection)``; ``None`` for an id that is not a (visible)
    collection (``result: 9``).
    """
    what = "GetCollectionDetails"
    found: dict[int, list[tuple[int, bool]] | None] = {}
    for raw in _items(payload, what, "collectiondetails"):
        with reading(what):
            collection_id = as_int(raw["publishedfileid"])
            if as_int(raw.get("result", RESULT_OK)) != RESULT_OK:
                found[collection_id] = None
                continue
            children = _in_order(raw.get("children"))
            found[collection_id] = [
                (
                    as_int(child["publishedfileid"]),
                    as_int(child.get("filetype", child.get("file_type", 0)))
                    == COLLECTION_FILE_TYPE,
                )
                for child in children
            ]
    return found


def chunked(values: Iterable[T], size: int) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size``, order kept."""
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
