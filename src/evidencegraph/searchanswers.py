"""The SQL of the named questions facts-mentioning and connected-via-source over the search index.

A part of :class:`search.SearchIndex` (which writes the index and keeps its one connection and lock): its
rows for the two questions, each read in one snapshot with the mark "exact", or None when the index cannot
answer alone (indexanswers.py makes the questions' answers from these rows, or runs their SPARQL).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from .guard import LazyLog

if TYPE_CHECKING:
    import threading
    from pathlib import Path

log = LazyLog("evidencegraph.search")  # (the index's one logger: its warnings read as the index's)


class IndexAnswers:
    """The questions' reads; :class:`search.SearchIndex` gives the connection, its lock and the marks."""

    if TYPE_CHECKING:
        db: sqlite3.Connection
        lock: threading.RLock
        path: Path

        def _exact(self, links: bool = False) -> bool: ...

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

    def facts_mentioning(self, type_word: str, word: str) -> list[tuple[str, str, str]] | None:
        """The rows (fact, text, source title) of the question facts-mentioning, ordered by text, read from the
        index alone; None when the index is not :attr:`exact`.  Its facts are those of :meth:`facts_containing`,
        the sources' titles are the index's source texts: the .rq's rows (indexanswers.py makes the answer)."""
        return self._rows_alone("facts-mentioning", _MENTIONING, (type_word, word.lower()))

    def connected_via_source(self, label: str) -> list[tuple[str, str, int]] | None:
        """The rows (other entity's label, source title, facts) of the question connected-via-source for the
        entity labelled ``label``, in its order, read from the index alone; None when it is not :attr:`exact`.
        The index's entities and sources are the nodes typed eg:Entity and eg:Source (what the shapes ask of
        a relation's subject and object and of a fact's source)."""
        return self._rows_alone("connected-via-source", _CONNECTED, (label,), links=True)

    def _rows_alone(self, question: str, sql: str, params: tuple[str, ...], links: bool = False) -> list[Any] | None:
        """The rows of ``sql``, or None when the index is not exact (see ``SearchIndex._exact``) or cannot be read
        (the question's SPARQL answers instead).  The mark and the rows from one snapshot: a write in another
        process is either all there (and the mark back) or not begun."""
        with self.lock:
            try:
                self.db.execute("BEGIN")
                try:
                    if not self._exact(links=links):
                        return None
                    rows: list[Any] = self.db.execute(sql, params).fetchall()
                finally:
                    self.db.execute("COMMIT")
            except sqlite3.Error as e:
                log.warning("%s: the search index cannot answer %s (%s)", self.path, question, e)
                return None
        return rows


# connected-via-source: the entity's sources (through the facts of its relations), their facts, the other
# entities those facts are about; each step materialised and distinct, as the .rq's steps
_CONNECTED = """
WITH e AS MATERIALIZED (SELECT DISTINCT n.id AS node FROM docs d JOIN nodes n ON n.iri = d.node
                        WHERE d.kind = 'entity' AND d.text = ?1),
     s AS MATERIALIZED (SELECT DISTINCT e.node AS e, l.source FROM e JOIN about a ON a.entity = e.node
                        JOIN links l ON l.fact = a.fact WHERE l.source != e.node),
     f AS MATERIALIZED (SELECT DISTINCT s.e, s.source, l.fact, a.entity AS o FROM s
                        JOIN links l ON l.source = s.source JOIN about a ON a.fact = l.fact WHERE a.entity != s.e)
SELECT o.text, t.text, COUNT(DISTINCT f.fact) FROM f
CROSS JOIN nodes no ON no.id = f.o CROSS JOIN docs o ON o.node = no.iri AND +o.kind = 'entity'
CROSS JOIN nodes ns ON ns.id = f.source CROSS JOIN docs t ON t.node = ns.iri AND +t.kind = 'source'
GROUP BY o.text, t.text ORDER BY 3 DESC, 1, 2
"""  # CROSS JOIN and +kind: from f, each label and title by its node (SQLite's own plan scanned every pair of them)

# each step materialised: SQLite's own plan for the three-way join read every source's texts per fact (minutes)
_MENTIONING = """
WITH f AS MATERIALIZED (SELECT node, text FROM docs WHERE kind = 'fact' AND type = ? AND instr(ltext, ?) > 0),
     l AS MATERIALIZED (SELECT f.node, f.text, s.iri AS source FROM f CROSS JOIN nodes n ON n.iri = f.node
                        CROSS JOIN links ON links.fact = n.id CROSS JOIN nodes s ON s.id = links.source)
SELECT DISTINCT l.node, l.text, t.text FROM l JOIN docs t ON t.node = l.source AND t.kind = 'source'
ORDER BY 2, 1, 3
"""
