"""The named questions side by side, in one run: evidencegraph's store (the query itself), its
command line (a whole ``evidencegraph query --question`` process) and Virtuoso 7 over the same quads.

For a size it generates a corpus (benchmarks/generate.py, seed 1) unless ``--work`` has it, ingests it,
exports the page graphs and the store figures as N-Quads, starts Debian's ``virtuoso-opensource``
on 127.0.0.1 (tests/servers.py) and loads the export with Virtuoso's bulk loader (``ld_dir`` and
``rdf_loader_run``), then times every named question: p50 of ``--repeat`` runs through
``queries.run_question`` (what a store folder runs: the search index alone for facts-mentioning,
``queries/embedded/`` where a question has one), p50 of 3 command-line runs, and p50 of ``--repeat``
answers from Virtuoso's /sparql endpoint to the question's .rq (what a remote store sends), parameters bound
with the same VALUES block a remote store sends, the answer read whole; the row counts of the two
are compared.  ``search`` (the full-text index) is timed too.  Without Virtuoso the third column is
skipped with a note.

    python benchmarks/questions.py --pages 10000 --work /tmp/eg-q --json q10k.json --out q10k.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from generate import generate  # noqa: E402

EG = "https://w3id.org/evidencegraph#"
WORDS = ("policy", "trade", "security")


def p50(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def parameters(store: Any) -> dict[str, str]:
    """Values for the questions' parameters: the entity with the most relations, its first neighbour."""
    q = (f"SELECT ?label ?other WHERE {{ ?e <{EG}relationCount> ?n ; <http://www.w3.org/2000/01/rdf-schema#label> ?label . "
         f"?r <{EG}subject> ?e ; <{EG}object>/<http://www.w3.org/2000/01/rdf-schema#label> ?other }} ORDER BY DESC(?n) ?label ?other LIMIT 1")
    row = next(iter(store.query(q)))
    return {"entity": row[0].value, "a": row[0].value, "b": row[1].value, "type": "claim", "word": WORDS[0]}


def timed(fn: Any, repeat: int, budget: float = 30.0) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
        if sum(times) > budget:
            break
    return p50(times), out


def load_virtuoso(srv: Any, folder: Path, nq: Path) -> float:
    """Virtuoso's bulk loader over the export (the file is moved into the server's allowed folder)."""
    from servers import ISQL, DBA_PASSWORD

    target = folder / nq.name
    os.replace(nq, target)
    sql = srv.process.argv[-1]  # the ini; its SQL port is in it
    port = next(line.split(":")[-1] for line in Path(sql).read_text().splitlines() if line.startswith("ServerPort = 127.0.0.1:"))
    t = time.perf_counter()
    for statement in (f"ld_dir('{folder}', '{target.name}', 'urn:evidencegraph:unused');", "rdf_loader_run();", "checkpoint;"):
        subprocess.run([ISQL, f"127.0.0.1:{port}", "dba", DBA_PASSWORD, f"exec={statement}"], check=True,
                       capture_output=True, timeout=7200, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t


def virtuoso_answer(url: str, sparql: str, timeout: float = 60.0) -> int:
    body = urllib.parse.urlencode({"query": sparql}).encode()
    req = urllib.request.Request(url + "sparql", body, {"Accept": "application/sparql-results+json",
                                                        "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=timeout + 30) as r:
        data = json.loads(r.read())
        if r.headers.get("X-SQL-State"):  # Virtuoso's "anytime" answer: cut at MaxQueryExecutionTime
            raise TimeoutError(r.headers.get("X-SQL-Message", ""))
    return len(data.get("results", {}).get("bindings", [])) if "results" in data else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--work", type=Path, help="working folder (kept; a corpus or store already there is reused)")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--buffers", type=int, default=200_000, help="Virtuoso's NumberOfBuffers (8 KB each)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    from evidencegraph.figures import FIGURES_GRAPH, is_figure
    from evidencegraph.queries import questions
    from evidencegraph.queries import run_question
    from evidencegraph.sparql import with_prefixes
    from evidencegraph.sparqltext import bind_values
    from evidencegraph.store import Store
    import pyoxigraph as ox

    work = args.work or Path(tempfile.mkdtemp(prefix="eg-questions-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus, store_dir = work / f"corpus-{args.pages}", work / f"store-{args.pages}"
    figures: dict[str, Any] = {"pages": args.pages, "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if not corpus.exists():
        generate(args.pages, corpus, seed=1)
    if not store_dir.exists():
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "evidencegraph", "ingest", str(corpus), "--store", str(store_dir), "-q"],
                              check=False, capture_output=True, text=True)
        figures["ingest_s"] = round(time.perf_counter() - t, 1)
        figures["ingest_exit"] = done.returncode  # 1 when the corpus's injected faults are reported
        print(f"ingest {figures['ingest_s']} s, exit {done.returncode}: {done.stderr.strip()[-300:]}", flush=True)
    store = Store(store_dir, read_only=True)
    values = parameters(store)
    figures["parameters"] = values
    rows: dict[str, dict[str, Any]] = {}
    for q in questions().values():
        subs = q.bind({p.name: values[p.name] for p in q.params})
        t, n = timed(lambda: len(list(run_question(store, q.name, q.sparql, subs))), args.repeat)
        cli = []
        for _ in range(3):
            argv = [sys.executable, "-m", "evidencegraph", "query", "--question", q.name, "--store", str(store_dir),
                    "-f", "csv"] + [x for p in q.params for x in ("-p", f"{p.name}={values[p.name]}")]
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            cli.append(time.perf_counter() - start)
        rows[q.name] = {"ours_s": t, "rows": n, "cli_s": p50(cli), "sparql": bind_values(with_prefixes(q.sparql), subs) if subs else with_prefixes(q.sparql)}
        print(f"{q.name:22s} ours {t * 1000:9.1f} ms  cli {p50(cli) * 1000:8.0f} ms  rows {n}", flush=True)
    index = store.search_index()
    figures["search_ranker"] = index.ranker is not None
    figures["search_s"] = {w: timed(lambda: index.search(w, limit=20), args.repeat)[0] for w in WORDS}
    ranker, index.ranker = index.ranker, None  # side by side: the same words ranked by FTS5's bm25 alone
    figures["search_fts5_s"] = {w: timed(lambda: index.search(w, limit=20), args.repeat)[0] for w in WORDS}
    index.ranker = ranker

    # the same quads for Virtuoso: the page graphs and the store figures (in their remote-store graph)
    nq = work / f"all-{args.pages}.nq"
    with open(nq, "wb") as out:
        store.export(__import__("evidencegraph.formats", fromlist=["rdf_format"]).rdf_format("nq"), out)
        figs = [ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(FIGURES_GRAPH))
                for q in store.db.quads_for_pattern(None, None, None, ox.DefaultGraph()) if is_figure(q)]
        ox.serialize(figs, out, ox.RdfFormat.N_QUADS)
    if "ingest_s" in figures:  # the store's own bulk load of every quad the ingest wrote, for the ratio
        dump, target = work / f"dump-{args.pages}.nq", work / f"bulk-{args.pages}"
        store.db.dump(output=str(dump), format=ox.RdfFormat.N_QUADS)
        import shutil
        shutil.rmtree(target, ignore_errors=True)
        t = time.perf_counter()
        bulk = ox.Store(str(target))
        bulk.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
        bulk.flush()
        figures["bulk_load_s"] = round(time.perf_counter() - t, 1)
        figures["bulk_load_quads"] = len(bulk)
        del bulk
        shutil.rmtree(target, ignore_errors=True)
        dump.unlink()
        print(f"ingest {figures['ingest_s']} s, bulk load of the same {figures['bulk_load_quads']:,} quads "
              f"{figures['bulk_load_s']} s: {figures['ingest_s'] / figures['bulk_load_s']:.2f}x", flush=True)
    store.close()
    from servers import missing, virtuoso_server, VIRTUOSO_INI
    import servers

    if missing("virtuoso"):
        figures["virtuoso"] = f"skipped: {missing('virtuoso')}"
    else:
        servers.VIRTUOSO_INI = VIRTUOSO_INI.replace("NumberOfBuffers = 10000", f"NumberOfBuffers = {args.buffers}").replace(
            "MaxDirtyBuffers = 6000", f"MaxDirtyBuffers = {args.buffers * 3 // 4}").replace(
            "MaxQueryExecutionTime = 120", "MaxQueryExecutionTime = 60")
        folder = work / f"virtuoso-{args.pages}"
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
        with virtuoso_server(folder, max_rows=1_000_000) as srv:
            figures["virtuoso_load_s"] = round(load_virtuoso(srv, folder, nq), 1)
            for name, r in rows.items():
                try:
                    t, n = timed(lambda: virtuoso_answer(srv.url, r["sparql"]), args.repeat)
                except urllib.error.HTTPError as e:  # Virtuoso refuses some portable SPARQL: say what it said
                    said = e.read().decode("utf-8", "replace")
                    r["virtuoso_error"] = f"{e.code}: " + " ".join(said.split("SPARQL query:")[0].split())[:200]
                    print(f"{name:22s} virtuoso refused it: {r['virtuoso_error']}", flush=True)
                    continue
                except TimeoutError:
                    r["virtuoso_error"] = "no answer within 60 s"
                    print(f"{name:22s} virtuoso: no answer within 60 s", flush=True)
                    continue
                r["virtuoso_s"], r["virtuoso_rows"] = t, n
                print(f"{name:22s} virtuoso {t * 1000:9.1f} ms  rows {n}", flush=True)
    for r in rows.values():
        r.pop("sparql")
    figures["questions"] = rows
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    md = [f"### {args.pages:,} pages ({figures['started']})", "",
          "| question | ours p50 ms | command line p50 ms | Virtuoso p50 ms | ours / Virtuoso | rows (ours / Virtuoso) |",
          "|---|---:|---:|---:|---:|---|"]
    for name, r in rows.items():
        v = r.get("virtuoso_s")
        md.append(f"| {name} | {r['ours_s'] * 1000:.1f} | {r['cli_s'] * 1000:.0f} | "
                  + (f"{v * 1000:.1f} | {r['ours_s'] / v:.2f} | {r['rows']} / {r['virtuoso_rows']} |" if v else
                     f"{r.get('virtuoso_error', 'not run')[:90]} | — | {r['rows']} / — |"))
    if "bulk_load_s" in figures:
        md += ["", f"ingest {figures['ingest_s']} s; Oxigraph's bulk load of the same {figures['bulk_load_quads']:,} quads "
               f"{figures['bulk_load_s']} s: {figures['ingest_s'] / figures['bulk_load_s']:.2f}x"]
    if "virtuoso_load_s" in figures:
        md += [f"Virtuoso's bulk load of the export and the figures: {figures['virtuoso_load_s']} s"]
    md += ["", ("search p50 (tantivy ranks): " if figures.get("search_ranker") else "search p50 (no tantivy: FTS5 ranks): ")
           + ", ".join(f"`{w}` {s * 1000:.1f} ms" for w, s in figures["search_s"].items())]
    if "search_fts5_s" in figures:
        md += ["search p50, FTS5's bm25 ranking alone, same run: "
               + ", ".join(f"`{w}` {s * 1000:.1f} ms" for w, s in figures["search_fts5_s"].items())]
    text = "\n".join(md) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
