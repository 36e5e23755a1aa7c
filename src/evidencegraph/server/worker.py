"""A query worker: a process of its own (see :data:`COMMAND`).

It opens the store's database read-only and answers jobs read from stdin,
one at a time, on stdout: each message is an 8-byte length and a pickle.
A job is ``(generation, run_query arguments…)``; the answer is
``("ok", status, body, media, headers)``, ``("problem", status, message,
headers)`` or ``("timeout",)``.

A read-only database is a snapshot, so the worker opens it again when the
files of the database have changed (looked at once a second at most: an
ingest or remove in another process) or when the server says it wrote
(a new generation).  The server ends a worker that runs past the time
limit (SIGKILL: nothing is written here) and starts another.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import time
import traceback
from pathlib import Path
from typing import Any, BinaryIO

HEADER = struct.Struct("!Q")
COMMAND = "import sys; from evidencegraph.server.worker import main; sys.exit(main(sys.argv[1:]))"
CHECK_EVERY = 1.0  # seconds between looks at the database's files
_WATCHED = (".log", ".sst")


def store_token(db: str | os.PathLike[str]) -> tuple[Any, ...]:
    """What changes when the database is written: its write-ahead logs, tables and manifest.

    RocksDB's own info log (``LOG``) is left out: opening the database, even
    read-only, writes to it.
    """
    try:
        entries = [e for e in os.scandir(db) if e.name.endswith(_WATCHED) or e.name.startswith("MANIFEST") or e.name == "CURRENT"]
        return tuple(sorted((e.name, (s := e.stat()).st_size, s.st_mtime_ns) for e in entries))
    except OSError:
        return ()


def read_message(stream: BinaryIO) -> Any:
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    (size,) = HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def write_message(stream: BinaryIO, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def answer(db: Any, job: tuple[Any, ...]) -> tuple[Any, ...]:
    import pyoxigraph as ox

    from .problem import Problem, QueryTimeout
    from .results import run_query

    sparql, accept, forced, max_rows, seconds, default, named, subs, base = job
    try:
        a = run_query(db, sparql, accept, forced, max_rows, time.monotonic() + seconds,
                      None if default is None else [ox.NamedNode(g) for g in default],
                      None if named is None else [ox.NamedNode(g) for g in named], subs, base)
        return ("ok", a.status, a.body, a.media, a.headers)
    except QueryTimeout:
        return ("timeout",)
    except Problem as p:
        return ("problem", p.status, p.message, p.headers)
    except Exception as e:
        print(f"evidencegraph query worker: {''.join(traceback.format_exception(e))}", file=sys.stderr, flush=True)
        return ("problem", 500, "internal error; the server log has the details", {})


def open_read_only(path: Path, tries: int = 40) -> Any:
    """Open the database read-only, trying again while a writer swaps its files under us.

    A writer (the server itself with ``--allow-update``, or an ingest) may
    compact the database as it is opened: a table named by the manifest just
    read is gone a moment later.  Once open, the tables are held open.
    """
    import pyoxigraph as ox

    for attempt in range(tries):
        try:
            return ox.Store.read_only(str(path))
        except (OSError, RuntimeError):
            if attempt == tries - 1:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which ends its workers
    path = Path(argv[0])
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers on the pipe
    source = sys.stdin.buffer
    db = open_read_only(path)
    token, checked, generation = store_token(path), time.monotonic(), None
    write_message(out, ("ready", os.getpid()))
    while True:
        try:
            message = read_message(source)
        except EOFError:
            return 0
        job_generation, job = message[0], message[1:]
        now = time.monotonic()
        if job_generation != generation or now - checked >= CHECK_EVERY:
            fresh = store_token(path)
            if fresh != token or (generation is not None and job_generation != generation):
                try:
                    db = open_read_only(path)
                except (OSError, RuntimeError) as e:
                    print(f"evidencegraph query worker: kept the snapshot opened before ({e})", file=sys.stderr, flush=True)
            token, checked, generation = fresh, now, job_generation
        write_message(out, answer(db, job))

