"""Page revisions, kept beside the store (``revisions.sqlite``), outside the SPARQL dataset.

A page ingested again with other content becomes its current revision: the
store's default graph and the page's named graph hold only that one.  The
earlier revisions are kept here, with their page graphs as compressed
N-Quads, so that no answer about the current corpus changes because of them,
while ``history`` and ``diff`` can still show them.

One row per (page, checksum): when it was ingested, from which file, and,
once it is no longer current, its graph.  Writing the same revision twice is
a no-op, so an interrupted ingest that is run again converges.
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

FILE = "revisions.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS revisions (
    page TEXT NOT NULL,
    checksum TEXT NOT NULL,
    ingested TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_path TEXT NOT NULL,
    current INTEGER NOT NULL,
    quads BLOB,
    PRIMARY KEY (page, checksum)
);
CREATE INDEX IF NOT EXISTS revisions_current ON revisions (page, current);
"""


@dataclass(frozen=True)
class Revision:
    """One revision of a page; ``number`` counts from 1 in the order they were ingested."""

    page: str
    number: int
    checksum: str
    ingested: str
    file_name: str
    file_path: str
    current: bool


@dataclass(frozen=True)
class NewRevision:
    """What a write tells the history about one page graph."""

    page: str
    checksum: str
    file_name: str
    file_path: str
    quads: bytes = b""  # N-Quads, for a revision kept only as history


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class History:
    """The revisions of the pages of one store."""

    def __init__(self, folder: Path, read_only: bool = False):
        path = folder / FILE
        # ingest writes from its store-writer thread and reads from its main one: one connection, one lock
        self.lock = threading.RLock()
        if read_only:
            self.db = (sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False) if path.exists()
                       else sqlite3.connect(":memory:", check_same_thread=False))
            if not path.exists():
                self.db.executescript(_SCHEMA)
        else:
            self.db = sqlite3.connect(path, check_same_thread=False)
            self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def record_current(self, revisions: Sequence[NewRevision]) -> None:
        """These revisions are now the current ones of their pages (their graphs are in the store)."""
        stamp = now()
        with self.lock, self.db:
            self.db.executemany(
                "UPDATE revisions SET current = 0 WHERE page = ? AND checksum != ?",
                [(r.page, r.checksum) for r in revisions],
            )
            self.db.executemany(
                "INSERT INTO revisions (page, checksum, ingested, file_name, file_path, current) VALUES (?, ?, ?, ?, ?, 1) "
                "ON CONFLICT (page, checksum) DO UPDATE SET current = 1, ingested = excluded.ingested, "
                "file_name = excluded.file_name, file_path = excluded.file_path",
                [(r.page, r.checksum, stamp, r.file_name, r.file_path) for r in revisions],
            )

    def archive(self, page: str, checksum: str, quads: bytes, file_name: str = "", file_path: str = "") -> None:
        """Keep a revision's graph as history (it is, or is about to be, no longer current)."""
        blob = zlib.compress(quads, 6)
        with self.lock, self.db:
            self.db.execute(
                "INSERT INTO revisions (page, checksum, ingested, file_name, file_path, current, quads) "
                "VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (page, checksum) DO UPDATE SET current = 0, quads = excluded.quads",
                (page, checksum, now(), file_name, file_path, blob),
            )

    def forget_current(self, pages: Iterable[str]) -> None:
        """Pages rolled back by a recovery: their current rows were never really written."""
        with self.lock, self.db:
            self.db.executemany("DELETE FROM revisions WHERE page = ? AND current = 1 AND quads IS NULL",
                                [(p,) for p in pages])

    def revisions(self, page: str) -> list[Revision]:
        with self.lock:
            rows = self.db.execute(
                "SELECT checksum, ingested, file_name, file_path, current FROM revisions WHERE page = ? "
                "ORDER BY ingested, rowid", (page,),
            ).fetchall()
        return [Revision(page, i, c, t, n, p, bool(cur)) for i, (c, t, n, p, cur) in enumerate(rows, 1)]

    def quads(self, page: str, checksum: str) -> bytes | None:
        """An archived revision's N-Quads, or None (the current revision's graph is in the store)."""
        with self.lock:
            row = self.db.execute("SELECT quads FROM revisions WHERE page = ? AND checksum = ?", (page, checksum)).fetchone()
        return zlib.decompress(row[0]) if row and row[0] is not None else None

    def pages_with_history(self) -> Iterator[str]:
        with self.lock:
            pages = self.db.execute("SELECT page FROM revisions GROUP BY page HAVING COUNT(*) > 1 ORDER BY page").fetchall()
        for (page,) in pages:
            yield page

    def pages_named(self, name: str) -> set[str]:
        """The pages one of whose revisions came from a file of this name."""
        with self.lock:
            return {p for (p,) in self.db.execute("SELECT DISTINCT page FROM revisions WHERE file_name = ?", (name,))}

    def paths(self) -> dict[str, str]:
        """The file path of each page's current revision."""
        with self.lock:
            return dict(self.db.execute("SELECT file_path, page FROM revisions WHERE current = 1"))


# --- what changed between two revisions of a page ------------------------------------------

EG = "https://w3id.org/evidencegraph#"
_TITLE = "http://purl.org/dc/terms/title"
_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"


@dataclass
class PageView:
    """What a diff compares in one revision of a page."""

    facts: dict[str, tuple[str, str]]  # fact IRI -> (type word, text)
    listed_under: dict[str, str]  # fact IRI -> the source IRI the page lists it under
    stances: dict[str, str]  # fact IRI -> stance
    sources: dict[str, str]  # source IRI -> title
    relations: dict[str, dict[str, str]]  # relation IRI -> kind, score, strength, summary


def view(nquads: bytes) -> PageView:
    """Read one page graph (N-Quads) into what a diff compares."""
    import pyoxigraph as ox

    po: dict[str, dict[str, list[str]]] = {}
    for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        po.setdefault(q.subject.value, {}).setdefault(q.predicate.value, []).append(q.object.value)

    def one(s: str, p: str) -> str:
        v = po.get(s, {}).get(p)
        return v[0] if v else ""

    v = PageView({}, {}, {}, {}, {})
    for s, props in po.items():
        for listing in props.get(EG + "factListing", ()):
            fact = one(listing, EG + "listsFact")
            ftype = one(fact, EG + "factType")
            word = one(ftype, _PREF) or ftype.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            v.facts[fact] = (word, one(fact, EG + "text"))
            source = one(s, EG + "listsSource")
            v.listed_under[fact] = source
            v.sources[source] = one(source, _TITLE)
            stance = one(listing, EG + "stance") or one(fact, EG + "stance")
            if stance:
                v.stances[fact] = stance
        for source in props.get(EG + "listsSource", ()):
            v.sources[source] = one(source, _TITLE)
        for rel in props.get(EG + "states", ()):
            v.relations[rel] = {
                "kind": one(rel, EG + "kind"),
                "score": one(s, EG + "scoreText") or one(rel, EG + "score"),
                "strength": one(rel, EG + "strength"),
                "summary": one(rel, EG + "summary"),
            }
    return v


def diff_views(a: PageView, b: PageView) -> dict[str, list[dict[str, str]]]:
    """Facts and sources added and removed, facts listed under another source, stance changes,
    and relations' score, strength and summary changes, from ``a`` to ``b``."""
    def fact(iri: str, v: PageView) -> dict[str, str]:
        return {"fact": iri, "type": v.facts[iri][0], "text": v.facts[iri][1]}

    out: dict[str, list[dict[str, str]]] = {
        "facts_added": [fact(f, b) for f in sorted(b.facts.keys() - a.facts.keys(), key=lambda f: b.facts[f])],
        "facts_removed": [fact(f, a) for f in sorted(a.facts.keys() - b.facts.keys(), key=lambda f: a.facts[f])],
        "sources_added": [{"source": s, "title": b.sources[s]} for s in sorted(b.sources.keys() - a.sources.keys())],
        "sources_removed": [{"source": s, "title": a.sources[s]} for s in sorted(a.sources.keys() - b.sources.keys())],
        "listed_under": [], "stances": [], "relations": [],
    }
    for f in sorted(a.facts.keys() & b.facts.keys(), key=lambda f: b.facts[f]):
        if a.listed_under.get(f) != b.listed_under.get(f):
            out["listed_under"].append({**fact(f, b), "from": a.sources.get(a.listed_under.get(f, ""), ""),
                                        "to": b.sources.get(b.listed_under.get(f, ""), "")})
        if a.stances.get(f) != b.stances.get(f):
            out["stances"].append({**fact(f, b), "from": a.stances.get(f, ""), "to": b.stances.get(f, "")})
    for rel in sorted(a.relations.keys() | b.relations.keys()):
        ra, rb = a.relations.get(rel, {}), b.relations.get(rel, {})
        for key in ("score", "strength", "summary"):
            if ra.get(key, "") != rb.get(key, ""):
                out["relations"].append({"relation": rel, "kind": (rb or ra)["kind"], "field": key,
                                         "from": ra.get(key, ""), "to": rb.get(key, "")})
    return out
