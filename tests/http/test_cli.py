"""The ``openworkshop`` command as real processes on 127.0.0.1: ``serve`` against
``openworkshop fake-steam`` (request → poll → download → unzip → the fake Steam's bytes, and
again after a restart), ``demo``, HTTPS with ``--ssl-certfile``/``--ssl-keyfile`` on granian
and uvicorn, and the help texts."""

from __future__ import annotations

import io
import shutil
import ssl
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openworkshop.testing import sample_catalog
from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID
from tests.http.conftest import free_port, openworkshop_process

SCRIPT = Path(sys.executable).with_name("openworkshop")
CLOSED = "http://127.0.0.1:9"  # discard port: nothing listens, nothing reaches Valve


def _files(mod_id: int) -> dict[str, bytes]:
    return {p: b"".join(c) for p, c in sample_catalog().items[mod_id].iter_files()}


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_BZIP2}
        return {i.filename: archive.read(i) for i in archive.infolist()}


def _fetch_through_the_api(base: str, mod_id: int) -> httpx.Response:
    """What a launcher does: ask, poll /info/mod until condition 1 or 0, download."""
    asked = httpx.get(f"{base}/download/steam/{mod_id}")
    assert asked.status_code == 202, asked.text
    assert asked.json()["error_id"] == 0
    deadline = time.monotonic() + 60
    while True:
        info = httpx.get(f"{base}/info/mod/{mod_id}").json()
        assert info["result"] is not None, info  # visible at once, condition 3 while queued
        if info["result"]["condition"] in (0, 1):
            break
        assert time.monotonic() < deadline, info
        time.sleep(0.1)
    answer = httpx.get(f"{base}/download/{mod_id}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    return answer


@pytest.fixture
def fake_steam(tmp_path: Path) -> Iterator[dict[str, str]]:
    """``openworkshop fake-steam`` as a process; the OPENWORKSHOP_* variables it prints."""
    port = free_port()
    out = tmp_path / "fake-steam.log"
    with out.open("wb") as log:
        process = subprocess.Popen(
            [
                str(SCRIPT), "fake-steam", "--port", str(port), "--login-delay", "0.05",
                "--steamcmd-dir", str(tmp_path / "fake-steamcmd"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        env: dict[str, str] = {}
        while "OPENWORKSHOP_STEAMCMD" not in env:
            assert process.poll() is None, out.read_text()
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)
            for line in out.read_text().splitlines():
                if line.strip().startswith("export OPENWORKSHOP_"):
                    key, _, value = line.strip().removeprefix("export ").partition("=")
                    env[key] = value
        yield env
    finally:
        process.terminate()
        process.wait(10)


def test_serve_downloads_from_the_fake_steam_and_keeps_it(
    tmp_path: Path, fake_steam: dict[str, str]
) -> None:
    """serve's own wiring (SQLite, archives on disk, SteamWebSource, fake steamcmd): the
    bytes a client unzips are the fake Steam's; the data folder holds them; after a restart
    the mod is still there, with the same ETag, served without asking Steam again."""
    catalog = sample_catalog()
    mod_id = next(i for i in catalog.items if catalog.items[i].dependencies)
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--data-dir", str(data)]
    with openworkshop_process(
        args, fake_steam, ready_url=base + "/info/queue/size", log=tmp_path / "serve1.log"
    ):
        answer = _fetch_through_the_api(base, mod_id)
        assert _unzip(answer.content) == _files(mod_id)
        etag = answer.headers["etag"]
        deadline = time.monotonic() + 30
        while httpx.get(f"{base}/condition/mod/[{mod_id}]").json()[str(mod_id)] != 0:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        info = httpx.get(f"{base}/info/mod/{mod_id}?dependencies=true").json()
        assert info["dependencies"] == list(catalog.items[mod_id].dependencies)
    assert (data / "openworkshop.sqlite3").is_file()
    assert any((data / "archives").rglob("*.zip"))

    steam_api = fake_steam["OPENWORKSHOP_STEAM_API_URL"]
    base_url = steam_api.removesuffix("/api")
    calls_before = httpx.get(f"{base_url}/_fake/calls").json()
    with openworkshop_process(
        args, fake_steam, ready_url=base + "/info/queue/size", log=tmp_path / "serve2.log"
    ):
        assert httpx.get(f"{base}/condition/mod/[{mod_id}]").json() == {str(mod_id): 0}
        again = httpx.get(f"{base}/download/steam/{mod_id}")
        assert again.status_code == 200
        assert again.headers["etag"] == etag
        assert again.content == answer.content
        # (a download is counted once its body is sent, after the client has it all)
        deadline = time.monotonic() + 10
        while httpx.get(f"{base}/info/mod/{mod_id}").json()["result"]["downloads"] != 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert httpx.get(f"{base_url}/_fake/calls").json() == calls_before


def test_demo_serves_the_sample_catalog(demo_server: str) -> None:
    """openworkshop demo: the sample mods are in the catalog, and one not asked for yet goes
    through request → poll → download with the fake Steam's bytes."""
    listing = httpx.get(f"{demo_server}/list/mods/?page_size=50").json()
    ordinary = [i for i in sample_catalog().items if i not in (PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID)]
    assert listing["database_size"] == len(ordinary) - 1
    left = ordinary[-1]
    answer = _fetch_through_the_api(demo_server, left)
    assert _unzip(answer.content) == _files(left)
    docs = httpx.get(f"{demo_server}/")
    assert docs.status_code == 307 and docs.headers["location"] == "/docs"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_serve_https(tmp_path: Path, certificate: tuple[Path, Path], server: str) -> None:
    """--ssl-certfile/--ssl-keyfile serve HTTPS (as the original on port 8000), verified
    against the certificate; without steamcmd the server says it is not ready (503)."""
    cert, key = certificate
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    env = {
        "OPENWORKSHOP_STEAMCMD": str(tmp_path / "no-steamcmd"),
        "OPENWORKSHOP_STEAM_API_URL": CLOSED,
        "OPENWORKSHOP_STEAM_COMMUNITY_URL": CLOSED,
        "OPENWORKSHOP_STEAM_STORE_URL": CLOSED,
        "OPENWORKSHOP_DATA_DIR": str(tmp_path / "data"),
        "OPENWORKSHOP_PORT": str(port),
    }
    args = ["serve", "--server", server, "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]
    with openworkshop_process(
        args, env, ready_url=base + "/info/queue/size", log=tmp_path / "serve.log"
    ):
        context = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(verify=context) as client:
            answer = client.get(base + "/info/queue/size")
            assert answer.status_code == 200 and answer.json() == 0
            not_ready = client.get(base + "/download/steam/1")
            assert not_ready.status_code == 503
            assert not_ready.json()["error_id"] == 1
            assert not_ready.headers["retry-after"]
        with pytest.raises(httpx.ConnectError):
            httpx.get(base + "/info/queue/size")  # not trusted without the certificate
    assert (tmp_path / "data" / "openworkshop.sqlite3").is_file()


def test_help_names_the_commands_and_flags() -> None:
    top = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=True)
    for command in ("serve", "worker", "demo", "fake-steam"):
        assert command in top.stdout
    serve = subprocess.run(
        [str(SCRIPT), "serve", "--help"], capture_output=True, text=True, check=True
    )
    for flag in (
        "--host",
        "--port",
        "--data-dir",
        "--ssl-certfile",
        "--ssl-keyfile",
        "--server",
        "--no-worker",
    ):
        assert flag in serve.stdout
    worker = subprocess.run(
        [str(SCRIPT), "worker", "--help"], capture_output=True, text=True, check=True
    )
    assert "--data-dir" in worker.stdout and "no HTTP" in worker.stdout
    fake = subprocess.run(
        [str(SCRIPT), "fake-steam", "--help"], capture_output=True, text=True, check=True
    )
    assert "openworkshop fake-steam" in fake.stdout and "--catalog" in fake.stdout


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "OPENWORKSHOP_STEAMCMD": str(tmp_path / "none"),
            "OPENWORKSHOP_STEAM_API_URL": CLOSED,
        }
        done = subprocess.run(
            [str(SCRIPT), "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", **env},
        )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr


def test_a_worker_without_steamcmd_says_so_and_stops(tmp_path: Path) -> None:
    """A worker exists to download: without steamcmd it stops at once with a clear error,
    instead of sitting idle."""
    env = {"OPENWORKSHOP_STEAMCMD": str(tmp_path / "none"), "OPENWORKSHOP_STEAM_API_URL": CLOSED}
    done = subprocess.run(
        [str(SCRIPT), "worker", "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **env},
    )
    assert done.returncode == 1
    assert "openworkshop worker: a worker downloads with steamcmd" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
