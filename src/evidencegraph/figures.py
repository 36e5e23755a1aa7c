"""Store-level figures, kept up to date by the store's writes (store format 3).

The whole-store rankings (top-entities, publishers, facts-by-type) would
otherwise count over every relation, source or fact at each question.  The
store keeps their figures where the questions read them, in the default
graph: an embedded store writes them there (beside the union of the pages;
exports leave them out), a remote store into the named graph
``eg:storeFigures``, which the server's union default graph shows:

- per entity: ``eg:relationCount`` and ``eg:supportingFactCount`` (distinct
  relations it is the subject or object of, distinct facts that back them);
- per fact type: ``eg:factCount`` (distinct facts of that type);
- per (domain, publisher) of the sources: an ``eg:PublisherFigure`` node
  ``eg:storeFigures/publisher/…`` with ``eg:figureDomain``,
  ``eg:figurePublisher`` ("" when the sources print none),
  ``eg:sourceCount`` and ``eg:factCount``.

A write touches some keys: the entities, fact types and sources' (domain, publisher) of the
pages it writes or removes (read from the page graphs, before a removal and
after a write).  At the end of a write (``Store.flush``), the figures of the
touched keys are counted again from the merged graph and replaced; when a
write touched most of the store (a bulk ingest), all of them are counted in
one pass.  The figures are exact after every write, through replace, remove
and revisions, because they are counted, not incremented.  A local store
marks the figures pending on disk before a write and clears the mark after
them: a process killed in between leaves the mark, and the next writer counts
everything again.  Every query here is portable SPARQL 1.1 (a remote store
runs them too) and safe on a default graph that repeats a triple per page.
"""

from __future__ import annotations

import re
TYPE_CHECKING = False  # (typing is not imported at run time: `query` starts faster without it)
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Sequence, TypeVar

import pyoxigraph as ox

from .errors import QueryError, StoreError
from .guard import LazyLog, one_line

if TYPE_CHECKING:  # (not imported from store.py: that imports this module)
    Store = Any

EG = "https://w3id.org/evidencegraph#"
FIGURES_GRAPH = EG + "storeFigures"
NODES = FIGURES_GRAPH + "/"  # the publisher figures' nodes
PREDICATES = frozenset(EG + n for n in ("relationCount", "supportingFactCount", "factCount", "sourceCount",
                                         "figureDomain", "figurePublisher"))
ALL = 2_000  # touched keys of one kind beyond which every figure of that kind is counted again
BULK_PAGES = 2_000  # pages written in one go beyond which the store figures are all counted again (a bulk load)
FIGURES_PENDING = "figures-pending"  # in a store folder: written before a write, removed once the figures follow it
log = LazyLog(__name__)
_P = f"PREFIX eg: <{EG}> "
if TYPE_CHECKING:
    T = TypeVar("T")
    K = TypeVar("K")


def is_figure(q: ox.Quad | ox.Triple) -> bool:
    """A store figure, not a page's triple."""
    return q.predicate.value in PREDICATES or (isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(NODES))


def figure_count(store: "Store") -> int:
    """The store figures' triples in an embedded store's default graph (a count per predicate: index ranges)."""
    patterns = [f"?s <{p}> ?o" for p in sorted(PREDICATES)] + ["?s a eg:PublisherFigure"]
    n = 0
    for pattern in patterns:
        for row in store.query(_P + f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"):
            n += int(row[0].value)
    return n


class Touched:
    """Keys whose figures a write may have changed."""

    def __init__(self) -> None:
        self.entities: set[str] = set()
        self.types: set[str] = set()
        self.publishers: set[tuple[str, str]] = set()  # (domain, publisher), "" for none printed
        self.everything = False

    def __bool__(self) -> bool:
        return self.everything or bool(self.entities or self.types or self.publishers)

    def update(self, other: "Touched") -> None:
        self.entities |= other.entities
        self.types |= other.types
        self.publishers |= other.publishers
        self.everything |= other.everything

    def clear(self) -> None:
        self.entities.clear()
        self.types.clear()
        self.publishers.clear()
        self.everything = False


def _values(var: str, iris: Iterable[str]) -> str:
    return f"VALUES ?{var} {{ {' '.join(f'<{i}>' for i in sorted(iris))} }}"


def _literal(text: str) -> str:
    return str(ox.Literal(text))


class FigureBook:
    """The store figures' bookkeeping, for the embedded store and the remote one: the keys the writes
    since the last count touched (``_touch``), and counting them again (``update_figures``: at flush
    and close, and after a replace or a remove)."""

    read_only: bool
    location: str
    _figures_graph: str | None = None  # the default graph (a store folder) or a named graph (a server)
    _touched: Touched
    _touched_pages: int

    def figures_stale(self) -> None:
        """A write is about to change pages (a store folder marks it, against a crash in between)."""

    def _figures_counted(self) -> None:
        """The figures follow the pages again (a store folder makes that durable and drops its mark)."""

    def _run_updates(self, updates: Sequence[str]) -> None:
        raise NotImplementedError

    def _touch(self, graphs: Sequence[str], everything: bool = False) -> None:
        """Note the keys whose figures the page graphs ``graphs`` bear on (before a removal, after a write);
        ``everything``: they bear on every key (the store had no other pages)."""
        if not graphs:
            return
        self._touched_pages += len(graphs)
        if everything or self._touched.everything or self._touched_pages > BULK_PAGES:  # count all once, at the end
            self._touched.everything = True
            return
        self._touched.update(touched_by(self, graphs))

    def pages_changed(self, graphs: Sequence[str] | None) -> None:
        """Page graphs were written outside the store's methods (a Graph Store POST adds to one; None: a
        SPARQL Update, which may have changed any): count their figures again now."""
        self.figures_stale()
        if graphs is None:
            self._touched.everything = True
        else:
            self._touch(list(graphs))
        self.update_figures()

    def update_figures(self) -> None:
        """Count again the figures of what the writes since the last call touched.

        The pages are written by then: a failure here is a warning, and (on a store folder) the
        figures stay marked pending, to be counted again when the store is next opened for writing.
        """
        if self.read_only or not self._touched:
            return
        try:
            self._run_updates(refresh(self, self._touched, self._figures_graph))
        except (QueryError, StoreError, RuntimeError, OSError, ValueError, SyntaxError) as e:
            log.warning("the store figures could not be counted (%s); the questions that read them may be "
                        "stale until the next write to %s", one_line(e, 200), self.location)
            self._touched.everything = True  # what this count missed: the next count is of everything
            return
        self._touched.clear()
        self._touched_pages = 0
        self._figures_counted()


_PENDING = f"<{FIGURES_GRAPH}> <{EG}figuresPending>"  # + a writer's mark: its pages written, its figures to follow


class RemoteFigureBook(FigureBook):
    """A remote store's pending marks: no folder to mark, so each writer leaves its own mark in the
    figures' graph before each write (``_rows`` and ``_update`` are the store's requests)."""

    def _rows(self, sparql: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _update(self, sparql: str) -> None:
        raise NotImplementedError

    def _start_marks(self) -> None:
        import time
        import uuid

        self._mark = f'"{uuid.uuid4()} {time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}"'  # this writer's
        self._marked = False  # this writer's pending mark (_PENDING) is on the server
        self._seen: list[str] | None = None  # the marks other writers left, once looked for

    def _resume(self) -> None:
        """Marks that other writers left (one that died before its figures, or one still writing): this
        writer counts every figure, and removes those marks once it has."""
        if self._seen is None:
            self._seen = [str(row["m"]) for row in self._rows(f"SELECT ?m WHERE {{ GRAPH <{FIGURES_GRAPH}> {{ {_PENDING} ?m }} }}")
                          if str(row["m"]) != self._mark]
            if self._seen:
                self._touched.everything = True

    def figures_stale(self) -> None:
        """Before each write: this writer's mark in the figures' graph (set again each time: another writer's
        full count may have removed it), removed once the figures follow the pages."""
        self._resume()
        try:
            self._update(f"INSERT DATA {{ GRAPH <{FIGURES_GRAPH}> {{ {_PENDING} {self._mark} }} }}")
            self._marked = True
        except StoreError as e:  # (a server that takes Graph Store writes and refuses updates: the figures cannot follow)
            if not self._marked:
                log.warning("the store figures' pending mark could not be set on %s (%s)", self.location, one_line(e, 200))

    def update_figures(self) -> None:
        self._resume()  # (a re-run that writes nothing still counts what a died write left)
        super().update_figures()

    def _figures_counted(self) -> None:
        marks = ([self._mark] if self._marked else []) + (self._seen or [])
        if marks:
            self._update(f"DELETE DATA {{ GRAPH <{FIGURES_GRAPH}> {{ {' '.join(f'{_PENDING} {m} .' for m in marks)} }} }}")
        self._marked, self._seen = False, []


def touched_by(store: "Store", graphs: Iterable[str]) -> Touched:
    """The keys that the page graphs ``graphs`` bear on (their sources' domains and publishers as the
    merged graph has them)."""
    out = Touched()
    for part in _chunks(set(graphs)):
        g = _values("g", part)
        # IRIs only: data loaded from RDF may put a literal or a blank node where a page has an IRI
        out.entities |= _every(store, "e", f"{g} GRAPH ?g {{ ?r ?p ?e }} FILTER (?p IN (eg:subject, eg:object) && isIRI(?e))")
        out.types |= _every(store, "t", f"{g} GRAPH ?g {{ ?f eg:factType ?t }} FILTER (isIRI(?t))")
        sources: set[str] = set()
        for pattern in ("?s a eg:Source", "?f eg:fromSource ?s", "?s eg:publisher ?x", "?s eg:domain ?x"):
            # each on its own (RDF from elsewhere may leave out a type): Oxigraph would run a UNION's
            # branches over every graph before the VALUES
            sources |= _every(store, "s", f"{g} GRAPH ?g {{ {pattern} }} FILTER (isIRI(?s))")
        out.publishers |= _keys_of(store, sources)
    return out


def _keys_of(store: "Store", sources: set[str] | None) -> set[tuple[str, str]]:
    """The (domain, publisher) keys of these sources (None: of every source), "" where none is printed."""
    domains: dict[str, set[str]] = {}
    publishers: dict[str, set[str]] = {}
    parts = [None] if sources is None else list(_chunks(sources))
    for part in parts:
        head = "?s a eg:Source FILTER (isIRI(?s))" if part is None else _values("s", part)
        for found, prop in ((domains, "domain"), (publishers, "publisher")):
            for s_, v in _every_pair(store, f"{head} . ?s eg:{prop} ?v"):
                found.setdefault(s_, set()).add(v)
        if part is None:
            part = sorted(_every(store, "s", head))
        for s_ in part:
            domains.setdefault(s_, set())
            publishers.setdefault(s_, set())
    keys = {(d, p) for s_ in domains for d in (domains[s_] or {""}) for p in (publishers[s_] or {""})}
    # and each domain's "no publisher" key: a source's publisher is not part of its IRI, so a page may add
    # or take away the publisher of a source another page prints without one (its domain is: it stays)
    return keys | {(d, "") for s_ in domains for d in (domains[s_] or {""})}


def _in_parts(store: "Store", keys: list[K], run: Callable[[list[K]], list[T]]) -> list[T]:
    """``run(keys)``, in halves while a remote store's row cap may have cut the answer."""
    try:
        return run(keys)
    except StoreError:
        if store.db_is_local or len(keys) <= 1:
            raise
        half = len(keys) // 2
        return _in_parts(store, keys[:half], run) + _in_parts(store, keys[half:], run)


def _rows(store: "Store", names: str, where: str) -> set[tuple[str, ...]]:
    """The distinct rows of ``names`` (e.g. "?s ?v"), as term values; a remote store's answer is read
    in parts that are provably whole."""
    if not store.db_is_local:
        where = re.sub(r"\beg:(\w+)", lambda m: f"<{EG}{m.group(1)}>", where)  # no PREFIX where it goes
        first = names.split()[0]
        found = store._select_all(names, where, f"STR({first})", distinct=True)
    else:
        found = store.query(_P + f"SELECT DISTINCT {names} WHERE {{ {where} }}")
    return {tuple(term.value for term in row) for row in found if all(term is not None for term in row)}


def _every(store: "Store", var: str, where: str) -> set[str]:
    """Every value of ?var."""
    return {value for (value,) in _rows(store, f"?{var}", where)}


def _every_pair(store: "Store", where: str) -> set[tuple[str, str]]:
    """Every distinct (?s, ?v)."""
    return {(s, v) for s, v in _rows(store, "?s ?v", where)}


def _chunks(keys: set[str], n: int = 500) -> Iterable[list[str]]:
    ordered = sorted(keys)
    for i in range(0, len(ordered), n):
        yield ordered[i : i + n]


def _entity_rows(store: "Store", entities: set[str]) -> list[tuple[str, int, int]]:
    """(entity, relations, facts); two counts, each one pattern of index look-ups (an OPTIONAL would be
    evaluated over every relation of the store and joined after)."""
    def run(part: list[str]) -> list[tuple[str, int, int]]:
        head = f"{_values('e', part)} ?r ?p ?e FILTER (?p IN (eg:subject, eg:object))"
        relations = {row[0].value: int(row[1].value) for row in store.query(
            _P + f"SELECT ?e (COUNT(DISTINCT ?r) AS ?n) WHERE {{ {head} }} GROUP BY ?e") if isinstance(row[0], ox.NamedNode)}
        facts = {row[0].value: int(row[1].value) for row in store.query(
            _P + f"SELECT ?e (COUNT(DISTINCT ?f) AS ?n) WHERE {{ {head} ?r eg:supportedBy ?f }} GROUP BY ?e")}
        return [(e, n, facts.get(e, 0)) for e, n in relations.items()]

    return [row for part in _chunks(entities) for row in _in_parts(store, part, run)]


def _type_rows(store: "Store", types: set[str]) -> list[tuple[str, int]]:
    rows = []
    for t in sorted(types):  # one count per type: an index range each, where a GROUP BY decodes every fact
        for row in store.query(_P + f"SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{ ?f eg:factType <{t}> }}"):
            if int(row[0].value):
                rows.append((t, int(row[0].value)))
    return rows


def _publisher_rows(store: "Store", keys: set[tuple[str, str]]) -> list[tuple[str, str, int, int]]:
    """(domain, publisher, sources, facts) of each key, counted over the sources of that key only."""
    def rows(where: str, after: str = "") -> list[tuple[str, str, int, int]]:
        # the facts joined inside the same group of patterns as the sources (a FILTER or BIND before
        # them would make Oxigraph evaluate them apart, over every fact of the store)
        q = (_P + f"SELECT ?d ?p (COUNT(DISTINCT ?s) AS ?sources) (COUNT(DISTINCT ?f) AS ?facts) WHERE {{ {where} "
             f"?f eg:fromSource ?s . {after} }} GROUP BY ?d ?p")
        return [(row[0].value, row[1].value, int(row[2].value), int(row[3].value)) for row in store.query(q)]

    def pairs(part: list[tuple[str, str]]) -> str:
        return " ".join(f"({_literal(d)} {_literal(p)})" for d, p in part)

    out: list[tuple[str, str, int, int]] = []
    both = sorted((d, p) for d, p in keys if d and p)
    for i in range(0, len(both), 200):
        out += _in_parts(store, both[i : i + 200],
                         lambda part: rows(f"VALUES (?d ?p) {{ {pairs(part)} }} ?s eg:publisher ?p ; eg:domain ?d ."))
    no_domain, no_publisher = "FILTER NOT EXISTS { ?s eg:domain ?any }", "FILTER NOT EXISTS { ?s eg:publisher ?any }"
    for d, p in sorted(k for k in keys if not (k[0] and k[1])):  # sources that print no domain or no publisher
        if d:
            out += rows(f"VALUES ?d {{ {_literal(d)} }} ?s eg:domain ?d .", f'{no_publisher} BIND ("" AS ?p)')
        elif p:
            out += rows(f"VALUES ?p {{ {_literal(p)} }} ?s eg:publisher ?p .", f'{no_domain} BIND ("" AS ?d)')
        else:
            out += rows("?s a eg:Source .", f'{no_domain} {no_publisher} BIND ("" AS ?d) BIND ("" AS ?p)')
    return out


def _all_publisher_rows(store: "Store") -> list[tuple[str, str, int, int]]:
    """Every key's (domain, publisher, sources, facts) in one pass over the facts' sources: the rows of
    :func:`_publisher_rows` for every key ("" where a source prints none), for a full count on a store folder.
    At 100k pages 14 s, where finding the keys and counting them one by one took 30 s (benchmarks/RESULTS.md)."""
    # values matched as plain strings, as _publisher_rows's VALUES match them (a tagged or typed value, or an
    # IRI, is counted under no key); a source that prints neither counts when it is typed a source.  (The keys
    # of untyped sources are counted too, as touched_by finds them for a later write; _keys_of(store, None)
    # did not.)
    plain = "(isLiteral(?{0}) && datatype(?{0}) = <http://www.w3.org/2001/XMLSchema#string>)"
    q = (_P + "SELECT ?d ?p (COUNT(DISTINCT ?s) AS ?sources) (COUNT(DISTINCT ?f) AS ?facts) WHERE { "
         "?f eg:fromSource ?s . OPTIONAL { ?s eg:domain ?d } OPTIONAL { ?s eg:publisher ?p } "
         f"FILTER ((!BOUND(?d) || {plain.format('d')}) && (!BOUND(?p) || {plain.format('p')})) "
         "FILTER (BOUND(?d) || BOUND(?p) || EXISTS { ?s a eg:Source }) } GROUP BY ?d ?p")
    return [(row[0].value if row[0] is not None else "", row[1].value if row[1] is not None else "",
             int(row[2].value), int(row[3].value)) for row in store.query(q)]


def _publisher_node(domain: str, publisher: str) -> str:
    import hashlib

    digest = hashlib.sha1(f"{domain}\x00{publisher}".encode("utf-8")).hexdigest()[:16]
    return f"{NODES}publisher/{digest}"


def refresh(store: "Store", touched: Touched, graph: str | None = None) -> list[str]:
    """The SPARQL Updates that replace the figures of the touched keys (all of them, for ``everything``),
    in the default graph or in the named graph ``graph``."""
    def inside(pattern: str) -> str:
        return f"GRAPH <{graph}> {{ {pattern} }}" if graph else pattern

    def delete(pattern: str, values: str = "") -> str:
        return f"{_P}DELETE {{ {inside(pattern)} }} WHERE {{ {values} {inside(pattern)} }}"

    every = touched.everything
    entities = None if every or len(touched.entities) > ALL else touched.entities
    types = None if every or len(touched.types) > ALL else touched.types
    publishers = None if every or len(touched.publishers) > ALL else set(touched.publishers)
    deletes, inserts = [], []
    i = f"<{EG}"
    entity = "?e eg:relationCount ?n ; eg:supportingFactCount ?m"
    if entities is None:
        deletes.append(delete(entity))
        entities = _every(store, "e", "{ ?r eg:subject ?e } UNION { ?r eg:object ?e } FILTER (isIRI(?e))")
    elif entities:
        deletes.append(delete(entity, _values("e", entities)))
    for e, nr, nf in _entity_rows(store, entities):
        inserts.append(f"<{e}> {i}relationCount> {nr} ; {i}supportingFactCount> {nf} .")
    if types is None:
        deletes.append(f"{_P}DELETE {{ {inside('?t eg:factCount ?n')} }} WHERE {{ "
                       f"{inside('?t eg:factCount ?n FILTER NOT EXISTS { ?t a eg:PublisherFigure }')} }}")
        types = _every(store, "t", "?f eg:factType ?t FILTER (isIRI(?t))")
    elif types:
        deletes.append(delete("?t eg:factCount ?n", _values("t", types)))
    for t, n in _type_rows(store, types):
        inserts.append(f"<{t}> {i}factCount> {n} .")
    shape = ("?n a eg:PublisherFigure ; eg:figureDomain ?d ; eg:figurePublisher ?p ; eg:sourceCount ?s ; "
             "eg:factCount ?f")
    if publishers is None and store.db_is_local:  # (a remote store's answers are capped: key by key, in parts)
        deletes.append(delete(shape))
        rows = _all_publisher_rows(store)
    else:
        if publishers is None:
            deletes.append(delete(shape))
            publishers = _keys_of(store, None)
        elif publishers:
            deletes.append(delete(shape, _values("n", (_publisher_node(d, p) for d, p in publishers))))
        rows = _publisher_rows(store, publishers)
    for d, p, ns, nf in rows:
        inserts.append(f"<{_publisher_node(d, p)}> a {i}PublisherFigure> ; {i}figureDomain> {_literal(d)} ; "
                       f"{i}figurePublisher> {_literal(p)} ; {i}sourceCount> {ns} ; {i}factCount> {nf} .")
    updates = deletes
    step = 5_000 if graph is None else 300  # a remote store: at most ~1,500 triples a request (UPDATE_TRIPLES)
    for k in range(0, len(inserts), step):
        updates.append(f"INSERT DATA {{ {inside(' '.join(inserts[k : k + step]))} }}")
    return updates


def one_request(updates: Iterable[str]) -> str:
    """The updates as one SPARQL Update request, so one transaction: the prologue once, then each operation."""
    return _P + " ;\n".join(u.removeprefix(_P) for u in updates)


def rows_of(store: "Store") -> dict[str, Any]:
    """The store figures as plain values, read where the questions read them (for tests)."""
    out: dict[str, Any] = {}
    q = _P + "SELECT DISTINCT ?e ?n ?m WHERE { ?e eg:relationCount ?n ; eg:supportingFactCount ?m }"
    out["entities"] = {r[0].value: (int(r[1].value), int(r[2].value)) for r in store.query(q)}
    q = _P + "SELECT DISTINCT ?t ?n WHERE { ?t eg:factCount ?n FILTER NOT EXISTS { ?t a eg:PublisherFigure } }"
    out["types"] = {r[0].value: int(r[1].value) for r in store.query(q)}
    q = _P + ("SELECT DISTINCT ?d ?p ?s ?f WHERE { ?n a eg:PublisherFigure ; eg:figureDomain ?d ; eg:figurePublisher ?p ; "
              "eg:sourceCount ?s ; eg:factCount ?f }")
    out["publishers"] = {(r[0].value, r[1].value): (int(r[2].value), int(r[3].value)) for r in store.query(q)}
    return out
