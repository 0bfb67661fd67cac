"""The field groups of mod and game rows: each flag adds exactly its group's keys, declared
once in ``views.MOD_GROUPS`` / ``views.GAME_GROUPS`` (the OpenAPI schemas are built from the
same tables: tests/http/test_openapi_schemas.py)."""

from __future__ import annotations

import datetime as dt
import itertools

import attrs
import pytest

from openworkshop import views
from openworkshop.domain import Game, Mod
from openworkshop.ports import Page
from openworkshop.query import GameFields, ModFields
from openworkshop.states import ModState

WHEN = dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)
MOD = Mod(
    id=2955709750,
    name="a mod",
    state=ModState.READY,
    size=1234,
    downloads=7,
    short_description="short",
    description="long",
    date_creation=WHEN,
    date_update=None,
)
GAME = Game(
    id=4000,
    name="a game",
    type="app",
    logo="https://example.invalid/logo.png",
    short_description="short",
    description="long",
    creation_date=WHEN,
    mods_count=3,
    mods_downloads=9,
)


def _choices(cls: type) -> list[object]:
    names = [field.name for field in attrs.fields(cls)]
    return [
        cls(**dict(zip(names, flags, strict=True)))
        for flags in itertools.product((False, True), repeat=len(names))
    ]


def test_every_flag_is_a_group() -> None:
    assert {field.name for field in attrs.fields(ModFields)} == set(views.MOD_GROUPS)
    assert {field.name for field in attrs.fields(GameFields)} == set(views.GAME_GROUPS)


@pytest.mark.parametrize("fields", _choices(ModFields), ids=repr)
def test_a_mod_row_has_the_keys_of_its_groups_in_order(fields: ModFields) -> None:
    keys = [k.name for g, group in views.MOD_GROUPS.items() if getattr(fields, g) for k in group]
    page = Page(total=1, offset=0, items=[MOD])
    assert list(views.mod_list(page, fields)["results"][0]) == ["id", *keys]
    assert list(views.mod_info(MOD, fields)["result"]) == [*keys, "condition"]


@pytest.mark.parametrize("fields", _choices(GameFields), ids=repr)
def test_a_game_row_has_the_keys_of_its_groups_in_order(fields: GameFields) -> None:
    base = [k.name for k in views.GAME_KEYS]
    keys = [k.name for g, group in views.GAME_GROUPS.items() if getattr(fields, g) for k in group]
    page = Page(total=1, offset=0, items=[GAME])
    assert list(views.game_list(page, fields)["results"][0]) == ["id", *base, *keys]
    assert list(views.game_info(GAME, fields)["result"]) == [*base, *keys]


def test_the_values_and_their_formats() -> None:
    every = ModFields(general=True, short_description=True, description=True, dates=True)
    row = views.mod_list(Page(total=1, offset=0, items=[MOD]), every)["results"][0]
    assert row == {
        "id": 2955709750,
        "name": "a mod",
        "size": 1234,
        "source": "steam",
        "downloads": 7,
        "description": "long",
        "short_description": "short",
        "date_creation": "2024-05-01 12:30:15",
        "date_update": None,
    }
    games = GameFields(short_description=True, description=True, dates=True, statistics=True)
    assert views.game_info(GAME, games)["result"] == {
        "name": "a game",
        "type": "app",
        "logo": "https://example.invalid/logo.png",
        "source": "steam",
        "short_description": "short",
        "description": "long",
        "mods_downloads": 9,
        "mods_count": 3,
        "creation_date": "2024-05-01 12:30:15.123456",
    }
