"""A loopback HTTP proxy between the client and a real server, for the tests: it records
every archive response (the ``Range`` asked, the body bytes it forwarded) and, when a test
asks, breaks, corrupts, replaces or holds one.

One request per connection (it adds ``Connection: close`` both ways), so a response's body
is everything after its head.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator

import attrs

_DOWNLOAD = re.compile(r"^/download/(\d+)/?$")


@attrs.define
class Sent:
    method: str
    path: str
    mod_id: int | None
    range: str | None
    if_range: str | None
    status: int = 0
    body_bytes: int = 0


@attrs.define
class Proxy:
    upstream_port: int
    port: int = 0
    sent: list[Sent] = attrs.field(factory=list)
    cut_after: dict[int, int] = attrs.field(factory=dict)
    """Mod id → body bytes after which its next archive response is cut (once)."""
    corrupt: set[int] = attrs.field(factory=set)
    """Mods whose archive bodies get one byte flipped."""
    replace: dict[int, bytes] = attrs.field(factory=dict)
    """Mods whose archive is replaced by these bytes (with their sha256 as the ETag)."""
    hold: dict[int, asyncio.Event] = attrs.field(factory=dict)
    """Mods whose archive stops after its first 1 KiB until the event is set."""
    hidden: tuple[str, ...] = ()
    """Path prefixes answered ``404 unknown path`` as a server of the original Open Workshop
    API answers them (the launcher endpoints it lacks), without asking the server."""
    tasks: set[asyncio.Task[None]] = attrs.field(factory=set)
    in_flight: int = 0
    most_in_flight: int = 0
    """The most archive bodies on the way at one time."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def downloads(self, mod_id: int | None = None) -> list[Sent]:
        """The ``GET /download/{id}`` responses forwarded (of one mod)."""
        return [
            s
            for s in self.sent
            if s.method == "GET" and s.mod_id is not None and mod_id in (None, s.mod_id)
        ]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            await self._exchange(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        match = _DOWNLOAD.match(path.split("?")[0])
        mod_id = int(match[1]) if match else None
        record = Sent(method, path, mod_id, headers.get("range"), headers.get("if-range"))
        self.sent.append(record)
        if any(path.split("?")[0].startswith(prefix) for prefix in self.hidden):
            data = b'{"message":"unknown path","error_id":404,"details":[]}'
            writer.write(
                b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                + f"Connection: close\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                + data
            )
            record.status, record.body_bytes = 404, len(data)
            await writer.drain()
            return
        if mod_id is not None and mod_id in self.replace and method == "GET":
            data = self.replace[mod_id]
            etag = hashlib.sha256(data).hexdigest()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nConnection: close\r\n"
                + f'Content-Length: {len(data)}\r\nETag: "{etag}"\r\n\r\n'.encode()
                + data
            )
            record.status, record.body_bytes = 200, len(data)
            await writer.drain()
            return
        kept = [line for line in lines[1:] if line and not line.lower().startswith("connection:")]
        request = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode()
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            up_writer.write(request + body)
            await up_writer.drain()
            answer_head = await up_reader.readuntil(b"\r\n\r\n")
            record.status = int(answer_head.split(b" ", 2)[1])
            writer.write(answer_head)
            await self._body(record, up_reader, writer)
        finally:
            up_writer.close()
            with contextlib.suppress(ConnectionError):
                await up_writer.wait_closed()

    async def _body(
        self, record: Sent, source: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        mod_id = record.mod_id if record.method == "GET" and record.status in (200, 206) else None
        cut = self.cut_after.pop(mod_id, None) if mod_id is not None else None
        hold = self.hold.get(mod_id) if mod_id is not None else None
        flip = mod_id in self.corrupt
        if mod_id is not None:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self._forward(record, source, writer, cut, hold, flip)
        finally:
            if mod_id is not None:
                self.in_flight -= 1

    async def _forward(
        self,
        record: Sent,
        source: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        cut: int | None,
        hold: asyncio.Event | None,
        flip: bool,
    ) -> None:
        while chunk := await source.read(64 * 1024):
            if flip and chunk:
                chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
                flip = False
            if hold is not None and len(chunk) >= 1024 - record.body_bytes:
                first = 1024 - record.body_bytes
                await self._send(record, writer, chunk[:first])
                await writer.drain()
                await hold.wait()
                hold, chunk = None, chunk[first:]
            if cut is not None and record.body_bytes + len(chunk) >= cut:
                await self._send(record, writer, chunk[: cut - record.body_bytes])
                await writer.drain()
                writer.transport.abort()
                return
            await self._send(record, writer, chunk)
        await writer.drain()

    @staticmethod
    async def _send(record: Sent, writer: asyncio.StreamWriter, chunk: bytes) -> None:
        writer.write(chunk)
        record.body_bytes += len(chunk)


@contextlib.asynccontextmanager
async def running_proxy(upstream_port: int, hidden: tuple[str, ...] = ()) -> AsyncIterator[Proxy]:
    proxy = Proxy(upstream_port, hidden=hidden)
    server = await asyncio.start_server(proxy._handle, "127.0.0.1", 0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        for task in list(proxy.tasks):
            task.cancel()
        for task in list(proxy.tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await server.wait_closed()
