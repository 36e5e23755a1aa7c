"""Keeping one input, a signal or a failing store from taking a whole run down.

* :func:`unexpected`: an exception nobody planned for, raised by one page, as
  that page's one-line :class:`PageError` (the traceback to the log);
* :func:`worker_init`: ingest worker processes leave Ctrl-C to the parent
  (which stops them) and end when the parent dies, even by ``kill -9``;
* :func:`sigint_deferred`: Ctrl-C during a store write takes effect when the
  write is done, so that what the run says it kept is what the store holds.
"""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from .errors import PageError

log = logging.getLogger(__name__)


def unexpected(e: BaseException, path: str, stage: str, what: str = "the page") -> PageError:
    """An input that made the parser, mapper or validator fail in a way nobody planned for.

    >>> str(unexpected(RecursionError("maximum recursion depth exceeded"), "p.txt", "read"))
    'p.txt: cannot read the page (too deeply nested); please report it with the page'
    """
    from .limits import TimeLimit, get

    if isinstance(e, TimeLimit):
        return PageError(f"took more than {get('PAGE_SECONDS')} s to {stage}; is {what} damaged? "
                         "(EVIDENCEGRAPH_PAGE_SECONDS raises the limit)", path)
    log.debug("%s: %s failed", path, stage, exc_info=e)
    why = "too deeply nested" if isinstance(e, RecursionError) else "too large" if isinstance(e, MemoryError) else (
        f"{type(e).__name__}: {_clip(str(e))}")
    return PageError(f"cannot {stage} {what} ({why}); please report it with {what}", path)


def _clip(text: str, width: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def worker_init() -> None:
    """In an ingest worker: ignore Ctrl-C (the parent stops the pool) and die with the parent (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the parent process ends
    except (OSError, AttributeError):  # not Linux: orphans end when their task queue closes
        pass


@contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) for the block; raise KeyboardInterrupt after it if one came.

    Only in the main thread (elsewhere signals are not delivered anyway).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C for the block (a short clean-up that a second Ctrl-C must not cut in half)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
