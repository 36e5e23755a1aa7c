"""A page's graph -> page text: the inverse of page.py and mapping.py.

render(parse(page)) gives the page back, up to byte-order mark, line endings,
blank lines and trailing spaces, which proves the graph loses nothing the
page shows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import Any, Iterable

from .errors import DataError
from .page import ARROW, PENDING
from .vocab import NAMESPACE

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCTERMS_TITLE = "http://purl.org/dc/terms/title"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"


class _Graph:
    def __init__(self, triples: Iterable[Any]):
        self.po: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.types: dict[str, set[str]] = defaultdict(set)
        for t in triples:
            s = t.subject.value
            p = t.predicate.value
            self.po[s][p].append(t.object)
            if p == RDF_TYPE:
                self.types[t.object.value].add(s)

    def values(self, s: str, p: str) -> list[Any]:
        return self.po.get(s, {}).get(p, [])

    def one(self, s: str, p: str, default: Any = None) -> Any:
        v = self.values(s, p)
        return v[0].value if v else default

    def eg(self, s: str, name: str, default: Any = None) -> Any:
        return self.one(s, NAMESPACE + name, default)

    def eg_all(self, s: str, name: str) -> list[str]:
        return [o.value for o in self.values(s, NAMESPACE + name)]

    def by_position(self, nodes: Iterable[str]) -> list[str]:
        return sorted(nodes, key=lambda n: int(self.eg(n, "position", 0)))


def _count(n: int) -> str:
    return f"{n} fact" if n == 1 else f"{n} facts"


def _score(lexical: str) -> str:
    return lexical if re.fullmatch(r"-?\d+\.\d\d", lexical) else f"{Decimal(lexical):.2f}"


def render_graph(triples: Iterable[Any], page: str | None = None) -> str:
    """The text of one page, from its named graph (pyoxigraph quads), or from triples holding one page.

    Only the page's own graph is read, never a merge of several: in a
    multi-page file or a store export each page renders from its graph alone.

    :raises DataError: the data holds no page, or several and ``page`` names none of them.
    """
    quads = list(triples)
    type_ = NAMESPACE + "Page"
    pages = sorted({q.subject.value for q in quads if q.predicate.value == RDF_TYPE and q.object.value == type_})
    if page is not None:
        pages = [p for p in pages if p == page]
    if len(pages) != 1:
        raise DataError(
            "no eg:Page in the data; render needs a page's graph" if not pages
            else f"the data holds {len(pages)} pages; name one with --page (list them with: evidencegraph pages)"
        )
    p = pages[0]
    own = [q for q in quads if getattr(getattr(q, "graph_name", None), "value", None) == p]
    return _render(_Graph(own or quads), p)


def _render(g: _Graph, p: str) -> str:
    out: list[str] = []
    cards = g.by_position(g.eg_all(p, "card"))
    if g.eg(p, "hasTitleLine") == "true" and cards:
        first, second = g.eg(p, "firstEntity"), g.eg(p, "secondEntity")
        if first is None or second is None:  # a format-1 graph: the relation kept the page's order
            rel = g.eg(cards[0], "states")
            first, second = g.eg(rel, "subject"), g.eg(rel, "object")
        out.append(g.one(first, RDFS_LABEL) + ARROW + g.one(second, RDFS_LABEL))
    out.append(f"Relations ({g.eg(p, 'declaredRelationCount')})")
    for card in cards:
        rel = g.eg(card, "states")
        score = g.eg(card, "scoreText") or _score(g.eg(rel, "score"))
        header = f"{g.eg(rel, 'kind')} {score} — {g.eg(rel, 'strength')}"
        declared = g.eg(card, "declaredFactCount")
        if declared is not None:
            header += " " + _count(int(declared))
        out.append(header)
        if g.eg(card, "summaryPending") == "true":
            out.append(PENDING)
            out.extend(g.eg(item, "listedText") for item in g.by_position(g.eg_all(card, "listedSupport")))
        elif g.eg(rel, "summary") is not None:
            out.append(g.eg(rel, "summary"))
    declared_facts = g.eg(p, "declaredFactCount")
    if declared_facts is not None:
        out.append(f"Facts ({declared_facts})")
        out.append("Sources")
        for chip in g.by_position(g.eg_all(p, "domainChip")):
            out.append(f"{g.eg(chip, 'domain')} {g.eg(chip, 'chipCount')}")
        for listing in g.by_position(g.eg_all(p, "sourceListing")):
            out.append(_source_line(g, listing))
            for fl in g.by_position(g.eg_all(listing, "factListing")):
                out.append(_fact_line(g, fl))
    return "\n".join(out) + "\n"


def _source_line(g: _Graph, listing: str) -> str:
    src = g.eg(listing, "listsSource")
    parts = [g.one(src, DCTERMS_TITLE)]
    for value in (g.eg(src, "domain"),):
        if value:
            parts.append(value)
    author = " · ".join(x for x in (g.eg(src, "author"), g.eg(src, "publisher")) if x)
    if author:
        parts.append(author)
    if g.eg(src, "published"):
        parts.append(g.eg(src, "published"))
    parts.append(_count(int(g.eg(listing, "declaredFactCount"))))
    return " ".join(parts)


def _fact_line(g: _Graph, listing: str) -> str:
    fact = g.eg(listing, "listsFact")
    ftype = g.eg(fact, "factType")
    word = g.one(ftype, SKOS_PREF) or ftype.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    stance = g.eg(listing, "stance") or g.eg(fact, "stance", "")  # format 1 kept the stance on the fact
    return f"{word}{stance}{g.eg(fact, 'text')}"


def normalise_page_text(text: str) -> str:
    """BOM dropped, line endings unified, trailing spaces and blank lines removed."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = (ln.rstrip() for ln in re.split(r"\r\n|\r|\n", text))
    return "\n".join(ln for ln in lines if ln) + "\n"
