"""``FakeSteam``: Steam's three hosts on one loopback aiohttp server, serving a catalog.

It answers with the shapes and quirks docs/steam.md describes, so that code passing against
it would pass against Steam:

- ``{api_url}/ISteamRemoteStorage/GetPublishedFileDetails/v1/`` (POST form; HTML 400
  ``Required parameter 'itemcount' is missing``; ``result: 9`` items for missing, private and
  friends-only; ``file_size`` a string; ``banned`` an int; the real key order),
- ``{api_url}/ISteamRemoteStorage/GetCollectionDetails/v1/`` (``filetype`` 2 for nested
  collections, ``result: 9`` for anything else),
- ``{api_url}/IPublishedFileService/GetDetails/v1/`` (the key check with Steam's 401 body;
  proto field names, bool ``banned``, uint64 as strings, children, previews, tags),
- ``{store_url}/api/appdetails`` (``success: false`` for unknown apps, genres with string
  ids, HTTP 400 ``null`` for several appids without ``filters=price_overview``),
- ``{community_url}/sharedfiles/filedetails/?id=N`` (the workshop page, after
  ``pages/RECONSTRUCTED_item_multi_image.html``; the error shell with HTTP 200),
- ``{base_url}/ugc/…`` (legacy items' ``file_url`` downloads),
- ``{base_url}/_fake/catalog.json`` (the catalog, for the fake steamcmd) and
  ``{base_url}/_fake/calls`` (the call counters, as JSON).

The catalog is the live object: a test can ``publish_update`` on it while the server runs.
Each endpoint counts its calls (``fake.calls["details"]``) and records its requests, and
takes injected faults (latency, 5xx, 429, connection reset, truncated or garbage bodies),
always or for the next N calls, with a probability drawn from a seeded RNG.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import html
import io
import json
import random
import re
import zipfile
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import attrs
from aiohttp import web

from openworkshop.testing.catalog import CatalogItem, SteamCatalog
from openworkshop.testing.sample import sample_catalog
from openworkshop_steam.fake.steamcmd import install_fake_steamcmd

__all__ = ["ENDPOINTS", "FakeSteam", "Fault", "RecordedRequest"]

ENDPOINTS = (
    "details",
    "collection",
    "service_details",
    "appdetails",
    "page",
    "file",
    "catalog",
)
"""The names under which calls are counted and faults injected."""

FaultKind = Literal["latency", "status", "rate_limit", "reset", "truncate", "garbage"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_JSON = "application/json; charset=UTF-8"
_HTML = "text/html; charset=UTF-8"
_UNAUTHORIZED = (
    "<html><head><title>Unauthorized</title></head><body><h1>Unauthorized</h1>Access is denied. "
    "Retrying will not help. Please verify your <pre>key=</pre> parameter.</body></html>"
)
_STEAMID_BASE = 76561197960265728
_IMAGE_SIZING = "imw=5000&imh=5000&ima=fit&impolicy=Letterbox&imcolor=%23000000&letterbox=false"


def _bad_request(message: str) -> web.Response:
    body = (
        "<html><head><title>Bad Request</title></head><body><h1>Bad Request</h1>"
        f"{message}</body></html>"
    )
    return web.Response(status=400, text=body, content_type="text/html", charset="UTF-8")


def _json(data: Any, status: int = 200) -> web.Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return web.Response(status=status, body=body, headers={"Content-Type": _JSON})


def _page(text: str) -> web.Response:
    return web.Response(body=text.encode(), headers={"Content-Type": _HTML})


@attrs.define(kw_only=True)
class Fault:
    """Something going wrong on an endpoint.

    ``times``: only the next N calls that roll this fault (``None``: every call);
    ``probability``: the chance a call rolls it (drawn from the fake's seeded RNG).
    """

    kind: FaultKind
    probability: float = 1.0
    times: int | None = None
    seconds: float = 1.0
    """How long ``latency`` waits."""
    status: int = 503
    """The status of a ``status`` fault (a 5xx)."""
    retry_after: float | None = 30.0
    """The ``Retry-After`` of a ``rate_limit`` fault."""

    def exhausted(self) -> bool:
        return self.times is not None and self.times <= 0


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request an endpoint received."""

    endpoint: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    form: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    fault: FaultKind | None = None
    """The fault it was answered with (``latency`` only delays an answer: not named)."""

    def ids(self) -> list[int]:
        """The ``publishedfileids[i]`` (or ``appids``/``id``) this request asked for."""
        pairs = self.form or self.query
        found = [int(v) for k, v in pairs if k.startswith("publishedfileids[") and v.isdigit()]
        for key, value in pairs:
            if key in ("appids", "id"):
                found += [int(p) for p in value.split(",") if p.isdigit()]
        return found


def _steam_id(seed: int) -> str:
    return str(_STEAMID_BASE + seed % 10**8)


def _number(mod_id: int, salt: str, upto: int) -> int:
    digest = hashlib.sha256(f"{mod_id}/{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % upto


def _legacy_token(mod_id: int) -> str:
    return hashlib.sha1(f"legacy/{mod_id}".encode()).hexdigest().upper()


_UGC = re.compile(r"/ugc/(\d+)/")


def _hcontent_preview(item: CatalogItem) -> str:
    match = _UGC.search(item.details.preview_url)
    return match.group(1) if match else str(_number(item.id, "preview", 10**18))


def _sized(url: str) -> str:
    return url + ("&" if "?" in url else "?") + _IMAGE_SIZING


def _bbcode(text: str) -> str:
    """A small BBCode renderer: enough for the page to look like Steam's."""
    out = html.escape(text)
    out = re.sub(r"\[h1\](.*?)\[/h1\]", r'<div class="bb_h1">\1</div>', out, flags=re.S)
    for tag in ("b", "i", "u"):
        out = re.sub(rf"\[{tag}\](.*?)\[/{tag}\]", rf"<{tag}>\1</{tag}>", out, flags=re.S)
    out = re.sub(
        r"\[url=(.*?)\](.*?)\[/url\]",
        r'<a class="bb_link" href="\1" target="_blank" rel="">\2</a>',
        out,
        flags=re.S,
    )
    return out.replace("\r\n", "<br>").replace("\n", "<br>")


def _steam_date(timestamp: int, now: dt.datetime) -> str:
    """``30 Jan, 2020 @ 7:34am``, or ``8 Jul @ 9:12pm`` in the current year."""
    when = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    hour = when.hour % 12 or 12
    clock = f"{hour}:{when.minute:02d}{'am' if when.hour < 12 else 'pm'}"
    month = when.strftime("%b")
    if when.year == now.year:
        return f"{when.day} {month} @ {clock}"
    return f"{when.day} {month}, {when.year} @ {clock}"


_ERROR_ABSENT = "There was a problem accessing the item.  Please try again."
_ERROR_MALFORMED = "That item does not exist.  It may have been removed by the author."


class FakeSteam:
    """A loopback Steam for tests, demos and launcher authors. See the module docstring.

    Use ``async with FakeSteam(catalog) as fake:`` (or ``await fake.start()`` /
    ``await fake.stop()``), then point the source at ``fake.api_url``, ``fake.community_url``
    and ``fake.store_url``.
    """

    def __init__(
        self,
        catalog: SteamCatalog | None = None,
        *,
        api_keys: Iterable[str] = (),
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.catalog = sample_catalog() if catalog is None else catalog
        self.api_keys = set(api_keys)
        """Web API keys that IPublishedFileService/GetDetails accepts."""
        self.calls: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        self.faults: dict[str, list[Fault]] = {}
        self._rng = random.Random(seed)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url = ""

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> FakeSteam:
        """Listen (on a free port unless one was given)."""
        if self._runner is not None:
            return self
        runner = web.AppRunner(
            self._app(), access_log=None, handle_signals=False, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSteam:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if not self._base_url:
            raise RuntimeError("the fake Steam is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        """Stands for ``https://api.steampowered.com``."""
        return self.base_url + "/api"

    @property
    def community_url(self) -> str:
        """Stands for ``https://steamcommunity.com``."""
        return self.base_url + "/community"

    @property
    def store_url(self) -> str:
        """Stands for ``https://store.steampowered.com``."""
        return self.base_url + "/store"

    @property
    def catalog_url(self) -> str:
        """The live catalog as JSON, for the fake steamcmd (``ENV_CATALOG``)."""
        return self.base_url + "/_fake/catalog.json"

    def environment(self) -> dict[str, str]:
        """The ``OPENWORKSHOP_STEAM_*`` settings that point a server at this fake."""
        return {
            "OPENWORKSHOP_STEAM_API_URL": self.api_url,
            "OPENWORKSHOP_STEAM_COMMUNITY_URL": self.community_url,
            "OPENWORKSHOP_STEAM_STORE_URL": self.store_url,
        }

    def install_steamcmd(self, folder: Path, **settings: str | float | bool) -> Path:
        """A fake ``steamcmd`` in ``folder`` that downloads from this server's catalog."""
        return install_fake_steamcmd(folder, catalog=self.catalog_url, **settings)

    # --- faults ---------------------------------------------------------------------

    def inject(self, endpoint: str, fault: Fault | FaultKind, **settings: Any) -> Fault:
        """Make ``endpoint`` (one of :data:`ENDPOINTS`, or ``"*"``) misbehave.

        ``fake.inject("details", "status", status=502, times=1)``,
        ``fake.inject("page", "latency", seconds=0.5, probability=0.3)``.
        """
        if endpoint != "*" and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")
        if isinstance(fault, str):
            fault = Fault(kind=fault, **settings)
        self.faults.setdefault(endpoint, []).append(fault)
        return fault

    def clear_faults(self, endpoint: str | None = None) -> None:
        if endpoint is None:
            self.faults.clear()
        else:
            self.faults.pop(endpoint, None)

    def reset_calls(self) -> None:
        self.calls.clear()
        self.requests.clear()

    def _roll(self, endpoint: str) -> list[Fault]:
        """The faults this call suffers: any latencies, then at most one misbehaviour."""
        chosen: list[Fault] = []
        for key in (endpoint, "*"):
            for fault in self.faults.get(key, []):
                if fault.exhausted():
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                chosen.append(fault)
                if fault.kind != "latency":
                    return chosen
        return chosen

    def _endpoint(self, name: str, handler: Handler) -> Handler:
        async def counted(request: web.Request) -> web.StreamResponse:
            form: tuple[tuple[str, str], ...] = ()
            if request.method == "POST":
                posted = await request.post()
                form = tuple((k, str(v)) for k, v in posted.items())
            self.calls[name] += 1
            rolled = self._roll(name)
            self.requests.append(
                RecordedRequest(
                    endpoint=name,
                    method=request.method,
                    path=request.path,
                    query=tuple(request.query.items()),
                    form=form,
                    headers=tuple(request.headers.items()),
                    fault=next((f.kind for f in rolled if f.kind != "latency"), None),
                )
            )
            for fault in rolled:
                if fault.kind == "latency":
                    await asyncio.sleep(fault.seconds)
                    continue
                return await self._misbehave(fault, request, handler)
            return await handler(request)

        return counted

    async def _misbehave(
        self, fault: Fault, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if fault.kind == "status":
            reason = {500: "Internal Server Error", 502: "Bad Gateway", 504: "Gateway Timeout"}
            title = f"{fault.status} {reason.get(fault.status, 'Service Unavailable')}"
            body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
            return web.Response(status=fault.status, text=body, content_type="text/html")
        if fault.kind == "rate_limit":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            body = "<html><head><title>Too Many Requests</title></head><body></body></html>"
            return web.Response(status=429, text=body, content_type="text/html", headers=headers)
        if fault.kind == "reset":
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPInternalServerError()  # never sent: the connection is gone
        normal = await handler(request)
        if fault.kind == "garbage":
            junk = bytes(self._rng.randrange(256) for _ in range(64))
            return web.Response(
                status=200, body=b"<html>\x00\xff" + junk, content_type=normal.content_type
            )
        # truncate: promise the whole body, send half, hang up
        whole = normal.body if isinstance(normal, web.Response) else b""
        whole = whole if isinstance(whole, bytes) else b""
        response = web.StreamResponse(status=normal.status)
        response.content_type = normal.content_type
        response.content_length = max(len(whole), 2)
        await response.prepare(request)
        await response.write(whole[: len(whole) // 2])
        if request.transport is not None:
            request.transport.close()
        return response

    # --- the application ------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        routes = [
            (
                "POST",
                "/api/ISteamRemoteStorage/GetPublishedFileDetails/v1",
                "details",
                self._details,
            ),
            (
                "POST",
                "/api/ISteamRemoteStorage/GetCollectionDetails/v1",
                "collection",
                self._collection,
            ),
            ("GET", "/api/IPublishedFileService/GetDetails/v1", "service_details", self._service),
            ("GET", "/store/api/appdetails", "appdetails", self._appdetails),
            ("GET", "/community/sharedfiles/filedetails", "page", self._page),
            ("GET", "/community/workshop/filedetails", "page", self._page),
            ("GET", "/ugc/{hcontent}/{token}", "file", self._file),
            ("GET", "/_fake/catalog.json", "catalog", self._catalog),
        ]
        for method, path, name, handler in routes:
            wrapped = self._endpoint(name, handler)
            app.router.add_route(method, path, wrapped)
            app.router.add_route(method, path + "/", wrapped)
        app.router.add_get("/_fake/calls", self._calls)
        for path in (
            "/api/ISteamRemoteStorage/GetPublishedFileDetails/v1/",
            "/api/ISteamRemoteStorage/GetCollectionDetails/v1/",
        ):
            app.router.add_get(path, self._post_only)
        return app

    async def _post_only(self, request: web.Request) -> web.Response:
        body = (
            "<html><head><title>Method Not Allowed</title></head><body><h1>Method Not Allowed"
            "</h1>This API must be called with a HTTP POST request</body></html>"
        )
        return web.Response(status=405, text=body, content_type="text/html")

    async def _calls(self, request: web.Request) -> web.Response:
        return _json(dict(self.calls))

    async def _catalog(self, request: web.Request) -> web.Response:
        return web.Response(text=self.catalog.to_json(), content_type="application/json")

    # --- ISteamRemoteStorage ----------------------------------------------------------

    @staticmethod
    def _form_ids(form: Mapping[str, Any], count_name: str) -> list[int] | web.Response:
        if count_name not in form:
            return _bad_request(f"Required parameter '{count_name}' is missing")
        try:
            count = int(str(form[count_name]))
        except ValueError:
            return _bad_request(f"Parameter '{count_name}' is invalid")
        ids: list[int] = []
        for i in range(count):
            name = f"publishedfileids[{i}]"
            if name not in form:
                return _bad_request(f"Required parameter '{name}' is missing")
            value = str(form[name]).strip()
            ids.append(int(value) if value.isdigit() else 0)
        return ids

    def _visible(self, mod_id: int) -> CatalogItem | None:
        item = self.catalog.items.get(mod_id)
        return item if item is not None and item.visible else None

    def _file_url(self, item: CatalogItem) -> str:
        if not item.details.file_url:
            return ""
        hcontent = item.details.hcontent_file or str(item.id)
        return f"{self.base_url}/ugc/{hcontent}/{_legacy_token(item.id)}/"

    @staticmethod
    def _legacy_name(item: CatalogItem) -> str:
        paths = [*item.files, *item.blobs]
        return Path(paths[0]).name if len(paths) == 1 else f"{item.id}_legacy.bin"

    def _v1_item(self, mod_id: int) -> dict[str, Any]:
        item = self._visible(mod_id)
        if item is None:
            return {"publishedfileid": str(mod_id), "result": 9}
        d = item.details
        return {
            "publishedfileid": str(d.id),
            "result": 1,
            "creator": _steam_id(_number(d.id, "creator", 10**8)),
            "creator_app_id": d.app_id,
            "consumer_app_id": d.app_id,
            "filename": self._legacy_name(item) if d.file_url else "",
            # a collection has no content: no size, no depot manifest, no file
            "file_size": "0" if d.is_collection else str(d.file_size),
            "file_url": self._file_url(item),
            "hcontent_file": "" if d.is_collection else d.hcontent_file,
            "preview_url": d.preview_url,
            "hcontent_preview": _hcontent_preview(item),
            "title": d.title,
            "description": d.description,
            "time_created": d.time_created,
            "time_updated": d.time_updated,
            "visibility": item.visibility,
            "banned": int(d.banned),
            "ban_reason": "",
            "subscriptions": _number(d.id, "subs", 100000),
            "favorited": _number(d.id, "fav", 5000),
            "lifetime_subscriptions": _number(d.id, "subs", 100000) + _number(d.id, "ls", 9000),
            "lifetime_favorited": _number(d.id, "fav", 5000) + _number(d.id, "lf", 900),
            "views": _number(d.id, "views", 500000),
            "tags": [{"tag": tag} for tag in d.tags],
        }

    async def _details(self, request: web.Request) -> web.Response:
        ids = self._form_ids(await request.post(), "itemcount")
        if isinstance(ids, web.Response):
            return ids
        items = [self._v1_item(mod_id) for mod_id in ids]
        return _json(
            {"response": {"result": 1, "resultcount": len(items), "publishedfiledetails": items}}
        )

    def _children(self, item: CatalogItem) -> list[dict[str, Any]]:
        """A collection's members, or a mod's required items (``file_type`` of each)."""
        children = []
        for order, child_id in enumerate(item.dependencies):
            child = self.catalog.items.get(child_id)
            is_collection = child is not None and child.details.is_collection
            children.append((str(child_id), order, 2 if is_collection else 0))
        return [{"publishedfileid": i, "sortorder": o, "file_type": t} for i, o, t in children]

    async def _collection(self, request: web.Request) -> web.Response:
        ids = self._form_ids(await request.post(), "collectioncount")
        if isinstance(ids, web.Response):
            return ids
        entries: list[dict[str, Any]] = []
        for mod_id in ids:
            item = self._visible(mod_id)
            if item is None or not item.details.is_collection:
                entries.append({"publishedfileid": str(mod_id), "result": 9})
                continue
            children = [
                {
                    "publishedfileid": c["publishedfileid"],
                    "sortorder": c["sortorder"],
                    "filetype": c["file_type"],
                }
                for c in self._children(item)
            ]
            entries.append({"publishedfileid": str(mod_id), "result": 1, "children": children})
        found = sum(1 for e in entries if e["result"] == 1)
        return _json(
            {"response": {"result": 1, "resultcount": found, "collectiondetails": entries}}
        )

    # --- IPublishedFileService --------------------------------------------------------

    def _service_item(self, mod_id: int, flags: Mapping[str, bool]) -> dict[str, Any]:
        item = self._visible(mod_id)
        if item is None:
            return {"result": 9, "publishedfileid": str(mod_id), "language": 0}
        d = item.details
        app = self.catalog.apps.get(d.app_id)
        children = self._children(item)
        out: dict[str, Any] = {
            "result": 1,
            "publishedfileid": str(d.id),
            "creator": _steam_id(_number(d.id, "creator", 10**8)),
            "creator_appid": d.app_id,
            "consumer_appid": d.app_id,
            "consumer_shortcutid": 0,
            "filename": self._legacy_name(item) if d.file_url else "",
            "file_size": str(d.file_size),
            "preview_file_size": str(_number(d.id, "preview_size", 900000)),
        }
        if d.file_url:
            out["file_url"] = self._file_url(item)
        out.update(
            {
                "preview_url": d.preview_url,
                "url": "",
                "hcontent_file": d.hcontent_file,
                "hcontent_preview": _hcontent_preview(item),
                "title": d.title,
                "file_description": d.description,
                "time_created": d.time_created,
                "time_updated": d.time_updated,
                "visibility": item.visibility,
                "flags": 1536,
                "workshop_file": False,
                "workshop_accepted": False,
                "show_subscribe_all": bool(d.is_collection),
                "num_comments_public": _number(d.id, "comments", 300),
                "banned": bool(d.banned),
                "ban_reason": "",
                "banner": str(_STEAMID_BASE),
                "can_be_deleted": True,
                "app_name": app.details.name if app else "",
                "file_type": 2 if d.is_collection else 0,
                "can_subscribe": True,
                "subscriptions": _number(d.id, "subs", 100000),
                "favorited": _number(d.id, "fav", 5000),
                "followers": 0,
                "lifetime_subscriptions": _number(d.id, "subs", 100000) + _number(d.id, "ls", 9000),
                "lifetime_favorited": _number(d.id, "fav", 5000) + _number(d.id, "lf", 900),
                "lifetime_followers": 0,
                "lifetime_playtime": str(_number(d.id, "playtime", 10**6)),
                "lifetime_playtime_sessions": str(_number(d.id, "sessions", 10**4)),
                "views": _number(d.id, "views", 500000),
                "num_children": len(children),
            }
        )
        if flags["includechildren"] and children:
            out["children"] = children
        out["num_reports"] = 0
        if flags["includeadditionalpreviews"] and item.screenshots:
            out["previews"] = [
                {
                    "previewid": str(_number(d.id, f"preview{n}", 10**17)),
                    "sortorder": n + 1,
                    "url": url,
                    "size": _number(d.id, f"size{n}", 900000),
                    "filename": f"screenshot_{n}.jpg",
                    "preview_type": 0,
                }
                for n, url in enumerate(item.screenshots)
            ]
        if flags["includetags"]:
            out["tags"] = [{"tag": tag, "display_name": tag} for tag in d.tags]
        out.update(
            {
                "language": 0,
                "maybe_inappropriate_sex": False,
                "maybe_inappropriate_violence": False,
                "revision_change_number": str(_number(d.id, "revision", 20)),
                "revision": 1,
                "ban_text_check_result": 5,
            }
        )
        return out

    async def _service(self, request: web.Request) -> web.Response:
        query: dict[str, Any] = dict(request.query)
        if "input_json" in query:
            try:
                query.update(json.loads(query.pop("input_json")))
            except ValueError:
                return _bad_request("Unable to parse input_json")
        if str(query.get("key", "")) not in self.api_keys:
            return web.Response(status=401, text=_UNAUTHORIZED, content_type="text/html")
        raw_ids = query.get("publishedfileids")
        if isinstance(raw_ids, list):
            ids = [str(v) for v in raw_ids]
        else:
            ids = []
            while f"publishedfileids[{len(ids)}]" in query:
                ids.append(str(query[f"publishedfileids[{len(ids)}]"]))
        if not ids:
            return _bad_request("Required parameter 'publishedfileids' is missing")

        def flag(name: str) -> bool:
            return str(query.get(name, "false")).lower() in ("1", "true")

        flags = {
            n: flag(n) for n in ("includechildren", "includeadditionalpreviews", "includetags")
        }
        items = [self._service_item(int(v) if v.isdigit() else 0, flags) for v in ids]
        return _json({"response": {"publishedfiledetails": items}})

    # --- the store --------------------------------------------------------------------

    def _app_data(self, app_id: int) -> dict[str, Any] | None:
        app = self.catalog.apps.get(app_id)
        if app is None:
            return None
        d = app.details
        cdn = f"https://shared.akamai.steamstatic.com/store_item_assets/steam/apps/{d.id}"
        return {
            "type": d.type,
            "name": d.name,
            "steam_appid": d.id,
            "required_age": 0,
            "is_free": False,
            "detailed_description": d.description,
            "about_the_game": d.description,
            "short_description": d.short_description,
            "supported_languages": "English<strong>*</strong><br><strong>*</strong>languages with "
            "full audio support",
            "header_image": d.header_image,
            "capsule_image": f"{cdn}/capsule_231x87.jpg",
            "capsule_imagev5": f"{cdn}/capsule_184x69.jpg",
            "website": None,
            "pc_requirements": {"minimum": '<strong>Minimum:</strong><br><ul class="bb_ul"></ul>'},
            "mac_requirements": [],
            "linux_requirements": [],
            "developers": ["A Developer"],
            "publishers": ["A Publisher"],
            "packages": [_number(d.id, "package", 10**6)],
            "platforms": {"windows": True, "mac": False, "linux": False},
            "categories": [
                {"id": 2, "description": "Single-player"},
                {"id": 30, "description": "Steam Workshop"},
            ],
            "genres": [{"id": str(gid), "description": name} for gid, name in d.genres],
            "release_date": {"coming_soon": False, "date": "1 Jan, 2020"},
            "background": f"{cdn}/page_bg_generated_v6b.jpg",
            "content_descriptors": {"ids": [], "notes": None},
        }

    async def _appdetails(self, request: web.Request) -> web.Response:
        raw = request.query.get("appids", "")
        ids = [part for part in raw.split(",") if part.strip()]
        filters = [f for f in request.query.get("filters", "").split(",") if f]
        if not ids or not all(p.strip().isdigit() for p in ids):
            return web.Response(status=400, text="null", content_type="application/json")
        if len(ids) > 1 and filters != ["price_overview"]:
            return web.Response(status=400, text="null", content_type="application/json")
        answer: dict[str, Any] = {}
        for part in ids:
            data = self._app_data(int(part))
            if data is None:
                answer[part] = {"success": False}
            elif filters == ["price_overview"]:
                answer[part] = {"success": True, "data": []}  # free or unpriced: an empty list
            elif filters:
                basic = {
                    "type",
                    "name",
                    "steam_appid",
                    "required_age",
                    "is_free",
                    "detailed_description",
                    "about_the_game",
                    "short_description",
                    "supported_languages",
                    "header_image",
                    "capsule_image",
                    "capsule_imagev5",
                    "website",
                    "pc_requirements",
                    "mac_requirements",
                    "linux_requirements",
                }
                keep = {k for k in filters if k not in basic} | (
                    basic if "basic" in filters else set()
                )
                answer[part] = {
                    "success": True,
                    "data": {k: v for k, v in data.items() if k in keep},
                }
            else:
                answer[part] = {"success": True, "data": data}
        return _json(answer)

    # --- the community ----------------------------------------------------------------

    def _error_page(self, message: str) -> web.Response:
        text = f"""<!DOCTYPE html>
<html class="responsive" lang="en">
<head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><title>Steam Community :: Error</title></head>
<body class="flat_page responsive_page">
<div class="responsive_page_template_content">
  <div class="error_ctn">
    <div id="message">
      <h2>Sorry!</h2>
      <h3>An error was encountered while processing your request:</h3>
      <h3>{message}</h3>
    </div>
  </div>
</div>
</body></html>
"""
        return _page(text)

    async def _page(self, request: web.Request) -> web.Response:
        raw = request.query.get("id", "")
        if not raw.isdigit() or int(raw) == 0:
            return self._error_page(_ERROR_MALFORMED)
        item = self._visible(int(raw))
        if item is None:
            return self._error_page(_ERROR_ABSENT)
        if item.details.is_collection:
            return _page(self._collection_page(item))
        return _page(self._item_page(item))

    def _head(self, item: CatalogItem) -> str:
        title = html.escape(item.details.title)
        community = self.community_url
        preview = html.escape(item.details.preview_url)
        return f"""<!DOCTYPE html>
<html class="responsive" lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<title>Steam Workshop::{title}</title>
<meta property="og:title" content="Steam Workshop::{title}">
<meta property="og:url" content="{community}/sharedfiles/filedetails/?id={item.id}">
<link rel="image_src" href="{preview}">
<script type="text/javascript">g_sessionID = "{hashlib.md5(str(item.id).encode()).hexdigest()[:24]}";</script>
</head>
<body class="flat_page responsive_page">
<div class="responsive_page_frame with_header"><div class="responsive_page_content"><div class="responsive_page_template_content" id="responsive_page_template_content">
"""

    def _breadcrumbs(self, item: CatalogItem) -> str:
        app_id = item.details.app_id
        app = self.catalog.apps.get(app_id)
        name = html.escape(app.details.name if app else str(app_id))
        c = self.community_url
        author = f"author{_number(item.id, 'creator', 1000)}"
        return f"""<div class="breadcrumbs">
  <a href="{c}/app/{app_id}">{name}</a>&nbsp;&gt;&nbsp;<a href="{c}/app/{app_id}/workshop/">Workshop</a>&nbsp;&gt;&nbsp;<a href="{c}/id/{author}/myworkshopfiles/?appid={app_id}">{author}'s Workshop</a>
</div>
<a data-appid="{app_id}" href="https://store.steampowered.com/app/{app_id}"><span>Store Page</span></a>
"""

    def _gallery(self, item: CatalogItem) -> str:
        preview = item.details.preview_url
        if not item.screenshots:
            if not preview:
                return ""
            p = html.escape(preview)
            return (
                '<div class="workshopItemPreviewImageMain"><a onclick="ShowEnlargedImagePreview'
                f'( \'{p}\' );"><img id="previewImageMain" class="workshopItemPreviewImageMain" '
                f'src="{html.escape(preview + "?imw=268&imh=268")}"/></a></div>\n'
            )
        images = [url for url in (preview, *item.screenshots) if url]
        full = ",\n".join(
            f"  {{ 'previewid' : '{n}', 'url': '{html.escape(_sized(url))}' }}"
            for n, url in enumerate(images)
        )
        first = images[0]
        thumbs = "\n".join(
            f'  <div class="highlight_strip_item highlight_strip_screenshot" id="thumb_screenshot_{n}">'
            f'<img src="{url}?imw=116&imh=65"></div>'
            for n, url in enumerate(images)
        )
        return f"""<div id="highlight_player_area">
  <div class="highlight_player_item highlight_screenshot" id="highlight_screenshot_0">
    <div class="screenshot_holder">
      <a onclick="ShowEnlargedImagePreview( '{_sized(first)}' );">
        <img id="previewImage" class="workshopItemPreviewImageEnlargeable" src="{first}?imw=637&imh=358&ima=fit&impolicy=Letterbox&imcolor=%23000000&letterbox=true">
      </a>
    </div>
  </div>
</div>
<div id="highlight_strip"><div id="highlight_strip_scroll">
{thumbs}
</div></div>
<script type="text/javascript">
var rgFullScreenshotURLs = [
{full}
];
</script>
"""

    def _item_page(self, item: CatalogItem) -> str:
        d = item.details
        now = dt.datetime.now(dt.UTC)
        c = self.community_url
        tags = ", ".join(
            f'<a href="{c}/workshop/browse/?appid={d.app_id}&amp;browsesort=toprated&amp;'
            f'section=readytouseitems&amp;requiredtags%5B%5D={html.escape(tag)}">{html.escape(tag)}</a>'
            for tag in d.tags
        )
        labels = ["File Size ", "Posted "]
        values = [f"{d.file_size / 1_000_000:.3f} MB", _steam_date(d.time_created, now)]
        if d.time_updated and d.time_updated != d.time_created:
            labels.append("Updated ")
            values.append(_steam_date(d.time_updated, now))
        required = ""
        if item.dependencies:
            links = []
            for dep in item.dependencies:
                dep_item = self.catalog.items.get(dep)
                name = html.escape(dep_item.details.title if dep_item else str(dep))
                links.append(
                    f'  <a href="{c}/workshop/filedetails/?id={dep}" target="_blank">\n'
                    f'    <div class="requiredItem">{name}</div>\n  </a>'
                )
            required = (
                '<div class="requiredItemsContainer" id="RequiredItems">\n'
                + "\n".join(links)
                + "\n</div>\n"
            )
        left = "\n".join(f'  <div class="detailsStatLeft">{label}</div>' for label in labels)
        right = "\n".join(f'  <div class="detailsStatRight">{value}</div>' for value in values)
        author = f"author{_number(item.id, 'creator', 1000)}"
        return (
            self._head(item)
            + self._breadcrumbs(item)
            + f"""
<div class="workshopItemDetailsHeader">
  <div class="workshopItemTitle">{html.escape(d.title)}</div>
</div>

{self._gallery(item)}
<div class="rightDetailsBlock">
  <div class="workshopTags"><span class="workshopTagsTitle">Tags:&nbsp;</span>{tags}</div>
</div>
<div class="detailsStatsContainerLeft">
{left}
</div>
<div class="detailsStatsContainerRight">
{right}
</div>

<div class="creatorsBlock"><div class="friendBlock persona offline"><div class="friendBlockContent">
  {author}<br><span class="friendSmallText">Offline</span>
</div></div></div>

{required}<!-- created by -->

<div class="workshopItemDescriptionTitle">Description</div>
<div class="workshopItemDescription" id="highlightContent">{_bbcode(d.description)}</div>

<table class="stats_table"><tbody>
  <tr><td>{_number(d.id, "views", 500000):,}</td><td>Unique Visitors</td></tr>
  <tr><td>{_number(d.id, "subs", 100000):,}</td><td>Current Subscribers</td></tr>
  <tr><td>{_number(d.id, "fav", 5000):,}</td><td>Current Favorites</td></tr>
</tbody></table>

<script type="text/javascript">var publishedfileid = '{d.id}';</script>
</div></div></div>
</body></html>
"""
        )

    def _collection_page(self, item: CatalogItem) -> str:
        c = self.community_url
        members = []
        for child_id in item.dependencies:
            child = self.catalog.items.get(child_id)
            title = html.escape(child.details.title if child else str(child_id))
            members.append(
                f'  <div class="collectionItem" id="sharedfile_{child_id}">\n'
                f'    <div class="collectionItemDetails"><a href="{c}/sharedfiles/filedetails/'
                f'?id={child_id}"><div class="workshopItemTitle">{title}</div></a></div>\n'
                "  </div>"
            )
        return (
            self._head(item)
            + self._breadcrumbs(item)
            + f"""
<div class="workshopItemDetailsHeader"><div class="workshopItemTitle">{html.escape(item.details.title)}</div></div>
<div class="workshopItemDescription" id="highlightContent">{_bbcode(item.details.description)}</div>
<div id="mainContentsCollection">
 <div class="collectionChildren">
{chr(10).join(members)}
 </div>
</div>
</div></div></div>
</body></html>
"""
        )

    # --- legacy files ---------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        item = next(
            (
                i
                for i in self.catalog.items.values()
                if i.details.file_url and _legacy_token(i.id) == token
            ),
            None,
        )
        if item is None:
            return web.Response(status=404, text="Not Found")
        files = [(path, b"".join(chunks)) for path, chunks in item.iter_files()]
        if len(files) == 1:
            body = files[0][1]
        else:
            # several files travel as one zip, as Don't Starve Together's legacy items do
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for path, data in files:
                    archive.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), data)
            body = buffer.getvalue()
        return web.Response(
            body=body,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Disposition": f'attachment; filename="{self._legacy_name(item)}"',
            },
        )
