"""Checks of a database file's derived data against its rows, for the adapter's tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def audit(path: Path) -> list[str]:
    """Every inconsistency found: SQLite's own integrity, the search indexes, the counters,
    the tag masks. An empty list means the file is whole."""
    problems: list[str] = []
    conn = sqlite3.connect(path)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            problems.append(f"integrity_check: {result[:5]}")
        for index in ("mods_name_index", "mods_text_index", "games_name_index"):
            try:
                conn.execute(f"INSERT INTO {index} ({index}) VALUES ('integrity-check')")
            except sqlite3.DatabaseError as exc:
                problems.append(f"{index}: {exc}")
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
