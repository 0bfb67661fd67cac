"""Owners of temporary files: which process made a file, and whether it is dead for certain.

A process that makes temporary files or folders under a folder holds
``FOLDER/.owners/<id>.lock`` with an exclusive ``flock`` for as long as it lives, and the
names it makes carry ``<id>`` (see :meth:`Owner.tag`). The kernel drops the lock when the
process ends, however it ends (SIGKILL included), so a sweeper that gets the lock with a
non-blocking ``flock`` knows the owner is dead. Unlike "host + pid", this cannot be fooled by
a zombie or by a reused pid (a restarted container runs as the same pid).

``flock`` locks belong to the open file, not to the process: a second ``open`` of the same
file in the owner's own process does not get the lock either, and closing it does not drop
the owner's. The lock file is opened close-on-exec, so a subprocess (steamcmd) does not keep a
dead owner alive; a ``fork`` without ``exec`` would. The folder must be on a filesystem whose
``flock`` works between the processes that share it (any local one; NFSv4 between hosts).

An owner's lock file also holds lines the owner records (the archive store records the keys
it writes), readable by others while the owner lives.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import socket
import threading
import uuid
import weakref
from collections.abc import Iterator
from pathlib import Path

__all__ = ["OWNERS", "Owner", "is_alive", "live_records", "owner_of", "sweep_owners"]

OWNERS = ".owners"
"""The folder, under the folder owned, of the owners' lock files."""
_LOCK_SUFFIX = ".lock"
_ID = re.compile(r"[0-9a-f]{32}")


class Owner:
    """This process as the owner of temporary things under ``root``.

    The lock is taken on first use and held until :meth:`close` or the process's end.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._id: str | None = None
        self._fd: int | None = None
        self._guard = threading.Lock()
        self._finalizer: weakref.finalize[..., Owner] | None = None

    @property
    def id(self) -> str:
        """This owner's id, locking its file first if not done yet."""
        with self._guard:
            if self._id is None:
                self._id, self._fd = _lock_new(self.root)
                self._finalizer = weakref.finalize(self, os.close, self._fd)
            return self._id

    def tag(self) -> str:
        """A unique name part that says this owner made it: ``<owner id>~<random>``."""
        return f"{self.id}~{uuid.uuid4().hex}"

    def record(self, line: str) -> None:
        """Append a line to this owner's file, for :func:`live_records` (one ``write``,
        so a reader never sees half of a line it could match)."""
        if "\n" in line:
            raise ValueError("a record is one line")
        owner = self.id
        assert self._fd is not None, owner
        os.write(self._fd, (line + "\n").encode("utf-8", "surrogateescape"))

    def close(self) -> None:
        """Release the lock (the owner's things become sweepable) and remove the file."""
        with self._guard:
            if self._id is None or self._finalizer is None:
                return
            with contextlib.suppress(FileNotFoundError):
                _lock_path(self.root, self._id).unlink()
            self._finalizer()
            self._id = self._fd = self._finalizer = None


def _lock_path(root: Path, owner_id: str) -> Path:
    return root / OWNERS / f"{owner_id}{_LOCK_SUFFIX}"


def _lock_new(root: Path) -> tuple[str, int]:
    """Create and lock a new owner file; return its id and the open descriptor."""
    (root / OWNERS).mkdir(parents=True, exist_ok=True)
    while True:
        owner_id = uuid.uuid4().hex
        path = _lock_path(root, owner_id)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            # a sweeper may have taken the file between open and flock, and removed it
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                host = socket.gethostname().replace("\n", " ")
                os.write(fd, f"# pid {os.getpid()} on {host}\n".encode())
                return owner_id, fd
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def owner_of(tag: str) -> str | None:
    """The owner id in a :meth:`Owner.tag` (or in a name ending with one); ``None`` when
    the name carries none (it was made by an older version, or by hand)."""
    owner_id = tag.rsplit(".", 1)[-1].split("~")[0] if "~" in tag else ""
    return owner_id if _ID.fullmatch(owner_id) else None


@contextlib.contextmanager
def _probe(root: Path, owner_id: str) -> Iterator[int | None]:
    """Yield ``None`` while the owner is alive; when it is dead, yield the inode of its lock
    file (``-1`` if there is none) and hold that lock while the body runs."""
    path = _lock_path(root, owner_id)
    fd: int | None = None
    answer: int | None = -1  # no file: never created, or removed after its owner died
    with contextlib.suppress(FileNotFoundError):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise
        except OSError:
            answer = None  # not ours to judge (another user's file): alive, to be safe
    if fd is None:
        yield answer
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            held_by_owner = False
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            held_by_owner = True
        yield None if held_by_owner else os.fstat(fd).st_ino
    finally:
        os.close(fd)


def is_alive(root: Path, owner_id: str | None) -> bool:
    """Whether the owner named ``owner_id`` still holds its lock under ``root``."""
    if owner_id is None:
        return False
    with _probe(root, owner_id) as dead:
        return dead is None


def live_records(root: Path) -> set[str]:
    """Every line recorded by an owner that is alive now."""
    folder = root / OWNERS
    lines: set[str] = set()
    if not folder.is_dir():
        return lines
    for path in folder.glob(f"*{_LOCK_SUFFIX}"):
        owner_id = path.name.removesuffix(_LOCK_SUFFIX)
        if not _ID.fullmatch(owner_id) or not is_alive(root, owner_id):
            continue
        with contextlib.suppress(FileNotFoundError):
            text = path.read_bytes().decode("utf-8", "surrogateescape")
            lines.update(line for line in text.split("\n")[:-1] if not line.startswith("#"))
    return lines


def sweep_owners(root: Path) -> int:
    """Remove the lock files of dead owners (after their things were swept); return how many."""
    folder = root / OWNERS
    removed = 0
    if not folder.is_dir():
        return removed
    for path in folder.glob(f"*{_LOCK_SUFFIX}"):
        owner_id = path.name.removesuffix(_LOCK_SUFFIX)
        if not _ID.fullmatch(owner_id):
            continue
        with _probe(root, owner_id) as dead, contextlib.suppress(FileNotFoundError):
            # only the very file locked here: while it is held, nobody else can remove it
            # and put another under its name
            if dead is not None and dead == os.stat(path).st_ino:
                path.unlink()
                removed += 1
    return removed
