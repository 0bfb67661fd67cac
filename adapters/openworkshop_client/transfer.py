"""One archive from the server to disk: resumable (``Range`` + ``If-Range`` on the ETag the
partial bytes belong to), checked (sha256 against the ETag) before anyone uses it.

Partial downloads live in ``<folder>/.openworkshop/partial/<id>.part`` with the ETag they
belong to in ``<id>.etag``; a broken connection is resumed from where it stopped, within the
run and in the next one.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import aiohttp
import attrs

from openworkshop_client.errors import (
    ChecksumMismatch,
    DiskFull,
    ServerUnreachable,
    TransferInterrupted,
)
from openworkshop_client.server import ServerApi, _error, _parse, etag_sha256

__all__ = ["Fetched", "StillLoading", "fetch_archive"]

CHUNK = 64 * 1024
RESUMES = 5
"""Broken connections resumed for one archive before giving up."""
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


@attrs.frozen
class Fetched:
    path: Path
    sha256: str
    size: int


class StillLoading(Exception):
    """The server has no version of the mod to send yet (202); try after ``retry_after``."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _disk(exc: OSError, path: Path) -> Exception:
    return DiskFull(str(path)) if exc.errno == errno.ENOSPC else exc


async def fetch_archive(
    api: ServerApi,
    mod_id: int,
    partial_dir: Path,
    on_bytes: Callable[[int, int | None], None],
    on_verify: Callable[[], None],
) -> Fetched:
    """Download mod ``mod_id``'s archive into ``partial_dir``, resuming what is there;
    verify its sha256; return where it is. ``on_bytes(done, total)`` reports progress."""
    await asyncio.to_thread(partial_dir.mkdir, parents=True, exist_ok=True)
    part = partial_dir / f"{mod_id}.part"
    tag_file = partial_dir / f"{mod_id}.etag"
    resumes = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        etag = tag_file.read_text().strip() if tag_file.exists() else ""
        headers = {}
        if have and etag:
            headers = {"Range": f"bytes={have}-", "If-Range": etag}
        try:
            done = await _receive(api, mod_id, part, tag_file, headers, have, on_bytes)
        except _Broken as broken:
            resumes += 1
            if resumes > RESUMES:
                raise TransferInterrupted(
                    f"mod {mod_id}: the connection broke {resumes} times ({broken})"
                ) from None
            await api.sleep(min(0.1 * 2**resumes, 5.0))
            continue
        break
    on_verify()
    etag = tag_file.read_text().strip()
    expected = etag_sha256(etag)
    actual = await asyncio.to_thread(_sha256, part)
    if expected is None or actual != expected:
        part.unlink(missing_ok=True)
        tag_file.unlink(missing_ok=True)
        raise ChecksumMismatch(mod_id, expected or f"no sha256 (ETag {etag!r})", actual)
    return Fetched(part, actual, done)


class _Broken(Exception):
    pass


def _open_part(part: Path, tag_file: Path, etag: str, mode: str) -> IO[Any]:
    """The partial file to write, its ETag noted first (for the ``If-Range`` of a resume)."""
    tag_file.write_text(etag)
    return part.open(mode)


async def _receive(
    api: ServerApi,
    mod_id: int,
    part: Path,
    tag_file: Path,
    headers: dict[str, str],
    have: int,
    on_bytes: Callable[[int, int | None], None],
) -> int:
    """One GET of the archive, appended to ``part``; the bytes it holds at the end."""
    try:
        async with api.session.get(api.url(f"/download/{mod_id}"), headers=headers) as response:
            if response.status == 202:
                raise StillLoading(float(response.headers.get("Retry-After", "1")))
            if response.status in (429, 503):
                await api.sleep(float(response.headers.get("Retry-After", "1")))
                raise _Broken(f"the server answered {response.status}")
            if response.status not in (200, 206):
                raise _error(response.status, _parse(await response.text()))
            etag = response.headers.get("ETag", "")
            total: int | None
            if response.status == 206:
                match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
                if match is None or int(match[1]) != have:
                    await asyncio.to_thread(part.unlink, missing_ok=True)
                    raise _Broken("the server resumed at another offset")
                total = int(match[3]) if match[3] != "*" else None
                mode, done = "ab", have
            else:
                length = response.headers.get("Content-Length")
                total = int(length) if length is not None else None
                mode, done = "wb", 0
            try:
                with _open_part(part, tag_file, etag, mode) as out:
                    on_bytes(done, total)
                    async for chunk in response.content.iter_chunked(CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        on_bytes(done, total)
            except OSError as exc:
                raise _disk(exc, part) from None
            if total is not None and done != total:
                raise _Broken(f"{done} of {total} bytes")
            return done
    except aiohttp.ClientConnectorError as exc:
        raise ServerUnreachable(api.base_url, str(exc)) from None
    except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
        raise _Broken(str(exc) or type(exc).__name__) from None
    except TimeoutError:
        raise _Broken("timed out") from None
