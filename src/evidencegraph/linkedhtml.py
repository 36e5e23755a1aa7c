"""Linked data for people: the HTML page of a document (an entity, relation, fact, source, page, the
ontology), the pages list, and the page frame every HTML answer of ``evidencegraph serve`` shares.

The RDF a document says is linked.py's; :class:`Renderer` reads the store in the calling thread and
must run in one worker thread from start to end (pyoxigraph results stay in the thread that made them).
"""

from __future__ import annotations

import html
import re
from typing import Any, Callable

import pyoxigraph as ox

from . import __version__
from .linked import DEFAULT, exists, ontology_quads
from .resources import PREFIXES
from .vocab import NAMESPACE, ONTOLOGY

EG = NAMESPACE
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABELS = [
    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
    ox.NamedNode("http://purl.org/dc/terms/title"),
    ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
]
COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")

Linker = Callable[[str], "str | None"]  # an IRI -> the local path of its document, or None


# --- HTML -----------------------------------------------------------------------------

CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:74em;padding:1em 2em;color:#222;overflow-wrap:anywhere}
@media (max-width:40em){body{padding:.5em}}
a{color:#0645ad;text-decoration:none}a:hover{text-decoration:underline}
header{border-bottom:1px solid #ddd;margin-bottom:1em;padding-bottom:.4em}
header nav a{margin-right:1em}
h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.15em;margin-top:1.6em}
.iri{font-family:ui-monospace,monospace;font-size:.85em;color:#555;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:.5em 0;display:block;overflow-x:auto}
table thead,table tbody{width:100%}
#graph{height:460px;border:1px solid #ddd;border-radius:4px;margin:.5em 0}
.pager a,.pager span{margin-right:.8em}.filter input{width:20em;max-width:100%}
.note{background:#fff8e1;border-left:3px solid #e0b000;padding:.4em .8em}
button.example{margin:.2em .3em .2em 0}
.legend span{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin:0 .3em 0 .8em;vertical-align:middle}
th,td{border-bottom:1px solid #eee;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f6f6f6}
.num{text-align:right;white-space:nowrap}.muted{color:#777}
.formats a{margin-right:.7em;font-size:.9em}
blockquote{margin:.5em 0;padding:.5em 1em;background:#f8f8f4;border-left:3px solid #cc9}
textarea{width:100%;font-family:ui-monospace,monospace;font-size:.9em}
section.part{border-top:1px dashed #ddd;margin-top:.5em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1.2em;margin:.5em 0}
dt{color:#777}dd{margin:0}
li{margin:.3em 0}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def web_link(iri: str) -> str | None:
    """The IRI when a browser may follow it (http, https), else None.

    >>> web_link("https://example.org/x"), web_link(" JavaScript:alert(1)")
    ('https://example.org/x', None)
    """
    return iri if re.match(r"https?://", iri, re.IGNORECASE) else None


def page(title: str, body: str, iri: str | None = None, doc_path: str | None = None, head: str = "") -> str:
    formats = ""
    if doc_path:
        formats = '<p class="formats">this document as: ' + "".join(
            f'<a href="{esc(doc_path)}?format={n}">{label}</a>'
            for n, label in (("turtle", "Turtle"), ("jsonld", "JSON-LD"), ("nt", "N-Triples"), ("xml", "RDF/XML"))
        ) + "</p>"
    head_iri = f'<div class="iri">{esc(iri)}</div>' if iri else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f'<title>{esc(title)} · evidencegraph</title><link rel="icon" href="data:,"><style>{CSS}</style>{head}</head><body>'
        '<header><nav><a href="/">evidencegraph</a><a href="/doc/page/">pages</a><a href="/question/">questions</a>'
        '<a href="/ontology">ontology</a><a href="/.well-known/void">VoID</a><a href="/sparql">SPARQL service</a>'
        "</nav></header>"
        f"<h1>{esc(title)}</h1>{head_iri}{formats}{body}"
        f'<footer class="muted"><p>evidencegraph {esc(__version__)}</p></footer></body></html>\n'
    )


class Renderer:
    """HTML for one document, reading the store in the calling thread."""

    def __init__(self, db: Any, local: Linker):
        self.db = db
        self.local = local
        self._labels: dict[str, str] = {}
        self.params: dict[str, str] = {}
        self.doc_path = ""

    def offset(self, key: str) -> int:
        """A paging parameter of the request (``?from=``, ``?facts=``): a whole number, else 0."""
        try:
            return max(int(self.params.get(key, "0")), 0)
        except ValueError:
            return 0

    # -- terms

    def label(self, term: Any) -> str:
        if isinstance(term, ox.Literal):
            return term.value
        if isinstance(term, ox.BlankNode):
            return f"_:{term.value}"
        iri = term.value
        if iri in self._labels:
            return self._labels[iri]
        found = None
        for p in LABELS:
            for q in self.db.quads_for_pattern(term, p, None, DEFAULT):
                found = q.object.value
                break
            if found:
                break
        if found is None and iri.startswith(EG):
            found = iri[len(EG):]
        if found is None:
            found = self._label_of_kind(iri)
        self._labels[iri] = found
        return found

    def _label_of_kind(self, iri: str) -> str:
        """A name for an IRI without a label: a relation by its entities, a fact by its text, a page by its
        file, a page's part by the page and the part; else the IRI, prefixed when it can be."""
        types = self.types(iri)
        if EG + "Relation" in types:
            return self.relation_title(iri)
        if EG + "Fact" in types:
            text = self.value(iri, EG + "text")
            if text is not None:
                words = str(text.value)
                return words if len(words) <= 90 else words[:89] + "…"
        name = self.value(iri, EG + "fileName")
        if name is not None:
            return str(name.value)
        whole, sep, part = iri.partition("#")
        if sep and part and self.db.contains_named_graph(ox.NamedNode(whole)):
            return f"{self.label(ox.NamedNode(whole))} #{part}"
        return compact(iri)

    def link(self, term: Any, text: str | None = None) -> str:
        if isinstance(term, ox.Literal):
            dt = term.datatype.value
            extra = "" if dt.endswith("#string") or term.language else f' <span class="muted">({esc(compact(dt))})</span>'
            return esc(term.value) + extra
        if isinstance(term, ox.BlankNode):
            return esc(f"_:{term.value}")
        href = self.local(term.value) or web_link(term.value)
        shown = esc(text if text is not None else self.label(term))
        if href is None:  # javascript:, data:, … : shown, never followed
            return f'<span class="iri" title="{esc(term.value)}">{shown}</span>'
        return f'<a href="{esc(href)}" title="{esc(term.value)}">{shown}</a>'

    def values(self, subject: str, prop: str) -> list[Any]:
        return [q.object for q in self.db.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(prop), None, DEFAULT)]

    def value(self, subject: str, prop: str) -> Any:
        vals = self.values(subject, prop)
        return vals[0] if vals else None

    def types(self, iri: str) -> set[str]:
        return {q.object.value for q in self.db.quads_for_pattern(ox.NamedNode(iri), RDF_TYPE, None, DEFAULT)}

    def rows(self, sparql: str) -> list[dict[str, Any]]:
        results = self.db.query(sparql)
        names = [v.value for v in results.variables]
        return [{n: row[n] for n in names} for row in results]

    # -- tables

    def table(self, headers: list[str], rows: list[list[str]], empty: str = "none") -> str:
        if not rows:
            return f'<p class="muted">{esc(empty)}</p>'
        head = "".join(f"<th>{esc(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def properties(self, subject: Any, graph: Any = DEFAULT) -> str:
        rows = []
        for q in sorted(self.db.quads_for_pattern(subject, None, None, graph), key=lambda q: (q.predicate.value, str(q.object))):
            rows.append([self.link(q.predicate, compact(q.predicate.value)), self.link(q.object)])
        return self.table(["property", "value"], rows, "no statements")

    def incoming(self, node: ox.NamedNode, doc_path: str = "", start: int = 0, size: int = 100) -> str:
        """What points at the node, ``size`` at a time from ``start`` (``?from=N``), each by its label."""
        from itertools import islice

        quads = self.db.quads_for_pattern(None, None, node, DEFAULT)
        shown = list(islice(quads, start, start + size + 1))
        more = len(shown) > size
        rows = [[self.link(q.subject), self.link(q.predicate, compact(q.predicate.value))] for q in shown[:size]]
        links = []
        if start > 0:
            links.append(f'<a href="{esc(doc_path)}?from={max(start - size, 0)}">← previous</a>')
        if rows:
            links.append(f"<span>{start + 1:,}–{start + len(rows):,}{' of more' if more else ''}</span>")
        if more:
            links.append(f'<a href="{esc(doc_path)}?from={start + size}">next →</a>')
        nav = f'<p class="pager">{"".join(links)}</p>' if (start or more) else ""
        return nav + self.table(["from", "property"], rows, "nothing points here")

    # -- documents

    def document(self, iri: str, doc_path: str, params: dict[str, str] | None = None) -> str | None:
        """The HTML page for an IRI, or None when the store knows nothing of it (``params``: ``from``, the
        first of the things pointing here to show)."""
        if not exists(self.db, iri):
            return None
        self.params, self.doc_path = params or {}, doc_path
        node = ox.NamedNode(iri)
        types = self.types(iri)
        sections = []
        title = self.label(node)
        if EG + "Entity" in types:
            sections.append(self.entity(iri))
        if EG + "Relation" in types:
            title = self.relation_title(iri)
            sections.append(self.relation(iri))
        if EG + "Fact" in types:
            title = "Fact from " + self.label(self.value(iri, EG + "fromSource") or node) if self.value(iri, EG + "fromSource") else "Fact"
            sections.append(self.fact(iri))
        if EG + "Source" in types:
            sections.append(self.source(iri))
        if EG + "Page" in types or self.db.contains_named_graph(node):
            sections.append(self.page(iri))
        kinds = ", ".join(self.link(ox.NamedNode(t)) for t in sorted(types))
        body = (f"<p>{kinds}</p>" if kinds else "") + "".join(sections)
        body += "<h2>All statements</h2>" + self.properties(node)
        start = self.offset("from")
        body += "<h2>What points here</h2>" + self.incoming(node, doc_path, start)
        return page(title, body, iri, doc_path)

    def entity(self, iri: str) -> str:
        e = f"<{iri}>"
        rows = self.rows(f"""
            PREFIX eg: <{EG}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            SELECT ?r ?kind ?score ?strength ?other (COUNT(DISTINCT ?f) AS ?facts) WHERE {{
              {{ ?r eg:subject {e} ; eg:object ?other }} UNION {{ ?r eg:object {e} ; eg:subject ?other }}
              OPTIONAL {{ ?r eg:kind ?kind }} OPTIONAL {{ ?r eg:score ?score }} OPTIONAL {{ ?r eg:strength ?strength }}
              OPTIONAL {{ ?r eg:supportedBy ?f }}
            }} GROUP BY ?r ?kind ?score ?strength ?other ORDER BY DESC(?score) ?other""")
        table = self.table(
            ["score", "kind", "strength", "with", "facts", "relation"],
            [[f'<span class="num">{esc(r["score"].value) if r["score"] else ""}</span>',
              esc(r["kind"].value if r["kind"] else ""), esc(r["strength"].value if r["strength"] else ""),
              self.link(r["other"]), f'<span class="num">{esc(r["facts"].value)}</span>',
              self.link(r["r"], "relation")] for r in rows],
            "no relations",
        )
        from .pictures import entity_graph, graph_block, entity_pages_and_sources

        picture = graph_block(entity_graph(self, iri, rows))
        return f"{picture}<h2>Relations, ranked by score</h2>{table}" + entity_pages_and_sources(self, iri)

    def relation_title(self, iri: str) -> str:
        s, o, k = self.value(iri, EG + "subject"), self.value(iri, EG + "object"), self.value(iri, EG + "kind")
        if s is not None and o is not None:
            return f"{self.label(s)} — {k.value if k is not None else 'related'} — {self.label(o)}"
        return self.label(ox.NamedNode(iri))

    def relation(self, iri: str) -> str:
        r = f"<{iri}>"
        out = []
        s, o = self.value(iri, EG + "subject"), self.value(iri, EG + "object")
        facts = []
        for key, name in (("score", "score"), ("strength", "strength"), ("kind", "kind")):
            v = self.value(iri, EG + key)
            if v is not None:
                facts.append(f"<dt>{name}</dt><dd>{esc(v.value)}</dd>")
        ends = (f"<p>{self.link(s) if s is not None else '?'} ↔ {self.link(o) if o is not None else '?'}</p>")
        out.append(ends + f"<dl>{''.join(facts)}</dl>")
        citations = self.rows(f"""
            PREFIX eg: <{EG}>
            SELECT ?page ?card ?marker ?fact WHERE {{
              GRAPH ?page {{ ?card eg:states {r} ; eg:citation ?c . ?c eg:marker ?marker OPTIONAL {{ ?c eg:citedFact ?fact }} }}
            }} ORDER BY ?page ?card ?marker""")
        by_marker: dict[str, Any] = {}
        for c in citations:
            by_marker.setdefault(c["marker"].value, c["fact"])
        for summary in self.values(iri, EG + "summary"):
            def cite(m: re.Match[str]) -> str:
                fact = by_marker.get(m.group(1))
                if fact is None:
                    return esc(m.group(0))
                href = self.local(fact.value) or web_link(fact.value)
                if href is None:
                    return esc(m.group(0))
                return f'<a href="{esc(href)}" title="{esc(self.label(fact))}">[{esc(m.group(1))}]</a>'

            out.append("<h2>Summary</h2><blockquote>" + re.sub(r"\[(\d+)\]", cite, esc(summary.value)) + "</blockquote>")
        rows = self.rows(f"""
            PREFIX eg: <{EG}> PREFIX dcterms: <http://purl.org/dc/terms/>
            SELECT ?f ?text ?type ?source (BOUND(?cited) AS ?isCited) WHERE {{
              {r} eg:supportedBy ?f . OPTIONAL {{ ?f eg:text ?text }} OPTIONAL {{ ?f eg:factType ?type }}
              OPTIONAL {{ ?f eg:fromSource ?source }} OPTIONAL {{ {r} eg:cites ?cited FILTER (?cited = ?f) }}
            }} ORDER BY DESC(?isCited) ?type ?text""")
        out.append("<h2>Supporting facts</h2>" + self.table(
            ["fact", "type", "source", "cited"],
            [[self.link(x["f"], x["text"].value if x["text"] else None), self.link(x["type"]) if x["type"] else "",
              self.link(x["source"]) if x["source"] else "", "yes" if x["isCited"] and x["isCited"].value == "true" else ""]
             for x in rows], "no supporting facts"))
        pages = sorted({c["page"].value for c in citations} | {
            q.graph_name.value for q in self.db.quads_for_pattern(None, ox.NamedNode(EG + "states"), ox.NamedNode(iri), None)
            if isinstance(q.graph_name, ox.NamedNode)})
        out.append("<h2>Stated on</h2>" + self.table(["page"], [[self.link(ox.NamedNode(p))] for p in pages], "no page"))
        from .pictures import graph_block, relation_graph

        out.insert(1, graph_block(relation_graph(self, iri)))
        return "".join(out)

    def fact(self, iri: str) -> str:
        f = f"<{iri}>"
        out = []
        text = self.value(iri, EG + "text")
        if text is not None:
            out.append(f"<blockquote>{esc(text.value)}</blockquote>")
        dl = []
        for key in ("factType", "fromSource", "stance"):
            for v in self.values(iri, EG + key):
                dl.append(f"<dt>{esc(key)}</dt><dd>{self.link(v)}</dd>")
        out.append(f"<dl>{''.join(dl)}</dl>")
        rows = self.rows(f"""
            PREFIX eg: <{EG}>
            SELECT ?r ?how WHERE {{ {{ ?r eg:cites {f} BIND ("cites" AS ?how) }} UNION {{ ?r eg:supportedBy {f} BIND ("supported by" AS ?how) }} }}
            ORDER BY ?r ?how""")
        out.append("<h2>Relations</h2>" + self.table(
            ["relation", "how"], [[self.link(x["r"], self.relation_title(x["r"].value)), esc(x["how"].value)] for x in rows], "none"))
        pages = sorted({q.graph_name.value for q in self.db.quads_for_pattern(None, ox.NamedNode(EG + "listsFact"), ox.NamedNode(iri), None)
                        if isinstance(q.graph_name, ox.NamedNode)})
        out.append("<h2>Listed on</h2>" + self.table(["page"], [[self.link(ox.NamedNode(p))] for p in pages], "no page"))
        return "".join(out)

    def source(self, iri: str) -> str:
        s = f"<{iri}>"
        dl = []
        for key, prop in (("domain", EG + "domain"), ("publisher", EG + "publisher"), ("author", EG + "author"),
                          ("published", EG + "published")):
            for v in self.values(iri, prop):
                dl.append(f"<dt>{key}</dt><dd>{self.link(v)}</dd>")
        from .pictures import pager

        start, size = self.offset("facts"), 100
        total = int(self.rows(f"PREFIX eg: <{EG}> SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{ ?f eg:fromSource {s} }}")[0]["n"].value)
        rows = self.rows(f"""
            PREFIX eg: <{EG}>
            SELECT ?f ?text ?type WHERE {{ ?f eg:fromSource {s} OPTIONAL {{ ?f eg:text ?text }} OPTIONAL {{ ?f eg:factType ?type }} }}
            ORDER BY ?type ?text ?f LIMIT {size} OFFSET {start}""")
        nav = pager(self.doc_path, start, size, total, {}, "facts")
        return f"<dl>{''.join(dl)}</dl><h2>Facts from this source</h2>" + nav + self.table(
            ["fact", "type"], [[self.link(x["f"], x["text"].value if x["text"] else None),
                                self.link(x["type"]) if x["type"] else ""] for x in rows], "no facts")

    def page(self, iri: str) -> str:
        node = ox.NamedNode(iri)
        out = []
        prov = []
        for q in self.db.quads_for_pattern(node, None, None, node):
            p = q.predicate.value
            if p.startswith("http://www.w3.org/ns/prov#") or p in (EG + "fileName", EG + "checksum"):
                prov.append([self.link(q.predicate, compact(p)), self.link(q.object)])
                if isinstance(q.object, ox.NamedNode):
                    for q2 in self.db.quads_for_pattern(q.object, None, None, node):
                        prov.append(["&nbsp;&nbsp;" + self.link(q2.predicate, compact(q2.predicate.value)), self.link(q2.object)])
                        if isinstance(q2.object, ox.NamedNode) and q2.predicate.value.startswith("http://www.w3.org/ns/prov#"):
                            for q3 in self.db.quads_for_pattern(q2.object, None, None, node):
                                prov.append(["&nbsp;&nbsp;&nbsp;&nbsp;" + self.link(q3.predicate, compact(q3.predicate.value)),
                                             self.link(q3.object)])
        out.append("<h2>Provenance</h2>" + self.table(["property", "value"], prov, "no provenance recorded"))
        cards = self.rows(f"""
            PREFIX eg: <{EG}>
            SELECT ?card ?pos ?r WHERE {{ GRAPH <{iri}> {{ <{iri}> eg:card ?card . OPTIONAL {{ ?card eg:position ?pos }}
              OPTIONAL {{ ?card eg:states ?r }} }} }} ORDER BY ?pos""")
        out.append("<h2>Relations on this page</h2>" + self.table(
            ["card", "relation"],
            [[f'<a href="#{esc(x["card"].value.rpartition("#")[2])}">{esc(x["card"].value.rpartition("#")[2])}</a>',
              self.link(x["r"], self.relation_title(x["r"].value)) if x["r"] else ""] for x in cards], "no cards"))
        sources = self.rows(f"""
            PREFIX eg: <{EG}>
            SELECT DISTINCT ?s WHERE {{ GRAPH <{iri}> {{ ?l eg:listsSource ?s OPTIONAL {{ ?l eg:position ?pos }} }} }} ORDER BY ?pos""")
        out.append("<h2>Sources listed</h2>" + self.table(["source"], [[self.link(x["s"])] for x in sources], "none"))
        prefix = iri + "#"
        parts = sorted(
            {q.subject.value for q in self.db.quads_for_pattern(None, None, None, node)
             if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(prefix)},
            key=_natural)
        if parts:
            out.append("<h2>Parts of the page</h2>")
            for part in parts:
                frag = part[len(prefix):]
                out.append(f'<section class="part" id="{esc(frag)}"><h3>#{esc(frag)}</h3>'
                           + self.properties(ox.NamedNode(part), node) + "</section>")
        return "".join(out)

    def page_list(self, params: dict[str, str] | None = None, size: int = 100) -> str:
        """``/doc/page/``: the pages, ``size`` at a time (``?start=N``), filtered by ``?q=`` (file name or title)."""
        from .pictures import pager

        params = params or {}
        words = params.get("q", "").strip()
        try:
            start = max(int(params.get("start", "0")), 0)
        except ValueError:
            start = 0
        filt = ""
        if words:
            filt = f"FILTER (CONTAINS(LCASE(CONCAT(COALESCE(STR(?name), ''), ' ', COALESCE(STR(?label), ''))), LCASE({ox.Literal(words)})))"
        where = (f"GRAPH ?g {{ ?g a eg:Page OPTIONAL {{ ?g eg:fileName ?name }} OPTIONAL {{ ?g rdfs:label ?label }} }} {filt}")
        prefixes = f"PREFIX eg: <{EG}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>"
        total = int(self.rows(f"{prefixes} SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ {where} }}")[0]["n"].value)
        rows = self.rows(f"{prefixes} SELECT ?g ?name ?label WHERE {{ {where} }} ORDER BY ?name ?g "
                         f"LIMIT {size} OFFSET {start}")
        form = (f'<form class="filter" method="get" action="/doc/page/"><input name="q" value="{esc(words)}" '
                'placeholder="file name or title contains…" aria-label="filter"> <button type="submit">filter</button>'
                + (' <a href="/doc/page/">all pages</a>' if words else "") + "</form>")
        nav = pager("/doc/page/", start, size, total, {"q": words} if words else {})
        return page("Pages", form + nav + self.table(
            ["page", "title"], [[self.link(x["g"], x["name"].value if x["name"] else None),
                                 esc(x["label"].value) if x["label"] else ""] for x in rows],
            "no page matches" if words else "no pages in the store") + (nav if rows else ""))

    def ontology(self) -> str:
        quads = ontology_quads()
        by_subject: dict[str, list[ox.Quad]] = {}
        for q in quads:
            if isinstance(q.subject, ox.NamedNode):
                by_subject.setdefault(q.subject.value, []).append(q)
        parts = []
        head = by_subject.get(ONTOLOGY, [])
        for q in head:
            if q.predicate == COMMENT:
                parts.append(f"<p>{esc(str(getattr(q.object, 'value', q.object)))}</p>")
        for iri in sorted(k for k in by_subject if k.startswith(EG)):
            name = iri[len(EG):]
            qs = by_subject[iri]
            comment = next((str(getattr(q.object, "value", "")) for q in qs if q.predicate == COMMENT), "")
            kinds = ", ".join(compact(str(getattr(q.object, "value", ""))) for q in qs if q.predicate == RDF_TYPE)
            parts.append(f'<section class="part" id="{esc(name)}"><h3>eg:{esc(name)}</h3>'
                         f'<div class="iri">{esc(iri)}</div><p class="muted">{esc(kinds)}</p><p>{esc(comment)}</p></section>')
        return page("evidencegraph ontology", "".join(parts), ONTOLOGY, "/ontology")


def _natural(text: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def compact(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri
