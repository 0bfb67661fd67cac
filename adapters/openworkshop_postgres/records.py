"""Rows to values and back: ids, words and the mod row.

PostgreSQL's ``bigint`` is signed 64-bit; Steam ids are unsigned. An id at or above 2**63 is
stored as its two's complement (``id - 2**64``), as the SQLite store does, so every id a real
Steam hands out (well below 2**63) is stored as itself. Times are ``timestamptz`` (microsecond
precision, as Python's) and come back in UTC: every connection runs with ``TimeZone=UTC``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final, TypeVar

from openworkshop.clock import utc
from openworkshop.domain import Archive, Failure, FailureReason, Game, Mod, Resource, ResourceType
from openworkshop.states import ModState

__all__ = [
    "GAME_COLUMNS",
    "MOD_COLUMNS",
    "failure_from_row",
    "game_from_row",
    "id_in",
    "id_out",
    "lexemes",
    "maybe_in",
    "maybe_out",
    "mod_from_row",
    "mod_values",
    "resource_from_row",
    "search_words",
    "text_in",
    "text_out",
    "time_in",
    "time_out",
    "unique",
    "words_of",
]

_SIGNED_LIMIT: Final = 2**63
_UNSIGNED_SPAN: Final = 2**64
_WORD: Final = re.compile(r"\w+", re.UNICODE)
_LONG_WORD: Final = 200
"""Bytes (UTF-8) past which a word is stored as its digest: a GIN entry and a tsvector lexeme
have size limits (2,047 bytes for a lexeme), a word of the texts has none."""

T = TypeVar("T")


def id_in(value: int) -> int:
    """A Steam id (unsigned 64-bit) as a bigint stores it (signed 64-bit)."""
    return value - _UNSIGNED_SPAN if value >= _SIGNED_LIMIT else value


def id_out(value: int) -> int:
    """The Steam id behind a stored bigint."""
    return value + _UNSIGNED_SPAN if value < 0 else value


def time_in(value: dt.datetime | None) -> dt.datetime | None:
    """Naive values are taken to be UTC (as the SQLite store does)."""
    return None if value is None else utc(value)


def time_out(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time in ``datetime.UTC`` (psycopg hands out the session's zone)."""
    return None if value is None else value.astimezone(dt.UTC)


_ESCAPE: Final = "\uffff"
_NUL_CODE: Final = "\ufffe"
_ESCAPED: Final = re.compile("\uffff(.)", re.DOTALL)


def text_in(value: str) -> str:
    """A text as a ``text`` column holds it: PostgreSQL refuses NUL, which Steam's texts may
    hold, so NUL is stored as U+FFFF U+FFFE and U+FFFF itself as U+FFFF U+FFFF (two
    noncharacters: no real text is changed, every text comes back as it was)."""
    if _ESCAPE not in value and "\x00" not in value:
        return value
    return value.replace(_ESCAPE, _ESCAPE * 2).replace("\x00", _ESCAPE + _NUL_CODE)


def text_out(value: str) -> str:
    if _ESCAPE not in value:
        return value
    return _ESCAPED.sub(lambda m: "\x00" if m.group(1) == _NUL_CODE else m.group(1), value)


def maybe_in(value: str | None) -> str | None:
    return None if value is None else text_in(value)


def maybe_out(value: str | None) -> str | None:
    return None if value is None else text_out(value)


def unique(items: Iterable[T]) -> list[T]:
    """Items in order, repeats dropped."""
    return list(dict.fromkeys(items))


def _lexeme(word: str) -> str:
    if len(word.encode("utf-8", "surrogatepass")) <= _LONG_WORD:
        return word
    # ':' is no word character, so no word of a text is ever spelled like a digest
    return "sha256:" + hashlib.sha256(word.encode("utf-8", "surrogatepass")).hexdigest()


def words_of(*texts: str | None) -> list[str]:
    """The words of ``texts`` as the in-memory store splits them (``\\w+``, case-folded), each
    once, as the search stores them (a very long word by its digest)."""
    return sorted({_lexeme(w.casefold()) for text in texts if text for w in _WORD.findall(text)})


def lexemes(words: list[str]) -> str:
    """``words`` as a ``tsvector``'s text (each lexeme as it is: no quote nor backslash is a
    word character, and a digest holds none either)."""
    return " ".join(f"'{w}'" for w in words)


def search_words(text: str) -> list[str]:
    """The words a ``q`` asks for, the same way."""
    return words_of(text)


# --- mods ---------------------------------------------------------------------------

MOD_COLUMNS: Final = (
    "id",
    "game_id",
    "state",
    "name",
    "size",
    "source",
    "downloads",
    "date_creation",
    "date_update",
    "date_request",
    "date_checked",
    "date_queued",
    "time_updated",
    "hcontent_file",
    "archive_key",
    "archive_size",
    "archive_sha256",
    "attempts",
    "not_before",
    "lease_until",
    "short_description",
    "description",
)
"""The columns a :class:`Mod` is read from, in row order."""


def mod_values(mod: Mod) -> dict[str, Any]:
    """Every column of ``MOD_COLUMNS`` as a named parameter."""
    archive = mod.archive
    return {
        "id": id_in(mod.id),
        "game_id": None if mod.game_id is None else id_in(mod.game_id),
        "state": int(mod.state),
        "name": text_in(mod.name),
        "size": mod.size,
        "source": mod.source,
        "downloads": mod.downloads,
        "date_creation": time_in(mod.date_creation),
        "date_update": time_in(mod.date_update),
        "date_request": time_in(mod.date_request),
        "date_checked": time_in(mod.date_checked),
        "date_queued": time_in(mod.date_queued),
        "time_updated": mod.time_updated,
        "hcontent_file": mod.hcontent_file,
        "archive_key": None if archive is None else archive.key,
        "archive_size": None if archive is None else archive.size,
        "archive_sha256": None if archive is None else archive.sha256,
        "attempts": mod.attempts,
        "not_before": time_in(mod.not_before),
        "lease_until": time_in(mod.lease_until),
        "short_description": text_in(mod.short_description),
        "description": text_in(mod.description),
    }


def mod_from_row(row: Sequence[Any]) -> Mod:
    (
        ident,
        game_id,
        state,
        name,
        size,
        source,
        downloads,
        date_creation,
        date_update,
        date_request,
        date_checked,
        date_queued,
        time_updated,
        hcontent_file,
        archive_key,
        archive_size,
        archive_sha256,
        attempts,
        not_before,
        lease_until,
        short_description,
        description,
    ) = row
    archive = (
        None
        if archive_key is None
        else Archive(key=archive_key, size=archive_size, sha256=archive_sha256)
    )
    return Mod(
        id=id_out(ident),
        name=text_out(name),
        game_id=None if game_id is None else id_out(game_id),
        state=ModState(state),
        size=size,
        source=source,
        downloads=downloads,
        short_description=text_out(short_description),
        description=text_out(description),
        date_creation=time_out(date_creation),
        date_update=time_out(date_update),
        date_request=time_out(date_request),
        date_checked=time_out(date_checked),
        date_queued=time_out(date_queued),
        time_updated=time_updated,
        hcontent_file=hcontent_file,
        archive=archive,
        attempts=attempts,
        not_before=time_out(not_before),
        lease_until=time_out(lease_until),
    )


# --- games, resources, failures -------------------------------------------------------

GAME_COLUMNS: Final = (
    "id",
    "name",
    "type",
    "logo",
    "source",
    "creation_date",
    "short_description",
    "description",
)


def game_from_row(row: Sequence[Any], mods_count: int, mods_downloads: int) -> Game:
    ident, name, type_, logo, source, creation_date, short_description, description = row
    return Game(
        id=id_out(ident),
        name=text_out(name),
        type=type_,
        logo=logo,
        short_description=text_out(short_description),
        description=text_out(description),
        source=source,
        creation_date=time_out(creation_date),
        mods_count=mods_count,
        mods_downloads=mods_downloads,
    )


def resource_from_row(row: Sequence[Any]) -> Resource:
    ident, owner_id, type_, url, date_event = row
    return Resource(
        id=ident,
        owner_id=id_out(owner_id),
        type=ResourceType(type_),
        url=url,
        date_event=time_out(date_event),
    )


def failure_from_row(row: Sequence[Any]) -> Failure:
    mod_id, reason, attempts, date, detail = row
    return Failure(
        mod_id=id_out(mod_id),
        reason=FailureReason(reason),
        attempts=attempts,
        date=time_out(date),
        detail=text_out(detail),
    )
