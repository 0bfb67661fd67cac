"""Text from Steam made safe to keep, and its BBCode descriptions made plain and short.

:func:`clean_text` is the one cleaning every adapter applies to text it brings in (titles,
descriptions, tags, names, URLs): whatever Steam sends, what the core stores is valid
Unicode that every encoder and database accepts.
"""

from __future__ import annotations

import html
import re

__all__ = [
    "REPLACEMENT",
    "SHORT_DESCRIPTION_LENGTH",
    "clean_text",
    "plain_text",
    "short_description",
]

SHORT_DESCRIPTION_LENGTH = 256

_BBCODE = re.compile(r"\[/?[a-zA-Z0-9*]+(?:=[^\]]*)?\]")
_HTML = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")

REPLACEMENT = "\ufffd"
"""U+FFFD, what a lone surrogate (or, when bytes are decoded, invalid UTF-8) becomes."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 control characters (NUL among them) and DEL, but not tab, line feed or carriage
return: Steam's descriptions break lines with CR LF."""


def clean_text(text: str) -> str:
    """``text`` as valid Unicode: lone surrogates (a JSON ``"\\ud83d"``) become U+FFFD,
    control characters other than tab and line breaks are dropped.

    Bytes are decoded before this with ``errors="replace"``, so invalid UTF-8 arrives here
    as U+FFFD already. A valid surrogate *pair* never reaches this function: ``json``
    combines ``"\\ud83d\\ude00"`` into one character.
    """
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(REPLACEMENT, text)
    return _CONTROL.sub("", text)


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
