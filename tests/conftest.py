"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of the session's own PostgreSQL cluster (``openworkshop_postgres.cluster``), started when a test
    first asks. Without PostgreSQL installed the asking tests are skipped, except under CI
    (``CI=true``), where they fail: there they must run."""
    from openworkshop_postgres.cluster import find_bin, initdb_glob, running_cluster

    bin_dir = find_bin()
    if bin_dir is None:
        reason = f"PostgreSQL is not installed (no {initdb_glob()}; apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    with running_cluster(bin_dir) as cluster:
        yield cluster.url


@pytest.fixture
def postgres_schema() -> str:
    """A schema name no other test uses: each test's tables are its own."""
    return f"t_{uuid.uuid4().hex[:16]}"
