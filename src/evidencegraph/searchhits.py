"""Searching the full-text index: the words asked for, ranked, each hit with its pages and sources.

A part of :class:`search.SearchIndex` (which writes the index and keeps its one connection, lock and
ranker): ``search`` ranks with tantivy while it follows the index (ranker.py), else with FTS5's bm25, and
passes over a text no current page states (``stated``: a write that did not finish can leave the index
ahead of the store, never misleading); the pages a hit is on and a fact's sources are read from the store
for the hits shown only.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .errors import UsageError
from .guard import LazyLog
from .iris import DCTERMS_TITLE as _TITLE, RDF_TYPE as _RDF_TYPE
from .searchrows import _ENDS, _FROM_SOURCE, _SUPPORTED_BY, _TEXT_OF

if TYPE_CHECKING:
    import threading
    from pathlib import Path

log = LazyLog("evidencegraph.search")  # (the index's one logger: its warnings read as the index's)

KINDS = ("fact", "source", "entity")


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


class IndexSearch:
    """``search``; :class:`search.SearchIndex` gives the connection, its lock, the ranker and the store."""

    if TYPE_CHECKING:
        db: sqlite3.Connection
        lock: threading.RLock
        path: Path
        ranker: Any

        @property
        def store(self) -> Any: ...

        def _generation(self) -> str | None: ...

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
                ranked = self._ranked(text, query, "fact" if type else kind, type)
                while len(best) < limit:
                    found = ranked(batch, offset) if ranked is not None else None
                    if found is None:
                        if ranked is not None:  # the ranker failed (a damaged file): FTS5 from the start
                            ranked, best, batch, offset = None, {}, max(4 * limit, 64), 0
                        found = self.db.execute(sql, [*args, batch, offset]).fetchall()
                    ids = [rowid for rowid, _ in found]
                    docs = {row[0]: row[1:] for row in self.db.execute(
                        f"SELECT id, node, kind, text FROM docs WHERE id IN ({','.join('?' * len(ids))})", ids)}
                    if ranked is not None:  # tantivy's hits that FTS5 matches too (the one word list: see _ranked)
                        matched = {i for (i,) in self.db.execute(
                            f"SELECT rowid FROM texts WHERE texts MATCH ? AND rowid IN ({','.join('?' * len(ids))})",
                            [query, *ids])}
                        found = [(rowid, score) for rowid, score in found if rowid in matched and rowid in docs]
                        if kind and type:
                            found = [(rowid, score) for rowid, score in found if docs[rowid][1] == kind]
                    for rowid, score in found:
                        node, of_kind, txt = docs[rowid]
                        if node not in best and (store is None or stated(store, node, of_kind, txt)):
                            best[node] = (rowid, score)
                    if len(ids) < batch:
                        break
                    offset, batch = offset + batch, batch * 4
                return [self._hit(node, rowid, score, query) for node, (rowid, score) in list(best.items())[:limit]]
        except sqlite3.OperationalError as e:
            raise UsageError(f"cannot search for {text!r} ({e})") from None

    def _ranked(self, text: str, query: str, kind: str | None,
                type: str | None) -> Callable[[int, int], list[tuple[int, float]] | None] | None:
        """The best rows from the ranker (ranker.py), as the FTS5 statement gives them (id, score: lower is
        better, best first), or None: FTS5 ranks.  Only while the ranker follows the index, for words without
        a prefix, and when it matches as many rows as FTS5 does (its tokens are FTS5's: every hit is checked
        against FTS5 too; the count catches a text whose words the two read differently)."""
        ranker = self.ranker
        words = _WORD.findall(text)
        if ranker is None or any(w.endswith("*") for w in words):
            return None
        try:
            if not ranker.current(self._generation()):
                return None
            q = ranker.query(words, kind, type)
            if q is None or ranker.count(words) != self.db.execute(
                    "SELECT count(*) FROM texts WHERE texts MATCH ?", (query,)).fetchone()[0]:
                return None
        except (OSError, ValueError) as e:
            log.warning("%s: the ranking index cannot be read (%s); search ranks with FTS5", self.path, e)
            return None

        def fetch(limit: int, offset: int) -> list[tuple[int, float]] | None:
            try:
                rows = ranker.top(q, limit, offset)
            except (OSError, ValueError) as e:
                log.warning("%s: the ranking index cannot be read (%s); search ranks with FTS5", self.path, e)
                return None
            return sorted(((i, -score) for i, score in rows), key=lambda r: (r[1], r[0]))

        return fetch

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


def stated(store: Any, node: str, kind: str, text: str) -> bool:
    """Whether a current page of the store states this text of this node (the default graph is their union;
    a "link": that the fact ``node`` is from the source ``text``)."""
    import pyoxigraph as ox

    if kind == "link":
        return any(True for _ in store.db.quads_for_pattern(
            ox.NamedNode(node), _term(_FROM_SOURCE), ox.NamedNode(text), ox.DefaultGraph()))
    if kind == "about":  # a relation the fact supports has the entity as its subject or object
        entity = ox.NamedNode(text)
        return any(True for q in store.db.quads_for_pattern(None, _term(_SUPPORTED_BY), ox.NamedNode(node), ox.DefaultGraph())
                   for end in _ENDS for _ in store.db.quads_for_pattern(q.subject, _term(end), entity, ox.DefaultGraph()))
    return any(q.object.value == text for q in store.db.quads_for_pattern(
        ox.NamedNode(node), _term(_TEXT_OF[kind]), None, ox.DefaultGraph()))


@functools.lru_cache(maxsize=None)
def _term(iri: str) -> Any:
    """A pyoxigraph NamedNode, made once (this module is imported by commands that never search)."""
    import pyoxigraph as ox

    return ox.NamedNode(iri)
