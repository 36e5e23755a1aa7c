"""Real SPARQL servers for the remote-store tests: Oxigraph server and Virtuoso, each started on
127.0.0.1 on free ports with its data in a given folder, stopped (or killed) by the tests."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

OXIGRAPH = shutil.which("oxigraph") or shutil.which("oxigraph", path=str(Path(sys.executable).parent))
VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt") or shutil.which("isql-v")
NO_OXIGRAPH = "the oxigraph server is not installed (pip install oxigraph)"
NO_VIRTUOSO = "Virtuoso is not installed (Debian: apt-get install virtuoso-opensource; .ci/run does it as root)"
DBA_PASSWORD = "dba"  # Virtuoso's default; the server only listens on 127.0.0.1 for the test's lifetime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running server as the remote store: its base URL and the EVIDENCEGRAPH_* settings it needs."""

    kind: str
    url: str
    env: dict[str, str] = field(default_factory=dict)
    process: "ServerProcess | None" = None

    def with_env(self, **settings: str) -> "Server":
        return replace(self, env={**self.env, **settings})


class ServerProcess:
    """A server process that can be started again on the same data and ports after a stop or a kill."""

    def __init__(self, argv: list[str], folder: Path, probe: str, cwd: Path | None = None):
        self.argv, self.folder, self.probe, self.cwd = argv, folder, probe, cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        log = open(self.folder / "server.log", "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.cwd)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.probe, timeout=2):
                    return
            except urllib.error.HTTPError as e:
                e.close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"{self.argv[0]} did not start: {(self.folder / 'server.log').read_text()[-2000:]}")
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the server dies mid-whatever, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@contextmanager
def oxigraph_server(folder: Path, union: bool = True) -> Iterator[Server]:
    """`oxigraph serve` on a free port (with the union default graph)."""
    assert OXIGRAPH is not None, NO_OXIGRAPH
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    folder.mkdir(parents=True, exist_ok=True)
    argv = [OXIGRAPH, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"]
    process = ServerProcess(argv + (["--union-default-graph"] if union else []), folder, url + "query?query=ASK%7B%7D")
    process.start()
    try:
        yield Server("oxigraph", url, {}, process)
    finally:
        process.stop()


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
CheckpointInterval = 0
DirsAllowed = .
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerThreads = 10
MaxClientConnections = 10
[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = 120
MaxQueryCostEstimationTime = 400
"""


def isql(sql_port: int, statement: str) -> str:
    assert ISQL is not None
    done = subprocess.run([ISQL, f"127.0.0.1:{sql_port}", "dba", DBA_PASSWORD, f"exec={statement}"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:
        raise RuntimeError(f"isql {statement!r} failed: {done.stdout} {done.stderr}")
    return done.stdout


@contextmanager
def virtuoso_server(folder: Path, max_rows: int = 10000) -> Iterator[Server]:
    """Debian's Virtuoso 7 (virtuoso-t) with a virtuoso.ini written into ``folder``.

    Reads go to /sparql (anonymous); writes to /sparql-auth and /sparql-graph-crud-auth as
    ``dba`` with HTTP Digest, as the README's settings table says.
    """
    assert VIRTUOSO is not None and ISQL is not None, NO_VIRTUOSO
    folder.mkdir(parents=True, exist_ok=True)
    sql, http = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(VIRTUOSO_INI.format(d=folder, sql=sql, http=http, max_rows=max_rows))
    url = f"http://127.0.0.1:{http}/"
    process = ServerProcess([VIRTUOSO, "-f", "-c", str(folder / "virtuoso.ini")], folder,
                            url + "sparql?query=ASK%7B%7D", cwd=folder)
    process.start()
    try:
        isql(sql, "select 1;")  # the SQL listener is up too
        env = {
            "EVIDENCEGRAPH_QUERY_URL": url + "sparql",
            "EVIDENCEGRAPH_UPDATE_URL": url + "sparql-auth",
            "EVIDENCEGRAPH_GSP_URL": url + "sparql-graph-crud-auth?graph-uri=",
            "EVIDENCEGRAPH_USER": "dba",
            "EVIDENCEGRAPH_PASSWORD": DBA_PASSWORD,
        }
        yield Server("virtuoso", url, env, process)
    finally:
        process.stop()


@contextmanager
def server_of(kind: str, folder: Path, **options: int) -> Iterator[Server]:
    """A server of a kind ("oxigraph", "virtuoso")."""
    start = oxigraph_server if kind == "oxigraph" else virtuoso_server
    with start(folder, **options) as server:  # type: ignore[operator]
        yield server


def missing(kind: str) -> str | None:
    """Why a kind of server cannot be started here, or None."""
    if kind == "oxigraph":
        return NO_OXIGRAPH if OXIGRAPH is None else None
    return NO_VIRTUOSO if VIRTUOSO is None or ISQL is None else None

