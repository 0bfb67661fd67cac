"""The per-client rate limit on the endpoints that can make the server call Valve."""

from __future__ import annotations

import pytest

from openworkshop_http import HttpSettings
from openworkshop_http.ratelimit import ClientRateLimit
from tests.http.conftest import MakeApi, assert_error

pytestmark = pytest.mark.anyio


async def test_429_with_retry_after_once_the_budget_is_spent(make_api: MakeApi) -> None:
    """client_rate requests a minute, then 429 in the original's shape with Retry-After; the
    limit is per client address and per endpoint group, and refills with time."""
    api = await make_api(client_rate=3)
    mod_id = api.mod_ids()[0]
    await api.cache([mod_id])
    for _ in range(2):
        assert (await api.client.get(f"/download/steam/{mod_id}")).status_code == 200
    assert (await api.client.get(f"/update/steam/{mod_id}")).status_code == 425
    limited = await api.client.get(f"/download/steam/{mod_id}")
    body = assert_error(limited, 429, 429)
    assert body["message"] == "too many requests"
    assert "3 requests a minute" in body["details"][0]
    assert limited.headers["retry-after"] == "20"  # one request every 60/3 s
    assert_error(await api.client.get(f"/update/steam/{mod_id}"), 429, 429)
    # other endpoints are not limited
    assert (await api.client.get(f"/download/{mod_id}")).status_code == 200
    assert (await api.client.get("/list/mods/")).status_code == 200
    # another client has its own budget
    async with api.client_from("10.0.0.7") as other:
        assert (await other.get(f"/download/steam/{mod_id}")).status_code == 200
    # time refills the budget
    api.clock.advance(20)
    assert (await api.client.get(f"/download/steam/{mod_id}")).status_code == 200
    assert (await api.client.get(f"/download/steam/{mod_id}")).status_code == 429


async def test_malformed_requests_do_not_spend_the_budget(make_api: MakeApi) -> None:
    """They never reach Valve: 422 before the limit is consulted."""
    api = await make_api(client_rate=1)
    for _ in range(5):
        assert_error(await api.client.get("/download/steam/nope"), 422, 4)
    assert (await api.client.get("/download/steam/1")).status_code == 202


async def test_zero_turns_the_limit_off(make_api: MakeApi) -> None:
    api = await make_api(client_rate=0, can_download=False)
    for _ in range(50):
        assert (await api.client.get("/download/steam/1")).status_code == 503


def test_token_bucket() -> None:
    """Bursts of up to per_minute, then one every 60/per_minute seconds."""
    now = [0.0]
    limit = ClientRateLimit(2, lambda: now[0])
    assert limit.take("a") is None
    assert limit.take("a") is None
    assert limit.take("a") == pytest.approx(30.0)
    assert limit.take("b") is None
    now[0] += 15
    assert limit.take("a") == pytest.approx(15.0)
    now[0] += 15
    assert limit.take("a") is None
    assert limit.take("a") == pytest.approx(30.0)


def test_many_clients_do_not_grow_memory_without_bound() -> None:
    from openworkshop_http import ratelimit

    now = [0.0]
    limit = ClientRateLimit(10, lambda: now[0])
    for n in range(ratelimit.MAX_CLIENTS + 10):
        limit.take(f"10.{n}")
        now[0] += 10  # each earlier client's bucket is full again
    assert len(limit._buckets) <= ratelimit.MAX_CLIENTS


def test_a_flood_of_addresses_forgets_the_oldest_not_everyone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past MAX_CLIENTS the client seen longest ago is forgotten, one at a time: a client
    that spent its budget and keeps asking stays limited while a flood of new addresses
    arrives in the same instant (clearing every bucket would hand it a fresh budget)."""
    from openworkshop_http import ratelimit

    monkeypatch.setattr(ratelimit, "MAX_CLIENTS", 100)
    limit = ClientRateLimit(1, lambda: 0.0)
    assert limit.take("spender") is None
    for n in range(1000):
        assert limit.take(f"flood-{n}") is None
        if n % 10 == 0:
            assert limit.take("spender") == pytest.approx(60.0), n
    assert len(limit._buckets) == 100
    assert "flood-0" not in limit._buckets and "flood-999" in limit._buckets


async def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(
    make_api: MakeApi,
) -> None:
    """Behind nginx on 127.0.0.1 (OPENWORKSHOP_TRUSTED_PROXIES=127.0.0.1) each client has its
    own budget (X-Forwarded-For); a client that is not a trusted proxy cannot pick its
    address with the header."""
    api = await make_api(client_rate=1, can_download=False, trusted_proxies="127.0.0.1")
    url = f"/download/steam/{api.mod_ids()[0]}"

    def via(address: str) -> dict[str, str]:
        return {"X-Forwarded-For": f"203.0.113.9, {address}"}

    assert (await api.client.get(url, headers=via("198.51.100.1"))).status_code == 503
    assert (await api.client.get(url, headers=via("198.51.100.1"))).status_code == 429
    assert (await api.client.get(url, headers=via("198.51.100.2"))).status_code == 503
    async with api.client_from("192.0.2.50") as outsider:
        assert (await outsider.get(url, headers=via("198.51.100.3"))).status_code == 503
        assert (await outsider.get(url, headers=via("198.51.100.4"))).status_code == 429


async def test_trusting_no_proxy(make_api: MakeApi) -> None:
    api = await make_api(client_rate=1, can_download=False, trusted_proxies="none")
    url = f"/download/steam/{api.mod_ids()[0]}"
    assert (await api.client.get(url, headers={"X-Forwarded-For": "1.1.1.1"})).status_code == 503
    assert (await api.client.get(url, headers={"X-Forwarded-For": "2.2.2.2"})).status_code == 429


async def test_no_proxy_is_trusted_by_default(make_api: MakeApi) -> None:
    """A local client (a tunnel, another user of the machine, a script on 127.0.0.1) cannot
    pick a new address with X-Forwarded-For on every request unless the operator named a
    proxy."""
    assert HttpSettings().trusted_proxies == "none"
    api = await make_api(client_rate=1, can_download=False)
    assert api.http.trusted_proxies == "none"
    url = f"/download/steam/{api.mod_ids()[0]}"
    for n, status in enumerate([503, 429, 429]):
        spoofed = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert (await api.client.get(url, headers=spoofed)).status_code == status
