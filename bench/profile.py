"""Where a JSON request's time goes: py-spy samples a live server under wrk's load.

    .venv/bin/pip install py-spy   # and Debian's wrk
    .venv/bin/python bench/profile.py [--mods 10000] [--duration 10] [--kept-mb 0] [--raw DIR]

Starts the server of ``bench/http.py`` (granian, SQLite, ``--mods`` mods, kept answers off
by default: every answer built) and, for each JSON endpoint (the listing, ``/info/mod`` of
random ids, a search), runs wrk at 32 connections while ``py-spy record --format raw
--threads --gil`` samples the process: only the thread holding the GIL is sampled, so the
shares are of the Python work the event loop and the reader threads take turns at (SQLite's
own work runs without the GIL and shows as the ``sqlite`` line of the reader threads only
while it holds it). Prints, per endpoint, the share of samples by part of the stack
(a flame graph folded into a few lines), and the heaviest frames. Asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import collections
import shutil
import subprocess
import tempfile

HERE = Path(__file__).parent

PARTS = (
    # (name, substrings of a frame "function (file:line)"), first match from the leaf wins
    ("JSON encoding", ("orjson", "json/encoder.py", "encoding.py")),
    ("views (rows → dicts)", ("openworkshop/views.py", "<openworkshop.views row>")),
    ("row → Mod (records.py, attrs)", ("records.py", "attrs generated", "enum.py")),
    (
        "SQLite calls (listing.py, storage.py, sqlite_utils)",
        ("openworkshop_sqlite/", "sqlite_utils"),
    ),
    (
        "query parsing (query.py, criteria.py)",
        ("openworkshop/query.py", "openworkshop/criteria.py"),
    ),
    ("statistics", ("statistics.py",)),
    ("kept answers", ("kept.py",)),
    ("Starlette: routing, middleware, responses", ("starlette/", "openworkshop_http/")),
    ("service", ("openworkshop/service.py",)),
    (
        "thread hand-off (futures, executor)",
        ("concurrent/futures", "asyncio/futures.py", "threading.py"),
    ),
    ("asyncio event loop", ("asyncio/",)),
    ("granian", ("granian",)),
)


SENDS = (
    "ServerErrorMiddleware.__call__.<locals>._send",
    "OpenWorkshopApp.__call__ (openworkshop_http/app.py",
)


def part_of(frames: list[str]) -> str:
    if not frames:
        return "granian's threads (Rust, holding the GIL)"
    if frames[-1].startswith(SENDS):
        # the frame that calls granian's send, as its leaf: granian's Rust code at work
        return "send: the frame calling granian's send (mostly granian's own code)"
    for frame in reversed(frames):
        for name, needles in PARTS:
            if any(n in frame for n in needles):
                return name
    return "other"


def summarize(raw: Path, top: int = 8) -> str:
    parts: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = stack.split(";")
        thread = (
            "event loop"
            if "MainThread" in frames[0]
            else ("SQLite readers" if "ow-sqlite-read" in frames[0] else "granian's threads")
        )
        threads[thread] += n
        parts[part_of(frames[1:])] += n
        leaves[frames[-1]] += n
        total += n
    out = [f"  samples with the GIL: {total}; by thread: " + ", ".join(
        f"{k} {v / total:.0%}" for k, v in threads.most_common()
    )]  # fmt: skip
    out += [f"  {v / total:6.1%}  {k}" for k, v in parts.most_common()]
    out.append("  heaviest frames:")
    out += [f"  {v / total:6.1%}    {k}" for k, v in leaves.most_common(top)]
    return "\n".join(out)


def main() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_http", HERE / "http.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)  # bench/http.py: its server, load and helpers

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mods", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--kept-mb", type=int, default=0)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw files in this folder")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists() or not shutil.which("wrk"):
        raise SystemExit("needs py-spy (pip install py-spy) and wrk (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="openworkshop-profile-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        raw_dir = args.raw or Path(tmp)
        raw_dir.mkdir(parents=True, exist_ok=True)
        port = bench._free_port()
        base = f"http://127.0.0.1:{port}"
        options = argparse.Namespace(mods=args.mods, archive_mb=3)
        argv = bench.server_argv("granian", port, data_dir, options, args.kept_mb)
        with bench.process(argv) as child:
            bench._wait_for(base + "/info/queue/size")
            print(f"{args.mods} mods, kept answers {args.kept_mb} MB, {args.duration:.0f} s each")
            for label, path in (("list", bench.LISTING), ("info", bench.INFO),
                                ("search", bench.SEARCH)):  # fmt: skip
                bench.load(base, path, bench.CONNECTIONS, 2, mods=args.mods)  # warm up
                raw = raw_dir / f"{label}.raw"
                spy_run = subprocess.Popen(
                    [spy, "record", "-p", str(child.pid), "-d", str(int(args.duration)),
                     "-r", "250", "--threads", "--gil", "--nonblocking", "--format", "raw",
                     "-o", str(raw)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                result = bench.load(
                    base, path, bench.CONNECTIONS, args.duration, mods=args.mods, pid=child.pid
                )
                spy_run.wait()
                print(f"\n{label} ({path}): {result.requests_per_s:.0f} req/s under py-spy, "
                      f"{result.server_cpu_us:.0f} us CPU a request")  # fmt: skip
                print(summarize(raw))


if __name__ == "__main__":
    main()
