"""``openworkshop serve --database postgresql://…`` as a real process on 127.0.0.1: the API is
served from PostgreSQL (a mod requested, downloaded from the fake Steam, listed, its row in
the database), and the catalog is still there after a restart; a bad URL is a clear error at
start."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from openworkshop.testing import sample_catalog
from tests.http.conftest import free_port, openworkshop_process
from tests.http.test_cli import SCRIPT, _fetch_through_the_api, _files, _unzip, fake_steam

__all__ = ["fake_steam"]  # (the fixture, used here)

pytestmark = pytest.mark.slow


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    """A fresh database of the session's cluster, its URL."""
    name = f"serve_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    yield postgres_url.replace("/postgres?", f"/{name}?")


def test_serve_uses_postgresql(tmp_path: Path, fake_steam: dict[str, str], database: str) -> None:
    catalog = sample_catalog()
    mod_id = next(i for i in catalog.items if catalog.items[i].dependencies)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    args += ["--database", database]
    with openworkshop_process(
        args, fake_steam, ready_url=base + "/info/queue/size", log=tmp_path / "serve1.log"
    ):
        answer = _fetch_through_the_api(base, mod_id)
        assert _unzip(answer.content) == _files(mod_id)
        deadline = time.monotonic() + 30
        while httpx.get(f"{base}/condition/mod/[{mod_id}]").json()[str(mod_id)] != 0:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        listing = httpx.get(f"{base}/list/mods/?page_size=50").json()
        assert mod_id in [m["id"] for m in listing["results"]]
    assert "catalog in PostgreSQL" in (tmp_path / "serve1.log").read_text()
    assert not (tmp_path / "data" / "openworkshop.sqlite3").exists()
    with psycopg.connect(database) as conn:
        row = conn.execute("SELECT state, archive_key FROM mods WHERE id = %s", [mod_id]).fetchone()
    assert row is not None and row[0] == 0 and row[1]
    # (the environment variable names the same database)
    env = {**fake_steam, "OPENWORKSHOP_DATABASE": database}
    with openworkshop_process(
        args[:-2], env, ready_url=base + "/info/queue/size", log=tmp_path / "serve2.log"
    ):
        info = httpx.get(f"{base}/info/mod/{mod_id}?dependencies=true").json()
        assert info["result"]["condition"] == 0
        assert info["dependencies"] == list(catalog.items[mod_id].dependencies)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://db/x", "is no database URL"),
        ("sqlite:///", "needs a file's path"),
        ("postgresql://postgres@/nowhere?host=/nonexistent", "nonexistent"),
    ],
)
def test_a_bad_database_is_a_clear_error_at_start(tmp_path: Path, url: str, said: str) -> None:
    done = subprocess.run(
        [str(SCRIPT), "serve", "--port", "0", "--data-dir", str(tmp_path / "d"), "--database", url],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "OPENWORKSHOP_STEAMCMD": str(tmp_path / "none"),
            "OPENWORKSHOP_STEAM_API_URL": "http://127.0.0.1:9",
        },
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert said in done.stderr, done.stderr
