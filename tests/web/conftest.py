"""Fixtures for the web pages' tests: ``openworkshop demo`` as a real process on 127.0.0.1 (the
fake Steam, SQLite, archives on disk) and headless Chromium driven by selenium through
Debian's chromium-driver. The browser tests are skipped, with the reason, only when chromium
or chromedriver is not installed, and never under CI (``CI=true``: ``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from openworkshop.testing import SteamCatalog, sample_catalog
from openworkshop.testing.sample import PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID
from tests.client.gated import Gated, gated_server
from tests.http.conftest import running_demo

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
    # nothing but loopback resolves: the pages' Steam images must not leave the machine
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def _missing_browser() -> str | None:
    for what, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)):
        if not (os.access(path, os.X_OK) or shutil.which(path)):
            return f"{what} is not installed at {path} (apt-get install chromium chromium-driver)"
    return None


def ordinary_mods() -> list[int]:
    return [i for i in sample_catalog().items if i not in (PRIVATE_MOD_ID, UNFETCHABLE_MOD_ID)]


@pytest.fixture(scope="session")
def web_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``openworkshop demo`` on 127.0.0.1 with the sample mods cached (all but the last one,
    which the demo leaves for a person to ask for); its base URL."""
    with running_demo(tmp_path_factory.mktemp("web-demo"), cached_within=90) as base:
        yield base


WEB_SLOW = 4000000200
"""A large mod the gated server's fake steamcmd stops halfway."""


@pytest.fixture(scope="session")
def gated_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gated]:
    """A server whose fake steamcmd stops each download halfway until the test opens its
    gate (tests/client/gated.py), with one large mod."""
    from tests.client.conftest import _item

    catalog = SteamCatalog()
    catalog.add_item(_item(WEB_SLOW, blob=6 << 20))
    with gated_server(tmp_path_factory.mktemp("web-gated"), catalog) as running:
        yield running


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """Headless Chromium (English pages); closed at the end of the test."""
    missing = _missing_browser()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {missing}; .ci/run installs it")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--lang=en-US")
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    service = Service(
        executable_path=shutil.which(CHROMEDRIVER) or CHROMEDRIVER,
        log_output=str(tmp_path / "chromedriver.log"),
    )
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


from tests.http.conftest import api, make_api  # noqa: E402, F401  (fixtures: the app over a Workshop)
