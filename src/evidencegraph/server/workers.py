"""Queries in worker processes that can be ended: a pool of at most
``--workers`` processes (:mod:`.worker`), started when first needed.

pyoxigraph cannot cancel a query, and a thread cannot be stopped; a process
can.  So a query runs in a worker process, and when it runs past the time
limit the client gets 503 and the worker is killed at once (its CPU and
memory are given back) and replaced by a new one when next needed.  Slow
queries are bounded by the pool's size: the rest wait for a worker, within
their own time limit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .problem import Problem, timeout_problem
from .results import Answer
from .worker import COMMAND, HEADER

log = logging.getLogger(__name__)


class _Worker:
    """One worker process and its pipes (read without blocking the event loop)."""

    def __init__(self, process: subprocess.Popen[bytes]):
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.pid = process.pid
        self.out = process.stdout.fileno()
        os.set_blocking(self.out, False)
        self.buffer = bytearray()
        self.started = False  # its "ready" read

    def send(self, message: Any) -> None:
        """Write a job (small: the pipe takes it at once; a large one blocks until the worker reads)."""
        assert self.process.stdin is not None
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(HEADER.pack(len(data)) + data)
        fd = self.process.stdin.fileno()
        while view:
            view = view[os.write(fd, view):]

    async def receive(self, deadline: float) -> Any:
        """The next answer; :class:`asyncio.TimeoutError` past ``deadline`` (``time.monotonic``)."""
        (size,) = HEADER.unpack(await self._read(HEADER.size, deadline))
        return pickle.loads(await self._read(size, deadline))

    async def _read(self, n: int, deadline: float) -> bytes:
        while len(self.buffer) < n:
            try:
                chunk = os.read(self.out, max(1 << 16, n - len(self.buffer)))
            except BlockingIOError:
                await self._readable(deadline)
                continue
            if not chunk:
                raise EOFError("the worker closed its pipe")
            self.buffer += chunk
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    async def _readable(self, deadline: float) -> None:
        """Wait for the pipe to be readable (no task per wait: a future, a reader and a timer)."""
        loop = asyncio.get_running_loop()
        ready = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        def expire() -> None:
            if not ready.done():
                ready.set_exception(asyncio.TimeoutError())

        loop.add_reader(self.out, wake)
        timer = loop.call_at(deadline, expire)  # the loop's clock is time.monotonic
        try:
            await ready
        finally:
            loop.remove_reader(self.out)
            timer.cancel()

    def kill(self) -> None:
        """End the process now (SIGKILL: a worker writes nothing) and reap it."""
        if self.process.poll() is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            log.error("query worker %d did not end", self.pid)

    def close(self) -> None:
        self.kill()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass


class QueryPool:
    """At most ``size`` worker processes over the database at ``db_path``."""

    def __init__(self, db_path: Path, size: int):
        self.db_path = db_path
        self.size = size
        self.generation = 0  # bumped by the server after each write: workers open the database again
        self.idle: list[_Worker] = []
        self.all: set[_Worker] = set()
        self._slots: asyncio.Semaphore | None = None
        self.closed = False

    def pids(self) -> list[int]:
        return [w.pid for w in self.all]

    async def run(self, job: tuple[Any, ...], timeout: float) -> Answer:
        """Run ``run_query``'s arguments (without the store and deadline: they are the worker's) in a worker.

        :raises Problem: 503 past the time limit (the worker is ended), or what the query raised.
        """
        if self.closed:
            raise Problem(503, "the server is stopping")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        deadline = time.monotonic() + timeout
        try:
            if self._slots.locked():
                await asyncio.wait_for(self._slots.acquire(), timeout)
            else:
                await self._slots.acquire()  # free: no task, no timer
        except asyncio.TimeoutError:
            raise timeout_problem(timeout) from None
        worker: _Worker | None = None
        try:
            worker = self.idle.pop() if self.idle else self._spawn()
            await self._ready(worker, deadline)
            left = deadline - time.monotonic()
            sparql, accept, forced, max_rows, default, named, subs, base = job
            worker.send((self.generation, sparql, accept, forced, max_rows, max(left, 0.0), default, named, subs, base))
            reply = await worker.receive(deadline + 0.05)
        except asyncio.TimeoutError:
            self._replace(worker)
            worker = None
            raise timeout_problem(timeout) from None
        except (EOFError, OSError) as e:
            self._replace(worker)
            worker = None
            log.error("a query worker died (%s)", e)
            raise Problem(503, "the query's worker process died (out of memory?); try again, or narrow the query") from None
        except BaseException:  # the client went away (cancelled): the worker may be mid-query
            self._end(worker)
            worker = None
            raise
        finally:
            if worker is not None:
                self.idle.append(worker)
            self._slots.release()
        if reply[0] == "ok":
            return Answer(reply[1], reply[2], reply[3], reply[4])
        if reply[0] == "timeout":
            raise timeout_problem(timeout)
        raise Problem(reply[1], reply[2], reply[3])

    def prestart(self) -> None:
        """Start every worker now (they load while the server starts), rather than on first use."""
        while len(self.all) < self.size and not self.closed:
            self.idle.append(self._spawn())

    def _spawn(self) -> _Worker:
        """Start a worker process (it says "ready" on its pipe once it has opened the database)."""
        import evidencegraph

        env = dict(os.environ)
        root = str(Path(evidencegraph.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        process = subprocess.Popen([sys.executable, "-c", COMMAND, str(self.db_path)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        worker = _Worker(process)
        self.all.add(worker)
        return worker

    async def _ready(self, worker: _Worker, deadline: float) -> None:
        if worker.started:
            return
        ready = await worker.receive(deadline)
        if ready[0] != "ready":
            raise EOFError("the worker did not start")
        worker.started = True

    def _replace(self, worker: _Worker | None) -> None:
        """End a worker and start another in its place at once (it is ready by the next query)."""
        self._end(worker)
        if worker is not None and not self.closed:
            self.idle.append(self._spawn())

    def _end(self, worker: _Worker | None) -> None:
        if worker is not None:
            worker.close()
            self.all.discard(worker)

    def close(self) -> None:
        """End every worker now; a request waiting on one gets 503 at once."""
        self.closed = True
        for worker in list(self.all):
            worker.kill()  # a busy worker's pipe then reads as closed, and its request ends
        for worker in self.idle:
            self._end(worker)
        self.idle.clear()

    def shutdown(self) -> None:
        """End every worker and close every pipe (when nothing runs any more)."""
        self.close()
        for worker in list(self.all):
            self._end(worker)
