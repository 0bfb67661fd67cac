"""Checks of a database file's derived data against its rows, for the adapter's tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from openworkshop_sqlite import dense
from openworkshop_sqlite.schema import SEARCH_INDEXES
from openworkshop_sqlite.search import (
    GAP,
    LEVELS,
    MARK,
    fts_phrase,
    gap_token,
    name_words,
    vocabulary_of,
)


def audit(path: Path) -> list[str]:
    """Every inconsistency found: SQLite's own integrity, the search indexes, the counters,
    the tag masks. An empty list means the file is whole."""
    problems: list[str] = []
    conn = sqlite3.connect(path)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            problems.append(f"integrity_check: {result[:5]}")
        for index in SEARCH_INDEXES:
            try:
                conn.execute(f"INSERT INTO {index} ({index}) VALUES ('integrity-check')")
            except sqlite3.DatabaseError as exc:
                problems.append(f"{index}: {exc}")
        vocabulary = {word for (word,) in conn.execute("SELECT word FROM name_vocabulary")}
        for ident, name, words in conn.execute("SELECT id, name, name_words FROM mods"):
            if words != name_words(name):
                problems.append(f"mod {ident}: name_words {words!r} != {name_words(name)!r}")
            elif missing := set(vocabulary_of(words)) - vocabulary:
                problems.append(f"mod {ident}: words {missing} not in the vocabulary")
        stored = {
            (term, col): docs
            for term, col, docs in conn.execute("SELECT term, col, docs FROM term_counts")
        }
        for table, sign in (("text_added", 1), ("text_removed", -1)):
            for term, docs in conn.execute(f"SELECT term, doc FROM {table}_rows"):
                stored[(term, "")] = stored.get((term, ""), 0) + sign * docs
            for term, docs in conn.execute(
                f"SELECT term, doc FROM {table}_cols WHERE col = 'name'"
            ):
                stored[(term, "name")] = stored.get((term, "name"), 0) + sign * docs
        real = {
            (term, col): docs
            for col, vocabulary in (("", "mods_text_rows"), ("name", "mods_title_rows"))
            for term, docs in conn.execute(f"SELECT term, doc FROM {vocabulary}")
            if not term.startswith((MARK, GAP))
        }
        stored = {key: docs for key, docs in stored.items() if docs}
        if stored != real:
            wrong = {k: (stored.get(k), real.get(k)) for k in stored.keys() | real.keys()
                     if stored.get(k) != real.get(k)}  # fmt: skip
            problems.append(f"term_counts out of step (stored, actual): {list(wrong.items())[:5]}")
        problems += _gaps(conn)
        counted = dict(
            ((facet, token), (bucket, mods))
            for facet, token, bucket, mods in conn.execute(
                "SELECT facet, token, bucket, mods FROM facet_buckets WHERE mods != 0"
            )
        )
        actual = {}
        for level in LEVELS:
            bucket = level.bucket_sql("mods")
            for token, value, mods in conn.execute(
                f"SELECT {level.token_sql('mods')}, {bucket}, count(*) FROM mods "
                f"WHERE state < 2 GROUP BY {bucket}"
            ):
                actual[(level.key, token)] = (value, mods)
                if token != level.token(value):
                    problems.append(f"{level.key}: token {token!r} != {level.token(value)!r}")
        if counted != actual:
            wrong = {k: (counted.get(k), actual.get(k)) for k in counted.keys() ^ actual.keys()}
            wrong |= {k: (v, actual[k]) for k, v in counted.items() if actual.get(k) != v}
            problems.append(
                f"facet_buckets out of step (stored, actual): {dict(list(wrong.items())[:5])}"
            )
        counted = {
            (g, s, d): (n, dl)
            for g, s, d, n, dl in conn.execute(
                "SELECT game_id, source, has_deps, mods, downloads FROM mod_counts WHERE mods != 0 "
                "OR downloads != 0"
            )
        }
        actual = {
            (g, s, d): (n, dl)
            for g, s, d, n, dl in conn.execute(
                "SELECT game_id, source, has_deps, count(*), sum(downloads) FROM mods "
                "WHERE state < 2 GROUP BY game_id, source, has_deps"
            )
        }
        if counted != actual:
            problems.append(f"mod_counts {counted} != rows {actual}")
        games = conn.execute(
            """
            SELECT g.id, g.mods_count, g.mods_downloads,
                (SELECT count(*) FROM mods m WHERE m.game_id = g.id AND m.state < 2),
                (SELECT coalesce(sum(downloads), 0) FROM mods m
                    WHERE m.game_id = g.id AND m.state < 2)
            FROM games g
            """
        ).fetchall()
        for ident, count, downloads, real_count, real_downloads in games:
            if (count, downloads) != (real_count, real_downloads):
                problems.append(
                    f"game {ident}: {(count, downloads)} != {(real_count, real_downloads)}"
                )
        masks = conn.execute(
            """
            SELECT m.id, m.tag_mask, m.foreign_tags, m.has_deps,
                (SELECT coalesce(sum(1 << t.bit), 0) FROM mod_tags mt JOIN tags t ON t.id = mt.tag_id
                    WHERE mt.mod_id = m.id AND t.game_id IS m.game_id AND t.bit IS NOT NULL),
                (SELECT count(*) FROM mod_tags mt JOIN tags t ON t.id = mt.tag_id
                    WHERE mt.mod_id = m.id AND t.game_id IS NOT m.game_id),
                EXISTS (SELECT 1 FROM dependencies d WHERE d.mod_id = m.id)
            FROM mods m
            WHERE m.tag_mask IS NOT (SELECT coalesce(sum(1 << t.bit), 0) FROM mod_tags mt
                    JOIN tags t ON t.id = mt.tag_id WHERE mt.mod_id = m.id
                    AND t.game_id IS m.game_id AND t.bit IS NOT NULL)
                OR m.foreign_tags IS NOT (SELECT count(*) FROM mod_tags mt
                    JOIN tags t ON t.id = mt.tag_id WHERE mt.mod_id = m.id
                    AND t.game_id IS NOT m.game_id)
                OR m.has_deps IS NOT EXISTS (SELECT 1 FROM dependencies d WHERE d.mod_id = m.id)
            LIMIT 5
            """
        ).fetchall()
        if masks:
            problems.append(f"derived columns out of step: {masks}")
        links = conn.execute(
            """
            SELECT mt.tag_id, mt.mod_id, mt.listed, mt.mask FROM mod_tags mt
            LEFT JOIN mods m ON m.id = mt.mod_id
            WHERE mt.listed IS NOT coalesce(m.state < 2, 0)
                OR mt.mask IS NOT coalesce(m.tag_mask, 0)
            LIMIT 5
            """
        ).fetchall()
        if links:
            problems.append(f"links out of step with their mods: {links}")
        counts = conn.execute(
            "SELECT id, links FROM tags WHERE links IS NOT "
            "(SELECT count(*) FROM mod_tags WHERE tag_id = tags.id) LIMIT 5"
        ).fetchall()
        if counts:
            problems.append(f"tag link counts out of step: {counts}")
    finally:
        conn.close()
    return problems


def _gaps(conn: sqlite3.Connection) -> list[str]:
    """Each mod's gaps against its text: the gap token of every dense term it lacks (for
    the terms marked up to its id), and no other."""
    problems: list[str] = []
    db = Database(conn)
    dense.prepare(db)
    terms = conn.execute("SELECT term, marked_to, ready FROM dense_terms").fetchall()
    holding = {
        term: {
            row[0]
            for row in conn.execute(
                "SELECT rowid FROM mods_text_index WHERE mods_text_index MATCH ?",
                [fts_phrase(term)],
            )
        }
        for term, _, _ in terms
    }
    for term, _, _ in terms:  # the index's gap tokens are the rows'
        indexed = {
            row[0]
            for row in conn.execute(
                "SELECT rowid FROM mods_text_index WHERE mods_text_index MATCH ?",
                [fts_phrase(gap_token(term))],
            )
        }
        stored = {
            row[0]
            for row in conn.execute(
                "SELECT id FROM mods WHERE state < 2 AND instr(gaps, ?) > 0",
                [gap_token(term)],
            )
        }
        if indexed != stored:
            problems.append(f"gaps of {term!r}: indexed {indexed ^ stored} differently")
    for ident, state, gaps, *texts in conn.execute(
        "SELECT id, state, gaps, name, short_description, description, tag_names FROM mods"
    ):
        held = None if state < 2 else dense.text_terms(db, texts)
        lacking = {token.strip(GAP) for token in gaps.split()}
        if stray := lacking - holding.keys():
            problems.append(f"mod {ident}: gaps of terms that are not dense: {stray}")
        for term, marked_to, ready in terms:
            if not ready and (marked_to is None or ident > marked_to):
                continue  # not marked yet
            lacks = ident not in holding[term] if held is None else term not in held
            if lacks != (term in lacking):
                problems.append(f"mod {ident}: lacks {term!r}: {lacks}, gaps {gaps!r}")
        if gaps != " ".join(gap_token(term) for term in sorted(lacking)):
            problems.append(f"mod {ident}: gaps {gaps!r} not in order")
    return problems[:10]
