"""Packing a mod: our parallel ZIP_BZIP2 packer next to Python's zipfile, single-threaded,
on the same tree in the same run; and how late the event loop runs while an archive packs.

    python bench/packing.py [--megabytes 60] [--files 300]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import asyncio
import os
import random
import shutil
import statistics
import tempfile
import time
import zipfile

from openworkshop.archive import FileArchiveStore, pack_folder, packable_files


def build_tree(root: Path, megabytes: int, files: int, seed: int = 3) -> int:
    """A mod-like tree: XML and text defs (compressible) and textures/sounds (not very)."""
    rng = random.Random(seed)
    words = [f"Thing{n}" for n in range(500)] + ["<li>", "</li>", "<def>", "</def>", "\n"]
    budget = megabytes << 20
    total = 0
    for n in range(files):
        size = budget // files
        if n % 3 == 0:
            rel = f"Defs/{n % 11}/defs{n:04}.xml"
            data = " ".join(rng.choice(words) for _ in range(size // 6)).encode()[:size]
        else:
            rel = f"Textures/{n % 7}/tex{n:04}.dds"
            half = os.urandom(size // 2)
            data = half + bytes(size - len(half))
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
    return total


def zipfile_single(src: Path, out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_BZIP2, compresslevel=9) as zf:
        for path, name, _ in packable_files(src):
            zf.write(path, name)


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


async def loop_lag(work, seconds_floor: float = 0.0) -> list[float]:  # type: ignore[no-untyped-def]
    """Lateness (ms) of a 5 ms ticker while ``work`` runs."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append((time.perf_counter() - start - 0.005) * 1000)

    task = asyncio.create_task(ticker())
    await work()
    done.set()
    await task
    return lags


def describe(lags: list[float]) -> str:
    ordered = sorted(lags)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):6.2f} ms  p99 {p99:7.2f} ms  max {ordered[-1]:8.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=60)
    parser.add_argument("--files", type=int, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ow-bench-pack-"))
    try:
        src = work / "mod"
        size = build_tree(src, args.megabytes, args.files)
        cpus = os.cpu_count() or 1
        print(f"tree: {args.files} files, {size / 2**20:.1f} MiB; {cpus} CPUs")
        reference = timed(zipfile_single, src, work / "ref.zip")
        ours_1 = timed(lambda: pack_folder(src, (work / "one.zip").open("wb"), threads=1))
        ours = timed(lambda: pack_folder(src, (work / "ours.zip").open("wb")))
        mib = size / 2**20
        print(f"zipfile, single-threaded : {reference:6.2f} s  {mib / reference:6.1f} MiB/s")
        print(f"ours, 1 thread           : {ours_1:6.2f} s  {mib / ours_1:6.1f} MiB/s")
        print(
            f"ours, {cpus} threads          : {ours:6.2f} s  {mib / ours:6.1f} MiB/s"
            f"  ({reference / ours:.2f}× zipfile)"
        )
        print(
            f"archive sizes: zipfile {(work / 'ref.zip').stat().st_size / 2**20:.1f} MiB, "
            f"ours {(work / 'ours.zip').stat().st_size / 2**20:.1f} MiB"
        )
        with zipfile.ZipFile(work / "ours.zip") as zf:
            assert zf.testzip() is None

        store = FileArchiveStore(work / "archives")

        async def idle() -> None:
            await asyncio.sleep(ours)

        async def off_loop() -> None:
            await store.put("1/a.zip", lambda out: pack_folder(src, out))

        async def on_loop() -> None:  # the naive way, for reference
            for _ in range(3):
                with (work / "naive.zip").open("wb") as out:
                    pack_folder(src, out, threads=1)
                await asyncio.sleep(0)

        print("event-loop lateness of a 5 ms timer:")
        print(f"  idle                         {describe(asyncio.run(loop_lag(idle)))}")
        print(f"  while packing (our store)    {describe(asyncio.run(loop_lag(off_loop)))}")
        print(f"  packing on the loop (naive)  {describe(asyncio.run(loop_lag(on_loop)))}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
