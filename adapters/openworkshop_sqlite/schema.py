"""The schema: one set of CREATE statements, at version ``VERSION``.

``PRAGMA user_version`` records the schema version of a file. Opening an empty file (version
0) creates the schema inside one ``BEGIN IMMEDIATE`` transaction, so two processes opening a
new file at once create it once. A file of any other version is refused with a
``StorageError`` that says why and what to do, rather than guessed at: a newer one (from a
later release), and an older one (versions 1 to 5 were development builds, whose schema was
squashed into version 6 before the first release; they are rebuilt, not upgraded). A file of
a released version older than ``VERSION`` is brought up to it by ``MIGRATIONS``, in the same
transaction (6 → 7: the events feed).

When the released schema changes, bump ``VERSION`` and add the step from the previous
version here (a migration), with a test that opens a file of the previous version.

Conventions: ids are INTEGER (Steam ids above 2**63 stored as their two's complement, see
``records``); times are INTEGER microseconds since the epoch, UTC. A mod is *listed*
(downloadable, states 0 and 1) when ``state < 2``; the catalog indexes are partial indexes
over listed mods with that exact predicate, so the queries repeat it verbatim.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from sqlite_utils import Database

from openworkshop.errors import StorageError
from openworkshop_sqlite import dense
from openworkshop_sqlite.search import (
    FACETS,
    GAP,
    LEVELS,
    MARK,
    TEXT_TOKENIZER,
    WORD_TOKENIZER,
    clean_sql,
    facet_buckets_sql,
    facets_sql,
    vocabulary_of,
)

__all__ = [
    "EVENTS",
    "MIGRATIONS",
    "MOD_SORT_INDEXES",
    "SCHEMA",
    "SEARCH_INDEXES",
    "TEXT_TOKENIZER",
    "VERSION",
    "add_vocabulary",
    "count_buckets",
    "count_terms",
    "create",
    "fold_term_counts",
    "refresh_derived",
    "schema_version",
]

VERSION: Final = 7
"""The schema version of the files this release makes and opens (1 to 5: development
builds, refused; 6 is brought up to date by :data:`MIGRATIONS`)."""

_KNOWN_ITEMS: Final = """
    CREATE TABLE known_items (
        id INTEGER PRIMARY KEY,
        found INTEGER NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        is_collection INTEGER NOT NULL DEFAULT 0,
        children TEXT,
        checked INTEGER NOT NULL
    )
"""
"""What Steam said of items the catalog may lack (``ItemMemory``): ``children`` a JSON array
of ids (a collection's items, a mod's required items) or NULL when not known."""

_PROGRESS: Final = """
    CREATE TABLE progress (
        mod_id INTEGER PRIMARY KEY,
        phase TEXT NOT NULL,
        done INTEGER NOT NULL,
        total INTEGER,
        started INTEGER NOT NULL,
        updated INTEGER NOT NULL
    )
"""
"""Live progress of the mods being downloaded (``ProgressBoard``): a row only while its mod is
in state 2 (``claim`` and ``apply`` remove it in the same transaction)."""

FIRST_RELEASED: Final = 6
"""The first released schema: older versions are refused, newer ones migrated."""

EVENTS: Final[tuple[str, ...]] = (
    # the events feed (openworkshop.events): written in the same transaction as the change
    """
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        at INTEGER NOT NULL,
        mod_id INTEGER,
        game_id INTEGER,
        name TEXT NOT NULL DEFAULT '',
        sha256 TEXT,
        size INTEGER,
        date_update INTEGER,
        reason TEXT
    )
    """,
    "CREATE INDEX events_by_mod ON events (mod_id, seq) WHERE mod_id IS NOT NULL",
)
"""Version 7's addition (with ``known_items`` and ``progress``): the events feed. ``AUTOINCREMENT`` keeps every ``seq`` unused
once trimmed (``sqlite_sequence`` holds the newest)."""

MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    6: (_KNOWN_ITEMS, _PROGRESS, *EVENTS),
}
"""The statements that take a file from a version to the next one."""


MOD_SORT_INDEXES: Final = {
    # sort key -> (SQL expression, index name suffix)
    "NAME": ("name COLLATE NOCASE", "name"),
    "SIZE": ("size", "size"),
    "DATE_CREATION": ("date_creation", "date_creation"),
    "DATE_UPDATE": ("date_update", "date_update"),
    "DATE_REQUEST": ("date_request", "date_request"),
    "SOURCE": ("source", "source"),
    "DOWNLOADS": ("downloads", "downloads"),
}
"""Every sort of ``/list/mods/`` has two covering partial indexes: over all listed mods
(``mods_listed_by_<suffix>``) and per game (``mods_game_by_<suffix>``, which also carries the
tag mask so tag filters inside one game never touch the table)."""


def _sort_indexes() -> list[str]:
    out = []
    for expression, suffix in MOD_SORT_INDEXES.values():
        out.append(
            f"CREATE INDEX mods_listed_by_{suffix} ON mods ({expression}, id, state) "
            "WHERE state < 2"
        )
        out.append(
            f"CREATE INDEX mods_game_by_{suffix} ON mods "
            f"(game_id, {expression}, id, state, tag_mask) WHERE state < 2"
        )
    return out


# --- the catalog, the queue, the statistics ---------------------------------------------------

_CATALOG = [
    """
    CREATE TABLE mods (
        id INTEGER PRIMARY KEY,
        game_id INTEGER,
        state INTEGER NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        source TEXT NOT NULL DEFAULT 'steam',
        downloads INTEGER NOT NULL DEFAULT 0,
        date_creation INTEGER,
        date_update INTEGER,
        date_request INTEGER,
        date_checked INTEGER,
        date_queued INTEGER,
        time_updated INTEGER,
        hcontent_file TEXT,
        archive_key TEXT,
        archive_size INTEGER,
        archive_sha256 TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before INTEGER,
        lease_until INTEGER,
        has_deps INTEGER NOT NULL DEFAULT 0,
        tag_mask INTEGER NOT NULL DEFAULT 0,
        foreign_tags INTEGER NOT NULL DEFAULT 0,
        short_description TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        -- the tag names, for q (written with the links)
        tag_names TEXT NOT NULL DEFAULT '',
        -- the words of the name, then their three-character pieces (``search.name_words``,
        -- derived by the adapter wherever it writes a name: SQL cannot case-fold Unicode)
        name_words TEXT NOT NULL DEFAULT '',
        -- the gap tokens of the dense terms its text lacks (``dense``)
        gaps TEXT NOT NULL DEFAULT ''
    )
    """,
    # the work queue: claims walk (state, date_queued, id)
    "CREATE INDEX mods_by_state ON mods (state, date_queued, id)",
    # almost always empty: mods carrying tags of another game than their own
    "CREATE INDEX mods_with_foreign_tags ON mods (id) WHERE foreign_tags > 0",
    """
    CREATE TABLE games (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        type TEXT NOT NULL DEFAULT 'game',
        logo TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'steam',
        creation_date INTEGER,
        mods_count INTEGER NOT NULL DEFAULT 0,
        mods_downloads INTEGER NOT NULL DEFAULT 0,
        short_description TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX games_by_name ON games (name COLLATE NOCASE, id)",
    "CREATE INDEX games_by_type ON games (type, id)",
    "CREATE INDEX games_by_creation_date ON games (creation_date, id)",
    "CREATE INDEX games_by_mods_downloads ON games (mods_downloads, id)",
    "CREATE INDEX games_by_mods_count ON games (mods_count, id)",
    "CREATE INDEX games_by_source ON games (source, id)",
    "CREATE TABLE genres (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    """
    CREATE TABLE game_genres (
        game_id INTEGER NOT NULL,
        genre_id INTEGER NOT NULL,
        PRIMARY KEY (game_id, genre_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX game_genres_by_genre ON game_genres (genre_id, game_id)",
    # tags are per game; ``bit`` (0..62) is the tag's place in its game's tag mask;
    # ``links`` how many mods carry it (the rarest tag of a filter is read first)
    """
    CREATE TABLE tags (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        game_id INTEGER,
        name TEXT NOT NULL,
        bit INTEGER,
        links INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE UNIQUE INDEX tags_by_game ON tags (game_id, name)",
    # a link carries its mod's tag mask and whether it is listed, so "has all these tags" is
    # counted from the rarest tag's links alone
    """
    CREATE TABLE mod_tags (
        tag_id INTEGER NOT NULL,
        mod_id INTEGER NOT NULL,
        listed INTEGER NOT NULL DEFAULT 0,
        mask INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tag_id, mod_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX mod_tags_by_mod ON mod_tags (mod_id, tag_id)",
    """
    CREATE TABLE dependencies (
        mod_id INTEGER NOT NULL,
        position INTEGER NOT NULL,
        dependency_id INTEGER NOT NULL,
        PRIMARY KEY (mod_id, position)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE resources (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner_id INTEGER NOT NULL,
        type TEXT NOT NULL,
        url TEXT NOT NULL,
        date_event INTEGER NOT NULL
    )
    """,
    "CREATE INDEX resources_by_owner ON resources (owner_id, type, id)",
    """
    CREATE TABLE failures (
        mod_id INTEGER PRIMARY KEY,
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        date INTEGER NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    )
    """,
    # listed mods counted by every dimension a count-only filter uses
    """
    CREATE TABLE mod_counts (
        game_id INTEGER,
        source TEXT NOT NULL,
        has_deps INTEGER NOT NULL,
        mods INTEGER NOT NULL DEFAULT 0,
        downloads INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE UNIQUE INDEX mod_counts_key ON mod_counts (game_id, source, has_deps)",
    """
    CREATE TABLE stats_hours (
        day TEXT NOT NULL,
        hour INTEGER NOT NULL,
        type TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, hour, type)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE stats_days (
        day TEXT NOT NULL,
        type TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, type)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX stats_days_by_type ON stats_days (type, day)",
    """
    CREATE TABLE delays (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        ms INTEGER NOT NULL,
        at INTEGER NOT NULL
    )
    """,
    "CREATE INDEX delays_by_kind ON delays (kind, id)",
    "CREATE TABLE flags (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    _KNOWN_ITEMS,
    _PROGRESS,
    # every word of every name ever written (a superset of the listed names' words)
    "CREATE TABLE name_vocabulary (id INTEGER PRIMARY KEY, word TEXT NOT NULL UNIQUE)",
    """
    CREATE TABLE facet_buckets (
        facet TEXT NOT NULL, token TEXT NOT NULL, bucket, mods INTEGER NOT NULL,
        PRIMARY KEY (facet, token)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX facet_buckets_in_order ON facet_buckets (facet, bucket)",
    # how many listed mods hold each term of the q index, anywhere ('') or in the name: a
    # common word's total without reading its matches. FTS5 cuts the text, so the counts
    # agree with the index: triggers record texts that arrive and leave in text_added and
    # text_removed; term_counts plus their difference is exact, and the writer folds them
    # into term_counts from time to time (fold_term_counts).
    """
    CREATE TABLE term_counts (
        term TEXT NOT NULL, col TEXT NOT NULL, docs INTEGER NOT NULL, PRIMARY KEY (term, col)
    ) WITHOUT ROWID
    """,
    # terms of the q index found in most texts, whose gaps the mods carry (see dense.py):
    # every mod with an id up to marked_to (none if NULL) has the term's gap token if its
    # text lacks the term; readers use a term's gaps once it is ready (every mod marked)
    """
    CREATE TABLE dense_terms (
        term TEXT PRIMARY KEY, marked_to INTEGER, ready INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID
    """,
]

# The counters follow every change of a listed mod, in the same transaction as the change.
_ADD_NEW = """
    INSERT INTO mod_counts (game_id, source, has_deps)
        SELECT new.game_id, new.source, new.has_deps
        WHERE new.state < 2 AND NOT EXISTS (
            SELECT 1 FROM mod_counts
            WHERE game_id IS new.game_id AND source = new.source AND has_deps = new.has_deps
        );
    UPDATE mod_counts SET mods = mods + 1, downloads = downloads + new.downloads
        WHERE new.state < 2
        AND game_id IS new.game_id AND source = new.source AND has_deps = new.has_deps;
    UPDATE games SET mods_count = mods_count + 1, mods_downloads = mods_downloads + new.downloads
        WHERE new.state < 2 AND id = new.game_id;
"""
_REMOVE_OLD = """
    UPDATE mod_counts SET mods = mods - 1, downloads = downloads - old.downloads
        WHERE old.state < 2
        AND game_id IS old.game_id AND source = old.source AND has_deps = old.has_deps;
    UPDATE games SET mods_count = mods_count - 1, mods_downloads = mods_downloads - old.downloads
        WHERE old.state < 2 AND id = old.game_id;
"""
_COUNTERS = [
    f"CREATE TRIGGER mods_counted_insert AFTER INSERT ON mods WHEN new.state < 2 BEGIN "
    f"{_ADD_NEW} END",
    f"CREATE TRIGGER mods_counted_delete AFTER DELETE ON mods WHEN old.state < 2 BEGIN "
    f"{_REMOVE_OLD} END",
    # a listed mod moves between counters (listed or not, game, source, dependencies)
    f"""
    CREATE TRIGGER mods_counted_move AFTER UPDATE OF state, game_id, source, has_deps ON mods
    WHEN (old.state < 2 OR new.state < 2) AND (
        (old.state < 2) IS NOT (new.state < 2) OR old.game_id IS NOT new.game_id
        OR old.source IS NOT new.source OR old.has_deps IS NOT new.has_deps
    )
    BEGIN {_REMOVE_OLD} {_ADD_NEW} END
    """,
    # a mod's links follow its state and tag mask
    """
    CREATE TRIGGER mods_linked_insert AFTER INSERT ON mods BEGIN
        UPDATE mod_tags SET listed = new.state < 2, mask = new.tag_mask WHERE mod_id = new.id;
    END
    """,
    """
    CREATE TRIGGER mods_linked_update AFTER UPDATE OF state, tag_mask ON mods
    WHEN (old.state < 2) IS NOT (new.state < 2) OR old.tag_mask IS NOT new.tag_mask
    BEGIN
        UPDATE mod_tags SET listed = new.state < 2, mask = new.tag_mask WHERE mod_id = new.id;
    END
    """,
    """
    CREATE TRIGGER mods_linked_delete AFTER DELETE ON mods BEGIN
        UPDATE mod_tags SET listed = 0, mask = 0 WHERE mod_id = old.id;
    END
    """,
    "CREATE TRIGGER tags_linked AFTER INSERT ON mod_tags BEGIN "
    "UPDATE tags SET links = links + 1 WHERE id = new.tag_id; END",
    "CREATE TRIGGER tags_unlinked AFTER DELETE ON mod_tags BEGIN "
    "UPDATE tags SET links = links - 1 WHERE id = old.tag_id; END",
    # the hot path: a download of a listed mod that stays where it is
    """
    CREATE TRIGGER mods_counted_downloads AFTER UPDATE OF downloads ON mods
    WHEN old.state < 2 AND new.state < 2 AND old.downloads IS NOT new.downloads
        AND old.game_id IS new.game_id AND old.source IS new.source
        AND old.has_deps IS new.has_deps
    BEGIN
        UPDATE mod_counts SET downloads = downloads + new.downloads - old.downloads
            WHERE game_id IS new.game_id AND source = new.source AND has_deps = new.has_deps;
        UPDATE games SET mods_downloads = mods_downloads + new.downloads - old.downloads
            WHERE id = new.game_id;
    END
    """,
]


# --- search: the listed mods' full-text indexes and what they are derived from -----------------

_SEARCHED = "name, short_description, description, tag_names"
"""The columns ``q`` looks in."""
_TEXT_VALUES = f"{_SEARCHED}, facets, gaps"
"""The columns of the ``q`` index."""
_CLEANED = ", ".join(f"{clean_sql(c)} AS {c}" for c in _SEARCHED.split(", "))


def _cleaned(row: str) -> str:
    """The searched columns of ``row`` as the indexes read them (``search.clean_sql``)."""
    return ", ".join(clean_sql(f"{row}.{c}") for c in _SEARCHED.split(", "))


def _text_entry(row: str) -> str:
    """``rowid, name, ..., facets, gaps`` of ``row`` for the ``q`` index."""
    return f"{row}.id, {_cleaned(row)}, {facets_sql(row)}, {row}.gaps"


def _title_entry(row: str) -> str:
    """``rowid, name, facets`` of ``row`` for the title index."""
    return f"{row}.id, {clean_sql(row + '.name')}, {facets_sql(row)}"


def _word_entry(row: str) -> str:
    """``rowid, name_words, facets`` of ``row`` for the word index."""
    return f"{row}.id, {row}.name_words, {facets_sql(row)}"


def _pending(table: str, row: str) -> str:
    """Record ``row``'s text in ``text_added`` or ``text_removed`` (see ``term_counts``)."""
    return f"INSERT INTO {table} ({_SEARCHED}) SELECT {_cleaned(row)}"


_TEXT_CHANGED = (
    "(old.state < 2) IS NOT (new.state < 2) OR old.name IS NOT new.name "
    "OR old.short_description IS NOT new.short_description "
    "OR old.description IS NOT new.description OR old.tag_names IS NOT new.tag_names"
)


def _facets_changed() -> str:
    return " OR ".join(f"{f.token_sql('old')} IS NOT {f.token_sql('new')}" for f in FACETS)


def _count_buckets(row: str, step: str) -> str:
    """Add ``step`` (1 or -1) to the buckets of ``row`` (only run for listed rows)."""
    return (
        f"INSERT INTO facet_buckets (facet, token, bucket, mods) "
        f"SELECT column1, column2, column3, {step} FROM ({facet_buckets_sql(row)}) "
        f"WHERE {row}.state < 2 "
        f"ON CONFLICT (facet, token) DO UPDATE SET mods = mods + {step};"
    )


def _listed_index(name: str, columns: str, tokenizer: str) -> str:
    """An FTS5 index of listed mods over ``columns`` of the view ``listed_mods``, without
    positions or sizes (``detail=none``: its queries need neither)."""
    quoted = tokenizer.replace("'", "''")
    return (
        f"CREATE VIRTUAL TABLE {name} USING fts5 ({columns}, content='listed_mods', "
        f"content_rowid='id', tokenize='{quoted}', detail=none, columnsize=0)"
    )


_INDEXED_CHANGED = f"""(old.state < 2) IS NOT (new.state < 2) OR (new.state < 2 AND (
        old.name IS NOT new.name OR old.short_description IS NOT new.short_description
        OR old.description IS NOT new.description OR old.tag_names IS NOT new.tag_names
        OR old.name_words IS NOT new.name_words OR {_facets_changed()}
    ))"""
"""Whether an update changes what a mod's entries in the search indexes hold (its gaps
aside)."""


def _indexing_triggers() -> list[str]:
    """The triggers that index a listed mod when it is inserted, unindex it when it is
    deleted and rewrite its entries when an update changes them, in every search index
    but the trigram one (``mods_name_indexed_update``); a change of the gaps alone
    rewrites the ``q`` entry only."""
    facet_columns = ", ".join(dict.fromkeys(f.column for f in FACETS if f.column != "name"))
    return [
        f"""
        CREATE TRIGGER mods_indexed_insert AFTER INSERT ON mods WHEN new.state < 2 BEGIN
            INSERT INTO mods_name_index (rowid, name) VALUES (new.id, new.name);
            INSERT INTO mods_word_index (rowid, name_words, facets)
                VALUES ({_word_entry("new")});
            INSERT INTO mods_title_index (rowid, name, facets) VALUES ({_title_entry("new")});
            INSERT INTO mods_text_index (rowid, {_TEXT_VALUES}) VALUES ({_text_entry("new")});
            {_pending("text_added", "new")};
            {_count_buckets("new", "1")}
        END
        """,
        f"""
        CREATE TRIGGER mods_indexed_delete AFTER DELETE ON mods WHEN old.state < 2 BEGIN
            INSERT INTO mods_name_index (mods_name_index, rowid, name)
                VALUES ('delete', old.id, old.name);
            INSERT INTO mods_word_index (mods_word_index, rowid, name_words, facets)
                VALUES ('delete', {_word_entry("old")});
            INSERT INTO mods_title_index (mods_title_index, rowid, name, facets)
                VALUES ('delete', {_title_entry("old")});
            INSERT INTO mods_text_index (mods_text_index, rowid, {_TEXT_VALUES})
                VALUES ('delete', {_text_entry("old")});
            {_pending("text_removed", "old")};
            {_count_buckets("old", "-1")}
        END
        """,
        f"""
        CREATE TRIGGER mods_searched_update AFTER UPDATE OF state, {_SEARCHED}, name_words,
            gaps, {facet_columns} ON mods
        WHEN {_INDEXED_CHANGED} OR (new.state < 2 AND old.gaps IS NOT new.gaps)
        BEGIN
            INSERT INTO mods_text_index (mods_text_index, rowid, {_TEXT_VALUES})
                SELECT 'delete', {_text_entry("old")} WHERE old.state < 2;
            INSERT INTO mods_text_index (rowid, {_TEXT_VALUES})
                SELECT {_text_entry("new")} WHERE new.state < 2;
            INSERT INTO mods_word_index (mods_word_index, rowid, name_words, facets)
                SELECT 'delete', {_word_entry("old")}
                WHERE old.state < 2 AND ({_INDEXED_CHANGED});
            INSERT INTO mods_word_index (rowid, name_words, facets)
                SELECT {_word_entry("new")} WHERE new.state < 2 AND ({_INDEXED_CHANGED});
            INSERT INTO mods_title_index (mods_title_index, rowid, name, facets)
                SELECT 'delete', {_title_entry("old")}
                WHERE old.state < 2 AND ({_INDEXED_CHANGED});
            INSERT INTO mods_title_index (rowid, name, facets)
                SELECT {_title_entry("new")} WHERE new.state < 2 AND ({_INDEXED_CHANGED});
            {_pending("text_removed", "old")} WHERE old.state < 2 AND ({_TEXT_CHANGED});
            {_pending("text_added", "new")} WHERE new.state < 2 AND ({_TEXT_CHANGED});
            {_count_buckets("old", "-1")}
            {_count_buckets("new", "1")}
        END
        """,
    ]


_SEARCH = [
    # the search indexes hold listed mods only, so counting matches never touches the table
    f"""
    CREATE VIEW listed_mods AS SELECT id, {_CLEANED}, name_words, {facets_sql("mods")} AS facets,
        gaps FROM mods WHERE state < 2
    """,
    # q: words of the four searched columns, plus the facets and the gaps; never ranked (no
    # sizes), no phrases (every q word is one token, see listing.fts_words), no column
    # filters (the title index tells name matches): detail=none, the smallest doclists
    _listed_index("mods_text_index", _TEXT_VALUES, TEXT_TOKENIZER),
    # name: the words of listed names, already cut and folded (split at spaces only), and
    # the facets (detail=none: no positions, so no column filters; none are needed)
    _listed_index("mods_word_index", "name_words, facets", WORD_TOKENIZER),
    # the first tier of q's RELEVANCE: names alone, cut as the q index cuts them, and the
    # facets (detail=none: no column filter needed)
    _listed_index("mods_title_index", "name, facets", TEXT_TOKENIZER),
    # name needles holding a space: trigrams, case-folded (never ranked: no column sizes)
    """
    CREATE VIRTUAL TABLE mods_name_index USING fts5 (
        name, content='listed_mods', content_rowid='id', tokenize='trigram', columnsize=0
    )
    """,
    """
    CREATE TRIGGER mods_name_indexed_update AFTER UPDATE OF state, name ON mods
    WHEN (old.state < 2) IS NOT (new.state < 2) OR (new.state < 2 AND old.name IS NOT new.name)
    BEGIN
        INSERT INTO mods_name_index (mods_name_index, rowid, name)
            SELECT 'delete', old.id, old.name WHERE old.state < 2;
        INSERT INTO mods_name_index (rowid, name) SELECT new.id, new.name WHERE new.state < 2;
    END
    """,
    *_indexing_triggers(),
    """
    CREATE VIRTUAL TABLE name_vocabulary_index USING fts5 (
        word, content='name_vocabulary', content_rowid='id',
        tokenize='trigram case_sensitive 1', columnsize=0
    )
    """,
    """
    CREATE TRIGGER name_vocabulary_indexed AFTER INSERT ON name_vocabulary BEGIN
        INSERT INTO name_vocabulary_index (rowid, word) VALUES (new.id, new.word);
    END
    """,
    # the texts that arrive in the q index and leave it, cut as it cuts them, and their
    # vocabularies: the difference with term_counts (see there)
    *(
        statement
        for table in ("text_added", "text_removed")
        for statement in (
            f"CREATE VIRTUAL TABLE {table} USING fts5 ({_SEARCHED}, "
            f"tokenize='{TEXT_TOKENIZER}', detail=column, columnsize=0)",
            f"CREATE VIRTUAL TABLE {table}_rows USING fts5vocab({table}, 'row')",
            f"CREATE VIRTUAL TABLE {table}_cols USING fts5vocab({table}, 'col')",
        )
    ),
    # the q and title indexes' vocabularies (count_terms)
    "CREATE VIRTUAL TABLE mods_text_rows USING fts5vocab(mods_text_index, 'row')",
    "CREATE VIRTUAL TABLE mods_title_rows USING fts5vocab(mods_title_index, 'row')",
    # /list/games/?name=
    """
    CREATE VIRTUAL TABLE games_name_index USING fts5 (
        name, content='games', content_rowid='id', tokenize='trigram', columnsize=0
    )
    """,
    """
    CREATE TRIGGER games_indexed_insert AFTER INSERT ON games BEGIN
        INSERT INTO games_name_index (rowid, name) VALUES (new.id, new.name);
    END
    """,
    """
    CREATE TRIGGER games_indexed_delete AFTER DELETE ON games BEGIN
        INSERT INTO games_name_index (games_name_index, rowid, name)
            VALUES ('delete', old.id, old.name);
    END
    """,
    """
    CREATE TRIGGER games_indexed_update AFTER UPDATE OF name ON games
    WHEN old.name IS NOT new.name BEGIN
        INSERT INTO games_name_index (games_name_index, rowid, name)
            VALUES ('delete', old.id, old.name);
        INSERT INTO games_name_index (rowid, name) VALUES (new.id, new.name);
    END
    """,
]

SCHEMA: Final[tuple[str, ...]] = (
    *_CATALOG,
    *_sort_indexes(),
    *_COUNTERS,
    *_SEARCH,
    *EVENTS,
)
"""Every statement of the schema, in order."""


def add_vocabulary(db: Database, texts: Iterable[str]) -> None:
    """Record the words of ``name_words`` texts in the vocabulary."""
    vocabulary = {word for text in texts for word in vocabulary_of(text)}
    db.conn.executemany(
        "INSERT OR IGNORE INTO name_vocabulary (word) VALUES (?)", ((w,) for w in vocabulary)
    )


SEARCH_INDEXES: Final = (
    "mods_name_index",
    "mods_text_index",
    "mods_word_index",
    "mods_title_index",
    "games_name_index",
    "name_vocabulary_index",
)


def count_terms(db: Database) -> None:
    """Recount ``term_counts`` from the ``q`` index (a scan of the whole index)."""
    db.execute("DELETE FROM term_counts")
    db.execute("DELETE FROM text_added")
    db.execute("DELETE FROM text_removed")
    words = f"substr(term, 1, 1) NOT IN (char({ord(MARK)}), char({ord(GAP)}))"
    db.execute(  # (not the facet and gap tokens)
        f"INSERT INTO term_counts SELECT term, '', doc FROM mods_text_rows WHERE {words}"
    )
    db.execute(
        f"INSERT INTO term_counts SELECT term, 'name', doc FROM mods_title_rows WHERE {words}"
    )


def fold_term_counts(db: Database) -> None:
    """Fold the texts recorded since the last fold into ``term_counts`` (writer only)."""
    for table, sign in (("text_added", ""), ("text_removed", "-")):
        for source, col, only in (
            (f"{table}_rows", "''", "true"),
            (f"{table}_cols", "col", "col = 'name'"),  # (the name: RELEVANCE's first tier)
        ):
            db.execute(
                f"INSERT INTO term_counts (term, col, docs) "
                f"SELECT term, {col}, {sign}doc FROM {source} WHERE {only} "
                f"ON CONFLICT (term, col) DO UPDATE SET docs = docs + excluded.docs"
            )
        db.execute(f"DELETE FROM {table}")
    db.execute("DELETE FROM term_counts WHERE docs = 0")


def mark_dense(db: Database) -> None:
    """Recount ``term_counts``, then make the dense terms and mark every mod for them."""
    count_terms(db)
    dense.prepare(db)
    dense.mark_all(db)
    merge(db, "mods_text_index", "mods_title_index")


def merge(db: Database, *indexes: str) -> None:
    """Merge each full-text index into one segment: a rebuild leaves several (7 for the q
    index at a million mods), and each one costs every query a seek per word; merged,
    counting two words at a million mods took 8 ms instead of 22."""
    for index in indexes:
        db.execute(f"INSERT INTO {index} ({index}) VALUES ('optimize')")


def count_buckets(db: Database) -> None:
    """Recount ``facet_buckets`` from the rows."""
    db.execute("DELETE FROM facet_buckets")
    for level in LEVELS:
        bucket = level.bucket_sql("mods")
        db.execute(
            f"INSERT INTO facet_buckets (facet, token, bucket, mods) "
            f"SELECT ?, {level.token_sql('mods')}, {bucket}, count(*) FROM mods "
            f"WHERE state < 2 GROUP BY {bucket}",
            [level.key],
        )


def schema_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def create(db: Database) -> None:
    """Create the schema in an empty file; check the version of any other.

    Runs in its own ``BEGIN IMMEDIATE`` transaction; the connection must be in autocommit
    mode (no transaction open). Raises ``StorageError`` for a file of another version.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(db)
        if version > VERSION:
            raise StorageError(
                f"the database has schema version {version}, newer than this release "
                f"knows ({VERSION}); upgrade Open Workshop"
            )
        if 0 < version < FIRST_RELEASED:
            raise StorageError(
                f"the database has schema version {version}, from a development build of "
                f"Open Workshop before the first release (schema {FIRST_RELEASED}), and cannot be "
                "upgraded: move the file away (with its -wal and -shm files) and start "
                "again; a new one is created, and the catalog and archives fill again as "
                "mods are requested"
            )
        if version == 0:
            for statement in SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {VERSION}")
        elif version < VERSION:
            for step in range(version, VERSION):
                for statement in MIGRATIONS[step]:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


def refresh_derived(db: Database) -> None:
    """Recompute the counters and search indexes from the rows (inside a transaction).

    The triggers keep them in step with each write; this is for bulk loads that bypass them
    (a bulk load writes the links' ``listed`` and ``mask`` itself).
    """
    db.execute("DELETE FROM mod_counts")
    db.execute(
        """
        INSERT INTO mod_counts (game_id, source, has_deps, mods, downloads)
        SELECT game_id, source, has_deps, count(*), sum(downloads) FROM mods
        WHERE state < 2 GROUP BY game_id, source, has_deps
        """
    )
    db.execute(
        """
        UPDATE games SET
            mods_count = coalesce((SELECT sum(mods) FROM mod_counts c
                WHERE c.game_id = games.id), 0),
            mods_downloads = coalesce((SELECT sum(downloads) FROM mod_counts c
                WHERE c.game_id = games.id), 0)
        """
    )
    db.execute("UPDATE tags SET links = (SELECT count(*) FROM mod_tags WHERE tag_id = tags.id)")
    for index in SEARCH_INDEXES:
        db.execute(f"INSERT INTO {index} ({index}) VALUES ('rebuild')")
    count_buckets(db)
    mark_dense(db)  # (every dense term, for every mod)
    merge(db, *SEARCH_INDEXES)
