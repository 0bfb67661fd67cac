"""HTTP benchmark: the server under load from a separate process, next to its floor and nginx.

    .venv/bin/python bench/http.py [--servers granian] [--duration 10] [--mods 10000]
    .venv/bin/python bench/http.py --memory-only --mods 1000000

For each ASGI server, one server process over a catalog of ``--mods`` mods (SQLite when the
SQLite adapter is installed, else the in-memory storage), with its kept answers (docs/http.md,
"Kept answers") and without them (``OPENWORKSHOP_ANSWER_CACHE_MB=0``: every answer built),
answers at 32 concurrent clients:

- ``/list/mods/?page_size=50``, ``/info/mod/{id}`` (random ids over the whole catalog) and a
  search (``/list/mods/?q=Better&sort=RELEVANCE``): requests/s, p99 latency and the server
  process's CPU time per request, each next to **the floor**: a reference ASGI app on the
  same server (granian, same settings) that answers the same bytes for the same URL from a
  body held in memory (fetched from the real server first), measured in the same run;
- ``/download/{id}`` of a 2.6 MB and of a 100 MB archive: MB/s, next to nginx (Debian's
  package) serving the same files in the same run;
- the catalog page (``/web/``, docs/web.md) next to the JSON ``/list/mods/`` for the same
  query (20 a page; all mods, a search, one game): the page's time over the JSON's;
- the server's peak RSS during all of it, with its anonymous (``RssAnon``) and file-backed
  (``RssFile``) parts;
- orjson against the standard ``json`` on the same bodies (what the server encodes).

``--memory-only`` starts the server over the catalog, reads a few pages, and prints its
``RssAnon`` and ``RssFile`` (the target is on the anonymous part: file-backed pages are the
OS's file cache, shared and given back under pressure).

The load generator is ``wrk`` (Debian's package) when installed, else an aiohttp client in a
separate process (its figures are then the client's ceiling as much as the server's). Prints
figures; asserts nothing. Targets (issues 6 and 18): list >= 0.6x the floor, info >= 0.7x,
search >= 0.4x, downloads >= 0.6x nginx, RSS <= 150 MB (RssAnon <= 150 MB at 1,000,000 mods).
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
MID_KEY = "bench/mid.zip"
MID_BYTES = 2_600_000
BIG_MOD_ID = 1999999999
MID_MOD_ID = 1999999998
FIRST_MOD_ID = 2_000_000_000
SEARCH = "/list/mods/?q=Better&sort=RELEVANCE"
LISTING = "/list/mods/?page_size=50"
INFO = "/info/mod/{random}"
CONNECTIONS = 32
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
        if summary.mods >= mods + 2:
            return
        small = await archives.put(SMALL_KEY, lambda out: out.write(b"PK\x05\x06" + bytes(18)))
        chunk = random.Random(1).randbytes(1 << 20)

        def writer(size: int):
            def write(out) -> None:
                left = size
                while left > 0:
                    out.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)

            return write

        big = await archives.put(BIG_KEY, writer(big_mb << 20))
        mid = await archives.put(MID_KEY, writer(MID_BYTES))
        now = dt.datetime.now(dt.UTC)
        games = [
            (Game(id=game_id, name=f"Game {n}", creation_date=now), [Genre(id=n + 1, name="G")])
            for n, game_id in enumerate(BENCH_GAMES)
        ]
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

        def catalog():
            for i in range(mods):
                yield Mod(
                    id=FIRST_MOD_ID + i,
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
            for mod_id, name, archive in (
                (BIG_MOD_ID, "Big mod", big),
                (MID_MOD_ID, "Mid mod", mid),
            ):
                yield Mod(
                    id=mod_id,
                    name=name,
                    game_id=BENCH_GAMES[0],
                    state=ModState.READY,
                    size=archive.size,
                    date_checked=now,
                    archive=archive,
                )

        if hasattr(storage, "bulk_load"):
            await storage.bulk_load(games=games, mods=catalog())
        else:
            for game, genres in games:
                await storage.put_game(game, genres)
            for mod in catalog():
                await storage.put_mod(mod, expect=None)
    finally:
        await storage.close()


def child(server: str, port: int, data_dir: Path, mods: int, big_mb: int, kept_mb: int) -> None:
    """Run one server over a seeded catalog until SIGTERM (``kept_mb``: its kept answers)."""
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
            kept = (
                {"answer_cache_mb": kept_mb} if hasattr(HttpSettings(), "answer_cache_mb") else {}
            )
            http = HttpSettings(client_rate=0, **kept)  # (an older version keeps nothing)
            app = create_app(workshop, http, manage_lifespan=False)
            print("ready", flush=True)
            await serve(app, host="127.0.0.1", port=port, server=server, log_level="warning")
            kept_answers = getattr(app.state, "kept", None)
            if kept_answers is not None:
                print(f"kept answers: {kept_answers.hits} sent, {kept_answers.misses} built, "
                      f"{len(kept_answers)} kept at the end", file=sys.stderr)  # fmt: skip

    asyncio.run(run())


def seed_only(data_dir: Path, mods: int, big_mb: int) -> None:
    """Seed the catalog in a process of its own (the server's RSS is then its own)."""
    from openworkshop import FileArchiveStore

    storage, _ = _storage(data_dir)
    asyncio.run(_seed(storage, FileArchiveStore(data_dir / "archives"), mods, big_mb))


def floor_child(server: str, port: int, answers: Path) -> None:
    """The floor: an ASGI app on the same server that answers each URL with the status,
    headers and body the real server sent for it, held in memory (``answers``: a pickle of
    {path?query: (status, [(name, value)], body)}). What the server and the ASGI round
    trip cost, and nothing else."""
    import pickle

    from openworkshop_http.servers import serve

    table = pickle.loads(answers.read_bytes())
    missing = (404, [(b"content-type", b"text/plain")], b"not in the floor's table")

    async def app(scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        query = scope["query_string"]
        key = scope["path"] + ("?" + query.decode("latin-1") if query else "")
        status, headers, body = table.get(key, missing)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def run() -> None:
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
    server_cpu_us: float = 0.0
    """CPU time (user + system) of the server process per request, in microseconds."""
    client_cores: float = 0.0
    """CPU time of the load generator over the run's wall time: cores it kept busy."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


INFO_IDS = 20_000
"""``/info/mod/{random}`` draws from the first ``min(mods, INFO_IDS)`` mods (the floor holds
one body per id)."""

_WRK_RANDOM_IDS = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", string.format("/info/mod/%d", {first} + math.random(0, {n} - 1)))
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


def info_ids(mods: int) -> range:
    return range(FIRST_MOD_ID, FIRST_MOD_ID + min(mods, INFO_IDS))


def load(
    base: str, path: str, connections: int, duration: float, *, mods: int = 0, pid: int = 0
) -> Load:
    """``path`` (or ``/info/mod/{random}``) at ``connections`` clients for ``duration`` s;
    with ``pid``, that process's CPU time per request."""
    import resource

    cpu_before = cpu_seconds(pid) if pid else 0.0
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if shutil.which("wrk"):
        script = None
        if path == INFO:
            script = Path(tempfile.mkstemp(suffix=".lua")[1])
            ids = info_ids(mods)
            script.write_text(
                _WRK_RANDOM_IDS.replace("{first}", str(ids.start)).replace("{n}", str(len(ids)))
            )
            path = "/"
        result = _wrk(base + path, connections, duration, script)
    else:
        urls = [f"{base}/info/mod/{i}" for i in info_ids(mods)] if path == INFO else [base + path]
        result = _aiohttp(urls, connections, duration)
    wall = time.perf_counter() - started
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (client_after.ru_utime - client_before.ru_utime) + (
        client_after.ru_stime - client_before.ru_stime
    )
    served = result.requests_per_s * duration
    server_us = (cpu_seconds(pid) - cpu_before) / served * 1e6 if pid and served else 0.0
    return attrs.evolve(result, server_cpu_us=server_us, client_cores=client / wall)


# --- RSS ---------------------------------------------------------------------------------------


class RssSampler:
    """Samples a process's resident set size (and its children's) in a thread: the peak of
    ``VmRSS``, and of its anonymous (``RssAnon``) and file-backed (``RssFile``) parts."""

    FIELDS = ("VmRSS", "RssAnon", "RssFile")

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = dict.fromkeys(self.FIELDS, 0)
        self._stop = False

    @staticmethod
    def _kb(pid: int) -> dict[str, int]:
        total = dict.fromkeys(RssSampler.FIELDS, 0)
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                name, _, value = line.partition(":")
                if name in total:
                    total[name] += int(value.split()[0])
        with contextlib.suppress(OSError):
            for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
                for name, value in RssSampler._kb(int(child)).items():
                    total[name] += value
        return total

    def sample(self) -> dict[str, int]:
        now = self._kb(self.pid)
        for name, value in now.items():
            self.peak_kb[name] = max(self.peak_kb[name], value)
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


@contextlib.contextmanager
def process(argv: list[str]) -> Iterator[subprocess.Popen]:
    """A child of this script, once it printed "ready"; stopped with SIGTERM."""
    child = subprocess.Popen([sys.executable, __file__, *argv], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        child.stdout.readline()  # "ready"
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()


def server_argv(server: str, port: int, data_dir: Path, args, kept_mb: int) -> list[str]:
    return [
        "--child", server, "--port", str(port), "--data-dir", str(data_dir),
        "--mods", str(args.mods), "--archive-mb", str(args.archive_mb), "--kept-mb", str(kept_mb),
    ]  # fmt: skip


def fetch_table(base: str, mods: int) -> dict[str, tuple[int, list, bytes]]:
    """What the real server answers for each URL the floor serves: status, headers, body."""
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    kept = {"content-type", "access-control-allow-origin", "access-control-expose-headers"}

    def one(path: str) -> tuple[str, tuple[int, list, bytes]]:
        with urllib.request.urlopen(base + path, timeout=30) as answer:
            body = answer.read()
            headers = [
                (k.lower().encode(), v.encode()) for k, v in answer.headers.items()
                if k.lower() in kept
            ]  # fmt: skip
            headers.append((b"content-length", str(len(body)).encode()))
            return path, (answer.status, headers, body)

    paths = [LISTING, SEARCH, *(f"/info/mod/{i}" for i in info_ids(mods))]
    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(one, paths))


def json_encoders(table: dict[str, tuple[int, list, bytes]]) -> dict[str, dict[str, float]]:
    """Microseconds to encode each endpoint's body (decoded again) with orjson, as the server
    does, and with the standard ``json`` module as Starlette's ``JSONResponse`` did."""
    from openworkshop_http.encoding import dumps, dumps_stdlib

    out: dict[str, dict[str, float]] = {}
    info = next(k for k in table if k.startswith("/info/mod/"))
    for label, path in (("list", LISTING), ("info", info), ("search", SEARCH)):
        value = json.loads(table[path][2])
        assert dumps(value) == dumps_stdlib(value)
        row = out[label] = {}
        for name, encode in (("orjson", dumps), ("json", dumps_stdlib)):
            rounds = 2000
            started = time.perf_counter()
            for _ in range(rounds):
                encode(value)
            row[name] = (time.perf_counter() - started) / rounds * 1e6
    return out


def json_loads(base: str, pid: int, args) -> dict[str, Load]:
    out = {}
    for label, path in (("list", LISTING), ("info", INFO), ("search", SEARCH)):
        load(base, path, CONNECTIONS, 2, mods=args.mods)  # warm up
        out[label] = load(base, path, CONNECTIONS, args.duration, mods=args.mods, pid=pid)
    return out


def bench_server(
    server: str, data_dir: Path, args: argparse.Namespace, *, kept_mb: int, table: Path | None
) -> dict[str, object]:
    """One server process: the JSON endpoints; with ``kept_mb`` also the downloads and the
    catalog pages; with ``table``, first the floor's answers fetched into it."""
    import pickle

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with process(server_argv(server, port, data_dir, args, kept_mb)) as child:
        _wait_for(base + "/info/queue/size")
        if table is not None:
            table.write_bytes(pickle.dumps(fetch_table(base, args.mods)))
        sampler = RssSampler(child.pid)
        idle_kb = sampler.sample()
        pages: dict[str, tuple[Load, Load]] = {}
        downloads: dict[str, Load] = {}
        phases: dict[str, float] = {}
        with sampler.running():
            loads = json_loads(base, child.pid, args)
            phases["JSON"] = sampler.peak_kb["VmRSS"] / 1024
            if kept_mb and not args.no_download:
                for label, mod_id in (("2.6 MB", MID_MOD_ID), ("100 MB", BIG_MOD_ID)):
                    downloads[label] = load(
                        base, f"/download/{mod_id}", CONNECTIONS, args.duration, pid=child.pid
                    )
                phases["downloads"] = sampler.peak_kb["VmRSS"] / 1024
            for label, query in CATALOG_QUERIES if kept_mb else ():
                json_path = f"/list/mods/?page_size={CATALOG_PAGE_SIZE}" + (
                    f"&{query}" if query else ""
                )
                page_path = "/web/" + (f"?{query}" if query else "")
                load(base, page_path, CONNECTIONS, 1, mods=args.mods)  # warm up
                pages[label] = (
                    load(base, json_path, CONNECTIONS, args.duration, mods=args.mods),
                    load(base, page_path, CONNECTIONS, args.duration, mods=args.mods),
                )
                phases["pages"] = sampler.peak_kb["VmRSS"] / 1024
        return {
            "server": server,
            "kept_mb": kept_mb,
            "json": loads,
            "downloads": downloads,
            "pages": pages,
            "rss_idle_mb": idle_kb["VmRSS"] / 1024,
            "rss_peak_mb": {k: v / 1024 for k, v in sampler.peak_kb.items()},
            "rss_peak_after_mb": phases,
        }


def bench_floor(server: str, table: Path, args: argparse.Namespace) -> dict[str, Load]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with process(["--floor", server, "--port", str(port), "--answers", str(table)]) as child:
        _wait_for(base + LISTING)
        return json_loads(base, child.pid, args)


def memory_only(data_dir: Path, args: argparse.Namespace) -> None:
    """The server over the catalog, after a few reads of each JSON endpoint: its RSS parts."""
    import urllib.request

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    with process(
        server_argv(args.servers.split(",")[0], port, data_dir, args, args.kept_mb)
    ) as child:
        _wait_for(base + "/info/queue/size")
        print(f"seeded and started in {time.perf_counter() - started:.0f} s")
        sampler = RssSampler(child.pid)
        print("idle:", {k: f"{v / 1024:.0f} MB" for k, v in sampler.sample().items()})
        rng = random.Random(3)
        with sampler.running():
            for n in range(300):
                mod_id = FIRST_MOD_ID + rng.randrange(args.mods)
                for path in (f"{LISTING}&page={n}", f"/info/mod/{mod_id}", SEARCH):
                    with urllib.request.urlopen(base + path, timeout=60) as answer:
                        answer.read()
            for path in (LISTING, INFO, SEARCH):
                load(base, path, CONNECTIONS, args.duration, mods=args.mods)
        now = sampler.sample()
        print(
            "after 900 reads and a load of each:", {k: f"{v / 1024:.0f} MB" for k, v in now.items()}
        )
        print("peak:", {k: f"{v / 1024:.0f} MB" for k, v in sampler.peak_kb.items()})
        size = sum(f.stat().st_size for f in data_dir.glob("openworkshop.sqlite3*"))
        print(f"database: {size / 2**20:.0f} MB; target: RssAnon <= 150 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="granian")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--mods", type=int, default=10_000)
    parser.add_argument("--archive-mb", type=int, default=100)
    parser.add_argument("--data-dir", type=Path, help="keep the seeded catalog in this folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--floor", help=argparse.SUPPRESS)
    parser.add_argument("--answers", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--kept-mb", type=int, default=8, help="--memory-only: the kept answers' MB (0: off)"
    )
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--memory-only", action="store_true", help="only the RSS parts")
    parser.add_argument(
        "--no-download", action="store_true", help="skip the download runs (and nginx)"
    )
    args = parser.parse_args()
    if args.seed_only:
        seed_only(args.data_dir, args.mods, args.archive_mb)
        return
    if args.child:
        child(args.child, args.port, args.data_dir, args.mods, args.archive_mb, args.kept_mb)
        return
    if args.floor:
        floor_child(args.floor, args.port, args.answers)
        return

    with tempfile.TemporaryDirectory(prefix="openworkshop-bench-") as tmp:
        os.chmod(tmp, 0o755)  # nginx's workers run as another user
        data_dir = args.data_dir or Path(tmp) / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o755)
        _, kind = _storage(data_dir)
        if kind == "sqlite":  # the memory storage is seeded in the server's process
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, __file__, "--seed-only", "--data-dir", str(data_dir),
                 "--mods", str(args.mods), "--archive-mb", str(args.archive_mb)],
                check=True,
            )  # fmt: skip
            print(f"catalog seeded in {time.perf_counter() - started:.0f} s")
        tool = "wrk" if shutil.which("wrk") else "aiohttp (separate process)"
        print(f"{os.cpu_count()} CPUs; storage {kind}; {args.mods} mods; load from {tool}; "
              f"{args.duration:.0f} s per run; {CONNECTIONS} connections")  # fmt: skip
        if args.memory_only:
            memory_only(data_dir, args)
            return
        table = Path(tmp) / "floor.pickle"
        results = []
        floors = {}
        for server in (s.strip() for s in args.servers.split(",")):
            results.append(bench_server(server, data_dir, args, kept_mb=0, table=table))
            results.append(bench_server(server, data_dir, args, kept_mb=8, table=None))
            floors[server] = bench_floor(server, table, args)
        encoders = json_encoders(__import__("pickle").loads(table.read_bytes()))
        reference: dict[str, Load] = {}
        if not args.no_download:
            with nginx(data_dir / "archives", Path(tmp) / "nginx") as nginx_base:
                if nginx_base:
                    for label, key in (("2.6 MB", MID_KEY), ("100 MB", BIG_KEY)):
                        reference[label] = load(nginx_base, "/" + key, CONNECTIONS, args.duration)
        report(results, floors, reference, encoders, args)


def report(results, floors, reference, encoders, args) -> None:
    targets = {"list": 0.6, "info": 0.7, "search": 0.4}
    print()
    print(f"JSON at {CONNECTIONS} connections: req/s (p99 ms) [server CPU us/request]; "
          "the floor answers the same bytes from memory on the same server")  # fmt: skip
    print(
        f"{'':22} {'list (page_size=50)':>30} {'info (random id)':>30} {'search (RELEVANCE)':>30}"
    )
    for r in results:
        floor = floors[r["server"]]
        cells = []
        for label in ("list", "info", "search"):
            x = r["json"][label]
            ratio = x.requests_per_s / max(floor[label].requests_per_s, 1e-9)
            cells.append(
                f"{x.requests_per_s:6.0f} ({x.p99_ms:5.1f}) [{x.server_cpu_us:5.0f}] {ratio:4.2f}x"
            )
        kept = "kept answers" if r["kept_mb"] else "every answer built"
        print(f"{r['server'] + ' ' + kept:22} " + " ".join(f"{c:>30}" for c in cells))
    for server, floor in floors.items():
        cells = [
            f"{floor[k].requests_per_s:6.0f} ({floor[k].p99_ms:5.1f}) [{floor[k].server_cpu_us:5.0f}] 1.00x"
            for k in ("list", "info", "search")
        ]
        print(f"{server + ' floor':22} " + " ".join(f"{c:>30}" for c in cells))
    print(f"{'targets':22} " + " ".join(f"{f'>= {t}x':>30}" for t in targets.values()))
    cores = max(x.client_cores for r in results for x in r["json"].values())
    print(f"load generator: at most {cores:.2f} cores busy of {os.cpu_count()}")

    print()
    print("JSON encoding of the same bodies, us per body: " + ", ".join(
        f"{label} orjson {e['orjson']:.1f} / json {e['json']:.1f} ({e['json'] / e['orjson']:.1f}x)"
        for label, e in encoders.items()
    ))  # fmt: skip

    if reference:
        print()
        print(
            f"downloads at {CONNECTIONS} connections: MB/s, share of nginx (same files, same run)"
        )
        for r in results:
            for label, x in r["downloads"].items():
                share = x.mb_per_s / max(reference[label].mb_per_s, 1e-9)
                print(f"  {r['server']:10} {label:>7} {x.mb_per_s:8.0f} MB/s {share:6.0%}   "
                      f"nginx {reference[label].mb_per_s:8.0f} MB/s   target >= 60%")  # fmt: skip

    print()
    print("server RSS peak over the whole run (MB): ")
    for r in results:
        peak = r["rss_peak_mb"]
        print(f"  {r['server']:10} kept={r['kept_mb']:<2} VmRSS {peak['VmRSS']:5.0f}  "
              f"RssAnon {peak['RssAnon']:5.0f}  RssFile {peak['RssFile']:5.0f}  "
              f"(idle {r['rss_idle_mb']:.0f}; target 150); peak VmRSS after "
              + ", ".join(f"{k} {v:.0f}" for k, v in r["rss_peak_after_mb"].items()))  # fmt: skip

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
    errors = [
        (r["server"], r["kept_mb"], label, x.errors)
        for r in results
        for label, x in [*r["json"].items(), *r["downloads"].items()]
        if x.errors
    ]
    if errors:
        print("non-2xx answers:", errors)
    if args.json:
        print(json.dumps({
            "results": [
                {**r, "json": {k: attrs.asdict(v) for k, v in r["json"].items()},
                 "downloads": {k: attrs.asdict(v) for k, v in r["downloads"].items()},
                 "pages": {k: [attrs.asdict(x) for x in pair] for k, pair in r["pages"].items()}}
                for r in results
            ],
            "floors": {s: {k: attrs.asdict(v) for k, v in f.items()} for s, f in floors.items()},
            "nginx": {k: attrs.asdict(v) for k, v in reference.items()},
            "encoders": encoders,
        }))  # fmt: skip


if __name__ == "__main__":
    main()
