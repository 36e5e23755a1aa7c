"""Full-text search: an index of fact texts, source titles and entity labels beside the store.

``search.sqlite`` in the store folder: an SQLite FTS5 table (``unicode61
remove_diacritics 2``: case- and accent-insensitive words, ranked by bm25)
over each (node, text) once: a fact a thousand pages share is one row.  The
index holds the texts and the store the rest: which pages a hit is on and the
sources of a fact are read from the store for the hits shown, and a hit
whose text no current page states (left by a write that did not finish) is
passed over, so the index can run ahead of the store but never mislead.
Writes add a batch's new texts in one statement (``json_each``), before the
store is written; replacing or removing pages prunes the texts no page
states any more, after.  (Ingest writes from a thread while other threads
hold the GIL: a statement per row would have to win it back each time.)
A file of its own,
not a table in ``revisions.sqlite``: it is derived data (delete it and the
next use builds it again; an index of another version is built again),
readers open it read-only, and rebuilding it never touches the history.
What a page puts in the index: searchrows.py; searching it (ranked hits, their pages and sources):
searchhits.py; the SQL of the questions facts-mentioning and
connected-via-source over it: searchanswers.py; their answers made from its rows: indexanswers.py.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from .errors import StoreError
from .guard import LazyLog
from .searchanswers import IndexAnswers
from .searchhits import IndexSearch, stated
from .searchrows import Row, rows_of_quads

log = LazyLog(__name__)  # (quick.py: its first record sets the log up as the command line does)

FILE = "search.sqlite"
VERSION = "6"  # 6: links and about by node number (nodes), half the bytes; 5: + what facts are about (about),
# the mark "irregular"; 3: + the facts' sources (links) and the mark "exact";
# 2: a text once per node; older ones are dropped and built again

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY,
    node TEXT NOT NULL,
    kind TEXT NOT NULL,
    type TEXT NOT NULL,
    text TEXT NOT NULL,
    ltext TEXT,
    UNIQUE (node, text)
);
CREATE INDEX IF NOT EXISTS docs_type ON docs (kind, type);
CREATE INDEX IF NOT EXISTS docs_entity ON docs (text) WHERE kind = 'entity';
CREATE VIRTUAL TABLE IF NOT EXISTS texts USING fts5 (text, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS nodes (id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS links (fact INTEGER NOT NULL, source INTEGER NOT NULL, PRIMARY KEY (fact, source)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_source ON links (source);
CREATE TABLE IF NOT EXISTS about (fact INTEGER NOT NULL, entity INTEGER NOT NULL, PRIMARY KEY (entity, fact)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS about_fact ON about (fact);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TABLES = ("pages", "entries", "pending", "docs", "texts", "links", "about", "nodes", "meta")  # the first three: version 1's
_MARKS = ("typed", "irregular")  # rows that mark the index (searchrows.Row)
_MARK_KEYS = str(("exact", *_MARKS))  # the marks' keys in meta, as SQL: ('exact', 'typed', 'irregular')
_PAIRS = {"link": ("links", "fact, source"), "about": ("about", "fact, entity")}  # rows of two nodes (kept as their numbers)
# a pair of IRIs (json_each's value, [fact, other]) as their numbers in nodes
_PAIR_IDS = ("SELECT a.id, b.id FROM json_each(?) j JOIN nodes a ON a.iri = json_extract(j.value, '$[0]') "
             "JOIN nodes b ON b.iri = json_extract(j.value, '$[1]')")


F = TypeVar("F", bound=Callable[..., Any])


def _locked(fn: F) -> F:
    """One statement or transaction at a time on the index's one connection."""
    @functools.wraps(fn)
    def wrapper(self: "SearchIndex", *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return fn(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class SearchIndex(IndexAnswers, IndexSearch):
    """The index of one store folder (see the module's docstring)."""

    def __init__(self, folder: Path, read_only: bool = False, store: Any = None):
        self.path = folder / FILE
        # the Store whose texts these are: a hit's pages and sources are read from it.  A weak reference:
        # the store holds its index, and a cycle would keep the database (and its lock) open until a GC
        self._store = weakref.ref(store) if store is not None else None
        self.lock = threading.RLock()  # one connection; the server's request threads and ingest's writer share it
        self.read_only = read_only and self.path.exists()  # a reader of a store without one builds it
        # hash((node, text)) of the texts this object has added and not pruned: a batch's rows already there
        # are passed over before SQLite sees them (one writer at a time: the store's lock sees to that)
        self._added: set[int] = set()
        self.db = self._connect()
        self._ops: _Ops | None = None  # what the transaction under way changes in docs (for the ranker)
        self.ranker = self._open_ranker()

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.read_only:
                return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                                       isolation_level=None)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)  # BEGIN … COMMIT explicit
            db.execute("PRAGMA journal_mode = WAL")  # readers in other processes go on while a write is under way
            db.execute("PRAGMA synchronous = NORMAL")
            _drop_if_old(db)
            db.executescript(_SCHEMA)
            return db
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the search index {self.path} ({e})") from None

    @property
    def store(self) -> Any:
        return self._store() if self._store is not None else None

    def _open_ranker(self) -> Any:
        """The tantivy ranking beside the index (ranker.py), or None: FTS5 ranks (tantivy not installed, a
        reader of a store without one, a folder it cannot write)."""
        from . import ranker

        if not ranker.available():
            return None
        try:
            return ranker.Ranker(self.path.parent, self.read_only)
        except (OSError, ValueError) as e:
            log.debug("%s: no ranking index (%s); FTS5 ranks", self.path, e)
            return None

    def _generation(self) -> str | None:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'ranked'").fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        """One write transaction; once committed, the ranker is given its changes to docs (ranker.py)."""
        self.db.execute("BEGIN IMMEDIATE")
        self._ops = _Ops(self._generation())
        try:
            yield
            ops, self._ops = self._ops, None
            if ops.changed:
                self._set_meta("ranked", ops.generation)
            self.db.execute("COMMIT")
        except BaseException:  # (the COMMIT too: then SQLite may have rolled back already)
            self._ops = None
            self._added.clear()  # not sure any more which texts are there
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        if ops.changed:
            self._follow(ops)

    def _follow(self, ops: "_Ops") -> None:
        """The ranker given a committed transaction's changes (all the rows again if it did not follow the
        generation before it).  A failure leaves it stale: FTS5 ranks, and the next writer builds it again."""
        ranker = self.ranker
        if ranker is None or self.read_only:
            return
        try:
            if not ops.clear and ops.before is not None and ranker.generation == ops.before:
                added = self.db.execute("SELECT id, kind, type, text FROM docs WHERE id > ?", (ops.top,)) if (
                    ops.top is not None) else ()
                ranker.apply(ops.generation, False, ops.deleted, added)
            else:
                ranker.rebuild(ops.generation, self.db.execute("SELECT id, kind, type, text FROM docs"))
        except (OSError, ValueError, sqlite3.Error) as e:
            log.warning("%s: the ranking index cannot follow the search index (%s); search ranks with FTS5", self.path, e)

    def _rank_again(self) -> None:
        """A writer whose ranker does not follow the index (none yet, an older store, a write that died):
        built again from the index's rows."""
        if self.ranker is None or self.read_only:
            return
        generation = self._generation()
        if generation is not None and self.ranker.generation == generation:
            return
        log.info("%s: building the ranking index", self.path)
        with self._tx():
            assert self._ops is not None
            self._ops.clear = True  # a new generation, and the whole table again (see _follow)

    def close(self) -> None:
        if self.ranker is not None:
            self.ranker.close()
        self.db.close()

    # --- writing ----------------------------------------------------------------------------

    @property
    @_locked
    def built(self) -> bool:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        except sqlite3.Error:
            return False
        return bool(row and row[0] == VERSION)

    @property
    @_locked
    def exact(self) -> bool:
        """Whether the index holds exactly what the current pages state (no write is under way or died
        half-way, and every text is a plain string), so that facts-mentioning can be answered from it alone."""
        return self._exact()

    def _exact(self, links: bool = False) -> bool:
        """:attr:`exact`; with ``links``, also that every graph's links are regular (searchrows._irregular,
        a label a plain string): what connected-via-source needs."""
        marks = self._marks()
        return marks == {"exact"} if links else marks - {"irregular"} == {"exact"}

    def _marks(self) -> set[str]:
        """Which of the marks "exact", "typed" and "irregular" the index has (none, if it cannot be read, or
        if it is of another version: a process that opened the file before another one built it again)."""
        try:
            return {key for (key,) in self.db.execute(
                f"SELECT key FROM meta WHERE key IN {_MARK_KEYS} AND EXISTS "
                "(SELECT 1 FROM meta WHERE key = 'version' AND value = ?)", (VERSION,))}
        except sqlite3.Error:
            return set()

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around a write of the store: the mark "exact" is off from before the write until the index follows
        the store again.  A write that fails or a process that dies in between leaves it off: a question is
        then answered through the store, and the next writer to open the store builds the index again."""
        with self.lock:
            was = self._exact()
            if was:
                self.db.execute("DELETE FROM meta WHERE key = 'exact'")
        yield
        if was:
            with self.lock:
                self._set_meta("exact", "1")

    @_locked
    def ensure(self, store: Any) -> None:
        """Build the index from the store if it has none yet (a store written before the index existed), or
        again if a write left it behind or ahead of the store (a writer only: a reader reads it as it is)."""
        if self.built:
            if self.read_only or self._marks():  # exact, or typed or irregular (what a rebuild would mark again)
                self._rank_again()
                return
            log.warning("%s: the search index was left unfinished by an interrupted write; building it again", store.path)
            self.db.execute("DELETE FROM meta WHERE key = 'version'")
        if self.read_only:  # there but empty (a process stopped before building it): build it here
            self.db.close()
            self.read_only = False
            self.db = self._connect()
            if self.ranker is not None:
                self.ranker.close()
            self.ranker = self._open_ranker()
        built = False
        with self._tx():  # BEGIN IMMEDIATE: another process building it at the same time: one of them does
            if self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() is None:
                graphs = [g.value for g in store.db.named_graphs()]
                if graphs:
                    log.warning("%s: building the search index of %d pages (once)", store.path, len(graphs))
                self._clear()
                self._insert_from(store, graphs)
                self._set_meta("version", VERSION)
                self._set_meta("exact", "1")
                built = True
        if built:
            self._compact()
        self._rank_again()  # (another process built it: this one's ranker may not follow)

    def _compact(self) -> None:
        """After a build: the pages an index of another version left free (its tables dropped) given back to
        the file system, when they are a quarter of the file or more (VACUUM keeps the ids of docs, the
        texts' rowids and the nodes' numbers: all are INTEGER PRIMARY KEYs).  Not done is no harm."""
        try:
            free = self.db.execute("PRAGMA freelist_count").fetchone()[0]
            pages = self.db.execute("PRAGMA page_count").fetchone()[0]
            if free > 0 and free * 4 >= pages:
                log.info("%s: giving %d free pages of %d back", self.path, free, pages)
                self.db.execute("VACUUM")
                self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # (the file shrinks once the WAL is copied back)
        except sqlite3.Error as e:  # e.g. another process reading it at that moment
            log.info("%s: not compacted (%s)", self.path, e)

    @_locked
    def rebuild(self, store: Any) -> None:
        """Read every page again (after a write whose pages cannot be known, e.g. SPARQL Update)."""
        self.db.execute("DELETE FROM meta WHERE key = 'version'")
        self.ensure(store)

    @_locked
    def add(self, pages: Iterable[Sequence[Row]]) -> None:
        """Before the store is written: the texts of these pages that the index does not have yet."""
        with self._tx():
            self._insert(row for rows in pages for row in rows)

    @_locked
    def reindex(self, store: Any, pages: Sequence[str]) -> None:
        """These pages' texts from the store (after a write that only added to them and went round the
        Store's methods, e.g. a Graph Store POST; a write that takes away prunes, or rebuilds)."""
        with self._tx():
            self._insert_from(store, [g for g in pages if store.has_graph(g)])

    @_locked
    def prune(self, store: Any, rows: Iterable[Row]) -> None:
        """After pages were replaced or removed: those of their texts that no current page states."""
        with self._tx():
            self._prune(store, rows)

    def _prune(self, store: Any, rows: Iterable[Row]) -> None:
        candidates = {(node, kind, text) for kind, node, _, text in rows if kind not in _MARKS}
        gone: list[tuple[str, str]] = []
        gone_pairs: dict[str, list[tuple[str, str]]] = {kind: [] for kind in _PAIRS}
        for node, kind, text in candidates:
            if not stated(store, node, kind, text):
                gone_pairs.get(kind, gone).append((node, text))
                self._added.discard(_key(node, text, kind))
        numbered: set[str] = set()
        for kind, pairs in gone_pairs.items():
            if pairs:
                table, columns = _PAIRS[kind]
                self.db.execute(f"DELETE FROM {table} WHERE ({columns}) IN ({_PAIR_IDS})", (_json(pairs),))
                numbered.update(iri for pair in pairs for iri in pair)
        if numbered:  # a node no pair names any more loses its number (a later pair numbers it again)
            self.db.execute(
                "DELETE FROM nodes WHERE iri IN (SELECT value FROM json_each(?)) AND NOT EXISTS (SELECT 1 FROM links "
                "WHERE fact = nodes.id) AND NOT EXISTS (SELECT 1 FROM links WHERE source = nodes.id) AND NOT EXISTS "
                "(SELECT 1 FROM about WHERE fact = nodes.id) AND NOT EXISTS (SELECT 1 FROM about WHERE entity = nodes.id)",
                (_json(sorted(numbered)),))
        if gone:
            ids = _json([i for (i,) in self.db.execute(
                "SELECT d.id FROM json_each(?) j JOIN docs d ON d.node = json_extract(j.value, '$[0]') "
                "AND d.text = json_extract(j.value, '$[1]')", (_json(gone),))])
            self.db.execute("DELETE FROM texts WHERE rowid IN (SELECT value FROM json_each(?))", (ids,))
            self.db.execute("DELETE FROM docs WHERE id IN (SELECT value FROM json_each(?))", (ids,))
            if self._ops is not None:
                self._ops.deleted.extend(json.loads(ids))

    def _clear(self) -> None:
        self.db.execute(f"DELETE FROM meta WHERE key IN {_MARK_KEYS}")
        self.db.execute("DELETE FROM docs")
        self.db.execute("DELETE FROM texts")
        self.db.execute("DELETE FROM links")
        self.db.execute("DELETE FROM about")
        self.db.execute("DELETE FROM nodes")
        self._added.clear()
        if self._ops is not None:
            self._ops.clear = True

    def _insert(self, rows: Iterable[Row]) -> None:
        """Texts the index does not have yet: one statement for the lot, whatever their number."""
        texts: dict[int, list[Any]] = {}
        pairs: dict[str, dict[int, tuple[str, str]]] = {kind: {} for kind in _PAIRS}
        added = self._added
        for kind, node, word, text in rows:
            if kind in _MARKS:  # for good (until it is built again): typed, no question answered from the index
                self._set_meta(kind, node)  # alone (see exact); irregular, not connected-via-source
                continue
            key = _key(node, text, kind)
            if kind in pairs:
                if key not in added:
                    pairs[kind][key] = (node, text)
                continue
            if key not in added and key not in texts:
                texts[key] = [node, kind, word, text, text.lower() if kind == "fact" else None]
        numbered = {iri for new in pairs.values() for pair in new.values() for iri in pair}
        if numbered:  # the pairs' nodes numbered first, once for both tables (a fact is in both)
            self.db.execute("INSERT OR IGNORE INTO nodes (iri) SELECT value FROM json_each(?)", (_json(sorted(numbered)),))
        for kind, new in pairs.items():
            if new:
                self.db.execute(f"INSERT OR IGNORE INTO {_PAIRS[kind][0]} {_PAIR_IDS}", (_json(list(new.values())),))
                added.update(new)
        if not texts:
            return
        top = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM docs").fetchone()[0]
        if self._ops is not None and self._ops.top is None:
            self._ops.top = top  # the ranker is given the rows after it (ids grow within a transaction)
        self.db.execute(
            "INSERT OR IGNORE INTO docs (node, kind, type, text, ltext) SELECT json_extract(value, '$[0]'), "
            "json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), "
            "json_extract(value, '$[4]') FROM json_each(?)", (_json(list(texts.values())),))
        self.db.execute("INSERT INTO texts (rowid, text) SELECT id, text FROM docs WHERE id > ?", (top,))
        added.update(texts)  # a rolled-back transaction leaves them out again: see _tx

    def _insert_from(self, store: Any, graphs: Sequence[str], chunk: int = 500) -> None:
        """These page graphs' texts, read from the store, a chunk of pages at a time."""
        for i in range(0, len(graphs), chunk):
            self._insert(row for g in graphs[i:i + chunk]
                         for row in rows_of_quads(store.db.quads_for_pattern(None, None, None, _node(g))))

def _key(node: str, text: str, kind: str = "") -> int:
    """What ``SearchIndex._added`` keeps of a row: a hash of its node and text (and kind, for a pair of IRIs)."""
    return hash((node, text, kind)) if kind in _PAIRS else hash((node, text))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _drop_if_old(db: sqlite3.Connection) -> None:
    """An index of another version is dropped (it is derived data): ``ensure`` builds it again."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    except sqlite3.Error:
        row = None
    v1 = any(col[1] == "node" for col in db.execute("PRAGMA table_info(entries)"))  # version 1's layout
    if v1 or row is not None and row[0] != VERSION:
        log.info("search index of version %s: dropped, to be built again", row[0] if row else "?")
        for table in _TABLES:
            db.execute(f"DROP TABLE IF EXISTS {table}")


def _node(iri: str) -> Any:
    import pyoxigraph as ox

    return ox.NamedNode(iri)


@dataclass
class _Ops:
    """What one write transaction changed in docs, for the ranker: it held ``before``'s rows; all cleared,
    these ids deleted, the rows after ``top`` added; ``generation``, the one it holds after them."""

    before: str | None
    clear: bool = False
    deleted: list[int] = field(default_factory=list)
    top: int | None = None
    generation: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def changed(self) -> bool:
        return self.clear or bool(self.deleted) or self.top is not None


def index_of(store: Any) -> SearchIndex:
    """The search index of a store folder, built on first use.

    :raises StoreError: a remote store (the index is kept for store folders only).
    """
    if not getattr(store, "db_is_local", False) or getattr(store, "search_index", None) is None:
        raise StoreError(
            f"{store.location}: the search index is kept for store folders only; on a SPARQL endpoint use "
            "evidencegraph query -Q facts-mentioning (SPARQL CONTAINS, slower)"
        )
    index: SearchIndex = store.search_index()
    return index
