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
and filter, in a column of its own (``facets``): ``<U+E000>d<bucket>`` for its downloads,
``<U+E000>c<day>`` for its creation date, ``<U+E000>g<id>`` for its game, and so on. The
private-use character U+E000 is a token character to FTS5 but never part of a ``q`` word
(words are runs of ``\\w``), so user text cannot reach a facet token, and user words need
no column filter (which would make FTS5 read every match's positions). A bucket is an order-preserving rounding of the value, so "the matches
sorted by downloads" is "the matches in the top buckets, sorted": FTS5 intersects the words
with a few buckets' tokens, and only those matches are read and sorted. Buckets holding one
value (downloads under 100, a source, no date) are read in id order, which is their sort
order, with early termination. ``facet_buckets`` keeps how many listed mods each bucket
holds, so a query knows how many buckets to take at once.

**Gap tokens.** A word found in most texts (``the``, ``more``) has a doclist nearly as long as
the catalog, and every ``q`` holding it reads all of it to intersect it with the others. For
such dense terms (``dense_terms``, see ``openworkshop_sqlite.dense``), each mod whose text
lacks the term carries ``<U+E002>term<U+E002>`` in the ``gaps`` column of the ``q`` index,
and ``q`` asks for "the other words NOT the gaps": a doclist of the few mods without the
word. The texts the indexes read are cleaned of the marker characters (``clean_sql``), so no
text can pass for a facet or a gap token.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterable, Iterator
from typing import Any, Final, Literal

import attrs

__all__ = [
    "FACETS",
    "FILTER_FACETS",
    "GAP",
    "GRAM",
    "LEVELS",
    "SORT_FACETS",
    "TEXT_TOKENIZER",
    "Facet",
    "clean",
    "clean_sql",
    "facet_buckets_sql",
    "facets_sql",
    "fold",
    "fts_phrase",
    "gap_token",
    "name_words",
    "vocabulary_of",
    "word_needle",
]

_DAY_US: Final = 86_400_000_000
MARK: Final = "\ue000"
"""The first character of every facet token (Unicode private use: see above)."""
GRAM: Final = "\ue001"
"""The first character of a three-character piece of a name word in ``name_words``: a
needle of three letters or digits is one token of the word index, however many words
contain it (FTS5 steps through every term of an OR for each match)."""
_UNMARK: Final = {ord(MARK): "\ufffd", ord(GRAM): "\ufffd"}
GAP: Final = "\ue002"
"""Before and after the term of a gap token (a dense term that a text lacks)."""
_ZEROS: Final = "0" * 24


_PUNCTUATION: Final = string.punctuation
SEPARATORS: Final = frozenset(
    chr(c) for c in range(128) if not (chr(c).isalnum() or chr(c) in _PUNCTUATION)
)
"""What cuts a name into words: ASCII spaces and control characters (nothing else)."""
TEXT_TOKENIZER: Final = "porter unicode61 remove_diacritics 2"
"""The tokenizer of the ``q`` index (and of the title index)."""
WORD_TOKENIZER: Final = "ascii tokenchars '{}'".format(_PUNCTUATION.replace("'", "''"))
"""FTS5's ``ascii`` tokenizer splitting at exactly ``SEPARATORS`` (every other ASCII
character is part of a token, and it treats every non-ASCII one so)."""


def fold(text: str) -> str:
    """``text`` case-folded, with the two marker characters of the word index (``MARK``,
    ``GRAM``) replaced by U+FFFD, so no word of a name can pass for a facet token or a
    piece."""
    return text.casefold().translate(_UNMARK)


_MARKERS: Final = (MARK, GAP)
"""What no indexed text may hold: the first characters of facet and gap tokens."""
_CLEAN: Final = {ord(c): " " for c in _MARKERS}


def clean(text: str) -> str:
    """``text`` as the ``q`` and title indexes read it (``clean_sql``): markers made spaces."""
    return text.translate(_CLEAN)


def clean_sql(value: str) -> str:
    """SQL for ``value`` (a text column) with the marker characters made spaces, so a text
    cannot hold a facet or a gap token (FTS5 takes private-use characters for letters)."""
    for marker in _MARKERS:
        value = f"replace({value}, char({ord(marker)}), ' ')"
    return value


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 string: every character literal."""
    return '"' + text.replace('"', '""') + '"'


def gap_token(term: str) -> str:
    """The token of a text lacking ``term``, a term of the ``q`` index. It ends with a
    character that is no ASCII letter, so the porter stemmer leaves it alone."""
    return GAP + term + GAP


def _words(text: str) -> Iterator[str]:
    word: list[str] = []
    for char in fold(text):
        if char not in SEPARATORS:
            word.append(char)
        elif word:
            yield "".join(word)
            word = []
    if word:
        yield "".join(word)


def name_words(name: str) -> str:
    """The distinct words of a case-folded name, space-separated, in order of appearance;
    then the distinct three-character pieces of those words, each after ``GRAM``."""
    words = list(dict.fromkeys(_words(name)))
    grams = dict.fromkeys(GRAM + word[i : i + 3] for word in words for i in range(len(word) - 2))
    return " ".join([*words, *grams])


def vocabulary_of(words: str) -> list[str]:
    """The words of a ``name_words`` text (not the pieces)."""
    return [word for word in words.split(" ") if word and not word.startswith(GRAM)]


def word_needle(needle: str) -> str | None:
    """The folded needle (see ``fold``) if the word index can answer it (no space in it)."""
    folded = fold(needle)
    return folded if folded and SEPARATORS.isdisjoint(folded) else None


Kind = Literal["number", "count", "day", "prefix", "value"]


@attrs.frozen
class Facet:
    """One sort key or filter, as tokens in the ``facets`` column of the ``q`` index.

    Numbers and dates have three levels of buckets, each with its own tokens, every bucket
    splitting into at most 16 of the level below: numbers by power of ten, then to one
    significant digit, then to two (exact under 100; under 10 at every level); counts (the
    downloads) by powers of 16 and of 2; dates by 128 days, 8 days, one day; names by their
    first 2, 4 and 8 characters. A query takes a sparse stretch of values (the tail of a
    sort) as a few coarse tokens, and a dense one as fine tokens.
    """

    letter: str
    column: str
    kind: Kind
    level: int = 0
    """0 is the finest level; values and filters have that one only."""

    @property
    def key(self) -> str:
        """The level's name in ``facet_buckets``."""
        return f"{self.letter}{self.level}"

    def levels(self) -> tuple[Facet, ...]:
        """Every level of this facet, the coarsest first."""
        top = {"value": 0, "count": 1}.get(self.kind, 2)
        return tuple(attrs.evolve(self, level=level) for level in range(top, -1, -1))

    def finer(self) -> Facet:
        return attrs.evolve(self, level=self.level - 1)

    def bucket_sql(self, row: str) -> str:
        """The bucket of ``row``'s value: a non-decreasing function of it."""
        value = f"{row}.{self.column}"
        if self.kind == "count":  # the power of 2 (level 0) or of 16 (level 1) below it
            step = 2 if self.level == 0 else 16
            bounds = [step**k for k in range(64 if step == 2 else 16)]
            ladder = " ".join(
                f"WHEN {value} < {high} THEN {low}" for low, high in itertools.pairwise(bounds)
            )
            return f"(CASE WHEN {value} < 1 THEN {value} {ladder} ELSE {bounds[-1]} END)"
        if self.kind == "number":
            exact, digits = ((100, 2), (10, 1), (10, 0))[self.level]
            kept = f"substr({value}, 1, {digits}) || " if digits else "'1' || "
            return (
                f"(CASE WHEN {value} < {exact} THEN {value} ELSE CAST({kept}"
                f"substr('{_ZEROS}', 1, length({value}) - {max(digits, 1)}) AS INTEGER) END)"
            )
        if self.kind == "day":  # days from a point far enough back to stay positive
            day = f"({value} / {_DAY_US} + {_DAY_BASE})"
            return f"({day} / {_DAYS[self.level]})" if self.level else day
        if self.kind == "prefix":  # the first characters, ASCII letters folded (as NOCASE)
            return f"substr(lower({value}), 1, {_PREFIX[self.level]})"
        return value

    def children(self, bucket: Any) -> tuple[Any, Any]:
        """The buckets ``[low, high)`` of the level below inside ``bucket`` of this level."""
        if self.kind == "day":
            ratio = _DAYS[self.level] // _DAYS[self.level - 1]
            return bucket * ratio, (bucket + 1) * ratio
        if self.kind == "prefix":  # the longer prefixes that start with it
            return bucket, bucket + "\U0010ffff"
        if self.kind == "count":
            return (bucket, bucket + 1) if bucket < 1 else (bucket, bucket * 16)
        if bucket < 10:
            return bucket, bucket + 1
        if self.level == 2:  # a power of ten: its one-digit buckets
            return bucket, bucket * 10
        return bucket, bucket + 10 ** (len(str(bucket)) - 1)  # a one-digit bucket

    def token_sql(self, row: str) -> str:
        bucket = self.bucket_sql(row)
        mark = " || ".join([f"char({ord(MARK)})"] * (self.level + 1))
        return (
            f"({mark} || '{self.letter}' || CASE WHEN {bucket} IS NULL THEN 'x0' "
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
        return MARK * (self.level + 1) + self.letter + text

    def value_range(self, bucket: Any) -> tuple[Any, Any] | None:
        """The values ``[low, high)`` of a bucket of numbers or names, for walking a sort
        index through it (None for the others)."""
        if self.kind == "prefix":
            return bucket, bucket + "\U0010ffff"
        if self.kind == "count" and not self.exact(bucket):
            return bucket, bucket * (2 if self.level == 0 else 16)
        if self.kind != "number" or self.exact(bucket):
            return None
        if self.level == 2:
            return bucket, bucket * 10
        kept = 2 if self.level == 0 else 1
        return bucket, bucket + 10 ** (len(str(bucket)) - kept)

    def exact(self, bucket: Any) -> bool:
        """Whether every mod in the bucket has the same value (so id order is sort order)."""
        if bucket is None or self.kind == "value":
            return True
        if self.kind == "count":
            return bool(bucket < (2 if self.level == 0 else 1))
        if self.kind != "number":
            return False
        return bool(bucket < (100 if self.level == 0 else 10))


_DAYS: Final = (1, 8, 128)
"""Days in a bucket of dates, by level."""
_PREFIX: Final = (8, 4, 2)
"""Characters of a name in its bucket, by level."""
_DAY_BASE: Final = 1_000_000
"""Added to day numbers (days since 1970) so that every date of the last 2,700 years is a
positive bucket (integer division truncates towards zero)."""

SORT_FACETS: Final = {
    "NAME": Facet("n", "name", "prefix"),
    "SIZE": Facet("s", "size", "number"),
    "DATE_CREATION": Facet("c", "date_creation", "day"),
    "DATE_UPDATE": Facet("u", "date_update", "day"),
    "DATE_REQUEST": Facet("r", "date_request", "day"),
    "SOURCE": Facet("o", "source", "value"),
    # (by powers of 2: every download changes the count, and a new bucket rewrites the
    # mod's entries in three indexes, so a mod should change buckets rarely)
    "DOWNLOADS": Facet("d", "downloads", "count"),
}
"""Every sort key of ``/list/mods/`` (RELEVANCE is downloads within tiers)."""
LEVELS: Final = tuple(level for facet in SORT_FACETS.values() for level in facet.levels())
"""Every level of every sort facet: the rows of ``facet_buckets``."""

FILTER_FACETS: Final = {
    "game": Facet("g", "game_id", "value"),
    "source": SORT_FACETS["SOURCE"],
    "has_deps": Facet("h", "has_deps", "value"),
}
FACETS: Final = (*LEVELS, FILTER_FACETS["game"], FILTER_FACETS["has_deps"])


def facets_sql(row: str) -> str:
    """The ``facets`` text of ``row`` (a mods row alias such as ``new``)."""
    return " || ' ' || ".join(facet.token_sql(row) for facet in FACETS)


def facet_buckets_sql(row: str, levels: Iterable[Facet] = LEVELS) -> str:
    """``VALUES (facet, token, bucket), ...`` of ``row``: its bucket at every level."""
    return "VALUES " + ", ".join(
        f"('{f.key}', {f.token_sql(row)}, {f.bucket_sql(row)})" for f in levels
    )
