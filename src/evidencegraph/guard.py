"""Keeping one input, a signal or a failing store from taking a whole run down.

* :func:`unexpected`: an exception nobody planned for, raised by one page, as
  that page's one-line :class:`PageError` (the traceback to the log);
* :func:`worker_init`: ingest worker processes leave Ctrl-C to the parent
  (which stops them) and end when the parent dies, even by ``kill -9``;
* :func:`sigint_deferred`: Ctrl-C during a store write takes effect when the
  write is done, so that what the run says it kept is what the store holds;
* :func:`crash_log`: the command line's last resort, an unexpected error's
  traceback written to a file whose path the one-line message gives.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
TYPE_CHECKING = False  # (typing is not imported at run time: `query` starts faster without it)
if TYPE_CHECKING:
    from typing import Any, Iterator

from .errors import PageError

CONFIGURE_LOGGING = False  # quick.py: the first use of a LazyLog sets logging up (setup_logging) as cli.cli does


def setup_logging(verbose: int = 0) -> None:
    """The command line's log on stderr: WARNING and up (``-v`` INFO, ``-vv`` DEBUG), ``LEVEL module: message``,
    one line a record below ``-vv`` (a library's traceback, rdflib logs some, is left out)."""
    import logging
    import sys

    class OneLine(logging.Formatter):
        def formatException(self, ei: Any) -> str:
            return ""

        def formatStack(self, stack_info: str) -> str:
            return ""

    fmt = "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.WARNING - 10 * min(verbose, 2), format=fmt, stream=sys.stderr)
    for handler in logging.getLogger().handlers if verbose < 2 else []:
        if getattr(handler, "stream", None) is sys.stderr:
            handler.setFormatter(OneLine(fmt))


class LazyLog:
    """A module's logger, made at its first use: ``query`` starts without importing logging."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Any:
        import logging

        global CONFIGURE_LOGGING
        if CONFIGURE_LOGGING:
            CONFIGURE_LOGGING = False
            setup_logging()
        return getattr(logging.getLogger(self.name), attr)


log = LazyLog(__name__)


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
        f"{type(e).__name__}: {one_line(e, 120)}")
    return PageError(f"cannot {stage} {what} ({why}); please report it with {what}", path)


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

    A second Ctrl-C while the first is held raises at once (a write to a
    server that hangs must not hold the user hostage).  Only in the main
    thread (elsewhere signals are not delivered anyway).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: object) -> None:
        if caught:
            raise KeyboardInterrupt
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
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


# --- the command line's last resort ------------------------------------------------


def one_line(e: BaseException, width: int = 200) -> str:
    """An exception's message on one line, cut to ``width`` characters."""
    text = " ".join(str(e).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def crash_log(e: BaseException) -> str:
    """Write the traceback of an unexpected error to a file; its path (or a note that it could not be written)."""
    import sys
    import tempfile
    import time
    import traceback

    from . import __version__

    path = Path(tempfile.gettempdir()) / f"evidencegraph-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"evidencegraph {__version__}, python {sys.version.split()[0]}\n{' '.join(sys.argv)}\n\n")
            fh.write("".join(traceback.format_exception(type(e), e, e.__traceback__)))
    except OSError:
        return "no file (the log could not be written; run again with -vv)"
    return str(path)


def quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit does not fail again with a traceback."""
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
