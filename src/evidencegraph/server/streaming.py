"""Answers too large to hold: written by a producer thread into a small
queue of chunks, sent as they come (chunked transfer encoding).

The producer owns every pyoxigraph object it touches (they stay in its
thread); the event loop only sees bytes.  At most :data:`DEPTH` chunks of
:data:`CHUNK` bytes wait in memory; a client that stops reading stops the
producer.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, AsyncIterator, Callable

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
DEPTH = 8
_END = b""


class Cancelled(Exception):
    """The client went away; the producer stops."""


class Pipe:
    """A binary file-like object whose writes go, in chunks, to a bounded queue."""

    def __init__(self) -> None:
        self.queue: queue.Queue[bytes | BaseException] = queue.Queue(DEPTH)
        self.cancelled = threading.Event()
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK:
            self._put(bytes(self.buffer))
            self.buffer.clear()
        return len(data)

    def flush(self) -> None:
        pass

    def _put(self, item: bytes | BaseException) -> None:
        while True:
            if self.cancelled.is_set():
                raise Cancelled()
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def run(self, produce: Callable[["Pipe"], None]) -> None:
        try:
            produce(self)
            if self.buffer:
                self._put(bytes(self.buffer))
            self._put(_END)
        except Cancelled:
            pass
        except Exception as e:  # the status is sent already: log it, end the body early
            log.error("a streamed answer failed: %s", e)
            try:
                self._put(e)
            except Cancelled:
                pass


async def stream(produce: Callable[[Pipe], None]) -> AsyncIterator[bytes]:
    """The chunks ``produce`` writes, as they come, from a thread of its own."""
    import anyio

    pipe = Pipe()
    thread = threading.Thread(target=pipe.run, args=(produce,), name="evidencegraph-stream", daemon=True)
    thread.start()
    try:
        while True:
            item: Any = await anyio.to_thread.run_sync(pipe.queue.get)
            if isinstance(item, BaseException) or item == _END:
                return
            yield item
    finally:
        pipe.cancelled.set()
