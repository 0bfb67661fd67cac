"""What the search indexes hold besides the text: the words of names, and facet tokens.

**Name words.** The ``name`` filter is a case-insensitive substring match. A needle made of
letters and digits only can only occur inside one word of a name (a maximal run of letters
and digits of the case-folded name), so "names containing it" are "names with a word
containing it": the vocabulary of name words (``name_vocabulary``, a few thousand to a few
hundred thousand words, trigram-indexed) says which words contain the needle, and the word
index (``mods_word_index``) counts the names holding any of them. That reads one entry per
matching name, instead of one per trigram of the needle per name. The words are cut here, in
Python, and stored in ``mods.name_words``; the index only splits that column at spaces, so
the index, the vocabulary and the per-row check ``instr(name_words, needle)`` agree by
construction.

**Facet tokens.** Every listed mod's entry in the ``q`` index carries one token per sort key
and filter, in a column of its own (``facets``) that user words never reach:
``0od<bucket>`` for its downloads, ``0oc<day>`` for its creation date, ``0og<id>`` for its
game, and so on. A bucket is an order-preserving rounding of the value, so "the matches
sorted by downloads" is "the matches in the top buckets, sorted": FTS5 intersects the words
with a few buckets' tokens, and only those matches are read and sorted. Buckets holding one
value (downloads under 100, a source, no date) are read in id order, which is their sort
order, with early termination. ``facet_buckets`` keeps how many listed mods each bucket
holds, so a query knows how many buckets to take at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final, Literal

import attrs

__all__ = [
    "FACETS",
    "FILTER_FACETS",
    "SORT_FACETS",
    "Facet",
    "facet_buckets_sql",
    "facets_sql",
    "name_words",
    "word_needle",
]

_DAY_US: Final = 86_400_000_000
_ZEROS: Final = "0" * 24


def _words(text: str) -> Iterator[str]:
    word: list[str] = []
    for char in text.casefold():
        if char.isalnum():
            word.append(char)
        elif word:
            yield "".join(word)
            word = []
    if word:
        yield "".join(word)


def name_words(name: str) -> str:
    """The distinct words of a case-folded name, space-separated, in order of appearance."""
    return " ".join(dict.fromkeys(_words(name)))


def word_needle(needle: str) -> str | None:
    """The case-folded needle if the word index can answer it (letters and digits only)."""
    folded = needle.casefold()
    return folded if folded and folded.isalnum() else None


Kind = Literal["number", "day", "value"]


@attrs.frozen
class Facet:
    """One sort key or filter, as tokens in the ``facets`` column of the ``q`` index."""

    letter: str
    column: str
    kind: Kind

    def bucket_sql(self, row: str) -> str:
        """The bucket of ``row``'s value: a non-decreasing function of it."""
        value = f"{row}.{self.column}"
        if self.kind == "number":  # exact under 100, else two significant digits
            return (
                f"(CASE WHEN {value} < 100 THEN {value} ELSE CAST(substr({value}, 1, 2) || "
                f"substr('{_ZEROS}', 1, length({value}) - 2) AS INTEGER) END)"
            )
        if self.kind == "day":
            return f"({value} / {_DAY_US})"
        return value

    def token_sql(self, row: str) -> str:
        bucket = self.bucket_sql(row)
        return (
            f"('0o{self.letter}' || CASE WHEN {bucket} IS NULL THEN 'x0' "
            f"WHEN typeof({bucket}) = 'text' THEN hex({bucket}) || '0' "
            f"WHEN {bucket} < 0 THEN 'n' || -{bucket} ELSE {bucket} END)"
        )

    def token(self, bucket: Any) -> str:
        """The token of a bucket (or of a filter's value), as ``token_sql`` writes it.

        Tokens end with a digit, so the porter stemmer of the ``q`` index leaves them alone.
        """
        if bucket is None:
            text = "x0"
        elif isinstance(bucket, str):
            text = bucket.encode().hex().upper() + "0"
        elif bucket < 0:
            text = f"n{-bucket}"
        else:
            text = str(bucket)
        return f"0o{self.letter}{text}"

    def exact(self, bucket: Any) -> bool:
        """Whether every mod in the bucket has the same value (so id order is sort order)."""
        if bucket is None or self.kind == "value":
            return True
        return self.kind == "number" and bucket < 100


SORT_FACETS: Final = {
    "SIZE": Facet("s", "size", "number"),
    "DATE_CREATION": Facet("c", "date_creation", "day"),
    "DATE_UPDATE": Facet("u", "date_update", "day"),
    "DATE_REQUEST": Facet("r", "date_request", "day"),
    "SOURCE": Facet("o", "source", "value"),
    "DOWNLOADS": Facet("d", "downloads", "number"),
}
"""The sort keys of ``/list/mods/`` served through facets (not NAME: names share prefixes
too much for buckets of a few characters to stay small)."""

FILTER_FACETS: Final = {
    "game": Facet("g", "game_id", "value"),
    "source": SORT_FACETS["SOURCE"],
    "has_deps": Facet("h", "has_deps", "value"),
}
FACETS: Final = (*SORT_FACETS.values(), FILTER_FACETS["game"], FILTER_FACETS["has_deps"])


def facets_sql(row: str) -> str:
    """The ``facets`` text of ``row`` (a mods row alias such as ``new``)."""
    return " || ' ' || ".join(facet.token_sql(row) for facet in FACETS)


def facet_buckets_sql(row: str, facets: Iterable[Facet] = SORT_FACETS.values()) -> str:
    """``VALUES (facet, token, bucket), ...`` of ``row``: its bucket of every sort facet."""
    return "VALUES " + ", ".join(
        f"('{f.letter}', {f.token_sql(row)}, {f.bucket_sql(row)})" for f in facets
    )
