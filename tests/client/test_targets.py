from __future__ import annotations

import pytest

from openworkshop_client import parse_targets


def test_ids_lists_and_workshop_urls() -> None:
    assert parse_targets(
        [
            "2009463077",
            "1,2",
            "[3, 4]",
            "https://steamcommunity.com/sharedfiles/filedetails/?id=5&searchtext=x",
            "https://steamcommunity.com/workshop/filedetails/?id=6",
            "2",
        ]
    ) == [2009463077, 1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    "value",
    [
        "-1",
        "0x10",
        str(2**64),
        "abc",
        "https://example.com/sharedfiles/filedetails/?id=5",
        "https://steamcommunity.com/sharedfiles/filedetails/",
        "https://steamcommunity.com/app/294100/workshop/",
    ],
)
def test_anything_else_is_a_clear_error(value: str) -> None:
    with pytest.raises(ValueError, match="Workshop"):
        parse_targets([value])
