"""Turning Steam's BBCode descriptions into the seed's plain short description."""

from __future__ import annotations

import html
import re

__all__ = ["SHORT_DESCRIPTION_LENGTH", "plain_text", "short_description"]

SHORT_DESCRIPTION_LENGTH = 256

_BBCODE = re.compile(r"\[/?[a-zA-Z0-9*]+(?:=[^\]]*)?\]")
_HTML = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def plain_text(text: str) -> str:
    """BBCode (or HTML) markup removed, entities decoded, white space folded."""
    text = _BBCODE.sub(" ", text)
    text = _HTML.sub(" ", text)
    return _SPACE.sub(" ", html.unescape(text)).strip()


def short_description(text: str) -> str:
    """At most 256 characters of plain text, cut at a word where possible."""
    plain = plain_text(text)
    if len(plain) <= SHORT_DESCRIPTION_LENGTH:
        return plain
    cut = plain[: SHORT_DESCRIPTION_LENGTH - 1]
    space = cut.rfind(" ")
    if space > SHORT_DESCRIPTION_LENGTH // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"
