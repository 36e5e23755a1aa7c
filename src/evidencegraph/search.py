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
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TypeVar

from .errors import StoreError, UsageError
from .guard import LazyLog

log = LazyLog(__name__)  # (quick.py: its first record sets the log up as the command line does)

FILE = "search.sqlite"
VERSION = "2"  # 2: a text once per node, the rest read from the store; 1 (a row per page and text) is rebuilt
KINDS = ("fact", "source", "entity")

_EG = "https://w3id.org/evidencegraph#"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_TITLE = "http://purl.org/dc/terms/title"
_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
_TEXT = _EG + "text"
_FACT_TYPE = _EG + "factType"
_FROM_SOURCE = _EG + "fromSource"
_KIND_OF = {_EG + "Fact": "fact", _EG + "Source": "source", _EG + "Entity": "entity"}
_TEXT_OF = {"fact": _TEXT, "source": _TITLE, "entity": _LABEL}  # the property whose value a kind's row is
_TEXTS = frozenset((_LABEL, _TITLE, _PREF, _TEXT))

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
CREATE VIRTUAL TABLE IF NOT EXISTS texts USING fts5 (text, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TABLES = ("pages", "entries", "pending", "docs", "texts", "meta")  # the first three: version 1's

# kind, node IRI, fact type word, text
Row = tuple[str, str, str, str]
Spo = tuple[str, str, str, bool]  # subject, predicate, object value, whether the object is a literal


def page_rows(triples: Iterable[Spo]) -> list[Row]:
    """What one page graph puts in the index: its facts (text and type word), its sources (titles)
    and its entities (every label)."""
    kinds: dict[str, str] = {}
    values: dict[tuple[str, str], list[str]] = {}
    for s, p, o, literal in triples:
        if p == _RDF_TYPE:
            if o in _KIND_OF:
                kinds[s] = _KIND_OF[o]
        elif p in _TEXTS and literal or p == _FACT_TYPE:
            values.setdefault((s, p), []).append(o)
    return _rows(kinds, values)


def rows_of_mapping(triples: Iterable[tuple[str, str, Any]]) -> list[Row]:
    """page_rows of ``mapping``'s triples (an object is an IRI ``str`` or a ``Lit``); one pass, no tuples
    made for the triples that do not count (it runs in the ingest workers, for every page)."""
    kinds: dict[str, str] = {}
    values: dict[tuple[str, str], list[str]] = {}
    for s, p, o in triples:
        if p == _RDF_TYPE:
            kind = _KIND_OF.get(o)
            if kind is not None:
                kinds[s] = kind
        elif p == _FACT_TYPE:
            values.setdefault((s, p), []).append(o)
        elif p in _TEXTS and not isinstance(o, str):
            values.setdefault((s, p), []).append(o.value)
    return _rows(kinds, values)


def _rows(kinds: dict[str, str], values: dict[tuple[str, str], list[str]]) -> list[Row]:
    rows: list[Row] = []
    for node, kind in kinds.items():
        if kind == "entity":
            rows.extend(("entity", node, "", label) for label in values.get((node, _LABEL), ()))
        elif kind == "source":
            rows.extend(("source", node, "", title) for title in values.get((node, _TITLE), ()))
        else:
            for t in values.get((node, _FACT_TYPE), ()):
                labels = values.get((t, _PREF))
                word = labels[0] if labels else re.sub(r"^.*[#/]", "", t)
                rows.extend(("fact", node, word, text) for text in values.get((node, _TEXT), ()))
    return rows


def rows_of_quads(quads: Iterable[Any]) -> list[Row]:
    """page_rows of pyoxigraph quads (or triples)."""
    import pyoxigraph as ox

    return page_rows((q.subject.value, q.predicate.value, q.object.value, isinstance(q.object, ox.Literal)) for q in quads)


def rows_of_nquads(data: bytes) -> list[Row]:
    import pyoxigraph as ox

    return rows_of_quads(ox.parse(data, format=ox.RdfFormat.N_QUADS))


@dataclass
class Hit:
    """One node found: the matched text (``marked``: the match between ``[`` and ``]``), where it is."""

    kind: str
    node: str
    text: str
    marked: str
    type: str
    score: float
    pages: list[str] = field(default_factory=list)
    page_count: int = 0
    sources: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "node": self.node, "text": self.text, "type": self.type or None,
                "score": round(self.score, 4), "pages": self.pages, "page_count": self.page_count,
                "sources": self.sources}


_WORD = re.compile(r"\w+\*?")
MARK = ("[", "]")
PAGES_SHOWN = 20


def fts_query(text: str) -> str:
    """The user's words as an FTS5 query: every word must occur (a trailing ``*``: a prefix)."""
    words = _WORD.findall(text)
    return " ".join(f'"{w.rstrip("*")}"' + ("*" if w.endswith("*") else "") for w in words)


F = TypeVar("F", bound=Callable[..., Any])


def _locked(fn: F) -> F:
    """One statement or transaction at a time on the index's one connection."""
    @functools.wraps(fn)
    def wrapper(self: "SearchIndex", *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return fn(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class SearchIndex:
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

    def close(self) -> None:
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

    @_locked
    def ensure(self, store: Any) -> None:
        """Build the index from the store if it has none yet (a store written before the index existed)."""
        if self.built:
            return
        if self.read_only:  # there but empty (a process stopped before building it): build it here
            self.db.close()
            self.read_only = False
            self.db = self._connect()
        self.db.execute("BEGIN IMMEDIATE")  # another process building it at the same time: one of them does
        try:
            if self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() is None:
                graphs = [g.value for g in store.db.named_graphs()]
                if graphs:
                    log.warning("%s: building the search index of %d pages (once)", store.path, len(graphs))
                self._clear()
                self._insert_from(store, graphs)
                self.db.execute("INSERT INTO meta VALUES ('version', ?)", (VERSION,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    @_locked
    def rebuild(self, store: Any) -> None:
        """Read every page again (after a write whose pages cannot be known, e.g. SPARQL Update)."""
        self.db.execute("DELETE FROM meta WHERE key = 'version'")
        self.ensure(store)

    @_locked
    def add(self, pages: Iterable[Sequence[Row]]) -> None:
        """Before the store is written: the texts of these pages that the index does not have yet."""
        try:
            with _tx(self.db):
                self._insert(row for rows in pages for row in rows)
        except BaseException:
            self._added.clear()  # not sure any more which texts are there
            raise

    @_locked
    def reindex(self, store: Any, pages: Sequence[str]) -> None:
        """These pages' texts from the store (after a write that only added to them and went round the
        Store's methods, e.g. a Graph Store POST; a write that takes away prunes, or rebuilds)."""
        with _tx(self.db):
            self._insert_from(store, [g for g in pages if store.has_graph(g)])

    @_locked
    def prune(self, store: Any, rows: Iterable[Row]) -> None:
        """After pages were replaced or removed: those of their texts that no current page states."""
        with _tx(self.db):
            self._prune(store, rows)

    def _prune(self, store: Any, rows: Iterable[Row]) -> None:
        candidates = {(node, kind, text) for kind, node, _, text in rows}
        gone = [(node, text) for node, kind, text in candidates if not stated(store, node, kind, text)]
        self._added.difference_update(hash(key) for key in gone)
        if gone:
            ids = _json([i for (i,) in self.db.execute(
                "SELECT d.id FROM json_each(?) j JOIN docs d ON d.node = json_extract(j.value, '$[0]') "
                "AND d.text = json_extract(j.value, '$[1]')", (_json(gone),))])
            self.db.execute("DELETE FROM texts WHERE rowid IN (SELECT value FROM json_each(?))", (ids,))
            self.db.execute("DELETE FROM docs WHERE id IN (SELECT value FROM json_each(?))", (ids,))

    def _clear(self) -> None:
        self.db.execute("DELETE FROM docs")
        self.db.execute("DELETE FROM texts")
        self._added.clear()

    def _insert(self, rows: Iterable[Row]) -> None:
        """Texts the index does not have yet: one statement for the lot, whatever their number."""
        texts: dict[int, list[Any]] = {}
        added = self._added
        for kind, node, word, text in rows:
            key = hash((node, text))
            if key not in added and key not in texts:
                texts[key] = [node, kind, word, text, text.lower() if kind == "fact" else None]
        if not texts:
            return
        top = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM docs").fetchone()[0]
        self.db.execute(
            "INSERT OR IGNORE INTO docs (node, kind, type, text, ltext) SELECT json_extract(value, '$[0]'), "
            "json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), "
            "json_extract(value, '$[4]') FROM json_each(?)", (_json(list(texts.values())),))
        self.db.execute("INSERT INTO texts (rowid, text) SELECT id, text FROM docs WHERE id > ?", (top,))
        added.update(texts)  # a rolled-back transaction leaves them out again: see add

    def _insert_from(self, store: Any, graphs: Sequence[str], chunk: int = 500) -> None:
        """These page graphs' texts, read from the store, a chunk of pages at a time."""
        for i in range(0, len(graphs), chunk):
            self._insert(row for g in graphs[i:i + chunk]
                         for row in rows_of_quads(store.db.quads_for_pattern(None, None, None, _node(g))))

    # --- reading ----------------------------------------------------------------------------

    def search(self, text: str, type: str | None = None, kind: str | None = None, limit: int = 20) -> list[Hit]:
        """Nodes whose text has every word of ``text`` (case and accents ignored), best (bm25) first.

        :raises UsageError: no word in ``text``, or an unknown kind.
        """
        query = fts_query(text)
        if not query:
            raise UsageError(f"nothing to search for in {text!r}: give a word")
        if kind is not None and kind not in KINDS:
            raise UsageError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        where, args = ["texts MATCH ?"], [query]
        if type:
            where.append("e.kind = 'fact' AND e.type = ?")
            args.append(type)
        if kind:
            where.append("e.kind = ?")
            args.append(kind)
        # the best rows first (bm25 only: no highlight, no grouping over every match), a node once
        if len(where) == 1:
            sql = "SELECT rowid, rank FROM texts WHERE texts MATCH ? ORDER BY rank, rowid LIMIT ? OFFSET ?"
        else:
            sql = (f"SELECT t.rowid, bm25(texts) AS score FROM texts t JOIN docs e ON e.id = t.rowid "
                   f"WHERE {' AND '.join(where)} ORDER BY score, t.rowid LIMIT ? OFFSET ?")
        best: dict[str, tuple[int, float]] = {}
        batch, offset = max(4 * limit, 64), 0
        store = self.store
        try:
            with self.lock:
                while len(best) < limit:
                    found = self.db.execute(sql, [*args, batch, offset]).fetchall()
                    ids = [rowid for rowid, _ in found]
                    docs = {row[0]: row[1:] for row in self.db.execute(
                        f"SELECT id, node, kind, text FROM docs WHERE id IN ({','.join('?' * len(ids))})", ids)}
                    for rowid, score in found:
                        node, kind, txt = docs[rowid]
                        if node not in best and (store is None or stated(store, node, kind, txt)):
                            best[node] = (rowid, score)
                    if len(found) < batch:
                        break
                    offset, batch = offset + batch, batch * 4
                return [self._hit(node, rowid, score, query) for node, (rowid, score) in list(best.items())[:limit]]
        except sqlite3.OperationalError as e:
            raise UsageError(f"cannot search for {text!r} ({e})") from None

    def _hit(self, node: str, rowid: int, score: float, query: str) -> Hit:
        import pyoxigraph as ox

        kind, word = self.db.execute("SELECT kind, type FROM docs WHERE id = ?", (rowid,)).fetchone()
        txt, marked = self.db.execute(
            f"SELECT text, highlight(texts, 0, '{MARK[0]}', '{MARK[1]}') FROM texts WHERE texts MATCH ? AND rowid = ?",
            (query, rowid)).fetchone()
        pages: list[str] = []
        sources: list[dict[str, str]] = []
        store = self.store
        if store is not None:
            db, subject = store.db, ox.NamedNode(node)
            pages = sorted({q.graph_name.value for q in db.quads_for_pattern(subject, _term(_RDF_TYPE), None, None)
                            if isinstance(q.graph_name, ox.NamedNode)})
            if kind == "fact":
                seen: dict[str, str] = {}
                for q in db.quads_for_pattern(subject, _term(_FROM_SOURCE), None, ox.DefaultGraph()):
                    for t in db.quads_for_pattern(q.object, _term(_TITLE), None, ox.DefaultGraph()):
                        seen.setdefault(q.object.value, t.object.value)
                sources = [{"source": iri, "title": title} for iri, title in sorted(seen.items())]
        return Hit(kind, node, txt, marked, word, score, pages[:PAGES_SHOWN], len(pages), sources)

    def facts_containing(self, type_word: str, word: str) -> list[str]:
        """Facts of this type word whose text contains ``word`` (a substring, case-insensitive: what
        SPARQL's ``CONTAINS(LCASE(?text), LCASE(?word))`` finds), by IRI, in the order of their texts
        (SQLite compares UTF-8 bytes: code point order, as SPARQL's ORDER BY does)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT node, MIN(text) FROM docs WHERE kind = 'fact' AND type = ? AND instr(ltext, ?) > 0 "
                "GROUP BY node ORDER BY 2, 1",
                (type_word, word.lower()),
            ).fetchall()
        return [node for node, _ in rows]


def stated(store: Any, node: str, kind: str, text: str) -> bool:
    """Whether a current page of the store states this text of this node (the default graph is their union)."""
    import pyoxigraph as ox

    return any(q.object.value == text for q in store.db.quads_for_pattern(
        ox.NamedNode(node), _term(_TEXT_OF[kind]), None, ox.DefaultGraph()))


@functools.lru_cache(maxsize=None)
def _term(iri: str) -> Any:
    """A pyoxigraph NamedNode, made once (this module is imported by commands that never search)."""
    import pyoxigraph as ox

    return ox.NamedNode(iri)


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


class _tx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


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


# --- the named question facts-mentioning, answered from the index ----------------------------

FAST_QUESTION = "facts-mentioning"  # queries.INDEXED_QUESTION (this module is above queries: not imported)

_FAST_SPARQL = """PREFIX eg: <https://w3id.org/evidencegraph#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?type ?word ?fact ?text ?source
WHERE {
  VALUES (?fact ?rank) { %s }
  ?fact eg:text ?text ; eg:fromSource ?s .
  ?s dcterms:title ?source .
}
ORDER BY ?rank
"""  # ?rank: the facts' order by text, from the index (Oxigraph's ORDER BY ?text cost 2/3 of the answer)


def question_query(store: Any, name: str, sparql: str, substitutions: dict[str, Any]) -> str:
    """The SPARQL to run for a named question: ``facts-mentioning`` on a store folder is answered from
    the index (the facts it finds are bound with VALUES, so the columns and rows are the .rq's);
    every other question, and every question on a remote store, is its own .rq."""
    if name != FAST_QUESTION or not getattr(store, "db_is_local", False) or "type" not in substitutions \
            or "word" not in substitutions:
        return sparql
    facts = store.search_index().facts_containing(str(substitutions["type"].value), str(substitutions["word"].value))
    return _FAST_SPARQL % " ".join(f"(<{f}> {rank})" for rank, f in enumerate(facts))
