"""Store formats 1 and 2 -> 3.

Format 3 adds figures that the ingest writes into each page graph (a page's
and a source listing's listed fact count and whether it agrees with the
printed one, a card's expected score and whether the printed one agrees), so
that questions read them instead of counting over the whole store.  A
format-2 store is migrated in place: each page graph is read back (render is
lossless), mapped again, and only the figures are added, to the page graph
and to the default graph, a few hundred pages per transaction; the marker
says format 3 once every page has them, and the store figures are counted.  Running it again after an
interruption adds what is missing (adding a triple twice changes nothing).
Revisions and the search index are untouched: neither holds figures.

Format 1 (evidencegraph 0.1) named a page by its file's path, kept stances on
facts, keyed facts by their first source and entities by their printed
label.  Format 2 keys everything by content (CONTRACT.md, Identity).  Render
is lossless, so each format-1 page graph is rendered back to its page text
and mapped again with the same entities, file name and checksum; pages that
format 2 sees as one (two files of one entity pair) become revisions of that
page, the last by file name current.  The new store (format 3) is built beside
the old one and swapped in; the old one is kept as ``NAME.format1``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .errors import StoreError
from .figures import FIGURES_PENDING

EG = "https://w3id.org/evidencegraph#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
AGENT = "http://www.w3.org/ns/prov#SoftwareAgent"


@dataclass
class Migration:
    from_format: int = 1
    pages: int = 0
    revisions: int = 0  # format-1 pages that became earlier revisions of another
    backup: Path | None = None
    problems: list[str] = field(default_factory=list)


def store_format(path: Path) -> int | None:
    try:
        return int(json.loads((path / "evidencegraph-store.json").read_text())["format"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_back(quads: list[ox.Quad], g: ox.NamedNode) -> tuple[Any, str, dict[str, str]] | str | None:
    """A page graph read back to its page record: (page, base, lines of its parts by fragment);
    None when the graph is not a page's, a message when it cannot be read back."""
    from .page import parse_page
    from .render import render_graph

    po: dict[tuple[str, str], list[str]] = {}
    for q in quads:
        s_, o_ = q.subject, q.object  # pyoxigraph terms (no RDF-star in page graphs)
        po.setdefault((str(getattr(s_, "value", s_)), q.predicate.value), []).append(str(getattr(o_, "value", o_)))
    if EG + "Page" not in po.get((g.value, RDF_TYPE), []):
        return None
    name = po.get((g.value, EG + "fileName"), [""])[0]
    checksum = po.get((g.value, EG + "checksum"), [""])[0]
    method = po.get((g.value, EG + "entityMethod"), ["given"])[0]
    label = po.get((g.value, RDFS_LABEL), [""])[0]
    agents = [s for (s, p), os in po.items() if p == RDF_TYPE and AGENT in os]
    if " ↔ " not in label or not agents:
        return f"{g.value}: not a page graph evidencegraph wrote; left out"
    subject, object = label.split(" ↔ ", 1)
    base = agents[0][: agents[0].rindex("agent/evidencegraph/")]
    try:
        page = parse_page(render_graph(quads, g.value), name, subject, object)
    except Exception as e:  # noqa: BLE001 - one page never stops a migration
        return f"{g.value}: cannot be read back ({e}); left out"
    page.checksum, page.entity_method, page.name = checksum, method, name
    # rendering drops blank lines: the parts keep the line numbers of the original file
    lines = {s.split("#", 1)[1]: os_[0] for (s, p), os_ in po.items() if p == EG + "line" and "#" in s}
    return page, base, lines


def migrate(path: Path) -> Migration:
    """Migrate the format-1 or format-2 store at ``path`` to format 3 (format 1: keeping the old one as a backup).

    :raises StoreError: no format-1 or format-2 store there, or a backup is in the way.
    """
    found = store_format(path)
    if found == 2:
        return _add_figures(path)
    if found != 1:
        raise StoreError(f"{path} is not a format-1 or format-2 store; nothing to migrate")
    return _from_format_1(path)


def _add_figures(path: Path) -> Migration:
    from .mapping import FIGURES, page_triples, to_oxigraph

    try:
        db = ox.Store(str(path / "oxigraph"))
    except OSError as e:
        raise StoreError(f"cannot open the store at {path} to migrate it ({e}); stop what else uses it and try again") from None
    out = Migration(from_format=2)
    todo: list[ox.Quad] = []

    def flush() -> None:
        db.extend(todo + [ox.Quad(q.subject, q.predicate, q.object) for q in todo])
        todo.clear()

    graphs = sorted((g for g in db.named_graphs() if isinstance(g, ox.NamedNode)), key=lambda n: n.value)
    for i, g in enumerate(graphs, 1):
        back = _read_back(list(db.quads_for_pattern(None, None, None, g)), g)
        if isinstance(back, str):
            out.problems.append(back)
        if not isinstance(back, tuple):
            continue
        page, base, _ = back
        g2, triples = page_triples(page, base)
        if g2 != g.value:
            out.problems.append(f"{g.value}: reads back as another page ({g2}); left without figures")
            continue
        todo.extend(to_oxigraph(g.value, [t for t in triples if t[1] in FIGURES]))
        out.pages += 1
        if i % 200 == 0:
            flush()
    flush()
    db.flush()
    del db
    marker = path / "evidencegraph-store.json"
    info = json.loads(marker.read_text())
    info["format"] = 3
    info["migrated_from"] = 2
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(json.dumps(info) + "\n")
    (path / FIGURES_PENDING).touch()  # killed before the count below: the next writer counts them
    tmp.replace(marker)
    from .store import Store

    with Store(path) as store:  # and the store figures (figures.py), counted once over everything
        store.pages_changed(None)
    return out


def _from_format_1(path: Path) -> Migration:
    from .mapping import Lit, nquad_lines, page_triples
    from .revisions import NewRevision
    from .store import Store

    backup = path.with_name(path.name + ".format1")
    if backup.exists():
        raise StoreError(f"{backup} is in the way (an earlier migration's backup?); move it and run migrate again")
    tmp = path.with_name(path.name + ".format2-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    old = ox.Store.read_only(str(path / "oxigraph"))
    out = Migration()
    converted: dict[str, list[tuple[str, bytes, bytes, NewRevision]]] = {}
    for g in sorted(old.named_graphs(), key=lambda n: n.value):
        quads = list(old.quads_for_pattern(None, None, None, g))
        back = _read_back(quads, g)  # type: ignore[arg-type]
        if isinstance(back, str):
            out.problems.append(back.replace("evidencegraph wrote", "evidencegraph 0.1 wrote"))
        if not isinstance(back, tuple):
            continue
        page, base, lines = back
        name = page.name
        page.name = Path(name).name
        g2, triples = page_triples(page, base)
        triples = [(s, p, Lit(lines[s.split("#", 1)[1]], o.datatype))
                   if p == EG + "line" and "#" in s and s.split("#", 1)[1] in lines and isinstance(o, Lit) else (s, p, o)
                   for s, p, o in triples]
        q_lines, t_lines = nquad_lines(g2, triples)
        quads_b, triples_b = "".join(q_lines).encode(), "".join(t_lines).encode()
        converted.setdefault(g2, []).append((g2, quads_b, triples_b, NewRevision(g2, page.checksum, page.name, name, quads_b)))
    new = Store(tmp, create=True)
    try:
        current = []
        for g2, versions in sorted(converted.items()):
            *earlier, last = versions
            for v in earlier:
                new.archive_revision(v[3])
                out.revisions += 1
            current.append(last)
        for i in range(0, len(current), 500):
            chunk = current[i : i + 500]
            new.write_batch([(g, q, t) for g, q, t, _ in chunk], (), [r for *_, r in chunk])
        out.pages = len(current)
    finally:
        new.close()
        del old
    path.rename(backup)
    tmp.rename(path)
    out.backup = backup
    return out
