"""The ingest benchmark: evidencegraph against a naive pipeline and the store's own limit.

For each size it generates a corpus (benchmarks/generate.py, fixed seed) and
measures, each in a fresh process so that peak RSS is its own:

- ``ingest``: ``evidencegraph.ingestion.ingest`` (parse, map, validate, load in
  worker processes), per stage and in total, wall time, pages/s, quads/s, peak RSS;
- ``limit``: Oxigraph's own bulk load of the N-Quads that ingest writes
  (page graphs plus their union, the default graph), and of the export alone
  (page graphs only);
- ``naive`` (with --naive-max, default 5,000 pages): the pipeline a user would
  write: the pages parsed into one rdflib Graph, pyshacl over the whole graph,
  serialised to N-Triples;
- ``one page``: adding one page to the full store and to an empty one;
- ``questions``: p50/p95 latency of every named question through
  ``Store.query``, and of the same SPARQL on pyoxigraph directly;
- ``first row``: ``evidencegraph query`` process time to the first row, and a
  bare pyoxigraph script doing the same.

Results are printed and written as Markdown (``--out``).

    python benchmarks/run.py --sizes 5000 10000 100000 --out benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

PY = sys.executable
QUESTION_BUDGET_S = 10.0  # per question and size, ours and bare together


def child(mode: str, *args: str, timeout: float | None = None) -> dict:
    """Run one measurement in a fresh process; it prints one JSON line."""
    try:
        out = subprocess.run([PY, str(Path(__file__)), "--child", mode, *args], capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if out.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, kids_kb) / 1024


# --- child modes ---------------------------------------------------------------------


def do_ingest(corpus: str, store: str, jobs: str) -> dict:
    from evidencegraph.ingestion import ingest
    from evidencegraph.store import Store

    t = time.perf_counter()
    with Store(Path(store), create=True) as s:
        outcome = ingest([corpus], s, jobs=int(jobs))
    wall = time.perf_counter() - t
    return {
        "wall": wall,
        "pages": outcome.loaded,
        "quads": outcome.quads,
        "stages": outcome.stages,
        "violations": len(outcome.report.violations),
        "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def do_bulk(nq: str, store: str) -> dict:
    import pyoxigraph as ox

    t = time.perf_counter()
    db = ox.Store(store)
    db.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
    db.flush()
    return {"wall": time.perf_counter() - t, "quads": len(db), "rss_mb": peak_rss_mb()}


def do_naive(corpus: str, out: str) -> dict:
    """The obvious pipeline: rdflib Graph, pyshacl over the whole graph, rdflib serialisation."""
    from pyshacl import validate
    from rdflib import Graph, Literal, URIRef

    from evidencegraph.mapping import STRING, Lit, page_triples
    from evidencegraph.page import parse_file
    from evidencegraph.resources import ontology_path, shapes_path

    t0 = time.perf_counter()
    g = Graph()
    for path in sorted(Path(corpus).rglob("*.txt")):
        page = parse_file(str(path))
        page.name = path.relative_to(corpus).as_posix()
        _, triples = page_triples(page)
        for s, p, o in triples:
            obj = (Literal(o.value) if o.datatype == STRING else Literal(o.value, datatype=URIRef(o.datatype))) \
                if isinstance(o, Lit) else URIRef(o)
            g.add((URIRef(s), URIRef(p), obj))
    t1 = time.perf_counter()
    conforms, _, _ = validate(g, shacl_graph=Graph().parse(shapes_path()), ont_graph=Graph().parse(ontology_path()),
                              advanced=True, allow_warnings=True)
    t2 = time.perf_counter()
    g.serialize(out, format="nt")
    t3 = time.perf_counter()
    # one named question in rdflib's SPARQL, as the naive user would ask it
    from evidencegraph.queries import question

    q = question("top-entities").sparql
    t4 = time.perf_counter()
    rows = len(list(g.query(q)))
    t5 = time.perf_counter()
    return {"wall": t3 - t0, "parse_map": t1 - t0, "validate": t2 - t1, "write": t3 - t2, "triples": len(g),
            "question_s": t5 - t4, "rows": rows, "rss_mb": peak_rss_mb()}


def do_questions(store: str, repeat: str) -> dict:
    import pyoxigraph as ox

    from evidencegraph.queries import question_sparql, questions, run_question
    from evidencegraph.store import Store

    with Store(Path(store), read_only=True) as s:
        labels = [r["l"].value for r in s.query(
            "SELECT ?l WHERE { ?e a <https://w3id.org/evidencegraph#Entity> ; <http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 2")]
        values = {"entity": labels[0], "a": labels[0], "b": labels[1], "type": "claim", "word": "policy"}
        out = {}
        for q in questions().values():
            subs = q.bind({p.name: values[p.name] for p in q.params})
            ours, bare = [], []
            started = time.perf_counter()
            for i in range(int(repeat)):
                if i >= 2 and time.perf_counter() - started > QUESTION_BUDGET_S:
                    break  # at least 2 runs; slow questions on big stores stop at the time budget
                t = time.perf_counter()
                list(run_question(s, q.name, q.sparql, subs))  # what a store folder runs (embedded/, the index)
                ours.append(time.perf_counter() - t)
                text = question_sparql(s, q.name, q.sparql, subs)
                t = time.perf_counter()
                list(s.db.query(text, substitutions={ox.Variable(k): v for k, v in subs.items()} or None))
                bare.append(time.perf_counter() - t)
            out[q.name] = {"runs": len(ours), "p50": statistics.median(ours), "p95": _p95(ours),
                           "bare_p50": statistics.median(bare), "bare_p95": _p95(bare)}
        return out


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def first_row(store: str, repeat: int = 5) -> dict:
    q = "SELECT ?l WHERE { ?e <http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 1"
    exe = str(Path(PY).with_name("evidencegraph"))
    ours = [_timed([exe, "query", q, "--store", store, "-f", "tsv"]) for _ in range(repeat)]
    bare_script = ("import sys, pyoxigraph as ox; s = ox.Store.read_only(sys.argv[1]); "
                   "print(next(iter(s.query(sys.argv[2])))['l'])")
    bare = [_timed([PY, "-c", bare_script, str(Path(store) / "oxigraph"), q]) for _ in range(repeat)]
    helps = [_timed([exe, "--help"]) for _ in range(repeat)]
    return {"ours": statistics.median(ours), "bare": statistics.median(bare), "help": statistics.median(helps)}


def _timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - t


def do_one_page(store: str, page: str) -> dict:
    from evidencegraph.ingestion import ingest
    from evidencegraph.store import Store

    with Store(Path(store), create=True) as s:
        t = time.perf_counter()
        outcome = ingest([page], s, jobs=1)
        wall = time.perf_counter() - t
    assert outcome.loaded + outcome.replaced == 1, outcome.errors
    return {"wall": wall}


# --- the run ------------------------------------------------------------------------


def export_nquads(store: str, path: str, with_union: bool) -> dict:
    """What ingest wrote (page graphs and the union: Oxigraph's own dump), or the
    project's export (``Store.export`` as N-Quads: the page graphs), timed."""
    import pyoxigraph as ox

    from evidencegraph.formats import rdf_format
    from evidencegraph.store import Store

    t = time.perf_counter()
    if with_union:
        db = ox.Store.read_only(str(Path(store) / "oxigraph"))
        db.dump(path, ox.RdfFormat.N_QUADS)
        seconds, quads = time.perf_counter() - t, len(db)  # every quad of the store is dumped
        del db
        return {"quads": quads, "seconds": seconds}
    with Store(Path(store), read_only=True) as s, open(path, "wb") as fh:
        s.export(rdf_format("nq"), fh)
    seconds = time.perf_counter() - t
    with open(path, "rb") as fh:  # the export's own count: one quad per line
        quads = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
    return {"quads": quads, "seconds": seconds}


def run_size(n: int, work: Path, naive_max: int, repeat: int, naive_timeout: float) -> dict:
    corpus = work / f"corpus-{n}"
    t = time.perf_counter()
    if not corpus.exists():
        generate(n, corpus, seed=1)
    gen = time.perf_counter() - t
    row: dict = {"pages": n, "generate_s": gen}
    store = str(work / f"store-{n}")
    shutil.rmtree(store, ignore_errors=True)
    row["ingest"] = child("ingest", str(corpus), store, str(os.cpu_count() or 1))
    written = str(work / f"written-{n}.nq")
    exported = str(work / f"export-{n}.nq")
    dumped = export_nquads(store, written, with_union=True)
    row["written_quads"] = dumped["quads"]
    row["export"] = export_nquads(store, exported, with_union=False)
    row["export_quads"] = row["export"]["quads"]
    for name, path in (("limit_written", written), ("limit_export", exported)):
        target = str(work / f"bulk-{n}")
        shutil.rmtree(target, ignore_errors=True)
        row[name] = child("bulk", path, target)
        shutil.rmtree(target, ignore_errors=True)
    if n <= naive_max:
        row["naive"] = child("naive", str(corpus), str(work / f"naive-{n}.nt"), timeout=naive_timeout)
    one = work / "one" / "extra-page.txt"
    one.parent.mkdir(exist_ok=True)
    # a page of the corpus under a title of its own: a page is its two entities, so it is a new page
    text = next(corpus.rglob("*.txt")).read_text(encoding="utf-8-sig")
    body = text.split("\n", 1)[1] if " ↔ " in text.split("\n", 1)[0] else text
    one.write_text("Benchmark Extra ↔ Benchmark Other\n" + body, encoding="utf-8")
    empty = str(work / f"empty-{n}")
    shutil.rmtree(empty, ignore_errors=True)
    row["one_page_full"] = statistics.median(child("one", store, str(one))["wall"] for _ in range(3) if _remove_extra(store))
    row["one_page_empty"] = statistics.median(child("one", empty, str(one))["wall"] for _ in range(3) if _reset(empty))
    row["questions"] = child("questions", store, str(repeat))
    row["first_row"] = first_row(store)
    row["store_mb"] = sum(f.stat().st_size for f in Path(store).rglob("*") if f.is_file()) / 2**20
    for p in (written, exported):
        os.unlink(p)
    return row


def _remove_extra(store: str) -> bool:
    subprocess.run([str(Path(PY).with_name("evidencegraph")), "remove", "extra-page.txt", "--store", store],
                   capture_output=True)
    return True


def _reset(path: str) -> bool:
    shutil.rmtree(path, ignore_errors=True)
    return True


def markdown(rows: list[dict], command: str) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    import pyoxigraph
    import pyshacl
    import rdflib

    lines = [
        "# Benchmark results",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {machine}",
        f"- versions: pyoxigraph {pyoxigraph.__version__}, rdflib {rdflib.__version__}, pyshacl {pyshacl.__version__}",
        f"- command: `{command}`",
        "- corpus: `benchmarks/generate.py`, seed 1 (pages share entities, sources and facts)",
        "",
        "## Ingest (validation included) against the naive pipeline and the store's own bulk load",
        "",
        "| pages | quads written | ingest s | pages/s | quads/s | peak RSS main / worker MB | bulk load of what ingest writes, s | ingest ÷ that | bulk load of the export (page graphs only), s | ingest ÷ that | naive s | naive ÷ ingest |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        i = r["ingest"]
        naive = r.get("naive")
        lines.append(
            f"| {r['pages']:,} | {r['written_quads']:,} | {i['wall']:.1f} | {r['pages'] / i['wall']:,.0f} | "
            f"{r['written_quads'] / i['wall']:,.0f} | {i['rss_main_mb']:.0f} / {i['rss_worker_mb']:.0f} | "
            f"{r['limit_written']['wall']:.1f} | {i['wall'] / r['limit_written']['wall']:.2f} | "
            f"{r['limit_export']['wall']:.1f} | {i['wall'] / r['limit_export']['wall']:.2f} | "
            + (f"{naive['wall']:.1f} | {naive['wall'] / i['wall']:.1f}× |" if naive and "wall" in naive
               else f"> {naive['timeout']:.0f} (stopped) | > {naive['timeout'] / i['wall']:.0f}× |" if naive
               else "– | – |")
        )
    lines += ["", "## Where the ingest time goes (seconds: read to serialize summed over the workers, measured by wall clock inside them, so they include waiting for a core; load is the main process's wall time in the store's writes)", "",
              "| pages | read | parse | map | validate | serialize | load | total wall |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        st = r["ingest"]["stages"]
        lines.append(f"| {r['pages']:,} | " + " | ".join(f"{st.get(k, 0):.1f}" for k in
                     ("read", "parse", "map", "validate", "serialize", "load")) + f" | {r['ingest']['wall']:.1f} |")
    naive_rows = [r for r in rows if "wall" in r.get("naive", {})]
    if naive_rows:
        lines += ["", "## The naive pipeline (rdflib Graph + pyshacl over the whole graph + rdflib SPARQL)", "",
                  "| pages | triples | parse+map s | pyshacl s | serialise s | total s | top-entities in rdflib SPARQL s | peak RSS MB |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in naive_rows:
            nv = r["naive"]
            lines.append(f"| {r['pages']:,} | {nv['triples']:,} | {nv['parse_map']:.1f} | {nv['validate']:.1f} | "
                         f"{nv['write']:.1f} | {nv['wall']:.1f} | {nv['question_s']:.2f} | {nv['rss_mb']:.0f} |")
    lines += ["", "## Scaling", ""]
    if len(rows) >= 2:
        small, big = rows[-2], rows[-1]
        lines.append(f"- {big['pages']:,} vs {small['pages']:,} pages: time × {big['ingest']['wall'] / small['ingest']['wall']:.2f} "
                     f"(pages × {big['pages'] / small['pages']:.0f}); peak RSS main × "
                     f"{big['ingest']['rss_main_mb'] / small['ingest']['rss_main_mb']:.2f}, worker × "
                     f"{big['ingest']['rss_worker_mb'] / small['ingest']['rss_worker_mb']:.2f}")
    for r in rows:
        lines.append(f"- {r['pages']:,} pages: adding one page to the full store {r['one_page_full'] * 1000:.0f} ms, "
                     f"to an empty store {r['one_page_empty'] * 1000:.0f} ms "
                     f"(ratio {r['one_page_full'] / r['one_page_empty']:.2f}); store on disk {r['store_mb']:.0f} MB"
                     + (f"; export of the page graphs (N-Quads) {r['export']['seconds']:.1f} s" if "export" in r else ""))
    lines += ["", "## Named questions (ms; median and 95th percentile of repeated runs)", ""]
    for r in rows:
        lines += [f"### {r['pages']:,} pages", "", "| question | runs | p50 | p95 | pyoxigraph direct p50 | ratio |",
                  "|---|---|---|---|---|---|"]
        for name, q in r["questions"].items():
            lines.append(f"| {name} | {q.get('runs', '')} | {q['p50'] * 1000:.1f} | {q['p95'] * 1000:.1f} | "
                         f"{q['bare_p50'] * 1000:.1f} | {q['p50'] / q['bare_p50']:.2f} |")
        fr = r["first_row"]
        lines += ["", f"Process time to the first row: `evidencegraph query` {fr['ours'] * 1000:.0f} ms, bare pyoxigraph "
                  f"script {fr['bare'] * 1000:.0f} ms (ratio {fr['ours'] / fr['bare']:.2f}); `evidencegraph --help` "
                  f"{fr['help'] * 1000:.0f} ms.", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        mode, args = sys.argv[2], sys.argv[3:]
        fn = {"ingest": do_ingest, "bulk": do_bulk, "naive": do_naive, "questions": do_questions, "one": do_one_page}[mode]
        print(json.dumps(fn(*args)))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500])
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    ap.add_argument("--naive-max", type=int, default=5000, help="largest size to run the naive pipeline on")
    ap.add_argument("--repeat", type=int, default=20, help="runs per named question")
    ap.add_argument("--naive-timeout", type=float, default=1800, help="stop the naive pipeline after this many seconds")
    ap.add_argument("--out", type=Path, help="write the Markdown here")
    ap.add_argument("--json", type=Path, help="write the raw figures here")
    ap.add_argument("--from-json", type=Path, help="only render the Markdown of figures saved with --json")
    ap.add_argument("--command", help="with --from-json: the command that produced the figures")
    args = ap.parse_args()
    if args.from_json:
        text = markdown(json.loads(args.from_json.read_text()), args.command or "")
        print(text)
        if args.out:
            args.out.write_text(text)
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="evidencegraph-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        print(f"== {n} pages", file=sys.stderr, flush=True)
        rows.append(run_size(n, work, args.naive_max, args.repeat, args.naive_timeout))
        print(json.dumps(rows[-1], indent=1), file=sys.stderr, flush=True)
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
    text = markdown(rows, command)
    print(text)
    if args.out:
        args.out.write_text(text)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
