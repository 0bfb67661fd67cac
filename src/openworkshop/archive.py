"""ZIP archives of mods: packing a folder, and the filesystem archive store.

Entries are compressed with ``ZIP_BZIP2`` (the seed's format), streamed in chunks so a mod
of several GB never sits in memory. Only regular files inside the item's folder are packed:
symlinks, device files, FIFOs and anything resolving outside the folder are left out.
"""

from __future__ import annotations

import asyncio
import bz2
import collections
import concurrent.futures
import contextlib
import hashlib
import itertools
import os
import shutil
import socket
import stat
import tempfile
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import attrs

from openworkshop.domain import Archive
from openworkshop.errors import ArchiveError

__all__ = [
    "FileArchiveStore",
    "HashingWriter",
    "owner_alive",
    "owner_tag",
    "pack_folder",
    "packable_files",
]

_CHUNK = 1 << 20
_SPOOL_IN_MEMORY = 8 << 20
_LEVEL_SLOT = (
    "compress_level" if "compress_level" in zipfile.ZipInfo.__slots__ else "_compresslevel"
)
"""ZipInfo's compression level: a private slot before Python 3.13, public after."""
_TEMP_SUFFIX = ".partial"
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:12]
"""This host, in temporary names (so a sweep knows which writers it can check are alive)."""


def packable_files(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every regular file under ``folder`` (not following links), with its archive name."""
    root = folder.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        # do not descend into symlinked folders (os.walk lists them as dirnames)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for name in sorted(filenames):
            path = Path(dirpath, name)
            try:
                info = path.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue  # symlinks, devices, FIFOs, sockets
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                continue
            yield path, resolved.relative_to(root).as_posix()


def pack_folder(
    folder: Path, out: IO[bytes], *, compresslevel: int = 9, threads: int | None = None
) -> int:
    """Write a ZIP_BZIP2 archive of ``folder`` to ``out``; return the bytes packed (unpacked size).

    Files are compressed in parallel on ``threads`` threads (bz2 releases the GIL; default:
    one per CPU), each into a spool that stays in memory up to 8 MiB and goes to a temporary
    file beyond, then written to ``out`` in order with their sizes known (no data
    descriptors). At most ``2 × threads`` files are in flight, so memory stays bounded
    whatever the mod's size. Blocking: run it in a thread.
    """
    workers = max(1, threads if threads is not None else (os.cpu_count() or 1))
    files = list(packable_files(folder))
    total = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_BZIP2, allowZip64=True) as archive:
        if workers == 1:  # straight through zipfile: no spool to copy from
            for path, name in files:
                info = zipfile.ZipInfo.from_file(path, name)
                info.compress_type = zipfile.ZIP_BZIP2
                setattr(info, _LEVEL_SLOT, compresslevel)
                with path.open("rb") as source, archive.open(info, "w", force_zip64=True) as target:
                    shutil.copyfileobj(source, target, _CHUNK)
                total += info.file_size
            return total
        with concurrent.futures.ThreadPoolExecutor(workers, "openworkshop-pack") as pool:
            pending: collections.deque[concurrent.futures.Future[_Compressed]] = collections.deque()
            queue = iter(files)
            try:
                for path, name in itertools.islice(queue, workers * 2):
                    pending.append(pool.submit(_compress, path, name, compresslevel))
                while pending:
                    compressed = pending.popleft().result()
                    for path, name in itertools.islice(queue, 1):
                        pending.append(pool.submit(_compress, path, name, compresslevel))
                    total += _append(archive, out, compressed)
            finally:
                for future in pending:
                    future.cancel()
                    if not future.cancelled():
                        with contextlib.suppress(Exception):
                            future.result().spool.close()
    return total


@attrs.frozen
class _Compressed:
    info: zipfile.ZipInfo
    spool: IO[bytes]


def _compress(path: Path, name: str, compresslevel: int) -> _Compressed:
    """One file, bzip2-compressed into a spool, with its CRC and sizes."""
    info = zipfile.ZipInfo.from_file(path, name)
    info.compress_type = zipfile.ZIP_BZIP2
    compressor = bz2.BZ2Compressor(compresslevel)
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 (returned)
    crc = 0
    size = 0
    try:
        with path.open("rb") as source:
            while chunk := source.read(_CHUNK):
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                spool.write(compressor.compress(chunk))
        spool.write(compressor.flush())
    except BaseException:
        spool.close()
        raise
    info.CRC = crc
    info.file_size = size
    info.compress_size = spool.tell()
    spool.seek(0)
    return _Compressed(info, spool)


def _append(archive: zipfile.ZipFile, out: IO[bytes], item: _Compressed) -> int:
    """Write one compressed entry (header, data) where the archive stands; the central
    directory is written by ``ZipFile.close`` from ``archive.filelist``."""
    info = item.info
    with item.spool:
        info.header_offset = out.tell()
        out.write(info.FileHeader(zip64=None))
        shutil.copyfileobj(item.spool, out, _CHUNK)
    archive.filelist.append(info)
    archive.NameToInfo[info.filename] = info
    archive.start_dir = out.tell()
    return info.file_size


class HashingWriter:
    """A write-only binary file that hashes (sha256) and counts what passes through."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        n = self._raw.write(data)
        self._hash.update(data)
        self.size += len(data)
        return n

    def flush(self) -> None:
        self._raw.flush()

    def tell(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class FileArchiveStore:
    """Archives as files under one folder, written to a temporary name and renamed into place.

    Safe for several processes on one folder: temporary names are unique, ``rename`` is
    atomic, and a reader holding an archive open keeps reading it after it is replaced.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key or key.startswith(("/", ".")) or ".." in key.split("/") or "\\" in key:
            raise ArchiveError(f"bad archive key {key!r}")
        return self.root / key

    async def put(self, key: str, build: Callable[[IO[bytes]], None]) -> Archive:
        target = self._path(key)
        return await asyncio.to_thread(self._put, key, target, build)

    def _put(self, key: str, target: Path, build: Callable[[IO[bytes]], None]) -> Archive:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{owner_tag()}{_TEMP_SUFFIX}")
        try:
            with temp.open("xb") as raw:
                writer = HashingWriter(raw)
                build(writer)  # type: ignore[arg-type]
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(temp, target)
            _fsync_dir(target.parent)
        except BaseException as exc:
            temp.unlink(missing_ok=True)
            if isinstance(exc, OSError | zipfile.BadZipFile | ValueError):
                raise ArchiveError(f"cannot write archive {key}: {exc}") from exc
            raise
        return Archive(key=key, size=writer.size, sha256=writer.hexdigest())

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def remove(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(path.unlink, True)

    async def size(self, key: str) -> int | None:
        def _size() -> int | None:
            try:
                return self._path(key).stat().st_size
            except FileNotFoundError:
                return None

        return await asyncio.to_thread(_size)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def open(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise ArchiveError(f"archive {key} is missing") from exc

    async def keys(self) -> list[str]:
        def _keys() -> list[str]:
            if not self.root.is_dir():
                return []
            return sorted(
                p.relative_to(self.root).as_posix()
                for p in self.root.rglob("*")
                if p.is_file() and not p.name.startswith(".")
            )

        return await asyncio.to_thread(_keys)

    async def sweep(self) -> int:
        """Remove temporary files of writes that died: their process on this host is gone,
        or (another host's) they have not changed for an hour."""

        def _sweep() -> int:
            if not self.root.is_dir():
                return 0
            removed = 0
            for path in self.root.rglob(f".*{_TEMP_SUFFIX}"):
                if owner_alive(path.name.rsplit(".", 2)[1], path):
                    continue
                path.unlink(missing_ok=True)
                removed += 1
            return removed

        return await asyncio.to_thread(_sweep)


def owner_tag() -> str:
    """A unique name part saying which host and process made it: ``host~pid~random``."""
    return f"{_HOST}~{os.getpid()}~{uuid.uuid4().hex}"


def owner_alive(tag: str, path: Path) -> bool:
    """Whether the process named by an :func:`owner_tag` may still be using ``path``: on this
    host, whether it runs; on another host, whether ``path`` changed in the last hour."""
    try:
        owner_host, pid_text, _ = tag.split("~")
        pid = int(pid_text)
    except ValueError:
        return False
    if owner_host == _HOST:
        if pid == os.getpid():
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        return time.time() - path.stat().st_mtime < 3600
    except FileNotFoundError:
        return True


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
