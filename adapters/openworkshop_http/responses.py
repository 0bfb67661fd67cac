"""Responses: JSON with the exact ``Content-Type``, and archives (a file, a stream, or a hand-off
to nginx), with the headers api.md asks for.

An archive response never holds the archive in memory: a local file goes out with
:class:`ArchiveFileResponse` (Starlette's ``FileResponse``, which answers ``Range`` and uses the
zero-copy ``http.response.pathsend`` where the server offers it); any other store is read in
chunks in a worker thread.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import IO, Final
from urllib.parse import quote

import anyio
from starlette.background import BackgroundTask
from starlette.datastructures import Headers
from starlette.responses import FileResponse, MalformedRangeHeader, Response
from starlette.responses import RangeNotSatisfiable as Unsatisfiable
from starlette.types import Receive, Scope, Send

from openworkshop import ArchiveHandle
from openworkshop_http.encoding import JSONResponse
from openworkshop_http.errors import RangeNotSatisfiable, error_response

__all__ = [
    "ZIP",
    "ArchiveFileResponse",
    "ArchiveStreamResponse",
    "JSONResponse",
    "archive_headers",
    "content_disposition",
    "etag_matches",
    "safe_filename",
    "sends_first_byte",
]

ZIP: Final = "application/zip"
CHUNK: Final = 256 * 1024

_RFC5987_SAFE: Final = "!#$&+-.^_`|~"
_UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SPACES: Final = re.compile(r"\s+")


def safe_filename(name: str, fallback: str) -> str:
    """``name`` as a file name: quotes, slashes, backslashes and control, format (bidi
    overrides) and separator characters removed, white space folded. ``fallback`` if nothing
    is left."""
    kept = "".join(
        " " if c.isspace() else c
        for c in name
        if c not in '"/\\' and (c.isspace() or unicodedata.category(c) not in _UNSAFE_CATEGORIES)
    )
    cleaned = _SPACES.sub(" ", kept).strip(" .")[:200].strip(" .")
    return cleaned or fallback


def content_disposition(handle: ArchiveHandle) -> str:
    """``attachment; filename="name.zip"`` for an ASCII name, else ``attachment;
    filename*=UTF-8''...`` alone (the bots' parser breaks when both are present)."""
    name = safe_filename(handle.mod.name, str(handle.mod.id)) + ".zip"
    if name.isascii():
        return f'attachment; filename="{name}"'
    return f"attachment; filename*=UTF-8''{quote(name, safe=_RFC5987_SAFE)}"


def archive_headers(handle: ArchiveHandle) -> dict[str, str]:
    return {
        "ETag": handle.etag,
        "Content-Disposition": content_disposition(handle),
        "Cache-Control": "no-cache",
    }


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` (weak comparison, a list, or ``*``) names ``etag``."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(part.strip().removeprefix("W/") == wanted for part in if_none_match.split(","))


def sends_first_byte(range_header: str | None, size: int) -> bool:
    """Whether the answer carries the archive's first byte: a whole download (no range, or
    one that is ignored), or a range that starts at byte 0. Each download is counted once, not
    once per resumed piece, and never for a 416."""
    if not range_header:
        return True
    try:
        ranges = FileResponse._parse_range_header(range_header, size)
    except MalformedRangeHeader:
        return True  # ignored: the whole archive is sent
    except Unsatisfiable:
        return False
    return not ranges or any(start == 0 for start, _ in ranges)


def parse_single_range(range_header: str | None, size: int) -> tuple[int, int] | None:
    """A satisfiable single byte range as ``(start, end)`` (end exclusive), or ``None`` to send
    the whole archive (no range, a malformed one, or several: a server may ignore them).
    Raises RangeNotSatisfiable for a range that starts past the end."""
    if not range_header:
        return None
    try:
        ranges = FileResponse._parse_range_header(range_header, size)
    except MalformedRangeHeader:
        return None
    except Unsatisfiable:
        raise RangeNotSatisfiable(size) from None
    if len(ranges) != 1:
        return None
    return ranges[0]


class ArchiveFileResponse(FileResponse):
    """A local archive file. ``Range`` as Starlette answers it, except that a malformed
    ``Range`` is ignored (the whole file is sent) instead of a plain-text 400, and an
    unsatisfiable one gets the JSON error shape."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        range_header = headers.get("range")
        if range_header is not None and self.stat_result is not None:
            try:
                FileResponse._parse_range_header(range_header, self.stat_result.st_size)
            except Unsatisfiable:
                response = error_response(RangeNotSatisfiable(self.stat_result.st_size))
                await response(scope, receive, send)
                return
            except MalformedRangeHeader:
                scope = dict(scope)
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"range"]
        await super().__call__(scope, receive, send)


class ArchiveStreamResponse(Response):
    """An archive read in chunks in a worker thread (stores with no local file), from a file
    opened by the handler (so a missing archive is known before the status is sent); a single
    ``Range`` is answered by seeking."""

    def __init__(
        self,
        source: IO[bytes],
        size: int,
        *,
        headers: Mapping[str, str],
        byte_range: tuple[int, int] | None,
        background: BackgroundTask | None,
    ) -> None:
        self.source = source
        self.size = size
        self.byte_range = byte_range
        self.background = background
        self.status_code = 200 if byte_range is None else 206
        self.media_type = ZIP
        self.init_headers(headers)
        self.headers["accept-ranges"] = "bytes"
        start, end = byte_range or (0, size)
        self.headers["content-length"] = str(end - start)
        if byte_range is not None:
            self.headers["content-range"] = f"bytes {start}-{end - 1}/{size}"

    async def _chunks(self) -> AsyncGenerator[bytes, None]:
        start, end = self.byte_range or (0, self.size)
        source = self.source
        try:
            if start:
                await anyio.to_thread.run_sync(source.seek, start)
            left = end - start
            while left > 0:
                chunk = await anyio.to_thread.run_sync(source.read, min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(source.close)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": self.status_code}
        await send({**start, "headers": self.raw_headers})
        if scope["method"].upper() == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        completed = False
        async with anyio.create_task_group() as group:

            async def watch_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()  # the client left: stop reading the archive

            group.start_soon(watch_disconnect)
            async with aclosing(self._chunks()) as chunks:
                async for chunk in chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            completed = True
            group.cancel_scope.cancel()
        if completed and self.background is not None:
            await self.background()
