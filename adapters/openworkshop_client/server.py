"""The requests the client sends to an Open Workshop server, and their answers as values.

Two generations of endpoints: those of the original Open Workshop API, which every server
has (``/info/mod``, ``/download/steam``, ``/condition/mod``, ``/download``), and the
launcher endpoints (``/plan``, ``/check/mods``, ``/progress``) that newer servers add. A
launcher endpoint that answers 404 ``unknown path`` is remembered as missing and the caller
falls back to the original ones.

429 and 503 answers are retried after their ``Retry-After``; connection failures become
:class:`ServerUnreachable`, error answers :class:`ServerError`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import aiohttp
import attrs

from openworkshop_client.errors import ServerError, ServerUnreachable

__all__ = [
    "CONDITION_BATCH",
    "Answer",
    "CheckResult",
    "PlanEntry",
    "ServerApi",
    "ServerPlan",
    "ServerProgress",
    "etag_sha256",
]

CONDITION_BATCH = 50
"""Ids per ``/condition/mod`` request (the original API's limit)."""
PLAN_GET_IDS = 50
"""Up to this many ids a plan is asked for with ``GET /plan/[ids]``; more go in a
``POST /plan`` body (a URL stays short)."""
CHECK_BATCH = 1000
"""Mods per ``POST /check/mods``."""
MAX_RETRY_AFTER = 300.0
"""The longest ``Retry-After`` honoured as asked; longer ones are an error."""
RETRIES = 8
"""429/503 answers retried for one request before giving up."""
UNKNOWN_PATH = 404

Sleep = Callable[[float], Awaitable[None]]


def etag_sha256(etag: str | None) -> str | None:
    """The sha256 an archive's ``ETag`` carries (``"<hex>"``), or ``None``."""
    if not etag:
        return None
    value = etag.strip().removeprefix("W/").strip('"').lower()
    return value if len(value) == 64 and all(c in "0123456789abcdef" for c in value) else None


def ids_path(ids: Iterable[int]) -> str:
    return "[" + ",".join(str(i) for i in ids) + "]"


@attrs.frozen
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any


@attrs.frozen(kw_only=True)
class PlanEntry:
    """One mod of a plan, dependencies before the mods that require them."""

    id: int
    name: str = ""
    condition: int | None = None
    """The server's state for it (0/1 ready, 2 downloading, 3 queued), ``None``: not there."""
    size: int | None = None
    sha256: str | None = None
    version: str = ""
    parent: int | None = None
    """``None`` when asked for (or an item of a collection asked for); else the first mod
    that pulled it in."""
    dependencies: tuple[int, ...] = ()
    dependencies_known: bool = True
    """False while the server has not read the mod's page (``dependencies: null``): the
    plan is asked for again once the server has the mod."""
    collection: int | None = None
    """The collection it came from, when it came from one."""
    missing: bool = False
    """Steam does not list it (missing, private, banned)."""


@attrs.frozen(kw_only=True)
class ServerPlan:
    """``/plan``'s answer: the entries, dependencies first, and whether every entry's
    dependencies are known (``complete``)."""

    entries: tuple[PlanEntry, ...]
    complete: bool = True
    collections: Mapping[int, tuple[int, ...]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class CheckResult:
    """``POST /check/mods`` for one mod: ``state`` is ``current``, ``outdated`` (the server's
    archive is another one: its ``sha256``, ``size`` and ``version``, the date_update, come
    along, as they do for ``current``), ``missing`` (the server has no archive of it) or
    ``removed`` (the server knows it is gone, with the ``reason``)."""

    state: str
    sha256: str | None = None
    size: int | None = None
    version: str = ""
    reason: str | None = None
    checking: bool = False
    """The server queued an update check against Steam for it (``refresh``)."""


@attrs.frozen(kw_only=True)
class ServerProgress:
    """One ``/progress`` event: ``phase`` queued (``position`` 1: next) / downloading /
    packing (``done`` of ``total`` bytes) / parsing / ready / failed (``reason``) /
    missing."""

    id: int
    phase: str
    position: int | None = None
    done: int | None = None
    total: int | None = None
    reason: str | None = None


def _retry_after(headers: Mapping[str, str], default: float) -> float:
    try:
        return max(0.0, float(headers.get("Retry-After", default)))
    except ValueError:
        return default


@attrs.define
class ServerApi:
    base_url: str
    session: aiohttp.ClientSession
    sleep: Sleep = asyncio.sleep
    missing: set[str] = attrs.field(factory=set)
    """Launcher endpoints this server does not have (answered 404 ``unknown path``)."""

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    async def request(
        self,
        method: str,
        path: str,
        *,
        payload: Any = None,
        headers: Mapping[str, str] | None = None,
        ok: Sequence[int] = (200,),
        unread: Sequence[int] = (),
    ) -> Answer:
        """Send one request; wait out 429/503; return the answer if its status is in ``ok``
        (the body of a status in ``unread`` is not read: the connection is closed)."""
        for attempt in range(RETRIES + 1):
            try:
                async with self.session.request(
                    method, self.url(path), json=payload, headers=headers
                ) as response:
                    status, answer_headers = response.status, response.headers
                    if method == "HEAD" or status in unread:
                        response.close()
                        text = ""
                    else:
                        text = await response.text()
            except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                raise ServerUnreachable(self.base_url, str(exc) or type(exc).__name__) from None
            body: Any = None
            if text:
                try:
                    body = json.loads(text)
                except ValueError:
                    body = text
            if status in ok:
                return Answer(status, answer_headers, body)
            if status in (429, 503):
                wait = _retry_after(answer_headers, 1.0)
                if wait > MAX_RETRY_AFTER or attempt == RETRIES:
                    break
                await self.sleep(wait)
                continue
            break
        raise _error(status, body)

    # --- the original Open Workshop API ---------------------------------------------------

    async def info_mod(self, mod_id: int) -> dict[str, Any]:
        answer = await self.request("GET", f"/info/mod/{mod_id}?dependencies=true&dates=true")
        return dict(answer.body)

    async def request_download(self, mod_id: int) -> Answer:
        """``GET /download/steam/{id}``: 200 (the server has it; the archive is not read), 202
        (queued) or 404 (Steam refuses it: ``reason``). The original API has no ``HEAD`` here."""
        return await self.request(
            "GET", f"/download/steam/{mod_id}", ok=(200, 202, 404), unread=(200,)
        )

    async def conditions(self, ids: Sequence[int]) -> dict[int, int]:
        """The server's condition of each id it has, ``CONDITION_BATCH`` ids a request."""
        found: dict[int, int] = {}
        for start in range(0, len(ids), CONDITION_BATCH):
            batch = ids[start : start + CONDITION_BATCH]
            answer = await self.request("GET", f"/condition/mod/{ids_path(batch)}")
            found.update({int(k): int(v) for k, v in dict(answer.body).items()})
        return found

    async def head_archive(self, mod_id: int, sha256: str | None = None) -> Answer:
        """``HEAD /download/{id}``: 304 when ``sha256`` is still the server's archive, 200
        with the new ``ETag``, 202 while the server has no version yet, 404 without it."""
        headers = {"If-None-Match": f'"{sha256}"'} if sha256 else None
        return await self.request(
            "HEAD", f"/download/{mod_id}", headers=headers, ok=(200, 202, 304, 404)
        )

    # --- launcher endpoints (newer servers) -----------------------------------------------

    async def _launcher(self, name: str, method: str, path: str, payload: Any = None) -> Any:
        """The body of a launcher endpoint, or ``None`` when the server lacks it."""
        if name in self.missing:
            return None
        try:
            answer = await self.request(method, path, payload=payload)
        except ServerError as exc:
            if exc.status == 404 and exc.error_id == UNKNOWN_PATH:
                self.missing.add(name)
                return None
            raise
        return answer.body

    async def plan(self, ids: Sequence[int]) -> ServerPlan | None:
        """``GET /plan/[ids]`` (``POST /plan`` with a JSON body past ``PLAN_GET_IDS`` ids):
        the closure of ``ids`` under required items, dependencies first; ``None`` when the
        server has no such endpoint."""
        if len(ids) > PLAN_GET_IDS:
            body = await self._launcher("plan", "POST", "/plan", {"ids": list(ids)})
        else:
            body = await self._launcher("plan", "GET", f"/plan/{ids_path(ids)}")
        if body is None:
            return None
        rows: list[dict[str, Any]] = list(body.get("results") or ())
        entries = tuple(
            PlanEntry(
                id=int(row["id"]),
                name=str(row.get("name") or ""),
                condition=row.get("condition"),
                size=row.get("size"),
                sha256=row.get("sha256"),
                version=str(row.get("date_update") or ""),
                parent=row.get("parent"),
                dependencies=tuple(int(d) for d in row.get("dependencies") or ()),
                dependencies_known=row.get("dependencies") is not None,
                collection=row.get("collection"),
                missing=bool(row.get("missing")),
            )
            for row in rows
        )
        collections = {
            int(k): tuple(int(i) for i in v) for k, v in dict(body.get("collections") or {}).items()
        }
        return ServerPlan(
            entries=entries, complete=bool(body.get("complete", True)), collections=collections
        )

    async def check(
        self, versions: Mapping[int, str], *, refresh: bool = False
    ) -> dict[int, CheckResult] | None:
        """``POST /check/mods`` with ``{"<id>": "<sha256 or date_update>"}``, ``CHECK_BATCH``
        mods a request; ``None`` without the endpoint. The answer is ``{"<id>": {"state":
        ..., "sha256", "size", "date_update", "reason", "checking"}}`` for every id sent."""
        found: dict[int, CheckResult] = {}
        items = list(versions.items())
        path = "/check/mods?refresh=true" if refresh else "/check/mods"
        for start in range(0, len(items), CHECK_BATCH):
            batch = {str(k): v for k, v in items[start : start + CHECK_BATCH]}
            body = await self._launcher("check", "POST", path, batch)
            if body is None:
                return None
            for key, row in dict(body).items():
                found[int(key)] = CheckResult(
                    state=str(row["state"]),
                    sha256=row.get("sha256"),
                    size=row.get("size"),
                    version=str(row.get("date_update") or ""),
                    reason=row.get("reason"),
                    checking=bool(row.get("checking", False)),
                )
        return found

    async def progress(self, ids: Sequence[int]) -> AsyncGenerator[ServerProgress, None] | None:
        """``GET /progress/{ids}`` (server-sent events); ``None`` without the endpoint."""
        if "progress" in self.missing:
            return None
        try:
            response = await self.session.get(
                self.url(f"/progress/{ids_path(ids)}"), headers={"Accept": "text/event-stream"}
            )
        except aiohttp.ClientConnectionError as exc:
            raise ServerUnreachable(self.base_url, str(exc)) from None
        if response.status == 404:
            response.release()
            self.missing.add("progress")
            return None
        if response.status != 200:
            body = await response.text()
            response.release()
            raise _error(response.status, _parse(body))
        return _events(response)


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


async def _events(response: aiohttp.ClientResponse) -> AsyncGenerator[ServerProgress, None]:
    """The ``data:`` lines of a server-sent event stream, as ``ServerProgress``."""
    try:
        async for raw in response.content:
            line = raw.decode("utf-8").strip()
            if not line.startswith("data:"):
                continue
            row = json.loads(line.removeprefix("data:"))
            yield ServerProgress(
                id=int(row["id"]),
                phase=str(row.get("phase")),
                position=row.get("position"),
                done=row.get("done", row.get("bytes_done")),
                total=row.get("total", row.get("bytes_total")),
                reason=row.get("reason"),
            )
    finally:
        response.release()


def _error(status: int, body: Any) -> ServerError:
    if isinstance(body, dict) and "message" in body:
        error_id = body.get("error_id")
        return ServerError(
            status, str(body["message"]), error_id if isinstance(error_id, int) else None
        )
    return ServerError(status, f"HTTP {status}")
