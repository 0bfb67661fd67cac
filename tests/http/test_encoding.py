"""The JSON bodies orjson writes are the bytes Starlette's ``json.dumps`` wrote before."""

from __future__ import annotations

import pytest

from openworkshop_http.encoding import dumps, dumps_stdlib
from tests.http.conftest import Api

pytestmark = pytest.mark.anyio

VALUES = [
    {"result": None, "a": [1, -2, 0, True, False], "b": {"nested": [None, {}, []]}},
    {"text": 'é ü 中文 \u2028 \u2029 \x00 \x1f " \\ / \t\n', "emoji": "\U0001f600"},
    {1: "int keys become strings", 2_009_463_077: 0},
    [0.1, 1.5, -0.0, 1e20, 123456789.123, 2**63 - 1, -(2**63)],
    2**70,  # past 64 bits: orjson refuses it, the standard module writes it
    "a string",
]


@pytest.fixture
async def cached(api: Api) -> Api:
    await api.cache(api.mod_ids())
    return api


@pytest.mark.parametrize("value", VALUES)
def test_the_same_bytes_as_the_standard_module(value: object) -> None:
    assert dumps(value) == dumps_stdlib(value)


async def test_every_json_endpoint_answers_the_standard_modules_bytes(cached: Api) -> None:
    """The bodies of real answers decode and re-encode to the same bytes either way."""
    import json

    mod_id = cached.mod_ids()[0]
    for url in (
        "/list/mods/?page_size=50&dates=true&description=true&short_description=true",
        "/list/mods/?q=a&sort=RELEVANCE",
        f"/info/mod/{mod_id}?dependencies=true&game=true&dates=true",
        "/list/games/",
        "/statistics/info/all",
        "/info/mod/1",
        "/condition/mod/[1,2]",
        "/statistics/info/type_map",
    ):
        answer = await cached.client.get(url)
        assert answer.headers["content-type"] == "application/json", url
        assert answer.content == dumps_stdlib(json.loads(answer.content)), url
