"""X-Accel-Redirect: the app checks, names and counts; Debian's nginx, configured with the
locations docs/deploy.md shows, sends the bytes. Real processes on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import textwrap
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openworkshop.testing import sample_catalog
from openworkshop_http.endpoints import accel_uri
from tests.http.conftest import Api, MakeApi, free_port, openworkshop_process, wait_for_http

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)


def documented_locations() -> str:
    text = DEPLOY.read_text(encoding="utf-8")
    found = re.search(
        r"# <openworkshop-locations>\n(.*?)\n\s*# </openworkshop-locations>", text, re.S
    )
    assert found, "docs/deploy.md lost its marked nginx locations"
    return textwrap.dedent(found.group(1))


@pytest.mark.anyio
async def test_accel_answer_is_headers_only(make_api: MakeApi) -> None:
    """In-process: X-Accel-Redirect names the archive under the prefix, no body, the file's
    name and ETag; If-None-Match still answered by the app; the store without files streams."""
    api: Api = await make_api(accel_redirect="/_archives/")
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    mod = await api.workshop.storage.get_mod(mod_id)
    answer = await api.client.get(f"/download/{mod_id}")
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["x-accel-redirect"] == f"/_archives/{mod.archive.key}"
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["etag"] == f'"{mod.archive.sha256}"'
    assert answer.headers["content-disposition"].startswith("attachment; filename")
    assert "accept-ranges" not in answer.headers  # nginx adds its own
    cached = await api.client.get(
        f"/download/{mod_id}", headers={"If-None-Match": f'"{mod.archive.sha256}"'}
    )
    assert cached.status_code == 304
    memory = await make_api(accel_redirect="/_archives", archives="memory")
    await memory.cache([mod_id])
    streamed = await memory.client.get(f"/download/{mod_id}")
    assert "x-accel-redirect" not in streamed.headers and streamed.content[:2] == b"PK"


def test_accel_uri_quotes_the_key() -> None:
    assert accel_uri("/_archives/", "12/3 4#?.zip") == "/_archives/12/3%204%23%3F.zip"


@pytest.fixture
def nginx_front(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """``openworkshop demo`` in X-Accel-Redirect mode behind nginx configured with the
    documented locations: (nginx URL, app URL, the data folder)."""
    if NGINX is None:
        pytest.skip(
            "Debian's nginx is not installed (apt-get install nginx-light); .ci/run installs it"
        )
    tmp_path.chmod(0o755)  # nginx's workers may run as another user
    data = tmp_path / "data"
    app_port, nginx_port = free_port(), free_port()
    app = f"http://127.0.0.1:{app_port}"
    locations = (
        documented_locations()
        .replace("http://127.0.0.1:8000", app)
        .replace("/var/lib/openworkshop/archives/", f"{data}/archives/")
    )
    work = tmp_path / "nginx"
    work.mkdir()
    root_only = "user root;" if os.geteuid() == 0 else ""
    conf = work / "nginx.conf"
    conf.write_text(
        f"{root_only}\nworker_processes 1;\ndaemon off;\npid {work}/nginx.pid;\n"
        f"error_log {work}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n"
        f"  access_log off;\n  sendfile on;\n"
        + "".join(
            f"  {kind}_temp_path {work}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  server {{\n    listen 127.0.0.1:{nginx_port};\n"
        + textwrap.indent(locations, "    ")
        + "\n  }\n}\n"
    )
    env = {"OPENWORKSHOP_ACCEL_REDIRECT": "/_archives", "OPENWORKSHOP_CLIENT_RATE": "0"}
    args = ["demo", "--port", str(app_port), "--data-dir", str(data), "--log-level", "warning"]
    with openworkshop_process(
        args, env, ready_url=app + "/info/queue/size", log=tmp_path / "app.log"
    ):
        deadline = time.monotonic() + 60
        while httpx.get(app + "/info/queue/size").json() != 0:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        nginx = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(work), "-e", str(work / "error.log")],
            stderr=subprocess.DEVNULL,
        )
        try:
            front = f"http://127.0.0.1:{nginx_port}"
            wait_for_http(front + "/info/queue/size", nginx, timeout=20)
            yield front, app, data
        finally:
            nginx.terminate()
            nginx.wait(10)


def test_nginx_sends_the_archive_the_app_names(nginx_front) -> None:
    """Through nginx: the catalog's files, the app's name and ETag, exact Content-Type,
    CORS; Range and If-None-Match work; each download is counted; the internal location is
    not reachable from outside; the app alone sends headers only."""
    front, app, data = nginx_front
    catalog = sample_catalog()
    mod_id = next(iter(catalog.items))
    answer = httpx.get(f"{front}/download/{mod_id}")
    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        got = {i.filename: archive.read(i) for i in archive.infolist()}
    assert got == {p: b"".join(c) for p, c in catalog.items[mod_id].iter_files()}
    etag = f'"{hashlib.sha256(answer.content).hexdigest()}"'
    assert answer.headers["etag"] == etag
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-length"] == str(len(answer.content))
    assert answer.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''Quote%20Mod%20with%3A%20slash%20%E2%80%94%20%C3%BCn%C3%AFcode.zip"
    )
    assert answer.headers.get_list("access-control-allow-origin") == ["*"]
    assert answer.headers["access-control-expose-headers"] == "Content-Type,Content-Disposition"
    assert "x-accel-redirect" not in answer.headers

    part = httpx.get(f"{front}/download/steam/{mod_id}", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.content == answer.content[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(answer.content)}"

    same = httpx.get(f"{front}/download/{mod_id}", headers={"If-None-Match": etag})
    assert same.status_code == 304

    listing = httpx.get(f"{front}/list/mods/?page_size=1")
    assert listing.status_code == 200
    assert listing.headers["content-type"] == "application/json"
    assert listing.headers.get_list("access-control-allow-origin") == ["*"]

    hidden = httpx.get(f"{front}/_archives/")
    assert hidden.status_code == 404

    info = httpx.get(f"{front}/info/mod/{mod_id}").json()
    assert info["result"]["downloads"] == 2  # the whole archive, and the first 100 bytes

    direct = httpx.get(f"{app}/download/{mod_id}")
    assert direct.content == b""
    key = direct.headers["x-accel-redirect"].removeprefix("/_archives/")
    assert (data / "archives" / key).read_bytes() == answer.content
