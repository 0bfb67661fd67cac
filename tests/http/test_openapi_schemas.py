"""The row schemas of /openapi.json are built from the field groups of ``openworkshop.views``:
a key added to a group appears in the document with its type."""

from __future__ import annotations

from typing import Any

from openworkshop import views
from openworkshop_http.openapi import openapi_document


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = openapi_document()["components"]["schemas"]
    return schemas


def test_the_mod_schemas_have_every_key_of_every_group() -> None:
    keys = [key.name for group in views.MOD_GROUPS.values() for key in group]
    schemas = _schemas()
    assert list(schemas["Mod"]["properties"]) == ["id", *keys]
    result = schemas["ModInfo"]["properties"]["result"]
    assert list(result["properties"]) == [*keys, "condition", "game"]
    for group in views.MOD_GROUPS:
        assert f"`{group}`" in schemas["Mod"]["description"]


def test_the_game_schemas_have_every_key_and_require_the_base() -> None:
    base = [key.name for key in views.GAME_KEYS]
    keys = [key.name for group in views.GAME_GROUPS.values() for key in group]
    schemas = _schemas()
    assert list(schemas["Game"]["properties"]) == ["id", *base, *keys]
    assert schemas["Game"]["required"] == ["id", *base]
    result = schemas["GameInfo"]["properties"]["result"]
    assert list(result["properties"]) == [*base, *keys]
    assert result["required"] == base


def test_each_key_type_has_its_schema() -> None:
    properties = _schemas()["Mod"]["properties"]
    assert properties["size"] == {"type": "integer"}
    assert properties["short_description"] == {"type": "string", "maxLength": 256}
    assert properties["date_creation"]["nullable"] is True
