"""HTTP benchmark: the server under load from a separate process, next to nginx.

    .venv/bin/python bench/http.py [--servers granian,uvicorn] [--duration 10] [--mods 10000]

For each ASGI server, one server process over a catalog of ``--mods`` mods (SQLite when the
SQLite adapter is installed, else the in-memory storage) answers:
- ``/list/mods/?page_size=50`` and ``/info/mod/{id}`` (random ids) at 32 concurrent clients:
  requests/s and p99 latency;
- ``/download/{id}`` of a 100 MB archive at 16 concurrent clients: MB/s, next to nginx
  (Debian's package) serving the same file in the same run;
- the catalog page (``/web/``, docs/web.md) next to the JSON ``/list/mods/`` for the same
  query (20 a page; all mods, a search, one game) at 32 concurrent clients: the page's mean
  time per request over the JSON's (target, issue 17: at most 2x);
- the server's peak RSS during all of it.

The load generator is ``wrk`` (Debian's package) when installed, else an aiohttp client in a
separate process. Prints figures; asserts nothing. Targets (issue 6): download >= 60% of
nginx, RSS <= 150 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py: keep its folder off the path, or it shadows the stdlib's http.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from multiprocessing import get_context

import attrs

BENCH_GAMES = (294100, 322330, 281990)
SMALL_KEY = "bench/small.zip"
BIG_KEY = "bench/big.zip"
BIG_MOD_ID = 1999999999
CATALOG_PAGE_SIZE = 20  # openworkshop_web.pages.CATALOG_PAGE_SIZE
CATALOG_QUERIES = (
    ("all mods", ""),
    ("q=Better", "q=Better"),
    (f"game={BENCH_GAMES[1]}", f"game={BENCH_GAMES[1]}"),
)


# --- the server process ---------------------------------------------------------------------


def _storage(data_dir: Path):
    try:
        from openworkshop_sqlite import SqliteStorage
    except ImportError:
        from openworkshop.testing import MemoryStorage

        return MemoryStorage(), "memory"
    return SqliteStorage(data_dir / "openworkshop.sqlite3"), "sqlite"


async def _seed(storage, archives, mods: int, big_mb: int) -> None:
    import datetime as dt

    from openworkshop import Game, Genre, Mod, ModState

    await storage.open()
    try:
        summary = await storage.summary()
        if summary.mods >= mods + 1:
            return
        small = await archives.put(SMALL_KEY, lambda out: out.write(b"PK\x05\x06" + bytes(18)))
        chunk = random.Random(1).randbytes(1 << 20)

        def write_big(out) -> None:
            for _ in range(big_mb):
                out.write(chunk)

        big = await archives.put(BIG_KEY, write_big)
        now = dt.datetime.now(dt.UTC)
        for n, game_id in enumerate(BENCH_GAMES):
            await storage.put_game(
                Game(id=game_id, name=f"Game {n}", creation_date=now), [Genre(id=n + 1, name="G")]
            )
        rng = random.Random(7)
        words = [
            "Better",
            "Faster",
            "Bigger",
            "Tiny",
            "Epic",
            "Realistic",
            "Harmony",
            "Core",
            "Extended",
            "Medieval",
        ]
        for i in range(mods):
            mod = Mod(
                id=2_000_000_000 + i,
                name=" ".join(rng.sample(words, 3)),
                game_id=BENCH_GAMES[i % 3],
                state=ModState.READY,
                size=rng.randrange(10**3, 10**8),
                short_description="A mod. " * 10,
                description="A longer description of the mod. " * 20,
                date_creation=now,
                date_update=now,
                date_checked=now,
                archive=small,
            )
            await storage.put_mod(mod, expect=None)
        await storage.put_mod(
            Mod(
                id=BIG_MOD_ID,
                name="Big mod",
                game_id=BENCH_GAMES[0],
                state=ModState.READY,
                size=big.size,
                date_checked=now,
                archive=big,
            ),
            expect=None,
        )
    finally:
        await storage.close()


def child(server: str, port: int, data_dir: Path, mods: int, big_mb: int) -> None:
    """Run one server over a seeded catalog until SIGTERM."""
    from openworkshop import FileArchiveStore, Settings, Workshop
    from openworkshop.testing import FakeSteamSource
    from openworkshop_http import HttpSettings, create_app
    from openworkshop_http.servers import serve

    async def run() -> None:
        storage, _ = _storage(data_dir)
        archives = FileArchiveStore(data_dir / "archives")
        await _seed(storage, archives, mods, big_mb)
        settings = Settings()
        workshop = Workshop(
            storage=storage,
            steam=FakeSteamSource(can_download=False),
            archives=archives,
            settings=settings,
            downloads_dir=data_dir / "downloads",
        )
        async with workshop:
            app = create_app(workshop, HttpSettings(client_rate=0), manage_lifespan=False)
            print("ready", flush=True)
            await serve(app, host="127.0.0.1", port=port, server=server, log_level="warning")

    asyncio.run(run())


# --- load --------------------------------------------------------------------------------------


@attrs.frozen
class Load:
    requests_per_s: float
    p99_ms: float
    mb_per_s: float
    errors: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, timeout: float = 120.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                answer.read()
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


_WRK_RANDOM_IDS = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", string.format("/info/mod/%d", 2000000000 + math.random(0, {n} - 1)))
end
"""


def _wrk(url: str, connections: int, duration: float, script: Path | None = None) -> Load:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{duration:.0f}s", "--latency", "--timeout", "30s"]
    if script is not None:
        argv += ["-s", str(script)]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?B)", out)
    unit = {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1.0, "GB": 1024.0}[transfer.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return Load(
        requests_per_s=rps,
        p99_ms=float(p99.group(1)) * factor,
        mb_per_s=float(transfer.group(1)) * unit,
        errors=int(errors.group(1)) if errors else 0,
    )


def _aiohttp_worker(urls: list[str], connections: int, duration: float, queue) -> None:
    import aiohttp

    async def run() -> tuple[list[float], int, int]:
        latencies: list[float] = []
        errors = 0
        received = 0
        deadline = time.perf_counter() + duration
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def client(n: int) -> None:
                nonlocal errors, received
                rng = random.Random(n)
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    async with session.get(rng.choice(urls)) as answer:
                        async for chunk in answer.content.iter_chunked(1 << 20):
                            received += len(chunk)
                        if answer.status >= 400:
                            errors += 1
                    latencies.append(time.perf_counter() - started)

            await asyncio.gather(*(client(n) for n in range(connections)))
        return latencies, errors, received

    queue.put(asyncio.run(run()))


def _aiohttp(urls: list[str], connections: int, duration: float) -> Load:
    context = get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_aiohttp_worker, args=(urls, connections, duration, queue))
    process.start()
    latencies, errors, received = queue.get()
    process.join()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0
    return Load(
        requests_per_s=len(latencies) / duration,
        p99_ms=p99 * 1000,
        mb_per_s=received / duration / 2**20,
        errors=errors,
    )


def load(base: str, path: str, connections: int, duration: float, *, mods: int = 0) -> Load:
    if shutil.which("wrk"):
        script = None
        if path == "/info/mod/{random}":
            script = Path(tempfile.mkstemp(suffix=".lua")[1])
            script.write_text(_WRK_RANDOM_IDS.replace("{n}", str(mods)))
            path = "/"
        return _wrk(base + path, connections, duration, script)
    if path == "/info/mod/{random}":
        urls = [f"{base}/info/mod/{2_000_000_000 + i}" for i in random.sample(range(mods), 2000)]
    else:
        urls = [base + path]
    return _aiohttp(urls, connections, duration)


# --- RSS ---------------------------------------------------------------------------------------


class RssSampler:
    """Samples a process's resident set size (and its children's) in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = False

    @staticmethod
    def _rss_kb(pid: int) -> int:
        total = 0
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        with contextlib.suppress(OSError):
            for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
                total += RssSampler._rss_kb(int(child))
        return total

    def sample(self) -> int:
        now = self._rss_kb(self.pid)
        self.peak_kb = max(self.peak_kb, now)
        return now

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        import threading

        def loop() -> None:
            while not self._stop:
                self.sample()
                time.sleep(0.1)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop = True
            thread.join()


# --- nginx ------------------------------------------------------------------------------------


@contextlib.contextmanager
def nginx(root: Path, workdir: Path) -> Iterator[str | None]:
    """nginx serving ``root`` on a free port (one worker, sendfile on); None if not installed."""
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        yield None
        return
    port = _free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(
        textwrap.dedent(
            f"""
            worker_processes 1;
            daemon off;
            pid {workdir}/nginx.pid;
            error_log {workdir}/error.log;
            events {{ worker_connections 1024; }}
            http {{
                access_log off;
                sendfile on;
                tcp_nopush on;
                client_body_temp_path {workdir}/body;
                proxy_temp_path {workdir}/proxy;
                fastcgi_temp_path {workdir}/fastcgi;
                uwsgi_temp_path {workdir}/uwsgi;
                scgi_temp_path {workdir}/scgi;
                server {{
                    listen 127.0.0.1:{port};
                    location / {{ root {root}; }}
                }}
            }}
            """
        )
    )
    process = subprocess.Popen([binary, "-c", str(conf), "-p", str(workdir)])
    try:
        _wait_for(f"http://127.0.0.1:{port}/{SMALL_KEY}", 20)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


# --- main -------------------------------------------------------------------------------------


def bench_server(server: str, data_dir: Path, args: argparse.Namespace) -> dict[str, object]:
    port = _free_port()
    command = [
        sys.executable, __file__, "--child", server, "--port", str(port),
        "--data-dir", str(data_dir), "--mods", str(args.mods), "--archive-mb", str(args.archive_mb),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "ready"
        _wait_for(base + "/info/queue/size")
        sampler = RssSampler(process.pid)
        idle_kb = sampler.sample()
        with sampler.running():
            load(base, "/list/mods/?page_size=50", 32, 2, mods=args.mods)  # warm up
            listing = load(base, "/list/mods/?page_size=50", 32, args.duration, mods=args.mods)
            info = load(base, "/info/mod/{random}", 32, args.duration, mods=args.mods)
            download = (
                load(base, f"/download/{BIG_MOD_ID}", 16, args.duration)
                if not args.no_download
                else Load(0.0, 0.0, 0.0, 0)
            )
            pages = {}
            for label, query in CATALOG_QUERIES:
                json_path = f"/list/mods/?page_size={CATALOG_PAGE_SIZE}" + (
                    f"&{query}" if query else ""
                )
                page_path = "/web/" + (f"?{query}" if query else "")
                load(base, page_path, 32, 1, mods=args.mods)  # warm up
                pages[label] = (
                    load(base, json_path, 32, args.duration, mods=args.mods),
                    load(base, page_path, 32, args.duration, mods=args.mods),
                )
        return {
            "pages": pages,
            "server": server,
            "list_mods": listing,
            "info_mod": info,
            "download": download,
            "rss_idle_mb": idle_kb / 1024,
            "rss_peak_mb": sampler.peak_kb / 1024,
        }
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="granian,uvicorn")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--mods", type=int, default=10_000)
    parser.add_argument("--archive-mb", type=int, default=100)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument(
        "--no-download", action="store_true", help="skip the 100 MB download run (and nginx)"
    )
    args = parser.parse_args()
    if args.child:
        child(args.child, args.port, args.data_dir, args.mods, args.archive_mb)
        return

    with tempfile.TemporaryDirectory(prefix="openworkshop-bench-") as tmp:
        os.chmod(tmp, 0o755)  # nginx's workers run as another user
        data_dir = Path(tmp) / "data"
        _, kind = _storage(data_dir)
        tool = "wrk" if shutil.which("wrk") else "aiohttp (separate process)"
        print(f"{os.cpu_count()} CPUs; storage {kind}; {args.mods} mods; load from {tool}; "
              f"{args.duration:.0f} s per run")  # fmt: skip
        results = [bench_server(s.strip(), data_dir, args) for s in args.servers.split(",")]
        reference = None
        if not args.no_download:
            with nginx(data_dir / "archives", Path(tmp) / "nginx") as nginx_base:
                if nginx_base:
                    reference = load(nginx_base, "/" + BIG_KEY, 16, args.duration)

        print()
        print(f"{'':10} {'/list/mods/?page_size=50':>26} {'/info/mod/{id}':>22} "
              f"{'/download 100 MB x16':>22} {'RSS peak':>9}")  # fmt: skip
        print(f"{'':10} {'req/s':>12} {'p99 ms':>12} {'req/s':>10} {'p99 ms':>10} "
              f"{'MB/s':>10} {'of nginx':>10} {'MB':>10}")  # fmt: skip
        for r in results:
            share = f"{r['download'].mb_per_s / reference.mb_per_s:.0%}" if reference else "n/a"
            print(
                f"{r['server']:10} {r['list_mods'].requests_per_s:12.0f} "
                f"{r['list_mods'].p99_ms:12.1f} {r['info_mod'].requests_per_s:10.0f} "
                f"{r['info_mod'].p99_ms:10.1f} {r['download'].mb_per_s:10.0f} {share:>10} "
                f"{r['rss_peak_mb']:10.0f}"
            )
        if reference:
            print(f"{'nginx':10} {'':12} {'':12} {'':10} {'':10} {reference.mb_per_s:10.0f} "
                  f"{'100%':>10}")  # fmt: skip
        print()
        print(f"{'catalog':10} {'query':>16} {'JSON req/s':>11} {'page req/s':>11} "
              f"{'JSON p99':>9} {'page p99':>9} {'page/JSON time':>15}")  # fmt: skip
        for r in results:
            for label, (as_json, as_page) in r["pages"].items():
                ratio = as_json.requests_per_s / max(as_page.requests_per_s, 1e-9)
                print(
                    f"{r['server']:10} {label:>16} {as_json.requests_per_s:11.0f} "
                    f"{as_page.requests_per_s:11.0f} {as_json.p99_ms:9.1f} "
                    f"{as_page.p99_ms:9.1f} {ratio:14.2f}x"
                )
        errors = {
            r["server"]: [r[k].errors for k in ("list_mods", "info_mod", "download")]
            + [e.errors for pair in r["pages"].values() for e in pair]
            for r in results
        }
        if any(any(e) for e in errors.values()):
            print("non-2xx answers:", errors)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            k: attrs.asdict(v)
                            if attrs.has(type(v))
                            else {
                                label: [attrs.asdict(x) for x in pair] for label, pair in v.items()
                            }
                            if k == "pages"
                            else v
                            for k, v in r.items()
                        }
                        for r in results
                    ]
                )
            )


if __name__ == "__main__":
    main()
