"""Packing folders into ZIP_BZIP2 archives and the filesystem archive store."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from openworkshop import archive as archive_module
from openworkshop.archive import FileArchiveStore, pack_folder
from openworkshop.errors import ArchiveError

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


async def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    """A build that fails half way leaves no archive and no temporary file."""
    store = FileArchiveStore(tmp_path / "archives")

    def build(out) -> None:  # type: ignore[no-untyped-def]
        out.write(b"PK" * 1000)
        raise OSError("disk full")

    with pytest.raises(ArchiveError):
        await store.put("1/v.zip", build)
    assert list((tmp_path / "archives").rglob("*")) == [tmp_path / "archives/1"]
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


async def test_sweep_removes_only_dead_writers_leftovers(tmp_path: Path) -> None:
    store = FileArchiveStore(tmp_path)
    folder = tmp_path / "7"
    folder.mkdir()
    host = archive_module._HOST
    dead = folder / f".v.zip.{host}~{2**22 + 12345}~{'a' * 32}.partial"
    live = folder / f".v.zip.{host}~{os.getpid()}~{'b' * 32}.partial"
    other = folder / f".v.zip.{'c' * 12}~1~{'d' * 32}.partial"
    for path in (dead, live, other):
        path.write_bytes(b"x")
    assert await store.sweep() == 1
    assert not dead.exists() and live.exists() and other.exists()
    old = 1_000_000
    os.utime(other, (old, old))
    assert await store.sweep() == 1 and not other.exists()
    assert socket.gethostname()  # the host tag is derived from it


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
