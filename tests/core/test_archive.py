"""Packing folders into ZIP_BZIP2 archives and the filesystem archive store."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from openworkshop import Workshop
from openworkshop.archive import FileArchiveStore, pack_folder
from openworkshop.errors import ArchiveError, ModTooLarge
from openworkshop.owners import OWNERS
from openworkshop.pipeline import archive_key
from openworkshop.testing import FakeClock, FakeSteamSource, MemoryStorage, SteamCatalog

pytestmark = pytest.mark.anyio


def make_tree(root: Path, outside: Path) -> None:
    (root / "About").mkdir(parents=True)
    (root / "About/About.xml").write_text("<ModMetaData/>")
    (root / "Textures/deep/er").mkdir(parents=True)
    (root / "Textures/deep/er/a.bin").write_bytes(os.urandom(5000))
    (root / "empty.txt").write_bytes(b"")
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text("do not pack me")
    os.symlink(outside / "secret.txt", root / "link-to-secret.txt")
    os.symlink(outside, root / "link-to-folder")
    os.symlink(root / "About/About.xml", root / "inner-link.xml")
    os.mkfifo(root / "a-fifo")


async def test_packs_regular_files_only(tmp_path: Path) -> None:
    """Symlinks (in or out of the folder), FIFOs and devices are left out; files are bzip2."""
    src = tmp_path / "item"
    make_tree(src, tmp_path / "outside")
    store = FileArchiveStore(tmp_path / "archives")
    stored = await store.put("1/v.zip", lambda out: pack_folder(src, out))
    path = store.local_path(stored.key)
    assert path is not None
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["About/About.xml", "Textures/deep/er/a.bin", "empty.txt"]
        assert all(i.compress_type == zipfile.ZIP_BZIP2 for i in zf.infolist())
        assert zf.read("Textures/deep/er/a.bin") == (src / "Textures/deep/er/a.bin").read_bytes()
        assert zf.testzip() is None
    data = path.read_bytes()
    assert stored.size == len(data) and stored.sha256 == hashlib.sha256(data).hexdigest()


def names_in(folder: Path, out: Path, **kwargs: object) -> dict[str, bytes]:
    with out.open("wb") as raw:
        pack_folder(folder, raw, **kwargs)  # type: ignore[arg-type]
    with zipfile.ZipFile(out) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_hard_links_out_of_the_folder_are_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A hard link whose file has another name outside the folder is not the mod's (it may
    be any file of the server); one whose every name is inside is packed under each."""
    src = tmp_path / "item"
    src.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("the server's secret")
    os.link(secret, src / "looks-innocent.txt")
    (src / "a.txt").write_text("mine")
    os.link(src / "a.txt", src / "b.txt")
    with caplog.at_level(logging.WARNING, "openworkshop.archive"):
        assert names_in(src, tmp_path / "out.zip") == {"a.txt": b"mine", "b.txt": b"mine"}
    assert "'looks-innocent.txt' left out of the archive: a hard link to a file outside" in (
        caplog.text
    )


def test_names_a_windows_extractor_would_misplace(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Backslashes and colons are refused (``..\\..\\evil.bat`` climbs out of the folder
    on Windows, ``C:evil.txt`` names a drive); control characters are removed; a name that
    is not UTF-8 is decoded with replacement characters instead of failing the whole mod."""
    src = tmp_path / "item"
    (src / "sub").mkdir(parents=True)
    for name in ("..\\..\\evil.bat", "C:evil.txt", "sub\\x.txt", "ok.txt"):
        (src / name).write_text(name)
    (src / "sub" / "bell\x07\ttab.txt").write_text("ctl")
    (src / "sub" / "\x01\x02").write_text("nothing left")
    latin1 = os.fsdecode(b"caf\xe9.txt")
    (src / latin1).write_text("latin-1")
    (src / "café.txt").write_text("utf-8")
    with caplog.at_level(logging.WARNING, "openworkshop.archive"):
        got = names_in(src, tmp_path / "out.zip")
    assert got == {
        "caf\ufffd.txt": b"latin-1",
        "café.txt": b"utf-8",
        "ok.txt": b"ok.txt",
        "sub/belltab.txt": b"ctl",
    }
    text = caplog.text
    assert text.count("a backslash in the name") == 2
    assert "'C:evil.txt' left out of the archive: a colon in the name" in text
    assert "nothing usable left of the name" in text
    assert "control characters removed" in text
    assert "not UTF-8, decoded with replacement characters" in text


def test_replaced_names_that_collide_keep_the_first(tmp_path: Path) -> None:
    """Two files that come to one name: the second is left out (no duplicate entries)."""
    src = tmp_path / "item"
    src.mkdir()
    (src / "a\x7f.txt").write_text("first")
    (src / "a.txt").write_text("second")
    assert names_in(src, tmp_path / "out.zip") == {"a.txt": b"second"}


async def test_a_mod_over_the_size_limit_is_refused_whole(tmp_path: Path) -> None:
    """A sparse file of 4 GiB costs nothing on disk and packs into a few kB: a zip bomb for
    whoever unpacks it. Over ``max_size`` the write fails, leaving nothing."""
    src = tmp_path / "item"
    src.mkdir()
    with (src / "bomb.bin").open("wb") as out:
        out.truncate(4 << 30)
    (src / "small.txt").write_text("x" * 10)
    store = FileArchiveStore(tmp_path / "archives")
    with pytest.raises(ModTooLarge, match="more than the limit of 1048576"):
        await store.put("1/v.zip", lambda out: pack_folder(src, out, max_size=1 << 20))
    assert await store.keys() == [] and partials(tmp_path / "archives") == []
    (src / "bomb.bin").unlink()
    assert names_in(src, tmp_path / "out.zip", max_size=10) == {"small.txt": b"x" * 10}


async def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    """A build that fails half way leaves no archive and no temporary file."""
    store = FileArchiveStore(tmp_path / "archives")

    def build(out) -> None:  # type: ignore[no-untyped-def]
        out.write(b"PK" * 1000)
        raise OSError("disk full")

    with pytest.raises(ArchiveError):
        await store.put("1/v.zip", build)
    left = [p for p in (tmp_path / "archives").rglob("*") if OWNERS not in p.parts]
    assert left == [tmp_path / "archives/1"]
    assert await store.keys() == []


async def test_bad_keys_are_refused(tmp_path: Path) -> None:
    store = FileArchiveStore(tmp_path)
    for key in ("../x.zip", "/etc/passwd", "a/../../b", ".hidden", ""):
        with pytest.raises(ArchiveError):
            await store.put(key, lambda out: None)


async def test_replacing_keeps_open_readers_reading(tmp_path: Path) -> None:
    """A reader of the old version keeps its bytes when the new one is renamed over it."""
    store = FileArchiveStore(tmp_path)
    await store.put("1/a.zip", lambda out: out.write(b"old" * 1000))
    reader = store.open("1/a.zip")
    await store.put("1/a.zip", lambda out: out.write(b"new"))
    assert reader.read() == b"old" * 1000
    reader.close()
    with store.open("1/a.zip") as again:
        assert again.read() == b"new"


CHILD = """
import asyncio, sys
from pathlib import Path
from openworkshop.archive import FileArchiveStore

store = FileArchiveStore(Path(sys.argv[1]))

def build(out):
    out.write(b"PK" * 100)
    print("writing", flush=True)
    sys.stdin.readline()  # held here until killed

async def main():
    if sys.argv[2] == "partial":
        await store.put("7/v.zip", build)
    else:
        await store.put(sys.argv[3], lambda out: out.write(b"PK"))
        print("stored", flush=True)
        sys.stdin.readline()

asyncio.run(main())
"""


class Writer:
    """A real writing process on ``root``: ``partial`` stops inside a write, ``stored``
    after one, before anything records it. Killed with SIGKILL."""

    def __init__(self, root: Path, mode: str, key: str = "") -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(root), mode, key],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the gate: the child says where it stands
        assert line.strip() in ("writing", "stored"), line

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        for stream in (self.process.stdin, self.process.stdout):
            assert stream is not None
            stream.close()


def partials(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.partial")]


async def test_sweep_removes_the_partial_file_of_a_killed_writer(tmp_path: Path) -> None:
    """While the writer lives its temporary file stays; killed with SIGKILL, its lock is
    free and the file goes, with the writer's lock file."""
    writer = Writer(tmp_path, "partial")
    store = FileArchiveStore(tmp_path)
    try:
        assert len(partials(tmp_path)) == 1
        assert await store.sweep() == 0
        assert len(partials(tmp_path)) == 1
    finally:
        writer.kill()
    assert await store.sweep() == 1
    assert partials(tmp_path) == []
    assert list((tmp_path / OWNERS).iterdir()) == []
    assert await store.keys() == []


async def test_a_writer_named_by_this_very_pid_but_without_a_lock_is_dead(
    tmp_path: Path,
) -> None:
    """A file recorded with this process's pid (an older version's ``host~pid~random``, or
    an owner file saying this pid) proves nothing: the pid may be reused (a container
    restarts as the same pid). Without a held lock the files go."""
    folder = tmp_path / "7"
    folder.mkdir()
    pid = os.getpid()
    old_style = folder / f".v.zip.{socket.gethostname()}~{pid}~{'a' * 32}.partial"
    owner_id = "b" * 32
    (tmp_path / OWNERS).mkdir()
    (tmp_path / OWNERS / f"{owner_id}.lock").write_text(f"# pid {pid} on here\n")
    unlocked = folder / f".v.zip.{owner_id}~{'c' * 32}.partial"
    for path in (old_style, unlocked):
        path.write_bytes(b"x")
    store = FileArchiveStore(tmp_path)
    assert await store.sweep() == 2
    assert partials(tmp_path) == []
    assert not (tmp_path / OWNERS / f"{owner_id}.lock").exists()


async def test_a_live_owners_files_are_never_swept(tmp_path: Path) -> None:
    """Another store in this same process (its own open of the lock file cannot take the
    owner's flock) leaves a live owner's temporary file and lock file alone."""
    store = FileArchiveStore(tmp_path)
    folder = tmp_path / "7"
    folder.mkdir()
    live = folder / f".v.zip.{store.owner.tag()}.partial"
    live.write_bytes(b"x")
    other = FileArchiveStore(tmp_path)
    for _ in range(2):
        assert await other.sweep() == 0
        assert await store.sweep() == 0
    assert live.exists()
    assert (tmp_path / OWNERS / f"{store.owner.id}.lock").exists()
    store.owner.close()  # the owner ends: now its leftovers go
    assert await other.sweep() == 1 and not live.exists()


async def test_reconcile_removes_an_orphan_once_its_writer_is_killed(tmp_path: Path) -> None:
    """A writer killed after storing an archive and before recording it in the row: while
    it lives the archive is spared (it may yet record it), once it is dead the next
    reconcile removes it, however young it is (made this very second)."""
    clock = FakeClock()
    key = archive_key(7, 1_700_000_000, clock.now())
    writer = Writer(tmp_path / "archives", "stored", key)
    store = FileArchiveStore(tmp_path / "archives")
    workshop = Workshop(
        storage=MemoryStorage(),
        steam=FakeSteamSource(SteamCatalog()),
        archives=store,
        clock=clock,
        downloads_dir=tmp_path / "downloads",
    )
    await workshop.storage.open()
    try:
        assert await store.keys() == [key]
        assert await store.live_writes() == {key}
        assert await workshop.reconcile() == (0, 0)
    finally:
        writer.kill()
    assert await store.live_writes() == set()
    assert await workshop.reconcile() == (0, 1)
    assert await store.keys() == []
    await workshop.storage.close()


def _peak_rss_kib(src: Path, out: Path) -> int:
    code = f"""
import resource
from pathlib import Path
from openworkshop.archive import pack_folder
with open({str(out)!r}, 'wb') as out:
    pack_folder(Path({str(src)!r}), out, compresslevel=1)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip())


def test_packing_streams(tmp_path: Path) -> None:
    """Packing 40 MB takes no more memory than packing nothing, give or take buffers
    (both measured in a fresh child process)."""
    src = tmp_path / "big"
    src.mkdir()
    with (src / "blob.bin").open("wb") as out:
        chunk = os.urandom(1 << 20)
        for _ in range(40):
            out.write(chunk)
    empty = tmp_path / "empty"
    empty.mkdir()
    baseline = _peak_rss_kib(empty, tmp_path / "empty.zip")
    peak = _peak_rss_kib(src, tmp_path / "out.zip")
    assert peak - baseline < 20 * 1024, f"packing 40 MB took {peak - baseline} KiB more"
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.getinfo("blob.bin").file_size == 40 << 20


@pytest.mark.parametrize("threads", [1, 4])
async def test_parallel_packing_gives_a_valid_archive(tmp_path: Path, threads: int) -> None:
    """Many files compressed on several threads land in order, each intact (CRC checked)."""
    src = tmp_path / "many"
    expected = {}
    for n in range(60):
        data = os.urandom(n * 997) + b"text " * (n * 50)
        rel = f"d{n % 7}/f{n:03}.bin"
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
        expected[rel] = data
    store = FileArchiveStore(tmp_path / "archives")
    stored = await store.put(
        "1/v.zip", lambda out: pack_folder(src, out, compresslevel=1, threads=threads)
    )
    path = store.local_path(stored.key)
    assert path is not None
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == sorted(expected)
        assert {n: zf.read(n) for n in zf.namelist()} == expected
    check = subprocess.run(
        [sys.executable, "-m", "zipfile", "-t", str(path)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    if shutil.which("unzip"):  # an independent reader (Info-ZIP)
        info_zip = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
        assert info_zip.returncode == 0, info_zip.stdout


@pytest.mark.parametrize("threads", [1, 2])
def test_packing_tells_the_bytes_it_has_read(tmp_path: Path, threads: int) -> None:
    """``progress(done, total)`` rises to the files' unpacked size, whichever way it packs."""
    folder = tmp_path / "mod"
    (folder / "Data").mkdir(parents=True)
    (folder / "Data" / "a.bin").write_bytes(os.urandom(3 << 20))
    (folder / "b.txt").write_text("hello")
    told: list[tuple[int, int]] = []
    with (tmp_path / "out.zip").open("wb") as out:
        packed = pack_folder(
            folder, out, threads=threads, progress=lambda d, t: told.append((d, t))
        )
    total = (3 << 20) + 5
    assert packed == total
    assert {t for _, t in told} == {total}
    done = [d for d, _ in told]
    assert done == sorted(done) and done[-1] == total and len(done) >= 3
