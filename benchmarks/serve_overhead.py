"""The server's own cost per request: ``evidencegraph serve`` against
``oxigraph serve-read-only`` on the same store, same client, same run.

A corpus (generate.py, seed 1) is ingested into a fresh store; both servers
are started on 127.0.0.1 over that store; one client (httpx, keep-alive)
sends a cheap ``SELECT … LIMIT 10`` to each, in alternating rounds, and
counts requests per second and latencies.  Goal (issue 12): evidencegraph at
least a third of Oxigraph's requests/s.

    python benchmarks/serve_overhead.py --pages 2000 --seconds 5 --rounds 3 [--concurrency 1 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10"
ACCEPT = "application/sparql-results+json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited ({proc.returncode})")
        try:
            if httpx.get(url, params={"query": "ASK {}"}, headers={"Accept": ACCEPT}, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url}: not ready after {seconds} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children (Linux /proc; 0 elsewhere)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def hammer(url: str, seconds: float, concurrency: int, pid: int = 0) -> dict[str, float]:
    """Requests/s, latency percentiles and server CPU per request of ``concurrency`` clients sending QUERY for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures = [0] * concurrency
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        with httpx.Client(timeout=30, headers={"Accept": ACCEPT}) as c:
            while time.monotonic() < stop:
                t = time.perf_counter()
                r = c.get(url, params={"query": QUERY})
                latencies[i].append(time.perf_counter() - t)
                if r.status_code != 200 or len(r.json()["results"]["bindings"]) != 10:
                    failures[i] += 1

    cpu_before = cpu_seconds(pid) if pid else 0.0
    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    cpu = (cpu_seconds(pid) - cpu_before) if pid else 0.0
    every = sorted(x for xs in latencies for x in xs)
    return {
        "requests": len(every), "rps": len(every) / elapsed, "failures": sum(failures),
        "p50_ms": 1000 * statistics.median(every), "p95_ms": 1000 * every[int(0.95 * (len(every) - 1))],
        "server_cpu_ms_per_request": 1000 * cpu / max(len(every), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=5.0, help="per round and server")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--workers", type=int, default=4, help="evidencegraph serve --workers")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    ap.add_argument("--also", metavar="NAME=SRC", action="append", default=[],
                    help="also serve with the evidencegraph in SRC (a checkout's src/), e.g. before=/tmp/old/src")
    args = ap.parse_args()

    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    work = Path(tempfile.mkdtemp(prefix="eg-serve-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        corpus, store = work / "corpus", work / "store"
        generate(args.pages, corpus, seed=1)
        subprocess.run([sys.executable, "-m", "evidencegraph", "ingest", str(corpus), "--store", str(store), "-q"], check=True)
        p_eg, p_ox = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if k != "EVIDENCEGRAPH_TOKEN"}
        procs.append(subprocess.Popen([sys.executable, "-m", "evidencegraph", "serve", "--store", str(store), "--port", str(p_eg),
                                       "--workers", str(args.workers)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        procs.append(subprocess.Popen([oxigraph, "serve-read-only", "--location", str(store / "oxigraph"),
                                       "--bind", f"127.0.0.1:{p_ox}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        servers = {"evidencegraph": f"http://127.0.0.1:{p_eg}/sparql", "oxigraph": f"http://127.0.0.1:{p_ox}/query"}
        for also in args.also:
            name, _, src = also.partition("=")
            port = free_port()
            procs.append(subprocess.Popen([sys.executable, "-m", "evidencegraph", "serve", "--store", str(store), "--port", str(port),
                                           "--workers", str(args.workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          env={**env, "PYTHONPATH": src}))
            servers[name] = f"http://127.0.0.1:{port}/sparql"
        pids = {name: proc.pid for name, proc in zip(servers, procs)}
        for url, proc in zip(servers.values(), procs):
            wait_ready(url, proc)
        figures: dict[str, object] = {"pages": args.pages, "query": QUERY, "seconds": args.seconds, "rounds": args.rounds,
                                      "workers": args.workers, "cpus": os.cpu_count(), "runs": {}}
        for c in args.concurrency:
            for name, url in servers.items():  # warm-up (worker processes started, caches filled)
                hammer(url, 1.0, c, pids[name])
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            for _ in range(args.rounds):
                for name, url in servers.items():
                    runs[name].append(hammer(url, args.seconds, c, pids[name]))
            best = {name: max(r["rps"] for r in rs) for name, rs in runs.items()}
            median = {name: statistics.median(r["rps"] for r in rs) for name, rs in runs.items()}
            figures["runs"][f"c{c}"] = {"rounds": runs, "best_rps": best, "median_rps": median,  # type: ignore[index]
                                        "ratio_median": median["evidencegraph"] / median["oxigraph"]}
            p50 = {name: statistics.median(r["p50_ms"] for r in rs) for name, rs in runs.items()}
            cpu = {name: statistics.median(r["server_cpu_ms_per_request"] for r in rs) for name, rs in runs.items()}
            shown = ", ".join(f"{name} {median[name]:.0f} req/s (p50 {p50[name]:.2f} ms, server CPU {cpu[name]:.2f} ms/request)"
                              for name in servers)
            print(f"concurrency {c}: {shown}; evidencegraph/oxigraph {median['evidencegraph'] / median['oxigraph']:.2f} "
                  "(goal >= 0.33)", flush=True)
        if args.out:
            args.out.write_text(json.dumps(figures, indent=2) + "\n")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
