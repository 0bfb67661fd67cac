"""ZIP archives of mods: packing a folder, and the filesystem archive store.

Entries are compressed with ``ZIP_BZIP2`` (the original API's format), streamed in chunks so a
mod of several GB never sits in memory. Only regular files inside the item's folder are packed:
symlinks, device files, FIFOs, anything resolving outside the folder and hard links to files
outside it are left out; names a Windows extractor would write elsewhere (a backslash, a
colon) are refused, control characters are removed and names that are not UTF-8 are decoded
with replacement characters (:func:`archive_name`). A mod larger than its limit unpacked is
refused whole (:class:`~openworkshop.errors.ModTooLarge`). Each file left out or renamed is
logged with the reason (logger ``openworkshop.archive``); ``docs/pipeline.md`` has the rules.

Temporary files of the store carry their writer's :class:`~openworkshop.owners.Owner` tag, so
a sweep removes them once the writer is dead for certain, and :meth:`FileArchiveStore.live_writes`
tells which stored archives a live writer may not have recorded yet.
"""

from __future__ import annotations

import asyncio
import bz2
import collections
import concurrent.futures
import contextlib
import hashlib
import itertools
import logging
import os
import re
import shutil
import stat
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import attrs

from openworkshop.domain import Archive
from openworkshop.errors import ArchiveError, ModTooLarge
from openworkshop.owners import OWNERS, Owner, is_alive, live_records, owner_of, sweep_owners

__all__ = [
    "FileArchiveStore",
    "HashingWriter",
    "archive_name",
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
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""C0 and C1 control characters and DEL: never part of a name a player's tools can show."""

log = logging.getLogger("openworkshop.archive")


def archive_name(parts: Sequence[str]) -> tuple[str | None, str]:
    """The ZIP name of a file at ``parts`` (its path's components, as ``os`` gives them), and
    why it was changed or refused (``""`` when it is used unchanged).

    ``None`` (refused) when a component holds a backslash or a colon: a Windows extractor
    reads ``..\\..\\x`` as a path out of its folder, ``C:x`` as a drive and ``a:b`` as a
    stream of ``a``. Control characters are removed (refused if nothing is left); bytes
    that are not UTF-8 (given by ``os`` as surrogate escapes) become U+FFFD.
    """
    clean: list[str] = []
    changes: list[str] = []
    for part in parts:
        text = os.fsencode(part).decode("utf-8", "replace")
        if text != part:
            changes.append("not UTF-8, decoded with replacement characters")
        if "\\" in text:
            return None, "a backslash in the name (a folder separator on Windows)"
        if ":" in text:
            return None, "a colon in the name (a drive letter or a file stream on Windows)"
        stripped = _CONTROL.sub("", text)
        if stripped != text:
            changes.append("control characters removed")
        if stripped in ("", ".", ".."):
            return None, "nothing usable left of the name"
        clean.append(stripped)
    return "/".join(clean), "; ".join(dict.fromkeys(changes))


def packable_files(folder: Path) -> list[tuple[Path, str, int]]:
    """Every file under ``folder`` that goes into its archive: its path, its archive name
    (:func:`archive_name`) and its size. What is left out or renamed is logged."""
    root = folder.resolve()
    found: list[tuple[Path, tuple[str, ...], os.stat_result]] = []
    links: collections.Counter[tuple[int, int]] = collections.Counter()
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
            found.append((path, resolved.relative_to(root).parts, info))
            links[info.st_dev, info.st_ino] += 1
    files: list[tuple[Path, str, int]] = []
    used: set[str] = set()
    for path, parts, info in found:
        if info.st_nlink > links[info.st_dev, info.st_ino]:
            # another name of this file lies outside the folder: its content is not the mod's
            _left_out(root, parts, "a hard link to a file outside the folder")
            continue
        packed_as, why = archive_name(parts)
        if packed_as is None:
            _left_out(root, parts, why)
            continue
        if packed_as in used:
            _left_out(root, parts, f"its archive name {packed_as!r} is taken by another file")
            continue
        if why:
            log.warning("%s: %r packed as %r: %s", root, "/".join(parts), packed_as, why)
        used.add(packed_as)
        files.append((path, packed_as, info.st_size))
    return files


def _left_out(root: Path, parts: Sequence[str], why: str) -> None:
    log.warning("%s: %r left out of the archive: %s", root, "/".join(parts), why)


def pack_folder(
    folder: Path,
    out: IO[bytes],
    *,
    compresslevel: int = 9,
    threads: int | None = None,
    max_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write a ZIP_BZIP2 archive of ``folder`` to ``out``; return the bytes packed (unpacked size).

    ``progress(done, total)`` is told the bytes read so far of the files' ``total`` as they
    are read (from the packing threads: it must be quick and thread-safe).

    Raises :class:`ModTooLarge`, before writing anything, when the files come to more than
    ``max_size`` bytes (a sparse file of a terabyte packs into a few kB: a zip bomb).

    Files are compressed in parallel on ``threads`` threads (bz2 releases the GIL; default:
    one per CPU), each into a spool that stays in memory up to 8 MiB and goes to a temporary
    file beyond, then written to ``out`` in order with their sizes known (no data
    descriptors). At most ``2 × threads`` files are in flight, so memory stays bounded
    whatever the mod's size. Blocking: run it in a thread.
    """
    workers = max(1, threads if threads is not None else (os.cpu_count() or 1))
    files = packable_files(folder)
    unpacked = sum(size for _, _, size in files)
    if max_size is not None and unpacked > max_size:
        raise ModTooLarge(
            f"the mod comes to {unpacked} bytes unpacked, more than the limit of {max_size} "
            "(OPENWORKSHOP_MAX_MOD_SIZE)"
        )
    total = 0
    read = _ReadCounter(unpacked, progress)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_BZIP2, allowZip64=True) as archive:
        if workers == 1:  # straight through zipfile: no spool to copy from
            for path, name, _ in files:
                info = zipfile.ZipInfo.from_file(path, name)
                info.compress_type = zipfile.ZIP_BZIP2
                setattr(info, _LEVEL_SLOT, compresslevel)
                with path.open("rb") as source, archive.open(info, "w", force_zip64=True) as target:
                    while chunk := source.read(_CHUNK):
                        target.write(chunk)
                        read.add(len(chunk))
                total += info.file_size
            return total
        with concurrent.futures.ThreadPoolExecutor(workers, "openworkshop-pack") as pool:
            pending: collections.deque[concurrent.futures.Future[_Compressed]] = collections.deque()
            queue = iter(files)
            try:
                for path, name, _ in itertools.islice(queue, workers * 2):
                    pending.append(pool.submit(_compress, path, name, compresslevel, read))
                while pending:
                    compressed = pending.popleft().result()
                    for path, name, _ in itertools.islice(queue, 1):
                        pending.append(pool.submit(_compress, path, name, compresslevel, read))
                    total += _append(archive, out, compressed)
            finally:
                for future in pending:
                    future.cancel()
                    if not future.cancelled():
                        with contextlib.suppress(Exception):
                            future.result().spool.close()
    return total


class _ReadCounter:
    """The bytes read of a mod's files by every packing thread, told to ``progress``."""

    def __init__(self, total: int, progress: Callable[[int, int], None] | None) -> None:
        self.total = total
        self.done = 0
        self._progress = progress
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        if self._progress is None:
            return
        with self._lock:
            self.done += n
            done = self.done
        self._progress(done, self.total)


@attrs.frozen
class _Compressed:
    info: zipfile.ZipInfo
    spool: IO[bytes]


def _compress(path: Path, name: str, compresslevel: int, read: _ReadCounter) -> _Compressed:
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
                read.add(len(chunk))
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
    atomic, and a reader holding an archive open keeps reading it after it is replaced. The
    writing process is this store's :class:`Owner` of ``ROOT/.owners``: its temporary names
    carry its tag and it records each key before the key appears (:meth:`live_writes`).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.owner = Owner(self.root)

    def _path(self, key: str) -> Path:
        if not key or key.startswith(("/", ".")) or ".." in key.split("/") or "\\" in key:
            raise ArchiveError(f"bad archive key {key!r}")
        return self.root / key

    async def put(self, key: str, build: Callable[[IO[bytes]], None]) -> Archive:
        target = self._path(key)
        return await asyncio.to_thread(self._put, key, target, build)

    def _put(self, key: str, target: Path, build: Callable[[IO[bytes]], None]) -> Archive:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{self.owner.tag()}{_TEMP_SUFFIX}")
        try:
            with temp.open("xb") as raw:
                writer = HashingWriter(raw)
                build(writer)  # type: ignore[arg-type]
                raw.flush()
                os.fsync(raw.fileno())
            # recorded before it appears: until this process dies, reconcile leaves it alone
            self.owner.record(key)
            os.replace(temp, target)
            _fsync_dir(target.parent)
        except BaseException as exc:
            temp.unlink(missing_ok=True)
            if isinstance(exc, ArchiveError):
                raise
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
            keys = []
            for path in self.root.rglob("*"):
                relative = path.relative_to(self.root)
                if path.is_file() and not any(p.startswith(".") for p in relative.parts):
                    keys.append(relative.as_posix())
            return sorted(keys)

        return await asyncio.to_thread(_keys)

    async def live_writes(self) -> set[str]:
        """Keys stored by a process that is still alive: it may not have recorded them in
        their rows yet. Every other archive no row claims is an orphan."""
        return await asyncio.to_thread(live_records, self.root)

    async def sweep(self) -> int:
        """Remove temporary files whose writer is dead (its lock is free), then the dead
        writers' lock files; return how many temporary files went."""

        def _sweep() -> int:
            if not self.root.is_dir():
                return 0
            removed = 0
            alive: dict[str | None, bool] = {}
            for path in self.root.rglob(f".*{_TEMP_SUFFIX}"):
                if OWNERS in path.relative_to(self.root).parts:
                    continue
                owner_id = owner_of(path.name.removesuffix(_TEMP_SUFFIX))
                if owner_id not in alive:
                    alive[owner_id] = is_alive(self.root, owner_id)
                if alive[owner_id]:
                    continue
                path.unlink(missing_ok=True)
                removed += 1
            sweep_owners(self.root)
            return removed

        return await asyncio.to_thread(_sweep)


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
