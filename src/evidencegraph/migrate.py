"""Store format 1 -> 2.

Format 1 (evidencegraph 0.1) named a page by its file's path, kept stances on
facts, keyed facts by their first source and entities by their printed
label.  Format 2 keys everything by content (CONTRACT.md, Identity).  Render
is lossless, so each format-1 page graph is rendered back to its page text
and mapped again with the same entities, file name and checksum; pages that
format 2 sees as one (two files of one entity pair) become revisions of that
page, the last by file name current.  The new store is built beside the old
one and swapped in; the old one is kept as ``NAME.format1``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import StoreError

EG = "https://w3id.org/evidencegraph#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
AGENT = "http://www.w3.org/ns/prov#SoftwareAgent"


@dataclass
class Migration:
    pages: int = 0
    revisions: int = 0  # format-1 pages that became earlier revisions of another
    backup: Path | None = None
    problems: list[str] = field(default_factory=list)


def store_format(path: Path) -> int | None:
    try:
        return int(json.loads((path / "evidencegraph-store.json").read_text())["format"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def migrate(path: Path) -> Migration:
    """Migrate the format-1 store at ``path`` to format 2, keeping the old one as a backup.

    :raises StoreError: no format-1 store there, or a backup is in the way.
    """
    from .mapping import Lit, nquad_lines, page_triples
    from .page import parse_page
    from .render import render_graph
    from .revisions import NewRevision
    from .store import Store

    if store_format(path) != 1:
        raise StoreError(f"{path} is not a format-1 store; nothing to migrate")
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
        po: dict[tuple[str, str], list[str]] = {}
        for q in quads:
            s_, o_ = q.subject, q.object  # pyoxigraph terms (no RDF-star in page graphs)
            po.setdefault((str(getattr(s_, "value", s_)), q.predicate.value), []).append(str(getattr(o_, "value", o_)))
        if EG + "Page" not in po.get((g.value, RDF_TYPE), []):
            continue
        name = po.get((g.value, EG + "fileName"), [""])[0]
        checksum = po.get((g.value, EG + "checksum"), [""])[0]
        method = po.get((g.value, EG + "entityMethod"), ["given"])[0]
        label = po.get((g.value, RDFS_LABEL), [""])[0]
        agents = [s for (s, p), os in po.items() if p == RDF_TYPE and AGENT in os]
        if " ↔ " not in label or not agents:
            out.problems.append(f"{g.value}: not a page graph evidencegraph 0.1 wrote; left out")
            continue
        subject, object = label.split(" ↔ ", 1)
        base = agents[0][: agents[0].rindex("agent/evidencegraph/")]
        try:
            page = parse_page(render_graph(quads, g.value), name, subject, object)
        except Exception as e:  # noqa: BLE001 - one page never stops a migration
            out.problems.append(f"{g.value}: cannot be read back ({e}); left out")
            continue
        page.checksum, page.entity_method, page.name = checksum, method, Path(name).name
        g2, triples = page_triples(page, base)
        # rendering drops blank lines: the parts keep the line numbers of the original file
        lines = {s.split("#", 1)[1]: os_[0] for (s, p), os_ in po.items() if p == EG + "line" and "#" in s}
        triples = [(s, p, Lit(lines[s.split("#", 1)[1]], o.datatype))
                   if p == EG + "line" and "#" in s and s.split("#", 1)[1] in lines and isinstance(o, Lit) else (s, p, o)
                   for s, p, o in triples]
        q_lines, t_lines = nquad_lines(g2, triples)
        quads_b, triples_b = "".join(q_lines).encode(), "".join(t_lines).encode()
        converted.setdefault(g2, []).append((g2, quads_b, triples_b, NewRevision(g2, checksum, page.name, name, quads_b)))
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
