"""Safe extraction of a mod's archive: into a fresh folder, refusing any entry that would
write outside it (``..`` parts, absolute or drive paths, symlinks, devices)."""

from __future__ import annotations

import errno
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from openworkshop_client.errors import DiskFull, UnsafeArchive

__all__ = ["check_entries", "extract_archive"]

_CHUNK = 1 << 20


def _target(root: Path, info: zipfile.ZipInfo) -> Path | None:
    """Where the entry goes under ``root`` (``None`` for a directory entry), or refuse it."""
    name = info.filename
    if "\\" in name or "\x00" in name:
        raise UnsafeArchive(name, "has a backslash or NUL in its name")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        raise UnsafeArchive(name, "is an absolute path")
    if any(part == ".." for part in path.parts):
        raise UnsafeArchive(name, "climbs out of the folder with '..'")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeArchive(name, "is a symbolic link")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # 0: permission bits only
        raise UnsafeArchive(name, "is not a regular file")
    parts = [p for p in path.parts if p not in ("", ".")]
    if not parts:
        if info.is_dir():
            return None
        raise UnsafeArchive(name, "has no name")
    target = root.joinpath(*parts)
    if not target.resolve().is_relative_to(root.resolve()):
        raise UnsafeArchive(name, "resolves outside the folder")
    return None if info.is_dir() else target


def check_entries(archive: zipfile.ZipFile, root: Path) -> list[tuple[zipfile.ZipInfo, Path]]:
    """Every file entry with its target; raises ``UnsafeArchive`` before anything is written."""
    files = []
    for info in archive.infolist():
        target = _target(root, info)
        if target is not None:
            files.append((info, target))
    return files


def extract_archive(archive_path: Path, root: Path) -> None:
    """Extract ``archive_path`` into the new folder ``root`` (blocking; run in a thread).
    A refused or failing archive leaves no ``root`` behind."""
    root.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            for info, target in check_entries(archive, root):
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, open(target, "xb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
    except zipfile.BadZipFile as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise UnsafeArchive(archive_path.name, f"is not a valid ZIP archive ({exc})") from None
    except OSError as exc:
        shutil.rmtree(root, ignore_errors=True)
        if exc.errno == errno.ENOSPC:
            raise DiskFull(str(root)) from None
        raise
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
