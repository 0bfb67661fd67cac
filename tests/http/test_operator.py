"""What an operator sees, against real ``openworkshop`` processes on 127.0.0.1: the start-up
line with the real port, why downloads are off, one log line per request and per download
state change, clear errors for a bad port, data folder, variable or duration; and the
HTTP server's limits: a raw ``"`` in a query string is taken, idle connections do not lock
new clients out, and silent ones are shed."""

from __future__ import annotations

import contextlib
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openworkshop.testing import sample_catalog
from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID
from openworkshop_http.servers import HEADER_TIMEOUT, KEEP_ALIVE_TIMEOUT, SERVERS
from tests.http.conftest import assert_error, wait_for_http

SCRIPT = Path(sys.executable).with_name("openworkshop")
CLOSED = "http://127.0.0.1:9"  # discard port: nothing listens, nothing reaches Valve
BANNER = re.compile(r"on http://127\.0\.0\.1:(\d+)")


def _offline(tmp_path: Path) -> dict[str, str]:
    """A server with no steamcmd, every Steam URL pointing at a closed local port."""
    return {
        "PATH": "/usr/bin:/bin",
        "OPENWORKSHOP_STEAMCMD": str(tmp_path / "no-steamcmd"),
        "OPENWORKSHOP_STEAM_API_URL": CLOSED,
        "OPENWORKSHOP_STEAM_COMMUNITY_URL": CLOSED,
        "OPENWORKSHOP_STEAM_STORE_URL": CLOSED,
        "OPENWORKSHOP_DATA_DIR": str(tmp_path / "data"),
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=60, env=env)


@contextlib.contextmanager
def _server(args: list[str], env: dict[str, str], log: Path) -> Iterator[tuple[str, Path]]:
    """``openworkshop ARGS --port 0``: its base URL (read from the start-up line) and log."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(SCRIPT), *args, "--port", "0"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while (found := BANNER.search(log.read_text())) is None:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        base = f"http://127.0.0.1:{found.group(1)}"
        wait_for_http(base + "/info/queue/size", process)
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_line(log: Path, pattern: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while (found := re.search(pattern, log.read_text())) is None:
        assert time.monotonic() < deadline, (pattern, log.read_text())
        time.sleep(0.05)
    return found.group(0)


def _raw(port: int, request: bytes, timeout: float = 5) -> bytes:
    """Send ``request`` as is on a fresh connection; everything the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


# --- the command line ----------------------------------------------------------------------


def test_version() -> None:
    done = _run(["--version"], {"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0
    assert re.fullmatch(r"openworkshop \d+\.\d+\.\d+\S*\n", done.stdout), done.stdout


def test_help_speaks_of_the_original_api_not_the_seed() -> None:
    for args in (["--help"], ["serve", "--help"], ["demo", "--help"]):
        text = _run(args, {"PATH": "/usr/bin:/bin"}).stdout
        assert "seed" not in text.lower(), text
    top = " ".join(_run(["--help"], {"PATH": "/usr/bin:/bin"}).stdout.split())
    assert "the original Open Workshop API" in top


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_a_port_out_of_range_is_a_clear_error(tmp_path: Path, how: str) -> None:
    env = _offline(tmp_path)
    if how == "flag":
        done = _run(["serve", "--port", "99999"], env)
    else:
        done = _run(["serve"], {**env, "OPENWORKSHOP_PORT": "99999"})
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert "99999" in done.stderr and "0 to 65535" in done.stderr, done.stderr


def test_an_unusable_data_folder_is_named_with_the_reason(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for folder, reason in [(a_file, "it is a file"), (a_file / "below", "Not a directory")]:
        done = _run(["serve", "--port", "0", "--data-dir", str(folder)], _offline(tmp_path))
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        assert f"data folder {folder}" in done.stderr and reason in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OPENWORKSHOP_STEAMCMD_PATH", "/usr/games/steamcmd", "did you mean OPENWORKSHOP_STEAMCMD"),
        ("OPENWORKSHOP_UPDATE_COOLDOWN", "-60", "must be 0 or more"),
    ],
)
def test_an_unknown_variable_or_a_negative_duration_stops_the_start(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    done = _run(["serve", "--port", "0"], {**_offline(tmp_path), variable: value})
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert variable in done.stderr and message in done.stderr, done.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was created


# --- what the log says ---------------------------------------------------------------------


def test_without_steamcmd_the_server_says_why_once_and_in_each_503(tmp_path: Path) -> None:
    """--port 0 prints the port it got; the start-up log says once that downloads are off
    and how to turn them on; each 503 says the same in its details; each request is one
    line of the access log."""
    with _server(["serve"], _offline(tmp_path), tmp_path / "serve.log") as (base, log):
        for _ in range(2):
            answer = httpx.get(base + "/download/steam/1")
            body = assert_error(answer, 503, 1)
            assert answer.headers["retry-after"] == "30"
            assert (
                "steamcmd" in body["details"][0] and "OPENWORKSHOP_STEAMCMD" in body["details"][0]
            )
        assert httpx.get(base + "/list/mods/?page_size=2").status_code == 200
        _wait_for_line(log, r'"GET /list/mods/\?page_size=2" 200 ')
        text = log.read_text()
    assert text.count("downloads are off: steamcmd") == 1, text
    assert "docs/deploy.md" in text
    assert len(re.findall(r'127\.0\.0\.1 "GET /download/steam/1" 503 \d+ ', text)) == 2, text


def test_each_download_state_change_is_one_line(tmp_path: Path) -> None:
    """The demo (fake Steam, fake steamcmd): one mod asked for is logged as it is queued,
    taken by a worker and made ready."""
    catalog = sample_catalog()
    mod_id = next(i for i in catalog.items if i not in (PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID))
    env = {"PATH": "/usr/bin:/bin", "OPENWORKSHOP_CLIENT_RATE": "0"}
    args = ["demo", "--empty", "--data-dir", str(tmp_path / "data")]
    with _server(args, env, tmp_path / "demo.log") as (base, log):
        assert httpx.get(f"{base}/download/steam/{mod_id}").status_code == 202
        _wait_for_line(log, rf"mod {mod_id}: new -> queued")
        _wait_for_line(log, rf"mod {mod_id}: queued -> downloading")
        _wait_for_line(log, rf"mod {mod_id}: \w+ -> ready")
        text = log.read_text()
    assert len(re.findall(rf"mod {mod_id}: new -> queued", text)) == 1, text
    assert f'"GET /download/steam/{mod_id}" 202' in text


def test_the_log_level_warning_keeps_only_problems(tmp_path: Path) -> None:
    args = ["serve", "--log-level", "warning"]
    with _server(args, _offline(tmp_path), tmp_path / "serve.log") as (base, log):
        assert httpx.get(base + "/info/queue/size").status_code == 200
        assert httpx.get(base + "/download/steam/1").status_code == 503
        text = log.read_text()
    assert "downloads are off" in text  # a warning
    assert '"GET /info/queue/size"' not in text


# --- the HTTP server -----------------------------------------------------------------------


def test_a_raw_quote_in_the_query_string_is_answered_in_json(tmp_path: Path) -> None:
    """Launchers built by hand send ``["steam"]`` unencoded; h11 takes it, so must we: the
    exact bytes on a socket get the JSON answer, not an empty 400."""
    with _server(["serve"], _offline(tmp_path), tmp_path / "serve.log") as (base, _):
        port = int(base.rsplit(":", 1)[1])
        for target in (b'/list/mods/?primary_sources=["steam"]', b'/info/mod/["x"]'):
            answer = _raw(
                port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            head, _, body = answer.partition(b"\r\n\r\n")
            assert re.search(rb"(?i)content-type: application/json", head), answer
            assert body.startswith(b"{"), answer
        listing = _raw(port, b'GET /list/mods/?primary_sources=["steam"] HTTP/1.1\r\nHost: x\r\n'
                       b"Connection: close\r\n\r\n")  # fmt: skip
        assert listing.startswith(b"HTTP/1.1 200"), listing
        assert b'"results":[]' in listing


@pytest.mark.parametrize("server", SERVERS)
def test_300_idle_connections_do_not_lock_out_a_new_client(tmp_path: Path, server: str) -> None:
    """Idle sockets (half of them with a request head never finished) hold no slot a new
    client needs: a fresh connection is answered within a second."""
    args = ["serve", "--server", server]
    with _server(args, _offline(tmp_path), tmp_path / "serve.log") as (base, log):
        port = int(base.rsplit(":", 1)[1])
        with contextlib.ExitStack() as stack:
            for n in range(300):
                idle = stack.enter_context(socket.create_connection(("127.0.0.1", port), 5))
                if n % 2:
                    idle.sendall(b"GET /info/queue/size HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            answer = _raw(port, b"GET /info/queue/size HTTP/1.1\r\nConnection: close\r\n"
                          b"Host: x\r\n\r\n", timeout=1)  # fmt: skip
            assert answer.startswith(b"HTTP/1.1 200"), answer
            assert time.monotonic() - started < 1
        text = log.read_text()
    assert "Embedded server is experimental!" not in text
    if server == "granian":
        assert text.count("granian runs embedded") == 1, text


def _closed_within(conn: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``conn`` within ``seconds`` (what it still sends is read)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([conn], [], [], left)
        if readable and conn.recv(65536) == b"":
            return True
    return False


def test_silent_and_idle_connections_are_shed(tmp_path: Path) -> None:
    """The default server closes a connection that sends nothing, one whose request head
    never ends, and an idle keep-alive connection after its timeout."""
    with _server(["serve"], _offline(tmp_path), tmp_path / "serve.log") as (base, _):
        port = int(base.rsplit(":", 1)[1])
        with contextlib.ExitStack() as stack:
            silent = stack.enter_context(socket.create_connection(("127.0.0.1", port), 5))
            partial = stack.enter_context(socket.create_connection(("127.0.0.1", port), 5))
            partial.sendall(b"GET /info/queue/size HTTP/1.1\r\nHost: x\r\n")
            kept = stack.enter_context(socket.create_connection(("127.0.0.1", port), 5))
            kept.sendall(b"GET /info/queue/size HTTP/1.1\r\nHost: x\r\n\r\n")
            assert kept.recv(65536).startswith(b"HTTP/1.1 200")
            bound = HEADER_TIMEOUT + KEEP_ALIVE_TIMEOUT + 30
            for conn in (kept, silent, partial):
                assert _closed_within(conn, bound)
