"""JSON bodies: encoded by orjson, byte for byte what the standard ``json`` module writes with
Starlette's settings (compact separators, UTF-8 as is, no NaN).

orjson encodes the listing's 50 rows several times faster than ``json.dumps`` (figures in
docs/http.md, measured by ``bench/http.py`` in the same run as the server). A value orjson
cannot take (an integer past 64 bits, a type it does not know) goes to ``json.dumps``, so
the answer stays the same as before, only slower.
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson
from starlette.responses import JSONResponse as _StarletteJSONResponse

__all__ = ["JSONResponse", "dumps", "dumps_stdlib"]

_OPTIONS: Final = orjson.OPT_NON_STR_KEYS


def dumps_stdlib(content: Any) -> bytes:
    """What Starlette's ``JSONResponse`` writes: the reference the tests compare against."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def dumps(content: Any) -> bytes:
    """``content`` as JSON bytes, the same as :func:`dumps_stdlib`."""
    try:
        return orjson.dumps(content, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: a big integer, an unknown type
        return dumps_stdlib(content)


class JSONResponse(_StarletteJSONResponse):
    """Starlette's ``JSONResponse`` (``application/json``) with its body from :func:`dumps`."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
