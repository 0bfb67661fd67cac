"""Dense terms: words found in most texts, looked up by the mods that lack them.

A ``q`` word is one term of the ``q`` index, and FTS5 intersects the words' doclists. A term
held by most mods (``the``, ``mod``, ``more``) has a doclist nearly as long as the catalog,
which every ``q`` holding it reads whole: at a million mods, counting ``pack more`` read
852,620 entries to find 17,598 matches. So a term held by at least ``SHARE`` of the listed
mods (once there are ``MIN_MODS``) becomes dense: every mod whose text lacks it carries its
gap token (``search.gap_token``) in ``mods.gaps``, which the ``q`` index holds, and a ``q``
asks for the other words ``NOT`` the gaps of its dense words: a doclist of the few mods
without the word.

Which mods lack a term must hold for every mod before a reader may rely on it, and a term
becomes dense while the catalog exists. So the writer marks the mods in id order, in
batches, a few at each fold of the term counts (``marked_to``), and readers use a term's
gaps once it is ``ready``. A mod written meanwhile gets the gaps of every dense term, ready
or not (``gaps_of``), so the marked ones stay right. A term stays dense once it is: its gaps
cost a little space if it becomes rarer, and ``q`` stays exact either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Final

from sqlite_utils import Database

from openworkshop_sqlite.search import GAP, TEXT_TOKENIZER, clean, fts_phrase, gap_token

__all__ = [
    "MIN_MODS",
    "SHARE",
    "cut",
    "dense_terms",
    "gaps_of",
    "mark_all",
    "prepare",
    "refresh_dense",
    "text_terms",
]

SHARE: Final = 0.75
"""A term held by at least this share of the listed mods is dense (its gaps are at most a
third of its doclist)."""
MIN_MODS = 1_000
"""... once at least this many mods are listed (below, every doclist is short)."""
REWRITE = 0.5
"""Marking every mod at once rewrites the ``q`` entries that change if they are fewer than
this share of the listed mods, else rebuilds the index (each entry is cut twice)."""
MOST: Final = 32
"""Dense terms at most (gap tokens a mod may carry)."""
BATCH = 2_000
"""Mods marked at each fold while a term is being marked (a fold is every 256 texts)."""


def prepare(db: Database) -> None:
    """The temporary tables that cut text as the ``q`` index does, made once per
    connection: ``ow_split`` into tokens (``ow_split_terms``), ``ow_stem`` into the index's
    terms (``ow_stem_terms``; ``ow_stem_places`` gives each term its token's offset)."""
    for table, tokenizer in (
        ("ow_split", TEXT_TOKENIZER.removeprefix("porter ")),
        ("ow_stem", TEXT_TOKENIZER),
    ):
        db.execute(  # (contentless: emptied by 'delete-all', without cutting the text again)
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table} USING fts5 "
            f"(q, content='', tokenize='{tokenizer}')"
        )
        db.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table}_terms "
            f"USING fts5vocab(temp, {table}, 'row')"
        )
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.ow_stem_places "
        "USING fts5vocab(temp, ow_stem, 'instance')"
    )


def cut(db: Database, table: str, text: str) -> None:
    """Put ``text`` alone into ``temp.ow_split`` or ``temp.ow_stem``."""
    db.execute(f"INSERT INTO temp.{table} ({table}) VALUES ('delete-all')")
    db.execute(f"INSERT INTO temp.{table} (q) VALUES (?)", [text])


def text_terms(db: Database, texts: Iterable[str | None]) -> set[str]:
    """The terms of the ``q`` index in ``texts`` (cut by FTS5 itself; needs ``prepare``)."""
    cut(db, "ow_stem", " ".join(clean(t) for t in texts if t))
    return {row[0] for row in db.execute("SELECT term FROM temp.ow_stem_terms")}


def dense_terms(db: Database) -> list[str]:
    """The dense terms, ready or not."""
    return [row[0] for row in db.execute("SELECT term FROM dense_terms ORDER BY term")]


def _listed(db: Database) -> int:
    return int(db.execute("SELECT coalesce(sum(mods), 0) FROM mod_counts").fetchone()[0])


def _joined(terms: Iterable[str]) -> str:
    """The ``gaps`` text of these lacking terms (in one order, whoever writes it)."""
    return " ".join(gap_token(term) for term in sorted(terms))


def _lacking(gaps: str) -> set[str]:
    return {token.strip(GAP) for token in gaps.split()}


def gaps_of(db: Database, dense: Sequence[str], texts: Sequence[str | None]) -> str:
    """The ``gaps`` of a mod with these searched texts: the ``dense`` terms (``dense_terms``,
    ready or not) it lacks (writer only; needs ``prepare``)."""
    if not dense:
        return ""
    held = text_terms(db, texts)
    return _joined(term for term in dense if term not in held)


def _choose(db: Database, among: Sequence[str] | None = None) -> None:
    """Make dense the terms held by ``SHARE`` of the listed mods (``term_counts`` folded),
    looking at the terms ``among`` only if given (the terms whose counts just rose: a
    vocabulary of a million terms takes tens of milliseconds to scan)."""
    listed = _listed(db)
    known = db.execute("SELECT count(*) FROM dense_terms").fetchone()[0]
    if listed < max(MIN_MODS, 1) or known >= MOST or among == []:
        return
    only = "" if among is None else "AND term IN (SELECT value FROM json_each(?))"
    candidates = db.execute(
        f"SELECT term FROM term_counts WHERE col = '' AND docs >= ? {only} "
        "AND term NOT IN (SELECT term FROM dense_terms) ORDER BY docs DESC, term LIMIT ?",
        [SHARE * listed, *([] if among is None else [json.dumps(list(among))]), MOST - known],
    ).fetchall()
    for (term,) in candidates:
        # only a term that FTS5 matches as itself: the q index is searched for it by MATCH,
        # which stems the term again (porter is not always idempotent)
        if text_terms(db, [term]) == {term}:
            db.execute("INSERT INTO dense_terms (term) VALUES (?)", [term])


def refresh_dense(db: Database, risen: Sequence[str]) -> None:
    """Make dense those of the ``risen`` terms (whose counts rose in the last fold) held by
    ``SHARE`` of the listed mods, and mark ``BATCH`` mods for the terms not ready yet.
    Writer only, inside its transaction, with ``term_counts`` folded; needs ``prepare``."""
    _choose(db, risen)
    budget = BATCH
    for term, marked_to in db.execute(
        "SELECT term, marked_to FROM dense_terms WHERE NOT ready ORDER BY term"
    ).fetchall():
        while budget > 0:
            size = min(BATCH, budget)
            changes, marked_to, done = _marked(db, [term], marked_to, size, keep=True)
            db.conn.executemany("UPDATE mods SET gaps = ? WHERE id = ?", changes)
            db.execute(
                "UPDATE dense_terms SET marked_to = ?, ready = ? WHERE term = ?",
                [marked_to, int(done), term],
            )
            if done:
                break
            budget -= size


def mark_all(db: Database) -> None:
    """Make the dense terms and give every mod its gaps at once (a bulk load,
    with ``term_counts`` counted). Rewriting the ``q`` entries of a quarter of a million mods
    one by one through the triggers took minutes at a million mods; so the gaps are written
    with the trigger set aside, and the ``q`` entries of the mods whose gaps changed are
    rewritten in two statements (or the index rebuilt, if most changed)."""
    _choose(db)
    terms = dense_terms(db)
    changes: list[tuple[str, int]] = []
    marked_to: int | None = None
    done = not terms
    while not done:
        found, marked_to, done = _marked(db, terms, marked_to, _ALL_BATCH, keep=False)
        changes += found
    if changes:
        few = len(changes) < REWRITE * _listed(db)
        db.execute("CREATE TEMP TABLE ow_regapped (gaps TEXT NOT NULL, id INTEGER PRIMARY KEY)")
        db.conn.executemany("INSERT INTO temp.ow_regapped VALUES (?, ?)", changes)
        if few:  # their q entries out, with the gaps they were indexed with
            db.execute(
                f"INSERT INTO mods_text_index (mods_text_index, rowid, {_Q_COLUMNS}) "
                f"SELECT 'delete', l.id, {_l_columns()} FROM temp.ow_regapped r "
                "JOIN listed_mods l ON l.id = r.id"
            )
        (trigger,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [_TRIGGER]
        ).fetchone()
        db.execute(f"DROP TRIGGER {_TRIGGER}")
        db.conn.executemany("UPDATE mods SET gaps = ? WHERE id = ?", changes)
        db.execute(trigger)
        if few:  # and in again, with their new gaps
            db.execute(
                f"INSERT INTO mods_text_index (rowid, {_Q_COLUMNS}) "
                f"SELECT l.id, {_l_columns()} FROM temp.ow_regapped r "
                "JOIN listed_mods l ON l.id = r.id"
            )
        else:
            db.execute("INSERT INTO mods_text_index (mods_text_index) VALUES ('rebuild')")
        db.execute("DROP TABLE temp.ow_regapped")
    db.execute("UPDATE dense_terms SET marked_to = ?, ready = 1", [marked_to])


_Q_COLUMNS: Final = "name, short_description, description, tag_names, facets, gaps"
"""The columns of the ``q`` index (as the view ``listed_mods`` gives them)."""


def _l_columns() -> str:
    return ", ".join(f"l.{column}" for column in _Q_COLUMNS.split(", "))


_ALL_BATCH: Final = 50_000
_TRIGGER: Final = "mods_searched_update"
"""The trigger that rewrites a mod's ``q`` entry when its gaps change."""


def _marked(
    db: Database, terms: Sequence[str], after: int | None, size: int, *, keep: bool
) -> tuple[list[tuple[str, int]], int | None, bool]:
    """The new ``gaps`` of the next ``size`` mods after id ``after`` whose gaps change, for
    ``terms`` (and their other gaps if ``keep``; else none). Also the last id seen, and
    whether no mod is left."""
    rows = db.execute(
        "SELECT id, state, gaps FROM mods WHERE ? IS NULL OR id > ? ORDER BY id LIMIT ?",
        [after, after, size],
    ).fetchall()
    if not rows:
        return [], after, True
    first, last = rows[0][0], rows[-1][0]
    holding = {
        term: {
            row[0]
            for row in db.execute(
                "SELECT rowid FROM mods_text_index WHERE mods_text_index MATCH ? "
                "AND rowid >= ? AND rowid <= ?",
                [fts_phrase(term), first, last],
            )
        }
        for term in terms
    }
    changes = []
    for ident, state, gaps in rows:
        held: set[str] | None = None  # (listed mods are in the q index)
        if state >= 2:
            texts = db.execute(
                "SELECT name, short_description, description, tag_names FROM mods WHERE id = ?",
                [ident],
            ).fetchone()
            held = text_terms(db, texts)
        lacking = _lacking(gaps)
        wanted = set(lacking) if keep else set()
        for term in terms:
            if (ident not in holding[term]) if held is None else (term not in held):
                wanted.add(term)
            else:
                wanted.discard(term)
        if wanted != lacking:
            changes.append((_joined(wanted), ident))
    return changes, last, len(rows) < size
