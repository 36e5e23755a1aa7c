"""Pictures and lists for the linked-data pages: an entity's neighbourhood, a relation's two entities and
their sources (drawn in the browser by Cytoscape.js, see _web/graph.js), an entity's pages and sources, pagers.

The picture is data in the page (JSON) plus a script; without JavaScript, or
when the build had no npm, the tables beside it say the same.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox

from .vocab import NAMESPACE as EG
from .webassets import has_cytoscape

Renderer = Any  # linkedhtml.Renderer, which imports this module (so this one cannot import it)

PALETTE = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f"]
KNOWN = {"related": "#1f77b4", "contradicts": "#d62728", "draws_from": "#2ca02c", "cross_type": "#9467bd"}


def colours(kinds: list[str]) -> dict[str, str]:
    """A colour per relation kind: the usual kinds fixed, others from a palette in order.

    >>> colours(["zeta", "related"])
    {'related': '#1f77b4', 'zeta': '#ff7f0e'}
    """
    spare = [c for c in PALETTE if c not in KNOWN.values()]
    out: dict[str, str] = {}
    for k in sorted(set(kinds)):
        out[k] = KNOWN.get(k) or spare[len([x for x in out if x not in KNOWN]) % len(spare)]
    return out


def _href(r: Renderer, iri: str) -> str:
    return r.local(iri) or iri


def entity_graph(r: Renderer, iri: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The entity and its neighbours (one node each), an edge per relation weighted by its score.

    ``rows``: the entity's relations as the page lists them (``r``, ``kind``, ``score``, ``other``).
    """
    node = ox.NamedNode(iri)
    nodes = [{"id": iri, "label": r.label(node), "href": _href(r, iri), "kind": "entity", "focus": True}]
    seen = {iri}
    edges: list[dict[str, Any]] = []
    for row in rows:
        other = row["other"]
        if other is None:
            continue
        if other.value not in seen:
            seen.add(other.value)
            nodes.append({"id": other.value, "label": r.label(other), "href": _href(r, other.value), "kind": "entity"})
        kind = row["kind"].value if row["kind"] is not None else ""
        score = float(row["score"].value) if row["score"] is not None else 0.0
        subject = r.value(row["r"].value, EG + "subject")
        source, target = (iri, other.value) if subject is None or subject.value == iri else (other.value, iri)
        edges.append({"source": source, "target": target, "kind": kind, "score": score,
                      "label": f"{kind} {row['score'].value if row['score'] is not None else ''}".strip(),
                      "href": _href(r, row["r"].value)})
    return {"nodes": nodes, "edges": edges, "colours": colours([str(e["kind"]) for e in edges]), "layout": "concentric"}


def relation_graph(r: Renderer, iri: str) -> dict[str, Any]:
    """A relation's two entities joined by it, and the sources of its facts joined to both (weighted by facts)."""
    subject, obj = r.value(iri, EG + "subject"), r.value(iri, EG + "object")
    if subject is None or obj is None:
        return {"nodes": [], "edges": []}
    kind = r.value(iri, EG + "kind")
    score = r.value(iri, EG + "score")
    nodes = [{"id": e.value, "label": r.label(e), "href": _href(r, e.value), "kind": "entity", "focus": True}
             for e in (subject, obj)]
    edges = [{"source": subject.value, "target": obj.value, "kind": kind.value if kind else "",
              "score": float(score.value) if score else 0.0,
              "label": f"{kind.value if kind else ''} {score.value if score else ''}".strip(), "href": None}]
    sources = r.rows(f"""
        PREFIX eg: <{EG}>
        SELECT ?s (COUNT(DISTINCT ?f) AS ?facts) WHERE {{ <{iri}> eg:supportedBy ?f . ?f eg:fromSource ?s }}
        GROUP BY ?s ORDER BY DESC(?facts) ?s""")
    for row in sources:
        s, n = row["s"], int(row["facts"].value)
        nodes.append({"id": s.value, "label": r.label(s), "href": _href(r, s.value), "kind": "source"})
        for e in (subject, obj):
            edges.append({"source": s.value, "target": e.value, "kind": "source", "score": n,
                          "label": f"{n} fact{'s' if n != 1 else ''}", "href": _href(r, s.value)})
    return {"nodes": nodes, "edges": edges, "colours": {**colours([edges[0]["kind"]]), "source": "#d6a96b"},
            "layout": "cose"}


def graph_block(data: dict[str, Any]) -> str:
    """The picture's HTML: a (hidden until drawn) box, the data, the scripts and a legend of the kinds."""
    def esc(text: object) -> str:
        return html.escape(str(text), quote=True)

    if not data.get("nodes") or not has_cytoscape():
        return ""
    legend = "".join(f'<span style="background:{esc(c)}"></span>{esc(k)}' for k, c in data.get("colours", {}).items())
    payload = json.dumps(data).replace("</", "<\\/")
    return (f'<div id="graph" hidden role="img" aria-label="a graph of the relations"></div>'
            f'<p class="legend muted">edges by kind:{legend} · width by score · click a node or an edge to open it</p>'
            f'<script type="application/json" id="eg-graph">{payload}</script>'
            '<script src="/assets/vendor/cytoscape.min.js"></script><script src="/assets/graph.js"></script>')


def entity_pages_and_sources(r: Renderer, iri: str) -> str:
    """The pages that mention the entity and the sources of its relations' facts."""
    node = ox.NamedNode(iri)
    graphs = sorted({q.graph_name.value for q in r.db.quads_for_pattern(node, None, None, None)
                     if isinstance(q.graph_name, ox.NamedNode)})
    pages = r.table(["page"], [[r.link(ox.NamedNode(g))] for g in graphs], "no page")
    rows = r.rows(f"""
        PREFIX eg: <{EG}>
        SELECT ?s (COUNT(DISTINCT ?f) AS ?facts) WHERE {{
          {{ ?rel eg:subject <{iri}> }} UNION {{ ?rel eg:object <{iri}> }}
          ?rel eg:supportedBy ?f . ?f eg:fromSource ?s
        }} GROUP BY ?s ORDER BY DESC(?facts) ?s""")
    sources = r.table(["source", "domain", "facts"],
                      [[r.link(x["s"]), r.link(r.value(x["s"].value, EG + "domain")) if r.value(x["s"].value, EG + "domain") else "",
                        f'<span class="num">{int(x["facts"].value):,}</span>'] for x in rows], "no sources")
    return f"<h2>On pages</h2>{pages}<h2>Sources of its facts</h2>{sources}"


def pager(path: str, start: int, size: int, total: int, keep: dict[str, str], key: str = "start") -> str:
    """Links to the previous and next ``size`` items of a list of ``total``.

    >>> pager("/doc/page/", 100, 100, 250, {})
    '<p class="pager"><a href="/doc/page/?start=0">← previous</a><span>101–200 of 250</span><a href="/doc/page/?start=200">next →</a></p>'
    """
    if total <= size and start == 0:
        return f'<p class="pager muted"><span>{total:,} in all</span></p>' if total else ""
    parts = []
    if start > 0:
        parts.append(f'<a href="{path}?{urlencode({**keep, key: max(start - size, 0)})}">← previous</a>')
    parts.append(f"<span>{start + 1:,}–{min(start + size, total):,} of {total:,}</span>")
    if start + size < total:
        parts.append(f'<a href="{path}?{urlencode({**keep, key: start + size})}">next →</a>')
    return f'<p class="pager">{"".join(parts)}</p>'
