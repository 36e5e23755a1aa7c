"""Full-text search: an index of fact texts, source titles and entity labels beside the store.

``search.sqlite`` in the store folder: an SQLite FTS5 table (``unicode61
remove_diacritics 2``: case- and accent-insensitive words, ranked by bm25)
and one row per (page, node, text), so that a page's rows are swapped or
dropped with the page and only current pages are found.  A file of its own,
not a table in ``revisions.sqlite``: it is derived data (delete it and the
next use builds it again), readers open it read-only, and rebuilding it
never touches the history.

Keeping it in step with the store, which is another database: a write first
marks its pages *pending* and writes their rows (one SQLite transaction),
then writes the store, then clears the marks.  A write that did not finish
(a crash, an interrupted ingest rolled back by ``Store._recover``) leaves
marks; the next writable open re-reads those pages from the store.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TypeVar

from .errors import StoreError, UsageError

log = logging.getLogger(__name__)

FILE = "search.sqlite"
VERSION = "1"
KINDS = ("fact", "source", "entity")

_EG = "https://w3id.org/evidencegraph#"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_TITLE = "http://purl.org/dc/terms/title"
_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
_KIND_OF = {_EG + "Fact": "fact", _EG + "Source": "source", _EG + "Entity": "entity"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    page INTEGER NOT NULL,
    kind TEXT NOT NULL,
    node TEXT NOT NULL,
    type TEXT NOT NULL,
    sources TEXT NOT NULL,
    ltext TEXT
);
CREATE INDEX IF NOT EXISTS entries_page ON entries (page);
CREATE INDEX IF NOT EXISTS entries_type ON entries (kind, type);
CREATE INDEX IF NOT EXISTS entries_node ON entries (node);
CREATE VIRTUAL TABLE IF NOT EXISTS texts USING fts5 (text, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS pending (page TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# kind, node IRI, fact type word, text, sources (JSON [[IRI, title], …] for a fact)
Row = tuple[str, str, str, str, str]
Spo = tuple[str, str, str, bool]  # subject, predicate, object value, whether the object is a literal


def page_rows(triples: Iterable[Spo]) -> list[Row]:
    """What one page graph puts in the index: its facts (text, type word, the sources the page
    lists them under), its sources (titles) and its entities (every label)."""
    kinds: dict[str, str] = {}
    values: dict[tuple[str, str], list[str]] = {}
    for s, p, o, literal in triples:
        if p == _RDF_TYPE:
            if o in _KIND_OF:
                kinds[s] = _KIND_OF[o]
        elif p in (_LABEL, _TITLE, _PREF, _EG + "text") and literal or p in (_EG + "factType", _EG + "fromSource"):
            values.setdefault((s, p), []).append(o)
    rows: list[Row] = []
    for node, kind in kinds.items():
        if kind == "entity":
            rows.extend(("entity", node, "", label, "") for label in values.get((node, _LABEL), ()))
        elif kind == "source":
            rows.extend(("source", node, "", title, "") for title in values.get((node, _TITLE), ()))
        else:
            sources = [[s, t] for s in sorted(values.get((node, _EG + "fromSource"), ())) for t in values.get((s, _TITLE), ())]
            for t in values.get((node, _EG + "factType"), ()):
                labels = values.get((t, _PREF))
                word = labels[0] if labels else re.sub(r"^.*[#/]", "", t)
                rows.extend(("fact", node, word, text, json.dumps(sources, ensure_ascii=False))
                            for text in values.get((node, _EG + "text"), ()))
    return rows


def rows_of_mapping(triples: Iterable[tuple[str, str, Any]]) -> list[Row]:
    """page_rows of ``mapping``'s triples (an object is an IRI ``str`` or a ``Lit``)."""
    return page_rows((s, p, o if isinstance(o, str) else o.value, not isinstance(o, str)) for s, p, o in triples)


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

    def __init__(self, folder: Path, read_only: bool = False):
        self.path = folder / FILE
        self.lock = threading.RLock()  # one connection; the server's request threads and ingest's writer share it
        self.read_only = read_only and self.path.exists()  # a reader of a store without one builds it
        self.db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.read_only:
                return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                                       isolation_level=None)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)  # BEGIN … COMMIT explicit
            db.execute("PRAGMA journal_mode = WAL")  # readers in other processes go on while a write is under way
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(_SCHEMA)
            return db
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the search index {self.path} ({e})") from None

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
                for g in graphs:
                    self._insert(g, rows_of_quads(store.db.quads_for_pattern(None, None, None, _node(g))))
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
    def begin(self, pages: dict[str, list[Row]], dropped: Sequence[str] = ()) -> None:
        """Before the store is written: these pages' rows swapped (``dropped``: removed), marked pending."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            names = [*pages, *dropped]
            self.db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(g,) for g in names])
            self._delete(names)
            for g, rows in pages.items():
                self._insert(g, rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    @_locked
    def done(self, pages: Iterable[str]) -> None:
        """The store has these pages' writes: no longer pending."""
        with _tx(self.db):
            self.db.executemany("DELETE FROM pending WHERE page = ?", [(g,) for g in pages])

    @_locked
    def reconcile(self, store: Any) -> list[str]:
        """Pages whose write did not finish: their rows made again from what the store holds."""
        pending = [g for (g,) in self.db.execute("SELECT page FROM pending")]
        if not pending or self.read_only:
            return pending
        with _tx(self.db):
            self._delete(pending)
            for g in pending:
                if store.has_graph(g):
                    self._insert(g, rows_of_quads(store.db.quads_for_pattern(None, None, None, _node(g))))
            self.db.executemany("DELETE FROM pending WHERE page = ?", [(g,) for g in pending])
        log.info("search index: %d pages of an unfinished write read again", len(pending))
        return pending

    @_locked
    def reindex(self, store: Any, pages: Sequence[str]) -> None:
        """These pages' rows made again from the store (after a write that went round the Store's methods)."""
        with _tx(self.db):
            self._delete(pages)
            for g in pages:
                if store.has_graph(g):
                    self._insert(g, rows_of_quads(store.db.quads_for_pattern(None, None, None, _node(g))))

    def _clear(self) -> None:
        self.db.execute("DELETE FROM entries")
        self.db.execute("DELETE FROM texts")
        self.db.execute("DELETE FROM pages")

    def _delete(self, pages: Sequence[str]) -> None:
        for g in pages:
            row = self.db.execute("SELECT id FROM pages WHERE iri = ?", (g,)).fetchone()
            if row is None:
                continue
            self.db.execute("DELETE FROM texts WHERE rowid IN (SELECT id FROM entries WHERE page = ?)", row)
            self.db.execute("DELETE FROM entries WHERE page = ?", row)
            self.db.execute("DELETE FROM pages WHERE id = ?", row)

    def _insert(self, page: str, rows: Sequence[Row]) -> None:
        pid = self.db.execute("INSERT INTO pages (iri) VALUES (?)", (page,)).lastrowid
        first = self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM entries").fetchone()[0]
        self.db.executemany(
            "INSERT INTO entries (id, page, kind, node, type, sources, ltext) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(first + i, pid, kind, node, word, sources, text.lower() if kind == "fact" else None)
             for i, (kind, node, word, text, sources) in enumerate(rows)],
        )
        self.db.executemany("INSERT INTO texts (rowid, text) VALUES (?, ?)", [(first + i, r[3]) for i, r in enumerate(rows)])

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
            sql = (f"SELECT t.rowid, bm25(texts) AS score FROM texts t JOIN entries e ON e.id = t.rowid "
                   f"WHERE {' AND '.join(where)} ORDER BY score, t.rowid LIMIT ? OFFSET ?")
        best: dict[str, tuple[int, float]] = {}
        batch, offset = max(4 * limit, 64), 0
        try:
            with self.lock:
                while len(best) < limit:
                    found = self.db.execute(sql, [*args, batch, offset]).fetchall()
                    ids = [rowid for rowid, _ in found]
                    nodes = dict(self.db.execute(
                        f"SELECT id, node FROM entries WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall())
                    for rowid, score in found:
                        best.setdefault(nodes[rowid], (rowid, score))
                    if len(found) < batch:
                        break
                    offset, batch = offset + batch, batch * 4
                return [self._hit(node, rowid, score, query) for node, (rowid, score) in list(best.items())[:limit]]
        except sqlite3.OperationalError as e:
            raise UsageError(f"cannot search for {text!r} ({e})") from None

    def _hit(self, node: str, rowid: int, score: float, query: str) -> Hit:
        kind, word = self.db.execute("SELECT kind, type FROM entries WHERE id = ?", (rowid,)).fetchone()
        txt, marked = self.db.execute(
            f"SELECT text, highlight(texts, 0, '{MARK[0]}', '{MARK[1]}') FROM texts WHERE texts MATCH ? AND rowid = ?",
            (query, rowid)).fetchone()
        pages = sorted({iri for (iri,) in self.db.execute(
            "SELECT p.iri FROM entries e JOIN pages p ON p.id = e.page WHERE e.node = ?", (node,))})
        seen: dict[str, str] = {}
        if kind == "fact":
            for (part,) in self.db.execute("SELECT DISTINCT sources FROM entries WHERE node = ?", (node,)):
                for iri, title in json.loads(part) if part else ():
                    seen.setdefault(iri, title)
        return Hit(kind, node, txt, marked, word, score, pages[:PAGES_SHOWN], len(pages),
                   [{"source": iri, "title": title} for iri, title in sorted(seen.items())])

    def facts_containing(self, type_word: str, word: str) -> list[str]:
        """Facts of this type word whose text contains ``word`` (a substring, case-insensitive: what
        SPARQL's ``CONTAINS(LCASE(?text), LCASE(?word))`` finds), by IRI."""
        with self.lock:
            rows = self.db.execute(
                "SELECT DISTINCT node FROM entries WHERE kind = 'fact' AND type = ? AND instr(ltext, ?) > 0 ORDER BY node",
                (type_word, word.lower()),
            ).fetchall()
        return [node for (node,) in rows]

    @_locked
    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])


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


def hits_output(hits: Sequence[Hit], fmt: str, width: int | None = None) -> str:
    """Hits as an aligned table (the match marked ``[…]``), JSON (a list) or TSV (with a header line)."""
    if fmt == "json":
        return json.dumps([h.as_json() for h in hits], ensure_ascii=False, indent=2) + "\n"
    if fmt == "tsv":
        lines = ["kind\ttext\tnode\ttype\tscore\tpages\tsources"]
        for h in hits:
            clean = h.text.replace("\t", " ").replace("\n", " ")
            lines.append(f"{h.kind}\t{clean}\t{h.node}\t{h.type}\t{h.score:.4f}\t{' '.join(h.pages)}\t"
                         + " ".join(s["source"] for s in h.sources))
        return "\n".join(lines) + "\n"
    from .console import table

    def where(h: Hit) -> str:
        sources = "; ".join(s["title"] for s in h.sources)
        pages = f"{h.page_count} page{'s' if h.page_count != 1 else ''}"
        return f"{sources} ({pages})" if sources else pages

    rows = [[h.kind + (f" ({h.type})" if h.type else ""), h.marked, h.node, where(h)] for h in hits]
    return table(["kind", "text", "node", "sources / pages"], rows, width)


# --- the named question facts-mentioning, answered from the index ----------------------------

FAST_QUESTION = "facts-mentioning"

_FAST_SPARQL = """PREFIX eg: <https://w3id.org/evidencegraph#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?type ?word ?fact ?text ?source
WHERE {
  VALUES ?fact { %s }
  ?fact eg:text ?text ; eg:fromSource ?s .
  ?s dcterms:title ?source .
}
ORDER BY ?text
"""


def question_query(store: Any, name: str, sparql: str, substitutions: dict[str, Any]) -> str:
    """The SPARQL to run for a named question: ``facts-mentioning`` on a store folder is answered from
    the index (the facts it finds are bound with VALUES, so the columns and rows are the .rq's);
    every other question, and every question on a remote store, is its own .rq."""
    if name != FAST_QUESTION or not getattr(store, "db_is_local", False) or "type" not in substitutions \
            or "word" not in substitutions:
        return sparql
    facts = store.search_index().facts_containing(str(substitutions["type"].value), str(substitutions["word"].value))
    return _FAST_SPARQL % " ".join(f"<{f}>" for f in facts)
